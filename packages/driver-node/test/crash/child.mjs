// A child process of crash.test.ts, killed with SIGKILL at a random moment while it writes.
// It imports the BUILT package (packages/driver-node/dist), as an application would.
//
// Config: JSON in argv[2]: { path, logPath, mode, iteration, synchronous?, models?, deleteOrder? }.
//
// The ledger: one JSON line per event, appended to `logPath` with a synchronous write(2) BEFORE the
// next statement runs. A line written this way is in the kernel when writeSync returns, so it
// survives SIGKILL, and its order against the database writes is exact. (IPC messages are
// asynchronous: an intent could still sit in the process's queue when its row had already committed
// and the process died; the parent would then see a row nobody announced.)
//   { t: 'ready' }                         the Monitor is open (openMonitor resolved)
//   { t: 'intent', id, op, ...details }    a call is about to start
//   { t: 'done', id, ...result }           that call's promise resolved: its transaction committed
//   { t: 'done-single', model, seq }       one request of a 'singles' intent resolved
//   { t: 'error', what, code, message }    a call failed (the workload is valid: none should)
//   { t: 'finished', ms }                  the workload ran to its end (modes with an end)
// 'ready', 'error' and 'finished' also go over IPC, so the parent can time the kill.
// A `done` is written only after the call resolved, so everything the ledger shows as done must
// survive the kill. An `intent` without a `done` may or may not have committed, but must be whole.
//
// Modes:
//   mixed          several independent loops at once, each sequential inside: concurrent single
//                  requests (group commit), batches, model and program runtime starts/ends, tier
//                  add/update/delete, a multi-call transaction that edits billing as a whole, and
//                  now and then a new model. Runs until killed.
//   register       registers new models one after another until killed.
//   register-open  openMonitor(path, { models }) registers `models` inside the open transaction.
//   delete         deletes `deleteOrder` one after another (deleteModelTables), then finishes.
//
// Request values are a pure function of a sequence number (see requestOf), so the parent can tell a
// real row from garbage, and duplicates from distinct rows.
import { openSync, writeSync } from 'node:fs';
import { openMonitor } from '@llm-monitor/driver-node';

const config = JSON.parse(process.argv[2] ?? '{}');
const { path, mode, iteration } = config;

let nextId = 0;
/** Sequence numbers are unique per lane file: the iteration number is part of them. */
let nextSeq = iteration * 10_000_000;

const log = openSync(config.logPath, 'a');

function send(message) {
  writeSync(log, `${JSON.stringify(message)}\n`);
  if ((message.t === 'ready' || message.t === 'error' || message.t === 'finished') && process.connected) process.send(message);
}

function fail(what, error) {
  send({ t: 'error', what, code: error?.code ?? 'THROWN', message: String(error?.stack ?? error?.message ?? error) });
}

/** Announces a call, runs it, reports it done with `result(value)`; never throws. */
async function tracked(op, details, call, result = () => ({})) {
  const id = ++nextId;
  send({ t: 'intent', id, op, ...details });
  let value;
  try {
    value = await call();
  } catch (error) {
    fail(`${op} ${JSON.stringify(details)}`, error);
    return undefined;
  }
  send({ t: 'done', id, ...result(value) });
  return value;
}

/** The request of sequence number `seq`, in one of the three input forms (chosen by seq). */
function requestOf(seq) {
  const timestamp = 1_000_000_000 + seq + (seq % 4) / 4;
  const inputTokens = seq;
  const outputTokens = seq % 9973;
  const form = seq % 3;
  if (form === 0) return [timestamp, inputTokens, outputTokens];
  if (form === 1) return [timestamp, inputTokens, outputTokens, seq % 7, seq % 11];
  return { timestamp, inputTokens, outputTokens, cacheN: seq % 5, promptN: seq % 13 };
}

/**
 * Every loop yields to the event loop once per round, as a server handling requests from I/O events
 * does. Without it, back-to-back awaited calls never leave the microtask queue (better-sqlite3 is
 * synchronous, so every call resolves in a microtask): timers and IPC would starve.
 */
const yieldTurn = () => new Promise((resolve) => setImmediate(resolve));

