/**
 * Opening files that are not monitor databases (issue 7): zero bytes, random bytes, truncated and
 * corrupted copies of a real file, another application's SQLite file, a read-only file, a path in a
 * missing folder, a directory. Each gives a MonitorError with the expected code (or, for read-only,
 * read-only access), and an open that must not write leaves the file's bytes (sha256) as they were
 * and creates no -wal/-shm/-journal next to it.
 *
 * Then two Monitors on one file, one deleting a model while the other records requests for it, in
 * one process and across two processes (test/crash/deleter.mjs runs the BUILT package).
 */
import { fork, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { fixturePath } from '@llm-monitor/test-kit';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Monitor, type MonitorErrorCode, USER_VERSION, isMonitorError, openMonitor } from '../src/index.js';
import { checkStructure, expectedSafeName, fileState, integrity, quote, sha256File, sideFiles } from './crash/checks.js';

const here = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));
const SEED = fixturePath('seed-v1-dev', 'db');
const LLAMA = 'Llama-3.3-70B-Instruct-Q4_K_M';
const DEEPSEEK = '深度求索-DeepSeek-V3-本地部署';

let dir = '';
let fileCount = 0;
const tempPath = (name: string) => join(dir, `${name}-${++fileCount}.db`);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'llm-monitor-hostile-'));
});
afterAll(() => {
  if (dir) {
    chmodRecursive(dir);
    rmSync(dir, { recursive: true, force: true });
  }
});

function chmodRecursive(path: string): void {
  chmodSync(path, 0o777);
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) chmodRecursive(full);
    else chmodSync(full, 0o666);
  }
}

/** A writable copy of the seed fixture (the fixture itself is read-only). */
function seedCopy(): string {
  const path = tempPath('seed');
  copyFileSync(SEED, path);
  chmodSync(path, 0o644);
  return path;
}

/** The seed fixture after one writable open: native layout (S3), WAL mode, checkpointed into one file. */
async function nativeCopy(): Promise<string> {
  const path = seedCopy();
  const monitor = await openMonitor(path);
  await monitor.close();
  expect(sideFiles(path)).toEqual([]);
  expect(readFileSync(path)[18]).toBe(2);
  return path;
}

/** A deterministic PRNG (the random bytes are the same on every run). */
function seededBytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let s = seed >>> 0;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

/** openMonitor must fail with `code`; the error is a MonitorError with a message. */
async function openFails(path: string, options: { readOnly?: boolean }, code: MonitorErrorCode): Promise<Error> {
  let monitor: Monitor | undefined;
  try {
    monitor = await openMonitor(path, options);
  } catch (error) {
    expect(isMonitorError(error), `not a MonitorError: ${String(error)}`).toBe(true);
    expect((error as { code: string }).code, (error as Error).message).toBe(code);
    expect((error as Error).message.length).toBeGreaterThan(10);
    return error as Error;
  }
  await monitor.close();
  throw new Error(`openMonitor(${path}, ${JSON.stringify(options)}) succeeded; expected ${code}`);
}

/**
 * Runs `fn` and checks that the file's bytes are exactly as before and no file appeared next to it.
 * Except: SQLite reads a WAL-mode file only through its -shm, and a read-only connection cannot
 * remove the -wal/-shm it created; with `walReader` an EMPTY -wal and a -shm may appear (and are
 * removed here).
 */
async function unchanged<T>(path: string, fn: () => Promise<T>, options: { walReader?: boolean } = {}): Promise<T> {
  const before = fileState(path);
  const sideBefore = sideFiles(path);
  const result = await fn();
  expect(fileState(path), `${path} was modified`).toBe(before);
  let sideAfter = sideFiles(path);
  if (options.walReader && sideBefore.length === 0 && sideAfter.length > 0) {
    expect(sideAfter).toEqual(['-wal', '-shm']);
    expect(statSync(`${path}-wal`).size, 'the read-only open wrote to the WAL').toBe(0);
    for (const suffix of sideAfter) rmSync(path + suffix);
    sideAfter = [];
  }
  expect(sideAfter, `${path}: files appeared next to it`).toEqual(sideBefore);
  return result;
}

