import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateLargeFile } from './generate.js';
import { APP_DIR, coreSummary, expectSameAsCore, launchBrowser, newPage, startServer, value, waitForOverview } from './harness.js';

const REQUESTS = 1_000_000;
const dir = mkdtempSync(join(tmpdir(), 'analyzer-1m-'));
const file = join(dir, 'monitoring-1m.db');
let browser: Browser;
let server: Server;
let base: string;

beforeAll(async () => {
  const started = performance.now();
  await generateLargeFile(file, REQUESTS);
  console.log(`analyzer_generate_1m_ms: ${Math.round(performance.now() - started)} ms (${(statSync(file).size / 2 ** 20).toFixed(1)} MiB)`);
  ({ server, base } = await startServer());
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((done) => server?.close(done));
  rmSync(dir, { recursive: true, force: true });
});

it('opens a file of 1,000,000 requests with the same figures as core, the progress reaching 100%; screenshots at both sizes and in both schemes', async () => {
  const { page, close } = await newPage(browser, base, { timezoneId: 'Europe/Berlin', viewport: { width: 1440, height: 900 } });
  await page.goto(base);
  await page.waitForSelector('[data-testid="dropzone"]');
  const fractions: number[] = [];
  await page.exposeFunction('reportProgress', (fraction: number) => fractions.push(fraction));
  await page.evaluate(() => {
    new MutationObserver(() => {
      const bar = document.querySelector<HTMLProgressElement>('[data-testid="open-progress"]');
      if (bar) (window as unknown as { reportProgress(f: number): void }).reportProgress(bar.value);
    }).observe(document.body, { subtree: true, childList: true, characterData: true }); // the percentage beside the bar changes with it
  });
  const started = performance.now();
  await page.setInputFiles('[data-testid="file-input"]', file);
  await waitForOverview(page, 60_000);
  await page.waitForSelector('[data-testid="cost-chart"] canvas');
  console.log(`analyzer_open_1m_ms: ${Math.round(performance.now() - started)} ms (printed, not asserted; npm run bench:analyzer measures changes too)`);
  expect(Math.max(...fractions)).toBe(1);
  expect(await value(page, '[data-testid="total-requests"]')).toBe(REQUESTS);
  await expectSameAsCore(page, await coreSummary(file));

  // the README's screenshots are refreshed on request (UPDATE_SCREENSHOT=1); otherwise they go to a scratch folder
  const shots = process.env.UPDATE_SCREENSHOT ? join(APP_DIR, 'docs') : join(APP_DIR, 'test-results');
  mkdirSync(shots, { recursive: true });
  // a what-if beside the stored prices, and a bucket under the cursor: the legend shows its values and total
  await page.locator('[data-testid="pricing-model"][data-model="Qwen3-Coder-30B-A3B-Instruct"] input[data-tier="1"][data-field="inputPricePerMillion"]').fill('0.9');
  await waitForOverview(page);
  for (const scheme of ['light', 'dark'] as const) {
    await page.selectOption('[data-testid="scheme"]', scheme);
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.evaluate(() => window.scrollTo(0, 0));
    const chart = (await page.locator('[data-testid="cost-chart"] .u-over').boundingBox())!;
    await page.mouse.move(chart.x + chart.width * 0.55, chart.y + chart.height * 0.6);
    await page.screenshot({ path: join(shots, `analyzer-1440-${scheme}.png`) });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.evaluate(() => document.querySelector('#overview')!.scrollIntoView());
    await page.screenshot({ path: join(shots, `analyzer-390-${scheme}.png`) });
  }
  console.log(`analyzer_screenshots: ${shots}/analyzer-{1440,390}-{light,dark}.png`);
  await close();
});
