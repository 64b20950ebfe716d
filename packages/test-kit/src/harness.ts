import type { Driver } from '@llm-monitor/core';

/**
 * How a driver package plugs into the shared suites. Every suite body runs unchanged on every engine;
 * a capability an engine lacks is declared here and the tests that need it are skipped visibly.
 */
export interface DriverHarness {
  /** Shown in test names, e.g. `better-sqlite3`. */
  name: string;
  /** A driver on a new, empty database. */
  create(): Promise<Driver>;
  /**
   * A driver on a writable copy of a SQLite file's bytes (the original's fixtures). Engines that cannot
   * load a SQLite file (a server database) leave it out, and fixture tests are skipped. With
   * `readOnly`, the driver must not write to the copy at all (no journal-mode change).
   */
  fromBytes?(bytes: Uint8Array, options?: { readOnly?: boolean }): Promise<Driver>;
}
