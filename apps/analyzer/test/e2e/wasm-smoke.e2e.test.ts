import { copyFileSync, createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { build } from 'vite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { APP_DIR, FIXTURES, launchBrowser } from './harness.js';

/**
 * The smoke part of driver-wasm's suites in Chromium: a page bundled by Vite (as an app would bundle the
 * package) runs sql.js, driver-wasm and core and reports each check. The full suites run in Node.
 */

const out = mkdtempSync(join(tmpdir(), 'llm-monitor-wasm-smoke-'));
let base = '';
let close = async () => {};

beforeAll(async () => {
  await build({
    root: join(APP_DIR, 'test', 'e2e', 'wasm-smoke'),
    base: './',
    logLevel: 'warn',
    build: { outDir: out, emptyOutDir: true, assetsInlineLimit: 0, target: 'es2022' },
  });
  copyFileSync(join(FIXTURES, 'normalized-v2-dev.db'), join(out, 'normalized-v2-dev.db'));
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace('/fixtures/', '/');
    const file = normalize(join(out, path === '/' ? 'index.html' : path.slice(1)));
    if (!file.startsWith(out + sep) || !existsSync(file) || !statSync(file).isFile()) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  close = () => new Promise((resolve) => server.close(() => resolve()));
}, 120_000);

afterAll(async () => {
  await close();
  rmSync(out, { recursive: true, force: true });
});

it('driver-wasm works in Chromium: records, prices, rolls back after an await, exports, opens a WAL file', async () => {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(base);
    await page.waitForFunction(() => (window as unknown as { smoke?: { done: boolean } }).smoke?.done === true, undefined, { timeout: 30_000 });
    const smoke = await page.evaluate(() => (window as unknown as { smoke: { checks: [string, boolean, string][]; error?: string } }).smoke);
    console.log(`wasm smoke in chromium: ${smoke.checks.map(([name, ok]) => `${ok ? 'ok' : 'FAILED'} ${name}`).join('; ')}`);
    expect(smoke.error).toBeUndefined();
    expect(smoke.checks.filter(([, ok]) => !ok)).toEqual([]);
    expect(smoke.checks).toHaveLength(6);
    expect(requests.every((url) => url.startsWith(base))).toBe(true);
  } finally {
    await browser.close();
  }
});
