// Analytics benchmark: builds files with 1,000,000 requests over 10 models (30 days), then times
// monitor.summary() and an hourly monitor.series() over the 30 days next to bare SQL on the same file, in
// the same process. Prints `name: value unit` lines.
//
// Two cases:
// - `default`: 7 tier-billed models without runs and 3 hourly ones with a 12-hour run a day; the bare SQL
//   is the least one would write: per model the requests grouped by tier (and by UTC hour for the series).
// - `all_runs`: every model has a 12-hour run a day. Idle time (runtime in 15-minute slots without a
//   request) then needs every model's requests by 15-minute slot, so the bare SQL for the same figures
//   groups by slot and tier and reads the runs; for the series, by UTC hour and tier, and the runs.
//
// With --scaling it times summary() over the whole window and over its last 24 hours on files of 100,000,
// 1,000,000 and 10,000,000 requests (the all_runs data at one rate, about 33,000 requests a day, so that
// the files hold 3, 30 and 300 days), on SQLite and, with a server, on PostgreSQL (the SQLite file copied
// in with copyDatabase): the whole window should grow with the requests, the last 24 hours (the same
// number of requests in every file) stay flat: an index range scan, whatever the history before it.
//   node bench/analytics.mjs [--requests 1000000] [--models 10] [--runs 9] [--keep dir] [--scaling] [--pg url]
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { getSafeModelName } from '@llm-monitor/core';
import { openMonitor } from '@llm-monitor/driver-node';
import Database from 'better-sqlite3';
import { END, FROM, medianMs, modelNames, pairedMs, recordAnalyticsData } from './analytics-data.mjs';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '1000000' },
    models: { type: 'string', default: '10' },
    runs: { type: 'string', default: '9' },
    keep: { type: 'string' },
    scaling: { type: 'boolean', default: false },
    pg: { type: 'string', default: process.env.LLM_MONITOR_PG_URL },
  },
});
const REQUESTS = Number(values.requests);
const MODELS = Number(values.models);
const RUNS = Number(values.runs);
const dir = values.keep ?? mkdtempSync(join(tmpdir(), 'llm-monitor-bench-'));
mkdirSync(dir, { recursive: true });
const names = modelNames(MODELS);
const line = (name, value, unit) => console.log(`${name}: ${value} ${unit}`);
const time = (fn) => medianMs(fn, RUNS);

/** A file of the benchmark's data (kept in --keep dir and reused). */
async function benchFile(requests, allRuns, days = undefined) {
  const path = join(dir, `bench-${requests}-${allRuns ? 'all-runs' : 'default'}${days ? `-${days}d` : ''}.db`);
  if (existsSync(path)) return path;
  const started = process.hrtime.bigint();
  const partial = `${path}.partial`;
  rmSync(partial, { force: true });
  const monitor = await openMonitor(partial, { models: names });
  await recordAnalyticsData(monitor, names, requests, { allRuns, ...(days ? { days } : {}) });
  await monitor.close();
  renameSync(partial, path);
  line(`build_${requests}_${allRuns ? 'all_runs' : 'default'}${days ? `_${days}d` : ''}_seconds`, (Number(process.hrtime.bigint() - started) / 1e9).toFixed(2), 's');
  return path;
}

const TIER = 'CASE WHEN input_tokens >= 0 AND input_tokens <= 32768 THEN 1 WHEN input_tokens >= 32769 AND input_tokens <= 131072 THEN 2 WHEN input_tokens >= 131073 THEN 3 ELSE NULL END';
const tierOf = (i, allRuns) => (i % 3 === 2 && !allRuns ? '0' : TIER);
const SUMS = 'COUNT(*) AS n, SUM(input_tokens) AS i, SUM(output_tokens) AS o, SUM(MIN(cache_n, input_tokens)) AS c, MIN(timestamp) AS f, MAX(timestamp) AS l';

/**
 * The SQL one would write by hand for the same figures, prepared once: per model the requests of the
 * window grouped as the case needs, and (where the figures include runtime) the runs overlapping it.
 * Nothing else: no validation, no billing reads, no JS roll-up.
 */
function bareStatements(db, allRuns) {
  const requests = (i, group) => {
    const table = `"${getSafeModelName(names[i])}_requests"`;
    const by = group === 'tier' ? '' : `CAST(timestamp / ${group === 'slot' ? 900 : 3600} AS INTEGER) AS g, `;
    return db.prepare(`SELECT ${by}${tierOf(i, allRuns)} AS tier, ${SUMS} FROM ${table} WHERE timestamp >= ? AND timestamp < ? GROUP BY ${by ? '1, 2' : '1'}`);
  };
  const runs = (i) => db.prepare(`SELECT start_time, end_time FROM "${getSafeModelName(names[i])}_runtime" WHERE end_time >= ? AND start_time < ? ORDER BY start_time`);
  const withRuns = (i) => allRuns || i % 3 === 2;
  return {
    summary: names.map((_, i) => [requests(i, allRuns ? 'slot' : 'tier'), withRuns(i) ? runs(i) : null]),
    series: names.map((_, i) => [requests(i, 'hour'), withRuns(i) ? runs(i) : null]),
  };
}

