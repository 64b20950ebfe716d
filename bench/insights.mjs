// Insights benchmark: on the analytics benchmark's two datasets (1,000,000 requests over 10 models and 30
// days; `default`: 3 hourly-billed models with runs, `all_runs`: every model with runs, see analytics.mjs),
// times monitor.summary() over the 30 days next to everything `llm-monitor insights` computes for the
// same window (its one scan per model, the insights beside the previous period, the month projection),
// and the cloud comparison with three catalog models (its scan split at their tier thresholds, and the
// pricing), in the same process, interleaved so that a busy machine slows all three alike. Each is timed
// by the wall clock and by this process's CPU time (SQLite runs in-process, so CPU time is the work done,
// steadier than the wall clock on a machine shared with other jobs). Prints `name: value unit` lines.
//   node bench/insights.mjs [--requests 1000000] [--models 10] [--runs 7] [--keep dir]
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
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
const dir = values.keep ?? mkdtempSync(join(tmpdir(), 'llm-monitor-bench-'));
mkdirSync(dir, { recursive: true });
const names = modelNames(MODELS);
const line = (name, value, unit) => console.log(`${name}: ${value} ${unit}`);
const window = { from: FROM, to: END };
const now = END;
const targets = COMPARE.map(cloudModel);
line('requests', REQUESTS, 'rows');
line('models', MODELS, 'models');
for (const allRuns of [false, true]) await benchDataset(allRuns ? 'all_runs' : 'default', allRuns);

/** Times the three tasks on one of the analytics benchmark's two datasets; names its lines `<case>_…`. */
async function benchDataset(label, allRuns) {
  const path = join(dir, `insights-${REQUESTS}-${label}.db`);
  if (!existsSync(path)) {
    const build = process.hrtime.bigint();
    const monitor = await openMonitor(path, { models: names });
    await recordAnalyticsData(monitor, names, REQUESTS, { allRuns });
    await monitor.close();
    line(`${label}_build_seconds`, (Number(process.hrtime.bigint() - build) / 1e9).toFixed(2), 's');
  }
  const reader = await openMonitor(path, { readOnly: true });
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

  const out = (name, value, unit) => line(`${label}_${name}`, value, unit);
  out('summary_ms', ms.summary.toFixed(1), 'ms');
  out('insights_ms', ms.insights.toFixed(1), 'ms');
  out('insights_ratio', (ms.insights / ms.summary).toFixed(2), 'x');
  out('cloud_compare_ms', ms.cloud.toFixed(1), 'ms');
  out('cloud_compare_ratio', (ms.cloud / ms.summary).toFixed(2), 'x');
  out('summary_cpu_ms', cpu.summary.toFixed(1), 'ms');
  out('insights_cpu_ratio', (cpu.insights / cpu.summary).toFixed(2), 'x');
  out('cloud_compare_cpu_ratio', (cpu.cloud / cpu.summary).toFixed(2), 'x');
  out('cloud_pricing_only_ms', median(pricingSamples).toFixed(1), 'ms');
  out('cloud_models', targets.length, 'models');
  out('summary_cost', summary.total.cost.toFixed(6), 'currency');
  out('insights_cost', report.insights.total.billing.actualCost.value.toFixed(6), 'currency');
  for (const t of comparison.targets) out(`cloud_cost_${t.model.providerId}_${t.model.modelId}`, t.total.cloudCost.value.toFixed(6), 'USD');
}

function cpuMs() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function median(list) {
  return [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
}

if (!values.keep) rmSync(dir, { recursive: true, force: true });
