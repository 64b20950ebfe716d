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

it('opens a file of 1,000,000 requests and shows its overview (benchmark: printed, not asserted); screenshot of the overview', async () => {
  const { page, close } = await newPage(browser, base, 'Europe/Berlin');
  await page.goto(base);
  await page.waitForSelector('[data-testid="dropzone"]');
  const progress = page.waitForSelector('[data-testid="open-progress"]', { timeout: 10_000 });
  const started = performance.now();
  await page.setInputFiles('[data-testid="file-input"]', file);
  await progress; // the progress bar showed while the file was read and opened
  await waitForOverview(page, 60_000);
  await page.waitForSelector('[data-testid="cost-chart"] canvas');
  const elapsed = Math.round(performance.now() - started);
  console.log(`analyzer_open_1m_ms: ${elapsed} ms`);
  console.log(`analyzer_open_1m_worker_open_ms: ${await value(page, '[data-testid="open-ms"]')} ms (read, sql.js open, describe, summary of all)`);

  console.log(`analyzer_open_1m_overview_ms: ${await page.getAttribute('[data-testid="overview"]', 'data-compute-ms')} ms (worker: summary and series of the range)`);
  expect(await value(page, '[data-testid="total-requests"]')).toBe(REQUESTS);
  await expectSameAsCore(page, await coreSummary(file));

  // the README's screenshot is refreshed on request (UPDATE_SCREENSHOT=1); otherwise it goes to a scratch folder
  const shots = process.env.UPDATE_SCREENSHOT ? join(APP_DIR, 'docs') : join(APP_DIR, 'test-results');
  mkdirSync(shots, { recursive: true });
  await page.setViewportSize({ width: 1400, height: 1320 });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.mouse.move(640, 520); // hover a bucket: the chart legend shows its values
  await page.screenshot({ path: join(shots, 'overview.png') });
  console.log(`analyzer_screenshot: ${join(shots, 'overview.png')}`);
  await close();
});
