import { MonitorError, describeValue } from '../errors.js';
import type { ModelBilling, Shape } from '../monitor/types.js';
import { checkTime } from '../monitor/validate.js';
import { type Aggregation, type ModelAggregate, type SlotGroups, UNUSABLE_ROWS, type Window, overlap } from './aggregate.js';
import { type PricingOverrides, effectiveBilling, ownValue } from '../pricing/override.js';
import { type TierPlan, type TokenSums, sameTierAssignment, tierCost, tierPlan } from '../pricing/tiers.js';
import { type Bucket, SLOT_SECONDS, bucketBoundaries } from '../time/time-zone.js';

/**
 * Summaries and series, computed from an {@link Aggregation} alone (pure functions, no database): the
 * Monitor's `summary` and `series` scan and call these, and an app that keeps the aggregation (the
 * analyzer) answers every later range, bucket, zone and price-only what-if change with them.
 */

/** Usage and cost over a window; the same fields per model and in the total. */
export interface UsageTotals {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  /** Prompt tokens served from the KV cache: Σ min(cacheN, inputTokens). */
  cacheHitTokens: number;
  /** tierCost + hourlyCost. */
  cost: number;
  /** Per-token cost of tier-billed models. */
  tierCost: number;
  /** Runtime cost of hourly-billed models, clipped to the window. */
  hourlyCost: number;
  /**
   * Requests whose stored values cannot be used (text or negative token counts, a text time,
   * as another program may have written them): left out of every other figure, never summed.
   */
  unusableRequests: number;
  /** Requests of tier-billed models that no tier matches: reported, never priced as free. */
  unpricedRequests: number;
  unpricedInputTokens: number;
  unpricedOutputTokens: number;
  /** Uptime: seconds of the model's runs inside the window. */
  runtimeSeconds: number;
  /** Uptime in 15-minute slots in which the model served no request. */
  idleSeconds: number;
  /** Runs in the window that were started and never ended nor heart-beaten (end == start, or NULL). */
  openRuns: number;
  firstRequestAt: number | null;
  lastRequestAt: number | null;
  /** cost per million tokens (input + output) served; null when no tokens. For hourly models, the effective price. */
  costPerMillionTokens: number | null;
}

export interface ModelSummary extends UsageTotals {
  name: string;
  billingMethod: 'tier' | 'hourly';
  shape: Shape;
  /**
   * What makes this model's figures less than certain: unusable values in its billing rows (those tiers
   * are left out, so their requests count as unpriced; an unusable hourly price leaves the hourly cost
   * out). Empty when the figures are complete.
   */
  problems: string[];
}

export interface Summary {
  /** The window as asked: [from, to), null where unbounded. */
  from: number | null;
  to: number | null;
  models: ModelSummary[];
  total: UsageTotals;
  /** The models' problems, each prefixed with the model's name, and models left out of the figures. */
  problems: string[];
}

/** What a bucket reports per model and in total. */
export interface BucketUsage {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cacheHitTokens: number;
  cost: number;
  tierCost: number;
  hourlyCost: number;
  unpricedRequests: number;
  runtimeSeconds: number;
}

export interface SeriesBucket {
  /** The bucket's calendar bounds in the zone, epoch seconds; its data is clipped to the window. */
  start: number;
  end: number;
  total: BucketUsage;
  /** Per model name (a record without a prototype: any model name, `__proto__` too, is an ordinary key). */
  models: Record<string, BucketUsage>;
}

export interface Series {
  from: number;
  to: number;
  bucket: Bucket;
  timeZone: string;
  buckets: SeriesBucket[];
}

/** At most this many buckets per series (choose a coarser bucket for longer ranges). */
export const MAX_BUCKETS = 100_000;

/** Which part of an aggregation to report, and with which prices. */
export interface ReportOptions {
  /**
   * Epoch seconds; [from, to) must lie inside the aggregation's window, each bound on the 15-minute grid
   * (a multiple of 900) or equal to the aggregation's own bound. Omitted: the aggregation's bound.
   */
  from?: number;
  to?: number;
  /** Only these models (default: every model of the aggregation). */
  models?: readonly string[];
  /**
   * Price with these settings, laid over each model's stored billing, instead of the ones the scan used.
   * An override that changes which tier prices a request (tier indexes or bounds) needs a new scan: see
   * {@link rescanNeeded}.
   */
  pricing?: PricingOverrides;
}

