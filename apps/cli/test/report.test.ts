import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Monitor, SeriesOptions, SummaryOptions } from '@llm-monitor/core';
import { openMonitor } from '@llm-monitor/driver-node';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFixture, expectUserError, removeDir, requireBuiltBin, runBin, sha256, tempDir } from './cli-harness.js';

let dir: string;
let s1: string;
let s6: string;
let demo: string;

const LLAMA = 'Llama-3.3-70B-Instruct-Q4_K_M';
const DEEPSEEK = '深度求索-DeepSeek-V3-本地部署';
const ONEIL = `O'Neil "embed" [v2]; DELETE FROM t; --`;

beforeAll(async () => {
  requireBuiltBin();
  dir = tempDir('report');
  s1 = copyFixture('seed-v1-dev', dir);
  s6 = copyFixture('normalized-v2-dev', dir);
  demo = join(dir, 'demo.db');
  const made = await runBin(['demo', '--db', demo, '--seed', '3', '--days', '3', '--now', '2024-06-12T12:00:00Z', '--tz', 'UTC']);
  expect(made.code, made.stderr).toBe(0);
});
afterAll(() => removeDir(dir));

/** What core computes in-process, on the same file opened read-only, as JSON would carry it. */
async function core<T>(file: string, fn: (monitor: Monitor) => Promise<T>): Promise<T> {
  const monitor = await openMonitor(file, { readOnly: true });
  try {
    return JSON.parse(JSON.stringify(await fn(monitor))) as T;
  } finally {
    await monitor.close();
  }
}
const summaryOf = (file: string, options: SummaryOptions = {}) => core(file, (m) => m.summary(options));
const seriesOf = (file: string, options: SeriesOptions) => core(file, (m) => m.series(options));

async function json(args: string[]): Promise<unknown> {
  const result = await runBin([...args, '--format', 'json']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout);
}

describe('report --format json equals core', () => {
  it('summary of everything, in both layouts (S1 and the WAL-mode S6)', async () => {
    for (const file of [s1, s6, demo]) expect(await json(['report', '--db', file])).toEqual(await summaryOf(file));
  });

  it('prints exactly JSON.stringify(monitor.summary())', async () => {
    const result = await runBin(['report', '--db', s1, '--format', 'json', '--from', '1710000000', '--to', '1710030000']);
    const monitor = await openMonitor(s1, { readOnly: true });
    try {
      expect(result.stdout).toBe(`${JSON.stringify(await monitor.summary({ from: 1710000000, to: 1710030000 }))}\n`);
    } finally {
      await monitor.close();
    }
  });

  it('a window given as ISO times with offsets and as epoch seconds', async () => {
    const from = Date.parse('2024-03-09T18:00:00Z') / 1000;
    expect(await json(['report', '--db', s6, '--from', '2024-03-09T18:00:00Z', '--to', '1710040000'])).toEqual(
      await summaryOf(s6, { from, to: 1710040000 }),
    );
    expect(await json(['report', '--db', s1, '--from', '2024-03-10T02:00:00+08:00'])).toEqual(await summaryOf(s1, { from: from }));
  });

  it('an ISO date without an offset is midnight in --tz', async () => {
    const summary = (await json(['report', '--db', s1, '--from', '2024-03-10', '--tz', 'Asia/Shanghai'])) as { from: number };
    expect(summary.from).toBe(Date.parse('2024-03-09T16:00:00Z') / 1000);
    expect(summary).toEqual(await summaryOf(s1, { from: summary.from }));
  });

  it('--last is the window ending at --to (default now)', async () => {
    expect(await json(['report', '--db', demo, '--last', '24h', '--to', '2024-06-12T00:00:00Z'])).toEqual(
      await summaryOf(demo, { from: Date.parse('2024-06-11T00:00:00Z') / 1000, to: Date.parse('2024-06-12T00:00:00Z') / 1000 }),
    );
    const before = Date.now() / 1000;
    const recent = (await json(['report', '--db', demo, '--last', '2d'])) as { from: number; to: number };
    expect(recent.to - recent.from).toBeCloseTo(2 * 86_400, 6);
    expect(recent.to).toBeGreaterThanOrEqual(before);
  });

  it('series with --by in a time zone', async () => {
    expect(await json(['report', '--db', s1, '--by', 'hour', '--tz', 'Asia/Shanghai'])).toEqual(
      await seriesOf(s1, { bucket: 'hour', timeZone: 'Asia/Shanghai' }),
    );
    expect(await json(['report', '--db', demo, '--by', 'day', '--tz', 'America/New_York', '--from', '2024-06-10'])).toEqual(
      await seriesOf(demo, { bucket: 'day', timeZone: 'America/New_York', from: Date.parse('2024-06-10T04:00:00Z') / 1000 }),
    );
    expect(await json(['report', '--db', s6, '--by', 'week', '--tz', 'UTC'])).toEqual(await seriesOf(s6, { bucket: 'week', timeZone: 'UTC' }));
  });

  it('--pricing prices with a what-if file and --model keeps only those models', async () => {
    const whatIf = join(dir, 'what-if.json');
    const pricing = { [LLAMA]: { tierPricing: [{ tierIndex: 1, startTokens: 0, endTokens: -1, inputPricePerMillion: 0.5, outputPricePerMillion: 1 }] }, [DEEPSEEK]: { hourlyPrice: 2 } };
    writeFileSync(whatIf, JSON.stringify(pricing));
    const stored = await summaryOf(s1);
    const priced = await json(['report', '--db', s1, '--pricing', whatIf]);
    expect(priced).toEqual(await summaryOf(s1, { pricing }));
    expect(priced).not.toEqual(stored);
    expect(await json(['report', '--db', s1, '--model', DEEPSEEK, '--model', ONEIL])).toEqual(await summaryOf(s1, { models: [DEEPSEEK, ONEIL] }));
    const table = await runBin(['report', '--db', s1, '--pricing', whatIf]);
    expect(table.stdout).toContain(`what-if prices of ${whatIf}`);
  });
});

