import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxyServer, createRecordingProxy } from '../src/index.js';
import { BIN, collect, removeDir, requireBuiltBin, runBin, tempDir } from './cli-harness.js';
import { type FakeUpstream, startFakeUpstream } from './fake-upstream.js';
import { monitorWith, post, rowsOf, startProxy, uniqueModel } from './harness.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const MESSAGES = [{ role: 'user', content: 'one two three' }];

let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = await startFakeUpstream();
});
afterAll(async () => {
  await upstream?.close();
});

/** Sends raw bytes on a new connection; resolves what came back by the time the server closed it (or `ms` passed). */
function rawExchange(port: number, write: (socket: net.Socket) => void, ms = 5000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed });
    };
    const timer = setTimeout(() => done(false), ms);
    socket.on('data', (data: Buffer) => (text += data.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => done(true));
    socket.on('connect', () => write(socket));
  });
}

/**
 * Streams up to `total` bytes as a chunked POST body, as a client that reads the answer while it
 * uploads (curl, browsers): it stops sending when a response arrives. Resolves the bytes written and the answer.
 */
function hugeChunkedPost(port: number, path: string, total: number): Promise<{ sent: number; text: string }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const block = Buffer.alloc(1024 * 1024, 0x20);
    const frame = Buffer.concat([Buffer.from(`${block.length.toString(16)}\r\n`), block, Buffer.from('\r\n')]);
    let sent = 0;
    let text = '';
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      socket.destroy();
      resolve({ sent, text });
    };
    const pump = () => {
      while (!finished && sent < total) {
        sent += block.length;
        if (!socket.write(frame)) return void socket.once('drain', pump);
      }
      if (!finished) socket.end('0\r\n\r\n');
    };
    socket.on('data', (data: Buffer) => {
      text += data.toString('latin1');
      if (text.includes('\r\n\r\n')) finish();
    });
    socket.on('error', finish);
    socket.on('close', finish);
    socket.on('connect', () => {
      socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
      socket.write(`${(12).toString(16)}\r\n{"model":"x"\r\n`);
      pump();
    });
  });
}

