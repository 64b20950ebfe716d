import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DriverHarness } from '@llm-monitor/test-kit';
import { afterAll } from 'vitest';
import { createNodeDriver } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'llm-monitor-node-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** A new file path in this test file's temp folder. */
export function tempPath(name = 'db'): string {
  return join(dir, `${name}-${++n}.db`);
}

export const nodeHarness: DriverHarness = {
  name: 'better-sqlite3 (file)',
  async create() {
    return createNodeDriver(tempPath());
  },
  async fromBytes(bytes, options) {
    const path = tempPath('fixture');
    writeFileSync(path, bytes);
    return createNodeDriver(path, { readOnly: options?.readOnly });
  },
};
