export { Monitor, type MonitorOptions } from './monitor/monitor.js';
export type {
  ModelBilling,
  ModelInfo,
  ModelRequest,
  ModelRunTime,
  RequestInput,
  Shape,
  TierInput,
  TierPricing,
  TierWindow,
} from './monitor/types.js';
export { MAX_EPOCH_SECONDS } from './monitor/validate.js';
export { getSafeModelName } from './schema/safe-name.js';
export { USER_VERSION } from './schema/native.js';
export { MonitorError, isMonitorError, type MonitorErrorCode, type MonitorErrorDetails } from './errors.js';
export type { DatabaseConnection, Driver, Row, RunResult, SqlValue } from './driver/driver.js';
export { sqliteDialect, type Dialect, type EngineErrorKind } from './driver/dialect.js';
export { Executor, type ExecutorOptions, type Session } from './driver/executor.js';
