import { createRequire } from 'node:module';
import type { DriverHarness } from '@llm-monitor/test-kit';
import initSqlJs from 'sql.js';
import { createWasmDriver } from '../src/index.js';

// In Node, sql.js's default entry loads dist/sql-wasm.wasm; the caller says where it is, as a browser app would.
const wasmPath = createRequire(import.meta.url).resolve('sql.js/dist/sql-wasm.wasm');

export const SQL = await initSqlJs({ locateFile: () => wasmPath });

export const wasmHarness: DriverHarness = {
  name: 'sql.js',
  async create() {
    return createWasmDriver(SQL);
  },
  async fromBytes(bytes) {
    return createWasmDriver(SQL, { bytes });
  },
};
