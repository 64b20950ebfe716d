import type { Dialect } from '../driver/dialect.js';
import type { Row, SqlValue } from '../driver/driver.js';
import type { Session } from '../driver/executor.js';
import type { ModelBilling, ModelRequest, ModelRunTime, Shape, TierPricing, TierWindow } from '../monitor/types.js';
import type { TableColumns } from './detect-shape.js';
import { modelTableNames } from './native.js';

/**
 * Reading a model's data in whichever layout the file has. Every query returns the same column names,
 * so the getters map rows once.
 */

export type ModelRef =
  | { kind: 'per-model'; name: string; safeName: string; shape: Shape }
  | { kind: 'normalized'; name: string; modelId: number; shape: 'S6' | 'S7' };

interface Query {
  sql: string;
  params: SqlValue[];
}

const num = (value: SqlValue | undefined): number => Number(value ?? 0);
const bool = (value: SqlValue | undefined): boolean => value === true || Number(value) === 1;

function optionalColumn(tables: TableColumns, table: string, column: string, fallback = '0'): string {
  return tables.get(table)?.has(column) ? column : `${fallback} AS ${column}`;
}

/** The model list and lookup of the normalized layouts (S6, S7). */
export const normalizedModels = {
  list: 'SELECT id, original_name FROM models ORDER BY id',
  lookup: 'SELECT id FROM models WHERE original_name = ?',
};

export function runtimeQuery(d: Dialect, ref: ModelRef, limit: number): Query {
  const limitSql = limit > 0 ? ' LIMIT ?' : '';
  const params: SqlValue[] = limit > 0 ? [limit] : [];
  if (ref.kind === 'per-model')
    return {
      sql: `SELECT id, start_time, end_time FROM ${d.quoteIdentifier(modelTableNames(ref.safeName).runtime)} ORDER BY id DESC${limitSql}`,
      params,
    };
  return {
    sql: `SELECT id, start_time, COALESCE(end_time, start_time) AS end_time FROM model_runtime WHERE model_id = ? ORDER BY id DESC${limitSql}`,
    params: [ref.modelId, ...params],
  };
}

export function programRuntimeQuery(limit: number): Query {
  return limit > 0
    ? { sql: 'SELECT id, start_time, end_time FROM program_runtime ORDER BY id DESC LIMIT ?', params: [limit] }
    : { sql: 'SELECT id, start_time, end_time FROM program_runtime ORDER BY id DESC', params: [] };
}

export function toRunTime(row: Row): ModelRunTime {
  return { id: num(row.id), startTime: num(row.start_time), endTime: num(row.end_time) };
}

/** Which requests to read: `[from, to)` on the request time, ids after `afterId`, at most `limit`. */
export interface RequestFilter {
  from?: number | null;
  to?: number | null;
  afterId?: number;
  /** Only ids up to this one (an export's snapshot bound). */
  upToId?: number;
  limit?: number;
  order: 'ASC' | 'DESC';
}

/** Requests in id order; the time is `timestamp` (S1–S3) or the end time (S4+), returned as `timestamp`. */
export function requestsQuery(d: Dialect, tables: TableColumns, ref: ModelRef, filter: RequestFilter): Query {
  const where: string[] = [];
  const params: SqlValue[] = [];
  let source: string;
  let time: string;
  let columns: string;
  if (ref.kind === 'per-model') {
    const table = modelTableNames(ref.safeName).requests;
    time = ref.shape === 'S4' || ref.shape === 'S5' ? 'end_time' : 'timestamp';
    source = d.quoteIdentifier(table);
    columns = `${optionalColumn(tables, table, 'cache_n')}, ${optionalColumn(tables, table, 'prompt_n')}`;
  } else {
    time = 'end_time';
    source = 'model_requests';
    columns = 'cache_n, prompt_n';
    where.push('model_id = ?');
    params.push(ref.modelId);
  }
  const add = (condition: string, value: SqlValue | null | undefined) => {
    if (value === null || value === undefined) return;
    where.push(condition);
    params.push(value);
  };
  add(`${time} >= ?`, filter.from);
  add(`${time} < ?`, filter.to);
  add('id > ?', filter.afterId);
  add('id <= ?', filter.upToId);
  let sql = `SELECT id, ${time} AS timestamp, input_tokens, output_tokens, ${columns} FROM ${source}`;
  if (where.length) sql += ` WHERE ${where.join(' AND ')}`;
  sql += ` ORDER BY id ${filter.order}`;
  if (filter.limit !== undefined) {
    sql += ' LIMIT ?';
    params.push(filter.limit);
  }
  return { sql, params };
}

