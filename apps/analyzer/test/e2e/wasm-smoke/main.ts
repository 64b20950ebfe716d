// The smoke part of the driver conformance and Monitor behaviour suites, in a real browser: sql.js
// loaded the way a bundled app loads it, then @llm-monitor/driver-wasm and core doing real work.
// Each check records [name, ok, detail]; the test reads them from `window.smoke`.
import { type Monitor, isMonitorError, openWasmMonitor } from '@llm-monitor/driver-wasm';
import initSqlJs from 'sql.js';
import wasmUrl from 'sql.js/dist/sql-wasm-browser.wasm?url';

type Check = [name: string, ok: boolean, detail: string];
const checks: Check[] = [];
const check = (name: string, ok: boolean, detail: unknown) => checks.push([name, ok, JSON.stringify(detail)]);
const T0 = 1_710_000_000;

async function run(): Promise<void> {
  const SQL = await initSqlJs({ locateFile: () => wasmUrl });

  const fresh = await openWasmMonitor({ SQL, models: ['m'] });
  const monitor: Monitor = fresh.monitor;
  await monitor.updateTierPricing('m', [1, 0, -1, 1, 2]);
  await monitor.addModelRequests('m', [
    [T0, 1_000_000, 0],
    [T0 + 1, 0, 500_000],
  ]);
  const summary = await monitor.summary();
  check('records and prices requests', summary.total.requests === 2 && Math.abs(summary.total.cost - 2) < 1e-9, summary.total);

  // the Drizzle sql.js bug: an async callback that throws after an await must roll everything back
  const rolledBack = await monitor
    .transaction(async (tx) => {
      await tx.addModelRequest('m', [T0 + 2, 1, 1]);
      await new Promise((resolve) => setTimeout(resolve, 10));
      await tx.addModelRequest('m', [T0 + 3, 1, 1]);
      throw new Error('abort after await');
    })
    .then(
      () => 'committed',
      (error: Error) => error.message,
    );
  const afterRollback = (await monitor.getModelRequests('m')).length;
  check('rolls back an async transaction that throws after an await', rolledBack === 'abort after await' && afterRollback === 2, { rolledBack, afterRollback });

  const bad = await monitor.addModelRequest('m', [Date.now(), 1, 1]).catch((error: unknown) => error);
  check('refuses bad input with a typed error', isMonitorError(bad, 'INVALID_INPUT'), String(bad));

  const bytes = await fresh.exportBytes();
  const again = await openWasmMonitor({ SQL, bytes, readOnly: true });
  const reread = (await again.monitor.getModelRequests('m')).length;
  check('exports bytes that open again with the same rows', reread === 2 && bytes[18] === 1, { reread, header18: bytes[18] });
  await again.monitor.close();
  await monitor.close();

  const wal = new Uint8Array(await (await fetch('./fixtures/normalized-v2-dev.db')).arrayBuffer());
  const opened = await openWasmMonitor({ SQL, bytes: wal, readOnly: true });
  const models = await opened.monitor.listModels();
  const cost = (await opened.monitor.summary()).total.cost;
  check('opens a WAL-mode file of LLM-Manager v2.6 from a patched copy', opened.walPatched && wal[18] === 2 && models.length === 4 && Math.abs(cost - 17.43393725) < 1e-9, {
    walPatched: opened.walPatched,
    models: models.length,
    cost,
  });
  await opened.monitor.close();

  const notDb = await openWasmMonitor({ SQL, bytes: new TextEncoder().encode('hello, this is not a database at all, not even close'.repeat(4)) }).catch((e: unknown) => e);
  check('refuses bytes that are not a database', isMonitorError(notDb, 'NOT_A_DATABASE'), String(notDb));
}

run().then(
  () => Object.assign(window, { smoke: { done: true, checks } }),
  (error: Error) => Object.assign(window, { smoke: { done: true, checks, error: `${error.name}: ${error.message}` } }),
);
