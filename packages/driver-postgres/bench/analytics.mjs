// Analytics on PostgreSQL next to SQLite, on the same data: builds a SQLite file with 1,000,000 requests
// over 10 models and 30 days (the data of bench/analytics.mjs at the repository root), copies it into a
// new PostgreSQL schema with copyDatabase, then times monitor.summary() and an hourly monitor.series()
// over the 30 days on both engines (median of --runs after a warm-up), and the bare SQL aggregation on
// PostgreSQL. Prints `name: value unit` lines.
//   node bench/analytics.mjs [--requests 1000000] [--models 10] [--runs 5] [--url postgres://…] [--keep]
// The URL defaults to LLM_MONITOR_PG_URL, then postgres://postgres@127.0.0.1:5432/test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openMonitor as openSqliteMonitor } from '@llm-monitor/driver-node';
import { Executor, copyDatabase, createPostgresDriver, getSafeModelName, openMonitor } from '@llm-monitor/driver-postgres';
import { END, FROM, medianMs, modelNames, recordAnalyticsData } from '../../../bench/analytics-data.mjs';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '1000000' },
    models: { type: 'string', default: '10' },
    runs: { type: 'string', default: '5' },
    url: { type: 'string', default: process.env.LLM_MONITOR_PG_URL || 'postgres://postgres@127.0.0.1:5432/test' },
    keep: { type: 'boolean', default: false },
  },
});
const REQUESTS = Number(values.requests);
const MODELS = Number(values.models);
const RUNS = Number(values.runs);
const SCHEMA = `lmbench_${Date.now()}`;

const dir = mkdtempSync(join(tmpdir(), 'llm-monitor-pg-bench-'));
const path = join(dir, 'bench.db');
const names = modelNames(MODELS);
const line = (name, value, unit) => console.log(`${name}: ${value} ${unit}`);
const seconds = (start) => (Number(process.hrtime.bigint() - start) / 1e9).toFixed(2);

// the same file as bench/analytics.mjs
let started = process.hrtime.bigint();
const writer = await openSqliteMonitor(path, { models: names });
await recordAnalyticsData(writer, names, REQUESTS);
await writer.close();
line('sqlite_build_seconds', seconds(started), 's');

const sqlite = await openSqliteMonitor(path, { readOnly: true });
const postgres = await openMonitor(values.url, { schema: SCHEMA });
started = process.hrtime.bigint();
const report = await copyDatabase(sqlite, postgres);
line('copy_to_postgres_seconds', seconds(started), 's');
const admin = new Executor(createPostgresDriver(values.url, { schema: SCHEMA }));
// what autovacuum does shortly after a bulk load: planner statistics
started = process.hrtime.bigint();
await admin.read((s) => s.run('ANALYZE'));
line('postgres_analyze_seconds', seconds(started), 's');
line('requests', report.requests, 'rows');
line('models', report.models.length, 'models');

const time = (fn) => medianMs(fn, RUNS);

const results = {};
for (const [engine, monitor] of [
  ['sqlite', sqlite],
  ['postgres', postgres],
]) {
  const r = (results[engine] = {});
  r.summaryMs = await time(async () => {
    r.summary = await monitor.summary({ from: FROM, to: END });
  });
  r.seriesMs = await time(async () => {
    r.series = await monitor.series({ from: FROM, to: END, bucket: 'hour', timeZone: 'Asia/Shanghai' });
  });
}

// the hand-written aggregation on PostgreSQL, for scale: per model, grouped by tier (and by hour)
const TIER = 'CASE WHEN input_tokens >= 0 AND input_tokens <= 32768 THEN 1 WHEN input_tokens >= 32769 AND input_tokens <= 131072 THEN 2 WHEN input_tokens >= 131073 THEN 3 ELSE NULL END';
const tierOf = (i) => (i % 3 === 2 ? '0' : TIER);
const sums = 'COUNT(*) AS n, SUM(input_tokens) AS i, SUM(output_tokens) AS o, SUM(LEAST(cache_n, input_tokens)) AS c, MIN(timestamp) AS f, MAX(timestamp) AS l';
const tables = names.map((n) => `"${getSafeModelName(n)}_requests"`);
const bareSummaryMs = await time(() =>
  admin.read(async (s) => {
    for (const [i, t] of tables.entries()) await s.query(`SELECT ${tierOf(i)} AS tier, ${sums} FROM ${t} WHERE timestamp >= ? AND timestamp < ? GROUP BY 1`, [FROM, END]);
  }),
);
const bareSeriesMs = await time(() =>
  admin.read(async (s) => {
    for (const [i, t] of tables.entries())
      await s.query(`SELECT FLOOR(timestamp / 3600)::bigint AS h, ${tierOf(i)} AS tier, ${sums} FROM ${t} WHERE timestamp >= ? AND timestamp < ? GROUP BY 1, 2`, [FROM, END]);
  }),
);

const { sqlite: a, postgres: b } = results;
line('sqlite_summary_ms', a.summaryMs.toFixed(1), 'ms');
line('postgres_summary_ms', b.summaryMs.toFixed(1), 'ms');
line('postgres_bare_sql_summary_ms', bareSummaryMs.toFixed(1), 'ms');
line('postgres_vs_sqlite_summary', (b.summaryMs / a.summaryMs).toFixed(2), 'x');
line('sqlite_hourly_series_ms', a.seriesMs.toFixed(1), 'ms');
line('postgres_hourly_series_ms', b.seriesMs.toFixed(1), 'ms');
line('postgres_bare_sql_hourly_series_ms', bareSeriesMs.toFixed(1), 'ms');
line('postgres_vs_sqlite_hourly_series', (b.seriesMs / a.seriesMs).toFixed(2), 'x');
line('series_buckets', b.series.buckets.length, 'buckets');
line('summary_requests', b.summary.total.requests, 'rows');
line('sqlite_summary_cost', a.summary.total.cost.toFixed(6), 'currency');
line('postgres_summary_cost', b.summary.total.cost.toFixed(6), 'currency');
const sameNumbers =
  a.summary.total.requests === b.summary.total.requests && Math.abs(a.summary.total.cost - b.summary.total.cost) <= 1e-9 * a.summary.total.cost;
line('same_numbers', sameNumbers ? 1 : 0, 'bool');

await Promise.all([sqlite.close(), postgres.close()]);
if (!values.keep) await admin.write((s) => s.run(`DROP SCHEMA "${SCHEMA}" CASCADE`));
await admin.close();
rmSync(dir, { recursive: true, force: true });
if (!sameNumbers) process.exitCode = 1;
