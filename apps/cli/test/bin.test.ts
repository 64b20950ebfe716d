import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openMonitor } from '@llm-monitor/driver-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from './fake-upstream.js';
import { post } from './harness.js';

/** The built bin: `pnpm build` (turbo runs it before `test`) must have run. */
const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

let upstream: FakeUpstream;
let dir: string;

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`pnpm --filter @llm-monitor/cli build\` first`);
  upstream = await startFakeUpstream();
  dir = mkdtempSync(join(tmpdir(), 'llm-monitor-bin-'));
});
afterAll(async () => {
  await upstream?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Exited {
  code: number | null;
  stdout: string;
  stderr: string;
}

function collect(child: ChildProcessWithoutNullStreams): { output: { stdout: string; stderr: string }; exited: Promise<Exited> } {
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exited = new Promise<Exited>((resolve) => child.on('close', (code) => resolve({ code, ...output })));
  return { output, exited };
}

/** Runs the bin to completion. */
function runBin(args: string[]): Promise<Exited> {
  return collect(spawn(process.execPath, [BIN, ...args], { cwd: dir })).exited;
}

/** Starts `llm-monitor proxy …` and waits for the URL it listens on. */
async function startBin(args: string[]) {
  const child = spawn(process.execPath, [BIN, 'proxy', ...args], { cwd: dir });
  const { output, exited } = collect(child);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line; stderr: ${output.stderr}`)), 15_000);
    const check = () => {
      const match = /Listening on (http:\/\/\S+)/.exec(output.stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout.on('data', check);
    void exited.then(() => reject(new Error(`exited early: ${output.stderr}`)));
  });
  return { child, url, exited };
}

describe('llm-monitor proxy (the built bin)', () => {
  it('records a request, then SIGTERM closes the runs and exits 0', async () => {
    const db = join(dir, 'term.db');
    const { child, url, exited } = await startBin(['--upstream', upstream.url, '--port', '0', '--db', db]);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const before = Date.now() / 1000;
    const body = { model: 'bin-model', messages: [{ role: 'user', content: 'a b c' }], max_tokens: 2, stream: true };
    const received = await post(`${url}/v1/chat/completions`, body, { 'x-fake-cached': '1' });
    expect(received.bytes.toString()).toBe((await post(`${upstream.url}/v1/chat/completions`, body, { 'x-fake-cached': '1' })).bytes.toString());
    child.kill('SIGTERM');
    const result = await exited;
    const stopped = Date.now() / 1000;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Stopped (SIGTERM)');
    expect(result.stderr).toBe('');

    const monitor = await openMonitor(db, { readOnly: true });
    try {
      const [row] = await monitor.getModelRequests('bin-model');
      expect(row).toMatchObject({ inputTokens: 3, outputTokens: 2, cacheN: 1, promptN: 2 });
      expect(row!.timestamp).toBeGreaterThanOrEqual(before);
      const runs = await monitor.getModelRuntime('bin-model');
      expect(runs).toHaveLength(1);
      // Closed at shutdown: the end is after the request, not the start of the run.
      expect(runs[0]!.endTime).toBeGreaterThanOrEqual(row!.timestamp);
      expect(runs[0]!.endTime).toBeLessThanOrEqual(stopped);
      const program = await monitor.getProgramRuntime();
      expect(program).toHaveLength(1);
      expect(program[0]!.endTime).toBeGreaterThanOrEqual(runs[0]!.endTime);
    } finally {
      await monitor.close();
    }
  });

  it('SIGINT during a stream: the upstream request is aborted, partial usage recorded, exit 0', async () => {
    const db = join(dir, 'int.db');
    const { child, url, exited } = await startBin(['--upstream', upstream.url, '--port', '0', '--db', db, '--model', 'fixed-name']);
    const response = await fetch(`${url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-fake-delay-ms': '30' },
      body: JSON.stringify({ model: 'claude-x', messages: [{ role: 'user', content: 'a b c d e' }], max_tokens: 500, stream: true }),
    });
    const reader = response.body!.getReader();
    let seen = '';
    while (!seen.includes('content_block_delta')) seen += Buffer.from((await reader.read()).value!).toString();
    child.kill('SIGINT');
    const result = await exited;
    expect(result.code).toBe(0);
    await reader.read().catch(() => undefined);
    const upstreamSide = upstream.requests.at(-1)!;
    for (let waited = 0; !upstreamSide.aborted && waited < 5000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(upstreamSide.aborted).toBe(true);
    const monitor = await openMonitor(db, { readOnly: true });
    try {
      expect((await monitor.listModels()).map((m) => m.name)).toEqual(['fixed-name']);
      expect(await monitor.getModelRequests('fixed-name')).toMatchObject([{ inputTokens: 5, outputTokens: 1 }]);
    } finally {
      await monitor.close();
    }
  });

  it('--help shows the options and examples, exit 0', async () => {
    const result = await runBin(['proxy', '--help']);
    expect(result.code).toBe(0);
    for (const text of ['--upstream <url>', '--model <name>', '--port <number>', '--host <address>', '--db <path>', 'Examples:', 'webui/monitoring.db'])
      expect(result.stdout).toContain(text);
    const top = await runBin(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('proxy');
  });

  it.each([
    [['proxy'], /required option '--upstream <url>'/],
    [['proxy', '--upstream', 'not a url'], /not a URL/],
    [['proxy', '--upstream', 'ftp://host'], /http:\/\/ or https:\/\//],
    [['proxy', '--upstream', 'http://127.0.0.1:1', '--port', '70000'], /port number/],
    [['proxy', '--upstream', 'http://127.0.0.1:1', '--bogus'], /unknown option/],
    [['bogus'], /unknown command/],
    [[], /Usage: llm-monitor/],
  ])('usage error %j exits 2', async (args, message) => {
    const result = await runBin(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('a file that is not a monitor database: exit 1, one line, no stack', async () => {
    const path = join(dir, 'notes.db');
    writeFileSync(path, 'these are my notes, not SQLite\n'.repeat(100));
    const result = await runBin(['proxy', '--upstream', upstream.url, '--port', '0', '--db', path]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^llm-monitor: cannot use .*notes\.db as the monitor database: /);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('a port in use: exit 1, one line', async () => {
    const taken = http.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = String((taken.address() as AddressInfo).port);
      const result = await runBin(['proxy', '--upstream', upstream.url, '--port', port, '--db', join(dir, 'port.db')]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`llm-monitor: cannot listen on 127.0.0.1 port ${port}: the port is in use\n`);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
