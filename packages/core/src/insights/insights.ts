import { MonitorError } from '../errors.js';
import type { Aggregation, Run, Window } from '../analytics/aggregate.js';
import { UNUSABLE_ROWS, overlap } from '../analytics/aggregate.js';
import { type ModelSummary, type Priced, type ReportOptions, dataSpan, eachGroup, priced, subWindow, sumsAt, summarize } from '../analytics/report.js';
import type { Shape } from '../monitor/types.js';
import { type TierPlan, type TokenSums, tierCost, uncoveredInputs } from '../pricing/tiers.js';
import { SLOT_SECONDS, checkTimeZone } from '../time/time-zone.js';
import { type Cells, type Figure, type Unit, known, ratio, sum, unknown } from './figure.js';
import { WEEK_CELLS, WeekHours } from './hour-of-week.js';

/**
 * What the recorded usage says beyond its cost, for a window, per model and in total, from an
 * {@link Aggregation} alone (pure, no database): what each billing method would cost, what loaded and
 * unused runtime costs and when it happens, what the KV cache saves, and which price tier pays the bill.
 */

export interface InsightOptions extends ReportOptions {
  /** The IANA zone of the hour-of-week matrix. */
  timeZone: string;
}

/** Cost under each billing method with the model's prices, and where they break even. */
export interface BillingAdvice {
  /** What the window cost as billed (tier or hourly, as the model is set). */
  actualCost: Figure;
  /** What it costs billed per token with the model's tiers. */
  tierCost: Figure;
  /** What it costs billed per hour of runtime with the model's hourly price. */
  hourlyCost: Figure;
  /** The hourly price at which hourly billing would cost what the tiers cost: tier cost ÷ runtime hours. */
  breakEvenHourlyPrice: Figure;
  /** The price per million tokens at which the tokens would cost what the runtime costs: hourly cost ÷ million tokens. */
  breakEvenPricePerMillion: Figure;
  /** What a million tokens (input + output) actually cost: actual cost ÷ million tokens. */
  effectiveCostPerMillion: Figure;
  /** What switching to the other billing method saves: actual cost − the other method's cost (negative: it costs more). */
  switchSaving: Figure;
  /** The cheaper method when both costs are known (`same` when equal). */
  cheaperMethod: 'tier' | 'hourly' | 'same' | null;
}

/** Runtime in which the model served no request, by 15-minute slot (as the summary's idle time), and its price. */
export interface IdleMoney {
  runtimeHours: Figure;
  idleHours: Figure;
  /** idle ÷ runtime */
  idleShare: Figure;
  /** idle hours × the hourly price */
  idleCost: Figure;
}

/** What the KV cache saved: cache hits × (input price − cache-hit price), and the hit rate. */
export interface CacheSavings {
  cacheHitTokens: Figure;
  /** cache-hit tokens ÷ input tokens */
  hitRate: Figure;
  /** What the same requests would cost at their tiers without cache prices, minus what they cost. */
  saving: Figure;
}

/**
 * One range of input sizes of the histogram: a tier, or a range no tier covers (its requests are
 * unpriced). Ordered by input size.
 */
export interface TierRow {
  /** The tier index; null for an input range no tier covers. */
  tierIndex: number | null;
  /** The input token counts of the range, both inclusive; `inputTo` null when unbounded. */
  inputFrom: number;
  inputTo: number | null;
  /** 2-D tier windows (S5–S7 files) also bound the output; absent for range tiers. */
  outputFrom?: number;
  outputTo?: number | null;
  /** The smallest and largest input of a request in the range in this window; null when none. */
  minInput: number | null;
  maxInput: number | null;
  requests: Figure;
  /** requests ÷ the model's requests */
  requestShare: Figure;
  inputTokens: Figure;
  outputTokens: Figure;
  /** What these requests cost at this tier (unknown for unpriced ranges and hourly-billed models). */
  cost: Figure;
  /** cost ÷ the model's tier cost */
  costShare: Figure;
  cacheHitTokens: Figure;
  hitRate: Figure;
  /** What the tier's cache price saved on these requests. */
  cacheSaving: Figure;
}

