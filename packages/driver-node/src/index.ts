import { closeSync, fstatSync, mkdirSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import {
  type DatabaseConnection,
  type Driver,
  Monitor,
  MonitorError,
  SQLITE_HEADER_BYTES,
  StatementCache,
  notASqliteFile,
  readSqliteHeader,
  sqliteOpenError,
  type MonitorOptions,
  type Row,
  type RunResult,
  type SqlValue,
  sqliteDialect,
} from '@llm-monitor/core';

export * from '@llm-monitor/core';

/** Where the original LLM-Manager kept its monitor, relative to the working directory. */
export const DEFAULT_DB_PATH = 'webui/monitoring.db';

/**
 * The `synchronous` level. `NORMAL` (the default) in WAL mode: a committed transaction survives a crash
 * of the process (kill -9 included) and the file is never corrupted; on power loss or an OS crash the
 * last transactions before the failure may be lost. `FULL` also survives power loss, at the cost of an
 * fsync on every commit.
 */
export type Synchronous = 'NORMAL' | 'FULL';

export interface NodeDriverOptions {
  /** Open without writing anything: no schema, no journal-mode change. The file must exist. */
  readOnly?: boolean;
  /** Default `NORMAL`; see {@link Synchronous}. */
  synchronous?: Synchronous;
}

export type OpenMonitorOptions = MonitorOptions & NodeDriverOptions;

/** The part of better-sqlite3 this driver uses (its own types stay out of our public `.d.ts`). */
interface Statement {
  readonly reader: boolean;
  all(...params: unknown[]): unknown[];
  raw(toggle: boolean): Statement;
  run(...params: unknown[]): { changes: number };
}
interface Database {
  prepare(sql: string): Statement;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  close(): void;
}
type DatabaseConstructor = new (
  path: string,
  options?: { readonly?: boolean; fileMustExist?: boolean; timeout?: number },
) => Database;

const require = createRequire(import.meta.url);
let BetterSqlite3: DatabaseConstructor | undefined;

function loadBetterSqlite3(): DatabaseConstructor {
  if (BetterSqlite3) return BetterSqlite3;
  let Database: DatabaseConstructor;
  try {
    Database = require('better-sqlite3') as DatabaseConstructor;
  } catch (error) {
    throw new MonitorError(
      'DRIVER',
      'The peer dependency better-sqlite3 is not installed: run `npm install better-sqlite3@12` next to @llm-monitor/driver-node.',
      { cause: error },
    );
  }
  // better-sqlite3 loads its native addon on the first `new Database()`: load it here, in memory, so a
  // build that is missing (install scripts skipped) or made for another Node is reported as such before
  // any file or folder is touched
  try {
    new Database(':memory:').close();
  } catch (error) {
    const reason = String((error as Error).message ?? error).split('\n')[0]!.replace(/\s*Tried:$/, '');
    throw new MonitorError(
      'DRIVER',
      `better-sqlite3 is installed but its native build cannot be loaded (${reason}): its install script, which downloads or compiles ` +
        'build/Release/better_sqlite3.node, did not run (installed with --ignore-scripts, or a package manager that blocks build scripts) ' +
        'or ran for another Node.js version. Run `npm rebuild better-sqlite3` and allow its install script ' +
        '(where npm blocks install scripts: `npm install-scripts approve better-sqlite3` first; pnpm: `pnpm approve-builds`, ' +
        'or list better-sqlite3 in onlyBuiltDependencies).',
      { cause: error },
    );
  }
  BetterSqlite3 = Database;
  return Database;
}

/** better-sqlite3 binds no booleans: 1/0 instead (core's dialect already sends numbers; this is a guard). */
function bind(params: readonly SqlValue[]): readonly unknown[] {
  for (const value of params) if (typeof value === 'boolean') return params.map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v));
  return params;
}

class BetterSqliteConnection implements DatabaseConnection {
  readonly #statements: StatementCache<Statement>;

  constructor(db: Database) {
    this.#statements = new StatementCache((sql) => db.prepare(sql));
  }

