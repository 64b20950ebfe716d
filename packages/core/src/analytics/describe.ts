import type { Session } from '../driver/executor.js';
import type { ModelInfo, Shape } from '../monitor/types.js';
import { type TableColumns, isWritableShape, normalizedShape, perModelShape } from '../schema/detect-shape.js';
import { MAPPING_TABLE, PROGRAM_RUNTIME_TABLE, modelTableNames } from '../schema/native.js';
import { type ModelRef, readBilling } from '../schema/reads.js';
import { tierProblems } from './pricing.js';

export interface ModelDescription extends ModelInfo {
  requests: number;
  runs: number;
  openRuns: number;
  tiers: number;
  billingMethod: 'tier' | 'hourly' | null;
  /** Anything suspicious about this model: missing tables or billing rows, tier overlaps and gaps, open runs. */
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
  /** Problems of the file as a whole: per-model tables no mapping row names, and the like. */
  problems: string[];
}

async function count(session: Session, sql: string, params: (number | string)[] = []): Promise<number> {
  return Number((await session.query(sql, params))[0]?.n ?? 0);
}

export async function describeDatabase(session: Session, tables: TableColumns, refs: readonly ModelRef[]): Promise<Description> {
  const d = session.dialect;
  const q = d.quoteIdentifier;
  const problems: string[] = [];
  const models: ModelDescription[] = [];
  for (const ref of refs) {
    const modelProblems: string[] = [];
    let requests = 0;
    let runs = 0;
    let openRuns = 0;
    if (ref.kind === 'per-model') {
      const names = modelTableNames(ref.safeName);
      const { missingTables } = perModelShape(tables, ref.safeName);
      for (const table of missingTables) modelProblems.push(`table ${table} is missing (the mapping row has no tables)`);
      if (tables.has(names.requests)) requests = await count(session, `SELECT COUNT(*) AS n FROM ${q(names.requests)}`);
      if (tables.has(names.runtime)) {
        runs = await count(session, `SELECT COUNT(*) AS n FROM ${q(names.runtime)}`);
        openRuns = await count(session, `SELECT COUNT(*) AS n FROM ${q(names.runtime)} WHERE end_time = start_time`);
      }
    } else {
      requests = await count(session, 'SELECT COUNT(*) AS n FROM model_requests WHERE model_id = ?', [ref.modelId]);
      runs = await count(session, 'SELECT COUNT(*) AS n FROM model_runtime WHERE model_id = ?', [ref.modelId]);
      openRuns = await count(session, 'SELECT COUNT(*) AS n FROM model_runtime WHERE model_id = ? AND (end_time IS NULL OR end_time = start_time)', [
        ref.modelId,
      ]);
    }
    let billing = null;
    const billingReadable = ref.kind === 'normalized' || perModelShape(tables, ref.safeName).missingTables.length === 0;
    if (billingReadable) billing = await readBilling(session, tables, ref);
    if (billingReadable && !billing) modelProblems.push('no billing settings: it was created by a write, never configured');
    if (billing?.useTierPricing) {
      if (billing.tierWindows) {
        if (billing.tierWindows.length === 0) modelProblems.push('tier billing with no tiers: every request is unpriced');
      } else for (const p of tierProblems(billing.tierPricing)) modelProblems.push(p.message);
    }
    if (openRuns > 1) modelProblems.push(`${openRuns} runs were started and never ended (only the latest can still be running)`);
    models.push({
      name: ref.name,
      safeName: ref.kind === 'per-model' ? ref.safeName : null,
      shape: ref.shape,
      writable: ref.kind === 'per-model' && isWritableShape(ref.shape),
      requests,
      runs,
      openRuns,
      tiers: billing ? (billing.tierWindows ?? billing.tierPricing).length : 0,
      billingMethod: billing ? (billing.useTierPricing ? 'tier' : 'hourly') : null,
      problems: modelProblems,
    });
  }
  const known = new Set(refs.flatMap((r) => (r.kind === 'per-model' ? [r.safeName] : [])));
  const orphans = new Set<string>();
  for (const table of tables.keys()) {
    const match = /^(model_[0-9a-f]{16})_(runtime|requests|tier_pricing|hourly_price|billing_method)$/.exec(table);
    if (match && !known.has(match[1]!)) orphans.add(match[1]!);
  }
  for (const safe of orphans) problems.push(`tables ${safe}_* belong to no model (no row in ${MAPPING_TABLE} names them)`);
  const normalized = normalizedShape(tables);
  if (normalized && tables.has(MAPPING_TABLE)) problems.push(`the file mixes per-model tables with the normalized layout ${normalized}`);

  let journalMode: string | null = null;
  if (d.journalModeQuery) journalMode = String(Object.values((await session.query(d.journalModeQuery))[0] ?? {})[0] ?? '') || null;
  let userVersion: number | null = null;
  if (d.userVersion) userVersion = Number(Object.values((await session.query(d.userVersion.query))[0] ?? {})[0] ?? 0);
  const programRuns = tables.has(PROGRAM_RUNTIME_TABLE) ? await count(session, `SELECT COUNT(*) AS n FROM ${q(PROGRAM_RUNTIME_TABLE)}`) : 0;
  const shapes = [...new Set(models.map((m) => m.shape))].sort();
  if (shapes.length === 0 && normalized) shapes.push(normalized);
  return { journalMode, userVersion, shapes, programRuns, models, problems };
}