/** Per hour of the week in the caller's zone (index `weekday * 24 + hour`, Monday first). */
export interface HourOfWeek {
  timeZone: string;
  requests: Cells;
  /** input + output tokens */
  tokens: Cells;
  cost: Cells;
  runtimeHours: Cells;
  /** Runtime in 15-minute slots without a request. */
  idleHours: Cells;
}

export interface Usage {
  requests: Figure;
  inputTokens: Figure;
  outputTokens: Figure;
  /** Requests of tier-billed models that no tier matches. */
  unpricedRequests: Figure;
}

export interface ModelInsights {
  name: string;
  billingMethod: 'tier' | 'hourly';
  shape: Shape;
  usage: Usage;
  billing: BillingAdvice;
  idle: IdleMoney;
  cache: CacheSavings;
  /** Tiers at work: a histogram of the requests' input sizes against the tier boundaries. */
  tiers: TierRow[];
  hourOfWeek: HourOfWeek;
  problems: string[];
}

export interface TotalInsights {
  usage: Usage;
  billing: {
    actualCost: Figure;
    /** Each model billed by its cheaper method (its actual cost where the other is not known). */
    bestCost: Figure;
    /** actual − best */
    possibleSaving: Figure;
  };
  idle: IdleMoney;
  cache: CacheSavings;
  hourOfWeek: HourOfWeek;
}

export interface Insights {
  /** The window, [from, to); null where unbounded. */
  from: number | null;
  to: number | null;
  timeZone: string;
  models: ModelInsights[];
  total: TotalInsights;
  problems: string[];
}

const HOUR = 3600;

/** True when some tier has a non-zero price: per-token billing is "set" for the model. */
function hasTierPrices(plan: TierPlan): boolean {
  if (plan.kind === 'ranges') return plan.tiers.some((t) => t.inputPricePerMillion > 0 || t.outputPricePerMillion > 0 || (t.supportCache && t.cacheHitPricePerMillion > 0));
  return plan.tiers.some((t) => t.inputPrice > 0 || t.outputPrice > 0 || (t.supportCache && (t.cacheReadPrice > 0 || t.cacheWritePrice > 0)));
}

/** The same tiers without cache prices: what the requests would cost if no tier billed cache hits apart. */
function withoutCache(plan: TierPlan): TierPlan {
  return plan.kind === 'ranges'
    ? { kind: 'ranges', tiers: plan.tiers.map((t) => ({ ...t, supportCache: false })) }
    : { kind: 'windows', tiers: plan.tiers.map((t) => ({ ...t, supportCache: false })) };
}

const NO_RUNTIME = 'no runtime recorded for this model in the window (only its requests): the hours it was loaded are not known';
const UNUSABLE_HOURLY = 'the stored hourly price cannot be used (see the model’s problems)';
const NO_HOURLY_PRICE = 'no hourly price set';

/**
 * What a model's summary cost as billed, as a figure: unknown when it is billed by the hour and its
 * hourly price is not set (0, the default) or cannot be used, or it has requests but no runtime
 * recorded; noting the requests no tier prices.
 */
export function billedCost(p: Priced, s: ModelSummary): Figure {
  if (p.billing.useTierPricing) return known(s.tierCost, 'currency', s.unpricedRequests > 0 ? `leaves out ${s.unpricedRequests} requests no tier prices` : undefined);
  if (!p.hourlyKnown) return unknown('currency', UNUSABLE_HOURLY);
  if (p.billing.hourlyPrice === 0) return unknown('currency', NO_HOURLY_PRICE);
  if (s.runtimeSeconds === 0 && s.requests > 0) return unknown('currency', NO_RUNTIME);
  return known(s.hourlyCost, 'currency');
}

