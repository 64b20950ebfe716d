/**
 * The tokens of one request, as the proxy records them: the row
 * `[endTime, inputTokens, outputTokens, cacheN, promptN]`. Always `inputTokens = cacheN + promptN`.
 *
 * | source | inputTokens | cacheN | promptN | outputTokens |
 * | --- | --- | --- | --- | --- |
 * | llama.cpp `timings` | `cache_n + prompt_n` | `cache_n` | `prompt_n` | `predicted_n` |
 * | OpenAI `usage` (chat, completions, embeddings, rerank) | `prompt_tokens` | `prompt_tokens_details.cached_tokens` | the rest | `completion_tokens` |
 * | Responses `usage` | `input_tokens` | `input_tokens_details.cached_tokens` | the rest | `output_tokens` |
 * | Anthropic `usage` | `input_tokens + cache_read_input_tokens + cache_creation_input_tokens` | `cache_read_input_tokens` | the rest | `output_tokens` |
 *
 * A `usage` with only `total_tokens` (some rerank servers) counts it as input tokens (minus any
 * `completion_tokens`).
 */
export interface TokenUsage {
  /** Every prompt token, served from a cache or processed. */
  inputTokens: number;
  outputTokens: number;
  /** Prompt tokens served from a cache (llama.cpp's KV cache, OpenAI's cached tokens, Anthropic's cache reads). */
  cacheN: number;
  /** Prompt tokens the server processed: `inputTokens - cacheN`. */
  promptN: number;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A token count from a JSON value: a finite non-negative number, rounded; anything else is 0. */
function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.min(Math.round(value), Number.MAX_SAFE_INTEGER) : 0;
}

const hasAny = (object: Json, keys: readonly string[]) => keys.some((key) => typeof object[key] === 'number');

/**
 * Collects token usage from a response: give it the whole JSON body of a plain response, or the data of
 * every streamed event in order. llama.cpp `timings` win over `usage` when present (the last `timings`
 * seen); `usage` objects are merged field by field, later ones winning, so an Anthropic stream's
 * `message_start` (input tokens) and `message_delta` (output tokens) combine.
 */
export class UsageCollector {
  #timings: Json | null = null;
  #usage: Json | null = null;

  add(document: unknown): void {
    if (!isObject(document)) return;
    if (isObject(document.timings) && hasAny(document.timings, ['prompt_n', 'cache_n', 'predicted_n'])) this.#timings = document.timings;
    // Chat/completions/embeddings/rerank and plain bodies: `usage`; Responses stream events:
    // `response.usage`; Anthropic `message_start`: `message.usage`.
    for (const usage of [document.usage, isObject(document.response) ? document.response.usage : undefined, isObject(document.message) ? document.message.usage : undefined])
      if (isObject(usage)) this.#usage = { ...this.#usage, ...usage };
  }

  /** The usage seen so far, or null when there is none or every count is zero. */
  get usage(): TokenUsage | null {
    const usage = this.#timings ? fromTimings(this.#timings) : this.#usage ? fromUsage(this.#usage) : null;
    if (!usage || (usage.inputTokens === 0 && usage.outputTokens === 0)) return null;
    return usage;
  }
}

function fromTimings(timings: Json): TokenUsage {
  const cacheN = count(timings.cache_n);
  const promptN = count(timings.prompt_n);
  return { inputTokens: cacheN + promptN, outputTokens: count(timings.predicted_n), cacheN, promptN };
}

function fromUsage(usage: Json): TokenUsage {
  let input: number;
  let output: number;
  let cached: number;
  if (hasAny(usage, ['input_tokens', 'output_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens'])) {
    const cacheRead = count(usage.cache_read_input_tokens);
    input = count(usage.input_tokens) + cacheRead + count(usage.cache_creation_input_tokens);
    output = count(usage.output_tokens);
    cached = cacheRead + count(isObject(usage.input_tokens_details) ? usage.input_tokens_details.cached_tokens : 0);
  } else {
    output = count(usage.completion_tokens);
    input = typeof usage.prompt_tokens === 'number' ? count(usage.prompt_tokens) : Math.max(0, count(usage.total_tokens) - output);
    cached = count(isObject(usage.prompt_tokens_details) ? usage.prompt_tokens_details.cached_tokens : 0);
  }
  const cacheN = Math.min(cached, input);
  return { inputTokens: input, outputTokens: output, cacheN, promptN: input - cacheN };
}
