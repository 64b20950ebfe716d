import type { ApiFamily } from './apis.js';
import { NdjsonSplitter, SseSplitter } from './framing.js';
import { objectMembers, skipSpace, splice, withIncludeUsage, withoutMember } from './json-edit.js';
import { type TokenUsage, isObject, readDocument } from './usage.js';

export interface InspectedRequest {
  /** The body's `model`, or null. */
  model: string | null;
  /** The request asks for a stream (`"stream": true`, or no `"stream": false` where the API streams by default). */
  stream: boolean;
  /** The body to forward: the client's bytes, or with `stream_options.include_usage` set. */
  body: Buffer;
  /** True when the proxy asked for usage the client did not ask for, so what that adds must leave the stream. */
  stripUsage: boolean;
}

/**
 * Reads a recorded request's JSON body for its `model` and whether it streams, and for APIs whose
 * streams report usage only when asked, asks (`stream_options.include_usage: true`) when the client did
 * not. The body is edited as bytes (see `json-edit.ts`), never re-serialised.
 */
export function inspectRequest(family: ApiFamily, body: Buffer): InspectedRequest {
  let request: unknown;
  try {
    request = JSON.parse(body.toString('utf8'));
  } catch {
    return { model: null, stream: family.streamsByDefault, body, stripUsage: false };
  }
  if (!isObject(request)) return { model: null, stream: false, body, stripUsage: false };
  const model = typeof request.model === 'string' && request.model !== '' ? request.model : null;
  const stream = request.stream === true || (family.streamsByDefault && request.stream !== false);
  const options = request.stream_options;
  if (!family.asksForUsage || !stream || (isObject(options) && options.include_usage === true)) return { model, stream, body, stripUsage: false };
  const edited = withIncludeUsage(body);
  return edited ? { model, stream, body: edited, stripUsage: true } : { model, stream, body, stripUsage: false };
}

/** How a response body is cut into JSON documents. */
export type Framing = 'json' | 'sse' | 'ndjson';

/** The framing of a response, from its content type, else from the request and the API. */
export function framingOf(contentType: string, family: ApiFamily, stream: boolean): Framing {
  const type = contentType.toLowerCase();
  if (type.includes('text/event-stream')) return 'sse';
  if (type.includes('ndjson') || type.includes('jsonl')) return 'ndjson';
  if (type.includes('json') || !stream) return 'json';
  return family.framing;
}

/**
 * Reads a recorded response as it streams by, for its token usage: an event stream event by event,
 * NDJSON line by line, anything else as one JSON document at the end (kept up to `maxBodyBytes`).
 *
 * In strip mode (the proxy asked for usage the client did not) it also rewrites an event stream into
 * what the upstream sends without `include_usage`, and changes nothing else: the usage-only chunk
 * (`choices: []`) goes, and so does the `usage` member of the other chunks, whatever its value (OpenAI's
 * `null`, Ollama's zeros, vLLM's continuous usage); llama.cpp's `timings`, which it puts on whichever
 * chunk comes last, go back onto the finish chunk. The finish chunk keeps a real usage when no
 * usage-only chunk follows it: that server sends it unasked (llama.cpp before 2025). For that a chunk
 * with a `finish_reason` waits for the next event (it carries no text, so no token is delayed). Every
 * other event is passed on as soon as it is complete, byte for byte.
 *
 * Never throws: what it cannot parse is passed on as it came and yields no usage.
 */
export class ResponseReader {
  readonly #family: ApiFamily;
  readonly #sse: SseSplitter | null;
  readonly #ndjson: NdjsonSplitter | null;
  readonly #strip: boolean;
  readonly #maxBodyBytes: number;
  readonly #log: (message: string) => void;
  #usage: TokenUsage | null = null;
  #body: Buffer[] = [];
  #bodyBytes = 0;
  #unreadable = false;
  #reportedError = false;
  /** Strip mode: a finish chunk waiting to see whether a usage-only chunk follows. */
  #held: { raw: Buffer; json: number; usage: boolean; placeholder: boolean } | null = null;

