import type { SqlValue } from '../driver/driver.js';
import type { Session } from '../driver/executor.js';
import type { ModelBilling, ModelInfo, Shape } from '../monitor/types.js';
import { type ResolvedModel, isWrittenTable, modelInfo } from '../schema/catalog.js';
import { type TableColumns, normalizedShape } from '../schema/detect-shape.js';
import { Conditions } from '../schema/layouts/layout.js';
import { MAPPING_TABLE, PER_MODEL_TABLE, PROGRAM_RUNTIME_TABLE, programStatements } from '../schema/layouts/native.js';
import { tierProblems, tierWindowProblems } from '../pricing/tiers.js';
import { mayHoldUnusable, unusableSignal, usableRequest } from './aggregate.js';

export interface ModelDescription extends ModelInfo {
  requests: number;
  /** The time of the first and the last request (its end time in S4+ layouts); null without requests. */
  firstRequestAt: number | null;
  lastRequestAt: number | null;
  runs: number;
  openRuns: number;
  tiers: number;
  billingMethod: 'tier' | 'hourly' | null;
  /** The billing settings as `getModelBilling` returns them; null without billing rows (or tables). */
  billing: ModelBilling | null;
  /** Anything suspicious about this model: missing tables or billing rows, unusable values, tier overlaps and gaps, open runs. */
  problems: string[];
}

export interface Description {
  /** `delete`, `wal`, … (null when the engine has no journal mode). */
  journalMode: string | null;
  /** `PRAGMA user_version`; `USER_VERSION` marks files this project created or upgraded. */
  userVersion: number | null;
  /** The shapes present, e.g. `['S1']`, `['S6']`, or several for a mixed file. */
  shapes: Shape[];
  programRuns: number;
  models: ModelDescription[];
  /** Triggers a user created, with their tables (the engine's own are not listed). */
  triggers: { name: string; table: string }[];
  /** Views. */
  views: string[];
  /** Problems of the file as a whole: per-model tables no mapping row names, triggers on monitor tables, and the like. */
  problems: string[];
}

async function count(session: Session, sql: string, params: readonly SqlValue[] = []): Promise<number> {
  return Number((await session.query(sql, params))[0]?.n ?? 0);
}

