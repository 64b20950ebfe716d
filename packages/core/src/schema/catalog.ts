import type { Session } from '../driver/executor.js';
import { MonitorError, describeValue } from '../errors.js';
import type { ModelInfo } from '../monitor/types.js';
import { SHAPE_NAMES, type TableColumns, isMonitorDatabase, isWritableShape, normalizedShape, perModelLayout, perModelShape, tableColumns } from './detect-shape.js';
import type { ModelLayout } from './layouts/layout.js';
import {
  MAPPING_TABLE,
  PER_MODEL_TABLE,
  PROGRAM_RUNTIME_TABLE,
  USER_VERSION,
  addCacheColumnSql,
  coreTablesDdl,
  mappingStatements,
  modelTableNames,
  modelTablesDdl,
  requestsIndexDdl,
  requestsIndexName,
} from './layouts/native.js';
import { normalizedLayout, normalizedModels } from './layouts/normalized.js';
import { getSafeModelName } from './safe-name.js';

/** A registered model and the layout its data is stored in. */
export interface ResolvedModel {
  readonly name: string;
  readonly layout: ModelLayout;
  /**
   * Set when an earlier mapping row names the same tables (a file without the UNIQUE constraint on
   * `safe_name`): those tables are that model's, so this one is left out of reports and never written.
   */
  readonly sharesTablesWith?: string;
}

export function modelInfo(model: ResolvedModel): ModelInfo {
  return { name: model.name, safeName: model.layout.safeName, shape: model.layout.shape, writable: model.layout.writes !== null };
}

/** A model whose tables all exist and belong to it: what reports read and writes may touch. */
export function isComplete(model: ResolvedModel): boolean {
  return model.layout.missingTables.length === 0 && model.sharesTablesWith === undefined;
}

/**
 * What a Monitor knows about the database's structure: its tables and columns, the models resolved so
 * far (with their layouts and prepared statements), and which models it has brought up to the native
 * layout. Everything cached here is invalidated explicitly: `reload` reads every table again (at open,
 * to list the models, when a statement finds a table gone), `#refresh` only the tables a change touched
 * (a registration or an upgrade, so that a file with thousands of models is not read whole for each),
 * `forget` drops a model after a failed write. Registration and upgrades live here too.
 */
export class Catalog {
  #tables: TableColumns = new Map();
  readonly #models = new Map<string, ResolvedModel>();
  /** The names of the resolved models by the prefix of their tables, to forget them when those tables change. */
  readonly #namesBySafeName = new Map<string, Set<string>>();
  /** Safe names brought up to the native layout (cache columns, index) since the Monitor opened. */
  readonly #upgraded = new Set<string>();
  /**
   * The engine's schema version when every table was last read (see `Dialect.schemaVersionQuery`); null
   * when unknown: the engine has none, or only some tables were read again since.
   */
  #schemaVersion: number | null = null;

  get tables(): TableColumns {
    return this.#tables;
  }

  /** Reads the tables and columns again and drops every resolved model (their layouts depend on them). */
  async reload(session: Session): Promise<void> {
    this.#schemaVersion = await schemaVersion(session);
    this.#tables = tableColumns(await session.query(session.dialect.columnsQuery));
    this.#models.clear();
    this.#namesBySafeName.clear();
  }

  /**
   * {@link reload}, unless the engine says no table changed since the last one: reading every column of
   * a file with thousands of models takes seconds (SQLite finds each table in a hash of at most 64 buckets).
   */
  async #reloadIfChanged(session: Session): Promise<void> {
    if (this.#schemaVersion === null || this.#schemaVersion !== (await schemaVersion(session))) await this.reload(session);
  }

