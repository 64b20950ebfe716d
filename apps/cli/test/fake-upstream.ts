import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';

/**
 * A fake LLM server on 127.0.0.1 that speaks the APIs the proxy records, deterministically (fixed ids
 * and timestamps), so a test can compare bytes. Every response is a function of the request:
 *
 * - prompt tokens: the words in the body's `messages`/`prompt`/`input`/`system`/`query`/`documents`;
 * - output tokens: `max_tokens` (or `max_output_tokens`), default 4; one streamed event per token.
 *
 * Request headers steer it: `x-fake-flavor: llama` answers like llama.cpp (`timings`, its key order,
 * timings on the last chunk) instead of OpenAI; `x-fake-cached: N` reports N prompt tokens served from a
 * cache; `x-fake-cache-write: N` (Anthropic) N cache-creation tokens; `x-fake-delay-ms: N` waits between
 * streamed events; `x-fake-status: N` answers with that error status; `x-fake-body: TEXT` answers 200
 * with that body as JSON; `x-fake-break-after: N` destroys the connection after N streamed events;
 * `x-fake-stream-type: T` sends streams as content type T; `x-fake-wait-ms: N` waits before answering at all; `x-fake-gzip: 1` gzips the body (`sent` holds the bytes before compression).
 */
export interface FakeUpstream {
  url: string;
  port: number;
  /** Every request received, in order of arrival. */
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  rawHeaders: string[];
  body: Buffer;
  /** The bytes of the response body as written. */
  sent: Buffer[];
  /** True when the client (the proxy) closed the connection before the response was complete. */
  aborted: boolean;
  finished: boolean;
}

export const FAKE_CREATED = 1_760_000_000;
export const LISTED_MODEL = 'fake-listed-model';

type Json = Record<string, unknown>;

export async function startFakeUpstream(): Promise<FakeUpstream> {
  const requests: ReceivedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const record: ReceivedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks),
        sent: [],
        aborted: false,
        finished: false,
      };
      requests.push(record);
      res.on('close', () => {
        record.aborted = !res.writableFinished;
        record.finished = res.writableFinished;
      });
      void respond(req, res, record).catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const sleep = (ms: number) => new Promise((resolve) => (ms > 0 ? setTimeout(resolve, ms) : setImmediate(resolve)));

async function respond(req: IncomingMessage, res: ServerResponse, record: ReceivedRequest): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  const gzip = req.headers['x-fake-gzip'] === '1';
  const claimGzip = gzip || req.headers['x-fake-gzip'] === 'lie';
  const send = (status: number, body: string, type = 'application/json') => {
    const bytes = Buffer.from(body, 'utf8');
    record.sent.push(bytes);
    const wire = gzip ? zlib.gzipSync(bytes) : bytes;
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': wire.length, 'X-Fake-Upstream': 'yes', ...(claimGzip ? { 'Content-Encoding': 'gzip' } : {}) });
    res.end(wire);
  };
  const wait = Number(req.headers['x-fake-wait-ms'] ?? 0);
  if (wait > 0) await sleep(wait);
  if (res.destroyed) return;
  const status = Number(req.headers['x-fake-status'] ?? 0);
  if (status >= 400) return send(status, JSON.stringify({ error: { message: `fake error ${status}`, type: 'fake_error' } }));
  const fixed = req.headers['x-fake-body'];
  if (typeof fixed === 'string') return send(200, fixed);
  if (req.method === 'GET' && path === '/v1/models') return send(200, JSON.stringify({ object: 'list', data: [{ id: LISTED_MODEL, object: 'model', owned_by: 'fake' }] }));
  if (req.method !== 'POST' || !ROUTES[path ?? '']) {
    return send(200, JSON.stringify({ echo: { method: req.method, url: req.url, bodyBytes: record.body.length } }));
  }
  let body: Json;
  try {
    body = JSON.parse(record.body.toString('utf8')) as Json;
  } catch {
    return send(400, JSON.stringify({ error: { message: 'body is not JSON', type: 'invalid_request_error' } }));
  }
  const ctx = context(req, body);
  const answer = ROUTES[path!]!(ctx);
  if (typeof answer === 'string') return send(200, answer);
  // A stream: one event per write, so the proxy sees them in separate chunks.
  const streamType = String(req.headers['x-fake-stream-type'] ?? 'text/event-stream');
  res.writeHead(200, { 'Content-Type': streamType, 'Cache-Control': 'no-cache', 'X-Fake-Upstream': 'yes', ...(gzip ? { 'Content-Encoding': 'gzip' } : {}) });
  res.flushHeaders();
  const compressor = gzip ? zlib.createGzip() : null;
  compressor?.on('data', (bytes: Buffer) => res.write(bytes));
  const breakAfter = Number(req.headers['x-fake-break-after'] ?? Number.POSITIVE_INFINITY);
  for (const [n, event] of answer.entries()) {
    if (res.destroyed) return;
    await sleep(ctx.delayMs);
    if (res.destroyed) return;
    if (n === breakAfter) {
      res.destroy();
      return;
    }
    const bytes = Buffer.from(event, 'utf8');
    record.sent.push(bytes);
    if (compressor) compressor.write(bytes, () => compressor.flush(zlib.constants.Z_SYNC_FLUSH));
    else res.write(bytes);
  }
  if (compressor) {
    compressor.once('end', () => res.end());
    compressor.end();
  } else {
    res.end();
  }
}

