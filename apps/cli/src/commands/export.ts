import { type CsvValue, type Monitor, type ModelRunTime, formatDateTime, formatNumber, isMonitorError, localTimeZone } from '@llm-monitor/core';
import cliProgress from 'cli-progress';
import { type Command, Option } from 'commander';
import { type DbOptions, dbOption, openReadOnly, resolveDb, schemaOption, selectModels, using } from '../lib/db.js';
import { formatOption, csvRows } from '../lib/format.js';
import { quote } from '../lib/json-file.js';
import { checkOutPath, openOutput } from '../lib/output.js';
import { type TimeArg, fromOption, parseDuration, resolveWindow, toOption, tzOption } from '../lib/time.js';
import { UserError } from '../user-error.js';
import { collect } from './report.js';

const FORMATS = ['csv', 'json', 'ndjson'] as const;

type Kind = 'requests' | 'runtime';

interface Window {
  from?: number;
  to?: number;
}

interface ExportOptions extends DbOptions {
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

/** The columns of each kind, in order (the keys of core's rows, after the model). */
const COLUMNS: Record<Kind, string[]> = {
  requests: ['model', 'id', 'timestamp', 'inputTokens', 'outputTokens', 'cacheN', 'promptN'],
  runtime: ['model', 'id', 'startTime', 'endTime'],
};

/** Requests read per page (one short read each). */
const PAGE_SIZE = 5000;

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
      .addOption(schemaOption())
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

/** Rows of one model (or of the program runs), a page at a time, oldest first. */
interface Source {
  /** The model, or null for the program runs. */
  model: string | null;
  pages: () => AsyncIterable<Record<string, unknown>[]>;
}

/** Model runs and program runs that overlap [from, to): they end at or after `from` and start before `to`. */
const overlaps = (window: Window) => (run: ModelRunTime) =>
  (window.from === undefined || run.endTime >= window.from) && (window.to === undefined || run.startTime < window.to);

/** A model whose tables are gone (deleted by another process): nothing to read. */
const isGone = (error: unknown) => isMonitorError(error) && (error.code === 'MISSING_TABLE' || error.code === 'UNKNOWN_MODEL');

async function* requestPages(monitor: Monitor, model: string, window: Window): AsyncGenerator<Record<string, unknown>[]> {
  let started = false;
  try {
    // keyset pages of rows that existed when the iteration started: constant memory, writers never held up
    for await (const page of monitor.iterateRequests(model, { ...window, pageSize: PAGE_SIZE })) {
      started = true;
      yield page.map((r) => ({ model, id: r.id, timestamp: r.timestamp, inputTokens: r.inputTokens, outputTokens: r.outputTokens, cacheN: r.cacheN, promptN: r.promptN }));
    }
  } catch (error) {
    if (!isGone(error)) throw error;
    // tables missing from the start (describe() reports them) leave the model out, as core's analytics do
    if (started) throw new UserError(`the tables of model ${quote(model)} were deleted while exporting`);
  }
}

async function* runPages(runs: () => Promise<ModelRunTime[]>, model: string | null, window: Window): AsyncGenerator<Record<string, unknown>[]> {
  let list: ModelRunTime[];
  try {
    // runs are few: read at once, newest first, so reversed
    list = (await runs()).reverse().filter(overlaps(window));
  } catch (error) {
    if (isGone(error)) return;
    throw error;
  }
  if (list.length > 0)
    yield list.map(({ id, startTime, endTime }) => (model === null ? { id, startTime, endTime } : { model, id, startTime, endTime }));
}

async function runExport(kind: Kind, options: ExportOptions): Promise<void> {
  const timeZone = options.tz ?? localTimeZone();
  const window: Window = resolveWindow(options, timeZone, (t) => formatDateTime(t, timeZone, 'second'));
  if (options.program && options.model) throw new UserError('--program exports the program runs: it takes no --model');
  const db = resolveDb(options.db, options.schema);
  if (options.out !== undefined) checkOutPath(options.out, options.force ?? false, db.engine === 'sqlite' ? [db.location] : []);

  // core's checks and messages (missing file, not a monitor database, no server)
  const written = await using(await openReadOnly(db), async (monitor) => {
    const selected = await selectModels(monitor, options.model, db);
    const sources: Source[] = options.program
      ? [{ model: null, pages: () => runPages(() => monitor.getProgramRuntime(), null, window) }]
      : selected.map(({ name }) => ({
          model: name,
          pages: () => (kind === 'requests' ? requestPages(monitor, name, window) : runPages(() => monitor.getModelRuntime(name), name, window)),
        }));
    // on a terminal only, and not over rows being printed to the same terminal
    const showBar = process.stderr.isTTY && (options.out !== undefined || !process.stdout.isTTY);
    return writeRows(kind, options, sources, showBar ? () => countRows(monitor, kind, sources, window) : null);
  });
  if (options.out !== undefined) {
    const what = options.program ? 'program runs' : kind === 'requests' ? 'requests' : 'model runs';
    process.stdout.write(`Exported ${formatNumber(written)} ${what} to ${options.out}.\n`);
  }
}

/** How many rows the export will write, for the progress bar: requests counted in SQL, runs read (they are few). */
async function countRows(monitor: Monitor, kind: Kind, sources: readonly Source[], window: Window): Promise<number> {
  if (kind === 'requests' && sources.every((s) => s.model !== null)) {
    if (sources.length === 0) return 0;
    const summary = await monitor.summary({ ...window, models: sources.map((s) => s.model!) });
    return summary.total.requests;
  }
  let n = 0;
  for (const source of sources) for await (const page of source.pages()) n += page.length;
  return n;
}

async function writeRows(kind: Kind, options: ExportOptions, sources: readonly Source[], count: (() => Promise<number>) | null): Promise<number> {
  const output = openOutput(options.out);
  let bar: cliProgress.SingleBar | null = null;
  let written = 0;
  try {
    if (count) {
      const total = await count();
      bar = new cliProgress.SingleBar(
        { format: ` {bar} {percentage}% | {value}/{total} ${kind} | {model}`, stream: process.stderr, hideCursor: true, clearOnComplete: true, etaBuffer: 50 },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0, { model: '' });
    }
    const header = COLUMNS[kind];
    const columns = options.program ? header.slice(1) : header;
    if (options.format === 'csv') await output.write(csvRows([columns]));
    if (options.format === 'json') await output.write('[');
    for (const source of sources) {
      bar?.update(written, { model: source.model ?? 'program' });
      for await (const page of source.pages()) {
        let chunk: string;
        if (options.format === 'csv') chunk = csvRows(page.map((o) => columns.map((c) => o[c] as CsvValue)));
        else if (options.format === 'ndjson') chunk = page.map((o) => `${JSON.stringify(o)}\n`).join('');
        else chunk = page.map((o, i) => `${written + i === 0 ? '\n' : ',\n'}${JSON.stringify(o)}`).join('');
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
  }
  return written;
}
