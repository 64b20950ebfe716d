import { MonitorError, describeValue } from '../errors.js';
import type { Aggregation } from '../analytics/aggregate.js';
import { dataSpan, priced, summarize } from '../analytics/report.js';
import { checkTime } from '../monitor/validate.js';
import { SLOT_SECONDS, bucketBoundaries, checkTimeZone } from '../time/time-zone.js';
import { type Compared, type Figure, compare, known, sum, unknown } from './figure.js';
import { type InsightOptions, type Insights, billedCost, insightsOf } from './insights.js';

/**
 * Insights of a window beside the period of the same length before it, and a projection of the current
 * calendar month, all from one scan: {@link insightScan} says what to aggregate (the window, the period
 * before it, this month and the last 7 days, split where their bounds are off the 15-minute grid), and
 * {@link insightReport} answers from that aggregation alone.
 */

const DAY = 86_400;
/** The run rate of a projection is measured over this many days before `now`. */
export const PROJECTION_BASIS_DAYS = 7;

export interface InsightScanOptions {
  /** The window, [from, to), epoch seconds; omitted: unbounded (all recorded data). */
  from?: number;
  to?: number;
  /** The present (epoch seconds): the projection counts from it. */
  now: number;
  /** The zone whose calendar month the projection ends with. */
  timeZone: string;
}

/** What to pass to `monitor.aggregate` (with the models and pricing) so that one scan answers {@link insightReport}. */
export interface InsightScan {
  from?: number;
  to?: number;
  splits: number[];
}

const onGrid = (t: number) => t % SLOT_SECONDS === 0;

function monthAround(now: number, timeZone: string): { start: number; end: number } {
  const [start, end] = bucketBoundaries(now, now + 1, 'month', timeZone);
  return { start: start!, end: end! };
}

/**
 * The one scan {@link insightReport} needs for the window [from, to): from the start of the period before
 * it (of the same length) to the end of the window, widened to this calendar month and the last 7 days
 * when the window reaches them (so that the projection needs no second scan), split wherever a bound
 * is off the 15-minute grid.
 *
 * @example
 * const now = Date.now() / 1000;
 * const scan = insightScan({ from: now - 7 * 86_400, to: now, now, timeZone: 'Europe/Berlin' });
 * const aggregation = await monitor.aggregate(scan);
 * const report = insightReport(aggregation, { from: now - 7 * 86_400, to: now, now, timeZone: 'Europe/Berlin' });
 */
export function insightScan(options: InsightScanOptions): InsightScan {
  const { from, to, now, timeZone } = checkOptions(options);
  const month = monthAround(now, timeZone);
  const recent = Math.min(month.start, now - PROJECTION_BASIS_DAYS * DAY);
  const previousFrom = from !== undefined && to !== undefined ? from - (to - from) : from;
  const reachesNow = to === undefined || to >= recent;
  let scanFrom = previousFrom;
  let scanTo = to;
  if (reachesNow) {
    if (scanFrom !== undefined) scanFrom = Math.max(0, Math.min(scanFrom, recent));
    if (scanTo !== undefined) scanTo = Math.max(scanTo, now);
  }
  const candidates = [from, to, previousFrom, ...(reachesNow ? [now, now - PROJECTION_BASIS_DAYS * DAY] : [])];
  const splits = [
    ...new Set(
      candidates.filter(
        (t): t is number => t !== undefined && !onGrid(t) && (scanFrom === undefined || t > scanFrom) && (scanTo === undefined || t < scanTo),
      ),
    ),
  ].sort((a, b) => a - b);
  return { ...(scanFrom === undefined ? {} : { from: scanFrom }), ...(scanTo === undefined ? {} : { to: scanTo }), splits };
}

function checkOptions<T extends InsightScanOptions>(options: T): T {
  if (typeof options !== 'object' || options === null) throw new MonitorError('INVALID_INPUT', `Invalid options: got ${describeValue(options)}.`, { value: options });
  checkTime(undefined, 'now', options.now);
  checkTimeZone(options.timeZone);
  if (options.from !== undefined) checkTime(undefined, 'from', options.from);
  if (options.to !== undefined) checkTime(undefined, 'to', options.to);
  if (options.from !== undefined && options.to !== undefined && options.to < options.from)
    throw new MonitorError('INVALID_INPUT', `Invalid window: to (${options.to}) is before from (${options.from}).`, { value: { from: options.from, to: options.to } });
  return options;
}

/** A month's cost so far and where the recent run rate takes it; every figure an estimate except `monthToDate`. */
export interface ProjectedCost {
  /** The cost from the start of the month to now (recorded, not estimated). */
  monthToDate: Figure;
  /** The cost per day over the basis days. */
  ratePerDay: Figure;
  /** ratePerDay × the days left in the month. */
  restOfMonth: Figure;
  /** monthToDate + restOfMonth. */
  monthTotal: Figure;
}

/**
 * The current calendar month (in the caller's zone) projected from the run rate of the last 7 days: an
 * estimate, labelled so, with the days it is based on.
 */
export interface Projection {
  label: 'estimate';
  timeZone: string;
  now: number;
  /** The calendar month containing `now`, [monthStart, monthEnd). */
  monthStart: number;
  monthEnd: number;
  /**
   * The days the run rate is measured over: the last 7 days, or fewer when the data begins later (from
   * the 15-minute slot of the first record); null when there is nothing to measure.
   */
  basis: { from: number; to: number; days: number } | null;
  /** Why there is no basis (then every figure is unknown with this reason). */
  reason?: string;
  models: { name: string; cost: ProjectedCost }[];
  total: ProjectedCost;
}

