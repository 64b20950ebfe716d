import { MonitorError, describeValue } from '../errors.js';
import type { RequestInput, TierInput, TierWindow } from './types.js';

/** Timestamps are epoch seconds; anything above this (year 5138) is almost surely milliseconds. */
export const MAX_EPOCH_SECONDS = 1e11;

/** The millisecond rule: an epoch time this large was surely given in milliseconds (`Date.now()`), not seconds. */
export const looksLikeMilliseconds = (seconds: number): boolean => seconds > MAX_EPOCH_SECONDS;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * A rule for one kind of value, shared by the throwing checks below (writes, what-if pricing) and by
 * `pricingProblems`, which lists every problem of an editor's draft at its field: one owner per rule.
 */
export interface ValueRule {
  test(value: unknown): boolean;
  /** What a valid value is, in words: "a finite number >= 0". */
  readonly expected: string;
}

export const RULES = {
  tokens: { test: (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0, expected: `an integer from 0 to ${Number.MAX_SAFE_INTEGER}` },
  bound: { test: (v) => v === -1 || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0), expected: 'an integer >= 0, or -1 for unbounded' },
  price: { test: (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0, expected: 'a finite number >= 0' },
  count: { test: (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0, expected: 'an integer >= 0' },
  boolean: { test: (v) => typeof v === 'boolean', expected: 'true or false' },
} satisfies Record<string, ValueRule>;

function invalid(model: string | undefined, what: string, value: unknown, hint = ''): never {
  const where = model === undefined ? '' : ` for model ${describeValue(model)}`;
  throw new MonitorError('INVALID_INPUT', `Invalid ${what}${where}: got ${describeValue(value)}.${hint}`, {
    model,
    value,
  });
}

/** A name Python could encode: a string without lone surrogates (Node would hash them as U+FFFD). */
export function checkEncodable(name: unknown): string {
  if (typeof name !== 'string') invalid(undefined, 'model name (expected a string)', name);
  if (LONE_SURROGATE.test(name))
    invalid(undefined, 'model name (it contains a lone UTF-16 surrogate, which has no UTF-8 encoding)', name);
  return name;
}

export function checkModelName(name: unknown): string {
  const checked = checkEncodable(name);
  if (checked.length === 0) invalid(undefined, 'model name (it must not be empty)', name);
  return checked;
}

export function checkTime(model: string | undefined, what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    invalid(model, `${what} (expected epoch seconds, a finite number >= 0)`, value);
  if (looksLikeMilliseconds(value))
    invalid(
      model,
      `${what} (expected epoch seconds)`,
      value,
      ` It looks like milliseconds: pass Date.now() / 1000, i.e. ${value / 1000}.`,
    );
  return value;
}

/** `value` if `rule` accepts it, else `INVALID_INPUT` naming the model, what it is and the value. */
export function checkValue<T>(rule: ValueRule, model: string | undefined, what: string, value: unknown): T {
  if (!rule.test(value)) invalid(model, `${what} (expected ${rule.expected})`, value);
  return value as T;
}

export const checkTokens = (model: string | undefined, what: string, value: unknown): number => checkValue(RULES.tokens, model, what, value);
export const checkPrice = (model: string | undefined, what: string, value: unknown): number => checkValue(RULES.price, model, what, value);
export const checkBoolean = (model: string | undefined, what: string, value: unknown): boolean => checkValue(RULES.boolean, model, what, value);
export const checkCount = (what: string, value: unknown, model?: string): number => checkValue(RULES.count, model, what, value);

export function checkMinutes(model: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    invalid(model, 'minutes (expected a finite number >= 0)', value);
  return value;
}

export interface CheckedRequest {
  timestamp: number;
  inputTokens: number;
  outputTokens: number;
  cacheN: number;
  promptN: number;
}

/** Accepts `[ts, in, out]`, `[ts, in, out, cacheN, promptN]` or `{ timestamp, inputTokens, … }`. */
export function checkRequest(model: string, input: RequestInput | unknown): CheckedRequest {
  if (Array.isArray(input)) {
    if (input.length !== 3 && input.length !== 5)
      invalid(
        model,
        `request (expected [timestamp, inputTokens, outputTokens] or [timestamp, inputTokens, outputTokens, cacheN, promptN], ${input.length} elements)`,
        input,
      );
    const [timestamp, inputTokens, outputTokens, cacheN = 0, promptN = 0] = input as unknown[];
    return {
      timestamp: checkTime(model, 'request timestamp', timestamp),
      inputTokens: checkTokens(model, 'inputTokens', inputTokens),
      outputTokens: checkTokens(model, 'outputTokens', outputTokens),
      cacheN: checkTokens(model, 'cacheN', cacheN),
      promptN: checkTokens(model, 'promptN', promptN),
    };
  }
  if (typeof input !== 'object' || input === null)
    invalid(model, 'request (expected an array or an object)', input);
  const r = input as Record<string, unknown>;
  return {
    timestamp: checkTime(model, 'request timestamp', r.timestamp),
    inputTokens: checkTokens(model, 'inputTokens', r.inputTokens),
    outputTokens: checkTokens(model, 'outputTokens', r.outputTokens),
    cacheN: checkTokens(model, 'cacheN', r.cacheN ?? 0),
    promptN: checkTokens(model, 'promptN', r.promptN ?? 0),
  };
}

const isTokenCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

/**
 * A request as the five values the requests table stores, `[timestamp, input, output, cacheN, promptN]`.
 * The common case (a valid array) is checked inline; anything else goes through {@link checkRequest}
 * for its precise error.
 */
export function checkRequestRow(model: string, input: RequestInput | unknown): [number, number, number, number, number] {
  if (Array.isArray(input) && (input.length === 3 || input.length === 5)) {
    const [timestamp, inputTokens, outputTokens, cacheN = 0, promptN = 0] = input as unknown[];
    if (
      typeof timestamp === 'number' &&
      timestamp >= 0 &&
      timestamp <= MAX_EPOCH_SECONDS &&
      isTokenCount(inputTokens) &&
      isTokenCount(outputTokens) &&
      isTokenCount(cacheN) &&
      isTokenCount(promptN)
    )
      return [timestamp, inputTokens, outputTokens, cacheN, promptN];
  }
  const r = checkRequest(model, input);
  return [r.timestamp, r.inputTokens, r.outputTokens, r.cacheN, r.promptN];
}

export interface CheckedTier {
  tierIndex: number;
  startTokens: number;
  endTokens: number;
  inputPricePerMillion: number;
  outputPricePerMillion: number;
  /** Undefined when the input did not say, so an update keeps the stored value. */
  supportCache: boolean | undefined;
  cacheHitPricePerMillion: number | undefined;
}

/** A field of a tier as callers write it: its key, its rule, and what it is in words (for editors). */
export interface FieldSpec {
  readonly key: string;
  readonly rule: ValueRule;
  readonly label: string;
  /** May be left out (it then keeps its stored value, or its default). */
  readonly optional?: boolean;
}

/** The fields of an input-token range tier, in the seed's array order. */
export const TIER_FIELDS: readonly FieldSpec[] = [
  { key: 'tierIndex', rule: RULES.count, label: 'tier index' },
  { key: 'startTokens', rule: RULES.tokens, label: 'first input token count' },
  { key: 'endTokens', rule: RULES.bound, label: 'last input token count' },
  { key: 'inputPricePerMillion', rule: RULES.price, label: 'input price per million tokens' },
  { key: 'outputPricePerMillion', rule: RULES.price, label: 'output price per million tokens' },
  { key: 'supportCache', rule: RULES.boolean, label: 'cache pricing', optional: true },
  { key: 'cacheHitPricePerMillion', rule: RULES.price, label: 'cache-hit price per million tokens', optional: true },
];

/** The fields of a 2-D tier window (S5–S7 files). */
export const WINDOW_FIELDS: readonly FieldSpec[] = [
  { key: 'tierIndex', rule: RULES.count, label: 'tier index' },
  { key: 'minInputTokens', rule: RULES.tokens, label: 'input tokens above' },
  { key: 'maxInputTokens', rule: RULES.bound, label: 'input tokens up to' },
  { key: 'minOutputTokens', rule: RULES.tokens, label: 'output tokens above' },
  { key: 'maxOutputTokens', rule: RULES.bound, label: 'output tokens up to' },
  { key: 'inputPrice', rule: RULES.price, label: 'input price per million tokens' },
  { key: 'outputPrice', rule: RULES.price, label: 'output price per million tokens' },
  { key: 'supportCache', rule: RULES.boolean, label: 'cache pricing', optional: true },
  { key: 'cacheWritePrice', rule: RULES.price, label: 'cache-write price per million tokens', optional: true },
  { key: 'cacheReadPrice', rule: RULES.price, label: 'cache-read price per million tokens', optional: true },
];

/** The one cross-field rule of a range tier: its end is not below its start. */
export function rangeProblem(startTokens: number, endTokens: number): string | null {
  return endTokens !== -1 && endTokens < startTokens ? `endTokens ${endTokens} is below startTokens ${startTokens}; use -1 for unbounded` : null;
}

/** The first field of `fields` that `input` gets wrong, or null. */
export function firstBadField(specs: readonly FieldSpec[], input: Record<string, unknown>): FieldSpec | null {
  for (const spec of specs) {
    const value = input[spec.key];
    if (value === undefined && spec.optional) continue;
    if (!spec.rule.test(value)) return spec;
  }
  return null;
}

/** Reads the fields of a tier object: `INVALID_INPUT` for the first field that is wrong, named by its key. */
function checkFields(model: string, kind: string, specs: readonly FieldSpec[], input: Record<string, unknown>): void {
  const bad = firstBadField(specs, input);
  if (!bad) return;
  const index = bad.key === 'tierIndex' || !RULES.count.test(input.tierIndex) ? '' : ` of ${kind} ${String(input.tierIndex)}`;
  invalid(model, `${bad.key}${index} (expected ${bad.rule.expected})`, input[bad.key]);
}

/**
 * Accepts `[index, start, end, inPerM, outPerM]`, the same plus `[…, supportCache, cacheHitPerM]`, or an
 * object with the `TierPricing` field names. `end` is inclusive; -1 means unbounded.
 */
export function checkTier(model: string, input: TierInput | unknown): CheckedTier {
  let fields: Record<string, unknown>;
  if (Array.isArray(input)) {
    if (input.length !== 5 && input.length !== 7)
      invalid(
        model,
        `tier (expected [tierIndex, startTokens, endTokens, inputPricePerMillion, outputPricePerMillion] or the same plus [supportCache, cacheHitPricePerMillion], ${input.length} elements)`,
        input,
      );
    fields = Object.fromEntries(TIER_FIELDS.map((spec, i) => [spec.key, input[i]]));
  } else if (typeof input === 'object' && input !== null) {
    fields = input as Record<string, unknown>;
  } else {
    invalid(model, 'tier (expected an array or an object)', input);
  }
  checkFields(model, 'tier', TIER_FIELDS, fields);
  const tier = fields as unknown as CheckedTier;
  const problem = rangeProblem(tier.startTokens, tier.endTokens);
  if (problem) invalid(model, `tier ${tier.tierIndex} (${problem})`, input);
  return {
    tierIndex: tier.tierIndex,
    startTokens: tier.startTokens,
    endTokens: tier.endTokens,
    inputPricePerMillion: tier.inputPricePerMillion,
    outputPricePerMillion: tier.outputPricePerMillion,
    supportCache: tier.supportCache,
    cacheHitPricePerMillion: tier.cacheHitPricePerMillion,
  };
}

/** A 2-D tier window (S5–S7); the cache fields default to no cache support. */
export function checkTierWindow(model: string, input: unknown): TierWindow {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    invalid(model, 'tier window (expected an object with the TierWindow fields)', input);
  const w = input as Record<string, unknown>;
  checkFields(model, 'tier window', WINDOW_FIELDS, w);
  return {
    tierIndex: w.tierIndex as number,
    minInputTokens: w.minInputTokens as number,
    maxInputTokens: w.maxInputTokens as number,
    minOutputTokens: w.minOutputTokens as number,
    maxOutputTokens: w.maxOutputTokens as number,
    inputPrice: w.inputPrice as number,
    outputPrice: w.outputPrice as number,
    supportCache: (w.supportCache as boolean | undefined) ?? false,
    cacheWritePrice: (w.cacheWritePrice as number | undefined) ?? 0,
    cacheReadPrice: (w.cacheReadPrice as number | undefined) ?? 0,
  };
}
