import { describe, expect, it } from 'vitest';
import { type PricingOverride, type TierWindow, isMonitorError, pricingProblems, tierWindowProblems } from '../src/index.js';
import { effectiveBilling } from '../src/pricing/override.js';

const refused = (override: unknown) => {
  try {
    effectiveBilling('m', null, override as PricingOverride);
    return false;
  } catch (error) {
    return isMonitorError(error);
  }
};

describe('pricingProblems', () => {
  it('lists every problem of a draft at its field, in words, and nothing for a valid one', () => {
    expect(pricingProblems({ useTierPricing: true, hourlyPrice: 2, tierPricing: [[1, 0, -1, 1, 2]].map(([tierIndex, startTokens, endTokens, i, o]) => ({ tierIndex, startTokens, endTokens, inputPricePerMillion: i, outputPricePerMillion: o })) })).toEqual([]);
    const problems = pricingProblems({
      hourlyPrice: -1,
      colour: 'red',
      tierPricing: [
        { tierIndex: 1, startTokens: 0, endTokens: 100, inputPricePerMillion: 'cheap', outputPricePerMillion: 1 },
        { tierIndex: 1, startTokens: 500, endTokens: 200, inputPricePerMillion: 1, outputPricePerMillion: 1 },
      ],
    });
    expect(problems.map((p) => [p.path.join('.'), p.severity])).toEqual([
      ['colour', 'error'],
      ['hourlyPrice', 'error'],
      ['tierPricing.0.inputPricePerMillion', 'error'],
      ['tierPricing.1.endTokens', 'error'],
      ['tierPricing.1.tierIndex', 'error'],
    ]);
    expect(problems.find((p) => p.path[0] === 'hourlyPrice')!.message).toBe('The hourly price must be a finite number >= 0; got -1.');
    expect(problems.find((p) => p.path[2] === 'inputPricePerMillion')!.message).toContain('input price per million tokens');
    for (const p of problems.filter((x) => !x.message.startsWith('Unknown field'))) expect(p.message).not.toMatch(/PerMillion|hourlyPrice/);
  });

  it('warns of overlaps and gaps, which core accepts, and errs exactly where core refuses', () => {
    const gappy = { tierPricing: [{ tierIndex: 1, startTokens: 0, endTokens: 100, inputPricePerMillion: 1, outputPricePerMillion: 1 }, { tierIndex: 2, startTokens: 50, endTokens: 80, inputPricePerMillion: 1, outputPricePerMillion: 1 }] };
    expect(pricingProblems(gappy).map((p) => [p.severity, p.message])).toEqual([
      ['warning', 'Tiers 1 and 2 overlap from 50 input tokens.'],
      ['warning', 'No tier covers more than 100 input tokens.'],
    ]);
    expect(refused(gappy)).toBe(false);
    const drafts: unknown[] = [
      gappy,
      { hourlyPrice: Number.POSITIVE_INFINITY },
      { useTierPricing: 'yes' },
      { tierWindows: [{ tierIndex: 1, minInputTokens: 0, maxInputTokens: -1, minOutputTokens: 0, maxOutputTokens: -2, inputPrice: 1, outputPrice: 1 }] },
      { tierWindows: [{ tierIndex: 1, minInputTokens: 0, maxInputTokens: -1, minOutputTokens: 0, maxOutputTokens: -1, inputPrice: 1, outputPrice: 1 }] },
      { tierPricing: 'none' },
      [],
    ];
    for (const draft of drafts) expect(pricingProblems(draft).some((p) => p.severity === 'error'), JSON.stringify(draft)).toBe(refused(draft));
  });
});

describe('tierWindowProblems', () => {
  const w = (tierIndex: number, minIn: number, maxIn: number, minOut = 0, maxOut = -1): TierWindow => ({
    tierIndex, minInputTokens: minIn, maxInputTokens: maxIn, minOutputTokens: minOut, maxOutputTokens: maxOut, inputPrice: 1, outputPrice: 1, supportCache: false, cacheWritePrice: 0, cacheReadPrice: 0,
  });

  it('finds windows that overlap, can never match, or leave the smallest requests unpriced', () => {
    // (0, 32000] and (32000, ∞): lower bounds are exclusive unless 0, so these meet without overlapping
    expect(tierWindowProblems([w(1, 0, 32_000), w(2, 32_000, -1)])).toEqual([]);
    expect(tierWindowProblems([w(1, 0, 32_000), w(2, 16_000, -1)]).map((p) => p.kind)).toEqual(['overlap']);
    expect(tierWindowProblems([w(1, 0, -1), w(2, 500, 100)]).map((p) => p.kind)).toEqual(['gap']);
    expect(tierWindowProblems([w(1, 10, -1)]).map((p) => p.kind)).toEqual(['uncovered-start']);
    // apart on the output axis: no overlap
    expect(tierWindowProblems([w(1, 0, -1, 0, 100), w(2, 0, -1, 100, -1)])).toEqual([]);
    expect(tierWindowProblems([])).toEqual([{ kind: 'gap', message: 'there are no tiers: every request is unpriced' }]);
  });
});
