import type { ModelBilling } from '@llm-monitor/core';
import { describe, expect, it } from 'vitest';
import { addTier, draftFromBilling, draftProblem, draftToOverride, overridesFrom, removeTier, setTierField } from '../../src/lib/pricing-draft.js';

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
    expect(draftToOverride(draftFromBilling(null, 'S1'))).toEqual({ useTierPricing: true, hourlyPrice: 0, tierPricing: [] });
    expect(draftToOverride(draftFromBilling(null, 'S6'))).toEqual({ useTierPricing: true, hourlyPrice: 0, tierWindows: [] });
  });

  it('adds a tier after the last one, unbounded, and removes tiers by index', () => {
    const added = addTier(draftFromBilling(ranges));
    expect(added.tiers[2]).toMatchObject({ tierIndex: 3, startTokens: 65_537, endTokens: -1, inputPricePerMillion: 0.9 });
    expect(removeTier(added, 2).tiers.map((t) => t.tierIndex)).toEqual([1, 3]);
    expect(addTier(draftFromBilling(windows)).tiers[1]).toMatchObject({ tierIndex: 2, minInputTokens: 32_000, maxInputTokens: -1 });
    expect(addTier(draftFromBilling(null)).tiers[0]).toMatchObject({ tierIndex: 1, startTokens: 0, endTokens: -1 });
  });

  it('names the first problem core would reject', () => {
    const draft = draftFromBilling(ranges);
    expect(draftProblem(draft)).toBeNull();
    expect(draftProblem({ ...draft, hourlyPrice: -1 })).toMatch(/hourly price/);
    expect(draftProblem(setTierField(draft, 1, 'endTokens', -1))).toBeNull();
    expect(draftProblem(setTierField(draft, 1, 'startTokens', -1))).toMatch(/tier 1: startTokens/);
    expect(draftProblem(setTierField(draft, 1, 'startTokens', 1.5))).toMatch(/whole number/);
    expect(draftProblem(setTierField(draft, 2, 'endTokens', 100))).toMatch(/below the start/);
    expect(draftProblem(setTierField(draft, 2, 'tierIndex', 1))).toMatch(/listed twice/);
  });
});
