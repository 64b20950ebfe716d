import { copyFileSync, createReadStream, readFileSync, statSync } from 'node:fs';
import { type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { openMonitor } from '@llm-monitor/driver-node';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  DIST,
  FIXTURES,
  appUnderTest,
  axeViolations,
  coreSeries,
  coreSummary,
  newPage,
  pixelsByColor,
  tempCopy,
  value,
  waitForOverview,
} from './harness.js';

/** The page as a person uses it: accessible in both schemes, readable on a phone, charts that tell the truth. */

const SEED = join(FIXTURES, 'seed-v1-dev.db');
const seedCopy = tempCopy(SEED);
const SEED_LINK = '?url=/fixtures/seed-v1-dev.db';

const app = appUnderTest();


const SIZES = [
  { width: 1440, height: 900 },
  { width: 390, height: 844 },
] as const;

describe('accessibility and layout', () => {
  it('at 1440×900 and 390×844, light and dark: axe-core finds no critical or serious violation; the page is no wider than the viewport', async () => {
    const { page, close } = await newPage(app.browser, app.base);
    await page.goto(`${app.base}${SEED_LINK}`);
    await waitForOverview(page);
    for (const viewport of SIZES)
      for (const colorScheme of ['light', 'dark'] as const) {
        const where = `${viewport.width}×${viewport.height}, ${colorScheme}`;
        await page.setViewportSize(viewport);
        await page.emulateMedia({ colorScheme });
        await expect.poll(() => page.getAttribute('html', 'data-scheme')).toBe(colorScheme);
        await waitForOverview(page);
        const serious = (await axeViolations(page)).filter((v) => v.impact === 'critical' || v.impact === 'serious');
        expect(serious, `${where}: ${JSON.stringify(serious, null, 1)}`).toEqual([]);
        expect(await page.evaluate(() => document.documentElement.scrollWidth), where).toBeLessThanOrEqual(viewport.width);
      }
    await close();
  });

  it('the scheme toggle overrides the system scheme and is remembered', async () => {
    const { page, close } = await newPage(app.browser, app.base, { colorScheme: 'light' });
    await page.goto(`${app.base}${SEED_LINK}`);
    await waitForOverview(page);
    await page.selectOption('[data-testid="scheme"]', 'dark');
    await expect.poll(() => page.getAttribute('html', 'data-scheme')).toBe('dark');
    const background = () => page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    expect(await background()).toBe('rgb(14, 17, 22)');
    await page.reload();
    await waitForOverview(page);
    await expect.poll(() => page.getAttribute('html', 'data-scheme')).toBe('dark');
    expect(await page.inputValue('[data-testid="scheme"]')).toBe('dark');
    await close();
  });
});

/** The legend swatches' colours, as #rrggbb, in model order. */
async function modelColors(page: Page): Promise<string[]> {
  const rgb = await page.$$eval('[data-testid="cost-chart"] [data-testid="legend-item"] .swatch', (els) => els.map((e) => getComputedStyle(e).backgroundColor));
  return rgb.map((c) => `#${c.match(/\d+/g)!.map((n) => Number(n).toString(16).padStart(2, '0')).join('')}`);
}

