import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { openMonitor as openSqlite } from '@llm-monitor/driver-node';
import { Executor, createPostgresDriver } from '@llm-monitor/driver-postgres';
import Database from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, type Exited, collect, copyFixture, expectUserError, removeDir, requireBuiltBin, runBin, tempDir } from './cli-harness.js';
import { type FakeUpstream, startFakeUpstream } from './fake-upstream.js';
import { post } from './harness.js';

/**
 * The CLI on PostgreSQL: the built bin against a real server, each test in a new schema (`--schema`)
 * dropped afterwards. The server: LLM_MONITOR_PG_URL, default the one on this machine. Without one the
 * tests fail saying how to start it, unless LLM_MONITOR_PG_SKIP=1 (then they are skipped, visibly).
 */
const PG_URL = process.env.LLM_MONITOR_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';

async function serverProblem(): Promise<string | null> {
  const executor = new Executor(createPostgresDriver(PG_URL, { max: 1, connectionTimeoutMillis: 5000 }));
  try {
    await executor.read((session) => session.query('SELECT 1 AS one'));
    return null;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await executor.close().catch(() => undefined);
  }
}

const problem = await serverProblem();
const skipping = problem !== null && process.env.LLM_MONITOR_PG_SKIP === '1';
if (skipping) console.warn(`\n[cli] SKIPPING the PostgreSQL tests of the CLI: no server at ${PG_URL} (${problem}) and LLM_MONITOR_PG_SKIP=1 is set.\n`);
const TITLE = skipping ? `llm-monitor on PostgreSQL at ${PG_URL} — SKIPPED: no server (LLM_MONITOR_PG_SKIP=1)` : `llm-monitor on PostgreSQL at ${PG_URL}`;

// no server, and no LLM_MONITOR_PG_SKIP=1: a failing test that says how to get one
if (problem !== null && !skipping)
  describe(`llm-monitor on PostgreSQL at ${PG_URL}`, () => {
    it('needs a PostgreSQL server', () => {
      throw new Error(
        [
          `The PostgreSQL tests of @llm-monitor/cli need a server, and none answers at ${PG_URL} (${problem}).`,
          'Start one, e.g. on Debian/Ubuntu: `apt-get install -y postgresql && pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`',
          'and `su postgres -c "createdb test"` (see packages/driver-postgres/README.md), or point LLM_MONITOR_PG_URL at a server.',
          'To skip these tests instead, set LLM_MONITOR_PG_SKIP=1.',
        ].join('\n'),
      );
    });
  });

// Schemas named like driver-postgres's test schemas (`lmtest_<epoch ms>_…`): its global setup drops ones a crashed run left behind.
const prefix = `lmtest_${Date.now()}_${process.pid}_cli`;
let schemaCount = 0;
const schemas: string[] = [];
let admin: Executor | undefined;
const adminExecutor = () => (admin ??= new Executor(createPostgresDriver(PG_URL, { max: 2 })));

/** A new, empty schema (or only its name, with `create: false`); it is dropped after the test. */
async function newSchema(options: { create?: boolean } = {}): Promise<string> {
  const name = `${prefix}${++schemaCount}`;
  schemas.push(name);
  if (options.create ?? true) await adminExecutor().write((s) => s.run(`CREATE SCHEMA "${name}"`));
  return name;
}

async function schemaExists(name: string): Promise<boolean> {
  const rows = await adminExecutor().read((s) => s.query('SELECT 1 AS found FROM pg_catalog.pg_namespace WHERE nspname = ?', [name]));
  return rows.length > 0;
}

