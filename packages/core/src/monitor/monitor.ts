import { type Aggregation, type ModelAggregate, type ScanShape, type ScanSplits, type Window, checkScanSplits, scanModel } from '../analytics/aggregate.js';
import { type Description, describeDatabase } from '../analytics/describe.js';
import { type PricingOverrides, ownValue } from '../pricing/override.js';
import { type Series, type Summary, seriesOf, summarize } from '../analytics/report.js';
import { BUCKETS, type Bucket, SLOT_SECONDS, checkTimeZone, localTimeZone, offsetSegments } from '../time/time-zone.js';
import type { Driver, SqlValue } from '../driver/driver.js';
import { Executor, type Session } from '../driver/executor.js';
import { MonitorError, describeValue, isMonitorError } from '../errors.js';
import { Catalog, type ResolvedModel, isComplete, modelInfo } from '../schema/catalog.js';
import { SHAPE_NAMES } from '../schema/detect-shape.js';
import { num } from '../schema/file-values.js';
import type { RequestFilter } from '../schema/layouts/layout.js';
import { MAPPING_TABLE, type NativeWrites, PROGRAM_RUNTIME_TABLE, mappingStatements, programStatements } from '../schema/layouts/native.js';
import { getSafeModelName } from '../schema/safe-name.js';
import type { ModelBilling, ModelInfo, ModelRequest, ModelRunTime, RequestInput, TierInput } from './types.js';
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
  /**
   * Drop the triggers on monitor tables when opening for writes. A writable Monitor refuses a database
   * with such triggers (`UNSAFE_TRIGGERS`), since they would run on every write; this is the explicit
   * "remove them" (they are dropped in the opening transaction, before anything else is written).
   */
  dropTriggers?: boolean;
  /** How long a write keeps retrying while another process holds the write lock. Default 10 000 ms. */
  busyTimeoutMs?: number;
  /** The clock, in epoch seconds, for `getModelRequests(name, minutes)`. Default `Date.now() / 1000`. */
  now?: () => number;
}

/** What `summary` and `aggregate` cover. */
export interface SummaryOptions {
  /** Epoch seconds; the window is [from, to). Omit either for an open end. */
  from?: number;
  to?: number;
  /** Price with these settings instead of the stored ones (per model; any subset of `ModelBilling`). Never written. */
  pricing?: PricingOverrides;
  /** Only these models (default: every model in the database). */
  models?: readonly string[];
}

/** What `aggregate` scans: a summary's window, models and pricing, and where else to split the groups. */
export interface AggregateOptions extends SummaryOptions, ScanSplits {}

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
  readonly catalog: Catalog;
  readonly autoRegister: boolean;
  readonly readOnly: boolean;
  readonly now: () => number;
}

type Access = 'read' | 'write';
/** How a call finds its model: `require` an existing one, `register` an unknown one. */
type Lookup = 'require' | 'register';

