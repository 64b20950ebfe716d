import { MonitorError, type MonitorErrorCode, describeValue, isMonitorError } from '../errors.js';
import type { Dialect, EngineErrorKind } from './dialect.js';
import type { DatabaseConnection, Driver, Row, RunResult, SqlValue } from './driver.js';

/** A connection that is the caller's for the duration of one `read`/`write` callback. */
export interface Session {
  readonly dialect: Dialect;
  query(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  /** The rows as arrays of values in column order (see `DatabaseConnection.queryArrays`). */
  queryArrays(sql: string, params?: readonly SqlValue[]): Promise<SqlValue[][]>;
  run(sql: string, params?: readonly SqlValue[]): Promise<RunResult>;
  batch(sql: string, rows: readonly (readonly SqlValue[])[]): Promise<RunResult>;
}

export interface ExecutorOptions {
  /**
   * How long one call keeps retrying while another writer holds the database lock, or while a
   * database server that answered before cannot be reached (a restart, a failover). Default 10 000 ms.
   */
  busyTimeoutMs?: number;
}

const KIND_TO_CODE: Record<EngineErrorKind, MonitorErrorCode> = {
  busy: 'BUSY',
  'connection-lost': 'UNAVAILABLE',
  unique: 'CONSTRAINT',
  constraint: 'CONSTRAINT',
  'missing-table': 'MISSING_TABLE',
  'not-a-database': 'NOT_A_DATABASE',
  'read-only': 'READ_ONLY',
};

function engineMessage(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Errors after which the whole call may run again: the transaction they hit did not commit. */
const isRetryable = (error: unknown) => isMonitorError(error, 'BUSY') || isMonitorError(error, 'UNAVAILABLE');

/** The pause before attempt `n + 1`: short and jittered while busy; from 0 up to 250 ms while the server is away. */
function backoffMs(error: MonitorError, n: number): number {
  if (error.code === 'BUSY') return Math.min(2 ** n, 25) * (0.5 + Math.random());
  return n === 0 ? 0 : Math.min(5 * 2 ** n, 250) * (0.5 + Math.random());
}

/** Thrown inside a group commit to roll back and run the group again without the statement that failed. */
const REDO = Symbol('redo the group');

interface PendingStatement {
  sql: string;
  params: readonly SqlValue[];
  resolve(result: RunResult): void;
  reject(error: unknown): void;
}

/** How one attempt at a write transaction ended when it did not throw. */
type Attempt<T> = { committed: true; value: T } | { committed: false; value: T; xid: string | null; error: MonitorError };

/** A FIFO lock: `run` calls execute one after another, in call order. */
class Mutex {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn, fn);
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

/** `INSERT INTO … VALUES (?, …, ?)`: a batch of it may become multi-row inserts. */
const SINGLE_ROW_INSERT = /^(\s*INSERT\s+INTO\s[\s\S]*?\sVALUES)\s*(\(\s*\?(?:\s*,\s*\?)*\s*\))\s*;?\s*$/i;

interface StatementText {
  /** The statement in the engine's placeholder style. */
  text: string;
  /** For a single-row INSERT of `width` parameters that may run as multi-row inserts: the part before the row. */
  insert: { head: string; width: number } | null;
}

/** Statement texts by core's SQL: converted once, the least recently used dropped beyond `STATEMENT_TEXTS` entries. */
const STATEMENT_TEXTS = 1000;

/**
 * The one place where driver behaviour every engine shares lives: a lock per connection (so a
 * transaction on a single-connection engine never interleaves with other calls), retries while the
 * database is busy or its server unreachable, transaction bookkeeping (rollback on any throw,
 * including after an `await`; the outcome of a COMMIT whose connection broke), placeholders in the
 * engine's style, closed checks, and mapping engine errors to `MonitorError`s. Drivers stay plain.
 *
 * Retries: a call that fails because the database is busy (`BUSY`) or because its connection broke
 * (`UNAVAILABLE`) runs again, as a whole and on another connection, until `busyTimeoutMs` has passed.
 * A server that cannot be reached before any connection ever succeeded (a wrong address, say) fails
 * at once: only a server that went away is waited for.
 * A write transaction is only run again when it certainly did not commit: when the connection broke
 * while its COMMIT was in flight, the Executor asks the server whether that transaction committed
 * (`Dialect.commitOutcome`) and returns, runs it again, or fails with `COMMIT_UNKNOWN` when the
 * server cannot tell within the budget. Nothing is committed twice.
 */
export class Executor {
  readonly #driver: Driver;
  readonly #busyTimeoutMs: number;
  readonly #locks = new WeakMap<DatabaseConnection, Mutex>();
  readonly #sessions = new WeakMap<DatabaseConnection, Session>();
  /** Connections that broke, or whose transaction could not be ended: the driver discards them on release. */
  readonly #broken = new WeakSet<DatabaseConnection>();
  readonly #texts = new Map<string, StatementText>();
  /** Single-statement writes waiting for the next group commit. */
  #pendingStatements: PendingStatement[] = [];
  #flushing = false;
  readonly #pending = new Set<Promise<unknown>>();
  #closed = false;
  #closing: Promise<void> | undefined;
  /** Whether a connection was ever acquired: until then a server that cannot be reached is a setup error, not retried. */
  #reached = false;

  constructor(driver: Driver, options: ExecutorOptions = {}) {
    this.#driver = driver;
    this.#busyTimeoutMs = options.busyTimeoutMs ?? 10_000;
  }

  get dialect(): Dialect {
    return this.#driver.dialect;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Runs `fn` on one connection, outside a transaction. Run again as a whole while busy or after a lost connection. */
  read<T>(fn: (session: Session) => Promise<T>): Promise<T> {
    return this.#track(() => this.#retrying(() => this.#withConnection(fn)));
  }

  /** Runs `fn` in one read transaction: every query sees the same snapshot of the database. */
  snapshot<T>(fn: (session: Session) => Promise<T>): Promise<T> {
    return this.#track(() =>
      this.#retrying(() =>
        this.#withConnection(async (session, connection) => {
          await session.run(this.dialect.beginRead);
          try {
            return await fn(session);
          } finally {
            await this.#end(session, connection);
          }
        }),
      ),
    );
  }

  /**
   * Runs `fn` in one write transaction: committed when `fn` resolves, rolled back when it throws (also
   * after an `await`). While the transaction is open no other call of this Monitor reaches the connection.
   * `fn` may run more than once (see the class): it must act only through the session.
   */
  write<T>(fn: (session: Session) => Promise<T>): Promise<T> {
    return this.#track(() => this.#transactional(fn));
  }

  /**
   * Runs one write statement, atomically on its own, with group commit: statements issued while
   * another write holds the connection are written together in the next transaction, and each call
   * resolves only after that transaction committed. Under many concurrent callers (a proxy serving
   * many requests) this turns a lock round-trip per request into one per group.
   */
  writeStatement(sql: string, params: readonly SqlValue[]): Promise<RunResult> {
    return this.#track(
      () =>
        new Promise<RunResult>((resolve, reject) => {
          this.#pendingStatements.push({ sql, params, resolve, reject });
          if (!this.#flushing) void this.#flushStatements();
        }),
    );
  }

  async #flushStatements(): Promise<void> {
    this.#flushing = true;
    try {
      while (this.#pendingStatements.length > 0) await this.#writeGroup();
    } finally {
      this.#flushing = false;
    }
  }

  /** Writes the pending statements in one transaction; settles every one of them, never throws. */
  async #writeGroup(): Promise<void> {
    const failed = new Map<PendingStatement, unknown>();
    let group: PendingStatement[] | undefined;
    // alone, on an engine whose connection cannot break mid-COMMIT: an autocommit statement is atomic already
    if (this.#pendingStatements.length === 1 && !this.dialect.commitOutcome) {
      const [item] = this.#pendingStatements.splice(0);
      await this.#retrying(() => this.#withConnection((session) => session.run(item!.sql, item!.params))).then(item!.resolve, item!.reject);
      return;
    }
    try {
      const results = await this.#transactional(async (session) => {
        // taken after BEGIN: calls that arrived while we waited for the lock join this group
        group ??= this.#pendingStatements.splice(0);
        const results = new Map<PendingStatement, RunResult>();
        for (const item of group) {
          if (failed.has(item)) continue;
          try {
            results.set(item, await session.run(item.sql, item.params));
          } catch (error) {
            if (isRetryable(error)) throw error;
            failed.set(item, error);
            // an engine whose transaction an error aborts (PostgreSQL): roll back, run the others again
            if (this.dialect.errorsAbortTransaction) throw REDO;
          }
        }
        return results;
      });
      for (const [item, result] of results) item.resolve(result);
    } catch (error) {
      for (const item of group ?? this.#pendingStatements.splice(0)) if (!failed.has(item)) item.reject(error);
    }
    for (const [item, error] of failed) item.reject(error);
  }

  /** Lets the driver prepare the database for writing (journal mode and the like); see `Driver.prepareForWrites`. */
  async prepareForWrites(): Promise<void> {
    try {
      await this.#retrying(async () => {
        try {
          await this.#driver.prepareForWrites?.();
        } catch (error) {
          throw this.mapError(error);
        }
      });
    } catch (error) {
      throw this.mapError(error, 'Could not prepare the database for writing');
    }
  }

  /** Closes the driver once every call made before `close()` has finished. Idempotent. */
  close(): Promise<void> {
    if (!this.#closing) {
      this.#closed = true;
      this.#closing = (async () => {
        while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
        await this.#driver.close();
      })();
    }
    return this.#closing;
  }

  /** Wraps an engine error in a `MonitorError`; passes `MonitorError`s through. */
  mapError(error: unknown, context?: string): MonitorError {
    if (isMonitorError(error) || (error as { name?: unknown } | null)?.name === 'MonitorError') return error as MonitorError;
    const kind = this.dialect.classifyError(error);
    const code = kind ? KIND_TO_CODE[kind] : 'DRIVER';
    const prefix = context ? `${context}: ` : '';
    return new MonitorError(code, `${prefix}${engineMessage(error)}`, { cause: error });
  }

  #track<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new MonitorError('CLOSED', 'The monitor is closed; open a new one.'));
    const promise = fn();
    this.#pending.add(promise);
    const forget = () => this.#pending.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  /**
   * Runs `attempt` until it succeeds, fails with an error that is not `BUSY`/`UNAVAILABLE`, or the
   * retry budget is spent (then the last error, saying for how long it was tried).
   */
  async #retrying<T>(attempt: () => Promise<T>): Promise<T> {
    const started = Date.now();
    const deadline = started + this.#busyTimeoutMs;
    for (let n = 0; ; ) {
      try {
        return await attempt();
      } catch (error) {
        if (error === REDO) continue;
        if (!isRetryable(error) || (isMonitorError(error, 'UNAVAILABLE') && !this.#reached)) throw error;
        const mapped = error as MonitorError;
        if (Date.now() >= deadline) throw this.#gaveUp(mapped, Date.now() - started);
        await sleep(Math.min(backoffMs(mapped, n++), Math.max(0, deadline - Date.now())));
      }
    }
  }

  #gaveUp(error: MonitorError, ms: number): MonitorError {
    const message =
      error.code === 'BUSY'
        ? `The database stayed locked by another writer for ${this.#busyTimeoutMs} ms (${error.message}).`
        : `The database server could not be reached for ${ms} ms (busyTimeoutMs ${this.#busyTimeoutMs}); nothing of this call was written (${error.message}).`;
    return new MonitorError(error.code, message, { cause: error.cause ?? error });
  }

  /**
   * A write transaction, run again (as a whole, on a new connection) until it commits or fails for
   * good. When the connection broke during COMMIT, the server is asked whether it committed.
   */
  async #transactional<T>(fn: (session: Session) => Promise<T>): Promise<T> {
    return this.#retrying(async () => {
      const attempt = await this.#withConnection((session, connection) => this.#transaction(session, connection, fn));
      if (attempt.committed) return attempt.value;
      // the connection broke while COMMIT was in flight; it is released (and discarded) by now
      const outcome = attempt.xid === null ? null : await this.#commitOutcome(attempt.xid);
      if (outcome === 'committed') return attempt.value;
      if (outcome === 'aborted') throw attempt.error; // nothing was written: run it again
      throw new MonitorError(
        'COMMIT_UNKNOWN',
        `The connection to the database broke while a transaction was committing, and whether it committed could not be established within ${this.#busyTimeoutMs} ms: its writes may or may not be in the database (${attempt.error.message}).`,
        { cause: attempt.error.cause ?? attempt.error },
      );
    });
  }

  async #transaction<T>(session: Session, connection: DatabaseConnection, fn: (session: Session) => Promise<T>): Promise<Attempt<T>> {
    const { beginWrite, commit, commitOutcome } = this.dialect;
    let xid: string | null = null;
    if (commitOutcome) {
      let row: Row | undefined;
      try {
        [row] = await session.query(commitOutcome.begin);
      } catch (error) {
        // BEGIN may have run while the statement after it failed: never leave the transaction open
        await this.#end(session, connection);
        throw error;
      }
      xid = row?.xid === undefined || row.xid === null ? null : String(row.xid);
    } else await session.run(beginWrite);
    let value: T;
    try {
      value = await fn(session);
    } catch (error) {
      await this.#end(session, connection);
      throw error;
    }
    const deadline = Date.now() + this.#busyTimeoutMs;
    for (let n = 0; ; n++) {
      try {
        await session.run(commit);
        return { committed: true, value };
      } catch (error) {
        if (isMonitorError(error, 'UNAVAILABLE')) return { committed: false, value, xid, error };
        // SQLite keeps the transaction open when COMMIT is busy (readers still hold the file): commit again
        if (isMonitorError(error, 'BUSY') && !this.dialect.errorsAbortTransaction && Date.now() < deadline) {
          await sleep(backoffMs(error, n));
          continue;
        }
        // a COMMIT the server refused (a deferred constraint, a serialization failure) ended the transaction
        await this.#end(session, connection);
        throw error;
      }
    }
  }

  /** Rolls back; a connection on which that fails is in an unknown state and is discarded on release. */
  async #end(session: Session, connection: DatabaseConnection): Promise<void> {
    if (this.#broken.has(connection)) return; // the server ended that transaction with the connection
    await session.run(this.dialect.rollback).catch(() => this.#broken.add(connection));
  }

  /** Whether transaction `xid` committed, asked on a new connection: polls while it is still in progress. */
  async #commitOutcome(xid: string): Promise<'committed' | 'aborted' | null> {
    const query = this.dialect.commitOutcome!.status;
    const deadline = Date.now() + this.#busyTimeoutMs;
    for (;;) {
      let status: unknown;
      try {
        status = await this.#retrying(() => this.#withConnection(async (session) => (await session.query(query, [xid]))[0]?.status));
      } catch {
        return null;
      }
      if (status === 'committed' || status === 'aborted') return status;
      // 'in progress': the backend that ran it has not finished yet; null: the server no longer knows
      if (status !== 'in progress' || Date.now() >= deadline) return null;
      await sleep(10);
    }
  }

  async #withConnection<T>(fn: (session: Session, connection: DatabaseConnection) => Promise<T>): Promise<T> {
    let connection: DatabaseConnection;
    try {
      connection = await this.#driver.acquireConnection();
      this.#reached = true;
    } catch (error) {
      throw this.mapError(error, 'Could not open a database connection');
    }
    try {
      let lock = this.#locks.get(connection);
      if (!lock) this.#locks.set(connection, (lock = new Mutex()));
      return await lock.run(() => fn(this.#session(connection), connection));
    } finally {
      const discard = this.#broken.has(connection);
      this.#broken.delete(connection);
      await this.#driver.releaseConnection(connection, { discard });
    }
  }

  #session(connection: DatabaseConnection): Session {
    const cached = this.#sessions.get(connection);
    if (cached) return cached;
    const wrap =
      <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        try {
          return await call(...args);
        } catch (error) {
          const mapped = this.mapError(error);
          if (mapped.code === 'UNAVAILABLE') this.#broken.add(connection);
          throw mapped;
        }
      };
    const session: Session = {
      dialect: this.dialect,
      query: wrap((sql: string, params: readonly SqlValue[] = []) => connection.query(this.#text(sql).text, this.#checked(params))),
      queryArrays: wrap(async (sql: string, params: readonly SqlValue[] = []) =>
        connection.queryArrays
          ? connection.queryArrays(this.#text(sql).text, this.#checked(params))
          : (await connection.query(this.#text(sql).text, this.#checked(params))).map((row) => Object.values(row)),
      ),
      run: wrap((sql: string, params: readonly SqlValue[] = []) => connection.run(this.#text(sql).text, this.#checked(params))),
      batch: wrap((sql: string, rows: readonly (readonly SqlValue[])[]) => this.#batch(connection, sql, rows)),
    };
    this.#sessions.set(connection, session);
    return session;
  }

  /** A batch: one prepared statement stepped per row, or multi-row inserts (see `Dialect.multiRowInsert`). */
  async #batch(connection: DatabaseConnection, sql: string, rows: readonly (readonly SqlValue[])[]): Promise<RunResult> {
    const { text, insert } = this.#text(sql);
    const multiRow = this.dialect.multiRowInsert;
    if (!multiRow || !insert || rows.some((row) => row.length !== insert.width)) return connection.batch(text, rows.map((row) => this.#checked(row)));
    const perStatement = Math.max(1, Math.min(multiRow.maxRows, Math.floor(multiRow.maxParameters / insert.width)));
    const number = this.dialect.numberParameters ? (k: number) => `$${k}` : () => '?';
    let changes = 0;
    for (let start = 0; start < rows.length; start += perStatement) {
      const chunk = rows.slice(start, start + perStatement);
      const tuples = chunk.map((_, r) => `(${Array.from({ length: insert.width }, (_, c) => number(r * insert.width + c + 1)).join(', ')})`);
      changes += (await connection.run(`${insert.head} ${tuples.join(', ')}`, this.#checked(chunk.flat()))).changes;
    }
    return { changes };
  }

  /** Core's SQL in the engine's placeholder style, converted once per text (least recently used dropped first). */
  #text(sql: string): StatementText {
    if (!this.dialect.numberParameters && !this.dialect.multiRowInsert) return { text: sql, insert: null };
    let text = this.#texts.get(sql);
    if (text) {
      this.#texts.delete(sql);
    } else {
      const numbered = this.dialect.numberParameters?.(sql);
      text = { text: numbered ? numbered.text : sql, insert: null };
      const insert = this.dialect.multiRowInsert && SINGLE_ROW_INSERT.exec(sql);
      if (insert) {
        // every placeholder of the statement is in its one row (none in the part before VALUES)
        const width = insert[2]!.split('?').length - 1;
        if (width === (numbered ? numbered.count : sql.split('?').length - 1)) text.insert = { head: insert[1]!, width };
      }
      if (this.#texts.size >= STATEMENT_TEXTS) this.#texts.delete(this.#texts.keys().next().value!);
    }
    this.#texts.set(sql, text);
    return text;
  }

  /** Refuses text the engine cannot store (see `Dialect.textHoldsNul`) before it reaches the engine. */
  #checked(params: readonly SqlValue[]): readonly SqlValue[] {
    if (this.dialect.textHoldsNul) return params;
    for (const value of params)
      if (typeof value === 'string' && value.includes('\u0000'))
        throw new MonitorError('INVALID_INPUT', `Invalid text ${describeValue(value)}: the ${this.dialect.name} database cannot store NUL characters.`, { value });
    return params;
  }
}