describe('charts', () => {
  it('hiding a model in the legend never moves or resizes another model’s bars, in both charts', async () => {
    const { page, close } = await newPage(app.browser, app.base);
    await page.goto(`${app.base}${SEED_LINK}&bucket=hour`);
    await waitForOverview(page);
    const colors = await modelColors(page);
    const models = await page.$$eval('[data-testid="cost-chart"] [data-testid="legend-item"]', (els) => els.map((e) => e.getAttribute('data-model')!));
    // the bottom layer of the token chart, under every other: hiding it must not let the others fall into its place
    const hiddenModel = models[0]!;
    for (const chart of ['token-chart', 'cost-chart']) {
      // uPlot draws on the next frame after the overview is ready: wait for the bottom layer's pixels
      await expect
        .poll(async () => (await pixelsByColor(page, chart, colors))[colors[0]!]!.length, { message: `${chart}: ${hiddenModel} is drawn`, timeout: 10_000 })
        .toBeGreaterThan(0);
      const before = await pixelsByColor(page, chart, colors);
      await page.click(`[data-testid="${chart}"] [data-testid="legend-item"][data-model="${hiddenModel}"]`);
      expect(await page.getAttribute(`[data-testid="${chart}"] [data-testid="legend-item"][data-model="${hiddenModel}"]`, 'aria-pressed')).toBe('false');
      const after = await pixelsByColor(page, chart, colors);
      expect(after[colors[0]!], `${chart}: the hidden model is gone`).toEqual([]);
      for (const color of colors.slice(1)) expect(after[color], `${chart}: ${models[colors.indexOf(color)]} is where it was`).toEqual(before[color]);
      await page.click(`[data-testid="${chart}"] [data-testid="legend-item"][data-model="${hiddenModel}"]`);
    }
    await close();
  });

  it('each bucket is reachable by keyboard, and the legend shows its total as core computes it; units on the axes; a table of every bucket', async () => {
    const { page, close } = await newPage(app.browser, app.base);
    await page.goto(`${app.base}${SEED_LINK}&bucket=hour&tz=Asia/Shanghai`);
    await waitForOverview(page);
    const series = await coreSeries(seedCopy, { bucket: 'hour', timeZone: 'Asia/Shanghai' });
    const chart = page.locator('[data-testid="token-chart"]');
    await chart.locator('.chart-box').focus();
    await page.keyboard.press('Home');
    const total = chart.locator('[data-testid="bucket-total"]');
    await expect.poll(() => total.getAttribute('data-value')).toBe(String(series.buckets[0]!.total.inputTokens + series.buckets[0]!.total.outputTokens));
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => total.getAttribute('data-value')).toBe(String(series.buckets[2]!.total.inputTokens + series.buckets[2]!.total.outputTokens));
    expect(await chart.locator('[data-testid="chart-readout"]').textContent()).toContain('Total');

    // each chart says what it counts, in which unit (its y axis too); the currency setting names it and stays in the link
    expect(await chart.locator('figcaption').textContent()).toBe('Tokens (input + output) per hour, in tokens');
    expect(await page.locator('[data-testid="cost-chart"] figcaption').textContent()).toBe("Cost per hour, in the file's currency");
    await page.selectOption('[data-testid="currency"]', 'USD');
    await page.waitForURL(/currency=USD/);
    expect(await page.locator('[data-testid="cost-chart"] figcaption').textContent()).toBe('Cost per hour, in USD');
    expect(await page.locator('[data-testid="total-cost"]').textContent()).toMatch(/^\$[\d,]+\.\d{2,}$/);

    await chart.locator('[data-testid="chart-table"] summary').click();
    const rows = chart.locator('[data-testid="chart-table"] tbody tr');
    expect(await rows.count()).toBe(series.buckets.length);
    expect(await rows.nth(2).locator('td.strong').getAttribute('data-value')).toBe(String(series.buckets[2]!.total.inputTokens + series.buckets[2]!.total.outputTokens));
    await close();
  });
});

describe('for a person', () => {
  it('a jump to a section shows its heading below the sticky controls', async () => {
    const { page, close } = await newPage(app.browser, app.base, { viewport: { width: 1440, height: 900 } });
    await page.goto(`${app.base}${SEED_LINK}`);
    await waitForOverview(page);
    for (const id of ['pricing', 'requests', 'file']) {
      await page.click(`nav.sections a[href="#${id}"]`);
      await page.waitForFunction((target) => location.hash === `#${target}`, id);
      const stickyBottom = await page.locator('.sticky').evaluate((el) => el.getBoundingClientRect().bottom);
      const headingTop = await page.locator(`#${id} h2`).evaluate((el) => el.getBoundingClientRect().top);
      expect(headingTop, `#${id}`).toBeGreaterThanOrEqual(stickyBottom);
    }
    await close();
  });

  it('a "to" before "from" is refused visibly; the range stays', async () => {
    const { page, close } = await newPage(app.browser, app.base);
    await page.goto(`${app.base}${SEED_LINK}&from=2024-03-09T12:00Z&to=2024-03-10T12:00Z`);
    await waitForOverview(page);
    const url = page.url();
    await page.fill('[data-testid="range-to"]', '2024-03-08T10:00');
    const error = page.locator('[data-testid="range-error"]');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/"to" \(2024-03-08 10:00\) must be after "from" \(2024-03-09 12:00\)/);
    expect(await page.getAttribute('[data-testid="range-to"]', 'aria-invalid')).toBe('true');
    expect(page.url()).toBe(url);
    await close();
  });

  it('an empty range says "no data in this range" instead of zeros; uptime is a share of the window; the model table sorts', async () => {
    const { page, close } = await newPage(app.browser, app.base);
    await page.goto(`${app.base}${SEED_LINK}&from=2020-01-01T00:00Z&to=2020-01-02T00:00Z`);
    await waitForOverview(page);
    await page.locator('[data-testid="no-data"]').waitFor();
    expect(await page.locator('[data-testid="model-row"]').count()).toBe(0);
    expect(await page.locator('[data-testid="token-chart"]').count()).toBe(0);
    await page.click('[data-testid="show-all"]');
    await waitForOverview(page);
    expect(await page.locator('[data-testid="model-row"]').count()).toBe(3);

    const share = await value(page, '[data-testid="uptime-share"]');
    expect(share).toBeGreaterThan(0);
    expect(share).toBeLessThanOrEqual(1);
    expect(await value(page, '[data-testid="total-uptime"]')).toBeLessThanOrEqual(await value(page, '[data-testid="window-length"]'));

    const summary = await coreSummary(seedCopy);
    await page.click('[data-testid="model-table"] button[data-sort="cost"]');
    const costs = () => page.$$eval('[data-testid="model-row"] [data-testid="model-cost"]', (els) => els.map((e) => Number(e.getAttribute('data-value'))));
    expect(await costs()).toEqual(summary.models.map((m) => m.cost).sort((a, b) => b - a));
    await page.click('[data-testid="model-table"] button[data-sort="cost"]');
    expect(await costs()).toEqual(summary.models.map((m) => m.cost).sort((a, b) => a - b));
    await close();
  });
});

