import type { Dialect } from './dialect.js';

/** A value that crosses the driver boundary: what SQLite and PostgreSQL both bind and return. */
export type SqlValue = string | number | bigint | boolean | null | Uint8Array;

/** One result row, keyed by column name (use `AS` to name computed columns). */
export type Row = Record<string, SqlValue>;

export interface RunResult {
  /** Rows inserted, updated or deleted by the statement (summed over a batch). */
  changes: number;
}

/**
 * One session with the engine. Core never calls a connection concurrently: it holds a per-connection
 * lock around every call and around whole transactions, so a connection implementation can be a plain
 * wrapper over a synchronous engine (better-sqlite3, sql.js) or one pooled client (PostgreSQL).
 *
 * Statements arrive in the engine's own placeholder style: core writes `?` and converts them for an
 * engine that numbers them (`$1, $2, …` in PostgreSQL, see {@link Dialect.numberParameters}), so a
 * connection passes SQL and parameters through untouched and never parses SQL. Errors are thrown as
 * the engine's own errors: core classifies them through {@link Dialect.classifyError} (a broken
 * connection included) and wraps them in a `MonitorError` with the original kept as `cause`.
 *
 * @example
 * const rows = await connection.query('SELECT id, start_time FROM program_runtime WHERE id > ?', [3]);
 */
export interface DatabaseConnection {
  /** Runs a statement that returns rows and resolves to all of them. */
  query(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;

  /**
   * Optional: the same rows as arrays of values in column order, for the analytics' scans that return
   * tens of thousands of small rows (an object per row is most of what they cost in JavaScript).
   * better-sqlite3: `statement.raw()`; sql.js: `statement.get()`; node-postgres: `rowMode: 'array'`.
   * Core falls back to `query` when a driver leaves it out.
   */
  queryArrays?(sql: string, params?: readonly SqlValue[]): Promise<SqlValue[][]>;

  /** Runs a statement for its effect (INSERT, UPDATE, DELETE, DDL, transaction control). */
  run(sql: string, params?: readonly SqlValue[]): Promise<RunResult>;

  /**
   * Runs one statement once per parameter row, in order, as fast as the engine allows (prepare once,
   * step many). Core only calls it inside a transaction it opened, so a failure on row k leaves the
   * rollback to core. Resolves to the summed `changes`.
   */
  batch(sql: string, rows: readonly (readonly SqlValue[])[]): Promise<RunResult>;
}

/**
 * What an engine package implements. Keep it dumb: locking, closed checks, retries on a busy database
 * or a lost connection, transactions, placeholders and error mapping all live in core (see
 * `Executor`), the same for every engine. A driver keeps its engine's plumbing: opening and pooling
 * connections, converting values, and never letting an engine event (a pooled client whose server went
 * away) crash the process.
 *
 * Engines with a single connection (better-sqlite3, sql.js) hand out the same connection every time;
 * pooled engines hand out a free client and take it back on release.
 */
export interface Driver {
  /** How SQL differs on this engine: transaction statements, DDL types, introspection, error codes. */
  readonly dialect: Dialect;

  /** Resolves to a connection that is the caller's until {@link releaseConnection}. */
  acquireConnection(): Promise<DatabaseConnection>;

  /**
   * Gives a connection back. Never throws for a connection this driver handed out. `discard` is true
   * when core cannot vouch for the connection's state (it broke, or a transaction on it could not be
   * ended): a pooled engine closes it instead of handing it out again. A connection released without
   * `discard` is never inside a transaction.
   */
  releaseConnection(connection: DatabaseConnection, options?: { discard: boolean }): Promise<void>;

  /**
   * Called once by `Monitor.open` after it recognised the database as a monitor's (or empty), before
   * its first write, and never for a read-only Monitor: the place to switch the journal mode and the
   * like, so that a file that is refused is left untouched.
   */
  prepareForWrites?(): Promise<void>;

  /** Closes the engine. Core calls it once, after every acquired connection was released. */
  close(): Promise<void>;
}
