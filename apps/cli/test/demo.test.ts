import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelBilling, Summary } from '@llm-monitor/core';
import { openMonitor } from '@llm-monitor/driver-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFixture, expectUsageError, expectUserError, removeDir, requireBuiltBin, runBin, sha256, tempDir } from './cli-harness.js';

let dir: string;
const NOW = '2024-06-12T15:30:00Z';
const NOW_S = Date.parse(NOW) / 1000;
const ARGS = ['--seed', '7', '--now', NOW, '--tz', 'Europe/Berlin'];

beforeAll(() => {
  requireBuiltBin();
  dir = tempDir('demo');
});
afterAll(() => removeDir(dir));

async function dump(db: string) {
  const monitor = await openMonitor(db, { readOnly: true });
  try {
    const models = await monitor.listModels();
    const result: Record<string, { billing: ModelBilling | null; runs: unknown[]; requests: { timestamp: number; inputTokens: number; outputTokens: number; cacheN: number; promptN: number }[] }> = {};
    for (const { name } of models)
      result[name] = { billing: await monitor.getModelBilling(name), runs: await monitor.getModelRuntime(name), requests: await monitor.getModelRequests(name) };
    return { models: result, program: await monitor.getProgramRuntime(), summary: (await monitor.summary()) as Summary };
  } finally {
    await monitor.close();
  }
}

/** Hour of day and weekday (0 = Sunday) in Berlin. */
function berlin(t: number): { hour: number; weekday: number } {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: 'Europe/Berlin', hourCycle: 'h23', hour: 'numeric', weekday: 'short' }).formatToParts(new Date(t * 1000));
  const hour = Number(parts.find((p) => p.type === 'hour')!.value);
  const weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(parts.find((p) => p.type === 'weekday')!.value);
  return { hour, weekday };
}

