// Ingest benchmark: how fast the Monitor records requests on a file database, next to bare
// better-sqlite3 with the same journal (WAL) and synchronous (NORMAL) settings, in the same run.
// Prints `name: value unit` lines.
//   node bench/ingest.mjs [--requests 100000] [--processes 4] [--inflight 8] [--memory 1000000] [--only single|batch|concurrent|memory]
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { getSafeModelName } from '@llm-monitor/core';
import { openMonitor } from '@llm-monitor/driver-node';
import Database from 'better-sqlite3';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '100000' },
    processes: { type: 'string', default: '4' },
    inflight: { type: 'string', default: '8' },
    only: { type: 'string' },
    memory: { type: 'string', default: '1000000' },
    role: { type: 'string' },
    db: { type: 'string' },
    writer: { type: 'string' },
    start: { type: 'string' },
  },
});
const N = Number(values.requests);
const T0 = 1_767_225_600;
const line = (name, value, unit) => console.log(`${name}: ${value} ${unit}`);
const ms = (ns) => Number(ns) / 1e6;
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** The table the bare statements write: a model's requests table, created by the Monitor (same layout and index). */
const BARE_TABLE = `"${getSafeModelName('bare')}_requests"`;
const BARE_INSERT = `INSERT INTO ${BARE_TABLE} (timestamp, input_tokens, output_tokens, cache_n, prompt_n) VALUES (?, ?, ?, 0, 0)`;

/** A file whose model 'bare' the bare statements write to, with the Monitor's journal and synchronous settings. */
async function bareDatabase(path) {
  await (await openMonitor(path, { models: ['bare'] })).close();
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  return db;
}

// ---- a writer process for the concurrent part -------------------------------------------------------
if (values.role === 'monitor-writer' || values.role === 'bare-writer') {
  const writer = Number(values.writer);
  const count = N;
  const inflight = Number(values.inflight);
  const latencies = new Float64Array(count);
  let busy = 0;
  let errors = 0;
  while (Date.now() < Number(values.start)) await new Promise((resolve) => setTimeout(resolve, 1));
  const started = process.hrtime.bigint();
  if (values.role === 'monitor-writer') {
    const monitor = await openMonitor(values.db, { busyTimeoutMs: 60_000 });
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const i = next++;
        const t = process.hrtime.bigint();
        try {
          await monitor.addModelRequest('shared-model', [T0 + writer * 1e6 + i, writer, i]);
        } catch (error) {
          if (error.code === 'BUSY') busy++;
          else errors++;
        }
        latencies[i] = ms(process.hrtime.bigint() - t);
      }
    };
    await Promise.all(Array.from({ length: inflight }, worker));
    await monitor.close();
  } else {
    const db = new Database(values.db, { timeout: 60_000 });
    const insert = db.prepare(BARE_INSERT);
    for (let i = 0; i < count; i++) {
      const t = process.hrtime.bigint();
      try {
        insert.run(T0 + writer * 1e6 + i, writer, i);
      } catch (error) {
        if (String(error.code).startsWith('SQLITE_BUSY')) busy++;
        else errors++;
      }
      latencies[i] = ms(process.hrtime.bigint() - t);
    }
    db.close();
  }
  const seconds = ms(process.hrtime.bigint() - started) / 1000;
  process.send({ latencies: Array.from(latencies), busy, errors, seconds }, () => process.exit(0));
} else {
  await main();
}

