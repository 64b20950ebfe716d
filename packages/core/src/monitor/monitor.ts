import { type ModelActivity, type Window, modelActivity } from '../analytics/aggregate.js';
import { type Description, describeDatabase } from '../analytics/describe.js';
import { type PricingOverrides, effectiveBilling } from '../analytics/pricing.js';
import { type Series, type Summary, buildSeries, buildSummary } from '../analytics/report.js';
import { BUCKETS, type Bucket, checkTimeZone, defaultTimeZone } from '../analytics/time-zone.js';
import type { Driver, SqlValue } from '../driver/driver.js';
import { Executor, type Session } from '../driver/executor.js';
import { MonitorError, describeValue, isMonitorError } from '../errors.js';
import {
  SHAPE_NAMES,
  type TableColumns,
  isMonitorDatabase,
  isWritableShape,
  normalizedShape,
  perModelShape,
  tableColumns,
} from '../schema/detect-shape.js';
import {
  MAPPING_TABLE,
  PROGRAM_RUNTIME_TABLE,
  type NativeStatements,
  USER_VERSION,
  addCacheColumnSql,
  coreTablesDdl,
  mappingStatements,
  modelTableNames,
  modelTablesDdl,
  nativeStatements,
  requestsIndexDdl,
  requestsIndexName,
  programStatements,
} from '../schema/native.js';
import {
  type ModelRef,
  type RequestFilter,
  normalizedModels,
  programRuntimeQuery,
  readBilling,
  requestsQuery,
  runtimeQuery,
  toRequest,
  toRunTime,
} from '../schema/reads.js';
import { getSafeModelName } from '../schema/safe-name.js';
import type {
  ModelBilling,
  ModelInfo,
  ModelRequest,
  ModelRunTime,
  RequestInput,
  TierInput,
} from './types.js';
import {
  checkBoolean,
  checkCount,
  checkEncodable,
  checkMinutes,
  checkModelName,
  checkPrice,
  checkRequestRow,
  checkTier,
  checkTime,
} from './validate.js';

export interface MonitorOptions {
  /** Models to register when the Monitor opens, like the original's config file. */
  models?: readonly string[];
  /**
   * Recording runtime or requests for a name that is not registered registers it (default true).
   * `false` behaves as the seed did: such calls fail with `UNKNOWN_MODEL`. Pricing calls never register.
   */
  autoRegister?: boolean;
  /** Never write to the database: not the schema, not `user_version`. Writes fail with `READ_ONLY`. */
  readOnly?: boolean;
  /** How long a write keeps retrying while another process holds the write lock. Default 10 000 ms. */
  busyTimeoutMs?: number;
  /** The clock, in epoch seconds, for `getModelRequests(name, minutes)`. Default `Date.now() / 1000`. */
  now?: () => number;
}

/** What `summary` covers. */
export interface SummaryOptions {
  /** Epoch seconds; the window is [from, to). Omit either for an open end. */
  from?: number;
  to?: number;
  /** Price with these settings instead of the stored ones (per model; any subset of `ModelBilling`). Never written. */
  pricing?: PricingOverrides;
  /** Only these models (default: every model in the database). */
  models?: readonly string[];
}

export interface SeriesOptions extends SummaryOptions {
  bucket: Bucket;
  /** IANA zone the buckets align to (default: the runtime's zone). */
  timeZone?: string;
}

/** The latest program run and what happened since it started. */
export interface ProgramSession {
  startedAt: number;
  /** The run's end time: its last heartbeat, or its end. */
  lastSeenAt: number;
  /** `lastSeenAt === startedAt`: started and never updated. */
  open: boolean;
  summary: Summary;
}

/** State shared by a Monitor and the transaction views it hands out. */
interface MonitorState {
  readonly executor: Executor;
  readonly autoRegister: boolean;
  readonly readOnly: boolean;
  readonly now: () => number;
  tables: TableColumns;
  /** Resolved models by name. Cleared for a model whenever a statement finds its tables gone. */
  readonly refs: Map<string, ModelRef>;
  /** Prepared SQL text per safe name. */
  readonly statements: Map<string, NativeStatements>;
  /**
   * Safe names this Monitor has brought up to the native layout (cache columns, index) since it
   * opened: a model another process created in the seed's layout is upgraded before its first write.
   */
  readonly upgraded: Set<string>;
}

type Access = 'read' | 'write';

/**
 * Records, per LLM model, when it ran, what every request used and how the model is billed, in a
 * database reached through any {@link Driver}. Every method is asynchronous; every write validates
 * first and is one transaction, so a rejected call leaves the database as it was.
 *
 * @example
 * const monitor = await Monitor.open(driver, { models: ['qwen3-coder'] });
 * await monitor.addModelRequest('qwen3-coder', [Date.now() / 1000, 150, 75]);
 * await monitor.close();
 */
export class Monitor {
  readonly #state: MonitorState;
  /** Set on transaction views: every call runs on this session, inside the caller's transaction. */
  readonly #bound: Session | null;
  #boundOpen = true;

