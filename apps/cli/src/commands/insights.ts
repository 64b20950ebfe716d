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
import { type CloudComparison, type CloudModel, cloudInputBounds, cloudModel, compareWithCloud } from '@llm-monitor/core/cloud';
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
  const targets: CloudModel[] = (options.compare ?? []).map((ref) => cloudModel(ref));
  const db = resolveDb(options.db, options.schema);
  const output = await using(await openReadOnly(db), async (monitor) => {
    const models = options.model && (await selectModels(monitor, options.model, db)).map((m) => m.name);
    const selection = { ...(models ? { models } : {}), ...(pricing ? { pricing } : {}) };
    const scan = insightScan({ ...span, now, timeZone });
    const aggregation = await monitor.aggregate({ ...scan, ...selection, inputBounds: cloudInputBounds(targets) });
    const report = insightReport(aggregation, { ...span, ...selection, now, timeZone });
    let cloud: InsightsOutput['cloud'] = null;
    if (targets.length > 0) {
      const comparison = { ...selection, targets, ...(options.usdRate === undefined ? {} : { usdPerUnit: options.usdRate }) };
      const current = compareWithCloud(aggregation, { ...comparison, ...span });
      cloud = compare(current, report.previous && compareWithCloud(aggregation, { ...comparison, ...report.previous }));
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

const right = (header: string): Column => ({ header, align: 'right' });

function section(lines: string[], title: string, table: string, notes: Notes, after: string[] = []): void {
  lines.push('', title, table, ...after, ...notes.lines());
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
  const rows = [...insights.models, { ...insights.total, name: 'total' }];

  // billing advisor
  {
    const notes = new Notes();
    const t = insights.total.billing;
    const column = (pick: (b: (typeof insights.models)[number]['billing']) => Figure, ...more: Figure[]) => costShow([...insights.models.map((m) => pick(m.billing)), ...more]);
    const [actual, perToken, perHour, evenHour, evenToken, paid] = [
      column((b) => b.actualCost, t.actualCost),
      column((b) => b.tierCost),
      column((b) => b.hourlyCost),
      column((b) => b.breakEvenHourlyPrice),
      column((b) => b.breakEvenPricePerMillion),
      column((b) => b.effectiveCostPerMillion),
    ];
    const body = insights.models.map((m) => [
      m.name,
      m.billingMethod,
      cell(m.billing.actualCost, actual, notes),
      delta(m.billing.actualCost, actual),
      cell(m.billing.tierCost, perToken, notes),
      cell(m.billing.hourlyCost, perHour, notes),
      cell(m.billing.breakEvenHourlyPrice, evenHour, notes),
      cell(m.billing.breakEvenPricePerMillion, evenToken, notes),
      cell(m.billing.effectiveCostPerMillion, paid, notes),
      m.billing.cheaperMethod === null ? '—' : m.billing.cheaperMethod,
    ]);
    const total = ['total', '', cell(t.actualCost, actual, notes), delta(t.actualCost, actual), '', '', '', '', '', ''];
    const table = renderTable(
      [{ header: 'model' }, { header: 'billing' }, right('cost'), right('vs before'), right('per token'), right('per hour'), right('even /h'), right('even /M tok'), right('paid /M tok'), { header: 'cheaper' }],
      body,
      total,
    );
    const after =
      t.possibleSaving.value !== null && t.possibleSaving.value > 0
        ? [`Each model on its cheaper billing method would have cost ${actual(t.bestCost.value!)} instead of ${actual(t.actualCost.value!)}: ${actual(t.possibleSaving.value)} less.`]
        : [];
    section(
      lines,
      'Billing advisor: the cost as billed, per token (tiers) and per hour (runtime) with the stored prices; break-even hourly price (tier cost ÷ runtime hours) and price per million tokens (hourly cost ÷ tokens)',
      table,
      notes,
      after,
    );
  }

  // idle money
  {
    const notes = new Notes();
    const costs = costShow(rows.map((m) => m.idle.idleCost));
    const body = rows.map((m) => [
      m.name,
      cell(m.idle.runtimeHours, hours, notes),
      cell(m.idle.idleHours, hours, notes),
      cell(m.idle.idleShare, percent, notes),
      cell(m.idle.idleCost, costs, notes),
      delta(m.idle.idleCost as ComparedFigure, costs),
    ]);
    const total = body.pop()!;
    section(
      lines,
      'Idle money: runtime in 15-minute slots without a request, at the hourly price',
      renderTable([{ header: 'model' }, right('runtime h'), right('idle h'), right('idle'), right('idle cost'), right('vs before')], body, total),
      notes,
    );
    const matrix = insights.total.hourOfWeek;
    lines.push('', `Idle hours by hour of the week (${timeZone}), all models:`, ...heatmap(matrix.idleHours, (v) => `${formatNumber(v, { decimals: 1 })} h`));
    lines.push('', `Requests by hour of the week (${timeZone}), all models:`, ...heatmap(matrix.requests, (v) => `${formatNumber(v)} requests`));
  }

  // cache savings
  {
    const notes = new Notes();
    const costs = costShow(rows.map((m) => m.cache.saving));
    const body = rows.map((m) => [
      m.name,
      cell(m.cache.cacheHitTokens, tokens, notes),
      cell(m.cache.hitRate, percent, notes),
      cell(m.cache.saving, costs, notes),
      delta(m.cache.saving as ComparedFigure, costs),
    ]);
    const total = body.pop()!;
    section(
      lines,
      'Cache savings: cache-hit tokens × (input price − cache-hit price), and the hit rate (cache-hit ÷ input tokens)',
      renderTable([{ header: 'model' }, right('cache-hit tok'), right('hit rate'), right('saving'), right('vs before')], body, total),
      notes,
    );
  }

  // tiers at work
  {
    const notes = new Notes();
    const body: string[][] = [];
    for (const m of insights.models) {
      const costs = costShow(m.tiers.map((t) => t.cost));
      for (const t of m.tiers) {
        if (t.tierIndex === null && t.requests.value === 0) continue;
        body.push([
          body.some((r) => r[0] === m.name) ? '' : m.name,
          t.tierIndex === null ? 'none' : String(t.tierIndex),
          `${formatNumber(t.inputFrom)} – ${t.inputTo === null ? '∞' : formatNumber(t.inputTo)}${t.outputFrom !== undefined ? ` (out ${formatNumber(t.outputFrom)} – ${t.outputTo === null ? '∞' : formatNumber(t.outputTo!)})` : ''}`,
          cell(t.requests, tokens, notes),
          cell(t.requestShare, percent, notes),
          cell(t.inputTokens, tokens, notes),
          cell(t.cost, costs, notes),
          cell(t.costShare, percent, notes),
          cell(t.cacheSaving, costs, notes),
        ]);
      }
    }
    section(
      lines,
      'Tiers at work: requests by input size against the tier boundaries (tier "none": inputs no tier covers, unpriced)',
      renderTable(
        [{ header: 'model' }, { header: 'tier' }, { header: 'input tokens' }, right('requests'), right('share'), right('input tok'), right('cost'), right('cost share'), right('cache saving')],
        body,
      ),
      notes,
    );
  }

  // projection
  {
    const notes = new Notes();
    const month = formatDateTime(projection.monthStart, timeZone, 'day').slice(0, 7);
    const all = [...projection.models, { name: 'total', cost: projection.total }];
    const [toDate, perDay, rest, whole] = (['monthToDate', 'ratePerDay', 'restOfMonth', 'monthTotal'] as const).map((key) => costShow(all.map((m) => m.cost[key])));
    const body = all.map((m) => [
      m.name,
      cell(m.cost.monthToDate, toDate!, notes),
      cell(m.cost.ratePerDay, perDay!, notes),
      cell(m.cost.restOfMonth, rest!, notes),
      cell(m.cost.monthTotal, whole!, notes),
    ]);
    const total = body.pop()!;
    const basis = projection.basis
      ? `the run rate of the last ${formatNumber(projection.basis.days, { decimals: 1 })} days (${at(projection.basis.from)} → ${at(projection.basis.to)})`
      : `no basis: ${projection.reason}`;
    section(
      lines,
      `Projection of ${month} (${timeZone}), an ESTIMATE from ${basis}`,
      renderTable([{ header: 'model' }, right('month to date'), right('per day'), right('rest of month'), right('month (est.)')], body, total),
      notes,
    );
  }

  if (cloud) {
    for (const target of cloud.targets) {
      const notes = new Notes();
      const all = [...target.models, { ...target.total, name: 'total' }];
      const [local, usd, saving] = (['localCost', 'cloudCost', 'saving'] as const).map((key) => costShow(all.map((m) => m[key])));
      const body = all.map((m) => [
        m.name,
        cell(m.requests, tokens, notes),
        cell(m.localCost, local!, notes),
        cell(m.cloudCost, usd!, notes),
        cell(m.saving, saving!, notes),
        delta(m.saving, saving!),
        cell(m.overContextWindow, tokens, notes),
      ]);
      const total = body.pop()!;
      const m = target.model;
      section(
        lines,
        `Cloud comparison: ${m.providerName} ${m.modelName} (${m.ref}), priced in USD with ${cloud.catalog.name} ${cloud.catalog.version} at each request's time` +
          (cloud.usdPerUnit === null ? '' : `; 1 unit of the file's currency = ${cloud.usdPerUnit} USD`),
        renderTable([{ header: 'model' }, right('requests'), right('cost here'), right('cloud USD'), right('saving USD'), right('vs before'), right('over context')], body, total),
        notes,
      );
    }
  }
  return `${lines.join('\n')}\n`;
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
