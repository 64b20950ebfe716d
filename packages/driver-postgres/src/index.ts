import { createRequire } from 'node:module';
import {
  type DatabaseConnection,
  type Driver,
  Monitor,
  MonitorError,
  type MonitorOptions,
  type Row,
  type RunResult,
  type SqlValue,
  postgresDialect,
} from '@llm-monitor/core';

export * from '@llm-monitor/core';

/** Type parsers for one query, as node-postgres takes them (`types.getTypeParser`). */
export interface PgTypeParsers {
  getTypeParser(oid: number, format?: string): (value: string) => unknown;
}

/** The part of a node-postgres `PoolClient` this driver uses (its own types stay out of our `.d.ts`). */
export interface PgPoolClient {
  query(config: { text: string; values?: unknown[]; types?: PgTypeParsers; rowMode?: 'array' }): Promise<unknown>;
  release(destroy?: boolean | Error): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/** The part of a node-postgres `Pool` this driver uses: a `new pg.Pool(...)` fits. */
export interface PgPool {
  connect(): Promise<PgPoolClient>;
  end(): Promise<void>;
  /** node-postgres' pool emits 'connect' with each new client: the driver watches it for errors from then on. */
  on?(event: 'connect', listener: (client: PgPoolClient) => void): unknown;
}

interface PgResult {
  command: string | null;
  rowCount: number | null;
  rows: Row[] | SqlValue[][];
}

interface PgModule {
  Pool: new (config: Record<string, unknown>) => PgPool & { on(event: 'error', listener: (error: Error) => void): unknown };
  types: PgTypeParsers;
}

export interface PostgresDriverOptions {
  /**
   * The schema the monitor's tables live in (the connections' `search_path`); created on the first
   * write when missing. Default: the server's (`public`). Only with a connection string: give a pool of
   * your own its `search_path` yourself.
   */
  schema?: string;
  /** Sessions that refuse every write (`default_transaction_read_only`). Only with a connection string. */
  readOnly?: boolean;
  /** The most connections the pool opens (default 10). */
  max?: number;
  /** How long to wait for a connection (a new one, or a free one of the pool) before failing (default 30 000 ms). */
  connectionTimeoutMillis?: number;
}

export type OpenMonitorOptions = MonitorOptions & PostgresDriverOptions;

const require = createRequire(import.meta.url);
let pgModule: PgModule | undefined;

function loadPg(): PgModule {
  if (!pgModule) {
    try {
      pgModule = require('pg') as PgModule;
    } catch (error) {
      throw new MonitorError(
        'DRIVER',
        'The peer dependency pg is not installed: run `npm install pg@8` next to @llm-monitor/driver-postgres.',
        { cause: error },
      );
    }
  }
  return pgModule;
}

/** An integer as a number, or a bigint beyond 2^53 − 1 (which this project never writes). */
function parseInteger(text: string): number | bigint {
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : BigInt(text);
}

const keepText = (text: string) => text;

/**
 * node-postgres returns BIGINT and NUMERIC (what SUM of a BIGINT gives) as strings and dates as
 * `Date`s; core wants numbers and plain values. Per query, so other users of `pg` are not affected.
 */
function typeParsers(defaults: PgTypeParsers): PgTypeParsers {
  const parsers: Record<number, (text: string) => unknown> = {
    20: parseInteger, // int8
    1700: (text) => (/^-?\d+$/.test(text) ? parseInteger(text) : Number(text)), // numeric
    1082: keepText, // date
    1114: keepText, // timestamp
    1184: keepText, // timestamptz
  };
  return { getTypeParser: (oid, format) => parsers[oid] ?? defaults.getTypeParser(oid, format) };
}

/** A bigint as its decimal text, which PostgreSQL casts to BIGINT exactly; everything else as it is. */
const toPg = (value: SqlValue): unknown => (typeof value === 'bigint' ? value.toString() : value);

const WRITES = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE']);

/**
 * One pooled client. Plain: SQL arrives with PostgreSQL's `$n` placeholders (core numbers them), errors
 * go to core as node-postgres threw them, and core says on release whether the client may be reused.
 */
class PostgresConnection implements DatabaseConnection {
  readonly client: PgPoolClient;
  readonly #types: PgTypeParsers;

  constructor(client: PgPoolClient, types: PgTypeParsers) {
    this.client = client;
    this.#types = types;
  }

