import cliProgress from 'cli-progress';
import { type Command, Option } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { dbOption, openReadOnly, using } from '../lib/db.js';
import { formatInt, formatOption } from '../lib/format.js';
import { quote } from '../lib/json-file.js';
import { checkOutPath, openOutput } from '../lib/output.js';
import { type Kind, type Plan, type Window, openRaw, pages, plan, programSource, rowSources } from '../lib/rows.js';
import { type TimeArg, checkNotMilliseconds, fromOption, localTimeZone, parseDuration, resolveTime, toOption, tzOption } from '../lib/time.js';
import { UserError } from '../user-error.js';
import { collect } from './report.js';

const FORMATS = ['csv', 'json', 'ndjson'] as const;

interface ExportOptions {
  db: string;
  model?: string[];
  program?: boolean;
  from?: TimeArg;
  to?: TimeArg;
  last?: number;
  tz?: string;
  format: (typeof FORMATS)[number];
  out?: string;
  force?: boolean;
}

const COLUMNS: Record<Kind, { header: string[]; row: (model: string | null, r: Record<string, number>) => Record<string, unknown> }> = {
  requests: {
    header: ['model', 'id', 'timestamp', 'inputTokens', 'outputTokens', 'cacheN', 'promptN'],
    row: (model, r) => ({
      model,
      id: r.id,
      timestamp: r.timestamp,
      inputTokens: r.input_tokens,
      outputTokens: r.output_tokens,
      cacheN: r.cache_n,
      promptN: r.prompt_n,
    }),
  },
  runtime: {
    header: ['model', 'id', 'startTime', 'endTime'],
    row: (model, r) => (model === null ? { id: r.id, startTime: r.start_time, endTime: r.end_time } : { model, id: r.id, startTime: r.start_time, endTime: r.end_time }),
  },
};

export function registerExportCommand(program: Command): void {
  const exportCommand = program
    .command('export')
    .summary('stream every request or run as CSV, JSON or NDJSON')
    .description(
      'Stream the recorded requests or runs of every model (or of --model) as CSV, a JSON array or NDJSON, oldest first per model, with constant memory however large the file. ' +
        'Rows recorded while the export runs are left out. A progress bar shows on a terminal (on stderr), never in a pipe.',
    )
    .addHelpText(
      'after',
      `
Examples:
  $ llm-monitor export requests --format csv --out requests.csv
  $ llm-monitor export requests --model Qwen3-Coder-30B --last 7d --format ndjson | jq -c 'select(.inputTokens > 32768)'
  $ llm-monitor export runtime --format json --out runs.json`,
    );
  for (const kind of ['requests', 'runtime'] as const) {
    const command = exportCommand
      .command(kind)
      .summary(kind === 'requests' ? 'one row per request: model, id, timestamp, tokens' : 'one row per run: model, id, start and end time')
      .description(
        kind === 'requests'
          ? 'One row per request: model, id, timestamp (epoch seconds; the end time in layouts S4+), inputTokens, outputTokens, cacheN, promptN. --from/--to keep requests whose time is in [from, to).'
          : 'One row per model run: model, id, startTime, endTime (epoch seconds; an open run has endTime = startTime). --from/--to keep runs that overlap [from, to). --program exports the program runs instead (no model column).',
      )
      .addOption(dbOption())
      .option('--model <name>', 'only this model (repeat for several)', collect)
      .addOption(fromOption())
      .addOption(toOption())
      .addOption(new Option('--last <duration>', 'the window ending at --to (default now): 90m, 24h, 7d, 30d').argParser(parseDuration).conflicts('from'))
      .addOption(tzOption('the time zone of ISO times without an offset'))
      .addOption(formatOption(FORMATS, 'csv'))
      .option('--out <file>', 'write to this file (default: standard output)')
      .option('--force', 'overwrite --out if it exists');
    if (kind === 'runtime') command.option('--program', 'the program runs (table program_runtime) instead of the model runs');
    command
      .addHelpText(
        'after',
        kind === 'requests'
          ? `
Examples:
  $ llm-monitor export requests --out requests.csv
  $ llm-monitor export requests --model Qwen3-Coder-30B --from 2024-06-01 --format ndjson > june.ndjson
  $ llm-monitor export requests --format json | jq length`
          : `
Examples:
  $ llm-monitor export runtime --format json --out runs.json
  $ llm-monitor export runtime --program --format csv`,
      )
      .action((options: ExportOptions) => runExport(kind, options));
  }
}

