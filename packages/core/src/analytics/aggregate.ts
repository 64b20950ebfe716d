import type { SqlValue } from '../driver/driver.js';
import type { Session } from '../driver/executor.js';
import type { TableColumns } from '../schema/detect-shape.js';
import { modelTableNames } from '../schema/native.js';
import type { ModelRef } from '../schema/reads.js';
import type { ModelBilling } from '../monitor/types.js';
import { type TierPlan, type TokenSums, tierCaseSql, tierPlan } from './pricing.js';
import { SLOT_SECONDS } from './time-zone.js';

/**
 * The one SQL aggregation every report is built from: per model, requests grouped by 15-minute slot
 * and by the tier that prices them, plus the model's runs overlapping the window. The result is small
 * (slots × tiers) whatever the number of requests.
 */

/** A half-open window [from, to) in epoch seconds; null is unbounded. */
export interface Window {
  from: number | null;
  to: number | null;
}

export interface SlotGroup extends TokenSums {
  /** The 15-minute slot (`floor(t / 900)`), or null when the aggregation was not by slot. */
  slot: number | null;
  /** The tier index that prices these requests; null when no tier matches; 0 for hourly-billed models. */
  tier: number | null;
  firstAt: number;
  lastAt: number;
}

export interface Run {
  start: number;
  end: number;
  /** Started and never ended nor heart-beaten: `end_time == start_time` (or NULL in S7 files). */
  open: boolean;
}

export interface ModelActivity {
  ref: ModelRef;
  billing: ModelBilling;
  plan: TierPlan;
  groups: SlotGroup[];
  runs: Run[];
  /** Slots in which the model served a request (for idle time); only collected when it has runs in the window. */
  busySlots: Set<number>;
}

const num = (value: SqlValue | undefined): number => Number(value ?? 0);

function requestSource(session: Session, tables: TableColumns, ref: ModelRef) {
  if (ref.kind === 'normalized')
    return { from: 'model_requests', time: 'end_time', filter: 'model_id = ?', params: [ref.modelId] as SqlValue[], cache: true };
  const table = modelTableNames(ref.safeName).requests;
  const columns = tables.get(table);
  return {
    from: session.dialect.quoteIdentifier(table),
    time: ref.shape === 'S4' || ref.shape === 'S5' ? 'end_time' : 'timestamp',
    filter: null,
    params: [] as SqlValue[],
    cache: Boolean(columns?.has('cache_n') && columns.has('prompt_n')),
  };
}

function windowConditions(column: string, window: Window): { sql: string[]; params: SqlValue[] } {
  const sql: string[] = [];
  const params: SqlValue[] = [];
  if (window.from !== null) {
    sql.push(`${column} >= ?`);
    params.push(window.from);
  }
  if (window.to !== null) {
    sql.push(`${column} < ?`);
    params.push(window.to);
  }
  return { sql, params };
}

export async function modelActivity(
  session: Session,
  tables: TableColumns,
  ref: ModelRef,
  billing: ModelBilling,
  window: Window,
  bySlot: boolean,
): Promise<ModelActivity> {
  const d = session.dialect;
  const plan = tierPlan(billing);
  const source = requestSource(session, tables, ref);
  const tier = billing.useTierPricing ? tierCaseSql(plan) : '0';
  // the S5–S7 cache formula needs the raw cache_n / prompt_n sums; the range tiers only the hits
  const rawCache = source.cache && plan.kind === 'windows';
  const conditions = windowConditions(source.time, window);
  const where = [...(source.filter ? [source.filter] : []), ...conditions.sql];
  const whereSql = where.length ? ` WHERE ${where.join(' AND ')}` : '';
  const params = [...source.params, ...conditions.params];
  const slot = d.slot(source.time, SLOT_SECONDS);
  const columns = [
    `${bySlot ? slot : 'NULL'} AS slot`,
    `${tier} AS tier`,
    'COUNT(*) AS requests',
    'SUM(input_tokens) AS input_tokens',
    'SUM(output_tokens) AS output_tokens',
    source.cache ? `SUM(${d.least('cache_n', 'input_tokens')}) AS cache_hits` : '0 AS cache_hits',
    rawCache ? 'SUM(cache_n) AS cache_n' : '0 AS cache_n',
    rawCache ? 'SUM(prompt_n) AS prompt_n' : '0 AS prompt_n',
    `MIN(${source.time}) AS first_at`,
    `MAX(${source.time}) AS last_at`,
  ];
  const rows = await session.query(
    `SELECT ${columns.join(', ')} FROM ${source.from}${whereSql} GROUP BY ${bySlot ? '1, 2' : '2'}`,
    params,
  );
  const groups = rows.map(
    (row): SlotGroup => ({
      slot: row.slot === null ? null : num(row.slot),
      tier: row.tier === null ? null : num(row.tier),
      requests: num(row.requests),
      inputTokens: num(row.input_tokens),
      outputTokens: num(row.output_tokens),
      cacheHits: num(row.cache_hits),
      cacheN: num(row.cache_n),
      promptN: num(row.prompt_n),
      firstAt: num(row.first_at),
      lastAt: num(row.last_at),
    }),
  );

  const runsTable = ref.kind === 'normalized' ? 'model_runtime' : d.quoteIdentifier(modelTableNames(ref.safeName).runtime);
  const end = ref.kind === 'normalized' ? 'COALESCE(end_time, start_time)' : 'end_time';
  const runWhere: string[] = ref.kind === 'normalized' ? ['model_id = ?'] : [];
  const runParams: SqlValue[] = ref.kind === 'normalized' ? [ref.modelId] : [];
  if (window.from !== null) {
    runWhere.push(`${end} >= ?`);
    runParams.push(window.from);
  }
  if (window.to !== null) {
    runWhere.push('start_time < ?');
    runParams.push(window.to);
  }
  const runRows = await session.query(
    `SELECT start_time, ${end} AS end_time, ${ref.kind === 'normalized' ? 'CASE WHEN end_time IS NULL THEN 1 ELSE 0 END' : '0'} AS null_end FROM ${runsTable}${runWhere.length ? ` WHERE ${runWhere.join(' AND ')}` : ''} ORDER BY start_time`,
    runParams,
  );
  const runs = runRows.map((row): Run => {
    const start = num(row.start_time);
    const finish = Math.max(start, num(row.end_time));
    return { start, end: finish, open: num(row.null_end) === 1 || finish === start };
  });
  const busySlots = new Set<number>();
  if (bySlot) for (const g of groups) busySlots.add(g.slot!);
  else if (runs.length > 0 && groups.length > 0)
    for (const row of await session.query(`SELECT DISTINCT ${slot} AS slot FROM ${source.from}${whereSql}`, params)) busySlots.add(num(row.slot));
  return { ref, billing, plan, groups, runs, busySlots };
}

/** Seconds of [start, end) inside [from, to). */
export function overlap(start: number, end: number, from: number, to: number): number {
  return Math.max(0, Math.min(end, to) - Math.max(start, from));
}