  async query(sql: string, params: readonly SqlValue[] = []): Promise<Row[]> {
    return (await this.#execute(sql, params)).rows as Row[];
  }

  async queryArrays(sql: string, params: readonly SqlValue[] = []): Promise<SqlValue[][]> {
    return (await this.#execute(sql, params, 'array')).rows as SqlValue[][];
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<RunResult> {
    const result = await this.#execute(sql, params);
    return { changes: result.command && WRITES.has(result.command) ? (result.rowCount ?? 0) : 0 };
  }

  async batch(sql: string, rows: readonly (readonly SqlValue[])[]): Promise<RunResult> {
    let changes = 0;
    for (const row of rows) changes += (await this.run(sql, row)).changes;
    return { changes };
  }

  async #execute(text: string, params: readonly SqlValue[], rowMode?: 'array'): Promise<PgResult> {
    const result = (await this.client.query({ text, values: params.map(toPg), types: this.#types, ...(rowMode ? { rowMode } : {}) })) as PgResult | PgResult[];
    // a statement without parameters may hold several; node-postgres then returns one result each
    return Array.isArray(result) ? result.at(-1)! : result;
  }
}

/** `-c name=value` for libpq's `options`: spaces and backslashes escaped with a backslash. */
const sessionSetting = (name: string, value: string) => `-c ${name}=${value.replace(/[\\\s]/g, '\\$&')}`;

function createPool(connectionString: string, options: PostgresDriverOptions): PgPool {
  const settings = [
    ...(options.schema === undefined ? [] : [sessionSetting('search_path', postgresDialect.quoteIdentifier(options.schema))]),
    ...(options.readOnly ? [sessionSetting('default_transaction_read_only', 'on')] : []),
  ].join(' ');
  // node-postgres lets the URL's `options` win over ours: refuse rather than ignore `schema` silently
  if (settings && /[?&]options=/.test(connectionString))
    throw new MonitorError(
      'INVALID_INPUT',
      'The connection string has its own `options` parameter: put search_path / default_transaction_read_only there instead of the schema / readOnly options.',
    );
  const { Pool } = loadPg();
  const pool = new Pool({
    connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 30_000,
    ...(settings ? { options: settings } : {}),
  });
  // an idle client that lost its server is dropped by the pool; the next acquire opens a new one
  pool.on('error', () => undefined);
  return pool;
}

/**
 * A driver on a PostgreSQL database: a connection string (`postgres://user@host:5432/db`), for which
 * it opens (and at close ends) a pool, or a node-postgres `Pool` of yours, which stays yours (not
 * ended at close). Each transaction runs on one pooled client; calls outside a transaction take any
 * free client, so reads and writes of one Monitor run in parallel.
 *
 * @example
 * const monitor = await Monitor.open(createPostgresDriver('postgres://monitor@db.internal/llm', { schema: 'monitor' }));
 */
export function createPostgresDriver(connectionStringOrPool: string | PgPool, options: PostgresDriverOptions = {}): Driver {
  const owned = typeof connectionStringOrPool === 'string';
  if (!owned && (options.schema !== undefined || options.readOnly !== undefined))
    throw new MonitorError(
      'INVALID_INPUT',
      'The schema and readOnly driver options need a connection string; for a pool of your own, set search_path and default_transaction_read_only in its options.',
    );
  const pool = owned ? createPool(connectionStringOrPool, options) : connectionStringOrPool;
  const types = typeParsers(loadPg().types);
  const connections = new WeakMap<PgPoolClient, PostgresConnection>();
  // node-postgres emits 'error' on a client whose backend ended between queries (pg_terminate_backend, a
  // restart, a failover). The pool listens only while the client is idle in it; while the client is
  // checked out, an unheard 'error' would end the process. So every client gets a listener as soon as
  // the pool connects it (the error can arrive in the same packet as the end of the handshake), and a
  // client that reported one is destroyed on release; its next query fails and core retries elsewhere.
  const watched = new WeakSet<PgPoolClient>();
  const lost = new WeakSet<PgPoolClient>();
  const watch = (client: PgPoolClient) => {
    if (watched.has(client)) return;
    watched.add(client);
    client.on('error', () => lost.add(client));
  };
  pool.on?.('connect', watch);
  const acquire = async () => {
    const client = await pool.connect();
    watch(client);
    let connection = connections.get(client);
    if (!connection) connections.set(client, (connection = new PostgresConnection(client, types)));
    return connection;
  };
  const release = ({ client }: PostgresConnection, discard: boolean) => {
    try {
      client.release(discard || lost.has(client) ? true : undefined);
    } catch {
      // released twice: nothing to give back
    }
  };
  return {
    dialect: postgresDialect,
    acquireConnection: acquire,
    async releaseConnection(connection, options) {
      release(connection as PostgresConnection, options?.discard ?? false);
    },
    async prepareForWrites() {
      if (options.schema === undefined) return;
      const connection = await acquire();
      let failed = true;
      try {
        // look first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when the schema exists
        const rows = await connection.query('SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1', [options.schema]);
        if (rows.length === 0) await connection.run(`CREATE SCHEMA IF NOT EXISTS ${postgresDialect.quoteIdentifier(options.schema)}`);
        failed = false;
      } catch (error) {
        // 23505 / 42P06: another process created it at the same moment
        const code = (error as { code?: unknown }).code;
        if (code !== '23505' && code !== '42P06') throw error;
        failed = false;
      } finally {
        release(connection, failed);
      }
    },
    close: async () => {
      if (owned) await pool.end();
    },
  };
}

/**
 * Opens a Monitor on a PostgreSQL database: the same tables, numbers and names as on SQLite.
 *
 * @example
 * const monitor = await openMonitor(process.env.DATABASE_URL!, { schema: 'llm_monitor' });
 * await monitor.addModelRequest('qwen', [Date.now() / 1000, 150, 75]);
 * await monitor.close();
 */
export async function openMonitor(connectionStringOrPool: string | PgPool, options: OpenMonitorOptions = {}): Promise<Monitor> {
  const { schema, max, connectionTimeoutMillis, ...monitorOptions } = options;
  const owned = typeof connectionStringOrPool === 'string';
  const driver = createPostgresDriver(connectionStringOrPool, {
    schema,
    max,
    connectionTimeoutMillis,
    ...(owned && options.readOnly ? { readOnly: true } : {}),
  });
  return Monitor.open(driver, monitorOptions);
}