async function describeModel(session: Session, model: ResolvedModel): Promise<ModelDescription> {
  const { layout } = model;
  const problems: string[] = [];
  for (const table of layout.missingTables) problems.push(`table ${table} is missing (the mapping row has no tables)`);
  if (model.sharesTablesWith !== undefined)
    problems.push(`its mapping row names the tables of model ${JSON.stringify(model.sharesTablesWith)}; it is left out of every report and refused writes`);
  let requests = 0;
  let firstRequestAt: number | null = null;
  let lastRequestAt: number | null = null;
  let runs = 0;
  let openRuns = 0;
  const source = layout.requestSource;
  if (source.present) {
    const where = new Conditions(source.where, source.params);
    const signal = unusableSignal(source, session.dialect);
    const [row] = await session.query(
      `SELECT COUNT(*) AS n, ${Object.entries(signal).map(([name, sql]) => `${sql} AS ${name}`).join(', ')} FROM ${source.table}${where.where}`,
      where.params,
    );
    requests = Number(row?.n ?? 0);
    const time = (value: SqlValue | undefined) => (Number.isFinite(Number(value)) && value !== null ? Number(value) : null);
    if (requests > 0) [firstRequestAt, lastRequestAt] = [time(row!.first_at), time(row!.last_at)];
    // the row-by-row test only when the cheap signal says there may be something to find
    if (requests > 0 && mayHoldUnusable({ min_value: row!.min_value, max_value: row!.max_value, first_at: row!.first_at, last_at: row!.last_at })) {
      const unusable = new Conditions([...source.where, `(CASE WHEN ${usableRequest(source)} THEN 0 ELSE 1 END) = 1`], source.params);
      const n = await count(session, `SELECT COUNT(*) AS n FROM ${source.table}${unusable.where}`, unusable.params);
      if (n > 0) problems.push(`${n} requests hold unusable values (text or negative token counts); every report leaves them out`);
    }
  }
  const runSource = layout.runSource;
  if (runSource.present) {
    const where = new Conditions(runSource.where, runSource.params);
    const [row] = await session.query(
      `SELECT COUNT(*) AS n, ${session.dialect.total(`CASE WHEN ${runSource.nullEnd} = 1 OR ${runSource.end} = start_time THEN 1 ELSE 0 END`)} AS open_runs FROM ${runSource.table}${where.where}`,
      where.params,
    );
    runs = Number(row?.n ?? 0);
    openRuns = Number(row?.open_runs ?? 0);
  }
  const complete = layout.missingTables.length === 0;
  const stored = complete ? await layout.readBilling(session) : null;
  const billing = stored?.billing ?? null;
  const usable = stored?.usable ?? null;
  if (stored) problems.push(...stored.problems);
  if (complete && !billing) problems.push('no billing settings: it was created by a write, never configured');
  if (usable?.useTierPricing)
    for (const p of usable.tierWindows ? tierWindowProblems(usable.tierWindows) : tierProblems(usable.tierPricing)) problems.push(p.message);
  if (openRuns > 1) problems.push(`${openRuns} runs were started and never ended (only the latest can still be running)`);
  return {
    ...modelInfo(model),
    requests,
    firstRequestAt,
    lastRequestAt,
    runs,
    openRuns,
    tiers: billing ? (billing.tierWindows ?? billing.tierPricing).length : 0,
    billingMethod: billing ? (billing.useTierPricing ? 'tier' : 'hourly') : null,
    billing,
    problems,
  };
}

export async function describeDatabase(session: Session, tables: TableColumns, models: readonly ResolvedModel[]): Promise<Description> {
  const d = session.dialect;
  const described: ModelDescription[] = [];
  for (const model of models) described.push(await describeModel(session, model));
  const problems: string[] = [];
  const known = new Set(models.map((m) => m.layout.safeName).filter((name) => name !== null));
  const orphans = new Set<string>();
  for (const table of tables.keys()) {
    const match = PER_MODEL_TABLE.exec(table);
    if (match && !known.has(match[1]!)) orphans.add(match[1]!);
  }
  for (const safe of orphans) problems.push(`tables ${safe}_* belong to no model (no row in ${MAPPING_TABLE} names them)`);
  const normalized = normalizedShape(tables);
  if (normalized && tables.has(MAPPING_TABLE)) problems.push(`the file mixes per-model tables with the normalized layout ${normalized}`);

  const triggers = (await session.query(d.triggersQuery)).map((row) => ({ name: String(row.trigger_name), table: String(row.table_name) }));
  for (const t of triggers)
    if (isWrittenTable(t.table))
      problems.push(`trigger ${JSON.stringify(t.name)} on ${t.table} would run on every write: a writable Monitor refuses this file unless told to drop it`);
  const views = (await session.query(d.viewsQuery)).map((row) => String(row.view_name));

  let journalMode: string | null = null;
  if (d.journalModeQuery) journalMode = String(Object.values((await session.query(d.journalModeQuery))[0] ?? {})[0] ?? '') || null;
  let userVersion: number | null = null;
  if (d.userVersion) userVersion = Number(Object.values((await session.query(d.userVersion.query))[0] ?? {})[0] ?? 0);
  const programRuns = tables.has(PROGRAM_RUNTIME_TABLE) ? await count(session, programStatements(d).count) : 0;
  const shapes = [...new Set(described.map((m) => m.shape))].sort();
  if (shapes.length === 0 && normalized) shapes.push(normalized);
  return { journalMode, userVersion, shapes, programRuns, models: described, triggers, views, problems };
}