/**
 * The protocol of `llm-monitor serve` (apps/cli/src/commands/serve.ts, tested there against the real
 * command): the database's response names the change feed in `Llm-Monitor-Events`, and the feed sends
 * `event: change` when a new snapshot is ready at the same URL.
 */
async function startLiveServer(database: string) {
  const listeners = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.write('retry: 2000\n\n');
      listeners.add(res);
      req.on('close', () => listeners.delete(res));
      return;
    }
    if (path === '/monitoring.db') {
      res.writeHead(200, { 'content-type': 'application/vnd.sqlite3', 'content-length': statSync(database).size, 'cache-control': 'no-store', 'llm-monitor-events': '/events' });
      createReadStream(database).pipe(res);
      return;
    }
    const file = join(DIST, path.slice(1) || 'index.html');
    try {
      const body = readFileSync(file);
      const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : file.endsWith('.wasm') ? 'application/wasm' : 'text/html';
      res.writeHead(200, { 'content-type': type }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    announce: () => {
      for (const res of listeners) res.write('event: change\ndata: {"snapshot":1}\n\n');
    },
    listeners: () => listeners.size,
    close: () => new Promise<void>((done) => {
      for (const res of listeners) res.end();
      server.close(() => done());
    }),
  };
}

describe('live when served', () => {
  it('a new snapshot announced by the server updates the open page in place, keeping range, zone, bucket, legend and what-if edits', async () => {
    const database = join(tempCopy(SEED), '..', 'live.db');
    copyFileSync(SEED, database);
    const live = await startLiveServer(database);
    const { page, close } = await newPage(app.browser, live.base);
    try {
      await page.goto(`${live.base}?url=/monitoring.db&bucket=hour&tz=Asia/Shanghai`);
      await waitForOverview(page);
      await expect.poll(() => live.listeners()).toBe(1);
      const llama = 'Llama-3.3-70B-Instruct-Q4_K_M';
      await page.locator(`[data-testid="pricing-model"][data-model="${llama}"] input[data-field="hourlyPrice"]`).fill('3');
      await page.locator(`[data-testid="pricing-model"][data-model="${llama}"] select[data-field="billing"]`).selectOption('hourly');
      await page.click(`[data-testid="token-chart"] [data-testid="legend-item"][data-model="${llama}"]`);
      await waitForOverview(page);
      const requests = await value(page, '[data-testid="total-requests"]');
      await page.evaluate(() => ((document.querySelector('#overview') as HTMLElement & { marked?: boolean }).marked = true));
      const url = page.url();

      const writer = await openMonitor(database);
      await writer.addModelRequest(llama, [1_710_050_000, 100, 10]);
      await writer.close();
      live.announce();

      await expect.poll(() => page.getAttribute('[data-testid="live"]', 'data-version')).toBe('1');
      await waitForOverview(page);
      expect(await value(page, '[data-testid="total-requests"]')).toBe(requests + 1);
      // the same page, not a reload: same elements, same link, same edits and legend
      expect(await page.evaluate(() => (document.querySelector('#overview') as HTMLElement & { marked?: boolean }).marked)).toBe(true);
      expect(page.url()).toBe(url);
      expect(await page.inputValue(`[data-testid="pricing-model"][data-model="${llama}"] input[data-field="hourlyPrice"]`)).toBe('3');
      expect(await page.getAttribute(`[data-testid="token-chart"] [data-testid="legend-item"][data-model="${llama}"]`, 'aria-pressed')).toBe('false');
      expect(await page.inputValue('select[data-testid="bucket-select"]')).toBe('hour');
      const expected = await coreSummary(database, { pricing: { [llama]: { useTierPricing: false, hourlyPrice: 3 } } });
      expect(await value(page, '[data-testid="total-cost"]')).toBeCloseTo(expected.total.cost, 9);
    } finally {
      await close();
      await live.close();
    }
  });
});
