import type { Dialect } from '../../driver/dialect.js';
import type { Session } from '../../driver/executor.js';
import type { PerModelShape } from '../detect-shape.js';
import { type StoredBilling, storedBilling } from '../file-values.js';
import { type ModelLayout, type Query, type RequestFilter, type RequestSource, type RunSource, limited, requestsSelect } from './layout.js';

/**
 * The native layout: the seed's tables (SPEC §3), plus the cache columns the original added a day
 * later, all with defaults so that the seed's Python code (which names its columns) keeps reading and
 * writing our files. Shapes S1–S3; the only layout this project writes. This module owns every
 * statement of it: the file's own tables, each model's five tables, their reads and writes.
 */

/** `PRAGMA user_version` of files this project created or upgraded. The original never set it. */
export const USER_VERSION = 0x6c6d0001;

export const MAPPING_TABLE = 'model_name_mapping';
export const PROGRAM_RUNTIME_TABLE = 'program_runtime';

/** A per-model table of any per-model layout (S1–S5): `{safeName}_{kind}`. */
export const PER_MODEL_TABLE = /^(model_[0-9a-f]{16})_(runtime|requests|tier_pricing|hourly_price|billing_method)$/;

export interface ModelTableNames {
  runtime: string;
  requests: string;
  tierPricing: string;
  hourlyPrice: string;
  billingMethod: string;
}

export function modelTableNames(safeName: string): ModelTableNames {
  return {
    runtime: `${safeName}_runtime`,
    requests: `${safeName}_requests`,
    tierPricing: `${safeName}_tier_pricing`,
    hourlyPrice: `${safeName}_hourly_price`,
    billingMethod: `${safeName}_billing_method`,
  };
}

/** Columns that files written by the seed lack (shapes S1, S2): added before the first write. */
export type CacheColumn = 'cache_n' | 'prompt_n' | 'support_cache' | 'cache_hit_price_per_million';

export function addCacheColumnSql(d: Dialect, table: string, column: CacheColumn): string {
  const t = d.types;
  const definitions: Record<CacheColumn, string> = {
    cache_n: `${t.integer} NOT NULL DEFAULT 0`,
    prompt_n: `${t.integer} NOT NULL DEFAULT 0`,
    support_cache: `${t.boolean} NOT NULL DEFAULT ${d.bool(false)}`,
    cache_hit_price_per_million: `${t.real} NOT NULL DEFAULT 0.0`,
  };
  return `ALTER TABLE ${d.quoteIdentifier(table)} ADD COLUMN ${column} ${definitions[column]}`;
}

export function coreTablesDdl(d: Dialect): string[] {
  const t = d.types;
  const q = d.quoteIdentifier;
  return [
    `CREATE TABLE IF NOT EXISTS ${q(MAPPING_TABLE)} (
    id ${t.autoIdPrimaryKey},
    original_name ${t.text} UNIQUE NOT NULL,
    safe_name ${t.text} UNIQUE NOT NULL,
    created_at ${t.createdAt})`,
    `CREATE TABLE IF NOT EXISTS ${q(PROGRAM_RUNTIME_TABLE)} (
    id ${t.autoIdPrimaryKey},
    start_time ${t.real} NOT NULL,
    end_time ${t.real} NOT NULL)`,
  ];
}

/**
 * The index the analytics need on a native model's requests (windowed queries). The original's code
 * never names indexes and its `DROP TABLE` drops them with the table, so it keeps working.
 */
export function requestsIndexName(safeName: string): string {
  return `${safeName}_requests_timestamp`;
}

export function requestsIndexDdl(d: Dialect, safeName: string): string {
  return `CREATE INDEX IF NOT EXISTS ${d.quoteIdentifier(requestsIndexName(safeName))} ON ${d.quoteIdentifier(modelTableNames(safeName).requests)} (timestamp)`;
}

export function modelTablesDdl(d: Dialect, safeName: string): string[] {
  const t = d.types;
  const q = d.quoteIdentifier;
  const n = modelTableNames(safeName);
  return [
    `CREATE TABLE IF NOT EXISTS ${q(n.runtime)} (
    id ${t.autoIdPrimaryKey},
    start_time ${t.real} NOT NULL,
    end_time ${t.real} NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS ${q(n.requests)} (
    id ${t.autoIdPrimaryKey},
    timestamp ${t.real} NOT NULL,
    input_tokens ${t.integer} NOT NULL,
    output_tokens ${t.integer} NOT NULL,
    cache_n ${t.integer} NOT NULL DEFAULT 0,
    prompt_n ${t.integer} NOT NULL DEFAULT 0)`,
    `CREATE TABLE IF NOT EXISTS ${q(n.tierPricing)} (
    tier_index ${t.integer} PRIMARY KEY,
    start_tokens ${t.integer} NOT NULL,
    end_tokens ${t.integer} NOT NULL,
    input_price_per_million ${t.real} NOT NULL,
    output_price_per_million ${t.real} NOT NULL,
    support_cache ${t.boolean} NOT NULL DEFAULT ${d.bool(false)},
    cache_hit_price_per_million ${t.real} NOT NULL DEFAULT 0.0)`,
    `CREATE TABLE IF NOT EXISTS ${q(n.hourlyPrice)} (
    id ${t.integer} PRIMARY KEY CHECK (id = 1),
    hourly_price ${t.real} NOT NULL DEFAULT 0)`,
    `CREATE TABLE IF NOT EXISTS ${q(n.billingMethod)} (
    id ${t.integer} PRIMARY KEY CHECK (id = 1),
    use_tier_pricing ${t.boolean} NOT NULL DEFAULT ${d.bool(true)})`,
    requestsIndexDdl(d, safeName),
  ];
}

