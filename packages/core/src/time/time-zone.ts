import { MonitorError, describeValue } from '../errors.js';

/**
 * Calendar buckets in an IANA time zone, DST-correct, with nothing but `Intl`.
 *
 * Every time-zone offset in use since 1972 is a multiple of 15 minutes, so every bucket boundary (a
 * local hour, midnight, Monday or first of the month) falls on the 15-minute grid of epoch seconds.
 * The boundaries are found by walking that grid and noting where the bucket's calendar key changes:
 * a 23- or 25-hour day, a repeated hour and a +05:45 zone all come out right without special cases.
 * Offsets are looked up once per day and bisected to the grid where they change, so the walk is cheap.
 */

export type Bucket = 'hour' | 'day' | 'week' | 'month';
export const BUCKETS: readonly Bucket[] = ['hour', 'day', 'week', 'month'];

/** The grid every bucket boundary lies on, and the granularity of the SQL aggregation. */
export const SLOT_SECONDS = 900;
const DAY = 86_400;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch (error) {
      throw new MonitorError('INVALID_INPUT', `Invalid timeZone: got ${describeValue(timeZone)} (expected an IANA name such as "Europe/Berlin").`, {
        value: timeZone,
        cause: error,
      });
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** The runtime's own zone (the machine's, or the browser's), the default for series. */
export function localTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';
}

/** Validates an IANA zone name (throws `INVALID_INPUT` naming it) and returns it. */
export function checkTimeZone(timeZone: unknown): string {
  if (typeof timeZone !== 'string' || timeZone.length === 0)
    throw new MonitorError('INVALID_INPUT', `Invalid timeZone: got ${describeValue(timeZone)} (expected an IANA name such as "Europe/Berlin").`, {
      value: timeZone,
    });
  formatter(timeZone);
  return timeZone;
}

/** Seconds to add to UTC to get local wall-clock time in `timeZone` at instant `t` (epoch seconds). */
export function zoneOffset(timeZone: string, t: number): number {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(Math.floor(t) * 1000)))
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  const local = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!) / 1000;
  return local - Math.floor(t);
}

/**
 * The offset in force on each stretch of [from, to): [start, offset] pairs, start ascending; each start
 * after the first is on the 15-minute grid when `from` is.
 */
export function offsetSegments(timeZone: string, from: number, to: number): [number, number][] {
  const segments: [number, number][] = [[from, zoneOffset(timeZone, from)]];
  for (let t = from; t < to; ) {
    const next = Math.min(t + DAY, to);
    const before = segments[segments.length - 1]![1];
    const after = zoneOffset(timeZone, next);
    if (after !== before) {
      // bisect on the grid for the first instant with the new offset
      let lo = t;
      let hi = next;
      while (hi - lo > SLOT_SECONDS) {
        const mid = lo + Math.floor((hi - lo) / 2 / SLOT_SECONDS) * SLOT_SECONDS || lo + SLOT_SECONDS;
        if (zoneOffset(timeZone, mid) === before) lo = mid;
        else hi = mid;
      }
      segments.push([hi, zoneOffset(timeZone, hi)]);
    }
    t = next;
  }
  return segments;
}

function bucketKey(utcSeconds: number, offset: number, bucket: Bucket): number {
  const d = new Date((utcSeconds + offset) * 1000);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  if (bucket === 'month') return y * 12 + m;
  const day = Math.floor(Date.UTC(y, m, d.getUTCDate()) / 86_400_000);
  if (bucket === 'day') return day;
  // 1970-01-01 was a Thursday: shift so that weeks start on Monday
  if (bucket === 'week') return Math.floor((day + 3) / 7);
  // the offset is part of an hour's key: the hour repeated when clocks fall back is a bucket of its own
  return (day * 24 + d.getUTCHours()) * 1000 + offset / SLOT_SECONDS;
}

/**
 * The calendar boundaries of `bucket` in `timeZone` covering [from, to): a list b0 <= from < b1 < …
 * < bn with bn >= to, all on the 15-minute grid. Consecutive pairs are the buckets.
 */
export function bucketBoundaries(from: number, to: number, bucket: Bucket, timeZone: string): number[] {
  const lookBack = bucket === 'month' ? 32 * DAY : bucket === 'week' ? 8 * DAY : bucket === 'day' ? 2 * DAY : 2 * 3600;
  const lookAhead = lookBack;
  const gridFrom = Math.floor((from - lookBack) / SLOT_SECONDS) * SLOT_SECONDS;
  const gridTo = Math.ceil((to + lookAhead) / SLOT_SECONDS) * SLOT_SECONDS;
  const segments = offsetSegments(timeZone, gridFrom, gridTo);
  const boundaries: number[] = [];
  let segment = 0;
  let previousKey: number | undefined;
  for (let t = gridFrom; t <= gridTo; t += SLOT_SECONDS) {
    while (segment + 1 < segments.length && segments[segment + 1]![0] <= t) segment++;
    const key = bucketKey(t, segments[segment]![1], bucket);
    if (previousKey !== undefined && key !== previousKey) {
      if (t <= from) boundaries.length = 0;
      boundaries.push(t);
      if (t >= to) break;
    }
    previousKey = key;
  }
  return boundaries;
}
