// One writer of concurrency.test.ts. Runs either as a worker thread (config in `workerData`, messages
// through `parentPort`) or as a forked child process (config as JSON in argv[2], messages over IPC).
// It imports the BUILT package (packages/driver-node/dist), as a user's process would.
//
// Protocol: the writer opens its Monitor, sends { type: 'ready' }, waits for { type: 'go' }, writes,
// closes the Monitor and sends { type: 'done', report }. It never throws on a failed call: every
// error is counted and reported, so the test can assert there were none.
//
// Values are a pure function of (writer, seq); concurrency.test.ts recomputes them independently.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { openMonitor } from '@llm-monitor/driver-node';

const channel = isMainThread
  ? {
      config: JSON.parse(process.argv[2] ?? '{}'),
      send: (message) => new Promise((resolve) => process.send(message, () => resolve())),
      onMessage: (fn) => process.on('message', fn),
      end: () => process.disconnect(),
    }
  : {
      config: workerData,
      send: async (message) => parentPort.postMessage(message),
      onMessage: (fn) => parentPort.on('message', fn),
      // An unref'd port no longer keeps the thread alive: it exits once the report is sent.
      end: () => parentPort.unref(),
    };

const { path, writer, rowsPerWriter, sharedModel } = channel.config;
const ownModel = `writer-${writer}`;

/** The request `seq` of `writer`; even seqs go to the shared model, odd ones to the writer's own. */
function requestValues(seq) {
  const inputTokens = writer * 1_000_000 + seq;
  const cacheN = seq % 4;
  return {
    timestamp: 1_700_000_000 + writer * 100_000 + seq,
    inputTokens,
    outputTokens: (seq * 37 + writer) % 10_007,
    cacheN,
    promptN: cacheN === 0 ? 0 : inputTokens - cacheN,
  };
}

/** The three accepted input forms, chosen by seq so every form is written concurrently. */
function requestInput(seq) {
  const r = requestValues(seq);
  if (r.cacheN === 0 && r.promptN === 0) return [r.timestamp, r.inputTokens, r.outputTokens];
  if (seq % 2 === 0) return [r.timestamp, r.inputTokens, r.outputTokens, r.cacheN, r.promptN];
  return r;
}

const report = {
  writer,
  kind: isMainThread ? 'process' : 'thread',
  pid: process.pid,
  rowsWritten: 0,
  singleCalls: 0,
  batchCalls: 0,
  runtimeCalls: 0,
  errorCount: 0,
  errors: [],
  firstWriteAt: 0,
  lastWriteAt: 0,
  ms: 0,
};

function recordError(what, error) {
  report.errorCount++;
  if (report.errors.length < 20)
    report.errors.push({ what, code: error?.code ?? 'THROWN', message: String(error?.message ?? error) });
}

async function attempt(what, fn) {
  try {
    return await fn();
  } catch (error) {
    recordError(what, error);
    return undefined;
  }
}

async function single(monitor, model, seq) {
  report.singleCalls++;
  const ok = await attempt(`addModelRequest ${model} #${seq}`, async () => {
    await monitor.addModelRequest(model, requestInput(seq));
    return true;
  });
  if (ok) report.rowsWritten++;
}

async function batch(monitor, model, seqs) {
  report.batchCalls++;
  const written = await attempt(`addModelRequests ${model} #${seqs[0]}..#${seqs.at(-1)}`, () =>
    monitor.addModelRequests(model, seqs.map(requestInput)),
  );
  if (written === undefined) return;
  if (written !== seqs.length)
    recordError(`addModelRequests ${model} #${seqs[0]}`, new Error(`returned ${written}, expected ${seqs.length}`));
  report.rowsWritten += written;
}

/** Own-model run k: [start, end], ended explicitly with updateModelRuntimeEnd. */
const ownRun = (k) => [1_600_000_000 + writer * 1_000 + k * 10, 1_600_000_000 + writer * 1_000 + k * 10 + 5];

async function runtimeStart(monitor, model, time) {
  report.runtimeCalls++;
  await attempt(`addModelRuntimeStart ${model}`, () => monitor.addModelRuntimeStart(model, time));
}

async function runtimeEnd(monitor, model, time) {
  report.runtimeCalls++;
  const ended = await attempt(`updateModelRuntimeEnd ${model}`, () => monitor.updateModelRuntimeEnd(model, time));
  if (ended === false) recordError(`updateModelRuntimeEnd ${model}`, new Error('found no run to end'));
}

/**
 * Writes the even seqs to the shared model and the odd ones to the writer's own, alternating the two
 * models chunk by chunk and cycling through four styles: sequential single calls, a batch, concurrent
 * single calls (several calls of this Monitor in flight at once) and a bigger batch.
 */
async function writeAll(monitor) {
  const lists = [[], []];
  for (let seq = 0; seq < rowsPerWriter; seq++) lists[seq % 2].push(seq);
  const models = [sharedModel, ownModel];
  const cursors = [0, 0];
  const sizes = [25, 40, 25, 60];
  const runs = 3;
  let nextRun = 1;

  await attempt('addProgramRuntimeStart', () => monitor.addProgramRuntimeStart(1_660_000_000 + writer));
  report.runtimeCalls++;
  await runtimeStart(monitor, sharedModel, 1_650_000_000 + writer);
  await runtimeStart(monitor, ownModel, ownRun(0)[0]);

  for (let chunk = 0; cursors[0] < lists[0].length || cursors[1] < lists[1].length; chunk++) {
    const which = chunk % 2 === 0 || cursors[1] >= lists[1].length ? 0 : 1;
    if (cursors[which] >= lists[which].length) continue;
    const style = Math.floor(chunk / 2) % 4;
    const seqs = lists[which].slice(cursors[which], cursors[which] + sizes[style]);
    cursors[which] += seqs.length;
    const model = models[which];
    if (style === 0) for (const seq of seqs) await single(monitor, model, seq);
    else if (style === 2) await Promise.all(seqs.map((seq) => single(monitor, model, seq)));
    else await batch(monitor, model, seqs);

    // End the current own-model run and start the next at 1/3 and 2/3 of the own rows.
    if (nextRun < runs && cursors[1] >= (lists[1].length * nextRun) / runs) {
      await runtimeEnd(monitor, ownModel, ownRun(nextRun - 1)[1]);
      await runtimeStart(monitor, ownModel, ownRun(nextRun)[0]);
      nextRun++;
    }
  }
  for (; nextRun < runs; nextRun++) {
    await runtimeEnd(monitor, ownModel, ownRun(nextRun - 1)[1]);
    await runtimeStart(monitor, ownModel, ownRun(nextRun)[0]);
  }
  await runtimeEnd(monitor, ownModel, ownRun(runs - 1)[1]);
}

async function main() {
  const started = Date.now();
  let monitor;
  try {
    monitor = await openMonitor(path);
  } catch (error) {
    recordError('openMonitor', error);
  }
  const go = new Promise((resolve) => channel.onMessage((message) => message?.type === 'go' && resolve()));
  await channel.send({ type: 'ready', writer });
  await go;
  if (monitor) {
    report.firstWriteAt = Date.now();
    try {
      await writeAll(monitor);
    } catch (error) {
      recordError('writeAll', error);
    }
    report.lastWriteAt = Date.now();
    await attempt('close', () => monitor.close());
  }
  report.ms = Date.now() - started;
  await channel.send({ type: 'done', report });
  channel.end();
}

main().catch(async (error) => {
  recordError('main', error);
  await channel.send({ type: 'done', report });
  process.exitCode = 1;
  channel.end();
});
