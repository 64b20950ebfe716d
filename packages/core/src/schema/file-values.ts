import type { SqlValue } from '../driver/driver.js';
import type { ModelBilling, TierPricing, TierWindow } from '../monitor/types.js';

/**
 * Values read from a file are data, never trusted: the original (or any other program) may have stored
 * `float('inf')`, a negative price or a text in a numeric column, and SQLite keeps whatever it was given.
 * This module reads billing rows into numbers and says what it could not use, so that a bad value is a
 * listed problem instead of a failed report or a silently wrong sum.
 */

export const num = (value: SqlValue | undefined): number => Number(value ?? 0);
export const bool = (value: SqlValue | undefined): boolean => value === true || Number(value) === 1;

/** A stored model's billing with what was wrong in it. */
export interface StoredBilling {
  /** The billing as stored, every value read as a number (what `getModelBilling` returns); null when the file has no billing rows for the model. */
  billing: ModelBilling | null;
  /** The same without the tiers that have unusable values: what the model is priced with. */
  usable: ModelBilling | null;
  /** One sentence per unusable value, naming the column and the value as stored. */
  problems: string[];
  /** False when the stored hourly price is unusable: the model's hourly cost is then unknown. */
  hourlyPriceUsable: boolean;
}

const show = (value: SqlValue | undefined): string =>
  typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : String(value);

/** Reads one column of a row with a rule; a failure adds a problem and yields undefined. */
class RowReader {
  /** Values that make the row unusable. */
  readonly problems: string[] = [];
  /** Values read with an interpretation worth saying (the row stays usable). */
  readonly notes: string[] = [];

  constructor(
    private readonly row: Record<string, SqlValue>,
    private readonly where: string,
  ) {}

  #read(column: string, ok: (n: number) => boolean, expected: string): number | undefined {
    const value = this.row[column];
    const n = typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : Number.NaN;
    if (ok(n)) return n;
    this.problems.push(`${this.where}: ${column} is ${show(value)}, not ${expected}`);
    return undefined;
  }

  tokens(column: string): number | undefined {
    return this.#read(column, (n) => Number.isSafeInteger(n) && n >= 0, 'a token count');
  }

  /** An upper bound: a token count, or -1 for unbounded; `float('inf')` is read as unbounded (and said so). */
  bound(column: string): number | undefined {
    if (this.row[column] === Number.POSITIVE_INFINITY) {
      this.notes.push(`${this.where}: ${column} is Infinity, read as unbounded (-1)`);
      return -1;
    }
    return this.#read(column, (n) => n === -1 || (Number.isSafeInteger(n) && n >= 0), 'a token count or -1');
  }

  price(column: string): number | undefined {
    return this.#read(column, (n) => Number.isFinite(n) && n >= 0, 'a price (a finite number >= 0)');
  }

  index(column: string): number | undefined {
    return this.#read(column, (n) => Number.isSafeInteger(n) && n >= 0, 'a tier index');
  }
}

function tierWhere(row: Record<string, SqlValue>): string {
  return `tier ${show(row.tier_index)}`;
}

/** An input-token range tier (S1–S4), or undefined (with the problems) when a value is unusable. */
function usableRangeTier(row: Record<string, SqlValue>, problems: string[]): TierPricing | undefined {
  const r = new RowReader(row, tierWhere(row));
  const tier = {
    tierIndex: r.index('tier_index'),
    startTokens: r.tokens('start_tokens'),
    endTokens: r.bound('end_tokens'),
    inputPricePerMillion: r.price('input_price_per_million'),
    outputPricePerMillion: r.price('output_price_per_million'),
    supportCache: bool(row.support_cache),
    cacheHitPricePerMillion: r.price('cache_hit_price_per_million'),
  };
  if (tier.endTokens !== undefined && tier.startTokens !== undefined && tier.endTokens !== -1 && tier.endTokens < tier.startTokens)
    r.problems.push(`${tierWhere(row)}: end_tokens ${tier.endTokens} is below start_tokens ${tier.startTokens}, so it matches nothing`);
  problems.push(...r.notes, ...r.problems.map((p) => `${p}; the tier is not used`));
  return r.problems.length === 0 ? (tier as TierPricing) : undefined;
}

