import { readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { PricingOverrides } from '@llm-monitor/core';
import Database from 'better-sqlite3';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FIXTURES,
  coreSummary,
  expectClose,
  expectSameAsCore,
  launchBrowser,
  newPage,
  openThroughInput,
  rangeFromUrl,
  removeTempCopies,
  shownNumbers,
  startServer,
  tempCopy,
  value,
  waitForOverview,
} from './harness.js';

const SEED = join(FIXTURES, 'seed-v1-dev.db');
const NORMALIZED = join(FIXTURES, 'normalized-v2-dev.db');
const LLAMA = 'Llama-3.3-70B-Instruct-Q4_K_M';
const DEEPSEEK = '深度求索-DeepSeek-V3-本地部署';

let browser: Browser;
let server: Server;
let base: string;
const seedCopy = tempCopy(SEED);
const normalizedCopy = tempCopy(NORMALIZED);

beforeAll(async () => {
  ({ server, base } = await startServer());
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await new Promise((done) => server?.close(done));
  removeTempCopies();
});

describe('opening the reference files through the file input', () => {
  it('seed-v1-dev.db (S1): totals and per-model costs equal core, for all data and for the 7 d preset', async () => {
    const { page, close } = await newPage(browser, base);
    await page.goto(base);
    await openThroughInput(page, SEED);
    await expectSameAsCore(page, await coreSummary(seedCopy));
    expect(await page.textContent('[data-testid="file-shapes"]')).toBe('S1');
    expect(await value(page, '[data-testid="file-size"]')).toBe(readFileSync(SEED).length);
    expect(await page.locator('[data-testid="describe-row"]').count()).toBe(3);
    expect(await page.locator('[data-testid="wal-notice"]').count()).toBe(0);

    await page.click('[data-testid="preset-7d"]');
    await page.waitForURL(/from=/);
    await waitForOverview(page);
    const range = rangeFromUrl(page.url());
    expect(range.to! - range.from!).toBe(7 * 86_400);
    await expectSameAsCore(page, await coreSummary(seedCopy, range));

    // a custom range that cuts the data (the page's zone is the browser's: UTC here)
    await page.fill('[data-testid="range-from"]', '2024-03-09T22:00');
    await page.waitForURL((url) => url.searchParams.get('from') === String(Date.UTC(2024, 2, 9, 22) / 1000));
    await waitForOverview(page);
    const custom = await coreSummary(seedCopy, rangeFromUrl(page.url()));
    expect(custom.total.requests).toBeLessThan(20);
    await expectSameAsCore(page, custom);
    expect(await page.locator('[data-testid="timeline-row"]').count()).toBe(4); // the program and 3 models
    await close();
  });

  it('a file dropped on the page opens too', async () => {
    const { page, close } = await newPage(browser, base);
    await page.goto(base);
    const bytes = readFileSync(SEED).toString('base64');
    await page.evaluate(async (b64) => {
      const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([data], 'dropped.db'));
      window.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, cancelable: true }));
      window.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, cancelable: true }));
    }, bytes);
    await waitForOverview(page);
    expect(await page.textContent('[data-testid="file-name"]')).toBe('dropped.db');
    await expectSameAsCore(page, await coreSummary(seedCopy));
    await close();
  });

  it('normalized-v2-dev.db (S6, WAL mode): WAL notice, detected shape, same numbers as core', async () => {
    const { page, close } = await newPage(browser, base);
    await page.goto(base);
    await openThroughInput(page, NORMALIZED);
    await expectSameAsCore(page, await coreSummary(normalizedCopy));
    expect(await page.locator('[data-testid="wal-notice"]').textContent()).toContain('WAL-mode file');
    expect(await page.textContent('[data-testid="file-shapes"]')).toBe('S6');
    await close();
  });
});

