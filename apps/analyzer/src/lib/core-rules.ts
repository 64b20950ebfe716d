import { type Bucket, MAX_EPOCH_SECONDS, MonitorError, type PricingOverride, type TierProblem, type TierWindow, tierProblems, zoneOffset } from '@llm-monitor/core';

/**
 * The rules the analyzer shares with the other apps — number, time and CSV formats and the validation of
 * what-if pricing — in the signatures @llm-monitor/core is adding (team/CORE-API.md §2). Every other file
 * of the analyzer imports them from here, so that switching to core's own is this one file becoming
 * `export { … } from '@llm-monitor/core'`. Until then these are stand-ins with core's signatures.
 */

export { MAX_EPOCH_SECONDS };

// ---- numbers -----------------------------------------------------------------------------------------

const numberFormats = new Map<string, Intl.NumberFormat>();

function numberFormat(decimals: number, currency?: string): Intl.NumberFormat {
  const key = `${decimals}|${currency ?? ''}`;
  let f = numberFormats.get(key);
  if (!f) {
    f = new Intl.NumberFormat('en-US', {
      minimumFractionDigits: decimals,
      maximumFractionDigits: decimals,
      ...(currency ? { style: 'currency', currency, currencyDisplay: 'code' } : {}),
    });
    numberFormats.set(key, f);
  }
  return f;
}

/** Decimals that show three significant digits of `value` (0 for whole numbers and from 100 up). */
function decimalsByMagnitude(value: number): number {
  const abs = Math.abs(value);
  if (Number.isInteger(value) || abs >= 100) return 0;
  return Math.min(8, Math.max(0, 2 - Math.floor(Math.log10(abs))));
}

/** Thousands separators; decimals by magnitude unless given. */
export function formatNumber(value: number, options: { decimals?: number } = {}): string {
  return numberFormat(options.decimals ?? decimalsByMagnitude(value)).format(value);
}

/** One decimals count for a column of costs: at least 2, and enough for 3 significant digits of its smallest non-zero value (at most 8). */
export function costDecimals(values: readonly number[]): number {
  let smallest = Number.POSITIVE_INFINITY;
  for (const v of values) if (v !== 0 && Number.isFinite(v)) smallest = Math.min(smallest, Math.abs(v));
  if (!Number.isFinite(smallest)) return 2;
  return Math.min(8, Math.max(2, 2 - Math.floor(Math.log10(smallest))));
}

/** A cost with thousands separators, in `currency` (an ISO 4217 code) when given. */
export function formatCost(value: number, options: { currency?: string; decimals?: number } = {}): string {
  return numberFormat(options.decimals ?? costDecimals([value]), options.currency).format(value);
}

/** An ISO 4217 currency code (three capital letters that Intl knows), INVALID_INPUT otherwise. */
export function checkCurrency(code: string): string {
  const valid = typeof code === 'string' && /^[A-Z]{3}$/.test(code) && (Intl.supportedValuesOf?.('currency') ?? [code]).includes(code);
  if (!valid) throw new MonitorError('INVALID_INPUT', `Invalid currency: got ${JSON.stringify(code)} (expected an ISO 4217 code such as "USD" or "CNY").`, { value: code });
  return code;
}

/** 3 d 4 h, 5 h 12 min, 42 s. */
export function formatDuration(seconds: number): string {
  if (seconds <= 0) return '0 s';
  const s = Math.round(seconds);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return h > 0 ? `${d} d ${h} h` : `${d} d`;
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  if (m > 0) return `${m} min`;
  return `${s} s`;
}

// ---- time --------------------------------------------------------------------------------------------

export function localTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';
}

/** An IANA zone name, INVALID_INPUT naming it otherwise. */
export function checkTimeZone(zone: unknown): string {
  try {
    if (typeof zone !== 'string' || zone === '') throw new Error('not a name');
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return zone;
  } catch {
    throw new MonitorError('INVALID_INPUT', `Invalid timeZone: got ${JSON.stringify(zone)} (expected an IANA name such as "Europe/Berlin").`, { value: zone });
  }
}

/** The instant at which the wall clock in `timeZone` shows `wall` (wall-clock time written as if UTC). */
export function wallToEpoch(wall: number, timeZone: string): number {
  const t = wall - zoneOffset(timeZone, wall);
  // a second pass settles instants near an offset change
  return wall - zoneOffset(timeZone, t);
}

/** The wall-clock time in `timeZone` at instant `t`, written as if it were UTC. */
export function epochToWall(t: number, timeZone: string): number {
  return t + zoneOffset(timeZone, t);
}

