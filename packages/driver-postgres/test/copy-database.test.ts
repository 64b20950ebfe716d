import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNodeDriver, openMonitor as openSqliteMonitor } from '@llm-monitor/driver-node';
import { closeTo, fixturePath } from '@llm-monitor/test-kit';
import { afterAll, describe, expect, it } from 'vitest';
import { Executor, type Monitor, copyDatabase, getSafeModelName, isMonitorError, openMonitor } from '../src/index.js';
import { PG_URL, SUITE_TITLE, newSchema, pgAvailable } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'llm-monitor-pg-copy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const tempPath = () => join(dir, `copy-${++files}.db`);

const open: Monitor[] = [];
afterAll(async () => {
  await Promise.all(open.splice(0).map((m) => m.close()));
});
const track = (m: Monitor) => (open.push(m), m);
const pg = async () => track(await openMonitor(PG_URL, { schema: await newSchema() }));
const sqlite = async (path = tempPath(), readOnly = false) => track(await openSqliteMonitor(path, { readOnly }));

/** Deep equality, numbers within 1e-9: engines return groups in another order, so float sums differ in the last bit. */
const expectSame = (actual: unknown, expected: unknown) => expect(closeTo(actual, expected)).toBeNull();

/** Everything the getters see, plus the summary (the layout name aside: a seed file's S1 becomes S3). */
async function everything(monitor: Monitor) {
  const models = await monitor.listModels();
  const perModel = [];
  for (const { name } of models)
    perModel.push({
      name,
      runtime: await monitor.getModelRuntime(name),
      requests: await monitor.getModelRequests(name),
      billing: await monitor.getModelBilling(name),
    });
  const { models: summaries, ...summary } = await monitor.summary();
  return {
    models: models.map((m) => [m.name, m.safeName]),
    program: await monitor.getProgramRuntime(),
    perModel,
    summary: { ...summary, models: summaries.map(({ shape: _, ...m }) => m) },
  };
}

const NAMES = [`O'Neil "embed" [v2]; DELETE FROM t; --`, '🦙 llama', 'x'.repeat(2000), 'a?b?c', 'hourly-gpu'];

/** A SQLite file with a bit of everything: odd names, cache tiers, a deleted tier 1, hourly billing, open runs. */
async function richSqliteFile(): Promise<string> {
  const path = tempPath();
  const m = await openSqliteMonitor(path, { models: NAMES });
  await m.addProgramRuntimeStart(1_710_000_000.25);
  await m.updateProgramRuntimeEnd(1_710_003_600.5);
  await m.addProgramRuntimeStart(1_710_010_000);
  await m.updateTierPricing(NAMES[0]!, { tierIndex: 1, startTokens: 0, endTokens: 1000, inputPricePerMillion: 1, outputPricePerMillion: 2, supportCache: true, cacheHitPricePerMillion: 0.1 });
  await m.addTierPricing(NAMES[0]!, [2, 1001, -1, 0.5, 1]);
  await m.addTierPricing(NAMES[1]!, [3, 0, -1, 0.25, 0.75]);
  await m.deleteTierPricing(NAMES[1]!, 1);
  await m.updateBillingMethod(NAMES[4]!, false);
  await m.updateHourlyPrice(NAMES[4]!, 2.5);
  for (const [i, name] of NAMES.entries()) {
    await m.addModelRuntimeStart(name, 1_710_000_000 + i);
    await m.updateModelRuntimeEnd(name, 1_710_000_500.75 + i);
    await m.addModelRuntimeStart(name, 1_710_001_000 + i); // left open
    await m.addModelRequests(
      name,
      Array.from({ length: 1000 + i * 500 }, (_, k) => [1_710_000_000 + k * 1.5, 10 + ((k * 37) % 3000), 1 + (k % 500), k % 7, k % 11] as const),
    );
  }
  await m.close();
  return path;
}

describe.skipIf(!pgAvailable)(`${SUITE_TITLE}: copyDatabase`, () => {
  it('copies a SQLite file into PostgreSQL and back: every getter and the summary are equal, counts verified', async () => {
    const source = await sqlite(await richSqliteFile(), true);
    const expected = await everything(source);
    const target = await pg();
    const report = await copyDatabase(source, target, { batchSize: 700 });
    expect(report).toMatchObject({ programRuns: 2, requests: 5 * 1000 + 500 * 10, runs: 10 });
    expect(report.models.map((m) => [m.name, m.requests, m.runs, m.tiers])).toEqual(NAMES.map((name, i) => [name, 1000 + i * 500, 2, i === 0 ? 2 : 1]));
    expectSame(await everything(target), expected);
    expect((await target.listModels()).map((m) => m.safeName)).toEqual(NAMES.map(getSafeModelName));

    const back = await sqlite();
    await copyDatabase(target, back);
    expectSame(await everything(back), expected);
  });

  it("copies the original's seed file (layout S1) into PostgreSQL with the same getters", async () => {
    const path = tempPath();
    copyFileSync(fixturePath('seed-v1-dev', 'db'), path);
    const source = await sqlite(path, true);
    const target = await pg();
    const report = await copyDatabase(source, target);
    expect(report.models.length).toBeGreaterThan(0);
    expectSame(await everything(target), await everything(source));
    expect((await target.listModels()).every((m) => m.shape === 'S3')).toBe(true);
  });

  it('refuses layouts it cannot write and targets that are not empty, writing nothing', async () => {
    const path = tempPath();
    copyFileSync(fixturePath('normalized-v2-dev', 'db'), path);
    const normalized = await sqlite(path, true);
    const target = await pg();
    const mismatch = await copyDatabase(normalized, target).catch((e) => e);
    expect(isMonitorError(mismatch, 'SCHEMA_MISMATCH')).toBe(true);
    expect(mismatch.message).toContain('S6');
    expect(await target.listModels()).toEqual([]);

    const source = await sqlite();
    await source.addModelRequest('m', [1_710_000_000, 1, 1]);
    await target.addProgramRuntimeStart(1_710_000_000);
    const notEmpty = await copyDatabase(source, target).catch((e) => e);
    expect(isMonitorError(notEmpty, 'TARGET_NOT_EMPTY')).toBe(true);
    expect(await target.listModels()).toEqual([]);
  });

  it('leaves the target empty when the copy fails half-way (one transaction)', async () => {
    const path = tempPath();
    const writer = await openSqliteMonitor(path, { models: ['first', 'broken'] });
    await writer.addModelRequests('first', [[1_710_000_000, 1, 1]]);
    await writer.addTierPricing('broken', [2, 100, 200, 1, 1]);
    await writer.close();
    // a tier the Monitor would refuse (end below start), as a hand-edited file may hold
    const raw = new Executor(createNodeDriver(path));
    await raw.write((s) => s.run(`UPDATE "${getSafeModelName('broken')}_tier_pricing" SET end_tokens = 50 WHERE tier_index = 2`));
    await raw.close();
    const source = await sqlite(path, true);
    const target = await pg();
    const error = await copyDatabase(source, target).catch((e) => e);
    expect(isMonitorError(error, 'INVALID_INPUT')).toBe(true);
    expect(error.message).toContain('"broken"');
    expect(await target.listModels()).toEqual([]);
  });
});
