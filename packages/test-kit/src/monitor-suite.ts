import { Executor, Monitor, type MonitorOptions, getSafeModelName, isMonitorError } from '@llm-monitor/core';
import { afterEach, describe, expect, it } from 'vitest';
import { closeTo, fixtureBytes, fixtureJson } from './fixtures.js';
import type { DriverHarness } from './harness.js';

const LLAMA = 'Llama-3.3-70B-Instruct-Q4_K_M';
const DEEPSEEK = '深度求索-DeepSeek-V3-本地部署';
const ONEIL = `O'Neil "embed" [v2]; DELETE FROM t; --`;

const camel = (name: string) => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** Our getters' output in the fixture JSON's snake_case form (fields the seed did not have dropped). */
const seedRunTime = (r: { id: number; startTime: number; endTime: number }) => ({ id: r.id, start_time: r.startTime, end_time: r.endTime });
const seedRequest = (r: { id: number; timestamp: number; inputTokens: number; outputTokens: number }) => ({
  id: r.id,
  timestamp: r.timestamp,
  input_tokens: r.inputTokens,
  output_tokens: r.outputTokens,
});
function seedBilling(b: Awaited<ReturnType<Monitor['getModelBilling']>>) {
  if (!b) return null;
  return {
    use_tier_pricing: b.useTierPricing,
    hourly_price: b.hourlyPrice,
    tier_pricing: b.tierPricing.map((t) => ({
      tier_index: t.tierIndex,
      start_tokens: t.startTokens,
      end_tokens: t.endTokens,
      input_price_per_million: t.inputPricePerMillion,
      output_price_per_million: t.outputPricePerMillion,
    })),
  };
}

function expectClose(actual: unknown, expected: unknown) {
  expect(closeTo(actual, expected)).toBeNull();
}

