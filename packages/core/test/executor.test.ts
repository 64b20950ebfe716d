import { describe, expect, it } from 'vitest';
import { type DatabaseConnection, type Driver, Executor, isMonitorError, postgresDialect, sqliteDialect } from '../src/index.js';

/** A scripted connection: records statements and fails BEGIN IMMEDIATE `busyTimes` times with SQLITE_BUSY. */
function scripted(busyTimes: number) {
  const log: string[] = [];
  let busy = busyTimes;
  const connection: DatabaseConnection = {
    async query(sql) {
      log.push(sql);
      return [];
    },
    async run(sql) {
      if (sql === 'BEGIN IMMEDIATE' && busy-- > 0) throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
      log.push(sql);
      return { changes: 1 };
    },
    async batch(sql, rows) {
      log.push(`${sql} x${rows.length}`);
      return { changes: rows.length };
    },
  };
  let closed = 0;
  const driver: Driver = {
    dialect: sqliteDialect,
    acquireConnection: async () => connection,
    releaseConnection: async () => undefined,
    close: async () => {
      closed++;
    },
  };
  return { driver, log, closes: () => closed };
}

describe('Executor', () => {
  it('retries BEGIN while the database is busy, then commits', async () => {
    const { driver, log } = scripted(3);
    const executor = new Executor(driver);
    await executor.write((s) => s.run('INSERT 1'));
    expect(log).toEqual(['BEGIN IMMEDIATE', 'INSERT 1', 'COMMIT']);
  });

  it('gives up with BUSY once the busy budget is spent, leaving no transaction open', async () => {
    const { driver, log } = scripted(Number.POSITIVE_INFINITY);
    const executor = new Executor(driver, { busyTimeoutMs: 50 });
    const error = await executor.write((s) => s.run('INSERT 1')).catch((e) => e);
    expect(isMonitorError(error, 'BUSY')).toBe(true);
    expect(error.message).toContain('50 ms');
    expect(log).toEqual([]);
  });

  it('serialises calls on one connection in call order', async () => {
    const { driver, log } = scripted(0);
    const executor = new Executor(driver);
    await Promise.all([
      executor.write(async (s) => {
        await s.run('A1');
        await new Promise((resolve) => setTimeout(resolve, 10));
        await s.run('A2');
      }),
      executor.read((s) => s.query('B')),
      executor.write((s) => s.run('C')),
    ]);
    expect(log).toEqual(['BEGIN IMMEDIATE', 'A1', 'A2', 'COMMIT', 'B', 'BEGIN IMMEDIATE', 'C', 'COMMIT']);
  });

  it('rolls back on a throw and keeps the original error', async () => {
    const { driver, log } = scripted(0);
    const executor = new Executor(driver);
    await expect(
      executor.write(async (s) => {
        await s.run('A');
        throw new TypeError('mine');
      }),
    ).rejects.toThrow(TypeError);
    expect(log).toEqual(['BEGIN IMMEDIATE', 'A', 'ROLLBACK']);
  });

  it('closes the driver once, after pending calls', async () => {
    const { driver, log, closes } = scripted(0);
    const executor = new Executor(driver);
    const pending = executor.write(async (s) => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      await s.run('LATE');
    });
    await Promise.all([executor.close(), executor.close()]);
    await pending;
    expect(log).toContain('LATE');
    expect(closes()).toBe(1);
  });
});

/** What node-postgres throws when the server ended the backend (pg_terminate_backend): SQLSTATE 57P01. */
const terminated = () => Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01', severity: 'FATAL' });
const lockTimeout = () => Object.assign(new Error('canceling statement due to lock timeout'), { code: '55P03', severity: 'ERROR' });

/**
 * A scripted PostgreSQL: every acquire hands out a new connection (numbered), every statement is logged
 * as `<connection>:<sql>`; `fail` may throw for a statement, `status` answers txid_status.
 */
function scriptedPostgres(hooks: { fail?: (sql: string, connection: number) => unknown; status?: (xid: string) => unknown } = {}) {
  const log: string[] = [];
  const released: string[] = [];
  let connections = 0;
  let xids = 100;
  const driver: Driver = {
    dialect: postgresDialect,
    async acquireConnection() {
      const id = ++connections;
      const step = (sql: string) => {
        const error = hooks.fail?.(sql, id);
        if (error) throw error;
        log.push(`${id}:${sql}`);
      };
      const connection: DatabaseConnection & { id: number } = {
        id,
        async query(sql, params = []) {
          step(sql);
          if (sql === postgresDialect.commitOutcome!.begin) return [{ xid: String(++xids) }];
          if (sql.includes('txid_status')) return [{ status: (hooks.status?.(String(params[0])) ?? null) as string | null }];
          return [];
        },
        async run(sql, params = []) {
          step(params.length > 0 ? `${sql} ${JSON.stringify(params)}` : sql);
          return { changes: 1 };
        },
        async batch(sql, rows) {
          step(`${sql} x${rows.length}`);
          return { changes: rows.length };
        },
      };
      return connection;
    },
    releaseConnection: async (connection, options) => {
      released.push(`${(connection as unknown as { id: number }).id}${options?.discard ? ' discarded' : ''}`);
    },
    close: async () => undefined,
  };
  return { driver, log, released };
}