const runBare = (statements, from, to) => statements.map(([requests, runs]) => [requests.all(from, to), runs?.all(from, to)]);

/** Times summary and hourly series with the Monitor and with bare SQL on one file, interleaved. */
async function compare(label, path, allRuns) {
  const bare = new Database(path, { readonly: true });
  const statements = bareStatements(bare, allRuns);
  const reader = await openMonitor(path, { readOnly: true });
  let summary;
  const [bareSummaryMs, summaryMs] = await pairedMs(
    async () => runBare(statements.summary, FROM, END),
    async () => {
      summary = await reader.summary({ from: FROM, to: END });
    },
    RUNS,
  );
  let series;
  const [bareSeriesMs, seriesMs] = await pairedMs(
    async () => runBare(statements.series, FROM, END),
    async () => {
      series = await reader.series({ from: FROM, to: END, bucket: 'hour', timeZone: 'Asia/Shanghai' });
    },
    RUNS,
  );
  await reader.close();
  bare.close();
  line(`${label}_bare_sql_summary_ms`, bareSummaryMs.toFixed(1), 'ms');
  line(`${label}_summary_ms`, summaryMs.toFixed(1), 'ms');
  line(`${label}_summary_ratio`, (summaryMs / bareSummaryMs).toFixed(2), 'x');
  line(`${label}_bare_sql_hourly_series_ms`, bareSeriesMs.toFixed(1), 'ms');
  line(`${label}_hourly_series_ms`, seriesMs.toFixed(1), 'ms');
  line(`${label}_hourly_series_ratio`, (seriesMs / bareSeriesMs).toFixed(2), 'x');
  line(`${label}_series_buckets`, series.buckets.length, 'buckets');
  line(`${label}_summary_requests`, summary.total.requests, 'rows');
  line(`${label}_summary_cost`, summary.total.cost.toFixed(6), 'currency');
  line(`${label}_summary_idle_hours`, (summary.total.idleSeconds / 3600).toFixed(2), 'h');
}

line('requests', REQUESTS, 'rows');
line('models', MODELS, 'models');
await compare('default', await benchFile(REQUESTS, false), false);
await compare('all_runs', await benchFile(REQUESTS, true), true);

if (values.scaling) {
  const DAY = 86_400;
  const table = [];
  let postgres = null;
  if (values.pg) {
    const { openMonitor: openPostgres, copyDatabase, createPostgresDriver, Executor } = await import('@llm-monitor/driver-postgres');
    postgres = { openPostgres, copyDatabase, createPostgresDriver, Executor };
  }
  for (const requests of [100_000, 1_000_000, 10_000_000]) {
    const days = (requests / 1_000_000) * 30;
    const path = await benchFile(requests, true, days);
    const engines = [['sqlite', await openMonitor(path, { readOnly: true }), async () => undefined]];
    if (postgres) {
      const schema = `lmbench_${Date.now()}_${requests}`;
      const source = await openMonitor(path, { readOnly: true });
      const target = await postgres.openPostgres(values.pg, { schema });
      const started = process.hrtime.bigint();
      await postgres.copyDatabase(source, target, { batchSize: 20_000 });
      await source.close();
      const admin = new postgres.Executor(postgres.createPostgresDriver(values.pg, { schema }));
      await admin.read((s) => s.run('ANALYZE'));
      line(`postgres_copy_${requests}_seconds`, (Number(process.hrtime.bigint() - started) / 1e9).toFixed(1), 's');
      engines.push([
        'postgres',
        target,
        async () => {
          await admin.write((s) => s.run(`DROP SCHEMA "${schema}" CASCADE`));
          await admin.close();
        },
      ]);
    }
    for (const [engine, monitor, drop] of engines) {
      const whole = await time(() => monitor.summary({ from: END - days * DAY, to: END }));
      const last24h = await time(() => monitor.summary({ from: END - DAY, to: END }));
      const inLast24h = (await monitor.summary({ from: END - DAY, to: END })).total.requests;
      table.push({ requests, days, engine, whole, last24h, inLast24h });
      await monitor.close();
      await drop();
    }
  }
  console.log('\nscaling (summary, median ms):');
  console.log('| requests | days | engine | whole window | ms per 1M requests | last 24 h | its requests |');
  console.log('| ---: | ---: | --- | ---: | ---: | ---: | ---: |');
  for (const r of table)
    console.log(
      `| ${r.requests.toLocaleString('en-US')} | ${r.days} | ${r.engine} | ${r.whole.toFixed(1)} | ${((r.whole / r.requests) * 1e6).toFixed(1)} | ${r.last24h.toFixed(1)} | ${r.inLast24h.toLocaleString('en-US')} |`,
    );
}

if (!values.keep) rmSync(dir, { recursive: true, force: true });
