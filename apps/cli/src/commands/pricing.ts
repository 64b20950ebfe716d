import { writeFileSync } from 'node:fs';
import { type ModelBilling, type ModelInfo, type Monitor, type TierPricing, type TierWindow, tierProblems, formatNumber } from '@llm-monitor/core';
import { Argument, type Command, InvalidArgumentError } from 'commander';
import { type Db, type DbOptions, dbOption, openExistingForWrites, openReadOnly, resolveDb, schemaOption, using } from '../lib/db.js';
import { type Column, formatOption, formatPrice, formatRange, renderTable, shellQuote } from '../lib/format.js';
import { quote, readJsonFile } from '../lib/json-file.js';
import { checkOutPath } from '../lib/output.js';
import { type BillingUpdate, checkBillingUpdate, checkTierList } from '../lib/tiers.js';
import { UserError } from '../user-error.js';

export function registerPricingCommand(program: Command): void {
  const pricing = program
    .command('pricing')
    .summary('show and change how models are billed (tiers per token, or per hour)')
    .description(
      'Show and change the billing settings of models: per token by tier (按量: a price per million input, output and cache-hit tokens, chosen by the request\'s input tokens) or per hour of runtime (按时, a self-hosted GPU). ' +
        'Every change validates first and is one transaction: on any error nothing is written.',
    )
    .addHelpText(
      'after',
      `
Examples:
  $ llm-monitor pricing show Qwen3-Coder-30B
  $ llm-monitor pricing set-method DeepSeek-V3 hourly
  $ llm-monitor pricing set-hourly DeepSeek-V3 7.25
  $ llm-monitor pricing set-tiers Qwen3-Coder-30B tiers.json
  $ llm-monitor pricing export pricing.json
  $ llm-monitor pricing import pricing.json --db other/monitoring.db
  $ llm-monitor pricing show Qwen3-Coder-30B --db postgres://monitor@db.internal/llm --schema llm_monitor`,
    );

  pricing
    .command('show')
    .summary("a model's billing method, hourly price and tiers")
    .description("A model's billing settings: its method, hourly price and price tiers (and any gap or overlap among them).")
    .argument('<model>', 'the model name, as `llm-monitor models` lists it')
    .addOption(dbOption())
    .addOption(schemaOption())
    .addOption(formatOption(['table', 'json'] as const, 'table'))
    .addHelpText(
      'after',
      `
Examples:
  $ llm-monitor pricing show Qwen3-Coder-30B
  $ llm-monitor pricing show Qwen3-Coder-30B --format json > tiers-now.json
      the same object getModelBilling() returns`,
    )
    .action((model: string, options: DbOptions & { format: 'table' | 'json' }) => showPricing(model, options));

  pricing
    .command('set-method')
    .summary('bill a model per token by tier, or per hour of runtime')
    .argument('<model>', 'the model name')
    .addArgument(new Argument('<method>', '`tier` (per token) or `hourly` (per hour of runtime)').choices(['tier', 'hourly']))
    .addOption(dbOption())
    .addOption(schemaOption())
    .addHelpText(
      'after',
      `
Examples:
  $ llm-monitor pricing set-method DeepSeek-V3 hourly
  $ llm-monitor pricing set-method Qwen3-Coder-30B tier`,
    )
    .action((model: string, method: 'tier' | 'hourly', options: DbOptions) => setMethod(model, method, options));

  pricing
    .command('set-hourly')
    .summary("set a model's price per hour of runtime")
    .argument('<model>', 'the model name')
    .argument('<price>', 'price per hour, a number >= 0', parsePrice)
    .addOption(dbOption())
    .addOption(schemaOption())
    .addHelpText(
      'after',
      `
Examples:
  $ llm-monitor pricing set-hourly DeepSeek-V3 7.25
      the hourly price counts once the model is billed hourly (pricing set-method DeepSeek-V3 hourly)`,
    )
    .action((model: string, price: number, options: DbOptions) => setHourly(model, price, options));

  pricing
    .command('set-tiers')
    .summary("replace all of a model's price tiers with those of a JSON file")
    .description(
      "Replace all of a model's price tiers, atomically, with those of a JSON file: an array of tiers as `pricing show MODEL --format json` prints them in tierPricing. " +
        'A request is priced at the tier whose [startTokens, endTokens] (inclusive; endTokens -1 = unbounded) contains its input tokens. ' +
        'The tiers are checked first: no overlaps, and no gaps (from 0 tokens to an unbounded last tier) unless --allow-gaps.\n\n' +
        'tiers.json:\n' +
        '  [\n' +
        '    { "tierIndex": 1, "startTokens": 0, "endTokens": 32768, "inputPricePerMillion": 2, "outputPricePerMillion": 8,\n' +
        '      "supportCache": true, "cacheHitPricePerMillion": 0.5 },\n' +
        '    { "tierIndex": 2, "startTokens": 32769, "endTokens": -1, "inputPricePerMillion": 4, "outputPricePerMillion": 16 }\n' +
        '  ]',
    )
    .argument('<model>', 'the model name')
    .argument('<file>', 'the tiers, a JSON array (- reads standard input)')
    .addOption(dbOption())
    .addOption(schemaOption())
    .option('--allow-gaps', 'accept token ranges no tier covers (their requests are reported as unpriced)')
    .addHelpText(
      'after',
      `
Examples:
  $ llm-monitor pricing set-tiers Qwen3-Coder-30B tiers.json
  $ llm-monitor pricing show Qwen3-Coder-30B --format json | jq .tierPricing > tiers.json   # edit, then set-tiers`,
    )
    .action((model: string, file: string, options: DbOptions & { allowGaps?: boolean }) => setTiers(model, file, options));

  pricing
    .command('export')
    .summary('write the billing settings of every model to a JSON file')
    .description('Write the billing settings of every model to a JSON file: { "model": { useTierPricing, hourlyPrice, tierPricing } } (null for a model that was never configured).')
    .argument('<file>', 'where to write (- for standard output)')
    .addOption(dbOption())
    .addOption(schemaOption())
    .option('--force', 'overwrite the file if it exists')
    .addHelpText(
      'after',
      `
Examples:
  $ llm-monitor pricing export pricing.json
  $ llm-monitor pricing export - | jq 'map_values(.hourlyPrice)'`,
    )
    .action((file: string, options: DbOptions & { force?: boolean }) => exportPricing(file, options));

  pricing
    .command('import')
    .summary('set the billing settings of models from a JSON file (as pricing export writes it)')
    .description(
      'Set the billing settings of the models in a JSON file as `pricing export` writes it. Each model may give any of useTierPricing, hourlyPrice and tierPricing; what it leaves out stays as it is, and tierPricing replaces all its tiers. ' +
        'Everything is checked first (unknown models, tier overlaps and gaps, layouts llm-monitor cannot write), then written in one transaction.',
    )
    .argument('<file>', 'the settings, a JSON object keyed by model name (- reads standard input)')
    .addOption(dbOption())
    .addOption(schemaOption())
    .option('--register', 'register models the database does not have yet (default: refuse them)')
    .option('--allow-gaps', 'accept tier lists with token ranges no tier covers')
    .addHelpText(
      'after',
      `
Examples:
  $ llm-monitor pricing export pricing.json --db old/monitoring.db
  $ llm-monitor pricing import pricing.json --register
  $ echo '{"DeepSeek-V3":{"useTierPricing":false,"hourlyPrice":7.25}}' | llm-monitor pricing import -`,
    )
    .action((file: string, options: DbOptions & { register?: boolean; allowGaps?: boolean }) => importPricing(file, options));
}

