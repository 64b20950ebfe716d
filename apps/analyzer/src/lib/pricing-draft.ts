import type { ModelBilling, PricingOverride, PricingOverrides, Shape, TierPricing, TierWindow } from '@llm-monitor/core';

/**
 * The what-if editor's state: per model, an editable copy of its billing. Only models whose draft differs
 * from the file's settings become `pricing` overrides for `summary`/`series`; the file is never written.
 * Files of shapes S5–S7 price with 2-D windows, the older ones with input-token ranges; a draft keeps the
 * kind its model has.
 */
export type Draft =
  | { useTierPricing: boolean; hourlyPrice: number; kind: 'ranges'; tiers: TierPricing[] }
  | { useTierPricing: boolean; hourlyPrice: number; kind: 'windows'; tiers: TierWindow[] };

const WINDOW_SHAPES: readonly Shape[] = ['S5', 'S6', 'S7'];

/**
 * A model with no billing rows is priced as core prices it: per token, no tiers (so every request is
 * unpriced); its tiers are edited as windows when its shape prices with windows (S5–S7).
 */
export function draftFromBilling(billing: ModelBilling | null, shape?: Shape): Draft {
  if (billing === null && shape !== undefined && WINDOW_SHAPES.includes(shape)) return { useTierPricing: true, hourlyPrice: 0, kind: 'windows', tiers: [] };
  const b = billing ?? { useTierPricing: true, hourlyPrice: 0, tierPricing: [] };
  if (b.tierWindows !== undefined)
    return { useTierPricing: b.useTierPricing, hourlyPrice: b.hourlyPrice, kind: 'windows', tiers: b.tierWindows.map((t) => ({ ...t })) };
  return { useTierPricing: b.useTierPricing, hourlyPrice: b.hourlyPrice, kind: 'ranges', tiers: b.tierPricing.map((t) => ({ ...t })) };
}

export function draftToOverride(draft: Draft): PricingOverride {
  const base = { useTierPricing: draft.useTierPricing, hourlyPrice: draft.hourlyPrice };
  return draft.kind === 'windows' ? { ...base, tierWindows: draft.tiers } : { ...base, tierPricing: draft.tiers };
}

export function sameDraft(a: Draft, b: Draft): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Overrides for the models whose draft differs from its original (the file's billing as a draft). */
export function overridesFrom(drafts: Readonly<Record<string, Draft>>, originals: Readonly<Record<string, Draft>>): PricingOverrides {
  const overrides: Record<string, PricingOverride> = {};
  for (const [name, draft] of Object.entries(drafts)) {
    const original = originals[name];
    if (!original || !sameDraft(draft, original)) overrides[name] = draftToOverride(draft);
  }
  return overrides;
}

/** A new tier after the last one: the next index, starting where the last one ends, unbounded, same prices. */
export function addTier(draft: Draft): Draft {
  const nextIndex = draft.tiers.reduce((max, t) => Math.max(max, t.tierIndex), 0) + 1;
  if (draft.kind === 'ranges') {
    const last = draft.tiers[draft.tiers.length - 1];
    const start = last ? (last.endTokens === -1 ? last.startTokens + 1 : last.endTokens + 1) : 0;
    const tier: TierPricing = {
      tierIndex: nextIndex,
      startTokens: start,
      endTokens: -1,
      inputPricePerMillion: last?.inputPricePerMillion ?? 0,
      outputPricePerMillion: last?.outputPricePerMillion ?? 0,
      supportCache: last?.supportCache ?? false,
      cacheHitPricePerMillion: last?.cacheHitPricePerMillion ?? 0,
    };
    return { ...draft, tiers: [...draft.tiers, tier] };
  }
  const last = draft.tiers[draft.tiers.length - 1];
  const tier: TierWindow = {
    tierIndex: nextIndex,
    minInputTokens: last ? (last.maxInputTokens === -1 ? last.minInputTokens : last.maxInputTokens) : 0,
    maxInputTokens: -1,
    minOutputTokens: 0,
    maxOutputTokens: -1,
    inputPrice: last?.inputPrice ?? 0,
    outputPrice: last?.outputPrice ?? 0,
    supportCache: last?.supportCache ?? false,
    cacheWritePrice: last?.cacheWritePrice ?? 0,
    cacheReadPrice: last?.cacheReadPrice ?? 0,
  };
  return { ...draft, tiers: [...draft.tiers, tier] };
}

export function removeTier(draft: Draft, tierIndex: number): Draft {
  return draft.kind === 'ranges'
    ? { ...draft, tiers: draft.tiers.filter((t) => t.tierIndex !== tierIndex) }
    : { ...draft, tiers: draft.tiers.filter((t) => t.tierIndex !== tierIndex) };
}

/** Sets one field of one tier (matched by index). */
export function setTierField(draft: Draft, tierIndex: number, field: string, value: number | boolean): Draft {
  if (draft.kind === 'ranges')
    return { ...draft, tiers: draft.tiers.map((t) => (t.tierIndex === tierIndex ? { ...t, [field]: value } : t)) };
  return { ...draft, tiers: draft.tiers.map((t) => (t.tierIndex === tierIndex ? { ...t, [field]: value } : t)) };
}

/**
 * The first problem that would make core reject the draft, in words, or null. Core validates again; this
 * keeps a half-typed number from reaching it.
 */
export function draftProblem(draft: Draft): string | null {
  if (!Number.isFinite(draft.hourlyPrice) || draft.hourlyPrice < 0) return 'the hourly price must be a number ≥ 0';
  const seen = new Set<number>();
  for (const t of draft.tiers) {
    if (!Number.isInteger(t.tierIndex) || t.tierIndex < 0) return `tier index ${t.tierIndex} must be a whole number ≥ 0`;
    if (seen.has(t.tierIndex)) return `tier ${t.tierIndex} is listed twice`;
    seen.add(t.tierIndex);
    for (const [key, value] of Object.entries(t)) {
      if (typeof value !== 'number') continue;
      const bound = /^(end|max)/.test(key);
      if (!Number.isFinite(value) || (value < 0 && !(bound && value === -1)))
        return `tier ${t.tierIndex}: ${key} must be a number ≥ 0${bound ? ' (or -1 for unbounded)' : ''}`;
      if (/Tokens$/.test(key) && !Number.isInteger(value)) return `tier ${t.tierIndex}: ${key} must be a whole number of tokens`;
    }
    if (draft.kind === 'ranges') {
      const r = t as TierPricing;
      if (r.endTokens !== -1 && r.endTokens < r.startTokens) return `tier ${t.tierIndex}: the end (${r.endTokens}) is below the start (${r.startTokens})`;
    }
  }
  return null;
}
