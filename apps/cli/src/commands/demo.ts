import { existsSync, rmSync, statSync } from 'node:fs';
import { type Monitor, type RequestInput, type TierInput, formatDateTime, formatNumber, localTimeZone, zoneOffset } from '@llm-monitor/core';
import { DEFAULT_DB_PATH } from '@llm-monitor/driver-node';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type Db, type DbOptions, dbOption, openForRecording, openReadOnly, redactUrl, resolveDb, schemaOption, using } from '../lib/db.js';
import { type Column, formatPrice, renderTable, shellQuote } from '../lib/format.js';
import { quote } from '../lib/json-file.js';
import { type TimeArg, parseTimeArg, resolveTime, tzOption } from '../lib/time.js';
import { UserError } from '../user-error.js';

interface DemoOptions extends DbOptions {
  days: number;
  seed: number;
  now?: TimeArg;
  tz?: string;
}

type Traffic = {
  /** Requests per hour at the busiest time of a weekday. */
  peakPerHour: number;
  /** Median and spread (log-normal sigma) of input and output tokens. */
  input: [median: number, sigma: number, max: number];
  output: [median: number, sigma: number, max: number];
  /** Share of requests that continue a conversation, whose prompt is mostly served from the KV cache. */
  cacheShare: number;
};

interface DemoModel {
  name: string;
  role: string;
  tiers: TierInput[] | null;
  hourlyPrice: number;
  /** Loaded only in working hours on weekdays (a rented GPU), instead of whenever the program runs. */
  workingHoursOnly: boolean;
  traffic: Traffic;
}

/** The simulated deployment: two tiered chat models with cache prices, a GPU rented by the hour, an embedding model. */
export const DEMO_MODELS: readonly DemoModel[] = [
  {
    name: 'Qwen3-Coder-30B-A3B-Instruct',
    role: 'coding assistant',
    tiers: [
      { tierIndex: 1, startTokens: 0, endTokens: 32768, inputPricePerMillion: 1.5, outputPricePerMillion: 6, supportCache: true, cacheHitPricePerMillion: 0.3 },
      { tierIndex: 2, startTokens: 32769, endTokens: 131072, inputPricePerMillion: 3, outputPricePerMillion: 12, supportCache: true, cacheHitPricePerMillion: 0.6 },
      { tierIndex: 3, startTokens: 131073, endTokens: -1, inputPricePerMillion: 6, outputPricePerMillion: 24, supportCache: true, cacheHitPricePerMillion: 1.2 },
    ],
    hourlyPrice: 0,
    workingHoursOnly: false,
    traffic: { peakPerHour: 90, input: [9000, 0.9, 200_000], output: [380, 0.9, 16_384], cacheShare: 0.75 },
  },
  {
    name: 'Llama-3.3-70B-Instruct',
    role: 'chat',
    tiers: [
      { tierIndex: 1, startTokens: 0, endTokens: 8192, inputPricePerMillion: 0.8, outputPricePerMillion: 2.4, supportCache: true, cacheHitPricePerMillion: 0.2 },
      { tierIndex: 2, startTokens: 8193, endTokens: -1, inputPricePerMillion: 1.6, outputPricePerMillion: 4.8, supportCache: true, cacheHitPricePerMillion: 0.4 },
    ],
    hourlyPrice: 0,
    workingHoursOnly: false,
    traffic: { peakPerHour: 50, input: [2200, 1.0, 120_000], output: [350, 0.8, 8192], cacheShare: 0.6 },
  },
  {
    name: 'DeepSeek-V3-H100',
    role: 'GPU rented by the hour',
    tiers: null,
    hourlyPrice: 7.25,
    workingHoursOnly: true,
    traffic: { peakPerHour: 40, input: [3000, 0.9, 120_000], output: [600, 0.8, 8192], cacheShare: 0.5 },
  },
  {
    name: 'bge-m3',
    role: 'embeddings',
    tiers: [{ tierIndex: 1, startTokens: 0, endTokens: -1, inputPricePerMillion: 0.02, outputPricePerMillion: 0 }],
    hourlyPrice: 0,
    workingHoursOnly: false,
    traffic: { peakPerHour: 200, input: [350, 0.8, 8192], output: [0, 0, 0], cacheShare: 0 },
  },
];

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .summary('fill a database with a realistic simulated week, for a first look')
    .description(
      'Record a simulated deployment into a new database: two chat models billed per token by tier (with cache-hit prices), a GPU model rented by the hour (weekdays 9–18), an embedding model, ' +
        'program and model runs, and requests with a daily rhythm (busy around midday, quiet at night, lighter at weekends), log-normal token counts and KV-cache hits, ending now. ' +
        'The same --seed (and --now) always records the same data.\n\n' +
        "The database must be new, or hold only a previous demo's data (which is replaced): demo never writes into real monitoring data. " +
        'A PostgreSQL database (--db postgres://…) gets the demo in a new or empty schema (--schema).',
    )
    .addOption(dbOption('the database to create: a SQLite file, or a PostgreSQL URL (postgres://user@host:5432/db)'))
    .addOption(schemaOption('the PostgreSQL schema to fill, new or empty (only with a postgres:// --db)'))
    .option('--days <n>', 'how many days to simulate', parseDays, 7)
    .option('--seed <n>', 'seed of the simulation', parseSeed, 42)
    .addOption(new Option('--now <time>', 'end the simulation at this time instead of now (ISO or epoch seconds)').argParser(parseTimeArg))
    .addOption(tzOption('the time zone of the working hours and the times shown'))
    .addHelpText(
      'after',
      `
Examples:
  $ llm-monitor demo && llm-monitor report --by day
  $ llm-monitor demo --db demo.db --days 30 --seed 7
  $ llm-monitor demo --db demo.db --now 2024-06-10T18:00:00Z --tz Europe/Berlin
      the same file on every machine
  $ llm-monitor demo --db postgres://postgres@127.0.0.1:5432/test --schema llm_demo
      the demo in a PostgreSQL schema`,
    )
    .action((options: DemoOptions) => runDemo(options));
}

