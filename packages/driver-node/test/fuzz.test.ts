/**
 * Property-based tests of every public write (issue 7, SPEC §5), with fast-check: arbitrary values
 * mixed with near-valid ones (NaN, ±Infinity, -0, huge, fractional, strings, null, arrays of the wrong
 * length, objects with missing fields, millisecond timestamps). For every case, either
 *
 * - the call succeeds, the spec says it may, the getters return exactly what was written, and only
 *   the tables that call writes changed; or
 * - it fails with a MonitorError whose code is the one the spec gives for that input, the database
 *   content is unchanged (every table's rows, with their storage classes, compared before and after
 *   through better-sqlite3) and no transaction is left open (the write lock is free).
 *
 * Which outcome is right is decided by an oracle written here from SPEC §5, independently of
 * core's validate.ts. One database file per property, reused across its runs.
 *
 * Prints `fuzz: property=<name> cases=N ...` per property. FUZZ_RUNS scales the number of runs
 * (default 1); FUZZ_SEED fixes fast-check's seed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Monitor, type MonitorErrorCode, type TierPricing, isMonitorError, openMonitor } from '../src/index.js';
import { type Db, changedTables, dumpTables, expectedSafeName, quote } from './crash/checks.js';

const SCALE = Number(process.env.FUZZ_RUNS ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const fcOptions = (numRuns: number) => ({ numRuns: runs(numRuns), ...(SEED === undefined ? {} : { seed: SEED }) });

let dir = '';
let fileCount = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'llm-monitor-fuzz-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ---- the oracle (SPEC §5), written independently of core/src/monitor/validate.ts --------------------

const MAX_EPOCH_SECONDS = 1e11;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_EPOCH_SECONDS;
const isTokens = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isPrice = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
/** A name a model can be looked up by: a non-empty string UTF-8 can encode. */
const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && !LONE_SURROGATE.test(v);
/** A name a NEW model can get: also no NUL (not every engine stores it). */
const isNewName = (v: unknown): v is string => isName(v) && !v.includes('\u0000');
/** SQLite keeps no sign on a zero: -0 is stored and returned as 0. */
const norm = (v: number) => (v === 0 ? 0 : v);

type Row5 = [number, number, number, number, number];
/**
 * `ok`: must be accepted and store `row`. `either`: the spec does not say (accepted storing `row`, or
 * INVALID_INPUT). `invalid`: must fail with INVALID_INPUT.
 */
type RequestVerdict = { verdict: 'ok' | 'either'; row: Row5 } | { verdict: 'invalid' };

function requestOracle(input: unknown): RequestVerdict {
  let t: unknown, i: unknown, o: unknown, c: unknown, p: unknown;
  let vague = false;
  if (Array.isArray(input)) {
    if (input.length !== 3 && input.length !== 5) return { verdict: 'invalid' };
    [t, i, o, c, p] = input as unknown[];
    // [t, i, o, undefined, undefined]: five elements, two of them absent
    if (input.length === 5 && (c === undefined || p === undefined)) vague = true;
  } else if (typeof input === 'object' && input !== null) {
    const r = input as Record<string, unknown>;
    [t, i, o, c, p] = [r.timestamp, r.inputTokens, r.outputTokens, r.cacheN, r.promptN];
    // cacheN/promptN are optional; null for "not given" is not in the types
    if (c === null || p === null) vague = true;
  } else return { verdict: 'invalid' };
  const optional = (v: unknown) => v === undefined || (vague && v === null) || isTokens(v);
  if (!isTime(t) || !isTokens(i) || !isTokens(o) || !optional(c) || !optional(p)) return { verdict: 'invalid' };
  const row: Row5 = [norm(t), norm(i), norm(o), norm(isTokens(c) ? c : 0), norm(isTokens(p) ? p : 0)];
  return { verdict: vague ? 'either' : 'ok', row };
}

interface Tier {
  tierIndex: number;
  startTokens: number;
  endTokens: number;
  inputPricePerMillion: number;
  outputPricePerMillion: number;
  supportCache: boolean | undefined;
  cacheHitPricePerMillion: number | undefined;
}

function tierOracle(input: unknown): Tier | null {
  let f: Record<string, unknown>;
  if (Array.isArray(input)) {
    if (input.length !== 5 && input.length !== 7) return null;
    const [tierIndex, startTokens, endTokens, inputPricePerMillion, outputPricePerMillion, supportCache, cacheHitPricePerMillion] = input as unknown[];
    f = { tierIndex, startTokens, endTokens, inputPricePerMillion, outputPricePerMillion, supportCache, cacheHitPricePerMillion };
  } else if (typeof input === 'object' && input !== null) f = input as Record<string, unknown>;
  else return null;
  const { tierIndex, startTokens, endTokens, inputPricePerMillion: inP, outputPricePerMillion: outP, supportCache, cacheHitPricePerMillion: hit } = f;
  if (!isTokens(tierIndex) || !isTokens(startTokens)) return null;
  if (endTokens !== -1 && !isTokens(endTokens)) return null;
  if (endTokens !== -1 && (endTokens as number) < startTokens) return null;
  if (!isPrice(inP) || !isPrice(outP)) return null;
  if (supportCache !== undefined && typeof supportCache !== 'boolean') return null;
  if (hit !== undefined && !isPrice(hit)) return null;
  return {
    tierIndex: norm(tierIndex),
    startTokens: norm(startTokens),
    endTokens: norm(endTokens as number),
    inputPricePerMillion: norm(inP),
    outputPricePerMillion: norm(outP),
    supportCache,
    cacheHitPricePerMillion: hit === undefined ? undefined : norm(hit),
  };
}

