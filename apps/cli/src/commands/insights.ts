import {
  type Cells,
  type Compared,
  type ComparedCells,
  type ComparedFigure,
  type CsvValue,
  type Figure,
  type InsightReport,
  type PricingOverrides,
  WEEKDAYS,
  compare,
  formatDateTime,
  formatNumber,
  insightReport,
  insightScan,
  localTimeZone,
} from '@llm-monitor/core';
import type { CloudComparison, CloudModel } from '@llm-monitor/core/cloud';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type DbOptions, dbOption, openReadOnly, resolveDb, schemaOption, selectModels, using } from '../lib/db.js';
import { type Column, costColumn, csvRows, formatOption, printable, renderTable } from '../lib/format.js';
import { readJsonFile } from '../lib/json-file.js';
import { type TimeArg, fromOption, parseDuration, parseTimeArg, resolveTime, toOption, tzOption } from '../lib/time.js';
import { UserError } from '../user-error.js';
import { collect } from './report.js';

const FORMATS = ['table', 'json', 'csv'] as const;

interface InsightsOptions extends DbOptions {
  from?: TimeArg;
  to?: TimeArg;
  last?: number;
  now?: TimeArg;
  tz?: string;
  format: (typeof FORMATS)[number];
  pricing?: string;
  model?: string[];
  compare?: string[];
  usdRate?: number;
}

/** What `insights --format json` prints: core's insight report, and the cloud comparison (null without --compare). */
export interface InsightsOutput extends InsightReport {
  cloud: Compared<CloudComparison> | null;
}

export function registerInsightsCommand(program: Command): void {
  program
    .command('insights')
    .summary('what each billing method would cost, idle money by hour of week, cache savings, tiers at work, a month projection, cloud prices')
    .description(
      'Insights over a window, per model and in total, each figure beside the period of the same length before it: ' +
        'the billing advisor (cost per token and per hour with the stored prices, break-even prices, what a million tokens cost), ' +
        'idle money (runtime in 15-minute slots without a request, at the hourly price) with an hour-of-week matrix in --tz, ' +
        'cache savings and hit rate, the tiers at work (requests, tokens and cost per tier and where unpriced requests fall), ' +
        'and the current month projected from the last 7 days (an estimate). With --compare, what the same requests would cost ' +
        'at a cloud model of the @pydantic/genai-prices catalog (bundled: no network).\n\n' +
        'A figure that is not known (no price set, no runtime recorded) is shown as — with the reason, never as 0. ' +
        'Costs are in the file\'s own currency; cloud prices in USD (give --usd-rate for the saving). ' +
        'Everything comes from one scan per model. --format json prints core\'s insightReport() plus `cloud`; csv one row per figure.',
    )
    .addOption(dbOption())
    .addOption(schemaOption())
    .addOption(fromOption())
    .addOption(toOption().default(undefined, 'now, when --from or --last is given'))
    .addOption(new Option('--last <duration>', 'the window ending at --to: 90m, 24h, 7d, 30d, 2w').argParser(parseDuration).conflicts('from'))
    .addOption(new Option('--now <time>', 'the present, for --to, --last and the projection (default: now)').argParser(parseTimeArg))
    .addOption(tzOption('the time zone of the hour-of-week matrix, the month of the projection, ISO times without an offset and the times shown'))
    .addOption(formatOption(FORMATS, 'table'))
    .option('--pricing <file>', 'price everything with this what-if JSON (as for report); nothing is written')
    .option('--model <name>', 'only this model (repeat for several)', collect)
    .option('--compare <provider:model>', 'also price the requests at this cloud model, e.g. openai:gpt-4o-mini (repeat for several)', collect)
    .addOption(new Option('--usd-rate <usd>', "what one unit of the file's currency is worth in USD (1 if your prices are in USD): the cloud saving needs it").argParser(parseRate))
    .addHelpText(
      'after',
      `
Examples:
  $ llm-monitor insights --last 7d
      the last 7 days beside the 7 days before them, and this month projected
  $ llm-monitor insights --last 30d --tz Europe/Berlin --model DeepSeek-V3-H100
      one model: its idle hours by weekday and hour in Berlin time
  $ llm-monitor insights --last 7d --compare openai:gpt-4o-mini --compare google:gemini-2.5-pro --usd-rate 1
      what the same requests would have cost at two cloud models, and what running them yourself saved
  $ llm-monitor insights --last 30d --pricing what-if.json
      the same with other prices (nothing is written)
  $ llm-monitor insights --last 7d --format json | jq .insights.total.idle.idleCost
  $ llm-monitor insights --from 2024-06-01 --to 2024-07-01 --format csv > june-insights.csv`,
    )
    .action((options: InsightsOptions) => runInsights(options));
}

