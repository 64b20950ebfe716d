import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openMonitor } from '@llm-monitor/driver-node';
import Database from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, collect, copyFixture, expectUsageError, expectUserError, removeDir, requireBuiltBin, runBin, startBin, tempDir } from './cli-harness.js';

const ROWS = 200_000;
const WRITER = fileURLToPath(new URL('./processes/writer.mjs', import.meta.url));

let dir: string;
let big: string;

/** Request i of the big model: timestamps 2.5 s apart from 1.7e9. */
const bigRow = (i: number) => [1.7e9 + i * 2.5, 100 + (i % 5000), i % 700, i % 50, 100 + (i % 5000) - (i % 50)] as const;

beforeAll(async () => {
  requireBuiltBin();
  dir = tempDir('export');
  big = join(dir, 'big.db');
  const monitor = await openMonitor(big);
  await monitor.addModelRequests('big', Array.from({ length: ROWS }, (_, i) => bigRow(i)));
  await monitor.addModelRequests('small, "quoted"', [
    [1.7e9, 1, 2],
    [1.7e9 + 1, 3, 4, 1, 2],
  ]);
  await monitor.addModelRuntimeStart('big', 1.7e9);
  await monitor.updateModelRuntimeEnd('big', 1.7e9 + 3600);
  await monitor.addProgramRuntimeStart(1.7e9 - 10);
  await monitor.close();
}, 60_000);
afterAll(() => removeDir(dir));