// ---- arbitraries --------------------------------------------------------------------------------------

const specialNumber = fc.constantFrom(
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -0,
  0,
  -1,
  -1e-9,
  0.5,
  1.5,
  MAX_EPOCH_SECONDS,
  MAX_EPOCH_SECONDS + 1,
  1_700_000_000_000, // milliseconds
  1_700_000_000_123.5,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 1,
  2 ** 53 + 2,
  2 ** 63,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  Number.EPSILON,
  1e300,
  -1e300,
  32768,
  2 ** 31,
  2 ** 32,
);
const junk = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.constantFrom(null, undefined, true, false, '', '1', '1e3', 'NaN', '0x10', [], [1], {}, { valueOf: 5 }),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.date({ noInvalidDate: false }),
  fc.anything({ maxDepth: 1, withBoxedValues: true, withNullPrototype: true, withMap: true, withSet: true }),
);
const anyNumber = fc.oneof(
  { weight: 3, arbitrary: specialNumber },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ min: -10, max: 10 }) },
  // around the limits: seconds vs milliseconds, safe integers
  { weight: 1, arbitrary: fc.double({ min: 0, max: 2e12, noNaN: true }) },
  { weight: 1, arbitrary: fc.double({ min: MAX_EPOCH_SECONDS * 0.999, max: MAX_EPOCH_SECONDS * 1.001, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, Number.MAX_SAFE_INTEGER + 3) },
);
const weird = fc.oneof(anyNumber, junk);

const validTime = fc.oneof(
  fc.double({ min: 0, max: MAX_EPOCH_SECONDS, noNaN: true }),
  fc.integer({ min: 0, max: 2_000_000_000 }),
  fc.constantFrom(0, -0, MAX_EPOCH_SECONDS, 1_700_000_000.123_456),
);
const validTokens = fc.oneof(fc.nat(100_000), fc.maxSafeNat(), fc.constantFrom(0, -0, Number.MAX_SAFE_INTEGER));
const validPrice = fc.oneof(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.constantFrom(0, -0, 0.1, Number.MAX_VALUE, Number.MIN_VALUE, 1e300));
/** Mostly valid, sometimes anything. */
const mostly = <T>(valid: fc.Arbitrary<T>, weight = 6) => fc.oneof({ weight, arbitrary: valid as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: weird });

const time = mostly(validTime);
const tokens = mostly(validTokens);
const price = mostly(validPrice);

const requestArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(time, tokens, tokens) },
  { weight: 3, arbitrary: fc.tuple(time, tokens, tokens, tokens, tokens) },
  {
    weight: 3,
    arbitrary: fc.record(
      { timestamp: time, inputTokens: tokens, outputTokens: tokens, cacheN: tokens, promptN: tokens, extra: weird },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: fc.tuple(time, tokens, tokens, tokens, tokens).map((row) => row.map((v, i) => (i >= 3 ? (i === 3 ? undefined : v) : v))) },
  { weight: 1, arbitrary: fc.record({ timestamp: time, inputTokens: tokens, outputTokens: tokens, cacheN: fc.constant(null) }) },
  { weight: 1, arbitrary: fc.array(tokens, { maxLength: 8 }) },
  { weight: 1, arbitrary: weird },
);

const tierIndexArb = mostly(fc.integer({ min: 0, max: 6 }), 8);
const tierArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(tierIndexArb, mostly(fc.nat(100_000)), mostly(fc.oneof(fc.constant(-1), fc.nat(200_000))), price, price) },
  {
    weight: 3,
    arbitrary: fc.tuple(tierIndexArb, mostly(fc.nat(100_000)), mostly(fc.oneof(fc.constant(-1), fc.nat(200_000))), price, price, mostly(fc.boolean()), price),
  },
  {
    weight: 3,
    arbitrary: fc.record(
      {
        tierIndex: tierIndexArb,
        startTokens: mostly(fc.nat(100_000)),
        endTokens: mostly(fc.oneof(fc.constant(-1), fc.nat(200_000))),
        inputPricePerMillion: price,
        outputPricePerMillion: price,
        supportCache: mostly(fc.boolean()),
        cacheHitPricePerMillion: price,
      },
      { requiredKeys: ['tierIndex', 'startTokens', 'endTokens', 'inputPricePerMillion', 'outputPricePerMillion'] },
    ),
  },
  { weight: 1, arbitrary: fc.array(mostly(fc.nat(10)), { maxLength: 9 }) },
  { weight: 1, arbitrary: weird },
);

