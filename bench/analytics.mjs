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

const { values } = parseArgs({
  options: { requests: { type: 'string', default: '1000000' }, models: { type: 'string', default: '10' }, runs: { type: 'string', default: '5' }, keep: { type: 'string' } },
});
const REQUESTS = Number(values.requests);
const MODELS = Number(values.models);
const RUNS = Number(values.runs);
const DAYS = 30;
const END = 1_767_225_600; // 2026-01-01T00:00:00Z
const FROM = END - DAYS * 86_400;

const dir = mkdtempSync(join(tmpdir(), 'llm-monitor-bench-'));
const path = values.keep ?? join(dir, 'bench.db');
const names = Array.from({ length: MODELS }, (_, i) => `bench-model-${i}`);

let seed = 7;
const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
const line = (name, value, unit) => console.log(`${name}: ${value} ${unit}`);

const build = process.hrtime.bigint();
const monitor = await openMonitor(path, { models: names });
for (const [i, name] of names.entries()) {
  if (i % 3 === 2) {
    await monitor.updateBillingMethod(name, false);
    await monitor.updateHourlyPrice(name, 2 + i);
    for (let day = 0; day < DAYS; day++) {
      await monitor.addModelRuntimeStart(name, FROM + day * 86_400 + 8 * 3600);
      await monitor.updateModelRuntimeEnd(name, FROM + day * 86_400 + 20 * 3600);
    }
  } else {
    await monitor.updateTierPricing(name, { tierIndex: 1, startTokens: 0, endTokens: 32_768, inputPricePerMillion: 1, outputPricePerMillion: 2, supportCache: true, cacheHitPricePerMillion: 0.1 });
    await monitor.addTierPricing(name, [2, 32_769, 131_072, 0.8, 1.6]);
    await monitor.addTierPricing(name, [3, 131_073, -1, 0.5, 1.0]);
  }
  const perModel = Math.floor(REQUESTS / MODELS);
  for (let done = 0; done < perModel; ) {
    const batch = [];
    for (let k = 0; k < 20_000 && done < perModel; k++, done++) {
      const input = Math.floor(random() < 0.05 ? 40_000 + random() * 200_000 : 100 + random() * 16_000);
      const cached = Math.floor(input * random() * 0.7);
      batch.push([FROM + (done / perModel) * DAYS * 86_400, input, Math.floor(10 + random() * 1500), cached, input - cached]);
    }
    await monitor.addModelRequests(name, batch);
  }
}
await monitor.close();
line('build_seconds', (Number(process.hrtime.bigint() - build) / 1e9).toFixed(2), 's');
line('requests', REQUESTS, 'rows');
line('models', MODELS, 'models');

function median(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
async function time(fn) {
  await fn(); // warm-up
  const samples = [];
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(samples);
}

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
