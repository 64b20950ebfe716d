import { existsSync, statSync } from 'node:fs';
import { type Monitor, isMonitorError } from '@llm-monitor/core';
import { DEFAULT_DB_PATH, openMonitor } from '@llm-monitor/driver-node';
import { Option } from 'commander';
import { UserError } from '../user-error.js';

/** `--db PATH`, the same on every command. */
export function dbOption(what = 'the monitor database'): Option {
  return new Option('--db <path>', what).default(DEFAULT_DB_PATH);
}

/** Fails with a one-line message unless `path` is an existing file. */
export function requireDatabaseFile(path: string): void {
  if (!existsSync(path)) throw new UserError(`no database at ${path}: the file does not exist (choose one with --db PATH)`);
  if (!statSync(path).isFile()) throw new UserError(`${path} is not a file (give a monitor database with --db PATH)`);
}

function openError(path: string, error: unknown): never {
  if (!isMonitorError(error)) throw error;
  switch (error.code) {
    case 'NOT_A_DATABASE':
      throw new UserError(`${path} is not a SQLite database (or it is corrupt)`);
    case 'NOT_A_MONITOR_DB':
      throw new UserError(`${path} is not a monitor database: ${error.message}`);
    default:
      throw new UserError(`cannot open ${path}: ${error.message}`);
  }
}

/** Opens an existing database without writing anything to it (no schema, no journal-mode change). */
export async function openReadOnly(path: string): Promise<Monitor> {
  requireDatabaseFile(path);
  return openMonitor(path, { readOnly: true }).catch((error: unknown) => openError(path, error));
}

/** Opens an existing database for writes (pricing changes): a missing file is an error, never a new database. */
export async function openExistingForWrites(path: string): Promise<Monitor> {
  requireDatabaseFile(path);
  return openMonitor(path, { autoRegister: false }).catch((error: unknown) => openError(path, error));
}

/** Runs `fn` on a monitor and closes it whatever happens. */
export async function using<T>(monitor: Monitor, fn: (monitor: Monitor) => Promise<T>): Promise<T> {
  try {
    return await fn(monitor);
  } finally {
    await monitor.close();
  }
}