function parsePrice(value: string): number {
  const price = Number(value);
  if (value.trim() === '' || !Number.isFinite(price) || price < 0) throw new InvalidArgumentError('expected a number >= 0, e.g. 7.25');
  return price;
}

// ---- reading ---------------------------------------------------------------------------------------

const windowRange = (min: number, max: number) => `${min === 0 ? '0' : `> ${formatNumber(min)}`} – ${max === -1 ? '∞' : formatNumber(max)}`;

export function billingText(model: string, shape: string | null, billing: ModelBilling | null): string {
  if (!billing) return `${model} has no billing settings (it was created by a write and never configured): its requests are unpriced.\n`;
  const lines: string[] = [];
  const tiers = billing.tierWindows ?? billing.tierPricing;
  const where = shape ? ` (layout ${shape})` : '';
  lines.push(
    billing.useTierPricing
      ? `${model}${where} is billed per token by tier${billing.hourlyPrice > 0 ? ` (its hourly price ${formatPrice(billing.hourlyPrice)} is not used)` : ''}.`
      : `${model}${where} is billed by the hour: ${formatPrice(billing.hourlyPrice)} per hour of runtime${tiers.length > 0 ? ' (the tiers below are not used)' : ''}.`,
  );
  if (tiers.length === 0) {
    lines.push('', 'No price tiers.');
    return `${lines.join('\n')}\n`;
  }
  lines.push('');
  if (billing.tierWindows) {
    const columns: Column[] = [
      { header: 'tier', align: 'right' },
      { header: 'input tokens' },
      { header: 'output tokens' },
      { header: 'input / M', align: 'right' },
      { header: 'output / M', align: 'right' },
      { header: 'cache write / M', align: 'right' },
      { header: 'cache read / M', align: 'right' },
    ];
    lines.push(
      renderTable(
        columns,
        billing.tierWindows.map((w: TierWindow) => [
          String(w.tierIndex),
          windowRange(w.minInputTokens, w.maxInputTokens),
          windowRange(w.minOutputTokens, w.maxOutputTokens),
          formatPrice(w.inputPrice),
          formatPrice(w.outputPrice),
          w.supportCache ? formatPrice(w.cacheWritePrice) : '—',
          w.supportCache ? formatPrice(w.cacheReadPrice) : '—',
        ]),
      ),
      '2-D windows (LLM-Manager v2.5+): both input and output tokens must fit; a lower bound is exclusive unless it is 0.',
    );
    return `${lines.join('\n')}\n`;
  }
  const columns: Column[] = [
    { header: 'tier', align: 'right' },
    { header: 'input tokens' },
    { header: 'input / M', align: 'right' },
    { header: 'output / M', align: 'right' },
    { header: 'cache hits / M', align: 'right' },
  ];
  lines.push(
    renderTable(
      columns,
      billing.tierPricing.map((t: TierPricing) => [
        String(t.tierIndex),
        formatRange(t.startTokens, t.endTokens),
        formatPrice(t.inputPricePerMillion),
        formatPrice(t.outputPricePerMillion),
        t.supportCache ? formatPrice(t.cacheHitPricePerMillion) : '—',
      ]),
    ),
  );
  const problems = billing.useTierPricing ? tierProblems(billing.tierPricing) : [];
  if (problems.length > 0) lines.push('', 'Worth a look:', ...problems.map((p) => `  ! ${p.message}`));
  return `${lines.join('\n')}\n`;
}

