import { type ModelBilling, type PricingProblem, type TierPricing, pricingProblems, tierProblems } from '@llm-monitor/core';
import { UserError } from '../user-error.js';

/**
 * Tier lists and billing settings read from JSON files (`pricing set-tiers`, `pricing import`), checked
 * by core's rules (`pricingProblems`, `tierProblems`) before anything is written, with messages that
 * name the file, the model, the tier and the JSON field.
 */

/** `tier #2 endTokens`, `hourlyPrice`: where a problem is, as the JSON file spells it. */
function at(path: PricingProblem['path'], skip: number): string {
  const parts = path.slice(skip).map((part, i) => (typeof part === 'number' ? `${i === 0 ? 'tier' : 'item'} #${part + 1}` : part));
  return parts.length > 0 ? `${parts.join(' ')}: ` : '';
}

/** The first error of a billing-shaped JSON value, as a one-line error. */
function refuseErrors(where: string, problems: readonly PricingProblem[], skip: number): void {
  const error = problems.find((p) => p.severity === 'error');
  if (error) throw new UserError(`${where}: ${at(error.path, skip)}${error.message}`);
}

/** Overlaps are always refused (a request there is priced by the lower index only); gaps unless `allowGaps`. */
function refuseCoverage(where: string, tiers: readonly TierPricing[], allowGaps: boolean): void {
  for (const problem of tierProblems(tiers)) {
    if (problem.kind === 'overlap') throw new UserError(`${where}: ${problem.message}; a request there would be priced by the lower index only`);
    if (!allowGaps) throw new UserError(`${where}: ${problem.message}; such requests would be unpriced (add --allow-gaps to accept that)`);
  }
}

const withDefaults = (t: TierPricing): TierPricing => ({ ...t, supportCache: t.supportCache ?? false, cacheHitPricePerMillion: t.cacheHitPricePerMillion ?? 0 });

/**
 * A tier list: an array of `TierPricing` objects as `getModelBilling` returns them (the cache fields
 * optional). Overlaps are always refused; gaps unless `allowGaps`.
 */
export function checkTierList(where: string, input: unknown, allowGaps: boolean): TierPricing[] {
  if (!Array.isArray(input)) throw new UserError(`${where} must be a JSON array of tiers (as in \`llm-monitor pricing show MODEL --format json\`'s tierPricing)`);
  refuseErrors(where, pricingProblems({ tierPricing: input }), 1);
  const tiers = (input as TierPricing[]).map(withDefaults);
  refuseCoverage(where, tiers, allowGaps);
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
  const b = input as Partial<ModelBilling>;
  if (Array.isArray(b.tierWindows) && b.tierWindows.length > 0)
    throw new UserError(`${where} has tierWindows (2-D tiers of LLM-Manager v2.5+ files), which llm-monitor reads but cannot write; give tierPricing instead`);
  refuseErrors(where, pricingProblems(input), 0);
  const update: BillingUpdate = {};
  if (b.useTierPricing !== undefined) update.useTierPricing = b.useTierPricing;
  if (b.hourlyPrice !== undefined) update.hourlyPrice = b.hourlyPrice;
  // an exported model with 2-D windows has `tierPricing: []` beside them: nothing to write then
  if (b.tierPricing !== undefined && !(b.tierPricing.length === 0 && b.tierWindows !== undefined))
    // the tiers of a model billed by the hour price nothing: gaps there are harmless (overlaps are still refused)
    update.tierPricing = checkTierList(`${where} tierPricing`, b.tierPricing, allowGaps || update.useTierPricing === false);
  return update;
}
