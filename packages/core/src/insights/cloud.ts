import { type ModelInfo, type ModelPrice, type Provider, type Usage, calcPrice, findProvider } from '@pydantic/genai-prices';
import { MonitorError, describeValue } from '../errors.js';
import type { Aggregation } from '../analytics/aggregate.js';
import { UNUSABLE_ROWS } from '../analytics/aggregate.js';
import { eachGroup, priced, subWindow, sumsAt, summarize } from '../analytics/report.js';
import type { ReportOptions } from '../analytics/report.js';
import { SLOT_SECONDS } from '../time/time-zone.js';
import { type Figure, known, sum, unknown } from './figure.js';
import { billedCost } from './insights.js';

/**
 * What the same usage would cost on a cloud API, priced with the `@pydantic/genai-prices` catalog (its
 * data ships inside the package: nothing is fetched at run time). Every request's input, output and
 * cache-read tokens are priced at the chosen provider model with the catalog's own rules: its tiers (the
 * price of a whole request is set by its input size), its cache-read prices (input tokens without
 * one are billed as input) and its time constraints (a price change from a date, an off-peak discount).
 *
 * The catalog prices a request by its input size only through tier thresholds, and linearly in its
 * tokens otherwise, so requests on the same side of every threshold and under the same time constraint
 * cost the sum of their parts: the groups of the aggregation are merged into one group per threshold
 * band and price variant, and each is priced with one catalog call. A group whose requests straddle a
 * threshold (the scan did not split there: see {@link cloudInputBounds}) is not priced and is counted.
 *
 * This module is the `@llm-monitor/core/cloud` entry, apart from the main one, so that an app that does
 * not compare with cloud prices does not load the catalog (about 800 kB of data).
 */

/** The catalog that prices the comparison: its npm package and the version installed with this core. */
export const CLOUD_CATALOG = { name: '@pydantic/genai-prices', version: '0.1.8' } as const;

/** A provider model of the catalog to compare with, resolved from `provider:model` (or a model id alone). */
export interface CloudModel {
  /** As given, e.g. `openai:gpt-4o-mini`. */
  ref: string;
  providerId: string;
  providerName: string;
  modelId: string;
  modelName: string;
  /** The most tokens a request may have, per the catalog; null when it does not say. */
  contextWindow: number | null;
  /**
   * Input-token counts above which the catalog charges other prices (its tiers: a request with more
   * input tokens than a threshold is priced, whole, at that tier). Ascending; empty when flat.
   */
  thresholds: number[];
  /** The prices as the catalog lists them (per million tokens in USD; one entry per time constraint). */
  prices: ModelInfo['prices'];
  pricingUrls: string[];
}

const usage = (input: number, output: number, cacheRead: number): Usage => ({ input_tokens: input, output_tokens: output, cache_read_tokens: cacheRead });

/** The tier thresholds of every price of a model (every time variant). */
function thresholdsOf(prices: ModelInfo['prices']): number[] {
  const variants: ModelPrice[] = Array.isArray(prices) ? prices.map((p) => p.prices) : [prices];
  const starts = new Set<number>();
  for (const variant of variants)
    for (const value of Object.values(variant)) if (typeof value === 'object' && value !== null) for (const tier of value.tiers) starts.add(tier.start);
  return [...starts].sort((a, b) => a - b);
}

/**
 * The catalog model named by `ref`: `provider:model` (`openai:gpt-4o-mini`, `google:gemini-2.5-pro`), or a
 * model id alone (the catalog picks the provider). INVALID_INPUT naming it when the catalog has none.
 */
export function cloudModel(ref: string): CloudModel {
  const { found } = lookUp(ref);
  return {
    ref: ref.trim(),
    providerId: found.provider.id,
    providerName: found.provider.name,
    modelId: found.model.id,
    modelName: found.model.name ?? found.model.id,
    contextWindow: found.model.context_window ?? null,
    thresholds: thresholdsOf(found.model.prices),
    prices: found.model.prices,
    pricingUrls: found.provider.pricing_urls ?? [],
  };
}

/**
 * The input bounds to aggregate with (`monitor.aggregate({ inputBounds })`) so that every group lies
 * within one tier of each cloud model's prices and on one side of its context window.
 */
