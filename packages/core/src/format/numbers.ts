import { MonitorError, describeValue } from '../errors.js';

/**
 * How numbers are shown, the same in the CLI and the analyzer: thousands separators, and as many
 * decimals as the magnitude needs. Costs show cents from 0.1 up and three significant digits below
 * (`1,234.57`, `61.37`, `0.50`, `0.0731`, `0.000123`); a column of costs shares one decimal count
 * ({@link costDecimals}) so its points line up. Machine outputs (JSON, CSV) keep full precision instead.
 */

const LOCALE = 'en-US';
const MAX_DECIMALS = 8;
const cache = new Map<string, Intl.NumberFormat>();

function numberFormat(key: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  let f = cache.get(key);
  if (!f) cache.set(key, (f = new Intl.NumberFormat(LOCALE, options)));
  return f;
}

/** Decimals for `value`: cents from 0.1 up, three significant digits below (0.0731, 0.000123). */
function decimalsFor(value: number): number {
  const abs = Math.abs(value);
  if (abs === 0 || !Number.isFinite(abs)) return 0;
  if (abs >= 0.1) return 2;
  return Math.min(MAX_DECIMALS, 2 - Math.floor(Math.log10(abs)));
}

/**
 * A number with thousands separators: integers as such (`12,345`), others with cents from 0.1 up and
 * three significant digits below (`61.37`, `0.0731`), or with exactly `decimals` decimals.
 */
export function formatNumber(value: number, options: { decimals?: number } = {}): string {
  if (!Number.isFinite(value)) return String(value);
  const decimals = options.decimals ?? (Number.isInteger(value) ? 0 : decimalsFor(value));
  return numberFormat(`n${decimals}`, { minimumFractionDigits: decimals, maximumFractionDigits: decimals }).format(value);
}

/** One decimals count for a column of costs: at least 2, and enough for three significant digits of its smallest non-zero value below 0.1. */
export function costDecimals(values: readonly number[]): number {
  let decimals = 2;
  for (const value of values) decimals = Math.max(decimals, decimalsFor(value));
  return decimals;
}

/**
 * A cost: cents from 0.1 up, three significant digits below (or exactly `decimals`), with the currency's
 * symbol when a currency (an ISO 4217 code such as `USD`, `CNY`, `EUR`) is given, else none (the
 * original priced in the user's own currency, 元 by default).
 */
export function formatCost(value: number, options: { currency?: string; decimals?: number } = {}): string {
  if (!Number.isFinite(value)) return String(value);
  const decimals = options.decimals ?? costDecimals([value]);
  const { currency } = options;
  if (currency === undefined) return formatNumber(value, { decimals });
  return numberFormat(`c${currency}${decimals}`, {
    style: 'currency',
    currency: checkCurrency(currency),
    currencyDisplay: 'narrowSymbol',
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  }).format(value);
}

/** An ISO 4217 currency code this runtime knows (`USD`, `CNY`), upper-cased; `INVALID_INPUT` otherwise. */
export function checkCurrency(code: unknown): string {
  const upper = typeof code === 'string' ? code.toUpperCase() : '';
  const known = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('currency').includes(upper) : /^[A-Z]{3}$/.test(upper);
  if (!known) throw new MonitorError('INVALID_INPUT', `Invalid currency: got ${describeValue(code)} (expected an ISO 4217 code such as USD, EUR or CNY).`, { value: code });
  return upper;
}

/** `3 d 4 h`, `5 h 12 min`, `42 s`: a duration to its two largest units. */
export function formatDuration(seconds: number): string {
  if (!(seconds > 0)) return '0 s';
  const s = Math.round(seconds);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return h > 0 ? `${d} d ${h} h` : `${d} d`;
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  if (m > 0) return `${m} min`;
  return `${s} s`;
}
