/**
 * Response bodies of real LLM servers, one replay per API family and server, streamed and not, each
 * with the source it was copied from. Where a source shows a body pretty-printed, the replay writes
 * it the way that server serialises (compact, its key order) and frames it (SSE `data: …\n\n`, NDJSON
 * `…\n`), as the cited serialising code does. Where a source gives the code that writes a body rather
 * than a captured one, the body is what that code writes, field for field, with the values of the
 * cited example.
 *
 * `withUsage` is what the same server writes when the request carries `stream_options.include_usage:
 * true` (which the proxy adds when the client did not ask), built by the rule in the cited code.
 */
import type { TokenUsage } from '../src/index.js';

export interface Replay {
  name: string;
  /** Where the body comes from (file and function, or URL). */
  source: string;
  path: string;
  /** The request body the client sends, byte for byte. */
  request: string;
  contentType: string;
  /** The response body as the server writes it, one string per write. */
  chunks: readonly string[];
  /** The response when the request asks for `include_usage` (when it differs). */
  withUsage?: readonly string[];
  /** The row the proxy must record. */
  row: TokenUsage;
}

const tokens = (inputTokens: number, outputTokens: number, cacheN = 0, promptN = inputTokens - cacheN): TokenUsage => ({ inputTokens, outputTokens, cacheN, promptN });
const sse = (data: unknown) => `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
const event = (name: string, data: unknown) => `event: ${name}\n${sse(data)}`;
const ndjson = (data: unknown) => `${JSON.stringify(data)}\n`;
const SSE = 'text/event-stream';
const JSON_TYPE = 'application/json; charset=utf-8';

// ---------------------------------------------------------------------------------------------------
// llama.cpp (ggml-org/llama.cpp): tools/server/server-task.cpp, `server_task_result_cmpl_partial::
// to_json_oaicompat_chat` and `server_task_result_cmpl_final::to_json_oaicompat_chat_stream` (one
// `data:` event per delta; with `include_usage` a last chunk with `"choices":[]` and `usage`; `timings`
// pushed onto whichever chunk is last). Values: the timings and ids printed in
// https://github.com/ggml-org/llama.cpp/pull/15827 (prompt of 237 tokens, 236 from the cache, 35 predicted).
const LLAMA = { created: 1757141666, id: 'chatcmpl-ecQULm0WqPrftUqjPZO1CFYeDjGZNbDu', model: 'gpt-3.5-turbo', system_fingerprint: 'b6402-3c3635d2' };
const LLAMA_TIMINGS = {
  cache_n: 236,
  prompt_n: 1,
  prompt_ms: 30.958,
  prompt_per_token_ms: 30.958,
  prompt_per_second: 32.301828283480845,
  predicted_n: 35,
  predicted_ms: 661.064,
  predicted_per_token_ms: 18.887542857142858,
  predicted_per_second: 52.94494935437416,
};
const llamaChunk = (choices: unknown[]) => ({ choices, created: LLAMA.created, id: LLAMA.id, model: LLAMA.model, system_fingerprint: LLAMA.system_fingerprint, object: 'chat.completion.chunk' });
const llamaDelta = (delta: unknown, finish: string | null = null) => llamaChunk([{ finish_reason: finish, index: 0, delta }]);
const LLAMA_USAGE = { completion_tokens: 35, prompt_tokens: 237, total_tokens: 272 };

// ik_llama.cpp (ikawrakow/ik_llama.cpp): examples/server/server-task.cpp, `to_json_oaicompat_chat_partial`,
// `to_json_oaicompat_chat_stream`, `to_json_oaicompat_chat_final`, `usage_json_oaicompat` and
// `result_timings::to_json` (no `cache_n`; `n_ctx`, `n_past`; no `system_fingerprint`). Values: the
// case of https://github.com/ikawrakow/ik_llama.cpp as reported against this proxy (issue 11): a prompt of
// 4000 tokens of which 100 were processed.
const IK = { created: 1760000000, id: 'chatcmpl-ik0000000000000000000000000000', model: 'Qwen3-30B-A3B' };
const ikTimings = (predicted: number) => ({
  prompt_n: 100,
  prompt_ms: 80.125,
  prompt_per_token_ms: 0.80125,
  prompt_per_second: 1248.0499219968798,
  predicted_n: predicted,
  predicted_ms: predicted * 18.5,
  predicted_per_token_ms: 18.5,
  predicted_per_second: 54.054054054054056,
  n_ctx: 32768,
  n_past: 4000 + predicted,
});
const ikChunk = (choices: unknown[]) => ({ choices, created: IK.created, id: IK.id, model: IK.model, object: 'chat.completion.chunk' });
const IK_USAGE = { completion_tokens: 3, prompt_tokens: 4000, total_tokens: 4003, prompt_tokens_details: { cached_tokens: 3900 } };

// Ollama (ollama/ollama): docs/api.md examples; NDJSON as server/routes.go `streamResponse` writes it
// (json.Marshal + "\n", application/x-ndjson); non-streamed answers by gin's c.JSON (compact, no newline).
const OLLAMA_GENERATE_FINAL = {
  model: 'llama3.2',
  created_at: '2023-08-04T19:22:45.499127Z',
  response: '',
  done: true,
  context: [1, 2, 3],
  total_duration: 10706818083,
  load_duration: 6338219291,
  prompt_eval_count: 26,
  prompt_eval_duration: 130079000,
  eval_count: 259,
  eval_duration: 4232710000,
};