function parseRate(value: string): number {
  const rate = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(rate > 0)) throw new InvalidArgumentError('expected a number > 0, e.g. 1 for USD or 0.14 for CNY.');
  return rate;
}

/** The window: --last ends at --to (default now); --from alone runs to now; nothing is everything recorded. */
function window(options: InsightsOptions, timeZone: string, now: number): { from?: number; to?: number } {
  let from = options.from === undefined ? undefined : resolveTime('--from', options.from, timeZone);
  let to = options.to === undefined ? undefined : resolveTime('--to', options.to, timeZone);
  if (options.last !== undefined) {
    to ??= now;
    from = Math.max(0, to - options.last);
  } else if (from !== undefined) to ??= now;
  if (from !== undefined && to !== undefined && to < from)
    throw new UserError(`--to (${formatDateTime(to, timeZone, 'second')}) is before --from (${formatDateTime(from, timeZone, 'second')})`);
  return { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
}

async function runInsights(options: InsightsOptions): Promise<void> {
  const timeZone = options.tz ?? localTimeZone();
  const now = options.now === undefined ? Date.now() / 1000 : resolveTime('--now', options.now, timeZone);
  const span = window(options, timeZone, now);
  let pricing: PricingOverrides | undefined;
  if (options.pricing !== undefined) {
    const json = readJsonFile(options.pricing, 'what-if pricing');
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new UserError(`the what-if pricing ${options.pricing} must be a JSON object keyed by model name`);
    pricing = json as PricingOverrides;
  }
  // the catalog (about 800 kB of prices) is loaded only when a comparison asks for it
  const cloudPrices = options.compare?.length ? await import('@llm-monitor/core/cloud') : null;
  const targets: CloudModel[] = cloudPrices ? options.compare!.map((ref) => cloudPrices.cloudModel(ref)) : [];
  const db = resolveDb(options.db, options.schema);
  const output = await using(await openReadOnly(db), async (monitor) => {
    const models = options.model && (await selectModels(monitor, options.model, db)).map((m) => m.name);
    const selection = { ...(models ? { models } : {}), ...(pricing ? { pricing } : {}) };
    const scan = insightScan({ ...span, now, timeZone });
    const aggregation = await monitor.aggregate({ ...scan, ...selection, ...(cloudPrices ? { inputBounds: cloudPrices.cloudInputBounds(targets) } : {}) });
    const report = insightReport(aggregation, { ...span, ...selection, now, timeZone });
    let cloud: InsightsOutput['cloud'] = null;
    if (cloudPrices) {
      const comparison = { ...selection, targets, ...(options.usdRate === undefined ? {} : { usdPerUnit: options.usdRate }) };
      const current = cloudPrices.compareWithCloud(aggregation, { ...comparison, ...span });
      cloud = compare(current, report.previous && cloudPrices.compareWithCloud(aggregation, { ...comparison, ...report.previous }));
    }
    return { ...report, cloud } satisfies InsightsOutput;
  });
  let text: string;
  if (options.format === 'json') text = `${JSON.stringify(output)}\n`;
  else if (options.format === 'csv') text = insightsCsv(output);
  else text = insightsTable(output, db.label, options);
  process.stdout.write(text);
}

// ---- CSV: one row per figure ----------------------------------------------------------------------

const CSV_HEADER = ['section', 'model', 'item', 'figure', 'unit', 'value', 'previous', 'delta', 'change', 'reason', 'previousReason'];

function insightsCsv(output: InsightsOutput): string {
  const lines: CsvValue[][] = [CSV_HEADER];
  const row = (section: string, model: string, item: string, figure: string, f: ComparedFigure) =>
    lines.push([section, model, item, figure, f.unit, f.value, f.previous, f.delta, f.change, f.reason ?? '', f.previousReason ?? '']);
  const figures = (section: string, model: string, item: string, group: object) => {
    for (const [key, value] of Object.entries(group)) if (isFigure(value)) row(section, model, item, key, value);
  };
  const cells = (model: string, matrix: Compared<InsightReport['insights']['total']['hourOfWeek']>) => {
    for (const [key, value] of Object.entries(matrix)) {
      if (!isCells(value)) continue;
      value.values.forEach((v, i) =>
        lines.push(['hourOfWeek', model, cellLabel(i), key, value.unit, v, value.previous?.[i] ?? null, value.delta?.[i] ?? null, null, value.reason ?? '', '']),
      );
    }
  };
  const { insights, projection, cloud } = output;
  for (const m of [...insights.models, { ...insights.total, name: '' }]) {
    figures('usage', m.name, '', m.usage);
    figures('billing', m.name, '', m.billing);
    figures('idle', m.name, '', m.idle);
    figures('cache', m.name, '', m.cache);
    if ('tiers' in m) for (const t of m.tiers) figures('tiers', m.name, tierLabel(t), t);
    cells(m.name, m.hourOfWeek);
  }
  const uncompared = (f: Figure): ComparedFigure => ({ ...f, previous: null, delta: null, change: null });
  for (const m of [...projection.models, { name: '', cost: projection.total }])
    for (const [key, f] of Object.entries(m.cost)) row('projection', m.name, 'estimate', key, uncompared(f));
  for (const target of cloud?.targets ?? []) for (const m of [...target.models, { ...target.total, name: '' }]) figures('cloud', m.name, target.model.ref, m);
  return csvRows(lines);
}

const isFigure = (x: unknown): x is ComparedFigure => typeof x === 'object' && x !== null && 'unit' in x && 'value' in x;
const isCells = (x: unknown): x is ComparedCells => typeof x === 'object' && x !== null && 'unit' in x && 'values' in x;
const cellLabel = (i: number) => `${WEEKDAYS[Math.floor(i / 24)]} ${String(i % 24).padStart(2, '0')}:00`;
const tierLabel = (t: { tierIndex: number | null; inputFrom: number; inputTo: number | null }) =>
  `${t.tierIndex === null ? 'unpriced' : `tier ${t.tierIndex}`} ${t.inputFrom}-${t.inputTo ?? ''}`;

// ---- table -----------------------------------------------------------------------------------------

/** Numbered notes of one section: a figure without a value (or with a caveat) points to its reason. */
class Notes {
  readonly #reasons: string[] = [];

  mark(reason: string | undefined): string {
    if (reason === undefined) return '';
    let i = this.#reasons.indexOf(reason);
    if (i < 0) i = this.#reasons.push(reason) - 1;
    return ` [${i + 1}]`;
  }

  lines(): string[] {
    // reasons name models: printed safely, whole
    return this.#reasons.map((r, i) => `  [${i + 1}] ${printable(r, Number.POSITIVE_INFINITY)}`);
  }
}

type Show = (value: number) => string;
const tokens: Show = (v) => formatNumber(Math.round(v));
const hours: Show = (v) => formatNumber(v, { decimals: 1 });
const percent: Show = (v) => `${formatNumber(v * 100, { decimals: 1 })}%`;

/** A figure as a table cell: its value, or — with the note of its reason. */
function cell(f: Figure, show: Show, notes: Notes): string {
  return f.value === null ? `—${notes.mark(f.reason)}` : `${show(f.value)}${notes.mark(f.reason)}`;
}

/** The change of a figure since the previous period: `+12.30 (+8.1%)`, or — when either is unknown. */
function delta(f: ComparedFigure, show: Show): string {
  if (f.delta === null) return '—';
  const sign = f.delta > 0 ? '+' : f.delta < 0 ? '−' : '±';
  return `${sign}${show(Math.abs(f.delta))}${f.change === null ? '' : ` (${sign}${formatNumber(Math.abs(f.change) * 100, { decimals: 0 })}%)`}`;
}

/** A cost column: one decimals count for all of its known values, so that the points line up. */
const costShow = (figures: readonly Figure[]): Show => costColumn(figures.flatMap((f) => (f.value === null ? [] : [f.value])));

/**
 * A column of a figure table: text, or a figure (a cost column when `show` is omitted: one decimals count
 * for its known values), optionally followed by its change since the previous period.
 */
type FigureColumn<R> = { header: string; text: (row: R) => string } | { header: string; figure: (row: R) => Figure | undefined; show?: Show; delta?: boolean };

/**
 * A titled table of figures, one row per model and (when `total` is given) a totals row: an unknown
 * figure is `—` with the number of its reason, listed under the table.
 */
function figureTable<R>(
  lines: string[],
  title: string,
  rows: readonly R[],
  total: R | null,
  columns: readonly FigureColumn<NoInfer<R>>[],
  { after = [], deltas = true }: { after?: string[]; deltas?: boolean } = {},
): void {
  const notes = new Notes();
  const all = total === null ? rows : [...rows, total];
  const headers: Column[] = [];
  const cells: ((row: R) => string)[] = [];
  for (const column of columns) {
    if ('text' in column) {
      headers.push({ header: column.header });
      cells.push(column.text);
      continue;
    }
    const { figure } = column;
    const show = column.show ?? costShow(all.flatMap((row) => figure(row) ?? []));
    headers.push({ header: column.header, align: 'right' });
    cells.push((row) => {
      const f = figure(row);
      return f === undefined ? '' : cell(f, show, notes);
    });
    if (column.delta && deltas) {
      headers.push({ header: 'vs before', align: 'right' });
      cells.push((row) => {
        const f = figure(row);
        return f === undefined ? '' : delta(f as ComparedFigure, show);
      });
    }
  }
  const body = rows.map((row) => cells.map((c) => c(row)));
  lines.push('', title, renderTable(headers, body, total === null ? undefined : cells.map((c) => c(total))), ...after, ...notes.lines());
}

function insightsTable(output: InsightsOutput, label: string, options: InsightsOptions): string {
  const { insights, timeZone, projection, cloud } = output;
  const at = (t: number) => formatDateTime(t, timeZone);
  const lines: string[] = [];
  const windowText = output.from === null && output.to === null ? 'All recorded data' : `${output.from === null ? 'The beginning' : at(output.from)} → ${output.to === null ? 'now' : at(output.to)}`;
  lines.push(`Insights: ${windowText} (${timeZone}) · ${label}`);
  lines.push(
    output.previous
      ? `Compared with the period before it (${at(output.previous.from)} → ${at(output.previous.to)}). Costs in the file's own currency.`
      : `No comparison: ${output.previousReason}. Costs in the file's own currency.`,
  );
  if (options.pricing) lines.push(`Priced with the what-if prices of ${options.pricing} (the stored prices are unchanged).`);
  if (insights.models.length === 0) {
    lines.push('', 'No models in this database yet.');
    return `${lines.join('\n')}\n`;
  }
  type Row = (typeof insights.models)[number];
  // without a period before the window there is nothing to compare with: no "vs before" columns
  const deltas = output.previous !== null;
  const name = { header: 'model', text: (r: { name: string }) => r.name };
  const total = { ...insights.total, name: 'total' };

  // the advisor's figures are per model; the total has only the cost as billed
  const t = insights.total.billing;
  const advice: { name: string; method: string; b: Partial<Row['billing']> }[] = [
    ...insights.models.map((m) => ({ name: m.name, method: m.billingMethod, b: m.billing })),
    { name: 'total', method: '', b: { actualCost: t.actualCost } },
  ];
  const actual = costShow([t.actualCost, ...insights.models.map((m) => m.billing.actualCost)]);
  figureTable(
    lines,
    'Billing advisor: the cost as billed, per token (tiers) and per hour (runtime) with the stored prices; break-even hourly price (tier cost ÷ runtime hours) and price per million tokens (hourly cost ÷ tokens)',
    advice.slice(0, -1),
    advice.at(-1)!,
    [
      name,
      { header: 'billing', text: (r) => r.method },
      { header: 'cost', figure: (r) => r.b.actualCost, show: actual, delta: true },
      { header: 'per token', figure: (r) => r.b.tierCost },
      { header: 'per hour', figure: (r) => r.b.hourlyCost },
      { header: 'even /h', figure: (r) => r.b.breakEvenHourlyPrice },
      { header: 'even /M tok', figure: (r) => r.b.breakEvenPricePerMillion },
      { header: 'paid /M tok', figure: (r) => r.b.effectiveCostPerMillion },
      { header: 'cheaper', text: (r) => (r.b.cheaperMethod === undefined ? '' : (r.b.cheaperMethod ?? '—')) },
    ],
    {
      deltas,
      after:
        t.possibleSaving.value !== null && t.possibleSaving.value > 0
          ? [`Each model on its cheaper billing method would have cost ${actual(t.bestCost.value!)} instead of ${actual(t.actualCost.value!)}: ${actual(t.possibleSaving.value)} less.`]
          : [],
    },
  );

  type Totalled = Pick<Row, 'name' | 'idle' | 'cache'>;
  figureTable<Totalled>(lines, 'Idle money: runtime in 15-minute slots without a request, at the hourly price', insights.models, total, [
    name,
    { header: 'runtime h', figure: (r) => r.idle.runtimeHours, show: hours },
    { header: 'idle h', figure: (r) => r.idle.idleHours, show: hours },
    { header: 'idle', figure: (r) => r.idle.idleShare, show: percent },
    { header: 'idle cost', figure: (r) => r.idle.idleCost, delta: true },
  ], { deltas });
  const matrix = insights.total.hourOfWeek;
  lines.push('', `Idle hours by hour of the week (${timeZone}), all models:`, ...heatmap(matrix.idleHours, (v) => `${formatNumber(v, { decimals: 1 })} h`));
  lines.push('', `Requests by hour of the week (${timeZone}), all models:`, ...heatmap(matrix.requests, (v) => `${formatNumber(v)} requests`));

  figureTable<Totalled>(lines, 'Cache savings: cache-hit tokens × (input price − cache-hit price), and the hit rate (cache-hit ÷ input tokens)', insights.models, total, [
    name,
    { header: 'cache-hit tok', figure: (r) => r.cache.cacheHitTokens, show: tokens },
    { header: 'hit rate', figure: (r) => r.cache.hitRate, show: percent },
    { header: 'saving', figure: (r) => r.cache.saving, delta: true },
  ], { deltas });

  // tiers at work: one row per tier of each model (and per uncovered range that requests fell in)
  const tierRows = insights.models.flatMap((m) =>
    m.tiers.filter((tier) => tier.tierIndex !== null || tier.requests.value !== 0).map((tier, i) => ({ model: i === 0 ? m.name : '', tier })),
  );
  figureTable(lines, 'Tiers at work: requests by input size against the tier boundaries (tier "none": inputs no tier covers, unpriced)', tierRows, null, [
    { header: 'model', text: (r) => r.model },
    { header: 'tier', text: (r) => (r.tier.tierIndex === null ? 'none' : String(r.tier.tierIndex)) },
    { header: 'input tokens', text: (r) => inputRange(r.tier) },
    { header: 'requests', figure: (r) => r.tier.requests, show: tokens },
    { header: 'share', figure: (r) => r.tier.requestShare, show: percent },
    { header: 'input tok', figure: (r) => r.tier.inputTokens, show: tokens },
    { header: 'cost', figure: (r) => r.tier.cost },
    { header: 'cost share', figure: (r) => r.tier.costShare, show: percent },
    { header: 'cache saving', figure: (r) => r.tier.cacheSaving },
  ]);

  const month = formatDateTime(projection.monthStart, timeZone, 'day').slice(0, 7);
  const basis = projection.basis
    ? `the run rate of the last ${formatNumber(projection.basis.days, { decimals: 1 })} days (${at(projection.basis.from)} → ${at(projection.basis.to)})`
    : `no basis: ${projection.reason}`;
  figureTable(lines, `Projection of ${month} (${timeZone}), an ESTIMATE from ${basis}`, projection.models, { name: 'total', cost: projection.total }, [
    name,
    { header: 'month to date', figure: (r) => r.cost.monthToDate },
    { header: 'per day', figure: (r) => r.cost.ratePerDay },
    { header: 'rest of month', figure: (r) => r.cost.restOfMonth },
    { header: 'month (est.)', figure: (r) => r.cost.monthTotal },
  ]);

  for (const target of cloud?.targets ?? []) {
    const m = target.model;
    figureTable(
      lines,
      `Cloud comparison: ${m.providerName} ${m.modelName} (${m.ref}), priced in USD with ${cloud!.catalog.name} ${cloud!.catalog.version} at each request's time` +
        (cloud!.usdPerUnit === null ? '' : `; 1 unit of the file's currency = ${cloud!.usdPerUnit} USD`),
      target.models,
      { ...target.total, name: 'total' },
      [
        name,
        { header: 'requests', figure: (r) => r.requests, show: tokens },
        { header: 'cost here', figure: (r) => r.localCost },
        { header: 'cloud USD', figure: (r) => r.cloudCost },
        { header: 'saving USD', figure: (r) => r.saving, delta: true },
        { header: 'over context', figure: (r) => r.overContextWindow, show: tokens },
      ],
      { deltas },
    );
  }
  return `${lines.join('\n')}\n`;
}

/** `0 – 32,768`, `32,769 – ∞`, with the output range of a 2-D window. */
function inputRange(t: { inputFrom: number; inputTo: number | null; outputFrom?: number; outputTo?: number | null }): string {
  const range = (from: number, to: number | null | undefined) => `${formatNumber(from)} – ${to === null || to === undefined ? '∞' : formatNumber(to)}`;
  return t.outputFrom === undefined ? range(t.inputFrom, t.inputTo) : `${range(t.inputFrom, t.inputTo)} (out ${range(t.outputFrom, t.outputTo)})`;
}

const SHADES = ['  ·', '  ░', '  ▒', '  ▓', '  █'];

/** A 7 × 24 heatmap in text: one shade per cell, scaled to the largest value. */
function heatmap(cells: Cells, show: (v: number) => string): string[] {
  const max = Math.max(0, ...cells.values.map((v) => v ?? 0));
  const header = `     ${Array.from({ length: 24 }, (_, h) => String(h).padStart(3, ' ')).join('')}`;
  const rows = WEEKDAYS.map(
    (day, d) =>
      `  ${day}${cells.values
        .slice(d * 24, d * 24 + 24)
        .map((v) => (v === null ? '  ?' : v === 0 || max === 0 ? SHADES[0] : SHADES[Math.min(4, Math.ceil((v / max) * 4))]))
        .join('')}`,
  );
  return [header, ...rows, `       · none   ░ up to ¼   ▒ ½   ▓ ¾   █ up to ${max === 0 ? 'the most' : show(max)}${cells.values.includes(null) ? '   ? not known' : ''}`];
}