async function showPricing(model: string, options: DbOptions & { format: 'table' | 'json' }): Promise<void> {
  await using(await openReadOnly(resolveDb(options.db, options.schema)), async (monitor) => {
    const billing = await monitor.getModelBilling(model);
    if (options.format === 'json') {
      process.stdout.write(`${JSON.stringify(billing)}\n`);
      return;
    }
    const info = (await monitor.listModels()).find((m) => m.name === model);
    process.stdout.write(billingText(model, info?.shape ?? null, billing));
  });
}

// ---- writing ---------------------------------------------------------------------------------------

/**
 * Checks, on a read-only connection (so a refused command never touches the file), that every model
 * exists and is in a layout llm-monitor writes. Resolves the names that are not registered yet (only
 * when `register` allows them).
 */
async function checkWritable(db: Db, models: readonly string[], register = false): Promise<{ unknown: string[]; infos: Map<string, ModelInfo> }> {
  return using(await openReadOnly(db), async (monitor) => {
    const infos = new Map((await monitor.listModels()).map((m) => [m.name, m]));
    const unknown = models.filter((name) => !infos.has(name));
    if (unknown.length > 0 && !register)
      throw new UserError(
        unknown.length === 1
          ? `unknown model ${quote(unknown[0]!)}: it is not registered in ${db.label} (\`llm-monitor models\` lists the models)`
          : `unknown models ${unknown.map(quote).join(', ')}: they are not registered in ${db.label} (add --register to register them)`,
      );
    for (const name of models) {
      const info = infos.get(name);
      if (info && !info.writable)
        throw new UserError(`model ${quote(name)} is stored in layout ${info.shape}, which llm-monitor reads but cannot write (change its pricing with LLM-Manager)`);
    }
    if (unknown.length > 0) {
      const description = await monitor.describe();
      if (description.shapes.length > 0 && description.shapes.every((s) => s === 'S6' || s === 'S7') && !description.models.some((m) => m.safeName))
        throw new UserError(`cannot register ${unknown.map(quote).join(', ')}: ${db.label} uses the normalized layout ${description.shapes[0]}, which llm-monitor reads but cannot write`);
    }
    return { unknown, infos };
  });
}

