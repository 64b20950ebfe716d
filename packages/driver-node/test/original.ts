import { getSafeModelName } from '@llm-monitor/core';
import type Database from 'better-sqlite3';

/**
 * The statements the original Python Monitor (core/monitor.py at 13436e3, the version the manual
 * describes) runs, verbatim but for whitespace, with `{safe}` for the model's table prefix. A file this
 * project wrote must keep working under every one of them.
 */
export const ORIGINAL = {
  init: [
    `CREATE TABLE IF NOT EXISTS model_name_mapping (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        original_name TEXT UNIQUE NOT NULL,
        safe_name TEXT UNIQUE NOT NULL,
        created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP)`,
    `CREATE TABLE IF NOT EXISTS program_runtime (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        start_time REAL NOT NULL,
        end_time REAL NOT NULL)`,
  ],
  mappingCount: 'SELECT COUNT(*) FROM model_name_mapping WHERE original_name = ?',
  mappingInsert: 'INSERT INTO model_name_mapping (original_name, safe_name) VALUES (?, ?)',
  modelTables: (safe: string) => [
    `CREATE TABLE IF NOT EXISTS ${safe}_runtime (id INTEGER PRIMARY KEY AUTOINCREMENT, start_time REAL NOT NULL, end_time REAL NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS ${safe}_requests (id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp REAL NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS ${safe}_tier_pricing (tier_index INTEGER PRIMARY KEY, start_tokens INTEGER NOT NULL, end_tokens INTEGER NOT NULL, input_price_per_million REAL NOT NULL, output_price_per_million REAL NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS ${safe}_hourly_price (id INTEGER PRIMARY KEY CHECK (id = 1), hourly_price REAL NOT NULL DEFAULT 0)`,
    `CREATE TABLE IF NOT EXISTS ${safe}_billing_method (id INTEGER PRIMARY KEY CHECK (id = 1), use_tier_pricing BOOLEAN NOT NULL DEFAULT 1)`,
  ],
  defaultTierCount: (safe: string) => `SELECT COUNT(*) FROM ${safe}_tier_pricing WHERE tier_index = 1`,
  defaultTierInsert: (safe: string) =>
    `INSERT INTO ${safe}_tier_pricing (tier_index, start_tokens, end_tokens, input_price_per_million, output_price_per_million) VALUES (1, 0, 32768, 0, 0)`,
  hourlyCount: (safe: string) => `SELECT COUNT(*) FROM ${safe}_hourly_price`,
  hourlyInsert: (safe: string) => `INSERT INTO ${safe}_hourly_price (id, hourly_price) VALUES (1, 0)`,
  methodCount: (safe: string) => `SELECT COUNT(*) FROM ${safe}_billing_method`,
  methodInsert: (safe: string) => `INSERT INTO ${safe}_billing_method (id, use_tier_pricing) VALUES (1, 1)`,
  lookup: 'SELECT safe_name FROM model_name_mapping WHERE original_name = ?',
  runtimeStart: (safe: string) => `INSERT INTO ${safe}_runtime (start_time, end_time) VALUES (?, ?)`,
  runtimeEnd: (safe: string) => `UPDATE ${safe}_runtime SET end_time = ? WHERE id = (SELECT MAX(id) FROM ${safe}_runtime)`,
  request: (safe: string) => `INSERT INTO ${safe}_requests (timestamp, input_tokens, output_tokens) VALUES (?, ?, ?)`,
  tierAdd: (safe: string) =>
    `INSERT INTO ${safe}_tier_pricing (tier_index, start_tokens, end_tokens, input_price_per_million, output_price_per_million) VALUES (?, ?, ?, ?, ?)`,
  tierUpdate: (safe: string) =>
    `UPDATE ${safe}_tier_pricing SET start_tokens = ?, end_tokens = ?, input_price_per_million = ?, output_price_per_million = ? WHERE tier_index = ?`,
  tierDelete: (safe: string) => `DELETE FROM ${safe}_tier_pricing WHERE tier_index = ?`,
  hourlyUpdate: (safe: string) => `UPDATE ${safe}_hourly_price SET hourly_price = ?`,
  methodUpdate: (safe: string) => `UPDATE ${safe}_billing_method SET use_tier_pricing = ?`,
  programStart: 'INSERT INTO program_runtime (start_time, end_time) VALUES (?, ?)',
  programEnd: 'UPDATE program_runtime SET end_time = ? WHERE id = (SELECT MAX(id) FROM program_runtime)',
  programAll: 'SELECT id, start_time, end_time FROM program_runtime ORDER BY id DESC',
  programLimit: 'SELECT id, start_time, end_time FROM program_runtime ORDER BY id DESC LIMIT ?',
  runtimeAll: (safe: string) => `SELECT id, start_time, end_time FROM ${safe}_runtime ORDER BY id DESC`,
  requestsAll: (safe: string) => `SELECT id, timestamp, input_tokens, output_tokens FROM ${safe}_requests ORDER BY id DESC`,
  requestsSince: (safe: string) => `SELECT id, timestamp, input_tokens, output_tokens FROM ${safe}_requests WHERE timestamp >= ? ORDER BY id DESC`,
  billingMethod: (safe: string) => `SELECT use_tier_pricing FROM ${safe}_billing_method WHERE id = 1`,
  billingHourly: (safe: string) => `SELECT hourly_price FROM ${safe}_hourly_price WHERE id = 1`,
  billingTiers: (safe: string) =>
    `SELECT tier_index, start_tokens, end_tokens, input_price_per_million, output_price_per_million FROM ${safe}_tier_pricing ORDER BY tier_index`,
  dropTables: (safe: string) =>
    ['runtime', 'requests', 'tier_pricing', 'hourly_price', 'billing_method'].map((t) => `DROP TABLE IF EXISTS ${safe}_${t}`),
  mappingDelete: 'DELETE FROM model_name_mapping WHERE original_name = ?',
};

/** The original's Monitor.__init__ for a list of configured models, statement by statement, in one commit. */
export function originalInit(db: Database.Database, models: string[]) {
  db.transaction(() => {
    for (const sql of ORIGINAL.init) db.prepare(sql).run();
    for (const name of models) {
      const safe = getSafeModelName(name);
      if ((db.prepare(ORIGINAL.mappingCount).pluck().get(name) as number) === 0) db.prepare(ORIGINAL.mappingInsert).run(name, safe);
      for (const sql of ORIGINAL.modelTables(safe)) db.prepare(sql).run();
      if ((db.prepare(ORIGINAL.defaultTierCount(safe)).pluck().get() as number) === 0) db.prepare(ORIGINAL.defaultTierInsert(safe)).run();
      if ((db.prepare(ORIGINAL.hourlyCount(safe)).pluck().get() as number) === 0) db.prepare(ORIGINAL.hourlyInsert(safe)).run();
      if ((db.prepare(ORIGINAL.methodCount(safe)).pluck().get() as number) === 0) db.prepare(ORIGINAL.methodInsert(safe)).run();
    }
  })();
}
