import { MonitorError, describeValue } from '../errors.js';
import type { ModelBilling, TierInput, TierPricing, TierWindow } from '../monitor/types.js';
import { checkBoolean, checkCount, checkPrice, checkTier, checkTokens } from '../monitor/validate.js';

/**
 * How a request is priced (SPEC §4). Tiers are chosen in SQL by a CASE expression built here (first
 * match in tier-index order wins), and the cost of a group of requests priced at one tier is linear in
 * their token sums, so it is computed from the sums the SQL returns.
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

/** The token sums of a group of requests priced at one tier. */
export interface TokenSums {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  /** Σ min(cache_n, input_tokens): prompt tokens served from the KV cache. */
  cacheHits: number;
  /** Σ cache_n and Σ prompt_n as recorded (for the S5–S7 cache formula). */
  cacheN: number;
  promptN: number;
}

export type TierPlan =
  | { kind: 'ranges'; tiers: TierPricing[] }
  | { kind: 'windows'; tiers: TierWindow[] };

export function tierPlan(billing: ModelBilling): TierPlan {
  return billing.tierWindows !== undefined
    ? { kind: 'windows', tiers: [...billing.tierWindows].sort((a, b) => a.tierIndex - b.tierIndex) }
    : { kind: 'ranges', tiers: [...billing.tierPricing].sort((a, b) => a.tierIndex - b.tierIndex) };
}

const int = (n: number) => String(Math.trunc(n));

/**
 * A SQL expression giving the tier index of a request from its `input_tokens` / `output_tokens`
 * columns, NULL when no tier matches (the request is then reported as unpriced, never as free).
 */
export function tierCaseSql(plan: TierPlan): string {
  const arms: string[] = [];
  if (plan.kind === 'ranges') {
    for (const t of plan.tiers) {
      const upper = t.endTokens === -1 ? '' : ` AND input_tokens <= ${int(t.endTokens)}`;
      arms.push(`WHEN input_tokens >= ${int(t.startTokens)}${upper} THEN ${int(t.tierIndex)}`);
    }
  } else {
    // the original's last algorithm: a lower bound is exclusive unless it is 0, an upper bound inclusive, -1 unbounded
    const within = (column: string, min: number, max: number) =>
      [min === 0 ? `${column} >= 0` : `${column} > ${int(min)}`, ...(max === -1 ? [] : [`${column} <= ${int(max)}`])].join(' AND ');
    for (const t of plan.tiers)
      arms.push(
        `WHEN ${within('input_tokens', t.minInputTokens, t.maxInputTokens)} AND ${within('output_tokens', t.minOutputTokens, t.maxOutputTokens)} THEN ${int(t.tierIndex)}`,
      );
  }
  return arms.length === 0 ? 'NULL' : `CASE ${arms.join(' ')} ELSE NULL END`;
}

/** The cost of requests priced at one tier, from their sums. */
export function tierCost(plan: TierPlan, tierIndex: number, sums: TokenSums): number {
  if (plan.kind === 'ranges') {
    const tier = plan.tiers.find((t) => t.tierIndex === tierIndex);
    if (!tier) return 0;
    const hits = tier.supportCache ? sums.cacheHits : 0;
    return ((sums.inputTokens - hits) * tier.inputPricePerMillion + hits * tier.cacheHitPricePerMillion + sums.outputTokens * tier.outputPricePerMillion) / 1e6;
  }
  const tier = plan.tiers.find((t) => t.tierIndex === tierIndex);
  if (!tier) return 0;
  if (tier.supportCache)
    return (sums.cacheN * tier.cacheReadPrice + sums.promptN * (tier.inputPrice + tier.cacheWritePrice) + sums.outputTokens * tier.outputPrice) / 1e6;
  return (sums.inputTokens * tier.inputPrice + sums.outputTokens * tier.outputPrice) / 1e6;
}

function checkWindow(model: string, input: unknown): TierWindow {
  if (typeof input !== 'object' || input === null)
    throw new MonitorError('INVALID_INPUT', `Invalid tier window for model ${describeValue(model)}: got ${describeValue(input)}.`, { model, value: input });
  const w = input as Record<string, unknown>;
  const bound = (what: string, value: unknown) => (value === -1 ? -1 : checkTokens(model, `${what} (or -1 for unbounded)`, value));
  return {
    tierIndex: checkCount('tierIndex', w.tierIndex, model),
    minInputTokens: checkTokens(model, 'minInputTokens', w.minInputTokens),
    maxInputTokens: bound('maxInputTokens', w.maxInputTokens),
    minOutputTokens: checkTokens(model, 'minOutputTokens', w.minOutputTokens),
    maxOutputTokens: bound('maxOutputTokens', w.maxOutputTokens),
    inputPrice: checkPrice(model, 'inputPrice', w.inputPrice),
    outputPrice: checkPrice(model, 'outputPrice', w.outputPrice),
    supportCache: w.supportCache === undefined ? false : checkBoolean(model, 'supportCache', w.supportCache),
    cacheWritePrice: w.cacheWritePrice === undefined ? 0 : checkPrice(model, 'cacheWritePrice', w.cacheWritePrice),
    cacheReadPrice: w.cacheReadPrice === undefined ? 0 : checkPrice(model, 'cacheReadPrice', w.cacheReadPrice),
  };
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
  if (typeof override !== 'object' || override === null)
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
    result.tierWindows = override.tierWindows.map((w) => checkWindow(model, w));
    noDuplicates(model, result.tierWindows.map((t) => t.tierIndex));
  }
  return result;
}

export interface TierProblem {
  kind: 'overlap' | 'gap' | 'uncovered-start' | 'bounded-end';
  message: string;
}

/** Overlapping, gapped or incomplete range tiers: a request there is priced by a lower index or not at all. */
export function tierProblems(tiers: readonly TierPricing[]): TierProblem[] {
  const problems: TierProblem[] = [];
  const sorted = [...tiers].sort((a, b) => a.startTokens - b.startTokens || a.tierIndex - b.tierIndex);
  if (sorted.length === 0) return [{ kind: 'gap', message: 'there are no tiers: every request is unpriced' }];
  if (sorted[0]!.startTokens > 0)
    problems.push({ kind: 'uncovered-start', message: `no tier covers 0–${sorted[0]!.startTokens - 1} input tokens` });
  let reach = -1; // highest input token count covered so far (Infinity when unbounded)
  let reachTier = sorted[0]!.tierIndex;
  for (const t of sorted) {
    const end = t.endTokens === -1 ? Number.POSITIVE_INFINITY : t.endTokens;
    if (reach >= 0 && t.startTokens <= reach)
      problems.push({ kind: 'overlap', message: `tiers ${reachTier} and ${t.tierIndex} overlap from ${t.startTokens} input tokens` });
    else if (reach >= 0 && t.startTokens > reach + 1)
      problems.push({ kind: 'gap', message: `no tier covers ${reach + 1}–${t.startTokens - 1} input tokens` });
    if (end > reach) {
      reach = end;
      reachTier = t.tierIndex;
    }
  }
  if (Number.isFinite(reach)) problems.push({ kind: 'bounded-end', message: `no tier covers more than ${reach} input tokens` });
  return problems;
}
