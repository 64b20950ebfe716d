import { notASqliteFile, readSqliteHeader, withRollbackHeader } from '@llm-monitor/core';

export interface PreparedBytes {
  /** What to hand to sql.js: undefined for an empty database, else the caller's bytes or a patched copy. */
  data: Uint8Array | undefined;
  /** True when the file was in WAL mode and `data` is a copy with the header switched to rollback mode. */
  walPatched: boolean;
}

/**
 * Makes a SQLite file's bytes loadable by sql.js, by core's reading of the header: a WAL-mode file (as
 * LLM-Manager v2.6+ writes them) becomes a copy in rollback-journal mode, because WASM builds cannot open
 * WAL files. The caller's buffer is never modified. Zero bytes mean an empty database; anything that is
 * not a SQLite file is `NOT_A_DATABASE`.
 */
export function prepareBytes(bytes: Uint8Array | ArrayBuffer | undefined): PreparedBytes {
  const view = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
  if (!view) return { data: undefined, walPatched: false };
  const header = readSqliteHeader(view);
  if (header.kind === 'empty') return { data: undefined, walPatched: false };
  if (header.kind === 'other') throw notASqliteFile('The file', view.length);
  return header.wal ? { data: withRollbackHeader(view), walPatched: true } : { data: view, walPatched: false };
}
