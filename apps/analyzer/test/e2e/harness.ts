import { copyFileSync, createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import type { Series, SeriesOptions, Summary, SummaryOptions } from '@llm-monitor/core';
import { openMonitor } from '@llm-monitor/driver-node';
import { type Browser, type Page, chromium } from 'playwright-core';
import { CHROMIUM, DIST, FIXTURES, requireChromium } from './paths.js';
import { afterAll, beforeAll, expect } from 'vitest';

/**
 * What the browser tests share: Debian's Chromium driven by playwright-core, the built app served by a
 * small static server on 127.0.0.1, and core in Node (driver-node) as the reference for every number.
 */

export { APP_DIR, CHROMIUM, DIST, FIXTURES, requireChromium } from './paths.js';

export async function launchBrowser(): Promise<Browser> {
  requireChromium();
  // playwright gives every launch a fresh, temporary --user-data-dir of its own (it refuses the flag)
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
    ],
  });
}

/**
 * The browser and the app's server a test file shares, started before its tests and stopped after them
 * (with the temporary copies the file made). Read `browser` and `base` inside tests.
 */
export function appUnderTest(): { browser: Browser; base: string } {
  const app = {} as { browser: Browser; base: string; server: Server };
  beforeAll(async () => {
    ({ server: app.server, base: app.base } = await startServer());
    app.browser = await launchBrowser();
  });
  afterAll(async () => {
    await app.browser?.close();
    await new Promise((done) => app.server?.close(done));
    removeTempCopies();
  });
  return app;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.db': 'application/octet-stream',
};

/** Serves `dist/` at `/` and the test fixtures at `/fixtures/`, on 127.0.0.1 only. */
export async function startServer(): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const [root, rest] = path.startsWith('/fixtures/') ? [FIXTURES, path.slice('/fixtures/'.length)] : [DIST, path.slice(1) || 'index.html'];
    const file = normalize(join(root, rest));
    if (!file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': statSync(file).size, 'cache-control': 'no-store' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return { server, base: `http://127.0.0.1:${port}/` };
}

export interface PageOptions {
  timezoneId?: string;
  viewport?: { width: number; height: number };
  colorScheme?: 'light' | 'dark';
}

/** A fresh page that records every request it makes, to prove that nothing leaves 127.0.0.1. */
export async function newPage(browser: Browser, base: string, options: PageOptions | string = {}): Promise<{ page: Page; requests: string[]; close(): Promise<void> }> {
  const { timezoneId = 'UTC', viewport = { width: 1400, height: 900 }, colorScheme = 'light' } = typeof options === 'string' ? { timezoneId: options } : options;
  const context = await browser.newContext({ acceptDownloads: true, timezoneId, viewport, colorScheme });
  const page = await context.newPage();
  const requests: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('pageerror', (error) => console.error('page error:', error));
  return {
    page,
    requests,
    async close() {
      await context.close();
      expectLocalOnly(requests, base);
    },
  };
}

export function expectLocalOnly(requests: readonly string[], base: string): void {
  const foreign = requests.filter((url) => !url.startsWith(base) && !url.startsWith('data:') && !url.startsWith('blob:'));
  expect(foreign, 'requests that left 127.0.0.1').toEqual([]);
  expect(requests.length).toBeGreaterThan(0);
}

/** Opens a file through the page's `input[type=file]` and waits until the overview shows it. */
export async function openThroughInput(page: Page, path: string): Promise<void> {
  await page.setInputFiles('[data-testid="file-input"]', path);
  await waitForOverview(page);
}