// Hostile names: pieces of every kind, glued together.
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));
const namePiece = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
  { weight: 1, arbitrary: loneSurrogate },
  { weight: 1, arbitrary: fc.constantFrom('\u0000', '\n', '\t', ' ', '\u200B', '\uFEFF', '\u202E', '\u202C') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "'; DROP TABLE model_name_mapping; --",
      '"); DELETE FROM sqlite_master; --',
      "' OR '1'='1",
      '%',
      '_',
      '\\',
      '`',
      '[x]',
      'model_name_mapping',
      'sqlite_master',
      '__proto__',
      'constructor',
    ),
  },
  { weight: 2, arbitrary: fc.constantFrom('🦙', '🔥', '👨‍👩‍👧‍👦', '🇺🇦', 'é', 'é', '深度求索', 'مرحبا بالعالم', 'שלום עולם', 'Ω≈ç√') },
);
const nameArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 12, arbitrary: fc.array(namePiece, { maxLength: 5 }).map((pieces) => pieces.join('')) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 9_990, maxLength: 10_010 }) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('x', '🦙', 'ש', '\u0000'), fc.constantFrom(2_500, 5_000, 10_000)).map(([c, n]) => c.repeat(n)) },
  { weight: 1, arbitrary: fc.oneof(fc.constantFrom(null, undefined, 0, 1, true, [], {}, ['a']), fc.anything({ maxDepth: 0 })) },
);

// ---- the harness --------------------------------------------------------------------------------------

interface Stats {
  cases: number;
  ok: number;
  rejected: Map<string, number>;
}

interface Context {
  monitor: Monitor;
  raw: Db;
  /** The dump after the last call: the "before" of the next one (nothing else writes). */
  last: Map<string, string>;
  stats: Stats;
}

async function context(name: string, setup?: (monitor: Monitor) => Promise<void>): Promise<Context> {
  const path = join(dir, `${name}-${++fileCount}.db`);
  const monitor = await openMonitor(path);
  if (setup) await setup(monitor);
  const raw = new Database(path);
  raw.pragma('busy_timeout = 0');
  return { monitor, raw, last: dumpTables(raw), stats: { cases: 0, ok: 0, rejected: new Map() } };
}

async function finish(ctx: Context, property: string, t0: number, numRuns: number): Promise<void> {
  await ctx.monitor.close();
  ctx.raw.close();
  const codes = [...ctx.stats.rejected].map(([code, n]) => `${code}:${n}`).join(',');
  console.log(
    `fuzz: property=${property} cases=${ctx.stats.cases} ok=${ctx.stats.ok} rejected=${ctx.stats.cases - ctx.stats.ok} codes=${codes || '-'} seconds=${((performance.now() - t0) / 1000).toFixed(1)}`,
  );
  totals.cases += ctx.stats.cases;
  // at least numRuns (more when fast-check shrank a failure), and both outcomes really exercised
  expect(ctx.stats.cases).toBeGreaterThanOrEqual(runs(numRuns));
  expect(ctx.stats.ok, `${property}: too few accepted cases`).toBeGreaterThanOrEqual(Math.floor(runs(numRuns) / 20));
  expect(ctx.stats.cases - ctx.stats.ok, `${property}: too few rejected cases`).toBeGreaterThanOrEqual(Math.floor(runs(numRuns) / 20));
}

const totals = { cases: 0 };

type Expected = 'ok' | 'either' | MonitorErrorCode;

/**
 * Runs one call and checks its outcome against `expected`: on success `check` (the getters) runs and
 * only `mayChange` (table names; '*' for anything) may differ; on failure the code must be `expected`
 * (or INVALID_INPUT for 'either'), the content unchanged and the write lock free.
 */
async function attempt<T>(
  ctx: Context,
  expected: Expected,
  call: () => Promise<T>,
  check: (result: T, before: Map<string, string>, after: Map<string, string>) => Promise<void> | void,
  mayChange: (result: T) => readonly string[],
): Promise<void> {
  ctx.stats.cases++;
  const before = ctx.last;
  let result: T | undefined;
  let error: unknown;
  let failed = false;
  try {
    result = await call();
  } catch (e) {
    failed = true;
    error = e;
  }
  const after = dumpTables(ctx.raw);
  ctx.last = after;
  if (!failed) {
    if (expected !== 'ok' && expected !== 'either') throw new Error(`accepted an input the spec rejects (expected ${expected}); it returned ${String(result)}`);
    ctx.stats.ok++;
    await check(result as T, before, after);
    const allowed = mayChange(result as T);
    if (!allowed.includes('*')) expect(changedTables(before, after).filter((t) => !allowed.includes(t)), 'tables this call must not touch').toEqual([]);
    return;
  }
  if (!isMonitorError(error)) throw new Error(`untyped error: ${String((error as Error)?.stack ?? error)}`);
  ctx.stats.rejected.set(error.code, (ctx.stats.rejected.get(error.code) ?? 0) + 1);
  const code = expected === 'either' ? 'INVALID_INPUT' : expected;
  if (expected === 'ok') throw new Error(`rejected a valid input: ${error.code} ${error.message}`);
  expect(error.code, error.message).toBe(code);
  expect(changedTables(before, after), `a rejected call (${error.code}) changed the database`).toEqual([]);
  // no transaction left open: another connection takes the write lock at once
  ctx.raw.exec('BEGIN IMMEDIATE');
  ctx.raw.exec('ROLLBACK');
}

