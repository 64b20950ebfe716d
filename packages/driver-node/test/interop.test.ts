import { copyFileSync } from 'node:fs';
import { getSafeModelName } from '@llm-monitor/core';
import { fixturePath } from '@llm-monitor/test-kit';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openMonitor } from '../src/index.js';
import { tempPath } from './harness.js';
import { ORIGINAL, originalInit } from './original.js';

const QWEN = 'Qwen3-Coder-30B-A3B-Instruct-64K';
const EMBED = `O'Neil "embed" [v2]; DELETE FROM t; --`;

describe("interoperability with the original's code", () => {
  it("a file written here works under every statement of the original's Monitor", async () => {
    const path = tempPath('ours');
    const monitor = await openMonitor(path, { models: [QWEN, EMBED] });
    await monitor.addProgramRuntimeStart(1_710_000_000);
    await monitor.addModelRuntimeStart(QWEN, 1_710_000_100);
    await monitor.addModelRequest(QWEN, [1_710_000_200, 1500, 300, 1000, 500]);
    await monitor.addTierPricing(QWEN, { tierIndex: 2, startTokens: 32769, endTokens: -1, inputPricePerMillion: 0.8, outputPricePerMillion: 2, supportCache: true, cacheHitPricePerMillion: 0.1 });
    await monitor.updateHourlyPrice(EMBED, 4.5);
    await monitor.close();

    const db = new Database(path);
    // the original constructs its Monitor on our file: nothing is duplicated
    originalInit(db, [QWEN, EMBED, 'added-by-python']);
    const q = getSafeModelName(QWEN);
    expect(db.prepare(ORIGINAL.lookup).pluck().get(QWEN)).toBe(q);
    expect(db.prepare(ORIGINAL.billingTiers(q)).all()).toEqual([
      { tier_index: 1, start_tokens: 0, end_tokens: 32768, input_price_per_million: 0, output_price_per_million: 0 },
      { tier_index: 2, start_tokens: 32769, end_tokens: -1, input_price_per_million: 0.8, output_price_per_million: 2 },
    ]);
    // every write statement of the original
    db.prepare(ORIGINAL.programEnd).run(1_710_000_900);
    db.prepare(ORIGINAL.programStart).run(1_710_001_000, 1_710_001_000);
    db.prepare(ORIGINAL.runtimeEnd(q)).run(1_710_000_800);
    db.prepare(ORIGINAL.runtimeStart(q)).run(1_710_001_100, 1_710_001_100);
    db.prepare(ORIGINAL.request(q)).run(1_710_001_200, 70, 7);
    db.prepare(ORIGINAL.tierUpdate(q)).run(0, 32768, 1.0, 2.5, 1);
    db.prepare(ORIGINAL.tierAdd(q)).run(3, 200000, 300000, 0.4, 1.6);
    db.prepare(ORIGINAL.tierDelete(q)).run(3);
    db.prepare(ORIGINAL.hourlyUpdate(q)).run(12.5);
    db.prepare(ORIGINAL.methodUpdate(q)).run(0);
    // and every read statement
    expect(db.prepare(ORIGINAL.programAll).all()).toEqual([
      { id: 2, start_time: 1_710_001_000, end_time: 1_710_001_000 },
      { id: 1, start_time: 1_710_000_000, end_time: 1_710_000_900 },
    ]);
    expect(db.prepare(ORIGINAL.programLimit).all(1)).toHaveLength(1);
    expect(db.prepare(ORIGINAL.runtimeAll(q)).all()).toEqual([
      { id: 2, start_time: 1_710_001_100, end_time: 1_710_001_100 },
      { id: 1, start_time: 1_710_000_100, end_time: 1_710_000_800 },
    ]);
    expect(db.prepare(ORIGINAL.requestsAll(q)).all()).toEqual([
      { id: 2, timestamp: 1_710_001_200, input_tokens: 70, output_tokens: 7 },
      { id: 1, timestamp: 1_710_000_200, input_tokens: 1500, output_tokens: 300 },
    ]);
    expect(db.prepare(ORIGINAL.requestsSince(q)).all(1_710_001_000)).toHaveLength(1);
    expect(db.prepare(ORIGINAL.billingMethod(q)).get()).toEqual({ use_tier_pricing: 0 });
    expect(db.prepare(ORIGINAL.billingHourly(q)).get()).toEqual({ hourly_price: 12.5 });
    db.close();

    // what the original wrote reads back here, with the cache columns at their defaults
    const again = await openMonitor(path);
    expect(await again.getModelRequests(QWEN)).toEqual([
      { id: 2, timestamp: 1_710_001_200, inputTokens: 70, outputTokens: 7, cacheN: 0, promptN: 0 },
      { id: 1, timestamp: 1_710_000_200, inputTokens: 1500, outputTokens: 300, cacheN: 1000, promptN: 500 },
    ]);
    expect((await again.getModelBilling(QWEN))!.tierPricing.map((t) => [t.tierIndex, t.inputPricePerMillion, t.supportCache])).toEqual([
      [1, 1.0, false],
      [2, 0.8, true],
    ]);
    expect((await again.listModels()).map((m) => m.name)).toEqual([QWEN, EMBED, 'added-by-python']);
    await again.close();

    // the original's delete_model_tables on our file
    const db2 = new Database(path);
    db2.transaction(() => {
      for (const sql of ORIGINAL.dropTables(q)) db2.prepare(sql).run();
      db2.prepare(ORIGINAL.mappingDelete).run(QWEN);
    })();
    db2.close();
    const after = await openMonitor(path);
    expect((await after.listModels()).map((m) => m.name)).toEqual([EMBED, 'added-by-python']);
    await after.close();
  });

  it("upgrades the original's seed file in place, marks it, and the original still works on it", async () => {
    const path = tempPath('seed');
    copyFileSync(fixturePath('seed-v1-dev', 'db'), path);
    const monitor = await openMonitor(path);
    await monitor.addModelRequest('Llama-3.3-70B-Instruct-Q4_K_M', [1_710_050_000, 10, 20, 5, 5]);
    await monitor.close();

    const db = new Database(path);
    expect(db.pragma('user_version', { simple: true })).toBe(0x6c6d0001);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const safe = getSafeModelName('Llama-3.3-70B-Instruct-Q4_K_M');
    const columns = db.prepare(`SELECT name FROM pragma_table_info('${safe}_requests')`).pluck().all();
    expect(columns).toEqual(['id', 'timestamp', 'input_tokens', 'output_tokens', 'cache_n', 'prompt_n']);
    originalInit(db, ['Llama-3.3-70B-Instruct-Q4_K_M']);
    db.prepare(ORIGINAL.request(safe)).run(1_710_050_001, 1, 2);
    expect(db.prepare(ORIGINAL.requestsAll(safe)).all().slice(0, 2)).toEqual([
      { id: 12, timestamp: 1_710_050_001, input_tokens: 1, output_tokens: 2 },
      { id: 11, timestamp: 1_710_050_000, input_tokens: 10, output_tokens: 20 },
    ]);
    db.close();
  });

  it('opens read-only without writing a byte: no schema, no user_version, no journal change', async () => {
    const path = tempPath('readonly');
    copyFileSync(fixturePath('seed-v1-dev', 'db'), path);
    const { readFileSync } = await import('node:fs');
    const before = readFileSync(path);
    const monitor = await openMonitor(path, { readOnly: true });
    expect(await monitor.getModelRequests('Llama-3.3-70B-Instruct-Q4_K_M')).toHaveLength(10);
    await expect(monitor.updateHourlyPrice('Llama-3.3-70B-Instruct-Q4_K_M', 1)).rejects.toMatchObject({ code: 'READ_ONLY' });
    await monitor.close();
    expect(readFileSync(path).equals(before)).toBe(true);
  });
});

