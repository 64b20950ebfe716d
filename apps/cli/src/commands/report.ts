import { BUCKETS, type Bucket, type CsvValue, type PricingOverrides, type Series, type Summary, type SummaryOptions, formatNumber, bucketLabel, formatDateTime, localTimeZone } from '@llm-monitor/core';
import { type Command, Option } from 'commander';
import { type DbOptions, dbOption, openReadOnly, resolveDb, schemaOption, selectModels, using } from '../lib/db.js';
import { type Column, costColumn, formatHours, formatOption, printable, renderTable, csvRows } from '../lib/format.js';
import { readJsonFile } from '../lib/json-file.js';
import { type TimeArg, fromOption, parseDuration, resolveWindow, toOption, tzOption } from '../lib/time.js';
import { UserError } from '../user-error.js';

const FORMATS = ['table', 'json', 'csv'] as const;

interface ReportOptions extends DbOptions {
  from?: TimeArg;
  to?: TimeArg;
  last?: number;
  by?: Bucket;
  tz?: string;
  format: (typeof FORMATS)[number];
  pricing?: string;
  model?: string[];
}

export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .summary('usage and cost per model over a time window, optionally per hour/day/week/month')
    .description(
      'Usage and cost per model (requests, input/output/cache-hit tokens, runtime, cost) over a window, priced from the stored billing settings or a what-if file. ' +
        'With --by, the same numbers per calendar bucket aligned in --tz (DST-correct), followed by the per-model totals.\n\n' +
        'The window is half-open [from, to) on the request time; without --from/--to/--last it covers everything recorded. ' +
        '--format json prints exactly what core\'s monitor.summary() (or monitor.series() with --by) returns; csv prints one row per model (per bucket and model with --by) and a total row with an empty model.',
    )
    .addOption(dbOption())
    .addOption(schemaOption())
    .addOption(fromOption())
    .addOption(toOption())
    .addOption(new Option('--last <duration>', 'the window ending at --to (default now): 90m, 24h, 7d, 30d, 2w').argParser(parseDuration).conflicts('from'))
    .addOption(new Option('--by <bucket>', 'one row per calendar bucket').choices(BUCKETS))
    .addOption(tzOption())
    .addOption(formatOption(FORMATS, 'table'))
    .option('--pricing <file>', 'price with this what-if JSON ({ "model": { "hourlyPrice": 5 }, … }, any subset of `pricing show --format json`); nothing is written')
    .option('--model <name>', 'only this model (repeat for several)', collect)
    .addHelpText(
      'after',
      `
Examples:
  $ llm-monitor report
      everything recorded in webui/monitoring.db
  $ llm-monitor report --last 7d --by day
      the last 7 days, one row per day, then the totals per model
  $ llm-monitor report --from 2024-06-01 --to 2024-07-01 --tz Europe/Berlin --format csv > june.csv
  $ llm-monitor report --last 30d --pricing what-if.json
      what the last 30 days would have cost with other prices
  $ llm-monitor report --format json | jq .total.cost
  $ llm-monitor report --last 24h --db postgres://monitor@db.internal/llm --schema llm_monitor
      the same report from a PostgreSQL database`,
    )
    .action((options: ReportOptions) => runReport(options));
}

async function runReport(options: ReportOptions): Promise<void> {
  const timeZone = options.tz ?? localTimeZone();
  const query: SummaryOptions = resolveWindow(options, timeZone, (t) => formatDateTime(t, timeZone, 'second'));
  if (options.pricing !== undefined) {
    const pricing = readJsonFile(options.pricing, 'what-if pricing');
    if (typeof pricing !== 'object' || pricing === null || Array.isArray(pricing))
      throw new UserError(`the what-if pricing ${options.pricing} must be a JSON object keyed by model name`);
    query.pricing = pricing as PricingOverrides;
  }
  const db = resolveDb(options.db, options.schema);
  await using(await openReadOnly(db), async (monitor) => {
    if (options.model) query.models = (await selectModels(monitor, options.model, db)).map((m) => m.name);
    const summary = await monitor.summary(query);
    const series = options.by ? await monitor.series({ ...query, bucket: options.by, timeZone }) : null;
    let text: string;
    if (options.format === 'json') text = `${JSON.stringify(series ?? summary)}\n`;
    else if (options.format === 'csv') text = series ? seriesCsv(series, timeZone) : summaryCsv(summary);
    else text = reportTable(options, db.label, summary, series, timeZone);
    process.stdout.write(text);
  });
}

const SUMMARY_FIELDS = [
  'name',
  'billingMethod',
  'shape',
  'requests',
  'inputTokens',
  'outputTokens',
  'cacheHitTokens',
  'cost',
  'tierCost',
  'hourlyCost',
  'unpricedRequests',
  'unpricedInputTokens',
  'unpricedOutputTokens',
  'runtimeSeconds',
  'idleSeconds',
  'openRuns',
  'firstRequestAt',
  'lastRequestAt',
  'costPerMillionTokens',
] as const;

/** One row per model with the summary's field names as headers, then the total (empty name, billing and shape). */
function summaryCsv(summary: Summary): string {
  const rows: CsvValue[][] = summary.models.map((m) => SUMMARY_FIELDS.map((field) => m[field]));
  const total = summary.total as unknown as Record<string, CsvValue>;
  rows.push(SUMMARY_FIELDS.map((field) => (field === 'name' || field === 'billingMethod' || field === 'shape' ? '' : total[field])));
  return csvRows([SUMMARY_FIELDS, ...rows]);
}