/** Running sums of one histogram row. */
interface RowSums {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cacheHits: number;
  cost: number;
  plainCost: number;
  minInput: number;
  maxInput: number;
  /** Unpriced groups attributed here whose inputs reach beyond the row (the scan did not split at the gaps). */
  straddles: boolean;
}

const emptyRow = (): RowSums => ({ requests: 0, inputTokens: 0, outputTokens: 0, cacheHits: 0, cost: 0, plainCost: 0, minInput: Infinity, maxInput: -Infinity, straddles: false });

interface RowShape {
  tierIndex: number | null;
  inputFrom: number;
  inputTo: number | null;
  outputFrom?: number;
  outputTo?: number | null;
}

/** The rows of the histogram: the tiers and the input ranges no tier covers, by input size. */
function rowShapes(plan: TierPlan): RowShape[] {
  if (plan.kind === 'windows') {
    const rows: RowShape[] = plan.tiers.map((t) => ({
      tierIndex: t.tierIndex,
      inputFrom: t.minInputTokens === 0 ? 0 : t.minInputTokens + 1,
      inputTo: t.maxInputTokens === -1 ? null : t.maxInputTokens,
      outputFrom: t.minOutputTokens === 0 ? 0 : t.minOutputTokens + 1,
      outputTo: t.maxOutputTokens === -1 ? null : t.maxOutputTokens,
    }));
    // what no window covers may be any size: one row
    return [...rows.sort((a, b) => a.inputFrom - b.inputFrom), { tierIndex: null, inputFrom: 0, inputTo: null, outputFrom: 0, outputTo: null }];
  }
  const rows: RowShape[] = plan.tiers.map((t) => ({ tierIndex: t.tierIndex, inputFrom: t.startTokens, inputTo: t.endTokens === -1 ? null : t.endTokens }));
  for (const gap of uncoveredInputs(plan.tiers)) rows.push({ tierIndex: null, inputFrom: gap.first, inputTo: gap.last });
  return rows.sort((a, b) => a.inputFrom - b.inputFrom || (a.tierIndex ?? Infinity) - (b.tierIndex ?? Infinity));
}

/** Where per-model cells accumulate. */
interface CellSums {
  requests: Float64Array;
  tokens: Float64Array;
  cost: Float64Array;
  runtime: Float64Array;
  idle: Float64Array;
}

const cellSums = (): CellSums => ({
  requests: new Float64Array(WEEK_CELLS),
  tokens: new Float64Array(WEEK_CELLS),
  cost: new Float64Array(WEEK_CELLS),
  runtime: new Float64Array(WEEK_CELLS),
  idle: new Float64Array(WEEK_CELLS),
});

/** The span the hour-of-week lookup must cover: the window, its open ends closed by the data. */
function matrixSpan(aggregation: Aggregation, names: string[], window: Window): { from: number; to: number } {
  const span = window.from === null || window.to === null ? dataSpan(aggregation, names) : null;
  const from = window.from ?? span?.first ?? 0;
  const to = window.to ?? (span ? span.last + 1 : 0);
  return { from: Math.floor(from / SLOT_SECONDS) * SLOT_SECONDS, to: Math.ceil(to / SLOT_SECONDS) * SLOT_SECONDS + SLOT_SECONDS };
}

/**
 * Calls `fn(slot, seconds)` for every 15-minute slot a run overlaps inside the window, with the seconds of
 * overlap.
 */
function eachRunSlot(runs: readonly Run[], window: Window, fn: (slot: number, seconds: number) => void): void {
  const from = window.from ?? Number.NEGATIVE_INFINITY;
  const to = window.to ?? Number.POSITIVE_INFINITY;
  for (const run of runs) {
    const a = Math.max(run.start, from);
    const b = Math.min(run.end, to);
    if (b <= a) continue;
    for (let slot = Math.floor(a / SLOT_SECONDS); slot * SLOT_SECONDS < b; slot++) {
      const seconds = overlap(a, b, slot * SLOT_SECONDS, (slot + 1) * SLOT_SECONDS);
      if (seconds > 0) fn(slot, seconds);
    }
  }
}

