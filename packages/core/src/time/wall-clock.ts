import { MonitorError, describeValue } from '../errors.js';
import { MAX_EPOCH_SECONDS, looksLikeMilliseconds } from '../monitor/validate.js';
import { type Bucket, checkTimeZone, zoneOffset } from './time-zone.js';

/**
 * Times as people write and read them: wall-clock time in a zone ↔ epoch seconds, the one parser of
 * times typed on a command line or in a link, and the one way times and buckets are printed.
 */

/** The instant at which the wall clock in `timeZone` shows `wall` (a wall-clock time written as if it were UTC epoch seconds). */
export function wallToEpoch(wall: number, timeZone: string): number {
  let t = wall - zoneOffset(timeZone, wall);
  // a second pass settles instants near an offset change
  t = wall - zoneOffset(timeZone, t);
  return t;
}

/** What the wall clock in `timeZone` shows at `t`, written as if it were UTC epoch seconds. */
export function epochToWall(t: number, timeZone: string): number {
  return t + zoneOffset(timeZone, t);
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

const EXPECTED = 'expected epoch seconds (1717200000) or an ISO date or time (2024-06-01, 2024-06-01T09:30, 2024-06-01T09:30:00Z, 2024-06-01T09:30+02:00)';

/**
 * Epoch seconds from a time as a person types it: epoch seconds (`1717200000`, `1717200000.5`), an ISO
 * date or date-time with `Z` or an offset (that instant), or one without (wall-clock time in
 * `timeZone`: `2024-06-01` is local midnight there). A number above 1e11 is refused as milliseconds,
 * naming the seconds meant. Anything else is `INVALID_INPUT` naming the text.
 *
 * @example
 * parseTime('2024-06-01T09:30', 'Europe/Berlin'); // 1717227000
 */
export function parseTime(text: string, timeZone: string): number {
  checkTimeZone(timeZone);
  const value = typeof text === 'string' ? text.trim() : '';
  if (/^\d+(\.\d+)?$/.test(value)) {
    const seconds = Number(value);
    if (looksLikeMilliseconds(seconds))
      throw new MonitorError('INVALID_INPUT', `Invalid time ${describeValue(text)}: it looks like milliseconds; give epoch seconds (${Math.floor(seconds / 1000)}).`, {
        value: text,
      });
    return seconds;
  }
  const match = ISO.exec(value);
  if (match) {
    const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', offset] = match;
    const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) / 1000 + (frac ? Number(frac) : 0);
    const check = new Date(Math.floor(wall) * 1000);
    const valid =
      check.getUTCFullYear() === Number(y) &&
      check.getUTCMonth() === Number(mo) - 1 &&
      check.getUTCDate() === Number(d) &&
      Number(h) < 24 &&
      Number(mi) < 60 &&
      Number(s) < 60;
    if (valid) {
      let seconds: number;
      if (offset === undefined) seconds = wallToEpoch(wall, timeZone);
      else {
        const sign = offset.toUpperCase() === 'Z' ? 0 : offset.startsWith('-') ? -1 : 1;
        const digits = offset.replace(/[^0-9]/g, '');
        seconds = wall - (sign === 0 ? 0 : sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2)))) * 60;
      }
      if (seconds >= 0 && seconds <= MAX_EPOCH_SECONDS) return seconds;
    }
  }
  throw new MonitorError('INVALID_INPUT', `Invalid time ${describeValue(text)} (${EXPECTED}).`, { value: text });
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function parts(t: number, timeZone: string): Record<string, string> {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: checkTimeZone(timeZone),
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  const out: Record<string, string> = {};
  for (const part of f.formatToParts(new Date(t * 1000))) if (part.type !== 'literal') out[part.type] = part.value;
  return out;
}

/** `2024-06-01` (day), `2024-06-01 09:30` (minute, the default) or `2024-06-01 09:30:05` (second), in the zone. */
export function formatDateTime(t: number, timeZone: string, precision: 'day' | 'minute' | 'second' = 'minute'): string {
  const p = parts(t, timeZone);
  const date = `${p.year}-${p.month}-${p.day}`;
  if (precision === 'day') return date;
  return `${date} ${p.hour}:${p.minute}${precision === 'second' ? `:${p.second}` : ''}`;
}

/** How a series bucket is labelled: `2024-06-01 13:00`, `2024-06-01 Sat`, `week of 2024-05-27`, `2024-06`. */
export function bucketLabel(start: number, bucket: Bucket, timeZone: string): string {
  const p = parts(start, timeZone);
  switch (bucket) {
    case 'hour':
      return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
    case 'day':
      return `${p.year}-${p.month}-${p.day} ${p.weekday}`;
    case 'week':
      return `week of ${p.year}-${p.month}-${p.day}`;
    case 'month':
      return `${p.year}-${p.month}`;
  }
}