describe('demo', () => {
  it('records a realistic simulated week and prints what it recorded', async () => {
    const db = join(dir, 'week.db');
    const result = await runBin(['demo', '--db', db, ...ARGS]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Created ${db} with a simulated week (seed 7):`);
    expect(result.stdout).toContain('2024-06-05 17:30 → 2024-06-12 17:30 (Europe/Berlin)');
    expect(result.stdout).toMatch(/│ total\s+│/);
    expect(result.stdout).toContain(`Next: llm-monitor report --by day --db ${db}`);

    const { models, program, summary } = await dump(db);
    const names = Object.keys(models);
    expect(names).toHaveLength(4);
    const billing = names.map((name) => models[name]!.billing!);
    // two tiered chat models with 2–3 tiers and cache prices, one hourly GPU model, one embedding model
    const tiered = billing.filter((b) => b.useTierPricing && b.tierPricing.some((t) => t.supportCache));
    expect(tiered.map((b) => b.tierPricing.length).sort()).toEqual([2, 3]);
    expect(billing.filter((b) => !b.useTierPricing)).toEqual([expect.objectContaining({ hourlyPrice: 7.25 })]);
    const embedding = names.find((name) => models[name]!.requests.every((r) => r.outputTokens === 0))!;
    expect(embedding).toBe('bge-m3');
    expect(summary.total.unpricedRequests).toBe(0);
    expect(summary.total.requests).toBeGreaterThan(5000);

    // it ends now: the latest program run and the last requests end at --now
    expect(program[0]!.endTime).toBe(NOW_S);
    expect(program.length).toBeGreaterThanOrEqual(2);
    expect(summary.total.lastRequestAt).toBeLessThanOrEqual(NOW_S);
    expect(summary.total.lastRequestAt).toBeGreaterThan(NOW_S - 3600);
    expect(summary.total.firstRequestAt).toBeGreaterThanOrEqual(NOW_S - 7 * 86_400);

    // a daily rhythm: busy around midday, quiet at night, lighter at weekends
    const all = names.flatMap((name) => models[name]!.requests);
    const byHour = new Array<number>(24).fill(0);
    let weekday = 0;
    let weekend = 0;
    for (const r of all) {
      const local = berlin(r.timestamp);
      byHour[local.hour]!++;
      if (local.weekday === 0 || local.weekday === 6) weekend++;
      else weekday++;
    }
    const midday = byHour[11]! + byHour[12]! + byHour[13]! + byHour[14]!;
    const night = byHour[1]! + byHour[2]! + byHour[3]! + byHour[4]!;
    expect(midday).toBeGreaterThan(8 * night);
    expect(weekday / 5).toBeGreaterThan(2 * (weekend / 2));
    // the GPU billed by the hour runs in working hours on weekdays only
    const gpu = names.find((name) => !models[name]!.billing!.useTierPricing)!;
    for (const run of models[gpu]!.runs as { startTime: number }[]) {
      if (run.startTime === NOW_S - 7 * 86_400) continue; // a run the window's start cuts
      const local = berlin(run.startTime);
      expect(local.hour).toBeGreaterThanOrEqual(8);
      expect(local.hour).toBeLessThanOrEqual(9);
      expect([0, 6]).not.toContain(local.weekday);
    }
    // chat models hit the KV cache; token counts spread widely (log-normal), some beyond the first tier
    const coder = models['Qwen3-Coder-30B-A3B-Instruct']!.requests;
    expect(coder.filter((r) => r.cacheN > 0).length / coder.length).toBeGreaterThan(0.5);
    expect(coder.every((r) => r.cacheN + r.promptN === r.inputTokens)).toBe(true);
    expect(coder.some((r) => r.inputTokens > 32768)).toBe(true);
    expect(Math.max(...coder.map((r) => r.inputTokens)) / Math.min(...coder.map((r) => r.inputTokens))).toBeGreaterThan(50);
  });

  it('is deterministic with --seed and --now, and another seed gives other data', async () => {
    const a = join(dir, 'a.db');
    const b = join(dir, 'b.db');
    const c = join(dir, 'c.db');
    const [ra, rb, rc] = await Promise.all([
      runBin(['demo', '--db', a, ...ARGS, '--days', '3']),
      runBin(['demo', '--db', b, ...ARGS, '--days', '3']),
      runBin(['demo', '--db', c, ...ARGS, '--days', '3', '--seed', '8']),
    ]);
    for (const r of [ra, rb, rc]) expect(r.code, r.stderr).toBe(0);
    expect(ra.stdout.replaceAll(a, '')).toBe(rb.stdout.replaceAll(b, ''));
    const [da, db, dc] = await Promise.all([dump(a), dump(b), dump(c)]);
    expect(db).toEqual(da);
    expect(dc.summary.total.requests).not.toBe(da.summary.total.requests);
    expect(ra.stdout).toContain('with a simulated 3 days (seed 7)');
  });

  it('replaces an earlier demo, but never writes into real monitoring data', async () => {
    const db = join(dir, 'again.db');
    expect((await runBin(['demo', '--db', db, ...ARGS, '--days', '1'])).code).toBe(0);
    const again = await runBin(['demo', '--db', db, ...ARGS, '--days', '1', '--seed', '9']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`Replaced the earlier demo in ${db}`);
    expect(existsSync(`${db}-wal`)).toBe(false);

    const real = copyFixture('seed-v1-dev', dir);
    const before = sha256(real);
    expectUserError(await runBin(['demo', '--db', real]), 'already holds monitoring data (models "Llama-3.3-70B-Instruct-Q4_K_M"');
    expect(sha256(real)).toBe(before);
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'not a database, but some text long enough to be read as a file header by SQLite');
    expectUserError(await runBin(['demo', '--db', text]), 'is not a SQLite database');
  });

  it('bad options are usage errors', async () => {
    expectUsageError(await runBin(['demo', '--db', join(dir, 'x.db'), '--days', '0']), 'expected a whole number of days');
    expectUsageError(await runBin(['demo', '--db', join(dir, 'x.db'), '--seed', 'abc']), 'expected an integer');
    expectUsageError(await runBin(['demo', '--db', join(dir, 'x.db'), '--now', 'soon']), '--now');
    expect(existsSync(join(dir, 'x.db'))).toBe(false);
  });
});