interface Context {
  body: Json;
  model: string;
  llama: boolean;
  stream: boolean;
  includeUsage: boolean;
  prompt: number;
  output: number;
  cached: number;
  cacheWrite: number;
  delayMs: number;
}

function context(req: IncomingMessage, body: Json): Context {
  const words: string[] = [];
  const collect = (value: unknown): void => {
    if (typeof value === 'string') words.push(...value.split(/\s+/).filter(Boolean));
    else if (Array.isArray(value)) value.forEach(collect);
    else if (typeof value === 'object' && value !== null) for (const [key, inner] of Object.entries(value)) if (key !== 'role' && key !== 'type') collect(inner);
  };
  for (const key of ['messages', 'prompt', 'input', 'system', 'query', 'documents']) collect(body[key]);
  const output = Number(body.max_tokens ?? body.max_output_tokens ?? 4);
  const options = body.stream_options as Json | undefined;
  return {
    body,
    model: String(body.model ?? 'unnamed'),
    llama: req.headers['x-fake-flavor'] === 'llama',
    stream: body.stream === true,
    includeUsage: options?.include_usage === true,
    prompt: words.length,
    output,
    cached: Math.min(Number(req.headers['x-fake-cached'] ?? 0), words.length),
    cacheWrite: Number(req.headers['x-fake-cache-write'] ?? 0),
    delayMs: Number(req.headers['x-fake-delay-ms'] ?? 0),
  };
}

