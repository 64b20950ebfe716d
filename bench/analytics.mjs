// Analytics benchmark: builds a file with 1,000,000 requests over 10 models (30 days), then times
// monitor.summary() and an hourly monitor.series() over the 30 days next to the bare SQL aggregation
// on the same file, in the same process. Prints `name: value unit` lines.
//   node bench/analytics.mjs [--requests 1000000] [--models 10] [--runs 5] [--keep path.db]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { getSafeModelName } from '@llm-monitor/core';
import { openMonitor } from '@llm-monitor/driver-node';
import Database from 'better-sqlite3';
import { END, FROM, medianMs, modelNames, recordAnalyticsData } from './analytics-data.mjs';

const { values } = parseArgs({
  options: { requests: { type: 'string', default: '1000000' }, models: { type: 'string', default: '10' }, runs: { type: 'string', default: '5' }, keep: { type: 'string' } },
});
const REQUESTS = Number(values.requests);
const MODELS = Number(values.models);
const RUNS = Number(values.runs);
const dir = mkdtempSync(join(tmpdir(), 'llm-monitor-bench-'));
const path = values.keep ?? join(dir, 'bench.db');
const names = modelNames(MODELS);
const line = (name, value, unit) => console.log(`${name}: ${value} ${unit}`);

const build = process.hrtime.bigint();
const monitor = await openMonitor(path, { models: names });
await recordAnalyticsData(monitor, names, REQUESTS);
await monitor.close();
line('build_seconds', (Number(process.hrtime.bigint() - build) / 1e9).toFixed(2), 's');
line('requests', REQUESTS, 'rows');
line('models', MODELS, 'models');

const time = (fn) => medianMs(fn, RUNS);

// Bare SQL: what one would write by hand to get the same numbers from the same file: per model, the
// requests in the window grouped by the tier that prices them (hourly models: one group), with the
// same sums; for the series, grouped by hour as well. Nothing else: no validation, no JS roll-up.
const bare = new Database(path, { readonly: true });
const TIER = 'CASE WHEN input_tokens >= 0 AND input_tokens <= 32768 THEN 1 WHEN input_tokens >= 32769 AND input_tokens <= 131072 THEN 2 WHEN input_tokens >= 131073 THEN 3 ELSE NULL END';
const tierOf = (i) => (i % 3 === 2 ? '0' : TIER);
const tables = names.map((n) => `"${getSafeModelName(n)}_requests"`);
const sums = 'COUNT(*) AS n, SUM(input_tokens) AS i, SUM(output_tokens) AS o, SUM(MIN(cache_n, input_tokens)) AS c, MIN(timestamp) AS f, MAX(timestamp) AS l';
const bareSummary = tables.map((t, i) => bare.prepare(`SELECT ${tierOf(i)} AS tier, ${sums} FROM ${t} WHERE timestamp >= ? AND timestamp < ? GROUP BY 1`));
const bareSeries = tables.map((t, i) =>
  bare.prepare(`SELECT CAST(timestamp / 3600 AS INTEGER) AS h, ${tierOf(i)} AS tier, ${sums} FROM ${t} WHERE timestamp >= ? AND timestamp < ? GROUP BY 1, 2`),
);
const bareSummaryMs = await time(async () => bareSummary.map((s) => s.all(FROM, END)));
const bareSeriesMs = await time(async () => bareSeries.map((s) => s.all(FROM, END)));

const reader = await openMonitor(path, { readOnly: true });
let summary;
const summaryMs = await time(async () => {
  summary = await reader.summary({ from: FROM, to: END });
});
let series;
const seriesMs = await time(async () => {
  series = await reader.series({ from: FROM, to: END, bucket: 'hour', timeZone: 'Asia/Shanghai' });
});
await reader.close();
bare.close();

line('bare_sql_summary_ms', bareSummaryMs.toFixed(1), 'ms');
line('summary_ms', summaryMs.toFixed(1), 'ms');
line('summary_ratio', (summaryMs / bareSummaryMs).toFixed(2), 'x');
line('bare_sql_hourly_series_ms', bareSeriesMs.toFixed(1), 'ms');
line('hourly_series_ms', seriesMs.toFixed(1), 'ms');
line('hourly_series_ratio', (seriesMs / bareSeriesMs).toFixed(2), 'x');
line('series_buckets', series.buckets.length, 'buckets');
line('summary_requests', summary.total.requests, 'rows');
line('summary_cost', summary.total.cost.toFixed(6), 'currency');
if (!values.keep) rmSync(dir, { recursive: true, force: true });