/**
 * Records, per LLM model, when it ran, what every request used and how the model is billed, in a
 * database reached through any {@link Driver}. Every method is asynchronous; every write validates
 * first and is one transaction, so a rejected call leaves the database as it was.
 *
 * The Monitor validates, runs transactions and delegates: the {@link Catalog} knows the database's
 * tables, the models and their layouts (`schema/layouts/`), which own every statement; the analytics
 * are pure functions over one scan (`analytics/`).
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
      const catalog = new Catalog();
      const state: MonitorState = {
        executor,
        catalog,
        autoRegister: options.autoRegister ?? true,
        readOnly: options.readOnly ?? false,
        now: options.now ?? (() => Date.now() / 1000),
      };
      await executor.read((session) => catalog.reload(session));
      const tables = catalog.tables;
      if (state.readOnly) {
        if (!catalog.isMonitorDatabase)
          throw new MonitorError('NOT_A_MONITOR_DB', 'The database holds no monitor tables (it is empty or belongs to another application).');
      } else {
        if (tables.size > 0 && !catalog.isMonitorDatabase)
          throw new MonitorError(
            'NOT_A_MONITOR_DB',
            `The database holds tables of another application (${[...tables.keys()].slice(0, 5).join(', ')}), none of a monitor; refusing to write to it.`,
          );
        // An existing database is switched (journal mode and the like) only after the first transaction
        // committed, so a file that fails it (a corrupt page, say) is left exactly as it was; a new, empty
        // one is prepared first (a server schema must exist before tables go into it).
        const empty = tables.size === 0;
        if (empty) await executor.prepareForWrites();
        await executor.write((session) => catalog.initialise(session, models, { dropTriggers: options.dropTriggers }));
        if (!empty) await executor.prepareForWrites();
      }
      return new Monitor(state, null);
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
      if (!this.#state.catalog.tables.has(MAPPING_TABLE)) return null;
      const [row] = await session.query(mappingStatements(session.dialect).lookup, [checked]);
      return row ? String(row.safe_name) : null;
    });
  }

  /** Registers a model (creating its five tables and default billing rows) if it is not yet registered. */
  async registerModel(name: string): Promise<ModelInfo> {
    const checked = checkModelName(name);
    return this.#write(checked, 'register', async (_session, _writes, model) => modelInfo(model));
  }

  /** Every model in the database, in registration order, with its detected table shape. */
  async listModels(): Promise<ModelInfo[]> {
    return this.#run('read', async (session) => (await this.#state.catalog.list(session)).map(modelInfo));
  }

  // ---- runtime -------------------------------------------------------------------------------------

  /**
   * Records that a model started: a new run with `endTime = startTime` (an open run). Resolves to the
   * run's id, for `updateModelRuntimeEnd(name, t, runId)` when several processes record one model.
   */
  async addModelRuntimeStart(name: string, startTime: number): Promise<number> {
    const checked = checkModelName(name);
    const time = checkTime(checked, 'start time', startTime);
    return this.#write(checked, this.#recording, async (session, writes) => {
      await session.run(writes.insertRuntime, [time, time]);
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
    return this.#write(checked, 'require', async (session, writes) => {
      const { changes } = await (id === undefined ? session.run(writes.endLatestRuntime, [time]) : session.run(writes.endRuntime, [time, id]));
      return changes > 0;
    });
  }

  /** Records that the program started (table `program_runtime`). Resolves to the run's id. */
  async addProgramRuntimeStart(startTime: number): Promise<number> {
    const time = checkTime(undefined, 'program start time', startTime);
    return this.#run('write', async (session) => {
      this.#state.catalog.requireProgramRuntime();
      await session.run(programStatements(session.dialect).insert, [time, time]);
      return lastInsertId(session);
    });
  }

  /** Sets the end time of the program's run `runId`, or else of its latest run. Resolves false when there is no such run. */
  async updateProgramRuntimeEnd(endTime: number, runId?: number): Promise<boolean> {
    const time = checkTime(undefined, 'program end time', endTime);
    const id = runId === undefined ? undefined : checkCount('runId', runId);
    return this.#run('write', async (session) => {
      this.#state.catalog.requireProgramRuntime();
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
    if (await this.#fastInsertRequest(checked, params)) return;
    await this.#write(checked, this.#recording, (session, writes) => session.run(writes.insertRequest, params));
  }

  /** Records many requests of one model in one transaction: all are written, or (on any bad row) none. */
  async addModelRequests(name: string, requests: readonly RequestInput[]): Promise<number> {
    const checked = checkModelName(name);
    if (!Array.isArray(requests))
      throw new MonitorError('INVALID_INPUT', `Invalid requests for model ${describeValue(checked)}: expected an array, got ${describeValue(requests)}.`, {
        model: checked,
        value: requests,
      });
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
    return this.#write(checked, this.#recording, async (session, writes) => (await session.batch(writes.insertRequest, rows)).changes);
  }

  // ---- billing -------------------------------------------------------------------------------------

  /** Sets the model's price per hour of runtime. */
  async updateHourlyPrice(name: string, hourlyPrice: number): Promise<void> {
    const checked = checkModelName(name);
    const price = checkPrice(checked, 'hourly price', hourlyPrice);
    await this.#write(checked, 'require', (session, writes) => session.run(writes.updateHourlyPrice, [price]));
  }

  /** `true` bills the model per token by tier (按量), `false` per hour of runtime (按时). */
  async updateBillingMethod(name: string, useTierPricing: boolean): Promise<void> {
    const checked = checkModelName(name);
    const value = checkBoolean(checked, 'useTierPricing', useTierPricing);
    await this.#write(checked, 'require', (session, writes) => session.run(writes.updateBillingMethod, [session.dialect.bool(value)]));
  }

  /** Adds a tier; fails with `DUPLICATE_TIER` when the model already has that tier index. */
  async addTierPricing(name: string, tier: TierInput): Promise<void> {
    const checked = checkModelName(name);
    const t = checkTier(checked, tier);
    await this.#write(checked, 'require', async (session, writes) => {
      const existing = await session.query(writes.selectTier, [t.tierIndex]);
      if (existing.length > 0)
        throw new MonitorError('DUPLICATE_TIER', `Model ${describeValue(checked)} already has tier ${t.tierIndex}; use updateTierPricing to change it.`, {
          model: checked,
          value: t.tierIndex,
        });
      await session.run(writes.insertTier, [
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
    await this.#write(checked, 'require', async (session, writes) => {
      const { changes } = await session.run(writes.updateTier, [
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
    return this.#write(checked, 'require', async (session, writes) => (await session.run(writes.deleteTier, [index])).changes > 0);
  }

  // ---- getters -------------------------------------------------------------------------------------

  /** Program runs, newest first; `limit` 0 returns all. */
  async getProgramRuntime(limit = 0): Promise<ModelRunTime[]> {
    const count = checkCount('limit', limit);
    return this.#run('read', async (session) => {
      if (!this.#state.catalog.tables.has(PROGRAM_RUNTIME_TABLE)) return [];
      const { sql, params } = programStatements(session.dialect).list(count);
      return (await session.query(sql, params)).map(toRunTime);
    });
  }

  /** A model's runs, newest first; `limit` 0 returns all. */
  async getModelRuntime(name: string, limit = 0): Promise<ModelRunTime[]> {
    const checked = checkModelName(name);
    const count = checkCount('limit', limit, checked);
    return this.#withModel('read', checked, 'require', async (session, model) => {
      const { sql, params } = model.layout.runtimeQuery(count);
      return (await session.query(sql, params)).map(toRunTime);
    });
  }

  /** A model's requests, newest first; `minutes` > 0 keeps those with `timestamp >= now - minutes * 60`. */
  async getModelRequests(name: string, minutes = 0): Promise<ModelRequest[]> {
    const checked = checkModelName(name);
    const window = checkMinutes(checked, minutes);
    const since = () => (window > 0 ? this.#state.now() - window * 60 : null);
    return this.#readRequests(checked, () => ({ from: since(), order: 'DESC' }));
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
    const [last] = await this.#readRequests(checked, () => ({ order: 'DESC', limit: 1 }));
    if (!last) return;
    for (let afterId: number | undefined; ; ) {
      const rows = await this.#readRequests(checked, () => ({ ...window, afterId, upToId: last.id, limit: pageSize, order: 'ASC' }));
      if (rows.length > 0) yield rows;
      if (rows.length < pageSize) return;
      afterId = rows[rows.length - 1]!.id;
    }
  }

  /** A model's billing settings, tiers ordered by index; null when the file has no billing rows for it. */
  async getModelBilling(name: string): Promise<ModelBilling | null> {
    const checked = checkModelName(name);
    return this.#withModel('read', checked, 'require', async (session, model) => (await model.layout.readBilling(session)).billing);
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
    return summarize(await this.#aggregate(options, { bySlot: false, inputRange: false }));
  }

  /**
   * The same numbers per calendar bucket (hour, day, week starting Monday, month) aligned in an IANA
   * zone, DST-correct. Bucket costs add up to the summary's cost for the same window.
   */
  async series(options: SeriesOptions): Promise<Series> {
    const bucket = options?.bucket;
    if (!BUCKETS.includes(bucket))
      throw new MonitorError('INVALID_INPUT', `Invalid bucket: got ${describeValue(bucket)} (expected one of ${BUCKETS.join(', ')}).`, { value: bucket });
    const timeZone = options.timeZone === undefined ? localTimeZone() : checkTimeZone(options.timeZone);
    // every boundary on the hour: group by hour, a quarter of the groups
    const { from, to } = checkWindow(options);
    const hourly = from !== null && to !== null && hoursOnly(timeZone, from, to);
    return seriesOf(await this.#aggregate(options, { bySlot: true, inputRange: false, slotSeconds: hourly ? 3600 : SLOT_SECONDS }), { bucket, timeZone });
  }

  /**
   * One scan of the requests and runs in [from, to), per model grouped by 15-minute slot and by the tier
   * that prices them: plain data from which `summarize`, `seriesOf` and the insights compute every
   * figure for any grid-aligned part of the window, any bucket and zone, and any price-only what-if,
   * without reading the database again. `summary(o)` equals `summarize(await aggregate(o))`.
   *
   * @example
   * const month = await monitor.aggregate({ from: t0, to: t1 });
   * const byDay = seriesOf(month, { bucket: 'day', timeZone: 'Europe/Berlin' });
   * const whatIf = summarize(month, { pricing: { qwen: { hourlyPrice: 1.2 } } });
   *
   * `splits` and `inputBounds` split the groups further (see {@link ScanSplits}): a report may then begin
   * or end at a split time off the grid (`--last 7d` ending now, and the 7 days before it, from one scan).
   */
  async aggregate(options: AggregateOptions = {}): Promise<Aggregation> {
    return this.#aggregate(options, { bySlot: true, inputRange: true });
  }

  /** The latest program run and the summary since it started; null when no program run is recorded. */
  async session(options: Pick<SummaryOptions, 'pricing' | 'models'> = {}): Promise<ProgramSession | null> {
    const latest = await this.#run('read', async (session) => {
      if (!this.#state.catalog.tables.has(PROGRAM_RUNTIME_TABLE)) return null;
      const { sql, params } = programStatements(session.dialect).list(1);
      const [row] = await session.query(sql, params);
      return row ? toRunTime(row) : null;
    });
    if (!latest) return null;
    const summary = summarize(await this.#aggregate({ ...options, from: latest.startTime }, { bySlot: false, inputRange: false }));
    return { startedAt: latest.startTime, lastSeenAt: latest.endTime, open: latest.endTime === latest.startTime, summary };
  }

  /** The detected shape of every model, row counts, journal mode, and anything suspicious in the file. */
  async describe(): Promise<Description> {
    const { catalog } = this.#state;
    return this.#snapshot(async (session) => describeDatabase(session, catalog.tables, await catalog.list(session)));
  }

  // ---- deletion, transactions, closing -------------------------------------------------------------

  /** Drops the model's five tables and its mapping row, atomically. */
  async deleteModelTables(name: string): Promise<void> {
    const checked = checkModelName(name);
    await this.#withModel('write', checked, 'require', async (session, model) => {
      const writes = requireWrites(model);
      for (const statement of writes.dropTables) await session.run(statement);
      await session.run(mappingStatements(session.dialect).delete, [checked]);
      this.#state.catalog.dropped(model);
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

  /** Recording calls register an unknown model unless `autoRegister` is off. */
  get #recording(): Lookup {
    return this.#state.autoRegister ? 'register' : 'require';
  }

  /** Scans every (or the chosen) model in one snapshot, grouped as `shape` says (see `ScanShape`). */
  async #aggregate(options: AggregateOptions, shape: Pick<ScanShape, 'bySlot' | 'inputRange'> & { slotSeconds?: number }): Promise<Aggregation> {
    const window = checkWindow(options);
    const splits = checkScanSplits(options, window);
    const pricing = options.pricing ?? {};
    if (typeof pricing !== 'object' || pricing === null || Array.isArray(pricing))
      throw new MonitorError('INVALID_INPUT', `Invalid pricing: got ${describeValue(pricing)} (expected an object keyed by model name).`, { value: pricing });
    if (options.models !== undefined && !Array.isArray(options.models))
      throw new MonitorError('INVALID_INPUT', `Invalid models: got ${describeValue(options.models)} (expected an array of model names).`, { value: options.models });
    return this.#snapshot(async (session) => {
      const all = await this.#state.catalog.list(session);
      const byName = new Map(all.map((model) => [model.name, model]));
      const unknown = (name: string, what: string) =>
        new MonitorError('UNKNOWN_MODEL', `Unknown model ${describeValue(name)} in ${what}: it is not in this database.`, { model: name });
      for (const name of Object.keys(pricing)) if (!byName.has(name)) throw unknown(name, 'the what-if pricing');
      const chosen = options.models === undefined ? all : options.models.map((name) => byName.get(name) ?? throwError(unknown(name, 'the model filter')));
      const models: ModelAggregate[] = [];
      const problems: string[] = [];
      for (const model of chosen) {
        if (!isComplete(model)) {
          problems.push(
            model.sharesTablesWith !== undefined
              ? `model ${JSON.stringify(model.name)}: its mapping row names the tables of model ${JSON.stringify(model.sharesTablesWith)}; left out`
              : `model ${JSON.stringify(model.name)}: tables ${model.layout.missingTables.join(', ')} are missing; left out`,
          );
          continue;
        }
        const stored = await model.layout.readBilling(session);
        models.push(await scanModel(session, model, stored, ownValue(pricing, model.name), window, { slotSeconds: SLOT_SECONDS, ...shape, splits }));
      }
      return { from: window.from, to: window.to, bySlot: shape.bySlot, ...splits, models, problems };
    });
  }

  /** Reads in one snapshot (or the caller's transaction). */
  async #snapshot<T>(read: (session: Session) => Promise<T>): Promise<T> {
    if (this.#bound) return this.#run('read', read);
    if (this.#state.executor.closed) throw new MonitorError('CLOSED', 'The monitor is closed; open a new one.');
    return this.#state.executor.snapshot(read);
  }

  async #readRequests(name: string, filter: () => RequestFilter): Promise<ModelRequest[]> {
    return this.#withModel('read', name, 'require', async (session, model) => {
      const { sql, params } = model.layout.requestsQuery(filter());
      return (await session.query(sql, params)).map(toRequest);
    });
  }

  /** A write to a model this Monitor writes (the native layout), with the model's statements. */
  #write<T>(name: string, lookup: Lookup, fn: (session: Session, writes: NativeWrites, model: ResolvedModel) => Promise<T>): Promise<T> {
    return this.#withModel('write', name, lookup, (session, model) => fn(session, requireWrites(model), model));
  }

  /**
   * Runs `fn` with the model resolved: for writes as it is inside the write transaction (looked up
   * again, registered when `lookup` says so, upgraded if another process created it in the seed's
   * layout). Retried once when the model's tables turned out to be gone (another process deleted it).
   */
  async #withModel<T>(access: Access, name: string, lookup: Lookup, fn: (session: Session, model: ResolvedModel) => Promise<T>): Promise<T> {
    const { catalog } = this.#state;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#run(access, async (session) => {
          const model =
            lookup === 'register'
              ? (await catalog.register(session, name)).model
              : access === 'write'
                ? await catalog.resolveForWrite(session, name)
                : await catalog.resolve(session, name);
          if (!model)
            throw new MonitorError(
              'UNKNOWN_MODEL',
              `Unknown model ${describeValue(name)}: it is not registered in this database${access === 'write' && !this.#state.autoRegister ? ' (auto-registration is off; call registerModel first)' : ''}.`,
              { model: name },
            );
          return fn(session, model);
        });
      } catch (error) {
        if (isMonitorError(error, 'MISSING_TABLE') && attempt === 0) {
          catalog.forget(name);
          await this.#run('read', (session) => catalog.reload(session));
          continue;
        }
        if (access === 'write') catalog.forget(name);
        throw error;
      }
    }
  }

  /**
   * The hot path of recording: one insert on a model this Monitor already resolved, written through
   * the executor's group commit, and only while the model's mapping row exists. Resolves false (nothing
   * written) when the model is not cached, its tables are gone or its mapping row was deleted, and the
   * caller takes the full path.
   */
  async #fastInsertRequest(name: string, params: readonly SqlValue[]): Promise<boolean> {
    const model = this.#bound ? undefined : this.#state.catalog.cachedWritable(name);
    if (!model) return false;
    this.#requireWritable();
    try {
      const { changes } = await this.#state.executor.writeStatement(model.layout.writes!.insertRequestIfMapped, [...params, model.layout.safeName!]);
      if (changes > 0) return true;
    } catch (error) {
      if (!isMonitorError(error, 'MISSING_TABLE')) throw error;
    }
    this.#state.catalog.forget(name);
    return false;
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
}