export function checkEpochSeconds(what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw new MonitorError('INVALID_INPUT', `Invalid ${what}: got ${JSON.stringify(value)} (expected epoch seconds, a number >= 0).`, { value });
  if (value > MAX_EPOCH_SECONDS)
    throw new MonitorError('INVALID_INPUT', `Invalid ${what}: got ${value} (expected epoch seconds; it looks like milliseconds, i.e. ${value / 1000}).`, { value });
  return value;
}

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?$/;

/** Epoch seconds from epoch seconds, an ISO instant with an offset, or an ISO wall time in `timeZone`. */
export function parseTime(text: string, timeZone: string): number {
  const value = text.trim();
  if (/^-?\d+(\.\d+)?$/.test(value)) return checkEpochSeconds('time', Number(value));
  const local = LOCAL.exec(value);
  if (local) {
    const [, y, mo, d, h = '0', mi = '0', s = '0', frac = ''] = local;
    const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) / 1000 + (frac ? Number(`0.${frac}`) : 0);
    if (Number.isFinite(wall)) return wallToEpoch(wall, timeZone);
  } else if (/^\d{4}-\d{2}-\d{2}T.+(Z|[+-]\d{2}:?\d{2})$/.test(value)) {
    const ms = Date.parse(value);
    if (Number.isFinite(ms)) return checkEpochSeconds('time', ms / 1000);
  }
  throw new MonitorError('INVALID_INPUT', `Invalid time: got ${JSON.stringify(text)} (expected epoch seconds, an ISO date-time such as 2024-03-09T08:00, or one with an offset).`, {
    value: text,
  });
}

const dateTimeFormats = new Map<string, Intl.DateTimeFormat>();

/** `2024-06-01`, `2024-06-01 09:30` or `2024-06-01 09:30:05` in the zone. */
export function formatDateTime(t: number, timeZone: string, precision: 'day' | 'minute' | 'second' = 'minute'): string {
  let f = dateTimeFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    dateTimeFormats.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(t * 1000)).map((x) => [x.type, x.value]));
  const day = `${p.year}-${p.month}-${p.day}`;
  if (precision === 'day') return day;
  return `${day} ${p.hour}:${p.minute}${precision === 'second' ? `:${p.second}` : ''}`;
}

/** A bucket as a person names it: `2024-06-01 09:00` (hour), `2024-06-01` (day), `week of 2024-05-27`, `2024-06` (month). */
export function bucketLabel(start: number, bucket: Bucket, timeZone: string): string {
  switch (bucket) {
    case 'hour':
      return formatDateTime(start, timeZone);
    case 'day':
      return formatDateTime(start, timeZone, 'day');
    case 'week':
      return `week of ${formatDateTime(start, timeZone, 'day')}`;
    case 'month':
      return formatDateTime(start, timeZone, 'day').slice(0, 7);
  }
}

// ---- CSV ---------------------------------------------------------------------------------------------

/**
 * RFC 4180: fields with a comma, quote or line break are quoted, quotes doubled. A text field starting
 * with `=`, `+`, `-` or `@` gets a leading `'` so a spreadsheet shows it as text instead of running it.
 */
