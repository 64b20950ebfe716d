import { closeSync, openSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { UserError } from '../user-error.js';
import { openReadOnly } from './db.js';

/**
 * A consistent copy of a live database that the browser analyzer (sql.js) can open: `VACUUM INTO`
 * reads the source in one read transaction (a snapshot: writers in WAL mode keep writing meanwhile,
 * and nothing is ever written to the source), the copy is compacted, in rollback-journal mode (header
 * bytes 18–19 = 1) with no -wal file, and checked with `quick_check` before it is renamed into place.
 */
export async function snapshotDatabase(source: string, target: string, options: { verify?: boolean } = {}): Promise<{ bytes: number }> {
  if (options.verify !== false) {
    // the same checks and messages as every read-only command (missing file, not a monitor database)
    await (await openReadOnly(source)).close();
  }
  const destination = resolve(target);
  const temporary = join(dirname(destination), `.${basename(destination)}.${process.pid}.partial`);
  rmSync(temporary, { force: true });
  try {
    const db = new Database(source, { readonly: true, fileMustExist: true });
    try {
      // a rollback-journal source may be locked by a writer's commit for a moment: wait, as a reader would
      db.pragma('busy_timeout = 10000');
      db.prepare('VACUUM INTO ?').run(temporary);
    } finally {
      db.close();
    }
    const copy = new Database(temporary);
    try {
      const mode = copy.pragma('journal_mode = DELETE', { simple: true });
      if (mode !== 'delete') throw new Error(`the copy stayed in journal mode ${String(mode)}`);
      const check = copy.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new Error(`the copy failed its integrity check: ${String(check)}`);
    } finally {
      copy.close();
    }
    const header = Buffer.alloc(2);
    const fd = openSync(temporary, 'r');
    try {
      readSync(fd, header, 0, 2, 18);
    } finally {
      closeSync(fd);
    }
    if (header[0] !== 1 || header[1] !== 1) throw new Error(`the copy's header says WAL (bytes 18–19 = ${header[0]}, ${header[1]})`);
    renameSync(temporary, destination);
    return { bytes: statSync(destination).size };
  } catch (error) {
    rmSync(temporary, { force: true });
    rmSync(`${temporary}-journal`, { force: true });
    if (error instanceof UserError) throw error;
    const code = (error as { code?: string }).code;
    if (code === 'SQLITE_BUSY') throw new UserError(`cannot copy ${source}: another process held it locked for more than 10 s`);
    if (code === 'SQLITE_FULL') throw new UserError(`cannot write ${target}: the disk is full`);
    throw new UserError(`cannot copy ${source} to ${target}: ${(error as Error).message}`);
  }
}