describe('files the Monitor refuses or meets half-way', () => {
  it('leaves a foreign database untouched: no WAL switch, no tables', async () => {
    const path = tempPath('foreign');
    const db = new Database(path);
    db.exec('CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)');
    db.close();
    const { readFileSync } = await import('node:fs');
    const before = readFileSync(path);
    await expect(openMonitor(path)).rejects.toMatchObject({ code: 'NOT_A_MONITOR_DB' });
    expect(readFileSync(path).equals(before)).toBe(true);
    const check = new Database(path, { readonly: true });
    expect(check.pragma('journal_mode', { simple: true })).toBe('delete');
    check.close();
  });

  it('upgrades a seed-layout model that the original created after this Monitor opened', async () => {
    const path = tempPath('late');
    const monitor = await openMonitor(path, { models: ['ours'] });
    const db = new Database(path);
    originalInit(db, ['created-by-python']);
    db.close();
    await monitor.addModelRequest('created-by-python', [1_710_000_000, 10, 5, 4, 6]);
    expect(await monitor.getModelRequests('created-by-python')).toEqual([
      { id: 1, timestamp: 1_710_000_000, inputTokens: 10, outputTokens: 5, cacheN: 4, promptN: 6 },
    ]);
    await monitor.addTierPricing('created-by-python', { tierIndex: 2, startTokens: 32769, endTokens: -1, inputPricePerMillion: 1, outputPricePerMillion: 1, supportCache: true, cacheHitPricePerMillion: 0.5 });
    expect((await monitor.listModels()).find((m) => m.name === 'created-by-python')).toMatchObject({ shape: 'S3', writable: true });
    // also when this Monitor read the model before writing to it (the read caches it)
    const db2 = new Database(path);
    originalInit(db2, ['read-first']);
    db2.close();
    expect(await monitor.getModelRequests('read-first')).toEqual([]);
    await monitor.addModelRequest('read-first', [1_710_000_000, 3, 2, 1, 2]);
    await monitor.addModelRequest('read-first', [1_710_000_001, 3, 2, 1, 2]);
    expect(await monitor.getModelRequests('read-first')).toHaveLength(2);
    // and when another Monitor upgraded it first: this one must not add the columns a second time
    const db3 = new Database(path);
    originalInit(db3, ['upgraded-elsewhere']);
    db3.close();
    expect(await monitor.getModelRequests('upgraded-elsewhere')).toEqual([]);
    const other = await openMonitor(path);
    await other.addModelRequest('upgraded-elsewhere', [1_710_000_000, 1, 1, 0, 1]);
    await other.close();
    await monitor.addModelRequest('upgraded-elsewhere', [1_710_000_001, 2, 2, 1, 1]);
    expect(await monitor.getModelRequests('upgraded-elsewhere')).toHaveLength(2);
    await monitor.close();
  });

  it('two Monitors opening the same seed file at once both upgrade it without a conflict', async () => {
    const path = tempPath('seed-race');
    copyFileSync(fixturePath('seed-v1-dev', 'db'), path);
    const [a, b] = await Promise.all([openMonitor(path), openMonitor(path)]);
    await Promise.all([a.addModelRequest('Llama-3.3-70B-Instruct-Q4_K_M', [1_710_050_000, 1, 1, 1, 0]), b.addModelRequest('Llama-3.3-70B-Instruct-Q4_K_M', [1_710_050_001, 1, 1, 1, 0])]);
    expect(await a.getModelRequests('Llama-3.3-70B-Instruct-Q4_K_M')).toHaveLength(12);
    await Promise.all([a.close(), b.close()]);
  });
});
