import { Executor } from '@llm-monitor/core';
import type { TestProject } from 'vitest/node';
import { createPostgresDriver } from '../src/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** False when the server is unreachable and LLM_MONITOR_PG_SKIP=1 asked to skip instead of failing. */
    pgAvailable: boolean;
  }
}

const PG_URL = process.env.LLM_MONITOR_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';

/** Test schemas are named `lmtest_<epoch ms>_…`; ones a crashed run left behind are dropped after an hour. */
const STALE_MS = 3_600_000;

export default async function setup(project: TestProject): Promise<void> {
  const executor = new Executor(createPostgresDriver(PG_URL, { max: 1, connectionTimeoutMillis: 5000 }));
  try {
    const stale = await executor.read((s) => s.query("SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname LIKE 'lmtest\\_%'"));
    for (const { nspname } of stale) {
      const created = Number(String(nspname).split('_')[1]);
      if (Date.now() - created > STALE_MS) await executor.write((s) => s.run(`DROP SCHEMA IF EXISTS "${String(nspname)}" CASCADE`));
    }
    project.provide('pgAvailable', true);
  } catch (error) {
    const reason = (error as Error).message;
    if (process.env.LLM_MONITOR_PG_SKIP !== '1')
      throw new Error(
        [
          `The PostgreSQL tests of @llm-monitor/driver-postgres need a server, and none answers at ${PG_URL} (${reason}).`,
          'Start one, e.g. on Debian/Ubuntu: `apt-get install -y postgresql && pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`',
          'and `su postgres -c "createdb test"` (see the package README for the password), or point LLM_MONITOR_PG_URL at a server.',
          'To skip these tests instead, set LLM_MONITOR_PG_SKIP=1.',
        ].join('\n'),
      );
    console.warn(
      `\n[driver-postgres] SKIPPING every PostgreSQL test: no server at ${PG_URL} (${reason}) and LLM_MONITOR_PG_SKIP=1 is set.\n`,
    );
    project.provide('pgAvailable', false);
  } finally {
    await executor.close();
  }
}