export interface SeriesReportOptions extends ReportOptions {
  bucket: Bucket;
  timeZone: string;
}

const ZERO_TOTALS: UsageTotals = {
  requests: 0,
  unusableRequests: 0,
  inputTokens: 0,
  outputTokens: 0,
  cacheHitTokens: 0,
  cost: 0,
  tierCost: 0,
  hourlyCost: 0,
  unpricedRequests: 0,
  unpricedInputTokens: 0,
  unpricedOutputTokens: 0,
  runtimeSeconds: 0,
  idleSeconds: 0,
  openRuns: 0,
  firstRequestAt: null,
  lastRequestAt: null,
  costPerMillionTokens: null,
};

const ZERO_BUCKET: BucketUsage = { requests: 0, inputTokens: 0, outputTokens: 0, cacheHitTokens: 0, cost: 0, tierCost: 0, hourlyCost: 0, unpricedRequests: 0, runtimeSeconds: 0 };

const SUMMED = [
  'requests',
  'unusableRequests',
  'inputTokens',
  'outputTokens',
  'cacheHitTokens',
  'cost',
  'tierCost',
  'hourlyCost',
  'unpricedRequests',
  'unpricedInputTokens',
  'unpricedOutputTokens',
  'runtimeSeconds',
  'idleSeconds',
  'openRuns',
] as const;

const lower = (window: Window) => window.from ?? Number.NEGATIVE_INFINITY;
const upper = (window: Window) => window.to ?? Number.POSITIVE_INFINITY;

function costPerMillion(totals: UsageTotals): number | null {
  const tokens = totals.inputTokens + totals.outputTokens;
  return tokens > 0 ? (totals.cost / tokens) * 1e6 : null;
}

/** A model of the aggregation with the billing to price it with. */
export interface Priced {
  model: ModelAggregate;
  billing: ModelBilling;
  plan: TierPlan;
  /** The hourly price is known (stored and usable, or given by the what-if). */
  hourlyKnown: boolean;
  problems: string[];
}

function checkBound(what: 'from' | 'to', value: number | undefined, aggregation: Aggregation): number | null {
  const { bySlot } = aggregation;
  const own = aggregation[what];
  if (value === undefined) return own;
  const t = checkTime(undefined, what, value);
  if (t === own || aggregation.splits.includes(t)) return t;
  const outside = own !== null && (what === 'from' ? t < own : t > own);
  if (outside)
    throw new MonitorError('INVALID_INPUT', `Invalid ${what}: ${t} lies outside the aggregated window (${what} ${own}); aggregate that range first.`, {
      value: t,
    });
  if (!bySlot)
    throw new MonitorError('INVALID_INPUT', `Invalid ${what}: ${t}; this aggregation was not made by slot, so it reports only its own window.`, { value: t });
  if (t % SLOT_SECONDS !== 0)
    throw new MonitorError(
      'INVALID_INPUT',
      `Invalid ${what}: ${t} is not on the 15-minute grid (a multiple of ${SLOT_SECONDS} s) nor one of the aggregation's splits; aggregate with it as a split (or that window) instead.`,
      { value: t },
    );
  return t;
}

export function subWindow(aggregation: Aggregation, options: ReportOptions): Window {
  if (typeof options !== 'object' || options === null)
    throw new MonitorError('INVALID_INPUT', `Invalid options: got ${describeValue(options)}.`, { value: options });
  const from = checkBound('from', options.from, aggregation);
  const to = checkBound('to', options.to, aggregation);
  if (from !== null && to !== null && to < from)
    throw new MonitorError('INVALID_INPUT', `Invalid window: to (${to}) is before from (${from}).`, { value: { from, to } });
  return { from, to };
}

function unknownModel(name: string, what: string): MonitorError {
  return new MonitorError('UNKNOWN_MODEL', `Unknown model ${describeValue(name)} in ${what}: it is not in this database.`, { model: name });
}

function checkPricing(aggregation: Aggregation, pricing: unknown): PricingOverrides | undefined {
  if (pricing === undefined) return undefined;
  if (typeof pricing !== 'object' || pricing === null || Array.isArray(pricing))
    throw new MonitorError('INVALID_INPUT', `Invalid pricing: got ${describeValue(pricing)} (expected an object keyed by model name).`, { value: pricing });
  const names = new Set(aggregation.models.map((m) => m.name));
  for (const name of Object.keys(pricing)) if (!names.has(name)) throw unknownModel(name, 'the what-if pricing');
  return pricing as PricingOverrides;
}