  #remember(model: ResolvedModel): void {
    this.#models.set(model.name, model);
    const safeName = model.layout.safeName;
    if (safeName === null) return;
    let names = this.#namesBySafeName.get(safeName);
    if (!names) this.#namesBySafeName.set(safeName, (names = new Set()));
    names.add(model.name);
  }

  /** Reads the columns of these tables again (a table that is gone leaves the cache) and forgets the models stored in them. */
  async #refresh(session: Session, tables: readonly string[]): Promise<void> {
    // the cache is now of no one version: the next list reads every table again
    this.#schemaVersion = null;
    for (const table of tables) {
      const columns = tableColumns(await session.query(session.dialect.tableColumnsQuery, [table])).get(table);
      if (columns) this.#tables.set(table, columns);
      else this.#tables.delete(table);
    }
    for (const table of tables) {
      const safeName = PER_MODEL_TABLE.exec(table)?.[1];
      for (const name of (safeName && this.#namesBySafeName.get(safeName)) || []) this.#models.delete(name);
    }
  }

  /** The five tables of a per-model layout, read again. */
  #refreshModel(session: Session, safeName: string): Promise<void> {
    return this.#refresh(session, Object.values(modelTableNames(safeName)));
  }

  forget(name: string): void {
    this.#models.delete(name);
  }

  get isMonitorDatabase(): boolean {
    return isMonitorDatabase(this.#tables);
  }

  get hasProgramRuntime(): boolean {
    const columns = this.#tables.get(PROGRAM_RUNTIME_TABLE);
    return Boolean(columns?.has('start_time') && columns.has('end_time'));
  }

  /** Refuses program-runtime calls on files without the seed's `program_runtime` (S7). */
  requireProgramRuntime(): void {
    if (!this.hasProgramRuntime)
      throw new MonitorError(
        'SCHEMA_MISMATCH',
        `This file has no ${PROGRAM_RUNTIME_TABLE} table of the seed's layout (its layout is ${SHAPE_NAMES[normalizedShape(this.#tables) ?? 'S1']}).`,
      );
  }

  /**
   * A model resolved earlier, ready for the fast write path: writable and already upgraded. Undefined
   * when it must go through `resolve` (not cached, another layout, or not yet upgraded).
   */
  cachedWritable(name: string): ResolvedModel | undefined {
    const model = this.#models.get(name);
    return model && model.layout.writes && isComplete(model) && this.#upgraded.has(model.layout.safeName!) ? model : undefined;
  }

  /** Finds a registered model: the mapping table first, then the normalized `models` table. */
  async resolve(session: Session, name: string): Promise<ResolvedModel | null> {
    const cached = this.#models.get(name);
    if (cached) return cached;
    let model: ResolvedModel | null = null;
    if (this.#tables.has(MAPPING_TABLE)) {
      const [row] = await session.query(mappingStatements(session.dialect).lookupWithOwner, [name]);
      if (row) {
        const safeName = String(row.safe_name);
        const owner = String(row.owner);
        // tables another process created since they were read
        if (perModelShape(this.#tables, safeName).missingTables.length > 0) await this.#refreshModel(session, safeName);
        model = { name, layout: perModelLayout(session.dialect, this.#tables, safeName), ...(owner !== name ? { sharesTablesWith: owner } : {}) };
      }
    }
    const normalized = normalizedShape(this.#tables);
    if (!model && normalized) {
      const [row] = await session.query(normalizedModels.lookup, [name]);
      if (row) model = { name, layout: normalizedLayout(normalized, name, Number(row.id)) };
    }
    if (model) this.#remember(model);
    return model;
  }

  /** Every model: the mapping table's in id order, then the normalized `models` table's not already listed. */
  async list(session: Session): Promise<ResolvedModel[]> {
    await this.#reloadIfChanged(session);
    const models: ResolvedModel[] = [];
    const seen = new Set<string>();
    if (this.#tables.has(MAPPING_TABLE)) {
      const owners = new Map<string, string>();
      for (const row of await session.query(mappingStatements(session.dialect).list)) {
        const name = String(row.original_name);
        const safeName = String(row.safe_name);
        const owner = owners.get(safeName);
        if (owner === undefined) owners.set(safeName, name);
        seen.add(name);
        models.push({ name, layout: perModelLayout(session.dialect, this.#tables, safeName), ...(owner !== undefined ? { sharesTablesWith: owner } : {}) });
      }
    }
    const normalized = normalizedShape(this.#tables);
    if (normalized)
      for (const row of await session.query(normalizedModels.list)) {
        const name = String(row.original_name);
        if (!seen.has(name)) models.push({ name, layout: normalizedLayout(normalized, name, Number(row.id)) });
      }
    for (const model of models) if (!this.#models.has(model.name)) this.#remember(model);
    return models;
  }

  /**
   * Creates the seed's core tables in an empty (or per-model-only) database, upgrades every seed-layout
   * model, registers `models`, and marks the file as ours when anything changed. Runs in the opening
   * write transaction.
   */
  async initialise(session: Session, models: readonly string[], options: { dropTriggers?: boolean } = {}): Promise<void> {
    await this.reload(session);
    let changed = await this.#refuseTriggers(session, options.dropTriggers ?? false);
    if (!normalizedShape(this.#tables) || this.#tables.has(MAPPING_TABLE)) {
      if (!this.#tables.has(MAPPING_TABLE) || !this.#tables.has(PROGRAM_RUNTIME_TABLE)) {
        await lockSchema(session);
        for (const ddl of coreTablesDdl(session.dialect)) await session.run(ddl);
        await this.#refresh(session, [MAPPING_TABLE, PROGRAM_RUNTIME_TABLE]);
        changed = true;
      }
    }
    if (this.#tables.has(MAPPING_TABLE))
      for (const row of await session.query(mappingStatements(session.dialect).list))
        changed = (await this.#upgrade(session, String(row.safe_name))) || changed;
    for (const name of models) changed = (await this.register(session, name)).created || changed;
    if (changed) await this.#markUpgraded(session);
  }

  /**
   * Resolves a model inside a write transaction, as it is now: the mapping row is looked up again (the
   * original may have deleted the model since it was cached), and a seed-layout model another process
   * created is upgraded before the first write.
   */
  async resolveForWrite(session: Session, name: string): Promise<ResolvedModel | null> {
    this.#models.delete(name);
    const model = await this.resolve(session, name);
    if (model?.layout.writes && isComplete(model) && !this.#upgraded.has(model.layout.safeName!)) {
      // the layout as it is now, inside this write transaction: another process may have upgraded it
      await this.#refreshModel(session, model.layout.safeName!);
      if (await this.#upgrade(session, model.layout.safeName!)) await this.#markUpgraded(session);
      this.#upgraded.add(model.layout.safeName!);
      return this.resolve(session, name);
    }
    return model;
  }

  /** Registers a model in the native layout if absent; `created` says whether anything was written. */
  async register(session: Session, name: string): Promise<{ model: ResolvedModel; created: boolean }> {
    let existing = await this.resolveForWrite(session, name);
    if (existing && (isComplete(existing) || existing.sharesTablesWith !== undefined)) return { model: existing, created: false };
    if (await lockSchema(session, getSafeModelName(name))) {
      // another process may have registered it while we waited for the lock: look again
      await this.#refreshModel(session, getSafeModelName(name));
      existing = await this.resolveForWrite(session, name);
      if (existing && isComplete(existing)) return { model: existing, created: false };
    }
    const normalized = normalizedShape(this.#tables);
    if (!existing && normalized && !this.#tables.has(MAPPING_TABLE))
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
    await this.#refreshModel(session, safeName);
    const writes = perModelLayout(d, this.#tables, safeName).writes!;
    const count = async (sql: string) => Number((await session.query(sql))[0]?.n ?? 0);
    if ((await count(writes.hasDefaultTier)) === 0) await session.run(writes.insertDefaultTier);
    if ((await count(writes.hasHourlyPrice)) === 0) await session.run(writes.insertDefaultHourlyPrice);
    if ((await count(writes.hasBillingMethod)) === 0) await session.run(writes.insertDefaultBillingMethod);
    await this.#upgrade(session, safeName);
    this.#upgraded.add(safeName);
    await this.#markUpgraded(session);
    const model = await this.resolve(session, name);
    return { model: model!, created: true };
  }

  /**
   * A trigger on a table this Monitor writes would run on every write (and could change any other
   * table): such a file is refused for writing, naming the triggers, unless the user asked to drop them.
   * Resolves true when it dropped any.
   */
  async #refuseTriggers(session: Session, drop: boolean): Promise<boolean> {
    const triggers = (await session.query(session.dialect.triggersQuery))
      .map((row) => ({ name: String(row.trigger_name), table: String(row.table_name) }))
      .filter((t) => isWrittenTable(t.table));
    if (triggers.length === 0) return false;
    if (!drop)
      throw new MonitorError(
        'UNSAFE_TRIGGERS',
        `The database has ${triggers.length === 1 ? 'a trigger' : `${triggers.length} triggers`} on monitor tables, which would run on every write: ${triggers
          .slice(0, 10)
          .map((t) => `${describeValue(t.name)} on ${t.table}`)
          .join(', ')}${triggers.length > 10 ? ', …' : ''}. Open it read-only to read it, or remove them to write to it (the dropTriggers option, or DROP TRIGGER in sqlite3).`,
        { value: triggers.map((t) => t.name) },
      );
    for (const t of triggers) await session.run(session.dialect.dropTrigger(t.name, t.table));
    return true;
  }

  /** After `deleteModelTables` committed: the model and its tables are gone. */
  dropped(model: ResolvedModel): void {
    this.#models.delete(model.name);
    const safeName = model.layout.safeName;
    if (safeName === null) return;
    this.#upgraded.delete(safeName);
    for (const table of [...this.#tables.keys()]) if (table.startsWith(`${safeName}_`)) this.#tables.delete(table);
  }

  /**
   * Brings a seed-layout model (S1, S2) up to the native layout: the cache columns (with defaults, so
   * the seed's code keeps working) and the requests index. Resolves true when it changed anything.
   */
  async #upgrade(session: Session, safeName: string): Promise<boolean> {
    const shape = perModelShape(this.#tables, safeName);
    if (!isWritableShape(shape.shape) || shape.missingTables.length > 0) return false;
    this.#upgraded.add(safeName);
    for (const { table, column } of shape.missingColumns) await session.run(addCacheColumnSql(session.dialect, table, column));
    const requests = modelTableNames(safeName).requests;
    const indexes = new Set((await session.query(session.dialect.tableIndexesQuery, [requests])).map((row) => String(row.index_name)));
    const addIndex = !indexes.has(requestsIndexName(safeName));
    if (addIndex) await session.run(requestsIndexDdl(session.dialect, safeName));
    if (shape.missingColumns.length === 0 && !addIndex) return false;
    await this.#refreshModel(session, safeName);
    return true;
  }

  /** Marks the file as created or upgraded by this project (`PRAGMA user_version`). */
  async #markUpgraded(session: Session): Promise<void> {
    const userVersion = session.dialect.userVersion;
    if (userVersion) await session.run(userVersion.set(USER_VERSION));
  }
}

/** A table a writable Monitor writes to: the mapping, the program runs, and every per-model table. */
export function isWrittenTable(table: string): boolean {
  return table === MAPPING_TABLE || table === PROGRAM_RUNTIME_TABLE || PER_MODEL_TABLE.test(table);
}

/**
 * Waits until no other connection changes the schema (`Dialect.schemaLock`), or only the tables of the
 * model `safeName` (`Dialect.modelLock`); false when the engine needs no such lock.
 */
async function lockSchema(session: Session, safeName?: string): Promise<boolean> {
  const lock = safeName === undefined ? session.dialect.schemaLock : session.dialect.modelLock;
  if (lock) await session.run(lock, safeName === undefined ? [] : [safeName]);
  return lock !== null;
}

async function schemaVersion(session: Session): Promise<number | null> {
  const query = session.dialect.schemaVersionQuery;
  if (query === null) return null;
  const value = Object.values((await session.query(query))[0] ?? {})[0];
  return typeof value === 'number' || typeof value === 'bigint' ? Number(value) : null;
}
