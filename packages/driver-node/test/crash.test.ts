/**
 * Crash safety (issue 7): a child process writing through the BUILT package is killed with SIGKILL at
 * a random moment, many times. After every kill:
 *
 * - `PRAGMA integrity_check` is ok (better-sqlite3 directly, never through the Monitor);
 * - every call the child saw resolve (its ledger, test/crash/child.mjs) is in the file;
 * - nothing is half-written: every model has its mapping row, five tables, index and default rows;
 *   no orphan tables; a batch is all there or not at all; a multi-call transaction is whole; a tier
 *   is in the state of its last resolved edit or of the edit in flight;
 * - nothing appears that was never written, nothing resolved disappears later;
 * - the next `openMonitor` works without repair and can write.
 *
 * The same while registering models (one by one, and many inside the open transaction) and while
 * deleting them. The child imports packages/driver-node/dist: build first
 * (`cd packages/core && npx tsup && cd ../driver-node && npx tsup`).
 *
 * Prints `crash: ...` lines with the number of kills and of resolved calls checked. CRASH_SEED fixes
 * the random plan (the kill timing still depends on the machine).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMonitor } from '../src/index.js';
import { type Db, checkStructure, integrity, quote, sideFiles } from './crash/checks.js';

// ---- set-up --------------------------------------------------------------------------------------

const here = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));
const DIST = here('../dist/index.js');
const CORE_DIST = here('../node_modules/@llm-monitor/core/dist/index.js');
const CHILD = here('./crash/child.mjs');

const MIXED_LANES = 5;
const MIXED_ITERATIONS_PER_LANE = 10;
const REGISTER_LANES = 2;
const REGISTER_ITERATIONS_PER_LANE = 4;
const REGISTER_OPEN_ITERATIONS = 4;
const DELETE_ITERATIONS = 8;
const DELETE_MODELS = 80;

let dir = '';
let fileCount = 0;
const tempPath = (name: string) => join(dir, `${name}-${++fileCount}.db`);
const children = new Set<ChildProcess>();

/** A small seeded PRNG (mulberry32): the plan of kills is reproducible with CRASH_SEED. */
const seed = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
let state = seed >>> 0;
function random(): number {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const between = (min: number, max: number) => Math.round(min + random() * (max - min));

beforeAll(() => {
  for (const [file, build] of [
    [CORE_DIST, 'cd packages/core && npx tsup'],
    [DIST, 'cd packages/driver-node && npx tsup'],
  ] as const) {
    if (!existsSync(file)) throw new Error(`crash tests need the built package: ${file} is missing. Run \`${build}\` (core first, then driver-node).`);
  }
  if (statSync(here('../src/index.ts')).mtimeMs > statSync(DIST).mtimeMs)
    console.warn(`crash: warning: ${DIST} is older than src/index.ts; the children run the old build (run npx tsup).`);
  dir = mkdtempSync(join(tmpdir(), 'llm-monitor-crash-'));
  console.log(`crash: seed=${seed}`);
});

afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ---- running and killing a child -----------------------------------------------------------------

interface KillPlan {
  /** Start the clock when the child says 'ready' (the Monitor is open), or at spawn. */
  afterReady: boolean;
  delayMs: number;
}

interface ChildRun {
  /** Where the kill landed: before the Monitor opened, while working, or after the workload ended. */
  phase: 'before-ready' | 'running' | 'finished';
  signal: NodeJS.Signals | null;
  code: number | null;
  finishedMs?: number;
  /** The end of the child's stderr (an import or startup failure shows here). */
  stderr: string;
  /** Spawn to 'ready' (process start, import, openMonitor with its WAL recovery). */
  readyMs?: number;
}

interface ChildConfig {
  path: string;
  logPath: string;
  mode: 'mixed' | 'register' | 'register-open' | 'delete';
  iteration: number;
  synchronous?: 'NORMAL' | 'FULL';
  models?: string[];
  deleteOrder?: string[];
}

/** Runs the child and kills it with SIGKILL per `plan` (or as soon as its workload finished). */
async function runAndKill(config: ChildConfig, plan: KillPlan): Promise<ChildRun> {
  const child = fork(CHILD, [JSON.stringify(config)], { execArgv: [], stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
  children.add(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const stderrClosed = new Promise<void>((resolve) => (child.stderr ? child.stderr.once('close', () => resolve()) : resolve()));
  let phase: ChildRun['phase'] = 'before-ready';
  let finishedMs: number | undefined;
  let readyMs: number | undefined;
  const spawnedAt = performance.now();
  const timers: NodeJS.Timeout[] = [];
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  child.on('message', (message: { t: string; ms?: number }) => {
    if (message.t === 'ready' && phase === 'before-ready') {
      phase = 'running';
      readyMs = performance.now() - spawnedAt;
      if (plan.afterReady) timers.push(setTimeout(kill, plan.delayMs));
    } else if (message.t === 'finished') {
      phase = 'finished';
      finishedMs = message.ms;
      kill();
    } else if (message.t === 'error') kill();
  });
  child.on('error', kill);
  if (!plan.afterReady) timers.push(setTimeout(kill, plan.delayMs));
  timers.push(setTimeout(kill, 30_000)); // a child that never gets ready must not hang the test
  const { code, signal } = await exited;
  for (const timer of timers) clearTimeout(timer);
  children.delete(child);
  await stderrClosed;
  return { phase, signal, code, finishedMs, readyMs, stderr };
}

interface LedgerLine {
  t: string;
  id?: number;
  op?: string;
  [key: string]: unknown;
}

/** The child's ledger; a last line without its newline (cut by the kill) is ignored. */
function readLedger(path: string): LedgerLine[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  lines.pop(); // '' after the last newline, or a partial line
  return lines.map((line) => JSON.parse(line) as LedgerLine);
}

/** Copies a killed child's file with its -wal and -shm, as they are (the WAL not yet recovered). */
function copyCrashed(path: string): string {
  const copy = tempPath('verify');
  for (const suffix of ['', '-wal', '-shm']) if (existsSync(path + suffix)) copyFileSync(path + suffix, copy + suffix);
  return copy;
}

function removeDb(path: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
}

function withDb<T>(path: string, fn: (db: Db) => T): T {
  const db = new Database(path, { fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** The next open after a crash: a Monitor opens the file as it is, writes, reads back, closes. */
async function nextOpenWrites(path: string, expectedModels: readonly string[]): Promise<void> {
  const monitor = await openMonitor(path);
  try {
    const t = 1_900_000_000 + Math.random();
    await monitor.addModelRequest('crash-verify', [t, 3, 4]);
    const [row] = await monitor.getModelRequests('crash-verify', 0);
    expect(row).toMatchObject({ timestamp: t, inputTokens: 3, outputTokens: 4 });
    const listed = (await monitor.listModels()).map((m) => m.name);
    expect(listed).toEqual([...expectedModels.filter((m) => m !== 'crash-verify'), 'crash-verify']);
  } finally {
    await monitor.close();
  }
  expect(sideFiles(path), 'the last connection to close removes the WAL').toEqual([]);
}

// ---- the mixed workload: expected values and the ledger of one lane (one file) -------------------

/** The row of request `seq` as child.mjs writes it (recomputed here, independently). */
function expectedRequest(seq: number): [number, number, number, number, number] {
  const timestamp = 1_000_000_000 + seq + (seq % 4) / 4;
  const form = seq % 3;
  const cacheN = form === 0 ? 0 : form === 1 ? seq % 7 : seq % 5;
  const promptN = form === 0 ? 0 : form === 1 ? seq % 11 : seq % 13;
  return [timestamp, seq, seq % 9973, cacheN, promptN];
}

type Fate = 'done' | 'maybe' | 'gone';
type TierRow = [number, number, number, number, number, number, number];

const RUN_DELTA: Record<string, number> = { 'crash-runs': 0.5, '#program': 0.25 };
const AUTO_REGISTERED = ['crash-a', 'crash-b', 'crash-runs'];

interface RunEntry {
  start: Fate;
  end: 'none' | 'maybe' | 'done';
  observedEnd?: number;
}

interface TierOp {
  id: number;
  state: TierRow | null;
  done: boolean;
}

/**
 * Everything the child announced and saw resolve in one file, across iterations. After each check,
 * calls that were in flight are resolved to what the file showed: from then on they must stay so.
 */
class MixedLane {
  readonly requests = new Map<string, Map<number, Fate>>();
  readonly batches: { model: string; from: number; n: number; fate: Fate }[] = [];
  readonly runs = new Map<string, Map<number, RunEntry>>([
    ['crash-runs', new Map()],
    ['#program', new Map()],
  ]);
  readonly tiers = new Map<number, { definite: TierRow | null; ops: TierOp[] }>();
  readonly generation = { done: 0, maxIntent: 0, observed: 0 };
  readonly names = new Map<string, Fate>();
  errors: string[] = [];
  /** Calls announced but not resolved when the child died (per iteration). */
  inFlight = 0;
  /** Requests and other calls the child saw resolve, in the last ledger applied (a batch counts its rows). */
  committed = 0;

  apply(lines: readonly LedgerLine[]): void {
    // ids are per child process: they repeat across iterations
    const intents = new Map<number, LedgerLine>();
    const batchesById = new Map<number, MixedLane['batches'][number]>();
    this.inFlight = 0;
    this.committed = 0;
    const resolved = new Set<number>();
    const setRequest = (model: string, seq: number, fate: Fate) => {
      let fates = this.requests.get(model);
      if (!fates) this.requests.set(model, (fates = new Map()));
      fates.set(seq, fate);
    };
    const nameFate = (name: string, fate: Fate) => {
      if (this.names.get(name) !== 'done') this.names.set(name, fate);
    };
    for (const line of lines) {
      if (line.t === 'error') this.errors.push(`${String(line.what)}: ${String(line.code)} ${String(line.message)}`);
      if (line.t === 'done-single') this.committed++;
      if (line.t === 'done') this.committed += intents.get(line.id!)?.op === 'batch' ? Number(intents.get(line.id!)!.n) : 1;
      if (line.t === 'done-single') {
        setRequest(String(line.model), Number(line.seq), 'done');
        nameFate(String(line.model), 'done');
      }
      if (line.t === 'intent') {
        intents.set(line.id!, line);
        const model = String(line.model);
        if (line.op === 'singles') for (const seq of line.seqs as number[]) setRequest(model, seq, 'maybe');
        if (line.op === 'batch') {
          for (let i = 0; i < Number(line.n); i++) setRequest(model, Number(line.from) + i, 'maybe');
          const batch = { model, from: Number(line.from), n: Number(line.n), fate: 'maybe' as Fate };
          this.batches.push(batch);
          batchesById.set(line.id!, batch);
        }
        if (line.op === 'singles' || line.op === 'batch' || line.op === 'runtime-start') nameFate(model, 'maybe');
        if (line.op === 'runtime-start' || line.op === 'program-start') {
          const runs = this.runs.get(line.op === 'program-start' ? '#program' : model)!;
          runs.set(Number(line.start), { start: 'maybe', end: 'none' });
        }
        if (line.op === 'runtime-end' || line.op === 'program-end') {
          const entry = this.runs.get(line.op === 'program-end' ? '#program' : model)!.get(Number(line.start))!;
          entry.end = 'maybe';
        }
        if (line.op === 'tier-add' || line.op === 'tier-update' || line.op === 'tier-delete') {
          const index = line.op === 'tier-delete' ? Number(line.tierIndex) : (line.tier as number[])[0]!;
          let tier = this.tiers.get(index);
          if (!tier) this.tiers.set(index, (tier = { definite: null, ops: [] }));
          const previous = tier.ops.length > 0 ? tier.ops[tier.ops.length - 1]!.state : tier.definite;
          let next: TierRow | null = null;
          if (line.op === 'tier-add') {
            const [i, s, e, inP, outP, cache, hit] = line.tier as [number, number, number, number, number, boolean, number];
            next = [i, s, e, inP, outP, cache ? 1 : 0, hit];
          } else if (line.op === 'tier-update') {
            const [i, s, e, inP, outP] = line.tier as number[];
            next = [i!, s!, e!, inP!, outP!, previous?.[5] ?? 0, previous?.[6] ?? 0];
          }
          tier.ops.push({ id: line.id!, state: next, done: false });
        }
        if (line.op === 'generation') this.generation.maxIntent = Math.max(this.generation.maxIntent, Number(line.g));
        if (line.op === 'register') nameFate(String(line.name), 'maybe');
      }
      if (line.t === 'done') {
        const intent = intents.get(line.id!);
        if (!intent) {
          this.errors.push(`done without intent: ${JSON.stringify(line)}`);
          continue;
        }
        resolved.add(line.id!);
        const model = String(intent.model);
        switch (intent.op) {
          case 'batch': {
            if (line.written !== intent.n) this.errors.push(`batch ${intent.from} wrote ${String(line.written)} of ${String(intent.n)}`);
            for (let i = 0; i < Number(intent.n); i++) setRequest(model, Number(intent.from) + i, 'done');
            batchesById.get(line.id!)!.fate = 'done';
            nameFate(model, 'done');
            break;
          }
          case 'runtime-start':
          case 'program-start':
            this.runs.get(intent.op === 'program-start' ? '#program' : model)!.get(Number(intent.start))!.start = 'done';
            if (intent.op === 'runtime-start') nameFate(model, 'done');
            break;
          case 'runtime-end':
          case 'program-end':
            if (line.ended !== true) this.errors.push(`${intent.op} ${String(intent.start)} found no run to end`);
            this.runs.get(intent.op === 'program-end' ? '#program' : model)!.get(Number(intent.start))!.end = 'done';
            break;
          case 'tier-add':
          case 'tier-update':
          case 'tier-delete': {
            const index = intent.op === 'tier-delete' ? Number(intent.tierIndex) : (intent.tier as number[])[0]!;
            this.tiers.get(index)!.ops.find((op) => op.id === line.id)!.done = true;
            if (intent.op === 'tier-delete' && line.deleted !== true) this.errors.push(`tier-delete ${index} found no tier`);
            break;
          }
          case 'generation':
            this.generation.done = Math.max(this.generation.done, Number(intent.g));
            break;
          case 'register':
            nameFate(String(intent.name), 'done');
            break;
        }
      }
    }
    for (const [id, intent] of intents) if (!resolved.has(id) && intent.op !== 'singles') this.inFlight++;
    for (const fates of this.requests.values()) for (const fate of fates.values()) if (fate === 'maybe') this.inFlight++;
  }

  /**
   * Checks the (copied) file against the ledger, then resolves what was in flight. Calls resolved in
   * earlier iterations are checked again: a later crash must not lose them either.
   */
  verify(db: Db): void {
    const problems: string[] = [];
    const fail = (message: string) => {
      if (problems.length < 20) problems.push(message);
    };
    const structure = checkStructure(db);
    expect(structure.problems, 'half-written or orphan models').toEqual([]);
    const mapping = structure.models;
    const allowed = new Set([...this.names.keys(), ...AUTO_REGISTERED, 'crash-verify']);
    for (const name of mapping.keys()) if (!allowed.has(name)) fail(`model ${name} was never registered`);
    for (const [name, fate] of this.names) {
      if (fate === 'done' && !mapping.has(name)) fail(`registered model ${name} is missing`);
      if (fate === 'gone' && mapping.has(name)) fail(`model ${name} appeared after it was found absent`);
    }
    const rowsOf = (model: string, sql: (table: string) => string): unknown[][] => {
      const safe = mapping.get(model);
      return safe ? (db.prepare(sql(safe)).raw().all() as unknown[][]) : [];
    };

    // requests: every row is one the child announced, exactly as written, once; every resolved one is there
    for (const model of ['crash-a', 'crash-b']) {
      const fates = this.requests.get(model) ?? new Map<number, Fate>();
      const present = new Set<number>();
      const rows = rowsOf(model, (s) => `SELECT timestamp, input_tokens, output_tokens, cache_n, prompt_n FROM ${quote(`${s}_requests`)}`);
      for (const row of rows as number[][]) {
        const seq = row[1]!;
        const expected = expectedRequest(seq);
        if (row.some((value, i) => value !== expected[i])) fail(`request #${seq} of ${model} is ${JSON.stringify(row)}, written as ${JSON.stringify(expected)}`);
        if (present.has(seq)) fail(`request #${seq} of ${model} is duplicated`);
        present.add(seq);
        const fate = fates.get(seq);
        if (fate !== 'done' && fate !== 'maybe') fail(`request #${seq} of ${model} is in the file but was ${fate ?? 'never announced'}`);
      }
      for (const [seq, fate] of fates) {
        if (fate === 'done' && !present.has(seq)) fail(`committed request #${seq} of ${model} is missing`);
        fates.set(seq, present.has(seq) ? 'done' : 'gone');
      }
      for (const batch of this.batches) {
        if (batch.model !== model || batch.fate === 'gone') continue;
        let found = 0;
        for (let i = 0; i < batch.n; i++) if (present.has(batch.from + i)) found++;
        if (found !== batch.n && (found !== 0 || batch.fate === 'done')) fail(`batch #${batch.from} (${batch.fate}) has ${found} of ${batch.n} rows`);
        batch.fate = found === batch.n ? 'done' : 'gone';
      }
    }

    // model and program runs
    for (const [key, runs] of this.runs) {
      const rows =
        key === '#program'
          ? (db.prepare('SELECT start_time, end_time FROM program_runtime').raw().all() as number[][])
          : (rowsOf(key, (s) => `SELECT start_time, end_time FROM ${quote(`${s}_runtime`)}`) as number[][]);
      const seen = new Set<number>();
      const delta = RUN_DELTA[key]!;
      for (const [start, end] of rows as [number, number][]) {
        const entry = runs.get(start);
        if (!entry || entry.start === 'gone') {
          fail(`${key}: run ${start} is in the file but was never started (or vanished before)`);
          continue;
        }
        if (seen.has(start)) fail(`${key}: run ${start} is duplicated`);
        seen.add(start);
        if (entry.observedEnd !== undefined) {
          if (end !== entry.observedEnd) fail(`${key}: run ${start} changed after the crash: end ${entry.observedEnd} -> ${end}`);
        } else if (entry.end === 'done') {
          if (end !== start + delta) fail(`${key}: run ${start} lost its committed end (${end})`);
        } else if (end !== start && end !== start + delta) fail(`${key}: run ${start} has end ${end}`);
        entry.observedEnd = end;
        entry.start = 'done';
      }
      for (const [start, entry] of runs) {
        if (entry.start === 'done' && !seen.has(start)) fail(`${key}: committed run ${start} is missing`);
        if (!seen.has(start)) entry.start = 'gone';
      }
    }

    // tiers: each in the state of its last resolved edit, or of the one in flight
    const tierRows = rowsOf('crash-tiers', (s) => `SELECT * FROM ${quote(`${s}_tier_pricing`)} ORDER BY tier_index`) as TierRow[];
    if (mapping.has('crash-tiers')) expect(tierRows[0], 'crash-tiers: default tier 1').toEqual([1, 0, 32768, 0, 0, 0, 0]);
    const inFile = new Map(tierRows.filter((row) => row[0] !== 1).map((row) => [row[0], row]));
    for (const index of inFile.keys()) if (!this.tiers.has(index)) fail(`tier ${index} was never written`);
    for (const [index, tier] of this.tiers) {
      const lastDone = tier.ops.map((op) => op.done).lastIndexOf(true);
      const candidates: (TierRow | null)[] = [lastDone >= 0 ? tier.ops[lastDone]!.state : tier.definite];
      const last = tier.ops[tier.ops.length - 1];
      if (last && !last.done) candidates.push(last.state);
      const found = inFile.get(index) ?? null;
      if (!candidates.some((c) => JSON.stringify(c) === JSON.stringify(found)))
        fail(`tier ${index}: the file holds ${JSON.stringify(found)}, expected one of ${JSON.stringify(candidates)}`);
      tier.definite = found;
      tier.ops = [];
    }
    expect(problems).toEqual([]);

    // one transaction per generation: tier 1, tier 2, hourly price, billing method and a request agree
    if (mapping.has('crash-tx')) {
      const safe = mapping.get('crash-tx')!;
      const g = Number(db.prepare(`SELECT hourly_price FROM ${quote(`${safe}_hourly_price`)}`).pluck().get());
      const tiers = db.prepare(`SELECT * FROM ${quote(`${safe}_tier_pricing`)} ORDER BY tier_index`).raw().all();
      const method = Number(db.prepare(`SELECT use_tier_pricing FROM ${quote(`${safe}_billing_method`)}`).pluck().get());
      const requests = db.prepare(`SELECT timestamp, input_tokens, output_tokens FROM ${quote(`${safe}_requests`)} ORDER BY id`).raw().all();
      const expectedTiers = g === 0 ? [[1, 0, 32768, 0, 0, 0, 0]] : [[1, 0, 32768, g, g, 0, 0], [2, 32769, -1, g, g, 0, 0]];
      expect({ tiers, method, requests }, `crash-tx at generation ${g}`).toEqual({
        tiers: expectedTiers,
        method: g % 2 === 0 ? 1 : 0,
        requests: Array.from({ length: g }, (_, i) => [1_000_000_000 + i + 1, i + 1, i + 1]),
      });
      expect(g, 'a committed generation was lost').toBeGreaterThanOrEqual(this.generation.done);
      expect(g, 'a generation appeared that was never started').toBeLessThanOrEqual(this.generation.maxIntent);
      expect(g, 'a generation vanished after a crash').toBeGreaterThanOrEqual(this.generation.observed);
      this.generation.observed = g;
      this.generation.done = g;
    } else expect(this.generation.done, 'crash-tx is missing').toBe(0);

    for (const [name, fate] of this.names) if (fate === 'maybe') this.names.set(name, mapping.has(name) ? 'done' : 'gone');
  }
}

// ---- tests -----------------------------------------------------------------------------------------

describe('crash safety: SIGKILL at random moments', () => {
  let iteration = 0;
  const totals = { iterations: 0, committedChecked: 0, parts: [] as string[] };

  afterAll(() =>
    console.log(`crash: iterations=${totals.iterations} committed_checked=${totals.committedChecked} (${totals.parts.join(' ')}) seed=${seed}`),
  );

  it(`mixed workload (concurrent singles, batches, runtimes, tiers, transactions, new models): ${MIXED_LANES * MIXED_ITERATIONS_PER_LANE} kills`, async () => {
    const t0 = performance.now();
    const phases = { 'before-ready': 0, running: 0, finished: 0 };
    let committedChecked = 0;
    let withInFlight = 0;
    let hotOpens = 0;
    let emptyFiles = 0;
    let readyMs = 100;
    for (let laneIndex = 0; laneIndex < MIXED_LANES; laneIndex++) {
      const path = tempPath('mixed');
      const lane = new MixedLane();
      for (let k = 0; k < MIXED_ITERATIONS_PER_LANE; k++) {
        const it = ++iteration;
        const logPath = `${path}.${it}.log`;
        // Mostly while working; sometimes before the child is ready: during startup or inside
        // openMonitor (WAL recovery of the previous crash), timed from how long 'ready' took last.
        const plan: KillPlan =
          random() < 0.2 ? { afterReady: false, delayMs: between(readyMs * 0.5, readyMs * 1.05) } : { afterReady: true, delayMs: between(0, 300) };
        // the last lane runs with synchronous: 'FULL' (an fsync per commit; a process crash is the same)
        const synchronous = laneIndex === MIXED_LANES - 1 ? 'FULL' : 'NORMAL';
        const run = await runAndKill({ path, logPath, mode: 'mixed', iteration: it, synchronous }, plan);
        expect(run.signal, `iteration ${it}: the child exited by itself (code ${run.code}): ${run.stderr}`).toBe('SIGKILL');
        phases[run.phase]++;
        if (run.readyMs !== undefined) readyMs = run.readyMs;
        const lines = readLedger(logPath);
        lane.apply(lines);
        expect(lane.errors, `iteration ${it}: calls failed in the child`).toEqual([]);
        if (lane.inFlight > 0) withInFlight++;
        if (sideFiles(path).includes('-wal')) hotOpens++;

        // Check a copy (the original stays as the crash left it: the next child opens it hot).
        const copy = copyCrashed(path);
        if (!existsSync(copy) || withDb(copy, (db) => db.prepare('SELECT COUNT(*) FROM sqlite_master').pluck().get()) === 0) {
          // killed before the lane's first open committed anything: an empty (or no) file
          expect(lines.some((line) => line.t === 'ready'), `iteration ${it}: the Monitor opened, yet the file is empty`).toBe(false);
          emptyFiles++;
          await nextOpenWrites(copy, []);
        } else if (it % 2 === 0) {
          // the raw file first, then the next Monitor
          expect(integrity(copy), `iteration ${it}: integrity_check`).toBe('ok');
          const models = withDb(copy, (db) => {
            lane.verify(db);
            return [...checkStructure(db).models.keys()];
          });
          await nextOpenWrites(copy, models);
        } else {
          // the next Monitor first, on the un-recovered WAL, then the raw file while it is open
          const monitor = await openMonitor(copy);
          try {
            await monitor.addModelRequest('crash-verify', [1_900_000_000, 1, 2]);
            expect(integrity(copy), `iteration ${it}: integrity_check`).toBe('ok');
            withDb(copy, (db) => lane.verify(db));
            expect(await monitor.getModelRequests('crash-verify')).toHaveLength(1);
          } finally {
            await monitor.close();
          }
          expect(integrity(copy)).toBe('ok');
        }
        committedChecked += lane.committed;
        removeDb(copy);
        rmSync(logPath, { force: true });
      }
      // the lane's own file, as the last crash left it
      const models = withDb(path, (db) => [...checkStructure(db).models.keys()]);
      await nextOpenWrites(path, models);
      expect(integrity(path)).toBe('ok');
    }
    const kills = MIXED_LANES * MIXED_ITERATIONS_PER_LANE;
    totals.iterations += kills;
    totals.parts.push(`mixed=${kills}`);
    totals.committedChecked += committedChecked;
    console.log(
      `crash: mixed iterations=${kills} committed_checked=${committedChecked} lanes=${MIXED_LANES} lanes_synchronous_full=1 killed_before_ready=${phases['before-ready']} killed_running=${phases.running} with_calls_in_flight=${withInFlight} hot_wal_at_next_open=${hotOpens} killed_before_first_commit=${emptyFiles} seconds=${((performance.now() - t0) / 1000).toFixed(1)}`,
    );
    expect(phases.finished).toBe(0);
    // the kills really landed in the middle of work
    expect(phases.running).toBeGreaterThanOrEqual(kills / 2);
    expect(withInFlight).toBeGreaterThanOrEqual(phases.running / 2);
    expect(committedChecked).toBeGreaterThan(kills * 50);
  }, 120_000);

  it(`killed while registering models one by one (${REGISTER_LANES * REGISTER_ITERATIONS_PER_LANE} kills) and inside the open transaction (${REGISTER_OPEN_ITERATIONS} kills)`, async () => {
    const t0 = performance.now();
    let committedChecked = 0;
    let midLoop = 0;
    for (let laneIndex = 0; laneIndex < REGISTER_LANES; laneIndex++) {
      const path = tempPath('register');
      const fates = new Map<string, Fate>();
      for (let k = 0; k < REGISTER_ITERATIONS_PER_LANE; k++) {
        const it = ++iteration;
        const logPath = `${path}.${it}.log`;
        const run = await runAndKill({ path, logPath, mode: 'register', iteration: it }, { afterReady: true, delayMs: between(0, 250) });
        expect(run.signal, run.stderr).toBe('SIGKILL');
        const lines = readLedger(logPath);
        expect(lines.filter((l) => l.t === 'error')).toEqual([]);
        const intents = lines.filter((l) => l.t === 'intent').map((l) => String(l.name));
        const done = new Set(lines.filter((l) => l.t === 'done').map((l) => intents[l.id! - 1]!));
        for (const name of intents) fates.set(name, done.has(name) ? 'done' : 'maybe');
        if (intents.length > done.size) midLoop++;

        const copy = copyCrashed(path);
        expect(integrity(copy)).toBe('ok');
        const models = withDb(copy, (db) => {
          const structure = checkStructure(db);
          expect(structure.problems).toEqual([]);
          for (const name of structure.models.keys()) expect(fates.get(name), `${name} was never registered`).toMatch(/done|maybe/);
          for (const [name, fate] of fates) {
            if (fate === 'done') {
              expect(structure.models.has(name), `registered ${name} is missing`).toBe(true);
              committedChecked++;
            }
            if (fate === 'gone') expect(structure.models.has(name)).toBe(false);
            if (fate === 'maybe') fates.set(name, structure.models.has(name) ? 'done' : 'gone');
          }
          return [...structure.models.keys()];
        });
        // models are registered in order: the file holds a prefix of this iteration's names
        const mine = models.filter((m) => m.startsWith(`reg-${it}-`));
        expect(mine).toEqual(intents.slice(0, mine.length));
        expect(mine.length - done.size, 'only the call in flight may be missing').toBeGreaterThanOrEqual(0);
        expect(mine.length - done.size).toBeLessThanOrEqual(1);
        await nextOpenWrites(copy, models);
        removeDb(copy);
      }
    }
    // inside the open transaction: all of options.models or none
    const outcomes = { all: 0, none: 0 };
    for (let k = 0; k < REGISTER_OPEN_ITERATIONS; k++) {
      const it = ++iteration;
      const path = tempPath('register-open');
      const logPath = `${path}.log`;
      const models = Array.from({ length: 25 }, (_, i) => `open-${it}-${i}`);
      const run = await runAndKill({ path, logPath, mode: 'register-open', iteration: it, models }, { afterReady: false, delayMs: between(40, 400) });
      expect(run.signal, run.stderr).toBe('SIGKILL');
      const lines = readLedger(logPath);
      expect(lines.filter((l) => l.t === 'error')).toEqual([]);
      const opened = lines.some((l) => l.t === 'done');
      if (!existsSync(path)) {
        expect(opened).toBe(false);
        outcomes.none++;
        continue;
      }
      expect(integrity(path)).toBe('ok');
      const found = withDb(path, (db) => {
        // killed before the open's first transaction: an empty file, which the next open initialises
        if (db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = 'model_name_mapping'").pluck().get() === 0) return [];
        const structure = checkStructure(db);
        expect(structure.problems).toEqual([]);
        return [...structure.models.keys()];
      });
      expect([[], models], `the open transaction registered ${found.length} of ${models.length}`).toContainEqual(found);
      if (opened) {
        expect(found).toEqual(models);
        committedChecked++;
      }
      outcomes[found.length === 0 ? 'none' : 'all']++;
      await nextOpenWrites(path, found);
    }
    const kills = REGISTER_LANES * REGISTER_ITERATIONS_PER_LANE + REGISTER_OPEN_ITERATIONS;
    totals.iterations += kills;
    totals.parts.push(`register=${kills}`);
    totals.committedChecked += committedChecked;
    console.log(
      `crash: register iterations=${kills} committed_checked=${committedChecked} killed_mid_loop=${midLoop} open_all=${outcomes.all} open_none=${outcomes.none} seconds=${((performance.now() - t0) / 1000).toFixed(1)}`,
    );
    expect(midLoop).toBeGreaterThanOrEqual((REGISTER_LANES * REGISTER_ITERATIONS_PER_LANE) / 2);
  }, 90_000);

  it(`killed while deleting models (${DELETE_ITERATIONS} kills)`, async () => {
    const t0 = performance.now();
    // A template: DELETE_MODELS models with 60 requests each, checkpointed into one file.
    const template = tempPath('delete-template');
    const names = Array.from({ length: DELETE_MODELS }, (_, i) => `del-${i}`);
    const rowsOf = (i: number) => Array.from({ length: 60 }, (_, r) => [1_700_000_000 + i * 1000 + r, i, r] as [number, number, number]);
    {
      const monitor = await openMonitor(template);
      await monitor.transaction(async (tx) => {
        for (const [i, name] of names.entries()) await tx.addModelRequests(name, rowsOf(i));
      });
      await monitor.close();
    }
    let committedChecked = 0;
    let midLoop = 0;
    let calibrationMs = 0;
    for (let k = 0; k <= DELETE_ITERATIONS; k++) {
      const it = ++iteration;
      const path = tempPath('delete');
      const logPath = `${path}.log`;
      copyFileSync(template, path);
      // the first run is not killed before it finishes: it measures how long the deletions take
      const plan: KillPlan = k === 0 ? { afterReady: true, delayMs: 20_000 } : { afterReady: true, delayMs: between(0, calibrationMs) };
      const run = await runAndKill({ path, logPath, mode: 'delete', iteration: it, deleteOrder: names }, plan);
      expect(run.signal, run.stderr).toBe('SIGKILL');
      if (k === 0) {
        expect(run.phase).toBe('finished');
        calibrationMs = Math.max(20, run.finishedMs ?? 0);
      } else if (run.phase === 'finished' && run.finishedMs !== undefined) {
        // finished before the kill (a calibration run slowed down by a busy machine): aim earlier from now on
        calibrationMs = Math.max(20, Math.min(calibrationMs, run.finishedMs));
      }
      const lines = readLedger(logPath);
      expect(lines.filter((l) => l.t === 'error')).toEqual([]);
      const intents = lines.filter((l) => l.t === 'intent').map((l) => String(l.name));
      const done = lines.filter((l) => l.t === 'done').length;
      if (run.phase === 'running' && intents.length > 0 && intents.length < names.length) midLoop++;

      expect(integrity(path)).toBe('ok');
      const remaining = withDb(path, (db) => {
        const structure = checkStructure(db);
        expect(structure.problems, 'half-deleted models or orphan tables').toEqual([]);
        // the survivors are whole, data included
        for (const [name, safe] of structure.models) {
          const i = Number(name.slice(4));
          const rows = db.prepare(`SELECT timestamp, input_tokens, output_tokens FROM ${quote(`${safe}_requests`)} ORDER BY id`).raw().all();
          expect(rows, `${name} lost rows`).toEqual(rowsOf(i));
        }
        return [...structure.models.keys()];
      });
      // deleted in order: the file holds a suffix of the names; only the call in flight may be either way
      const deleted = names.length - remaining.length;
      expect(remaining).toEqual(names.slice(deleted));
      expect(deleted - done, `deleted ${deleted}, resolved ${done}`).toBeGreaterThanOrEqual(0);
      expect(deleted - done).toBeLessThanOrEqual(intents.length - done);
      expect(deleted - done).toBeLessThanOrEqual(1);
      committedChecked += done;
      await nextOpenWrites(path, remaining);
      removeDb(path);
    }
    totals.iterations += DELETE_ITERATIONS;
    totals.parts.push(`delete=${DELETE_ITERATIONS}`);
    totals.committedChecked += committedChecked;
    console.log(
      `crash: delete iterations=${DELETE_ITERATIONS} committed_checked=${committedChecked} killed_mid_loop=${midLoop} delete_all_ms=${calibrationMs} seconds=${((performance.now() - t0) / 1000).toFixed(1)}`,
    );
    expect(midLoop).toBeGreaterThanOrEqual(DELETE_ITERATIONS / 2);
  }, 90_000);
});
