export { Monitor, type AggregateOptions, type MonitorOptions, type ProgramSession, type SeriesOptions, type SummaryOptions } from './monitor/monitor.js';
export type { Aggregation, ModelAggregate, Run, ScanSplits, SlotGroups } from './analytics/aggregate.js';
export { MAX_SPLITS } from './analytics/aggregate.js';
export type { BucketUsage, ModelSummary, ReportOptions, Series, SeriesBucket, SeriesReportOptions, Summary, UsageTotals } from './analytics/report.js';
export { MAX_BUCKETS, dataSpan, rescanNeeded, seriesOf, summarize } from './analytics/report.js';
export type { Description, ModelDescription } from './analytics/describe.js';
export { type Cells, type Compared, type ComparedCells, type ComparedFigure, type Figure, type Unit, compare } from './insights/figure.js';
export {
  type BillingAdvice,
  type CacheSavings,
  type HourOfWeek,
  type IdleMoney,
  type InsightOptions,
  type Insights,
  type ModelInsights,
  type TierRow,
  type TotalInsights,
  type Usage,
  insightsOf,
} from './insights/insights.js';
export { WEEK_CELLS, WEEKDAYS } from './insights/hour-of-week.js';
export {
  PROJECTION_BASIS_DAYS,
  type InsightReport,
  type InsightReportOptions,
  type InsightScan,
  type InsightScanOptions,
  type ProjectedCost,
  type Projection,
  insightReport,
  insightScan,
} from './insights/period.js';
export { tierProblems, tierWindowProblems, type TierProblem, uncoveredInputs, type UncoveredInputs } from './pricing/tiers.js';
export { pricingProblems, type PricingOverride, type PricingOverrides, type PricingProblem, type TierWindowInput } from './pricing/override.js';
export { BUCKETS, type Bucket, bucketBoundaries, checkTimeZone, localTimeZone, zoneOffset } from './time/time-zone.js';
export { bucketLabel, epochToWall, formatDateTime, parseTime, wallToEpoch } from './time/wall-clock.js';
export { checkCurrency, costDecimals, formatCost, formatDuration, formatNumber } from './format/numbers.js';
export { type CsvValue, csvField, csvLine } from './format/csv.js';
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
export { MAX_EPOCH_SECONDS, looksLikeMilliseconds } from './monitor/validate.js';
export { getSafeModelName } from './schema/safe-name.js';
export { USER_VERSION } from './schema/layouts/native.js';
export { copyDatabase, type CopiedModel, type CopyOptions, type CopyReport } from './copy/copy-database.js';
export { MonitorError, isMonitorError, type MonitorErrorCode, type MonitorErrorDetails } from './errors.js';
export type { DatabaseConnection, Driver, Row, RunResult, SqlValue } from './driver/driver.js';
export { sqliteDialect, type Dialect, type EngineErrorKind } from './driver/dialect.js';
export { postgresDialect } from './driver/postgres-dialect.js';
export { Executor, type ExecutorOptions, type Session } from './driver/executor.js';
export { SQLITE_HEADER_BYTES, type SqliteFileKind, type SqliteHeader, notASqliteFile, readSqliteHeader, sqliteOpenError, withRollbackHeader } from './driver/sqlite-file.js';
export { STATEMENT_CACHE_SIZE, StatementCache } from './driver/statement-cache.js';
