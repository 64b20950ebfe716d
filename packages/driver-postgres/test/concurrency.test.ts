import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Monitor, createPostgresDriver, getSafeModelName } from '../src/index.js';
import { PG_URL, SUITE_TITLE, newSchema, pgAvailable } from './harness.js';

const WRITER = fileURLToPath(new URL('./concurrency/writer.mjs', import.meta.url));

interface Report {
  writer: number;
  rowsWritten: number;
  errors: { what: string; code: string; message: string }[];
  registered: string[];
  startedAt: number;
  ms: number;
}

/** Forks one writer per config (the built package), starts them all at the same instant, and collects their reports. */
async function runWriters(configs: Record<string, unknown>[]): Promise<Report[]> {
  const children = configs.map((config) => fork(WRITER, [JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const ready = children.map((child) => new Promise<void>((resolve) => child.on('message', (m: { type: string }) => m.type === 'ready' && resolve())));
  const done = children.map(
    (child, i) =>
      new Promise<Report>((resolve, reject) => {
        child.on('message', (m: { type: string; report: Report }) => m.type === 'done' && resolve(m.report));
        child.on('exit', (code) => reject(new Error(`writer ${i} exited with code ${code} before reporting`)));
      }),
  );
  await Promise.all(ready);
  const at = Date.now() + 300;
  for (const child of children) child.send({ type: 'go', at });
  return Promise.all(done);
}

/** What writer.mjs writes for (writer, seq). */
const requestValues = (w: number, seq: number) => {
  const inputTokens = w * 1_000_000 + seq;
  const cacheN = seq % 4;
  return {
    timestamp: 1_700_000_000 + w * 100_000 + seq,
    inputTokens,
    outputTokens: (seq * 37 + w) % 10_007,
    cacheN,
    promptN: cacheN === 0 ? 0 : inputTokens - cacheN,
  };
};

async function tableNames(monitor: Monitor): Promise<string[]> {
  return (await monitor.describe()).models.flatMap((m) => (m.safeName ? [m.safeName] : []));
}

describe.skipIf(!pgAvailable)(`${SUITE_TITLE}: many processes on one schema`, () => {
  it('8 processes record concurrently into one schema: no row lost or duplicated, counts exact', async () => {
    const schema = await newSchema({ create: false }); // the writers create it, all at once
    const WRITERS = 8;
    const ROWS = 1500;
    const SHARED = 'shared-model (registered by all 8 at once)';
    const reports = await runWriters(
      Array.from({ length: WRITERS }, (_, writer) => ({ job: 'record', url: PG_URL, schema, writer, rows: ROWS, sharedModel: SHARED })),
    );
    for (const report of reports) {
      expect(report.errors, `writer ${report.writer}`).toEqual([]);
      expect(report.rowsWritten).toBe(ROWS);
    }

    const monitor = await Monitor.open(createPostgresDriver(PG_URL, { schema }));
    try {
      const models = (await monitor.listModels()).map((m) => m.name);
      expect([...models].sort()).toEqual([SHARED, ...Array.from({ length: WRITERS }, (_, w) => `writer-${w}`)].sort());
      expect(new Set(await tableNames(monitor)).size).toBe(WRITERS + 1);

      const shared = await monitor.getModelRequests(SHARED);
      expect(shared).toHaveLength((WRITERS * ROWS) / 2);
      expect(new Set(shared.map((r) => r.id)).size).toBe(shared.length);
      const byInput = new Map(shared.map(({ id: _, ...r }) => [r.inputTokens, r]));
      expect(byInput.size).toBe(shared.length);
      for (let w = 0; w < WRITERS; w++) {
        const own = await monitor.getModelRequests(`writer-${w}`);
        expect(own).toHaveLength(ROWS / 2);
        expect(new Set(own.map((r) => r.id)).size).toBe(own.length);
        expect(own.map(({ id: _, ...r }) => r).sort((a, b) => a.inputTokens - b.inputTokens)).toEqual(
          Array.from({ length: ROWS / 2 }, (_, k) => requestValues(w, 2 * k + 1)),
        );
        for (let seq = 0; seq < ROWS; seq += 2) expect(byInput.get(w * 1_000_000 + seq)).toEqual(requestValues(w, seq));
        expect(await monitor.getModelRuntime(`writer-${w}`)).toEqual([{ id: 1, startTime: 1_650_000_000 + w, endTime: 1_650_000_100 + w }]);
      }
      expect(await monitor.getModelRuntime(SHARED)).toHaveLength(WRITERS);
      expect(await monitor.getProgramRuntime()).toHaveLength(WRITERS);
      const summary = await monitor.summary();
      expect(summary.total.requests).toBe(WRITERS * ROWS);
    } finally {
      await monitor.close();
    }
  });

  it('two processes registering the same new models at the same moment both succeed, with one set of tables', async () => {
    const schema = await newSchema();
    const names = Array.from({ length: 20 }, (_, i) => `brand-new-${i}`);
    const setup = await Monitor.open(createPostgresDriver(PG_URL, { schema }));
    await setup.close();
    const reports = await runWriters([0, 1].map((writer) => ({ job: 'register', url: PG_URL, schema, writer, names })));
    for (const report of reports) {
      expect(report.errors, `writer ${report.writer}`).toEqual([]);
      expect(report.registered).toEqual(names.map(getSafeModelName));
    }
    expect(Math.abs(reports[0]!.startedAt - reports[1]!.startedAt)).toBeLessThan(50);

    const monitor = await Monitor.open(createPostgresDriver(PG_URL, { schema }), { readOnly: true });
    try {
      expect((await monitor.listModels()).map((m) => m.name).sort()).toEqual([...names].sort());
      const description = await monitor.describe();
      expect(description.problems).toEqual([]);
      for (const model of description.models) expect(model).toMatchObject({ shape: 'S3', requests: 0, runs: 0, tiers: 1, billingMethod: 'tier' });
    } finally {
      await monitor.close();
    }
  });
});
