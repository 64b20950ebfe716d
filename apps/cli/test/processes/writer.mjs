// A process that keeps recording requests into a database until SIGTERM, for tests of readers that
// must not disturb writers (export-db, export). Prints the number of rows written so far now and then,
// and `done N` when it stops.
import { openMonitor } from '@llm-monitor/driver-node';

const [db, model] = process.argv.slice(2);
const monitor = await openMonitor(db);
let stop = false;
process.on('SIGTERM', () => {
  stop = true;
});
let written = 0;
process.stdout.write('ready\n');
while (!stop) {
  const batch = Array.from({ length: 20 }, (_, i) => [1.8e9 + written + i, 100, 10]);
  await monitor.addModelRequests(model, batch);
  written += batch.length;
  if (written % 200 === 0) process.stdout.write(`${written}\n`);
  await new Promise((resolve) => setImmediate(resolve));
}
await monitor.close();
process.stdout.write(`done ${written}\n`);
