import { type Bucket, zoneOffset } from '@llm-monitor/core';
import { InvalidArgumentError, Option } from 'commander';
import { UserError } from '../user-error.js';

/**
 * Times on the command line: epoch seconds or ISO 8601. An ISO time without an offset is wall-clock
 * time in the command's zone (`--tz`, default the machine's), so `--from 2024-05-01` is local midnight.
 */
export type TimeArg = { kind: 'epoch'; seconds: number } | { kind: 'absolute'; seconds: number } | { kind: 'wall'; wall: number; text: string };

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** commander argParser for `--from`/`--to`: checks the syntax (exit 2 when wrong); the zone applies later. */
export function parseTimeArg(value: string): TimeArg {
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return { kind: 'epoch', seconds: Number(text) };
  const match = ISO.exec(text);
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
      if (offset) {
        const sign = offset.toUpperCase() === 'Z' ? 0 : offset.startsWith('-') ? -1 : 1;
        const digits = offset.replace(/[^0-9]/g, '');
        const minutes = sign === 0 ? 0 : sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2)));
        return { kind: 'absolute', seconds: wall - minutes * 60 };
      }
      return { kind: 'wall', wall, text };
    }
  }
  throw new InvalidArgumentError('expected epoch seconds (1717200000) or an ISO date or time (2024-06-01, 2024-06-01T09:30, 2024-06-01T09:30:00Z).');
}

/** Epoch seconds of a wall-clock time in `timeZone`. */
export function wallToEpoch(wall: number, timeZone: string): number {
  let t = wall - zoneOffset(timeZone, wall);
  t = wall - zoneOffset(timeZone, t);
  return t;
}

export function resolveTime(arg: TimeArg, timeZone: string): number {
  return arg.kind === 'wall' ? wallToEpoch(arg.wall, timeZone) : arg.seconds;
}

/** Refuses epoch values that are surely milliseconds (core's limit, year 5138). */
export function checkNotMilliseconds(flag: string, value: number | undefined): void {
  if (value !== undefined && value > 1e11) throw new UserError(`${flag} ${value} looks like milliseconds: give epoch seconds (${Math.floor(value / 1000)})`);
}

/** `--last 24h|7d|30d|90m|2w`: seconds. */
export function parseDuration(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(m|min|h|d|w)$/i.exec(value.trim());
  const amount = match ? Number(match[1]) : Number.NaN;
  if (!match || !(amount > 0)) throw new InvalidArgumentError('expected a duration such as 90m, 24h, 7d or 2w.');
  const unit = match[2]!.toLowerCase();
  return amount * (unit === 'w' ? 604_800 : unit === 'd' ? 86_400 : unit === 'h' ? 3600 : 60);
}

export function parseTimeZone(value: string): string {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: value }).resolvedOptions().timeZone;
  } catch {
    throw new InvalidArgumentError('expected an IANA time zone such as UTC, Europe/Berlin or America/New_York.');
  }
}

export const localTimeZone = (): string => new Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';

export function tzOption(what = 'the time zone of ISO times without an offset and of the times shown'): Option {
  return new Option('--tz <zone>', `${what} (default: this machine's, ${localTimeZone()})`).argParser(parseTimeZone);
}

export const fromOption = () =>
  new Option('--from <time>', 'start of the window, inclusive: ISO date/time (local to --tz unless it has an offset) or epoch seconds').argParser(parseTimeArg);
export const toOption = () => new Option('--to <time>', 'end of the window, exclusive (same forms as --from)').argParser(parseTimeArg);

const formatters = new Map<string, Intl.DateTimeFormat>();

function parts(t: number, timeZone: string): Record<string, string> {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
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

/** `2024-06-01 09:30` in the zone (`seconds` adds `:05`). */
export function formatTime(t: number, timeZone: string, precision: 'minute' | 'second' | 'day' = 'minute'): string {
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
