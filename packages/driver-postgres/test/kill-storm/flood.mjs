// The write flood of kill-storm.test.ts, run by the test process itself (in-process writers) and by
// child processes (`node flood.mjs '<config>'`, importing the BUILT package as a user's process would).
// Each writer records requests whose input_tokens say who wrote them and in which call
// (writer * 10_000_000 + seq), in four kinds of call, round and round until `until` (epoch ms):
//   single:      one addModelRequest, awaited
//   concurrent:  8 addModelRequest at once (the group-commit path)
//   batch:       addModelRequests of 10 rows (to the writer's own model)
//   transaction: monitor.transaction with 3 addModelRequest
// Even seqs go to the writer's own model, odd ones to the shared model. Every call's rows are listed as
// acknowledged (the call resolved) or failed (with the error code); nothing is thrown.

import { pathToFileURL } from 'node:url';

export const rowOf = (writer, seq) => [1_700_000_000 + seq, writer * 10_000_000 + seq, writer, 0, 0];
export const ownModel = (writer) => `storm-writer-${writer}`;
export const SHARED_MODEL = 'storm-shared';

export async function flood(monitor, { writer, until }) {
  const report = { writer, acknowledged: [], failed: [], calls: 0, maxLatencyMs: 0 };
  let seq = 0;
  const model = (s) => (s % 2 === 0 ? ownModel(writer) : SHARED_MODEL);
  const call = async (seqs, fn) => {
    const started = performance.now();
    report.calls++;
    try {
      await fn();
      report.acknowledged.push(...seqs);
    } catch (error) {
      for (const s of seqs) report.failed.push({ seq: s, code: error?.code ?? 'THROWN', message: String(error?.message ?? error).slice(0, 300) });
    }
    report.maxLatencyMs = Math.max(report.maxLatencyMs, performance.now() - started);
  };
  const next = (n) => Array.from({ length: n }, () => seq++);
  for (let round = 0; Date.now() < until; round++) {
    const kind = round % 4;
    if (kind === 0) {
      const [s] = next(1);
      await call([s], () => monitor.addModelRequest(model(s), rowOf(writer, s)));
    } else if (kind === 1) {
      await Promise.all(next(8).map((s) => call([s], () => monitor.addModelRequest(model(s), rowOf(writer, s)))));
    } else if (kind === 2) {
      const own = next(20).filter((s) => s % 2 === 0); // the odd seqs stay unused
      await call(own, () => monitor.addModelRequests(ownModel(writer), own.map((s) => rowOf(writer, s))));
    } else {
      const seqs = next(3);
      await call(seqs, () =>
        monitor.transaction(async (tx) => {
          for (const s of seqs) await tx.addModelRequest(model(s), rowOf(writer, s));
        }),
      );
    }
  }
  return report;
}

// as a child process: open, say ready, flood from the common start until the end, report
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { openMonitor } = await import('@llm-monitor/driver-postgres');
  const { url, schema, writer } = JSON.parse(process.argv[2]);
  const monitor = await openMonitor(url, { schema, max: 3, models: [ownModel(writer), SHARED_MODEL] });
  const go = new Promise((resolve) => process.on('message', (m) => m?.type === 'go' && resolve(m)));
  process.send({ type: 'ready' });
  const { at, until } = await go;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
  const report = await flood(monitor, { writer, until });
  await monitor.close();
  process.send({ type: 'done', report }, () => process.disconnect());
}