export function toRequest(row: Row): ModelRequest {
  return {
    id: num(row.id),
    timestamp: num(row.timestamp),
    inputTokens: num(row.input_tokens),
    outputTokens: num(row.output_tokens),
    cacheN: num(row.cache_n),
    promptN: num(row.prompt_n),
  };
}

function toWindow(row: Row): TierWindow {
  return {
    tierIndex: num(row.tier_index),
    minInputTokens: num(row.min_input_tokens),
    maxInputTokens: num(row.max_input_tokens),
    minOutputTokens: num(row.min_output_tokens),
    maxOutputTokens: num(row.max_output_tokens),
    inputPrice: num(row.input_price),
    outputPrice: num(row.output_price),
    supportCache: bool(row.support_cache),
    cacheWritePrice: num(row.cache_write_price),
    cacheReadPrice: num(row.cache_read_price),
  };
}

const WINDOW_COLUMNS =
  'tier_index, min_input_tokens, max_input_tokens, min_output_tokens, max_output_tokens, input_price, output_price, support_cache, cache_write_price, cache_read_price';

/** The billing settings of a model; null when the file has no billing rows for it (as the seed did). */
export async function readBilling(session: Session, tables: TableColumns, ref: ModelRef): Promise<ModelBilling | null> {
  const q = session.dialect.quoteIdentifier;
  if (ref.kind === 'per-model') {
    const names = modelTableNames(ref.safeName);
    const [method] = await session.query(`SELECT use_tier_pricing FROM ${q(names.billingMethod)} WHERE id = 1`);
    if (!method) return null;
    const [hourly] = await session.query(`SELECT hourly_price FROM ${q(names.hourlyPrice)} WHERE id = 1`);
    const base = { useTierPricing: bool(method.use_tier_pricing), hourlyPrice: num(hourly?.hourly_price) };
    if (ref.shape === 'S5') {
      const rows = await session.query(`SELECT ${WINDOW_COLUMNS} FROM ${q(names.tierPricing)} ORDER BY tier_index`);
      return { ...base, tierPricing: [], tierWindows: rows.map(toWindow) };
    }
    const rows = await session.query(
      `SELECT tier_index, start_tokens, end_tokens, input_price_per_million, output_price_per_million, ${optionalColumn(tables, names.tierPricing, 'support_cache')}, ${optionalColumn(tables, names.tierPricing, 'cache_hit_price_per_million')} FROM ${q(names.tierPricing)} ORDER BY tier_index`,
    );
    return {
      ...base,
      tierPricing: rows.map(
        (row): TierPricing => ({
          tierIndex: num(row.tier_index),
          startTokens: num(row.start_tokens),
          endTokens: num(row.end_tokens),
          inputPricePerMillion: num(row.input_price_per_million),
          outputPricePerMillion: num(row.output_price_per_million),
          supportCache: bool(row.support_cache),
          cacheHitPricePerMillion: num(row.cache_hit_price_per_million),
        }),
      ),
    };
  }
  if (ref.shape === 'S6') {
    const [method] = await session.query('SELECT use_tier_pricing FROM billing_methods WHERE model_id = ?', [ref.modelId]);
    if (!method) return null;
    const [hourly] = await session.query('SELECT hourly_price FROM hourly_pricing WHERE model_id = ?', [ref.modelId]);
    const rows = await session.query(`SELECT ${WINDOW_COLUMNS} FROM tier_pricing WHERE model_id = ? ORDER BY tier_index`, [
      ref.modelId,
    ]);
    return {
      useTierPricing: bool(method.use_tier_pricing),
      hourlyPrice: num(hourly?.hourly_price),
      tierPricing: [],
      tierWindows: rows.map(toWindow),
    };
  }
  const [def] = await session.query('SELECT id, pricing_type, hourly_price, support_cache FROM model_defs WHERE name = ?', [ref.name]);
  if (!def) return null;
  const rows = await session.query(
    `SELECT tier_index, COALESCE(min_input, 0) AS min_input_tokens, COALESCE(max_input, -1) AS max_input_tokens,
      COALESCE(min_output, 0) AS min_output_tokens, COALESCE(max_output, -1) AS max_output_tokens,
      COALESCE(input_price, 0) AS input_price, COALESCE(output_price, 0) AS output_price, ? AS support_cache,
      COALESCE(cache_write_price, 0) AS cache_write_price, COALESCE(cache_read_price, 0) AS cache_read_price
     FROM pricing_tiers WHERE pricing_id = ? ORDER BY tier_index`,
    [session.dialect.bool(bool(def.support_cache)), num(def.id)],
  );
  return {
    useTierPricing: String(def.pricing_type) !== 'hourly',
    hourlyPrice: num(def.hourly_price),
    tierPricing: [],
    tierWindows: rows.map(toWindow),
  };
}