const token = (i: number) => `tok${i} `;
const text = (ctx: Context) => Array.from({ length: ctx.output }, (_, i) => token(i)).join('');
const sse = (data: unknown, event?: string) => `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;

function timings(ctx: Context): Json {
  const promptN = ctx.prompt - ctx.cached;
  return {
    cache_n: ctx.cached,
    prompt_n: promptN,
    prompt_ms: 12.5,
    prompt_per_token_ms: promptN ? 12.5 / promptN : 0,
    prompt_per_second: promptN ? promptN / 0.0125 : 0,
    predicted_n: ctx.output,
    predicted_ms: 40.25,
    predicted_per_token_ms: ctx.output ? 40.25 / ctx.output : 0,
    predicted_per_second: ctx.output ? ctx.output / 0.04025 : 0,
  };
}

function openAiUsage(ctx: Context): Json {
  return {
    prompt_tokens: ctx.prompt,
    completion_tokens: ctx.output,
    total_tokens: ctx.prompt + ctx.output,
    ...(ctx.llama ? {} : { prompt_tokens_details: { cached_tokens: ctx.cached } }),
  };
}

/**
 * Chat or text completion chunks. OpenAI: `"usage": null` on every chunk when `include_usage` is set,
 * then a usage-only chunk. llama.cpp: its own key order, the usage-only chunk likewise, and `timings` on
 * whichever chunk comes last.
 */
function completionStream(ctx: Context, kind: 'chat' | 'text'): string[] {
  const object = kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
  const id = kind === 'chat' ? 'chatcmpl-fake' : 'cmpl-fake';
  const choice = (i: number | null): Json => {
    const finish = i === null ? (kind === 'chat' ? 'stop' : 'length') : null;
    if (kind === 'chat') {
      const delta = i === null ? {} : i === 0 ? { role: 'assistant', content: token(i) } : { content: token(i) };
      return ctx.llama ? { finish_reason: finish, index: 0, delta } : { index: 0, delta, logprobs: null, finish_reason: finish };
    }
    return { text: i === null ? '' : token(i), index: 0, logprobs: null, finish_reason: finish };
  };
  const chunk = (choices: Json[], extra: Json = {}): Json =>
    ctx.llama
      ? { choices, created: FAKE_CREATED, id, model: ctx.model, system_fingerprint: 'b6000-fake', object, ...extra }
      : { id, object, created: FAKE_CREATED, model: ctx.model, system_fingerprint: 'fp_fake', choices, ...(ctx.includeUsage ? { usage: null } : {}), ...extra };
  const chunks: Json[] = Array.from({ length: ctx.output }, (_, i) => chunk([choice(i)]));
  chunks.push(chunk([choice(null)]));
  if (ctx.includeUsage) chunks.push({ ...chunk([]), usage: openAiUsage(ctx) });
  if (ctx.llama) chunks[chunks.length - 1] = { ...chunks[chunks.length - 1], timings: timings(ctx) };
  return [...chunks.map((c) => sse(c)), sse('[DONE]')];
}

function chatCompletions(ctx: Context): string | string[] {
  if (ctx.stream) return completionStream(ctx, 'chat');
  const message = { role: 'assistant', content: text(ctx) };
  if (ctx.llama)
    return JSON.stringify({
      choices: [{ finish_reason: 'stop', index: 0, message }],
      created: FAKE_CREATED,
      model: ctx.model,
      system_fingerprint: 'b6000-fake',
      object: 'chat.completion',
      usage: openAiUsage(ctx),
      id: 'chatcmpl-fake',
      timings: timings(ctx),
    });
  return JSON.stringify({
    id: 'chatcmpl-fake',
    object: 'chat.completion',
    created: FAKE_CREATED,
    model: ctx.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: 'stop' }],
    usage: openAiUsage(ctx),
    system_fingerprint: 'fp_fake',
  });
}

function completions(ctx: Context): string | string[] {
  if (ctx.stream) return completionStream(ctx, 'text');
  return JSON.stringify({
    id: 'cmpl-fake',
    object: 'text_completion',
    created: FAKE_CREATED,
    model: ctx.model,
    choices: [{ text: text(ctx), index: 0, logprobs: null, finish_reason: 'length' }],
    usage: openAiUsage(ctx),
    ...(ctx.llama ? { timings: timings(ctx) } : {}),
  });
}

function embeddings(ctx: Context): string {
  const inputs = Array.isArray(ctx.body.input) ? ctx.body.input : [ctx.body.input];
  return JSON.stringify({
    object: 'list',
    data: inputs.map((_, index) => ({ object: 'embedding', index, embedding: [0.125, -0.5, 0.25, index] })),
    model: ctx.model,
    usage: { prompt_tokens: ctx.prompt, total_tokens: ctx.prompt },
  });
}

function responses(ctx: Context): string | string[] {
  const usage = {
    input_tokens: ctx.prompt,
    input_tokens_details: { cached_tokens: ctx.cached },
    output_tokens: ctx.output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: ctx.prompt + ctx.output,
  };
  const response = (status: string, done: boolean) => ({
    id: 'resp_fake',
    object: 'response',
    created_at: FAKE_CREATED,
    status,
    model: ctx.model,
    output: done ? [{ type: 'message', id: 'msg_fake', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: text(ctx), annotations: [] }] }] : [],
    usage: done ? usage : null,
  });
  if (!ctx.stream) return JSON.stringify(response('completed', true));
  let n = 0;
  const event = (type: string, data: Json) => sse({ type, sequence_number: n++, ...data }, type);
  return [
    event('response.created', { response: response('in_progress', false) }),
    ...Array.from({ length: ctx.output }, (_, i) => event('response.output_text.delta', { item_id: 'msg_fake', output_index: 0, content_index: 0, delta: token(i) })),
    event('response.output_text.done', { item_id: 'msg_fake', output_index: 0, content_index: 0, text: text(ctx) }),
    event('response.completed', { response: response('completed', true) }),
  ];
}

function messages(ctx: Context): string | string[] {
  const usage = (output: number) => ({
    input_tokens: ctx.prompt - ctx.cached,
    cache_creation_input_tokens: ctx.cacheWrite,
    cache_read_input_tokens: ctx.cached,
    output_tokens: output,
  });
  const message = (content: Json[], output: number, stop: string | null) => ({
    id: 'msg_fake',
    type: 'message',
    role: 'assistant',
    model: ctx.model,
    content,
    stop_reason: stop,
    stop_sequence: null,
    usage: usage(output),
  });
  if (!ctx.stream) return JSON.stringify(message([{ type: 'text', text: text(ctx) }], ctx.output, 'end_turn'));
  return [
    sse({ type: 'message_start', message: message([], 1, null) }, 'message_start'),
    sse({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }, 'content_block_start'),
    sse({ type: 'ping' }, 'ping'),
    ...Array.from({ length: ctx.output }, (_, i) => sse({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: token(i) } }, 'content_block_delta')),
    sse({ type: 'content_block_stop', index: 0 }, 'content_block_stop'),
    sse({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: ctx.output } }, 'message_delta'),
    sse({ type: 'message_stop' }, 'message_stop'),
  ];
}

function rerank(ctx: Context, usage: 'llama' | 'total-only'): string {
  const documents = Array.isArray(ctx.body.documents) ? ctx.body.documents : [];
  return JSON.stringify({
    model: ctx.model,
    object: 'list',
    usage: usage === 'llama' ? { prompt_tokens: ctx.prompt, total_tokens: ctx.prompt } : { total_tokens: ctx.prompt },
    results: documents.map((_, index) => ({ index, relevance_score: 1 / (index + 1) })),
  });
}

const ROUTES: Record<string, ((ctx: Context) => string | string[]) | undefined> = {
  '/v1/chat/completions': chatCompletions,
  '/v1/completions': completions,
  '/v1/embeddings': embeddings,
  '/v1/responses': responses,
  '/v1/messages': messages,
  '/v1/rerank': (ctx) => rerank(ctx, 'llama'),
  '/v1/reranking': (ctx) => rerank(ctx, 'llama'),
  '/rerank': (ctx) => rerank(ctx, 'total-only'),
};
