import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isMonitorError } from '../src/index.js';
import { CLOUD_CATALOG, cloudInputBounds, cloudModel, compareWithCloud } from '../src/insights/cloud.js';
import { type GroupInput, aggregation, at, flatTier, model } from './insights-data.js';

/**
 * The cloud comparison against figures computed here by hand from the catalog's own published prices:
 * the provider files of github.com/pydantic/genai-prices (prices/providers/*.yml, read at commit
 * 47df840a, 2026-08-21), which @pydantic/genai-prices bundles (its dist/index.js carries the same entries
 * in 0.1.8). Each test first checks that the installed catalog still lists those prices, so that a new
 * catalog with other prices fails here with the difference rather than with a wrong sum.
 */

/** prices/providers/openai.yml, `id: gpt-4o-mini` (lines 448–466): input 0.15, cache read 0.075, output 0.6 USD per million; context 128 000. */
const GPT_4O_MINI = { input_mtok: 0.15, cache_read_mtok: 0.075, output_mtok: 0.6 };
/** prices/providers/openai.yml, `id: gpt-3.5-turbo` (lines 223–235): input 0.5, output 1.5, no cache price; context 16 385. */
const GPT_35_TURBO = { input_mtok: 0.5, output_mtok: 1.5 };
/** prices/providers/google.yml, `id: gemini-2.5-pro` (lines 678–705): tiered at 200 000 input tokens. */
const GEMINI_25_PRO = {
  input_mtok: { base: 1.25, tiers: [{ start: 200_000, price: 2.5 }] },
  cache_read_mtok: { base: 0.125, tiers: [{ start: 200_000, price: 0.25 }] },
  output_mtok: { base: 10, tiers: [{ start: 200_000, price: 15 }] },
};
/** prices/providers/deepseek.yml, `id: deepseek-chat` (lines 34–57): off-peak by default, standard 00:30–16:30 UTC. */
const DEEPSEEK_CHAT = [
  { prices: { input_mtok: 0.135, cache_read_mtok: 0.035, output_mtok: 0.55 } },
  { constraint: { start_time: '00:30:00Z', end_time: '16:30:00Z', type: 'time_of_date' }, prices: { input_mtok: 0.27, cache_read_mtok: 0.07, output_mtok: 1.1 } },
];

const close = (actual: number | null, expected: number) => {
  expect(actual).not.toBeNull();
  expect(Math.abs(actual! - expected)).toBeLessThanOrEqual(1e-12 * Math.max(1, expected));
};

/** One local model billed per token (1 in, 2 out, 0.25 per cache hit, per million) with these groups. */
const usage = (groups: GroupInput[]) => aggregation([model('local', flatTier(1, 2, 0.25), groups)]);

