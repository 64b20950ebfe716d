import { MonitorError } from '@llm-monitor/core';

/** The first 16 bytes of every SQLite database file: "SQLite format 3" and a NUL. */
const MAGIC = 'SQLite format 3\u0000';
const HEADER_SIZE = 100;
/** Header bytes 18 and 19: the file format write and read versions; 1 = rollback journal, 2 = WAL. */
const WRITE_VERSION = 18;
const READ_VERSION = 19;

export interface PreparedBytes {
  /** What to hand to sql.js: undefined for an empty database, else the caller's bytes or a patched copy. */
  data: Uint8Array | undefined;
  /** True when the file was in WAL mode and `data` is a copy with the header switched to rollback mode. */
  walPatched: boolean;
}

/**
 * Checks that `bytes` are a SQLite file and makes them loadable by sql.js: a WAL-mode file (header bytes
 * 18–19 = 2, as LLM-Manager v2.6+ writes them) is copied with both bytes set to 1, because WASM builds
 * cannot open WAL files. The caller's buffer is never modified. Zero bytes mean an empty database.
 */
export function prepareBytes(bytes: Uint8Array | ArrayBuffer | undefined): PreparedBytes {
  const view = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
  if (!view || view.length === 0) return { data: undefined, walPatched: false };
  if (!hasSqliteHeader(view))
    throw new MonitorError(
      'NOT_A_DATABASE',
      `Not a SQLite database: the ${view.length}-byte file does not start with the SQLite header "SQLite format 3".`,
      { value: view.length },
    );
  if (view[WRITE_VERSION] !== 2 && view[READ_VERSION] !== 2) return { data: view, walPatched: false };
  const copy = view.slice();
  copy[WRITE_VERSION] = 1;
  copy[READ_VERSION] = 1;
  return { data: copy, walPatched: true };
}

function hasSqliteHeader(bytes: Uint8Array): boolean {
  if (bytes.length < HEADER_SIZE) return false;
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC.charCodeAt(i)) return false;
  return true;
}