const BEGIN = postgresDialect.commitOutcome!.begin;

describe('Executor on a server that goes away', () => {
  it('runs a write transaction again, on a new connection, when its connection broke before COMMIT', async () => {
    let kills = 1;
    const { driver, log, released } = scriptedPostgres({ fail: (sql) => (sql.startsWith('INSERT') && kills-- > 0 ? terminated() : undefined) });
    const executor = new Executor(driver);
    let runs = 0;
    await executor.write(async (s) => {
      runs++;
      await s.run('INSERT INTO t (a) VALUES (?)', [1]);
    });
    expect(runs).toBe(2);
    expect(log).toEqual([`1:${BEGIN}`, `2:${BEGIN}`, '2:INSERT INTO t (a) VALUES ($1) [1]', '2:COMMIT']);
    // the broken connection is not handed back for reuse; the rollback on it failed too
    expect(released).toEqual(['1 discarded', '2']);
  });

  it('does not run a transaction again when its COMMIT took effect before the connection broke', async () => {
    let commits = 0;
    const { driver, log, released } = scriptedPostgres({
      fail: (sql) => (sql === 'COMMIT' && commits++ === 0 ? terminated() : undefined),
      status: (xid) => (xid === '101' ? 'committed' : 'aborted'),
    });
    const executor = new Executor(driver);
    let runs = 0;
    const value = await executor.write(async (s) => {
      runs++;
      await s.run('INSERT INTO t (a) VALUES (?)', [1]);
      return 'done';
    });
    expect([value, runs]).toEqual(['done', 1]);
    expect(log).toEqual([`1:${BEGIN}`, '1:INSERT INTO t (a) VALUES ($1) [1]', '2:SELECT txid_status(CAST($1 AS bigint)) AS status']);
    expect(released).toEqual(['1 discarded', '2']);
  });

  it('runs it again when the server says the transaction whose COMMIT was cut off aborted, after it stopped being in progress', async () => {
    let commits = 0;
    let asked = 0;
    const { driver, log } = scriptedPostgres({
      fail: (sql) => (sql === 'COMMIT' && commits++ === 0 ? terminated() : undefined),
      status: () => (asked++ < 2 ? 'in progress' : 'aborted'),
    });
    const executor = new Executor(driver);
    let runs = 0;
    await executor.write(async (s) => {
      runs++;
      await s.run('INSERT 1');
    });
    expect(runs).toBe(2);
    expect(asked).toBe(3);
    expect(log.filter((line) => line.endsWith('INSERT 1') || line.endsWith('COMMIT'))).toEqual(['1:INSERT 1', '5:INSERT 1', '5:COMMIT']);
  });

  it('fails with COMMIT_UNKNOWN, never writing again, when the server cannot tell whether the COMMIT took effect', async () => {
    const { driver, log } = scriptedPostgres({ fail: (sql) => (sql === 'COMMIT' ? terminated() : undefined), status: () => null });
    const executor = new Executor(driver);
    const error = await executor.write((s) => s.run('INSERT 1')).catch((e) => e);
    expect(isMonitorError(error, 'COMMIT_UNKNOWN')).toBe(true);
    expect(error.message).toContain('may or may not be in the database');
    expect(error.cause.code).toBe('57P01');
    expect(log.filter((line) => line.endsWith('INSERT 1'))).toHaveLength(1);
  });

  it('retries a statement that hit a lock timeout by running the whole transaction again within busyTimeoutMs, then gives up with BUSY', async () => {
    let timeouts = 3;
    const first = scriptedPostgres({ fail: (sql) => (sql.startsWith('UPDATE') && timeouts-- > 0 ? lockTimeout() : undefined) });
    let runs = 0;
    await new Executor(first.driver).write(async (s) => {
      runs++;
      await s.run('UPDATE t SET a = 1');
    });
    expect(runs).toBe(4);
    expect(first.log.filter((line) => line.endsWith('ROLLBACK'))).toHaveLength(3);

    const always = scriptedPostgres({ fail: (sql) => (sql.startsWith('UPDATE') ? lockTimeout() : undefined) });
    const started = Date.now();
    const error = await new Executor(always.driver, { busyTimeoutMs: 200 }).write((s) => s.run('UPDATE t SET a = 1')).catch((e) => e);
    expect(isMonitorError(error, 'BUSY')).toBe(true);
    expect(error.message).toContain('200 ms');
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    // a lock timeout does not break the connection
    expect(always.released.every((line) => !line.includes('discarded'))).toBe(true);
  });

  it('retries reads and connection attempts while a server that answered before is away, then fails with UNAVAILABLE saying for how long', async () => {
    let refusals = 0;
    const refusing = scriptedPostgres();
    const acquire = refusing.driver.acquireConnection.bind(refusing.driver);
    refusing.driver.acquireConnection = async () => {
      if (refusals-- > 0) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      return acquire();
    };
    const executor = new Executor(refusing.driver);
    expect(await executor.read(async (s) => (await s.query('SELECT 1')).length)).toBe(0);
    refusals = 2; // the server restarts
    expect(await executor.read(async (s) => (await s.query('SELECT 2')).length)).toBe(0);
    expect(refusals).toBe(-1);

    // a server that never answered is a wrong address or a server not started: said at once
    refusals = 1;
    const fresh = new Executor(refusing.driver);
    const refused = await fresh.read((s) => s.query('SELECT 3')).catch((e) => e);
    expect(isMonitorError(refused, 'UNAVAILABLE')).toBe(true);
    expect(refused.message).toBe('Could not open a database connection: connect ECONNREFUSED 127.0.0.1:5432');

    const down = scriptedPostgres({ fail: (sql) => (sql === 'SELECT 1' ? terminated() : undefined) });
    const error = await new Executor(down.driver, { busyTimeoutMs: 100 }).read((s) => s.query('SELECT 1')).catch((e) => e);
    expect(isMonitorError(error, 'UNAVAILABLE')).toBe(true);
    expect(error.message).toMatch(/could not be reached for \d+ ms .*nothing of this call was written.*administrator command/);
  });

  it('rolls back when the statement after BEGIN fails (txid_current() on a read-only standby), so no connection goes back inside a transaction', async () => {
    const standby = () => Object.assign(new Error('cannot assign TransactionIds during recovery'), { code: '25006', severity: 'ERROR' });
    const { driver, log, released } = scriptedPostgres({ fail: (sql) => (sql === BEGIN ? standby() : undefined) });
    const error = await new Executor(driver).write((s) => s.run('INSERT 1')).catch((e) => e);
    expect(isMonitorError(error, 'READ_ONLY')).toBe(true);
    expect(log).toEqual(['1:ROLLBACK']);
    expect(released).toEqual(['1']);
  });

  it('writes a group of statements in one transaction without savepoints; a failing one is rejected alone and the others are written once', async () => {
    const unique = () => Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505', severity: 'ERROR' });
    const { driver, log } = scriptedPostgres({ fail: (sql) => (sql.includes('[2]') ? unique() : undefined) });
    const executor = new Executor(driver);
    const results = await Promise.allSettled([1, 2, 3].map((a) => executor.writeStatement('INSERT INTO t (a) VALUES (?)', [a])));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(isMonitorError((results[1] as PromiseRejectedResult).reason, 'CONSTRAINT')).toBe(true);
    // the first transaction ran into the failure and rolled back; the second wrote 1 and 3
    expect(log).toEqual([
      `1:${BEGIN}`,
      '1:INSERT INTO t (a) VALUES ($1) [1]',
      '1:ROLLBACK',
      `2:${BEGIN}`,
      '2:INSERT INTO t (a) VALUES ($1) [1]',
      '2:INSERT INTO t (a) VALUES ($1) [3]',
      '2:COMMIT',
    ]);
  });

  it('numbers placeholders once per statement text, batches single-row inserts as multi-row ones, and refuses NUL text before the engine sees it', async () => {
    const { driver, log } = scriptedPostgres();
    const executor = new Executor(driver);
    await executor.write(async (s) => {
      await s.query(`SELECT '?' AS q, ? AS a`, [1]);
      await s.batch('INSERT INTO t (a, b) VALUES (?, ?)', [
        [1, 2],
        [3, 4],
      ]);
      await s.batch('UPDATE t SET b = ? WHERE a = ?', [[5, 1]]);
    });
    expect(log.slice(1, -1)).toEqual([
      `1:SELECT '?' AS q, $1 AS a`,
      '1:INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) [1,2,3,4]',
      '1:UPDATE t SET b = $1 WHERE a = $2 x1',
    ]);
    const error = await executor.write((s) => s.run('INSERT INTO t (name) VALUES (?)', ['a\u0000b'])).catch((e) => e);
    expect(isMonitorError(error, 'INVALID_INPUT')).toBe(true);
    expect(error.message).toContain('NUL');
    expect(log.some((line) => line.includes('name'))).toBe(false);
  });
});
