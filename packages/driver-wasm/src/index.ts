import {
  type DatabaseConnection,
  type Driver,
  Monitor,
  MonitorError,
  type MonitorOptions,
  type Row,
  type RunResult,
  type SqlValue,
  StatementCache,
  sqliteDialect,
  sqliteOpenError,
} from '@llm-monitor/core';
import { prepareBytes } from './file-header.js';

export * from '@llm-monitor/core';

/** What sql.js binds. */
type SqlJsValue = number | string | Uint8Array | null;

/** The part of a sql.js prepared statement this driver uses (sql.js's own types stay out of our `.d.ts`). */
interface SqlJsStatement {
  bind(values?: SqlJsValue[]): boolean;
  step(): boolean;
  get(): unknown[];
  getColumnNames(): string[];
  reset(): unknown;
  free(): unknown;
}

/** The part of a sql.js `Database` this driver uses. */
interface SqlJsDatabase {
  prepare(sql: string): SqlJsStatement;
  getRowsModified(): number;
  export(): Uint8Array;
  close(): void;
}

/**
 * What `initSqlJs()` resolves to, as far as this package uses it. Any sql.js ≥ 1.15 build fits (wasm,
 * asm.js, browser or Node entry); the package never loads sql.js or its `.wasm` itself.
 */
export interface SqlJsModule {
  Database: new (data?: Uint8Array | null) => SqlJsDatabase;
}

export interface WasmDriverOptions {
  /**
   * The database file's bytes (e.g. `await file.arrayBuffer()`); omitted or empty for a new, empty
   * database. sql.js works on its own in-memory copy: these bytes are never modified, and writes reach
   * them only through {@link WasmDriver.export}.
   */
  bytes?: Uint8Array | ArrayBuffer;
}

/** A {@link Driver} on an in-memory sql.js database, which can hand its current bytes back. */
export interface WasmDriver extends Driver {
  /**
   * True when the bytes were a WAL-mode file (header bytes 18–19 = 2, every LLM-Manager v2.6+ file) and
   * were opened from a copy patched to rollback-journal mode. Transactions still sitting in a separate
   * `-wal` file next to the original are not part of the bytes and are not seen.
   */
  readonly walPatched: boolean;

  /**
   * The database as a SQLite file (rollback-journal mode), e.g. to offer it as a download. Resolves once
   * no call is in flight on this driver, so it never copies half a transaction; do not await it inside
   * `monitor.transaction()`. Fails with `CLOSED` after the driver was closed.
   */
  export(): Promise<Uint8Array>;
}

/** Booleans as 1/0; a bigint beyond 2^53 as its decimal text, which an INTEGER column stores exactly. */
function toSqlite(value: SqlValue): SqlJsValue {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  return value;
}

/** Run on every open and after an export: settings not stored in the file, then a first read of the schema. */
const SETUP = ['PRAGMA foreign_keys = ON', 'SELECT COUNT(*) FROM sqlite_master'];

class SqlJsConnection implements DatabaseConnection {
  readonly #db: SqlJsDatabase;
  readonly #statements: StatementCache<SqlJsStatement>;

  constructor(db: SqlJsDatabase) {
    this.#db = db;
    this.#statements = new StatementCache(
      (sql) => db.prepare(sql),
      (statement) => statement.free(),
    );
  }

  async query(sql: string, params: readonly SqlValue[] = []): Promise<Row[]> {
    const statement = this.#prepare(sql);
    const columns = statement.getColumnNames();
    return (await this.queryArrays(sql, params)).map((values) => {
      const row: Row = {};
      for (let i = 0; i < columns.length; i++) row[columns[i]!] = values[i]!;
      return row;
    });
  }

  async queryArrays(sql: string, params: readonly SqlValue[] = []): Promise<SqlValue[][]> {
    const statement = this.#prepare(sql);
    try {
      statement.bind(params.map(toSqlite));
      const rows: SqlValue[][] = [];
      while (statement.step()) rows.push(statement.get() as SqlValue[]);
      return rows;
    } finally {
      statement.reset();
    }
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<RunResult> {
    return this.batch(sql, [params]);
  }

  /**
   * `getRowsModified()` keeps the count of the last INSERT/UPDATE/DELETE, even after other statements;
   * `total_changes()` moving tells whether this statement was one, as better-sqlite3 does it.
   */
  async batch(sql: string, rows: readonly (readonly SqlValue[])[]): Promise<RunResult> {
    const totalBefore = this.#totalChanges();
    const statement = this.#prepare(sql);
    let changes = 0;
    try {
      for (const row of rows) {
        statement.bind(row.map(toSqlite));
        statement.step();
        changes += this.#db.getRowsModified();
      }
    } finally {
      statement.reset();
    }
    return { changes: this.#totalChanges() === totalBefore ? 0 : changes };
  }

  /** Applies the connection settings and reads the schema once, so that a corrupt file fails here. */
  setup(): void {
    for (const sql of SETUP) {
      const statement = this.#db.prepare(sql);
      try {
        statement.step();
      } finally {
        statement.free();
      }
    }
  }

  /** Frees every cached statement (they are re-prepared on demand). */
  clearStatements(): void {
    this.#statements.clear();
  }

  #totalChanges(): number {
    const statement = this.#prepare('SELECT total_changes()');
    try {
      statement.step();
      return Number(statement.get()[0]);
    } finally {
      statement.reset();
    }
  }

  #prepare(sql: string): SqlJsStatement {
    return this.#statements.get(sql);
  }

}


