import {
  type ModelBilling,
  type PricingOverride,
  type PricingOverrides,
  type PricingProblem,
  type Shape,
  type TierPricing,
  type TierWindow,
  pricingProblems,
} from '@llm-monitor/core';

/**
 * The what-if editor's state: per model, an editable copy of its billing. Only models whose draft differs
 * from the file's settings become `pricing` overrides for `summary`/`series`; the file is never written.
 * Files of shapes S5–S7 price with 2-D windows, the older ones with input-token ranges; a draft keeps the
 * kind its model has. A field holding text that is not a number keeps that text (typed as a number), so
 * that core's `pricingProblems` reports it at its field, quoting it, instead of it being dropped.
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

/** A model's draft with an override (of a link or an imported file) laid over it; the override is valid (tiers are objects). */
export function applyOverride(draft: Draft, override: PricingOverride): Draft {
  const base = {
    useTierPricing: override.useTierPricing ?? draft.useTierPricing,
    hourlyPrice: override.hourlyPrice ?? draft.hourlyPrice,
  };
  if (override.tierWindows !== undefined)
    return {
      ...base,
      kind: 'windows',
      tiers: override.tierWindows.map((w) => ({ supportCache: false, cacheWritePrice: 0, cacheReadPrice: 0, ...w })),
    };
  if (override.tierPricing !== undefined)
    return {
      ...base,
      kind: 'ranges',
      tiers: (override.tierPricing as readonly TierPricing[]).map((t) => ({ ...t, supportCache: t.supportCache ?? false, cacheHitPricePerMillion: t.cacheHitPricePerMillion ?? 0 })),
    };
  return { ...draft, ...base } as Draft;
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

/** Where a split of an unbounded tier puts the new tier's start: a power of two, at least twice the old start (32,768 from 0). */
function splitPoint(start: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(start + 1, 16_384) * 2));
}

/**
 * A tier that can match: it starts above every bounded tier, or, when a tier is unbounded, takes the upper
 * part of the unbounded tier that starts highest (which then ends below it), since the lowest index that
 * matches prices a request. Prices are copied from the tier it follows.
 */
export function addTier(draft: Draft): Draft {
  const tierIndex = draft.tiers.reduce((max, t) => Math.max(max, t.tierIndex), 0) + 1;
  if (draft.kind === 'ranges') {
    const unbounded = draft.tiers.filter((t) => t.endTokens === -1).sort((a, b) => b.startTokens - a.startTokens)[0];
    const reach = draft.tiers.reduce((max, t) => Math.max(max, t.endTokens), -1);
    const last = unbounded ?? draft.tiers.find((t) => t.endTokens === reach);
    const start = unbounded ? splitPoint(unbounded.startTokens) : reach + 1;
    const tier: TierPricing = {
      tierIndex,
      startTokens: start,
      endTokens: -1,
      inputPricePerMillion: last?.inputPricePerMillion ?? 0,
      outputPricePerMillion: last?.outputPricePerMillion ?? 0,
      supportCache: last?.supportCache ?? false,
      cacheHitPricePerMillion: last?.cacheHitPricePerMillion ?? 0,
    };
    const tiers = draft.tiers.map((t) => (t === unbounded ? { ...t, endTokens: start - 1 } : t));
    return { ...draft, tiers: [...tiers, tier] };
  }
  const unbounded = draft.tiers.filter((t) => t.maxInputTokens === -1).sort((a, b) => b.minInputTokens - a.minInputTokens)[0];
  const reach = draft.tiers.reduce((max, t) => Math.max(max, t.maxInputTokens), 0);
  const last = unbounded ?? draft.tiers.find((t) => t.maxInputTokens === reach);
  // a window's lower bound is exclusive (unless 0): the new window starts right after the old one ends
  const bound = unbounded ? splitPoint(unbounded.minInputTokens) : reach;
  const tier: TierWindow = {
    tierIndex,
    minInputTokens: bound,
    maxInputTokens: -1,
    minOutputTokens: 0,
    maxOutputTokens: -1,
    inputPrice: last?.inputPrice ?? 0,
    outputPrice: last?.outputPrice ?? 0,
    supportCache: last?.supportCache ?? false,
    cacheWritePrice: last?.cacheWritePrice ?? 0,
    cacheReadPrice: last?.cacheReadPrice ?? 0,
  };
  const tiers = draft.tiers.map((t) => (t === unbounded ? { ...t, maxInputTokens: bound } : t));
  return { ...draft, tiers: [...tiers, tier] };
}