describe('cloud comparison (@pydantic/genai-prices)', () => {
  it('names the catalog version it prices with: the version installed', () => {
    const entry = createRequire(import.meta.url).resolve('@pydantic/genai-prices');
    const installed = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { name: string; version: string };
    expect(CLOUD_CATALOG).toEqual({ name: installed.name, version: installed.version });
  });

  it('gpt-4o-mini: cache reads at their own price, uncached input at the input price; over the context window counted', () => {
    const gpt = cloudModel('openai:gpt-4o-mini');
    expect(gpt).toMatchObject({ providerId: 'openai', modelId: 'gpt-4o-mini', contextWindow: 128_000, thresholds: [] });
    expect(gpt.prices).toMatchObject(GPT_4O_MINI);
    const a = usage([
      { at: at('2024-06-03T10:00:00Z'), tier: 1, requests: 10, inputTokens: 50_000, cacheHits: 20_000, outputTokens: 5_000, minInput: 1_000, maxInput: 9_000 },
      { at: at('2024-06-03T11:00:00Z'), tier: 1, requests: 2, inputTokens: 300_000, outputTokens: 1_000, minInput: 140_000, maxInput: 160_000 },
    ]);
    const { targets, catalog } = compareWithCloud(a, { targets: [gpt], usdPerUnit: 0.14 });
    expect(catalog).toEqual(CLOUD_CATALOG);
    const [local] = targets[0]!.models;
    // (50 000 − 20 000)·0.15 + 20 000·0.075 + 5 000·0.6 = 9 000; 300 000·0.15 + 1 000·0.6 = 45 600 (per million)
    close(local!.cloudCost.value, (9_000 + 45_600) / 1e6);
    expect(local!.cloudCost.unit).toBe('USD');
    // here: (30 000·1 + 20 000·0.25 + 5 000·2) + (300 000·1 + 1 000·2) = 347 000 per million, at 0.14 USD each
    close(local!.localCost.value, 0.347);
    close(local!.localCostUsd.value, 0.347 * 0.14);
    close(local!.saving.value, 0.0546 - 0.347 * 0.14);
    expect(local!.overContextWindow.value).toBe(2);
    // without an exchange rate the saving is not known: the file's prices have no currency
    const noRate = compareWithCloud(a, { targets: [gpt] }).targets[0]!.total;
    expect(noRate.saving).toEqual({ value: null, unit: 'USD', reason: 'the file’s prices have no currency: give what one unit is worth in USD (usdPerUnit, or --usd-rate; 1 when they are in USD)' });
    close(noRate.cloudCost.value, 0.0546);
  });

  it('gpt-3.5-turbo: without a cache price, cache reads are billed as input', () => {
    const gpt = cloudModel('openai:gpt-3.5-turbo');
    expect(gpt.prices).toMatchObject(GPT_35_TURBO);
    const a = usage([{ at: at('2024-06-03T10:00:00Z'), tier: 1, requests: 1, inputTokens: 10_000, cacheHits: 4_000, outputTokens: 1_000 }]);
    // 10 000·0.5 + 1 000·1.5 = 6 500 per million
    close(compareWithCloud(a, { targets: [gpt] }).targets[0]!.total.cloudCost.value, 6_500 / 1e6);
  });

  it('gemini-2.5-pro: a whole request priced at the tier its input falls in; a group across the threshold is not guessed', () => {
    const gemini = cloudModel('google:gemini-2.5-pro');
    expect(gemini.prices).toEqual(GEMINI_25_PRO);
    expect(gemini.thresholds).toEqual([200_000]);
    expect(cloudInputBounds([gemini, cloudModel('openai:gpt-4o-mini')])).toEqual([128_001, 200_001]);
    const groups: GroupInput[] = [
      { at: at('2024-06-03T10:00:00Z'), tier: 1, requests: 10, inputTokens: 50_000, cacheHits: 20_000, outputTokens: 5_000, minInput: 1_000, maxInput: 9_000 },
      // 200 000 is not above the threshold: the base prices
      { at: at('2024-06-03T11:00:00Z'), tier: 1, requests: 2, inputTokens: 360_000, outputTokens: 1_000, minInput: 160_000, maxInput: 200_000 },
      { at: at('2024-06-03T12:00:00Z'), tier: 1, requests: 1, inputTokens: 250_000, cacheHits: 50_000, outputTokens: 2_000 },
    ];
    const cost = compareWithCloud(usage(groups), { targets: [gemini] }).targets[0]!.total.cloudCost;
    // 30 000·1.25 + 20 000·0.125 + 5 000·10 = 90 000; 360 000·1.25 + 1 000·10 = 460 000;
    // above 200 000: 200 000·2.5 + 50 000·0.25 + 2 000·15 = 542 500 (per million)
    expect(cost.reason).toBeUndefined();
    close(cost.value, (90_000 + 460_000 + 542_500) / 1e6);
    const straddling = compareWithCloud(usage([...groups, { at: at('2024-06-03T13:00:00Z'), tier: 1, requests: 2, inputTokens: 400_000, minInput: 100_000, maxInput: 300_000 }]), {
      targets: [gemini],
    }).targets[0]!.total.cloudCost;
    close(straddling.value, (90_000 + 460_000 + 542_500) / 1e6);
    expect(straddling.reason).toContain('local: leaves out 2 requests whose group straddles a price threshold');
  });

  it('deepseek-chat: the standard price from 00:30 to 16:30 UTC and the off-peak price otherwise, by the time of each request', () => {
    const deepseek = cloudModel('deepseek:deepseek-chat');
    expect(deepseek.prices).toEqual(DEEPSEEK_CHAT);
    const times = ['10:00', '16:15', '16:30', '20:00', '00:15', '00:30'];
    const a = usage(times.map((t) => ({ at: at(`2024-06-03T${t}:00Z`), tier: 1, requests: 1, inputTokens: 10_000, cacheHits: 4_000, outputTokens: 1_000 })));
    // standard: 6 000·0.27 + 4 000·0.07 + 1 000·1.1 = 3 000; off-peak: 6 000·0.135 + 4 000·0.035 + 1 000·0.55 = 1 500
    close(compareWithCloud(a, { targets: [deepseek] }).targets[0]!.total.cloudCost.value, (3 * 3_000 + 3 * 1_500) / 1e6);
  });

  it('refuses unknown providers and models, and a bad exchange rate, naming them', () => {
    for (const ref of ['nowhere:gpt-4o', 'openai:no-such-model', '', 'no-such-model-anywhere']) {
      let error: unknown;
      try {
        cloudModel(ref);
      } catch (e) {
        error = e;
      }
      expect(isMonitorError(error, 'INVALID_INPUT'), ref).toBe(true);
      expect((error as Error).message).toContain(JSON.stringify(ref));
    }
    const gpt = cloudModel('openai:gpt-4o-mini');
    expect(() => compareWithCloud(usage([]), { targets: [gpt], usdPerUnit: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => compareWithCloud(usage([]), { targets: [] })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});
