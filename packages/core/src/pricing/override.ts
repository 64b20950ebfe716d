import { MonitorError, describeValue } from '../errors.js';
import type { ModelBilling, TierInput, TierPricing, TierWindow } from '../monitor/types.js';
import {
  type FieldSpec,
  RULES,
  TIER_FIELDS,
  WINDOW_FIELDS,
  checkBoolean,
  checkPrice,
  checkTier,
  checkTierWindow,
  rangeProblem,
} from '../monitor/validate.js';
import { tierProblems, tierWindowProblems } from './tiers.js';

/**
 * What-if pricing: an override of a model's billing that a query prices with and never writes, how it
 * is laid over the stored billing, and every problem of one at its field (for editors and JSON files).
 */

/** A 2-D tier window to price with; the cache fields default to no cache support. */
export type TierWindowInput = Omit<TierWindow, 'supportCache' | 'cacheWritePrice' | 'cacheReadPrice'> &
  Partial<Pick<TierWindow, 'supportCache' | 'cacheWritePrice' | 'cacheReadPrice'>>;

/** A what-if override of a model's billing: any subset of what `getModelBilling` returns. Never written. */
export interface PricingOverride {
  useTierPricing?: boolean;
  hourlyPrice?: number;
  tierPricing?: readonly TierInput[] | readonly TierPricing[];
  tierWindows?: readonly TierWindowInput[];
}

/** Per model name. */
export type PricingOverrides = Readonly<Record<string, PricingOverride>>;

const OVERRIDE_KEYS = ['useTierPricing', 'hourlyPrice', 'tierPricing', 'tierWindows'];

/** The value stored under `key` in a record given by a caller, never one inherited (`constructor`, `__proto__`). */
export function ownValue<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function noDuplicates(model: string, indexes: number[]): void {
  const seen = new Set<number>();
  for (const index of indexes) {
    if (seen.has(index))
      throw new MonitorError('DUPLICATE_TIER', `What-if pricing for model ${describeValue(model)} has tier ${index} twice.`, { model, value: index });
    seen.add(index);
  }
}

/** The billing a query uses: the stored settings with the override (validated) laid over them. */
export function effectiveBilling(model: string, stored: ModelBilling | null, override: PricingOverride | undefined): ModelBilling {
  const base: ModelBilling = stored ?? { useTierPricing: true, hourlyPrice: 0, tierPricing: [] };
  if (override === undefined) return base;
  if (typeof override !== 'object' || override === null || Array.isArray(override))
    throw new MonitorError('INVALID_INPUT', `Invalid what-if pricing for model ${describeValue(model)}: got ${describeValue(override)}.`, {
      model,
      value: override,
    });
  const result: ModelBilling = {
    useTierPricing: override.useTierPricing === undefined ? base.useTierPricing : checkBoolean(model, 'useTierPricing', override.useTierPricing),
    hourlyPrice: override.hourlyPrice === undefined ? base.hourlyPrice : checkPrice(model, 'hourlyPrice', override.hourlyPrice),
    tierPricing: base.tierPricing,
    ...(base.tierWindows ? { tierWindows: base.tierWindows } : {}),
  };
  if (override.tierPricing !== undefined) {
    if (!Array.isArray(override.tierPricing))
      throw new MonitorError('INVALID_INPUT', `Invalid what-if tierPricing for model ${describeValue(model)}: expected an array.`, { model, value: override.tierPricing });
    result.tierPricing = override.tierPricing.map((input) => {
      const t = checkTier(model, input);
      return { ...t, supportCache: t.supportCache ?? false, cacheHitPricePerMillion: t.cacheHitPricePerMillion ?? 0 };
    });
    noDuplicates(model, result.tierPricing.map((t) => t.tierIndex));
    delete result.tierWindows;
  }
  if (override.tierWindows !== undefined) {
    if (!Array.isArray(override.tierWindows))
      throw new MonitorError('INVALID_INPUT', `Invalid what-if tierWindows for model ${describeValue(model)}: expected an array.`, { model, value: override.tierWindows });
    result.tierWindows = override.tierWindows.map((w) => checkTierWindow(model, w));
    noDuplicates(model, result.tierWindows.map((t) => t.tierIndex));
  }
  return result;
}

/** A problem of a what-if override (or a billing read from a JSON file), at its field, in words. */
export interface PricingProblem {
  /** Where: `[]` for the whole override, `['hourlyPrice']`, `['tierPricing', 2, 'endTokens']`. */
  path: (string | number)[];
  /** What is wrong, in words a person reads beside the field. */
  message: string;
  /**
   * `error`: the override is refused (`effectiveBilling` throws). `warning`: accepted, but some requests
   * would be priced by a lower tier index (overlap) or by no tier at all (gap, bounded end).
   */
  severity: 'error' | 'warning';
}