/** The safe name of `name` if the database holds a mapping row for it (read directly). */
function registered(ctx: Context, name: unknown): string | null {
  if (typeof name !== 'string') return null;
  const row = ctx.raw.prepare('SELECT safe_name FROM model_name_mapping WHERE original_name = ?').pluck().get(name);
  return row === undefined ? null : String(row);
}

function rowCount(ctx: Context, table: string): number {
  return Number(ctx.raw.prepare(`SELECT COUNT(*) FROM ${quote(table)}`).pluck().get());
}

/** Every case reads all of a model's rows and dumps every row: start the model afresh now and then. */
async function keepSmall(ctx: Context, model: string, table: 'requests' | 'runtime' = 'requests'): Promise<void> {
  if (!registered(ctx, model) || rowCount(ctx, `${expectedSafeName(model)}_${table}`) < 150) return;
  await ctx.monitor.deleteModelTables(model);
  await ctx.monitor.registerModel(model);
  ctx.last = dumpTables(ctx.raw);
}

/** The tables a registration of a new model writes. */
const registrationTables = (name: string) => {
  const safe = expectedSafeName(name);
  return [
    'model_name_mapping',
    'sqlite_sequence',
    '#user_version',
    ...['runtime', 'requests', 'tier_pricing', 'hourly_price', 'billing_method'].map((s) => `${safe}_${s}`),
    `#index ${safe}_requests_timestamp`,
  ];
};

const invalidName = fc.constantFrom<unknown>('', '\uD800', 'a\uDFFFb', null, undefined, 42, ['m'], { name: 'm' });

// ---- properties -----------------------------------------------------------------------------------------