async function concurrent(role, path, processes, perProcess, inflight) {
  const start = Date.now() + 1500;
  const children = Array.from({ length: processes }, (_, writer) =>
    fork(new URL(import.meta.url).pathname, ['--role', role, '--db', path, '--writer', String(writer), '--start', String(start), '--requests', String(perProcess), '--inflight', String(inflight)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  const results = await Promise.all(
    children.map((child) => new Promise((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code) => code !== 0 && reject(new Error(`writer exited with ${code}`)));
    })),
  );
  const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const seconds = Math.max(...results.map((r) => r.seconds));
  return {
    rps: (processes * perProcess) / seconds,
    busy: results.reduce((n, r) => n + r.busy, 0),
    errors: results.reduce((n, r) => n + r.errors, 0),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1],
  };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'llm-monitor-ingest-'));
  try {
    line('requests', N, 'rows');

    // 1. one call per request, awaited one after another (the original's usage pattern)
    if (!values.only || values.only === 'single') {
      const bare = await bareDatabase(join(dir, 'single-bare.db'));
      const insert = bare.prepare(BARE_INSERT);
      let t = process.hrtime.bigint();
      for (let i = 0; i < N; i++) insert.run(T0 + i, 100, 50);
      const bareMs = ms(process.hrtime.bigint() - t);
      bare.close();
      const monitor = await openMonitor(join(dir, 'single.db'), { models: ['m'] });
      t = process.hrtime.bigint();
      for (let i = 0; i < N; i++) await monitor.addModelRequest('m', [T0 + i, 100, 50]);
      const monitorMs = ms(process.hrtime.bigint() - t);
      await monitor.close();
      line('single_bare_rps', Math.round((N / bareMs) * 1000), 'requests/s');
      line('single_monitor_rps', Math.round((N / monitorMs) * 1000), 'requests/s');
      line('single_ratio', (monitorMs / bareMs).toFixed(2), 'x');
    }

    // 2. batches of 1,000 in one transaction each
    if (!values.only || values.only === 'batch') {
      const bare = await bareDatabase(join(dir, 'batch-bare.db'));
      const insert = bare.prepare(BARE_INSERT);
      const loop = bare.transaction((from, to) => {
        for (let i = from; i < to; i++) insert.run(T0 + i, 100, 50);
      });
      let t = process.hrtime.bigint();
      for (let i = 0; i < N; i += 1000) loop(i, Math.min(N, i + 1000));
      const bareMs = ms(process.hrtime.bigint() - t);
      bare.close();
      const monitor = await openMonitor(join(dir, 'batch.db'), { models: ['m'] });
      t = process.hrtime.bigint();
      for (let i = 0; i < N; i += 1000) {
        const rows = [];
        for (let k = i; k < Math.min(N, i + 1000); k++) rows.push([T0 + k, 100, 50]);
        await monitor.addModelRequests('m', rows);
      }
      const monitorMs = ms(process.hrtime.bigint() - t);
      await monitor.close();
      line('batch_bare_rps', Math.round((N / bareMs) * 1000), 'requests/s');
      line('batch_monitor_rps', Math.round((N / monitorMs) * 1000), 'requests/s');
      line('batch_ratio', (monitorMs / bareMs).toFixed(2), 'x');
    }

    // 3. several processes writing to one file at once
    if (!values.only || values.only === 'concurrent') {
      const processes = Number(values.processes);
      const perProcess = Math.floor(N / processes);
      const barePath = join(dir, 'concurrent-bare.db');
      (await bareDatabase(barePath)).close();
      const bare = await concurrent('bare-writer', barePath, processes, perProcess, 1);
      const path = join(dir, 'concurrent.db');
      (await openMonitor(path, { models: ['shared-model'] })).close();
      const result = await concurrent('monitor-writer', path, processes, perProcess, Number(values.inflight));
      const check = new Database(path, { readonly: true });
      const table = `"${getSafeModelName('shared-model')}_requests"`;
      const found = check.prepare(`SELECT COUNT(*) AS n, COUNT(DISTINCT timestamp) AS d FROM ${table}`).get();
      check.close();
      line('concurrent_processes', processes, 'processes');
      line('concurrent_inflight_per_process', values.inflight, 'calls');
      line('concurrent_bare_rps', Math.round(bare.rps), 'requests/s');
      line('concurrent_bare_p99_ms', bare.p99.toFixed(2), 'ms');
      line('concurrent_bare_max_ms', bare.max.toFixed(2), 'ms');
      line('concurrent_monitor_rps', Math.round(result.rps), 'requests/s');
      line('concurrent_monitor_p50_ms', result.p50.toFixed(2), 'ms');
      line('concurrent_monitor_p99_ms', result.p99.toFixed(2), 'ms');
      line('concurrent_monitor_max_ms', result.max.toFixed(2), 'ms');
      line('concurrent_rows_lost', processes * perProcess - found.n, 'rows');
      line('concurrent_rows_duplicated', found.n - found.d, 'rows');
      line('concurrent_busy_errors', result.busy, 'errors');
      line('concurrent_other_errors', result.errors, 'errors');
    }

    // 4. resident memory while recording many requests: flat, not growing with the row count
    if (!values.only || values.only === 'memory') {
      const total = Number(values.memory);
      const monitor = await openMonitor(join(dir, 'memory.db'), { models: ['m'] });
      const samples = [];
      const step = total / 10;
      for (let i = 0; i < total; i += 1000) {
        const rows = [];
        for (let k = i; k < i + 1000; k++) rows.push([T0 + k, 100, 50]);
        await monitor.addModelRequests('m', rows);
        if ((i + 1000) % step === 0) {
          globalThis.gc?.();
          samples.push(process.memoryUsage().rss / 2 ** 20);
        }
      }
      await monitor.close();
      line('memory_rows', total, 'rows');
      line('memory_rss_each_tenth_mib', samples.map((m) => m.toFixed(1)).join(','), 'MiB');
      line('memory_rss_first_mib', samples[0].toFixed(1), 'MiB');
      line('memory_rss_last_mib', samples[samples.length - 1].toFixed(1), 'MiB');
      line('memory_rss_max_mib', Math.max(...samples).toFixed(1), 'MiB');
      // the caches (SQLite's pages, the WAL index, V8's heap) fill during the first part; after that, flat
      line('memory_growth_second_half_mib', (samples[samples.length - 1] - samples[Math.floor(samples.length / 2) - 1]).toFixed(1), 'MiB');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
