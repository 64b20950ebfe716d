/**
 * Independent checks of a monitor file, used by crash.test.ts, fuzz.test.ts and hostile-files.test.ts.
 * Everything here reads the file with better-sqlite3 directly (never through the Monitor) and
 * recomputes what it expects (safe names with node:crypto), so a bug in the Monitor cannot hide itself.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';

export type Db = Database.Database;

/** `"model_" + sha256(utf8(name)).hex.slice(0, 16)`, computed independently of core. */
export function expectedSafeName(name: string): string {
  return `model_${createHash('sha256').update(Buffer.from(name, 'utf8')).digest('hex').slice(0, 16)}`;
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The file's bytes' hash, or 'absent'. */
export function fileState(path: string): string {
  return existsSync(path) ? sha256File(path) : 'absent';
}

export const quote = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;

/** PRAGMA integrity_check on a fresh connection (read-write, so a hot WAL is recovered, not refused). */
export function integrity(path: string): string {
  const db = new Database(path, { fileMustExist: true });
  try {
    return (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join('\n');
  } finally {
    db.close();
  }
}

function encodeValue(type: unknown, value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'number') return `${String(type)}:${Object.is(value, -0) ? '-0' : String(value)}`;
  if (typeof value === 'bigint') return `${String(type)}:${value}n`;
  if (typeof value === 'string') return `${String(type)}:${JSON.stringify(value)}`;
  if (Buffer.isBuffer(value)) return `${String(type)}:x${value.toString('hex')}`;
  return `${String(type)}:?${String(value)}`;
}

/**
 * Every table's rows, exactly: one entry per table (its CREATE statement, then every row in rowid
 * order, each value with its SQLite storage class), plus the schema's other objects and
 * `user_version`. Two dumps are equal iff the database content is equal.
 */
export function dumpTables(db: Db): Map<string, string> {
  const out = new Map<string, string>();
  out.set('#user_version', String(db.pragma('user_version', { simple: true })));
  const objects = db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name').all() as {
    type: string;
    name: string;
    tbl_name: string;
    sql: string | null;
  }[];
  for (const object of objects) {
    if (object.type !== 'table') {
      out.set(`#${object.type} ${object.name}`, `${object.tbl_name} ${object.sql}`);
      continue;
    }
    const columns = (db.prepare('SELECT name FROM pragma_table_info(?) ORDER BY cid').pluck().all(object.name) as string[]).map(quote);
    const select = columns.map((c) => `typeof(${c}), ${c}`).join(', ');
    const rows = db.prepare(`SELECT ${select} FROM ${quote(object.name)} ORDER BY rowid`).raw().all() as unknown[][];
    const lines = [object.sql ?? ''];
    for (const row of rows) {
      const cells: string[] = [];
      for (let i = 0; i < row.length; i += 2) cells.push(encodeValue(row[i], row[i + 1]));
      lines.push(cells.join('|'));
    }
    out.set(object.name, lines.join('\n'));
  }
  return out;
}

export function dumpString(tables: Map<string, string>): string {
  return [...tables].map(([name, content]) => `== ${name}\n${content}`).join('\n');
}

/** The names of the entries that differ between two dumps (added, removed or changed). */
export function changedTables(before: Map<string, string>, after: Map<string, string>): string[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names].filter((name) => before.get(name) !== after.get(name)).sort();
}

const MODEL_TABLE = /^(model_[0-9a-f]{16})_(runtime|requests|tier_pricing|hourly_price|billing_method)$/;
const SUFFIXES = ['runtime', 'requests', 'tier_pricing', 'hourly_price', 'billing_method'] as const;
const CORE_TABLES = new Set(['model_name_mapping', 'program_runtime', 'sqlite_sequence']);

export interface Structure {
  /** original name → safe name, in mapping-table order. */
  models: Map<string, string>;
  /** Problems found: half-written models, orphan tables, missing default rows. Empty when whole. */
  problems: string[];
}

/**
 * Checks that nothing is half-written: every mapping row has its five tables, its requests index,
 * its default rows (hourly price, billing method) and tier 1; every per-model table belongs to a
 * mapping row whose safe name is the hash of its original name; no other table exists.
 */
export function checkStructure(db: Db, options: { requireTier1?: boolean } = {}): Structure {
  const problems: string[] = [];
  const tables = new Set(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]);
  const indexes = new Set(db.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").pluck().all() as string[]);
  const models = new Map<string, string>();
  if (!tables.has('model_name_mapping')) problems.push('model_name_mapping is missing');
  if (!tables.has('program_runtime')) problems.push('program_runtime is missing');
  const rows = tables.has('model_name_mapping')
    ? (db.prepare('SELECT original_name, safe_name FROM model_name_mapping ORDER BY id').all() as { original_name: string; safe_name: string }[])
    : [];
  const bySafe = new Map<string, string>();
  for (const { original_name: name, safe_name: safe } of rows) {
    models.set(name, safe);
    if (safe !== expectedSafeName(name)) problems.push(`mapping ${JSON.stringify(name)}: safe name ${safe}, expected ${expectedSafeName(name)}`);
    if (bySafe.has(safe)) problems.push(`safe name ${safe} mapped twice`);
    bySafe.set(safe, name);
    const missing = SUFFIXES.filter((suffix) => !tables.has(`${safe}_${suffix}`));
    if (missing.length > 0) {
      problems.push(`model ${JSON.stringify(name)} (${safe}) has a mapping row but lacks ${missing.join(', ')}`);
      continue;
    }
    if (!indexes.has(`${safe}_requests_timestamp`)) problems.push(`model ${JSON.stringify(name)} lacks its requests index`);
    const count = (sql: string) => Number(db.prepare(sql).pluck().get());
    if (count(`SELECT COUNT(*) FROM ${quote(`${safe}_hourly_price`)} WHERE id = 1`) !== 1) problems.push(`model ${JSON.stringify(name)} has no hourly price row`);
    if (count(`SELECT COUNT(*) FROM ${quote(`${safe}_billing_method`)} WHERE id = 1`) !== 1) problems.push(`model ${JSON.stringify(name)} has no billing method row`);
    if ((options.requireTier1 ?? true) && count(`SELECT COUNT(*) FROM ${quote(`${safe}_tier_pricing`)} WHERE tier_index = 1`) !== 1)
      problems.push(`model ${JSON.stringify(name)} has no tier 1`);
  }
  const groups = new Map<string, string[]>();
  for (const table of tables) {
    const match = MODEL_TABLE.exec(table);
    if (match) {
      const group = groups.get(match[1]!) ?? [];
      group.push(match[2]!);
      groups.set(match[1]!, group);
    } else if (!CORE_TABLES.has(table)) problems.push(`unexpected table ${table}`);
  }
  for (const [safe, suffixes] of groups) {
    if (!bySafe.has(safe)) problems.push(`orphan tables of ${safe} (${suffixes.sort().join(', ')}): no mapping row`);
    else if (suffixes.length !== 5) problems.push(`${safe} has ${suffixes.length} of its 5 tables`);
  }
  return { models, problems };
}

/** The `-wal`, `-shm` and `-journal` files next to `path` that exist. */
export function sideFiles(path: string): string[] {
  return ['-wal', '-shm', '-journal'].filter((suffix) => existsSync(path + suffix));
}