// Ollama's OpenAI layer: middleware/openai.go `CompleteWriter.writeResponse` (with include_usage, every
// chunk gets `c.Usage = &openai.Usage{}`, then a `"choices":[]` chunk with the usage), openai/openai.go
// `CompletionChunk`, `CompleteChunkChoice`, `Usage` (field order), values of docs/api.md's generate example.
const ollamaCompletionChunk = (text: string, finish: string | null, usage?: unknown) => ({
  id: 'cmpl-221',
  object: 'text_completion',
  created: 1691164965,
  choices: [{ text, index: 0, finish_reason: finish }],
  model: 'llama3.2',
  system_fingerprint: 'fp_ollama',
  ...(usage === undefined ? {} : { usage }),
});
const OLLAMA_ZERO_USAGE = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };

// llama.cpp's own /completion and /infill: tools/server/server-task.cpp `to_json_non_oaicompat` (partial:
// index, content, tokens, stop, id_slot, tokens_predicted, tokens_evaluated; final: … generation_settings,
// prompt, has_new_line, truncated, stop_type, stopping_word, tokens_cached, timings), one `data:` event each.
const nativePartial = (content: string, predicted: number) => ({ index: 0, content, tokens: [], stop: false, id_slot: 0, tokens_predicted: predicted, tokens_evaluated: 12 });
const nativeFinal = (content: string) => ({
  index: 0,
  content,
  tokens: [],
  id_slot: 0,
  stop: true,
  model: 'gpt-3.5-turbo',
  tokens_predicted: 3,
  tokens_evaluated: 12,
  generation_settings: { n_predict: 3, seed: 4294967295, temperature: 0.800000011920929, stream: true },
  prompt: '<|fim_prefix|>def add(a, b):\n    <|fim_suffix|>\n<|fim_middle|>',
  has_new_line: false,
  truncated: false,
  stop_type: 'limit',
  stopping_word: '',
  tokens_cached: 14,
  timings: { cache_n: 8, prompt_n: 4, prompt_ms: 12.5, prompt_per_token_ms: 3.125, prompt_per_second: 320, predicted_n: 3, predicted_ms: 45.75, predicted_per_token_ms: 15.25, predicted_per_second: 65.57377049180327 },
});

// llama.cpp Responses: tools/server/server-task.cpp `to_json_oaicompat_resp` and `..._resp_stream`,
// partial `to_json_oaicompat_resp` (response.created, response.in_progress, output_item.added,
// content_part.added, output_text.delta), each as `event: <type>\ndata: <json>\n\n`.
const RESP = { id: 'resp_hS8IwV1kbv0mlyG1cGc6pL1nJ8eB5qkF', message: 'msg_fYy8I0z6K0Uy5PZTpd16aZ6r4rM2XxG4' };

// llama.cpp Anthropic Messages: tools/server/server-task.cpp `to_json_anthropic`, `to_json_anthropic_stream`
// and partial `to_json_anthropic` (message_start with input_tokens, content blocks, message_delta with
// output_tokens, message_stop).
const ANTHROPIC_ID = 'chatcmpl-5a3ByRZy5Z2Dq0uI1C7mbaMd1yMTpZDn';