export function csvField(value: string | number | boolean | null): string {
  if (value === null) return '';
  if (typeof value !== 'string') return String(value);
  const text = /^[=+\-@]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One CSV line, CRLF-terminated. */
export function csvLine(fields: readonly (string | number | boolean | null)[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

// ---- pricing validation ------------------------------------------------------------------------------

export interface PricingProblem {
  /** Where in the PricingOverride: e.g. `['tierPricing', 0, 'inputPricePerMillion']`. */
  path: (string | number)[];
  message: string;
}

const RANGE_TIER_FIELDS = ['tierIndex', 'startTokens', 'endTokens', 'inputPricePerMillion', 'outputPricePerMillion', 'supportCache', 'cacheHitPricePerMillion'];
const WINDOW_FIELDS = ['tierIndex', 'minInputTokens', 'maxInputTokens', 'minOutputTokens', 'maxOutputTokens', 'inputPrice', 'outputPrice', 'supportCache', 'cacheWritePrice', 'cacheReadPrice'];
const OPTIONAL = new Set(['supportCache', 'cacheHitPricePerMillion', 'cacheWritePrice', 'cacheReadPrice']);

/** Every problem of a PricingOverride, each at its field, in words. */
export function pricingProblems(input: unknown): PricingProblem[] {
  const problems: PricingProblem[] = [];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return [{ path: [], message: 'must be an object of billing settings' }];
  const o = input as Record<string, unknown>;
  for (const key of Object.keys(o))
    if (!['useTierPricing', 'hourlyPrice', 'tierPricing', 'tierWindows'].includes(key)) problems.push({ path: [key], message: 'is not a billing setting' });
  if (o.useTierPricing !== undefined && typeof o.useTierPricing !== 'boolean') problems.push({ path: ['useTierPricing'], message: 'must be true (per token) or false (hourly)' });
  if (o.hourlyPrice !== undefined) price(o.hourlyPrice, ['hourlyPrice'], problems);
  for (const [key, fields] of [
    ['tierPricing', RANGE_TIER_FIELDS],
    ['tierWindows', WINDOW_FIELDS],
  ] as const) {
    const tiers = o[key];
    if (tiers === undefined) continue;
    if (!Array.isArray(tiers)) {
      problems.push({ path: [key], message: 'must be a list of tiers' });
      continue;
    }
    const seen = new Map<number, number>();
    tiers.forEach((tier: unknown, i) => {
      if (typeof tier !== 'object' || tier === null) return problems.push({ path: [key, i], message: 'must be a tier (an object)' });
      // a range tier may also be written as core's tuple [index, start, end, input, output, cache?, hit?]
      const t = (Array.isArray(tier) && key === 'tierPricing' ? Object.fromEntries(tier.map((v, n) => [fields[n], v])) : tier) as Record<string, unknown>;
      for (const field of fields) {
        const value = t[field];
        const at = [key, i, field];
        if (value === undefined) {
          if (!OPTIONAL.has(field)) problems.push({ path: at, message: 'is missing' });
        } else if (field === 'supportCache') {
          if (typeof value !== 'boolean') problems.push({ path: at, message: 'must be true or false' });
        } else if (field === 'tierIndex') {
          if (!isCount(value)) problems.push({ path: at, message: 'must be a whole number, 0 or more' });
          else if (seen.has(value)) problems.push({ path: at, message: `tier ${value} is listed twice` });
          else seen.set(value, i);
        } else if (/Tokens$/.test(field)) {
          const bound = /^(end|max)/.test(field);
          if (!(bound && value === -1) && !isCount(value)) problems.push({ path: at, message: `must be a whole number of tokens, 0 or more${bound ? ' (-1: no limit)' : ''}` });
        } else price(value, at, problems);
      }
      for (const field of Object.keys(t)) if (!fields.includes(field)) problems.push({ path: [key, i, field], message: 'is not a tier setting' });
      if (key === 'tierPricing' && isCount(t.startTokens) && isCount(t.endTokens) && t.endTokens < t.startTokens)
        problems.push({ path: [key, i, 'endTokens'], message: `must be at least the start (${t.startTokens}), or -1 for no limit` });
    });
  }
  return problems;
}

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

function price(value: unknown, path: (string | number)[], problems: PricingProblem[]): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) problems.push({ path, message: 'must be a number' });
  else if (value < 0) problems.push({ path, message: 'must be 0 or more' });
}

/**
 * Overlapping, empty and uncovered 2-D windows (S5–S7 tiers): where two windows overlap, the lower index
 * prices the request; an empty window never matches. The 2-D counterpart of core's `tierProblems`.
 */
export function windowProblems(tiers: readonly TierWindow[]): TierProblem[] {
  const problems: TierProblem[] = [];
  if (tiers.length === 0) return [{ kind: 'gap', message: 'there are no tiers: every request is unpriced' }];
  // as integer intervals [lo, hi]: a lower bound is exclusive unless it is 0; -1 is unbounded
  const box = (t: TierWindow) => ({
    input: [t.minInputTokens === 0 ? 0 : t.minInputTokens + 1, t.maxInputTokens === -1 ? Number.POSITIVE_INFINITY : t.maxInputTokens] as const,
    output: [t.minOutputTokens === 0 ? 0 : t.minOutputTokens + 1, t.maxOutputTokens === -1 ? Number.POSITIVE_INFINITY : t.maxOutputTokens] as const,
  });
  const sorted = [...tiers].sort((a, b) => a.tierIndex - b.tierIndex);
  const boxes = sorted.map(box);
  const meets = (a: readonly [number, number], b: readonly [number, number]) => a[0] <= b[1] && b[0] <= a[1];
  sorted.forEach((t, i) => {
    const b = boxes[i]!;
    if (b.input[0] > b.input[1] || b.output[0] > b.output[1]) {
      problems.push({ kind: 'gap', message: `tier ${t.tierIndex} can never match: its upper bound is not above its lower bound` });
      return;
    }
    for (let j = 0; j < i; j++) {
      const a = boxes[j]!;
      if (a.input[0] <= a.input[1] && a.output[0] <= a.output[1] && meets(a.input, b.input) && meets(a.output, b.output))
        problems.push({ kind: 'overlap', message: `tiers ${sorted[j]!.tierIndex} and ${t.tierIndex} overlap; tier ${sorted[j]!.tierIndex} prices the requests in both` });
    }
  });
  if (!boxes.some((b) => b.input[0] === 0 && b.output[0] === 0)) problems.push({ kind: 'uncovered-start', message: 'no tier covers the smallest requests (0 input and 0 output tokens)' });
  return problems;
}

export { tierProblems, type TierProblem, type PricingOverride };