  private constructor(state: MonitorState, bound: Session | null) {
    this.#state = state;
    this.#bound = bound;
  }

  /**
   * Opens a Monitor on a driver: creates the seed's tables in an empty database, registers
   * `options.models`, and upgrades seed-era model tables with the cache columns (all in one
   * transaction). A database holding tables of another application fails with `NOT_A_MONITOR_DB`.
   */
  static async open(driver: Driver, options: MonitorOptions = {}): Promise<Monitor> {
    const executor = new Executor(driver, { busyTimeoutMs: options.busyTimeoutMs });
    try {
      const models = (options.models ?? []).map((name) => checkModelName(name));
      if (options.readOnly && models.length > 0)
        throw new MonitorError('INVALID_INPUT', `Cannot register models on a read-only monitor: got models ${describeValue(models)}.`, { value: models });
      const state: MonitorState = {
        executor,
        autoRegister: options.autoRegister ?? true,
        readOnly: options.readOnly ?? false,
        now: options.now ?? (() => Date.now() / 1000),
        tables: new Map(),
        refs: new Map(),
        statements: new Map(),
        upgraded: new Set(),
      };
      const monitor = new Monitor(state, null);
      state.tables = await executor.read(loadTables);
      if (state.readOnly) {
        if (!isMonitorDatabase(state.tables))
          throw new MonitorError('NOT_A_MONITOR_DB', 'The database holds no monitor tables (it is empty or belongs to another application).');
      } else {
        if (state.tables.size > 0 && !isMonitorDatabase(state.tables))
          throw new MonitorError(
            'NOT_A_MONITOR_DB',
            `The database holds tables of another application (${[...state.tables.keys()].slice(0, 5).join(', ')}), none of a monitor; refusing to write to it.`,
          );
        // An existing database is switched (journal mode and the like) only after the first transaction
        // committed, so a file that fails it (a corrupt page, say) is left exactly as it was; a new, empty
        // one is prepared first (a server schema must exist before tables go into it).
        const empty = state.tables.size === 0;
        if (empty) await executor.prepareForWrites();
        await executor.write((session) => monitor.#initialise(session, models));
        if (!empty) await executor.prepareForWrites();
      }
      return monitor;
    } catch (error) {
      await executor.close().catch(() => undefined);
      throw executor.mapError(error, 'Could not open the monitor database');
    }
  }

  /** The table-name prefix of a model: `"model_" + sha256(utf8(name)).hex.slice(0, 16)`. Pure and synchronous. */
  getSafeModelName(name: string): string {
    return getSafeModelName(name);
  }

  /** The safe name stored for a registered model, or null when the name is not registered. */
  async getModelSafeName(name: string): Promise<string | null> {
    const checked = checkEncodable(name);
    return this.#run('read', async (session) => {
      if (!this.#state.tables.has(MAPPING_TABLE)) return null;
      const [row] = await session.query(mappingStatements(session.dialect).lookup, [checked]);
      return row ? String(row.safe_name) : null;
    });
  }

  /** Registers a model (creating its five tables and default billing rows) if it is not yet registered. */
  async registerModel(name: string): Promise<ModelInfo> {
    const checked = checkModelName(name);
    return this.#withModel('write', checked, 'register', async (_session, ref) => toInfo(ref));
  }

  /** Every model in the database, in registration order, with its detected table shape. */
  async listModels(): Promise<ModelInfo[]> {
    return this.#run('read', async (session) => (await this.#allRefs(session)).map(toInfo));
  }

  // ---- runtime -------------------------------------------------------------------------------------

