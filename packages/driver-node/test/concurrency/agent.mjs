// A long-lived child process driven by concurrency.test.ts over IPC (fork, 'advanced' serialization).
// It holds at most one Monitor, opened from the BUILT package, and runs the calls it is sent:
//
//   { id, op: 'open', args: [path, options?] }        openMonitor(path, options)
//   { id, op: 'close' }                                monitor.close()
//   { id, op: <Monitor method>, args }                 monitor[op](...args)
//   { id, op: <scenario below>, args }                 a multi-step scenario
//
// and answers { id, ok, value | code + message, ms, startedAt, endedAt } (ms measured around the call
// in this process; *At are Date.now(), comparable across processes). Scenarios may also send
// { id, event } while they run. The process stays alive (and the Monitor open and idle) until the
// parent disconnects.
import { performance } from 'node:perf_hooks';
import { openMonitor } from '@llm-monitor/driver-node';

let monitor;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const scenarios = {
  /**
   * One transaction: writes `request`, says 'locked' (it now holds the write lock), waits `holdMs`,
   * then adds tier 1, which every model has: DUPLICATE_TIER, and everything rolls back.
   */
  async writeThenDuplicateTier(id, model, request, holdMs = 0) {
    await monitor.transaction(async (tx) => {
      await tx.addModelRequest(model, request);
      send({ id, event: 'locked', at: Date.now() });
      if (holdMs > 0) await sleep(holdMs);
      await tx.addTierPricing(model, [1, 0, 100, 1, 1]);
    });
  },
  /** One transaction: writes `request`, then the application throws. */
  async writeThenThrow(id, model, request) {
    await monitor.transaction(async (tx) => {
      await tx.addModelRequest(model, request);
      await sleep(1);
      throw Object.assign(new Error('application failure inside transaction()'), { code: 'APP' });
    });
  },
};

function send(message) {
  if (process.connected) process.send(message);
}

process.on('message', async (message) => {
  const { id, op, args = [] } = message;
  const startedAt = Date.now();
  const started = performance.now();
  const finish = (result) => send({ id, ...result, ms: performance.now() - started, startedAt, endedAt: Date.now() });
  try {
    let value;
    if (op === 'open') {
      monitor = await openMonitor(...args);
    } else if (op === 'close') {
      await monitor.close();
    } else if (Object.hasOwn(scenarios, op)) {
      value = await scenarios[op](id, ...args);
    } else {
      if (!monitor || typeof monitor[op] !== 'function') throw new Error(`agent: no such operation ${op}`);
      value = await monitor[op](...args);
    }
    finish({ ok: true, value });
  } catch (error) {
    finish({ ok: false, code: error?.code ?? 'THROWN', message: String(error?.message ?? error) });
  }
});

process.on('disconnect', () => {
  // The parent is done with us: close without waiting (exit releases every SQLite lock anyway).
  void monitor?.close().catch(() => undefined);
});