async function runExport(kind: Kind, options: ExportOptions): Promise<void> {
  const timeZone = options.tz ?? localTimeZone();
  const window: Window = {};
  if (options.from) window.from = resolveTime(options.from, timeZone);
  if (options.to) window.to = resolveTime(options.to, timeZone);
  if (options.last !== undefined) {
    window.to ??= Date.now() / 1000;
    window.from = Math.max(0, window.to - options.last);
  }
  checkNotMilliseconds('--from', window.from);
  checkNotMilliseconds('--to', window.to);
  if (window.from !== undefined && window.to !== undefined && window.to < window.from) throw new UserError('--to is before --from');
  if (options.program && options.model) throw new UserError('--program exports the program runs: it takes no --model');
  if (options.out !== undefined) checkOutPath(options.out, options.force ?? false, [options.db]);

  // the model list, with core's checks and messages (missing file, not a monitor database)
  const models = await using(await openReadOnly(options.db), (monitor) => monitor.listModels());
  let selected = models;
  if (options.model) {
    const byName = new Map(models.map((m) => [m.name, m]));
    const unknown = options.model.filter((name) => !byName.has(name));
    if (unknown.length > 0) throw new UserError(`unknown model ${unknown.map(quote).join(', ')}: it is not in ${options.db} (\`llm-monitor models\` lists the models)`);
    selected = [...new Set(options.model)].map((name) => byName.get(name)!);
  }

  const db = openRaw(options.db);
  const output = openOutput(options.out);
  let bar: cliProgress.SingleBar | null = null;
  let written = 0;
  try {
    const sources = options.program ? [programSource(db)] : rowSources(db, selected, kind);
    const plans: Plan[] = sources.map((source) => plan(db, source, window));
    const total = plans.reduce((n, p) => n + p.count, 0);
    // on a terminal only, and not over rows being printed to the same terminal
    if (process.stderr.isTTY && (options.out !== undefined || !process.stdout.isTTY)) {
      bar = new cliProgress.SingleBar(
        { format: ` {bar} {percentage}% | {value}/{total} ${kind} | {model}`, stream: process.stderr, hideCursor: true, clearOnComplete: true, etaBuffer: 50 },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0, { model: '' });
    }
    const { header, row } = COLUMNS[kind];
    const columns = options.program ? header.slice(1) : header;
    if (options.format === 'csv') await output.write(stringify([columns], { record_delimiter: '\n' }));
    if (options.format === 'json') await output.write('[');
    for (const p of plans) {
      bar?.update(written, { model: p.source.model ?? 'program' });
      for (const page of pages(db, p, window)) {
        const objects = page.map((r) => row(p.source.model, r));
        let chunk: string;
        if (options.format === 'csv') chunk = stringify(objects.map((o) => columns.map((c) => o[c])), { record_delimiter: '\n' });
        else if (options.format === 'ndjson') chunk = objects.map((o) => `${JSON.stringify(o)}\n`).join('');
        else chunk = objects.map((o, i) => `${written + i === 0 ? '\n' : ',\n'}${JSON.stringify(o)}`).join('');
        written += page.length;
        await output.write(chunk);
        bar?.update(written);
      }
    }
    if (options.format === 'json') await output.write(written === 0 ? ']\n' : '\n]\n');
    bar?.update(written);
    bar?.stop();
    bar = null;
    await output.close();
  } catch (error) {
    bar?.stop();
    await output.abort();
    throw error;
  } finally {
    db.close();
  }
  if (options.out !== undefined) {
    const what = options.program ? 'program runs' : kind === 'requests' ? 'requests' : 'model runs';
    process.stdout.write(`Exported ${formatInt(written)} ${what} to ${options.out}.\n`);
  }
}