/** The models to report, each with the billing to price it with. */
export function priced(aggregation: Aggregation, options: ReportOptions): Priced[] {
  const pricing = checkPricing(aggregation, options.pricing);
  let models = aggregation.models;
  if (options.models !== undefined) {
    if (!Array.isArray(options.models))
      throw new MonitorError('INVALID_INPUT', `Invalid models: got ${describeValue(options.models)} (expected an array of model names).`, { value: options.models });
    const byName = new Map(models.map((m) => [m.name, m]));
    models = options.models.map((name) => {
      const model = byName.get(name);
      if (!model) throw unknownModel(name, 'the model filter');
      return model;
    });
  }
  return models.map((model) => {
    const override = pricing === undefined ? undefined : ownValue(pricing, model.name);
    let billing = model.billing;
    if (pricing !== undefined) {
      billing = effectiveBilling(model.name, model.storedBilling, override);
      if (!sameTierAssignment(billing, model.billing))
        throw new MonitorError(
          'INVALID_INPUT',
          `The what-if pricing for model ${describeValue(model.name)} changes which tier prices a request (tier indexes or bounds), which this aggregation cannot show; aggregate again with that pricing.`,
          { model: model.name, value: override },
        );
    }
    const hourlyKnown = model.hourlyPriceUsable || override?.hourlyPrice !== undefined;
    const problems = [...model.billingProblems];
    return { model, billing, plan: tierPlan(billing), hourlyKnown, problems };
  });
}

/**
 * Calls `fn` for each group of the model in the window: whose slot overlaps it (every group when not by
 * slot). A window bound inside a slot is a bound of the scan or one of its splits, so each group of that
 * slot lies on one side of it: its first request says which.
 */
export function eachGroup(groups: SlotGroups, window: Window, fn: (i: number) => void): void {
  const from = lower(window);
  const to = upper(window);
  for (let i = 0; i < groups.length; i++) {
    const slot = groups.slot[i]!;
    if (!Number.isNaN(slot)) {
      const start = slot * SLOT_SECONDS;
      if (start >= to || start + SLOT_SECONDS <= from) continue;
      if ((start < from || start + SLOT_SECONDS > to) && !(groups.firstAt[i]! >= from && groups.firstAt[i]! < to)) continue;
    }
    fn(i);
  }
}

/** The sums of group `i`, in `into` when given (a loop over many groups can reuse one object). */
export function sumsAt(groups: SlotGroups, i: number, into?: TokenSums): TokenSums {
  const sums = into ?? ({} as TokenSums);
  sums.requests = groups.requests[i]!;
  sums.inputTokens = groups.inputTokens[i]!;
  sums.outputTokens = groups.outputTokens[i]!;
  sums.cacheHits = groups.cacheHits[i]!;
  sums.cacheN = groups.cacheN[i]!;
  sums.promptN = groups.promptN[i]!;
  return sums;
}

