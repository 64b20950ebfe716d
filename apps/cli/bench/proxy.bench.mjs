// Benchmark of the recording proxy: requests per second and time to first byte, through the proxy
// (recording into a real SQLite monitor) against direct to the same fake upstream, all on 127.0.0.1,
// in the same run. The fake upstream and the proxy each run in a worker thread of their own; the load
// generator runs in the main thread. Run with `npm run bench:proxy` at the top (builds first), or
// `pnpm --filter @llm-monitor/cli bench` after `pnpm build`. Prints `name: value unit` lines.
//
// Environment: BENCH_REQUESTS (default 3000 per throughput run), BENCH_CONCURRENCY (32),
// BENCH_TTFB_SAMPLES (500), BENCH_STREAMS (200 concurrent streams).
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { openMonitor } from '@llm-monitor/driver-node';
import { createRecordingProxy } from '../dist/index.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 3000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const TTFB_SAMPLES = Number(process.env.BENCH_TTFB_SAMPLES ?? 500);
const STREAMS = Number(process.env.BENCH_STREAMS ?? 200);
const ROUNDS = 5;
const STREAM_CHUNKS = 20;

/** A minimal OpenAI-style chat completions server: a JSON answer, or STREAM_CHUNKS events and a usage chunk. */
function fakeUpstream() {
  return http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
      const usage = { prompt_tokens: 12, completion_tokens: STREAM_CHUNKS, total_tokens: 12 + STREAM_CHUNKS };
      if (!body.stream) {
        const json = JSON.stringify({ id: 'x', object: 'chat.completion', model: body.model, choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }], usage });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
        res.end(json);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (choices, extra = {}) => `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', model: body.model, choices, ...extra })}\n\n`;
      for (let i = 0; i < STREAM_CHUNKS; i++) res.write(chunk([{ index: 0, delta: { content: `t${i} ` }, finish_reason: null }]));
      res.write(chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]));
      if (body.stream_options?.include_usage) res.write(chunk([], { usage }));
      res.end('data: [DONE]\n\n');
    });
  });
}

const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`)));

const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(CONCURRENCY, STREAMS) });

/** One POST; resolves { ttfb, total } in milliseconds once the whole body has been read. */
function request(base, body) {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const start = performance.now();
    let ttfb = -1;
    const req = http.request(`${base}/v1/chat/completions`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      res.on('data', () => {
        if (ttfb < 0) ttfb = performance.now() - start;
      });
      res.on('end', () => (res.statusCode === 200 ? resolve({ ttfb, total: performance.now() - start }) : reject(new Error(`status ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