async function rejection(promise: Promise<unknown>): Promise<{ code: string; message: string; model?: string }> {
  try {
    await promise;
  } catch (error) {
    if (isMonitorError(error)) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

/** Everything the getters can see, to prove a rejected call wrote nothing. */
async function snapshot(monitor: Monitor) {
  const models = await monitor.listModels();
  const perModel = [];
  for (const m of models)
    perModel.push({
      m,
      runtime: await monitor.getModelRuntime(m.name),
      requests: await monitor.getModelRequests(m.name),
      billing: await monitor.getModelBilling(m.name),
    });
  return { program: await monitor.getProgramRuntime(), perModel };
}

/**
 * The Monitor's behaviour (SPEC §2–§5) on one engine. Every driver runs this suite unchanged.
 */
export function monitorBehaviourSuite(harness: DriverHarness): void {
  describe(`Monitor behaviour: ${harness.name}`, () => {
    const open: Monitor[] = [];
    async function fresh(options: MonitorOptions = {}): Promise<Monitor> {
      const monitor = await Monitor.open(await harness.create(), options);
      open.push(monitor);
      return monitor;
    }
    async function fromFixture(name: 'seed-v1-dev' | 'normalized-v2-dev', options: MonitorOptions = {}): Promise<Monitor> {
      const monitor = await Monitor.open(await harness.fromBytes!(fixtureBytes(name), { readOnly: options.readOnly }), options);
      open.push(monitor);
      return monitor;
    }
    afterEach(async () => {
      await Promise.all(open.splice(0).map((m) => m.close()));
    });
    const withFiles = harness.fromBytes ? it : it.skip;

    describe('names', () => {
      it('hashes names exactly like the original', async () => {
        const monitor = await fresh();
        expect(monitor.getSafeModelName('Qwen3-Coder-30B-A3B-Instruct-UD-64K')).toBe('model_13611871a86e4690');
        expect(getSafeModelName('')).toBe('model_e3b0c44298fc1c14');
        for (const [name, safe] of Object.entries(fixtureJson('seed-v1-dev').get_safe_model_name))
          expect(monitor.getSafeModelName(name)).toBe(safe);
      });

      it('registers the models option at open with the default billing rows', async () => {
        const monitor = await fresh({ models: [LLAMA, DEEPSEEK] });
        expect(await monitor.listModels()).toEqual([
          { name: LLAMA, safeName: 'model_654a3b00b6f00d88', shape: 'S3', writable: true },
          { name: DEEPSEEK, safeName: 'model_b4909960f8a3c9aa', shape: 'S3', writable: true },
        ]);
        expect(await monitor.getModelSafeName(LLAMA)).toBe('model_654a3b00b6f00d88');
        expect(await monitor.getModelSafeName('not-configured-model')).toBeNull();
        expect(await monitor.getModelBilling(LLAMA)).toEqual({
          useTierPricing: true,
          hourlyPrice: 0,
          tierPricing: [
            {
              tierIndex: 1,
              startTokens: 0,
              endTokens: 32768,
              inputPricePerMillion: 0,
              outputPricePerMillion: 0,
              supportCache: false,
              cacheHitPricePerMillion: 0,
            },
          ],
        });
      });

      it('registering twice changes nothing', async () => {
        const monitor = await fresh({ models: [LLAMA] });
        await monitor.updateHourlyPrice(LLAMA, 3);
        const again = await monitor.registerModel(LLAMA);
        expect(again.safeName).toBe('model_654a3b00b6f00d88');
        expect((await monitor.getModelBilling(LLAMA))!.hourlyPrice).toBe(3);
        expect(await monitor.listModels()).toHaveLength(1);
      });

      it('stores names of every kind exactly', async () => {
        const monitor = await fresh();
        const names = [ONEIL, 'x'.repeat(10_000), '🦙 llama', 'مرحبا-model', "'; DROP TABLE model_name_mapping; --", 'a?b?c'];
        for (const name of names) await monitor.addModelRequest(name, [1_710_000_000, 1, 2]);
        expect((await monitor.listModels()).map((m) => m.name)).toEqual(names);
        for (const name of names) expect(await monitor.getModelSafeName(name)).toBe(getSafeModelName(name));
      });

      it('refuses empty names, lone surrogates and NUL characters', async () => {
        const monitor = await fresh();
        for (const name of ['', '\uD800', 'a\uDC00b', 'nul\u0000inside']) {
          const error = await rejection(monitor.registerModel(name));
          expect(error.code).toBe('INVALID_INPUT');
        }
        expect(() => getSafeModelName('\uD83D')).toThrow(/lone UTF-16 surrogate/);
        expect(await monitor.listModels()).toEqual([]);
      });
    });

    describe('runtime', () => {
      it('opens a run with end == start and ends the latest run', async () => {
        const monitor = await fresh();
        expect(await monitor.updateModelRuntimeEnd('m', 5).catch((e) => e.code)).toBe('UNKNOWN_MODEL');
        await monitor.addModelRuntimeStart('m', 1_710_000_000);
        await monitor.addModelRuntimeStart('m', 1_710_000_100.5);
        expect(await monitor.updateModelRuntimeEnd('m', 1_710_000_200.25)).toBe(true);
        expect(await monitor.getModelRuntime('m')).toEqual([
          { id: 2, startTime: 1_710_000_100.5, endTime: 1_710_000_200.25 },
          { id: 1, startTime: 1_710_000_000, endTime: 1_710_000_000 },
        ]);
        expect(await monitor.getModelRuntime('m', 1)).toEqual([{ id: 2, startTime: 1_710_000_100.5, endTime: 1_710_000_200.25 }]);
      });

      it('ends a run by its id, so two recorders of one model do not move each other runs', async () => {
        const monitor = await fresh();
        const first = await monitor.addModelRuntimeStart('m', 1_710_000_000);
        const second = await monitor.addModelRuntimeStart('m', 1_710_000_050);
        expect([first, second]).toEqual([1, 2]);
        expect(await monitor.updateModelRuntimeEnd('m', 1_710_000_100, first)).toBe(true);
        expect(await monitor.updateModelRuntimeEnd('m', 1_710_000_100, 99)).toBe(false);
        expect(await monitor.getModelRuntime('m')).toEqual([
          { id: 2, startTime: 1_710_000_050, endTime: 1_710_000_050 },
          { id: 1, startTime: 1_710_000_000, endTime: 1_710_000_100 },
        ]);
        const program = await monitor.addProgramRuntimeStart(1_710_000_000);
        await monitor.addProgramRuntimeStart(1_710_000_010);
        expect(await monitor.updateProgramRuntimeEnd(1_710_000_020, program)).toBe(true);
        expect((await monitor.getProgramRuntime()).map((r) => [r.id, r.endTime])).toEqual([
          [2, 1_710_000_010],
          [1, 1_710_000_020],
        ]);
        expect((await rejection(monitor.updateModelRuntimeEnd('m', 1_710_000_100, 1.5))).code).toBe('INVALID_INPUT');
      });

      it('records program runs, newest first, with a limit', async () => {
        const monitor = await fresh();
        expect(await monitor.updateProgramRuntimeEnd(10)).toBe(false);
        await monitor.addProgramRuntimeStart(100);
        await monitor.updateProgramRuntimeEnd(150);
        await monitor.addProgramRuntimeStart(200);
        expect(await monitor.getProgramRuntime()).toEqual([
          { id: 2, startTime: 200, endTime: 200 },
          { id: 1, startTime: 100, endTime: 150 },
        ]);
        expect(await monitor.getProgramRuntime(1)).toHaveLength(1);
      });
    });

    describe('requests', () => {
      it('accepts the 3- and 5-element forms and the object form', async () => {
        const monitor = await fresh();
        await monitor.addModelRequest('m', [1_710_000_000.5, 150, 75]);
        await monitor.addModelRequest('m', [1_710_000_001, 1000, 20, 900, 100]);
        await monitor.addModelRequest('m', { timestamp: 1_710_000_002, inputTokens: 7, outputTokens: 8, cacheN: 3 });
        expect(await monitor.getModelRequests('m')).toEqual([
          { id: 3, timestamp: 1_710_000_002, inputTokens: 7, outputTokens: 8, cacheN: 3, promptN: 0 },
          { id: 2, timestamp: 1_710_000_001, inputTokens: 1000, outputTokens: 20, cacheN: 900, promptN: 100 },
          { id: 1, timestamp: 1_710_000_000.5, inputTokens: 150, outputTokens: 75, cacheN: 0, promptN: 0 },
        ]);
      });

      it('filters by the last N minutes, inclusive of the cut-off', async () => {
        const now = 1_710_003_600;
        const monitor = await fresh({ now: () => now });
        for (const t of [now - 3600, now - 1800, now - 1799, now]) await monitor.addModelRequest('m', [t, 1, 1]);
        expect((await monitor.getModelRequests('m', 30)).map((r) => r.timestamp)).toEqual([now, now - 1799, now - 1800]);
        expect(await monitor.getModelRequests('m', 0)).toHaveLength(4);
      });

      it('streams requests page by page in id order, within a window', async () => {
        const monitor = await fresh();
        await monitor.addModelRequests('m', Array.from({ length: 25 }, (_, i) => [1_710_000_000 + i, i, 1] as const));
        const pages: number[][] = [];
        for await (const page of monitor.iterateRequests('m', { pageSize: 10 })) pages.push(page.map((r) => r.inputTokens));
        expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
        expect(pages.flat()).toEqual(Array.from({ length: 25 }, (_, i) => i));
        const windowed: number[] = [];
        for await (const page of monitor.iterateRequests('m', { from: 1_710_000_005, to: 1_710_000_008, pageSize: 2 })) windowed.push(...page.map((r) => r.inputTokens));
        expect(windowed).toEqual([5, 6, 7]);
        // rows recorded during an iteration are not part of it: it covers what existed when it started
        const seenDuring: number[] = [];
        for await (const page of monitor.iterateRequests('m', { pageSize: 10 })) {
          seenDuring.push(...page.map((r) => r.id));
          await monitor.addModelRequest('m', [1_710_000_100, 99, 1]);
        }
        expect(seenDuring).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
        const unknown = monitor.iterateRequests('nope')[Symbol.asyncIterator]().next();
        expect((await rejection(unknown)).code).toBe('UNKNOWN_MODEL');
      });

      it('writes a batch in one transaction: all rows or none', async () => {
        const monitor = await fresh();
        const rows = Array.from({ length: 2000 }, (_, i) => [1_710_000_000 + i, i, 2 * i] as const);
        expect(await monitor.addModelRequests('m', rows)).toBe(2000);
        const error = await rejection(monitor.addModelRequests('m', [[1_710_000_000, 1, 1], [1_710_000_000, -1, 1]]));
        expect(error.code).toBe('INVALID_INPUT');
        expect(error.message).toContain('Request #1');
        expect(await monitor.getModelRequests('m')).toHaveLength(2000);
        expect(await monitor.addModelRequests('m', [])).toBe(0);
      });

      it('registers unknown models on usage writes, or refuses them with autoRegister: false', async () => {
        const auto = await fresh();
        await auto.addModelRuntimeStart('new-model', 1_710_000_000);
        expect(await auto.getModelSafeName('new-model')).toBe(getSafeModelName('new-model'));
        const strict = await fresh({ autoRegister: false });
        for (const call of [
          () => strict.addModelRequest('nope', [1_710_000_000, 1, 1]),
          () => strict.addModelRequests('nope', [[1_710_000_000, 1, 1]]),
          () => strict.addModelRuntimeStart('nope', 1_710_000_000),
        ]) {
          const error = await rejection(call());
          expect(error.code).toBe('UNKNOWN_MODEL');
          expect(error.message).toContain('"nope"');
        }
        expect(await strict.listModels()).toEqual([]);
      });
    });

    describe('billing', () => {
      it('updates hourly price, billing method and tiers', async () => {
        const monitor = await fresh({ models: ['m'] });
        await monitor.updateHourlyPrice('m', 12.5);
        await monitor.updateBillingMethod('m', false);
        await monitor.updateTierPricing('m', [1, 0, 32768, 1.0, 2.5]);
        await monitor.addTierPricing('m', [2, 32769, 65536, 0.8, 2.0]);
        await monitor.addTierPricing('m', {
          tierIndex: 3,
          startTokens: 65537,
          endTokens: -1,
          inputPricePerMillion: 0.5,
          outputPricePerMillion: 1,
          supportCache: true,
          cacheHitPricePerMillion: 0.1,
        });
        await monitor.updateTierPricing('m', [3, 65537, -1, 0.6, 1.2]);
        const billing = await monitor.getModelBilling('m');
        expect(billing!.useTierPricing).toBe(false);
        expect(billing!.hourlyPrice).toBe(12.5);
        expect(billing!.tierPricing.map((t) => [t.tierIndex, t.startTokens, t.endTokens, t.inputPricePerMillion, t.outputPricePerMillion, t.supportCache, t.cacheHitPricePerMillion])).toEqual([
          [1, 0, 32768, 1.0, 2.5, false, 0],
          [2, 32769, 65536, 0.8, 2.0, false, 0],
          [3, 65537, -1, 0.6, 1.2, true, 0.1],
        ]);
        expect(await monitor.deleteTierPricing('m', 2)).toBe(true);
        expect(await monitor.deleteTierPricing('m', 42)).toBe(false);
        expect((await monitor.getModelBilling('m'))!.tierPricing.map((t) => t.tierIndex)).toEqual([1, 3]);
      });

      it('rejects a duplicate tier and an update of a missing tier, writing nothing', async () => {
        const monitor = await fresh({ models: ['m'] });
        const before = await snapshot(monitor);
        const duplicate = await rejection(monitor.addTierPricing('m', [1, 0, 10, 1, 1]));
        expect(duplicate.code).toBe('DUPLICATE_TIER');
        expect(duplicate.message).toMatch(/"m".*tier 1/);
        const missing = await rejection(monitor.updateTierPricing('m', [7, 0, 10, 1, 1]));
        expect(missing.code).toBe('TIER_NOT_FOUND');
        expect(await snapshot(monitor)).toEqual(before);
      });

      it('fails pricing calls on unknown models with UNKNOWN_MODEL, never registering them', async () => {
        const monitor = await fresh();
        for (const call of [
          () => monitor.updateHourlyPrice('ghost', 1),
          () => monitor.updateBillingMethod('ghost', true),
          () => monitor.addTierPricing('ghost', [2, 0, 1, 1, 1]),
          () => monitor.updateTierPricing('ghost', [1, 0, 1, 1, 1]),
          () => monitor.deleteTierPricing('ghost', 1),
          () => monitor.getModelBilling('ghost'),
          () => monitor.getModelRuntime('ghost'),
          () => monitor.getModelRequests('ghost'),
          () => monitor.deleteModelTables('ghost'),
        ]) {
          const error = await rejection(call());
          expect(error.code).toBe('UNKNOWN_MODEL');
          expect(error.model).toBe('ghost');
        }
        expect(await monitor.listModels()).toEqual([]);
      });
    });

    describe('bad input', () => {
      const cases: [string, (m: Monitor) => Promise<unknown>, RegExp][] = [
        ['NaN timestamp', (m) => m.addModelRequest('m', [Number.NaN, 1, 1]), /timestamp.*NaN/],
        ['Infinity timestamp', (m) => m.addModelRuntimeStart('m', Number.POSITIVE_INFINITY), /start time.*Infinity/],
        ['negative timestamp', (m) => m.addModelRequest('m', [-1, 1, 1]), /timestamp.*-1/],
        ['milliseconds', (m) => m.addModelRequest('m', [1_710_000_000_000, 1, 1]), /looks like milliseconds.*Date\.now\(\) \/ 1000/],
        ['fractional tokens', (m) => m.addModelRequest('m', [1_710_000_000, 1.5, 1]), /inputTokens.*1\.5/],
        ['negative tokens', (m) => m.addModelRequest('m', [1_710_000_000, 1, -2]), /outputTokens.*-2/],
        ['unsafe integer tokens', (m) => m.addModelRequest('m', [1_710_000_000, 2 ** 53, 1]), /inputTokens.*9007199254740992/],
        ['string tokens', (m) => m.addModelRequest('m', [1_710_000_000, '5' as unknown as number, 1]), /inputTokens.*"5"/],
        ['4-element request', (m) => m.addModelRequest('m', [1_710_000_000, 1, 2, 3] as never), /4 elements/],
        ['2-element request', (m) => m.addModelRequest('m', [1_710_000_000, 1] as never), /2 elements/],
        ['negative hourly price', (m) => m.updateHourlyPrice('m', -0.01), /hourly price.*-0\.01/],
        ['NaN price in tier', (m) => m.addTierPricing('m', [2, 0, 10, Number.NaN, 1]), /inputPricePerMillion of tier 2.*NaN/],
        ['tier end below start', (m) => m.addTierPricing('m', [2, 100, 50, 1, 1]), /endTokens 50 is below startTokens 100/],
        ['4-element tier', (m) => m.addTierPricing('m', [4, 0, 10, 1.0] as never), /4 elements/],
        ['3-element tier update', (m) => m.updateTierPricing('m', [1, 0, 10] as never), /3 elements/],
        ['non-boolean billing method', (m) => m.updateBillingMethod('m', 1 as unknown as boolean), /useTierPricing.*1/],
        ['fractional tier index', (m) => m.deleteTierPricing('m', 1.5), /tierIndex.*1\.5/],
        ['negative limit', (m) => m.getModelRuntime('m', -1), /limit.*-1/],
      ];
      for (const [label, call, message] of cases)
        it(`rejects ${label} with INVALID_INPUT naming the model and value, writing nothing`, async () => {
          const monitor = await fresh({ models: ['m'] });
          const before = await snapshot(monitor);
          const error = await rejection(call(monitor));
          expect(error.code).toBe('INVALID_INPUT');
          expect(error.message).toMatch(message);
          if (!label.includes('limit')) expect(error.message).toContain('"m"');
          expect(await snapshot(monitor)).toEqual(before);
        });
    });

    describe('transactions, deletion, read-only, close', () => {
      it('groups calls in one transaction that commits or rolls back as a whole', async () => {
        const monitor = await fresh();
        await monitor.transaction(async (tx) => {
          await tx.addModelRuntimeStart('m', 1_710_000_000);
          await tx.addModelRequest('m', [1_710_000_001, 10, 20]);
          // a failing call inside stays atomic on its own and the transaction goes on
          await expect(tx.addTierPricing('m', [1, 0, 1, 1, 1])).rejects.toSatisfy((e: unknown) => isMonitorError(e, 'DUPLICATE_TIER'));
          await tx.addModelRequest('m', [1_710_000_002, 30, 40]);
        });
        expect(await monitor.getModelRequests('m')).toHaveLength(2);
        let escaped: Monitor | undefined;
        await expect(
          monitor.transaction(async (tx) => {
            escaped = tx;
            await tx.addModelRequest('m', [1_710_000_003, 1, 1]);
            await tx.addModelRequest('other', [1_710_000_003, 1, 1]);
            await new Promise((resolve) => setTimeout(resolve, 5));
            throw new Error('abort');
          }),
        ).rejects.toThrow('abort');
        expect(await monitor.getModelRequests('m')).toHaveLength(2);
        expect(await monitor.getModelSafeName('other')).toBeNull();
        expect((await rejection(escaped!.addModelRequest('m', [1_710_000_004, 1, 1]))).code).toBe('CLOSED');
      });

      it('nests transactions: an inner one that throws rolls back alone', async () => {
        const monitor = await fresh({ models: ['m'] });
        await monitor.transaction(async (tx) => {
          await tx.addModelRequest('m', [1_710_000_000, 1, 1]);
          await tx
            .transaction(async (inner) => {
              await inner.addModelRequest('m', [1_710_000_001, 2, 2]);
              throw new Error('inner');
            })
            .catch(() => undefined);
          await tx.addModelRequest('m', [1_710_000_002, 3, 3]);
        });
        expect((await monitor.getModelRequests('m')).map((r) => r.inputTokens)).toEqual([3, 1]);
      });

      it('deletes a model atomically and can register it again afresh', async () => {
        const monitor = await fresh({ models: ['m', 'keep'] });
        await monitor.addModelRequest('m', [1_710_000_000, 1, 1]);
        await monitor.updateHourlyPrice('m', 9);
        await monitor.deleteModelTables('m');
        expect((await monitor.listModels()).map((m) => m.name)).toEqual(['keep']);
        expect(await monitor.getModelSafeName('m')).toBeNull();
        expect((await rejection(monitor.getModelRequests('m'))).code).toBe('UNKNOWN_MODEL');
        await monitor.addModelRequest('m', [1_710_000_001, 2, 2]);
        expect(await monitor.getModelRequests('m')).toEqual([
          { id: 1, timestamp: 1_710_000_001, inputTokens: 2, outputTokens: 2, cacheN: 0, promptN: 0 },
        ]);
        expect((await monitor.getModelBilling('m'))!.hourlyPrice).toBe(0);
      });

      it('refuses a database of another application with NOT_A_MONITOR_DB, writing nothing', async () => {
        const driver = await harness.create();
        const raw = new Executor(driver);
        await raw.write((s) => s.run('CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)'));
        const error = await Monitor.open(driver).catch((e) => e);
        expect(isMonitorError(error, 'NOT_A_MONITOR_DB')).toBe(true);
        expect(error.message).toContain('invoices');
      });

      it('refuses to open an empty database read-only: it is not a monitor database', async () => {
        const empty = await Monitor.open(await harness.create(), { readOnly: true }).catch((e) => e);
        expect(isMonitorError(empty, 'NOT_A_MONITOR_DB')).toBe(true);
      });

      it('fails every call after close with CLOSED; close is idempotent', async () => {
        const monitor = await fresh({ models: ['m'] });
        await monitor.close();
        await monitor.close();
        for (const call of [() => monitor.getModelRequests('m'), () => monitor.addModelRequest('m', [1_710_000_000, 1, 1]), () => monitor.listModels()])
          expect((await rejection(call())).code).toBe('CLOSED');
      });
    });

    describe("the original's files", () => {
      withFiles('reads seed-v1-dev.db exactly as the original returned it', async () => {
        const expected = fixtureJson('seed-v1-dev');
        const monitor = await fromFixture('seed-v1-dev');
        await checkSeedGetters(monitor, expected);
        expect(await monitor.listModels()).toEqual(
          [LLAMA, DEEPSEEK, ONEIL].map((name) => ({ name, safeName: getSafeModelName(name), shape: 'S3', writable: true })),
        );
      });

      withFiles('opens seed-v1-dev.db read-only without writing', async () => {
        const monitor = await fromFixture('seed-v1-dev', { readOnly: true });
        expect((await monitor.listModels()).map((m) => m.shape)).toEqual(['S1', 'S1', 'S1']);
        await checkSeedGetters(monitor, fixtureJson('seed-v1-dev'));
        expect((await rejection(monitor.addModelRequest(LLAMA, [1_710_000_000, 1, 1]))).code).toBe('READ_ONLY');
      });

      it("replays the original's write log into a new database with the same results", async () => {
        const expected = fixtureJson('seed-v1-dev');
        const monitor = await fresh({ models: expected.config_model_names, autoRegister: false });
        for (const entry of expected.write_log as { method: string; args: unknown[] }[]) {
          if (entry.method === '__init__') continue;
          await (monitor as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[camel(entry.method)]!(...entry.args);
        }
        await checkSeedGetters(monitor, expected);
        // the calls that failed in the original fail here too, with typed codes
        const codes: Record<string, string> = { ValueError: 'UNKNOWN_MODEL', IntegrityError: 'DUPLICATE_TIER' };
        for (const failure of expected.errors as { call: string; args: unknown[]; raised: string | null; message: string }[]) {
          const call = (monitor as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[camel(failure.call)]!(...failure.args);
          if (failure.raised === null) {
            expect(await call).toBeNull();
            continue;
          }
          const error = await rejection(call);
          const expectedCode = failure.message.includes('格式错误') ? 'INVALID_INPUT' : codes[failure.raised];
          expect(error.code, `${failure.call} ${JSON.stringify(failure.args)}`).toBe(expectedCode);
        }
        await checkSeedGetters(monitor, expected);
      });

      withFiles('reads the normalized v2.6 file (S6) and refuses to write to it', async () => {
        const expected = fixtureJson('normalized-v2-dev');
        const monitor = await fromFixture('normalized-v2-dev', { readOnly: true });
        const models = await monitor.listModels();
        expect(models.map((m) => [m.name, m.shape, m.writable])).toEqual(
          [LLAMA, DEEPSEEK, ONEIL, 'ghost-model (not in config)'].map((name) => [name, 'S6', false]),
        );
        for (const limit of ['0', '1', '2'])
          expectClose((await monitor.getProgramRuntime(Number(limit))).map(seedRunTime), expected.get_program_runtime[limit]);
        for (const [name, ranges] of Object.entries(expected.get_model_runtime_in_range as Record<string, Record<string, unknown[]>>)) {
          const all = (await monitor.getModelRuntime(name)).map(seedRunTime).reverse();
          expectClose(all, ranges['0..2000000000.0']);
        }
        for (const [name, ranges] of Object.entries(expected.get_model_requests as Record<string, Record<string, { end_time: number; input_tokens: number; output_tokens: number; cache_n: number; prompt_n: number; id: number }[]>>)) {
          const ours = (await monitor.getModelRequests(name)).reverse();
          expectClose(
            ours,
            ranges['0..2e9']!.map((r) => ({ id: r.id, timestamp: r.end_time, inputTokens: r.input_tokens, outputTokens: r.output_tokens, cacheN: r.cache_n, promptN: r.prompt_n })),
          );
        }
        for (const [name, billing] of Object.entries(expected.get_model_billing as Record<string, { use_tier_pricing: boolean; hourly_price: number; tier_pricing: Record<string, unknown>[] }>)) {
          const ours = await monitor.getModelBilling(name);
          expectClose(
            { useTierPricing: ours!.useTierPricing, hourlyPrice: ours!.hourlyPrice, tiers: ours!.tierWindows },
            {
              useTierPricing: billing.use_tier_pricing,
              hourlyPrice: billing.hourly_price,
              tiers: billing.tier_pricing.map((t) => Object.fromEntries(Object.entries(t).map(([k, v]) => [camel(k), v]))),
            },
          );
        }
        expect(await monitor.getModelBilling('ghost-model (not in config)')).toBeNull();

        const writable = await fromFixture('normalized-v2-dev');
        for (const call of [
          () => writable.addModelRequest(LLAMA, [1_710_000_000, 1, 1]),
          () => writable.updateHourlyPrice(DEEPSEEK, 1),
          () => writable.registerModel('brand-new'),
          () => writable.deleteModelTables(LLAMA),
        ]) {
          const error = await rejection(call());
          expect(error.code).toBe('SCHEMA_MISMATCH');
          expect(error.message).toContain('S6');
        }
        expect(await writable.getModelRequests(LLAMA)).toHaveLength(9);
      });
    });

    // these build SQLite files of the original's layouts by hand: only for engines that open SQLite files
    (harness.fromBytes ? describe : describe.skip)('older and newer per-model shapes', () => {
      async function fileWith(ddl: string[], rows: string[] = []): Promise<Monitor> {
        const driver = await harness.create();
        const raw = new Executor(driver);
        await raw.write(async (s) => {
          for (const sql of [...ddl, ...rows]) await s.run(sql);
        });
        // hand the same driver to a Monitor without closing it
        const monitor = await Monitor.open(driver);
        open.push(monitor);
        return monitor;
      }
      const mapping = `CREATE TABLE model_name_mapping (id INTEGER PRIMARY KEY AUTOINCREMENT, original_name TEXT UNIQUE NOT NULL, safe_name TEXT UNIQUE NOT NULL, created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP)`;
      const perModel = (safe: string, requests: string, tiers: string) => [
        `CREATE TABLE ${safe}_runtime (id INTEGER PRIMARY KEY AUTOINCREMENT, start_time REAL NOT NULL, end_time REAL NOT NULL)`,
        `CREATE TABLE ${safe}_requests (id INTEGER PRIMARY KEY AUTOINCREMENT, ${requests})`,
        `CREATE TABLE ${safe}_tier_pricing (${tiers})`,
        `CREATE TABLE ${safe}_hourly_price (id INTEGER PRIMARY KEY CHECK (id = 1), hourly_price REAL NOT NULL DEFAULT 0)`,
        `CREATE TABLE ${safe}_billing_method (id INTEGER PRIMARY KEY CHECK (id = 1), use_tier_pricing BOOLEAN NOT NULL DEFAULT 1)`,
        `INSERT INTO ${safe}_hourly_price VALUES (1, 2.5)`,
        `INSERT INTO ${safe}_billing_method VALUES (1, 0)`,
        `INSERT INTO ${safe}_runtime (start_time, end_time) VALUES (1710000000, 1710003600)`,
      ];
      const s1Tiers = 'tier_index INTEGER PRIMARY KEY, start_tokens INTEGER NOT NULL, end_tokens INTEGER NOT NULL, input_price_per_million REAL NOT NULL, output_price_per_million REAL NOT NULL';
      const s3Tiers = `${s1Tiers}, support_cache BOOLEAN NOT NULL DEFAULT 0, cache_hit_price_per_million REAL NOT NULL DEFAULT 0.0`;
      const s5Tiers =
        'tier_index INTEGER PRIMARY KEY, min_input_tokens INTEGER NOT NULL, max_input_tokens INTEGER NOT NULL, min_output_tokens INTEGER NOT NULL, max_output_tokens INTEGER NOT NULL, input_price REAL NOT NULL, output_price REAL NOT NULL, support_cache BOOLEAN NOT NULL DEFAULT 0, cache_write_price REAL NOT NULL DEFAULT 0.0, cache_read_price REAL NOT NULL DEFAULT 0.0';
      const cacheRequests = 'timestamp REAL NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cache_n INTEGER NOT NULL DEFAULT 0, prompt_n INTEGER NOT NULL DEFAULT 0';
      const timedRequests = 'start_time REAL NOT NULL, end_time REAL NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cache_n INTEGER NOT NULL DEFAULT 0, prompt_n INTEGER NOT NULL DEFAULT 0';
      const register = (name: string) => `INSERT INTO model_name_mapping (original_name, safe_name) VALUES ('${name}', '${getSafeModelName(name)}')`;

      it('detects S2, S4 and S5 models in one file, reads them, and refuses to write S4/S5', async () => {
        const named = (n: string): [string, string] => [n, getSafeModelName(n)];
        const [s2, s4, s5] = [named('shape-two'), named('shape-four'), named('shape-five')];
        const monitor = await fileWith(
          [mapping, ...perModel(s2[1], cacheRequests, s1Tiers), ...perModel(s4[1], timedRequests, s3Tiers), ...perModel(s5[1], timedRequests, s5Tiers)],
          [
            register(s2[0]),
            register(s4[0]),
            register(s5[0]),
            `INSERT INTO ${s2[1]}_requests (timestamp, input_tokens, output_tokens, cache_n, prompt_n) VALUES (1710000100, 100, 10, 60, 40)`,
            `INSERT INTO ${s4[1]}_requests (start_time, end_time, input_tokens, output_tokens) VALUES (1710000100, 1710000130, 5, 6)`,
            `INSERT INTO ${s5[1]}_tier_pricing VALUES (1, 0, 32000, 0, -1, 2.0, 8.0, 1, 0.25, 0.5)`,
          ],
        );
        const models = await monitor.listModels();
        // opening upgraded the S2 model with the tier cache columns; S4/S5 are left as they are
        expect(models.map((m) => [m.name, m.shape, m.writable])).toEqual([
          [s2[0], 'S3', true],
          [s4[0], 'S4', false],
          [s5[0], 'S5', false],
        ]);
        expect(await monitor.getModelRequests(s2[0])).toEqual([{ id: 1, timestamp: 1710000100, inputTokens: 100, outputTokens: 10, cacheN: 60, promptN: 40 }]);
        expect(await monitor.getModelRequests(s4[0])).toEqual([{ id: 1, timestamp: 1710000130, inputTokens: 5, outputTokens: 6, cacheN: 0, promptN: 0 }]);
        expect(await monitor.getModelRuntime(s5[0])).toEqual([{ id: 1, startTime: 1710000000, endTime: 1710003600 }]);
        const billing = await monitor.getModelBilling(s5[0]);
        expect(billing).toMatchObject({ useTierPricing: false, hourlyPrice: 2.5, tierPricing: [] });
        expect(billing!.tierWindows).toEqual([
          { tierIndex: 1, minInputTokens: 0, maxInputTokens: 32000, minOutputTokens: 0, maxOutputTokens: -1, inputPrice: 2, outputPrice: 8, supportCache: true, cacheWritePrice: 0.25, cacheReadPrice: 0.5 },
        ]);
        for (const [name, shape] of [[s4[0], 'S4'], [s5[0], 'S5']] as const) {
          const error = await rejection(monitor.addModelRequest(name, [1_710_000_000, 1, 1]));
          expect(error.code).toBe('SCHEMA_MISMATCH');
          expect(error.message).toContain(shape);
          expect(error.message).toContain(name);
        }
        await monitor.addModelRequest(s2[0], [1_710_000_200, 1, 2, 0, 1]);
        expect(await monitor.getModelRequests(s2[0])).toHaveLength(2);
        // one summary over the mixed file: S4 requests count at their end time, S5 is priced by its windows
        const summary = await monitor.summary({ from: 1_710_000_100, to: 1_710_000_131 });
        expect(summary.models.map((m) => [m.name, m.shape, m.requests, m.inputTokens])).toEqual([
          [s2[0], 'S3', 1, 100],
          [s4[0], 'S4', 1, 5],
          [s5[0], 'S5', 0, 0],
        ]);
        expect((await monitor.describe()).shapes).toEqual(['S3', 'S4', 'S5']);
      });

      it('describes what is suspicious: mapping rows without tables, tables without a mapping row, open runs', async () => {
        const orphan = getSafeModelName('orphan');
        const monitor = await fileWith(
          [mapping, ...perModel(orphan, cacheRequests, s3Tiers)],
          [
            register('half-deleted'),
            `INSERT INTO ${orphan}_runtime (start_time, end_time) VALUES (1710005000, 1710005000), (1710006000, 1710006000)`,
          ],
        );
        await monitor.addModelRuntimeStart('healthy', 1_710_000_000);
        await monitor.addModelRuntimeStart('healthy', 1_710_000_100);
        const d = await monitor.describe();
        expect(d.problems).toEqual([`tables ${orphan}_* belong to no model (no row in model_name_mapping names them)`]);
        const half = d.models.find((m) => m.name === 'half-deleted')!;
        expect(half.problems).toEqual(
          ['runtime', 'requests', 'tier_pricing', 'hourly_price', 'billing_method'].map(
            (t) => `table ${getSafeModelName('half-deleted')}_${t} is missing (the mapping row has no tables)`,
          ),
        );
        const healthy = d.models.find((m) => m.name === 'healthy')!;
        expect(healthy).toMatchObject({ runs: 2, openRuns: 2, requests: 0, tiers: 1, billingMethod: 'tier' });
        expect(healthy.problems).toContain('2 runs were started and never ended (only the latest can still be running)');
        // the half-deleted model gets its tables back when it records again
        await monitor.addModelRequest('half-deleted', [1_710_000_000, 1, 1]);
        expect((await monitor.describe()).models.find((m) => m.name === 'half-deleted')!.problems).toEqual(['no tier covers more than 32768 input tokens']);
      });

      it('reads an S7 file (nullable end times, model_defs pricing)', async () => {
        const monitor = await fileWith([
          'CREATE TABLE models (id INTEGER PRIMARY KEY AUTOINCREMENT, original_name TEXT UNIQUE NOT NULL, created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP)',
          'CREATE TABLE model_requests (id INTEGER PRIMARY KEY AUTOINCREMENT, model_id INTEGER NOT NULL, start_time REAL NOT NULL, end_time REAL NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cache_n INTEGER NOT NULL, prompt_n INTEGER NOT NULL, source TEXT NOT NULL DEFAULT \'local\')',
          'CREATE TABLE model_runtime (id INTEGER PRIMARY KEY AUTOINCREMENT, model_id INTEGER NOT NULL, start_time REAL NOT NULL, end_time REAL)',
          "CREATE TABLE model_defs (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE NOT NULL, mode TEXT NOT NULL, port INTEGER NOT NULL, auto_start INTEGER NOT NULL DEFAULT 0, pricing_type TEXT NOT NULL DEFAULT 'tier', hourly_price REAL NOT NULL DEFAULT 0, support_cache INTEGER NOT NULL DEFAULT 0, ord INTEGER NOT NULL DEFAULT 0, updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP)",
          'CREATE TABLE pricing_tiers (pricing_id INTEGER NOT NULL, tier_index INTEGER NOT NULL, min_input INTEGER, max_input INTEGER, min_output INTEGER, max_output INTEGER, input_price REAL, output_price REAL, cache_write_price REAL, cache_read_price REAL, PRIMARY KEY (pricing_id, tier_index))',
          "INSERT INTO models (original_name) VALUES ('v3-model')",
          "INSERT INTO model_defs (name, mode, port, pricing_type, hourly_price, support_cache) VALUES ('v3-model', 'Chat', 8080, 'tier', 0, 1)",
          'INSERT INTO pricing_tiers VALUES (1, 1, 0, 32000, 0, -1, 2.0, 8.0, 0.25, 0.5)',
          'INSERT INTO model_runtime (model_id, start_time, end_time) VALUES (1, 1710000000, 1710000500), (1, 1710001000, NULL)',
          'INSERT INTO model_requests (model_id, start_time, end_time, input_tokens, output_tokens, cache_n, prompt_n) VALUES (1, 1710001010, 1710001020, 300, 30, 100, 200)',
        ]);
        expect(await monitor.listModels()).toEqual([{ name: 'v3-model', safeName: null, shape: 'S7', writable: false }]);
        expect(await monitor.getModelRuntime('v3-model')).toEqual([
          { id: 2, startTime: 1710001000, endTime: 1710001000 },
          { id: 1, startTime: 1710000000, endTime: 1710000500 },
        ]);
        expect(await monitor.getProgramRuntime()).toEqual([]);
        expect((await monitor.getModelRequests('v3-model'))[0]).toMatchObject({ timestamp: 1710001020, cacheN: 100, promptN: 200 });
        expect((await monitor.getModelBilling('v3-model'))!.tierWindows).toEqual([
          { tierIndex: 1, minInputTokens: 0, maxInputTokens: 32000, minOutputTokens: 0, maxOutputTokens: -1, inputPrice: 2, outputPrice: 8, supportCache: true, cacheWritePrice: 0.25, cacheReadPrice: 0.5 },
        ]);
        expect((await rejection(monitor.addProgramRuntimeStart(1_710_000_000))).code).toBe('SCHEMA_MISMATCH');
        expect((await rejection(monitor.addModelRequest('v3-model', [1_710_000_000, 1, 1]))).code).toBe('SCHEMA_MISMATCH');
      });

    });
  });
}

async function checkSeedGetters(monitor: Monitor, expected: ReturnType<typeof fixtureJson>) {
  for (const [name, safe] of Object.entries(expected.get_model_safe_name)) expect(await monitor.getModelSafeName(name)).toBe(safe);
  for (const [limit, runs] of Object.entries(expected.get_program_runtime))
    expectClose((await monitor.getProgramRuntime(Number(limit))).map(seedRunTime), runs);
  for (const [name, byLimit] of Object.entries(expected.get_model_runtime as Record<string, Record<string, unknown>>))
    for (const [limit, runs] of Object.entries(byLimit)) expectClose((await monitor.getModelRuntime(name, Number(limit))).map(seedRunTime), runs);
  for (const [name, byMinutes] of Object.entries(expected.get_model_requests as Record<string, Record<string, unknown>>))
    for (const [minutes, requests] of Object.entries(byMinutes))
      expectClose((await monitor.getModelRequests(name, Number(minutes))).map(seedRequest), requests);
  for (const [name, billing] of Object.entries(expected.get_model_billing)) expectClose(seedBilling(await monitor.getModelBilling(name)), billing);
}
