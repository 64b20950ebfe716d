import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PricingOverrides } from '@llm-monitor/core';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import {
  FIXTURES,
  appUnderTest,
  coreSummary,
  expectClose,
  expectSameAsCore,
  newPage,
  openThroughInput,
  rangeFromUrl,
  shownNumbers,
  tempCopy,
  value,
  waitForOverview,
} from './harness.js';

const SEED = join(FIXTURES, 'seed-v1-dev.db');
const NORMALIZED = join(FIXTURES, 'normalized-v2-dev.db');
const LLAMA = 'Llama-3.3-70B-Instruct-Q4_K_M';
const DEEPSEEK = '深度求索-DeepSeek-V3-本地部署';

const app = appUnderTest();
const seedCopy = tempCopy(SEED);
const normalizedCopy = tempCopy(NORMALIZED);


describe('opening the reference files through the file input', () => {
  it('seed-v1-dev.db (S1): totals and per-model costs equal core, for all data and for the 7 d preset', async () => {
    const { page, close } = await newPage(app.browser, app.base);
    await page.goto(app.base);
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
    const { page, close } = await newPage(app.browser, app.base);
    await page.goto(app.base);
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
    const { page, close } = await newPage(app.browser, app.base);
    await page.goto(app.base);
    await openThroughInput(page, NORMALIZED);
    await expectSameAsCore(page, await coreSummary(normalizedCopy));
    expect(await page.locator('[data-testid="wal-notice"]').textContent()).toContain('WAL-mode file');
    expect(await page.textContent('[data-testid="file-shapes"]')).toBe('S6');
    await close();
  });
});