const headerJournal = (path: string) => [...readFileSync(path).subarray(18, 20)];

/** Opens `path` read-only for `fn`, then removes the empty -wal/-shm such a connection leaves next to a WAL file. */
function inspect<T>(path: string, fn: (db: Database.Database) => T): T {
  const existing = sideFiles(path);
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
    for (const suffix of sideFiles(path)) {
      if (existing.includes(suffix)) continue;
      if (suffix === '-wal') expect(statSync(path + suffix).size).toBe(0);
      rmSync(path + suffix);
    }
  }
}

const journalMode = (path: string) => inspect(path, (db) => String(db.pragma('journal_mode', { simple: true })));

/** The root page of a model's requests table, checked to be a table b-tree leaf (type 0x0D). */
function requestsLeafPage(path: string, model: string): number {
  return inspect(path, (db) => {
    const page = Number(db.prepare('SELECT rootpage FROM sqlite_master WHERE name = ?').pluck().get(`${expectedSafeName(model)}_requests`));
    const pageSize = Number(db.pragma('page_size', { simple: true }));
    expect(pageSize).toBe(4096);
    expect(readFileSync(path)[(page - 1) * pageSize]).toBe(0x0d);
    return page;
  });
}

/** What integrity_check says about a corrupt file (SQLite may also refuse to run it). */
function corruption(path: string): string {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join('\n');
  } catch (error) {
    return (error as Error).message;
  } finally {
    db.close();
  }
}

/** Flips every bit of one byte of `page` (1-based) at `offset`. */
function flipByte(path: string, page: number, offset: number): void {
  const bytes = readFileSync(path);
  bytes[(page - 1) * 4096 + offset]! ^= 0xff;
  writeFileSync(path, bytes);
}

// ---- files that are not monitor databases ----------------------------------------------------------

