import type { SqlValue } from './driver.js';

/** What core needs to know about an engine error to turn it into a typed `MonitorError`. */
export type EngineErrorKind =
  | 'busy' // the database is locked by another writer: safe to retry the whole transaction
  // the connection to the server broke, or none could be opened (a restart, a failover, an administrator
  // ending the backend): the connection is discarded, and a transaction on it did not commit unless the
  // loss hit its COMMIT (see `Dialect.commitOutcome`); safe to retry on a new connection
  | 'connection-lost'
  | 'unique' // a UNIQUE or PRIMARY KEY constraint
  | 'constraint' // any other constraint (NOT NULL, CHECK, foreign key)
  | 'missing-table' // the statement names a table that does not exist
  | 'not-a-database' // the file is not a database, or is corrupt
  | 'read-only'; // the database or file cannot be written

/** A statement with its placeholders in the engine's own style, and how many it has. */
export interface NumberedSql {
  text: string;
  count: number;
}

/**
 * Everything about SQL that differs between engines, in one object per engine, so that the Monitor's
 * logic is written once. Core ships `sqliteDialect` (better-sqlite3 and sql.js share it); a server
 * engine adds its own.
 */
export interface Dialect {
  readonly name: 'sqlite' | 'postgres';

  /** Opens a transaction that will write. SQLite: `BEGIN IMMEDIATE`, which takes the write lock up
   * front so a transaction never fails half-way with "database is locked". */
  readonly beginWrite: string;
  /** Opens a transaction that only reads (a consistent snapshot across several queries). */
  readonly beginRead: string;
  readonly commit: string;
  readonly rollback: string;
  /**
   * Whether a failed statement aborts the whole transaction (PostgreSQL) rather than only itself
   * (SQLite). When it does, core wraps each statement of a group commit in a savepoint.
   */
  readonly errorsAbortTransaction: boolean;
  /** Savepoints: each call inside `monitor.transaction()` is atomic on its own. */
  readonly savepoint: { readonly begin: string; readonly release: string; readonly rollback: string };

  /** Column types and the auto-increment primary key, for the DDL in `schema/`. */
  readonly types: {
    readonly autoIdPrimaryKey: string;
    readonly integer: string;
    readonly real: string;
    readonly boolean: string;
    readonly text: string;
    readonly createdAt: string;
  };

  /**
   * Core writes positional `?` placeholders. An engine that numbers them (`$1, $2, …` in PostgreSQL)
   * gives the conversion here, leaving a `?` inside literals, quoted identifiers and comments alone;
   * null when the engine takes `?` as written. Core converts each statement text once and caches the
   * result (the Executor), so a driver receives SQL in its engine's own style and never parses it.
   */
  readonly numberParameters: ((sql: string) => NumberedSql) | null;

  /**
   * How core runs a batch of a single-row `INSERT … VALUES (?, …, ?)`: null for one prepared statement
   * stepped per row (`DatabaseConnection.batch`, right for an in-process engine); otherwise as multi-row
   * INSERTs of at most `maxRows` rows and `maxParameters` parameters each, so that a server engine
   * takes one round trip per few thousand rows instead of one per row. Rows keep their order.
   */
  readonly multiRowInsert: { readonly maxRows: number; readonly maxParameters: number } | null;

  /** Whether text may contain U+0000. When not (PostgreSQL), core refuses such a value with `INVALID_INPUT`. */
  readonly textHoldsNul: boolean;

  /**
   * How core learns whether a write transaction committed when the connection broke while its COMMIT
   * was in flight; null for an engine whose connection cannot break (in-process SQLite). `begin` opens
   * the write transaction (in place of `beginWrite`) and returns one row `{ xid }` naming it; it may be
   * several statements without parameters, run in one round trip. `status` takes that `xid` as its one
   * parameter and returns one row `{ status }`: `'committed'`, `'aborted'`, `'in progress'`, or null
   * when the server no longer knows. The answer decides between returning (committed), running the
   * transaction again (aborted: nothing was written), and `COMMIT_UNKNOWN`; nothing commits twice.
   */
  readonly commitOutcome: { readonly begin: string; readonly status: string } | null;

