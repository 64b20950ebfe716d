// Insights benchmark: on the analytics benchmark's file (1,000,000 requests over 10 models and 30 days),
// times monitor.summary() over the 30 days next to everything `llm-monitor insights` computes for the
// same window (its one scan per model, the insights beside the previous period, the month projection),
// and the cloud comparison with three catalog models (its scan split at their tier thresholds, and the
// pricing), in the same process, interleaved so that a busy machine slows all three alike. Each is timed
// by the wall clock and by this process's CPU time (SQLite runs in-process, so CPU time is the work done,
// steadier than the wall clock on a machine shared with other jobs). Prints `name: value unit` lines.
//   node bench/insights.mjs [--requests 1000000] [--models 10] [--runs 7] [--keep path.db]
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { insightReport, insightScan } from '@llm-monitor/core';
import { cloudInputBounds, cloudModel, compareWithCloud } from '@llm-monitor/core/cloud';
import { openMonitor } from '@llm-monitor/driver-node';
import { END, FROM, modelNames, recordAnalyticsData } from './analytics-data.mjs';

const { values } = parseArgs({
  options: { requests: { type: 'string', default: '1000000' }, models: { type: 'string', default: '10' }, runs: { type: 'string', default: '7' }, keep: { type: 'string' } },
});
const REQUESTS = Number(values.requests);
const MODELS = Number(values.models);
const RUNS = Number(values.runs);
const TIME_ZONE = 'Europe/Berlin';
const COMPARE = ['openai:gpt-4o-mini', 'google:gemini-2.5-pro', 'deepseek:deepseek-chat'];
const dir = mkdtempSync(join(tmpdir(), 'llm-monitor-bench-'));
const path = values.keep ?? join(dir, 'bench.db');
const names = modelNames(MODELS);
const line = (name, value, unit) => console.log(`${name}: ${value} ${unit}`);

if (!values.keep || !existsSync(path)) {
  const build = process.hrtime.bigint();
  const monitor = await openMonitor(path, { models: names });
  await recordAnalyticsData(monitor, names, REQUESTS);
  await monitor.close();
  line('build_seconds', (Number(process.hrtime.bigint() - build) / 1e9).toFixed(2), 's');
}
line('requests', REQUESTS, 'rows');
line('models', MODELS, 'models');

const reader = await openMonitor(path, { readOnly: true });
const window = { from: FROM, to: END };
const now = END;
const targets = COMPARE.map(cloudModel);

let summary;
let report;
let comparison;
const tasks = {
  summary: async () => {
    summary = await reader.summary(window);
  },
  // what `llm-monitor insights --from … --to …` computes: one scan, the report beside the previous period, the projection
  insights: async () => {
    const aggregation = await reader.aggregate(insightScan({ ...window, now, timeZone: TIME_ZONE }));
    report = insightReport(aggregation, { ...window, now, timeZone: TIME_ZONE });
  },
  // the cloud comparison: the same scan split at the catalog models' thresholds, and the pricing
  cloud: async () => {
    const aggregation = await reader.aggregate({ ...insightScan({ ...window, now, timeZone: TIME_ZONE }), inputBounds: cloudInputBounds(targets) });
    comparison = compareWithCloud(aggregation, { ...window, targets, usdPerUnit: 1 });
  },
};
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const samples = Object.fromEntries(Object.keys(tasks).map((name) => [name, { wall: [], cpu: [] }]));
for (const task of Object.values(tasks)) await task(); // warm-up
for (let run = 0; run < RUNS; run++)
  for (const [name, task] of Object.entries(tasks)) {
    const t = process.hrtime.bigint();
    const c = cpuMs();
    await task();
    samples[name].cpu.push(cpuMs() - c);
    samples[name].wall.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
const ms = Object.fromEntries(Object.entries(samples).map(([name, s]) => [name, median(s.wall)]));
const cpu = Object.fromEntries(Object.entries(samples).map(([name, s]) => [name, median(s.cpu)]));

// the pricing alone, on an aggregation already made (what the analyzer does when another model is picked)
const scanned = await reader.aggregate({ ...insightScan({ ...window, now, timeZone: TIME_ZONE }), inputBounds: cloudInputBounds(targets) });
const pricingSamples = [];
for (let run = 0; run < RUNS; run++) {
  const t = process.hrtime.bigint();
  compareWithCloud(scanned, { ...window, targets, usdPerUnit: 1 });
  pricingSamples.push(Number(process.hrtime.bigint() - t) / 1e6);
}
await reader.close();

line('summary_ms', ms.summary.toFixed(1), 'ms');
line('insights_ms', ms.insights.toFixed(1), 'ms');
line('insights_ratio', (ms.insights / ms.summary).toFixed(2), 'x');
line('cloud_compare_ms', ms.cloud.toFixed(1), 'ms');
line('cloud_compare_ratio', (ms.cloud / ms.summary).toFixed(2), 'x');
line('summary_cpu_ms', cpu.summary.toFixed(1), 'ms');
line('insights_cpu_ratio', (cpu.insights / cpu.summary).toFixed(2), 'x');
line('cloud_compare_cpu_ratio', (cpu.cloud / cpu.summary).toFixed(2), 'x');
line('cloud_pricing_only_ms', median(pricingSamples).toFixed(1), 'ms');
line('cloud_models', targets.length, 'models');
line('summary_cost', summary.total.cost.toFixed(6), 'currency');
line('insights_cost', report.insights.total.billing.actualCost.value.toFixed(6), 'currency');
for (const t of comparison.targets) line(`cloud_cost_${t.model.providerId}_${t.model.modelId}`, t.total.cloudCost.value.toFixed(6), 'USD');
if (!values.keep) rmSync(dir, { recursive: true, force: true });