/** A 2-D tier window (S5–S7), or undefined (with the problems) when a value is unusable. */
function usableTierWindow(row: Record<string, SqlValue>, problems: string[]): TierWindow | undefined {
  const r = new RowReader(row, tierWhere(row));
  const tier = {
    tierIndex: r.index('tier_index'),
    minInputTokens: r.tokens('min_input_tokens'),
    maxInputTokens: r.bound('max_input_tokens'),
    minOutputTokens: r.tokens('min_output_tokens'),
    maxOutputTokens: r.bound('max_output_tokens'),
    inputPrice: r.price('input_price'),
    outputPrice: r.price('output_price'),
    supportCache: bool(row.support_cache),
    cacheWritePrice: r.price('cache_write_price'),
    cacheReadPrice: r.price('cache_read_price'),
  };
  problems.push(...r.notes, ...r.problems.map((p) => `${p}; the tier is not used`));
  return r.problems.length === 0 ? (tier as TierWindow) : undefined;
}

const rangeTier = (row: Record<string, SqlValue>): TierPricing => ({
  tierIndex: num(row.tier_index),
  startTokens: num(row.start_tokens),
  endTokens: num(row.end_tokens),
  inputPricePerMillion: num(row.input_price_per_million),
  outputPricePerMillion: num(row.output_price_per_million),
  supportCache: bool(row.support_cache),
  cacheHitPricePerMillion: num(row.cache_hit_price_per_million),
});

const tierWindow = (row: Record<string, SqlValue>): TierWindow => ({
  tierIndex: num(row.tier_index),
  minInputTokens: num(row.min_input_tokens),
  maxInputTokens: num(row.max_input_tokens),
  minOutputTokens: num(row.min_output_tokens),
  maxOutputTokens: num(row.max_output_tokens),
  inputPrice: num(row.input_price),
  outputPrice: num(row.output_price),
  supportCache: bool(row.support_cache),
  cacheWritePrice: num(row.cache_write_price),
  cacheReadPrice: num(row.cache_read_price),
});

/**
 * A model's billing from its stored rows: `method` is the `use_tier_pricing` value (undefined when the
 * file has no billing row: no billing), `hourlyPrice` the stored price, `rows` its tiers, as input-token
 * ranges (S1–S4) or 2-D windows (S5–S7), with the column names of the seed's or the window layout.
 */
export function storedBilling(
  method: SqlValue | undefined,
  hourlyPrice: SqlValue | undefined,
  kind: 'ranges' | 'windows',
  rows: readonly Record<string, SqlValue>[],
): StoredBilling {
  const problems: string[] = [];
  if (method === undefined) return { billing: null, usable: null, problems, hourlyPriceUsable: true };
  const base = { useTierPricing: bool(method), hourlyPrice: num(hourlyPrice) };
  let usablePrice = 0;
  let hourlyPriceUsable = true;
  if (hourlyPrice !== undefined && hourlyPrice !== null) {
    const r = new RowReader({ hourly_price: hourlyPrice }, 'hourly price');
    const price = r.price('hourly_price');
    problems.push(...r.problems.map((p) => `${p}; no hourly cost is computed`));
    hourlyPriceUsable = price !== undefined;
    usablePrice = price ?? 0;
  }
  const usableBase = { useTierPricing: base.useTierPricing, hourlyPrice: usablePrice };
  if (kind === 'windows')
    return {
      billing: { ...base, tierPricing: [], tierWindows: rows.map(tierWindow) },
      usable: { ...usableBase, tierPricing: [], tierWindows: rows.map((row) => usableTierWindow(row, problems)).filter(defined) },
      problems,
      hourlyPriceUsable,
    };
  return {
    billing: { ...base, tierPricing: rows.map(rangeTier) },
    usable: { ...usableBase, tierPricing: rows.map((row) => usableRangeTier(row, problems)).filter(defined) },
    problems,
    hourlyPriceUsable,
  };
}

function defined<T>(value: T | undefined): value is T {
  return value !== undefined;
}