  /** Quotes an identifier (a table or column name). Table names derive from a hash, but we quote anyway. */
  quoteIdentifier(name: string): string;

  /** Binds a boolean the way the engine stores it (SQLite: 1/0). */
  bool(value: boolean): SqlValue;

  /**
   * A sum that cannot overflow or fail (SQLite's integer `SUM` fails past 2^63: `TOTAL`, a float;
   * PostgreSQL's `SUM` of a BIGINT is an exact NUMERIC).
   */
  total(expression: string): string;

  /** The smallest of numeric expressions (SQLite's scalar `MIN(a, b, …)`, PostgreSQL `LEAST(a, b, …)`). */
  least(...expressions: string[]): string;

  /** The largest (SQLite's scalar `MAX(a, b, …)`, PostgreSQL `GREATEST(a, b, …)`). */
  greatest(...expressions: string[]): string;

  /** The integer `floor(column / seconds)`: the time slot of an epoch-seconds column. */
  slot(column: string, seconds: number): string;

  /**
   * A query returning one row per column of every table: `table_name`, `column_name`, `not_null`
   * (1 or 0), ordered by table and column position. Used to detect the layout of a file.
   */
  readonly columnsQuery: string;

  /**
   * The same rows for one table only, the table's name as the one `?` parameter: what core reads after it
   * changed a model's tables, so that a file with thousands of models is never read whole again for it.
   */
  readonly tableColumnsQuery: string;

  /**
   * A query returning one row with one number that changes whenever any table, column or index of the
   * database changes (SQLite's `PRAGMA schema_version`), so that core reads the tables again only when
   * they changed; null when the engine has none (then they are read again each time a list needs them).
   */
  readonly schemaVersionQuery: string | null;

  /** A query returning one row `{ index_name }` per index in the database. */
  readonly indexesQuery: string;

  /** The same for the indexes of one table, its name as the one `?` parameter. */
  readonly tableIndexesQuery: string;

  /**
   * A query returning one row `{ trigger_name, table_name }` per trigger a user created (not the engine's
   * own). A trigger on a monitor table would run on the Monitor's writes, so a writable Monitor refuses
   * a file that has one (see `MonitorOptions.dropTriggers`).
   */
  readonly triggersQuery: string;

  /** A query returning one row `{ view_name }` per view. */
  readonly viewsQuery: string;

  /** The statement that drops a trigger (PostgreSQL names its table too). */
  dropTrigger(trigger: string, table: string): string;

  /** A query returning `{ journal_mode }`, or null when the engine has no such notion. */
  readonly journalModeQuery: string | null;

  /**
   * Reading and setting the file's format mark (SQLite `PRAGMA user_version`), or null when the engine
   * has no such header. Files this project created or upgraded carry `USER_VERSION`.
   */
  readonly userVersion: { readonly query: string; set(version: number): string } | null;

  /**
   * A statement that waits until no other connection is changing the schema, and holds that lock until
   * the write transaction ends; null when `beginWrite` already makes writers take turns (SQLite's
   * `BEGIN IMMEDIATE`). Core runs it inside the write transaction before it creates the core tables or
   * registers a model, then looks again, so two processes registering one new model at the same moment
   * both succeed with one set of tables. PostgreSQL: a transaction-level advisory lock, because
   * concurrent `CREATE TABLE IF NOT EXISTS` of one name fails there with a unique violation.
   */
  readonly schemaLock: string | null;

  /**
   * Like {@link schemaLock}, for creating the tables of one model only: one `?` parameter, the model's
   * safe name. Registrations of different models then run at the same time (on PostgreSQL, concurrent
   * `CREATE TABLE` of different names is fine); two of the same model take turns. Null when
   * `beginWrite` already makes writers take turns.
   */
  readonly modelLock: string | null;

  /** A query returning `{ id }`: the id the connection's latest INSERT created (SQLite `last_insert_rowid()`). */
  readonly lastInsertIdQuery: string;