describe('fuzz: every public write, arbitrary values', () => {
  afterAll(() => console.log(`fuzz: total cases=${totals.cases}`));

  it('addModelRequest (3-element, 5-element and object forms)', async () => {
    const t0 = performance.now();
    const NUM_RUNS = 3000;
    const ctx = await context('request', (m) => m.registerModel('fuzz-req').then(() => undefined));
    let fresh = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof({ weight: 12, arbitrary: fc.constant<unknown>('fuzz-req') }, { weight: 1, arbitrary: invalidName }, { weight: 1, arbitrary: fc.constant<unknown>(null) }),
        requestArb,
        async (nameChoice, input) => {
          // null: a brand-new valid name, registered by the call (autoRegister)
          const name = nameChoice === null ? `fuzz-auto-${++fresh}` : nameChoice;
          await keepSmall(ctx, 'fuzz-req');
          const verdict = requestOracle(input);
          const expected: Expected = !isName(name) || verdict.verdict === 'invalid' ? 'INVALID_INPUT' : verdict.verdict;
          const safe = registered(ctx, name);
          const countBefore = safe ? rowCount(ctx, `${safe}_requests`) : 0;
          await attempt(
            ctx,
            expected,
            () => ctx.monitor.addModelRequest(name as string, input as never),
            async () => {
              if (verdict.verdict === 'invalid') return;
              const rows = await ctx.monitor.getModelRequests(name as string);
              const previous = safe ? countBefore : 0;
              expect(rows).toHaveLength(previous + 1);
              const { id, ...newest } = rows[0]!;
              expect(newest).toEqual({ timestamp: verdict.row[0], inputTokens: verdict.row[1], outputTokens: verdict.row[2], cacheN: verdict.row[3], promptN: verdict.row[4] });
              expect(rows.every((r) => r.id <= id)).toBe(true);
              if (!safe) {
                // a model the call registered: its tables are the registration's; drop it again to keep the file small
                expect(await ctx.monitor.getModelSafeName(name as string)).toBe(expectedSafeName(name as string));
                await ctx.monitor.deleteModelTables(name as string);
                ctx.last = dumpTables(ctx.raw);
              }
            },
            () => (safe ? [`${safe}_requests`, 'sqlite_sequence'] : registrationTables(name as string)),
          );
        },
      ),
      fcOptions(NUM_RUNS),
    );
    await finish(ctx, 'addModelRequest', t0, NUM_RUNS);
  });

  it('addModelRequests (batches: all rows or none)', async () => {
    const t0 = performance.now();
    const NUM_RUNS = 1500;
    const ctx = await context('requests', (m) => m.registerModel('fuzz-batch').then(() => undefined));
    await fc.assert(
      fc.asyncProperty(
        fc.oneof({ weight: 12, arbitrary: fc.constant<unknown>('fuzz-batch') }, { weight: 1, arbitrary: invalidName }),
        fc.oneof({ weight: 8, arbitrary: fc.array(fc.oneof({ weight: 6, arbitrary: requestArb.filter((r) => requestOracle(r).verdict === 'ok') }, { weight: 1, arbitrary: requestArb }), { maxLength: 6 }) }, { weight: 1, arbitrary: weird }),
        async (name, input) => {
          await keepSmall(ctx, 'fuzz-batch');
          const verdicts = Array.isArray(input) ? input.map(requestOracle) : null;
          let expected: Expected = 'ok';
          if (!isName(name) || verdicts === null || verdicts.some((v) => v.verdict === 'invalid')) expected = 'INVALID_INPUT';
          else if (verdicts.some((v) => v.verdict === 'either')) expected = 'either';
          const safe = registered(ctx, name)!;
          const previous = rowCount(ctx, `${expectedSafeName('fuzz-batch')}_requests`);
          await attempt(
            ctx,
            expected,
            () => ctx.monitor.addModelRequests(name as string, input as never),
            async (written) => {
              const rows = verdicts!.map((v) => (v.verdict === 'invalid' ? null : v.row));
              expect(written).toBe(rows.length);
              const all = await ctx.monitor.getModelRequests('fuzz-batch');
              expect(all).toHaveLength(previous + rows.length);
              const newest = all.slice(0, rows.length).reverse().map((r) => [r.timestamp, r.inputTokens, r.outputTokens, r.cacheN, r.promptN]);
              expect(newest).toEqual(rows);
            },
            (written) => (written === 0 ? [] : [`${safe}_requests`, 'sqlite_sequence']),
          );
        },
      ),
      fcOptions(NUM_RUNS),
    );
    await finish(ctx, 'addModelRequests', t0, NUM_RUNS);
  });

  it('addModelRuntimeStart and updateModelRuntimeEnd', async () => {
    const t0 = performance.now();
    const NUM_RUNS = 2000;
    const ctx = await context('runtime', (m) => m.registerModel('fuzz-idle').then(() => undefined));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('start', 'end'),
        fc.oneof(
          { weight: 8, arbitrary: fc.constantFrom<unknown>('fuzz-run', 'fuzz-run-2') },
          { weight: 1, arbitrary: fc.constant<unknown>('fuzz-idle') }, // registered, never started
          { weight: 1, arbitrary: fc.constant<unknown>('fuzz-never') }, // only ever ended: unknown
          { weight: 1, arbitrary: invalidName },
        ),
        time,
        async (op, nameChoice, t) => {
          // fuzz-idle and fuzz-never are never started: they stay without runs, and unregistered
          const name = op === 'start' && (nameChoice === 'fuzz-never' || nameChoice === 'fuzz-idle') ? 'fuzz-run-2' : nameChoice;
          for (const model of ['fuzz-run', 'fuzz-run-2']) await keepSmall(ctx, model, 'runtime');
          const safe = registered(ctx, name);
          const runsBefore = safe ? Number(ctx.raw.prepare(`SELECT COUNT(*) FROM ${quote(`${safe}_runtime`)}`).pluck().get()) : 0;
          let expected: Expected = 'ok';
          if (!isName(name) || !isTime(t)) expected = 'INVALID_INPUT';
          else if (op === 'end' && !safe) expected = 'UNKNOWN_MODEL';
          if (op === 'start') {
            await attempt(
              ctx,
              expected,
              () => ctx.monitor.addModelRuntimeStart(name as string, t as number),
              async () => {
                const all = await ctx.monitor.getModelRuntime(name as string);
                expect(all).toHaveLength(runsBefore + 1);
                expect(all[0]).toMatchObject({ startTime: norm(t as number), endTime: norm(t as number) });
              },
              () => (safe ? [`${safe}_runtime`, 'sqlite_sequence'] : registrationTables(name as string)),
            );
          } else {
            const latest = runsBefore > 0 ? (await ctx.monitor.getModelRuntime(name as string, 1))[0] : undefined;
            await attempt(
              ctx,
              expected,
              () => ctx.monitor.updateModelRuntimeEnd(name as string, t as number),
              async (ended) => {
                expect(ended).toBe(runsBefore > 0);
                const all = await ctx.monitor.getModelRuntime(name as string);
                expect(all).toHaveLength(runsBefore);
                if (latest) expect(all[0]).toEqual({ ...latest, endTime: norm(t as number) });
              },
              () => (runsBefore > 0 ? [`${safe}_runtime`] : []),
            );
          }
        },
      ),
      fcOptions(NUM_RUNS),
    );
    await finish(ctx, 'modelRuntime', t0, NUM_RUNS);
  });

  it('addProgramRuntimeStart and updateProgramRuntimeEnd', async () => {
    const t0 = performance.now();
    const NUM_RUNS = 1000;
    const ctx = await context('program');
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('start', 'end', 'end'), mostly(validTime, 3), async (op, t) => {
        const runsBefore = Number(ctx.raw.prepare('SELECT COUNT(*) FROM program_runtime').pluck().get());
        const expected: Expected = isTime(t) ? 'ok' : 'INVALID_INPUT';
        if (op === 'start') {
          await attempt(
            ctx,
            expected,
            () => ctx.monitor.addProgramRuntimeStart(t as number),
            async () => {
              const all = await ctx.monitor.getProgramRuntime();
              expect(all).toHaveLength(runsBefore + 1);
              expect(all[0]).toMatchObject({ startTime: norm(t as number), endTime: norm(t as number) });
            },
            () => ['program_runtime', 'sqlite_sequence'],
          );
        } else {
          const latest = (await ctx.monitor.getProgramRuntime(1))[0];
          await attempt(
            ctx,
            expected,
            () => ctx.monitor.updateProgramRuntimeEnd(t as number),
            async (ended) => {
              expect(ended).toBe(runsBefore > 0);
              const all = await ctx.monitor.getProgramRuntime();
              expect(all).toHaveLength(runsBefore);
              if (latest) expect(all[0]).toEqual({ ...latest, endTime: norm(t as number) });
            },
            () => (runsBefore > 0 ? ['program_runtime'] : []),
          );
        }
      }),
      fcOptions(NUM_RUNS),
    );
    await finish(ctx, 'programRuntime', t0, NUM_RUNS);
  });

  it('updateHourlyPrice and updateBillingMethod', async () => {
    const t0 = performance.now();
    const NUM_RUNS = 1500;
    const ctx = await context('billing', (m) => m.registerModel('fuzz-bill').then(() => undefined));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('price', 'method'),
        fc.oneof({ weight: 10, arbitrary: fc.constant<unknown>('fuzz-bill') }, { weight: 1, arbitrary: fc.constant<unknown>('fuzz-unknown') }, { weight: 1, arbitrary: invalidName }),
        fc.oneof({ weight: 3, arbitrary: fc.boolean() as fc.Arbitrary<unknown> }, { weight: 3, arbitrary: price }),
        async (op, name, value) => {
          const valid = op === 'price' ? isPrice(value) : typeof value === 'boolean';
          let expected: Expected = 'ok';
          if (!isName(name) || !valid) expected = 'INVALID_INPUT';
          else if (!registered(ctx, name)) expected = 'UNKNOWN_MODEL';
          const safe = expectedSafeName('fuzz-bill');
          const billingBefore = await ctx.monitor.getModelBilling('fuzz-bill');
          await attempt(
            ctx,
            expected,
            () => (op === 'price' ? ctx.monitor.updateHourlyPrice(name as string, value as number) : ctx.monitor.updateBillingMethod(name as string, value as boolean)),
            async () => {
              const billing = await ctx.monitor.getModelBilling('fuzz-bill');
              expect(billing).toEqual(op === 'price' ? { ...billingBefore, hourlyPrice: norm(value as number) } : { ...billingBefore, useTierPricing: value });
            },
            () => [op === 'price' ? `${safe}_hourly_price` : `${safe}_billing_method`],
          );
        },
      ),
      fcOptions(NUM_RUNS),
    );
    await finish(ctx, 'billing', t0, NUM_RUNS);
  });

  it('addTierPricing, updateTierPricing and deleteTierPricing', async () => {
    const t0 = performance.now();
    const NUM_RUNS = 3000;
    const ctx = await context('tiers', (m) => m.registerModel('fuzz-tier').then(() => undefined));
    const safe = expectedSafeName('fuzz-tier');
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('add', 'add', 'update', 'update', 'delete'),
        fc.oneof({ weight: 12, arbitrary: fc.constant<unknown>('fuzz-tier') }, { weight: 1, arbitrary: fc.constant<unknown>('fuzz-unknown') }, { weight: 1, arbitrary: invalidName }),
        tierArb,
        tierIndexArb,
        async (op, name, input, deleteIndex) => {
          const before = (await ctx.monitor.getModelBilling('fuzz-tier'))!;
          const tiers = new Map(before.tierPricing.map((t) => [t.tierIndex, t]));
          const tier = op === 'delete' ? null : tierOracle(input);
          let expected: Expected = 'ok';
          let after: TierPricing[] = before.tierPricing;
          if (!isName(name) || (op === 'delete' ? !isTokens(deleteIndex) : tier === null)) expected = 'INVALID_INPUT';
          else if (!registered(ctx, name)) expected = 'UNKNOWN_MODEL';
          else if (op === 'add' && tiers.has(tier!.tierIndex)) expected = 'DUPLICATE_TIER';
          else if (op === 'update' && !tiers.has(tier!.tierIndex)) expected = 'TIER_NOT_FOUND';
          else if (op === 'delete') tiers.delete(norm(deleteIndex as number));
          else {
            const previous = tiers.get(tier!.tierIndex);
            tiers.set(tier!.tierIndex, {
              tierIndex: tier!.tierIndex,
              startTokens: tier!.startTokens,
              endTokens: tier!.endTokens,
              inputPricePerMillion: tier!.inputPricePerMillion,
              outputPricePerMillion: tier!.outputPricePerMillion,
              supportCache: tier!.supportCache ?? previous?.supportCache ?? false,
              cacheHitPricePerMillion: tier!.cacheHitPricePerMillion ?? previous?.cacheHitPricePerMillion ?? 0,
            });
          }
          if (expected === 'ok') after = [...tiers.values()].sort((a, b) => a.tierIndex - b.tierIndex);
          const existed = op === 'delete' && before.tierPricing.some((t) => t.tierIndex === norm(deleteIndex as number));
          await attempt<unknown>(
            ctx,
            expected,
            () =>
              op === 'add'
                ? ctx.monitor.addTierPricing(name as string, input as never)
                : op === 'update'
                  ? ctx.monitor.updateTierPricing(name as string, input as never)
                  : ctx.monitor.deleteTierPricing(name as string, deleteIndex as number),
            async (result) => {
              if (op === 'delete') expect(result).toBe(existed);
              expect(await ctx.monitor.getModelBilling('fuzz-tier')).toEqual({ ...before, tierPricing: after });
            },
            () => [`${safe}_tier_pricing`],
          );
        },
      ),
      fcOptions(NUM_RUNS),
    );
    await finish(ctx, 'tiers', t0, NUM_RUNS);
  });

  it('model names of every kind: registered and returned exactly, or refused with INVALID_INPUT (registerModel, auto-registration, deleteModelTables)', async () => {
    const t0 = performance.now();
    const NUM_RUNS = 1500;
    const ctx = await context('names');
    const kinds = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(nameArb, fc.constantFrom('registerModel', 'addModelRequest', 'addModelRuntimeStart'), async (name, how) => {
        const kind =
          typeof name !== 'string'
            ? 'not-a-string'
            : name.length === 0
              ? 'empty'
              : LONE_SURROGATE.test(name)
                ? 'lone-surrogate'
                : name.includes('\u0000')
                  ? 'nul'
                  : name.length >= 2_500
                    ? 'long'
                    : 'valid';
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
        const expected: Expected = isNewName(name) ? 'ok' : 'INVALID_INPUT';
        const before = ctx.last;
        await attempt<unknown>(
          ctx,
          expected,
          () =>
            how === 'registerModel'
              ? ctx.monitor.registerModel(name as string)
              : how === 'addModelRequest'
                ? ctx.monitor.addModelRequest(name as string, [1_700_000_000.5, 7, 8])
                : ctx.monitor.addModelRuntimeStart(name as string, 1_700_000_000.25),
          async (result) => {
            const n = name as string;
            const safe = expectedSafeName(n);
            if (how === 'registerModel') expect(result).toEqual({ name: n, safeName: safe, shape: 'S3', writable: true });
            expect(await ctx.monitor.getModelSafeName(n)).toBe(safe);
            const listed = (await ctx.monitor.listModels()).filter((m) => m.name === n);
            expect(listed).toEqual([{ name: n, safeName: safe, shape: 'S3', writable: true }]);
            // byte-exact in the file: the stored TEXT is the name's UTF-8
            const stored = ctx.raw.prepare('SELECT original_name, hex(original_name) AS hex FROM model_name_mapping WHERE safe_name = ?').get(safe) as { original_name: string; hex: string };
            expect(stored.original_name === n).toBe(true);
            expect(stored.hex).toBe(Buffer.from(n, 'utf8').toString('hex').toUpperCase());
            if (how === 'addModelRequest') expect((await ctx.monitor.getModelRequests(n)).map((r) => r.inputTokens)).toEqual([7]);
            // and it deletes without a trace (but the mapping id's sequence)
            await ctx.monitor.deleteModelTables(n);
            expect(await ctx.monitor.getModelSafeName(n)).toBeNull();
            expect((await ctx.monitor.listModels()).some((m) => m.name === n)).toBe(false);
            ctx.last = dumpTables(ctx.raw);
            expect(changedTables(before, ctx.last).filter((t) => t !== 'sqlite_sequence' && t !== '#user_version')).toEqual([]);
          },
          () => ['*'],
        );
        // a refused name is not registered, and looking it up is refused or null, never a crash
        if (expected !== 'ok') {
          if (typeof name === 'string' && !LONE_SURROGATE.test(name)) expect(await ctx.monitor.getModelSafeName(name)).toBeNull();
          else await expect(ctx.monitor.getModelSafeName(name as string)).rejects.toMatchObject({ name: 'MonitorError', code: 'INVALID_INPUT' });
        }
      }),
      fcOptions(NUM_RUNS),
    );
    console.log(`fuzz: name kinds ${[...kinds].map(([k, n]) => `${k}=${n}`).join(' ')}`);
    for (const kind of ['empty', 'lone-surrogate', 'nul', 'long', 'valid', 'not-a-string']) expect(kinds.get(kind) ?? 0, `no ${kind} names generated`).toBeGreaterThan(0);
    await finish(ctx, 'modelNames', t0, NUM_RUNS);
  });

  it('hostile model names, one of each kind: stored and returned exactly, or refused with INVALID_INPUT', async () => {
    const ctx = await context('named');
    const accepted: [string, string][] = [
      ['10,000 ASCII characters', 'x'.repeat(10_000)],
      ['10,000 UTF-16 units of emoji', '🦙'.repeat(5_000)],
      ['emoji with ZWJ and flags', '👨‍👩‍👧‍👦 🇺🇦 🔥'],
      ['right-to-left Arabic', 'نموذج اللغة الكبير'],
      ['right-to-left Hebrew with an override mark', '\u202Eמודל\u202C-7b'],
      ['CJK', '深度求索-DeepSeek-V3-本地部署'],
      ['SQL fragment', "x'); DROP TABLE model_name_mapping; --"],
      ['double quotes and brackets', 'O\'Neil "embed" [v2]; DELETE FROM t; --'],
      ['LIKE wildcards', '%_%'],
      ['a table name of its own', 'model_name_mapping'],
      ['whitespace only', ' \t\n'],
      ['precomposed é', 'caf\u00e9'],
      ['decomposed é (another model)', 'cafe\u0301'],
      ['a surrogate pair (valid)', '\uD83E\uDD99'],
      ['BOM and zero-width space', '\uFEFF\u200Bm'],
      ['__proto__', '__proto__'],
    ];
    const refused: [string, unknown][] = [
      ['empty', ''],
      ['lone high surrogate', 'model-\uD800'],
      ['lone low surrogate', '\uDC00model'],
      ['reversed pair', '\uDC00\uD800'],
      ['NUL', 'a\u0000b'],
      ['NUL only', '\u0000'],
      ['a number', 42],
      ['null', null],
      ['an array', ['m']],
    ];
    for (const [kind, name] of accepted) {
      const info = await ctx.monitor.registerModel(name);
      expect(info, kind).toEqual({ name, safeName: expectedSafeName(name), shape: 'S3', writable: true });
      await ctx.monitor.addModelRequest(name, [1_700_000_000, name.length, 1]);
    }
    const listed = await ctx.monitor.listModels();
    expect(listed.map((m) => m.name)).toEqual(accepted.map(([, name]) => name));
    for (const [kind, name] of accepted) {
      expect(await ctx.monitor.getModelSafeName(name), kind).toBe(expectedSafeName(name));
      expect((await ctx.monitor.getModelRequests(name)).map((r) => r.inputTokens), kind).toEqual([name.length]);
      const stored = ctx.raw.prepare('SELECT original_name FROM model_name_mapping WHERE safe_name = ?').pluck().get(expectedSafeName(name));
      expect(stored === name, `${kind}: stored exactly`).toBe(true);
    }
    ctx.last = dumpTables(ctx.raw);
    for (const [kind, name] of refused) {
      for (const call of [
        (): Promise<unknown> => ctx.monitor.registerModel(name as string),
        () => ctx.monitor.addModelRequest(name as string, [1_700_000_000, 1, 1]),
        () => ctx.monitor.addModelRuntimeStart(name as string, 1_700_000_000),
      ])
        await attempt<unknown>(ctx, 'INVALID_INPUT', call, () => undefined, () => []);
      expect((await ctx.monitor.listModels()).length, kind).toBe(accepted.length);
    }
    for (const [, name] of accepted) await ctx.monitor.deleteModelTables(name);
    expect(await ctx.monitor.listModels()).toEqual([]);
    await ctx.monitor.close();
    ctx.raw.close();
    totals.cases += accepted.length + ctx.stats.cases;
    console.log(`fuzz: property=hostileNames cases=${accepted.length + ctx.stats.cases} accepted=${accepted.length} refused=${ctx.stats.cases}`);
    expect(ctx.stats.rejected.get('INVALID_INPUT')).toBe(refused.length * 3);
  });

  it('deleteModelTables', async () => {
    const t0 = performance.now();
    const NUM_RUNS = 800;
    const ctx = await context('delete');
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          { weight: 6, arbitrary: fc.constantFrom<unknown>('fuzz-del', '🦙 del', "del'; DROP TABLE x; --", 'מודל', 'd'.repeat(10_000)) },
          { weight: 1, arbitrary: invalidName },
          { weight: 1, arbitrary: fc.constant<unknown>('del\u0000nul') },
        ),
        fc.boolean(),
        async (name, registerFirst) => {
          if (registerFirst && isNewName(name)) {
            await ctx.monitor.registerModel(name);
            await ctx.monitor.addModelRequest(name, [1_700_000_000, 1, 2]);
            ctx.last = dumpTables(ctx.raw);
          }
          const safe = registered(ctx, name);
          const expected: Expected = !isName(name) ? 'INVALID_INPUT' : safe ? 'ok' : 'UNKNOWN_MODEL';
          await attempt(
            ctx,
            expected,
            () => ctx.monitor.deleteModelTables(name as string),
            async () => {
              expect(await ctx.monitor.getModelSafeName(name as string)).toBeNull();
              expect(await ctx.monitor.listModels()).toEqual([]);
              await expect(ctx.monitor.getModelRequests(name as string)).rejects.toMatchObject({ code: 'UNKNOWN_MODEL' });
              const left = (ctx.raw.prepare('SELECT name FROM sqlite_master').pluck().all() as string[]).filter((t) => /^model_[0-9a-f]{16}_/.test(t));
              expect(left).toEqual([]);
            },
            () => [...registrationTables(name as string)],
          );
        },
      ),
      fcOptions(NUM_RUNS),
    );
    await finish(ctx, 'deleteModelTables', t0, NUM_RUNS);
  });
});
