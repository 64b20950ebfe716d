import { MonitorError } from '../errors.js';
import type { ModelBilling, TierPricing, TierWindow } from '../monitor/types.js';

/**
 * How a request is priced (SPEC §4). Tiers are chosen in SQL by a CASE expression built here (first
 * match in tier-index order wins), and the cost of a group of requests priced at one tier is linear in
 * their token sums, so it is computed from the sums the SQL returns.
 */

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

/** A validated token count or tier index as SQL text (they were checked to be safe integers when read or given). */
function int(n: number): string {
  if (!Number.isSafeInteger(n)) throw new MonitorError('DRIVER', `Internal error: a tier bound ${n} reached SQL unchecked.`, { value: n });
  return String(n);
}

/**
 * A SQL expression giving the tier that prices a request, from its `input_tokens` / `output_tokens`
 * columns, as its position in `plan.tiers`; `unmatched` (an integer) when no tier matches (the request is
 * then reported as unpriced, never as free).
 */
export function tierCaseSql(plan: TierPlan, unmatched: number): string {
  const arms: string[] = [];
  if (plan.kind === 'ranges') {
    plan.tiers.forEach((t, i) => {
      const upper = t.endTokens === -1 ? '' : ` AND input_tokens <= ${int(t.endTokens)}`;
      arms.push(`WHEN input_tokens >= ${int(t.startTokens)}${upper} THEN ${i}`);
    });
  } else {
    // the original's last algorithm: a lower bound is exclusive unless it is 0, an upper bound inclusive, -1 unbounded
    const within = (column: string, min: number, max: number) =>
      [min === 0 ? `${column} >= 0` : `${column} > ${int(min)}`, ...(max === -1 ? [] : [`${column} <= ${int(max)}`])].join(' AND ');
    plan.tiers.forEach((t, i) =>
      arms.push(
        `WHEN ${within('input_tokens', t.minInputTokens, t.maxInputTokens)} AND ${within('output_tokens', t.minOutputTokens, t.maxOutputTokens)} THEN ${i}`,
      ),
    );
  }
  return arms.length === 0 ? String(unmatched) : `CASE ${arms.join(' ')} ELSE ${unmatched} END`;
}

/**
 * Whether two billings assign every request to the same tier: the same kind of tiers with the same
 * indexes and bounds (prices and the billing method may differ). When they do, a scan made with one
 * can be priced with the other.
 */
export function sameTierAssignment(a: ModelBilling, b: ModelBilling): boolean {
  const pa = tierPlan(a);
  const pb = tierPlan(b);
  if (pa.kind !== pb.kind || pa.tiers.length !== pb.tiers.length) return false;
  if (pa.kind === 'ranges') {
    const tb = pb.tiers as TierPricing[];
    return pa.tiers.every((t, i) => t.tierIndex === tb[i]!.tierIndex && t.startTokens === tb[i]!.startTokens && t.endTokens === tb[i]!.endTokens);
  }
  const tb = pb.tiers as TierWindow[];
  return pa.tiers.every(
    (t, i) =>
      t.tierIndex === tb[i]!.tierIndex &&
      t.minInputTokens === tb[i]!.minInputTokens &&
      t.maxInputTokens === tb[i]!.maxInputTokens &&
      t.minOutputTokens === tb[i]!.minOutputTokens &&
      t.maxOutputTokens === tb[i]!.maxOutputTokens,
  );
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

/** An input-token range no tier covers: [first, last], both inclusive; `last` null when unbounded. */
export interface UncoveredInputs {
  first: number;
  last: number | null;
}

/** The input-token ranges no range tier covers, ascending: requests there are unpriced. */
export function uncoveredInputs(tiers: readonly TierPricing[]): UncoveredInputs[] {
  const gaps: UncoveredInputs[] = [];
  let next = 0; // the smallest input token count not covered so far
  for (const t of [...tiers].sort((a, b) => a.startTokens - b.startTokens)) {
    if (t.startTokens > next) gaps.push({ first: next, last: t.startTokens - 1 });
    next = Math.max(next, t.endTokens === -1 ? Number.POSITIVE_INFINITY : t.endTokens + 1);
    if (next === Number.POSITIVE_INFINITY) return gaps;
  }
  gaps.push({ first: next, last: null });
  return gaps;
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

/**
 * The same checks for 2-D tier windows (S5–S7): a window that can never match (its upper bound not above
 * its lower one), two windows that overlap (the lower index prices the requests of both), and no window
 * for the smallest requests (0 input and 0 output tokens). An empty result means none of these.
 */
export function tierWindowProblems(tiers: readonly TierWindow[]): TierProblem[] {
  if (tiers.length === 0) return [{ kind: 'gap', message: 'there are no tiers: every request is unpriced' }];
  const problems: TierProblem[] = [];
  // as integer intervals [lo, hi]: a lower bound is exclusive unless it is 0; -1 is unbounded
  const interval = (min: number, max: number) => [min === 0 ? 0 : min + 1, max === -1 ? Number.POSITIVE_INFINITY : max] as const;
  const sorted = [...tiers].sort((a, b) => a.tierIndex - b.tierIndex);
  const boxes = sorted.map((t) => ({ input: interval(t.minInputTokens, t.maxInputTokens), output: interval(t.minOutputTokens, t.maxOutputTokens) }));
  const empty = (b: (typeof boxes)[number]) => b.input[0] > b.input[1] || b.output[0] > b.output[1];
  const meets = (a: readonly [number, number], b: readonly [number, number]) => a[0] <= b[1] && b[0] <= a[1];
  sorted.forEach((t, i) => {
    const b = boxes[i]!;
    if (empty(b)) {
      problems.push({ kind: 'gap', message: `tier ${t.tierIndex} can never match: its upper bound is not above its lower bound` });
      return;
    }
    for (let j = 0; j < i; j++) {
      const a = boxes[j]!;
      if (!empty(a) && meets(a.input, b.input) && meets(a.output, b.output))
        problems.push({ kind: 'overlap', message: `tiers ${sorted[j]!.tierIndex} and ${t.tierIndex} overlap; tier ${sorted[j]!.tierIndex} prices the requests in both` });
    }
  });
  if (!boxes.some((b) => b.input[0] === 0 && b.output[0] === 0))
    problems.push({ kind: 'uncovered-start', message: 'no tier covers the smallest requests (0 input and 0 output tokens)' });
  return problems;
}
