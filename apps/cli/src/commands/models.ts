import { formatDateTime, formatNumber, localTimeZone } from '@llm-monitor/core';
import type { Command } from 'commander';
import { type DbOptions, dbOption, openReadOnly, resolveDb, schemaOption, using } from '../lib/db.js';
import { type Column, csvRows, formatOption, formatPrice, printable, renderTable } from '../lib/format.js';
import { tzOption } from '../lib/time.js';

const FORMATS = ['table', 'json', 'csv'] as const;

interface ModelsOptions extends DbOptions {
  tz?: string;
  format: (typeof FORMATS)[number];
}

/** One registered model as `models --format json|csv` prints it. */
export interface ModelListing {
  name: string;
  safeName: string | null;
  shape: string;
  writable: boolean;
  billingMethod: 'tier' | 'hourly' | null;
  hourlyPrice: number | null;
  tiers: number;
  cachePricing: boolean;
  requests: number;
  firstRequestAt: number | null;
  lastRequestAt: number | null;
  runs: number;
  openRuns: number;
  problems: string[];
}

const FIELDS = [
  'name',
  'safeName',
  'shape',
  'writable',
  'billingMethod',
  'hourlyPrice',
  'tiers',
  'cachePricing',
  'requests',
  'firstRequestAt',
  'lastRequestAt',
  'runs',
  'openRuns',
  'problems',
] as const;

export function registerModelsCommand(program: Command): void {
  program
    .command('models')
    .summary('the registered models: table layout, billing, requests, last request')
    .description(
      'Every model in the database, in registration order: its table layout (shape S1–S7), how it is billed, its request count, its first and last request and its runs, and anything suspicious about it (tier gaps, runs never ended, missing tables).',
    )
    .addOption(dbOption())
    .addOption(schemaOption())
    .addOption(tzOption('the time zone of the times shown'))
    .addOption(formatOption(FORMATS, 'table'))
    .addHelpText(
      'after',
      `
Examples:
  $ llm-monitor models
  $ llm-monitor models --db /var/lib/llm/monitoring.db --format json
  $ llm-monitor models --db postgres://monitor@db.internal/llm --schema llm_monitor`,
    )
    .action((options: ModelsOptions) => runModels(options));
}

async function runModels(options: ModelsOptions): Promise<void> {
  const timeZone = options.tz ?? localTimeZone();
  const db = resolveDb(options.db, options.schema);
  const listings = await using(await openReadOnly(db), async (monitor) => {
    // one read of the file: describe() counts, dates and reads the billing of every model
    const description = await monitor.describe();
    const result: ModelListing[] = description.models.map((model) => ({
      name: model.name,
      safeName: model.safeName,
      shape: model.shape,
      writable: model.writable,
      billingMethod: model.billingMethod,
      hourlyPrice: model.billing ? model.billing.hourlyPrice : null,
      tiers: model.tiers,
      cachePricing: model.billing ? (model.billing.tierWindows ?? model.billing.tierPricing).some((t) => t.supportCache) : false,
      requests: model.requests,
      firstRequestAt: model.firstRequestAt,
      lastRequestAt: model.lastRequestAt,
      runs: model.runs,
      openRuns: model.openRuns,
      problems: model.problems,
    }));
    return { result, problems: description.problems };
  });
  const { result, problems } = listings;
  if (options.format === 'json') {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  if (options.format === 'csv') {
    process.stdout.write(csvRows([FIELDS, ...result.map((m) => FIELDS.map((f) => (f === 'problems' ? m.problems.join('; ') : m[f])))]));
    return;
  }
  if (result.length === 0) {
    process.stdout.write(`No models in ${printable(db.label, 200)} yet.\n`);
    return;
  }
  const columns: Column[] = [
    { header: 'model' },
    { header: 'shape' },
    { header: 'billing' },
    { header: 'price' },
    { header: 'requests', align: 'right' },
    { header: `last request (${timeZone})` },
    { header: 'runs', align: 'right' },
  ];
  const rows = result.map((m) => [
    m.name,
    m.shape,
    m.billingMethod ?? 'not set',
    m.billingMethod === 'hourly'
      ? `${formatPrice(m.hourlyPrice ?? 0)} per hour`
      : m.billingMethod === 'tier'
        ? `${m.tiers} tier${m.tiers === 1 ? '' : 's'}${m.cachePricing ? ', cache price' : ''}`
        : '—',
    formatNumber(m.requests),
    m.lastRequestAt === null ? '—' : formatDateTime(m.lastRequestAt, timeZone, 'second'),
    m.openRuns > 0 ? `${formatNumber(m.runs)} (${m.openRuns} open)` : formatNumber(m.runs),
  ]);
  const total = result.reduce((n, m) => n + m.requests, 0);
  const lines = [renderTable(columns, rows, ['total', '', '', '', formatNumber(total), '', formatNumber(result.reduce((n, m) => n + m.runs, 0))])];
  const notes = [...problems.map((p) => `  ! ${printable(p, 400)}`), ...result.flatMap((m) => m.problems.map((p) => `  ! ${printable(m.name)}: ${printable(p, 400)}`))];
  if (notes.length > 0) lines.push('', 'Worth a look:', ...notes);
  process.stdout.write(`${lines.join('\n')}\n`);
}