async function throughput(base, stream, count) {
  let next = 0;
  const start = performance.now();
  const worker = async () => {
    while (next < count) {
      next++;
      await request(base, { model: 'bench-model', messages: [{ role: 'user', content: 'hello' }], stream });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return count / ((performance.now() - start) / 1000);
}

function percentiles(samples) {
  samples.sort((a, b) => a - b);
  const at = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  return { p50: at(0.5), p99: at(0.99) };
}

const STREAM_BODY = { model: 'bench-model', messages: [{ role: 'user', content: 'hello' }], stream: true };

/** Time to first byte of `count` streams sent one after another. */
async function sequentialTtfb(base, count) {
  const samples = [];
  for (let i = 0; i < count; i++) samples.push((await request(base, STREAM_BODY)).ttfb);
  return samples;
}

/** Time to first byte of `count` streams sent at once. */
async function concurrentTtfb(base, count) {
  return (await Promise.all(Array.from({ length: count }, () => request(base, STREAM_BODY)))).map((result) => result.ttfb);
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * `measure` direct and through the proxy in ROUNDS alternating rounds (so that load from elsewhere on
 * the machine hits both alike); the median over rounds of each round's p50 and p99.
 */
async function alternate(upstream, proxied, measure) {
  const rounds = { direct: [], proxy: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? ['direct', 'proxy'] : ['proxy', 'direct'];
    for (const side of order) rounds[side].push(percentiles(await measure(side === 'direct' ? upstream : proxied)));
  }
  const summary = (side) => ({ p50: median(rounds[side].map((r) => r.p50)), p99: median(rounds[side].map((r) => r.p99)) });
  return { direct: summary('direct'), proxy: summary('proxy') };
}

/** Worker side: serve the fake upstream, or the proxy; on 'stop', report the rows and close. */
async function serve(role) {
  if (role === 'upstream') {
    const server = fakeUpstream();
    parentPort.postMessage({ url: await listen(server) });
    parentPort.once('message', () => {
      server.closeAllConnections();
      server.close();
      parentPort.close();
    });
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'llm-monitor-bench-'));
  const monitor = await openMonitor(join(dir, 'monitoring.db'));
  const proxy = createRecordingProxy({ upstream: workerData.upstream, monitor });
  await proxy.start();
  const server = http.createServer(proxy);
  parentPort.postMessage({ url: await listen(server) });
  parentPort.once('message', async () => {
    await proxy.flush();
    const rows = (await monitor.getModelRequests('bench-model')).length;
    server.closeAllConnections();
    server.close();
    await proxy.close();
    await monitor.close();
    rmSync(dir, { recursive: true, force: true });
    parentPort.postMessage({ rows });
    parentPort.close();
  });
}

/** Starts this file in a worker with `role`; resolves the worker and the URL it serves. */
function startWorker(role, data = {}) {
  const worker = new Worker(new URL(import.meta.url), { workerData: { role, ...data } });
  return new Promise((resolve, reject) => {
    worker.once('message', ({ url }) => resolve({ worker, url }));
    worker.once('error', reject);
  });
}

async function main() {
  const upstreamWorker = await startWorker('upstream');
  const upstream = upstreamWorker.url;
  const proxyWorker = await startWorker('proxy', { upstream });
  const proxied = proxyWorker.url;

  const line = (name, value, unit) => console.log(`${name}: ${value.toFixed(unit === 'ms' ? 3 : 0)} ${unit}`);
  const ratio = (name, value) => console.log(`${name}: ${value.toFixed(2)}x`);
  console.log(`# ${REQUESTS} requests ${CONCURRENCY} at a time per throughput run; time to first byte: median over ${ROUNDS} alternating rounds of ${TTFB_SAMPLES / ROUNDS} sequential streams, and of ${STREAMS} concurrent streams`);
  try {
    // Warm up both paths (JIT, sockets, the model's tables).
    await throughput(upstream, true, 200);
    await throughput(proxied, true, 200);

    for (const stream of [false, true]) {
      const kind = stream ? 'streamed' : 'non_streamed';
      const direct = await throughput(upstream, stream, REQUESTS);
      const through = await throughput(proxied, stream, REQUESTS);
      line(`direct_${kind}_rps`, direct, 'req/s');
      line(`proxy_${kind}_rps`, through, 'req/s');
      ratio(`proxy_vs_direct_${kind}_rps`, through / direct);
    }
    const report = (prefix, { direct, proxy }) => {
      line(`direct_${prefix}ttfb_p50`, direct.p50, 'ms');
      line(`direct_${prefix}ttfb_p99`, direct.p99, 'ms');
      line(`proxy_${prefix}ttfb_p50`, proxy.p50, 'ms');
      line(`proxy_${prefix}ttfb_p99`, proxy.p99, 'ms');
      line(`added_${prefix}ttfb_p50`, proxy.p50 - direct.p50, 'ms');
      line(`added_${prefix}ttfb_p99`, proxy.p99 - direct.p99, 'ms');
    };
    report('', await alternate(upstream, proxied, (base) => sequentialTtfb(base, TTFB_SAMPLES / ROUNDS)));
    report(`${STREAMS}_streams_`, await alternate(upstream, proxied, (base) => concurrentTtfb(base, STREAMS)));
  } finally {
    agent.destroy();
    const rows = new Promise((resolve) => proxyWorker.worker.once('message', ({ rows }) => resolve(rows)));
    proxyWorker.worker.postMessage('stop');
    upstreamWorker.worker.postMessage('stop');
    const recorded = await rows;
    line('rows_recorded', recorded, 'rows');
    // The proxied warm-up, both throughput runs, the TTFB samples and the concurrent streams.
    const expected = 200 + 2 * REQUESTS + TTFB_SAMPLES + ROUNDS * STREAMS;
    if (recorded !== expected) {
      console.error(`expected ${expected} recorded rows, found ${recorded}`);
      process.exitCode = 1;
    }
  }
}

if (isMainThread) await main();
else await serve(workerData.role);
