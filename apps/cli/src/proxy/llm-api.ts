import { SseSplitter } from './sse.js';
import { type TokenUsage, UsageCollector } from './usage.js';

/**
 * The POST paths whose responses are recorded (after the mount path, trailing slash ignored). Every other
 * request is forwarded without being looked at.
 */
export const RECORDED_PATHS: readonly string[] = [
  '/v1/chat/completions',
  '/v1/completions',
  '/v1/embeddings',
  '/v1/responses',
  '/v1/messages',
  '/v1/rerank',
  '/v1/reranking',
  '/rerank',
];

/** Endpoints whose streams report usage only when asked with `stream_options.include_usage`. */
const INCLUDE_USAGE_PATHS = new Set(['/v1/chat/completions', '/v1/completions']);

const recorded = new Set(RECORDED_PATHS);

/** The recorded path a request URL names, or null when it is not recorded. */
export function recordedPath(method: string | undefined, url: string): string | null {
  if (method !== 'POST') return null;
  let path = url;
  const query = path.indexOf('?');
  if (query !== -1) path = path.slice(0, query);
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  return recorded.has(path) ? path : null;
}

export interface InspectedRequest {
  /** The body's `model`, or null. */
  model: string | null;
  /** The body asks for a stream (`"stream": true`). */
  stream: boolean;
  /** The body to forward: the client's bytes, or with `stream_options.include_usage` added. */
  body: Buffer;
  /** True when the proxy asked for usage the client did not ask for, so the extra usage chunk must go. */
  stripUsage: boolean;
}

/**
 * Reads a recorded request's JSON body for its `model`, and for streamed chat and text completions asks
 * the upstream for a final usage chunk when the client did not. The body is left byte for byte as the
 * client sent it otherwise; when `stream_options` is absent the field is inserted after the opening brace,
 * so nothing else changes either.
 */
export function inspectRequest(path: string, body: Buffer): InspectedRequest {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return { model: null, stream: false, body, stripUsage: false };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { model: null, stream: false, body, stripUsage: false };
  const request = json as Record<string, unknown>;
  const model = typeof request.model === 'string' && request.model !== '' ? request.model : null;
  const stream = request.stream === true;
  if (!INCLUDE_USAGE_PATHS.has(path) || !stream) return { model, stream, body, stripUsage: false };
  const options = request.stream_options;
  if (typeof options === 'object' && options !== null && (options as Record<string, unknown>).include_usage === true)
    return { model, stream, body, stripUsage: false };
  if (options === undefined) {
    const text = body.toString('utf8');
    const brace = text.indexOf('{');
    const rest = text.slice(brace + 1);
    const separator = /^\s*}/.test(rest) ? '' : ',';
    const injected = `${text.slice(0, brace + 1)}"stream_options":{"include_usage":true}${separator}${rest}`;
    return { model, stream, body: Buffer.from(injected, 'utf8'), stripUsage: true };
  }
  const merged = { ...request, stream_options: { ...(typeof options === 'object' && options !== null ? options : {}), include_usage: true } };
  return { model, stream, body: Buffer.from(JSON.stringify(merged), 'utf8'), stripUsage: true };
}

/** `"usage": null` as a member of a compact or pretty JSON object, with the comma that joins it. */
const NULL_USAGE_MEMBER = [/,\s*"usage"\s*:\s*null(?=\s*[,}])/, /"usage"\s*:\s*null\s*,\s*/];

type Chunk = Record<string, unknown>;

/**
 * Reads a recorded response as it streams by, for its token usage: a server-sent event stream event by
 * event, anything else as one JSON document at the end (kept up to `maxBodyBytes`).
 *
 * In strip mode it also rewrites an event stream into what the upstream would have sent without
 * `include_usage`: the usage-only chunk (`choices: []`) goes, `"usage": null` goes from the other
 * chunks, and llama.cpp's `timings`, which it attaches to the last chunk it sends, move back onto the
 * finish chunk. For that a chunk with a `finish_reason` waits for the next event (it carries no text, so
 * no token is delayed). Every other event is passed on as soon as it is complete.
 *
 * Never throws: what it cannot parse is passed on as it came and yields no usage.
 */
export class ResponseReader {
  readonly #collector = new UsageCollector();
  readonly #sse: SseSplitter | null;
  readonly #strip: boolean;
  readonly #maxBodyBytes: number;
  readonly #log: (message: string) => void;
  #body: Buffer[] = [];
  #bodyBytes = 0;
  #failed = false;
  /** Strip mode: a finish chunk waiting to see whether a usage-only chunk follows. */
  #held: { raw: Buffer; chunk: Chunk } | null = null;

  constructor(options: { sse: boolean; strip: boolean; maxBodyBytes: number; log: (message: string) => void }) {
    this.#sse = options.sse ? new SseSplitter() : null;
    this.#strip = options.sse && options.strip;
    this.#maxBodyBytes = options.maxBodyBytes;
    this.#log = options.log;
  }

  get usage(): TokenUsage | null {
    return this.#failed ? null : this.#collector.usage;
  }