/** Whether every offset `timeZone` has over [from, to] is a whole number of hours (so are its bucket boundaries). */
function hoursOnly(timeZone: string, from: number, to: number): boolean {
  return to - from <= 400 * 86_400 && offsetSegments(timeZone, from, Math.max(from, to)).every(([, offset]) => offset % 3600 === 0);
}

function throwError(error: Error): never {
  throw error;
}

/** The model's write statements; `SCHEMA_MISMATCH` for layouts this Monitor reads but does not write. */
function requireWrites(model: ResolvedModel): NativeWrites {
  const { layout } = model;
  if (model.sharesTablesWith !== undefined)
    throw new MonitorError(
      'SCHEMA_MISMATCH',
      `Model ${describeValue(model.name)} is mapped to the tables of model ${describeValue(model.sharesTablesWith)} (two mapping rows share safe name ${layout.safeName}); refusing to write to them.`,
      { model: model.name, value: layout.safeName },
    );
  if (!layout.writes)
    throw new MonitorError(
      'SCHEMA_MISMATCH',
      `Model ${describeValue(model.name)} is stored in layout ${SHAPE_NAMES[layout.shape]}, which this Monitor reads but does not support writing to it.`,
      { model: model.name, value: layout.shape },
    );
  return layout.writes;
}

async function lastInsertId(session: Session): Promise<number> {
  return Number((await session.query(session.dialect.lastInsertIdQuery))[0]?.id);
}

function toRunTime(row: Record<string, SqlValue>): ModelRunTime {
  return { id: num(row.id), startTime: num(row.start_time), endTime: num(row.end_time) };
}

function toRequest(row: Record<string, SqlValue>): ModelRequest {
  return {
    id: num(row.id),
    timestamp: num(row.timestamp),
    inputTokens: num(row.input_tokens),
    outputTokens: num(row.output_tokens),
    cacheN: num(row.cache_n),
    promptN: num(row.prompt_n),
  };
}

function checkWindow(options: SummaryOptions | { from?: number; to?: number }): Window {
  if (typeof options !== 'object' || options === null)
    throw new MonitorError('INVALID_INPUT', `Invalid options: got ${describeValue(options)}.`, { value: options });
  const from = options.from === undefined ? null : checkTime(undefined, 'from', options.from);
  const to = options.to === undefined ? null : checkTime(undefined, 'to', options.to);
  if (from !== null && to !== null && to < from)
    throw new MonitorError('INVALID_INPUT', `Invalid window: to (${to}) is before from (${from}).`, { value: { from, to } });
  return { from, to };
}
