import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openMonitor } from '@llm-monitor/driver-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, copyFixture, expectUsageError, expectUserError, removeDir, requireBuiltBin, runBin, sha256, startBin, tempDir } from './cli-harness.js';

let dir: string;
let app: string;

const INDEX = '<!doctype html><title>fake analyzer</title><script type="module" src="./assets/app.js"></script>';

beforeAll(() => {
  requireBuiltBin();
  dir = tempDir('serve');
  app = join(dir, 'app');
  mkdirSync(join(app, 'assets'), { recursive: true });
  writeFileSync(join(app, 'index.html'), INDEX);
  writeFileSync(join(app, 'assets', 'app.js'), 'console.log("analyzer");\n');
  writeFileSync(join(app, 'assets', 'sql.wasm'), Buffer.from([0, 97, 115, 109, 1, 0, 0, 0]));
});
afterAll(() => removeDir(dir));

/** Starts `llm-monitor serve …` and waits for the URL it prints. */
async function startServe(args: string[]) {
  const child = startBin(['serve', '--port', '0', ...args]);
  const { output, exited } = collect(child);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL printed; stderr: ${output.stderr}`)), 15_000);
    child.stdout.on('data', () => {
      const match = /Open (http:\/\/127\.0\.0\.1:\d+\/\?url=\/monitoring\.db)\n/.exec(output.stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    void exited.then((result) => reject(new Error(`exited early (${result.code}): ${result.stderr}`)));
  });
  return { child, url, exited, output };
}

async function summaryOfBytes(bytes: Uint8Array, name: string) {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  const monitor = await openMonitor(file, { readOnly: true });
  try {
    return await monitor.summary();
  } finally {
    await monitor.close();
  }
}

describe('serve', () => {
  it('serves the app and a rollback-mode snapshot of the database at /monitoring.db, over real HTTP', async () => {
    const db = copyFixture('normalized-v2-dev', dir);
    const before = sha256(db);
    const { child, url, exited } = await startServe(['--db', db, '--app', app]);
    try {
      const origin = new URL(url).origin;
      const page = await fetch(`${origin}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await page.text()).toBe(INDEX);
      const script = await fetch(`${origin}/assets/app.js`);
      expect(script.headers.get('content-type')).toMatch(/javascript/);
      expect((await fetch(`${origin}/assets/sql.wasm`)).headers.get('content-type')).toBe('application/wasm');
      expect((await fetch(`${origin}/no-such-file`)).status).toBe(404);

      const response = await fetch(`${origin}/monitoring.db`);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
      const bytes = new Uint8Array(await response.arrayBuffer());
      expect(Number(response.headers.get('content-length'))).toBe(bytes.length);
      expect(Buffer.from(bytes.subarray(0, 16)).toString('latin1')).toBe('SQLite format 3\u0000');
      expect([bytes[18], bytes[19]]).toEqual([1, 1]); // not WAL: sql.js opens it
      const source = await openMonitor(db, { readOnly: true });
      const expected = await source.summary();
      await source.close();
      expect(await summaryOfBytes(bytes, 'served-1.db')).toEqual(expected);
      expect((await fetch(`${origin}/monitoring.db`, { method: 'HEAD' })).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    const result = await exited;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Stopped (SIGTERM).');
    expect(result.stderr).toBe('');
    expect(sha256(db)).toBe(before);
  });

  it('takes a new snapshot when the database changed, so a reload shows new data too', async () => {
    const db = copyFixture('seed-v1-dev', dir);
    const { child, url, exited } = await startServe(['--db', db, '--app', app]);
    try {
      const origin = new URL(url).origin;
      const first = await summaryOfBytes(new Uint8Array(await (await fetch(`${origin}/monitoring.db`)).arrayBuffer()), 'served-2.db');
      const writer = await openMonitor(db);
      await writer.addModelRequest('Llama-3.3-70B-Instruct-Q4_K_M', [1710050000, 10, 10]);
      await writer.close();
      const second = await summaryOfBytes(new Uint8Array(await (await fetch(`${origin}/monitoring.db`)).arrayBuffer()), 'served-3.db');
      expect(second.total.requests).toBe(first.total.requests + 1);
    } finally {
      child.kill('SIGINT');
    }
    expect((await exited).code).toBe(0);
  });

  it('tells listening pages when the database changed (Server-Sent Events), named by a header of the database response', async () => {
    const db = copyFixture('seed-v1-dev', dir, 'live.db');
    const { child, url, exited } = await startServe(['--db', db, '--app', app]);
    try {
      const origin = new URL(url).origin;
      const database = await fetch(`${origin}/monitoring.db`);
      expect(database.headers.get('llm-monitor-events')).toBe('/events');
      const first = await summaryOfBytes(new Uint8Array(await database.arrayBuffer()), 'live-1.db');

      const events = await fetch(`${origin}/events`);
      expect(events.status).toBe(200);
      expect(events.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const reader = events.body!.pipeThrough(new TextDecoderStream()).getReader();
      let stream = '';
      const next = async (pattern: RegExp) => {
        const deadline = Date.now() + 15_000;
        while (!pattern.test(stream)) {
          if (Date.now() > deadline) throw new Error(`no ${pattern} in ${JSON.stringify(stream)}`);
          const { value, done } = await reader.read();
          if (done) throw new Error(`the stream ended: ${JSON.stringify(stream)}`);
          stream += value;
        }
      };
      await next(/retry: \d+\n\n/);
      expect(stream).not.toContain('event: change');

      const writer = await openMonitor(db);
      await writer.addModelRequest('Llama-3.3-70B-Instruct-Q4_K_M', [1710050000, 10, 10]);
      await writer.close();
      await next(/event: change\ndata: \{"snapshot":1\}\n\n/);
      // the snapshot announced is the one served
      const second = await summaryOfBytes(new Uint8Array(await (await fetch(`${origin}/monitoring.db`)).arrayBuffer()), 'live-2.db');
      expect(second.total.requests).toBe(first.total.requests + 1);
      await reader.cancel();
    } finally {
      child.kill('SIGTERM');
    }
    const result = await exited;
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
  });

  it('finds the analyzer bundled by the build, or says how to get one', async () => {
    const bundled = fileURLToPath(new URL('../dist/analyzer/index.html', import.meta.url));
    const db = copyFixture('seed-v1-dev', dir, 'bundled.db');
    if (existsSync(bundled)) {
      const { child, url, exited } = await startServe(['--db', db]);
      const page = await fetch(new URL(url).origin);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<html');
      child.kill('SIGTERM');
      expect((await exited).code).toBe(0);
    } else {
      expectUserError(await runBin(['serve', '--db', db, '--port', '0']), 'the analyzer app is not built');
    }
  });

  it('errors: missing database, no app, port in use, bad port', async () => {
    const missing = join(dir, 'missing.db');
    expectUserError(await runBin(['serve', '--db', missing, '--app', app, '--port', '0']), `no database at ${missing}`);
    expect(existsSync(missing)).toBe(false);
    const empty = join(dir, 'empty-app');
    mkdirSync(empty, { recursive: true });
    const db = copyFixture('seed-v1-dev', dir, 'errors.db');
    expectUserError(await runBin(['serve', '--db', db, '--app', empty, '--port', '0']), 'holds no index.html');
    const notDb = join(dir, 'not-a-db.txt');
    writeFileSync(notDb, 'hello, this is not SQLite at all, just some text that is long enough to look like a file');
    expectUserError(await runBin(['serve', '--db', notDb, '--app', app, '--port', '0']), 'is not a SQLite database');
    const { child, url, exited } = await startServe(['--db', db, '--app', app]);
    try {
      const port = new URL(url).port;
      expectUserError(await runBin(['serve', '--db', db, '--app', app, '--port', port]), `cannot listen on 127.0.0.1 port ${port}: the port is in use`);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    expectUsageError(await runBin(['serve', '--db', db, '--port', 'eighty']), 'expected a port number');
  });
});
