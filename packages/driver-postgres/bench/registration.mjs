// Registering models while other hosts do the same: each host is a real process (this file, forked with
// --child) with its own Monitor on one shared schema. First one host registers --models new models alone
// (the baseline), then --hosts hosts register --models models each at the same instant: the same names
// on every host (they race to create one set of tables) and distinct names per host. Prints, for each
// case, the wall time of the slowest host, the slowest single registerModel call and the median call,
// and the ratio to the baseline. Prints `name: value unit` lines.
//   node bench/registration.mjs [--hosts 2] [--models 100] [--url postgres://…]
// The URL defaults to LLM_MONITOR_PG_URL, then postgres://postgres@127.0.0.1:5432/test.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Executor, createPostgresDriver, openMonitor } from '@llm-monitor/driver-postgres';

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '2' },
    models: { type: 'string', default: '100' },
    url: { type: 'string', default: process.env.LLM_MONITOR_PG_URL || 'postgres://postgres@127.0.0.1:5432/test' },
    child: { type: 'string' },
  },
});

if (values.child !== undefined) {
  // one host: open, say ready, wait for the common start, register every name, report the latencies
  const { url, schema, names } = JSON.parse(values.child);
  const monitor = await openMonitor(url, { schema, max: 3 });
  const go = new Promise((resolve) => process.on('message', (m) => m?.type === 'go' && resolve(m.at)));
  process.send({ type: 'ready' });
  const at = await go;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
  const started = performance.now();
  const calls = [];
  const errors = [];
  for (const name of names) {
    const t = performance.now();
    try {
      await monitor.registerModel(name);
    } catch (error) {
      errors.push(`${name}: ${error.code ?? ''} ${error.message}`);
    }
    calls.push(performance.now() - t);
  }
  const wallMs = performance.now() - started;
  await monitor.close();
  process.send({ type: 'done', report: { wallMs, calls, errors } }, () => process.disconnect());
} else {
  const HOSTS = Number(values.hosts);
  const MODELS = Number(values.models);
  const url = values.url;
  const line = (name, value, unit) => console.log(`${name}: ${value} ${unit}`);
  const admin = new Executor(createPostgresDriver(url, { max: 1 }));
  const schemas = [];

  /** A schema with the core tables in it, as a running deployment has. */
  async function newSchema(tag) {
    const schema = `lmbench_${Date.now()}_${process.pid}_${tag}`;
    schemas.push(schema);
    await (await openMonitor(url, { schema })).close();
    return schema;
  }

  /** Forks one host per name list, starts them together, and resolves to their reports. */
  async function race(schema, lists) {
    const self = fileURLToPath(import.meta.url);
    const children = lists.map((names) => fork(self, ['--child', JSON.stringify({ url, schema, names })]));
    const reports = children.map(
      (child, i) =>
        new Promise((resolve, reject) => {
          child.on('message', (m) => m.type === 'done' && resolve(m.report));
          child.on('exit', (code) => code !== 0 && reject(new Error(`host ${i} exited with code ${code}`)));
        }),
    );
    await Promise.all(children.map((child) => new Promise((resolve) => child.on('message', (m) => m.type === 'ready' && resolve()))));
    const at = Date.now() + 200;
    for (const child of children) child.send({ type: 'go', at });
    return Promise.all(reports);
  }

  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const names = (prefix) => Array.from({ length: MODELS }, (_, i) => `${prefix}-model-${i}`);
  let baselineWall = 0;
  let failed = false;
  for (const [label, lists] of [
    ['alone', [names('solo')]],
    ['same_names', Array.from({ length: HOSTS }, () => names('shared'))],
    ['distinct_names', Array.from({ length: HOSTS }, (_, h) => names(`host${h}`))],
  ]) {
    const reports = await race(await newSchema(label), lists);
    const wall = Math.max(...reports.map((r) => r.wallMs));
    const calls = reports.flatMap((r) => r.calls);
    const errors = reports.flatMap((r) => r.errors);
    if (label === 'alone') baselineWall = wall;
    const prefix = `${label === 'alone' ? '1' : HOSTS}_hosts_${label}`;
    line(`${prefix}_wall_ms`, wall.toFixed(0), 'ms');
    line(`${prefix}_slowest_call_ms`, Math.max(...calls).toFixed(1), 'ms');
    line(`${prefix}_median_call_ms`, median(calls).toFixed(1), 'ms');
    if (label !== 'alone') line(`${prefix}_vs_alone`, (wall / baselineWall).toFixed(2), 'x');
    line(`${prefix}_errors`, errors.length, 'errors');
    for (const error of errors.slice(0, 5)) console.log(`  ${error}`);
    failed ||= errors.length > 0;
  }
  for (const schema of schemas) await admin.write((s) => s.run(`DROP SCHEMA "${schema}" CASCADE`));
  await admin.close();
  if (failed) process.exitCode = 1;
}