export const REPLAYS: readonly Replay[] = [
  {
    name: 'llama.cpp chat completions, streamed',
    source: 'ggml-org/llama.cpp tools/server/server-task.cpp (to_json_oaicompat_chat, to_json_oaicompat_chat_stream); values of ggml-org/llama.cpp#15827',
    path: '/v1/chat/completions',
    request: '{"model":"gpt-3.5-turbo","messages":[{"role":"user","content":"Hello"}],"stream":true}',
    contentType: SSE,
    chunks: [
      sse(llamaDelta({ role: 'assistant', content: null })),
      sse(llamaDelta({ content: 'Hello' })),
      sse(llamaDelta({ content: '!' })),
      sse({ ...llamaDelta({}, 'stop'), timings: LLAMA_TIMINGS }),
      sse('[DONE]'),
    ],
    withUsage: [
      sse(llamaDelta({ role: 'assistant', content: null })),
      sse(llamaDelta({ content: 'Hello' })),
      sse(llamaDelta({ content: '!' })),
      sse(llamaDelta({}, 'stop')),
      sse({ ...llamaChunk([]), usage: LLAMA_USAGE, timings: LLAMA_TIMINGS }),
      sse('[DONE]'),
    ],
    row: tokens(237, 35, 236, 1),
  },
  {
    name: 'llama.cpp chat completions, not streamed',
    source: 'ggml-org/llama.cpp tools/server/server-task.cpp (to_json_oaicompat_chat); values of ggml-org/llama.cpp#15827',
    path: '/v1/chat/completions',
    request: '{"model":"gpt-3.5-turbo","messages":[{"role":"user","content":"Hello"}]}',
    contentType: JSON_TYPE,
    chunks: [
      JSON.stringify({
        choices: [{ finish_reason: 'stop', index: 0, message: { role: 'assistant', content: 'Hello!' } }],
        created: LLAMA.created,
        model: LLAMA.model,
        system_fingerprint: LLAMA.system_fingerprint,
        object: 'chat.completion',
        usage: LLAMA_USAGE,
        id: LLAMA.id,
        timings: LLAMA_TIMINGS,
      }),
    ],
    row: tokens(237, 35, 236, 1),
  },
  {
    name: 'llama.cpp b4764 chat completions, streamed: usage and timings (no cache_n) on the finish chunk whether asked or not',
    source: 'captured in https://github.com/ggml-org/llama.cpp/issues/12137 (llama-server b4764-7ad0779f, "data stream, to_send:")',
    path: '/chat/completions',
    request: '{"messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"hello"}],"stream":true,"cache_prompt":true}',
    contentType: SSE,
    chunks: [
      'data: {"choices":[{"finish_reason":null,"index":0,"delta":{"content":"Hello"}}],"created":1740866276,"id":"chatcmpl-eWACYYovPVwZUlX94o2w9BeOsAhfN3z7","model":"gpt-3.5-turbo","system_fingerprint":"b4764-7ad0779f","object":"chat.completion.chunk"}\n\n',
      'data: {"choices":[{"finish_reason":"length","index":0,"delta":{}}],"created":1740866276,"id":"chatcmpl-eWACYYovPVwZUlX94o2w9BeOsAhfN3z7","model":"gpt-3.5-turbo","system_fingerprint":"b4764-7ad0779f","object":"chat.completion.chunk","usage":{"completion_tokens":1,"prompt_tokens":43,"total_tokens":44},"timings":{"prompt_n":43,"prompt_ms":246.082,"prompt_per_token_ms":5.722837209302326,"prompt_per_second":174.73850180021293,"predicted_n":1,"predicted_ms":0.028,"predicted_per_token_ms":0.028,"predicted_per_second":35714.28571428571}}\n\n',
      'data: [DONE]\n\n',
    ],
    row: tokens(43, 1, 0, 43),
  },
  {
    name: 'ik_llama.cpp chat completions, streamed: timings without cache_n',
    source: 'ikawrakow/ik_llama.cpp examples/server/server-task.cpp (to_json_oaicompat_chat_partial, to_json_oaicompat_chat_stream, usage_json_oaicompat, result_timings::to_json)',
    path: '/v1/chat/completions',
    request: '{"model":"Qwen3-30B-A3B","messages":[{"role":"user","content":"Summarise the document."}],"stream":true}',
    contentType: SSE,
    chunks: [
      sse(ikChunk([{ finish_reason: null, index: 0, delta: { role: 'assistant', content: null } }])),
      sse(ikChunk([{ finish_reason: null, index: 0, delta: { content: 'It' } }])),
      sse(ikChunk([{ finish_reason: null, index: 0, delta: { content: ' is short.' } }])),
      sse({ ...ikChunk([{ finish_reason: 'stop', index: 0, delta: {} }]), timings: ikTimings(3) }),
      sse('[DONE]'),
    ],
    withUsage: [
      sse(ikChunk([{ finish_reason: null, index: 0, delta: { role: 'assistant', content: null } }])),
      sse(ikChunk([{ finish_reason: null, index: 0, delta: { content: 'It' } }])),
      sse(ikChunk([{ finish_reason: null, index: 0, delta: { content: ' is short.' } }])),
      sse(ikChunk([{ finish_reason: 'stop', index: 0, delta: {} }])),
      sse({ ...ikChunk([]), usage: IK_USAGE, timings: ikTimings(3) }),
      sse('[DONE]'),
    ],
    row: tokens(4000, 3, 3900, 100),
  },
  {
    name: 'ik_llama.cpp chat completions, not streamed',
    source: 'ikawrakow/ik_llama.cpp examples/server/server-task.cpp (to_json_oaicompat_chat_final, usage_json_oaicompat, result_timings::to_json)',
    path: '/v1/chat/completions',
    request: '{"model":"Qwen3-30B-A3B","messages":[{"role":"user","content":"Summarise the document."}]}',
    contentType: JSON_TYPE,
    chunks: [
      JSON.stringify({
        choices: [{ finish_reason: 'stop', index: 0, message: { role: 'assistant', content: 'It is short.' } }],
        created: IK.created,
        model: IK.model,
        object: 'chat.completion',
        usage: IK_USAGE,
        id: IK.id,
        timings: ikTimings(3),
      }),
    ],
    row: tokens(4000, 3, 3900, 100),
  },
  {
    name: 'Ollama OpenAI text completions, streamed: a zero usage object on every chunk when asked',
    source: 'ollama/ollama middleware/openai.go (CompleteWriter.writeResponse), openai/openai.go (CompletionChunk, Usage); values of docs/api.md (generate)',
    path: '/v1/completions',
    request: '{"model":"llama3.2","prompt":"Why is the sky blue?","stream":true}',
    contentType: SSE,
    chunks: [sse(ollamaCompletionChunk('The', null)), sse(ollamaCompletionChunk('', 'stop')), sse('[DONE]')],
    withUsage: [
      sse(ollamaCompletionChunk('The', null, OLLAMA_ZERO_USAGE)),
      sse(ollamaCompletionChunk('', 'stop', OLLAMA_ZERO_USAGE)),
      sse({ ...ollamaCompletionChunk('', 'stop'), choices: [], usage: { prompt_tokens: 26, completion_tokens: 259, total_tokens: 285 } }),
      sse('[DONE]'),
    ],
    row: tokens(26, 259),
  },
  {
    name: 'Ollama OpenAI text completions, not streamed',
    source: 'ollama/ollama openai/openai.go (ToCompletion, Completion; json.NewEncoder adds "\\n"); values of docs/api.md (generate, no streaming)',
    path: '/v1/completions',
    request: '{"model":"llama3.2","prompt":"Why is the sky blue?"}',
    contentType: 'application/json',
    chunks: [
      `${JSON.stringify({
        id: 'cmpl-221',
        object: 'text_completion',
        created: 1691164965,
        model: 'llama3.2',
        system_fingerprint: 'fp_ollama',
        choices: [{ text: 'The sky is blue because it is the color of the sky.', index: 0, finish_reason: 'stop' }],
        usage: { prompt_tokens: 26, completion_tokens: 290, total_tokens: 316 },
      })}\n`,
    ],
    row: tokens(26, 290),
  },
  {
    name: 'Ollama chat, streamed (NDJSON, the default)',
    source: 'ollama/ollama docs/api.md "Chat request (Streaming)"; framing of server/routes.go streamResponse',
    path: '/api/chat',
    request: '{"model":"llama3.2","messages":[{"role":"user","content":"why is the sky blue?"}]}',
    contentType: 'application/x-ndjson',
    chunks: [
      ndjson({ model: 'llama3.2', created_at: '2023-08-04T08:52:19.385406455-07:00', message: { role: 'assistant', content: 'The', images: null }, done: false }),
      ndjson({
        model: 'llama3.2',
        created_at: '2023-08-04T19:22:45.499127Z',
        message: { role: 'assistant', content: '' },
        done: true,
        total_duration: 4883583458,
        load_duration: 1334875,
        prompt_eval_count: 26,
        prompt_eval_duration: 342546000,
        eval_count: 282,
        eval_duration: 4535599000,
      }),
    ],
    row: tokens(26, 282),
  },
  {
    name: 'Ollama chat, not streamed',
    source: 'ollama/ollama docs/api.md "Chat request (No streaming)"',
    path: '/api/chat',
    request: '{"model":"llama3.2","messages":[{"role":"user","content":"why is the sky blue?"}],"stream":false}',
    contentType: JSON_TYPE,
    chunks: [
      JSON.stringify({
        model: 'llama3.2',
        created_at: '2023-12-12T14:13:43.416799Z',
        message: { role: 'assistant', content: 'Hello! How are you today?' },
        done: true,
        total_duration: 5191566416,
        load_duration: 2154458,
        prompt_eval_count: 26,
        prompt_eval_duration: 383809000,
        eval_count: 298,
        eval_duration: 4799921000,
      }),
    ],
    row: tokens(26, 298),
  },
  {
    name: 'Ollama generate, streamed (NDJSON, the default)',
    source: 'ollama/ollama docs/api.md "Generate request (Streaming)"; framing of server/routes.go streamResponse',
    path: '/api/generate',
    request: '{"model":"llama3.2","prompt":"Why is the sky blue?"}',
    contentType: 'application/x-ndjson',
    chunks: [ndjson({ model: 'llama3.2', created_at: '2023-08-04T08:52:19.385406455-07:00', response: 'The', done: false }), ndjson(OLLAMA_GENERATE_FINAL)],
    row: tokens(26, 259),
  },
  {
    name: 'Ollama generate, not streamed',
    source: 'ollama/ollama docs/api.md "Request (No streaming)"',
    path: '/api/generate',
    request: '{"model":"llama3.2","prompt":"Why is the sky blue?","stream":false}',
    contentType: JSON_TYPE,
    chunks: [
      JSON.stringify({
        model: 'llama3.2',
        created_at: '2023-08-04T19:22:45.499127Z',
        response: 'The sky is blue because it is the color of the sky.',
        done: true,
        context: [1, 2, 3],
        total_duration: 5043500667,
        load_duration: 5025959,
        prompt_eval_count: 26,
        prompt_eval_duration: 325953000,
        eval_count: 290,
        eval_duration: 4709213000,
      }),
    ],
    row: tokens(26, 290),
  },
  {
    name: 'Ollama embed',
    source: 'ollama/ollama docs/api.md "Generate Embeddings" (POST /api/embed)',
    path: '/api/embed',
    request: '{"model":"all-minilm","input":"Why is the sky blue?"}',
    contentType: JSON_TYPE,
    chunks: [
      JSON.stringify({
        model: 'all-minilm',
        embeddings: [[0.010071029, -0.0017594862, 0.05007221, 0.04692972, 0.054916814, 0.008599704, 0.105441414, -0.025878139, 0.12958129, 0.031952348]],
        total_duration: 14143917,
        load_duration: 1019500,
        prompt_eval_count: 8,
      }),
    ],
    row: tokens(8, 0),
  },
  {
    name: 'Ollama embeddings (legacy): no token counts, one row of zeros',
    source: 'ollama/ollama docs/api.md "Generate Embedding" (POST /api/embeddings)',
    path: '/api/embeddings',
    request: '{"model":"all-minilm","prompt":"Here is an article about llamas..."}',
    contentType: JSON_TYPE,
    chunks: [JSON.stringify({ embedding: [0.5670403838157654, 0.009260174818336964, 0.23178744316101074, -0.2916173040866852, -0.8924556970596313, 0.8785552978515625, -0.34576427936553955, 0.5742510557174683, -0.04222835972905159, -0.137906014919281] })],
    row: tokens(0, 0),
  },
  {
    name: "llama.cpp's own completion, streamed",
    source: 'ggml-org/llama.cpp tools/server/server-task.cpp (server_task_result_cmpl_partial::to_json_non_oaicompat, server_task_result_cmpl_final::to_json_non_oaicompat)',
    path: '/completion',
    request: '{"prompt":"Building a website can be done in 10 simple steps:","n_predict":3,"stream":true}',
    contentType: SSE,
    chunks: [sse(nativePartial(' First', 1)), sse(nativePartial(',', 2)), sse(nativePartial(' choose', 3)), sse(nativeFinal(''))],
    row: tokens(12, 3, 8, 4),
  },
  {
    name: "llama.cpp's own completion, not streamed",
    source: 'ggml-org/llama.cpp tools/server/server-task.cpp (server_task_result_cmpl_final::to_json_non_oaicompat)',
    path: '/completion',
    request: '{"prompt":"Building a website can be done in 10 simple steps:","n_predict":3}',
    contentType: JSON_TYPE,
    chunks: [JSON.stringify(nativeFinal(' First, choose'))],
    row: tokens(12, 3, 8, 4),
  },
  {
    name: 'llama.cpp infill (fill-in-the-middle), streamed',
    source: 'ggml-org/llama.cpp tools/server/README.md (POST /infill: "returns the predicted completion as stream", the options of /completion) and server-task.cpp (to_json_non_oaicompat)',
    path: '/infill',
    request: '{"input_prefix":"def add(a, b):\\n    ","input_suffix":"\\n","prompt":"","n_predict":3,"stream":true}',
    contentType: SSE,
    chunks: [sse(nativePartial('return', 1)), sse(nativePartial(' a', 2)), sse(nativePartial(' + b', 3)), sse(nativeFinal(''))],
    row: tokens(12, 3, 8, 4),
  },
  {
    name: 'llama.cpp infill, not streamed',
    source: 'ggml-org/llama.cpp tools/server/server-task.cpp (server_task_result_cmpl_final::to_json_non_oaicompat)',
    path: '/infill',
    request: '{"input_prefix":"def add(a, b):\\n    ","input_suffix":"\\n","prompt":"","n_predict":3}',
    contentType: JSON_TYPE,
    chunks: [JSON.stringify(nativeFinal('return a + b'))],
    row: tokens(12, 3, 8, 4),
  },
  {
    name: "llama.cpp's own embedding: no token counts, one row of zeros",
    source: 'ggml-org/llama.cpp tools/server/README.md (POST /embeddings response format) and server-task.cpp (server_task_result_embd::to_json_non_oaicompat)',
    path: '/embedding',
    request: '{"content":"Hello"}',
    contentType: JSON_TYPE,
    chunks: [JSON.stringify([{ index: 0, embedding: [[0.0121, -0.0304, 0.0563]] }])],
    row: tokens(0, 0),
  },
  {
    name: 'ik_llama.cpp OpenAI embeddings',
    source: 'ikawrakow/ik_llama.cpp examples/server/server.cpp (format_embeddings_response_oaicompat)',
    path: '/v1/embeddings',
    request: '{"model":"bge-m3","input":["first text","second text"]}',
    contentType: JSON_TYPE,
    chunks: [
      JSON.stringify({
        model: 'bge-m3',
        object: 'list',
        usage: { prompt_tokens: 9, total_tokens: 9 },
        data: [
          { embedding: [0.0184, -0.0413], index: 0, object: 'embedding' },
          { embedding: [0.0301, 0.0072], index: 1, object: 'embedding' },
        ],
      }),
    ],
    row: tokens(9, 0),
  },
  {
    name: 'LM Studio REST v0 chat completions',
    source: 'lmstudio-ai/docs 1_developer/2_rest/endpoints.mdx (POST /api/v0/chat/completions)',
    path: '/api/v0/chat/completions',
    request: '{"model":"granite-3.0-2b-instruct","messages":[{"role":"system","content":"Always answer in rhymes."},{"role":"user","content":"Introduce yourself."}],"temperature":0.7,"max_tokens":-1,"stream":false}',
    contentType: JSON_TYPE,
    chunks: [
      JSON.stringify({
        id: 'chatcmpl-i3gkjwthhw96whukek9tz',
        object: 'chat.completion',
        created: 1731990317,
        model: 'granite-3.0-2b-instruct',
        choices: [
          {
            index: 0,
            logprobs: null,
            finish_reason: 'stop',
            message: {
              role: 'assistant',
              content:
                "Greetings, I'm a helpful AI, here to assist,\nIn providing answers, with no distress.\nI'll keep it short and sweet, in rhyme you'll find,\nA friendly companion, all day long you'll bind.",
            },
          },
        ],
        usage: { prompt_tokens: 24, completion_tokens: 53, total_tokens: 77 },
        stats: { tokens_per_second: 51.43709529007664, time_to_first_token: 0.111, generation_time: 0.954, stop_reason: 'eosFound' },
        model_info: { arch: 'granite', quant: 'Q4_K_M', format: 'gguf', context_length: 4096 },
        runtime: { name: 'llama.cpp-mac-arm64-apple-metal-advsimd', version: '1.3.0', supported_formats: ['gguf'] },
      }),
    ],
    row: tokens(24, 53),
  },
  {
    name: 'LM Studio REST v0 text completions',
    source: 'lmstudio-ai/docs 1_developer/2_rest/endpoints.mdx (POST /api/v0/completions)',
    path: '/api/v0/completions',
    request: '{"model":"granite-3.0-2b-instruct","prompt":"the meaning of life is","temperature":0.7,"max_tokens":10,"stream":false,"stop":"\\n"}',
    contentType: JSON_TYPE,
    chunks: [
      JSON.stringify({
        id: 'cmpl-p9rtxv6fky2v9k8jrd8cc',
        object: 'text_completion',
        created: 1731990488,
        model: 'granite-3.0-2b-instruct',
        choices: [{ index: 0, text: ' to find your purpose, and once you have', logprobs: null, finish_reason: 'length' }],
        usage: { prompt_tokens: 5, completion_tokens: 9, total_tokens: 14 },
        stats: { tokens_per_second: 57.69230769230769, time_to_first_token: 0.299, generation_time: 0.156, stop_reason: 'maxPredictedTokensReached' },
        model_info: { arch: 'granite', quant: 'Q4_K_M', format: 'gguf', context_length: 4096 },
        runtime: { name: 'llama.cpp-mac-arm64-apple-metal-advsimd', version: '1.3.0', supported_formats: ['gguf'] },
      }),
    ],
    row: tokens(5, 9),
  },
  {
    name: 'LM Studio REST v0 embeddings (reports 0 tokens)',
    source: 'lmstudio-ai/docs 1_developer/2_rest/endpoints.mdx (POST /api/v0/embeddings; the vector shortened as the docs do)',
    path: '/api/v0/embeddings',
    request: '{"model":"text-embedding-nomic-embed-text-v1.5","input":"Some text to embed"}',
    contentType: JSON_TYPE,
    chunks: [
      JSON.stringify({
        object: 'list',
        data: [{ object: 'embedding', embedding: [-0.016731496900320053, 0.028460891917347908, -0.1407836228609085, 0.02505224384367466, -0.0037634256295859814, -0.04341062530875206], index: 0 }],
        model: 'text-embedding-nomic-embed-text-v1.5@q4_k_m',
        usage: { prompt_tokens: 0, total_tokens: 0 },
      }),
    ],
    row: tokens(0, 0),
  },
  {
    name: 'vLLM rerank',
    source: 'vllm-project/vllm docs/serving/openai_compatible_server.md (Re-rank API, example response)',
    path: '/v1/rerank',
    request: '{"model":"BAAI/bge-reranker-base","query":"What is the capital of France?","documents":["The capital of Brazil is Brasilia.","The capital of France is Paris.","Horses and cows are both animals"]}',
    contentType: 'application/json',
    chunks: [
      JSON.stringify({
        id: 'rerank-fae51b2b664d4ed38f5969b612edff77',
        model: 'BAAI/bge-reranker-base',
        usage: { total_tokens: 56 },
        results: [
          { index: 1, document: { text: 'The capital of France is Paris.' }, relevance_score: 0.99853515625 },
          { index: 0, document: { text: 'The capital of Brazil is Brasilia.' }, relevance_score: 0.0005860328674316406 },
        ],
      }),
    ],
    row: tokens(56, 0),
  },
  {
    name: 'vLLM chat completions, streamed (usage only when asked, no "usage" key on other chunks)',
    source:
      'vllm-project/vllm vllm/entrypoints/openai/serving_chat.py (chat_completion_stream_generator: model_dump_json(exclude_unset=True), final usage chunk with choices=[]) and protocol.py (ChatCompletionStreamResponse, UsageInfo field order)',
    path: '/v1/chat/completions',
    request: '{"model":"Qwen/Qwen3-8B","messages":[{"role":"user","content":"Say hi"}],"stream":true,"seed":12345678901234567890}',
    contentType: SSE,
    chunks: [
      sse({ id: 'chatcmpl-b2e3', object: 'chat.completion.chunk', created: 1750000000, model: 'Qwen/Qwen3-8B', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] }),
      sse({ id: 'chatcmpl-b2e3', object: 'chat.completion.chunk', created: 1750000000, model: 'Qwen/Qwen3-8B', choices: [{ index: 0, delta: { content: 'Hi' }, logprobs: null, finish_reason: null }] }),
      sse({ id: 'chatcmpl-b2e3', object: 'chat.completion.chunk', created: 1750000000, model: 'Qwen/Qwen3-8B', choices: [{ index: 0, delta: { content: '!' }, logprobs: null, finish_reason: 'stop', stop_reason: null }] }),
      sse('[DONE]'),
    ],
    withUsage: [
      sse({ id: 'chatcmpl-b2e3', object: 'chat.completion.chunk', created: 1750000000, model: 'Qwen/Qwen3-8B', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] }),
      sse({ id: 'chatcmpl-b2e3', object: 'chat.completion.chunk', created: 1750000000, model: 'Qwen/Qwen3-8B', choices: [{ index: 0, delta: { content: 'Hi' }, logprobs: null, finish_reason: null }] }),
      sse({ id: 'chatcmpl-b2e3', object: 'chat.completion.chunk', created: 1750000000, model: 'Qwen/Qwen3-8B', choices: [{ index: 0, delta: { content: '!' }, logprobs: null, finish_reason: 'stop', stop_reason: null }] }),
      sse({ id: 'chatcmpl-b2e3', object: 'chat.completion.chunk', created: 1750000000, model: 'Qwen/Qwen3-8B', choices: [], usage: { prompt_tokens: 11, total_tokens: 13, completion_tokens: 2 } }),
      sse('[DONE]'),
    ],
    row: tokens(11, 2),
  },
  {
    name: 'llama.cpp Responses, streamed',
    source: 'ggml-org/llama.cpp tools/server/server-task.cpp (server_task_result_cmpl_partial::to_json_oaicompat_resp, server_task_result_cmpl_final::to_json_oaicompat_resp_stream)',
    path: '/v1/responses',
    request: '{"model":"gpt-3.5-turbo","input":"Hello","stream":true}',
    contentType: SSE,
    chunks: [
      event('response.created', { type: 'response.created', response: { id: RESP.id, object: 'response', status: 'in_progress' } }),
      event('response.in_progress', { type: 'response.in_progress', response: { id: RESP.id, object: 'response', status: 'in_progress' } }),
      event('response.output_item.added', { type: 'response.output_item.added', item: { content: [], id: RESP.message, role: 'assistant', status: 'in_progress', type: 'message' } }),
      event('response.content_part.added', { type: 'response.content_part.added', item_id: RESP.message, part: { type: 'output_text', text: '' } }),
      event('response.output_text.delta', { type: 'response.output_text.delta', item_id: RESP.message, delta: 'Hello!' }),
      event('response.output_text.done', { type: 'response.output_text.done', item_id: RESP.message, text: 'Hello!' }),
      event('response.content_part.done', { type: 'response.content_part.done', item_id: RESP.message, part: { type: 'output_text', annotations: [], logprobs: [], text: 'Hello!' } }),
      event('response.output_item.done', {
        type: 'response.output_item.done',
        item: { type: 'message', status: 'completed', id: RESP.message, content: [{ type: 'output_text', annotations: [], logprobs: [], text: 'Hello!' }], role: 'assistant' },
      }),
      event('response.completed', {
        type: 'response.completed',
        response: {
          id: RESP.id,
          object: 'response',
          created_at: 1757141666,
          status: 'completed',
          model: 'gpt-3.5-turbo',
          output: [{ type: 'message', status: 'completed', id: RESP.message, content: [{ type: 'output_text', annotations: [], logprobs: [], text: 'Hello!' }], role: 'assistant' }],
          usage: { input_tokens: 9, output_tokens: 3, total_tokens: 12 },
        },
      }),
    ],
    row: tokens(9, 3),
  },
  {
    name: 'llama.cpp Responses, not streamed',
    source: 'ggml-org/llama.cpp tools/server/server-task.cpp (server_task_result_cmpl_final::to_json_oaicompat_resp)',
    path: '/responses',
    request: '{"model":"gpt-3.5-turbo","input":"Hello"}',
    contentType: JSON_TYPE,
    chunks: [
      JSON.stringify({
        completed_at: 1757141666,
        created_at: 1757141666,
        id: RESP.id,
        model: 'gpt-3.5-turbo',
        object: 'response',
        output: [{ content: [{ type: 'output_text', annotations: [], logprobs: [], text: 'Hello!' }], id: RESP.message, role: 'assistant', status: 'completed', type: 'message' }],
        status: 'completed',
        usage: { input_tokens: 9, output_tokens: 3, total_tokens: 12 },
      }),
    ],
    row: tokens(9, 3),
  },
  {
    name: 'llama.cpp Anthropic messages, streamed',
    source: 'ggml-org/llama.cpp tools/server/server-task.cpp (server_task_result_cmpl_partial::to_json_anthropic, server_task_result_cmpl_final::to_json_anthropic_stream)',
    path: '/v1/messages',
    request: '{"model":"claude-sonnet-4","max_tokens":64,"messages":[{"role":"user","content":"Hello"}],"stream":true}',
    contentType: SSE,
    chunks: [
      event('message_start', {
        type: 'message_start',
        message: { id: ANTHROPIC_ID, type: 'message', role: 'assistant', content: [], model: 'claude-sonnet-4', stop_reason: null, stop_sequence: null, usage: { input_tokens: 10, output_tokens: 0 } },
      }),
      event('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
      event('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } }),
      event('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: '!' } }),
      event('content_block_stop', { type: 'content_block_stop', index: 0 }),
      event('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 3 } }),
      event('message_stop', { type: 'message_stop' }),
    ],
    row: tokens(10, 3),
  },
  {
    name: 'ik_llama.cpp Anthropic messages, not streamed (cache reads)',
    source: 'ikawrakow/ik_llama.cpp examples/server/server-task.cpp (server_task_result_cmpl_final::to_json_anthropic: usage cache_read_input_tokens, input_tokens = prompt - cache)',
    path: '/v1/messages',
    request: '{"model":"Qwen3-30B-A3B","max_tokens":64,"messages":[{"role":"user","content":"Summarise the document."}]}',
    contentType: JSON_TYPE,
    chunks: [
      JSON.stringify({
        id: ANTHROPIC_ID,
        type: 'message',
        role: 'assistant',
        content: [{ type: 'text', text: 'It is short.' }],
        model: 'Qwen3-30B-A3B',
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { cache_read_input_tokens: 3900, input_tokens: 100, output_tokens: 3 },
      }),
    ],
    row: tokens(4000, 3, 3900, 100),
  },
];

/**
 * Streams known only in part (the first events of a stream), replayed to a client that stops reading:
 * what the proxy records for a stream cut short. `row` is the row of the cut after all `chunks`.
 */
export const PARTIAL_REPLAYS: readonly Replay[] = [
  {
    name: 'llama.cpp b9554 chat completions with timings on every chunk (the first events of a stream)',
    source: 'captured in https://github.com/openai-php/client/issues/780 (llama-server b9554-d403f00ec, webui requests with timings_per_token)',
    path: '/v1/chat/completions',
    request: '{"model":"gemma-4-31B-it-UD-Q6_K_XL.gguf","messages":[{"role":"user","content":"Play a game"}],"stream":true,"timings_per_token":true}',
    contentType: SSE,
    chunks: [
      'data: {"choices":[{"finish_reason":null,"index":0,"delta":{"reasoning_content":"Play"}}],"created":1781492231,"id":"chatcmpl-qC6laQHbZ2CmxNvJ4NoB1L93LcVF7nfe","model":"gemma-4-31B-it-UD-Q6_K_XL.gguf","system_fingerprint":"b9554-d403f00ec","object":"chat.completion.chunk","timings":{"cache_n":7,"prompt_n":10,"prompt_ms":251.51,"prompt_per_token_ms":25.151,"prompt_per_second":39.75985050296211,"predicted_n":78,"predicted_ms":1119.721,"predicted_per_token_ms":14.355397435897435,"predicted_per_second":69.66020999874075,"draft_n":82,"draft_n_accepted":36}}\n\n',
      'data: {"choices":[{"finish_reason":null,"index":0,"delta":{"reasoning_content":"ful"}}],"created":1781492231,"id":"chatcmpl-qC6laQHbZ2CmxNvJ4NoB1L93LcVF7nfe","model":"gemma-4-31B-it-UD-Q6_K_XL.gguf","system_fingerprint":"b9554-d403f00ec","object":"chat.completion.chunk","timings":{"cache_n":7,"prompt_n":10,"prompt_ms":251.51,"prompt_per_token_ms":25.151,"prompt_per_second":39.75985050296211,"predicted_n":79,"predicted_ms":1147.676,"predicted_per_token_ms":14.527544303797468,"predicted_per_second":68.83475824187315,"draft_n":84,"draft_n_accepted":38}}\n\n',
    ],
    row: tokens(17, 79, 7, 10),
  },
  {
    name: 'ik_llama.cpp chat completions, streamed, timings on every chunk (timings_per_token)',
    source: 'ikawrakow/ik_llama.cpp examples/server/server-task.cpp (to_json_oaicompat_chat_partial: a role delta first, timings on the last delta of each result) and server-context.cpp (timings_per_token)',
    path: '/v1/chat/completions',
    request: '{"model":"Qwen3-30B-A3B","messages":[{"role":"user","content":"Summarise the document."}],"stream":true,"timings_per_token":true}',
    contentType: SSE,
    chunks: [
      sse(ikChunk([{ finish_reason: null, index: 0, delta: { role: 'assistant', content: null } }])),
      sse({ ...ikChunk([{ finish_reason: null, index: 0, delta: { content: 'It' } }]), timings: ikTimings(1) }),
      sse({ ...ikChunk([{ finish_reason: null, index: 0, delta: { content: ' is' } }]), timings: ikTimings(2) }),
      sse({ ...ikChunk([{ finish_reason: null, index: 0, delta: { content: ' short.' } }]), timings: ikTimings(3) }),
    ],
    row: tokens(100, 3, 0, 100),
  },
];

/**
 * Successful (200) streams in which the server reports a failure: recorded as a stream that ended early
 * (what the server had stated, if anything; `row` zeros: nothing).
 */
export const FAILING_REPLAYS: readonly Replay[] = [
  {
    name: 'Ollama chat, a stream that fails after its first object',
    source: 'ollama/ollama server/routes.go streamResponse (after the first write, an error goes out as json.NewEncoder(...).Encode(gin.H{"error": e}))',
    path: '/api/chat',
    request: '{"model":"llama3.2","messages":[{"role":"user","content":"why is the sky blue?"}]}',
    contentType: 'application/x-ndjson',
    chunks: [
      ndjson({ model: 'llama3.2', created_at: '2023-08-04T08:52:19.385406455-07:00', message: { role: 'assistant', content: 'The', images: null }, done: false }),
      ndjson({ error: 'an error was encountered while running the model' }),
    ],
    row: tokens(0, 0),
  },
  {
    name: 'ik_llama.cpp completion, a stream that fails after its first chunk',
    source: 'ikawrakow/ik_llama.cpp examples/server/server.cpp (streamed result->is_error(): server_sent_event(sink, {"error": result->to_json()})) and server-common.cpp (format_error_response)',
    path: '/completion',
    request: '{"prompt":"Building a website can be done in 10 simple steps:","n_predict":3,"stream":true}',
    contentType: SSE,
    chunks: [sse(nativePartial(' First', 1)), sse({ error: { code: 500, message: 'the request exceeds the available context size', type: 'server_error' } })],
    row: tokens(12, 1),
  },
];
