import { type SqliteFileKind, isMonitorError } from '@llm-monitor/core';
import { formatBytes } from '../lib/format.js';
import { MAX_FILE_BYTES, type UserError } from './protocol.js';

export function tooLarge(size: number): UserError {
  return {
    kind: 'too-large',
    title: 'This file is too large to open in the browser',
    message: `The file is ${formatBytes(size)}; the analyzer opens files up to ${formatBytes(MAX_FILE_BYTES)}, because the whole database is held in memory. Open a smaller export, or use the llm-monitor CLI on this machine.`,
    detail: `size ${size} bytes > limit ${MAX_FILE_BYTES} bytes`,
  };
}

/**
 * What went wrong, in words. `header` tells a file that is not SQLite at all from a SQLite file with a
 * damaged page, which SQLite reports the same way ("file is not a database" / "malformed").
 */
export function toUserError(error: unknown, header: SqliteFileKind | 'unknown' = 'unknown'): UserError {
  const raw = error as { message?: unknown; name?: unknown } | null;
  const text = typeof raw?.message === 'string' ? raw.message : String(error);
  if (isMonitorError(error)) {
    const detail = `${error.code}: ${error.message}`;
    switch (error.code) {
      case 'NOT_A_DATABASE':
        if (header === 'sqlite' || (header === 'unknown' && /malformed/i.test(error.message)))
          return {
            kind: 'corrupt',
            title: 'This database is damaged',
            message:
              'The file is a SQLite database, but a page of it is corrupt (SQLite reports "database disk image is malformed"), so it cannot be read. Copy the file again from the server, ideally while LLM-Manager is stopped, or run `sqlite3 monitoring.db ".recover"` on it.',
            detail,
          };
        return {
          kind: 'not-a-database',
          title: 'This is not a database',
          message: 'The file is not a SQLite database (it does not start with "SQLite format 3"). Choose the monitoring.db file that LLM-Manager or llm-monitor wrote.',
          detail,
        };
      case 'NOT_A_MONITOR_DB':
        return {
          kind: 'not-a-monitor-db',
          title: 'This is not a monitoring database',
          message:
            'The file is a SQLite database, but it holds none of the tables a monitor writes (no model_name_mapping, no per-model tables, no normalized models table). It is empty or belongs to another application.',
          detail,
        };
      case 'INVALID_INPUT':
      case 'DUPLICATE_TIER':
      case 'UNKNOWN_MODEL':
        return {
          kind: 'invalid-input',
          title: 'That setting was not accepted',
          message: error.message,
          detail,
          ...(error.model === undefined ? {} : { model: error.model }),
        };
      default:
        return { kind: 'internal', title: 'The database could not be read', message: error.message, detail };
    }
  }
  if (/out of memory|allocation failed|Cannot enlarge memory|Aborted\(OOM\)|Invalid typed array length/i.test(text))
    return {
      kind: 'out-of-memory',
      title: 'Not enough memory for this file',
      message: 'The browser ran out of memory while loading the database. Close other tabs and try again, or use the llm-monitor CLI for a file this size.',
      detail: text,
    };
  return { kind: 'internal', title: 'Something went wrong', message: text, detail: raw?.name ? `${String(raw.name)}: ${text}` : text };
}