async function setMethod(model: string, method: 'tier' | 'hourly', options: DbOptions): Promise<void> {
  const db = resolveDb(options.db, options.schema);
  await checkWritable(db, [model]);
  const billing = await using(await openExistingForWrites(db), async (monitor) => {
    await monitor.updateBillingMethod(model, method === 'tier');
    return monitor.getModelBilling(model);
  });
  process.stdout.write(
    method === 'tier'
      ? `${model} is now billed per token by tier (${billing?.tierPricing.length ?? 0} tier${billing?.tierPricing.length === 1 ? '' : 's'}).\n`
      : `${model} is now billed by the hour: ${formatPrice(billing?.hourlyPrice ?? 0)} per hour of runtime.\n`,
  );
  if (method === 'hourly' && (billing?.hourlyPrice ?? 0) === 0)
    process.stdout.write(`Its hourly price is 0: set it with \`llm-monitor pricing set-hourly ${shellQuote(model)} PRICE\`.\n`);
}

async function setHourly(model: string, price: number, options: DbOptions): Promise<void> {
  const db = resolveDb(options.db, options.schema);
  await checkWritable(db, [model]);
  const { before, after } = await using(await openExistingForWrites(db), async (monitor) => {
    const previous = await monitor.getModelBilling(model);
    await monitor.updateHourlyPrice(model, price);
    return { before: previous, after: await monitor.getModelBilling(model) };
  });
  process.stdout.write(`${model}: hourly price ${formatPrice(price)} (was ${formatPrice(before?.hourlyPrice ?? 0)}).\n`);
  if (after?.useTierPricing)
    process.stdout.write(`It is billed per token by tier, so the hourly price counts once you run \`llm-monitor pricing set-method ${shellQuote(model)} hourly\`.\n`);
}

async function replaceTiers(monitor: Monitor, model: string, tiers: readonly TierPricing[]): Promise<void> {
  const current = await monitor.getModelBilling(model);
  for (const t of current?.tierPricing ?? []) await monitor.deleteTierPricing(model, t.tierIndex);
  for (const t of tiers) await monitor.addTierPricing(model, t);
}

