import { Executor, type Driver, isMonitorError } from '@llm-monitor/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { DriverHarness } from './harness.js';

/**
 * The driver contract, checked through core's `Executor` exactly as the Monitor uses it. Every driver
 * runs this suite unchanged.
 */
export function driverConformanceSuite(harness: DriverHarness): void {
  describe(`driver conformance: ${harness.name}`, () => {
    let executor: Executor | undefined;

    async function open(): Promise<Executor> {
      const driver: Driver = await harness.create();
      executor = new Executor(driver, { busyTimeoutMs: 2000 });
      await executor.write(async (s) => {
        const { types } = s.dialect;
        await s.run(`CREATE TABLE t (id ${types.integer} PRIMARY KEY, label ${types.text} UNIQUE, amount ${types.real}, n ${types.integer})`);
      });
      return executor;
    }

    const count = (e: Executor) => e.read(async (s) => Number((await s.query('SELECT COUNT(*) AS n FROM t'))[0]!.n));

    afterEach(async () => {
      await executor?.close();
      executor = undefined;
    });

    it('binds positional parameters and returns rows keyed by column name', async () => {
      const e = await open();
      const label = 'mañana 🚀 "quoted" \'single\' ? ; --';
      await e.write((s) => s.run('INSERT INTO t (id, label, amount, n) VALUES (?, ?, ?, ?)', [1, label, 0.1 + 0.2, 2 ** 53 - 1]));
      await e.write((s) => s.run('INSERT INTO t (id, label, amount, n) VALUES (?, ?, ?, ?)', [2, null, -1.5, 0]));
      const rows = await e.read((s) => s.query('SELECT id, label, amount, n FROM t WHERE id >= ? ORDER BY id', [1]));
      expect(rows).toEqual([
        { id: 1, label, amount: 0.1 + 0.2, n: 2 ** 53 - 1 },
        { id: 2, label: null, amount: -1.5, n: 0 },
      ]);
    });

    it('returns the same rows as arrays in column order (queryArrays), also columns of the same value', async () => {
      const e = await open();
      await e.write((s) => s.run('INSERT INTO t (id, label, amount, n) VALUES (?, ?, ?, ?)', [1, 'a', 0.5, 2 ** 53 - 1]));
      await e.write((s) => s.run('INSERT INTO t (id, label, amount, n) VALUES (?, ?, ?, ?)', [2, null, -1.5, 0]));
      const rows = await e.read((s) => s.queryArrays('SELECT n, id, label, amount, id AS again FROM t WHERE id >= ? ORDER BY id', [1]));
      expect(rows).toEqual([
        [2 ** 53 - 1, 1, 'a', 0.5, 1],
        [0, 2, null, -1.5, 2],
      ]);
      // a statement used both ways gives both shapes
      expect(await e.read((s) => s.query('SELECT n, id FROM t WHERE id = ?', [2]))).toEqual([{ n: 0, id: 2 }]);
      expect(await e.read((s) => s.queryArrays('SELECT n, id FROM t WHERE id = ?', [2]))).toEqual([[0, 2]]);
      expect(await e.read((s) => s.query('SELECT n, id FROM t WHERE id = ?', [2]))).toEqual([{ n: 0, id: 2 }]);
    });

    it('reports the rows a statement changed', async () => {
      const e = await open();
      await e.write((s) => s.batch('INSERT INTO t (id, n) VALUES (?, ?)', [[1, 1], [2, 1], [3, 2]]));
      const result = await e.write((s) => s.run('UPDATE t SET n = n + 1 WHERE n = ?', [1]));
      expect(result.changes).toBe(2);
    });

    it('runs one statement over many rows in a batch', async () => {
      const e = await open();
      const rows = Array.from({ length: 5000 }, (_, i) => [i + 1, i * 0.5, i]);
      const result = await e.write((s) => s.batch('INSERT INTO t (id, amount, n) VALUES (?, ?, ?)', rows));
      expect(result.changes).toBe(5000);
      expect(await count(e)).toBe(5000);
      const sum = await e.read((s) => s.query('SELECT SUM(n) AS total FROM t'));
      expect(Number(sum[0]!.total)).toBe((4999 * 5000) / 2);
    });

    it('commits a transaction whose callback resolves', async () => {
      const e = await open();
      await e.write(async (s) => {
        await s.run('INSERT INTO t (id) VALUES (1)');
        await new Promise((resolve) => setTimeout(resolve, 5));
        await s.run('INSERT INTO t (id) VALUES (2)');
      });
      expect(await count(e)).toBe(2);
    });

    it('rolls back a transaction whose async callback throws after an await', async () => {
      const e = await open();
      await expect(
        e.write(async (s) => {
          await s.run('INSERT INTO t (id) VALUES (1)');
          await new Promise((resolve) => setTimeout(resolve, 5));
          await s.run('INSERT INTO t (id) VALUES (2)');
          throw new Error('boom after await');
        }),
      ).rejects.toThrow('boom after await');
      expect(await count(e)).toBe(0);
      // and the connection is not left inside a transaction: a new one opens and commits
      await e.write((s) => s.run('INSERT INTO t (id) VALUES (3)'));
      expect(await count(e)).toBe(1);
    });

    it('rolls back a batch that fails half-way', async () => {
      const e = await open();
      await expect(
        e.write((s) => s.batch('INSERT INTO t (id, label) VALUES (?, ?)', [[1, 'a'], [2, 'b'], [3, 'a']])),
      ).rejects.toSatisfy((error: unknown) => isMonitorError(error, 'CONSTRAINT'));
      expect(await count(e)).toBe(0);
    });

    it('lets no other call interleave with an open transaction', async () => {
      const e = await open();
      const seen: number[][] = [];
      const ids = () => e.read(async (s) => (await s.query('SELECT id FROM t ORDER BY id')).map((row) => Number(row.id)));
      const tx = e.write(async (s) => {
        await s.run('INSERT INTO t (id) VALUES (1)');
        await new Promise((resolve) => setTimeout(resolve, 30));
        await s.run('INSERT INTO t (id) VALUES (2)');
      });
      await new Promise((resolve) => setTimeout(resolve, 5));
      const reads = Promise.all([ids(), ids()]).then((results) => seen.push(...results));
      const otherWrite = e.write((s) => s.run('INSERT INTO t (id) VALUES (3)'));
      await Promise.all([tx, reads, otherWrite]);
      // no read observes the half-done transaction: row 1 without row 2
      for (const rows of seen) expect(rows.includes(1) && !rows.includes(2)).toBe(false);
      expect(await ids()).toEqual([1, 2, 3]);
    });

    it('maps a unique violation to CONSTRAINT and a missing table to MISSING_TABLE', async () => {
      const e = await open();
      await e.write((s) => s.run('INSERT INTO t (id, label) VALUES (1, ?)', ['x']));
      const unique = await e.write((s) => s.run('INSERT INTO t (id, label) VALUES (2, ?)', ['x'])).catch((error) => error);
      expect(isMonitorError(unique, 'CONSTRAINT')).toBe(true);
      expect(unique.cause).toBeDefined();
      const missing = await e.read((s) => s.query('SELECT * FROM no_such_table')).catch((error) => error);
      expect(isMonitorError(missing, 'MISSING_TABLE')).toBe(true);
      expect(missing.message).toContain('no_such_table');
    });

    it('lists tables and columns through the dialect', async () => {
      const e = await open();
      const rows = await e.read((s) => s.query(s.dialect.columnsQuery));
      const columns = rows.filter((row) => row.table_name === 't').map((row) => [row.column_name, Number(row.not_null)]);
      expect(columns).toEqual([
        ['id', 0],
        ['label', 0],
        ['amount', 0],
        ['n', 0],
      ]);
    });

    it('keeps working after core releases a connection as discarded (it broke, or its transaction could not be ended)', async () => {
      const driver: Driver = await harness.create();
      executor = new Executor(driver);
      const connection = await driver.acquireConnection();
      await connection.run('CREATE TABLE d (id INTEGER)');
      await driver.releaseConnection(connection, { discard: true });
      // a pooled driver closed that connection and opens another; a single-connection one keeps its only one
      await executor.write((s) => s.run('INSERT INTO d (id) VALUES (?)', [1]));
      expect(await executor.read(async (s) => (await s.query('SELECT COUNT(*) AS n FROM d'))[0]!.n)).toBe(1);
    });

    it('fails every call after close with CLOSED, and close is idempotent', async () => {
      const e = await open();
      const pending = e.write((s) => s.run('INSERT INTO t (id) VALUES (1)'));
      await Promise.all([e.close(), e.close()]);
      await pending; // a call made before close() still completes
      await expect(count(e)).rejects.toSatisfy((error: unknown) => isMonitorError(error, 'CLOSED'));
      await expect(e.write((s) => s.run('INSERT INTO t (id) VALUES (2)'))).rejects.toSatisfy((error: unknown) =>
        isMonitorError(error, 'CLOSED'),
      );
    });
  });
}
