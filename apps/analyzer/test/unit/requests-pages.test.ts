import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Monitor } from '@llm-monitor/core';
import { openMonitor } from '@llm-monitor/driver-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestsQuery } from '../../src/worker/protocol.js';
import { RequestPages } from '../../src/worker/requests-pages.js';

/** Paging through a real file with core's aggregation and iterateRequests, against the whole list sorted here. */

const MODELS = ['alpha', 'beta', '深度求索'];
const T0 = 1_710_000_000 - (1_710_000_000 % 900);
const dir = mkdtempSync(join(tmpdir(), 'analyzer-pages-'));
let monitor: Monitor;
let pages: RequestPages;
const all: { id: number; model: string; timestamp: number; inputTokens: number }[] = [];

beforeAll(async () => {
  monitor = await openMonitor(join(dir, 'pages.db'), { models: MODELS });
  let seed = 7;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  for (const [m, model] of MODELS.entries()) {
    const rows: [number, number, number][] = [];
    for (let i = 0; i < 300 + 50 * m; i++) {
      // bursts inside a few slots, equal timestamps across models, and requests recorded out of time order
      const t = T0 + Math.floor(random() * 40) * 450 + (i % 5 === 0 ? 0 : Math.floor(random() * 450));
      rows.push([t, 100 * m + i, 1]);
    }
    await monitor.addModelRequests(model, rows);
    (await monitor.getModelRequests(model)).forEach((r) => all.push({ id: r.id, model, timestamp: r.timestamp, inputTokens: r.inputTokens }));
  }
  pages = new RequestPages(monitor, await monitor.aggregate());
});

afterAll(async () => {
  await monitor.close();
  rmSync(dir, { recursive: true, force: true });
});

const order = (a: (typeof all)[number], b: (typeof all)[number]) => a.timestamp - b.timestamp || MODELS.indexOf(a.model) - MODELS.indexOf(b.model) || a.id - b.id;

function expected(query: RequestsQuery) {
  const rows = all
    .filter((r) => (query.model === null || r.model === query.model) && r.timestamp >= (query.from ?? -Infinity) && r.timestamp < (query.to ?? Infinity))
    .sort(order);
  return query.descending ? rows.reverse() : rows;
}

describe('requests, a page at a time', () => {
  for (const view of [
    { model: null, from: null, to: null },
    { model: 'beta', from: null, to: null },
    { model: null, from: T0 + 5 * 900, to: T0 + 12 * 900 },
  ])
    for (const descending of [false, true])
      it(`every page equals the sorted list: ${JSON.stringify(view)}, ${descending ? 'newest' : 'oldest'} first`, async () => {
        const base: RequestsQuery = { ...view, descending, page: 0, pageSize: 37 };
        const want = expected(base);
        const got: typeof want = [];
        const count = Math.ceil(want.length / base.pageSize);
        for (let page = 0; page < count; page++) {
          const result = await pages.page({ ...base, page });
          expect(result).toMatchObject({ total: want.length, page });
          got.push(...result.rows.map((r) => ({ id: r.id, model: r.model, timestamp: r.timestamp, inputTokens: r.inputTokens })));
        }
        expect(got).toEqual(want);
        expect((await pages.page({ ...base, page: count + 5 })).page).toBe(count - 1);
      });

  it('exports the whole view as CSV and JSON, in its order', async () => {
    const query: RequestsQuery = { model: null, from: null, to: null, descending: true, page: 0, pageSize: 50 };
    const want = expected(query);
    const csv = await pages.export(query, 'csv');
    const lines = (await csv.blob.text()).trimEnd().split('\r\n');
    expect(csv.rows).toBe(want.length);
    expect(lines[0]).toBe('id,model,timestamp,time_utc,input_tokens,output_tokens,cache_n,prompt_n');
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 2).join(','))).toEqual(want.map((r) => `${r.id},${r.model}`));
    const json = JSON.parse(await (await pages.export({ ...query, model: 'alpha' }, 'json')).blob.text()) as { id: number }[];
    expect(json.map((r) => r.id)).toEqual(expected({ ...query, model: 'alpha' }).map((r) => r.id));
  });
});
