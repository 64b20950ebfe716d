import type { Dialect } from '../driver/dialect.js';

/**
 * The native layout: the seed's tables (SPEC §3), plus the cache columns the original added a day
 * later, all with defaults so that the seed's Python code (which names its columns) keeps reading and
 * writing our files. This module owns every statement that writes that layout.
 */

/** `PRAGMA user_version` of files this project created or upgraded. The original never set it. */
export const USER_VERSION = 0x6c6d0001;

export const MAPPING_TABLE = 'model_name_mapping';
export const PROGRAM_RUNTIME_TABLE = 'program_runtime';

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
export interface NativeStatements {
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
  selectTier: string;
  insertTier: string;
  updateTier: string;
  deleteTier: string;
  updateHourlyPrice: string;
  updateBillingMethod: string;
  dropTables: string[];
}

export function nativeStatements(d: Dialect, safeName: string): NativeStatements {
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
});

export const mappingStatements = (d: Dialect) => ({
  lookup: `SELECT safe_name FROM ${d.quoteIdentifier(MAPPING_TABLE)} WHERE original_name = ?`,
  insert: `INSERT INTO ${d.quoteIdentifier(MAPPING_TABLE)} (original_name, safe_name) VALUES (?, ?)`,
  delete: `DELETE FROM ${d.quoteIdentifier(MAPPING_TABLE)} WHERE original_name = ?`,
  list: `SELECT original_name, safe_name FROM ${d.quoteIdentifier(MAPPING_TABLE)} ORDER BY id`,
});