describe('what-if pricing', () => {
  it('a tier price and an hourly price move the costs to what core computes with those overrides; reset restores; download gives the pricing', async () => {
    const { page, close } = await newPage(browser, base);
    await page.goto(base);
    await openThroughInput(page, SEED);
    const before = await shownNumbers(page);

    const monitor = (await import('@llm-monitor/driver-node')).openMonitor;
    const m = await monitor(seedCopy, { readOnly: true });
    const llama = (await m.getModelBilling(LLAMA))!;
    const deepseek = (await m.getModelBilling(DEEPSEEK))!;
    await m.close();

    const editor = page.locator(`[data-testid="pricing-model"][data-model="${LLAMA}"]`);
    await editor.locator('input[data-tier="1"][data-field="inputPricePerMillion"]').fill('2.5');
    await waitForOverview(page);
    const tierOverride: PricingOverrides = {
      [LLAMA]: { ...llama, tierPricing: llama.tierPricing.map((t) => (t.tierIndex === 1 ? { ...t, inputPricePerMillion: 2.5 } : t)) },
    };
    const expected = await coreSummary(seedCopy, { pricing: tierOverride });
    expect(expected.total.cost).not.toBeCloseTo(before.cost, 6);
    await expectSameAsCore(page, expected);
    expect(await page.locator(`[data-testid="model-row"][data-model="${LLAMA}"] .badge.edit`).count()).toBe(1);

    const hourly = page.locator(`[data-testid="pricing-model"][data-model="${DEEPSEEK}"] input[data-field="hourlyPrice"]`);
    await hourly.fill('10');
    await waitForOverview(page);
    const bothOverrides: PricingOverrides = { ...tierOverride, [DEEPSEEK]: { ...deepseek, hourlyPrice: 10 } };
    await expectSameAsCore(page, await coreSummary(seedCopy, { pricing: bothOverrides }));

    const download = page.waitForEvent('download');
    await page.click('[data-testid="pricing-download"]');
    const file = await (await download).path();
    const pricing = JSON.parse(readFileSync(file, 'utf8')) as PricingOverrides;
    expect(Object.keys(pricing).sort()).toEqual(before.models.map((x) => x.name).sort());
    expect(pricing[DEEPSEEK]!.hourlyPrice).toBe(10);
    expectClose(await value(page, '[data-testid="total-cost"]'), (await coreSummary(seedCopy, { pricing })).total.cost, 'cost with the downloaded pricing');

    await page.click('[data-testid="pricing-reset-all"]');
    await waitForOverview(page);
    expectClose(await value(page, '[data-testid="total-cost"]'), before.cost, 'cost after reset');
    await close();
  });

  it('a 2-D window of an S6 file and a billing-method switch recompute as core does', async () => {
    const { page, close } = await newPage(browser, base);
    await page.goto(base);
    await openThroughInput(page, NORMALIZED);
    const m = await (await import('@llm-monitor/driver-node')).openMonitor(normalizedCopy, { readOnly: true });
    const llama = (await m.getModelBilling(LLAMA))!;
    await m.close();

    const original = await value(page, '[data-testid="total-cost"]');
    const editor = page.locator(`[data-testid="pricing-model"][data-model="${LLAMA}"]`);
    await editor.locator('input[data-tier="1"][data-field="outputPrice"]').fill('20');
    await waitForOverview(page);
    expect(await value(page, '[data-testid="total-cost"]')).not.toBeCloseTo(original, 6);
    const windows = llama.tierWindows!.map((w) => (w.tierIndex === 1 ? { ...w, outputPrice: 20 } : w));
    await expectSameAsCore(page, await coreSummary(normalizedCopy, { pricing: { [LLAMA]: { ...llama, tierWindows: windows } } }));

    await editor.locator('select[data-field="billing"]').selectOption('hourly');
    await editor.locator('input[data-field="hourlyPrice"]').fill('3');
    await waitForOverview(page);
    const pricing: PricingOverrides = { [LLAMA]: { ...llama, tierWindows: windows, useTierPricing: false, hourlyPrice: 3 } };
    await expectSameAsCore(page, await coreSummary(normalizedCopy, { pricing }));
    expect(await page.getAttribute(`[data-testid="model-row"][data-model="${LLAMA}"] [data-testid="model-billing"]`, 'data-value')).toBe('hourly');

    await editor.locator('[data-testid="pricing-reset"]').click();
    await waitForOverview(page);
    await expectSameAsCore(page, await coreSummary(normalizedCopy));
    await close();
  });
});

