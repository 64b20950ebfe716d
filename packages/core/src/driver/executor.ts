import { MonitorError, type MonitorErrorCode } from '../errors.js';
import type { Dialect, EngineErrorKind } from './dialect.js';
import type { DatabaseConnection, Driver, Row, RunResult, SqlValue } from './driver.js';

/** A connection that is the caller's for the duration of one `read`/`write` callback. */
export interface Session {
  readonly dialect: Dialect;
  query(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  run(sql: string, params?: readonly SqlValue[]): Promise<RunResult>;
  batch(sql: string, rows: readonly (readonly SqlValue[])[]): Promise<RunResult>;
}

export interface ExecutorOptions {
  /** How long to keep retrying while another writer holds the database lock. Default 10 000 ms. */
  busyTimeoutMs?: number;
}

const KIND_TO_CODE: Record<EngineErrorKind, MonitorErrorCode> = {
  busy: 'BUSY',
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

interface PendingStatement {
  sql: string;
  params: readonly SqlValue[];
  resolve(result: RunResult): void;
  reject(error: unknown): void;
}

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

/**
 * The one place where driver behaviour every engine shares lives: a lock per connection (so a
 * transaction on a single-connection engine never interleaves with other calls), retries while the
 * database is busy, transaction bookkeeping (rollback on any throw, including after an `await`),
 * closed checks, and mapping engine errors to `MonitorError`s. Drivers stay plain.
 */
export class Executor {
  readonly #driver: Driver;
  readonly #busyTimeoutMs: number;
  readonly #locks = new WeakMap<DatabaseConnection, Mutex>();
  readonly #sessions = new WeakMap<DatabaseConnection, Session>();
  /** Single-statement writes waiting for the next group commit. */
  #pendingStatements: PendingStatement[] = [];
  #flushing = false;
  readonly #pending = new Set<Promise<unknown>>();
  #closed = false;
  #closing: Promise<void> | undefined;

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

  /** Runs `fn` on one connection, outside a transaction. Retried as a whole while the database is busy. */
  read<T>(fn: (session: Session) => Promise<T>): Promise<T> {
    return this.#track(() => this.#withBusyRetry(() => this.#withConnection(fn)));
  }

  /** Runs `fn` in one read transaction: every query sees the same snapshot of the database. */
  snapshot<T>(fn: (session: Session) => Promise<T>): Promise<T> {
    return this.#track(() =>
      this.#withBusyRetry(() =>
        this.#withConnection(async (session) => {
          await session.run(this.dialect.beginRead);
          try {
            return await fn(session);
          } finally {
            await session.run(this.dialect.rollback).catch(() => undefined);
          }
        }),
      ),
    );
  }

  /**
   * Runs `fn` in one write transaction: committed when `fn` resolves, rolled back when it throws (also
   * after an `await`). While the transaction is open no other call of this Monitor reaches the connection.
   */
  write<T>(fn: (session: Session) => Promise<T>): Promise<T> {
    return this.#track(() => this.#withConnection((session) => this.#transaction(session, fn)));
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
      while (this.#pendingStatements.length > 0) {
        await this.#withConnection(async (session) => {
          const single = this.#pendingStatements.length === 1;
          if (single) {
            // alone: an autocommit statement is already atomic, no transaction needed
            const [item] = this.#pendingStatements.splice(0);
            await this.#withBusyRetry(() => session.run(item!.sql, item!.params)).then(item!.resolve, item!.reject);
            return;
          }
          await this.#withBusyRetry(() => session.run(this.dialect.beginWrite)).catch((error) => {
            for (const item of this.#pendingStatements.splice(0)) item.reject(error);
            throw error;
          });
          // taken after BEGIN: calls that arrived while we waited for the lock join this group
          const group = this.#pendingStatements.splice(0);
          const results: (RunResult | undefined)[] = [];
          const failures: unknown[] = [];
          const { savepoint } = this.dialect;
          for (const item of group) {
            try {
              if (this.dialect.errorsAbortTransaction) await session.run(savepoint.begin);
              results.push(await session.run(item.sql, item.params));
              if (this.dialect.errorsAbortTransaction) await session.run(savepoint.release);
              failures.push(undefined);
            } catch (error) {
              if (this.dialect.errorsAbortTransaction) {
                await session.run(savepoint.rollback).catch(() => undefined);
                await session.run(savepoint.release).catch(() => undefined);
              }
              results.push(undefined);
              failures.push(error);
            }
          }
          try {
            await this.#withBusyRetry(() => session.run(this.dialect.commit));
          } catch (error) {
            await session.run(this.dialect.rollback).catch(() => undefined);
            for (const item of group) item.reject(error);
            return;
          }
          group.forEach((item, i) => (failures[i] === undefined ? item.resolve(results[i]!) : item.reject(failures[i])));
        }).catch(() => undefined);
      }
    } finally {
      this.#flushing = false;
    }
  }

  /** Lets the driver prepare the database for writing (journal mode and the like); see `Driver.prepareForWrites`. */
  async prepareForWrites(): Promise<void> {
    try {
      await this.#driver.prepareForWrites?.();
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
    if (error instanceof MonitorError || (error as { name?: unknown } | null)?.name === 'MonitorError')
      return error as MonitorError;
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

  async #withConnection<T>(fn: (session: Session) => Promise<T>): Promise<T> {
    let connection: DatabaseConnection;
    try {
      connection = await this.#driver.acquireConnection();
    } catch (error) {
      throw this.mapError(error, 'Could not open a database connection');
    }
    try {
      let lock = this.#locks.get(connection);
      if (!lock) this.#locks.set(connection, (lock = new Mutex()));
      return await lock.run(() => fn(this.#session(connection)));
    } finally {
      await this.#driver.releaseConnection(connection);
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
          throw this.mapError(error);
        }
      };
    const session: Session = {
      dialect: this.dialect,
      query: wrap((sql: string, params?: readonly SqlValue[]) => connection.query(sql, params)),
      run: wrap((sql: string, params?: readonly SqlValue[]) => connection.run(sql, params)),
      batch: wrap((sql: string, rows: readonly (readonly SqlValue[])[]) => connection.batch(sql, rows)),
    };
    this.#sessions.set(connection, session);
    return session;
  }

  async #transaction<T>(session: Session, fn: (session: Session) => Promise<T>): Promise<T> {
    const { beginWrite, commit, rollback } = this.dialect;
    await this.#withBusyRetry(() => session.run(beginWrite));
    let result: T;
    try {
      result = await fn(session);
    } catch (error) {
      await session.run(rollback).catch(() => undefined);
      throw error;
    }
    try {
      await this.#withBusyRetry(() => session.run(commit));
    } catch (error) {
      await session.run(rollback).catch(() => undefined);
      throw error;
    }
    return result;
  }

  async #withBusyRetry<T>(fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.#busyTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        const mapped = this.mapError(error);
        if (mapped.code !== 'BUSY') throw mapped;
        if (Date.now() >= deadline)
          throw new MonitorError(
            'BUSY',
            `The database stayed locked by another writer for ${this.#busyTimeoutMs} ms (${mapped.message}).`,
            { cause: error },
          );
        await sleep(Math.min(2 ** attempt, 25) * (0.5 + Math.random()));
      }
    }
  }
}