const numeric = (value: string) => (value === '' ? null : Number(value));

describe('report --format csv parses back to the same rows', () => {
  it('one row per model and a total row with an empty name', async () => {
    for (const file of [s1, s6]) {
      const result = await runBin(['report', '--db', file, '--format', 'csv']);
      expect(result.code).toBe(0);
      const rows = parse(result.stdout, { columns: true }) as Record<string, string>[];
      const summary = await summaryOf(file);
      expect(rows).toHaveLength(summary.models.length + 1);
      const expected = [...summary.models, { ...summary.total, name: '', billingMethod: '', shape: '' }];
      rows.forEach((row, i) => {
        const want = expected[i] as unknown as Record<string, unknown>;
        expect(Object.keys(row)).toEqual(Object.keys(summary.models[0]!).filter((k) => k in row));
        for (const [key, value] of Object.entries(row)) {
          if (key === 'name' || key === 'billingMethod' || key === 'shape') expect(value).toBe(want[key]);
          else expect(numeric(value)).toBe(want[key]);
        }
      });
      // the names with quotes, a semicolon and CJK survive the round trip
      expect(rows.map((r) => r.name)).toEqual([...summary.models.map((m) => m.name), '']);
    }
  });

  it('with --by: one row per bucket and model, then the bucket total', async () => {
    const result = await runBin(['report', '--db', demo, '--by', 'day', '--tz', 'UTC', '--format', 'csv']);
    expect(result.code).toBe(0);
    const rows = parse(result.stdout, { columns: true }) as Record<string, string>[];
    const series = await seriesOf(demo, { bucket: 'day', timeZone: 'UTC' });
    const expected = series.buckets.flatMap((b) => [...Object.entries(b.models).map(([model, usage]) => ({ model, b, usage })), { model: '', b, usage: b.total }]);
    expect(rows).toHaveLength(expected.length);
    rows.forEach((row, i) => {
      const { model, b, usage } = expected[i]!;
      expect(row.model).toBe(model);
      expect(Number(row.start)).toBe(b.start);
      expect(Number(row.end)).toBe(b.end);
      expect(row.period).toBe(new Date(b.start * 1000).toISOString().slice(0, 10) + row.period!.slice(10));
      for (const [key, value] of Object.entries(usage)) expect(Number(row[key])).toBe(value);
    });
  });
});