  async query(sql: string, params: readonly SqlValue[] = []): Promise<Row[]> {
    return this.#prepare(sql).all(bind(params)) as Row[];
  }

  async queryArrays(sql: string, params: readonly SqlValue[] = []): Promise<SqlValue[][]> {
    const statement = this.#prepare(sql).raw(true);
    try {
      return statement.all(bind(params)) as SqlValue[][];
    } finally {
      statement.raw(false);
    }
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<RunResult> {
    const statement = this.#prepare(sql);
    if (statement.reader) {
      statement.all(bind(params));
      return { changes: 0 };
    }
    return { changes: statement.run(bind(params)).changes };
  }

  async batch(sql: string, rows: readonly (readonly SqlValue[])[]): Promise<RunResult> {
    const statement = this.#prepare(sql);
    let changes = 0;
    for (const row of rows) changes += statement.run(bind(row)).changes;
    return { changes };
  }

  #prepare(sql: string): Statement {
    return this.#statements.get(sql);
  }
}

/**
 * SQLite takes a file too short to hold a header for an empty database and would overwrite it: refuse
 * any existing, non-empty file that does not start with SQLite's header (core's one header check).
 */
function checkHeader(file: string): void {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return; // missing (created on a writable open) or unreadable: better-sqlite3 reports that itself
  }
  try {
    const bytes = Buffer.alloc(SQLITE_HEADER_BYTES);
    const read = readSync(fd, bytes, 0, SQLITE_HEADER_BYTES, 0);
    if (readSqliteHeader(bytes.subarray(0, read), fstatSync(fd).size).kind === 'other') throw notASqliteFile(file, fstatSync(fd).size);
  } catch (error) {
    if ((error as { code?: string }).code === 'EISDIR') return; // a directory: better-sqlite3 says so
    throw error;
  } finally {
    closeSync(fd);
  }
}

/**
 * A driver on one better-sqlite3 connection to `path`. Writers in other threads and processes are
 * handled by SQLite's locking (WAL mode) and core's retries; the engine itself never blocks the event
 * loop waiting for a lock (its busy timeout is 0 once open).
 */
export function createNodeDriver(path: string, options: NodeDriverOptions = {}): Driver {
  const Database = loadBetterSqlite3();
  const file = resolve(path);
  checkHeader(file);
  let db: Database;
  try {
    if (!options.readOnly) mkdirSync(dirname(file), { recursive: true });
    db = new Database(file, { readonly: options.readOnly ?? false, fileMustExist: options.readOnly ?? false, timeout: 5000 });
  } catch (error) {
    throw sqliteOpenError(file, error);
  }
  try {
    // reading the schema here turns "not a database" into an error at open, not at the first query
    db.pragma('schema_version');
    db.pragma('foreign_keys = ON');
    // a reader never waits in the engine: core retries busy reads asynchronously
    if (options.readOnly) db.pragma('busy_timeout = 0');
  } catch (error) {
    db.close();
    throw sqliteOpenError(file, error);
  }
  const connection = new BetterSqliteConnection(db);
  return {
    dialect: sqliteDialect,
    acquireConnection: async () => connection,
    releaseConnection: async () => undefined,
    // only once the Monitor recognised the file: a refused file keeps its journal mode
    async prepareForWrites() {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
      // from here on, waiting for another writer's lock is core's job (asynchronous retries), so the
      // engine never blocks the event loop in its busy handler
      db.pragma('busy_timeout = 0');
    },
    close: async () => db.close(),
  };
}

/**
 * Opens a Monitor on a SQLite file, by default `webui/monitoring.db` (its folder is created).
 *
 * @example
 * const monitor = await openMonitor();
 * await monitor.addModelRequest('qwen', [Date.now() / 1000, 150, 75]);
 * await monitor.close();
 */
export async function openMonitor(path: string = DEFAULT_DB_PATH, options: OpenMonitorOptions = {}): Promise<Monitor> {
  const { synchronous, ...monitorOptions } = options;
  return Monitor.open(createNodeDriver(path, { readOnly: options.readOnly, synchronous }), monitorOptions);
}
