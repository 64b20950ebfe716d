/**
 * Real concurrency on one SQLite file (SPEC §6): worker threads, child processes and several Monitors
 * in one process writing at the same time lose and duplicate nothing, never surface BUSY, and a failed
 * write leaves no transaction (no lock) behind.
 *
 * The writers (test/concurrency/*.mjs) are plain Node scripts that import the BUILT package
 * (`@llm-monitor/driver-node` → packages/driver-node/dist), as an application would. Build it first:
 * `cd packages/core && npx tsup && cd ../driver-node && npx tsup`.
 *
 * Every test prints one greppable line starting with `concurrency:`.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Monitor, ModelRequest } from '@llm-monitor/core';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMonitor } from '../src/index.js';

// ---- set-up --------------------------------------------------------------------------------------

const here = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));
const DIST = here('../dist/index.js');
const CORE_DIST = here('../node_modules/@llm-monitor/core/dist/index.js');
const WRITER_SCRIPT = here('./concurrency/writer.mjs');
const AGENT_SCRIPT = here('./concurrency/agent.mjs');

/** The busy budget of a Monitor is 10 s; a write that waits for no lock finishes far below this. */
const NO_LOCK_BOUND_MS = 2_000;
const THREADS = 4;
const PROCESSES = 4;
const ROWS_PER_WRITER = 3_000;
const SHARED_MODEL = 'shared-model';

let dir = '';
let fileCount = 0;
const tempPath = (name: string) => join(dir, `${name}-${++fileCount}.db`);

/** Everything this file started, so a failing test leaves no thread or process behind. */
const started = { workers: new Set<Worker>(), children: new Set<ChildProcess>() };

beforeAll(() => {
  for (const [file, build] of [
    [CORE_DIST, 'cd packages/core && npx tsup'],
    [DIST, 'cd packages/driver-node && npx tsup'],
  ] as const) {
    if (!existsSync(file))
      throw new Error(
        `concurrency tests need the built package: ${file} is missing. Run \`${build}\` (core first, then driver-node) and re-run.`,
      );
  }
  const srcTime = statSync(here('../src/index.ts')).mtimeMs;
  if (srcTime > statSync(DIST).mtimeMs)
    console.warn(`concurrency: warning: ${DIST} is older than src/index.ts; the writers run the old build (run npx tsup).`);
  dir = mkdtempSync(join(tmpdir(), 'llm-monitor-concurrency-'));
});

