// The other process of hostile-files.test.ts's "two Monitors on one file": opens its own Monitor on
// argv[2]'s `path` (the BUILT package), waits for { t: 'go' }, then deletes `model` `deletes` times
// (a short random pause before each), and answers { t: 'done', deletes: [{ ok, code?, message?,
// startedAt, endedAt }] }. Times are epoch milliseconds with sub-millisecond precision
// (performance.timeOrigin + performance.now()), comparable with the parent's.
import { performance } from 'node:perf_hooks';
import { openMonitor } from '@llm-monitor/driver-node';

const { path, model, deletes } = JSON.parse(process.argv[2] ?? '{}');
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const monitor = await openMonitor(path);
process.send({ t: 'ready' });
await new Promise((resolve) => process.once('message', resolve));
const results = [];
for (let k = 0; k < deletes; k++) {
  await sleep(1 + Math.random() * 4);
  const startedAt = now();
  try {
    await monitor.deleteModelTables(model);
    results.push({ ok: true, startedAt, endedAt: now() });
  } catch (error) {
    results.push({ ok: false, code: error?.code ?? 'THROWN', name: error?.name, message: String(error?.message ?? error), startedAt, endedAt: now() });
  }
}
await monitor.close();
process.send({ t: 'done', deletes: results }, () => process.disconnect());