describe('export requests', () => {
  it('streams 200 000 rows as CSV to a pipe, with no progress bar', async () => {
    const result = await runBin(['export', 'requests', '--db', big]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe('model,id,timestamp,inputTokens,outputTokens,cacheN,promptN');
    expect(lines.at(-1)).toBe('');
    expect(lines).toHaveLength(ROWS + 2 + 2);
    expect(lines[1]).toBe(`big,1,${bigRow(0).join(',')}`);
    expect(lines[ROWS]).toBe(`big,${ROWS},${bigRow(ROWS - 1).join(',')}`);
    // a model name with a comma and quotes is quoted, and parses back
    const rows = parse(lines.slice(-3).join('\n'), { columns: ['model', 'id', 'timestamp', 'inputTokens', 'outputTokens', 'cacheN', 'promptN'] });
    expect(rows).toEqual([
      { model: 'small, "quoted"', id: '1', timestamp: '1700000000', inputTokens: '1', outputTokens: '2', cacheN: '0', promptN: '0' },
      { model: 'small, "quoted"', id: '2', timestamp: '1700000001', inputTokens: '3', outputTokens: '4', cacheN: '1', promptN: '2' },
    ]);
  });

  it('keeps memory flat: the export runs in a 24 MB heap (loading the rows at once does not)', async () => {
    for (const format of ['json', 'csv', 'ndjson']) {
      const out = join(dir, `flat.${format}`);
      const result = await runBin(['export', 'requests', '--db', big, '--format', format, '--out', out], {
        nodeArgs: ['--max-old-space-size=24', '--max-semi-space-size=2'],
      });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toBe(`Exported ${(ROWS + 2).toLocaleString('en-US')} requests to ${out}.\n`);
    }
    const json = JSON.parse(readFileSync(join(dir, 'flat.json'), 'utf8')) as Record<string, unknown>[];
    expect(json).toHaveLength(ROWS + 2);
    const [timestamp, inputTokens, outputTokens, cacheN, promptN] = bigRow(ROWS - 1);
    expect(json[ROWS - 1]).toEqual({ model: 'big', id: ROWS, timestamp, inputTokens, outputTokens, cacheN, promptN });
    const ndjson = readFileSync(join(dir, 'flat.ndjson'), 'utf8').trimEnd().split('\n');
    expect(ndjson).toHaveLength(ROWS + 2);
    expect(JSON.parse(ndjson[12_345]!)).toEqual(json[12_345]);
  });

  it('--model, --from and --to select rows as core does; json is a valid array even when empty', async () => {
    const from = 1.7e9 + 1000 * 2.5;
    const to = 1.7e9 + 5000 * 2.5;
    const result = await runBin(['export', 'requests', '--db', big, '--model', 'big', '--from', String(from), '--to', String(to), '--format', 'ndjson']);
    expect(result.code).toBe(0);
    const rows = result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { id: number; timestamp: number });
    const monitor = await openMonitor(big, { readOnly: true });
    try {
      const expected = (await monitor.getModelRequests('big')).filter((r) => r.timestamp >= from && r.timestamp < to).reverse();
      expect(rows).toEqual(expected.map((r) => ({ model: 'big', ...r })));
    } finally {
      await monitor.close();
    }
    const iso = await runBin(['export', 'requests', '--db', big, '--model', 'big', '--from', '2023-11-14T22:13:20Z', '--to', '2023-11-14T22:13:30Z', '--format', 'json']);
    expect(JSON.parse(iso.stdout)).toHaveLength(4);
    const none = await runBin(['export', 'requests', '--db', big, '--from', '2030-01-01', '--format', 'json']);
    expect(none.stdout).toBe('[]\n');
    expect(JSON.parse(none.stdout)).toEqual([]);
  });

  it('reads both fixture layouts (S1 without cache columns, S6 normalized in WAL mode) like core', async () => {
    for (const fixture of ['seed-v1-dev', 'normalized-v2-dev'] as const) {
      const file = copyFixture(fixture, dir);
      const result = await runBin(['export', 'requests', '--db', file, '--format', 'json']);
      expect(result.code, result.stderr).toBe(0);
      const exported = JSON.parse(result.stdout) as { model: string }[];
      const monitor = await openMonitor(file, { readOnly: true });
      try {
        const expected = [];
        for (const { name } of await monitor.listModels()) expected.push(...(await monitor.getModelRequests(name)).reverse().map((r) => ({ model: name, ...r })));
        expect(exported).toEqual(expected);
      } finally {
        await monitor.close();
      }
    }
  });

  it('reads a model in layout S4 (requests with start_time/end_time) as core does: its time is the end time', async () => {
    const file = join(dir, 's4.db');
    const monitor = await openMonitor(file);
    await monitor.registerModel('s4-model');
    const safe = monitor.getSafeModelName('s4-model');
    await monitor.close();
    const raw = new Database(file);
    raw.exec(`DROP TABLE "${safe}_requests";
      CREATE TABLE "${safe}_requests" (id INTEGER PRIMARY KEY AUTOINCREMENT, start_time REAL NOT NULL, end_time REAL NOT NULL,
        input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cache_n INTEGER NOT NULL DEFAULT 0, prompt_n INTEGER NOT NULL DEFAULT 0);
      INSERT INTO "${safe}_requests" (start_time, end_time, input_tokens, output_tokens, cache_n, prompt_n)
        VALUES (1700000000, 1700000004.5, 120, 30, 100, 20), (1700000010, 1700000012, 50, 5, 0, 50);`);
    raw.close();
    const reader = await openMonitor(file, { readOnly: true });
    try {
      expect((await reader.listModels())[0]!.shape).toBe('S4');
      const expected = (await reader.getModelRequests('s4-model')).reverse().map((r) => ({ model: 's4-model', ...r }));
      const result = await runBin(['export', 'requests', '--db', file, '--format', 'json']);
      expect(JSON.parse(result.stdout)).toEqual(expected);
      expect(expected[0]!.timestamp).toBe(1700000004.5);
      const windowed = await runBin(['export', 'requests', '--db', file, '--format', 'ndjson', '--from', '1700000004']);
      expect(windowed.stdout.trimEnd().split('\n')).toHaveLength(2);
    } finally {
      await reader.close();
    }
  });

  it('stops quietly when the reader of the pipe goes away', async () => {
    const child = startBin(['export', 'requests', '--db', big, '--format', 'ndjson']);
    const { exited } = collect(child);
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    const result = await exited;
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
  });

  it.skipIf(!existsSync('/usr/bin/script'))('shows a progress bar on a terminal', () => {
    const out = join(dir, 'tty.csv');
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} export requests --db ${JSON.stringify(big)} --out ${JSON.stringify(out)}`;
    const result = spawnSync('/usr/bin/script', ['-qec', command, '/dev/null'], { encoding: 'utf8', timeout: 30_000 });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/\d+% \| \d+\/200,?002 requests/);
    expect(result.stdout).toContain('Exported 200,002 requests');
  });
});

describe('export runtime', () => {
  it('exports model runs, or program runs with --program', async () => {
    const runs = await runBin(['export', 'runtime', '--db', big, '--format', 'json']);
    expect(JSON.parse(runs.stdout)).toEqual([{ model: 'big', id: 1, startTime: 1.7e9, endTime: 1.7e9 + 3600 }]);
    const overlapping = await runBin(['export', 'runtime', '--db', big, '--from', String(1.7e9 + 3599), '--format', 'ndjson']);
    expect(overlapping.stdout.trimEnd().split('\n')).toHaveLength(1);
    const after = await runBin(['export', 'runtime', '--db', big, '--from', String(1.7e9 + 3601), '--format', 'csv']);
    expect(after.stdout).toBe('model,id,startTime,endTime\n');
    const program = await runBin(['export', 'runtime', '--program', '--db', big, '--format', 'csv']);
    expect(program.stdout).toBe(`id,startTime,endTime\n1,${1.7e9 - 10},${1.7e9 - 10}\n`);
  });
});

describe('export errors', () => {
  it('unknown models, formats, existing files and bad windows', async () => {
    expectUserError(await runBin(['export', 'requests', '--db', big, '--model', 'nope']), 'unknown model "nope"');
    expectUsageError(await runBin(['export', 'requests', '--db', big, '--format', 'xml']), "argument 'xml' is invalid");
    expectUsageError(await runBin(['export', 'everything', '--db', big]));
    expectUsageError(await runBin(['export', 'requests', '--db', big, '--from', 'last tuesday']), '--from');
    expectUserError(await runBin(['export', 'requests', '--db', big, '--from', '2024-02-01', '--to', '2024-01-01']), '--to (2024-01-01 00:00:00) is before --from (2024-02-01 00:00:00)');
    const out = join(dir, 'exists.csv');
    await runBin(['export', 'requests', '--db', big, '--model', 'small, "quoted"', '--out', out]);
    expectUserError(await runBin(['export', 'requests', '--db', big, '--out', out]), 'exists.csv already exists (add --force');
    expect((await runBin(['export', 'requests', '--db', big, '--out', out, '--force', '--model', 'big'])).code).toBe(0);
    expectUserError(await runBin(['export', 'requests', '--db', big, '--out', join(dir, 'no-such-folder', 'x.csv')]), 'the folder');
    expectUserError(await runBin(['export', 'runtime', '--program', '--model', 'big', '--db', big]), '--program');
    // no partial file is left behind by a failed export
    expect(readdirSync(dir).filter((name) => name.endsWith('.partial'))).toEqual([]);
  });
});

describe('export-db and export while another process writes', () => {
  it('copies a consistent snapshot that passes integrity_check, in rollback-journal mode, without stopping the writer', async () => {
    const live = join(dir, 'live.db');
    const seed = await openMonitor(live);
    await seed.addModelRequests('busy', Array.from({ length: 50_000 }, (_, i) => [1.7e9 + i, 100, 10] as const));
    await seed.close();

    const writer = spawn(process.execPath, [WRITER, live, 'busy'], { cwd: dir });
    const writes = collect(writer);
    const progress = () => Number(/(\d+)\n$/.exec(writes.output.stdout)?.[1] ?? 0);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`writer never wrote: ${writes.output.stderr}`)), 15_000);
        writer.stdout.on('data', () => {
          if (progress() >= 400) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      const before = progress();
      const copy = join(dir, 'copy.db');
      const [exported, streamed] = await Promise.all([
        runBin(['export-db', '--db', live, '--out', copy]),
        runBin(['export', 'requests', '--db', live, '--format', 'ndjson']),
      ]);
      expect(exported.stderr).toBe('');
      expect(exported.code).toBe(0);
      expect(exported.stdout).toMatch(new RegExp(`^Copied ${live.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} to .*copy\\.db: 1 model, [\\d,]+ requests, [\\d.]+ (KiB|MiB), rollback journal`));
      // the writer kept writing meanwhile
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(progress()).toBeGreaterThan(before);

      const header = readFileSync(copy).subarray(18, 20);
      expect([...header]).toEqual([1, 1]);
      expect(existsSync(`${copy}-wal`)).toBe(false);
      const raw = new Database(copy, { readonly: true });
      try {
        expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
        expect(raw.pragma('journal_mode', { simple: true })).toBe('delete');
      } finally {
        raw.close();
      }
      const monitor = await openMonitor(copy, { readOnly: true });
      try {
        const rows = await monitor.getModelRequests('busy');
        expect(rows.length).toBeGreaterThanOrEqual(50_000 + before);
        // a snapshot: the rows 1…n with no hole
        expect(rows.map((r) => r.id)).toEqual(Array.from({ length: rows.length }, (_, i) => rows.length - i));
      } finally {
        await monitor.close();
      }

      // the export streamed while the writer wrote: the rows that existed when it started, in order, no duplicates
      const ids = streamed.stdout.trimEnd().split('\n').map((line) => (JSON.parse(line) as { id: number }).id);
      expect(streamed.code).toBe(0);
      expect(ids.length).toBeGreaterThanOrEqual(50_000 + before);
      expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1));
    } finally {
      writer.kill('SIGTERM');
      const done = await writes.exited;
      expect(done.stdout).toMatch(/done \d+\n$/);
    }
  });

  it('refuses a missing database, an existing --out and the database itself as --out', async () => {
    const missing = join(dir, 'missing.db');
    expectUserError(await runBin(['export-db', '--db', missing, '--out', join(dir, 'x.db')]), `no database at ${missing}`);
    expect(existsSync(missing)).toBe(false);
    expect(existsSync(join(dir, 'x.db'))).toBe(false);
    expectUserError(await runBin(['export-db', '--db', big, '--out', big, '--force']), 'is the database itself');
    const out = join(dir, 'twice.db');
    expect((await runBin(['export-db', '--db', big, '--out', out])).code).toBe(0);
    expectUserError(await runBin(['export-db', '--db', big, '--out', out]), 'twice.db already exists (add --force');
    expect((await runBin(['export-db', '--db', big, '--out', out, '--force'])).code).toBe(0);
    expectUsageError(await runBin(['export-db', '--db', big]), "required option '--out <file>' not specified");
    rmSync(out);
  });
});