afterAll(async () => {
  for (const worker of started.workers) await worker.terminate();
  for (const child of started.children) if (child.exitCode === null && child.signalCode === null) child.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Rejects with a clear message instead of letting a stuck writer hit the test timeout. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what} (deadlock?)`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---- expected values (recomputed here, independently of writer.mjs) ------------------------------

interface RequestValues {
  timestamp: number;
  inputTokens: number;
  outputTokens: number;
  cacheN: number;
  promptN: number;
}

/** Request `seq` of writer `writer`: even seqs belong to the shared model, odd ones to the writer's own. */
function expectedRequest(writer: number, seq: number): RequestValues {
  const inputTokens = writer * 1_000_000 + seq;
  const cacheN = seq % 4;
  return {
    timestamp: 1_700_000_000 + writer * 100_000 + seq,
    inputTokens,
    outputTokens: (seq * 37 + writer) % 10_007,
    cacheN,
    promptN: cacheN === 0 ? 0 : inputTokens - cacheN,
  };
}

const requestKey = (r: RequestValues) => `${r.timestamp}|${r.inputTokens}|${r.outputTokens}|${r.cacheN}|${r.promptN}`;

/** Compares two multisets of keys: `missing` are expected but absent, `extra` are unexpected or duplicated. */
function multisetDiff(expected: readonly string[], found: readonly string[]) {
  const counts = new Map<string, number>();
  for (const key of expected) counts.set(key, (counts.get(key) ?? 0) + 1);
  const extra: string[] = [];
  for (const key of found) {
    const left = counts.get(key) ?? 0;
    if (left === 0) extra.push(key);
    else counts.set(key, left - 1);
  }
  const missing = [...counts].flatMap(([key, n]) => Array<string>(n).fill(key));
  return { missing, extra };
}

/** Reads a model's requests and checks them against exactly `expected` (as a multiset). */
async function checkRequests(monitor: Monitor, model: string, expected: readonly RequestValues[]) {
  const rows: ModelRequest[] = await monitor.getModelRequests(model);
  const diff = multisetDiff(expected.map(requestKey), rows.map(requestKey));
  expect(diff.missing.slice(0, 10), `${model}: ${diff.missing.length} rows lost`).toEqual([]);
  expect(diff.extra.slice(0, 10), `${model}: ${diff.extra.length} rows duplicated or unexpected`).toEqual([]);
  expect(rows).toHaveLength(expected.length);
  expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
  return { found: rows.length, ...diff };
}

/** Runs PRAGMA integrity_check on a fresh connection. */
function integrity(path: string): string {
  const db = new Database(path, { readonly: true });
  try {
    return String(db.pragma('integrity_check', { simple: true }));
  } finally {
    db.close();
  }
}

// ---- writers: worker threads and child processes --------------------------------------------------

interface WriterReport {
  writer: number;
  kind: 'thread' | 'process';
  pid: number;
  rowsWritten: number;
  singleCalls: number;
  batchCalls: number;
  runtimeCalls: number;
  errorCount: number;
  errors: { what: string; code: string; message: string }[];
  firstWriteAt: number;
  lastWriteAt: number;
  ms: number;
}

interface WriterHandle {
  writer: number;
  kind: 'thread' | 'process';
  ready: Promise<void>;
  done: Promise<WriterReport>;
  exited: Promise<number | null>;
  go(): void;
}

type WriterMessage = { type: 'ready' } | { type: 'done'; report: WriterReport };

function startWriter(kind: 'thread' | 'process', writer: number, path: string): WriterHandle {
  const config = { path, writer, rowsPerWriter: ROWS_PER_WRITER, sharedModel: SHARED_MODEL };
  let onMessage!: (fn: (message: WriterMessage) => void) => void;
  let go!: () => void;
  let exited: Promise<number | null>;
  let failed: Promise<never>;
  if (kind === 'thread') {
    const worker = new Worker(WRITER_SCRIPT, { workerData: config, execArgv: [] });
    started.workers.add(worker);
    onMessage = (fn) => worker.on('message', fn);
    go = () => worker.postMessage({ type: 'go' });
    exited = new Promise((resolve) => worker.once('exit', resolve));
    failed = new Promise((_, reject) => worker.once('error', (error) => reject(new Error(`thread writer ${writer} crashed: ${error.stack}`))));
    void exited.then(() => started.workers.delete(worker));
  } else {
    const child = fork(WRITER_SCRIPT, [JSON.stringify(config)], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    started.children.add(child);
    onMessage = (fn) => child.on('message', (message) => fn(message as WriterMessage));
    go = () => child.send({ type: 'go' });
    exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    failed = new Promise((_, reject) => child.once('error', (error) => reject(new Error(`process writer ${writer} failed: ${error.stack}`))));
    void exited.then(() => started.children.delete(child));
  }
  failed.catch(() => undefined);
  const early = exited.then((code) => {
    throw new Error(`${kind} writer ${writer} exited (code ${code}) before reporting`);
  });
  early.catch(() => undefined);
  const ready = new Promise<void>((resolve) => onMessage((m) => m.type === 'ready' && resolve()));
  const done = new Promise<WriterReport>((resolve) => onMessage((m) => m.type === 'done' && resolve(m.report)));
  return {
    writer,
    kind,
    ready: Promise.race([ready, failed, early]),
    done: Promise.race([done, failed, early]),
    exited,
    go,
  };
}

// ---- agents: long-lived child processes running Monitor calls on request --------------------------

interface AgentReply {
  id: number;
  ok: boolean;
  value?: unknown;
  code?: string;
  message?: string;
  ms: number;
  startedAt: number;
  endedAt: number;
}

interface AgentEvent {
  id: number;
  event: string;
  at: number;
}

class Agent {
  readonly #child: ChildProcess;
  readonly #replies = new Map<number, (reply: AgentReply) => void>();
  readonly #events = new Map<string, (event: AgentEvent) => void>();
  readonly #exited: Promise<number | null>;
  #next = 0;

  constructor(readonly name: string) {
    this.#child = fork(AGENT_SCRIPT, [], { execArgv: [], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    started.children.add(this.#child);
    this.#exited = new Promise((resolve) => this.#child.once('exit', (code) => resolve(code)));
    void this.#exited.then(() => started.children.delete(this.#child));
    this.#child.on('message', (message: AgentReply | AgentEvent) => {
      if ('event' in message) this.#events.get(`${message.id}:${message.event}`)?.(message);
      else this.#replies.get(message.id)?.(message);
    });
  }

  /** Starts a call; `done` is its reply, `event(name)` a progress event the call sends. */
  start(op: string, ...args: unknown[]) {
    const id = ++this.#next;
    const done = new Promise<AgentReply>((resolve) => this.#replies.set(id, resolve));
    const event = (name: string) => new Promise<AgentEvent>((resolve) => this.#events.set(`${id}:${name}`, resolve));
    this.#child.send({ id, op, args });
    return {
      done: within(done, 30_000, `${this.name}.${op}`),
      event: (name: string) => within(event(name), 30_000, `${this.name}.${op} to send '${name}'`),
    };
  }

  call(op: string, ...args: unknown[]): Promise<AgentReply> {
    return this.start(op, ...args).done;
  }

  /** Calls and asserts success. */
  async ok(op: string, ...args: unknown[]): Promise<AgentReply> {
    const reply = await this.call(op, ...args);
    expect(reply, `${this.name}.${op} failed: ${reply.code} ${reply.message}`).toMatchObject({ ok: true });
    return reply;
  }

  async stop(): Promise<void> {
    if (this.#child.connected) this.#child.disconnect();
    await within(this.#exited, 10_000, `${this.name} to exit`);
  }
}

/**
 * Probes the file from a fresh connection that never waits (busy timeout 0): can it take the write
 * lock right now, and does a TRUNCATE checkpoint find no reader or writer in a transaction?
 */
function probeLocks(path: string) {
  const db = new Database(path, { timeout: 0 });
  try {
    let writeLockFree = true;
    try {
      db.exec('BEGIN IMMEDIATE');
      db.exec('ROLLBACK');
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
      writeLockFree = false;
    }
    const [checkpoint] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
    return { writeLockFree, checkpointBusy: checkpoint?.busy };
  } finally {
    db.close();
  }
}

// Rows the lock tests write: distinct per (who, n) and recognisable in failures.
const rowOf = (who: number, n: number): [number, number, number] => [1_710_000_000 + who * 10_000 + n, 1_000 * who + n, n];
const A = 1;
const B = 2;

// ---- tests -----------------------------------------------------------------------------------------

describe('driver-node under real concurrency (one SQLite file)', () => {
  it(`${THREADS} worker threads and ${PROCESSES} child processes write ${ROWS_PER_WRITER} requests each at once: nothing lost, nothing duplicated, no error`, async () => {
    const path = tempPath('writers');
    const t0 = performance.now();
    const writers = [
      ...Array.from({ length: THREADS }, (_, i) => startWriter('thread', i, path)),
      ...Array.from({ length: PROCESSES }, (_, i) => startWriter('process', THREADS + i, path)),
    ];
    // Everyone opens the (new, empty) file concurrently, then all start writing at the same moment.
    await within(Promise.all(writers.map((w) => w.ready)), 30_000, 'every writer to open the file');
    for (const w of writers) w.go();
    const reports = await within(Promise.all(writers.map((w) => w.done)), 45_000, 'every writer to finish');
    const exitCodes = await within(Promise.all(writers.map((w) => w.exited)), 10_000, 'every writer to exit');
    const seconds = (performance.now() - t0) / 1000;

    const writerCount = THREADS + PROCESSES;
    const rowsWritten = reports.reduce((n, r) => n + r.rowsWritten, 0);
    const errors = reports.flatMap((r) => r.errors.map((e) => ({ writer: r.writer, kind: r.kind, ...e })));
    const errorCount = reports.reduce((n, r) => n + r.errorCount, 0);

    // Read everything back through the Monitor (from source) and compare row by row.
    const monitor = await openMonitor(path);
    let rowsFound = 0;
    let lost = 0;
    let duplicated = 0;
    try {
      const perModel = new Map<string, RequestValues[]>([[SHARED_MODEL, []]]);
      for (let writer = 0; writer < writerCount; writer++) {
        perModel.set(`writer-${writer}`, []);
        for (let seq = 0; seq < ROWS_PER_WRITER; seq++)
          perModel.get(seq % 2 === 0 ? SHARED_MODEL : `writer-${writer}`)?.push(expectedRequest(writer, seq));
      }
      for (const [model, expected] of perModel) {
        const rows = await monitor.getModelRequests(model);
        const diff = multisetDiff(expected.map(requestKey), rows.map(requestKey));
        rowsFound += rows.length;
        lost += diff.missing.length;
        duplicated += diff.extra.length;
      }
      console.log(
        `concurrency: writers=${writerCount} threads=${THREADS} processes=${PROCESSES} rows_written=${rowsWritten} rows_found=${rowsFound} lost=${lost} duplicated=${duplicated} errors=${errorCount} seconds=${seconds.toFixed(2)}`,
      );
      console.log(
        `concurrency: per-writer ${reports
          .map((r) => `${r.kind}#${r.writer}:rows=${r.rowsWritten},singles=${r.singleCalls},batches=${r.batchCalls},runtime=${r.runtimeCalls},errors=${r.errorCount},ms=${r.ms}`)
          .join(' ')}`,
      );

      // No writer saw an error, and every one exited cleanly.
      expect(errors.slice(0, 10), `${errorCount} errors reported by writers`).toEqual([]);
      expect(exitCodes).toEqual(Array<number>(writerCount).fill(0));
      expect(reports.map((r) => r.kind).sort()).toEqual([...Array<string>(PROCESSES).fill('process'), ...Array<string>(THREADS).fill('thread')]);
      expect(new Set(reports.filter((r) => r.kind === 'process').map((r) => r.pid)).size).toBe(PROCESSES);
      expect(reports.map((r) => r.rowsWritten)).toEqual(Array<number>(writerCount).fill(ROWS_PER_WRITER));
      // The writers really ran at the same time: most of them began before the first to finish ended
      // (not all: on two busy cores the OS may start one writer late, which proves nothing wrong).
      const firstEnd = Math.min(...reports.map((r) => r.lastWriteAt));
      expect(reports.filter((r) => r.firstWriteAt < firstEnd).length).toBeGreaterThanOrEqual(Math.ceil(writerCount / 2));

      // Exactly the rows written, each once, per model (checkRequests asserts with the offending rows).
      expect(rowsWritten).toBe(writerCount * ROWS_PER_WRITER);
      for (const [model, expected] of perModel) await checkRequests(monitor, model, expected);
      expect(rowsFound).toBe(rowsWritten);

      // Concurrent auto-registration registered each model once, with one set of default billing rows.
      const models = await monitor.listModels();
      expect(models.map((m) => m.name).sort()).toEqual([SHARED_MODEL, ...Array.from({ length: writerCount }, (_, w) => `writer-${w}`)].sort());
      const billing = await monitor.getModelBilling(SHARED_MODEL);
      expect(billing?.tierPricing.map((t) => t.tierIndex)).toEqual([1]);

      // Runtime rows: 3 closed runs per own model, one open run per writer on the shared model, and
      // one program run per writer.
      for (let w = 0; w < writerCount; w++) {
        const runs = (await monitor.getModelRuntime(`writer-${w}`)).map((r) => [r.startTime, r.endTime]).sort((x, y) => x[0]! - y[0]!);
        expect(runs).toEqual([0, 1, 2].map((k) => [1_600_000_000 + w * 1_000 + k * 10, 1_600_000_000 + w * 1_000 + k * 10 + 5]));
      }
      const sharedRuns = (await monitor.getModelRuntime(SHARED_MODEL)).map((r) => [r.startTime, r.endTime]).sort((x, y) => x[0]! - y[0]!);
      expect(sharedRuns).toEqual(Array.from({ length: writerCount }, (_, w) => [1_650_000_000 + w, 1_650_000_000 + w]));
      const programRuns = (await monitor.getProgramRuntime()).map((r) => r.startTime).sort((x, y) => x - y);
      expect(programRuns).toEqual(Array.from({ length: writerCount }, (_, w) => 1_660_000_000 + w));
    } finally {
      await monitor.close();
    }
    expect(integrity(path)).toBe('ok');
  }, 90_000);

  it('a failed write in process A leaves no transaction open: process B writes at once while A stays open and idle', async () => {
    const path = tempPath('failed-write-idle');
    const model = 'locks';
    const a = new Agent('A');
    const b = new Agent('B');
    try {
      await a.ok('open', path, { models: [model] });
      await b.ok('open', path);
      const bad: [number, number, number] = [1_710_000_000, -1, 5];
      const failures = [
        { what: 'addTierPricing of an existing tier', op: 'addTierPricing', args: [model, [1, 0, 100, 1, 1]], code: 'DUPLICATE_TIER' },
        { what: 'updateTierPricing of a missing tier', op: 'updateTierPricing', args: [model, [9, 0, 100, 1, 1]], code: 'TIER_NOT_FOUND' },
        { what: 'addModelRequest with negative tokens', op: 'addModelRequest', args: [model, bad], code: 'INVALID_INPUT' },
        { what: 'addModelRequests with a bad last row', op: 'addModelRequests', args: [model, [rowOf(A, 900), rowOf(A, 901), bad]], code: 'INVALID_INPUT' },
        { what: 'addTierPricing with a negative price', op: 'addTierPricing', args: [model, [2, 0, 100, -1, 1]], code: 'INVALID_INPUT' },
        { what: 'transaction(): a write, then DUPLICATE_TIER', op: 'writeThenDuplicateTier', args: [model, rowOf(A, 902)], code: 'DUPLICATE_TIER' },
        { what: 'transaction(): a write, then the application throws', op: 'writeThenThrow', args: [model, rowOf(A, 903)], code: 'APP' },
      ];
      const bTimes: number[] = [];
      let n = 0;
      for (const failure of failures) {
        const failed = await a.call(failure.op, ...failure.args);
        expect(failed, failure.what).toMatchObject({ ok: false, code: failure.code });
        // Nobody holds the write lock or a read snapshot now (a connection that never waits can tell).
        expect(probeLocks(path), `after ${failure.what}`).toEqual({ writeLockFree: true, checkpointBusy: 0 });
        // And B, a Monitor in another process with the default 10 s busy budget, writes at once.
        const written = await b.ok('addModelRequest', model, rowOf(B, n++));
        expect(written.ms, `B's write after A's ${failure.what}`).toBeLessThan(NO_LOCK_BOUND_MS);
        bTimes.push(written.ms);
      }

      // A stays open and idle; B keeps writing in every form, each at once.
      await sleep(300);
      const more = [
        await b.ok('addModelRequests', model, [rowOf(B, n++), rowOf(B, n++), rowOf(B, n++)]),
        await b.ok('addModelRuntimeStart', model, 1_720_000_000),
        await b.ok('updateModelRuntimeEnd', model, 1_720_000_060),
        await b.ok('addTierPricing', model, [2, 32_769, -1, 3, 4]),
      ];
      for (const reply of more) bTimes.push(reply.ms);
      await sleep(300);
      bTimes.push((await b.ok('addModelRequest', model, rowOf(B, n++))).ms);
      expect(Math.max(...bTimes)).toBeLessThan(NO_LOCK_BOUND_MS);
      expect(probeLocks(path)).toEqual({ writeLockFree: true, checkpointBusy: 0 });

      // A, idle since its failures, writes normally too.
      const aWrite = await a.ok('addModelRequest', model, rowOf(A, 1));
      expect(aWrite.ms).toBeLessThan(NO_LOCK_BOUND_MS);

      // The file holds B's rows and A's one good row; nothing of A's failed calls.
      const check = await a.ok('getModelRequests', model);
      const found = (check.value as ModelRequest[]).map((r) => `${r.timestamp}|${r.inputTokens}|${r.outputTokens}`);
      const expected = [...Array.from({ length: n }, (_, i) => rowOf(B, i)), rowOf(A, 1)].map((r) => r.join('|'));
      expect(multisetDiff(expected, found)).toEqual({ missing: [], extra: [] });
      const billing = (await a.ok('getModelBilling', model)).value as { tierPricing: { tierIndex: number; inputPricePerMillion: number }[] };
      expect(billing.tierPricing.map((t) => [t.tierIndex, t.inputPricePerMillion])).toEqual([
        [1, 0],
        [2, 3],
      ]);
      console.log(
        `concurrency: failed-then-idle failures=${failures.length} b_writes=${bTimes.length} b_max_ms=${Math.max(...bTimes).toFixed(1)} b_mean_ms=${(bTimes.reduce((s, t) => s + t, 0) / bTimes.length).toFixed(1)} rows_found=${found.length} errors=0`,
      );
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  }, 60_000);

  it('a write blocked behind a transaction in process A proceeds as soon as that transaction fails; A then closes cleanly', async () => {
    const path = tempPath('failed-write-blocking');
    const model = 'blocked';
    const a = new Agent('A');
    const b = new Agent('B');
    try {
      await a.ok('open', path, { models: [model] });
      await b.ok('open', path);
      const holdMs = 700;
      const tx = a.start('writeThenDuplicateTier', model, rowOf(A, 0), holdMs);
      await tx.event('locked');
      // The lock really is held now: a connection that never waits cannot take it.
      expect(probeLocks(path).writeLockFree).toBe(false);
      const bWrite = b.call('addModelRequest', model, rowOf(B, 0));
      const aReply = await tx.done;
      const bReply = await bWrite;
      expect(aReply).toMatchObject({ ok: false, code: 'DUPLICATE_TIER' });
      expect(bReply, `B: ${bReply.code} ${bReply.message}`).toMatchObject({ ok: true });
      // B was issued while A held the lock, waited for it, and got it right after the rollback.
      expect(bReply.startedAt).toBeLessThan(aReply.endedAt);
      const afterRollbackMs = bReply.endedAt - aReply.endedAt;
      expect(afterRollbackMs).toBeLessThan(NO_LOCK_BOUND_MS);

      // A closes its Monitor right after the failure (close must not hang on a leftover transaction) …
      const closed = await a.ok('close');
      expect(closed.ms).toBeLessThan(NO_LOCK_BOUND_MS);
      // … and B goes on writing at once.
      const bAgain = await b.ok('addModelRequest', model, rowOf(B, 1));
      expect(bAgain.ms).toBeLessThan(NO_LOCK_BOUND_MS);
      expect(probeLocks(path)).toEqual({ writeLockFree: true, checkpointBusy: 0 });

      const rows = (await b.ok('getModelRequests', model)).value as ModelRequest[];
      expect(rows.map((r) => [r.timestamp, r.inputTokens, r.outputTokens]).sort((x, y) => x[0]! - y[0]!)).toEqual([rowOf(B, 0), rowOf(B, 1)]);
      console.log(
        `concurrency: blocked-then-released hold_ms=${holdMs} b_wait_ms=${bReply.ms.toFixed(1)} b_done_after_rollback_ms=${afterRollbackMs} a_close_ms=${closed.ms.toFixed(1)} rows_found=${rows.length} errors=0`,
      );
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  }, 60_000);

  it('two Monitors in one process on one file, with interleaved awaits, lose nothing', async () => {
    const path = tempPath('two-monitors');
    const rowsEach = 1_200;
    const shared = 'inproc-shared';
    const t0 = performance.now();
    const monitors = [await openMonitor(path), await openMonitor(path)] as const;
    const turns: number[] = [];
    const errors: string[] = [];
    const expectedFailures: string[] = [];
    const yieldTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
    // Writer ids 100 and 101 keep these rows apart from any other test's.
    const writerOf = (who: number) => 100 + who;
    const own = (who: number) => `inproc-${who}`;
    const modelOf = (who: number, seq: number) => (seq % 2 === 0 ? shared : own(who));
    const input = (who: number, seq: number) => {
      const r = expectedRequest(writerOf(who), seq);
      return [r.timestamp, r.inputTokens, r.outputTokens, r.cacheN, r.promptN] as const;
    };

    async function drive(who: number): Promise<number> {
      const monitor = monitors[who]!;
      let written = 0;
      const attempt = async (what: string, fn: () => Promise<unknown>) => {
        try {
          await fn();
          turns.push(who);
        } catch (error) {
          errors.push(`monitor ${who} ${what}: ${(error as { code?: string }).code} ${(error as Error).message}`);
        }
      };
      await attempt('runtime start', () => monitor.addModelRuntimeStart(own(who), 1_690_000_000 + who));
      for (let chunk = 0, seq = 0; seq < rowsEach; chunk++) {
        const seqs = Array.from({ length: Math.min(20, rowsEach - seq) }, (_, i) => seq + i);
        seq += seqs.length;
        const style = chunk % 4;
        if (style === 0) {
          // Sequential single calls, giving the event loop away between them.
          for (const s of seqs) {
            await attempt(`single #${s}`, async () => {
              await monitor.addModelRequest(modelOf(who, s), input(who, s));
              written++;
            });
            await yieldTurn();
          }
        } else if (style === 1) {
          // One batch per model.
          for (const model of [shared, own(who)]) {
            const mine = seqs.filter((s) => modelOf(who, s) === model);
            await attempt(`batch #${mine[0]}`, async () => {
              written += await monitor.addModelRequests(model, mine.map((s) => input(who, s)));
            });
            await yieldTurn();
          }
        } else if (style === 2) {
          // One transaction that holds the write lock across a timer, so the other Monitor hits BUSY.
          await attempt(`transaction #${seqs[0]}`, async () => {
            await monitor.transaction(async (tx) => {
              for (const [i, s] of seqs.entries()) {
                await tx.addModelRequest(modelOf(who, s), input(who, s));
                if (i === 9) await sleep(2);
              }
            });
            written += seqs.length;
          });
        } else {
          // Every call of the chunk in flight at once.
          await Promise.all(
            seqs.map((s) =>
              attempt(`concurrent #${s}`, async () => {
                await monitor.addModelRequest(modelOf(who, s), input(who, s));
                written++;
              }),
            ),
          );
        }
        if (chunk === 10) {
          // A transaction that fails half-way: its rows must vanish and the other Monitor must not stall.
          try {
            await monitor.transaction(async (tx) => {
              await tx.addModelRequests(own(who), [[1_690_500_000 + who, 1, 1]]);
              await sleep(2);
              await tx.addTierPricing(own(who), [1, 0, 10, 1, 1]);
            });
            errors.push(`monitor ${who}: the failing transaction succeeded`);
          } catch (error) {
            expectedFailures.push((error as { code?: string }).code ?? 'THROWN');
          }
        }
      }
      await attempt('runtime end', () => monitor.updateModelRuntimeEnd(own(who), 1_690_000_100 + who));
      return written;
    }

    let written: number[];
    let rowsFound = 0;
    try {
      written = await within(Promise.all([drive(0), drive(1)]), 45_000, 'both in-process Monitors to finish');
      const seconds = (performance.now() - t0) / 1000;
      const expectedFor = (model: string) =>
        [0, 1].flatMap((who) =>
          Array.from({ length: rowsEach }, (_, s) => s)
            .filter((s) => modelOf(who, s) === model)
            .map((s) => expectedRequest(writerOf(who), s)),
        );
      const reader = monitors[0];
      for (const model of [shared, own(0), own(1)]) rowsFound += (await checkRequests(reader, model, expectedFor(model))).found;
      // Completed calls alternated between the two Monitors many times: they really interleaved.
      const switches = turns.reduce((count, who, i) => count + (i > 0 && turns[i - 1] !== who ? 1 : 0), 0);
      console.log(
        `concurrency: in-process monitors=2 rows_written=${written[0]! + written[1]!} rows_found=${rowsFound} errors=${errors.length} switches=${switches} expected_failures=${expectedFailures.join(',')} seconds=${seconds.toFixed(2)}`,
      );
      expect(errors.slice(0, 10), `${errors.length} errors`).toEqual([]);
      expect(expectedFailures).toEqual(['DUPLICATE_TIER', 'DUPLICATE_TIER']);
      expect(written).toEqual([rowsEach, rowsEach]);
      expect(rowsFound).toBe(2 * rowsEach);
      expect(switches).toBeGreaterThan(20);
      for (const who of [0, 1]) {
        const runs = (await reader.getModelRuntime(own(who))).map((r) => [r.startTime, r.endTime]);
        expect(runs).toEqual([[1_690_000_000 + who, 1_690_000_100 + who]]);
      }
    } finally {
      await Promise.all(monitors.map((m) => m.close()));
    }
    expect(integrity(path)).toBe('ok');
  }, 60_000);
});