  /** Reads decoded response bytes. In strip mode returns the bytes to send on; otherwise the same chunk. */
  write(chunk: Buffer): Buffer {
    if (!this.#sse) {
      this.#keep(chunk);
      return chunk;
    }
    const events = this.#sse.push(chunk);
    if (!this.#strip) {
      for (const event of events) this.#read(event.data);
      return chunk;
    }
    return Buffer.concat(events.map((event) => this.#stripEvent(event.data, event.raw)));
  }

  /** The response ended: reads what is left. In strip mode returns the last bytes to send. */
  end(): Buffer {
    if (!this.#sse) {
      if (this.#body.length > 0 && !this.#failed) {
        const json = this.#parse(Buffer.concat(this.#body).toString('utf8'));
        if (json === undefined) this.#log('could not read the usage of a response: its body is not JSON');
        else this.#collector.add(json);
      }
      this.#body = [];
      return Buffer.alloc(0);
    }
    const events = this.#sse.end();
    if (!this.#strip) {
      for (const event of events) this.#read(event.data);
      return Buffer.alloc(0);
    }
    const out = events.map((event) => this.#stripEvent(event.data, event.raw));
    return Buffer.concat([...out, this.#release()]);
  }

  #read(data: string | null): unknown {
    if (data === null || data === '' || data === '[DONE]') return undefined;
    const json = this.#parse(data);
    if (json !== undefined) this.#collector.add(json);
    return json;
  }

  #parse(text: string): unknown {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  }

  /** Reads one event in strip mode; returns the bytes to send now. */
  #stripEvent(data: string | null, raw: Buffer): Buffer {
    const json = this.#read(data);
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return Buffer.concat([this.#release(), raw]);
    const chunk = json as Chunk;
    if (typeof chunk.usage === 'object' && chunk.usage !== null && Array.isArray(chunk.choices) && chunk.choices.length === 0) {
      const held = this.#held;
      this.#held = null;
      if (!held) return Buffer.alloc(0);
      return (chunk.timings !== undefined && withTimings(held, raw)) || held.raw;
    }
    let out = raw;
    let shown = chunk;
    if ('usage' in chunk && chunk.usage === null) {
      const { usage: _, ...rest } = chunk;
      const edited = withoutNullUsage(raw, rest);
      if (edited) [out, shown] = [edited, rest];
    }
    const released = this.#release();
    const finished = Array.isArray(chunk.choices) && chunk.choices.some((choice) => typeof choice === 'object' && choice !== null && (choice as Chunk).finish_reason != null);
    if (!finished) return released.length > 0 ? Buffer.concat([released, out]) : out;
    this.#held = { raw: out, chunk: shown };
    return released;
  }

  #release(): Buffer {
    const held = this.#held;
    this.#held = null;
    return held ? held.raw : Buffer.alloc(0);
  }

  #keep(chunk: Buffer): void {
    if (this.#failed) return;
    this.#bodyBytes += chunk.length;
    if (this.#bodyBytes > this.#maxBodyBytes) {
      this.#failed = true;
      this.#body = [];
      this.#log(`a response is larger than ${this.#maxBodyBytes} bytes; its usage is not read`);
      return;
    }
    this.#body.push(chunk);
  }
}

/** The JSON text of an event's data lines. */
function dataOf(text: string): string {
  return text
    .split(/\r\n|\r|\n/)
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(line.startsWith('data: ') ? 6 : 5))
    .join('\n');
}

/** Whether `text`'s data is exactly `expected` as JSON. */
function dataEquals(text: string, expected: unknown): boolean {
  try {
    return JSON.stringify(JSON.parse(dataOf(text))) === JSON.stringify(expected);
  } catch {
    return false;
  }
}

/**
 * The event with its chunk's `"usage": null` member cut out of the text, so every other byte stays as
 * the upstream wrote it; null when the cut does not give back exactly `expected`.
 */
function withoutNullUsage(raw: Buffer, expected: Chunk): Buffer | null {
  const text = raw.toString('utf8');
  for (const pattern of NULL_USAGE_MEMBER) {
    const match = pattern.exec(text);
    if (!match) continue;
    const edited = text.slice(0, match.index) + text.slice(match.index + match[0].length);
    if (dataEquals(edited, expected)) return Buffer.from(edited, 'utf8');
  }
  return null;
}

/**
 * The held finish chunk with the `"timings"` member of the usage chunk `usageRaw` appended, copied as
 * text; null when that does not give back exactly the finish chunk plus the timings.
 */
function withTimings(held: { raw: Buffer; chunk: Chunk }, usageRaw: Buffer): Buffer | null {
  const usageText = usageRaw.toString('utf8');
  const member = /"timings"\s*:\s*/.exec(usageText);
  if (!member) return null;
  const start = member.index + member[0].length;
  const end = jsonValueEnd(usageText, start);
  if (end === -1) return null;
  const heldText = held.raw.toString('utf8');
  const close = heldText.lastIndexOf('}');
  if (close === -1) return null;
  const timings = usageText.slice(start, end);
  const edited = `${heldText.slice(0, close)},"timings":${timings}${heldText.slice(close)}`;
  try {
    return dataEquals(edited, { ...held.chunk, timings: JSON.parse(timings) as unknown }) ? Buffer.from(edited, 'utf8') : null;
  } catch {
    return null;
  }
}

/** Where the JSON object or array starting at `start` ends (exclusive), or -1. */
function jsonValueEnd(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    } else if (depth === 0) return -1;
  }
  return -1;
}
