import { MonitorError } from '../errors.js';
import { sqliteDialect } from './dialect.js';

/**
 * What the first bytes of a file say about it, for every SQLite engine and app (driver-node checks a
 * file before SQLite may overwrite it, driver-wasm before loading bytes, the analyzer before it names
 * an error): the one owner of SQLite's file header.
 */

/** The first 16 bytes of every SQLite database file: "SQLite format 3" and a NUL. */
const MAGIC = 'SQLite format 3\u0000';
/** The header is 100 bytes; bytes 18 and 19 are the write and read versions: 1 = rollback journal, 2 = WAL. */
export const SQLITE_HEADER_BYTES = 100;
const WRITE_VERSION = 18;
const READ_VERSION = 19;

export type SqliteFileKind =
  /** Zero bytes: SQLite treats it as an empty database. */
  | 'empty'
  /** A SQLite database file. */
  | 'sqlite'
  /** Anything else (too short to hold a header, or other first bytes): not a SQLite database. */
  | 'other';

export interface SqliteHeader {
  kind: SqliteFileKind;
  /** In WAL mode (header bytes 18–19 = 2), which WASM builds of SQLite cannot open. */
  wal: boolean;
}

/** Reads the header from a file's first bytes (at least the first 100, when the file has them). */
export function readSqliteHeader(bytes: Uint8Array, fileSize = bytes.length): SqliteHeader {
  if (fileSize === 0) return { kind: 'empty', wal: false };
  if (bytes.length < SQLITE_HEADER_BYTES) return { kind: 'other', wal: false };
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC.charCodeAt(i)) return { kind: 'other', wal: false };
  return { kind: 'sqlite', wal: bytes[WRITE_VERSION] === 2 || bytes[READ_VERSION] === 2 };
}

/** A copy of a WAL-mode file's bytes with the header switched to rollback-journal mode (the input is not changed). */
export function withRollbackHeader(bytes: Uint8Array): Uint8Array {
  const copy = bytes.slice();
  copy[WRITE_VERSION] = 1;
  copy[READ_VERSION] = 1;
  return copy;
}

/** `NOT_A_DATABASE` for a file whose header is not SQLite's, naming it and its size. */
export function notASqliteFile(name: string, size: number): MonitorError {
  return new MonitorError(
    'NOT_A_DATABASE',
    `${name} is not a SQLite database: ${size < SQLITE_HEADER_BYTES ? `it has only ${size} bytes, fewer than a SQLite header` : 'its first bytes are not "SQLite format 3"'}.`,
    { value: size },
  );
}

/**
 * The error for a SQLite database an engine could not open, the same from every SQLite driver:
 * `NOT_A_DATABASE` when SQLite says the file is not a database (or is corrupt), `READ_ONLY` when it cannot
 * be written, else `DRIVER`; it names the file and keeps the engine's error as `cause`.
 */
export function sqliteOpenError(name: string, error: unknown): MonitorError {
  const kind = sqliteDialect.classifyError(error);
  const message = (error as { message?: unknown } | null)?.message;
  const code = kind === 'not-a-database' ? 'NOT_A_DATABASE' : kind === 'read-only' ? 'READ_ONLY' : 'DRIVER';
  return new MonitorError(code, `Cannot open ${name}: ${typeof message === 'string' ? message : String(error)}`, { cause: error, value: name });
}