function parseDays(value: string): number {
  const days = Number(value);
  if (!/^\d+$/.test(value) || days < 1 || days > 366) throw new InvalidArgumentError('expected a whole number of days from 1 to 366');
  return days;
}

function parseSeed(value: string): number {
  const seed = Number(value);
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(seed)) throw new InvalidArgumentError('expected an integer');
  return seed;
}

/** mulberry32: a small, fast, well-mixed 32-bit generator; the same seed gives the same sequence everywhere. */
function random(seed: number): () => number {
  let a = (seed ^ 0x9e3779b9) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Run {
  start: number;
  end: number;
}

export interface Simulation {
  from: number;
  to: number;
  programRuns: Run[];
  models: { model: DemoModel; runs: Run[]; requests: [number, number, number, number, number][] }[];
}

/** The whole simulated period, generated in memory (a week is ~13 000 requests). */
export function simulate(seed: number, days: number, now: number, timeZone: string): Simulation {
  const rand = random(seed);
  const normal = () => {
    const u = 1 - rand();
    const v = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  const poisson = (lambda: number) => {
    const limit = Math.exp(-lambda);
    let k = 0;
    let p = rand();
    while (p > limit) {
      k++;
      p *= rand();
    }
    return k;
  };
  const logNormal = ([median, sigma, max]: [number, number, number]) => (median === 0 ? 0 : Math.max(1, Math.min(max, Math.round(median * Math.exp(sigma * normal())))));
  const round3 = (t: number) => Math.round(t * 1000) / 1000;

  const to = now;
  const from = to - days * 86_400;
  const offsets = new Map<number, number>();
  /** Local hour of day (fractional) and weekday (0 = Sunday) at t. */
  const local = (t: number) => {
    const hour = Math.floor(t / 3600);
    let offset = offsets.get(hour);
    if (offset === undefined) offsets.set(hour, (offset = zoneOffset(timeZone, hour * 3600)));
    const wall = t + offset;
    const day = Math.floor(wall / 86_400);
    return { hour: (wall - day * 86_400) / 3600, weekday: (((day + 4) % 7) + 7) % 7, day };
  };
  const localMidnight = (t: number) => t - local(t).hour * 3600;

  // the program restarts every third morning around 06:00 (an update), down for a minute or two
  const programRuns: Run[] = [];
  let runStart = from;
  for (let day = localMidnight(from) + 86_400; day < to; day += 86_400) {
    const index = Math.round((day - localMidnight(from)) / 86_400);
    if (index % 3 !== 0) continue;
    const stop = day + 6 * 3600 + rand() * 1800;
    if (stop <= runStart || stop >= to) continue;
    programRuns.push({ start: runStart, end: stop });
    runStart = stop + 60 + rand() * 120;
  }
  programRuns.push({ start: runStart, end: to });

  const models = DEMO_MODELS.map((model) => {
    let runs: Run[];
    if (model.workingHoursOnly) {
      runs = [];
      for (let day = localMidnight(from); day < to; day += 86_400) {
        const midday = local(day + 12 * 3600);
        if (midday.weekday === 0 || midday.weekday === 6) continue;
        const dayStart = day + 12 * 3600 - midday.hour * 3600; // local midnight, DST-safe
        const start = Math.max(from, dayStart + 9 * 3600 + (rand() - 0.5) * 1200);
        const end = Math.min(to, dayStart + 18 * 3600 + (rand() - 0.3) * 2400);
        if (end > start) runs.push({ start, end });
      }
    } else runs = programRuns.map((r) => ({ start: Math.min(r.end, r.start + 5 + rand() * 40), end: r.end }));
    runs = runs.map((r) => ({ start: round3(r.start), end: round3(r.end) }));

    const requests: [number, number, number, number, number][] = [];
    const dayFactors = new Map<number, number>();
    for (const run of runs) {
      for (let minute = Math.floor(run.start / 60) * 60; minute < run.end; minute += 60) {
        const { hour, weekday, day } = local(minute);
        let factor = dayFactors.get(day);
        if (factor === undefined) dayFactors.set(day, (factor = Math.exp(0.15 * normal())));
        const rhythm = 0.04 + 0.96 * Math.exp(-(((hour - 13) / 3) ** 2));
        const weekend = weekday === 0 || weekday === 6 ? 0.25 : 1;
        const count = poisson((model.traffic.peakPerHour / 60) * rhythm * weekend * factor);
        for (let i = 0; i < count; i++) {
          const t = round3(minute + rand() * 60);
          if (t < run.start || t >= run.end) continue;
          const input = logNormal(model.traffic.input);
          const output = logNormal(model.traffic.output);
          const cached = rand() < model.traffic.cacheShare ? Math.floor(input * (0.6 + 0.37 * rand())) : 0;
          requests.push([t, input, output, cached, input - cached]);
        }
      }
    }
    requests.sort((a, b) => a[0] - b[0]);
    return { model, runs, requests };
  });
  return { from, to, programRuns, models };
}

/** A file demo may write: none yet, an empty one, or one that holds only an earlier demo's data. */
async function checkTarget(db: string): Promise<boolean> {
  if (!existsSync(db)) return false;
  if (!statSync(db).isFile()) throw new UserError(`${db} is not a file`);
  if (statSync(db).size === 0) return true;
  const demoNames = new Set(DEMO_MODELS.map((m) => m.name));
  const { models, programRuns } = await using(await openReadOnly(db), async (monitor) => ({
    models: await monitor.listModels(),
    programRuns: (await monitor.getProgramRuntime()).length,
  }));
  const foreign = models.filter((m) => !demoNames.has(m.name));
  if (foreign.length > 0 || (models.length === 0 && programRuns > 0))
    throw new UserError(
      `${db} already holds monitoring data${foreign.length > 0 ? ` (models ${foreign.slice(0, 3).map((m) => quote(m.name)).join(', ')}${foreign.length > 3 ? ', …' : ''})` : ''}: demo only writes a new file or replaces an earlier demo; choose another with --db demo.db`,
    );
  return true;
}

/** On PostgreSQL, demo fills only an empty schema (it cannot delete an earlier demo's program runs). */
async function checkEmptySchema(monitor: Monitor, db: Db): Promise<void> {
  const models = await monitor.listModels();
  if (models.length === 0 && (await monitor.getProgramRuntime(1)).length === 0) return;
  const demoNames = new Set(DEMO_MODELS.map((m) => m.name));
  const what = models.length > 0 && models.every((m) => demoNames.has(m.name)) ? 'an earlier demo' : 'monitoring data';
  throw new UserError(`${db.label} already holds ${what}: on PostgreSQL, demo only fills a new or empty schema; choose another with --schema NAME`);
}

async function runDemo(options: DemoOptions): Promise<void> {
  const timeZone = options.tz ?? localTimeZone();
  const now = options.now ? resolveTime('--now', options.now, timeZone) : Date.now() / 1000;
  if (now > 1e11) throw new UserError(`--now ${now} looks like milliseconds: give epoch seconds`);
  if (now - options.days * 86_400 < 0) throw new UserError('--now is too early: the simulation would start before 1970');
  const db = resolveDb(options.db, options.schema);
  const replacing = db.engine === 'sqlite' ? await checkTarget(db.location) : false;
  const simulation = simulate(options.seed, options.days, now, timeZone);
  if (replacing) for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${db.location}${suffix}`, { force: true });

  const monitor = await openForRecording(db, (label) => `cannot create ${label}`);
  await using(monitor, async (m) => {
    if (db.engine === 'postgres') await checkEmptySchema(m, db);
    await m.transaction(async (tx) => {
      for (const run of simulation.programRuns) {
        await tx.addProgramRuntimeStart(run.start);
        await tx.updateProgramRuntimeEnd(run.end);
      }
      for (const { model, runs, requests } of simulation.models) {
        await tx.registerModel(model.name);
        await tx.updateBillingMethod(model.name, model.tiers !== null);
        await tx.updateHourlyPrice(model.name, model.hourlyPrice);
        if (model.tiers) {
          await tx.deleteTierPricing(model.name, 1);
          for (const tier of model.tiers) await tx.addTierPricing(model.name, tier);
        }
        for (const run of runs) {
          await tx.addModelRuntimeStart(model.name, run.start);
          await tx.updateModelRuntimeEnd(model.name, run.end);
        }
        await tx.addModelRequests(model.name, requests as RequestInput[]);
      }
    });
  });

  const days = options.days === 7 ? 'week' : `${options.days} day${options.days === 1 ? '' : 's'}`;
  const lines = [
    `${replacing ? 'Replaced the earlier demo in' : 'Created'} ${db.label} with a simulated ${days} (seed ${options.seed}):`,
    `${formatDateTime(simulation.from, timeZone)} → ${formatDateTime(simulation.to, timeZone)} (${timeZone}), ${simulation.programRuns.length} program run${simulation.programRuns.length === 1 ? '' : 's'}`,
    '',
  ];
  const columns: Column[] = [
    { header: 'model' },
    { header: 'role' },
    { header: 'billing' },
    { header: 'runs', align: 'right' },
    { header: 'requests', align: 'right' },
    { header: 'input tok', align: 'right' },
    { header: 'output tok', align: 'right' },
  ];
  const sum = (rows: readonly [number, number, number, number, number][], i: number) => rows.reduce((n, r) => n + r[i]!, 0);
  const rows = simulation.models.map(({ model, runs, requests }) => [
    model.name,
    model.role,
    model.tiers ? `${model.tiers.length} tier${model.tiers.length === 1 ? '' : 's'}${model.tiers.some((t) => 'supportCache' in t && t.supportCache) ? ' + cache price' : ''}` : `${formatPrice(model.hourlyPrice)} per hour`,
    formatNumber(runs.length),
    formatNumber(requests.length),
    formatNumber(sum(requests, 1)),
    formatNumber(sum(requests, 2)),
  ]);
  const all = simulation.models.flatMap((m) => m.requests);
  const totals = ['total', '', '', formatNumber(simulation.models.reduce((n, m) => n + m.runs.length, 0)), formatNumber(all.length), formatNumber(sum(all, 1)), formatNumber(sum(all, 2))];
  lines.push(renderTable(columns, rows, totals), '');
  const where =
    db.engine === 'postgres'
      ? ` --db ${shellQuote(redactUrl(db.location))}${db.schema === undefined ? '' : ` --schema ${shellQuote(db.schema)}`}`
      : db.location === DEFAULT_DB_PATH
        ? ''
        : ` --db ${shellQuote(db.location)}`;
  lines.push(`Next: llm-monitor report --by day${where}   (or: models, pricing show MODEL${db.engine === 'sqlite' ? ', serve' : ''})`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