/** Waits until the overview shows the current range and pricing (`aria-busy="false"`, no invalid what-if field). */
export async function waitForOverview(page: Page, timeout = 30_000): Promise<void> {
  await page.waitForSelector('[data-testid="overview"][aria-busy="false"][data-ready="true"] [data-testid="total-cost"]', { timeout });
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/**
 * axe-core's violations on the page as it is. The script is evaluated through the DevTools protocol, so
 * the page's Content-Security-Policy (scripts from 'self' only) stays as users get it.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const { violations } = await axe.run(document, { resultTypes: ['violations'] });
    return violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }));
  });
}

/**
 * Pixels of a chart's canvas per model colour: for each colour (as `#rrggbb`), the set of pixel
 * offsets painted exactly in it. Bars are drawn in flat model colours, so a model's set is its bars.
 */
export async function pixelsByColor(page: Page, chartTestId: string, colors: readonly string[]): Promise<Record<string, number[]>> {
  return page.evaluate(
    ({ testId, colors }) => {
      const canvas = document.querySelector<HTMLCanvasElement>(`[data-testid="${testId}"] canvas`)!;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      const wanted = new Map(colors.map((c) => [parseInt(c.slice(1), 16), c]));
      const out: Record<string, number[]> = Object.fromEntries(colors.map((c) => [c, []]));
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] !== 255) continue;
        const color = wanted.get((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
        if (color) out[color]!.push(i / 4);
      }
      return out;
    },
    { testId: chartTestId, colors },
  );
}

export async function value(page: Page, selector: string): Promise<number> {
  const text = await page.locator(selector).first().getAttribute('data-value');
  if (text === null || text === '') throw new Error(`no data-value on ${selector}`);
  return Number(text);
}

/** The numbers of the page's overview: totals and per-model costs, from `data-value`. */
export async function shownNumbers(page: Page) {
  const models = await page.$$eval('[data-testid="model-row"]', (rows) =>
    rows.map((row) => ({
      name: row.getAttribute('data-model')!,
      cost: Number(row.querySelector('[data-testid="model-cost"]')!.getAttribute('data-value')),
      requests: Number(row.querySelector('[data-testid="model-requests"]')!.getAttribute('data-value')),
    })),
  );
  return {
    cost: await value(page, '[data-testid="total-cost"]'),
    requests: await value(page, '[data-testid="total-requests"]'),
    inputTokens: await value(page, '[data-testid="total-input-tokens"]'),
    outputTokens: await value(page, '[data-testid="total-output-tokens"]'),
    models,
  };
}

const tempDirs: string[] = [];

/** A copy in a temp folder (a WAL file opened read-only needs a writable folder for its -shm). */
export function tempCopy(path: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'analyzer-core-'));
  tempDirs.push(dir);
  const copy = join(dir, path.split(sep).pop()!);
  copyFileSync(path, copy);
  return copy;
}

export function removeTempCopies(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** What core computes in Node for the same file and options. */
export async function coreSummary(path: string, options: SummaryOptions = {}): Promise<Summary> {
  const monitor = await openMonitor(path, { readOnly: true });
  try {
    return await monitor.summary(options);
  } finally {
    await monitor.close();
  }
}

export async function coreSeries(path: string, options: SeriesOptions): Promise<Series> {
  const monitor = await openMonitor(path, { readOnly: true });
  try {
    return await monitor.series(options);
  } finally {
    await monitor.close();
  }
}

export function expectClose(actual: number, expected: number, what: string): void {
  expect(Math.abs(actual - expected), `${what}: page ${actual}, core ${expected}`).toBeLessThanOrEqual(1e-9);
}

/** Page and core agree on the totals and every model's cost. */
export async function expectSameAsCore(page: Page, summary: Summary): Promise<void> {
  const shown = await shownNumbers(page);
  expectClose(shown.cost, summary.total.cost, 'total cost');
  expect(shown.requests).toBe(summary.total.requests);
  expect(shown.inputTokens).toBe(summary.total.inputTokens);
  expect(shown.outputTokens).toBe(summary.total.outputTokens);
  expect(shown.models.map((m) => m.name)).toEqual(summary.models.map((m) => m.name));
  for (const m of summary.models) {
    const row = shown.models.find((r) => r.name === m.name)!;
    expectClose(row.cost, m.cost, `cost of ${m.name}`);
    expect(row.requests, `requests of ${m.name}`).toBe(m.requests);
  }
}

/** `from`/`to` as the page wrote them into its URL. */
export function rangeFromUrl(url: string): { from?: number; to?: number } {
  const q = new URL(url).searchParams;
  const from = q.get('from');
  const to = q.get('to');
  return { ...(from ? { from: Number(from) } : {}), ...(to ? { to: Number(to) } : {}) };
}
