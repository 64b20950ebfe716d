import { type Aggregation, type Monitor, csvLine } from '@llm-monitor/core';
import type { RequestRow, RequestsQuery } from './protocol.js';

const SLOT_SECONDS = 900;
/** An export reads the file this many requests at a time (or one 15-minute slot, if more). */
const EXPORT_CHUNK = 50_000;

interface Histogram {
  /** Ascending 15-minute slots holding requests of the view, and how many each holds. */
  slots: number[];
  counts: number[];
  /** counts summed before each slot (`cumulative[i]` = requests in slots[0..i)); one entry more than slots. */
  cumulative: number[];
}

/**
 * The requests of a file, in time order, a page at a time, without holding them: the aggregation counts
 * every model's requests per 15-minute slot, which places any rank of a time-ordered view in a slot, so a
 * page reads just the slots it needs through core's `iterateRequests` (a keyset scan, one window per
 * model). Exports walk the view a chunk of slots at a time the same way.
 */
export class RequestPages {
  readonly #models: string[];
  /** Per model: slot → requests. */
  readonly #perSlot: Map<string, Map<number, number>>;
  #cached: { key: string; histogram: Histogram } | null = null;

  constructor(
    readonly monitor: Monitor,
    aggregation: Aggregation,
  ) {
    this.#models = aggregation.models.map((m) => m.name);
    this.#perSlot = new Map(
      aggregation.models.map((m) => {
        const counts = new Map<number, number>();
        const g = m.groups;
        for (let i = 0; i < g.length; i++) counts.set(g.slot[i]!, (counts.get(g.slot[i]!) ?? 0) + g.requests[i]!);
        return [m.name, counts];
      }),
    );
  }

  #selected(query: RequestsQuery): string[] {
    return query.model === null ? this.#models : this.#models.filter((m) => m === query.model);
  }

  #histogram(query: RequestsQuery): Histogram {
    const key = JSON.stringify([query.from, query.to, query.model]);
    if (this.#cached?.key === key) return this.#cached.histogram;
    const from = query.from === null ? Number.NEGATIVE_INFINITY : query.from / SLOT_SECONDS;
    const to = query.to === null ? Number.POSITIVE_INFINITY : query.to / SLOT_SECONDS;
    const merged = new Map<number, number>();
    for (const model of this.#selected(query))
      for (const [slot, count] of this.#perSlot.get(model) ?? []) if (slot >= from && slot < to) merged.set(slot, (merged.get(slot) ?? 0) + count);
    const slots = [...merged.keys()].sort((a, b) => a - b);
    const counts = slots.map((s) => merged.get(s)!);
    const cumulative = [0];
    for (const c of counts) cumulative.push(cumulative[cumulative.length - 1]! + c);
    const histogram = { slots, counts, cumulative };
    this.#cached = { key, histogram };
    return histogram;
  }

  /** The requests of slots `slots[i..j]` for the view's models, in ascending time order. */
  async #read(query: RequestsQuery, h: Histogram, i: number, j: number): Promise<RequestRow[]> {
    const from = Math.max(h.slots[i]! * SLOT_SECONDS, query.from ?? Number.NEGATIVE_INFINITY);
    const to = Math.min((h.slots[j]! + 1) * SLOT_SECONDS, query.to ?? Number.POSITIVE_INFINITY);
    const rows: RequestRow[] = [];
    const models = this.#selected(query);
    for (const model of models)
      for await (const batch of this.monitor.iterateRequests(model, { from, to }))
        for (const r of batch) rows.push({ id: r.id, model, timestamp: r.timestamp, inputTokens: r.inputTokens, outputTokens: r.outputTokens, cacheN: r.cacheN, promptN: r.promptN });
    const order = new Map(models.map((m, k) => [m, k]));
    return rows.sort((a, b) => a.timestamp - b.timestamp || order.get(a.model)! - order.get(b.model)! || a.id - b.id);
  }

  /** The first slot index whose requests reach past ascending rank `rank`. */
  #slotOf(h: Histogram, rank: number): number {
    let lo = 0;
    let hi = h.slots.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (h.cumulative[mid + 1]! > rank) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  async page(query: RequestsQuery): Promise<{ rows: RequestRow[]; total: number; page: number }> {
    const h = this.#histogram(query);
    const total = h.cumulative[h.cumulative.length - 1]!;
    const pages = Math.max(1, Math.ceil(total / query.pageSize));
    const page = Math.min(Math.max(0, query.page), pages - 1);
    if (total === 0) return { rows: [], total, page };
    // the page's ranks in ascending time order
    const first = page * query.pageSize;
    const end = Math.min(total, first + query.pageSize);
    const [a, b] = query.descending ? [total - end, total - first] : [first, end];
    const i = this.#slotOf(h, a);
    const j = this.#slotOf(h, b - 1);
    const rows = (await this.#read(query, h, i, j)).slice(a - h.cumulative[i]!, b - h.cumulative[i]!);
    return { rows: query.descending ? rows.reverse() : rows, total, page };
  }

  /** The whole view (every page) as a file, read a chunk of slots at a time. */
  async export(query: RequestsQuery, format: 'csv' | 'json'): Promise<{ blob: Blob; rows: number }> {
    const h = this.#histogram(query);
    const chunks: [number, number][] = [];
    for (let i = 0; i < h.slots.length; ) {
      let j = i;
      while (j + 1 < h.slots.length && h.cumulative[j + 2]! - h.cumulative[i]! <= EXPORT_CHUNK) j++;
      chunks.push([i, j]);
      i = j + 1;
    }
    if (query.descending) chunks.reverse();
    const parts: string[] = [format === 'csv' ? csvLine(['id', 'model', 'timestamp', 'time_utc', 'input_tokens', 'output_tokens', 'cache_n', 'prompt_n']) : '['];
    let written = 0;
    for (const [i, j] of chunks) {
      const rows = await this.#read(query, h, i, j);
      if (query.descending) rows.reverse();
      let text = '';
      for (const r of rows) {
        const time = new Date(r.timestamp * 1000).toISOString();
        text +=
          format === 'csv'
            ? csvLine([r.id, r.model, r.timestamp, time, r.inputTokens, r.outputTokens, r.cacheN, r.promptN])
            : `${written === 0 ? '\n' : ',\n'}${JSON.stringify({ ...r, timeUtc: time })}`;
        written++;
      }
      parts.push(text);
    }
    if (format === 'json') parts.push(written === 0 ? ']\n' : '\n]\n');
    return { blob: new Blob(parts, { type: format === 'csv' ? 'text/csv;charset=utf-8' : 'application/json' }), rows: written };
  }
}
