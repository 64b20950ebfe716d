import type { Aggregation, ModelAggregate, ModelBilling, Run, SlotGroups } from '../src/index.js';

/** One group of requests as a test writes it; the omitted sums are 0 and min/max input follow the sums. */
export interface GroupInput {
  /** Epoch seconds of the first request; the slot is derived from it. */
  at: number;
  tier: number;
  requests: number;
  inputTokens: number;
  outputTokens?: number;
  cacheHits?: number;
  minInput?: number;
  maxInput?: number;
  lastAt?: number;
}

export const at = (iso: string) => Date.parse(iso) / 1000;

/** The columnar groups of a hand-made aggregation (what `monitor.aggregate` returns per model). */
export function slotGroups(groups: readonly GroupInput[]): SlotGroups {
  const column = (pick: (g: GroupInput) => number) => Float64Array.from(groups.map(pick));
  return {
    length: groups.length,
    slot: column((g) => Math.floor(g.at / 900)),
    tier: column((g) => g.tier),
    requests: column((g) => g.requests),
    inputTokens: column((g) => g.inputTokens),
    outputTokens: column((g) => g.outputTokens ?? 0),
    cacheHits: column((g) => g.cacheHits ?? 0),
    cacheN: column((g) => g.cacheHits ?? 0),
    promptN: column((g) => g.inputTokens - (g.cacheHits ?? 0)),
    minInput: column((g) => g.minInput ?? g.inputTokens / g.requests),
    maxInput: column((g) => g.maxInput ?? g.inputTokens / g.requests),
    firstAt: column((g) => g.at),
    lastAt: column((g) => g.lastAt ?? g.at),
  };
}

/** One flat tier priced `inputPerM` / `outputPerM` (with a cache price when given), for every input size. */
export function flatTier(inputPerM: number, outputPerM: number, cacheHitPerM?: number): ModelBilling {
  return {
    useTierPricing: true,
    hourlyPrice: 0,
    tierPricing: [
      {
        tierIndex: 1,
        startTokens: 0,
        endTokens: -1,
        inputPricePerMillion: inputPerM,
        outputPricePerMillion: outputPerM,
        supportCache: cacheHitPerM !== undefined,
        cacheHitPricePerMillion: cacheHitPerM ?? 0,
      },
    ],
  };
}

export function model(name: string, billing: ModelBilling, groups: readonly GroupInput[], runs: Run[] = []): ModelAggregate {
  return { name, shape: 'S3', storedBilling: billing, billing, billingProblems: [], hourlyPriceUsable: true, groups: slotGroups(groups), runs };
}

export function aggregation(models: ModelAggregate[], from: number | null = null, to: number | null = null, splits: number[] = []): Aggregation {
  return { from, to, bySlot: true, splits, inputBounds: [], models, problems: [] };
}
