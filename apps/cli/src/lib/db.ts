import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { type ModelInfo, type Monitor, type MonitorOptions, isMonitorError } from '@llm-monitor/core';
import { DEFAULT_DB_PATH, openMonitor as openSqliteMonitor } from '@llm-monitor/driver-node';
import { InvalidArgumentError, Option } from 'commander';
import { quote } from './json-file.js';
import { UserError } from '../user-error.js';

/**
 * Where a command's monitor database is: a SQLite file (`--db PATH`, the default `webui/monitoring.db`)
 * or a PostgreSQL database (`--db postgres://…`, with `--schema NAME`). Every command opens it through
 * the functions below, so the checks and the one-line messages are the same everywhere.
 */
export interface Db {
  readonly engine: 'sqlite' | 'postgres';
  /** The file path, or the connection string as given. */
  readonly location: string;
  /** The PostgreSQL schema (`--schema`); undefined for the server's default (and always for SQLite). */
  readonly schema: string | undefined;
  /** For messages: the path as given, or the URL without its password, with the schema. */
  readonly label: string;
  /** The option that named it (`--db`, or `--from`/`--to` of migrate), for hints. */
  readonly flag: string;
}

/** `postgres://…` or `postgresql://…`: a PostgreSQL connection string. */
export const isPostgresUrl = (db: string): boolean => /^postgres(ql)?:\/\//i.test(db.trim());

/** A connection string fit to print: the password (in the user part or a `password=` parameter) masked. */
export function redactUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:@/?#]*):[^@]*@/i, '$1:***@').replace(/([?&]password=)[^&#]*/gi, '$1***');
}

/**
 * What `--db` (and `--schema`) name. `--schema` only makes sense with a PostgreSQL URL: with a file
 * it is an error rather than silently ignored.
 */
export function resolveDb(db: string, schema?: string, flag = '--db'): Db {
  if (isPostgresUrl(db)) {
    const location = db.trim();
    const label = `${redactUrl(location)}${schema === undefined ? '' : ` (schema ${schema})`}`;
    return { engine: 'postgres', location, schema, label, flag };
  }
  if (schema !== undefined)
    throw new UserError(`--schema is for a PostgreSQL database (${flag} postgres://…), and ${db} is a SQLite file: leave --schema out`);
  return { engine: 'sqlite', location: db, schema: undefined, label: db, flag };
}

/** `db` as given on the command line, or already resolved. */
const toDb = (db: Db | string): Db => (typeof db === 'string' ? resolveDb(db) : db);

/**
 * The parser of `--db` (and of migrate's `--from`/`--to`): an empty value is a usage error, not the
 * working directory opened as a database.
 */
export function parseDbArg(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('expected a SQLite file path or a postgres:// URL, not an empty string.');
  return value;
}

/** `--db PATH`, the same on every command. */
export function dbOption(what = 'the monitor database: a SQLite file, or a PostgreSQL URL (postgres://user@host:5432/db)'): Option {
  return new Option('--db <path>', what).default(DEFAULT_DB_PATH).argParser(parseDbArg);
}

/** `--schema NAME`, on every command that takes a PostgreSQL `--db`. */
export function schemaOption(what = "the PostgreSQL schema of the monitor's tables (only with a postgres:// --db; default: the server's, usually public)"): Option {
  return new Option('--schema <name>', what);
}

/** The options every command with `--db` and `--schema` has. */
export interface DbOptions {
  db: string;
  schema?: string;
}

/** Fails with a one-line message unless `path` is an existing file. */
export function requireDatabaseFile(path: string, flag = '--db'): void {
  if (!existsSync(path)) throw new UserError(`no database at ${path}: the file does not exist (choose one with ${flag} PATH)`);
  if (!statSync(path).isFile()) throw new UserError(`${path} is not a file (give a monitor database with ${flag} PATH)`);
}

/**
 * For the commands that work on the SQLite file itself (`export-db`, `serve`): a PostgreSQL `--db` is
 * refused with a one-line message saying what to do instead.
 */
export function requireSqlite(db: string, refusal: (label: string) => string): string {
  if (isPostgresUrl(db)) throw new UserError(refusal(redactUrl(db.trim())));
  return db;
}

/** The path as the user reads it in a message (absolute for files, so they find it), or the redacted URL. */
export function displayLocation(db: Db): string {
  return db.engine === 'sqlite' ? resolve(db.location) : db.label;
}

function sqliteOpenError(path: string, error: unknown): never {
  if (!isMonitorError(error)) throw error;
  switch (error.code) {
    case 'NOT_A_DATABASE':
      throw new UserError(`${path} is not a SQLite database (or it is corrupt)`, { cause: error });
    case 'NOT_A_MONITOR_DB':
      throw new UserError(`${path} is not a monitor database: ${error.message}`, { cause: error });
    default:
      throw new UserError(`cannot open ${path}: ${error.message}`, { cause: error });
  }
}

