import { MonitorError } from '../errors.js';
import type { Shape } from '../monitor/types.js';
import { type ModelActivity, type Window, overlap } from './aggregate.js';
import { tierCost } from './pricing.js';
import { type Bucket, SLOT_SECONDS, bucketBoundaries } from './time-zone.js';

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
}

export interface Summary {
  /** The window as asked: [from, to), null where unbounded. */
  from: number | null;
  to: number | null;
  models: ModelSummary[];
  total: UsageTotals;
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

function emptyTotals(): UsageTotals {
  return {
    requests: 0,
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
}

function emptyBucketUsage(): BucketUsage {
  return { requests: 0, inputTokens: 0, outputTokens: 0, cacheHitTokens: 0, cost: 0, tierCost: 0, hourlyCost: 0, unpricedRequests: 0, runtimeSeconds: 0 };
}

const lower = (window: Window) => window.from ?? Number.NEGATIVE_INFINITY;
const upper = (window: Window) => window.to ?? Number.POSITIVE_INFINITY;

function costPerMillion(totals: UsageTotals): number | null {
  const tokens = totals.inputTokens + totals.outputTokens;
  return tokens > 0 ? (totals.cost / tokens) * 1e6 : null;
}

function summarizeModel(activity: ModelActivity, window: Window): ModelSummary {
  const { billing, plan } = activity;
  const totals = emptyTotals();
  const { busySlots } = activity;
  for (const g of activity.groups) {
    totals.requests += g.requests;
    totals.inputTokens += g.inputTokens;
    totals.outputTokens += g.outputTokens;
    totals.cacheHitTokens += g.cacheHits;
    totals.firstRequestAt = totals.firstRequestAt === null ? g.firstAt : Math.min(totals.firstRequestAt, g.firstAt);
    totals.lastRequestAt = totals.lastRequestAt === null ? g.lastAt : Math.max(totals.lastRequestAt, g.lastAt);
    if (!billing.useTierPricing) continue;
    if (g.tier === null) {
      totals.unpricedRequests += g.requests;
      totals.unpricedInputTokens += g.inputTokens;
      totals.unpricedOutputTokens += g.outputTokens;
    } else totals.tierCost += tierCost(plan, g.tier, g);
  }
  const from = lower(window);
  const to = upper(window);
  for (const run of activity.runs) {
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
  if (!billing.useTierPricing) totals.hourlyCost = (totals.runtimeSeconds * billing.hourlyPrice) / 3600;
  totals.cost = totals.tierCost + totals.hourlyCost;
  totals.costPerMillionTokens = costPerMillion(totals);
  return { name: activity.ref.name, billingMethod: billing.useTierPricing ? 'tier' : 'hourly', shape: activity.ref.shape, ...totals };
}

export function buildSummary(activities: readonly ModelActivity[], window: Window): Summary {
  const models = activities.map((a) => summarizeModel(a, window));
  const total = emptyTotals();
  for (const m of models) {
    for (const key of [
      'requests',
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
    ] as const)
      total[key] += m[key];
    if (m.firstRequestAt !== null) total.firstRequestAt = total.firstRequestAt === null ? m.firstRequestAt : Math.min(total.firstRequestAt, m.firstRequestAt);
    if (m.lastRequestAt !== null) total.lastRequestAt = total.lastRequestAt === null ? m.lastRequestAt : Math.max(total.lastRequestAt, m.lastRequestAt);
  }
  total.costPerMillionTokens = costPerMillion(total);
  return { from: window.from, to: window.to, models, total };
}

/** The span of the data (requests and runs) when the window leaves an end open. */
function resolveWindow(activities: readonly ModelActivity[], window: Window): { from: number; to: number } | null {
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const a of activities) {
    for (const g of a.groups) {
      first = Math.min(first, g.firstAt);
      last = Math.max(last, g.lastAt);
    }
    for (const r of a.runs) {
      first = Math.min(first, r.start);
      last = Math.max(last, r.end);
    }
  }
  const from = window.from ?? first;
  const to = window.to ?? last + 1;
  return Number.isFinite(from) && Number.isFinite(to) && from < to ? { from, to } : null;
}

function add(target: BucketUsage, source: BucketUsage): void {
  for (const key of Object.keys(target) as (keyof BucketUsage)[]) target[key] += source[key];
}

export function buildSeries(activities: readonly ModelActivity[], window: Window, bucket: Bucket, timeZone: string): Series {
  const span = resolveWindow(activities, window);
  if (!span) return { from: window.from ?? 0, to: window.to ?? 0, bucket, timeZone, buckets: [] };
  // a lower bound of the bucket count: the longest each bucket can be (a 25-hour day, a 31-day month)
  const estimate = (span.to - span.from) / { hour: 7200, day: 90_000, week: 630_000, month: 2_682_000 }[bucket];
  if (estimate > MAX_BUCKETS)
    throw new MonitorError('INVALID_INPUT', `A ${bucket} series over ${span.from}–${span.to} would have about ${Math.ceil(estimate)} buckets (limit ${MAX_BUCKETS}): choose a coarser bucket or a shorter range.`, {
      value: bucket,
    });
  const bounds = bucketBoundaries(span.from, span.to, bucket, timeZone);
  const buckets: SeriesBucket[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) buckets.push({ start: bounds[i]!, end: bounds[i + 1]!, total: emptyBucketUsage(), models: {} });
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
  for (const a of activities) {
    const name = a.ref.name;
    for (const b of buckets) b.models[name] = emptyBucketUsage();
    for (const g of a.groups) {
      const usage = buckets[bucketOf(g.slot! * SLOT_SECONDS)]!.models[name]!;
      usage.requests += g.requests;
      usage.inputTokens += g.inputTokens;
      usage.outputTokens += g.outputTokens;
      usage.cacheHitTokens += g.cacheHits;
      if (!a.billing.useTierPricing) continue;
      if (g.tier === null) usage.unpricedRequests += g.requests;
      else usage.tierCost += tierCost(a.plan, g.tier, g);
    }
    for (const run of a.runs) {
      const start = Math.max(run.start, lower(window));
      const end = Math.min(run.end, upper(window));
      if (end <= start) continue;
      for (let i = bucketOf(start); i < buckets.length && buckets[i]!.start < end; i++) {
        const seconds = overlap(start, end, buckets[i]!.start, buckets[i]!.end);
        const usage = buckets[i]!.models[name]!;
        usage.runtimeSeconds += seconds;
        if (!a.billing.useTierPricing) usage.hourlyCost += (seconds * a.billing.hourlyPrice) / 3600;
      }
    }
    for (const b of buckets) {
      const usage = b.models[name]!;
      usage.cost = usage.tierCost + usage.hourlyCost;
      add(b.total, usage);
    }
  }
  return { from: span.from, to: span.to, bucket, timeZone, buckets };
}