describe('errors a user understands', () => {
  it('a file that is not a database, a SQLite file of another application, a corrupt database, a file above the size limit', async () => {
    const dir = join(tempCopy(SEED), '..');
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'these are my notes, not a database\n'.repeat(20));
    const other = join(dir, 'other-app.db');
    const db = new Database(other);
    db.exec('CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES (\'a\');');
    db.close();
    const corrupt = join(dir, 'corrupt.db');
    const bytes = readFileSync(SEED);
    bytes.fill(0xa5, 4096, bytes.length); // every page after the first: garbage
    writeFileSync(corrupt, bytes);
    const huge = join(dir, 'huge.db');
    writeFileSync(huge, '');
    (await import('node:fs')).truncateSync(huge, 1024 ** 3 + 1); // sparse: costs no disk

    const { page, close } = await newPage(browser, base);
    await page.goto(base);
    const expectError = async (path: string, kind: string, words: RegExp) => {
      await page.setInputFiles('[data-testid="file-input"]', path);
      const box = page.locator(`[data-testid="open-error"][data-kind="${kind}"]`);
      await box.waitFor({ timeout: 15_000 });
      expect(await box.textContent()).toMatch(words);
    };
    await expectError(text, 'not-a-database', /not a SQLite database/);
    await expectError(other, 'not-a-monitor-db', /not a monitoring database/);
    await expectError(corrupt, 'corrupt', /damaged|corrupt/);
    await expectError(huge, 'too-large', /up to 1\.0 GiB/);
    // and a good file still opens afterwards
    await openThroughInput(page, SEED);
    await close();
  });
});

describe('links', () => {
  it('?url= opens a same-origin file; ?from=, ?to= (ISO and epoch) and ?tz= set the view; the URL follows changes', async () => {
    const { page, close } = await newPage(browser, base);
    const from = '2024-03-09T00:00:00Z';
    const to = 1_710_100_000;
    await page.goto(`${base}?url=/fixtures/seed-v1-dev.db&from=${from}&to=${to}&tz=Asia/Shanghai`);
    await waitForOverview(page);
    await expectSameAsCore(page, await coreSummary(seedCopy, { from: Date.parse(from) / 1000, to }));
    expect(await page.inputValue('[data-testid="time-zone"]')).toBe('Asia/Shanghai');

    await page.selectOption('[data-testid="bucket"]', 'hour');
    await page.waitForURL(/bucket=hour/);
    await page.click('[data-testid="preset-all"]');
    await page.waitForURL((url) => !url.searchParams.has('from'));
    await waitForOverview(page);
    expect(new URL(page.url()).searchParams.get('tz')).toBe('Asia/Shanghai');
    await expectSameAsCore(page, await coreSummary(seedCopy));
    await close();
  });
});

describe('requests', () => {
  it('paged, sortable, filtered by model; CSV and JSON export of the current view', async () => {
    const { page, close } = await newPage(browser, base);
    await page.goto(base);
    await openThroughInput(page, NORMALIZED);
    const summary = await coreSummary(normalizedCopy);
    await page.locator('#requests').scrollIntoViewIfNeeded(); // the table loads when it comes into sight
    const total = page.locator('[data-testid="requests-total"]');
    await expect.poll(() => total.getAttribute('data-value')).toBe(String(summary.total.requests));

    const model = summary.models.find((m) => m.requests > 1)!;
    await page.selectOption('[data-testid="requests-model"]', model.name);
    await expect.poll(() => total.getAttribute('data-value')).toBe(String(model.requests));
    const rows = page.locator('[data-testid="request-row"]');
    expect(await rows.count()).toBe(Math.min(50, model.requests));
    expect(new Set(await rows.evaluateAll((r) => r.map((x) => x.getAttribute('data-model'))))).toEqual(new Set([model.name]));

    await page.click('button[data-sort="inputTokens"]'); // largest first
    await expect
      .poll(async () => Number(await rows.first().locator('td').nth(2).getAttribute('data-value')))
      .toBe(Math.max(...(await readInputTokens(normalizedCopy, model.name))));

    const csvDownload = page.waitForEvent('download');
    await page.click('[data-testid="export-csv"]');
    const csv = readFileSync(await (await csvDownload).path(), 'utf8').trimEnd().split('\r\n');
    expect(csv[0]).toBe('id,model,timestamp,time_utc,input_tokens,output_tokens,cache_n,prompt_n');
    expect(csv.length - 1).toBe(model.requests);

    const jsonDownload = page.waitForEvent('download');
    await page.click('[data-testid="export-json"]');
    const json = JSON.parse(readFileSync(await (await jsonDownload).path(), 'utf8')) as { model: string; inputTokens: number }[];
    expect(json).toHaveLength(model.requests);
    expect(json.every((r) => r.model === model.name)).toBe(true);
    expect(json.map((r) => r.inputTokens)).toEqual([...json.map((r) => r.inputTokens)].sort((a, b) => b - a));
    await close();
  });
});

async function readInputTokens(path: string, model: string): Promise<number[]> {
  const monitor = await (await import('@llm-monitor/driver-node')).openMonitor(path, { readOnly: true });
  try {
    return (await monitor.getModelRequests(model)).map((r) => r.inputTokens);
  } finally {
    await monitor.close();
  }
}