const show = (value: unknown): string => (value === undefined ? 'nothing' : describeValue(value));

function tierListProblems(key: 'tierPricing' | 'tierWindows', specs: readonly FieldSpec[], list: unknown, problems: PricingProblem[]): void {
  const noun = key === 'tierPricing' ? 'tier' : 'tier window';
  if (!Array.isArray(list)) {
    problems.push({ path: [key], message: `The ${noun}s must be a list; got ${show(list)}.`, severity: 'error' });
    return;
  }
  const seen = new Map<number, number>();
  list.forEach((input, position) => {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      problems.push({ path: [key, position], message: `Each ${noun} must be an object with its fields; got ${show(input)}.`, severity: 'error' });
      return;
    }
    const fields = input as Record<string, unknown>;
    for (const name of Object.keys(fields))
      if (!specs.some((s) => s.key === name))
        problems.push({ path: [key, position, name], message: `Unknown field ${JSON.stringify(name)} (expected ${specs.map((s) => s.key).join(', ')}).`, severity: 'error' });
    for (const spec of specs) {
      const value = fields[spec.key];
      if ((value !== undefined || !spec.optional) && !spec.rule.test(value))
        problems.push({ path: [key, position, spec.key], message: `The ${spec.label} must be ${spec.rule.expected}; got ${show(value)}.`, severity: 'error' });
    }
    if (key === 'tierPricing' && RULES.tokens.test(fields.startTokens) && RULES.bound.test(fields.endTokens)) {
      const problem = rangeProblem(fields.startTokens as number, fields.endTokens as number);
      if (problem)
        problems.push({
          path: [key, position, 'endTokens'],
          message: `The last input token count (${String(fields.endTokens)}) is below the first (${String(fields.startTokens)}): the tier would match nothing. Use -1 for unbounded.`,
          severity: 'error',
        });
    }
    if (RULES.count.test(fields.tierIndex)) {
      const index = fields.tierIndex as number;
      const first = seen.get(index);
      if (first !== undefined)
        problems.push({ path: [key, position, 'tierIndex'], message: `Tier index ${index} is used twice (also by ${noun} #${first + 1}).`, severity: 'error' });
      else seen.set(index, position);
    }
  });
  if (problems.every((p) => p.severity !== 'error' || p.path[0] !== key)) {
    const coverage = key === 'tierPricing' ? tierProblems(list as TierPricing[]) : tierWindowProblems(list as TierWindow[]);
    for (const p of coverage) problems.push({ path: [key], message: `${p.message[0]!.toUpperCase()}${p.message.slice(1)}.`, severity: 'warning' });
  }
}

/**
 * Every problem of a what-if override, each at its field and in words, so that an editor can show them
 * where they are and a JSON import can name them all. Errors are exactly what `effectiveBilling` (and so
 * `summary({ pricing })`) refuses; warnings are tier coverage problems it accepts (overlaps, gaps; for
 * range tiers `tierProblems`, for 2-D windows `tierWindowProblems`).
 *
 * @example
 * pricingProblems({ hourlyPrice: -1 });
 * // [{ path: ['hourlyPrice'], message: 'The hourly price must be a finite number >= 0; got -1.', severity: 'error' }]
 */
export function pricingProblems(input: unknown): PricingProblem[] {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return [{ path: [], message: `The pricing must be an object with useTierPricing, hourlyPrice, tierPricing or tierWindows; got ${show(input)}.`, severity: 'error' }];
  const override = input as Record<string, unknown>;
  const problems: PricingProblem[] = [];
  for (const key of Object.keys(override))
    if (!OVERRIDE_KEYS.includes(key)) problems.push({ path: [key], message: `Unknown field ${JSON.stringify(key)} (expected ${OVERRIDE_KEYS.join(', ')}).`, severity: 'error' });
  if (override.useTierPricing !== undefined && !RULES.boolean.test(override.useTierPricing))
    problems.push({ path: ['useTierPricing'], message: `The billing method must be ${RULES.boolean.expected} (true: per token by tier, false: per hour); got ${show(override.useTierPricing)}.`, severity: 'error' });
  if (override.hourlyPrice !== undefined && !RULES.price.test(override.hourlyPrice))
    problems.push({ path: ['hourlyPrice'], message: `The hourly price must be ${RULES.price.expected}; got ${show(override.hourlyPrice)}.`, severity: 'error' });
  if (override.tierPricing !== undefined) tierListProblems('tierPricing', TIER_FIELDS, override.tierPricing, problems);
  if (override.tierWindows !== undefined) tierListProblems('tierWindows', WINDOW_FIELDS, override.tierWindows, problems);
  return problems;
}
