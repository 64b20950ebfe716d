/** One server-sent event: its exact bytes (terminating blank line included) and its parsed fields. */
export interface SseEvent {
  raw: Buffer;
  /** The `event:` field, or null when absent. */
  event: string | null;
  /** The `data:` lines joined with `\n`, or null when the event has no data field. */
  data: string | null;
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Cuts a byte stream into server-sent events (WHATWG rules: lines end in CRLF, LF or CR; an empty line
 * ends an event). Works on bytes so that each event's `raw` is exactly what the server sent, whatever
 * chunk boundaries and UTF-8 sequences the network split.
 */
export class SseSplitter {
  /** Bytes of the unfinished event (it starts at index 0). */
  #pending: Buffer = Buffer.alloc(0);
  /** Where the unfinished line starts in `#pending`, and how far it has been scanned. */
  #lineStart = 0;
  #scanned = 0;

  /** Bytes of the event not complete yet. */
  get pendingBytes(): number {
    return this.#pending.length;
  }

  /** Feeds bytes; returns the events they completed. */
  push(chunk: Buffer): SseEvent[] {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const events: SseEvent[] = [];
    const bytes = this.#pending;
    let eventStart = 0;
    let lineStart = this.#lineStart;
    let i = this.#scanned;
    while (i < bytes.length) {
      const byte = bytes[i];
      if (byte !== LF && byte !== CR) {
        i++;
        continue;
      }
      // A CR at the very end may be the first half of CRLF: wait for the next byte.
      if (byte === CR && i + 1 === bytes.length) break;
      const lineEnd = byte === CR && bytes[i + 1] === LF ? i + 2 : i + 1;
      if (i === lineStart) {
        events.push(parseEvent(bytes.subarray(eventStart, lineEnd)));
        eventStart = lineEnd;
      }
      lineStart = lineEnd;
      i = lineEnd;
    }
    this.#pending = bytes.subarray(eventStart);
    this.#lineStart = lineStart - eventStart;
    this.#scanned = i - eventStart;
    return events;
  }

  /** Ends the stream: an unterminated last event is returned as it is (servers sometimes omit the blank line). */
  end(): SseEvent[] {
    const rest = this.#pending;
    this.#pending = Buffer.alloc(0);
    this.#lineStart = 0;
    this.#scanned = 0;
    return rest.length > 0 ? [parseEvent(rest)] : [];
  }
}

function parseEvent(raw: Buffer): SseEvent {
  let event: string | null = null;
  let data: string | null = null;
  for (const line of raw.toString('utf8').split(/\r\n|\r|\n/)) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data = data === null ? value : `${data}\n${value}`;
    else if (field === 'event') event = value;
  }
  return { raw, event, data };
}

/**
 * Cuts a byte stream into newline-delimited JSON lines (Ollama's `application/x-ndjson`): each line
 * without its line break (LF, or CRLF). Blank lines are skipped.
 */
export class NdjsonSplitter {
  #pending: Buffer = Buffer.alloc(0);

  /** Bytes of the line not complete yet. */
  get pendingBytes(): number {
    return this.#pending.length;
  }

  /** Feeds bytes; returns the lines they completed. */
  push(chunk: Buffer): string[] {
    const bytes = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const lines: string[] = [];
    let start = 0;
    for (let i = bytes.indexOf(LF); i !== -1; i = bytes.indexOf(LF, start)) {
      const line = bytes.subarray(start, i > start && bytes[i - 1] === CR ? i - 1 : i);
      if (line.length > 0) lines.push(line.toString('utf8'));
      start = i + 1;
    }
    this.#pending = bytes.subarray(start);
    return lines;
  }

  /** Ends the stream: an unterminated last line is returned. */
  end(): string[] {
    const rest = this.#pending.toString('utf8').trim();
    this.#pending = Buffer.alloc(0);
    return rest === '' ? [] : [rest];
  }
}