export function cloudInputBounds(models: readonly CloudModel[]): number[] {
  const bounds = new Set<number>();
  for (const m of models) {
    for (const t of m.thresholds) bounds.add(t + 1);
    if (m.contextWindow !== null) bounds.add(m.contextWindow + 1);
  }
  return [...bounds].sort((a, b) => a - b);
}

export interface CloudOptions extends ReportOptions {
  /** The catalog models to compare with (see {@link cloudModel}). */
  targets: readonly CloudModel[];
  /**
   * What one unit of the file's currency is worth in USD (1 when the prices are in USD). The file stores
   * prices without a currency, so without it the saving is not known.
   */
  usdPerUnit?: number;
}

export interface CloudFigures {
  requests: Figure;
  /** What the requests would cost at the cloud model (USD). */
  cloudCost: Figure;
  /** What they cost as billed here (the file's currency). */
  localCost: Figure;
  /** The same in USD (localCost × usdPerUnit). */
  localCostUsd: Figure;
  /** cloudCost − localCostUsd: what running the model yourself saved (negative: the cloud would cost less). */
  saving: Figure;
  /** Requests whose input alone is more than the cloud model takes (priced anyway, as the catalog prices them). */
  overContextWindow: Figure;
}

export interface CloudTargetComparison {
  model: CloudModel;
  models: (CloudFigures & { name: string })[];
  total: CloudFigures;
}

export interface CloudComparison {
  catalog: { name: string; version: string };
  from: number | null;
  to: number | null;
  usdPerUnit: number | null;
  targets: CloudTargetComparison[];
}

/** Merged requests the catalog prices alike: one band of thresholds, one time variant. */
interface Bucket {
  requests: number;
  input: number;
  output: number;
  cacheRead: number;
  /** A time at which the variant is in force. */
  at: number;
}

/** The catalog's own lookup of `ref`: its provider and model, and the model id that matched. */
function lookUp(ref: string): { found: NonNullable<ReturnType<typeof calcPrice>>; modelId: string; providerId: string | undefined } {
  if (typeof ref !== 'string' || ref.trim() === '')
    throw new MonitorError('INVALID_INPUT', `Invalid cloud model: got ${describeValue(ref)} (expected provider:model, e.g. openai:gpt-4o-mini).`, { value: ref });
  const text = ref.trim();
  const colon = text.indexOf(':');
  const providerId = colon > 0 ? text.slice(0, colon) : undefined;
  const modelId = colon > 0 ? text.slice(colon + 1) : text;
  if (providerId !== undefined && !findProvider({ providerId }))
    throw new MonitorError(
      'INVALID_INPUT',
      `Unknown cloud provider ${describeValue(providerId)} in ${describeValue(ref)}: ${CLOUD_CATALOG.name} ${CLOUD_CATALOG.version} has no such provider (e.g. openai, anthropic, google, deepseek, mistral).`,
      { value: ref },
    );
  const found = calcPrice(usage(0, 0, 0), modelId, providerId === undefined ? {} : { providerId });
  if (!found)
    throw new MonitorError(
      'INVALID_INPUT',
      `Unknown cloud model ${describeValue(ref)}: ${CLOUD_CATALOG.name} ${CLOUD_CATALOG.version} has no model ${describeValue(modelId)}${providerId === undefined ? '' : ` at ${providerId}`} (give provider:model, e.g. openai:gpt-4o-mini).`,
      { value: ref },
    );
  return { found, modelId, providerId };
}

const SLOTS_PER_DAY = 86_400 / SLOT_SECONDS;

/**
 * One catalog model's prices, looked up with the catalog's own function (`calcPrice`) on a provider
 * holding just that model (the catalog's matching of a whole provider costs far more than the pricing).
 */
class CatalogPricer {
  readonly #thresholds: readonly number[];
  readonly #modelId: string;
  readonly #provider: Provider;
  /** Which parts of a time the price depends on: its UTC date (start-date changes), its UTC time of day (off-peak prices). */
  readonly #byDate: boolean;
  readonly #byTime: boolean;
  readonly #variants = new Map<ModelPrice, number>();
  /** The variant per key of a slot (-1: it changes inside the slot). */
  readonly #byKey = new Map<number, number>();

