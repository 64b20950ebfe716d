/**
 * The tokens of one request, as the proxy records them: the row
 * `[endTime, inputTokens, outputTokens, cacheN, promptN]`. Always `inputTokens = cacheN + promptN`.
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

/**
 * Reads one JSON document of a response (a whole body, or the data of one streamed event or line,
 * in order) and returns the usage known after it: a new reading when the document carries counts,
 * else `known` unchanged. Each API family has one (see `apis.ts`); the missing-field rules live here.
 */
export type UsageReader = (document: Json, known: TokenUsage | null) => TokenUsage | null;

export type Json = Record<string, unknown>;

export const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;

/** A token count from a JSON value: a finite non-negative number, rounded; anything else is 0. */
function count(value: unknown): number {
  return isCount(value) ? Math.min(Math.round(value), Number.MAX_SAFE_INTEGER) : 0;
}

const hasAny = (object: Json, keys: readonly string[]) => keys.some((key) => isCount(object[key]));

function split(input: number, output: number, cached: number): TokenUsage {
  const cacheN = Math.min(cached, input);
  return { inputTokens: input, outputTokens: output, cacheN, promptN: input - cacheN };
}

/**
 * llama.cpp's `timings`. With `cache_n` (llama.cpp since 2025): input = `cache_n + prompt_n`. Without it
 * (ik_llama.cpp, older llama.cpp) `prompt_n` counts only the processed tokens: the whole prompt is
 * `promptTokens` (`usage.prompt_tokens`, `tokens_evaluated`) when the response says it, and the rest of
 * it came from the cache; when it does not (a stream cut before its last chunk), only `prompt_n` is known.
 */
function fromTimings(timings: Json, promptTokens: unknown): TokenUsage {
  const promptN = count(timings.prompt_n);
  const output = count(timings.predicted_n);
  if (isCount(timings.cache_n)) return split(count(timings.cache_n) + promptN, output, count(timings.cache_n));
  if (isCount(promptTokens)) {
    const input = Math.max(count(promptTokens), promptN);
    return split(input, output, input - promptN);
  }
  return split(promptN, output, 0);
}

const hasTimings = (value: unknown): value is Json => isObject(value) && hasAny(value, ['prompt_n', 'cache_n', 'predicted_n']);

/**
 * A `usage` object in any of the shapes servers send: OpenAI (`prompt_tokens`, `completion_tokens`,
 * `prompt_tokens_details.cached_tokens`), Responses (`input_tokens`, `output_tokens`,
 * `input_tokens_details.cached_tokens`), Anthropic (`input_tokens` without the cache, plus
 * `cache_read_input_tokens` and `cache_creation_input_tokens`). A `usage` with only `total_tokens` (vLLM,
 * Jina-style rerank) counts it as input (minus any `completion_tokens`).
 */
function fromUsage(usage: Json): TokenUsage {
  if (hasAny(usage, ['input_tokens', 'output_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens'])) {
    const cacheRead = count(usage.cache_read_input_tokens);
    const input = count(usage.input_tokens) + cacheRead + count(usage.cache_creation_input_tokens);
    const details = isObject(usage.input_tokens_details) ? usage.input_tokens_details.cached_tokens : 0;
    return split(input, count(usage.output_tokens), cacheRead + count(details));
  }
  const output = count(usage.completion_tokens);
  const input = isCount(usage.prompt_tokens) ? count(usage.prompt_tokens) : Math.max(0, count(usage.total_tokens) - output);
  return split(input, output, count(isObject(usage.prompt_tokens_details) ? usage.prompt_tokens_details.cached_tokens : 0));
}

const usageIn = (value: unknown): Json | null => (isObject(value) && Object.keys(value).length > 0 ? value : null);

/**
 * OpenAI chat and text completions, embeddings and rerank, as OpenAI, vLLM, LM Studio, Ollama's `/v1`
 * and llama.cpp answer them: llama.cpp's `timings` win when present (with the `usage` of the same
 * document completing them), else `usage`. A stream's chunks are read in order and the last one that
 * carries counts wins: vLLM's `continuous_usage_stats` and llama.cpp's `timings_per_token` put them on
 * every chunk, so a cut stream still has them.
 */
