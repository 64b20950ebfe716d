import type { Monitor } from '@llm-monitor/core';
import { csvLine } from '../lib/core-rules.js';
import type { RequestRow, RequestsQuery, SortKey } from './protocol.js';

/**
 * Every request of the file in columns (typed arrays), loaded on first use of the Requests view: a million
 * rows take ~52 MB this way instead of ~200 MB as objects. Filtering, sorting and paging run here in the
 * worker; the page receives one page at a time. core offers requests per model, newest first, without
 * paging (`getModelRequests`), so the whole table is read once and kept.
 */
export class RequestsTable {
  readonly models: string[];
  readonly #model: Uint32Array;
  readonly #id: Float64Array;
  readonly #timestamp: Float64Array;
  readonly #input: Float64Array;
  readonly #output: Float64Array;
  readonly #cacheN: Float64Array;
  readonly #promptN: Float64Array;
  readonly size: number;
  /** The last filtered and sorted view, so that paging through it costs nothing. */
  #view: { key: string; rows: Uint32Array } | null = null;

  private constructor(models: string[], columns: Float64Array[], model: Uint32Array, size: number) {
    this.models = models;
    [this.#id, this.#timestamp, this.#input, this.#output, this.#cacheN, this.#promptN] = columns as [
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
    ];
    this.#model = model;
    this.size = size;
  }

  static async load(monitor: Monitor, models: readonly { name: string; requests: number }[]): Promise<RequestsTable> {
    let capacity = models.reduce((sum, m) => sum + m.requests, 0);
    let columns: Float64Array<ArrayBuffer>[] = Array.from({ length: 6 }, () => new Float64Array(capacity));
    let modelColumn = new Uint32Array(capacity);
    let size = 0;
    for (const [index, { name }] of models.entries()) {
      let requests;
      try {
        requests = await monitor.getModelRequests(name);
      } catch {
        continue; // a model whose tables are half gone has no requests to show
      }
      if (size + requests.length > capacity) {
        capacity = size + requests.length;
        columns = columns.map((c) => grow(c, capacity));
        const m = new Uint32Array(capacity);
        m.set(modelColumn);
        modelColumn = m;
      }
      for (const r of requests) {
        columns[0]![size] = r.id;
        columns[1]![size] = r.timestamp;
        columns[2]![size] = r.inputTokens;
        columns[3]![size] = r.outputTokens;
        columns[4]![size] = r.cacheN;
        columns[5]![size] = r.promptN;
        modelColumn[size] = index;
        size++;
      }
    }
    return new RequestsTable(
      models.map((m) => m.name),
      columns,
      modelColumn,
      size,
    );
  }

  /** Row numbers matching the query's range and model, in its order. */
  select(query: RequestsQuery): Uint32Array {
    const key = JSON.stringify([query.from, query.to, query.model, query.sort, query.descending]);
    if (this.#view?.key === key) return this.#view.rows;
    const from = query.from ?? Number.NEGATIVE_INFINITY;
    const to = query.to ?? Number.POSITIVE_INFINITY;
    const modelIndex = query.model === null ? -1 : this.models.indexOf(query.model);
    const matches = new Uint32Array(this.size);
    let n = 0;
    const ts = this.#timestamp;
    for (let i = 0; i < this.size; i++) {
      if (modelIndex >= 0 && this.#model[i] !== modelIndex) continue;
      const t = ts[i]!;
      if (t >= from && t < to) matches[n++] = i;
    }
    const rows = matches.slice(0, n);
    const sign = query.descending ? -1 : 1;
    const column = this.#column(query.sort);
    const byTime = (a: number, b: number) => ts[a]! - ts[b]! || this.#id[a]! - this.#id[b]!;
    if (query.sort === 'model') {
      const names = this.models;
      rows.sort((a, b) => sign * (compareText(names[this.#model[a]!]!, names[this.#model[b]!]!) || byTime(a, b)));
    } else if (column) rows.sort((a, b) => sign * (column[a]! - column[b]! || byTime(a, b)));
    this.#view = { key, rows };
    return rows;
  }

  row(i: number): RequestRow {
    return {
      id: this.#id[i]!,
      model: this.models[this.#model[i]!]!,
      timestamp: this.#timestamp[i]!,
      inputTokens: this.#input[i]!,
      outputTokens: this.#output[i]!,
      cacheN: this.#cacheN[i]!,
      promptN: this.#promptN[i]!,
    };
  }

  page(query: RequestsQuery): { rows: RequestRow[]; total: number; page: number } {
    const selected = this.select(query);
    const pages = Math.max(1, Math.ceil(selected.length / query.pageSize));
    const page = Math.min(Math.max(0, query.page), pages - 1);
    const rows: RequestRow[] = [];
    for (let k = page * query.pageSize; k < Math.min(selected.length, (page + 1) * query.pageSize); k++) rows.push(this.row(selected[k]!));
    return { rows, total: selected.length, page };
  }

  /** The whole view (every page) as a file. */
  export(query: RequestsQuery, format: 'csv' | 'json'): { blob: Blob; rows: number } {
    const selected = this.select(query);
    const parts: string[] = [];
    let chunk = '';
    const flush = () => {
      parts.push(chunk);
      chunk = '';
    };
    if (format === 'csv') {
      chunk += csvLine(['id', 'model', 'timestamp', 'time_utc', 'input_tokens', 'output_tokens', 'cache_n', 'prompt_n']);
      for (let k = 0; k < selected.length; k++) {
        const r = this.row(selected[k]!);
        chunk += csvLine([r.id, r.model, r.timestamp, isoTime(r.timestamp), r.inputTokens, r.outputTokens, r.cacheN, r.promptN]);
        if (chunk.length > 1 << 20) flush();
      }
      flush();
      return { blob: new Blob(parts, { type: 'text/csv;charset=utf-8' }), rows: selected.length };
    }
    chunk += '[';
    for (let k = 0; k < selected.length; k++) {
      const r = this.row(selected[k]!);
      chunk += `${k === 0 ? '\n' : ',\n'}${JSON.stringify({ ...r, timeUtc: isoTime(r.timestamp) })}`;
      if (chunk.length > 1 << 20) flush();
    }
    chunk += selected.length === 0 ? ']\n' : '\n]\n';
    flush();
    return { blob: new Blob(parts, { type: 'application/json' }), rows: selected.length };
  }

  #column(key: SortKey): Float64Array | null {
    switch (key) {
      case 'timestamp':
        return this.#timestamp;
      case 'inputTokens':
        return this.#input;
      case 'outputTokens':
        return this.#output;
      case 'cacheN':
        return this.#cacheN;
      case 'promptN':
        return this.#promptN;
      default:
        return null;
    }
  }
}

function grow(column: Float64Array, capacity: number): Float64Array<ArrayBuffer> {
  const next = new Float64Array(capacity);
  next.set(column);
  return next;
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function isoTime(epoch: number): string {
  return new Date(epoch * 1000).toISOString();
}