async function setTiers(model: string, file: string, options: DbOptions & { allowGaps?: boolean }): Promise<void> {
  const tiers = checkTierList(file, readJsonFile(file, 'tiers file'), options.allowGaps ?? false);
  const db = resolveDb(options.db, options.schema);
  await checkWritable(db, [model]);
  const { billing, shape } = await using(await openExistingForWrites(db), async (monitor) => {
    await monitor.transaction((tx) => replaceTiers(tx, model, tiers));
    const info = (await monitor.listModels()).find((m) => m.name === model);
    return { billing: await monitor.getModelBilling(model), shape: info?.shape ?? null };
  });
  process.stdout.write(`Replaced the tiers of ${model}:\n\n`);
  process.stdout.write(billingText(model, shape, billing));
}

async function exportPricing(file: string, options: DbOptions & { force?: boolean }): Promise<void> {
  const db = resolveDb(options.db, options.schema);
  if (file !== '-') checkOutPath(file, options.force ?? false, db.engine === 'sqlite' ? [db.location] : []);
  const all = await using(await openReadOnly(db), async (monitor) => {
    const result: Record<string, ModelBilling | null> = {};
    for (const info of await monitor.listModels()) result[info.name] = await monitor.getModelBilling(info.name).catch(() => null);
    return result;
  });
  const text = `${JSON.stringify(all, null, 2)}\n`;
  if (file === '-') {
    process.stdout.write(text);
    return;
  }
  writeFileSync(file, text);
  const count = Object.keys(all).length;
  process.stdout.write(`Wrote the billing settings of ${count} model${count === 1 ? '' : 's'} to ${file}.\n`);
}

async function importPricing(file: string, options: DbOptions & { register?: boolean; allowGaps?: boolean }): Promise<void> {
  const input = readJsonFile(file, 'pricing file');
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new UserError(`the pricing file ${file} must be a JSON object keyed by model name (as \`llm-monitor pricing export\` writes it)`);
  const updates = new Map<string, BillingUpdate>();
  const skipped: string[] = [];
  for (const [model, value] of Object.entries(input)) {
    if (model === '') throw new UserError(`${file}: a model name must not be empty`);
    if (value === null) skipped.push(model);
    else updates.set(model, checkBillingUpdate(`${file}: model ${quote(model)}`, value, options.allowGaps ?? false));
  }
  if (updates.size === 0) throw new UserError(`${file} sets the pricing of no model`);
  const db = resolveDb(options.db, options.schema);
  const { unknown } = await checkWritable(db, [...updates.keys()], options.register ?? false);
  const registered = new Set(unknown);
  await using(await openExistingForWrites(db), (monitor) =>
    monitor.transaction(async (tx) => {
      for (const [model, update] of updates) {
        if (registered.has(model)) await tx.registerModel(model);
        if (update.useTierPricing !== undefined) await tx.updateBillingMethod(model, update.useTierPricing);
        if (update.hourlyPrice !== undefined) await tx.updateHourlyPrice(model, update.hourlyPrice);
        if (update.tierPricing !== undefined) await replaceTiers(tx, model, update.tierPricing);
      }
    }),
  );
  const lines = [`Imported the pricing of ${updates.size} model${updates.size === 1 ? '' : 's'} from ${file === '-' ? 'standard input' : file} into ${db.label}:`];
  for (const [model, update] of updates) {
    const parts = [
      update.useTierPricing === undefined ? null : update.useTierPricing ? 'billed by tier' : 'billed hourly',
      update.hourlyPrice === undefined ? null : `hourly price ${formatPrice(update.hourlyPrice)}`,
      update.tierPricing === undefined ? null : `${update.tierPricing.length} tier${update.tierPricing.length === 1 ? '' : 's'}`,
    ].filter(Boolean);
    lines.push(`  ${model}${registered.has(model) ? ' (registered)' : ''}: ${parts.join(', ') || 'nothing to change'}`);
  }
  if (skipped.length > 0) lines.push(`Skipped (no settings in the file): ${skipped.map(quote).join(', ')}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

