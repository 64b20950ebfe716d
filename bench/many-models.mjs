// Many-models benchmark: files with N models (1,000, 3,000 and 10,000 by default), each with a few requests
// and a run, as a proxy flooded with distinct model names leaves them. Times `llm-monitor report` and
// `llm-monitor models` as separate processes (what a user runs) and reads their peak memory (GNU time,
// Debian package `time`), so that one sees whether they grow with the models (linear) or faster. Prints
// `name: value unit` lines.
// Building a file of N models costs O(N²) in SQLite itself (each CREATE TABLE re-reads the schema rows of
// its table by a scan of sqlite_master), about 7 minutes for 10,000 models on 2 cores: the files are kept in
// --dir (default: a folder in the system's temp folder) and reused when they exist.
//   node bench/many-models.mjs [--models 1000,3000,10000] [--dir path]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openMonitor } from '@llm-monitor/driver-node';

const { values } = parseArgs({
  options: { models: { type: 'string', default: '1000,3000,10000' }, dir: { type: 'string', default: join(tmpdir(), 'llm-monitor-many-models') } },
});
const COUNTS = values.models.split(',').map(Number);
const BIN = fileURLToPath(new URL('../apps/cli/dist/bin.js', import.meta.url));
const dir = values.dir;
mkdirSync(dir, { recursive: true });
const line = (name, value, unit) => console.log(`${name}: ${value} ${unit}`);
const T0 = 1_767_225_600;

/** Runs the CLI and returns its wall time and peak resident memory (as /usr/bin/time reports it). */
function run(args) {
  const started = process.hrtime.bigint();
  const result = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, BIN, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`llm-monitor ${args.join(' ')} failed: ${result.stderr}`);
  const peakKiB = Number(result.stderr.trim().split('\n').pop());
  return { ms, peakMiB: peakKiB / 1024 };
}

const rows = [];
for (const count of COUNTS) {
  const path = join(dir, `models-${count}.db`);
  if (!existsSync(path)) {
    const built = process.hrtime.bigint();
    const partial = `${path}.partial`;
    rmSync(partial, { force: true });
    const monitor = await openMonitor(partial);
    await monitor.transaction(async (tx) => {
      for (let i = 0; i < count; i++) {
        const name = `flood-model-${i}`;
        await tx.addModelRuntimeStart(name, T0 + i);
        await tx.addModelRequests(name, [[T0 + i, 100 + i, 10], [T0 + i + 1, 200, 20]]);
      }
    });
    await monitor.close();
    renameSync(partial, path);
    line(`build_${count}_seconds`, (Number(process.hrtime.bigint() - built) / 1e9).toFixed(1), 's');
  }
  const report = run(['report', '--db', path, '--tz', 'UTC']);
  const models = run(['models', '--db', path, '--tz', 'UTC']);
  rows.push({ count, report, models });
  line(`report_${count}_ms`, report.ms.toFixed(0), 'ms');
  line(`report_${count}_peak`, report.peakMiB.toFixed(0), 'MiB');
  line(`models_${count}_ms`, models.ms.toFixed(0), 'ms');
  line(`models_${count}_peak`, models.peakMiB.toFixed(0), 'MiB');
}
const [first] = rows;
for (const r of rows.slice(1)) {
  const factor = r.count / first.count;
  line(`report_growth_${first.count}_to_${r.count}`, (r.report.ms / first.report.ms).toFixed(2), `x (models ${factor}x)`);
  line(`models_growth_${first.count}_to_${r.count}`, (r.models.ms / first.models.ms).toFixed(2), `x (models ${factor}x)`);
}
