import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelBilling, TierPricing } from '@llm-monitor/core';
import { openMonitor } from '@llm-monitor/driver-node';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Draft,
  addTier,
  applyOverride,
  draftFromBilling,
  draftProblems,
  draftToOverride,
  draftWarnings,
  overridesFrom,
  removeTier,
  scenarioProblems,
  setTierField,
} from '../../src/lib/pricing-draft.js';

const ranges: ModelBilling = {
  useTierPricing: true,
  hourlyPrice: 0,
  tierPricing: [
    { tierIndex: 1, startTokens: 0, endTokens: 16_384, inputPricePerMillion: 1.2, outputPricePerMillion: 3, supportCache: false, cacheHitPricePerMillion: 0 },
    { tierIndex: 2, startTokens: 16_385, endTokens: 65_536, inputPricePerMillion: 0.9, outputPricePerMillion: 2.4, supportCache: false, cacheHitPricePerMillion: 0 },
  ],
};
const windows: ModelBilling = {
  useTierPricing: true,
  hourlyPrice: 0,
  tierPricing: [],
  tierWindows: [
    { tierIndex: 1, minInputTokens: 0, maxInputTokens: 32_000, minOutputTokens: 0, maxOutputTokens: -1, inputPrice: 2, outputPrice: 8, supportCache: true, cacheWritePrice: 0, cacheReadPrice: 0.2 },
  ],
};

