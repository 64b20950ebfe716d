import { type ModelBilling, type TierPricing, tierProblems } from '@llm-monitor/core';
import { UserError } from '../user-error.js';
import { quote } from './json-file.js';

/**
 * Validating tier lists and billing settings read from JSON files (`pricing set-tiers`, `pricing
 * import`) before anything is written, with messages that name the file, the model and the tier.
 */

const TIER_KEYS = ['tierIndex', 'startTokens', 'endTokens', 'inputPricePerMillion', 'outputPricePerMillion', 'supportCache', 'cacheHitPricePerMillion'];
const BILLING_KEYS = ['useTierPricing', 'hourlyPrice', 'tierPricing', 'tierWindows'];

const isInteger = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isPrice = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

function tier(where: string, input: unknown, position: number): TierPricing {
  const at = `${where}: tier #${position + 1}`;
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new UserError(`${at} must be an object like {"tierIndex":1,"startTokens":0,"endTokens":32768,"inputPricePerMillion":2,"outputPricePerMillion":8}`);
  const t = input as Record<string, unknown>;
  const unknown = Object.keys(t).filter((key) => !TIER_KEYS.includes(key));
  if (unknown.length > 0) throw new UserError(`${at} has unknown field ${quote(unknown[0]!)} (expected ${TIER_KEYS.join(', ')})`);
  const need = (key: string, ok: (v: unknown) => boolean, expected: string) => {
    if (!ok(t[key])) throw new UserError(`${at}: ${key} must be ${expected} (got ${t[key] === undefined ? 'nothing' : JSON.stringify(t[key])})`);
  };
  need('tierIndex', isInteger, 'an integer >= 0');
  need('startTokens', isInteger, 'an integer >= 0');
  need('endTokens', (v) => v === -1 || isInteger(v), 'an integer >= 0, or -1 for unbounded');
  need('inputPricePerMillion', isPrice, 'a number >= 0');
  need('outputPricePerMillion', isPrice, 'a number >= 0');
  if (t.supportCache !== undefined) need('supportCache', (v) => typeof v === 'boolean', 'true or false');
  if (t.cacheHitPricePerMillion !== undefined) need('cacheHitPricePerMillion', isPrice, 'a number >= 0');
  const result: TierPricing = {
    tierIndex: t.tierIndex as number,
    startTokens: t.startTokens as number,
    endTokens: t.endTokens as number,
    inputPricePerMillion: t.inputPricePerMillion as number,
    outputPricePerMillion: t.outputPricePerMillion as number,
    supportCache: (t.supportCache as boolean | undefined) ?? false,
    cacheHitPricePerMillion: (t.cacheHitPricePerMillion as number | undefined) ?? 0,
  };
  if (result.endTokens !== -1 && result.endTokens < result.startTokens)
    throw new UserError(`${where}: tier ${result.tierIndex} ends (${result.endTokens}) before it starts (${result.startTokens})`);
  return result;
}

/**
 * A tier list: an array of `TierPricing` objects as `getModelBilling` returns them (the cache fields
 * optional). Overlaps are always refused; gaps unless `allowGaps`.
 */
export function checkTierList(where: string, input: unknown, allowGaps: boolean): TierPricing[] {
  if (!Array.isArray(input)) throw new UserError(`${where} must be a JSON array of tiers (as in \`llm-monitor pricing show MODEL --format json\`'s tierPricing)`);
  const tiers = input.map((t, i) => tier(where, t, i));
  const seen = new Set<number>();
  for (const t of tiers) {
    if (seen.has(t.tierIndex)) throw new UserError(`${where}: tier index ${t.tierIndex} appears twice`);
    seen.add(t.tierIndex);
  }
  for (const problem of tierProblems(tiers)) {
    if (problem.kind === 'overlap') throw new UserError(`${where}: ${problem.message}; a request there would be priced by the lower index only`);
    if (!allowGaps) throw new UserError(`${where}: ${problem.message}; such requests would be unpriced (add --allow-gaps to accept that)`);
  }
  return [...tiers].sort((a, b) => a.tierIndex - b.tierIndex);
}

/** What `pricing import` writes for one model: any subset of `ModelBilling`; range tiers only. */
export interface BillingUpdate {
  useTierPricing?: boolean;
  hourlyPrice?: number;
  tierPricing?: TierPricing[];
}

export function checkBillingUpdate(where: string, input: unknown, allowGaps: boolean): BillingUpdate {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new UserError(`${where} must be an object like {"useTierPricing":true,"hourlyPrice":0,"tierPricing":[…]}`);
  const b = input as Partial<ModelBilling> & Record<string, unknown>;
  const unknown = Object.keys(b).filter((key) => !BILLING_KEYS.includes(key));
  if (unknown.length > 0) throw new UserError(`${where} has unknown field ${quote(unknown[0]!)} (expected ${BILLING_KEYS.join(', ')})`);
  if (Array.isArray(b.tierWindows) && b.tierWindows.length > 0)
    throw new UserError(`${where} has tierWindows (2-D tiers of LLM-Manager v2.5+ files), which llm-monitor reads but cannot write; give tierPricing instead`);
  if (b.tierWindows !== undefined && !Array.isArray(b.tierWindows)) throw new UserError(`${where}: tierWindows must be an array`);
  const update: BillingUpdate = {};
  if (b.useTierPricing !== undefined) {
    if (typeof b.useTierPricing !== 'boolean') throw new UserError(`${where}: useTierPricing must be true or false (got ${JSON.stringify(b.useTierPricing)})`);
    update.useTierPricing = b.useTierPricing;
  }
  if (b.hourlyPrice !== undefined) {
    if (!isPrice(b.hourlyPrice)) throw new UserError(`${where}: hourlyPrice must be a number >= 0 (got ${JSON.stringify(b.hourlyPrice)})`);
    update.hourlyPrice = b.hourlyPrice;
  }
  // an exported model with 2-D windows has `tierPricing: []` beside them: nothing to write then
  if (b.tierPricing !== undefined && !(Array.isArray(b.tierPricing) && b.tierPricing.length === 0 && b.tierWindows !== undefined))
    // the tiers of a model billed by the hour price nothing: gaps there are harmless (overlaps are still refused)
    update.tierPricing = checkTierList(`${where} tierPricing`, b.tierPricing, allowGaps || update.useTierPricing === false);
  return update;
}