  constructor(options: { family: ApiFamily; framing: Framing; strip: boolean; maxBodyBytes: number; log: (message: string) => void }) {
    this.#family = options.family;
    this.#sse = options.framing === 'sse' ? new SseSplitter() : null;
    this.#ndjson = options.framing === 'ndjson' ? new NdjsonSplitter() : null;
    this.#strip = !!this.#sse && options.strip;
    this.#maxBodyBytes = options.maxBodyBytes;
    this.#log = options.log;
  }

  /** The usage read so far (the last reading with counts), or null. */
  get usage(): TokenUsage | null {
    return this.#usage;
  }

  /** True when the body could not be read at all (not JSON, or too large): nothing about it is known. */
  get unreadable(): boolean {
    return this.#unreadable;
  }

  /** True when a document of the body was an error object (`{"error": …}`, as Ollama and llama.cpp send mid-stream). */
  get reportedError(): boolean {
    return this.#reportedError;
  }

  /** Reads decoded response bytes. In strip mode returns the bytes to send on; otherwise the same chunk. */
  write(chunk: Buffer): Buffer {
    if (this.#unreadable) return chunk;
    if (this.#ndjson) {
      for (const line of this.#ndjson.push(chunk)) this.#read(line);
      this.#checkPending(this.#ndjson.pendingBytes);
      return chunk;
    }
    if (!this.#sse) {
      this.#keep(chunk);
      return chunk;
    }
    const events = this.#sse.push(chunk);
    if (!this.#strip) {
      for (const event of events) this.#read(event.data);
      this.#checkPending(this.#sse.pendingBytes);
      return chunk;
    }
    const out = Buffer.concat(events.map((event) => this.#stripEvent(event.data, event.raw)));
    // An event this large is not a chunk of an LLM stream: give up rewriting and pass everything on.
    if (this.#sse.pendingBytes > this.#maxBodyBytes) return Buffer.concat([out, this.#release(), this.#giveUp()]);
    return out;
  }

  /** The response ended: reads what is left. In strip mode returns the last bytes to send. */
  end(): Buffer {
    if (this.#unreadable) return Buffer.alloc(0);
    if (this.#ndjson) {
      for (const line of this.#ndjson.end()) this.#read(line);
      return Buffer.alloc(0);
    }
    if (!this.#sse) {
      if (this.#body.length > 0) {
        const document = this.#parse(Buffer.concat(this.#body).toString('utf8'));
        if (document === undefined) this.#fail('its body is not JSON');
        else this.#take(document);
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
    const document = this.#parse(data);
    if (document !== undefined) this.#take(document);
    return document;
  }

  #take(document: unknown): void {
    if (isObject(document) && 'error' in document && document.error) this.#reportedError = true;
    this.#usage = readDocument(this.#family.usage, document, this.#usage);
  }

  #parse(text: string): unknown {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  }

  #fail(why: string): void {
    this.#unreadable = true;
    this.#usage = null;
    this.#body = [];
    this.#log(`could not read the usage of a response on a ${this.#family.id} path: ${why}`);
  }

  #checkPending(bytes: number): void {
    if (bytes > this.#maxBodyBytes) this.#fail(`one streamed event is larger than ${this.#maxBodyBytes} bytes`);
  }

  /** Strip mode gave up: the bytes still held by the splitter, to send on as they came. */
  #giveUp(): Buffer {
    const rest = this.#sse!.end().map((event) => event.raw);
    this.#fail(`one streamed event is larger than ${this.#maxBodyBytes} bytes`);
    return Buffer.concat(rest);
  }

  /** Reads one event in strip mode; returns the bytes to send now. */
  #stripEvent(data: string | null, raw: Buffer): Buffer {
    const chunk = this.#read(data);
    const json = isObject(chunk) ? jsonSpan(raw) : null;
    if (!isObject(chunk) || !json) return Buffer.concat([this.#release(), raw]);
    const hasUsage = 'usage' in chunk;
    if (hasUsage && Array.isArray(chunk.choices) && chunk.choices.length === 0) {
      // The usage-only chunk: the server honours include_usage, so a usage on the finish chunk came of it too.
      const held = this.#held;
      this.#held = null;
      if (!held) return Buffer.alloc(0);
      const finish = held.usage ? (withoutMember(held.raw, held.json, 'usage') ?? held.raw) : held.raw;
      return (chunk.timings !== undefined && withTimingsOf(finish, raw, json)) || finish;
    }
    const released = this.#release();
    const finished = Array.isArray(chunk.choices) && chunk.choices.some((choice) => isObject(choice) && choice.finish_reason != null);
    if (finished) {
      this.#held = { raw, json: json.start, usage: hasUsage, placeholder: hasUsage && isPlaceholder(chunk.usage) };
      return released;
    }
    const out = hasUsage ? (withoutMember(raw, json.start, 'usage') ?? raw) : raw;
    return released.length > 0 ? Buffer.concat([released, out]) : out;
  }

  /**
   * Sends the held finish chunk on when no usage-only chunk follows it: the server ignores
   * include_usage (llama.cpp before 2025 put real usage on the finish chunk whether asked or not), so
   * only a placeholder usage (null, zeros) came of asking.
   */
  #release(): Buffer {
    const held = this.#held;
    this.#held = null;
    if (!held) return Buffer.alloc(0);
    return held.placeholder ? (withoutMember(held.raw, held.json, 'usage') ?? held.raw) : held.raw;
  }

  #keep(chunk: Buffer): void {
    this.#bodyBytes += chunk.length;
    if (this.#bodyBytes > this.#maxBodyBytes) return this.#fail(`it is larger than ${this.#maxBodyBytes} bytes`);
    this.#body.push(chunk);
  }
}

/** A usage the server puts on chunks only because it was asked: null, empty, or all zeros (Ollama). */
function isPlaceholder(usage: unknown): boolean {
  if (!isObject(usage)) return true;
  return Object.values(usage).every((value) => value === 0 || value === null || (isObject(value) && isPlaceholder(value)));
}

/** Where the JSON object of an event with one `data:` line lies in its bytes; null for any other event. */
function jsonSpan(raw: Buffer): { start: number } | null {
  let data: number | null = null;
  for (let line = 0; line < raw.length; ) {
    let end = line;
    while (end < raw.length && raw[end] !== 0x0a && raw[end] !== 0x0d) end++;
    if (raw.subarray(line, line + 5).toString('latin1') === 'data:') {
      if (data !== null) return null;
      data = skipSpace(raw, line + 5);
    }
    line = end + (raw[end] === 0x0d && raw[end + 1] === 0x0a ? 2 : 1);
  }
  return data !== null && raw[data] === 0x7b ? { start: data } : null;
}

/**
 * The held finish chunk with the `timings` member of the usage-only chunk appended, as llama.cpp would
 * have sent it without `include_usage`; null when either cannot be cut.
 */
function withTimingsOf(held: Buffer, usageRaw: Buffer, usageJson: { start: number }): Buffer | null {
  const timings = objectMembers(usageRaw, usageJson.start)?.find((member) => member.key === 'timings');
  const heldJson = jsonSpan(held);
  const heldMembers = heldJson ? objectMembers(held, heldJson.start) : null;
  if (!timings || !heldJson || !heldMembers) return null;
  const close = held.indexOf(0x7d, heldMembers.length > 0 ? heldMembers.at(-1)!.valueEnd : heldJson.start);
  const value = usageRaw.subarray(timings.valueStart, timings.valueEnd).toString('utf8');
  return splice(held, close, close, `${heldMembers.length > 0 ? ',' : ''}"timings":${value}`);
}