function modelInsights(p: Priced, s: ModelSummary, window: Window, hours: WeekHours, timeZone: string): ModelInsights {
  const { billing, plan } = p;
  const { groups, shape, runs } = p.model;
  const byTier = billing.useTierPricing;
  const plain = withoutCache(plan);
  const shapes = rowShapes(plan);
  const sums = shapes.map(emptyRow);
  const rowOfTier = new Map(shapes.map((r, i) => [r.tierIndex, i] as const).filter(([t]) => t !== null));
  const gapRows = shapes.map((r, i) => [r, i] as const).filter(([r]) => r.tierIndex === null);
  const cells = cellSums();
  const busy = new Set<number>();
  let tierTotal = 0;
  let unpriced = 0;

  const group = {} as TokenSums; // one object, refilled per group
  eachGroup(groups, window, (i) => {
    const tier = groups.tier[i]!;
    if (tier === UNUSABLE_ROWS) return;
    const slot = groups.slot[i]!;
    busy.add(slot);
    sumsAt(groups, i, group);
    let row: number;
    if (Number.isNaN(tier)) {
      unpriced += group.requests;
      // the gap its smallest input lies in (the scan splits at the gaps, so the whole group lies there)
      const min = groups.minInput[i]!;
      const gap = gapRows.find(([r]) => min >= r.inputFrom && (r.inputTo === null || min <= r.inputTo)) ?? gapRows[gapRows.length - 1]!;
      row = gap[1];
      const to = gap[0].inputTo;
      if (plan.kind === 'ranges' && to !== null && groups.maxInput[i]! > to) sums[row]!.straddles = true;
    } else row = rowOfTier.get(tier)!;
    const r = sums[row]!;
    r.requests += group.requests;
    r.inputTokens += group.inputTokens;
    r.outputTokens += group.outputTokens;
    r.cacheHits += group.cacheHits;
    r.minInput = Math.min(r.minInput, groups.minInput[i]!);
    r.maxInput = Math.max(r.maxInput, groups.maxInput[i]!);
    let cost = 0;
    if (!Number.isNaN(tier)) {
      cost = tierCost(plan, tier, group);
      r.cost += cost;
      r.plainCost += tierCost(plain, tier, group);
      tierTotal += cost;
    }
    if (!Number.isNaN(slot)) {
      const cell = hours.cellOfSlot(slot);
      cells.requests[cell]! += group.requests;
      cells.tokens[cell]! += group.inputTokens + group.outputTokens;
      if (byTier) cells.cost[cell]! += cost;
    }
  });

  const hourlyPriceKnown = p.hourlyKnown;
  const hourlySet = hourlyPriceKnown && billing.hourlyPrice > 0;
  eachRunSlot(runs, window, (slot, seconds) => {
    const cell = hours.cellOfSlot(slot);
    cells.runtime[cell]! += seconds;
    if (!busy.has(slot)) cells.idle[cell]! += seconds;
    if (!byTier && hourlyPriceKnown) cells.cost[cell]! += (seconds * billing.hourlyPrice) / HOUR;
  });

  const tokens = s.inputTokens + s.outputTokens;
  const noRuntime = s.runtimeSeconds === 0 && s.requests > 0;
  const unpricedNote = unpriced > 0 ? `leaves out ${unpriced} requests no tier prices` : undefined;

  // billing advice
  const tierFigure = (): Figure => {
    if (byTier) return billedCost(p, s);
    if (!hasTierPrices(plan)) return unknown('currency', 'no tier prices set (every tier is priced 0)');
    return known(tierTotal, 'currency', unpricedNote);
  };
  const hourlyFigure = (): Figure => {
    if (!byTier) return billedCost(p, s);
    if (!hourlyPriceKnown) return unknown('currency', UNUSABLE_HOURLY);
    if (!hourlySet) return unknown('currency', NO_HOURLY_PRICE);
    if (noRuntime) return unknown('currency', NO_RUNTIME);
    return known((s.runtimeSeconds * billing.hourlyPrice) / HOUR, 'currency');
  };
  const tierCostFigure = tierFigure();
  const hourlyCostFigure = hourlyFigure();
  const actualCost = byTier ? tierCostFigure : hourlyCostFigure;
  const other = byTier ? hourlyCostFigure : tierCostFigure;
  const runtimeHours = known(s.runtimeSeconds / HOUR, 'hours', noRuntime ? NO_RUNTIME : undefined);
  const allTokens = known(tokens, 'tokens');
  const switchSaving: Figure =
    actualCost.value === null ? unknown('currency', actualCost.reason!) : other.value === null ? unknown('currency', other.reason!) : known(actualCost.value - other.value, 'currency', actualCost.reason ?? other.reason);
  const cheaperMethod =
    tierCostFigure.value === null || hourlyCostFigure.value === null
      ? null
      : tierCostFigure.value < hourlyCostFigure.value
        ? 'tier'
        : tierCostFigure.value > hourlyCostFigure.value
          ? 'hourly'
          : 'same';
  const billingAdvice: BillingAdvice = {
    actualCost,
    tierCost: tierCostFigure,
    hourlyCost: hourlyCostFigure,
    breakEvenHourlyPrice: ratio(tierCostFigure, noRuntime ? unknown('hours', NO_RUNTIME) : runtimeHours, 'currency/hour', 'no runtime in the window'),
    breakEvenPricePerMillion: ratio(hourlyCostFigure, allTokens, 'currency/Mtok', 'no tokens in the window', 1e6),
    effectiveCostPerMillion: ratio(actualCost, allTokens, 'currency/Mtok', 'no tokens in the window', 1e6),
    switchSaving,
    cheaperMethod,
  };

  // idle money
  const idleHours = known(s.idleSeconds / HOUR, 'hours', noRuntime ? NO_RUNTIME : undefined);
  let idleCost: Figure;
  if (noRuntime) idleCost = unknown('currency', NO_RUNTIME);
  else if (!hourlyPriceKnown) idleCost = unknown('currency', UNUSABLE_HOURLY);
  else if (!hourlySet) idleCost = unknown('currency', NO_HOURLY_PRICE);
  else idleCost = known((s.idleSeconds * billing.hourlyPrice) / HOUR, 'currency', byTier ? 'at the hourly price; the model is billed per token' : undefined);
  const idle: IdleMoney = {
    runtimeHours,
    idleHours,
    idleShare: ratio(idleHours, noRuntime ? unknown('hours', NO_RUNTIME) : runtimeHours, 'ratio', 'no runtime in the window'),
    idleCost,
  };

  // cache savings and tiers at work
  const cacheRecorded = shape !== 'S1';
  const NO_CACHE_COLUMNS = 'this model’s requests table has no cache columns (S1): cache hits are not recorded';
  const HOURLY_CACHE = 'billed by the hour: cache hits save compute time, not money';
  const hitRate = (hits: number, input: number): Figure =>
    cacheRecorded ? ratio(known(hits, 'tokens'), known(input, 'tokens'), 'ratio', 'no input tokens') : unknown('ratio', NO_CACHE_COLUMNS);
  const hitTokens = (hits: number): Figure => (cacheRecorded ? known(hits, 'tokens') : unknown('tokens', NO_CACHE_COLUMNS));
  const tiers: TierRow[] = shapes.map((shapeOfRow, i) => {
    const r = sums[i]!;
    const priced = shapeOfRow.tierIndex !== null;
    const cost = !byTier
      ? unknown('currency', 'billed by the hour')
      : priced
        ? known(r.cost, 'currency')
        : unknown('currency', r.requests > 0 ? 'no tier covers these inputs: the requests are unpriced' : 'no tier covers these inputs');
    const saving = !byTier ? unknown('currency', HOURLY_CACHE) : !cacheRecorded ? unknown('currency', NO_CACHE_COLUMNS) : priced ? known(r.plainCost - r.cost, 'currency') : unknown('currency', 'unpriced');
    const straddle = r.straddles ? 'some of these unpriced requests lie in later uncovered ranges (the scan did not split at them)' : undefined;
    return {
      ...shapeOfRow,
      minInput: r.requests > 0 ? r.minInput : null,
      maxInput: r.requests > 0 ? r.maxInput : null,
      requests: known(r.requests, 'requests', straddle),
      requestShare: ratio(known(r.requests, 'requests'), known(s.requests, 'requests'), 'ratio', 'no requests in the window'),
      inputTokens: known(r.inputTokens, 'tokens', straddle),
      outputTokens: known(r.outputTokens, 'tokens', straddle),
      cost,
      costShare: ratio(cost, known(tierTotal, 'currency'), 'ratio', 'the tiers cost nothing in the window'),
      cacheHitTokens: hitTokens(r.cacheHits),
      hitRate: hitRate(r.cacheHits, r.inputTokens),
      cacheSaving: saving,
    };
  });
  const pricedRows = tiers.filter((t) => t.tierIndex !== null);
  const cacheSaving: Figure = !byTier
    ? unknown('currency', HOURLY_CACHE)
    : !cacheRecorded
      ? unknown('currency', NO_CACHE_COLUMNS)
      : known(
          pricedRows.reduce((a, t) => a + t.cacheSaving.value!, 0),
          'currency',
          plan.tiers.some((t) => t.supportCache) ? unpricedNote : 'no tier has a cache price: cache hits are billed as input',
        );

  // an hourly model without a usable price set: its runtime cells cost an unknown amount
  const costReason = byTier ? unpricedNote : !hourlyPriceKnown ? UNUSABLE_HOURLY : !hourlySet ? NO_HOURLY_PRICE : undefined;
  const hourOfWeek: HourOfWeek = {
    timeZone,
    requests: { unit: 'requests', values: [...cells.requests] },
    tokens: { unit: 'tokens', values: [...cells.tokens] },
    cost: {
      unit: 'currency',
      values: [...cells.cost].map((v, i) => (!byTier && !hourlySet && cells.runtime[i]! > 0 ? null : v)),
      ...(costReason === undefined ? {} : { reason: costReason }),
    },
    runtimeHours: { unit: 'hours', values: [...cells.runtime].map((v) => v / HOUR) },
    idleHours: { unit: 'hours', values: [...cells.idle].map((v) => v / HOUR) },
  };

  return {
    name: s.name,
    billingMethod: s.billingMethod,
    shape,
    usage: {
      requests: known(s.requests, 'requests'),
      inputTokens: known(s.inputTokens, 'tokens'),
      outputTokens: known(s.outputTokens, 'tokens'),
      unpricedRequests: known(s.unpricedRequests, 'requests'),
    },
    billing: billingAdvice,
    idle,
    cache: {
      cacheHitTokens: hitTokens(s.cacheHitTokens),
      hitRate: hitRate(s.cacheHitTokens, s.inputTokens),
      saving: cacheSaving,
    },
    tiers,
    hourOfWeek,
    problems: s.problems,
  };
}