const BUCKET_FIELDS = ['requests', 'inputTokens', 'outputTokens', 'cacheHitTokens', 'cost', 'tierCost', 'hourlyCost', 'unpricedRequests', 'runtimeSeconds'] as const;

/** One row per bucket and model, then the bucket's total (empty model). */
function seriesCsv(series: Series, timeZone: string): string {
  const header = ['period', 'start', 'end', 'model', ...BUCKET_FIELDS];
  const rows: CsvValue[][] = [];
  for (const b of series.buckets) {
    const period = bucketLabel(b.start, series.bucket, timeZone);
    for (const [model, usage] of Object.entries(b.models)) rows.push([period, b.start, b.end, model, ...BUCKET_FIELDS.map((f) => usage[f])]);
    rows.push([period, b.start, b.end, '', ...BUCKET_FIELDS.map((f) => b.total[f])]);
  }
  return csvRows([header, ...rows]);
}

function windowLine(summary: Summary, timeZone: string): string {
  const at = (t: number) => formatDateTime(t, timeZone);
  if (summary.from === null && summary.to === null) {
    const { firstRequestAt: first, lastRequestAt: last } = summary.total;
    return `All recorded data${first !== null && last !== null ? ` (requests ${at(first)} → ${at(last)})` : ''}, times in ${timeZone}`;
  }
  return `Window ${summary.from === null ? 'the beginning' : at(summary.from)} → ${summary.to === null ? 'now' : at(summary.to)} (${timeZone})`;
}

function reportTable(options: ReportOptions, label: string, summary: Summary, series: Series | null, timeZone: string): string {
  const lines: string[] = [`${windowLine(summary, timeZone)} · ${printable(label, 200)}`];
  if (options.pricing) lines.push(`Priced with the what-if prices of ${printable(options.pricing, 200)} (the stored prices are unchanged).`);
  lines.push('');
  if (summary.models.length === 0) {
    lines.push('No models in this database yet.');
    return `${lines.join('\n')}\n`;
  }
  if (series) {
    const columns: Column[] = [
      { header: options.by === 'hour' ? 'hour' : options.by! },
      { header: 'requests', align: 'right' },
      { header: 'input tok', align: 'right' },
      { header: 'output tok', align: 'right' },
      { header: 'cache hits', align: 'right' },
      { header: 'runtime', align: 'right' },
      { header: 'cost', align: 'right' },
    ];
    const cost = costColumn(series.buckets.map((b) => b.total.cost));
    const rows = series.buckets.map((b) => [
      bucketLabel(b.start, series.bucket, timeZone),
      formatNumber(b.total.requests),
      formatNumber(b.total.inputTokens),
      formatNumber(b.total.outputTokens),
      formatNumber(b.total.cacheHitTokens),
      formatHours(b.total.runtimeSeconds),
      cost(b.total.cost),
    ]);
    const sum = (key: 'requests' | 'inputTokens' | 'outputTokens' | 'cacheHitTokens' | 'runtimeSeconds' | 'cost') =>
      series.buckets.reduce((acc, b) => acc + b.total[key], 0);
    const totals = [
      'total',
      formatNumber(sum('requests')),
      formatNumber(sum('inputTokens')),
      formatNumber(sum('outputTokens')),
      formatNumber(sum('cacheHitTokens')),
      formatHours(sum('runtimeSeconds')),
      cost(sum('cost')),
    ];
    if (series.buckets.length === 0) lines.push('Nothing recorded in this window.');
    else lines.push(renderTable(columns, rows, totals), '');
  }
  const unpriced = summary.total.unpricedRequests > 0;
  const columns: Column[] = [
    { header: 'model' },
    { header: 'billing' },
    { header: 'requests', align: 'right' },
    { header: 'input tok', align: 'right' },
    { header: 'output tok', align: 'right' },
    { header: 'cache hits', align: 'right' },
    { header: 'runtime', align: 'right' },
    { header: 'cost', align: 'right' },
    { header: 'per M tok', align: 'right' },
    { header: 'idle', align: 'right' },
    ...(unpriced ? [{ header: 'unpriced', align: 'right' as const }] : []),
  ];
  const all = [...summary.models, summary.total];
  const cost = costColumn(all.map((m) => m.cost));
  const perMillion = costColumn(all.flatMap((m) => (m.costPerMillionTokens === null ? [] : [m.costPerMillionTokens])));
  const row = (label: string, billing: string, m: Summary['total']) => [
    label,
    billing,
    formatNumber(m.requests),
    formatNumber(m.inputTokens),
    formatNumber(m.outputTokens),
    formatNumber(m.cacheHitTokens),
    formatHours(m.runtimeSeconds),
    cost(m.cost),
    m.costPerMillionTokens === null ? '—' : perMillion(m.costPerMillionTokens),
    formatHours(m.idleSeconds),
    ...(unpriced ? [formatNumber(m.unpricedRequests)] : []),
  ];
  lines.push(renderTable(columns, summary.models.map((m) => row(m.name, m.billingMethod, m)), row('total', '', summary.total)));
  if (unpriced)
    lines.push(
      '',
      `${formatNumber(summary.total.unpricedRequests)} requests matched no price tier: they are counted as unpriced, not as free (see \`llm-monitor pricing show MODEL\`).`,
    );
  if (summary.total.idleSeconds > 0)
    lines.push(
      '',
      `Idle: ${formatHours(summary.total.idleSeconds)} of ${formatHours(summary.total.runtimeSeconds)} runtime served no request (15-minute slots). ` +
        '`llm-monitor insights` shows what that costs and when, the cheaper billing method, cache savings, a month projection and cloud prices.',
    );
  return `${lines.join('\n')}\n`;
}
