import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compare, insightReport, insightScan } from '@llm-monitor/core';
import { cloudInputBounds, cloudModel, compareWithCloud } from '@llm-monitor/core/cloud';
import { openMonitor } from '@llm-monitor/driver-node';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFixture, expectUsageError, expectUserError, removeDir, requireBuiltBin, runBin, tempDir } from './cli-harness.js';

let dir: string;
let s1: string;
let demo: string;

const NOW = '2024-06-12T11:52:30Z';
const now = Date.parse(NOW) / 1000;
const DAY = 86_400;

beforeAll(async () => {
  requireBuiltBin();
  dir = tempDir('insights');
  s1 = copyFixture('seed-v1-dev', dir);
  demo = join(dir, 'demo.db');
  const made = await runBin(['demo', '--db', demo, '--seed', '5', '--days', '10', '--now', '2024-06-12T12:00:00Z', '--tz', 'UTC']);
  expect(made.code, made.stderr).toBe(0);
});
afterAll(() => removeDir(dir));

async function run(args: string[]) {
  const result = await runBin(['insights', '--now', NOW, ...args]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result.stdout;
}

describe('insights --format json equals core', () => {
  it('the last 7 days off the 15-minute grid beside the 7 before, the projection and two cloud models, from one scan', async () => {
    const output = JSON.parse(
      await run(['--db', demo, '--last', '7d', '--tz', 'Europe/Berlin', '--compare', 'openai:gpt-4o-mini', '--compare', 'deepseek:deepseek-chat', '--usd-rate', '0.14', '--format', 'json']),
    );
    const monitor = await openMonitor(demo, { readOnly: true });
    try {
      const window = { from: now - 7 * DAY, to: now };
      const targets = [cloudModel('openai:gpt-4o-mini'), cloudModel('deepseek:deepseek-chat')];
      const aggregation = await monitor.aggregate({ ...insightScan({ ...window, now, timeZone: 'Europe/Berlin' }), inputBounds: cloudInputBounds(targets) });
      const report = insightReport(aggregation, { ...window, now, timeZone: 'Europe/Berlin' });
      const cloud = compare(
        compareWithCloud(aggregation, { ...window, targets, usdPerUnit: 0.14 }),
        compareWithCloud(aggregation, { from: now - 14 * DAY, to: now - 7 * DAY, targets, usdPerUnit: 0.14 }),
      );
      expect(output).toEqual(JSON.parse(JSON.stringify({ ...report, cloud })));
    } finally {
      await monitor.close();
    }
    // the demo ran three of those seven days before: the previous period is there, with its own figures
    expect(output.previous).toEqual({ from: now - 14 * DAY, to: now - 7 * DAY });
    expect(output.insights.total.usage.requests.previous).toBeGreaterThan(0);
    expect(output.projection.label).toBe('estimate');
    expect(output.cloud.catalog).toEqual({ name: '@pydantic/genai-prices', version: '0.1.8' });
  });

  it('a what-if applies to every figure: the GPU billed per token at its zero-priced tiers, an hourly price for a tiered model', async () => {
    const whatIf = join(dir, 'what-if.json');
    writeFileSync(whatIf, JSON.stringify({ 'DeepSeek-V3-H100': { useTierPricing: true }, 'Qwen3-Coder-30B-A3B-Instruct': { hourlyPrice: 2 } }));
    const output = JSON.parse(await run(['--db', demo, '--last', '7d', '--pricing', whatIf, '--format', 'json']));
    const [qwen, , gpu] = output.insights.models;
    expect(gpu.billing.actualCost).toMatchObject({ value: 0, unit: 'currency' });
    expect(gpu.billing.hourlyCost.value).toBeGreaterThan(0);
    expect(gpu.billing.cheaperMethod).toBe('tier');
    expect(qwen.idle.idleCost.value).toBeCloseTo(qwen.idle.idleHours.value * 2, 9);
    expect(qwen.billing.breakEvenPricePerMillion.value).toBeCloseTo((qwen.billing.hourlyCost.value / (qwen.usage.inputTokens.value + qwen.usage.outputTokens.value)) * 1e6, 9);
  });
});

describe('insights as a table and as CSV', () => {
  it('shows every section, unknown figures as — with their reason, the projection labelled an estimate', async () => {
    const text = await run(['--db', demo, '--last', '7d', '--tz', 'UTC', '--compare', 'openai:gpt-4o-mini']);
    for (const heading of ['Billing advisor', 'Idle money', 'Idle hours by hour of the week (UTC)', 'Cache savings', 'Tiers at work', 'an ESTIMATE', 'Cloud comparison: OpenAI'])
      expect(text).toContain(heading);
    expect(text).toMatch(/— \[\d\]/);
    expect(text).toMatch(/\[\d\] no hourly price set/);
    // without --usd-rate the saving is not known: the file's prices have no currency
    expect(text).toContain('the file’s prices have no currency');
    expect(text).toContain('vs before');
    // all recorded data has no period before it: said once, and no empty "vs before" columns
    const all = await run(['--db', demo, '--tz', 'UTC']);
    expect(all).toContain('No comparison: the window is unbounded');
    expect(all).not.toContain('vs before');
    for (const table of text.split('\n\n').filter((block) => block.includes('┌'))) {
      const lines = table.split('\n').filter((line) => /^[┌│├└]/.test(line));
      expect(new Set(lines.map((line) => line.length)).size).toBe(1);
    }
  });

  it('CSV has one row per figure with its unit, previous value and reason; the seed file records no cache tokens', async () => {
    const rows = parse(await run(['--db', s1, '--from', '2024-03-09', '--to', '2024-03-11', '--tz', 'UTC', '--format', 'csv']), { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0]!)).toEqual(['section', 'model', 'item', 'figure', 'unit', 'value', 'previous', 'delta', 'change', 'reason', 'previousReason']);
    const json = JSON.parse(await run(['--db', s1, '--from', '2024-03-09', '--to', '2024-03-11', '--tz', 'UTC', '--format', 'json']));
    const total = rows.find((r) => r.section === 'billing' && r.model === '' && r.figure === 'actualCost')!;
    expect(Number(total.value)).toBe(json.insights.total.billing.actualCost.value);
    expect(total.unit).toBe('currency');
    const hitRate = rows.find((r) => r.section === 'cache' && r.model === 'Llama-3.3-70B-Instruct-Q4_K_M' && r.figure === 'hitRate')!;
    expect(hitRate).toMatchObject({
      value: '',
      unit: 'ratio',
      reason: 'this model’s requests table has no cache columns (S1): cache hits are not recorded',
      previousReason: 'this model’s requests table has no cache columns (S1): cache hits are not recorded',
    });
    // 168 cells × 5 figures per model and in total
    expect(rows.filter((r) => r.section === 'hourOfWeek')).toHaveLength(168 * 5 * 4);
    expect(rows.filter((r) => r.section === 'projection' && r.item === 'estimate').length).toBe(4 * 4);
  });
});

describe('insights refuses what it cannot answer', () => {
  it('an unknown cloud model or provider, an unknown model: exit 1 naming it, nothing else', async () => {
    expectUserError(await runBin(['insights', '--db', demo, '--compare', 'openai:gpt-9-ultra']), 'gpt-9-ultra', '@pydantic/genai-prices 0.1.8');
    expectUserError(await runBin(['insights', '--db', demo, '--compare', 'nowhere:x']), 'Unknown cloud provider "nowhere"');
    expectUserError(await runBin(['insights', '--db', demo, '--model', 'nope']), '"nope"');
  });

  it('a bad --usd-rate, --tz or --last is a usage error', async () => {
    expectUsageError(await runBin(['insights', '--db', demo, '--usd-rate', '-1']), '--usd-rate');
    expectUsageError(await runBin(['insights', '--db', demo, '--tz', 'Mars/Olympus']), '--tz');
    expectUsageError(await runBin(['insights', '--db', demo, '--last', 'soon']), '--last');
  });

  it('--help explains the figures and has examples', async () => {
    const help = await runBin(['insights', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Examples:');
    expect(help.stdout).toContain('--compare openai:gpt-4o-mini');
    expect(help.stdout).toContain('never as 0');
  });
});
