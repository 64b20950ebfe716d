/**
 * Catalog models the Insights section offers to compare with, one tick each: common picks across
 * providers, flat-priced and tiered (gemini-2.5-pro), with cache prices and with off-peak hours
 * (deepseek-chat). Each is checked to exist in the bundled catalog by a unit test; any other
 * `provider:model` can be typed in.
 */
export const SUGGESTED_CLOUD_MODELS = [
  'openai:gpt-4o-mini',
  'openai:gpt-4o',
  'openai:gpt-4.1-mini',
  'anthropic:claude-3-5-haiku',
  'anthropic:claude-sonnet-4',
  'google:gemini-2.5-flash',
  'google:gemini-2.5-pro',
  'deepseek:deepseek-chat',
] as const;