describe('opening hostile files', () => {
  it('zero bytes: readOnly fails NOT_A_MONITOR_DB and leaves it empty; a writable open makes it a new monitor database', async () => {
    const path = tempPath('zero');
    writeFileSync(path, '');
    await unchanged(path, () => openFails(path, { readOnly: true }, 'NOT_A_MONITOR_DB'));
    expect(statSync(path).size).toBe(0);

    // SQLite treats a zero-byte file as an empty database: a writable open initialises it, as it
    // would a missing file. Accepted: an empty file holds nothing to lose.
    const monitor = await openMonitor(path);
    expect(await monitor.listModels()).toEqual([]);
    await monitor.addModelRequest('m', [1_700_000_000, 1, 2]);
    expect(await monitor.getModelRequests('m')).toHaveLength(1);
    await monitor.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(USER_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(checkStructure(db).problems).toEqual([]);
    db.close();
  });

  it('random bytes: NOT_A_DATABASE in both modes, file unchanged', async () => {
    const variants: [string, Buffer][] = [
      ['8 KiB of noise', seededBytes(8192, 1)],
      ['a SQLite header, then noise', Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), seededBytes(8176, 2)])],
      ['the first 100 bytes of a real file, then noise', Buffer.concat([readFileSync(SEED).subarray(0, 100), seededBytes(94_108, 3)])],
      ['text', Buffer.from('model_name_mapping,program_runtime\n'.repeat(200))],
    ];
    for (const [label, bytes] of variants) {
      const path = tempPath('random');
      writeFileSync(path, bytes);
      for (const readOnly of [true, false]) {
        const error = await unchanged(path, () => openFails(path, { readOnly }, 'NOT_A_DATABASE'));
        expect(error.message, label).toMatch(/not a (SQLite )?database|malformed/);
      }
    }
  });

  it('a 1-byte file: a read-only open refuses it as not a database and leaves it as it was', async () => {
    const path = tempPath('one-byte');
    writeFileSync(path, 'S');
    await unchanged(path, () => openFails(path, { readOnly: true }, 'NOT_A_DATABASE'));
  });

  // SQLite itself reads a 1-byte file as an empty database and would initialise it; the driver checks
  // the header first, so only a missing or 0-byte file becomes a new monitor database.
  it('a writable open refuses a 1-byte non-database file and leaves it alone', async () => {
    const path = tempPath('one-byte');
    writeFileSync(path, 'S');
    await unchanged(path, () => openFails(path, {}, 'NOT_A_DATABASE'));
  });

  it('a truncated copy of a real monitor file: NOT_A_DATABASE in both modes, file unchanged', async () => {
    const full = readFileSync(SEED);
    expect(full.length).toBe(23 * 4096);
    for (const cut of [50, 100, 1000, 4096, 8192, 40_000, 65_536, 90_112]) {
      const path = tempPath(`truncated-${cut}`);
      writeFileSync(path, full.subarray(0, cut));
      for (const readOnly of [true, false]) await unchanged(path, () => openFails(path, { readOnly }, 'NOT_A_DATABASE'));
    }
  });

  it('a flipped byte in a data page (read-only open): the affected reads fail NOT_A_DATABASE, the rest works, file unchanged', async () => {
    const path = seedCopy();
    flipByte(path, requestsLeafPage(path, LLAMA), 0); // the b-tree page type: the page is unreadable
    expect(corruption(path)).toMatch(/btreeInitPage|malformed/);
    await unchanged(path, async () => {
      const monitor = await openMonitor(path, { readOnly: true });
      try {
        expect((await monitor.listModels()).map((m) => m.name)).toEqual([LLAMA, DEEPSEEK, `O'Neil "embed" [v2]; DELETE FROM t; --`]);
        await expect(monitor.getModelRequests(LLAMA)).rejects.toMatchObject({ name: 'MonitorError', code: 'NOT_A_DATABASE' });
        await expect(monitor.summary()).rejects.toMatchObject({ name: 'MonitorError', code: 'NOT_A_DATABASE' });
        expect(await monitor.getModelRequests(DEEPSEEK)).toHaveLength(6);
        expect((await monitor.getModelBilling(LLAMA))?.tierPricing).toHaveLength(3);
        await expect(monitor.addModelRequest(LLAMA, [1_700_000_000, 1, 1])).rejects.toMatchObject({ code: 'READ_ONLY' });
      } finally {
        await monitor.close();
      }
    });
  });

  it('a flipped byte in a data page of a native (WAL) file, writable open: opens, the affected reads and writes fail NOT_A_DATABASE, file unchanged', async () => {
    const path = await nativeCopy();
    flipByte(path, requestsLeafPage(path, LLAMA), 0);
    await unchanged(path, async () => {
      const monitor = await openMonitor(path);
      try {
        await expect(monitor.getModelRequests(LLAMA)).rejects.toMatchObject({ name: 'MonitorError', code: 'NOT_A_DATABASE' });
        await expect(monitor.addModelRequest(LLAMA, [1_700_000_000, 1, 1])).rejects.toMatchObject({ name: 'MonitorError', code: 'NOT_A_DATABASE' });
        await expect(monitor.addModelRequests(LLAMA, [[1_700_000_000, 1, 1]])).rejects.toMatchObject({ name: 'MonitorError', code: 'NOT_A_DATABASE' });
        expect(await monitor.getModelRequests(DEEPSEEK)).toHaveLength(6);
      } finally {
        await monitor.close();
      }
    });
  });

  it('a flipped byte in a data page of a seed-era file (needs an upgrade), writable open: fails NOT_A_DATABASE', async () => {
    const path = seedCopy();
    flipByte(path, requestsLeafPage(path, LLAMA), 0);
    await openFails(path, {}, 'NOT_A_DATABASE');
    expect(sideFiles(path)).toEqual([]);
  });

  // Monitor.open switches the journal mode (driver.prepareForWrites) only after its first transaction
  // committed, so an open refused on a corrupt page leaves header bytes 18-19 and the rest untouched.
  it('that refused writable open leaves the file unchanged (no switch to WAL)', async () => {
    const path = seedCopy();
    flipByte(path, requestsLeafPage(path, LLAMA), 0);
    const before = sha256File(path);
    await openFails(path, {}, 'NOT_A_DATABASE');
    expect(headerJournal(path)).toEqual([1, 1]);
    expect(sha256File(path)).toBe(before);
  });

  it("another application's SQLite file: NOT_A_MONITOR_DB in both modes, file and journal mode unchanged", async () => {
    for (const mode of ['delete', 'wal'] as const) {
      const path = tempPath(`other-${mode}`);
      const db = new Database(path);
      db.pragma(`journal_mode = ${mode}`);
      // a table named `models` alone is not the normalized layout (that needs model_requests.model_id)
      db.exec(`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE models (id INTEGER PRIMARY KEY, original_name TEXT);
        CREATE TABLE model_runs (id INTEGER PRIMARY KEY, start_time REAL);
        INSERT INTO users (name) VALUES ('ada'), ('grace');
        INSERT INTO models (original_name) VALUES ('gpt');`);
      db.close();
      expect(sideFiles(path)).toEqual([]);
      const header = headerJournal(path);
      expect(header).toEqual(mode === 'wal' ? [2, 2] : [1, 1]);
      for (const readOnly of [true, false]) {
        const error = await unchanged(path, () => openFails(path, { readOnly }, 'NOT_A_MONITOR_DB'), { walReader: readOnly && mode === 'wal' });
        if (!readOnly) expect(error.message).toMatch(/users|models|model_runs/);
      }
      expect(headerJournal(path)).toEqual(header);
      expect(journalMode(path)).toBe(mode);
    }
  });

  it('a read-only file (chmod 0444): readOnly: true reads it and never modifies it; a writable open never writes it', async () => {
    for (const make of [seedCopy, nativeCopy]) {
      const path = await make();
      chmodSync(path, 0o444);
      // Root ignores file modes: detect whether this process can still write the file.
      let writable = true;
      try {
        closeSync(openSync(path, 'r+'));
      } catch {
        writable = false;
      }
      const before = sha256File(path);
      const header = headerJournal(path);
      const monitor = await openMonitor(path, { readOnly: true });
      try {
        const models = await monitor.listModels();
        expect(models).toHaveLength(3);
        for (const { name } of models) {
          await monitor.getModelRequests(name);
          await monitor.getModelRuntime(name);
          await monitor.getModelBilling(name);
        }
        await monitor.summary();
        await expect(monitor.addModelRequest(LLAMA, [1_700_000_000, 1, 1])).rejects.toMatchObject({ code: 'READ_ONLY' });
        await expect(monitor.registerModel('new')).rejects.toMatchObject({ code: 'READ_ONLY' });
        await expect(monitor.deleteModelTables(LLAMA)).rejects.toMatchObject({ code: 'READ_ONLY' });
      } finally {
        await monitor.close();
      }
      expect(sha256File(path)).toBe(before);
      expect(headerJournal(path)).toEqual(header);
      if (!writable) {
        // a real read-only file: a writable open is refused (READ_ONLY), or opens and refuses writes
        const opened = await openMonitor(path).catch((error: unknown) => {
          expect(error).toMatchObject({ name: 'MonitorError', code: 'READ_ONLY' });
          return null;
        });
        if (opened) {
          await expect(opened.addModelRequest(LLAMA, [1_700_000_000, 1, 1])).rejects.toMatchObject({ code: 'READ_ONLY' });
          await opened.close();
        }
        expect(sha256File(path)).toBe(before);
      } else console.log(`hostile: ${make.name}: running as root, chmod 0444 does not stop writes; checked readOnly: true (see the unprivileged test)`);
      for (const suffix of ['-wal', '-shm']) rmSync(path + suffix, { force: true });
    }
  });

  // Only root can run a child as another user; as any other user the test above already covers it.
  // The child also has to read this checkout (a clone inside a 0700 folder, as `mktemp -d` makes, is
  // out of its reach): then the test says so and does not run.
  const nobodyCanRun = (): boolean => {
    if (typeof process.getuid !== 'function' || process.getuid() !== 0) return false;
    const id = (flag: string) => spawnSync('id', [flag, 'nobody'], { encoding: 'utf8' });
    if (id('-u').status !== 0) return false;
    const probe = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(here('./crash/readonly-probe.mjs'))})`], {
      uid: Number(id('-u').stdout.trim()),
      gid: Number(id('-g').stdout.trim()),
    });
    if (probe.status !== 0) console.log('hostile: skipped the unprivileged test: user nobody cannot read this checkout (a parent folder is not world-readable)');
    return probe.status === 0;
  };
  const nobody = nobodyCanRun();
  it.runIf(nobody)('a read-only file as an unprivileged user: writable opens fail READ_ONLY or refuse to write; readOnly opens read; nothing is modified', async () => {
    const uid = Number(spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).stdout.trim());
    const base = mkdtempSync(join(dir, 'ro-'));
    const writableDir = join(base, 'writable-dir');
    const readOnlyDir = join(base, 'read-only-dir');
    mkdirSync(writableDir);
    mkdirSync(readOnlyDir);
    const seed = join(writableDir, 'seed.db');
    const native = join(writableDir, 'native.db');
    const nativeInReadOnlyDir = join(readOnlyDir, 'native.db');
    copyFileSync(SEED, seed);
    copyFileSync(await nativeCopy(), native);
    copyFileSync(native, nativeInReadOnlyDir);
    for (const file of [seed, native, nativeInReadOnlyDir]) chmodSync(file, 0o444);
    chmodSync(dir, 0o755);
    chmodSync(base, 0o755);
    chmodSync(writableDir, 0o777);
    chmodSync(readOnlyDir, 0o555);
    const hashes = new Map([seed, native, nativeInReadOnlyDir].map((file) => [file, sha256File(file)]));
    const cases = [
      { label: 'seed writable', path: seed, readOnly: false, write: LLAMA },
      { label: 'seed readOnly', path: seed, readOnly: true },
      { label: 'native writable', path: native, readOnly: false, write: LLAMA },
      { label: 'native readOnly', path: native, readOnly: true },
      { label: 'native in a read-only folder, readOnly', path: nativeInReadOnlyDir, readOnly: true },
    ];
    const child = spawnSync(process.execPath, [here('./crash/readonly-probe.mjs'), JSON.stringify(cases)], { uid, gid, encoding: 'utf8', timeout: 30_000 });
    expect(child.status, child.stderr).toBe(0);
    const results = JSON.parse(child.stdout.trim()) as { label: string; opened: boolean; code?: string; message?: string; models?: number; writeCode?: string }[];
    const byLabel = new Map(results.map((r) => [r.label, r]));
    console.log(`hostile: unprivileged ${JSON.stringify(results.map(({ label, opened, code, writeCode }) => ({ label, opened, code, writeCode })))}`);
    // a rollback-journal file cannot be switched to WAL: the writable open is refused
    expect(byLabel.get('seed writable')).toMatchObject({ opened: false, code: 'READ_ONLY' });
    expect(byLabel.get('seed readOnly')).toMatchObject({ opened: true, models: 3 });
    // a WAL file needs no change to open: it opens, and the first write is refused
    expect(byLabel.get('native writable')).toMatchObject({ opened: true, models: 3, writeCode: 'READ_ONLY' });
    expect(byLabel.get('native readOnly')).toMatchObject({ opened: true, models: 3 });
    // LIMITATION (reported): SQLite cannot read a WAL file without creating its -shm, so a read-only
    // open of a native file in a folder the user cannot write fails (as READ_ONLY, SQLite's own reason).
    expect(byLabel.get('native in a read-only folder, readOnly')).toMatchObject({ opened: false, code: 'READ_ONLY' });
    for (const [file, hash] of hashes) expect(sha256File(file), file).toBe(hash);
  });

  it('a path in a missing folder: readOnly fails DRIVER and creates nothing; a writable open creates the folders', async () => {
    const missing = join(dir, 'missing-a', 'missing-b', 'monitor.db');
    const error = await openFails(missing, { readOnly: true }, 'DRIVER');
    expect(error.message).toContain(missing);
    expect(existsSync(join(dir, 'missing-a'))).toBe(false);

    const monitor = await openMonitor(missing);
    await monitor.addModelRequest('m', [1_700_000_000, 5, 6]);
    expect((await monitor.getModelRequests('m')).map((r) => r.inputTokens)).toEqual([5]);
    await monitor.close();
    expect(integrity(missing)).toBe('ok');
  });

  it('a directory: DRIVER in both modes, nothing created in or next to it', async () => {
    const path = join(dir, 'a-directory.db');
    mkdirSync(path);
    writeFileSync(join(path, 'inside.txt'), 'keep');
    const listing = () => [readdirSync(path).sort(), readdirSync(dir).filter((f) => f.startsWith('a-directory')).sort()];
    const before = listing();
    for (const readOnly of [true, false]) {
      const error = await openFails(path, { readOnly }, 'DRIVER');
      expect(error.message).toContain(path);
    }
    expect(listing()).toEqual(before);
    expect(readFileSync(join(path, 'inside.txt'), 'utf8')).toBe('keep');
  });
});

// ---- two Monitors on one file -------------------------------------------------------------------------

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const yieldTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const now = () => performance.timeOrigin + performance.now();

interface Write {
  seq: number;
  ok: boolean;
  code?: string;
  startedAt: number;
  endedAt: number;
}

interface Delete {
  ok: boolean;
  code?: string;
  name?: string;
  message?: string;
  startedAt: number;
  endedAt: number;
}

const CONTENDED = 'contended 🦙';
const rowOf = (seq: number): [number, number, number] => [1_700_000_000 + seq, seq, seq % 97];

/**
 * Records requests for CONTENDED (single calls, several in flight, and small batches) until
 * `stop()` says so, then for `extra` more rounds and at least 50 ms more.
 */
async function recordUntil(monitor: Monitor, stop: () => boolean, extra: number): Promise<Write[]> {
  const writes: Write[] = [];
  let seq = 0;
  let after = 0;
  const one = async (s: number, call: () => Promise<unknown>) => {
    const startedAt = now();
    try {
      await call();
      writes.push({ seq: s, ok: true, startedAt, endedAt: now() });
    } catch (error) {
      if (!isMonitorError(error)) throw error;
      writes.push({ seq: s, ok: false, code: error.code, startedAt, endedAt: now() });
    }
  };
  let stoppedAt = Number.POSITIVE_INFINITY;
  for (let round = 0; after < extra || now() < stoppedAt + 50; round++) {
    if (stop()) {
      after++;
      stoppedAt = Math.min(stoppedAt, now());
    }
    if (round % 3 === 2) {
      const seqs = [seq++, seq++, seq++];
      const startedAt = now();
      try {
        await monitor.addModelRequests(CONTENDED, seqs.map(rowOf));
        for (const s of seqs) writes.push({ seq: s, ok: true, startedAt, endedAt: now() });
      } catch (error) {
        if (!isMonitorError(error)) throw error;
        for (const s of seqs) writes.push({ seq: s, ok: false, code: error.code, startedAt, endedAt: now() });
      }
    } else {
      await Promise.all(Array.from({ length: 3 }, () => seq++).map((s) => one(s, () => monitor.addModelRequest(CONTENDED, rowOf(s)))));
    }
    await yieldTurn();
  }
  return writes;
}


/** After the race: the file is whole, and the rows are exactly what the last delete let live. */
async function checkAftermath(path: string, writes: Write[], deletes: Delete[], marginMs: number) {
  expect(integrity(path)).toBe('ok');
  const db = new Database(path, { readonly: true });
  try {
    const structure = checkStructure(db);
    expect(structure.problems).toEqual([]);
    expect([...structure.models.keys()]).toEqual([CONTENDED]);
    const rows = db.prepare(`SELECT timestamp, input_tokens, output_tokens FROM ${quote(`${expectedSafeName(CONTENDED)}_requests`)}`).raw().all() as number[][];
    const present = new Set<number>();
    for (const row of rows) {
      const seq = row[1]!;
      expect(row).toEqual(rowOf(seq));
      expect(present.has(seq), `row ${seq} duplicated`).toBe(false);
      present.add(seq);
    }
    const succeeded = new Map(writes.filter((w) => w.ok).map((w) => [w.seq, w]));
    for (const seq of present) expect(succeeded.has(seq), `row ${seq} is in the file but its call failed`).toBe(true);
    const lastDelete = deletes.filter((d) => d.ok).at(-1)!;
    const afterLast = [...succeeded.values()].filter((w) => w.startedAt > lastDelete.endedAt + marginMs);
    const beforeLast = [...succeeded.values()].filter((w) => w.endedAt < lastDelete.startedAt - marginMs);
    expect(afterLast.filter((w) => !present.has(w.seq)).map((w) => w.seq), 'rows recorded after the last delete are missing').toEqual([]);
    expect(beforeLast.filter((w) => present.has(w.seq)).map((w) => w.seq), 'rows recorded before the last delete survived it').toEqual([]);
    expect(afterLast.length, `no write after the last delete (${JSON.stringify(lastDelete)}; last write ${JSON.stringify(writes.at(-1))})`).toBeGreaterThan(0);
    // and a third Monitor sees exactly those rows
    const reader = await openMonitor(path, { readOnly: true });
    try {
      expect((await reader.getModelRequests(CONTENDED)).map((r) => r.inputTokens).sort((a, b) => a - b)).toEqual([...present].sort((a, b) => a - b));
    } finally {
      await reader.close();
    }
    return { rows: present.size, afterLast: afterLast.length };
  } finally {
    db.close();
  }
}

function summarize(writes: Write[], deletes: Delete[]) {
  const codes = (items: { ok: boolean; code?: string }[]) => {
    const counts = new Map<string, number>();
    for (const item of items) if (!item.ok) counts.set(item.code!, (counts.get(item.code!) ?? 0) + 1);
    return [...counts].map(([code, n]) => `${code}:${n}`).join(',') || '-';
  };
  return `writes=${writes.length} write_errors=${codes(writes)} deletes_ok=${deletes.filter((d) => d.ok).length} delete_errors=${codes(deletes)}`;
}

describe('two Monitors on one file: one deletes a model while the other records requests for it', () => {
  // A delete finds the model absent (UNKNOWN_MODEL) when the writer has not re-registered it yet.
  const DELETE_CODES = ['UNKNOWN_MODEL'];
  // Auto-registration brings the model back, and a call whose model vanished under it retries once;
  // a call whose model vanishes twice (deleted again during the retry) fails MISSING_TABLE. Seen about
  // once in 10,000 writes across processes; nothing else is allowed.
  const WRITE_CODES = ['MISSING_TABLE'];

  // Monitor A caches model m when it writes to it; Monitor B deletes m; A re-registers it. A must look
  // the mapping row up again inside its transaction instead of trusting its cache, or it would
  // re-create the five tables without a mapping row.
  it('a model re-registered by a Monitor whose cache predates another Monitor deleting it gets its mapping row back', async () => {
    const path = tempPath('stale-cache');
    const a = await openMonitor(path);
    const b = await openMonitor(path);
    try {
      await a.addModelRequest('m', [1_700_000_000, 1, 1]);
      await b.deleteModelTables('m');
      expect(await a.listModels()).toEqual([]);
      await a.registerModel('m');
      expect(await a.getModelSafeName('m')).toBe(expectedSafeName('m'));
      expect((await b.listModels()).map((m) => m.name)).toEqual(['m']);
    } finally {
      await a.close();
      await b.close();
    }
    const db = new Database(path, { readonly: true });
    try {
      expect(checkStructure(db).problems).toEqual([]);
    } finally {
      db.close();
    }
  });

  it('in one process', async () => {
    const path = tempPath('two-monitors');
    const writer = await openMonitor(path);
    const deleter = await openMonitor(path);
    const deletes: Delete[] = [];
    let deleting = true;
    try {
      const deleteLoop = (async () => {
        await sleep(5);
        for (let k = 0; k < 40; k++) {
          await sleep(1 + Math.random() * 3);
          const startedAt = now();
          try {
            await deleter.deleteModelTables(CONTENDED);
            deletes.push({ ok: true, startedAt, endedAt: now() });
          } catch (error) {
            if (!isMonitorError(error)) throw error;
            deletes.push({ ok: false, code: error.code, message: error.message, startedAt, endedAt: now() });
          }
        }
        deleting = false;
      })();
      const [writes] = await Promise.all([recordUntil(writer, () => !deleting, 30), deleteLoop]);
      const result = await checkAftermath(path, writes, deletes, 0);
      console.log(
        `hostile: two monitors, one process: ${summarize(writes, deletes)} rows=${result.rows} after_last_delete=${result.afterLast}`,
      );
      expect(deletes.filter((d) => !d.ok && !DELETE_CODES.includes(d.code!))).toEqual([]);
      expect(writes.filter((w) => !w.ok && !WRITE_CODES.includes(w.code!))).toEqual([]);
      expect(deletes.filter((d) => d.ok).length).toBeGreaterThanOrEqual(20);
      // both Monitors still work
      await writer.addModelRequest(CONTENDED, rowOf(1_000_000));
      expect((await deleter.getModelRequests(CONTENDED)).some((r) => r.inputTokens === 1_000_000)).toBe(true);
    } finally {
      await writer.close();
      await deleter.close();
    }
    expect(integrity(path)).toBe('ok');
  });

  it('across two processes (the deleter in a child process)', async () => {
    const path = tempPath('two-processes');
    const writer = await openMonitor(path);
    await writer.registerModel(CONTENDED);
    const child = fork(here('./crash/deleter.mjs'), [JSON.stringify({ path, model: CONTENDED, deletes: 40 })], {
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    try {
      const messages: { t: string; deletes?: Delete[] }[] = [];
      const waitFor = (t: string) =>
        new Promise<{ t: string; deletes?: Delete[] }>((resolve, reject) => {
          const found = messages.find((m) => m.t === t);
          if (found) return resolve(found);
          child.on('message', (m: { t: string }) => m.t === t && resolve(m));
          child.once('exit', (code) => reject(new Error(`deleter exited (${code}) before '${t}'`)));
        });
      child.on('message', (m: { t: string }) => messages.push(m));
      await waitFor('ready');
      const done = waitFor('done');
      let deleting = true;
      void done.then(
        () => (deleting = false),
        () => (deleting = false),
      );
      child.send({ t: 'go' });
      const writes = await recordUntil(writer, () => !deleting, 30);
      const { deletes } = await done;
      // clocks of two processes: allow 5 ms of disagreement at the boundary
      const result = await checkAftermath(path, writes, deletes!, 5);
      console.log(
        `hostile: two monitors, two processes: ${summarize(writes, deletes!)} rows=${result.rows} after_last_delete=${result.afterLast}`,
      );
      expect(deletes!.filter((d) => !d.ok && !DELETE_CODES.includes(d.code!))).toEqual([]);
      expect(deletes!.every((d) => d.ok || d.name === 'MonitorError')).toBe(true);
      expect(writes.filter((w) => !w.ok && !WRITE_CODES.includes(w.code!))).toEqual([]);
      // (with the known bug, the model drops out of the mapping and later deletes find it unknown)
      expect(deletes!.filter((d) => d.ok).length).toBeGreaterThanOrEqual(10);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await writer.close();
    }
    expect(integrity(path)).toBe('ok');
  });
});