/**
 * A driver on a sql.js database held in memory: empty, or loaded from a SQLite file's bytes. The caller
 * initialises sql.js and chooses where its `.wasm` comes from; this package never locates it.
 *
 * Fails with `NOT_A_DATABASE` when the bytes are not a SQLite file. A SQLite file of another
 * application opens here; `Monitor.open` then refuses it with `NOT_A_MONITOR_DB`.
 *
 * @example
 * import initSqlJs from 'sql.js';
 * import wasmUrl from 'sql.js/dist/sql-wasm-browser.wasm?url';
 *
 * const SQL = await initSqlJs({ locateFile: () => wasmUrl });
 * const driver = createWasmDriver(SQL, { bytes: await file.arrayBuffer() });
 * const monitor = await Monitor.open(driver, { readOnly: true });
 */
export function createWasmDriver(SQL: SqlJsModule, options: WasmDriverOptions = {}): WasmDriver {
  if (typeof SQL?.Database !== 'function')
    throw new MonitorError('INVALID_INPUT', 'createWasmDriver needs the module that `await initSqlJs(...)` resolves to.', { value: SQL });
  const { data, walPatched } = prepareBytes(options.bytes);
  let db: SqlJsDatabase;
  try {
    db = new SQL.Database(data);
  } catch (error) {
    throw sqliteOpenError('the database', error);
  }
  const connection = new SqlJsConnection(db);
  try {
    connection.setup();
  } catch (error) {
    db.close();
    throw sqliteOpenError('the database', error);
  }

  let closed = false;
  /** Calls that acquired the connection and have not released it; `export` waits for none. */
  let inUse = 0;
  let idle: (() => void)[] = [];
  const wakeExports = () => {
    const waiting = idle;
    idle = [];
    for (const resolve of waiting) resolve();
  };
  return {
    // the copy runs in rollback mode, but `describe()` reports the journal mode the file was written in
    dialect: walPatched ? { ...sqliteDialect, journalModeQuery: "SELECT 'wal' AS journal_mode" } : sqliteDialect,
    walPatched,
    acquireConnection: async () => {
      inUse++;
      return connection;
    },
    releaseConnection: async () => {
      if (--inUse === 0) wakeExports();
    },
    close: async () => {
      if (closed) return;
      closed = true;
      connection.clearStatements();
      db.close();
      wakeExports();
    },
    export: async () => {
      while (inUse > 0 && !closed) await new Promise<void>((resolve) => idle.push(resolve));
      if (closed) throw new MonitorError('CLOSED', 'The database is closed; export it before closing the monitor.');
      const bytes = db.export();
      // sql.js before 1.16 closed and reopened the database to export it, finalising every statement
      connection.clearStatements();
      connection.setup();
      return bytes;
    },
  };
}

export interface OpenWasmMonitorOptions extends MonitorOptions, WasmDriverOptions {
  /** The initialised sql.js module: `await initSqlJs({ locateFile })` or `initSqlJs({ wasmBinary })`. */
  SQL: SqlJsModule;
}

/** A Monitor on an in-memory database, with what a browser app needs besides. */
export interface WasmMonitor {
  monitor: Monitor;
  /** The file was in WAL mode and was read from a patched copy; see {@link WasmDriver.walPatched}. */
  walPatched: boolean;
  /** The current database as a SQLite file; see {@link WasmDriver.export}. */
  exportBytes(): Promise<Uint8Array>;
}

/**
 * Opens a Monitor on a SQLite file's bytes (or on a new, empty database) in a browser, worker or Node.
 *
 * Fails with `NOT_A_DATABASE` for bytes that are not SQLite and with `NOT_A_MONITOR_DB` for a SQLite
 * file that holds no monitor tables (or is empty, with `readOnly: true`).
 *
 * @example
 * const SQL = await initSqlJs({ locateFile: () => wasmUrl });
 * const { monitor, walPatched } = await openWasmMonitor({ SQL, bytes, readOnly: true });
 * if (walPatched) console.info('WAL-mode file: read from a patched copy');
 * console.log(await monitor.listModels());
 */
export async function openWasmMonitor(options: OpenWasmMonitorOptions): Promise<WasmMonitor> {
  const { SQL, bytes, ...monitorOptions } = options;
  const driver = createWasmDriver(SQL, { bytes });
  let monitor: Monitor;
  try {
    monitor = await Monitor.open(driver, monitorOptions);
  } catch (error) {
    await driver.close();
    throw error;
  }
  return { monitor, walPatched: driver.walPatched, exportBytes: () => driver.export() };
}
