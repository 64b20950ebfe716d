import { MonitorError, describeValue } from '../errors.js';
import type { SqlValue } from '../driver/driver.js';
import type { Dialect } from '../driver/dialect.js';
import type { Session } from '../driver/executor.js';
import type { ModelBilling, Shape } from '../monitor/types.js';
import type { ResolvedModel } from '../schema/catalog.js';
import { type StoredBilling, num } from '../schema/file-values.js';
import { Conditions, type RequestSource } from '../schema/layouts/layout.js';
import { type PricingOverride, effectiveBilling } from '../pricing/override.js';
import { type TierPlan, tierCaseSql, tierPlan, uncoveredInputs } from '../pricing/tiers.js';
import { MAX_EPOCH_SECONDS, checkTime } from '../monitor/validate.js';
import { SLOT_SECONDS } from '../time/time-zone.js';

/**
 * The one scan every report is built from: per model, its requests grouped by 15-minute slot and by
 * the tier that prices them, with their token sums, plus the model's runs overlapping the window. The
 * result is small (slots × tiers) whatever the number of requests, and plain data: summaries, series
 * and insights for any part of the window, any bucket, zone or price-only what-if are computed from it
 * without reading the database again (see `report.ts`).
 */

/** A half-open window [from, to) in epoch seconds; null is unbounded. */
export interface Window {
  from: number | null;
  to: number | null;
}

/**
 * The groups of one model, column by column (typed arrays: compact, and transferable to a worker).
 * Group `i` is the requests of slot `slot[i]` priced by tier `tier[i]`.
 */
export interface SlotGroups {
  readonly length: number;
  /** The 15-minute slot (`floor(t / 900)`); NaN when the scan was not by slot (one group per tier). */
  readonly slot: Float64Array;
  /**
   * The tier index that prices these requests (whatever the billing method); NaN when no tier matches;
   * {@link UNUSABLE_ROWS} for rows whose stored values cannot be used (text or negative token
   * counts, a text time): those are left out of every figure and counted as `unusableRequests`.
   */
  readonly tier: Float64Array;
  readonly requests: Float64Array;
  readonly inputTokens: Float64Array;
  readonly outputTokens: Float64Array;
  /** Σ min(cache_n, input_tokens): prompt tokens served from the KV cache. */
  readonly cacheHits: Float64Array;
  /** Σ cache_n and Σ prompt_n as recorded (the S5–S7 cache formula needs them). */
  readonly cacheN: Float64Array;
  readonly promptN: Float64Array;
  /** The smallest and largest input of a request in the group (where requests fall against tier bounds). */
  readonly minInput: Float64Array;
  readonly maxInput: Float64Array;
  readonly firstAt: Float64Array;
  readonly lastAt: Float64Array;
}

/** One run of a model, clipped to nothing: the stored start and end. */
export interface Run {
  start: number;
  end: number;
  /** Started and never ended nor heart-beaten: `end_time == start_time` (or NULL in S7 files). */
  open: boolean;
}

/** What the scan found for one model. */
export interface ModelAggregate {
  name: string;
  shape: Shape;
  /** The billing stored in the file without unusable tiers (null when it has none): what an override is laid over. */
  storedBilling: ModelBilling | null;
  /** The billing the scan assigned tiers with: the stored one with the scan's what-if override laid over it. */
  billing: ModelBilling;
  /** Values in the file's billing rows that could not be used (those tiers are left out). */
  billingProblems: string[];
  /** False when the stored hourly price is unusable: the model's hourly cost is then unknown. */
  hourlyPriceUsable: boolean;
  groups: SlotGroups;
  runs: Run[];
}

/** The result of one scan; see {@link ModelAggregate}. */
export interface Aggregation {
  /** The window scanned, [from, to); null where unbounded. */
  from: number | null;
  to: number | null;
  /** True when the groups are per 15-minute slot (so any grid-aligned part of the window can be reported). */
  bySlot: boolean;
  /**
   * Times inside the window the scan split its groups at (see {@link ScanSplits}): besides the 15-minute
   * grid and the window's own bounds, a report can begin or end at these. Ascending.
   */
  splits: number[];
  /** Input-token counts the scan split its groups at (see {@link ScanSplits}). Ascending. */
  inputBounds: number[];
  models: ModelAggregate[];
  /** Models left out of the scan and why (a mapping row naming another model's tables, missing tables). */
  problems: string[];
}

/**
 * Where a scan splits its groups besides the 15-minute slot and the tier. A report of a part of the
 * window may begin and end only where the groups were split, and a price that depends on the input size
 * (another catalog's tiers) can be applied to a group only if all its requests lie on one side of each
 * of its thresholds: these say where else to split, so that one scan still answers everything.
 */