describe('what-if pricing', () => {
  it('a tier price and an hourly price move the costs to what core computes with those overrides; reset restores; download gives the pricing', async () => {
    const { page, close } = await newPage(app.browser, app.base);
    await page.goto(app.base);
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
    // beside every figure the scenario changes: the stored-price value, the change, and ghost bars in the chart
    const stored = await coreSummary(seedCopy);
    expectClose(await value(page, '[data-testid="baseline-total-cost"]'), stored.total.cost, 'stored-price total');
    expectClose(await value(page, '[data-testid="total-cost-delta"]'), expected.total.cost - stored.total.cost, 'change of the total');
    for (const m of stored.models)
      expectClose(await value(page, `[data-testid="model-row"][data-model=${JSON.stringify(m.name)}] [data-testid="model-baseline-cost"]`), m.cost, `stored-price cost of ${m.name}`);
    expect(await page.locator('[data-testid="whatif-strip"]').textContent()).toMatch(/stored prices/);
    const costChart = page.locator('[data-testid="cost-chart"]');
    await costChart.locator('.chart-box').focus();
    await page.keyboard.press('Home');
    await costChart.locator('[data-testid="bucket-baseline"]').waitFor();
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
    const { page, close } = await newPage(app.browser, app.base);
    await page.goto(app.base);
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

describe('scenarios in the link, imported and exported', () => {
  it('a what-if in the `pricing` parameter is applied on open, beside the baseline; edits update the link; reopening it gives the same figures', async () => {
    const m = await (await import('@llm-monitor/driver-node')).openMonitor(seedCopy, { readOnly: true });
    const llama = (await m.getModelBilling(LLAMA))!;
    await m.close();
    const pricing: PricingOverrides = { [DEEPSEEK]: { hourlyPrice: 20 }, [LLAMA]: { tierPricing: llama.tierPricing.map((t) => ({ ...t, outputPricePerMillion: 9 })) } };
    const { page, close } = await newPage(app.browser, app.base);
    await page.goto(`${app.base}?url=/fixtures/seed-v1-dev.db&pricing=${encodeURIComponent(JSON.stringify(pricing))}`);
    await waitForOverview(page);
    await expectSameAsCore(page, await coreSummary(seedCopy, { pricing }));
    expectClose(await value(page, '[data-testid="baseline-total-cost"]'), (await coreSummary(seedCopy)).total.cost, 'stored-price total');
    expect(await page.inputValue(`[data-testid="pricing-model"][data-model="${DEEPSEEK}"] input[data-field="hourlyPrice"]`)).toBe('20');

    await page.locator(`[data-testid="pricing-model"][data-model="${DEEPSEEK}"] input[data-field="hourlyPrice"]`).fill('30');
    await page.waitForURL((url) => (JSON.parse(url.searchParams.get('pricing') ?? '{}') as PricingOverrides)[DEEPSEEK]?.hourlyPrice === 30);
    await waitForOverview(page);
    const total = await value(page, '[data-testid="total-cost"]');
    const link = page.url();
    expect(link).toContain(`pricing=${encodeURIComponent('{')}`);
    const second = await newPage(app.browser, app.base);
    await second.page.goto(link);
    await waitForOverview(second.page);
    expectClose(await value(second.page, '[data-testid="total-cost"]'), total, 'total from the link');
    await second.close();

    // a link whose scenario does not fit the file: said in words, naming model and field; the file opens at stored prices
    const bad = { [DEEPSEEK]: { hourlyPrice: -1 }, 'no-such-model': { hourlyPrice: 1 } };
    await page.goto(`${app.base}?url=/fixtures/seed-v1-dev.db&pricing=${encodeURIComponent(JSON.stringify(bad))}`);
    await waitForOverview(page);
    const problems = await page.locator('[data-testid="link-problems"]').textContent();
    expect(problems).toMatch(new RegExp(`${DEEPSEEK}: The hourly price must be .*; got -1\\.`));
    expect(problems).toContain('no-such-model: there is no model of that name in this file.');
    expectClose(await value(page, '[data-testid="total-cost"]'), (await coreSummary(seedCopy)).total.cost, 'stored-price total');
    expect(new URL(page.url()).searchParams.has('pricing')).toBe(false);
    await close();
  });

  it('an invalid field is shown at the field in words and never applied; "+ Add tier" adds a tier that prices; overlaps are warned of', async () => {
    const { page, close } = await newPage(app.browser, app.base);
    await page.goto(`${app.base}?url=/fixtures/seed-v1-dev.db`);
    await waitForOverview(page);
    const before = await value(page, '[data-testid="total-cost"]');
    const editor = page.locator(`[data-testid="pricing-model"][data-model="${LLAMA}"]`);
    const field = editor.locator('input[data-tier="1"][data-field="inputPricePerMillion"]');
    await field.fill('-3');
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    const message = editor.locator('[data-testid="field-error"]');
    expect(await message.textContent()).toMatch(/^The input price per million tokens must be .*; got -3\.$/);
    expect(await field.getAttribute('aria-describedby')).toBe(await message.getAttribute('id'));
    await page.locator('[data-testid="scenario-invalid"]').waitFor();
    expect(await value(page, '[data-testid="total-cost"]')).toBe(before);
    expect(await page.isDisabled('[data-testid="pricing-download"]')).toBe(true);
    await field.fill('abc');
    expect(await message.textContent()).toMatch(/^The input price per million tokens must be .*; got "abc"\.$/);
    await field.fill('1.2');
    await waitForOverview(page);
    expect(await message.count()).toBe(0);

    await editor.locator('[data-testid="pricing-add-tier"]').click();
    const added = editor.locator('tr[data-tier="4"]');
    expect(await added.locator('input[data-field="startTokens"]').inputValue()).toBe('131073');
    await editor.locator('input[data-tier="2"][data-field="startTokens"]').fill('10000');
    expect(await editor.locator('[data-testid="pricing-warnings"]').textContent()).toMatch(/Tiers 1 and 2 overlap from 10000 input tokens/);
    await close();
  });

  it('export writes the scenario as JSON; importing it in a fresh page gives the same figures; a bad file is refused naming its fields', async () => {
    const { page, close } = await newPage(app.browser, app.base);
    await page.goto(`${app.base}?url=/fixtures/seed-v1-dev.db`);
    await waitForOverview(page);
    await page.locator(`[data-testid="pricing-model"][data-model="${DEEPSEEK}"] input[data-field="hourlyPrice"]`).fill('11');
    await page.locator(`[data-testid="pricing-model"][data-model="${LLAMA}"] select[data-field="billing"]`).selectOption('hourly');
    await page.locator(`[data-testid="pricing-model"][data-model="${LLAMA}"] input[data-field="hourlyPrice"]`).fill('2');
    await waitForOverview(page);
    const total = await value(page, '[data-testid="total-cost"]');
    const download = page.waitForEvent('download');
    await page.click('[data-testid="pricing-download"]');
    const exported = join(tempCopy(SEED), '..', 'exported-scenario.json');
    await (await download).saveAs(exported);
    const scenario = JSON.parse(readFileSync(exported, 'utf8')) as PricingOverrides;
    expect(scenario[DEEPSEEK]!.hourlyPrice).toBe(11);
    expect(scenario[LLAMA]).toMatchObject({ useTierPricing: false, hourlyPrice: 2 });
    expectClose(total, (await coreSummary(seedCopy, { pricing: scenario })).total.cost, 'cost with the exported scenario');
    await close();

    const fresh = await newPage(app.browser, app.base);
    await fresh.page.goto(`${app.base}?url=/fixtures/seed-v1-dev.db`);
    await waitForOverview(fresh.page);
    const bad = join(tempCopy(SEED), '..', 'bad-scenario.json');
    writeFileSync(bad, JSON.stringify({ [LLAMA]: { tierPricing: [{ tierIndex: 1, startTokens: 0, endTokens: -1, inputPricePerMillion: 'cheap', outputPricePerMillion: 1 }] } }));
    await fresh.page.setInputFiles('[data-testid="pricing-import"]', bad);
    expect(await fresh.page.locator('[data-testid="import-error"]').textContent()).toMatch(
      new RegExp(`bad-scenario\\.json: ${LLAMA}: tier 1: The input price per million tokens must be .*; got "cheap"\\.`),
    );
    await fresh.page.setInputFiles('[data-testid="pricing-import"]', exported);
    await waitForOverview(fresh.page);
    expectClose(await value(fresh.page, '[data-testid="total-cost"]'), total, 'cost after import');
    expect(await fresh.page.locator('[data-testid="import-error"]').count()).toBe(0);
    await fresh.close();
  });
});

describe('errors a user understands', () => {
  it('a file that is not a database, of another application, corrupt, too large or empty: each named; a bad file after a good one keeps the analysis', async () => {
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
    const empty = join(dir, 'empty.db');
    writeFileSync(empty, '');
    const huge = join(dir, 'huge.db');
    writeFileSync(huge, '');
    (await import('node:fs')).truncateSync(huge, 1024 ** 3 + 1); // sparse: costs no disk

    const { page, close } = await newPage(app.browser, app.base);
    await page.goto(app.base);
    const expectError = async (path: string, kind: string, words: RegExp) => {
      await page.setInputFiles('[data-testid="file-input"]', path);
      const box = page.locator(`[data-testid="open-error"][data-kind="${kind}"]`);
      await box.waitFor({ timeout: 15_000 });
      expect(await box.textContent()).toMatch(words);
      expect(await box.locator('[data-testid="error-file"]').textContent()).toBe(`: ${path.split('/').pop()}`);
    };
    await expectError(text, 'not-a-database', /not a SQLite database/);
    await expectError(other, 'not-a-monitor-db', /not a monitoring database/);
    await expectError(corrupt, 'corrupt', /damaged|corrupt/);
    await expectError(huge, 'too-large', /up to 1\.0 GiB/);
    await expectError(empty, 'empty', /empty\.db is 0 bytes long/);
    expect(await page.locator('[data-testid="error-file"]').textContent()).toBe(': empty.db');
    // a good file still opens afterwards
    await openThroughInput(page, SEED);
    await page.locator(`[data-testid="pricing-model"][data-model="${LLAMA}"] input[data-field="hourlyPrice"]`).fill('4');
    await page.locator(`[data-testid="pricing-model"][data-model="${LLAMA}"] select[data-field="billing"]`).selectOption('hourly');
    await waitForOverview(page);
    const edited = await shownNumbers(page);
    // and a bad file dropped after it is refused by name, keeping the analysis and the edits
    await page.setInputFiles('[data-testid="file-input"]', corrupt);
    const box = page.locator('[data-testid="open-error"][data-kind="corrupt"]');
    await box.waitFor({ timeout: 15_000 });
    expect(await box.textContent()).toContain('corrupt.db');
    expect(await box.textContent()).toContain('Still showing seed-v1-dev.db with your what-if edits.');
    expect(await shownNumbers(page)).toEqual(edited);
    expect(await page.inputValue(`[data-testid="pricing-model"][data-model="${LLAMA}"] input[data-field="hourlyPrice"]`)).toBe('4');
    await close();
  });
});

describe('links', () => {
  it('?url= opens a same-origin file; ?from=, ?to= (ISO and epoch) and ?tz= set the view; the URL follows changes', async () => {
    const { page, close } = await newPage(app.browser, app.base);
    const from = '2024-03-09T00:00:00Z';
    const to = 1_710_100_000;
    await page.goto(`${app.base}?url=/fixtures/seed-v1-dev.db&from=${from}&to=${to}&tz=Asia/Shanghai`);
    await waitForOverview(page);
    // ranges lie on the 15-minute grid: `to` is rounded up to the next boundary, and the link says so
    expect(rangeFromUrl(page.url())).toEqual({ from: Date.parse(from) / 1000, to: Math.ceil(to / 900) * 900 });
    await expectSameAsCore(page, await coreSummary(seedCopy, rangeFromUrl(page.url())));
    expect(await page.inputValue('[data-testid="time-zone"]')).toBe('Asia/Shanghai');

    await page.selectOption('select[data-testid="bucket-select"]', 'hour');
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
  it('in time order either way, filtered by model; CSV and JSON export of the current view', async () => {
    const { page, close } = await newPage(app.browser, app.base);
    await page.goto(app.base);
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

    // newest first, then oldest first (ties by model and id)
    const times = (await readRequests(normalizedCopy, model.name)).map((r) => r.timestamp);
    expect(Number(await rows.first().locator('td').first().getAttribute('data-value'))).toBe(Math.max(...times));
    await page.click('[data-testid="requests-table"] button[data-sort="timestamp"]');
    await expect.poll(async () => Number(await rows.first().locator('td').first().getAttribute('data-value'))).toBe(Math.min(...times));

    const csvDownload = page.waitForEvent('download');
    await page.click('[data-testid="export-csv"]');
    const csv = readFileSync(await (await csvDownload).path(), 'utf8').trimEnd().split('\r\n');
    expect(csv[0]).toBe('id,model,timestamp,time_utc,input_tokens,output_tokens,cache_n,prompt_n');
    expect(csv.length - 1).toBe(model.requests);

    const jsonDownload = page.waitForEvent('download');
    await page.click('[data-testid="export-json"]');
    const json = JSON.parse(readFileSync(await (await jsonDownload).path(), 'utf8')) as { model: string; timestamp: number }[];
    expect(json).toHaveLength(model.requests);
    expect(json.every((r) => r.model === model.name)).toBe(true);
    expect(json.map((r) => r.timestamp)).toEqual([...json.map((r) => r.timestamp)].sort((a, b) => a - b));
    await close();
  });
});

async function readRequests(path: string, model: string) {
  const monitor = await (await import('@llm-monitor/driver-node')).openMonitor(path, { readOnly: true });
  try {
    return await monitor.getModelRequests(model);
  } finally {
    await monitor.close();
  }
}
