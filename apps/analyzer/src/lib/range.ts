import { type Bucket, zoneOffset } from '@llm-monitor/core';

/**
 * The range and zone of the view, and how they are written in the page's URL
 * (`?from=…&to=…&tz=…&bucket=…`), so that a view can be shared as a link.
 */

export type Preset = '24h' | '7d' | '30d' | 'all';
export const PRESETS: readonly { id: Preset; label: string; seconds: number | null }[] = [
  { id: '24h', label: '24 h', seconds: 86_400 },
  { id: '7d', label: '7 d', seconds: 7 * 86_400 },
  { id: '30d', label: '30 d', seconds: 30 * 86_400 },
  { id: 'all', label: 'All', seconds: null },
];

/** `[from, to)` in epoch seconds; null for an open end ("all" leaves both open). */
export interface Range {
  from: number | null;
  to: number | null;
}

/** The first and last activity in the file (requests and runs), epoch seconds. */
export interface DataSpan {
  first: number;
  last: number;
}

/**
 * Presets end at the data's last activity, not at the clock: an exported file is usually days or months
 * old, and "the last 24 h" of a copy taken last week should show last week's work. The end is the
 * whole second after the last activity, so the last request lies inside the half-open window.
 */
export function presetRange(preset: Preset, span: DataSpan | null, now = Date.now() / 1000): Range {
  const seconds = PRESETS.find((p) => p.id === preset)?.seconds ?? null;
  if (seconds === null) return { from: null, to: null };
  const to = Math.floor(span ? span.last : now) + 1;
  return { from: to - seconds, to };
}

/** The preset a range equals, if any. */
export function matchPreset(range: Range, span: DataSpan | null): Preset | null {
  for (const p of PRESETS) {
    const r = presetRange(p.id, span);
    if (r.from === range.from && r.to === range.to) return p.id;
  }
  return null;
}

/** The range actually covered: open ends become the data's span (as `series` does it). */
export function resolveRange(range: Range, span: DataSpan | null): { from: number; to: number } | null {
  const from = range.from ?? span?.first ?? null;
  const to = range.to ?? (span ? span.last + 1 : null);
  return from !== null && to !== null && from < to ? { from, to } : null;
}

const BUCKET_LIMITS: readonly [Bucket, number][] = [
  ['hour', 3 * 86_400],
  ['day', 92 * 86_400],
  ['week', 2 * 366 * 86_400],
];

/** hour up to 3 days, day up to ~3 months, week up to 2 years, then month. */
export function autoBucket(from: number, to: number): Bucket {
  const span = to - from;
  for (const [bucket, limit] of BUCKET_LIMITS) if (span <= limit) return bucket;
  return 'month';
}

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?$/;

/**
 * Epoch seconds from a link's `from`/`to`: a number is epoch seconds (one above 1e11 is taken as
 * milliseconds), an ISO date-time with `Z` or an offset is that instant, and a date or date-time
 * without a zone (`2024-03-01`, `2024-03-01T08:00`) is wall-clock time in `timeZone`. Null when unreadable.
 */
export function parseTime(text: string | null, timeZone: string): number | null {
  if (text === null) return null;
  const value = text.trim();
  if (value === '') return null;
  if (/^-?\d+(\.\d+)?$/.test(value)) {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) return null;
    return n > 1e11 ? n / 1000 : n;
  }
  const local = LOCAL.exec(value);
  if (local) {
    const [, y, mo, d, h = '0', mi = '0', s = '0', frac = ''] = local;
    const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) / 1000 + (frac ? Number(`0.${frac}`) : 0);
    return Number.isFinite(wall) ? wallToEpoch(wall, timeZone) : null;
  }
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms / 1000 : null;
}

/** The instant at which the wall clock in `timeZone` shows `wall` (wall-clock time written as if UTC). */
export function wallToEpoch(wall: number, timeZone: string): number {
  let t = wall - zoneOffset(timeZone, wall);
  // a second pass settles instants near an offset change
  t = wall - zoneOffset(timeZone, t);
  return t;
}

/** `YYYY-MM-DDTHH:MM` for an `<input type="datetime-local">`, in `timeZone`. */
export function toLocalInput(epoch: number, timeZone: string): string {
  const wall = new Date((Math.floor(epoch) + zoneOffset(timeZone, epoch)) * 1000);
  return wall.toISOString().slice(0, 16);
}

export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

export function browserTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';
}

export interface ViewParams extends Range {
  /** Null: the browser's zone. */
  tz: string | null;
  /** Null: chosen from the range. */
  bucket: Bucket | null;
  /** A same-origin file to open. */
  url: string | null;
}

const BUCKET_NAMES: readonly string[] = ['hour', 'day', 'week', 'month'];

export function readParams(search: string, fallbackZone = browserTimeZone()): ViewParams {
  const q = new URLSearchParams(search);
  const tzParam = q.get('tz');
  const tz = tzParam && isTimeZone(tzParam) ? tzParam : null;
  const zone = tz ?? fallbackZone;
  const bucket = q.get('bucket');
  return {
    from: parseTime(q.get('from'), zone),
    to: parseTime(q.get('to'), zone),
    tz,
    bucket: bucket && BUCKET_NAMES.includes(bucket) ? (bucket as Bucket) : null,
    url: q.get('url') || null,
  };
}

/** The query string for a view; keeps parameters it does not own (and `url`). */
export function writeParams(search: string, view: Omit<ViewParams, 'url'>): string {
  const q = new URLSearchParams(search);
  const set = (key: string, value: string | null) => (value === null ? q.delete(key) : q.set(key, value));
  set('from', view.from === null ? null : String(view.from));
  set('to', view.to === null ? null : String(view.to));
  set('tz', view.tz);
  set('bucket', view.bucket);
  const text = q.toString();
  return text ? `?${text}` : '';
}