export interface ScanSplits {
  /**
   * Times (epoch seconds) inside the window, e.g. the start of a previous period or "7 days ago" when they
   * are not on the 15-minute grid: every group then holds only requests before such a time or only at or
   * after it. At most {@link MAX_SPLITS}.
   */
  splits?: readonly number[];
  /**
   * Input-token counts (whole numbers >= 1): every group then holds only requests with fewer input tokens
   * or only requests with at least that many (its `minInput`/`maxInput` say which). At most
   * {@link MAX_SPLITS}. Range tiers with more than one uncovered input range add their own bounds, so that
   * unpriced requests are grouped by the gap they fall in.
   */
  inputBounds?: readonly number[];
}

/** How a scan groups and what it collects besides the sums. */
export interface ScanShape {
  /** Group by slot (else by slot only where idle time needs it: a model with runs in the window). */
  bySlot: boolean;
  splits: { splits: readonly number[]; inputBounds: readonly number[] };
  /** Also the smallest and largest input per group (`minInput`/`maxInput`, NaN without), for the insights. */
  inputRange: boolean;
  /**
   * The time a group spans: {@link SLOT_SECONDS}, or a whole multiple of it when the caller knows every
   * boundary it will report at lies on that coarser grid (an hourly series in a zone whose offsets are
   * whole hours). Such a group is filed under the 15-minute slot of its first request.
   */
  slotSeconds: number;
}

/** At most this many split times and this many input bounds per scan. */
export const MAX_SPLITS = 64;

/** The checked, sorted, de-duplicated splits of a scan of `window` (INVALID_INPUT naming a bad value). */
export function checkScanSplits(options: ScanSplits, window: Window): { splits: number[]; inputBounds: number[] } {
  const list = (name: 'splits' | 'inputBounds', check: (value: unknown) => number): number[] => {
    const values = options[name];
    if (values === undefined) return [];
    if (!Array.isArray(values) || values.length > MAX_SPLITS)
      throw new MonitorError('INVALID_INPUT', `Invalid ${name}: got ${describeValue(values)} (expected an array of at most ${MAX_SPLITS} numbers).`, { value: values });
    return [...new Set(values.map(check))].sort((a, b) => a - b);
  };
  const splits = list('splits', (value) => {
    const t = checkTime(undefined, 'split', value);
    if ((window.from !== null && t <= window.from) || (window.to !== null && t >= window.to))
      throw new MonitorError('INVALID_INPUT', `Invalid split: ${t} is not inside the window [${window.from ?? '-∞'}, ${window.to ?? '∞'}).`, { value: t });
    return t;
  });
  const inputBounds = list('inputBounds', (value) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
      throw new MonitorError('INVALID_INPUT', `Invalid input bound: got ${describeValue(value)} (expected a whole number of input tokens >= 1).`, { value });
    return value;
  });
  return { splits, inputBounds };
}

/** `CASE WHEN column < b1 THEN 0 WHEN column < b2 THEN 1 … ELSE n END`: which side of each bound a row is on. */
function sideOf(column: string, bounds: readonly number[]): string {
  return `CASE ${bounds.map((b, i) => `WHEN ${column} < ${b} THEN ${i}`).join(' ')} ELSE ${bounds.length} END`;
}

const GROUP_COLUMNS = ['slot', 'tier', 'requests', 'inputTokens', 'outputTokens', 'cacheHits', 'cacheN', 'promptN', 'minInput', 'maxInput', 'firstAt', 'lastAt'] as const;

/**
 * How a group's key encodes its slot and tier: `slot × width + code`, where `code mod (tiers + 2)` is the
 * tier's position in the plan (`tiers`: no tier matched, `tiers + 1`: unusable values) and the rest of
 * `code` which side of each split and bound its requests are on. One integer key makes SQL sort on one
 * column instead of several, which is most of what grouping by slot costs.
 */
interface GroupKey {
  slotted: boolean;
  width: number;
  /** Tier index per tier code: the plan's tiers, then NaN (unpriced), then UNUSABLE_ROWS. */
  tiers: number[];
  /** 15-minute slots per group (1, or 4 for groups of an hour). */
  slotsPerGroup: number;
}

const orNaN = (value: SqlValue | undefined): number => (value === null || value === undefined ? Number.NaN : Number(value));

/** The columns of a scan's rows, in their order: the rows come as arrays (see `Session.queryArrays`). */
const SCAN_COLUMNS = [
  'group_key',
  'requests',
  'input_tokens',
  'output_tokens',
  'cache_hits',
  'cache_n',
  'prompt_n',
  'min_input_tokens',
  'max_input_tokens',
  'min_value',
  'max_value',
  'first_at',
  'last_at',
] as const;
const at = Object.fromEntries(SCAN_COLUMNS.map((column, i) => [column, i])) as Record<(typeof SCAN_COLUMNS)[number], number>;

