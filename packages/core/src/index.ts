export { Monitor, type MonitorOptions, type ProgramSession, type SeriesOptions, type SummaryOptions } from './monitor/monitor.js';
export type { BucketUsage, ModelSummary, Series, SeriesBucket, Summary, UsageTotals } from './analytics/report.js';
export { MAX_BUCKETS } from './analytics/report.js';
export type { Description, ModelDescription } from './analytics/describe.js';
export { tierProblems, type PricingOverride, type PricingOverrides, type TierProblem, type TierWindowInput } from './analytics/pricing.js';
export { BUCKETS, type Bucket, bucketBoundaries, zoneOffset } from './analytics/time-zone.js';
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
export { postgresDialect } from './driver/postgres-dialect.js';
export { Executor, type ExecutorOptions, type Session } from './driver/executor.js';