function postgresOpenError(db: Db, error: unknown, readOnly: boolean): never {
  if (!isMonitorError(error)) throw error;
  if (error.code === 'NOT_A_MONITOR_DB') {
    if (readOnly)
      throw new UserError(
        `${db.label} holds no monitor tables (the schema is empty, missing or another application's): give the schema with --schema NAME, or copy a SQLite file into it with \`llm-monitor migrate\``,
      );
    throw new UserError(`${db.label} is not a monitor database: ${error.message}`);
  }
  throw new UserError(`cannot open ${db.label}: ${openFailure(error)}`, { cause: error });
}

/** Why a database could not be opened: the server's own words when it could not be reached (`UNAVAILABLE`). */
function openFailure(error: unknown): string {
  if (isMonitorError(error, 'UNAVAILABLE')) {
    const cause = (error.cause as { message?: unknown } | undefined)?.message;
    return `cannot connect: ${typeof cause === 'string' && cause !== '' ? cause : error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** A CLI command needs few connections, and should not wait 30 s for a server that does not answer. */
const POSTGRES_POOL = { max: 4, connectionTimeoutMillis: 10_000 } as const;

/**
 * Opens a Monitor on PostgreSQL. The driver (and `pg`) is loaded only here, so commands on SQLite files
 * never load it.
 */
async function openPostgresMonitor(db: Db, options: MonitorOptions & { max?: number; connectionTimeoutMillis?: number }): Promise<Monitor> {
  const { openMonitor } = await import('@llm-monitor/driver-postgres');
  return openMonitor(db.location, { ...(db.schema === undefined ? {} : { schema: db.schema }), ...options });
}

function openPostgres(db: Db, options: { readOnly?: boolean; autoRegister?: boolean }): Promise<Monitor> {
  return openPostgresMonitor(db, { ...POSTGRES_POOL, ...options }).catch((error: unknown) => postgresOpenError(db, error, options.readOnly ?? false));
}

/**
 * Opens an existing database without writing anything to it: a file is opened read-only (no schema,
 * no journal-mode change; a missing file is an error), a PostgreSQL session refuses every write (and a
 * schema without monitor tables is an error).
 */
export async function openReadOnly(database: Db | string): Promise<Monitor> {
  const db = toDb(database);
  if (db.engine === 'postgres') return openPostgres(db, { readOnly: true });
  requireDatabaseFile(db.location, db.flag);
  return openSqliteMonitor(db.location, { readOnly: true }).catch((error: unknown) => sqliteOpenError(db.location, error));
}

/** Opens an existing database for writes (pricing changes): a missing file is an error, never a new database. */
export async function openExistingForWrites(database: Db | string): Promise<Monitor> {
  const db = toDb(database);
  if (db.engine === 'postgres') return openPostgres(db, { autoRegister: false });
  requireDatabaseFile(db.location, db.flag);
  return openSqliteMonitor(db.location, { autoRegister: false }).catch((error: unknown) => sqliteOpenError(db.location, error));
}

/**
 * Opens a database to record into, creating it when missing: the file (and its folder), or the
 * monitor's tables (and the schema) on the PostgreSQL server. A failure is a one-line error starting
 * with `failure(label)`.
 */
export async function openForRecording(database: Db | string, failure: (label: string) => string): Promise<Monitor> {
  const db = toDb(database);
  const opening =
    db.engine === 'postgres'
      ? // recording may run many writes at once (the proxy): the driver's default pool size
        openPostgresMonitor(db, { connectionTimeoutMillis: POSTGRES_POOL.connectionTimeoutMillis })
      : openSqliteMonitor(db.location);
  return opening.catch((error: unknown) => {
    throw new UserError(`${failure(db.label)}: ${openFailure(error)}`, { cause: error });
  });
}

/** Runs `fn` on a monitor and closes it whatever happens. */
export async function using<T>(monitor: Monitor, fn: (monitor: Monitor) => Promise<T>): Promise<T> {
  try {
    return await fn(monitor);
  } finally {
    await monitor.close();
  }
}

/**
 * The models `--model` names (every model without it), in the order given, without repeats; an unknown
 * name is a one-line error naming it and the database.
 */
export async function selectModels(monitor: Monitor, names: readonly string[] | undefined, db: Db): Promise<ModelInfo[]> {
  const models = await monitor.listModels();
  if (names === undefined) return models;
  const byName = new Map(models.map((m) => [m.name, m]));
  const unknown = names.filter((name) => !byName.has(name));
  if (unknown.length > 0) throw new UserError(`unknown model ${unknown.map(quote).join(', ')}: it is not in ${db.label} (\`llm-monitor models\` lists the models)`);
  return [...new Set(names)].map((name) => byName.get(name)!);
}