describe('report as a table', () => {
  it('lists every model, a totals row, and costs with one decimals count per column', async () => {
    const result = await runBin(['report', '--db', s1, '--tz', 'UTC']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const summary = await summaryOf(s1);
    for (const name of [LLAMA, DEEPSEEK, ONEIL, 'total']) expect(result.stdout).toContain(name);
    const totalLine = result.stdout.split('\n').find((line) => /│ total\s/.test(line))!;
    const cells = totalLine.split('│').map((c) => c.trim());
    const cost = Number(cells[8]!.replace(/,/g, ''));
    expect(Math.abs(cost - summary.total.cost) / summary.total.cost).toBeLessThan(5e-6);
    expect(result.stdout).toContain('2 requests matched no price tier');
  });

  it('is aligned: every line of a table has the same width', async () => {
    const result = await runBin(['report', '--db', demo, '--by', 'day', '--tz', 'UTC']);
    expect(result.code).toBe(0);
    const tables = result.stdout.split('\n\n').filter((block) => block.includes('┌'));
    expect(tables).toHaveLength(2);
    for (const table of tables) {
      const lines = table.split('\n').filter((line) => /^[┌│├└]/.test(line));
      expect(new Set(lines.map((line) => line.length)).size).toBe(1);
    }
    expect(result.stdout).toMatch(/2024-06-10 Mon/);
  });

  it('an empty monitor database says so', async () => {
    const empty = join(dir, 'empty.db');
    const monitor = await openMonitor(empty);
    await monitor.close();
    const result = await runBin(['report', '--db', empty]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('No models in this database yet.');
  });
});

describe('models', () => {
  it('lists shape, billing, requests and the last request, equal to describe() and summary()', async () => {
    for (const file of [s1, s6]) {
      const listed = (await json(['models', '--db', file])) as Record<string, unknown>[];
      const description = await core(file, (m) => m.describe());
      const summary = await summaryOf(file);
      expect(listed.map((m) => m.name)).toEqual(description.models.map((m) => m.name));
      listed.forEach((m, i) => {
        const d = description.models[i]!;
        expect(m).toMatchObject({ shape: d.shape, billingMethod: d.billingMethod, requests: d.requests, runs: d.runs, openRuns: d.openRuns, tiers: d.tiers });
        expect(m.lastRequestAt).toBe(summary.models.find((s) => s.name === d.name)?.lastRequestAt ?? null);
      });
    }
    const table = await runBin(['models', '--db', s1, '--tz', 'UTC']);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('7.25 per hour');
    expect(table.stdout).toContain('2024-03-10 03:11:40');
    expect(table.stdout).toMatch(/S1\s+│ tier\s+│ 3 tiers/);
    const csv = parse((await runBin(['models', '--db', s6, '--format', 'csv'])).stdout, { columns: true }) as Record<string, string>[];
    expect(csv.map((r) => r.name)).toContain('ghost-model (not in config)');
  });
});

describe('read-only commands never modify the file', () => {
  it('leaves the bytes of the database identical', async () => {
    for (const file of [s1, s6]) {
      const before = sha256(file);
      const results = await Promise.all([
        runBin(['report', '--db', file]),
        runBin(['report', '--db', file, '--by', 'day', '--format', 'csv']),
        runBin(['models', '--db', file]),
        runBin(['pricing', 'show', LLAMA, '--db', file]),
        runBin(['pricing', 'export', '-', '--db', file]),
        runBin(['export', 'requests', '--db', file]),
        runBin(['export', 'runtime', '--db', file, '--format', 'json']),
        runBin(['export-db', '--db', file, '--out', join(dir, `copy-${sha256(file).slice(0, 8)}.db`)]),
      ]);
      for (const result of results) expect(result.code, result.stderr).toBe(0);
      expect(sha256(file)).toBe(before);
    }
  });
});

describe('report errors', () => {
  it('bad windows, what-if files and models are one-line errors with exit 1', async () => {
    expectUserError(await runBin(['report', '--db', s1, '--from', '1710000000000']), '--from 1710000000000 looks like milliseconds');
    expectUserError(await runBin(['report', '--db', s1, '--from', '2024-03-10', '--to', '2024-03-09']), '--to (2024-03-09 00:00:00) is before --from');
    expectUserError(await runBin(['report', '--db', s1, '--pricing', join(dir, 'nope.json')]), 'nope.json: the file does not exist');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ "x": ');
    expectUserError(await runBin(['report', '--db', s1, '--pricing', bad]), 'bad.json is not valid JSON');
    const unknown = join(dir, 'unknown-model.json');
    writeFileSync(unknown, JSON.stringify({ 'no-such-model': { hourlyPrice: 1 } }));
    expectUserError(await runBin(['report', '--db', s1, '--pricing', unknown]), 'no-such-model');
    const negative = join(dir, 'negative.json');
    writeFileSync(negative, JSON.stringify({ [DEEPSEEK]: { hourlyPrice: -1 } }));
    expectUserError(await runBin(['report', '--db', s1, '--pricing', negative]), 'hourlyPrice');
    expectUserError(await runBin(['report', '--db', s1, '--model', 'no-such-model']), 'unknown model "no-such-model": it is not in');
    expectUserError(await runBin(['report', '--db', s1, '--by', 'hour', '--from', '1', '--to', '1700000000']), 'buckets');
  });
});