export function removeTier(draft: Draft, tierIndex: number): Draft {
  return draft.kind === 'ranges'
    ? { ...draft, tiers: draft.tiers.filter((t) => t.tierIndex !== tierIndex) }
    : { ...draft, tiers: draft.tiers.filter((t) => t.tierIndex !== tierIndex) };
}

/** Sets one field of one tier (matched by index). */
export function setTierField(draft: Draft, tierIndex: number, field: string, value: number | boolean | string): Draft {
  if (draft.kind === 'ranges')
    return { ...draft, tiers: draft.tiers.map((t) => (t.tierIndex === tierIndex ? { ...t, [field]: value } : t)) };
  return { ...draft, tiers: draft.tiers.map((t) => (t.tierIndex === tierIndex ? { ...t, [field]: value } : t)) };
}

/** What core would refuse in a draft, each at its field (`['tierPricing', 0, 'inputPricePerMillion']`), in words. */
export function draftProblems(draft: Draft): PricingProblem[] {
  return pricingProblems(draftToOverride(draft)).filter((p) => p.severity === 'error');
}

/** Tiers that overlap, leave gaps or can never match, as sentences: accepted, but worth a warning while billed per token. */
export function draftWarnings(draft: Draft): string[] {
  if (!draft.useTierPricing) return [];
  const problems = pricingProblems(draftToOverride(draft));
  if (problems.some((p) => p.severity === 'error')) return [];
  return problems.map((p) => p.message);
}

/** How the editor and the messages name a billing setting. */
export const FIELD_LABELS: Readonly<Record<string, string>> = {
  useTierPricing: 'billing method',
  hourlyPrice: 'hourly price',
  tierIndex: 'tier number',
  startTokens: 'from (input tokens)',
  endTokens: 'to (input tokens)',
  inputPricePerMillion: 'input price per million tokens',
  outputPricePerMillion: 'output price per million tokens',
  supportCache: 'cache pricing',
  cacheHitPricePerMillion: 'cache-hit price per million tokens',
  minInputTokens: 'input tokens above',
  maxInputTokens: 'input tokens up to',
  minOutputTokens: 'output tokens above',
  maxOutputTokens: 'output tokens up to',
  inputPrice: 'input price per million tokens',
  outputPrice: 'output price per million tokens',
  cacheWritePrice: 'cache-write price per million tokens',
  cacheReadPrice: 'cache-read price per million tokens',
};

/** `tier 2: ` for a problem at `['tierPricing', 1, …]` (by the tier's own index when it has one), else nothing. */
function tierOf(path: readonly (string | number)[], tiers: unknown): string {
  const position = path[1];
  if ((path[0] !== 'tierPricing' && path[0] !== 'tierWindows') || typeof position !== 'number') return '';
  const index = Array.isArray(tiers) ? (tiers[position] as { tierIndex?: unknown } | undefined)?.tierIndex : undefined;
  return typeof index === 'number' ? `tier ${index}: ` : `tier #${position + 1} of the list: `;
}

export interface ScenarioProblem {
  model: string | null;
  message: string;
}

/**
 * A scenario (a link's `pricing` or an imported JSON file) checked against the file: an object keyed by
 * model names of this file, each a valid PricingOverride. Every problem in words, naming model and field.
 */
export function scenarioProblems(input: unknown, models: readonly string[]): ScenarioProblem[] {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return [{ model: null, message: 'A scenario is a JSON object keyed by model name, e.g. {"qwen": {"hourlyPrice": 2}}.' }];
  const problems: ScenarioProblem[] = [];
  for (const [model, override] of Object.entries(input)) {
    if (!models.includes(model)) {
      problems.push({ model, message: `${model}: there is no model of that name in this file.` });
      continue;
    }
    const o = override as Record<string, unknown> | null;
    for (const p of pricingProblems(override))
      if (p.severity === 'error') problems.push({ model, message: `${model}: ${tierOf(p.path, o?.[p.path[0] as string])}${p.message}` });
  }
  return problems;
}