/** Cells summed over models: a cell is unknown only where every model's is. */
function sumCells(models: readonly ModelInsights[], pick: (h: HourOfWeek) => Cells, unit: Unit): Cells {
  const values: (number | null)[] = Array.from({ length: WEEK_CELLS }, (_, i) => {
    let total: number | null = null;
    for (const m of models) {
      const v = pick(m.hourOfWeek).values[i]!;
      if (v !== null) total = (total ?? 0) + v;
    }
    return total;
  });
  const reasons = models.filter((m) => pick(m.hourOfWeek).reason !== undefined).map((m) => `${m.name}: ${pick(m.hourOfWeek).reason}`);
  return reasons.length > 0 ? { unit, values, reason: reasons.join('; ') } : { unit, values };
}

function totals(models: readonly ModelInsights[], timeZone: string): TotalInsights {
  const over = (pick: (m: ModelInsights) => Figure, unit: Unit) => sum(models.map((m) => ({ label: m.name, figure: pick(m) })), unit);
  const actualCost = over((m) => m.billing.actualCost, 'currency');
  const bestCost = sum(
    models.map((m) => {
      const { actualCost: actual, switchSaving } = m.billing;
      const best = actual.value !== null && switchSaving.value !== null ? known(actual.value - Math.max(0, switchSaving.value), 'currency', actual.reason) : actual;
      return { label: m.name, figure: best };
    }),
    'currency',
  );
  const runtimeHours = over((m) => m.idle.runtimeHours, 'hours');
  const idleHours = over((m) => m.idle.idleHours, 'hours');
  const cacheHitTokens = over((m) => m.cache.cacheHitTokens, 'tokens');
  const inputTokens = over((m) => m.usage.inputTokens, 'tokens');
  return {
    usage: {
      requests: over((m) => m.usage.requests, 'requests'),
      inputTokens,
      outputTokens: over((m) => m.usage.outputTokens, 'tokens'),
      unpricedRequests: over((m) => m.usage.unpricedRequests, 'requests'),
    },
    billing: {
      actualCost,
      bestCost,
      possibleSaving:
        actualCost.value === null || bestCost.value === null ? unknown('currency', actualCost.reason ?? bestCost.reason!) : known(actualCost.value - bestCost.value, 'currency', bestCost.reason),
    },
    idle: {
      runtimeHours,
      idleHours,
      idleShare: ratio(idleHours, runtimeHours, 'ratio', 'no runtime in the window'),
      idleCost: over((m) => m.idle.idleCost, 'currency'),
    },
    cache: {
      cacheHitTokens,
      hitRate: ratio(cacheHitTokens, inputTokens, 'ratio', 'no input tokens'),
      saving: over((m) => m.cache.saving, 'currency'),
    },
    hourOfWeek: {
      timeZone,
      requests: sumCells(models, (h) => h.requests, 'requests'),
      tokens: sumCells(models, (h) => h.tokens, 'tokens'),
      cost: sumCells(models, (h) => h.cost, 'currency'),
      runtimeHours: sumCells(models, (h) => h.runtimeHours, 'hours'),
      idleHours: sumCells(models, (h) => h.idleHours, 'hours'),
    },
  };
}