  constructor(target: CloudModel) {
    const { found, modelId } = lookUp(target.ref);
    this.#thresholds = target.thresholds;
    this.#modelId = modelId;
    this.#provider = { ...found.provider, models: [found.model] };
    const constraints = Array.isArray(found.model.prices) ? found.model.prices.map((p) => p.constraint?.type) : [];
    this.#byDate = constraints.includes('start_date');
    this.#byTime = constraints.includes('time_of_date');
  }

  #price(u: Usage, at: number) {
    const result = calcPrice(u, this.#modelId, { provider: this.#provider, timestamp: new Date(at * 1000) });
    if (!result) throw new MonitorError('DRIVER', `Internal error: ${this.#modelId} no longer prices.`, { value: this.#modelId });
    return result;
  }

  #variantAt(t: number): number {
    const prices = this.#price(usage(0, 0, 0), t).model_price;
    let id = this.#variants.get(prices);
    if (id === undefined) this.#variants.set(prices, (id = this.#variants.size));
    return id;
  }

  /**
   * The price variant in force for the requests of a slot from `first` to `last`; null when it changes
   * between them. Prices change only with the UTC date or time of day, so a variant is looked up once per
   * date or time of day, not per slot.
   */
  variant(slot: number, first: number, last: number): number | null {
    if (!this.#byDate && !this.#byTime) return 0;
    const day = Math.floor(slot / SLOTS_PER_DAY);
    const key = (this.#byDate ? day : 0) * SLOTS_PER_DAY + (this.#byTime ? slot - day * SLOTS_PER_DAY : 0);
    let id = this.#byKey.get(key);
    if (id === undefined) {
      // the stretch of time the key stands for: its slot, or (by date alone) its UTC day
      const [from, to] = this.#byTime ? [slot * SLOT_SECONDS, (slot + 1) * SLOT_SECONDS] : [day * 86_400, (day + 1) * 86_400];
      const start = this.#variantAt(from);
      this.#byKey.set(key, (id = start === this.#variantAt(to - 0.001) ? start : -1));
    }
    if (id !== -1) return id;
    const a = this.#variantAt(first);
    return a === this.#variantAt(last) ? a : null;
  }

  /** The band of thresholds an input size lies in: how many thresholds it is above. */
  band(input: number): number {
    let band = 0;
    for (const t of this.#thresholds) if (input > t) band++;
    return band;
  }

  /** The catalog's price of a bucket: its mean request, priced once, times the requests (the price is linear within a band). */
  cost(b: Bucket): number {
    const n = b.requests;
    return n * this.#price(usage(b.input / n, b.output / n, b.cacheRead / n), b.at).total_price;
  }
}

/**
 * What the usage of a window would cost at each cloud model, per local model and in total, beside what
 * it cost here and (given `usdPerUnit`) the saving. A what-if `pricing` reprices the local side.
 *
 * @example
 * const gpt = cloudModel('openai:gpt-4o-mini');
 * const scan = await monitor.aggregate({ from, to, inputBounds: cloudInputBounds([gpt]) });
 * const { targets } = compareWithCloud(scan, { targets: [gpt], usdPerUnit: 1 });
 */
export function compareWithCloud(aggregation: Aggregation, options: CloudOptions): CloudComparison {
  const window = subWindow(aggregation, options);
  const models = priced(aggregation, options);
  const summary = summarize(aggregation, options);
  const { targets, usdPerUnit } = options;
  if (!Array.isArray(targets) || targets.length === 0)
    throw new MonitorError('INVALID_INPUT', `Invalid targets: got ${describeValue(targets)} (expected at least one cloud model from cloudModel()).`, { value: targets });
  if (usdPerUnit !== undefined && !(typeof usdPerUnit === 'number' && Number.isFinite(usdPerUnit) && usdPerUnit > 0))
    throw new MonitorError('INVALID_INPUT', `Invalid usdPerUnit: got ${describeValue(usdPerUnit)} (expected the USD value of one unit of the file's currency, a number > 0).`, {
      value: usdPerUnit,
    });
  const NO_RATE = 'the file’s prices have no currency: give what one unit is worth in USD (usdPerUnit, or --usd-rate; 1 when they are in USD)';

  const compared = targets.map((target): CloudTargetComparison => {
    const pricer = new CatalogPricer(target);
    const cw = target.contextWindow;
    const rows = models.map((p, m) => {
      const { groups } = p.model;
      const buckets = new Map<string, Bucket>();
      let requests = 0;
      let straddling = 0;
      let over = 0;
      let maybeOver = 0;
      eachGroup(groups, window, (i) => {
        if (groups.tier[i] === UNUSABLE_ROWS) return;
        const n = groups.requests[i]!;
        requests += n;
        const min = groups.minInput[i]!;
        const max = groups.maxInput[i]!;
        if (cw !== null) {
          if (min > cw) over += n;
          else if (max > cw) maybeOver += n;
        }
        const band = pricer.band(min);
        const slot = groups.slot[i]!;
        const variant = Number.isNaN(slot) ? pricer.variant(Math.floor(groups.firstAt[i]! / SLOT_SECONDS), groups.firstAt[i]!, groups.lastAt[i]!) : pricer.variant(slot, groups.firstAt[i]!, groups.lastAt[i]!);
        if (band !== pricer.band(max) || variant === null) {
          straddling += n;
          return;
        }
        const key = `${variant}:${band}`;
        const s = sumsAt(groups, i);
        const b = buckets.get(key);
        if (b) {
          b.requests += n;
          b.input += s.inputTokens;
          b.output += s.outputTokens;
          b.cacheRead += s.cacheHits;
        } else buckets.set(key, { requests: n, input: s.inputTokens, output: s.outputTokens, cacheRead: s.cacheHits, at: groups.firstAt[i]! });
      });
      let cloud = 0;
      for (const b of buckets.values()) cloud += pricer.cost(b);
      const straddleNote =
        straddling > 0
          ? `leaves out ${straddling} requests whose group straddles a price threshold or change of the cloud model (aggregate with inputBounds: cloudInputBounds(…))`
          : undefined;
      const cloudCost = requests > 0 && straddling === requests ? unknown('USD', straddleNote!) : known(cloud, 'USD', straddleNote);
      const localCost = billedCost(p, summary.models[m]!);
      const localCostUsd: Figure =
        localCost.value === null ? unknown('USD', localCost.reason!) : usdPerUnit === undefined ? unknown('USD', NO_RATE) : known(localCost.value * usdPerUnit, 'USD', localCost.reason);
      const saving: Figure =
        cloudCost.value === null
          ? unknown('USD', cloudCost.reason!)
          : localCostUsd.value === null
            ? unknown('USD', localCostUsd.reason!)
            : known(cloudCost.value - localCostUsd.value, 'USD', [cloudCost.reason, localCostUsd.reason].filter(Boolean).join('; ') || undefined);
      const overContextWindow: Figure =
        cw === null
          ? unknown('requests', `the catalog gives no context window for ${target.modelId}`)
          : known(over, 'requests', maybeOver > 0 ? `and up to ${maybeOver} more (the scan did not split at ${cw + 1} input tokens)` : undefined);
      return { name: p.model.name, requests: known(requests, 'requests'), cloudCost, localCost, localCostUsd, saving, overContextWindow };
    });
    const total = (pick: (r: CloudFigures) => Figure, unit: Figure['unit']) => sum(rows.map((r) => ({ label: r.name, figure: pick(r) })), unit);
    return {
      model: target,
      models: rows,
      total: {
        requests: total((r) => r.requests, 'requests'),
        cloudCost: total((r) => r.cloudCost, 'USD'),
        localCost: total((r) => r.localCost, 'currency'),
        localCostUsd: total((r) => r.localCostUsd, 'USD'),
        saving: total((r) => r.saving, 'USD'),
        overContextWindow: total((r) => r.overContextWindow, 'requests'),
      },
    };
  });
  return { catalog: { ...CLOUD_CATALOG }, from: window.from, to: window.to, usdPerUnit: usdPerUnit ?? null, targets: compared };
}