function summarizeModel(p: Priced, window: Window): ModelSummary {
  const { billing, plan } = p;
  const { groups } = p.model;
  const totals: UsageTotals = { ...ZERO_TOTALS };
  const busySlots = new Set<number>();
  eachGroup(groups, window, (i) => {
    if (groups.tier[i] === UNUSABLE_ROWS) {
      totals.unusableRequests += groups.requests[i]!;
      return;
    }
    busySlots.add(groups.slot[i]!);
    totals.requests += groups.requests[i]!;
    totals.inputTokens += groups.inputTokens[i]!;
    totals.outputTokens += groups.outputTokens[i]!;
    totals.cacheHitTokens += groups.cacheHits[i]!;
    totals.firstRequestAt = totals.firstRequestAt === null ? groups.firstAt[i]! : Math.min(totals.firstRequestAt, groups.firstAt[i]!);
    totals.lastRequestAt = totals.lastRequestAt === null ? groups.lastAt[i]! : Math.max(totals.lastRequestAt, groups.lastAt[i]!);
    if (!billing.useTierPricing) return;
    const tier = groups.tier[i]!;
    if (Number.isNaN(tier)) {
      totals.unpricedRequests += groups.requests[i]!;
      totals.unpricedInputTokens += groups.inputTokens[i]!;
      totals.unpricedOutputTokens += groups.outputTokens[i]!;
    } else totals.tierCost += tierCost(plan, tier, sumsAt(groups, i));
  });
  const from = lower(window);
  const to = upper(window);
  for (const run of p.model.runs) {
    const seconds = overlap(run.start, run.end, from, to);
    totals.runtimeSeconds += seconds;
    if (run.open && run.start >= from && run.start < to) totals.openRuns++;
    if (seconds > 0) {
      const a = Math.max(run.start, from);
      const b = Math.min(run.end, to);
      for (let slot = Math.floor(a / SLOT_SECONDS); slot * SLOT_SECONDS < b; slot++)
        if (!busySlots.has(slot)) totals.idleSeconds += overlap(a, b, slot * SLOT_SECONDS, (slot + 1) * SLOT_SECONDS);
    }
  }
  if (!billing.useTierPricing && p.hourlyKnown) totals.hourlyCost = (totals.runtimeSeconds * billing.hourlyPrice) / 3600;
  totals.cost = totals.tierCost + totals.hourlyCost;
  totals.costPerMillionTokens = costPerMillion(totals);
  const problems =
    totals.unusableRequests > 0
      ? [...p.problems, `${totals.unusableRequests} requests hold unusable values (text or negative token counts); they are left out of every figure`]
      : p.problems;
  return { name: p.model.name, billingMethod: billing.useTierPricing ? 'tier' : 'hourly', shape: p.model.shape, ...totals, problems };
}

/**
 * Usage and cost per model and in total over a window, from an aggregation. `monitor.summary(options)`
 * returns the same as `summarize(await monitor.aggregate(options))`.
 *
 * @example
 * const week = await monitor.aggregate({ from: t0, to: t0 + 7 * 86_400 });
 * const day2 = summarize(week, { from: t0 + 86_400, to: t0 + 2 * 86_400 }); // t0 on the 15-minute grid
 * const cheaper = summarize(week, { pricing: { qwen: { hourlyPrice: 1.5 } } });
 */
export function summarize(aggregation: Aggregation, options: ReportOptions = {}): Summary {
  const window = subWindow(aggregation, options);
  const models = priced(aggregation, options).map((p) => summarizeModel(p, window));
  const total: UsageTotals = { ...ZERO_TOTALS };
  const problems = [...aggregation.problems];
  for (const m of models) {
    for (const key of SUMMED) total[key] += m[key];
    if (m.firstRequestAt !== null) total.firstRequestAt = total.firstRequestAt === null ? m.firstRequestAt : Math.min(total.firstRequestAt, m.firstRequestAt);
    if (m.lastRequestAt !== null) total.lastRequestAt = total.lastRequestAt === null ? m.lastRequestAt : Math.max(total.lastRequestAt, m.lastRequestAt);
    for (const problem of m.problems) problems.push(`model ${JSON.stringify(m.name)}: ${problem}`);
  }
  total.costPerMillionTokens = costPerMillion(total);
  return { from: window.from, to: window.to, models, total, problems };
}

/** The first and last activity (request or run) of an aggregation's models; null when it has none. */
export function dataSpan(aggregation: Aggregation, models?: readonly string[]): { first: number; last: number } | null {
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  const wanted = models === undefined ? null : new Set(models);
  for (const m of aggregation.models) {
    if (wanted && !wanted.has(m.name)) continue;
    for (let i = 0; i < m.groups.length; i++) {
      if (m.groups.tier[i] === UNUSABLE_ROWS) continue;
      first = Math.min(first, m.groups.firstAt[i]!);
      last = Math.max(last, m.groups.lastAt[i]!);
    }
    for (const r of m.runs) {
      first = Math.min(first, r.start);
      last = Math.max(last, r.end);
    }
  }
  return Number.isFinite(first) && Number.isFinite(last) ? { first, last } : null;
}

/**
 * The models whose what-if `pricing` changes which tier prices a request (tier indexes or bounds), so
 * that the aggregation cannot price them: aggregate again with that pricing. Price-only changes (prices,
 * billing method, hourly price) are not listed.
 */
