/**
 * Every failure the Monitor reports is a `MonitorError` with a `code` from this union, so callers can
 * branch on `error.code` instead of parsing messages:
 *
 * - `INVALID_INPUT`      a value was rejected before anything was written (the message names it).
 * - `UNKNOWN_MODEL`      the model is not registered (and auto-registration does not apply).
 * - `DUPLICATE_TIER`     `addTierPricing` with a tier index the model already has.
 * - `TIER_NOT_FOUND`     `updateTierPricing` of a tier index the model does not have.
 * - `SCHEMA_MISMATCH`    the model's tables have a layout this Monitor reads but does not write.
 * - `NOT_A_MONITOR_DB`   the database holds tables, but none that a monitor wrote.
 * - `NOT_A_DATABASE`     the file is not a database at all (or is corrupt).
 * - `READ_ONLY`          a write on a Monitor opened with `readOnly: true`.
 * - `CLOSED`             any call after `close()`.
 * - `BUSY`               another writer held the database lock for longer than the retry budget.
 * - `UNAVAILABLE`        the connection to the database server was lost (a restart, a failover, an
 *                        administrator ending it) and no new one worked within the retry budget; nothing of
 *                        the call was written.
 * - `COMMIT_UNKNOWN`     the connection was lost while COMMIT was in flight and whether it took effect could
 *                        not be established (the server stayed unreachable for the retry budget): the call's
 *                        writes may or may not be there. Look before writing them again.
 * - `CONSTRAINT`         the engine rejected a write for a constraint the Monitor did not pre-check.
 * - `MISSING_TABLE`      a table the Monitor expected is gone (another process deleted the model).
 * - `UNSAFE_TRIGGERS`    opening for writing a database whose monitor tables carry triggers (they would run
 *                        on every write); `error.value` names them. Open read-only, or pass `dropTriggers`.
 * - `TARGET_NOT_EMPTY`   `copyDatabase` into a database that already holds models or program runs.
 * - `COPY_MISMATCH`      `copyDatabase` found the copy different from its source (`error.value` lists how).
 * - `DRIVER`             any other engine error; the engine's error is kept as `cause`.
 */
export type MonitorErrorCode =
  | 'INVALID_INPUT'
  | 'UNKNOWN_MODEL'
  | 'DUPLICATE_TIER'
  | 'TIER_NOT_FOUND'
  | 'SCHEMA_MISMATCH'
  | 'NOT_A_MONITOR_DB'
  | 'NOT_A_DATABASE'
  | 'READ_ONLY'
  | 'CLOSED'
  | 'BUSY'
  | 'UNAVAILABLE'
  | 'COMMIT_UNKNOWN'
  | 'CONSTRAINT'
  | 'MISSING_TABLE'
  | 'UNSAFE_TRIGGERS'
  | 'TARGET_NOT_EMPTY'
  | 'COPY_MISMATCH'
  | 'DRIVER';

export interface MonitorErrorDetails {
  /** The model the failing call was about, when there is one. */
  model?: string;
  /** The rejected value or the offending field, when there is one. */
  value?: unknown;
  /** The engine's own error. */
  cause?: unknown;
}

/**
 * The one error class of llm-monitor. Check it with {@link isMonitorError} (by `name`, not
 * `instanceof`, so two installed copies of core still agree).
 */
export class MonitorError extends Error {
  override readonly name = 'MonitorError';
  readonly code: MonitorErrorCode;
  readonly model: string | undefined;
  readonly value: unknown;

  constructor(code: MonitorErrorCode, message: string, details: MonitorErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.model = details.model;
    this.value = details.value;
  }
}

export function isMonitorError(error: unknown, code?: MonitorErrorCode): error is MonitorError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { name?: unknown }).name === 'MonitorError' &&
    typeof (error as { code?: unknown }).code === 'string' &&
    (code === undefined || (error as { code: unknown }).code === code)
  );
}

/** Quotes a model name or value for an error message, so empty strings and whitespace stay visible. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === undefined) return 'undefined';
  try {
    const json = JSON.stringify(value);
    return json.length > 200 ? `${json.slice(0, 200)}…` : json;
  } catch {
    return Object.prototype.toString.call(value);
  }
}
