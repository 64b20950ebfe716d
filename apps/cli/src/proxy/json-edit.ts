/**
 * Edits JSON text as bytes: finds the members of an object and cuts, replaces or inserts members,
 * leaving every other byte as it was. The proxy never re-serialises a body it forwards (a re-encoded
 * `12345678901234567890` becomes `12345678901234567000`, and key order, spacing and escapes change).
 *
 * It scans bytes, not characters: the structural characters of JSON are ASCII, and no byte of a UTF-8
 * multi-byte sequence is ASCII, so invalid UTF-8 inside strings passes through untouched.
 */

/** One member of a JSON object: its key and where it lies (byte offsets, end exclusive). */
export interface JsonMember {
  key: string;
  /** The opening quote of the key. */
  start: number;
  valueStart: number;
  valueEnd: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const isSpace = (byte: number | undefined) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

/** The first index at or after `i` that is not JSON whitespace. */
export function skipSpace(bytes: Uint8Array, i: number): number {
  while (isSpace(bytes[i])) i++;
  return i;
}

/** The index after the string whose opening quote is at `i`, or -1 when it does not end. */
function stringEnd(bytes: Uint8Array, i: number): number {
  for (let j = i + 1; j < bytes.length; j++) {
    if (bytes[j] === BACKSLASH) j++;
    else if (bytes[j] === QUOTE) return j + 1;
  }
  return -1;
}

/** The index after the JSON value starting at `i` (whitespace already skipped), or -1 when it is cut short. */
export function valueEnd(bytes: Uint8Array, i: number): number {
  const first = bytes[i];
  if (first === QUOTE) return stringEnd(bytes, i);
  if (first === 0x7b || first === 0x5b) {
    let depth = 0;
    for (let j = i; j < bytes.length; j++) {
      const byte = bytes[j];
      if (byte === QUOTE) {
        j = stringEnd(bytes, j) - 1;
        if (j < 0) return -1;
      } else if (byte === 0x7b || byte === 0x5b) depth++;
      else if (byte === 0x7d || byte === 0x5d) {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return -1;
  }
  // A number or a literal: up to the next delimiter.
  let j = i;
  while (j < bytes.length && !isSpace(bytes[j]) && bytes[j] !== 0x2c && bytes[j] !== 0x7d && bytes[j] !== 0x5d) j++;
  return j > i ? j : -1;
}

/** The members of the object whose `{` is at `start`, in order; null when the text there is not a whole object. */
export function objectMembers(bytes: Uint8Array, start: number): JsonMember[] | null {
  if (bytes[start] !== 0x7b) return null;
  const members: JsonMember[] = [];
  let i = skipSpace(bytes, start + 1);
  if (bytes[i] === 0x7d) return members;
  for (;;) {
    if (bytes[i] !== QUOTE) return null;
    const keyEnd = stringEnd(bytes, i);
    if (keyEnd < 0) return null;
    let key: string;
    try {
      key = JSON.parse(Buffer.from(bytes.subarray(i, keyEnd)).toString('utf8')) as string;
    } catch {
      return null;
    }
    let j = skipSpace(bytes, keyEnd);
    if (bytes[j] !== 0x3a) return null;
    j = skipSpace(bytes, j + 1);
    const end = valueEnd(bytes, j);
    if (end < 0) return null;
    members.push({ key, start: i, valueStart: j, valueEnd: end });
    const next = skipSpace(bytes, end);
    if (bytes[next] === 0x7d) return members;
    if (bytes[next] !== 0x2c) return null;
    i = skipSpace(bytes, next + 1);
  }
}

/** `bytes` with `[from, to)` replaced by `insert`. */
export function splice(bytes: Buffer, from: number, to: number, insert = ''): Buffer {
  return Buffer.concat([bytes.subarray(0, from), Buffer.from(insert, 'utf8'), bytes.subarray(to)]);
}

/**
 * The object at `start` without its members named `key` (and the commas that joined them), every other
 * byte kept; null when the object has no such member or is not whole.
 */
export function withoutMember(bytes: Buffer, start: number, key: string): Buffer | null {
  let out: Buffer | null = null;
  for (;;) {
    const members = objectMembers(out ?? bytes, start);
    const n = members ? members.findIndex((member) => member.key === key) : -1;
    if (!members || n === -1) return out;
    const [member, next, previous] = [members[n]!, members[n + 1], members[n - 1]];
    // The comma after it goes with it; for the last member, the comma before it.
    if (next) out = splice(out ?? bytes, member.start, next.start);
    else if (previous) out = splice(out ?? bytes, previous.valueEnd, member.valueEnd);
    else out = splice(out ?? bytes, member.start, member.valueEnd);
  }
}

/**
 * The body of a JSON request object with `stream_options.include_usage` set to true: inserted after the
 * opening brace when `stream_options` is absent, inserted into it when it has no `include_usage`, its
 * value replaced otherwise (and `stream_options` itself when it is not an object). Every other byte is
 * kept. Null when the body is not a whole JSON object.
 */
export function withIncludeUsage(body: Buffer): Buffer | null {
  const root = skipSpace(body, 0);
  const members = objectMembers(body, root);
  if (!members) return null;
  const options = members.filter((member) => member.key === 'stream_options').at(-1);
  if (!options) return splice(body, root + 1, root + 1, `"stream_options":{"include_usage":true}${members.length > 0 ? ',' : ''}`);
  const inner = objectMembers(body, options.valueStart);
  if (!inner) return splice(body, options.valueStart, options.valueEnd, '{"include_usage":true}');
  const flags = inner.filter((member) => member.key === 'include_usage');
  if (flags.length === 0) return splice(body, options.valueStart + 1, options.valueStart + 1, `"include_usage":true${inner.length > 0 ? ',' : ''}`);
  // A JSON reader takes the last of repeated keys.
  const flag = flags.at(-1)!;
  return splice(body, flag.valueStart, flag.valueEnd, 'true');
}