/** The statements that write one native-layout model, built once per model and reused. */
export interface NativeWrites {
  names: ModelTableNames;
  hasDefaultTier: string;
  insertDefaultTier: string;
  hasHourlyPrice: string;
  insertDefaultHourlyPrice: string;
  hasBillingMethod: string;
  insertDefaultBillingMethod: string;
  insertRuntime: string;
  endLatestRuntime: string;
  endRuntime: string;
  insertRequest: string;
  /**
   * The same insert, written only while the model's mapping row exists (parameters: the five values, then
   * the safe name): the fast path's guard against the original deleting the model between our lookup and
   * our write, which would otherwise leave acknowledged rows in tables no report reads.
   */
  insertRequestIfMapped: string;
  selectTier: string;
  insertTier: string;
  updateTier: string;
  deleteTier: string;
  updateHourlyPrice: string;
  updateBillingMethod: string;
  dropTables: string[];
}

export function nativeWrites(d: Dialect, safeName: string): NativeWrites {
  const q = d.quoteIdentifier;
  const names = modelTableNames(safeName);
  const runtime = q(names.runtime);
  const tiers = q(names.tierPricing);
  return {
    names,
    hasDefaultTier: `SELECT COUNT(*) AS n FROM ${tiers} WHERE tier_index = 1`,
    insertDefaultTier: `INSERT INTO ${tiers} (tier_index, start_tokens, end_tokens, input_price_per_million, output_price_per_million) VALUES (1, 0, 32768, 0, 0)`,
    hasHourlyPrice: `SELECT COUNT(*) AS n FROM ${q(names.hourlyPrice)}`,
    insertDefaultHourlyPrice: `INSERT INTO ${q(names.hourlyPrice)} (id, hourly_price) VALUES (1, 0)`,
    hasBillingMethod: `SELECT COUNT(*) AS n FROM ${q(names.billingMethod)}`,
    insertDefaultBillingMethod: `INSERT INTO ${q(names.billingMethod)} (id, use_tier_pricing) VALUES (1, ${d.bool(true)})`,
    insertRuntime: `INSERT INTO ${runtime} (start_time, end_time) VALUES (?, ?)`,
    endLatestRuntime: `UPDATE ${runtime} SET end_time = ? WHERE id = (SELECT MAX(id) FROM ${runtime})`,
    endRuntime: `UPDATE ${runtime} SET end_time = ? WHERE id = ?`,
    insertRequest: `INSERT INTO ${q(names.requests)} (timestamp, input_tokens, output_tokens, cache_n, prompt_n) VALUES (?, ?, ?, ?, ?)`,
    insertRequestIfMapped: `INSERT INTO ${q(names.requests)} (timestamp, input_tokens, output_tokens, cache_n, prompt_n) SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM ${q(MAPPING_TABLE)} WHERE safe_name = ?)`,
    selectTier: `SELECT tier_index FROM ${tiers} WHERE tier_index = ?`,
    insertTier: `INSERT INTO ${tiers} (tier_index, start_tokens, end_tokens, input_price_per_million, output_price_per_million, support_cache, cache_hit_price_per_million) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    updateTier: `UPDATE ${tiers} SET start_tokens = ?, end_tokens = ?, input_price_per_million = ?, output_price_per_million = ?, support_cache = COALESCE(?, support_cache), cache_hit_price_per_million = COALESCE(?, cache_hit_price_per_million) WHERE tier_index = ?`,
    deleteTier: `DELETE FROM ${tiers} WHERE tier_index = ?`,
    updateHourlyPrice: `UPDATE ${q(names.hourlyPrice)} SET hourly_price = ?`,
    updateBillingMethod: `UPDATE ${q(names.billingMethod)} SET use_tier_pricing = ?`,
    dropTables: Object.values(names).map((table) => `DROP TABLE IF EXISTS ${q(table)}`),
  };
}

export const programStatements = (d: Dialect) => ({
  insert: `INSERT INTO ${d.quoteIdentifier(PROGRAM_RUNTIME_TABLE)} (start_time, end_time) VALUES (?, ?)`,
  endLatest: `UPDATE ${d.quoteIdentifier(PROGRAM_RUNTIME_TABLE)} SET end_time = ? WHERE id = (SELECT MAX(id) FROM ${d.quoteIdentifier(PROGRAM_RUNTIME_TABLE)})`,
  end: `UPDATE ${d.quoteIdentifier(PROGRAM_RUNTIME_TABLE)} SET end_time = ? WHERE id = ?`,
  count: `SELECT COUNT(*) AS n FROM ${d.quoteIdentifier(PROGRAM_RUNTIME_TABLE)}`,
  list: (limit: number): Query =>
    limited(`SELECT id, start_time, end_time FROM ${d.quoteIdentifier(PROGRAM_RUNTIME_TABLE)} ORDER BY id DESC`, [], limit),
});

export const mappingStatements = (d: Dialect) => ({
  lookup: `SELECT safe_name FROM ${d.quoteIdentifier(MAPPING_TABLE)} WHERE original_name = ? ORDER BY id LIMIT 1`,
  /** The model's safe name, and the first model whose mapping row names the same tables (itself, unless the file lacks the UNIQUE constraint). */
  lookupWithOwner: `SELECT m.safe_name AS safe_name, (SELECT o.original_name FROM ${d.quoteIdentifier(MAPPING_TABLE)} AS o WHERE o.safe_name = m.safe_name ORDER BY o.id LIMIT 1) AS owner FROM ${d.quoteIdentifier(MAPPING_TABLE)} AS m WHERE m.original_name = ? ORDER BY m.id LIMIT 1`,
  insert: `INSERT INTO ${d.quoteIdentifier(MAPPING_TABLE)} (original_name, safe_name) VALUES (?, ?)`,
  delete: `DELETE FROM ${d.quoteIdentifier(MAPPING_TABLE)} WHERE original_name = ?`,
  list: `SELECT original_name, safe_name FROM ${d.quoteIdentifier(MAPPING_TABLE)} ORDER BY id`,
});

// ---- reading per-model tables (shared with the legacy per-model layouts S4, S5) ---------------------

/** A column of a per-model table, or `0 AS column` when the file's table lacks it. */
export function optionalColumn(columns: ReadonlyMap<string, boolean> | undefined, column: string): string {
  return columns?.has(column) ? column : `0 AS ${column}`;
}

export function perModelRuntimeQuery(d: Dialect, safeName: string, limit: number): Query {
  return limited(`SELECT id, start_time, end_time FROM ${d.quoteIdentifier(modelTableNames(safeName).runtime)} ORDER BY id DESC`, [], limit);
}

export function perModelRunSource(d: Dialect, safeName: string, tables: ReadonlyMap<string, unknown>): RunSource {
  const table = modelTableNames(safeName).runtime;
  return { present: tables.has(table), table: d.quoteIdentifier(table), end: 'end_time', nullEnd: '0', where: [], params: [] };
}

/** A per-model layout's billing: its billing method and hourly price rows, and its tiers read with `tierSelect`. */
export async function readPerModelBilling(session: Session, safeName: string, kind: 'ranges' | 'windows', tierSelect: string): Promise<StoredBilling> {
  const q = session.dialect.quoteIdentifier;
  const names = modelTableNames(safeName);
  // the method and the hourly price in one statement (a file may lack the hourly row: the LEFT JOIN keeps the method)
  const [row] = await session.query(
    `SELECT m.use_tier_pricing AS use_tier_pricing, h.hourly_price AS hourly_price FROM ${q(names.billingMethod)} m LEFT JOIN ${q(names.hourlyPrice)} h ON h.id = 1 WHERE m.id = 1`,
  );
  if (!row) return storedBilling(undefined, undefined, kind, []);
  return storedBilling(row.use_tier_pricing, row.hourly_price, kind, await session.query(tierSelect));
}

export function nativeLayout(d: Dialect, safeName: string, detected: PerModelShape, tables: ReadonlyMap<string, ReadonlyMap<string, boolean>>): ModelLayout {
  const names = modelTableNames(safeName);
  const requestColumns = tables.get(names.requests);
  const tierColumns = tables.get(names.tierPricing);
  const requestSource: RequestSource = {
    present: requestColumns !== undefined,
    table: d.quoteIdentifier(names.requests),
    time: 'timestamp',
    where: [],
    params: [],
    cacheColumns: Boolean(requestColumns?.has('cache_n') && requestColumns.has('prompt_n')),
  };
  const cacheSelect = `${optionalColumn(requestColumns, 'cache_n')}, ${optionalColumn(requestColumns, 'prompt_n')}`;
  const tierSelect = `SELECT tier_index, start_tokens, end_tokens, input_price_per_million, output_price_per_million, ${optionalColumn(tierColumns, 'support_cache')}, ${optionalColumn(tierColumns, 'cache_hit_price_per_million')} FROM ${d.quoteIdentifier(names.tierPricing)} ORDER BY tier_index`;
  let writes: NativeWrites | undefined;
  return {
    shape: detected.shape,
    safeName,
    missingTables: detected.missingTables,
    // built on the first write only: listing thousands of models for a report needs none of it
    get writes() {
      return (writes ??= nativeWrites(d, safeName));
    },
    runtimeQuery: (limit) => perModelRuntimeQuery(d, safeName, limit),
    requestsQuery: (filter: RequestFilter) => requestsSelect(requestSource, cacheSelect, filter),
    readBilling: (session) => readPerModelBilling(session, safeName, 'ranges', tierSelect),
    requestSource,
    runSource: perModelRunSource(d, safeName, tables),
  };
}
