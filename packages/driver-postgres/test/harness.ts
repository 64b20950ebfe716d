import { Executor } from '@llm-monitor/core';
import type { DriverHarness } from '@llm-monitor/test-kit';
import { afterAll, inject } from 'vitest';
import { type PostgresDriverOptions, createPostgresDriver } from '../src/index.js';

export const PG_URL = process.env.LLM_MONITOR_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';
/** False when the server is unreachable and LLM_MONITOR_PG_SKIP=1 is set: every test is then skipped. */
export const pgAvailable = inject('pgAvailable');
/** What the skipped describe blocks say when there is no server. */
export const SUITE_TITLE = pgAvailable ? `PostgreSQL at ${PG_URL}` : `PostgreSQL at ${PG_URL} — SKIPPED: no server (LLM_MONITOR_PG_SKIP=1)`;

const prefix = `lmtest_${Date.now()}_${process.pid}`;
let n = 0;
const created: string[] = [];
let admin: Executor | undefined;

/** A new schema name for this test file (dropped after the file); `create: false` leaves creating it to the Monitor. */
export async function newSchema(options: { create?: boolean } = {}): Promise<string> {
  const name = `${prefix}_${++n}`;
  created.push(name);
  if (options.create ?? true) {
    admin ??= new Executor(createPostgresDriver(PG_URL, { max: 2 }));
    await admin.write((s) => s.run(`CREATE SCHEMA "${name}"`));
  }
  return name;
}

afterAll(async () => {
  if (created.length === 0) return;
  admin ??= new Executor(createPostgresDriver(PG_URL, { max: 2 }));
  for (const name of created.splice(0)) await admin.write((s) => s.run(`DROP SCHEMA IF EXISTS "${name}" CASCADE`));
  await admin.close();
  admin = undefined;
});

/** A driver on a new, empty schema of the test database. */
export async function freshDriver(options: Omit<PostgresDriverOptions, 'schema'> = {}) {
  return createPostgresDriver(PG_URL, { max: 4, ...options, schema: await newSchema() });
}

export const pgHarness: DriverHarness = {
  name: 'node-postgres',
  create: () => freshDriver(),
  // no fromBytes: a server database cannot load a SQLite file, so the suites skip the fixture tests
};
