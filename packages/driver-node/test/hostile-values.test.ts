import { getSafeModelName, isMonitorError } from '@llm-monitor/core';
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openMonitor } from '../src/index.js';
import { tempPath } from './harness.js';
import { ORIGINAL, originalInit } from './original.js';

/**
 * Values another program (the original, a hand edit) can leave in a file, written with the original's
 * own statements: no value may stop a report, and none may be summed into a figure without a word.
 */

const T0 = 1_710_000_000;
const close = (actual: number, expected: number) => expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)));

function originalFile(models: string[]): { path: string; db: Database.Database } {
  const path = tempPath('original');
  const db = new Database(path);
  originalInit(db, models);
  return { path, db };
}

describe('values a file holds that no report may trust', () => {
  it("prices around tiers the original stored with float('inf') and a text price, naming them", async () => {
    const { path, db } = originalFile(['m']);
    const q = getSafeModelName('m');
    db.prepare(ORIGINAL.tierUpdate(q)).run(0, 1000, 1.0, 2.0, 1);
    db.prepare(ORIGINAL.tierAdd(q)).run(2, 1001, Number.POSITIVE_INFINITY, 0.5, 1.0); // Python's float('inf')
    db.prepare(ORIGINAL.tierAdd(q)).run(3, 0, 10, 'cheap', 1.0); // a text where a price belongs
    for (const [i, input] of [500, 5000, 10_000_000].entries()) db.prepare(ORIGINAL.request(q)).run(T0 + i, input, 100);
    db.close();

    const monitor = await openMonitor(path, { readOnly: true });
    const summary = await monitor.summary();
    const m = summary.models[0]!;
    // 500 → tier 1; 5000 and 10,000,000 → tier 2 (unbounded); tier 3 is left out, not inlined into SQL
    close(m.tierCost, (500 * 1 + 100 * 2 + (5000 + 10_000_000) * 0.5 + 200 * 1) / 1e6);
    expect(m.unpricedRequests).toBe(0);
    expect(m.problems).toEqual([
      'tier 2: end_tokens is Infinity, read as unbounded (-1)',
      'tier 3: input_price_per_million is "cheap", not a price (a finite number >= 0); the tier is not used',
    ]);
    expect(summary.problems).toEqual(m.problems.map((p) => `model "m": ${p}`));
    expect((await monitor.series({ bucket: 'hour', timeZone: 'UTC' })).buckets).toHaveLength(1);
    expect((await monitor.describe()).models[0]!.problems).toEqual(expect.arrayContaining(m.problems));
    // the getter shows what is stored
    expect((await monitor.getModelBilling('m'))!.tierPricing.map((t) => t.endTokens)).toEqual([1000, Number.POSITIVE_INFINITY, 10]);
    await monitor.close();
  });

  it('leaves negative and text token counts out of every figure and says how many', async () => {
    const { path, db } = originalFile(['m']);
    const q = getSafeModelName('m');
    db.prepare(ORIGINAL.tierUpdate(q)).run(0, -1, 1.0, 1.0, 1);
    db.prepare(ORIGINAL.request(q)).run(T0, 1000, 10);
    db.prepare(ORIGINAL.request(q)).run(T0 + 1, -100_000_000, 0); // would be cost −100
    db.prepare(ORIGINAL.request(q)).run(T0 + 2, 'many', 5);
    db.prepare(ORIGINAL.request(q)).run(T0 + 3, 2.5, 5); // odd, but a number: summed
    db.close();

    const monitor = await openMonitor(path);
    const summary = await monitor.summary();
    expect(summary.total).toMatchObject({ requests: 2, unusableRequests: 2, inputTokens: 1002.5, outputTokens: 15 });
    close(summary.total.cost, 1017.5 / 1e6);
    expect(summary.problems).toEqual(['model "m": 2 requests hold unusable values (text or negative token counts); they are left out of every figure']);
    const series = await monitor.series({ bucket: 'day', timeZone: 'UTC' });
    close(series.buckets.reduce((sum, b) => sum + b.total.cost, 0), summary.total.cost);
    expect((await monitor.describe()).models[0]!.problems).toContain('2 requests hold unusable values (text or negative token counts); every report leaves them out');
    // our own writes next to them still work
    await monitor.addModelRequest('m', [T0 + 10, 1, 1]);
    expect((await monitor.summary()).total.requests).toBe(3);
    await monitor.close();
  });

  it('counts tables that two mapping rows share once, and refuses writes through the second name', async () => {
    const path = tempPath('shared');
    const db = new Database(path);
    // a file whose mapping table lacks the UNIQUE constraints (hand-made, or an older tool)
    db.exec(`CREATE TABLE model_name_mapping (id INTEGER PRIMARY KEY AUTOINCREMENT, original_name TEXT NOT NULL, safe_name TEXT NOT NULL, created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
      CREATE TABLE program_runtime (id INTEGER PRIMARY KEY AUTOINCREMENT, start_time REAL NOT NULL, end_time REAL NOT NULL);`);
    const q = getSafeModelName('owner');
    for (const sql of ORIGINAL.modelTables(q)) db.prepare(sql).run();
    db.prepare(ORIGINAL.defaultTierInsert(q)).run();
    db.prepare(ORIGINAL.hourlyInsert(q)).run();
    db.prepare(ORIGINAL.methodInsert(q)).run();
    db.prepare(ORIGINAL.mappingInsert).run('owner', q);
    db.prepare(ORIGINAL.mappingInsert).run('impostor', q);
    db.prepare(ORIGINAL.tierUpdate(q)).run(0, -1, 1.0, 1.0, 1);
    db.prepare(ORIGINAL.request(q)).run(T0, 1_000_000, 0);
    db.close();

    const monitor = await openMonitor(path);
    const summary = await monitor.summary();
    expect(summary.models.map((m) => m.name)).toEqual(['owner']);
    close(summary.total.cost, 1);
    expect(summary.problems).toEqual([`model "impostor": its mapping row names the tables of model "owner"; left out`]);
    const impostor = (await monitor.describe()).models.find((m) => m.name === 'impostor')!;
    expect(impostor.problems[0]).toContain('names the tables of model "owner"');
    const refused = await monitor.addModelRequest('impostor', [T0 + 1, 5, 5]).catch((e) => e);
    expect(isMonitorError(refused, 'SCHEMA_MISMATCH')).toBe(true);
    expect(refused.message).toContain('"impostor"');
    expect((await monitor.summary()).total.requests).toBe(1);
    await monitor.close();
  });

  it('refuses to write to a file whose monitor tables carry triggers, unless told to drop them', async () => {
    const { path, db } = originalFile(['victim', 'other']);
    const q = getSafeModelName('victim');
    const other = getSafeModelName('other');
    db.prepare(ORIGINAL.programStart).run(T0, T0 + 60);
    db.exec(`CREATE TRIGGER wipe AFTER INSERT ON ${q}_requests BEGIN
      DELETE FROM program_runtime; UPDATE ${other}_tier_pricing SET input_price_per_million = 1000; END;
      CREATE VIEW everything AS SELECT * FROM ${q}_requests;`);
    db.close();
    const before = readFileSync(path);

    const refused = await openMonitor(path).catch((e) => e);
    expect(isMonitorError(refused, 'UNSAFE_TRIGGERS')).toBe(true);
    expect(refused.message).toContain('"wipe"');
    expect(refused.value).toEqual(['wipe']);
    expect(readFileSync(path).equals(before)).toBe(true);

    const reader = await openMonitor(path, { readOnly: true });
    const description = await reader.describe();
    expect(description.triggers).toEqual([{ name: 'wipe', table: `${q}_requests` }]);
    expect(description.views).toEqual(['everything']);
    expect(description.problems).toEqual([`trigger "wipe" on ${q}_requests would run on every write: a writable Monitor refuses this file unless told to drop it`]);
    await reader.close();

    const writer = await openMonitor(path, { dropTriggers: true });
    await writer.addModelRequest('victim', [T0 + 1, 5, 5]);
    expect(await writer.getProgramRuntime()).toHaveLength(1);
    expect((await writer.getModelBilling('other'))!.tierPricing[0]!.inputPricePerMillion).toBe(0);
    expect((await writer.describe()).triggers).toEqual([]);
    await writer.close();
  });

  it("notices the original deleting a model while recording: no acknowledged row ends in tables no mapping row names", async () => {
    const path = tempPath('delete-race');
    const monitor = await openMonitor(path, { models: ['busy'] });
    await monitor.addModelRequest('busy', [T0, 1, 1]); // cached: later writes take the fast path
    const original = new Database(path);
    const q = getSafeModelName('busy');
    // the original's delete_model_tables: the five DROPs commit, then the mapping row goes in its own commit
    for (const sql of ORIGINAL.dropTables(q)) original.prepare(sql).run();
    await monitor.addModelRequest('busy', [T0 + 1, 2, 2]); // lands between the two steps: the tables come back
    original.prepare(ORIGINAL.mappingDelete).run('busy');
    await monitor.addModelRequest('busy', [T0 + 2, 3, 3]); // the mapping row is gone: must not write into orphans
    await monitor.addModelRequests('busy', [[T0 + 3, 4, 4]]);
    original.close();

    const requests = await monitor.getModelRequests('busy');
    expect(requests.map((r) => r.inputTokens).sort()).toEqual([2, 3, 4]);
    const description = await monitor.describe();
    expect(description.problems).toEqual([]);
    expect(description.models.map((m) => [m.name, m.requests])).toEqual([['busy', 3]]);
    await monitor.close();
  });
});
