/**
 * One run of the program or of a model, in epoch seconds. An open run (started, not yet ended) has
 * `endTime === startTime` in the seed's layout; `endTime` is moved forward by heartbeats and at stop.
 */
export interface ModelRunTime {
  id: number;
  startTime: number;
  endTime: number;
}

/** One recorded request. `timestamp` is epoch seconds (the request's end time in S4+ layouts). */
export interface ModelRequest {
  id: number;
  timestamp: number;
  inputTokens: number;
  outputTokens: number;
  /** Prompt tokens served from the KV cache (0 when the file does not record it). */
  cacheN: number;
  /** Prompt tokens actually processed (0 when the file does not record it). */
  promptN: number;
}

/**
 * A per-token price tier: a request whose input tokens lie in `[startTokens, endTokens]` (both
 * inclusive, `endTokens = -1` unbounded) is priced at this tier, per million tokens.
 */
export interface TierPricing {
  tierIndex: number;
  startTokens: number;
  endTokens: number;
  inputPricePerMillion: number;
  outputPricePerMillion: number;
  /** Whether cache hits (`cacheN`) are billed at `cacheHitPricePerMillion` instead of the input price. */
  supportCache: boolean;
  cacheHitPricePerMillion: number;
}

/**
 * A 2-D price window of LLM-Manager v2.5+ files (shapes S5–S7): both input and output token counts
 * must fit. A lower bound is exclusive unless it is 0; an upper bound is inclusive, -1 unbounded.
 */
export interface TierWindow {
  tierIndex: number;
  minInputTokens: number;
  maxInputTokens: number;
  minOutputTokens: number;
  maxOutputTokens: number;
  inputPrice: number;
  outputPrice: number;
  supportCache: boolean;
  cacheWritePrice: number;
  cacheReadPrice: number;
}

/** How a model is billed: tiered per token (`useTierPricing`) or per hour of runtime. */
export interface ModelBilling {
  useTierPricing: boolean;
  hourlyPrice: number;
  /** Ordered by `tierIndex`. Empty for files whose tiers are 2-D windows (see `tierWindows`). */
  tierPricing: TierPricing[];
  /** Only for shapes S5–S7, whose tiers are 2-D windows; ordered by `tierIndex`. */
  tierWindows?: TierWindow[];
}

/** A request to record: `[timestamp, inputTokens, outputTokens]`, with `[…, cacheN, promptN]`, or an object. */
export type RequestInput =
  | readonly [timestamp: number, inputTokens: number, outputTokens: number]
  | readonly [timestamp: number, inputTokens: number, outputTokens: number, cacheN: number, promptN: number]
  | {
      timestamp: number;
      inputTokens: number;
      outputTokens: number;
      cacheN?: number;
      promptN?: number;
    };

/** A tier to write: the seed's 5-element array, the same plus cache fields, or an object. */
export type TierInput =
  | readonly [tierIndex: number, startTokens: number, endTokens: number, inputPricePerMillion: number, outputPricePerMillion: number]
  | readonly [
      tierIndex: number,
      startTokens: number,
      endTokens: number,
      inputPricePerMillion: number,
      outputPricePerMillion: number,
      supportCache: boolean,
      cacheHitPricePerMillion: number,
    ]
  | {
      tierIndex: number;
      startTokens: number;
      endTokens: number;
      inputPricePerMillion: number;
      outputPricePerMillion: number;
      supportCache?: boolean;
      cacheHitPricePerMillion?: number;
    };

/**
 * The table layouts LLM-Manager has written over its history (see docs/file-format.md):
 * S1 seed per-model tables; S2 requests + cache columns; S3 tiers + cache columns too; S4 requests
 * with start/end times; S5 2-D tier windows; S6 normalized tables; S7 normalized with `model_defs`.
 */
export type Shape = 'S1' | 'S2' | 'S3' | 'S4' | 'S5' | 'S6' | 'S7';

export interface ModelInfo {
  name: string;
  /** The per-model table prefix (`getSafeModelName(name)`), or null in normalized files (S6, S7). */
  safeName: string | null;
  shape: Shape;
  /** Whether this Monitor can write to the model (shapes S1–S3). */
  writable: boolean;
}
