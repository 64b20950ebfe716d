// One child process of concurrency.test.ts. It imports the BUILT package (dist/), as a user's process
// would, opens a Monitor on the shared schema, says { type: 'ready' }, waits for { type: 'go', at },
// starts at the wall-clock time `at` (so all writers start together), runs its job, closes, and sends
// { type: 'done', report }. It never throws: every failed call is counted and reported.
//
// Jobs (config as JSON in argv[2]):
//   record:   `rows` requests; even seqs to the shared model, odd ones to the writer's own, as single
//             calls, concurrent single calls and batches; plus one program run and one run per model.
//   register: registerModel(name) for each of `names`, in order (every writer gets the same names).
import { openMonitor } from '@llm-monitor/driver-postgres';

const config = JSON.parse(process.argv[2]);
const { url, schema, writer, job } = config;
const report = { writer, pid: process.pid, rowsWritten: 0, errors: [], registered: [], startedAt: 0, ms: 0 };

function recordError(what, error) {
  report.errors.push({ what, code: error?.code ?? 'THROWN', message: String(error?.message ?? error) });
}

/** The request `seq` of writer `w`: a pure function, recomputed by the test. */
function requestValues(w, seq) {
  const inputTokens = w * 1_000_000 + seq;
  const cacheN = seq % 4;
  return [1_700_000_000 + w * 100_000 + seq, inputTokens, (seq * 37 + w) % 10_007, cacheN, cacheN === 0 ? 0 : inputTokens - cacheN];
}

async function record(monitor) {
  const shared = config.sharedModel;
  const own = `writer-${writer}`;
  /** Resolves to the call's value, or to `failed` (the error is recorded). */
  const failed = Symbol('failed');
  const call = async (what, fn) => {
    try {
      return await fn();
    } catch (error) {
      recordError(what, error);
      return failed;
    }
  };
  const single = async (model, seq) => {
    if ((await call(`addModelRequest ${model} #${seq}`, () => monitor.addModelRequest(model, requestValues(writer, seq)))) !== failed) report.rowsWritten++;
  };
  await call('addProgramRuntimeStart', () => monitor.addProgramRuntimeStart(1_660_000_000 + writer));
  await call('addModelRuntimeStart', () => monitor.addModelRuntimeStart(shared, 1_650_000_000 + writer));
  await call('addModelRuntimeStart', () => monitor.addModelRuntimeStart(own, 1_650_000_000 + writer));
  const seqs = Array.from({ length: config.rows }, (_, seq) => seq);
  for (let start = 0, chunk = 0; start < seqs.length; chunk++) {
    const size = [10, 40, 16, 100][chunk % 4];
    const part = seqs.slice(start, start + size);
    start += part.length;
    for (const [model, list] of [
      [shared, part.filter((s) => s % 2 === 0)],
      [own, part.filter((s) => s % 2 === 1)],
    ]) {
      if (list.length === 0) continue;
      const style = chunk % 3;
      if (style === 0) for (const seq of list) await single(model, seq);
      else if (style === 1) await Promise.all(list.map((seq) => single(model, seq)));
      else {
        const written = await call(`addModelRequests ${model}`, () => monitor.addModelRequests(model, list.map((seq) => requestValues(writer, seq))));
        if (written !== failed) report.rowsWritten += written;
      }
    }
  }
  await call('updateModelRuntimeEnd', () => monitor.updateModelRuntimeEnd(own, 1_650_000_100 + writer));
}

async function register(monitor) {
  for (const name of config.names) {
    try {
      report.registered.push((await monitor.registerModel(name)).safeName);
    } catch (error) {
      recordError(`registerModel ${name}`, error);
    }
  }
}

const send = (message) => new Promise((resolve) => process.send(message, () => resolve()));
let monitor;
const open = async () => {
  try {
    monitor = await openMonitor(url, { schema, max: 3 });
  } catch (error) {
    recordError('openMonitor', error);
  }
};
// registering writers open first and register together; recording writers also open together (on a
// schema that does not exist yet), so creating the schema and the core tables races too
if (job === 'register') await open();
const go = new Promise((resolve) => process.on('message', (message) => message?.type === 'go' && resolve(message.at)));
await send({ type: 'ready', writer });
const at = await go;
await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
report.startedAt = Date.now();
if (job !== 'register') await open();
if (monitor) {
  await (job === 'register' ? register(monitor) : record(monitor));
  try {
    await monitor.close();
  } catch (error) {
    recordError('close', error);
  }
}
report.ms = Date.now() - report.startedAt;
await send({ type: 'done', report });
process.disconnect();
