import { describe, expect, it } from 'vitest';
import { type DatabaseConnection, type Driver, Executor, isMonitorError, sqliteDialect } from '../src/index.js';

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
