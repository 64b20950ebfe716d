import { Monitor, type MonitorOptions, type Series, type Summary, dataSpan, isMonitorError, rescanNeeded, seriesOf, summarize } from '@llm-monitor/core';
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureBytes } from './fixtures.js';
import type { DriverHarness } from './harness.js';
import { insightsTests } from './insights-suite.js';

const T0 = 1_710_000_000; // an exact hour: 2024-03-09T16:00:00Z
const at = (iso: string) => Date.parse(iso) / 1000;
const close = (actual: number, expected: number) => expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)));
const model = (summary: Summary, name: string) => summary.models.find((m) => m.name === name)!;
const seriesCost = (series: Series) => series.buckets.reduce((sum, b) => sum + b.total.cost, 0);

/**
 * Cost and usage analytics (SPEC §4) on one engine, with hand-computed numbers. Every driver runs it.
 */
export function analyticsSuite(harness: DriverHarness): void {
  describe(`analytics: ${harness.name}`, () => {
    const open: Monitor[] = [];
    async function fresh(options: MonitorOptions = {}): Promise<Monitor> {
      const monitor = await Monitor.open(await harness.create(), options);
      open.push(monitor);
      return monitor;
    }
    afterEach(async () => {
      await Promise.all(open.splice(0).map((m) => m.close()));
    });
    const withFiles = harness.fromBytes ? it : it.skip;

    it('prices each request at the lowest tier containing its input tokens: start, end, end+1, unbounded', async () => {
      const m = await fresh({ models: ['tiered'] });
      await m.updateTierPricing('tiered', [1, 0, 1000, 1.0, 2.0]);
      await m.addTierPricing('tiered', [2, 1001, 5000, 0.5, 1.0]);
      await m.addTierPricing('tiered', [3, 5001, -1, 0.25, 0.5]);
      const inputs = [0, 1000, 1001, 5000, 5001, 10_000_000];
      await m.addModelRequests('tiered', inputs.map((input, i) => [T0 + i, input, 100] as const));
      const s = await m.summary();
      // (0·1 + 100·2) + (1000·1 + 200) + (1001·0.5 + 100) + (5000·0.5 + 100) + (5001·0.25 + 50) + (1e7·0.25 + 50), per million
      close(model(s, 'tiered').tierCost, (200 + 1200 + 600.5 + 2600 + 1300.25 + 2_500_050) / 1e6);
      close(s.total.cost, 2.50595075);
      expect(model(s, 'tiered')).toMatchObject({ requests: 6, inputTokens: 10_012_002, outputTokens: 600, unpricedRequests: 0, billingMethod: 'tier' });
    });

    it('lets the lowest index win an overlap and reports a gap as unpriced, never free', async () => {
      const m = await fresh({ models: ['gappy'] });
      await m.updateTierPricing('gappy', [1, 0, 100, 1, 0]);
      await m.addTierPricing('gappy', [2, 50, 200, 10, 0]);
      await m.addTierPricing('gappy', [3, 300, 400, 100, 0]);
      for (const [i, input] of [75, 150, 250, 350].entries()) await m.addModelRequest('gappy', [T0 + i, input, 7]);
      const g = model(await m.summary(), 'gappy');
      close(g.tierCost, (75 * 1 + 150 * 10 + 350 * 100) / 1e6);
      expect(g).toMatchObject({ requests: 4, unpricedRequests: 1, unpricedInputTokens: 250, unpricedOutputTokens: 7 });
      const problems = (await m.describe()).models[0]!.problems;
      expect(problems).toEqual(expect.arrayContaining(['tiers 1 and 2 overlap from 50 input tokens', 'no tier covers 201–299 input tokens', 'no tier covers more than 400 input tokens']));
    });

    it('matches 2-D tier windows as the original: lower bounds exclusive unless 0, upper inclusive, -1 unbounded', async () => {
      const m = await fresh({ models: ['win'] });
      for (const [i, [input, output]] of [[0, 0], [1000, 50], [1001, 50], [1001, 51], [5000, 51], [5001, 51], [20_000, 10]].entries())
        await m.addModelRequest('win', [T0 + i, input!, output!]);
      const window = (tierIndex: number, minIn: number, maxIn: number, minOut: number, maxOut: number, price: number) => ({
        tierIndex, minInputTokens: minIn, maxInputTokens: maxIn, minOutputTokens: minOut, maxOutputTokens: maxOut, inputPrice: price, outputPrice: 0,
      });
      const s = await m.summary({
        pricing: {
          win: {
            tierWindows: [
              window(1, 1000, 5000, 0, 50, 1), // input (1000, 5000], output [0, 50]
              window(2, 0, 1000, 0, -1, 10), // input [0, 1000], any output
              window(3, 1000, -1, 50, 100, 100), // input (1000, ∞), output (50, 100]
            ],
          },
        },
      });
      // 0 → t2; 1000 → t2 (t1 excludes 1000); 1001/50 → t1; 1001/51 → t3; 5000/51 → t3; 5001/51 → t3; 20000/10 → none
      close(model(s, 'win').tierCost, (0 * 10 + 1000 * 10 + 1001 * 1 + 1001 * 100 + 5000 * 100 + 5001 * 100) / 1e6);
      expect(model(s, 'win')).toMatchObject({ unpricedRequests: 1, unpricedInputTokens: 20_000 });
      const cached = await m.summary({
        pricing: { win: { tierWindows: [{ ...window(1, 0, -1, 0, -1, 2), supportCache: true, cacheReadPrice: 0.5, cacheWritePrice: 0.25, outputPrice: 8 }] } },
      });
      // prompt_n and cache_n are 0 for these requests: only output is billed under the cache formula
      close(model(cached, 'win').tierCost, ((50 + 50 + 51 + 51 + 51 + 10) * 8) / 1e6);
    });

    it('bills cache hits at the cache price only when the tier supports it', async () => {
      const m = await fresh({ models: ['cached', 'plain'] });
      await m.updateTierPricing('cached', { tierIndex: 1, startTokens: 0, endTokens: -1, inputPricePerMillion: 1, outputPricePerMillion: 2, supportCache: true, cacheHitPricePerMillion: 0.1 });
      await m.updateTierPricing('plain', [1, 0, -1, 1, 2]);
      for (const name of ['cached', 'plain']) {
        await m.addModelRequest(name, [T0, 1000, 10, 800, 200]);
        await m.addModelRequest(name, [T0 + 1, 100, 0, 500, 0]); // more cache than input: hits = min(500, 100)
      }
      const s = await m.summary();
      close(model(s, 'cached').tierCost, (200 * 1 + 800 * 0.1 + 10 * 2 + 0 + 100 * 0.1) / 1e6);
      close(model(s, 'plain').tierCost, (1000 + 20 + 100) / 1e6);
      expect(model(s, 'cached').cacheHitTokens).toBe(900);
    });

    it('charges hourly models for runtime clipped to the window, counting open runs', async () => {
      const m = await fresh({ models: ['gpu'] });
      await m.updateBillingMethod('gpu', false);
      await m.updateHourlyPrice('gpu', 7.2);
      await m.addModelRuntimeStart('gpu', T0 + 1000);
      await m.updateModelRuntimeEnd('gpu', T0 + 4600);
      await m.addModelRuntimeStart('gpu', T0 + 10_000); // open: end == start
      await m.addModelRuntimeStart('gpu', T0 + 20_000);
      await m.updateModelRuntimeEnd('gpu', T0 + 23_600);
      await m.addModelRequest('gpu', [T0 + 3500, 5000, 1000]);
      const s = await m.summary({ from: T0 + 3000, to: T0 + 21_800 });
      const gpu = model(s, 'gpu');
      expect(gpu).toMatchObject({ billingMethod: 'hourly', runtimeSeconds: 1600 + 1800, openRuns: 1, requests: 1, tierCost: 0, unpricedRequests: 0 });
      close(gpu.hourlyCost, (3400 * 7.2) / 3600);
      close(gpu.costPerMillionTokens!, (6.8 / 6000) * 1e6);
      // idle: uptime in 15-minute slots without a request. The request at T0+3500 sits in slot [T0+2700, T0+3600).
      expect(gpu.idleSeconds).toBe(3400 - (3600 - 3000));
      // the whole history
      const all = model(await m.summary(), 'gpu');
      expect(all.runtimeSeconds).toBe(7200);
      close(all.cost, 14.4);
    });

    it('splits hourly cost at bucket edges and puts tier cost in the bucket of the request', async () => {
      const m = await fresh({ models: ['gpu', 'api'] });
      await m.updateBillingMethod('gpu', false);
      await m.updateHourlyPrice('gpu', 3.6);
      await m.addModelRuntimeStart('gpu', T0 + 1800);
      await m.updateModelRuntimeEnd('gpu', T0 + 5400);
      await m.updateTierPricing('api', [1, 0, -1, 1, 1]);
      await m.addModelRequest('api', [T0 + 3599.5, 1_000_000, 0]); // last half-second of the first hour
      await m.addModelRequest('api', [T0 + 3600, 2_000_000, 0]); // first instant of the second hour
      const series = await m.series({ from: T0, to: T0 + 7200, bucket: 'hour', timeZone: 'UTC' });
      expect(series.buckets.map((b) => [b.start - T0, b.end - T0])).toEqual([
        [0, 3600],
        [3600, 7200],
      ]);
      close(series.buckets[0]!.models.gpu!.hourlyCost, 1.8);
      close(series.buckets[1]!.models.gpu!.hourlyCost, 1.8);
      close(series.buckets[0]!.models.api!.tierCost, 1);
      close(series.buckets[1]!.models.api!.tierCost, 2);
      close(seriesCost(series), (await m.summary({ from: T0, to: T0 + 7200 })).total.cost);
      // a window edge inside a bucket clips the hourly cost of that bucket too
      const clipped = await m.series({ from: T0 + 2700, to: T0 + 4500, bucket: 'hour', timeZone: 'UTC' });
      close(clipped.buckets[0]!.models.gpu!.hourlyCost, 0.9);
      close(clipped.buckets[1]!.models.gpu!.hourlyCost, 0.9);
      close(seriesCost(clipped), (await m.summary({ from: T0 + 2700, to: T0 + 4500 })).total.cost);
    });

    it('has a 23-hour day in Europe/Berlin and a 25-hour day in America/New_York', async () => {
      const m = await fresh({ models: ['gpu'] });
      await m.updateBillingMethod('gpu', false);
      await m.updateHourlyPrice('gpu', 1);
      await m.addModelRuntimeStart('gpu', at('2024-03-30T00:00:00Z'));
      await m.updateModelRuntimeEnd('gpu', at('2024-11-10T00:00:00Z'));
      const berlin = await m.series({ from: at('2024-03-30T23:00:00Z'), to: at('2024-03-31T22:00:00Z'), bucket: 'day', timeZone: 'Europe/Berlin' });
      expect(berlin.buckets).toHaveLength(1);
      close(berlin.buckets[0]!.total.cost, 23);
      const ny = await m.series({ from: at('2024-11-03T04:00:00Z'), to: at('2024-11-04T05:00:00Z'), bucket: 'day', timeZone: 'America/New_York' });
      expect(ny.buckets).toHaveLength(1);
      expect(ny.buckets[0]!.models.gpu!.runtimeSeconds).toBe(25 * 3600);
      const nyHours = await m.series({ from: at('2024-11-03T04:00:00Z'), to: at('2024-11-04T05:00:00Z'), bucket: 'hour', timeZone: 'America/New_York' });
      expect(nyHours.buckets).toHaveLength(25);
    });

    it('aligns hour buckets to :15 in a +05:45 zone', async () => {
      const m = await fresh();
      await m.addModelRequest('api', [at('2024-06-01T10:14:59Z'), 1, 1]);
      await m.addModelRequest('api', [at('2024-06-01T10:15:00Z'), 2, 2]);
      const s = await m.series({ from: at('2024-06-01T09:15:00Z'), to: at('2024-06-01T11:15:00Z'), bucket: 'hour', timeZone: 'Asia/Kathmandu' });
      expect(s.buckets.map((b) => [new Date(b.start * 1000).toISOString(), b.total.inputTokens])).toEqual([
        ['2024-06-01T09:15:00.000Z', 1],
        ['2024-06-01T10:15:00.000Z', 2],
      ]);
    });

    it('treats windows as half-open [from, to) and empty windows as zeros', async () => {
      const m = await fresh({ models: ['api'] });
      await m.addModelRequest('api', [T0, 10, 1]);
      await m.addModelRequest('api', [T0 + 60, 20, 2]);
      expect(model(await m.summary({ from: T0, to: T0 + 60 }), 'api').inputTokens).toBe(10);
      expect(model(await m.summary({ from: T0 + 1, to: T0 + 61 }), 'api').inputTokens).toBe(20);
      const empty = await m.summary({ from: T0 + 1000, to: T0 + 2000 });
      expect(empty.total).toMatchObject({ requests: 0, cost: 0, firstRequestAt: null, lastRequestAt: null, costPerMillionTokens: null });
      const series = await m.series({ from: T0 + 3600, to: T0 + 3 * 3600, bucket: 'hour', timeZone: 'UTC' });
      expect(series.buckets.map((b) => b.total.requests)).toEqual([0, 0]);
      const none = await (await fresh()).series({ bucket: 'day' });
      expect(none.buckets).toEqual([]);
    });

    it('prices what-if overrides without writing them, and rejects unknown models and bad tiers', async () => {
      const m = await fresh({ models: ['api', 'gpu'] });
      await m.updateTierPricing('api', [1, 0, -1, 1, 1]);
      await m.addModelRequest('api', [T0, 1_000_000, 0]);
      await m.addModelRuntimeStart('gpu', T0);
      await m.updateModelRuntimeEnd('gpu', T0 + 1800);
      const whatIf = await m.summary({
        pricing: { api: { tierPricing: [[1, 0, -1, 3, 0]] }, gpu: { useTierPricing: false, hourlyPrice: 10 } },
      });
      close(model(whatIf, 'api').cost, 3);
      close(model(whatIf, 'gpu').cost, 5);
      close((await m.summary()).total.cost, 1);
      expect((await m.getModelBilling('api'))!.tierPricing[0]!.inputPricePerMillion).toBe(1);
      expect((await m.getModelBilling('gpu'))!.useTierPricing).toBe(true);
      const unknown = await m.summary({ pricing: { nope: { hourlyPrice: 1 } } }).catch((e) => e);
      expect(isMonitorError(unknown, 'UNKNOWN_MODEL')).toBe(true);
      expect(unknown.message).toContain('"nope"');
      const bad = await m.summary({ pricing: { api: { tierPricing: [[1, 10, 5, 1, 1]] } } }).catch((e) => e);
      expect(isMonitorError(bad, 'INVALID_INPUT')).toBe(true);
      const badZone = await m.series({ bucket: 'day', timeZone: 'Nowhere/Land' }).catch((e) => e);
      expect(isMonitorError(badZone, 'INVALID_INPUT')).toBe(true);
      const badWindow = await m.summary({ from: T0 + 10, to: T0 }).catch((e) => e);
      expect(isMonitorError(badWindow, 'INVALID_INPUT')).toBe(true);
    });

    it('reports the session since the latest program start', async () => {
      const m = await fresh();
      expect(await m.session()).toBeNull();
      await m.addProgramRuntimeStart(T0);
      await m.updateProgramRuntimeEnd(T0 + 100);
      await m.addModelRequest('api', [T0 + 50, 5, 5]);
      await m.addProgramRuntimeStart(T0 + 1000);
      await m.addModelRequest('api', [T0 + 1500, 7, 7]);
      const session = await m.session();
      expect(session).toMatchObject({ startedAt: T0 + 1000, lastSeenAt: T0 + 1000, open: true });
      expect(session!.summary.total.inputTokens).toBe(7);
    });

    /** Every number of two summaries (or series) equal within 1e-9, whatever the nesting. */
    function sameFigures(actual: unknown, expected: unknown, path = '$'): void {
      if (typeof expected === 'number' && typeof actual === 'number') {
        if (Math.abs(actual - expected) > 1e-9 * Math.max(1, Math.abs(expected))) throw new Error(`${path}: ${actual} instead of ${expected}`);
        return;
      }
      if (typeof expected !== 'object' || expected === null) return expect(actual, path).toEqual(expected);
      expect(Object.keys(actual as object).sort(), path).toEqual(Object.keys(expected).sort());
      for (const key of Object.keys(expected)) sameFigures((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key], `${path}.${key}`);
    }

    /** Three models over a day: tiered with cache, hourly with runs, and one the what-ifs reprice. */
    async function day(): Promise<Monitor> {
      const m = await fresh({ models: ['tiered', 'gpu', 'api'] });
      await m.updateTierPricing('tiered', { tierIndex: 1, startTokens: 0, endTokens: 1000, inputPricePerMillion: 2, outputPricePerMillion: 4, supportCache: true, cacheHitPricePerMillion: 0.5 });
      await m.addTierPricing('tiered', [2, 1001, 50_000, 1, 3]);
      await m.updateBillingMethod('gpu', false);
      await m.updateHourlyPrice('gpu', 3.6);
      await m.updateTierPricing('api', [1, 0, -1, 1, 1]);
      for (const [start, end] of [[T0 + 600, T0 + 9000], [T0 + 20_000, T0 + 20_000], [T0 + 30_000, T0 + 50_000]] as const) {
        const run = await m.addModelRuntimeStart('gpu', start);
        await m.updateModelRuntimeEnd('gpu', end, run);
      }
      const rows = (offset: number) => Array.from({ length: 40 }, (_, i) => [T0 + offset + i * 2017.5, 300 + ((i * 7919) % 90_000), 10 + i, (i * 37) % 500, 100] as const);
      await m.addModelRequests('tiered', rows(0));
      await m.addModelRequests('gpu', rows(450));
      await m.addModelRequests('api', rows(901));
      return m;
    }

    it('answers summaries and series of any grid-aligned part of an aggregation exactly as the Monitor does', async () => {
      const m = await day();
      const whole = await m.aggregate({ from: T0, to: T0 + 86_400 });
      expect(whole.models.map((x) => x.name)).toEqual(['tiered', 'gpu', 'api']);
      for (const [from, to] of [[T0, T0 + 86_400], [T0 + 900, T0 + 9900], [T0 + 3600 * 5, T0 + 3600 * 14], [T0 + 29_700, T0 + 29_700]]) {
        const { from: _f, to: _t, ...fromScan } = summarize(whole, { from, to });
        const { from: _g, to: _u, ...direct } = await m.summary({ from, to });
        sameFigures(fromScan, direct);
      }
      sameFigures(seriesOf(whole, { bucket: 'hour', timeZone: 'Asia/Kathmandu' }), await m.series({ from: T0, to: T0 + 86_400, bucket: 'hour', timeZone: 'Asia/Kathmandu' }));
      sameFigures(seriesOf(whole, { from: T0 + 7200, bucket: 'day', timeZone: 'UTC' }), await m.series({ from: T0 + 7200, to: T0 + 86_400, bucket: 'day', timeZone: 'UTC' }));
      sameFigures(summarize(whole, { models: ['gpu'] }).total, (await m.summary({ from: T0, to: T0 + 86_400, models: ['gpu'] })).total);
      expect(dataSpan(whole)).toEqual({ first: T0, last: T0 + 901 + 39 * 2017.5 }); // the last request of 'api'
      // an open window reports the data's own span
      const all = await m.aggregate();
      sameFigures(summarize(all), await m.summary());
      sameFigures(seriesOf(all, { bucket: 'hour', timeZone: 'UTC' }), await m.series({ bucket: 'hour', timeZone: 'UTC' }));
    });

    it('reprices an aggregation for price-only what-ifs and says when a what-if needs a new scan', async () => {
      const m = await day();
      const whole = await m.aggregate({ from: T0, to: T0 + 86_400 });
      const priceOnly = {
        tiered: { tierPricing: [[1, 0, 1000, 5, 5, true, 1], [2, 1001, 50_000, 0.5, 9]] as const },
        gpu: { useTierPricing: true },
        api: { useTierPricing: false, hourlyPrice: 99 },
      };
      expect(rescanNeeded(whole, priceOnly)).toEqual([]);
      sameFigures(summarize(whole, { pricing: priceOnly }).models, (await m.summary({ from: T0, to: T0 + 86_400, pricing: priceOnly })).models);
      sameFigures(
        seriesOf(whole, { bucket: 'hour', timeZone: 'UTC', pricing: priceOnly }),
        await m.series({ from: T0, to: T0 + 86_400, bucket: 'hour', timeZone: 'UTC', pricing: priceOnly }),
      );
      const newBounds = { tiered: { tierPricing: [[1, 0, 2000, 1, 1]] as const } };
      expect(rescanNeeded(whole, newBounds)).toEqual(['tiered']);
      const refused = (() => {
        try {
          return summarize(whole, { pricing: newBounds });
        } catch (error) {
          return error;
        }
      })();
      expect(isMonitorError(refused, 'INVALID_INPUT')).toBe(true);
      expect((refused as Error).message).toContain('"tiered"');
      // scanned with the new bounds, the same what-if prices as the Monitor does
      const rescanned = await m.aggregate({ from: T0, to: T0 + 86_400, pricing: newBounds });
      sameFigures(summarize(rescanned).models, (await m.summary({ from: T0, to: T0 + 86_400, pricing: newBounds })).models);
      // the stored prices come back with an empty override... but not from a scan with other bounds
      expect(rescanNeeded(rescanned, {})).toEqual([]);
      expect(() => summarize(rescanned, { pricing: {} })).toThrow(/changes which tier prices a request/);
    });

    it('refuses parts of an aggregation it cannot answer exactly: off the 15-minute grid, outside the scan, unknown models', async () => {
      const m = await day();
      const whole = await m.aggregate({ from: T0, to: T0 + 86_400 });
      for (const options of [{ from: T0 + 60 }, { to: T0 + 86_400 + 900 }, { from: T0 - 900 }])
        expect(() => summarize(whole, options)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
      expect(() => summarize(whole, { models: ['nope'] })).toThrow(expect.objectContaining({ code: 'UNKNOWN_MODEL' }));
      expect(() => summarize(whole, { pricing: { nope: {} } })).toThrow(expect.objectContaining({ code: 'UNKNOWN_MODEL' }));
      // a summary's own scan (not by slot) answers only its window
      const onlyApi = await m.aggregate({ models: ['api'] });
      expect(onlyApi.models.map((x) => x.name)).toEqual(['api']);
    });

    it('keeps models named like Object.prototype members apart in every report (constructor, __proto__, toString)', async () => {
      const names = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];
      const m = await fresh({ models: names });
      for (const [i, name] of names.entries()) await m.addModelRequest(name, [T0 + i * 60, 1000 * (i + 1), 10]);
      const s = await m.summary({ pricing: { constructor: { hourlyPrice: 1 } } });
      expect(s.models.map((x) => [x.name, x.inputTokens])).toEqual(names.map((name, i) => [name, 1000 * (i + 1)]));
      const series = await m.series({ bucket: 'hour', timeZone: 'UTC' });
      const bucket = series.buckets[0]!;
      expect(Object.keys(bucket.models).sort()).toEqual([...names].sort());
      expect(Object.values(bucket.models).reduce((n, u) => n + u.requests, 0)).toBe(bucket.total.requests);
      expect(bucket.models['__proto__']!.inputTokens).toBe(2000);
      expect(JSON.parse(JSON.stringify(bucket.models))['__proto__'].inputTokens).toBe(2000);
    });

    it('sums token counts up to Number.MAX_SAFE_INTEGER per request without overflowing', async () => {
      const m = await fresh({ models: ['huge'] });
      await m.updateTierPricing('huge', [1, 0, -1, 1, 1]);
      await m.addModelRequests('huge', Array.from({ length: 1100 }, (_, i) => [T0 + i, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER] as const));
      const s = await m.summary();
      expect(s.total.requests).toBe(1100);
      close(s.total.inputTokens, 1100 * Number.MAX_SAFE_INTEGER);
      close(s.total.cost, (2 * 1100 * Number.MAX_SAFE_INTEGER) / 1e6);
      const series = await m.series({ bucket: 'day', timeZone: 'UTC' });
      close(seriesCost(series), s.total.cost);
    });

    withFiles("agrees with totals computed by hand from seed-v1-dev's rows", async () => {
      const m = await Monitor.open(await harness.fromBytes!(fixtureBytes('seed-v1-dev'), { readOnly: true }), { readOnly: true });
      open.push(m);
      const s = await m.summary();
      const llama = model(s, 'Llama-3.3-70B-Instruct-Q4_K_M');
      // tiers [0,16384] 1.2/3.0, [16385,65536] 0.9/2.4, [65537,131072] 0.5/1.5; 200000 input tokens match none
      close(llama.tierCost, (1800 + 29515.2 + 29732.1 + 49800 + 58984.8 + 33518.5 + 65536 + 150 + 16848) / 1e6);
      expect(llama).toMatchObject({ requests: 10, unpricedRequests: 1, unpricedInputTokens: 200_000, unpricedOutputTokens: 100, openRuns: 1 });
      expect(llama.runtimeSeconds).toBe(3600 + 5400.5);
      const deepseek = model(s, '深度求索-DeepSeek-V3-本地部署');
      expect(deepseek).toMatchObject({ billingMethod: 'hourly', runtimeSeconds: 7200, openRuns: 1, requests: 6 });
      close(deepseek.cost, 14.5);
      const oneil = model(s, `O'Neil "embed" [v2]; DELETE FROM t; --`);
      close(oneil.cost, (721.5 + 49152 + 40002.5) / 1e6);
      expect(oneil.unpricedRequests).toBe(1);
      close(s.total.cost, 0.2858846 + 0.089876 + 14.5);
      expect(s.total.requests).toBe(20);
      expect(s.total.inputTokens).toBe(1000 + 32768 + 32769 + 50000 + 65536 + 65537 + 131072 + 200000 + 0 + 12345 + 2048 + 4096 + 100 + 70000 + 1 + 300 + 777 + 32768 + 40000 + 5);
      const days = await m.series({ bucket: 'day', timeZone: 'Asia/Shanghai' });
      close(seriesCost(days), s.total.cost);
      expect(days.buckets.reduce((n, b) => n + b.total.requests, 0)).toBe(20);
    });

    withFiles("prices the v2.6 file's 2-D tier windows exactly as the original's last algorithm", async () => {
      const m = await Monitor.open(await harness.fromBytes!(fixtureBytes('normalized-v2-dev'), { readOnly: true }), { readOnly: true });
      open.push(m);
      const s = await m.summary();
      // tier 1: in [0,32000] cache read .5 write .25 in 2 out 8; tier 2: in (32000,128000] read 1 write .5 in 4 out 16; tier 3: (128000,∞) 6/24
      close(model(s, 'Llama-3.3-70B-Instruct-Q4_K_M').tierCost, (3850 + 19580 + 40601 + 400 + 234000 + 780006 + 2400 + 21500 + 12200.25) / 1e6);
      const oneil = model(s, `O'Neil "embed" [v2]; DELETE FROM t; --`);
      close(oneil.tierCost, (700 + 900 + 5100 + 200) / 1e6);
      expect(oneil).toMatchObject({ unpricedRequests: 1, unpricedInputTokens: 300 });
      close(model(s, '深度求索-DeepSeek-V3-本地部署').hourlyCost, (8100 * 7.25) / 3600);
      expect(model(s, 'ghost-model (not in config)')).toMatchObject({ unpricedRequests: 1, cost: 0 });
      close(s.total.cost, 1.11453725 + 0.0069 + 16.3125);
      const weeks = await m.series({ bucket: 'week', timeZone: 'Europe/Berlin' });
      close(seriesCost(weeks), s.total.cost);
      const description = await m.describe();
      expect(description.shapes).toEqual(['S6']);
      expect(description.journalMode).toBe('wal');
      expect(description.models.find((d) => d.name === 'ghost-model (not in config)')!.problems).toContain(
        'no billing settings: it was created by a write, never configured',
      );
    });

    describe('insights', () =>
      insightsTests(
        harness,
        (monitor) => {
          open.push(monitor);
          return monitor;
        },
        fresh,
      ));

    withFiles('describes the seed file: shapes, counts and open runs', async () => {
      const m = await Monitor.open(await harness.fromBytes!(fixtureBytes('seed-v1-dev'), { readOnly: true }), { readOnly: true });
      open.push(m);
      const d = await m.describe();
      expect(d).toMatchObject({ journalMode: 'delete', userVersion: 0, shapes: ['S1'], programRuns: 3, problems: [] });
      expect(d.models.map((x) => [x.name, x.requests, x.runs, x.openRuns, x.tiers, x.billingMethod])).toEqual([
        ['Llama-3.3-70B-Instruct-Q4_K_M', 10, 3, 1, 3, 'tier'],
        ['深度求索-DeepSeek-V3-本地部署', 6, 2, 1, 1, 'hourly'],
        [`O'Neil "embed" [v2]; DELETE FROM t; --`, 4, 1, 0, 1, 'tier'],
      ]);
    });
  });
}
