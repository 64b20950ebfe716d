import { MonitorError, describeValue } from '../errors.js';
import type { RequestInput, TierInput } from './types.js';

/** Timestamps are epoch seconds; anything above this (year 5138) is almost surely milliseconds. */
export const MAX_EPOCH_SECONDS = 1e11;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

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
  if (value > MAX_EPOCH_SECONDS)
    invalid(
      model,
      `${what} (expected epoch seconds)`,
      value,
      ` It looks like milliseconds: pass Date.now() / 1000, i.e. ${value / 1000}.`,
    );
  return value;
}

export function checkTokens(model: string | undefined, what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    invalid(model, `${what} (expected an integer from 0 to ${Number.MAX_SAFE_INTEGER})`, value);
  return value;
}

export function checkPrice(model: string | undefined, what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    invalid(model, `${what} (expected a finite number >= 0)`, value);
  return value;
}

export function checkBoolean(model: string | undefined, what: string, value: unknown): boolean {
  if (typeof value !== 'boolean') invalid(model, `${what} (expected true or false)`, value);
  return value;
}

export function checkCount(what: string, value: unknown, model?: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    invalid(model, `${what} (expected an integer >= 0)`, value);
  return value;
}

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
    const [tierIndex, startTokens, endTokens, inputPricePerMillion, outputPricePerMillion, supportCache, cacheHitPricePerMillion] =
      input as unknown[];
    fields = { tierIndex, startTokens, endTokens, inputPricePerMillion, outputPricePerMillion, supportCache, cacheHitPricePerMillion };
  } else if (typeof input === 'object' && input !== null) {
    fields = input as Record<string, unknown>;
  } else {
    invalid(model, 'tier (expected an array or an object)', input);
  }
  const tierIndex = checkCount('tierIndex', fields.tierIndex, model);
  const startTokens = checkTokens(model, `startTokens of tier ${tierIndex}`, fields.startTokens);
  const endTokens =
    fields.endTokens === -1 ? -1 : checkTokens(model, `endTokens of tier ${tierIndex} (or -1 for unbounded)`, fields.endTokens);
  if (endTokens !== -1 && endTokens < startTokens)
    invalid(model, `tier ${tierIndex} (endTokens ${endTokens} is below startTokens ${startTokens}; use -1 for unbounded)`, input);
  return {
    tierIndex,
    startTokens,
    endTokens,
    inputPricePerMillion: checkPrice(model, `inputPricePerMillion of tier ${tierIndex}`, fields.inputPricePerMillion),
    outputPricePerMillion: checkPrice(model, `outputPricePerMillion of tier ${tierIndex}`, fields.outputPricePerMillion),
    supportCache:
      fields.supportCache === undefined ? undefined : checkBoolean(model, `supportCache of tier ${tierIndex}`, fields.supportCache),
    cacheHitPricePerMillion:
      fields.cacheHitPricePerMillion === undefined
        ? undefined
        : checkPrice(model, `cacheHitPricePerMillion of tier ${tierIndex}`, fields.cacheHitPricePerMillion),
  };
}