function toGroups(rows: readonly (readonly SqlValue[])[], key: GroupKey): SlotGroups {
  const n = rows.length;
  const columns = Object.fromEntries(GROUP_COLUMNS.map((c) => [c, new Float64Array(n)])) as Record<(typeof GROUP_COLUMNS)[number], Float64Array>;
  const codes = key.tiers.length;
  rows.forEach((row, i) => {
    const k = num(row[at.group_key]);
    const slot = key.slotted ? Math.floor(k / key.width) : Number.NaN;
    const code = key.slotted ? k - slot * key.width : k;
    // a group longer than a slot is filed under the slot of its first request (inside the scanned window)
    columns.slot[i] = key.slotsPerGroup === 1 ? slot : Math.floor(num(row[at.first_at]) / SLOT_SECONDS);
    columns.tier[i] = key.tiers[code % codes]!;
    columns.requests[i] = num(row[at.requests]);
    columns.inputTokens[i] = num(row[at.input_tokens]);
    columns.outputTokens[i] = num(row[at.output_tokens]);
    columns.cacheHits[i] = num(row[at.cache_hits]);
    columns.cacheN[i] = num(row[at.cache_n]);
    columns.promptN[i] = num(row[at.prompt_n]);
    columns.minInput[i] = orNaN(row[at.min_input_tokens]);
    columns.maxInput[i] = orNaN(row[at.max_input_tokens]);
    columns.firstAt[i] = num(row[at.first_at]);
    columns.lastAt[i] = num(row[at.last_at]);
  });
  return { length: n, ...columns };
}

/** The `tier` of a group of rows whose stored values cannot be used. */
export const UNUSABLE_ROWS = -1;

/**
 * True for a row whose values are usable: non-negative token counts and a time that are numbers. SQLite
 * keeps whatever another program stored (a text, -100); a text fails `x + 0 = x`, a negative `x >= 0`.
 * PostgreSQL's typed columns make it always true.
 */
export function usableRequest(source: RequestSource): string {
  return [`${source.time} + 0 = ${source.time}`, ...tokenColumns(source).map((c) => `${c} >= 0 AND ${c} + 0 = ${c}`)].join(' AND ');
}

function tokenColumns(source: RequestSource): string[] {
  return source.cacheColumns ? ['input_tokens', 'output_tokens', 'cache_n', 'prompt_n'] : ['input_tokens', 'output_tokens'];
}

/**
 * What tells a set of requests that may hold unusable values, as SQL aggregates: the smallest and largest
 * token value (a negative minimum, or a text, which SQLite orders above every number, as the maximum) and
 * the first and last time. Cheap beside the row-by-row test ({@link usableRequest}), so that only a file
 * that has such values pays for that.
 */
export function unusableSignal(source: RequestSource, d: Dialect): { min_value: string; max_value: string; first_at: string; last_at: string } {
  const checked = tokenColumns(source);
  return { min_value: `MIN(${d.least(...checked)})`, max_value: `MAX(${d.greatest(...checked)})`, first_at: `MIN(${source.time})`, last_at: `MAX(${source.time})` };
}

/** Whether the aggregates of {@link unusableSignal} say that some of the requests may be unusable. */
export function mayHoldUnusable(signal: { min_value: SqlValue | undefined; max_value: SqlValue | undefined; first_at: SqlValue | undefined; last_at: SqlValue | undefined }): boolean {
  const numeric = (value: SqlValue | undefined) => typeof value === 'number' || typeof value === 'bigint';
  return ![signal.first_at, signal.last_at, signal.min_value, signal.max_value].every(numeric) || Number(signal.min_value) < 0;
}

const suspicious = (row: readonly SqlValue[]): boolean =>
  mayHoldUnusable({ min_value: row[at.min_value], max_value: row[at.max_value], first_at: row[at.first_at], last_at: row[at.last_at] });

/**
 * Scans one model: its runs overlapping the window, then its requests in the window grouped by tier and,
 * when `bySlot` (or when the model has runs there: idle time needs the busy slots), by slot.
 */