const dir = mkdtempSync(join(tmpdir(), 'analyzer-draft-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The cost core computes for one request of `input` tokens (and 1,000 output) under the draft. */
async function costOf(draft: Draft, input: number): Promise<{ cost: number; unpriced: number }> {
  const monitor = await openMonitor(join(dir, `m-${Math.random().toString(36).slice(2)}.db`));
  try {
    await monitor.addModelRequest('m', [1_710_000_000, input, 1000, 0, input]); // no cache hits: every prompt token processed
    const { models } = await monitor.summary({ pricing: { m: draftToOverride(draft) } });
    return { cost: models[0]!.cost, unpriced: models[0]!.unpricedRequests };
  } finally {
    await monitor.close();
  }
}

describe('pricing drafts', () => {
  it('only edited models become overrides, in the form their file uses', () => {
    const originals = { a: draftFromBilling(ranges), b: draftFromBilling(windows), c: draftFromBilling(null) };
    const drafts = { ...originals };
    expect(overridesFrom(drafts, originals)).toEqual({});

    drafts.a = setTierField(drafts.a, 1, 'inputPricePerMillion', 2.5);
    drafts.b = { ...drafts.b, useTierPricing: false, hourlyPrice: 3 };
    const overrides = overridesFrom(drafts, originals);
    expect(Object.keys(overrides)).toEqual(['a', 'b']);
    expect(overrides.a!.tierPricing![0]).toMatchObject({ tierIndex: 1, inputPricePerMillion: 2.5 });
    expect(overrides.a!.tierWindows).toBeUndefined();
    expect(overrides.b).toEqual({ useTierPricing: false, hourlyPrice: 3, tierWindows: windows.tierWindows });
  });

  it('a model without billing rows is per token with no tiers, as core prices it; windows in S5–S7 files', () => {
    expect(draftToOverride(draftFromBilling(null))).toEqual({ useTierPricing: true, hourlyPrice: 0, tierPricing: [] });
    expect(draftToOverride(draftFromBilling(null, 'S6'))).toEqual({ useTierPricing: true, hourlyPrice: 0, tierWindows: [] });
  });

  it('"+ Add tier" adds a tier that matches requests: after a bounded last tier, or splitting an unbounded one', async () => {
    const bounded = setTierField(addTier(draftFromBilling(ranges)), 3, 'inputPricePerMillion', 100);
    expect(bounded.tiers[2]).toMatchObject({ tierIndex: 3, startTokens: 65_537, endTokens: -1 });
    expect(await costOf(bounded, 100_000)).toEqual({ cost: (100_000 * 100 + 1000 * 2.4) / 1e6, unpriced: 0 });

    // the seed's default, one tier 0..∞: the new tier takes its upper part and is the one that prices there
    const seed = draftFromBilling({ useTierPricing: true, hourlyPrice: 0, tierPricing: [{ ...ranges.tierPricing[0]!, endTokens: -1 }] });
    const split = setTierField(addTier(seed), 2, 'inputPricePerMillion', 100);
    expect((split.tiers as TierPricing[]).map((t) => [t.tierIndex, t.startTokens, t.endTokens])).toEqual([
      [1, 0, 32_767],
      [2, 32_768, -1],
    ]);
    expect(await costOf(split, 40_000)).toEqual({ cost: (40_000 * 100 + 1000 * 3) / 1e6, unpriced: 0 });
    expect(await costOf(split, 1000)).toEqual({ cost: (1000 * 1.2 + 1000 * 3) / 1e6, unpriced: 0 });
    expect(draftWarnings(split)).toEqual([]);

    const window = setTierField(addTier(draftFromBilling(windows)), 2, 'inputPrice', 100);
    expect(window.tiers[1]).toMatchObject({ tierIndex: 2, minInputTokens: 32_000, maxInputTokens: -1 });
    expect(await costOf(window, 40_000)).toEqual({ cost: (40_000 * 100 + 1000 * 8) / 1e6, unpriced: 0 });
    expect(addTier(draftFromBilling(null)).tiers[0]).toMatchObject({ tierIndex: 1, startTokens: 0, endTokens: -1 });
    expect(removeTier(bounded, 2).tiers.map((t) => t.tierIndex)).toEqual([1, 3]);
  });

  it('warns of overlapping tiers and of 2-D windows that overlap or can never match', () => {
    const overlapping = setTierField(draftFromBilling(ranges), 2, 'startTokens', 10_000);
    expect(draftWarnings(overlapping)).toContain('Tiers 1 and 2 overlap from 10000 input tokens.');
    const w = (tierIndex: number, minIn: number, maxIn: number) => ({
      tierIndex, minInputTokens: minIn, maxInputTokens: maxIn, minOutputTokens: 0, maxOutputTokens: -1, inputPrice: 1, outputPrice: 1, supportCache: false, cacheWritePrice: 0, cacheReadPrice: 0,
    });
    const windows = (tiers: ReturnType<typeof w>[]) => draftWarnings({ useTierPricing: true, hourlyPrice: 0, kind: 'windows', tiers });
    expect(windows([w(1, 0, 32_000), w(2, 32_000, -1)])).toEqual([]);
    expect(windows([w(1, 0, 32_000), w(2, 16_000, -1)])).toEqual(['Tiers 1 and 2 overlap; tier 1 prices the requests in both.']);
    expect(windows([w(1, 0, -1), w(2, 500, 100)])).toEqual(['Tier 2 can never match: its upper bound is not above its lower bound.']);
  });

  it('reports a problem at its field, also for text that is not a number', () => {
    const draft = draftFromBilling(ranges);
    expect(draftProblems(draft)).toEqual([]);
    expect(draftProblems({ ...draft, hourlyPrice: -1 })).toMatchObject([{ path: ['hourlyPrice'], message: expect.stringMatching(/hourly price .*; got -1/) }]);
    expect(draftProblems(setTierField(draft, 2, 'inputPricePerMillion', 'cheap'))).toMatchObject([
      { path: ['tierPricing', 1, 'inputPricePerMillion'], message: expect.stringMatching(/input price per million tokens .*; got "cheap"/) },
    ]);
    expect(draftProblems(setTierField(draft, 1, 'startTokens', 1.5))[0]!.path).toEqual(['tierPricing', 0, 'startTokens']);
    expect(draftProblems(setTierField(draft, 2, 'endTokens', 100))[0]).toMatchObject({ path: ['tierPricing', 1, 'endTokens'] });
  });
});

describe('scenarios (a link or an imported file)', () => {
  it('lay a partial override over the stored billing', () => {
    const stored = draftFromBilling(ranges);
    expect(applyOverride(stored, { hourlyPrice: 4 })).toEqual({ ...stored, hourlyPrice: 4 });
    const applied = applyOverride(stored, { tierPricing: [{ tierIndex: 1, startTokens: 0, endTokens: -1, inputPricePerMillion: 5, outputPricePerMillion: 6 }] });
    expect(applied.tiers).toEqual([{ tierIndex: 1, startTokens: 0, endTokens: -1, inputPricePerMillion: 5, outputPricePerMillion: 6, supportCache: false, cacheHitPricePerMillion: 0 }]);
  });

  it('name the model, the tier and the field of every problem, in words', () => {
    expect(scenarioProblems({ qwen: { hourlyPrice: 1 } }, ['qwen'])).toEqual([]);
    expect(scenarioProblems([], ['qwen'])[0]!.message).toMatch(/JSON object keyed by model name/);
    const problems = scenarioProblems(
      { gpt: {}, qwen: { hourlyPrice: -2, tierPricing: [{ tierIndex: 3, startTokens: 0, endTokens: -1, inputPricePerMillion: -1, outputPricePerMillion: 1 }] } },
      ['qwen'],
    );
    expect(problems.map((p) => p.model)).toEqual(['gpt', 'qwen', 'qwen']);
    expect(problems[0]!.message).toBe('gpt: there is no model of that name in this file.');
    expect(problems[1]!.message).toMatch(/^qwen: The hourly price must be .*; got -2\.$/);
    expect(problems[2]!.message).toMatch(/^qwen: tier 3: The input price per million tokens must be .*; got -1\.$/);
  });
});
