import { readFileSync } from 'node:fs';
import { Executor, isMonitorError, type Monitor } from '@llm-monitor/core';
import { fixtureBytes, fixturePath } from '@llm-monitor/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { prepareBytes } from '../src/file-header.js';
import { createWasmDriver, openWasmMonitor } from '../src/index.js';
import { SQL } from './harness.js';

const LLAMA = 'Llama-3.3-70B-Instruct-Q4_K_M';

const opened: Monitor[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((m) => m.close()));
});
async function open(options: Omit<Parameters<typeof openWasmMonitor>[0], 'SQL'> = {}) {
  const result = await openWasmMonitor({ SQL, ...options });
  opened.push(result.monitor);
  return result;
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isMonitorError(error)) throw new Error(`expected a MonitorError, got ${String(error)}`);
  return error;
}

/** Deterministic noise (a linear congruential generator), so a failure is reproducible. */
function noise(length: number, seed = 42): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) bytes[i] = (x = (x * 1_103_515_245 + 12_345) >>> 0) >>> 24;
  return bytes;
}

describe('WAL-mode files', () => {
  it('opens normalized-v2-dev.db (header bytes 18-19 = 2) from a patched copy and says so', async () => {
    const bytes = fixtureBytes('normalized-v2-dev');
    const pristine = bytes.slice();
    expect([bytes[18], bytes[19]]).toEqual([2, 2]);

    const { monitor, walPatched, exportBytes } = await open({ bytes, readOnly: true });
    expect(walPatched).toBe(true);
    const models = await monitor.listModels();
    expect(models.map((m) => m.shape)).toEqual(['S6', 'S6', 'S6', 'S6']);
    expect(await monitor.getModelRequests(LLAMA)).toHaveLength(9);
    expect((await monitor.describe()).journalMode).toBe('wal');

    expect(bytes).toEqual(pristine);
    expect(bytes).toEqual(new Uint8Array(readFileSync(fixturePath('normalized-v2-dev', 'db'))));
    const exported = await exportBytes();
    expect([exported[18], exported[19]]).toEqual([1, 1]);
  });

  it('leaves a rollback-journal file as it is', async () => {
    const bytes = fixtureBytes('seed-v1-dev');
    expect(prepareBytes(bytes)).toEqual({ data: bytes, walPatched: false });
    const driver = createWasmDriver(SQL, { bytes });
    expect(driver.walPatched).toBe(false);
    await driver.close();
  });

  it('patches a copy when only one of the two version bytes says WAL', () => {
    const bytes = fixtureBytes('seed-v1-dev');
    bytes[19] = 2;
    const { data, walPatched } = prepareBytes(bytes);
    expect(walPatched).toBe(true);
    expect([data![18], data![19]]).toEqual([1, 1]);
    expect(bytes[19]).toBe(2);
  });
});

describe('export', () => {
  it('round-trips: write, export, reopen from the bytes, same data', async () => {
    const first = await open({ models: [LLAMA] });
    await first.monitor.addProgramRuntimeStart(1_710_000_000);
    await first.monitor.addModelRuntimeStart(LLAMA, 1_710_000_010);
    await first.monitor.addModelRequests(LLAMA, [
      [1_710_000_020, 150, 75],
      [1_710_000_030, 1000, 20, 900, 100],
    ]);
    await first.monitor.updateHourlyPrice(LLAMA, 2.5);
    await first.monitor.addTierPricing(LLAMA, [2, 32769, -1, 1, 2]);
    const bytes = await first.exportBytes();
    expect(new TextDecoder().decode(bytes.subarray(0, 15))).toBe('SQLite format 3');

    const second = await open({ bytes, readOnly: true });
    expect(second.walPatched).toBe(false);
    expect((await second.monitor.describe()).journalMode).toBe('delete');
    expect(await second.monitor.listModels()).toEqual(await first.monitor.listModels());
    expect(await second.monitor.getProgramRuntime()).toEqual(await first.monitor.getProgramRuntime());
    expect(await second.monitor.getModelRuntime(LLAMA)).toEqual(await first.monitor.getModelRuntime(LLAMA));
    expect(await second.monitor.getModelRequests(LLAMA)).toHaveLength(2);
    expect(await second.monitor.getModelRequests(LLAMA)).toEqual(await first.monitor.getModelRequests(LLAMA));
    expect(await second.monitor.getModelBilling(LLAMA)).toEqual(await first.monitor.getModelBilling(LLAMA));
  });

  it('keeps working after an export, and the exported bytes are a snapshot', async () => {
    const { monitor, exportBytes } = await open();
    await monitor.addModelRequest('m', [1_710_000_000, 1, 1]);
    const snapshot = await exportBytes();
    await monitor.addModelRequest('m', [1_710_000_001, 2, 2]);
    expect(await monitor.getModelRequests('m')).toHaveLength(2);
    const reopened = await open({ bytes: snapshot });
    expect(await reopened.monitor.getModelRequests('m')).toHaveLength(1);
  });

  it('waits for a transaction in flight instead of copying half of it', async () => {
    const { monitor, exportBytes } = await open();
    const transaction = monitor.transaction(async (tx) => {
      await tx.addModelRequest('m', [1_710_000_000, 1, 1]);
      await new Promise((resolve) => setTimeout(resolve, 20));
      await tx.addModelRequest('m', [1_710_000_001, 2, 2]);
    });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const bytes = await exportBytes();
    await transaction;
    const reopened = await open({ bytes });
    expect(await reopened.monitor.getModelRequests('m')).toHaveLength(2);
  });

  it('fails with CLOSED after the monitor was closed', async () => {
    const { monitor, exportBytes } = await open();
    await monitor.close();
    expect((await failure(exportBytes())).code).toBe('CLOSED');
  });
});

