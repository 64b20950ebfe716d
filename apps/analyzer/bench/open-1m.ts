import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { it } from 'vitest';
import { generateLargeFile } from '../test/e2e/generate.js';
import { launchBrowser, newPage, startServer, waitForOverview } from '../test/e2e/harness.js';

/**
 * The analyzer on a file of 1,000,000 requests in Debian's Chromium: the time from choosing the file to
 * its overview, then — in the same page — a bucket change, a zone change and a price-only what-if edit,
 * each until the new figures are shown. Target: every change within a quarter of the open time. Then the
 * Insights section, computed once it is scrolled to, and again after a zone change.
 * Printed, never asserted (`npm run bench:analyzer` at the repository root).
 */

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 1_000_000);
const ROUNDS = 3;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const print = (name: string, value: number | string, unit = 'ms') => console.log(`${name}: ${typeof value === 'number' ? value.toFixed(0) : value} ${unit}`);

/** Runs `change` and waits until the overview shows figures computed after it. */
async function timed(page: Page, change: () => Promise<unknown>): Promise<number> {
  const before = Number(await page.getAttribute('[data-testid="overview"]', 'data-shown'));
  const started = performance.now();
  await change();
  await page.waitForFunction((count) => {
    const overview = document.querySelector('[data-testid="overview"]');
    return Number(overview?.getAttribute('data-shown')) > count && overview?.getAttribute('aria-busy') === 'false';
  }, before);
  return performance.now() - started;
}

it(`opens ${REQUESTS.toLocaleString('en-US')} requests, then changes bucket, zone and a price`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'analyzer-bench-'));
  const file = join(dir, 'monitoring-1m.db');
  const { server, base } = await startServer();
  const browser = await launchBrowser();
  try {
    let started = performance.now();
    await generateLargeFile(file, REQUESTS);
    print('generate_ms', performance.now() - started);
    print('file_size', (statSync(file).size / 2 ** 20).toFixed(1), 'MiB');

    const { page, close } = await newPage(browser, base, { timezoneId: 'Europe/Berlin', viewport: { width: 1440, height: 900 } });
    await page.goto(base);
    await page.waitForSelector('[data-testid="dropzone"]');
    started = performance.now();
    await page.setInputFiles('[data-testid="file-input"]', file);
    await waitForOverview(page, 120_000);
    await page.waitForSelector('[data-testid="cost-chart"] canvas');
    const open = performance.now() - started;
    print('open_ms', open);
    print('open_worker_ms', Number(await page.getAttribute('[data-testid="open-ms"]', 'data-value')));

    const bucket: number[] = [];
    const zone: number[] = [];
    const price: number[] = [];
    const editor = page.locator('[data-testid="pricing-model"][data-model="Qwen3-Coder-30B-A3B-Instruct"] input[data-tier="1"][data-field="inputPricePerMillion"]');
    for (let round = 0; round < ROUNDS; round++) {
      bucket.push(await timed(page, () => page.selectOption('select[data-testid="bucket-select"]', round % 2 === 0 ? 'hour' : 'day')));
      zone.push(await timed(page, () => page.selectOption('[data-testid="time-zone"]', round % 2 === 0 ? 'Asia/Shanghai' : 'America/New_York')));
      price.push(await timed(page, () => editor.fill(String(1.5 + round + 0.25))));
    }
    for (const [name, values] of [
      ['bucket_change_ms', bucket],
      ['zone_change_ms', zone],
      ['price_edit_ms', price],
    ] as const) {
      print(name, median(values));
      print(name.replace('_ms', '_ratio'), (median(values) / open).toFixed(3), `x open (target <= 0.25; runs ${values.map((v) => v.toFixed(0)).join(', ')} ms)`);
    }

    // the Insights section is computed once it comes near the screen: scroll to it, then change the zone
    const insights = async (change: () => Promise<unknown>) => {
      const started = performance.now();
      await change();
      await page.waitForSelector('[data-testid="insights"][data-ready="true"][aria-busy="false"]', { timeout: 120_000 });
      return { ms: performance.now() - started, worker: Number(await page.getAttribute('[data-testid="insights"]', 'data-compute-ms')) };
    };
    const first = await insights(() => page.locator('#insights').scrollIntoViewIfNeeded());
    print('insights_ms', first.ms);
    print('insights_worker_ms', first.worker);
    const zoneInsights = await insights(() => page.selectOption('[data-testid="time-zone"]', 'Europe/Berlin'));
    print('insights_zone_change_ms', zoneInsights.ms);
    print('insights_zone_change_worker_ms', zoneInsights.worker);
    await close();
  } finally {
    await browser.close();
    await new Promise((done) => server.close(done));
    rmSync(dir, { recursive: true, force: true });
  }
}, 900_000);