export interface InsightReportOptions extends InsightOptions {
  now: number;
}

export interface InsightReport {
  from: number | null;
  to: number | null;
  timeZone: string;
  now: number;
  /** The period of the same length before the window; null when there is none. */
  previous: { from: number; to: number } | null;
  /** Why there is no previous period. */
  previousReason?: string;
  /** Every figure beside the previous period's. */
  insights: Compared<Insights>;
  projection: Projection;
}

function projection(aggregation: Aggregation, options: InsightReportOptions): Projection {
  const { now, timeZone } = options;
  const month = monthAround(now, timeZone);
  const names = priced(aggregation, options).map((p) => p.model.name);
  const base = { label: 'estimate' as const, timeZone, now, monthStart: month.start, monthEnd: month.end };
  const absent = (reason: string): Projection => {
    const cost: ProjectedCost = {
      monthToDate: unknown('currency', reason),
      ratePerDay: unknown('currency/day', reason),
      restOfMonth: unknown('currency', reason),
      monthTotal: unknown('currency', reason),
    };
    return { ...base, basis: null, reason, models: names.map((name) => ({ name, cost })), total: cost };
  };
  const earliest = Math.min(month.start, now - PROJECTION_BASIS_DAYS * DAY);
  if ((aggregation.from !== null && aggregation.from > earliest) || (aggregation.to !== null && aggregation.to < now))
    return absent('the scan does not cover this month and the last 7 days (aggregate what insightScan returns, with a window that reaches them)');
  const QUIET = 'nothing recorded in the last 7 days: no run rate to project from';
  const span = dataSpan(aggregation, names);
  if (span === null || span.first >= now) return absent(QUIET);
  // a model monitored for less than 7 days: its rate over the days it was monitored (from the slot of its first record)
  let basisFrom = now - PROJECTION_BASIS_DAYS * DAY;
  if (span.first >= basisFrom + SLOT_SECONDS) basisFrom = Math.floor(span.first / SLOT_SECONDS) * SLOT_SECONDS;
  const days = (now - basisFrom) / DAY;
  const window = { models: options.models, pricing: options.pricing };
  const recent = summarize(aggregation, { ...window, from: basisFrom, to: now });
  if (recent.total.requests === 0 && recent.total.runtimeSeconds === 0) return absent(QUIET);
  const toDate = summarize(aggregation, { ...window, from: month.start, to: now });
  const models = priced(aggregation, options);
  const daysLeft = (month.end - now) / DAY;
  const costs = models.map((p, i) => {
    const rate = billedCost(p, recent.models[i]!);
    const mtd = billedCost(p, toDate.models[i]!);
    const ratePerDay: Figure = rate.value === null ? unknown('currency/day', rate.reason!) : known(rate.value / days, 'currency/day', rate.reason);
    const restOfMonth: Figure = ratePerDay.value === null ? unknown('currency', ratePerDay.reason!) : known(ratePerDay.value * daysLeft, 'currency', ratePerDay.reason);
    return { name: p.model.name, cost: { monthToDate: mtd, ratePerDay, restOfMonth, monthTotal: sum([{ label: 'month to date', figure: mtd }, { label: 'rest of month', figure: restOfMonth }], 'currency') } };
  });
  const total = (pick: (c: ProjectedCost) => Figure, unit: Figure['unit']) => sum(costs.map((c) => ({ label: c.name, figure: pick(c.cost) })), unit);
  return {
    ...base,
    basis: { from: basisFrom, to: now, days },
    models: costs,
    total: {
      monthToDate: total((c) => c.monthToDate, 'currency'),
      ratePerDay: total((c) => c.ratePerDay, 'currency/day'),
      restOfMonth: total((c) => c.restOfMonth, 'currency'),
      monthTotal: total((c) => c.monthTotal, 'currency'),
    },
  };
}

/**
 * Insights of the window [from, to) with every figure beside the period of the same length before it,
 * and the projection of the current month, from one aggregation (see {@link insightScan}). An unbounded
 * window has no previous period: the previous values are then null and `previousReason` says why.
 */
export function insightReport(aggregation: Aggregation, options: InsightReportOptions): InsightReport {
  const { now, timeZone } = checkOptions(options);
  const current = insightsOf(aggregation, options);
  const { from, to } = current;
  let previous: { from: number; to: number } | null = null;
  let previousReason: string | undefined;
  if (from === null || to === null) previousReason = 'the window is unbounded (all recorded data): a window with both ends has a period before it to compare with';
  else if (from - (to - from) < 0) previousReason = 'the period before the window would begin before 1970';
  else if (aggregation.from !== null && aggregation.from > from - (to - from))
    previousReason = 'the scan does not cover the period before the window (aggregate what insightScan returns)';
  else previous = { from: from - (to - from), to: from };
  const before = previous && insightsOf(aggregation, { ...options, ...previous });
  return {
    from,
    to,
    timeZone,
    now,
    previous,
    ...(previousReason === undefined ? {} : { previousReason }),
    insights: compare(current, before),
    projection: projection(aggregation, options),
  };
}