  /**
   * Records that a model started: a new run with `endTime = startTime` (an open run). Resolves to the
   * run's id, for `updateModelRuntimeEnd(name, t, runId)` when several processes record one model.
   */
  async addModelRuntimeStart(name: string, startTime: number): Promise<number> {
    const checked = checkModelName(name);
    const time = checkTime(checked, 'start time', startTime);
    return this.#withModel('write', checked, this.#state.autoRegister ? 'register' : 'require-writable', async (session, ref) => {
      await session.run(this.#native(ref).insertRuntime, [time, time]);
      return lastInsertId(session);
    });
  }

  /**
   * Sets the end time of a run of the model: `runId` (from `addModelRuntimeStart`), or else the latest
   * run, as the seed did. Heartbeats call it to move an open run forward. Resolves false when there is
   * no such run.
   */
  async updateModelRuntimeEnd(name: string, endTime: number, runId?: number): Promise<boolean> {
    const checked = checkModelName(name);
    const time = checkTime(checked, 'end time', endTime);
    const id = runId === undefined ? undefined : checkCount('runId', runId, checked);
    return this.#withModel('write', checked, 'require-writable', async (session, ref) => {
      const statements = this.#native(ref);
      const { changes } = await (id === undefined
        ? session.run(statements.endLatestRuntime, [time])
        : session.run(statements.endRuntime, [time, id]));
      return changes > 0;
    });
  }

  /** Records that the program started (table `program_runtime`). Resolves to the run's id. */
  async addProgramRuntimeStart(startTime: number): Promise<number> {
    const time = checkTime(undefined, 'program start time', startTime);
    return this.#run('write', async (session) => {
      this.#requireProgramRuntime();
      await session.run(programStatements(session.dialect).insert, [time, time]);
      return lastInsertId(session);
    });
  }

  /** Sets the end time of the program's run `runId`, or else of its latest run. Resolves false when there is no such run. */
  async updateProgramRuntimeEnd(endTime: number, runId?: number): Promise<boolean> {
    const time = checkTime(undefined, 'program end time', endTime);
    const id = runId === undefined ? undefined : checkCount('runId', runId);
    return this.#run('write', async (session) => {
      this.#requireProgramRuntime();
      const statements = programStatements(session.dialect);
      const { changes } = await (id === undefined ? session.run(statements.endLatest, [time]) : session.run(statements.end, [time, id]));
      return changes > 0;
    });
  }

  // ---- requests ------------------------------------------------------------------------------------

  /**
   * Records one request: `[timestamp, inputTokens, outputTokens]`, `[…, cacheN, promptN]` or
   * `{ timestamp, inputTokens, outputTokens, cacheN?, promptN? }`, timestamp in epoch seconds.
   */
  async addModelRequest(name: string, request: RequestInput): Promise<void> {
    const checked = checkModelName(name);
    const params = checkRequestRow(checked, request);
    if (await this.#fastWrite(checked, (s) => s.insertRequest, params)) return;
    await this.#withModel('write', checked, this.#state.autoRegister ? 'register' : 'require-writable', (session, ref) =>
      session.run(this.#native(ref).insertRequest, params),
    );
  }

  /** Records many requests of one model in one transaction: all are written, or (on any bad row) none. */
  async addModelRequests(name: string, requests: readonly RequestInput[]): Promise<number> {
    const checked = checkModelName(name);
    if (!Array.isArray(requests)) throw new MonitorError('INVALID_INPUT', `Invalid requests for model ${describeValue(checked)}: expected an array, got ${describeValue(requests)}.`, { model: checked, value: requests });
    const rows = requests.map((request, index) => {
      try {
        return checkRequestRow(checked, request);
      } catch (error) {
        if (isMonitorError(error)) throw new MonitorError(error.code, `Request #${index}: ${error.message}`, { model: checked, value: request });
        throw error;
      }
    });
    if (rows.length === 0) {
      this.#requireWritable();
      return 0;
    }
    return this.#withModel('write', checked, this.#state.autoRegister ? 'register' : 'require-writable', async (session, ref) => {
      const { changes } = await session.batch(this.#native(ref).insertRequest, rows);
      return changes;
    });
  }

  // ---- billing -------------------------------------------------------------------------------------

  /** Sets the model's price per hour of runtime. */
  async updateHourlyPrice(name: string, hourlyPrice: number): Promise<void> {
    const checked = checkModelName(name);
    const price = checkPrice(checked, 'hourly price', hourlyPrice);
    await this.#withModel('write', checked, 'require-writable', (session, ref) =>
      session.run(this.#native(ref).updateHourlyPrice, [price]),
    );
  }

  /** `true` bills the model per token by tier (按量), `false` per hour of runtime (按时). */
  async updateBillingMethod(name: string, useTierPricing: boolean): Promise<void> {
    const checked = checkModelName(name);
    const value = checkBoolean(checked, 'useTierPricing', useTierPricing);
    await this.#withModel('write', checked, 'require-writable', (session, ref) =>
      session.run(this.#native(ref).updateBillingMethod, [session.dialect.bool(value)]),
    );
  }

  /** Adds a tier; fails with `DUPLICATE_TIER` when the model already has that tier index. */
  async addTierPricing(name: string, tier: TierInput): Promise<void> {
    const checked = checkModelName(name);
    const t = checkTier(checked, tier);
    await this.#withModel('write', checked, 'require-writable', async (session, ref) => {
      const statements = this.#native(ref);
      const existing = await session.query(statements.selectTier, [t.tierIndex]);
      if (existing.length > 0)
        throw new MonitorError('DUPLICATE_TIER', `Model ${describeValue(checked)} already has tier ${t.tierIndex}; use updateTierPricing to change it.`, {
          model: checked,
          value: t.tierIndex,
        });
      await session.run(statements.insertTier, [
        t.tierIndex,
        t.startTokens,
        t.endTokens,
        t.inputPricePerMillion,
        t.outputPricePerMillion,
        session.dialect.bool(t.supportCache ?? false),
        t.cacheHitPricePerMillion ?? 0,
      ]);
    });
  }

  /**
   * Replaces a tier's range and prices (cache settings are kept unless given). Fails with
   * `TIER_NOT_FOUND` when the model has no such tier (the seed silently did nothing).
   */
  async updateTierPricing(name: string, tier: TierInput): Promise<void> {
    const checked = checkModelName(name);
    const t = checkTier(checked, tier);
    await this.#withModel('write', checked, 'require-writable', async (session, ref) => {
      const { changes } = await session.run(this.#native(ref).updateTier, [
        t.startTokens,
        t.endTokens,
        t.inputPricePerMillion,
        t.outputPricePerMillion,
        t.supportCache === undefined ? null : session.dialect.bool(t.supportCache),
        t.cacheHitPricePerMillion ?? null,
        t.tierIndex,
      ]);
      if (changes === 0)
        throw new MonitorError('TIER_NOT_FOUND', `Model ${describeValue(checked)} has no tier ${t.tierIndex}; use addTierPricing to add it.`, {
          model: checked,
          value: t.tierIndex,
        });
    });
  }

  /** Deletes a tier. Resolves false (and changes nothing) when the model has no such tier, as in the seed. */
  async deleteTierPricing(name: string, tierIndex: number): Promise<boolean> {
    const checked = checkModelName(name);
    const index = checkCount('tierIndex', tierIndex, checked);
    return this.#withModel('write', checked, 'require-writable', async (session, ref) => {
      const { changes } = await session.run(this.#native(ref).deleteTier, [index]);
      return changes > 0;
    });
  }

  // ---- getters -------------------------------------------------------------------------------------

  /** Program runs, newest first; `limit` 0 returns all. */
  async getProgramRuntime(limit = 0): Promise<ModelRunTime[]> {
    const count = checkCount('limit', limit);
    return this.#run('read', async (session) => {
      if (!this.#state.tables.has(PROGRAM_RUNTIME_TABLE)) return [];
      const { sql, params } = programRuntimeQuery(count);
      return (await session.query(sql, params)).map(toRunTime);
    });
  }

  /** A model's runs, newest first; `limit` 0 returns all. */
  async getModelRuntime(name: string, limit = 0): Promise<ModelRunTime[]> {
    const checked = checkModelName(name);
    const count = checkCount('limit', limit, checked);
    return this.#withModel('read', checked, 'require', async (session, ref) => {
      const { sql, params } = runtimeQuery(session.dialect, ref, count);
      return (await session.query(sql, params)).map(toRunTime);
    });
  }

  /** A model's requests, newest first; `minutes` > 0 keeps those with `timestamp >= now - minutes * 60`. */
  async getModelRequests(name: string, minutes = 0): Promise<ModelRequest[]> {
    const checked = checkModelName(name);
    const window = checkMinutes(checked, minutes);
    return this.#withModel('read', checked, 'require', async (session, ref) => {
      const since = window > 0 ? this.#state.now() - window * 60 : null;
      const { sql, params } = requestsQuery(session.dialect, this.#state.tables, ref, { from: since, order: 'DESC' });
      return (await session.query(sql, params)).map(toRequest);
    });
  }

  /**
   * Streams a model's requests in id order, a page at a time (keyset pagination: memory stays flat on
   * millions of rows), optionally within `[from, to)` on the request time. The iteration covers the rows
   * that existed when it started; each page is its own short read, so writers are never held up.
   *
   * @example
   * for await (const page of monitor.iterateRequests('qwen', { from: t0 })) for (const r of page) write(r);
   */
  async *iterateRequests(name: string, options: { from?: number; to?: number; pageSize?: number } = {}): AsyncGenerator<ModelRequest[]> {
    const checked = checkModelName(name);
    const window = checkWindow(options);
    const pageSize = options.pageSize === undefined ? 10_000 : checkCount('pageSize', options.pageSize, checked);
    if (pageSize === 0) throw new MonitorError('INVALID_INPUT', `Invalid pageSize for model ${describeValue(checked)}: got 0.`, { model: checked, value: 0 });
    const page = (filter: RequestFilter) =>
      this.#withModel('read', checked, 'require', async (session, ref) => {
        const { sql, params } = requestsQuery(session.dialect, this.#state.tables, ref, filter);
        return (await session.query(sql, params)).map(toRequest);
      });
    const [last] = await page({ order: 'DESC', limit: 1 });
    if (!last) return;
    for (let afterId: number | undefined; ; ) {
      const rows = await page({ ...window, afterId, upToId: last.id, limit: pageSize, order: 'ASC' });
      if (rows.length > 0) yield rows;
      if (rows.length < pageSize) return;
      afterId = rows[rows.length - 1]!.id;
    }
  }

  /** A model's billing settings, tiers ordered by index; null when the file has no billing rows for it. */
  async getModelBilling(name: string): Promise<ModelBilling | null> {
    const checked = checkModelName(name);
    return this.#withModel('read', checked, 'require', (session, ref) => readBilling(session, this.#state.tables, ref));
  }

  // ---- analytics -----------------------------------------------------------------------------------

  /**
   * Usage and cost per model over [from, to), priced from the stored settings or the `pricing`
   * override. Aggregated in SQL: the cost of a million requests takes one grouped query per model.
   *
   * @example
   * const { total, models } = await monitor.summary({ from: Date.now() / 1000 - 86_400 });
   */
  async summary(options: SummaryOptions = {}): Promise<Summary> {
    const window = checkWindow(options);
    return this.#analyse((session) => this.#activities(session, window, options, false), (activities) => buildSummary(activities, window));
  }

  /**
   * The same numbers per calendar bucket (hour, day, week starting Monday, month) aligned in an IANA
   * zone, DST-correct. Bucket costs add up to the summary's cost for the same window.
   */
  async series(options: SeriesOptions): Promise<Series> {
    const window = checkWindow(options ?? {});
    const bucket = options?.bucket;
    if (!BUCKETS.includes(bucket))
      throw new MonitorError('INVALID_INPUT', `Invalid bucket: got ${describeValue(bucket)} (expected one of ${BUCKETS.join(', ')}).`, { value: bucket });
    const timeZone = options.timeZone === undefined ? defaultTimeZone() : checkTimeZone(options.timeZone);
    return this.#analyse(
      (session) => this.#activities(session, window, options, true),
      (activities) => buildSeries(activities, window, bucket, timeZone),
    );
  }

  /** The latest program run and the summary since it started; null when no program run is recorded. */
  async session(options: Pick<SummaryOptions, 'pricing' | 'models'> = {}): Promise<ProgramSession | null> {
    return this.#analyse(
      async (session) => {
        if (!this.#state.tables.has(PROGRAM_RUNTIME_TABLE)) return null;
        const { sql, params } = programRuntimeQuery(1);
        const [row] = await session.query(sql, params);
        if (!row) return null;
        const latest = toRunTime(row);
        const window: Window = { from: latest.startTime, to: null };
        return { latest, window, activities: await this.#activities(session, window, options, false) };
      },
      (data) =>
        data && {
          startedAt: data.latest.startTime,
          lastSeenAt: data.latest.endTime,
          open: data.latest.endTime === data.latest.startTime,
          summary: buildSummary(data.activities, data.window),
        },
    );
  }

  /** The detected shape of every model, row counts, journal mode, and anything suspicious in the file. */
  async describe(): Promise<Description> {
    return this.#analyse(
      async (session) => describeDatabase(session, this.#state.tables, await this.#allRefs(session)),
      (description) => description,
    );
  }

  // ---- deletion, transactions, closing -------------------------------------------------------------

  /** Drops the model's five tables and its mapping row, atomically. */
  async deleteModelTables(name: string): Promise<void> {
    const checked = checkModelName(name);
    await this.#withModel('write', checked, 'require-writable', async (session, ref) => {
      const statements = this.#native(ref);
      for (const statement of statements.dropTables) await session.run(statement);
      await session.run(mappingStatements(session.dialect).delete, [checked]);
      for (const table of Object.values(statements.names)) this.#state.tables.delete(table);
      this.#state.refs.delete(checked);
      if (ref.kind === 'per-model') {
        this.#state.statements.delete(ref.safeName);
        this.#state.upgraded.delete(ref.safeName);
      }
    });
  }

  /**
   * Runs several calls in one transaction (the manual's "use transactions for batch operations"):
   * `fn` receives a Monitor bound to the transaction. All its writes commit together when `fn`
   * resolves and roll back together when it throws. Each call inside stays atomic on its own.
   * Use `tx`, not the outer monitor, inside `fn`: the outer one waits for the transaction to end.
   * `tx.transaction(inner)` nests: `inner`'s writes roll back alone when it throws.
   *
   * @example
   * await monitor.transaction(async (tx) => {
   *   await tx.addModelRuntimeStart('qwen', t0);
   *   await tx.addModelRequest('qwen', [t1, 120, 40]);
   * });
   */
  async transaction<T>(fn: (tx: Monitor) => Promise<T>): Promise<T> {
    if (this.#bound) return this.#run('write', () => fn(this));
    this.#requireWritable();
    return this.#state.executor.write(async (session) => {
      const tx = new Monitor(this.#state, session);
      try {
        return await fn(tx);
      } finally {
        tx.#boundOpen = false;
      }
    });
  }

  /** Closes the database once pending calls finish. Idempotent; any later call fails with `CLOSED`. */
  async close(): Promise<void> {
    if (this.#bound) throw new MonitorError('INVALID_INPUT', 'Close the monitor, not the transaction view passed to transaction().');
    await this.#state.executor.close();
  }

  get closed(): boolean {
    return this.#state.executor.closed;
  }

  // ---- internals -----------------------------------------------------------------------------------

  /** Every model: the mapping table's, then the normalized `models` table's not already listed. */
  async #allRefs(session: Session): Promise<ModelRef[]> {
    this.#state.tables = await loadTables(session);
    const refs: ModelRef[] = [];
    const seen = new Set<string>();
    if (this.#state.tables.has(MAPPING_TABLE)) {
      for (const row of await session.query(mappingStatements(session.dialect).list)) {
        const name = String(row.original_name);
        seen.add(name);
        refs.push(perModelRef(this.#state.tables, name, String(row.safe_name)));
      }
    }
    const normalized = normalizedShape(this.#state.tables);
    if (normalized) {
      for (const row of await session.query(normalizedModels.list)) {
        const name = String(row.original_name);
        if (!seen.has(name)) refs.push({ kind: 'normalized', name, modelId: Number(row.id), shape: normalized });
      }
    }
    return refs;
  }

  async #activities(session: Session, window: Window, options: SummaryOptions, bySlot: boolean): Promise<ModelActivity[]> {
    let refs = await this.#allRefs(session);
    const byName = new Map(refs.map((ref) => [ref.name, ref]));
    const unknown = (name: string, what: string) =>
      new MonitorError('UNKNOWN_MODEL', `Unknown model ${describeValue(name)} in ${what}: it is not in this database.`, { model: name });
    const pricing = options.pricing ?? {};
    if (typeof pricing !== 'object' || pricing === null)
      throw new MonitorError('INVALID_INPUT', `Invalid pricing: got ${describeValue(pricing)} (expected an object keyed by model name).`, { value: pricing });
    for (const name of Object.keys(pricing)) if (!byName.has(name)) throw unknown(name, 'the what-if pricing');
    if (options.models !== undefined) {
      refs = options.models.map((name) => {
        const ref = byName.get(name);
        if (!ref) throw unknown(name, 'the models option');
        return ref;
      });
    }
    const activities: ModelActivity[] = [];
    for (const ref of refs) {
      const complete = ref.kind === 'normalized' || perModelShape(this.#state.tables, ref.safeName).missingTables.length === 0;
      if (!complete) continue;
      const stored = await readBilling(session, this.#state.tables, ref);
      const billing = effectiveBilling(ref.name, stored, pricing[ref.name]);
      activities.push(await modelActivity(session, this.#state.tables, ref, billing, window, bySlot));
    }
    return activities;
  }

  /** Reads in one snapshot (or the caller's transaction), then builds the report outside the lock. */
  async #analyse<T, R>(read: (session: Session) => Promise<T>, build: (data: T) => R): Promise<R> {
    if (this.#bound) return build(await this.#run('read', read));
    if (this.#state.executor.closed) throw new MonitorError('CLOSED', 'The monitor is closed; open a new one.');
    return build(await this.#state.executor.snapshot(read));
  }

  async #initialise(session: Session, models: string[]): Promise<void> {
    const tables = this.#state.tables;
    let changed = false;
    if (!normalizedShape(tables) || tables.has(MAPPING_TABLE)) {
      if (!tables.has(MAPPING_TABLE) || !tables.has(PROGRAM_RUNTIME_TABLE)) {
        await this.#lockSchema(session);
        for (const ddl of coreTablesDdl(session.dialect)) await session.run(ddl);
        changed = true;
      }
    }
    this.#state.tables = await loadTables(session);
    if (this.#state.tables.has(MAPPING_TABLE))
      for (const row of await session.query(mappingStatements(session.dialect).list))
        changed = (await this.#upgrade(session, String(row.safe_name))) || changed;
    for (const name of models) changed = (await this.#register(session, name)).created || changed;
    if (changed) await this.#markUpgraded(session);
  }

  /**
   * Brings a seed-layout model (S1, S2) up to the native layout: the cache columns (with defaults, so
   * the seed's code keeps working) and the requests index. Resolves true when it changed anything.
   */
  async #upgrade(session: Session, safeName: string): Promise<boolean> {
    const shape = perModelShape(this.#state.tables, safeName);
    if (!isWritableShape(shape.shape) || shape.missingTables.length > 0) return false;
    this.#state.upgraded.add(safeName);
    for (const { table, column } of shape.missingColumns) await session.run(addCacheColumnSql(session.dialect, table, column));
    const indexes = new Set((await session.query(session.dialect.indexesQuery)).map((row) => String(row.index_name)));
    const addIndex = !indexes.has(requestsIndexName(safeName));
    if (addIndex) await session.run(requestsIndexDdl(session.dialect, safeName));
    if (shape.missingColumns.length === 0 && !addIndex) return false;
    this.#state.tables = await loadTables(session);
    return true;
  }

  /** Marks the file as created or upgraded by this project (`PRAGMA user_version`), and reloads the layout. */
  async #markUpgraded(session: Session): Promise<void> {
    const userVersion = session.dialect.userVersion;
    if (userVersion) await session.run(userVersion.set(USER_VERSION));
    this.#state.tables = await loadTables(session);
  }

  /** Waits until no other connection changes the schema (`Dialect.schemaLock`); false when the engine needs no such lock. */
  async #lockSchema(session: Session): Promise<boolean> {
    const lock = session.dialect.schemaLock;
    if (lock) await session.run(lock);
    return lock !== null;
  }

  /** Registers a model in the native layout if absent; `created` says whether anything was written. */
  async #register(session: Session, name: string): Promise<{ ref: ModelRef; created: boolean }> {
    // another process may have deleted the model since it was cached: look at the mapping row itself
    this.#state.refs.delete(name);
    let existing = await this.#resolve(session, name);
    const complete = (ref: ModelRef | null): ref is ModelRef =>
      ref !== null && (ref.kind === 'normalized' || perModelShape(this.#state.tables, ref.safeName).missingTables.length === 0);
    if (complete(existing)) return { ref: existing, created: false };
    if (await this.#lockSchema(session)) {
      // another process may have registered it while we waited for the lock: look again
      this.#state.refs.delete(name);
      this.#state.tables = await loadTables(session);
      existing = await this.#resolve(session, name);
      if (complete(existing)) return { ref: existing, created: false };
    }
    const normalized = normalizedShape(this.#state.tables);
    if (!existing && normalized && !this.#state.tables.has(MAPPING_TABLE))
      throw new MonitorError(
        'SCHEMA_MISMATCH',
        `Cannot register model ${describeValue(name)}: this file uses layout ${SHAPE_NAMES[normalized]}, which this Monitor reads but does not write.`,
        { model: name },
      );
    if (!existing && name.includes('\u0000'))
      throw new MonitorError('INVALID_INPUT', `Invalid model name ${describeValue(name)}: it contains a NUL character, which not every engine can store.`, {
        model: name,
        value: name,
      });
    const d = session.dialect;
    const safeName = getSafeModelName(name);
    // A mapping row whose tables are gone (a half-deleted model) gets its tables back.
    if (!existing) await session.run(mappingStatements(d).insert, [name, safeName]);
    for (const ddl of modelTablesDdl(d, safeName)) await session.run(ddl);
    const s = this.#native({ kind: 'per-model', name, safeName, shape: 'S3' });
    const count = async (sql: string) => Number((await session.query(sql))[0]?.n ?? 0);
    if ((await count(s.hasDefaultTier)) === 0) await session.run(s.insertDefaultTier);
    if ((await count(s.hasHourlyPrice)) === 0) await session.run(s.insertDefaultHourlyPrice);
    if ((await count(s.hasBillingMethod)) === 0) await session.run(s.insertDefaultBillingMethod);
    this.#state.tables = await loadTables(session);
    await this.#upgrade(session, safeName);
    await this.#markUpgraded(session);
    const ref = perModelRef(this.#state.tables, name, safeName);
    this.#state.refs.set(name, ref);
    return { ref, created: true };
  }

  /** Finds a registered model, by the mapping table first, then the normalized `models` table. */
  async #resolve(session: Session, name: string): Promise<ModelRef | null> {
    const cached = this.#state.refs.get(name);
    if (cached) return cached;
    let ref: ModelRef | null = null;
    if (this.#state.tables.has(MAPPING_TABLE)) {
      const [row] = await session.query(mappingStatements(session.dialect).lookup, [name]);
      if (row) {
        const safeName = String(row.safe_name);
        if (!this.#state.tables.has(modelTableNames(safeName).requests)) this.#state.tables = await loadTables(session);
        ref = perModelRef(this.#state.tables, name, safeName);
      }
    }
    const normalized = normalizedShape(this.#state.tables);
    if (!ref && normalized) {
      const [row] = await session.query(normalizedModels.lookup, [name]);
      if (row) ref = { kind: 'normalized', name, modelId: Number(row.id), shape: normalized };
    }
    if (ref) this.#state.refs.set(name, ref);
    return ref;
  }

  /**
   * Runs `fn` with the model resolved. `register` registers an unknown name; `require-writable` also
   * refuses shapes this Monitor does not write. Retried once when the model's tables turned out to be
   * gone (another process deleted the model since it was cached).
   */
  async #withModel<T>(
    access: Access,
    name: string,
    mode: 'require' | 'require-writable' | 'register',
    fn: (session: Session, ref: Extract<ModelRef, { kind: 'per-model' }> | ModelRef) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#run(access, async (session) => {
          const ref = mode === 'register' ? (await this.#register(session, name)).ref : await this.#resolve(session, name);
          if (!ref)
            throw new MonitorError(
              'UNKNOWN_MODEL',
              `Unknown model ${describeValue(name)}: it is not registered in this database${mode === 'require-writable' && !this.#state.autoRegister ? ' (auto-registration is off; call registerModel first)' : ''}.`,
              { model: name },
            );
          if (access === 'write' && mode !== 'require' && !(ref.kind === 'per-model' && isWritableShape(ref.shape)))
            throw schemaMismatch(ref, 'writing to it');
          // a model another process created in the seed's layout since this Monitor opened
          if (access === 'write' && ref.kind === 'per-model' && !this.#state.upgraded.has(ref.safeName)) {
            // the layout as it is now, inside this write transaction: another process may have upgraded it
            this.#state.tables = await loadTables(session);
            if (await this.#upgrade(session, ref.safeName)) {
              await this.#markUpgraded(session);
              this.#state.refs.set(name, perModelRef(this.#state.tables, name, ref.safeName));
            }
            this.#state.upgraded.add(ref.safeName);
          }
          return fn(session, ref);
        });
      } catch (error) {
        if (isMonitorError(error) && error.code === 'MISSING_TABLE' && attempt === 0) {
          this.#state.refs.delete(name);
          this.#state.tables = new Map();
          await this.#run('read', async (session) => {
            this.#state.tables = await loadTables(session);
          });
          continue;
        }
        if (access === 'write') this.#state.refs.delete(name);
        throw error;
      }
    }
  }

  /**
   * The hot path of recording: a single statement on a model this Monitor already resolved, written
   * through the executor's group commit. Resolves false (nothing written) when the model is not
   * cached or its tables turned out to be gone, and the caller takes the full path.
   */
  async #fastWrite(name: string, statement: (s: NativeStatements) => string, params: readonly SqlValue[]): Promise<boolean> {
    const ref = this.#state.refs.get(name);
    if (this.#bound || !ref || ref.kind !== 'per-model' || !isWritableShape(ref.shape) || !this.#state.upgraded.has(ref.safeName)) return false;
    this.#requireWritable();
    try {
      await this.#state.executor.writeStatement(statement(this.#native(ref)), params);
      return true;
    } catch (error) {
      if (!isMonitorError(error, 'MISSING_TABLE')) throw error;
      this.#state.refs.delete(name);
      return false;
    }
  }

  /** Runs `fn` on the bound transaction (inside a savepoint for writes) or through the executor. */
  async #run<T>(access: Access, fn: (session: Session) => Promise<T>): Promise<T> {
    if (access === 'write') this.#requireWritable();
    const bound = this.#bound;
    if (!bound) return access === 'write' ? this.#state.executor.write(fn) : this.#state.executor.read(fn);
    if (!this.#boundOpen) throw new MonitorError('CLOSED', 'This transaction has ended; use the monitor it came from.');
    if (access === 'read') return fn(bound);
    const { savepoint } = bound.dialect;
    await bound.run(savepoint.begin);
    try {
      const result = await fn(bound);
      await bound.run(savepoint.release);
      return result;
    } catch (error) {
      await bound.run(savepoint.rollback).catch(() => undefined);
      await bound.run(savepoint.release).catch(() => undefined);
      throw error;
    }
  }

  #requireWritable(): void {
    if (this.#state.executor.closed) throw new MonitorError('CLOSED', 'The monitor is closed; open a new one.');
    if (this.#state.readOnly) throw new MonitorError('READ_ONLY', 'This monitor was opened with readOnly: true; writes are refused.');
  }

  #requireProgramRuntime(): void {
    const columns = this.#state.tables.get(PROGRAM_RUNTIME_TABLE);
    if (!columns?.has('start_time') || !columns.has('end_time'))
      throw new MonitorError(
        'SCHEMA_MISMATCH',
        `This file has no ${PROGRAM_RUNTIME_TABLE} table of the seed's layout (its layout is ${SHAPE_NAMES[normalizedShape(this.#state.tables) ?? 'S1']}).`,
      );
  }

  #native(ref: ModelRef): NativeStatements {
    if (ref.kind !== 'per-model') throw schemaMismatch(ref, 'writing to it');
    let statements = this.#state.statements.get(ref.safeName);
    if (!statements) this.#state.statements.set(ref.safeName, (statements = nativeStatements(this.#state.executor.dialect, ref.safeName)));
    return statements;
  }
}

async function lastInsertId(session: Session): Promise<number> {
  return Number((await session.query(session.dialect.lastInsertIdQuery))[0]?.id);
}

async function loadTables(session: Session): Promise<TableColumns> {
  return tableColumns(await session.query(session.dialect.columnsQuery));
}

function perModelRef(tables: TableColumns, name: string, safeName: string): ModelRef {
  return { kind: 'per-model', name, safeName, shape: perModelShape(tables, safeName).shape };
}

function checkWindow(options: SummaryOptions): Window {
  if (typeof options !== 'object' || options === null)
    throw new MonitorError('INVALID_INPUT', `Invalid options: got ${describeValue(options)}.`, { value: options });
  const from = options.from === undefined ? null : checkTime(undefined, 'from', options.from);
  const to = options.to === undefined ? null : checkTime(undefined, 'to', options.to);
  if (from !== null && to !== null && to < from)
    throw new MonitorError('INVALID_INPUT', `Invalid window: to (${to}) is before from (${from}).`, { value: { from, to } });
  return { from, to };
}

function toInfo(ref: ModelRef): ModelInfo {
  return {
    name: ref.name,
    safeName: ref.kind === 'per-model' ? ref.safeName : null,
    shape: ref.shape,
    writable: ref.kind === 'per-model' && isWritableShape(ref.shape),
  };
}

function schemaMismatch(ref: ModelRef, action: string): MonitorError {
  return new MonitorError(
    'SCHEMA_MISMATCH',
    `Model ${describeValue(ref.name)} is stored in layout ${SHAPE_NAMES[ref.shape]}, which this Monitor reads but does not support ${action}.`,
    { model: ref.name, value: ref.shape },
  );
}


