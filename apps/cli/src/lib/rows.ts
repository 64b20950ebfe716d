import type { ModelInfo } from '@llm-monitor/core';
import Database from 'better-sqlite3';
import { UserError } from '../user-error.js';

/**
 * Reading requests and runs straight from the SQLite file, page by page, for exports of any size:
 * core's getters load a model's rows at once. Pages are keyset-paginated on the row id, each page its
 * own short read (a writer is never held up), and the export stops at the highest id that existed
 * when it started, so rows recorded meanwhile do not make it run forever.
 */

export type Kind = 'requests' | 'runtime';

/** Where one model's rows are, in whichever layout the file has. */
export interface RowSource {
  model: string | null;
  table: string;
  /** A condition selecting the model's rows in a shared table (normalized layouts), with its parameter. */
  filter: string | null;
  filterParams: unknown[];
  /** SELECT list producing the export's columns. */
  select: string;
  /** The column a window applies to (requests), or the run's start and end (runtime). */
  time: string;
  endTime?: string;
}

const q = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;

export function openRaw(path: string): Database.Database {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  // a rollback-journal file can be locked by a writer's commit for a moment: wait for it, as any reader would
  db.pragma('busy_timeout = 10000');
  return db;
}

function columns(db: Database.Database, table: string): Set<string> | null {
  const rows = db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[];
  return rows.length === 0 ? null : new Set(rows.map((r) => r.name));
}

const optional = (cols: Set<string>, column: string) => (cols.has(column) ? q(column) : '0');

/** The sources of the given models' rows; models whose tables are gone are left out. */
export function rowSources(db: Database.Database, models: readonly ModelInfo[], kind: Kind): RowSource[] {
  const sources: RowSource[] = [];
  for (const model of models) {
    if (model.safeName !== null) {
      const table = `${model.safeName}_${kind}`;
      const cols = columns(db, table);
      if (!cols) continue;
      if (kind === 'runtime') {
        sources.push({ model: model.name, table, filter: null, filterParams: [], select: 'id, start_time, end_time', time: 'start_time', endTime: 'end_time' });
        continue;
      }
      const time = cols.has('timestamp') ? 'timestamp' : 'end_time';
      sources.push({
        model: model.name,
        table,
        filter: null,
        filterParams: [],
        select: `id, ${q(time)} AS timestamp, input_tokens, output_tokens, ${optional(cols, 'cache_n')} AS cache_n, ${optional(cols, 'prompt_n')} AS prompt_n`,
        time: q(time),
      });
      continue;
    }
    // normalized layouts (S6, S7): one table for every model
    const row = db.prepare('SELECT id FROM models WHERE original_name = ?').get(model.name) as { id: number } | undefined;
    if (!row) continue;
    const table = kind === 'requests' ? 'model_requests' : 'model_runtime';
    const cols = columns(db, table);
    if (!cols) continue;
    if (kind === 'runtime')
      sources.push({
        model: model.name,
        table,
        filter: 'model_id = ?',
        filterParams: [row.id],
        select: 'id, start_time, COALESCE(end_time, start_time) AS end_time',
        time: 'start_time',
        endTime: 'COALESCE(end_time, start_time)',
      });
    else
      sources.push({
        model: model.name,
        table,
        filter: 'model_id = ?',
        filterParams: [row.id],
        select: `id, end_time AS timestamp, input_tokens, output_tokens, ${optional(cols, 'cache_n')} AS cache_n, ${optional(cols, 'prompt_n')} AS prompt_n`,
        time: 'end_time',
      });
  }
  return sources;
}

export function programSource(db: Database.Database): RowSource {
  const cols = columns(db, 'program_runtime');
  if (!cols || !cols.has('start_time') || !cols.has('end_time'))
    throw new UserError('this database has no program_runtime table (LLM-Manager v3 files do not record program runs)');
  return { model: null, table: 'program_runtime', filter: null, filterParams: [], select: 'id, start_time, end_time', time: 'start_time', endTime: 'end_time' };
}

export interface Window {
  from?: number;
  to?: number;
}

/** Requests with their time in [from, to); runs that overlap [from, to). */
function windowSql(source: RowSource, window: Window): { sql: string[]; params: number[] } {
  const sql: string[] = [];
  const params: number[] = [];
  if (source.endTime) {
    if (window.from !== undefined) {
      sql.push(`${source.endTime} >= ?`);
      params.push(window.from);
    }
    if (window.to !== undefined) {
      sql.push(`${source.time} < ?`);
      params.push(window.to);
    }
  } else {
    if (window.from !== undefined) {
      sql.push(`${source.time} >= ?`);
      params.push(window.from);
    }
    if (window.to !== undefined) {
      sql.push(`${source.time} < ?`);
      params.push(window.to);
    }
  }
  return { sql, params };
}

export interface Plan {
  source: RowSource;
  /** The highest id when the export started. */
  maxId: number;
  /** Rows to export (for the progress bar). */
  count: number;
}

export function plan(db: Database.Database, source: RowSource, window: Window): Plan {
  const where = [...(source.filter ? [source.filter] : [])];
  const top = db.prepare(`SELECT MAX(id) AS id FROM ${q(source.table)}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`).get(...source.filterParams) as {
    id: number | null;
  };
  const maxId = top.id ?? 0;
  const w = windowSql(source, window);
  const conditions = [...where, 'id <= ?', ...w.sql];
  const { n } = db.prepare(`SELECT COUNT(*) AS n FROM ${q(source.table)} WHERE ${conditions.join(' AND ')}`).get(...source.filterParams, maxId, ...w.params) as {
    n: number;
  };
  return { source, maxId, count: n };
}

/** The rows of one source, a page at a time, oldest (lowest id) first. */
export function* pages(db: Database.Database, { source, maxId }: Plan, window: Window, pageSize = 5000): Generator<Record<string, number>[]> {
  const w = windowSql(source, window);
  const conditions = [...(source.filter ? [source.filter] : []), 'id > ?', 'id <= ?', ...w.sql];
  const statement = db.prepare(`SELECT ${source.select} FROM ${q(source.table)} WHERE ${conditions.join(' AND ')} ORDER BY id LIMIT ?`);
  let after = Number.NEGATIVE_INFINITY;
  for (;;) {
    let rows: Record<string, number>[];
    try {
      rows = statement.all(...source.filterParams, after, maxId, ...w.params, pageSize) as Record<string, number>[];
    } catch (error) {
      if (/no such table/i.test((error as Error).message)) throw new UserError(`the tables of model ${JSON.stringify(source.model)} were deleted while exporting`);
      throw error;
    }
    if (rows.length === 0) return;
    yield rows;
    if (rows.length < pageSize) return;
    after = rows[rows.length - 1]!.id!;
  }
}