describe('request bodies are bounded', () => {
  it('a declared Content-Length over the limit is answered 413 at once, nothing read or forwarded', async () => {
    const proxy = await startProxy(upstream.url, { maxRequestBytes: 1024 * 1024 });
    try {
      const before = upstream.requests.length;
      for (const path of ['/v1/chat/completions', '/v1/audio/transcriptions']) {
        const { text, closed } = await rawExchange(Number(new URL(proxy.url).port), (socket) => {
          socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4831838208\r\n\r\n`);
          socket.write(Buffer.alloc(64 * 1024, 0x20));
        });
        expect(text).toMatch(/^HTTP\/1\.1 413 /);
        expect(text).toContain('"type":"request_too_large"');
        expect(closed).toBe(true);
      }
      expect(upstream.requests.length).toBe(before);
    } finally {
      await proxy.close();
    }
  });

  it('a chunked body that grows over the limit is answered 413 and cut, on recorded and forwarded paths', async () => {
    const proxy = await startProxy(upstream.url, { maxRequestBytes: 2 * 1024 * 1024 });
    try {
      const port = Number(new URL(proxy.url).port);
      for (const path of ['/v1/chat/completions', '/v1/files']) {
        const { sent, text } = await hugeChunkedPost(port, path, 256 * 1024 * 1024);
        expect(text).toMatch(/^HTTP\/1\.1 413 /);
        expect(sent).toBeLessThan(64 * 1024 * 1024);
      }
      // Just under the limit is fine.
      const model = uniqueModel('under-limit');
      const body = JSON.stringify({ model, messages: [{ role: 'user', content: 'x'.repeat(2 * 1024 * 1024 - 200) }], max_tokens: 1 });
      expect(Buffer.byteLength(body)).toBeLessThan(2 * 1024 * 1024);
      expect((await post(`${proxy.url}/v1/chat/completions`, body)).status).toBe(200);
      await proxy.proxy.flush();
      expect(await rowsOf(proxy.monitor, model)).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });
});

describe('models are registered only for recorded responses, and at a bounded rate', () => {
  it('requests the upstream refused, or sent while it was down, leave no model and no run', async () => {
    const proxy = await startProxy(upstream.url);
    const free = http.createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const downPort = (free.address() as AddressInfo).port;
    await new Promise((resolve) => free.close(resolve));
    const down = await startProxy(`http://127.0.0.1:${downPort}`);
    try {
      const sends: Promise<unknown>[] = [];
      for (let i = 0; i < 150; i++) {
        const status = ['404', '400', '503'][i % 3]!;
        sends.push(post(`${proxy.url}/v1/chat/completions`, { model: `refused-${i}`, messages: MESSAGES, stream: i % 2 === 0 }, { 'x-fake-status': status }));
        sends.push(post(`${down.url}/api/chat`, { model: `down-${i}`, messages: MESSAGES }));
      }
      await Promise.all(sends);
      await Promise.all([proxy.proxy.flush(), down.proxy.flush()]);
      expect(await proxy.monitor.listModels()).toEqual([]);
      expect(await down.monitor.listModels()).toEqual([]);
    } finally {
      await proxy.close();
      await down.close();
    }
  });

  it('a proxy starts recording at most maxNewModelsPerMinute new models a minute; it says so; known models go on', async () => {
    const proxy = await startProxy(upstream.url, { maxNewModelsPerMinute: 3 });
    try {
      const names = Array.from({ length: 8 }, (_, i) => uniqueModel(`flood-${i}`));
      for (const name of names) expect((await post(`${proxy.url}/v1/embeddings`, { model: name, input: 'a b' })).status).toBe(200);
      expect((await post(`${proxy.url}/v1/embeddings`, { model: names[0], input: 'a b c' })).status).toBe(200);
      await proxy.proxy.flush();
      expect((await proxy.monitor.listModels()).map((model) => model.name).sort()).toEqual(names.slice(0, 3).sort());
      expect(await rowsOf(proxy.monitor, names[0]!)).toHaveLength(2);
      const refusals = proxy.logs.filter((line) => line.startsWith('not recording a request of new model'));
      expect(refusals[0]).toContain(JSON.stringify(names[3]));
      expect(refusals[0]).toContain('at most 3 new models per minute');
      // The first refusal is logged at once; the rest are counted into one line (at close, here).
      await proxy.proxy.close();
      expect(proxy.logs.filter((line) => line.startsWith('not recording')).join('\n')).toContain('and 3 more request(s) of new models');
    } finally {
      await proxy.close();
    }
  });

  it('model names that are Object.prototype keys are recorded like any other', async () => {
    const proxy = await startProxy(upstream.url, { metrics: true });
    try {
      const names = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];
      for (const name of names) await post(`${proxy.url}/v1/chat/completions`, { model: name, messages: MESSAGES, max_tokens: 2 });
      await proxy.proxy.flush();
      for (const name of names) expect((await rowsOf(proxy.monitor, name)).map(({ timestamp: _, ...row }) => row)).toEqual([{ inputTokens: 3, outputTokens: 2, cacheN: 0, promptN: 3 }]);
      const text = await (await fetch(`${proxy.url}/metrics`)).text();
      for (const name of names) expect(text).toContain(`llm_monitor_proxy_input_tokens_total{model="${name}"} 3`);
    } finally {
      await proxy.close();
    }
  });
});

describe('the heartbeat moves only the runs of models seen recently', () => {
  it('a model idle for modelIdleMs gets one last update and its run ends; its next request starts a new run', async () => {
    const { openMonitor } = await import('@llm-monitor/driver-node');
    const dir = tempDir('heartbeat');
    const monitor = await openMonitor(join(dir, 'monitoring.db'));
    const updates = new Map<string, number>();
    const counting = monitorWith(monitor, {
      updateModelRuntimeEnd: (name, time, runId) => {
        updates.set(name, (updates.get(name) ?? 0) + 1);
        return monitor.updateModelRuntimeEnd(name, time, runId);
      },
      updateProgramRuntimeEnd: (time, runId) => {
        updates.set('(program)', (updates.get('(program)') ?? 0) + 1);
        return monitor.updateProgramRuntimeEnd(time, runId);
      },
    });
    const proxy = createRecordingProxy({ upstream: upstream.url, monitor: counting, heartbeatMs: 25, modelIdleMs: 150, log: () => undefined });
    const server = http.createServer(proxy);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await proxy.start();
      const quiet = uniqueModel('quiet');
      await post(`${base}/v1/chat/completions`, { model: quiet, messages: MESSAGES, max_tokens: 1 });
      await proxy.flush();
      const lastRequest = (await monitor.getModelRequests(quiet))[0]!.timestamp;
      await sleep(400);
      const settled = updates.get(quiet) ?? 0;
      const program = updates.get('(program)') ?? 0;
      await sleep(300);
      // No more writes for the idle model, while the program run still beats.
      expect(updates.get(quiet)).toBe(settled);
      expect(updates.get('(program)')!).toBeGreaterThan(program);
      const [run] = await monitor.getModelRuntime(quiet);
      expect(run!.endTime - lastRequest).toBeGreaterThanOrEqual(0.15);
      expect(run!.endTime - lastRequest).toBeLessThan(0.4);
      await post(`${base}/v1/chat/completions`, { model: quiet, messages: MESSAGES, max_tokens: 1 });
      await proxy.flush();
      expect(await monitor.getModelRuntime(quiet)).toHaveLength(2);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await proxy.close();
      await monitor.close();
      removeDir(dir);
    }
  });
});

describe('createProxyServer: header, idle and connection limits', () => {
  const startServer = async (options: Parameters<typeof createProxyServer>[1]) => {
    const server = createProxyServer((req, res) => {
      if (req.url === '/slow') return void setTimeout(() => res.end('slow'), 400);
      res.end('ok');
    }, options);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { server, port: (server.address() as AddressInfo).port };
  };

  it('closes a connection that sends nothing, or not all its headers, within headersTimeoutMs', async () => {
    const { server, port } = await startServer({ headersTimeoutMs: 300 });
    try {
      const started = Date.now();
      const [silent, partial] = await Promise.all([rawExchange(port, () => undefined, 5000), rawExchange(port, (socket) => socket.write('POST / HTTP/1.1\r\nHost: x\r\n'), 5000)]);
      expect(silent.closed).toBe(true);
      expect(partial.closed).toBe(true);
      expect(partial.text).toMatch(/^HTTP\/1\.1 408 /);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('at maxConnections, a new client closes the oldest idle connection; a busy one is never closed', async () => {
    const { server, port } = await startServer({ maxConnections: 20 });
    try {
      const busy = fetch(`http://127.0.0.1:${port}/slow`).then((response) => response.text());
      await sleep(50);
      const idle = await Promise.all(Array.from({ length: 60 }, () => new Promise<net.Socket>((resolve) => {
        const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
        socket.on('error', () => undefined);
        socket.on('end', () => socket.destroy());
      })));
      // The server closed the oldest idle ones as the new ones came; their close reaches this side in a moment.
      const open = () => idle.filter((socket) => !socket.destroyed && !socket.readableEnded).length;
      for (let waited = 0; open() > 20 && waited < 5000; waited += 20) await sleep(20);
      expect(open()).toBeLessThanOrEqual(20);
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('ok');
      expect(await busy).toBe('slow');
      for (const socket of idle) socket.destroy();
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

/** `llm-monitor proxy` under `ulimit -n`, and its peak memory from /proc. */
async function startLimitedBin(args: string[], openFiles: number) {
  const child: ChildProcessWithoutNullStreams = spawn('bash', ['-c', `ulimit -n ${openFiles} && exec "$0" "$@"`, process.execPath, BIN, 'proxy', ...args], { env: { ...process.env, TZ: 'UTC' } });
  const { output, exited } = collect(child);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line; stderr: ${output.stderr}`)), 15_000);
    child.stdout.on('data', () => {
      const match = /Listening on (http:\/\/\S+)/.exec(output.stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    void exited.then(() => reject(new Error(`exited early: ${output.stderr}`)));
  });
  const memory = (field: 'VmRSS' | 'VmHWM') => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]) * 1024;
  return { child, url, port: Number(new URL(url).port), exited, output, memory };
}

describe('llm-monitor proxy (the built bin) under attack', () => {
  let dir: string;
  beforeAll(() => {
    requireBuiltBin();
    dir = tempDir('proxy-limits');
  });
  afterAll(() => removeDir(dir));

  it('1 GB and 4.5 GB POSTs: 413, memory does not grow; 1,100 idle connections under ulimit -n 1024 lock nobody out', async () => {
    const bin = await startLimitedBin(['--upstream', upstream.url, '--port', '0', '--db', join(dir, 'attack.db')], 1024);
    try {
      expect((await post(`${bin.url}/v1/chat/completions`, { model: 'warm', messages: MESSAGES })).status).toBe(200);
      const baseline = bin.memory('VmRSS');

      const gigabyte = await hugeChunkedPost(bin.port, '/v1/chat/completions', 1024 ** 3);
      expect(gigabyte.text).toMatch(/^HTTP\/1\.1 413 /);
      const declared = await rawExchange(bin.port, (socket) => {
        socket.write('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4831838208\r\n\r\n');
        socket.write(Buffer.alloc(8 * 1024 * 1024, 0x20));
      });
      expect(declared.text).toMatch(/^HTTP\/1\.1 413 /);
      const grown = bin.memory('VmHWM') - baseline;
      console.log(`proxy RSS ${(baseline / 2 ** 20).toFixed(1)} MiB before, peak ${(bin.memory('VmHWM') / 2 ** 20).toFixed(1)} MiB after a 1 GB chunked and a 4.5 GB declared POST (${(gigabyte.sent / 2 ** 20).toFixed(0)} MiB of the 1 GB sent before the 413)`);
      expect(grown).toBeLessThan(96 * 1024 * 1024);

      const idle: net.Socket[] = [];
      await Promise.all(
        Array.from({ length: 1100 }, () => new Promise<void>((resolve) => {
          const socket = net.connect(bin.port, '127.0.0.1', () => resolve());
          socket.on('error', () => resolve());
          socket.on('close', () => resolve());
          idle.push(socket);
        })),
      );
      const started = Date.now();
      const legit = await post(`${bin.url}/v1/chat/completions`, { model: 'legit', messages: MESSAGES });
      console.log(`a client after 1,100 idle connections: ${legit.status} in ${Date.now() - started} ms, ${idle.filter((socket) => !socket.destroyed).length} idle connections still open`);
      expect(legit.status).toBe(200);
      for (const socket of idle) socket.destroy();
      expect(bin.child.exitCode).toBeNull();
    } finally {
      bin.child.kill('SIGTERM');
      await bin.exited;
    }
  }, 60_000);

  it('a busy port: exit 1 with one line, and no database created', async () => {
    const taken = http.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = String((taken.address() as AddressInfo).port);
      const folder = join(dir, 'never-created');
      const result = await runBin(['proxy', '--upstream', upstream.url, '--port', port, '--db', join(folder, 'monitoring.db')]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`llm-monitor: cannot listen on 127.0.0.1 port ${port}: the port is in use\n`);
      expect(existsSync(folder)).toBe(false);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
