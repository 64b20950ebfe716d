import { type Bucket, BUCKETS, checkCurrency, checkTimeZone, epochToWall, isMonitorError, localTimeZone, parseTime } from '@llm-monitor/core';

/**
 * The range, zone, bucket, currency and what-if scenario of the view, and how they are written in the
 * page's URL (`?from=…&to=…&tz=…&bucket=…&currency=…&pricing=…`), so that a view can be shared as a link.
 */

export type Preset = '24h' | '7d' | '30d' | 'all';
export const PRESETS: readonly { id: Preset; label: string; seconds: number | null }[] = [
  { id: '24h', label: '24 h', seconds: 86_400 },
  { id: '7d', label: '7 d', seconds: 7 * 86_400 },
  { id: '30d', label: '30 d', seconds: 30 * 86_400 },
  { id: 'all', label: 'All', seconds: null },
];

/**
 * Ranges lie on the 15-minute grid: every zone's hours and days start on it, and the analysis is
 * aggregated per 15-minute slot, so any range on it is answered without reading the file again.
 */
export const GRID_SECONDS = 900;
export const snapDown = (t: number) => Math.floor(t / GRID_SECONDS) * GRID_SECONDS;
export const snapUp = (t: number) => Math.ceil(t / GRID_SECONDS) * GRID_SECONDS;

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
 * old, and "the last 24 h" of a copy taken last week should show last week's work. The end is the first
 * grid boundary after the last activity, so the last request lies inside the half-open window.
 */
export function presetRange(preset: Preset, span: DataSpan | null, now = Date.now() / 1000): Range {
  const seconds = PRESETS.find((p) => p.id === preset)?.seconds ?? null;
  if (seconds === null) return { from: null, to: null };
  const last = span ? span.last : now;
  const to = snapDown(last) + GRID_SECONDS;
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

/** A range on the grid: `from` rounded down, `to` up, so that it still holds what was asked for. */
export function snapRange(range: Range): Range {
  return { from: range.from === null ? null : snapDown(range.from), to: range.to === null ? null : snapUp(range.to) };
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

/** `YYYY-MM-DDTHH:MM` for an `<input type="datetime-local">`, in `timeZone`. */
export function toLocalInput(epoch: number, timeZone: string): string {
  return new Date(Math.floor(epochToWall(epoch, timeZone)) * 1000).toISOString().slice(0, 16);
}

export interface ViewParams extends Range {
  /** Null: the browser's zone. */
  tz: string | null;
  /** Null: chosen from the range. */
  bucket: Bucket | null;
  /** An ISO 4217 code; null: no currency named (the file's own, unknown). */
  currency: string | null;
  /** The what-if scenario as parsed JSON (checked against the file once it is open); null: none. */
  pricing: unknown;
  /** A same-origin file to open. */
  url: string | null;
}

/** Reads a link; what it cannot use is left out and described in `problems`, in words. */
export function readParams(search: string, fallbackZone = localTimeZone()): ViewParams & { problems: string[] } {
  const q = new URLSearchParams(search);
  const problems: string[] = [];
  const read = <T>(key: string, parse: (text: string) => T): T | null => {
    const text = q.get(key);
    if (text === null || text === '') return null;
    try {
      return parse(text);
    } catch (error) {
      problems.push(`The link's ${key}=${text} was ignored: ${isMonitorError(error) || error instanceof Error ? error.message : String(error)}`);
      return null;
    }
  };
  const tz = read('tz', checkTimeZone);
  const zone = tz ?? fallbackZone;
  const range = snapRange({ from: read('from', (t) => parseTime(t, zone)), to: read('to', (t) => parseTime(t, zone)) });
  if (range.from !== null && range.to !== null && range.to <= range.from) {
    problems.push('The link\'s "to" is not after its "from", so its range was ignored.');
    range.from = range.to = null;
  }
  return {
    ...range,
    tz,
    bucket: read('bucket', (b) => {
      if (!(BUCKETS as readonly string[]).includes(b)) throw new Error(`expected one of ${BUCKETS.join(', ')}`);
      return b as Bucket;
    }),
    currency: read('currency', checkCurrency),
    pricing: read('pricing', (p) => {
      try {
        return JSON.parse(p) as unknown;
      } catch (error) {
        throw new Error(`it is not JSON (${(error as Error).message})`);
      }
    }),
    url: q.get('url') || null,
    problems,
  };
}

/**
 * The query string for a view; keeps parameters it does not own (such as `url`). Values are
 * URI-encoded (`encodeURIComponent`): `pricing` is the scenario's `PricingOverrides` JSON.
 */
export function writeParams(search: string, view: Omit<ViewParams, 'url'>): string {
  const q = new URLSearchParams(search);
  const set = (key: string, value: string | null) => (value === null ? q.delete(key) : q.set(key, value));
  set('from', view.from === null ? null : String(view.from));
  set('to', view.to === null ? null : String(view.to));
  set('tz', view.tz);
  set('bucket', view.bucket);
  set('currency', view.currency);
  set('pricing', view.pricing === null || view.pricing === undefined ? null : JSON.stringify(view.pricing));
  const text = [...q].map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  return text ? `?${text}` : '';
}