export function rescanNeeded(aggregation: Aggregation, pricing: PricingOverrides): string[] {
  const overrides = checkPricing(aggregation, pricing) ?? {};
  return aggregation.models
    .filter((m) => Object.hasOwn(overrides, m.name) && !sameTierAssignment(effectiveBilling(m.name, m.storedBilling, overrides[m.name]), m.billing))
    .map((m) => m.name);
}

/**
 * The same figures per calendar bucket (hour, day, week starting Monday, month) aligned in an IANA
 * zone, DST-correct. Bucket costs add up to the summary's cost for the same window.
 */
export function seriesOf(aggregation: Aggregation, options: SeriesReportOptions): Series {
  const window = subWindow(aggregation, options);
  const { bucket, timeZone } = options;
  const models = priced(aggregation, options);
  const span = resolveSeriesWindow(aggregation, models, window);
  if (!span) return { from: window.from ?? 0, to: window.to ?? 0, bucket, timeZone, buckets: [] };
  // a lower bound of the bucket count: the longest each bucket can be (a 25-hour day, a 31-day month)
  const estimate = (span.to - span.from) / { hour: 7200, day: 90_000, week: 630_000, month: 2_682_000 }[bucket];
  if (estimate > MAX_BUCKETS)
    throw new MonitorError(
      'INVALID_INPUT',
      `A ${bucket} series over ${span.from}–${span.to} would have about ${Math.ceil(estimate)} buckets (limit ${MAX_BUCKETS}): choose a coarser bucket or a shorter range.`,
      { value: bucket },
    );
  const bounds = bucketBoundaries(span.from, span.to, bucket, timeZone);
  const buckets: SeriesBucket[] = [];
  for (let i = 0; i + 1 < bounds.length; i++)
    buckets.push({ start: bounds[i]!, end: bounds[i + 1]!, total: { ...ZERO_BUCKET }, models: Object.create(null) as Record<string, BucketUsage> });
  const bucketOf = (t: number): number => {
    let lo = 0;
    let hi = buckets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (buckets[mid]!.start <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  for (const p of models) {
    const { name, groups } = p.model;
    const usages = buckets.map((b) => (b.models[name] = { ...ZERO_BUCKET }));
    eachGroup(groups, window, (i) => {
      if (groups.tier[i] === UNUSABLE_ROWS) return;
      const usage = usages[bucketOf(groups.slot[i]! * SLOT_SECONDS)]!;
      usage.requests += groups.requests[i]!;
      usage.inputTokens += groups.inputTokens[i]!;
      usage.outputTokens += groups.outputTokens[i]!;
      usage.cacheHitTokens += groups.cacheHits[i]!;
      if (!p.billing.useTierPricing) return;
      const tier = groups.tier[i]!;
      if (Number.isNaN(tier)) usage.unpricedRequests += groups.requests[i]!;
      else usage.tierCost += tierCost(p.plan, tier, sumsAt(groups, i));
    });
    for (const run of p.model.runs) {
      const start = Math.max(run.start, lower(window));
      const end = Math.min(run.end, upper(window));
      if (end <= start) continue;
      for (let i = bucketOf(start); i < buckets.length && buckets[i]!.start < end; i++) {
        const seconds = overlap(start, end, buckets[i]!.start, buckets[i]!.end);
        usages[i]!.runtimeSeconds += seconds;
        if (!p.billing.useTierPricing && p.hourlyKnown) usages[i]!.hourlyCost += (seconds * p.billing.hourlyPrice) / 3600;
      }
    }
    buckets.forEach((b, i) => {
      const usage = usages[i]!;
      usage.cost = usage.tierCost + usage.hourlyCost;
      for (const key of Object.keys(ZERO_BUCKET) as (keyof BucketUsage)[]) b.total[key] += usage[key];
    });
  }
  return { from: span.from, to: span.to, bucket, timeZone, buckets };
}

/** The series' window: the window asked, its open ends closed by the reported models' data. */
function resolveSeriesWindow(aggregation: Aggregation, models: readonly Priced[], window: Window): { from: number; to: number } | null {
  const span = dataSpan(aggregation, models.map((p) => p.model.name));
  const from = window.from ?? span?.first ?? Number.NaN;
  const to = window.to ?? (span ? span.last + 1 : Number.NaN);
  return Number.isFinite(from) && Number.isFinite(to) && from < to ? { from, to } : null;
}