export const openAiUsage: UsageReader = (document, known) => {
  const usage = usageIn(document.usage);
  if (hasTimings(document.timings)) {
    const fromTimed = fromTimings(document.timings, usage?.prompt_tokens);
    return usage && !isCount(document.timings.predicted_n) ? { ...fromTimed, outputTokens: count(usage.completion_tokens) } : fromTimed;
  }
  return usage ? fromUsage(usage) : known;
};

/** OpenAI Responses: `usage` of the body, or of `response` in stream events (`response.completed`). */
export const responsesUsage: UsageReader = (document, known) => {
  const usage = usageIn(document.usage) ?? (isObject(document.response) ? usageIn(document.response.usage) : null);
  return usage ? fromUsage(usage) : known;
};

/**
 * Anthropic Messages: `usage` of the body; in a stream, `message_start`'s `message.usage` (input, cache
 * reads and writes, the first output token), then `message_delta`'s `usage` (output so far; newer
 * servers repeat the input counts there too, and then they win).
 */
export const anthropicUsage: UsageReader = (document, known) => {
  const usage = usageIn(document.usage) ?? (isObject(document.message) ? usageIn(document.message.usage) : null);
  if (!usage) return known;
  const read = fromUsage(usage);
  if (known && !hasAny(usage, ['input_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens'])) return { ...known, outputTokens: read.outputTokens };
  return read;
};

/**
 * Ollama's native API: `prompt_eval_count` (the whole prompt) and `eval_count` on the final object
 * (`done: true`) and on `/api/embed`'s answer. llama-server also answers `/api/chat`, in OpenAI's shape:
 * read as such.
 */
export const ollamaUsage: UsageReader = (document, known) => {
  if (hasAny(document, ['prompt_eval_count', 'eval_count'])) return split(count(document.prompt_eval_count), count(document.eval_count), 0);
  return openAiUsage(document, known);
};

/**
 * llama.cpp's own `/completion` and `/infill`: every streamed chunk carries `tokens_evaluated` (the whole
 * prompt) and `tokens_predicted` (so far); the last one `timings` too, which split the prompt into cache
 * and processed tokens. OpenAI-shaped answers on these paths are read as such.
 */
export const llamaCppUsage: UsageReader = (document, known) => {
  if (hasTimings(document.timings)) {
    const read = fromTimings(document.timings, document.tokens_evaluated);
    return isCount(document.tokens_predicted) && !isCount(document.timings.predicted_n) ? { ...read, outputTokens: count(document.tokens_predicted) } : read;
  }
  if (hasAny(document, ['tokens_evaluated', 'tokens_predicted'])) return split(count(document.tokens_evaluated), count(document.tokens_predicted), 0);
  return openAiUsage(document, known);
};

/**
 * Reads a whole document with `reader`. A JSON array (llama.cpp answers several prompts, or
 * `/embedding`, with one) is read element by element and summed.
 */
export function readDocument(reader: UsageReader, document: unknown, known: TokenUsage | null): TokenUsage | null {
  if (isObject(document)) return reader(document, known);
  if (!Array.isArray(document)) return known;
  const parts = document.filter(isObject).map((element) => reader(element, null)).filter((usage): usage is TokenUsage => usage !== null);
  if (parts.length === 0) return known;
  const sum = (key: keyof TokenUsage) => Math.min(parts.reduce((total, part) => total + part[key], 0), Number.MAX_SAFE_INTEGER);
  return { inputTokens: sum('inputTokens'), outputTokens: sum('outputTokens'), cacheN: sum('cacheN'), promptN: sum('promptN') };
}

/** True when some count is above zero. */
export const hasTokens = (usage: TokenUsage | null): usage is TokenUsage => usage !== null && (usage.inputTokens > 0 || usage.outputTokens > 0);

export const NO_TOKENS: TokenUsage = Object.freeze({ inputTokens: 0, outputTokens: 0, cacheN: 0, promptN: 0 });
