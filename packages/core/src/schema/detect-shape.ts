import type { Dialect } from '../driver/dialect.js';
import type { Row } from '../driver/driver.js';
import type { Shape } from '../monitor/types.js';
import type { ModelLayout } from './layouts/layout.js';
import { legacyLayout } from './layouts/legacy.js';
import { type CacheColumn, MAPPING_TABLE, PER_MODEL_TABLE, PROGRAM_RUNTIME_TABLE, modelTableNames, nativeLayout } from './layouts/native.js';

/**
 * Which layout a file (and each model in it) has, decided only from table names and their columns
 * (never from SQL text): LLM-Manager changed its layout several times without migrations, and one
 * file can hold models of different shapes.
 */

/** Table name → column name → NOT NULL. */
export type TableColumns = Map<string, Map<string, boolean>>;

export function tableColumns(rows: readonly Row[]): TableColumns {
  const tables: TableColumns = new Map();
  for (const row of rows) {
    const table = String(row.table_name);
    let columns = tables.get(table);
    if (!columns) tables.set(table, (columns = new Map()));
    columns.set(String(row.column_name), Number(row.not_null) === 1 || row.not_null === true);
  }
  return tables;
}

export type NormalizedShape = 'S6' | 'S7';

/** The normalized layout of LLM-Manager v2.6+ (S6) or v3 (S7), when the file has one. */
export function normalizedShape(tables: TableColumns): NormalizedShape | null {
  if (!tables.has('models') || !tables.get('model_requests')?.has('model_id')) return null;
  if (tables.has('model_defs') && tables.has('pricing_tiers')) return 'S7';
  return 'S6';
}

/** Whether the file holds anything a monitor wrote (any version). */
export function isMonitorDatabase(tables: TableColumns): boolean {
  if (tables.has(MAPPING_TABLE) || tables.has(PROGRAM_RUNTIME_TABLE) || normalizedShape(tables)) return true;
  return [...tables.keys()].some((name) => PER_MODEL_TABLE.test(name));
}

export interface PerModelShape {
  shape: Shape;
  /** Tables of the five that do not exist (a half-deleted or half-created model). */
  missingTables: string[];
  /** Native columns the file lacks (S1/S2 files): added by an upgrade before the first write. */
  missingColumns: { table: string; column: CacheColumn }[];
}

/** The shape of a model stored in per-model tables `{safeName}_*` (S1–S5). */
export function perModelShape(tables: TableColumns, safeName: string): PerModelShape {
  const names = modelTableNames(safeName);
  const requests = tables.get(names.requests);
  const tiers = tables.get(names.tierPricing);
  const missingTables = Object.values(names).filter((table) => !tables.has(table));
  const missingColumns: PerModelShape['missingColumns'] = [];
  let shape: Shape;
  if (tiers?.has('min_input_tokens')) shape = 'S5';
  else if (requests?.has('end_time') && !requests.has('timestamp')) shape = 'S4';
  else {
    const requestCache = requests?.has('cache_n') ?? true;
    const tierCache = tiers?.has('support_cache') ?? true;
    shape = requestCache ? (tierCache ? 'S3' : 'S2') : 'S1';
    if (requests && !requests.has('cache_n')) missingColumns.push({ table: names.requests, column: 'cache_n' });
    if (requests && !requests.has('prompt_n')) missingColumns.push({ table: names.requests, column: 'prompt_n' });
    if (tiers && !tiers.has('support_cache')) missingColumns.push({ table: names.tierPricing, column: 'support_cache' });
    if (tiers && !tiers.has('cache_hit_price_per_million'))
      missingColumns.push({ table: names.tierPricing, column: 'cache_hit_price_per_million' });
  }
  return { shape, missingTables, missingColumns };
}

/** Shapes this Monitor writes: the seed layout and its cache-column additions. */
export function isWritableShape(shape: Shape): boolean {
  return shape === 'S1' || shape === 'S2' || shape === 'S3';
}

/** The layout of a model stored in per-model tables: native (S1–S3) or legacy (S4, S5). */
export function perModelLayout(d: Dialect, tables: TableColumns, safeName: string): ModelLayout {
  const detected = perModelShape(tables, safeName);
  return isWritableShape(detected.shape) ? nativeLayout(d, safeName, detected, tables) : legacyLayout(d, safeName, detected, tables);
}

export const SHAPE_NAMES: Record<Shape, string> = {
  S1: 'S1 (seed per-model tables)',
  S2: 'S2 (per-model tables, requests with cache columns)',
  S3: 'S3 (per-model tables with cache columns)',
  S4: 'S4 (per-model tables, requests with start_time/end_time)',
  S5: 'S5 (per-model tables, 2-D tier windows)',
  S6: 'S6 (normalized tables of LLM-Manager v2.6)',
  S7: 'S7 (normalized tables with model_defs of LLM-Manager v3)',
};