/** |a − b| <= 1e-9 (relative beyond 1) for every number, the rest equal, the same keys. */
function expectClose(actual: unknown, expected: unknown, path = '$'): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    if (Math.abs(actual - expected) > 1e-9 * Math.max(1, Math.abs(expected))) throw new Error(`${path}: ${actual} instead of ${expected}`);
    return;
  }
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual), path).toBe(true);
    expect((actual as unknown[]).length, `${path}.length`).toBe(expected.length);
    expected.forEach((value, i) => expectClose((actual as unknown[])[i], value, `${path}[${i}]`));
    return;
  }
  if (typeof expected === 'object' && expected !== null) {
    expect(typeof actual === 'object' && actual !== null, path).toBe(true);
    expect(Object.keys(actual as object).sort(), `${path} keys`).toEqual(Object.keys(expected).sort());
    for (const [key, value] of Object.entries(expected)) expectClose((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
    return;
  }
  expect(actual, path).toEqual(expected);
}

/** A report's JSON without the layout of each model (S1 in the seed file, S3 once llm-monitor wrote it). */
function withoutShapes(json: string): unknown {
  const report = JSON.parse(json) as { models?: { shape?: string }[] };
  for (const model of report.models ?? []) delete model.shape;
  return report;
}

const MODELS = ['Llama-3.3-70B-Instruct-Q4_K_M', '深度求索-DeepSeek-V3-本地部署', `O'Neil "embed" [v2]; DELETE FROM t; --`];

function expectOk(result: Exited, what: string): string {
  if (result.code !== 0) throw new Error(`${what}: exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  expect(result.stderr, what).toBe('');
  return result.stdout;
}

describe('llm-monitor migrate between SQLite files (no server needed)', () => {
  let dir: string;
  beforeAll(() => {
    requireBuiltBin();
    dir = tempDir('migrate-files');
  });
  afterAll(() => removeDir(dir));

  it('copies a file into a new file with the same report, and refuses what it cannot copy', async () => {
    const source = copyFixture('seed-v1-dev', dir);
    const copy = join(dir, 'copy.db');
    const stdout = expectOk(await runBin(['migrate', '--from', source, '--to', copy]), 'migrate');
    expect(stdout).toMatch(/^Copied .*seed-v1-dev\.db to .*copy\.db in \d+\.\d s:\n/);
    expect(stdout).toMatch(/│ total +│ +20 │ +6 │ +5 │/);
    expect(stdout).toContain('\n3 program runs.\nVerified: ');
    const [a, b] = await Promise.all([runBin(['report', '--format', 'json', '--db', source]), runBin(['report', '--format', 'json', '--db', copy])]);
    expectClose(withoutShapes(expectOk(b, 'report (copy)')), withoutShapes(expectOk(a, 'report (source)')));

    expectUserError(await runBin(['migrate', '--from', source, '--to', copy]), `${copy} already holds monitoring data`, 'choose a new --to file');
    expectUserError(await runBin(['migrate', '--from', join(dir, 'missing.db'), '--to', join(dir, 'x.db')]), 'no database at', 'choose one with --from PATH');
    expectUserError(await runBin(['migrate', '--from', source, '--to', join(dir, 'no-folder', 'x.db')]), 'the folder');
    expectUserError(await runBin(['migrate', '--from', source, '--to', join(dir, 'x.db'), '--schema', 's']), 'neither --from nor --to is a postgres:// URL');
    const normalized = copyFixture('normalized-v2-dev', dir);
    expectUserError(await runBin(['migrate', '--from', normalized, '--to', join(dir, 'x.db')]), 'layout S6', 'only S1–S3 can be copied');
    expect(existsSync(join(dir, 'x.db'))).toBe(false);
    // an existing empty file is a fine target
    const empty = join(dir, 'empty.db');
    writeFileSync(empty, '');
    expectOk(await runBin(['migrate', '--from', source, '--to', empty]), 'migrate into an empty file');
  });

  it('copies a model that was never configured (no billing rows): it gets the default billing, the counts still verify', async () => {
    const file = join(dir, 'unconfigured.db');
    const monitor = await openSqlite(file);
    await monitor.addModelRequests('configured', [[1.7e9, 10, 2]]);
    await monitor.addModelRequests('never-configured', [[1.7e9, 5, 1]]);
    const safe = monitor.getSafeModelName('never-configured');
    await monitor.close();
    const raw = new Database(file);
    for (const table of ['tier_pricing', 'hourly_price', 'billing_method']) raw.exec(`DELETE FROM "${safe}_${table}"`);
    raw.close();
    const stdout = expectOk(await runBin(['migrate', '--from', file, '--to', join(dir, 'unconfigured-copy.db')]), 'migrate');
    expect(stdout).toMatch(/│ never-configured +│ +1 │ +0 │ +0 │/);
    expect(stdout).toContain('Verified: ');
  });
});

describe.skipIf(problem !== null)(TITLE, () => {
  let dir: string;

  beforeAll(() => {
    requireBuiltBin();
    dir = tempDir('postgres');
  });
  afterEach(async () => {
    for (const name of schemas.splice(0)) await adminExecutor().write((s) => s.run(`DROP SCHEMA IF EXISTS "${name}" CASCADE`));
  });
  afterAll(async () => {
    removeDir(dir);
    await admin?.close();
  });

  /** The seed fixture copied in, migrated into a new schema, and back into a new file. */
  async function roundTrip(label: string) {
    const source = copyFixture('seed-v1-dev', dir, `${label}-seed.db`);
    const schema = await newSchema();
    const back = join(dir, `${label}-back.db`);
    const into = await runBin(['migrate', '--from', source, '--to', PG_URL, '--schema', schema]);
    const out = await runBin(['migrate', '--from', PG_URL, '--schema', schema, '--to', back]);
    return { source, schema, back, into, out, pg: ['--db', PG_URL, '--schema', schema] };
  }

  it('migrate copies the seed file into PostgreSQL and back into a new file, printing verified counts per model', async () => {
    const { source, schema, back, into, out } = await roundTrip('migrate');
    const reader = await openSqlite(source, { readOnly: true });
    const described = await reader.describe();
    await reader.close();
    expect(described.models.map((m) => m.name)).toEqual(MODELS);

    for (const [result, from, to] of [
      [into, source, `${PG_URL} (schema ${schema})`],
      [out, `${PG_URL} (schema ${schema})`, back],
    ] as const) {
      const stdout = expectOk(result, 'migrate');
      expect(stdout.split('\n')[0]).toMatch(new RegExp(`^Copied ${escape(from)} to ${escape(to)} in \\d+\\.\\d s:$`));
      for (const m of described.models) {
        const row = stdout.split('\n').find((line) => line.startsWith(`│ ${m.name} `));
        expect(row, m.name).toBeDefined();
        expect(row!.split('│').slice(2, 5).map((cell) => Number(cell.trim()))).toEqual([m.requests, m.runs, m.tiers]);
      }
      const total = stdout.split('\n').find((line) => line.startsWith('│ total '))!;
      const sum = (field: 'requests' | 'runs' | 'tiers') => described.models.reduce((n, m) => n + m[field], 0);
      expect(total.split('│').slice(2, 5).map((cell) => Number(cell.trim()))).toEqual([sum('requests'), sum('runs'), sum('tiers')]);
      expect(stdout).toContain(`\n${described.programRuns} program runs.\n`);
      expect(stdout).toContain('Verified: both databases hold these counts');
    }
    // the round trip holds what the source holds
    const copy = await openSqlite(back, { readOnly: true });
    try {
      const again = await copy.describe();
      expect(again.models.map(({ name, requests, runs, tiers, openRuns }) => ({ name, requests, runs, tiers, openRuns }))).toEqual(
        described.models.map(({ name, requests, runs, tiers, openRuns }) => ({ name, requests, runs, tiers, openRuns })),
      );
      expect(again.programRuns).toBe(described.programRuns);
    } finally {
      await copy.close();
    }
  });

  it('migrate and demo create a --schema that does not exist yet', async () => {
    const schema = await newSchema({ create: false });
    expectOk(await runBin(['migrate', '--from', copyFixture('seed-v1-dev', dir, 'new-schema.db'), '--to', PG_URL, '--schema', schema]), 'migrate');
    expect(await schemaExists(schema)).toBe(true);
    const demo = await newSchema({ create: false });
    expectOk(await runBin(['demo', '--db', PG_URL, '--schema', demo, '--days', '1']), 'demo');
    expect(JSON.parse(expectOk(await runBin(['models', '--format', 'json', '--db', PG_URL, '--schema', demo]), 'models'))).toHaveLength(4);
  });

  it('report --format json is the same from the SQLite source, from PostgreSQL and from the round-trip file (within 1e-9)', async () => {
    const { source, back, into, out, pg } = await roundTrip('report');
    expectOk(into, 'migrate into PostgreSQL');
    expectOk(out, 'migrate back');
    const queries = [
      ['report', '--format', 'json'],
      ['report', '--format', 'json', '--by', 'day', '--tz', 'Europe/Berlin'],
      ['report', '--format', 'json', '--from', '2024-03-09T18:00:00Z', '--to', '2024-03-10T02:00:00Z', '--model', MODELS[0]!, '--model', MODELS[1]!],
    ];
    for (const query of queries) {
      const [fromFile, fromPg, fromBack] = await Promise.all([
        runBin([...query, '--db', source]),
        runBin([...query, ...pg]),
        runBin([...query, '--db', back]),
      ]);
      const expected = withoutShapes(expectOk(fromFile, 'report (SQLite)'));
      expectClose(withoutShapes(expectOk(fromPg, 'report (PostgreSQL)')), expected);
      expectClose(withoutShapes(expectOk(fromBack, 'report (round trip)')), expected);
    }
    const summary = JSON.parse((await runBin(['report', '--format', 'json', ...pg])).stdout) as { models: { shape: string }[]; total: { requests: number } };
    expect(summary.total.requests).toBe(20);
    expect(summary.models.map((m) => m.shape)).toEqual(['S3', 'S3', 'S3']);
    // the table says where the numbers come from, without a password
    const table = expectOk(await runBin(['report', ...pg]), 'report table');
    expect(table.split('\n')[0]).toContain(`· ${PG_URL} (schema ${pg[3]})`);
  });

  it('models, pricing show and export agree between the source, PostgreSQL and the round trip', async () => {
    const { source, back, into, out, pg } = await roundTrip('listings');
    expectOk(into, 'migrate into PostgreSQL');
    expectOk(out, 'migrate back');
    const three = (args: string[]) => Promise.all([runBin([...args, '--db', source]), runBin([...args, ...pg]), runBin([...args, '--db', back])]);

    const models = (await three(['models', '--format', 'json'])).map((r) => JSON.parse(expectOk(r, 'models')) as { name: string; requests: number; runs: number }[]);
    for (const listing of models) {
      expect(listing).toHaveLength(3);
      expect(listing.map(({ name, requests, runs }) => ({ name, requests, runs }))).toEqual(models[0]!.map(({ name, requests, runs }) => ({ name, requests, runs })));
    }
    const table = (await three(['models'])).map((r) => expectOk(r, 'models table').split('\n').filter((line) => line.startsWith('│ ')).length);
    expect(new Set(table).size).toBe(1);

    for (const model of MODELS) {
      const [a, b, c] = (await three(['pricing', 'show', model, '--format', 'json'])).map((r) => JSON.parse(expectOk(r, `pricing show ${model}`)) as unknown);
      expectClose(b, a);
      expectClose(c, a);
      const tables = (await three(['pricing', 'show', model])).map((r) => expectOk(r, 'pricing show table').split('\n').filter((line) => line.startsWith('│ ')).length);
      expect(tables[1]).toBe(tables[0]);
      expect(tables[2]).toBe(tables[0]);
    }

    const csv = (await three(['export', 'requests', '--format', 'csv'])).map((r) => parse(expectOk(r, 'export requests'), { columns: true }) as Record<string, string>[]);
    expect(csv[0]).toHaveLength(20);
    expect(csv[1]).toHaveLength(csv[0]!.length);
    expect(csv[2]).toHaveLength(csv[0]!.length);
    // the same rows, ids included (the seed file has no gaps in its ids), numbers compared as numbers
    const numeric = (rows: Record<string, string>[]) => rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, k === 'model' ? v : Number(v)])));
    expectClose(numeric(csv[1]!), numeric(csv[0]!));
    expectClose(numeric(csv[2]!), numeric(csv[0]!));

    const runs = (await three(['export', 'runtime', '--format', 'json'])).map((r) => JSON.parse(expectOk(r, 'export runtime')) as unknown[]);
    expect(runs[0]).toHaveLength(6);
    expectClose(runs[1], runs[0]);
    expectClose(runs[2], runs[0]);
    const program = (await three(['export', 'runtime', '--program', '--format', 'ndjson', '--from', '1710000000'])).map((r) =>
      expectOk(r, 'export runtime --program').trimEnd().split('\n').map((line) => JSON.parse(line) as unknown),
    );
    expect(program[0]!.length).toBeGreaterThan(0);
    expectClose(program[1], program[0]);
    expectClose(program[2], program[0]);
  });

  it('export streams a large PostgreSQL table in pages, in a 24 MB heap', async () => {
    const rows = 60_000;
    const file = join(dir, 'large.db');
    const seed = await openSqlite(file);
    await seed.addModelRequests('large', Array.from({ length: rows }, (_, i) => [1.7e9 + i, 100 + (i % 900), i % 300, i % 40, 100 + (i % 900) - (i % 40)] as const));
    await seed.close();
    const schema = await newSchema();
    expectOk(await runBin(['migrate', '--from', file, '--to', PG_URL, '--schema', schema]), 'migrate');
    const out = join(dir, 'large.ndjson');
    const result = await runBin(['export', 'requests', '--db', PG_URL, '--schema', schema, '--format', 'ndjson', '--out', out], {
      nodeArgs: ['--max-old-space-size=24', '--max-semi-space-size=2'],
    });
    expect(expectOk(result, 'export')).toBe(`Exported ${rows.toLocaleString('en-US')} requests to ${out}.\n`);
    const piped = await runBin(['export', 'requests', '--db', PG_URL, '--schema', schema, '--format', 'csv', '--from', String(1.7e9 + 59_990)]);
    expect(expectOk(piped, 'export --from').trimEnd().split('\n')).toEqual([
      'model,id,timestamp,inputTokens,outputTokens,cacheN,promptN',
      ...Array.from({ length: 10 }, (_, k) => {
        const i = 59_990 + k;
        return `large,${i + 1},${1.7e9 + i},${100 + (i % 900)},${i % 300},${i % 40},${100 + (i % 900) - (i % 40)}`;
      }),
    ]);
  });

  it('export-db and serve work on SQLite files: a PostgreSQL --db is exit 1 with one line saying so', async () => {
    const url = 'postgres://monitor:s3cret@127.0.0.1:5432/test';
    const exported = await runBin(['export-db', '--db', url, '--out', join(dir, 'copy.db')]);
    expectUserError(exported, 'export-db copies a SQLite file', 'is a PostgreSQL database', 'llm-monitor migrate --from');
    expect(exported.stderr).not.toContain('s3cret');
    expect(existsSync(join(dir, 'copy.db'))).toBe(false);
    const served = await runBin(['serve', '--db', PG_URL, '--port', '0']);
    expectUserError(served, 'serve shows a SQLite file', 'is a PostgreSQL database', '`llm-monitor migrate --from', '--to monitoring.db`');
  });

  it('read-only commands refuse a schema without monitor tables and create nothing; --schema needs a PostgreSQL --db', async () => {
    const schema = await newSchema({ create: false });
    const pg = ['--db', PG_URL, '--schema', schema];
    const results = await Promise.all(
      [['report'], ['models'], ['pricing', 'show', 'm'], ['pricing', 'export', '-'], ['export', 'requests'], ['export', 'runtime'], ['pricing', 'set-hourly', 'm', '2']].map(
        (args) => runBin([...args, ...pg]),
      ),
    );
    for (const result of results) expectUserError(result, `${PG_URL} (schema ${schema}) holds no monitor tables`, '--schema NAME');
    expect(await schemaExists(schema)).toBe(false);

    const file = copyFixture('seed-v1-dev', dir, 'schema-with-file.db');
    expectUserError(await runBin(['report', '--db', file, '--schema', 'x']), `--schema is for a PostgreSQL database (--db postgres://…), and ${file} is a SQLite file`);
    expectUserError(await runBin(['migrate', '--from', file, '--to', join(dir, 'x.db'), '--schema', 'x']), 'neither --from nor --to is a postgres:// URL');
  });

  it('a server that does not answer is exit 1 with one line, the password masked', async () => {
    const free = http.createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const { port } = free.address() as AddressInfo;
    await new Promise((resolve) => free.close(resolve));
    const url = `postgres://monitor:s3cret@127.0.0.1:${port}/test`;
    for (const args of [['report', '--db', url], ['migrate', '--from', copyFixture('seed-v1-dev', dir, 'down.db'), '--to', url]]) {
      const result = await runBin(args);
      expectUserError(result, `postgres://monitor:***@127.0.0.1:${port}/test`, 'ECONNREFUSED');
      expect(result.stderr).not.toContain('s3cret');
    }
  });

  it('migrate refuses a target that holds data, files it cannot copy, and the same database; a failed copy leaves no new file', async () => {
    const { source, schema, back, into, out } = await roundTrip('refusals');
    expectOk(into, 'migrate into PostgreSQL');
    expectOk(out, 'migrate back');
    expectUserError(await runBin(['migrate', '--from', source, '--to', PG_URL, '--schema', schema]), `${PG_URL} (schema ${schema}) already holds monitoring data`, 'choose a new --schema');
    expectUserError(await runBin(['migrate', '--from', source, '--to', back]), `${back} already holds monitoring data`);
    expectUserError(await runBin(['migrate', '--from', source, '--to', source]), '--from and --to are the same database');
    expectUserError(await runBin(['migrate', '--from', PG_URL, '--schema', schema, '--to', PG_URL]), '--from and --to are the same database');
    expectUserError(await runBin(['migrate', '--from', join(dir, 'missing.db'), '--to', PG_URL]), 'no database at', 'choose one with --from PATH');

    // LLM-Manager v2.6 files (normalized tables) are read, not copied: refused before anything is created
    const normalized = copyFixture('normalized-v2-dev', dir, 'normalized.db');
    const target = join(dir, 'never.db');
    expectUserError(await runBin(['migrate', '--from', normalized, '--to', target]), 'cannot migrate', 'layout S6', 'only S1–S3 can be copied');
    expect(existsSync(target)).toBe(false);
    const unused = await newSchema({ create: false });
    expectUserError(await runBin(['migrate', '--from', normalized, '--to', PG_URL, '--schema', unused]), 'layout S6');
    expect(await schemaExists(unused)).toBe(false);
    expect(readdirSync(dir).filter((name) => name.startsWith('never'))).toEqual([]);

    const help = await runBin(['migrate', '--help']);
    expect(help.code).toBe(0);
    for (const text of ['Usage: llm-monitor migrate', '--from <db>', '--to <db>', '--schema <name>', 'Examples:', '$ llm-monitor migrate --from webui/monitoring.db --to postgres://'])
      expect(help.stdout).toContain(text);
  });

  it('demo fills a new schema, pricing changes write to it, and demo refuses a schema that holds data', async () => {
    const schema = await newSchema();
    const pg = ['--db', PG_URL, '--schema', schema];
    const demo = expectOk(await runBin(['demo', ...pg, '--now', '2026-11-26T15:00:00Z', '--days', '2']), 'demo');
    expect(demo).toContain(`Created ${PG_URL} (schema ${schema}) with a simulated 2 days (seed 42)`);
    expect(demo).toContain(`Next: llm-monitor report --by day --db ${PG_URL} --schema ${schema}`);
    expectUserError(await runBin(['demo', ...pg]), 'already holds an earlier demo', 'choose another with --schema NAME');

    // the same demo in a file: the same numbers
    const file = join(dir, 'demo.db');
    expectOk(await runBin(['demo', '--db', file, '--now', '2026-11-26T15:00:00Z', '--days', '2']), 'demo (file)');
    const [a, b] = await Promise.all([runBin(['report', '--format', 'json', '--db', file]), runBin(['report', '--format', 'json', ...pg])]);
    expectClose(withoutShapes(expectOk(b, 'report (PostgreSQL)')), withoutShapes(expectOk(a, 'report (file)')));

    expect(expectOk(await runBin(['pricing', 'set-hourly', 'DeepSeek-V3-H100', '4.5', ...pg]), 'set-hourly')).toBe('DeepSeek-V3-H100: hourly price 4.5 (was 7.25).\n');
    const billing = JSON.parse(expectOk(await runBin(['pricing', 'show', 'DeepSeek-V3-H100', '--format', 'json', ...pg]), 'pricing show')) as { hourlyPrice: number };
    expect(billing.hourlyPrice).toBe(4.5);
    expectUserError(await runBin(['pricing', 'set-hourly', 'no-such-model', '1', ...pg]), 'unknown model "no-such-model"', `${PG_URL} (schema ${schema})`);
  });

  describe('proxy', () => {
    let upstream: FakeUpstream;
    beforeAll(async () => {
      upstream = await startFakeUpstream();
    });
    afterAll(async () => {
      await upstream?.close();
    });

    it('records into PostgreSQL: the requests and runs of a proxy are there for every reader', async () => {
      const schema = await newSchema();
      const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [BIN, 'proxy', '--upstream', upstream.url, '--port', '0', '--db', PG_URL, '--schema', schema], {
        env: { ...process.env, TZ: 'UTC' },
      });
      const { output, exited } = collect(child);
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no listening line; stderr: ${output.stderr}`)), 15_000);
        child.stdout.on('data', () => {
          const match = /Listening on (http:\/\/\S+)\n[^]*Stop with Ctrl-C\./.exec(output.stdout);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        });
        void exited.then(() => reject(new Error(`exited early: ${output.stderr}`)));
      });
      expect(output.stdout).toContain(`recording into ${PG_URL} (schema ${schema})`);
      for (const stream of [false, true])
        expect((await post(`${url}/v1/chat/completions`, { model: 'pg-model', messages: [{ role: 'user', content: 'a b c' }], max_tokens: 2, stream })).status).toBe(200);
      child.kill('SIGTERM');
      const result = await exited;
      expect(result.code, result.stderr).toBe(0);
      const rows = expectOk(await runBin(['export', 'requests', '--db', PG_URL, '--schema', schema, '--format', 'ndjson']), 'export').trimEnd().split('\n');
      expect(rows.map((line) => JSON.parse(line) as Record<string, unknown>)).toMatchObject([
        { model: 'pg-model', id: 1, inputTokens: 3, outputTokens: 2 },
        { model: 'pg-model', id: 2, inputTokens: 3, outputTokens: 2 },
      ]);
      const runs = JSON.parse(expectOk(await runBin(['export', 'runtime', '--db', PG_URL, '--schema', schema, '--format', 'json']), 'runs')) as { endTime: number; startTime: number }[];
      expect(runs).toHaveLength(1);
      expect(runs[0]!.endTime).toBeGreaterThan(runs[0]!.startTime);
    });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