async function mixed(monitor) {
  const REQUEST_MODELS = ['crash-a', 'crash-b'];
  // Several calls of this Monitor in flight at once: they coalesce into group commits.
  async function singles(model) {
    for (;;) {
      await yieldTurn();
      const seqs = Array.from({ length: 6 }, () => nextSeq++);
      send({ t: 'intent', id: ++nextId, op: 'singles', model, seqs });
      await Promise.all(
        seqs.map(async (seq) => {
          try {
            await monitor.addModelRequest(model, requestOf(seq));
            send({ t: 'done-single', model, seq });
          } catch (error) {
            fail(`addModelRequest ${model} #${seq}`, error);
          }
        }),
      );
    }
  }
  async function batches() {
    for (let k = 0; ; k++) {
      await yieldTurn();
      const model = REQUEST_MODELS[k % 2];
      const from = nextSeq;
      const n = 40;
      nextSeq += n;
      const rows = Array.from({ length: n }, (_, i) => requestOf(from + i));
      await tracked('batch', { model, from, n }, () => monitor.addModelRequests(model, rows), (written) => ({ written }));
    }
  }
  async function runtimes() {
    for (;;) {
      await yieldTurn();
      const start = 1_000_000_000 + nextSeq++;
      await tracked('runtime-start', { model: 'crash-runs', start }, () => monitor.addModelRuntimeStart('crash-runs', start));
      await yieldTurn();
      await tracked('runtime-end', { model: 'crash-runs', start }, () => monitor.updateModelRuntimeEnd('crash-runs', start + 0.5), (ended) => ({ ended }));
      await tracked('program-start', { start }, () => monitor.addProgramRuntimeStart(start));
      await tracked('program-end', { start }, () => monitor.updateProgramRuntimeEnd(start + 0.25), (ended) => ({ ended }));
    }
  }
  async function tiers() {
    const model = 'crash-tiers';
    for (let k = 0; ; k++) {
      // unique per iteration: a tier left behind by an earlier kill never collides
      const tierIndex = 100 + iteration * 10 + (k % 5);
      await yieldTurn();
      const price = iteration * 1000 + k;
      const tier = [tierIndex, 1000 * tierIndex, 1000 * tierIndex + 999, price, price + 0.5, k % 2 === 0, price / 4];
      const updated = [tierIndex, 1000 * tierIndex, -1, price + 1, price + 1.5];
      await tracked('tier-add', { model, tier }, () => monitor.addTierPricing(model, tier));
      await tracked('tier-update', { model, tier: updated }, () => monitor.updateTierPricing(model, updated));
      await tracked('tier-delete', { model, tierIndex }, () => monitor.deleteTierPricing(model, tierIndex), (deleted) => ({ deleted }));
    }
  }
  // One transaction that edits tier 1, tier 2, the hourly price, the billing method and adds a
  // request, all to generation g: after a crash they must all show the same generation.
  async function generations() {
    const model = 'crash-tx';
    const billing = await monitor.getModelBilling(model);
    let g = billing ? Math.round(billing.hourlyPrice) : 0;
    for (;;) {
      await yieldTurn();
      g++;
      const gen = g;
      await tracked('generation', { model, g: gen }, () =>
        monitor.transaction(async (tx) => {
          await tx.updateTierPricing(model, [1, 0, 32768, gen, gen]);
          if (gen === 1) await tx.addTierPricing(model, [2, 32769, -1, gen, gen]);
          else await tx.updateTierPricing(model, [2, 32769, -1, gen, gen]);
          await tx.updateHourlyPrice(model, gen);
          await tx.updateBillingMethod(model, gen % 2 === 0);
          await tx.addModelRequest(model, [1_000_000_000 + gen, gen, gen]);
        }),
      );
    }
  }
  async function registrations() {
    for (let k = 0; k < 4; k++) {
      await new Promise((resolve) => setTimeout(resolve, 40));
      const name = `crash-new-${iteration}-${k}`;
      await tracked('register', { name }, () => monitor.registerModel(name));
    }
  }
  // Pricing calls never auto-register: these two first (a no-op after the first iteration).
  for (const name of ['crash-tiers', 'crash-tx']) await tracked('register', { name }, () => monitor.registerModel(name));
  // The request and runtime loops' first calls register their models (autoRegister), all at once.
  await Promise.all([
    ...REQUEST_MODELS.map(singles),
    batches(),
    runtimes(),
    tiers(),
    generations(),
    registrations(),
  ]);
}

async function register(monitor) {
  for (let k = 0; ; k++) {
    await yieldTurn();
    const name = `reg-${iteration}-${k}`;
    await tracked('register', { name }, () => monitor.registerModel(name));
  }
}

async function remove(monitor) {
  const started = Date.now();
  for (const name of config.deleteOrder) {
    await yieldTurn();
    await tracked('delete', { name }, () => monitor.deleteModelTables(name));
  }
  send({ t: 'finished', ms: Date.now() - started });
}

async function main() {
  if (mode === 'register-open') {
    send({ t: 'intent', id: ++nextId, op: 'open-models', models: config.models });
    const monitor = await openMonitor(path, { models: config.models });
    send({ t: 'done', id: nextId });
    send({ t: 'ready' });
    await monitor.close();
    send({ t: 'finished', ms: 0 });
    return;
  }
  const monitor = await openMonitor(path, config.synchronous ? { synchronous: config.synchronous } : {});
  send({ t: 'ready' });
  if (mode === 'mixed') await mixed(monitor);
  else if (mode === 'register') await register(monitor);
  else if (mode === 'delete') await remove(monitor);
  else throw new Error(`unknown mode ${mode}`);
}

main().catch((error) => fail('main', error));