/**
 * Insights for a window of an aggregation, per model and in total: the billing advisor, idle money with
 * the hour-of-week matrix in `timeZone`, cache savings and the tiers at work. The window follows the
 * rules of `summarize` (on the 15-minute grid, the aggregation's bounds or its splits), and so does a
 * price-only what-if `pricing`, which applies to every figure.
 *
 * @example
 * const week = await monitor.aggregate({ from: t0, to: t0 + 7 * 86_400 });
 * const { total } = insightsOf(week, { timeZone: 'Europe/Berlin' });
 * total.idle.idleCost; // { value: 41.3, unit: 'currency' } or { value: null, unit: 'currency', reason: '…' }
 */
export function insightsOf(aggregation: Aggregation, options: InsightOptions): Insights {
  const timeZone = checkTimeZone(options?.timeZone);
  if (!aggregation.bySlot)
    throw new MonitorError('INVALID_INPUT', 'Insights need an aggregation by 15-minute slot (monitor.aggregate), not the one a summary makes.', { value: aggregation.bySlot });
  const window = subWindow(aggregation, options);
  const summary = summarize(aggregation, options);
  const models = priced(aggregation, options);
  const span = matrixSpan(
    aggregation,
    models.map((p) => p.model.name),
    window,
  );
  const hours = new WeekHours(span.from, span.to, timeZone);
  const insights = models.map((p, i) => modelInsights(p, summary.models[i]!, window, hours, timeZone));
  return { from: window.from, to: window.to, timeZone, models: insights, total: totals(insights, timeZone), problems: summary.problems };
}