describe('what the bytes are', () => {
  it('opens zero bytes (or none) as an empty database', async () => {
    for (const bytes of [new Uint8Array(0), undefined]) {
      const { monitor } = await open({ bytes });
      await monitor.addModelRequest('m', [1_710_000_000, 1, 1]);
      expect(await monitor.listModels()).toHaveLength(1);
    }
    const readOnly = await failure(open({ bytes: new Uint8Array(0), readOnly: true }));
    expect(readOnly.code).toBe('NOT_A_MONITOR_DB');
  });

  it('accepts an ArrayBuffer, as File.arrayBuffer() gives it', async () => {
    const view = fixtureBytes('seed-v1-dev');
    const buffer = view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength);
    const { monitor } = await open({ bytes: buffer as ArrayBuffer, readOnly: true });
    expect(await monitor.listModels()).toHaveLength(3);
  });

  it('refuses bytes that are not SQLite with NOT_A_DATABASE', async () => {
    const inputs: [string, Uint8Array][] = [
      ['random bytes', noise(8192)],
      ['a text file', new TextEncoder().encode('timestamp,model,input,output\n1710000000,qwen,150,75\n'.repeat(50))],
      ['a short file', new TextEncoder().encode('SQLite format 3\u0000')],
    ];
    for (const [label, bytes] of inputs) {
      const error = await failure(open({ bytes }));
      expect(error.code, label).toBe('NOT_A_DATABASE');
      expect(error.message, label).toMatch(/not a SQLite database/i);
      expect(() => createWasmDriver(SQL, { bytes }), label).toThrow(/not a SQLite database/i);
    }
  });

  it('refuses a file with a SQLite header and a corrupt body with NOT_A_DATABASE', async () => {
    const bytes = fixtureBytes('seed-v1-dev');
    bytes.set(noise(bytes.length - 100, 7), 100);
    const error = await failure(open({ bytes }));
    expect(error.code).toBe('NOT_A_DATABASE');
  });

  it('refuses a SQLite database of another application with NOT_A_MONITOR_DB', async () => {
    const foreign = new SQL.Database();
    foreign.run('CREATE TABLE invoices (id INTEGER PRIMARY KEY, customer TEXT, total REAL)');
    foreign.run("INSERT INTO invoices (customer, total) VALUES ('ACME', 99.5)");
    const bytes = foreign.export();
    foreign.close();
    for (const readOnly of [false, true]) {
      const error = await failure(open({ bytes, readOnly }));
      expect(error.code).toBe('NOT_A_MONITOR_DB');
      if (!readOnly) expect(error.message).toContain('invoices');
    }
  });

  it('asks for the initialised module when given something else', () => {
    expect(() => createWasmDriver(undefined as never)).toThrow(/initSqlJs/);
  });
});

describe('the connection', () => {
  it('reports 0 changes for statements that are not INSERT, UPDATE or DELETE', async () => {
    const executor = new Executor(createWasmDriver(SQL));
    try {
      const changes = await executor.write(async (s) => {
        await s.run('CREATE TABLE t (id INTEGER PRIMARY KEY, flag BOOLEAN)');
        await s.batch('INSERT INTO t (id, flag) VALUES (?, ?)', [[1, true], [2, false], [3, true]]);
        const updated = await s.run('UPDATE t SET flag = ? WHERE flag = ?', [false, true]);
        const created = await s.run('CREATE TABLE u (id INTEGER)');
        const selected = await s.run('SELECT * FROM t');
        const inserted = await s.batch('INSERT INTO u (id) SELECT id FROM t WHERE id > ?', [[1], [2]]);
        return [updated.changes, created.changes, selected.changes, inserted.changes];
      });
      expect(changes).toEqual([2, 0, 0, 3]);
      expect(await executor.read((s) => s.query('SELECT id, flag FROM t ORDER BY id'))).toEqual([
        { id: 1, flag: 0 },
        { id: 2, flag: 0 },
        { id: 3, flag: 0 },
      ]);
    } finally {
      await executor.close();
    }
  });

  it('binds bigints exactly', async () => {
    const executor = new Executor(createWasmDriver(SQL));
    try {
      await executor.write((s) => s.run('CREATE TABLE n (id INTEGER PRIMARY KEY, big INTEGER)'));
      await executor.write((s) => s.batch('INSERT INTO n VALUES (?, ?)', [[1n, 2n ** 60n + 1n], [2n, 42n]]));
      expect(await executor.read((s) => s.query('SELECT id, CAST(big AS TEXT) AS big, typeof(big) AS type FROM n ORDER BY id'))).toEqual([
        { id: 1, big: String(2n ** 60n + 1n), type: 'integer' },
        { id: 2, big: '42', type: 'integer' },
      ]);
    } finally {
      await executor.close();
    }
  });

  it('returns blobs and keeps working past its statement cache', async () => {
    const executor = new Executor(createWasmDriver(SQL));
    try {
      await executor.write((s) => s.run('CREATE TABLE b (id INTEGER PRIMARY KEY, data BLOB)'));
      await executor.write((s) => s.run('INSERT INTO b VALUES (1, ?)', [new Uint8Array([0, 1, 255])]));
      for (let i = 0; i < 600; i++) {
        const rows = await executor.read((s) => s.query(`SELECT data, ${i} AS i FROM b WHERE id = ?`, [1]));
        expect(rows).toEqual([{ data: new Uint8Array([0, 1, 255]), i }]);
      }
    } finally {
      await executor.close();
    }
  });
});