  /** Classifies an engine error; undefined for anything not listed in {@link EngineErrorKind}. */
  classifyError(error: unknown): EngineErrorKind | undefined;
}

export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

export function errorMessage(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

/**
 * SQLite, as spoken by better-sqlite3 (errors carry `code: 'SQLITE_BUSY'` and the like) and by sql.js
 * (errors carry only SQLite's message), so errors are classified by code first, message second.
 */
export const sqliteDialect: Dialect = {
  name: 'sqlite',
  beginWrite: 'BEGIN IMMEDIATE',
  beginRead: 'BEGIN',
  commit: 'COMMIT',
  rollback: 'ROLLBACK',
  errorsAbortTransaction: false,
  savepoint: {
    begin: 'SAVEPOINT llm_monitor_call',
    release: 'RELEASE SAVEPOINT llm_monitor_call',
    rollback: 'ROLLBACK TO SAVEPOINT llm_monitor_call',
  },
  numberParameters: null,
  multiRowInsert: null,
  textHoldsNul: true,
  commitOutcome: null,
  types: {
    autoIdPrimaryKey: 'INTEGER PRIMARY KEY AUTOINCREMENT',
    integer: 'INTEGER',
    real: 'REAL',
    boolean: 'BOOLEAN',
    text: 'TEXT',
    createdAt: 'TIMESTAMP DEFAULT CURRENT_TIMESTAMP',
  },
  quoteIdentifier: (name) => `"${name.replaceAll('"', '""')}"`,
  bool: (value) => (value ? 1 : 0),
  total: (expression) => `TOTAL(${expression})`,
  least: (...expressions) => `MIN(${expressions.join(', ')})`,
  greatest: (...expressions) => `MAX(${expressions.join(', ')})`,
  slot: (column, seconds) => `CAST(${column} / ${seconds}.0 AS INTEGER)`,
  columnsQuery: `SELECT m.name AS table_name, p.name AS column_name, p."notnull" AS not_null
    FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS p
    WHERE m.type = 'table' ORDER BY m.name, p.cid`,
  // pragma_table_info and pragma_index_list find a table through SQLite's in-memory schema: no scan
  tableColumnsQuery: 'SELECT p.name AS table_name, c.name AS column_name, c."notnull" AS not_null FROM (SELECT ? AS name) AS p JOIN pragma_table_info(p.name) AS c ORDER BY c.cid',
  schemaVersionQuery: 'PRAGMA schema_version',
  indexesQuery: "SELECT name AS index_name FROM sqlite_master WHERE type = 'index'",
  tableIndexesQuery: 'SELECT name AS index_name FROM pragma_index_list(?)',
  triggersQuery: "SELECT name AS trigger_name, tbl_name AS table_name FROM sqlite_master WHERE type = 'trigger' ORDER BY name",
  viewsQuery: "SELECT name AS view_name FROM sqlite_master WHERE type = 'view' ORDER BY name",
  dropTrigger: (trigger) => `DROP TRIGGER IF EXISTS "${trigger.replaceAll('"', '""')}"`,
  journalModeQuery: 'PRAGMA journal_mode',
  userVersion: { query: 'PRAGMA user_version', set: (version) => `PRAGMA user_version = ${Math.trunc(version)}` },
  schemaLock: null,
  modelLock: null,
  lastInsertIdQuery: 'SELECT last_insert_rowid() AS id',
  classifyError(error) {
    const code = errorCode(error);
    const message = errorMessage(error);
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED') || /database (table )?is locked/i.test(message))
      return 'busy';
    if (
      code === 'SQLITE_CONSTRAINT_UNIQUE' ||
      code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
      /^(UNIQUE|PRIMARY KEY) constraint failed/i.test(message)
    )
      return 'unique';
    if (code.startsWith('SQLITE_CONSTRAINT') || /constraint failed/i.test(message)) return 'constraint';
    if (/no such table/i.test(message)) return 'missing-table';
    if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT') || /file is not a database|malformed/i.test(message))
      return 'not-a-database';
    if (code.startsWith('SQLITE_READONLY') || /readonly database|read-only/i.test(message)) return 'read-only';
    return undefined;
  },
};
