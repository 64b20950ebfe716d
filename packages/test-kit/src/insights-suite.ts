import {
  type ComparedFigure,
  Executor,
  type Figure,
  Monitor,
  type MonitorOptions,
  WEEK_CELLS,
  getSafeModelName,
  insightReport,
  insightScan,
  insightsOf,
  summarize,
} from '@llm-monitor/core';
import { cloudInputBounds, cloudModel, compareWithCloud } from '@llm-monitor/core/cloud';
import { expect, it } from 'vitest';
import { closeTo } from './fixtures.js';
import type { DriverHarness } from './harness.js';

const at = (iso: string) => Date.parse(iso) / 1000;
const close = (actual: number | null | undefined, expected: number) => {
  expect(actual).not.toBeNull();
  expect(Math.abs(actual! - expected), `${actual} ≈ ${expected}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)));
};
const value = (figure: Figure, expected: number) => close(figure.value, expected);
const absent = (figure: Figure, reason: string) => {
  expect(figure.value).toBeNull();
  expect(figure.reason).toContain(reason);
};
/** Cell index of the hour-of-week matrix: Monday = 0. */
const cell = (weekday: number, hour: number) => weekday * 24 + hour;
/** The non-zero cells of a matrix, as { index: value }. */
const nonZero = (values: (number | null)[]) => Object.fromEntries(values.flatMap((v, i) => (v === 0 ? [] : [[i, v]])));

/**
 * Insights (billing advisor, idle money and the hour-of-week matrix, cache savings, tiers at work, the
 * previous period, the projection) on small files of the original's layouts, every figure computed by
 * hand. Called from the analytics suite, so every driver runs it. The files are written with plain SQL
 * that SQLite and PostgreSQL both take, and opened read-only (a writable open would upgrade S1).
 */
export function insightsTests(harness: DriverHarness, track: (monitor: Monitor) => Monitor, fresh: (options?: MonitorOptions) => Promise<Monitor>): void {
  async function fileWith(statements: readonly string[]): Promise<Monitor> {
    const driver = await harness.create();
    await new Executor(driver).write(async (s) => {
      for (const sql of statements) await s.run(sql);
    });
    return track(await Monitor.open(driver, { readOnly: true }));
  }

  // ---- S1: the seed's per-model tables (no cache columns), billed by tier, a DST week in Europe/Berlin ----
  const S1 = 's1-tiered';
  const safe = getSafeModelName(S1);
  const NOW = at('2024-03-31T21:52:30Z'); // Sunday 23:52:30 CEST, off the 15-minute grid
  const WEEK_AGO = NOW - 7 * 86_400; // Sunday 2024-03-24 22:52:30 CET
  const s1File = () =>
    fileWith([
      'CREATE TABLE model_name_mapping (id INTEGER PRIMARY KEY, original_name TEXT UNIQUE NOT NULL, safe_name TEXT UNIQUE NOT NULL, created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP)',
      `CREATE TABLE ${safe}_runtime (id INTEGER PRIMARY KEY, start_time DOUBLE PRECISION NOT NULL, end_time DOUBLE PRECISION NOT NULL)`,
      `CREATE TABLE ${safe}_requests (id INTEGER PRIMARY KEY, timestamp DOUBLE PRECISION NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL)`,
      `CREATE TABLE ${safe}_tier_pricing (tier_index INTEGER PRIMARY KEY, start_tokens INTEGER NOT NULL, end_tokens INTEGER NOT NULL, input_price_per_million DOUBLE PRECISION NOT NULL, output_price_per_million DOUBLE PRECISION NOT NULL)`,
      `CREATE TABLE ${safe}_hourly_price (id INTEGER PRIMARY KEY, hourly_price DOUBLE PRECISION NOT NULL DEFAULT 0)`,
      `CREATE TABLE ${safe}_billing_method (id INTEGER PRIMARY KEY, use_tier_pricing BOOLEAN NOT NULL DEFAULT TRUE)`,
      `INSERT INTO model_name_mapping (id, original_name, safe_name) VALUES (1, '${S1}', '${safe}')`,
      // tiers [0, 1000] and [2001, 5000]: 1001–2000 and above 5000 are uncovered (two gaps)
      `INSERT INTO ${safe}_tier_pricing VALUES (1, 0, 1000, 2, 4), (2, 2001, 5000, 1, 2)`,
      `INSERT INTO ${safe}_hourly_price VALUES (1, 3.6)`,
      `INSERT INTO ${safe}_billing_method VALUES (1, TRUE)`,
      // Saturday 23:00 CET to Sunday 04:00 CEST: four real hours across the change to summer time
      `INSERT INTO ${safe}_runtime VALUES (1, ${at('2024-03-30T22:00:00Z')}, ${at('2024-03-31T02:00:00Z')})`,
      `INSERT INTO ${safe}_requests VALUES
        (1, ${at('2024-03-20T12:00:00Z')}, 200, 10),
        (2, ${WEEK_AGO - 100}, 300, 0),
        (3, ${WEEK_AGO + 100}, 400, 0),
        (4, ${at('2024-03-25T08:00:00Z')}, 100, 20),
        (5, ${at('2024-03-30T22:10:00Z')}, 500, 100),
        (6, ${at('2024-03-30T22:12:00Z')}, 1500, 10),
        (7, ${at('2024-03-31T01:20:00Z')}, 3000, 50),
        (8, ${at('2024-03-31T01:25:00Z')}, 6000, 60),
        (9, ${NOW + 100}, 999, 999)`,
    ]);

  it('S1, tier billing, no cache columns: every insight of a DST week in Europe/Berlin by hand, and the week before it', async () => {
    const m = await s1File();
    const scan = insightScan({ from: WEEK_AGO, to: NOW, now: NOW, timeZone: 'Europe/Berlin' });
    // one scan: from the start of March in Berlin (the projection's month) to now, split 14 and 7 days ago
    expect(scan).toEqual({ from: at('2024-02-29T23:00:00Z'), to: NOW, splits: [NOW - 14 * 86_400, WEEK_AGO] });
    const aggregation = await m.aggregate(scan);
    const report = insightReport(aggregation, { from: WEEK_AGO, to: NOW, now: NOW, timeZone: 'Europe/Berlin' });
    expect(report.previous).toEqual({ from: NOW - 14 * 86_400, to: WEEK_AGO });
    const [s1] = report.insights.models;
    expect(s1!.shape).toBe('S1');
    // requests 3 (WEEK_AGO + 100) .. 8: the one 100 s before the split is last week's, the one after now is not scanned
    value(s1!.usage.requests, 6);
    value(s1!.usage.inputTokens, 400 + 100 + 500 + 1500 + 3000 + 6000);
    value(s1!.usage.unpricedRequests, 2);
    // tier 1: (400·2) + (100·2 + 20·4) + (500·2 + 100·4) = 2480; tier 2: 3000·1 + 50·2 = 3100 (per million)
    const tierCost = (2480 + 3100) / 1e6;
    const b = s1!.billing;
    value(b.actualCost, tierCost);
    expect(b.actualCost.reason).toBe('leaves out 2 requests no tier prices');
    value(b.tierCost, tierCost);
    value(b.hourlyCost, 4 * 3.6);
    value(b.breakEvenHourlyPrice, tierCost / 4);
    const millionTokens = (11_500 + 240) / 1e6;
    value(b.breakEvenPricePerMillion, 14.4 / millionTokens);
    value(b.effectiveCostPerMillion, tierCost / millionTokens);
    value(b.switchSaving, tierCost - 14.4);
    expect(b.cheaperMethod).toBe('tier');
    // last week: requests 1 (200·2 + 10·4) and 2 (300·2)
    const previous = (200 * 2 + 10 * 4 + 300 * 2) / 1e6;
    close((b.actualCost as ComparedFigure).previous, previous);
    close((b.actualCost as ComparedFigure).delta, tierCost - previous);
    close((b.actualCost as ComparedFigure).change, (tierCost - previous) / previous);
    // last week had requests but no runtime: its hourly cost is not known, not 0
    expect(b.hourlyCost as ComparedFigure).toMatchObject({ previous: null, delta: null });
    expect((b.hourlyCost as ComparedFigure).previousReason).toContain('no runtime recorded');
    // idle: 16 slots of runtime, 2 with requests (22:00–22:15 and 01:15–01:30 UTC)
    value(s1!.idle.runtimeHours, 4);
    value(s1!.idle.idleHours, 3.5);
    value(s1!.idle.idleShare, 0.875);
    value(s1!.idle.idleCost, 3.5 * 3.6);
    expect(s1!.idle.idleCost.reason).toBe('at the hourly price; the model is billed per token');
    // S1 records no cache tokens: unknown, not 0
    absent(s1!.cache.hitRate, 'no cache columns (S1)');
    absent(s1!.cache.saving, 'no cache columns (S1)');
    // tiers at work: the tiers and both gaps, by input size
    expect(s1!.tiers.map((t) => [t.tierIndex, t.inputFrom, t.inputTo, t.requests.value, t.minInput, t.maxInput])).toEqual([
      [1, 0, 1000, 3, 100, 500],
      [null, 1001, 2000, 1, 1500, 1500],
      [2, 2001, 5000, 1, 3000, 3000],
      [null, 5001, null, 1, 6000, 6000],
    ]);
    value(s1!.tiers[0]!.cost, 2480 / 1e6);
    value(s1!.tiers[0]!.costShare, 2480 / 5580);
    value(s1!.tiers[2]!.costShare, 3100 / 5580);
    absent(s1!.tiers[3]!.cost, 'the requests are unpriced');
    value(s1!.tiers[3]!.inputTokens, 6000);
    // the hour of the week in Berlin: Sunday 02:00 does not exist that night, Sunday 03:00 CEST does
    const h = s1!.hourOfWeek;
    expect(nonZero(h.runtimeHours.values)).toEqual({ [cell(5, 23)]: 1, [cell(6, 0)]: 1, [cell(6, 1)]: 1, [cell(6, 3)]: 1 });
    expect(nonZero(h.idleHours.values)).toEqual({ [cell(5, 23)]: 0.75, [cell(6, 0)]: 1, [cell(6, 1)]: 1, [cell(6, 3)]: 0.75 });
    expect(nonZero(h.requests.values)).toEqual({ [cell(6, 22)]: 1, [cell(0, 9)]: 1, [cell(5, 23)]: 2, [cell(6, 3)]: 2 });
    close(h.cost.values[cell(5, 23)], 1400 / 1e6);
    close(h.cost.values[cell(6, 3)], 3100 / 1e6);
    expect(h.cost.values).toHaveLength(WEEK_CELLS);
    // everything in the cells adds up to the summary of the same window
    const summary = summarize(aggregation, { from: WEEK_AGO, to: NOW });
    close(h.cost.values.reduce<number>((a, v) => a + v!, 0), summary.total.cost);
    close(h.idleHours.values.reduce<number>((a, v) => a + v!, 0) * 3600, summary.total.idleSeconds);
    // projection: March in Berlin ends 450 s after now; the rate is this week's cost per day
    const p = report.projection;
    expect(p).toMatchObject({ label: 'estimate', monthStart: at('2024-02-29T23:00:00Z'), monthEnd: at('2024-03-31T22:00:00Z'), basis: { from: WEEK_AGO, to: NOW, days: 7 } });
    value(p.total.monthToDate, tierCost + previous);
    value(p.total.ratePerDay, tierCost / 7);
    value(p.total.restOfMonth, (tierCost / 7) * (450 / 86_400));
    value(p.total.monthTotal, tierCost + previous + (tierCost / 7) * (450 / 86_400));
  });

  it('S1: an unbounded window has no previous period, and unscanned ones are said so, never zero', async () => {
    const m = await s1File();
    const all = await m.aggregate(insightScan({ now: NOW, timeZone: 'Europe/Berlin' }));
    const report = insightReport(all, { now: NOW, timeZone: 'Europe/Berlin' });
    expect(report.previous).toBeNull();
    expect(report.previousReason).toContain('unbounded');
    expect(report.insights.total.billing.actualCost).toMatchObject({ previous: null, delta: null });
    // a scan of the week alone cannot show the week before it nor the month
    const week = await m.aggregate({ from: WEEK_AGO, to: NOW });
    const narrow = insightReport(week, { from: WEEK_AGO, to: NOW, now: NOW, timeZone: 'Europe/Berlin' });
    expect(narrow.previous).toBeNull();
    expect(narrow.previousReason).toContain('does not cover the period before');
    absent(narrow.projection.total.monthTotal, 'does not cover this month');
  });

  // ---- S6: normalized tables, billed by the hour, cache columns, a +05:45 zone ----
  const s6File = () =>
    fileWith([
      'CREATE TABLE models (id INTEGER PRIMARY KEY, original_name TEXT UNIQUE NOT NULL, created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP)',
      'CREATE TABLE model_requests (id INTEGER PRIMARY KEY, model_id INTEGER NOT NULL, start_time DOUBLE PRECISION NOT NULL, end_time DOUBLE PRECISION NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cache_n INTEGER NOT NULL, prompt_n INTEGER NOT NULL)',
      'CREATE TABLE model_runtime (id INTEGER PRIMARY KEY, model_id INTEGER NOT NULL, start_time DOUBLE PRECISION NOT NULL, end_time DOUBLE PRECISION NOT NULL)',
      'CREATE TABLE billing_methods (id INTEGER PRIMARY KEY, model_id INTEGER NOT NULL UNIQUE, use_tier_pricing BOOLEAN NOT NULL DEFAULT TRUE)',
      'CREATE TABLE hourly_pricing (id INTEGER PRIMARY KEY, model_id INTEGER NOT NULL UNIQUE, hourly_price DOUBLE PRECISION NOT NULL DEFAULT 0)',
      'CREATE TABLE tier_pricing (id INTEGER PRIMARY KEY, model_id INTEGER NOT NULL, tier_index INTEGER NOT NULL, min_input_tokens INTEGER NOT NULL, max_input_tokens INTEGER NOT NULL, min_output_tokens INTEGER NOT NULL, max_output_tokens INTEGER NOT NULL, input_price DOUBLE PRECISION NOT NULL, output_price DOUBLE PRECISION NOT NULL, support_cache BOOLEAN NOT NULL DEFAULT FALSE, cache_write_price DOUBLE PRECISION NOT NULL DEFAULT 0.0, cache_read_price DOUBLE PRECISION NOT NULL DEFAULT 0.0)',
      "INSERT INTO models (id, original_name) VALUES (1, 's6-gpu')",
      'INSERT INTO billing_methods VALUES (1, 1, FALSE)',
      'INSERT INTO hourly_pricing VALUES (1, 1, 6.0)',
      // one window: input [0, 8000], any output; cache read 0.25, write 0.5, input 2, output 8
      'INSERT INTO tier_pricing VALUES (1, 1, 1, 0, 8000, 0, -1, 2.0, 8.0, TRUE, 0.5, 0.25)',
      // Monday 09:00 to 11:30 in Kathmandu (+05:45)
      `INSERT INTO model_runtime VALUES (1, 1, ${at('2024-06-03T03:15:00Z')}, ${at('2024-06-03T05:45:00Z')})`,
      `INSERT INTO model_requests VALUES
        (1, 1, ${at('2024-06-03T03:19:00Z')}, ${at('2024-06-03T03:20:00Z')}, 1000, 100, 600, 400),
        (2, 1, ${at('2024-06-03T04:39:00Z')}, ${at('2024-06-03T04:40:00Z')}, 3000, 200, 0, 3000),
        (3, 1, ${at('2024-06-03T05:29:00Z')}, ${at('2024-06-03T05:30:00Z')}, 20000, 50, 15000, 5000)`,
    ]);

  it('S6, hourly billing with cache: the advisor, idle money and the matrix in a +05:45 zone by hand', async () => {
    const m = await s6File();
    const day = { from: at('2024-06-03T00:00:00Z'), to: at('2024-06-04T00:00:00Z') };
    const insights = insightsOf(await m.aggregate(day), { timeZone: 'Asia/Kathmandu' });
    const [gpu] = insights.models;
    expect(gpu).toMatchObject({ shape: 'S6', billingMethod: 'hourly' });
    const b = gpu!.billing;
    value(b.actualCost, 2.5 * 6);
    value(b.hourlyCost, 15);
    // per token with the window: 600·0.25 + 400·(2 + 0.5) + 100·8 = 1950; 3000·2.5 + 200·8 = 9100; 20 000 input matches no window
    const tierCost = (1950 + 9100) / 1e6;
    value(b.tierCost, tierCost);
    expect(b.tierCost.reason).toBe('leaves out 1 requests no tier prices');
    value(b.breakEvenHourlyPrice, tierCost / 2.5);
    value(b.breakEvenPricePerMillion, 15 / ((24_000 + 350) / 1e6));
    value(b.effectiveCostPerMillion, 15 / ((24_000 + 350) / 1e6));
    value(b.switchSaving, 15 - tierCost);
    expect(b.cheaperMethod).toBe('tier');
    // ten slots of runtime, three with a request
    value(gpu!.idle.idleHours, 1.75);
    value(gpu!.idle.idleCost, 1.75 * 6);
    value(gpu!.idle.idleShare, 0.7);
    // cache: hits Σ min(cache_n, input) = 600 + 0 + 15 000; no money saved by the hour
    value(gpu!.cache.cacheHitTokens, 15_600);
    value(gpu!.cache.hitRate, 15_600 / 24_000);
    absent(gpu!.cache.saving, 'billed by the hour');
    expect(gpu!.tiers.map((t) => [t.tierIndex, t.requests.value, t.inputTo, t.outputTo])).toEqual([
      [1, 2, 8000, null],
      [null, 1, null, null],
    ]);
    absent(gpu!.tiers[0]!.cost, 'billed by the hour');
    // Kathmandu hours start at :15 UTC: 09:00–10:00 is 03:15–04:15 UTC
    const h = gpu!.hourOfWeek;
    expect(nonZero(h.runtimeHours.values)).toEqual({ [cell(0, 9)]: 1, [cell(0, 10)]: 1, [cell(0, 11)]: 0.5 });
    expect(nonZero(h.idleHours.values)).toEqual({ [cell(0, 9)]: 0.75, [cell(0, 10)]: 0.75, [cell(0, 11)]: 0.25 });
    expect(nonZero(h.requests.values)).toEqual({ [cell(0, 9)]: 1, [cell(0, 10)]: 1, [cell(0, 11)]: 1 });
    expect(nonZero(h.cost.values)).toEqual({ [cell(0, 9)]: 6, [cell(0, 10)]: 6, [cell(0, 11)]: 3 });
    // a what-if applies to all of it: per token at the stored window, the cache saving is now money
    const whatIf = insightsOf(await m.aggregate(day), { timeZone: 'Asia/Kathmandu', pricing: { 's6-gpu': { useTierPricing: true } } });
    value(whatIf.models[0]!.billing.actualCost, tierCost);
    // without cache prices: 1000·2 + 100·8 = 2800 and 3000·2 + 200·8 = 7600
    value(whatIf.models[0]!.cache.saving, (2800 + 7600 - 1950 - 9100) / 1e6);
    value(whatIf.models[0]!.idle.idleCost, 1.75 * 6);
    expect(whatIf.models[0]!.idle.idleCost.reason).toContain('billed per token');
  });

  // ---- S7: model_defs pricing, 2-D windows, cache on and off, no closed runs ----
  it('S7, tier billing by 2-D windows, cache on and off: cache savings per tier (a write price can cost more) by hand', async () => {
    const m = await fileWith([
      'CREATE TABLE models (id INTEGER PRIMARY KEY, original_name TEXT UNIQUE NOT NULL, created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP)',
      "CREATE TABLE model_requests (id INTEGER PRIMARY KEY, model_id INTEGER NOT NULL, start_time DOUBLE PRECISION NOT NULL, end_time DOUBLE PRECISION NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cache_n INTEGER NOT NULL, prompt_n INTEGER NOT NULL, source TEXT NOT NULL DEFAULT 'local')",
      'CREATE TABLE model_runtime (id INTEGER PRIMARY KEY, model_id INTEGER NOT NULL, start_time DOUBLE PRECISION NOT NULL, end_time DOUBLE PRECISION)',
      "CREATE TABLE model_defs (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, mode TEXT NOT NULL, port INTEGER NOT NULL, auto_start INTEGER NOT NULL DEFAULT 0, pricing_type TEXT NOT NULL DEFAULT 'tier', hourly_price DOUBLE PRECISION NOT NULL DEFAULT 0, support_cache INTEGER NOT NULL DEFAULT 0, ord INTEGER NOT NULL DEFAULT 0, updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP)",
      'CREATE TABLE pricing_tiers (pricing_id INTEGER NOT NULL, tier_index INTEGER NOT NULL, min_input INTEGER, max_input INTEGER, min_output INTEGER, max_output INTEGER, input_price DOUBLE PRECISION, output_price DOUBLE PRECISION, cache_write_price DOUBLE PRECISION, cache_read_price DOUBLE PRECISION, PRIMARY KEY (pricing_id, tier_index))',
      "INSERT INTO models (id, original_name) VALUES (1, 'v3-cache'), (2, 'v3-plain')",
      "INSERT INTO model_defs (id, name, mode, port, pricing_type, hourly_price, support_cache) VALUES (1, 'v3-cache', 'Chat', 8080, 'tier', 0, 1), (2, 'v3-plain', 'Chat', 8081, 'tier', 0, 0)",
      // input [0, 4000]: in 1, out 2, write 0.2, read 0.1; input above 4000: in 0.5, out 1, write 0.1, read 0.05
      'INSERT INTO pricing_tiers VALUES (1, 1, 0, 4000, 0, -1, 1, 2, 0.2, 0.1), (1, 2, 4000, -1, 0, -1, 0.5, 1, 0.1, 0.05), (2, 1, 0, 4000, 0, -1, 1, 2, 0.2, 0.1), (2, 2, 4000, -1, 0, -1, 0.5, 1, 0.1, 0.05)',
      // an open run (NULL end): started, never ended nor heart-beaten
      `INSERT INTO model_runtime VALUES (1, 1, ${at('2024-06-04T07:30:00Z')}, NULL)`,
      `INSERT INTO model_requests (id, model_id, start_time, end_time, input_tokens, output_tokens, cache_n, prompt_n) VALUES
        (1, 1, ${at('2024-06-04T07:59:00Z')}, ${at('2024-06-04T08:00:00Z')}, 1000, 100, 800, 200),
        (2, 1, ${at('2024-06-04T08:04:00Z')}, ${at('2024-06-04T08:05:00Z')}, 10000, 0, 0, 10000),
        (3, 2, ${at('2024-06-04T07:59:00Z')}, ${at('2024-06-04T08:00:00Z')}, 1000, 100, 800, 200),
        (4, 2, ${at('2024-06-04T08:04:00Z')}, ${at('2024-06-04T08:05:00Z')}, 10000, 0, 0, 10000)`,
    ]);
    const insights = insightsOf(await m.aggregate({ from: at('2024-06-03T22:00:00Z'), to: at('2024-06-04T22:00:00Z') }), { timeZone: 'Europe/Berlin' });
    const [cached, plain] = insights.models;
    expect([cached!.shape, plain!.shape]).toEqual(['S7', 'S7']);
    // with cache: 800·0.1 + 200·(1 + 0.2) + 100·2 = 520; 0 + 10 000·(0.5 + 0.1) = 6000. Without: 1200 and 5000
    value(cached!.billing.actualCost, 6520 / 1e6);
    value(plain!.billing.actualCost, 6200 / 1e6);
    value(cached!.tiers[0]!.cacheSaving, (1200 - 520) / 1e6);
    value(cached!.tiers[1]!.cacheSaving, (5000 - 6000) / 1e6); // cache writes cost more than no cache prices
    value(cached!.cache.saving, (6200 - 6520) / 1e6);
    value(cached!.tiers[0]!.hitRate, 0.8);
    value(cached!.cache.hitRate, 800 / 11_000);
    value(plain!.cache.saving, 0);
    expect(plain!.cache.saving.reason).toBe('no tier has a cache price: cache hits are billed as input');
    // the windows as rows: (0, 4000] inclusive of 0, (4000, ∞); then what no window covers
    expect(cached!.tiers.map((t) => [t.tierIndex, t.inputFrom, t.inputTo, t.requests.value])).toEqual([
      [1, 0, 4000, 1],
      [2, 4001, null, 1],
      [null, 0, null, 0],
    ]);
    // requests but no runtime (the run never ended): hourly figures are not known, not 0
    absent(cached!.billing.hourlyCost, 'no hourly price set');
    absent(cached!.billing.breakEvenHourlyPrice, 'no runtime recorded');
    absent(cached!.idle.idleShare, 'no runtime recorded');
    expect(nonZero(insights.total.hourOfWeek.requests.values)).toEqual({ [cell(1, 10)]: 4 });
    value(insights.total.cache.saving, (6200 - 6520) / 1e6);
    expect(insights.total.cache.saving.reason).toBe('v3-plain: no tier has a cache price: cache hits are billed as input');
  });

  it('splits a scan at times off the grid and at input sizes: each group lies on one side, and reports there equal direct summaries', async () => {
    const m = await fresh({ models: ['api'] });
    await m.updateTierPricing('api', { tierIndex: 1, startTokens: 0, endTokens: -1, inputPricePerMillion: 1, outputPricePerMillion: 2, supportCache: true, cacheHitPricePerMillion: 0.25 });
    const t0 = at('2024-06-03T10:00:00Z');
    await m.addModelRequests('api', [
      [t0 + 10, 100, 5, 50, 50],
      [t0 + 20, 200_000, 5, 0, 200_000],
      [t0 + 400, 300, 5, 0, 300],
      [t0 + 500, 250_000, 5, 100_000, 150_000],
    ]);
    const split = t0 + 333.25;
    const aggregation = await m.aggregate({ from: t0, to: t0 + 900, splits: [split], inputBounds: [200_001] });
    expect(aggregation).toMatchObject({ splits: [split], inputBounds: [200_001] });
    // one slot, split in time and at 200 001 input tokens: the two requests before the split, and one
    // group on each side of the bound after it
    expect([...aggregation.models[0]!.groups.requests]).toEqual([2, 1, 1]);
    for (const [from, to] of [[t0, split], [split, t0 + 900]]) expect(closeTo(summarize(aggregation, { from, to }), await m.summary({ from, to }))).toBeNull();
    // a split must lie inside the window; a bound must be a whole number of tokens >= 1
    await expect(m.aggregate({ from: t0, to: t0 + 900, splits: [t0 + 900] })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(m.aggregate({ inputBounds: [0.5] })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(() => summarize(aggregation, { from: t0 + 333 })).toThrow(/nor one of the aggregation's splits/);
    // gemini-2.5-pro charges more above 200 000 input tokens: with its bound every group prices exactly
    const gemini = cloudModel('google:gemini-2.5-pro');
    expect(cloudInputBounds([gemini])).toEqual([200_001]);
    const cloud = compareWithCloud(aggregation, { targets: [gemini] });
    // the catalog's published prices (prices/providers/google.yml): input 1.25 / cache read 0.125 / output 10,
    // above 200 000 input tokens 2.5 / 0.25 / 15, per million, the whole request at its tier
    const expected = ((100 - 50) * 1.25 + 50 * 0.125 + 5 * 10 + 200_000 * 1.25 + 5 * 10 + 300 * 1.25 + 5 * 10 + 150_000 * 2.5 + 100_000 * 0.25 + 5 * 15) / 1e6;
    value(cloud.targets[0]!.total.cloudCost, expected);
    // without the bound the two big requests share a group with small ones and straddle the threshold
    const coarse = compareWithCloud(await m.aggregate({ from: t0, to: t0 + 900 }), { targets: [gemini] });
    expect(coarse.targets[0]!.total.cloudCost.reason).toContain('straddles a price threshold');
  });
}
