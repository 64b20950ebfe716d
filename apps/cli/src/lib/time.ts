import { checkTimeZone, isMonitorError, localTimeZone, looksLikeMilliseconds, parseTime } from '@llm-monitor/core';
import { InvalidArgumentError, Option } from 'commander';
import { UserError } from '../user-error.js';

/**
 * Times on the command line, read by core's `parseTime`: epoch seconds or ISO 8601. An ISO time without
 * an offset is wall-clock time in the command's zone (`--tz`, default the machine's), so `--from
 * 2024-05-01` is local midnight. The syntax is checked when the option is read (a usage error, exit 2);
 * the zone and the millisecond rule apply once every option is known (exit 1, naming the flag).
 */
export type TimeArg = string;

const EPOCH = /^\d+(\.\d+)?$/;

/** commander argParser for `--from`/`--to`/`--now`. */
export function parseTimeArg(value: string): TimeArg {
  const text = value.trim();
  if (EPOCH.test(text)) return text;
  try {
    parseTime(text, 'UTC');
  } catch (error) {
    if (isMonitorError(error)) throw new InvalidArgumentError('expected epoch seconds (1717200000) or an ISO date or time (2024-06-01, 2024-06-01T09:30, 2024-06-01T09:30:00Z).');
    throw error;
  }
  return text;
}

/** Epoch seconds of a `--from`/`--to`/`--now` value in the command's zone; milliseconds are refused naming the flag. */
export function resolveTime(flag: string, arg: TimeArg, timeZone: string): number {
  if (EPOCH.test(arg) && looksLikeMilliseconds(Number(arg)))
    throw new UserError(`${flag} ${arg} looks like milliseconds: give epoch seconds (${Math.floor(Number(arg) / 1000)})`);
  return parseTime(arg, timeZone);
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
    return checkTimeZone(value);
  } catch {
    throw new InvalidArgumentError('expected an IANA time zone such as UTC, Europe/Berlin or America/New_York.');
  }
}

export function tzOption(what = 'the time zone of ISO times without an offset and of the times shown'): Option {
  return new Option('--tz <zone>', `${what} (default: this machine's, ${localTimeZone()})`).argParser(parseTimeZone);
}

export const fromOption = () =>
  new Option('--from <time>', 'start of the window, inclusive: ISO date/time (local to --tz unless it has an offset) or epoch seconds').argParser(parseTimeArg);
export const toOption = () => new Option('--to <time>', 'end of the window, exclusive (same forms as --from)').argParser(parseTimeArg);

/** What `--from`, `--to` and `--last` ask for, in epoch seconds: `--last` ends at `--to` (default now). */
export interface WindowOptions {
  from?: TimeArg;
  to?: TimeArg;
  last?: number;
}

/** The window of `--from`/`--to`/`--last` (resolved in `timeZone`); `--to` before `--from` is an error naming both. */
export function resolveWindow(options: WindowOptions, timeZone: string, describe: (t: number) => string): { from?: number; to?: number } {
  const from = options.from === undefined ? undefined : resolveTime('--from', options.from, timeZone);
  let to = options.to === undefined ? undefined : resolveTime('--to', options.to, timeZone);
  const window: { from?: number; to?: number } = {};
  if (options.last !== undefined) {
    to ??= Date.now() / 1000;
    window.from = Math.max(0, to - options.last);
  } else if (from !== undefined) window.from = from;
  if (to !== undefined) window.to = to;
  if (window.from !== undefined && window.to !== undefined && window.to < window.from)
    throw new UserError(`--to (${describe(window.to)}) is before --from (${describe(window.from)})`);
  return window;
}
