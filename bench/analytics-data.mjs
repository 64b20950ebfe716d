// What both analytics benchmarks (bench/analytics.mjs and driver-postgres's) share: a median-of-runs
// timer, and the data: `models` models over 30 days (or `days`) ending 2026-01-01, two of every three
// tier-billed with three tiers and cache pricing, every third billed by the hour with a 12-hour run a day,
// and `requests` requests spread evenly in time.
export const DAYS = 30;
export const END = 1_767_225_600; // 2026-01-01T00:00:00Z
export const FROM = END - DAYS * 86_400;

export const modelNames = (count) => Array.from({ length: count }, (_, i) => `bench-model-${i}`);

/**
 * Records the data through `monitor` (which must have been opened with `{ models: modelNames(count) }`).
 * With `allRuns`, the tier-billed models get the same 12-hour run a day as the hourly ones (a server
 * that loads every model: idle time then needs every model's requests by 15-minute slot).
 */
export async function recordAnalyticsData(monitor, names, requests, { allRuns = false, days = DAYS } = {}) {
  const from = END - days * 86_400;
  let seed = 7;
  const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  for (const [i, name] of names.entries()) {
    if (i % 3 === 2) {
      await monitor.updateBillingMethod(name, false);
      await monitor.updateHourlyPrice(name, 2 + i);
      for (let day = 0; day < days; day++) {
        await monitor.addModelRuntimeStart(name, from + day * 86_400 + 8 * 3600);
        await monitor.updateModelRuntimeEnd(name, from + day * 86_400 + 20 * 3600);
      }
    } else {
      if (allRuns)
        for (let day = 0; day < days; day++) {
          await monitor.addModelRuntimeStart(name, from + day * 86_400 + 8 * 3600);
          await monitor.updateModelRuntimeEnd(name, from + day * 86_400 + 20 * 3600);
        }
      await monitor.updateTierPricing(name, { tierIndex: 1, startTokens: 0, endTokens: 32_768, inputPricePerMillion: 1, outputPricePerMillion: 2, supportCache: true, cacheHitPricePerMillion: 0.1 });
      await monitor.addTierPricing(name, [2, 32_769, 131_072, 0.8, 1.6]);
      await monitor.addTierPricing(name, [3, 131_073, -1, 0.5, 1.0]);
    }
    const perModel = Math.floor(requests / names.length);
    for (let done = 0; done < perModel; ) {
      const batch = [];
      for (let k = 0; k < 20_000 && done < perModel; k++, done++) {
        const input = Math.floor(random() < 0.05 ? 40_000 + random() * 200_000 : 100 + random() * 16_000);
        const cached = Math.floor(input * random() * 0.7);
        batch.push([from + (done / perModel) * days * 86_400, input, Math.floor(10 + random() * 1500), cached, input - cached]);
      }
      await monitor.addModelRequests(name, batch);
    }
  }
}

/** Milliseconds of `fn`: the median of `runs` timed runs after one warm-up run. */
export async function medianMs(fn, runs) {
  await fn();
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)];
}

/**
 * Milliseconds of `baseline` and of `fn` on the same machine at the same time: one warm-up run each, then
 * `runs` rounds that run one after the other (alternating which goes first), the median of each. A machine
 * whose load changes during the benchmark then shifts both, not just one.
 */
export async function pairedMs(baseline, fn, runs) {
  await baseline();
  await fn();
  const a = [];
  const b = [];
  const timed = async (f, into) => {
    const t = process.hrtime.bigint();
    await f();
    into.push(Number(process.hrtime.bigint() - t) / 1e6);
  };
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) {
      await timed(baseline, a);
      await timed(fn, b);
    } else {
      await timed(fn, b);
      await timed(baseline, a);
    }
  }
  const median = (xs) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  return [median(a), median(b)];
}