export async function scanModel(
  session: Session,
  model: ResolvedModel,
  stored: StoredBilling,
  override: PricingOverride | undefined,
  window: Window,
  shape: ScanShape,
): Promise<ModelAggregate> {
  const { bySlot, splits, inputRange, slotSeconds } = shape;
  const d = session.dialect;
  const billing = effectiveBilling(model.name, stored.usable, override);
  const plan: TierPlan = tierPlan(billing);
  const { requestSource: source, runSource } = model.layout;

  const runs: Run[] = [];
  if (runSource.present) {
    const where = new Conditions(runSource.where, runSource.params).add(`${runSource.end} >= ?`, window.from).add('start_time < ?', window.to);
    const rows = await session.query(
      `SELECT start_time, ${runSource.end} AS end_time, ${runSource.nullEnd} AS null_end FROM ${runSource.table}${where.where} ORDER BY start_time`,
      where.params,
    );
    for (const row of rows) {
      const start = num(row.start_time);
      const end = Math.max(start, num(row.end_time));
      runs.push({ start, end, open: num(row.null_end) === 1 || end === start });
    }
  }

  const slotted = bySlot || runs.length > 0;
  const tiers = [...plan.tiers.map((t) => t.tierIndex), Number.NaN, UNUSABLE_ROWS];
  // the group key (see GroupKey): split points are validated numbers (times) and safe integers (token counts), so literal SQL
  // first without the row-by-row test of stored values (see `suspicious`), with it only when needed
  const tierCode = (rowByRow: boolean) =>
    rowByRow ? `CASE WHEN ${usableRequest(source)} THEN ${tierCaseSql(plan, tiers.length - 2)} ELSE ${tiers.length - 1} END` : tierCaseSql(plan, tiers.length - 2);
  let sides = '';
  let width = tiers.length;
  const bounds = [...new Set([...splits.inputBounds, ...gapBounds(plan)])].sort((a, b) => a - b);
  for (const [column, points] of [[source.time, splits.splits], ['input_tokens', bounds]] as const) {
    if (points.length === 0) continue;
    sides += ` + ${width} * ${sideOf(column, points)}`;
    width *= points.length + 1;
  }
  // slot × width must stay an exact integer up to the latest time a request may have
  if (width > Number.MAX_SAFE_INTEGER / (MAX_EPOCH_SECONDS / slotSeconds + 1))
    throw new MonitorError('INVALID_INPUT', `Model ${describeValue(model.name)} has too many tiers for this many splits and input bounds; give fewer.`, { model: model.name });
  const key: GroupKey = { slotted, width, tiers, slotsPerGroup: slotSeconds / SLOT_SECONDS };
  let groups = toGroups([], key);
  if (source.present) {
    const where = new Conditions(source.where, source.params).add(`${source.time} >= ?`, window.from).add(`${source.time} < ?`, window.to);
    // the S5–S7 cache formula needs the raw cache_n / prompt_n sums; the range tiers only the hits
    const rawCache = source.cacheColumns && plan.kind === 'windows';
    const signal = unusableSignal(source, d);
    const expressions = (rowByRow: boolean): Record<(typeof SCAN_COLUMNS)[number], string> => ({
      group_key: `${slotted ? `${d.slot(source.time, slotSeconds)} * ${width} + ` : ''}${tierCode(rowByRow)}${sides}`,
      requests: 'COUNT(*)',
      input_tokens: d.total('input_tokens'),
      output_tokens: d.total('output_tokens'),
      cache_hits: source.cacheColumns ? d.total(d.least('cache_n', 'input_tokens')) : '0',
      cache_n: rawCache ? d.total('cache_n') : '0',
      prompt_n: rawCache ? d.total('prompt_n') : '0',
      min_input_tokens: inputRange ? 'MIN(input_tokens)' : 'NULL',
      max_input_tokens: inputRange ? 'MAX(input_tokens)' : 'NULL',
      // what tells a group that may hold unusable values (see `suspicious`)
      ...signal,
    });
    const scan = (rowByRow: boolean) => {
      const select = expressions(rowByRow);
      return session.queryArrays(
        `SELECT ${SCAN_COLUMNS.map((column) => `${select[column]} AS ${column}`).join(', ')} FROM ${source.table}${where.where} GROUP BY 1`,
        where.params,
      );
    };
    let rows = await scan(false);
    if (rows.some(suspicious)) rows = await scan(true);
    groups = toGroups(rows, key);
  }
  return {
    name: model.name,
    shape: model.layout.shape,
    storedBilling: stored.usable,
    billing,
    billingProblems: stored.problems,
    hourlyPriceUsable: stored.hourlyPriceUsable,
    groups,
    runs,
  };
}

/**
 * The bounds of the input ranges no range tier covers, when there is more than one: splitting there
 * groups unpriced requests by the gap they fall in (with one gap, the tier column already does).
 */
function gapBounds(plan: TierPlan): number[] {
  if (plan.kind !== 'ranges') return [];
  const gaps = uncoveredInputs(plan.tiers);
  if (gaps.length < 2) return [];
  return gaps.flatMap((g) => (g.last === null ? [g.first] : [g.first, g.last + 1])).filter((b) => b >= 1);
}

/** Seconds of [start, end) inside [from, to). */
export function overlap(start: number, end: number, from: number, to: number): number {
  return Math.max(0, Math.min(end, to) - Math.max(start, from));
}
