import { type UsageReader, anthropicUsage, llamaCppUsage, ollamaUsage, openAiUsage, responsesUsage } from './usage.js';

/**
 * One API the proxy records: the POST paths it answers on (after the mount path), how its streams are
 * framed, and how its responses state their tokens. This table is the single place a new API is added;
 * every other POST and every other method is forwarded without being looked at.
 */
export interface ApiFamily {
  /** A short name, also the `api` label of the Prometheus metrics. */
  readonly id: string;
  /** What it is, for people. */
  readonly title: string;
  readonly paths: readonly string[];
  /**
   * How a stream is framed when its content type does not say (`text/event-stream` is SSE,
   * `application/x-ndjson` one JSON object per line).
   */
  readonly framing: 'sse' | 'ndjson';
  /** The API streams unless the body says `"stream": false` (Ollama); others stream on `"stream": true`. */
  readonly streamsByDefault: boolean;
  /**
   * Streams report usage only when asked with `stream_options.include_usage`: the proxy asks when the
   * client did not, and takes out of the stream what asking added.
   */
  readonly asksForUsage: boolean;
  readonly usage: UsageReader;
}

export const API_FAMILIES: readonly ApiFamily[] = [
  {
    id: 'chat_completions',
    title: 'OpenAI chat completions (OpenAI, vLLM, llama.cpp, Ollama, LM Studio)',
    paths: ['/v1/chat/completions', '/chat/completions', '/api/v0/chat/completions'],
    framing: 'sse',
    streamsByDefault: false,
    asksForUsage: true,
    usage: openAiUsage,
  },
  {
    id: 'completions',
    title: 'OpenAI text completions',
    paths: ['/v1/completions', '/api/v0/completions'],
    framing: 'sse',
    streamsByDefault: false,
    asksForUsage: true,
    usage: openAiUsage,
  },
  {
    id: 'embeddings',
    title: 'OpenAI embeddings',
    paths: ['/v1/embeddings', '/api/v0/embeddings'],
    framing: 'sse',
    streamsByDefault: false,
    asksForUsage: false,
    usage: openAiUsage,
  },
  {
    id: 'responses',
    title: 'OpenAI Responses',
    paths: ['/v1/responses', '/responses'],
    framing: 'sse',
    streamsByDefault: false,
    asksForUsage: false,
    usage: responsesUsage,
  },
  {
    id: 'messages',
    title: 'Anthropic Messages',
    paths: ['/v1/messages'],
    framing: 'sse',
    streamsByDefault: false,
    asksForUsage: false,
    usage: anthropicUsage,
  },
  {
    id: 'rerank',
    title: 'rerank (llama.cpp, vLLM, Jina and Cohere style)',
    paths: ['/v1/rerank', '/v1/reranking', '/rerank', '/reranking', '/v2/rerank'],
    framing: 'sse',
    streamsByDefault: false,
    asksForUsage: false,
    usage: openAiUsage,
  },
  {
    id: 'llamacpp_completion',
    title: "llama.cpp's own completion and fill-in-the-middle",
    paths: ['/completion', '/completions', '/infill'],
    framing: 'sse',
    streamsByDefault: false,
    asksForUsage: false,
    usage: llamaCppUsage,
  },
  {
    id: 'llamacpp_embedding',
    title: "llama.cpp's own embeddings",
    paths: ['/embedding', '/embeddings'],
    framing: 'sse',
    streamsByDefault: false,
    asksForUsage: false,
    usage: openAiUsage,
  },
  {
    id: 'ollama_chat',
    title: "Ollama's chat",
    paths: ['/api/chat'],
    framing: 'ndjson',
    streamsByDefault: true,
    asksForUsage: false,
    usage: ollamaUsage,
  },
  {
    id: 'ollama_generate',
    title: "Ollama's generate",
    paths: ['/api/generate'],
    framing: 'ndjson',
    streamsByDefault: true,
    asksForUsage: false,
    usage: ollamaUsage,
  },
  {
    id: 'ollama_embed',
    title: "Ollama's embeddings",
    paths: ['/api/embed', '/api/embeddings'],
    framing: 'ndjson',
    streamsByDefault: false,
    asksForUsage: false,
    usage: ollamaUsage,
  },
];

/** Every recorded POST path. */
export const RECORDED_PATHS: readonly string[] = API_FAMILIES.flatMap((family) => family.paths);

const byPath = new Map(API_FAMILIES.flatMap((family) => family.paths.map((path) => [path, family] as const)));

/** The API a request is to, by method and path (query and a trailing slash ignored); null when it is not recorded. */
export function apiOf(method: string | undefined, target: string): { family: ApiFamily; path: string } | null {
  if (method !== 'POST') return null;
  let path = target;
  const query = path.indexOf('?');
  if (query !== -1) path = path.slice(0, query);
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  const family = byPath.get(path);
  return family ? { family, path } : null;
}
