import type { SqlValue } from '../../driver/driver.js';
import type { Session } from '../../driver/executor.js';
import type { Shape } from '../../monitor/types.js';
import type { StoredBilling } from '../file-values.js';
import type { NativeWrites } from './native.js';

/**
 * What one stored layout of a model knows: every statement that reads (and, for the native layout,
 * writes) the model's data. A resolved model carries its layout, so the rest of core never asks which
 * shape a model has: it calls the layout. One module per family implements it: `native.ts` (S1–S3, read
 * and write), `legacy.ts` (S4–S5, read) and `normalized.ts` (S6–S7, read).
 */
export interface ModelLayout {
  readonly shape: Shape;
  /** The per-model table prefix (`getSafeModelName(name)`), or null in the normalized layouts. */
  readonly safeName: string | null;
  /**
   * Tables of the model that do not exist (a half-created or half-deleted model). A model with missing
   * tables is listed and described, but neither read for analytics nor written.
   */
  readonly missingTables: readonly string[];
  /** The statements that write the model; null for layouts this project reads but does not write. */
  readonly writes: NativeWrites | null;

  /** The model's runs, newest first (`id`, `start_time`, `end_time`; an open run's end is its start). */
  runtimeQuery(limit: number): Query;
  /** The model's requests (`id`, `timestamp`, `input_tokens`, `output_tokens`, `cache_n`, `prompt_n`). */
  requestsQuery(filter: RequestFilter): Query;
  /**
   * The billing settings (null when the file has no billing rows for the model, as the seed allowed),
   * with the values that could not be used.
   */
  readBilling(session: Session): Promise<StoredBilling>;
  /** Where the aggregation reads the model's requests and runs. */
  readonly requestSource: RequestSource;
  readonly runSource: RunSource;
}

export interface Query {
  sql: string;
  params: SqlValue[];
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

/** A model's requests as the aggregation scans them. */
export interface RequestSource {
  /** False when the table does not exist (a half-deleted model). */
  readonly present: boolean;
  /** The table, quoted. */
  readonly table: string;
  /** The column holding the request time (`timestamp`, or the end time in S4+ layouts). */
  readonly time: string;
  /** Conditions that select the model's rows in a shared table, and their parameters. */
  readonly where: readonly string[];
  readonly params: readonly SqlValue[];
  /** The table records `cache_n` and `prompt_n`. */
  readonly cacheColumns: boolean;
}

/** A model's runs as the aggregation reads them. */
export interface RunSource {
  /** False when the table does not exist (a half-deleted model). */
  readonly present: boolean;
  readonly table: string;
  /** The end time, never NULL (an open S7 run, stored with a NULL end, ends at its start). */
  readonly end: string;
  /** 1 when the run's end is stored as NULL (S7's open run), else 0. */
  readonly nullEnd: string;
  readonly where: readonly string[];
  readonly params: readonly SqlValue[];
}

/** Builds `SELECT … FROM … WHERE …` conditions and their parameters in step. */
export class Conditions {
  readonly sql: string[];
  readonly params: SqlValue[];

  constructor(sql: readonly string[] = [], params: readonly SqlValue[] = []) {
    this.sql = [...sql];
    this.params = [...params];
  }

  /** Adds `condition` with its one parameter, unless the value is null or undefined. */
  add(condition: string, value: SqlValue | null | undefined): this {
    if (value === null || value === undefined) return this;
    this.sql.push(condition);
    this.params.push(value);
    return this;
  }

  get where(): string {
    return this.sql.length > 0 ? ` WHERE ${this.sql.join(' AND ')}` : '';
  }
}

/** The requests query shared by every layout: the request time returned as `timestamp`. */
export function requestsSelect(source: RequestSource, columns: string, filter: RequestFilter): Query {
  const where = new Conditions(source.where, source.params)
    .add(`${source.time} >= ?`, filter.from)
    .add(`${source.time} < ?`, filter.to)
    .add('id > ?', filter.afterId)
    .add('id <= ?', filter.upToId);
  let sql = `SELECT id, ${source.time} AS timestamp, input_tokens, output_tokens, ${columns} FROM ${source.table}${where.where} ORDER BY id ${filter.order}`;
  if (filter.limit !== undefined) {
    sql += ' LIMIT ?';
    where.params.push(filter.limit);
  }
  return { sql, params: where.params };
}

/** `ORDER BY id DESC` with an optional `LIMIT`, for runtime reads. */
export function limited(sql: string, params: SqlValue[], limit: number): Query {
  return limit > 0 ? { sql: `${sql} LIMIT ?`, params: [...params, limit] } : { sql, params };
}
