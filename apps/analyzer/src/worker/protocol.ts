import type { Bucket, Compared, Description, InsightReport, ModelBilling, ModelRunTime, PricingOverrides, Series, Shape, Summary } from '@llm-monitor/core';
import type { CloudComparison } from '@llm-monitor/core/cloud';
import type { DataSpan } from '../lib/range.js';

/**
 * Messages between the page and the analysis worker. The page posts `{ id, request }`; the worker answers
 * with progress messages and then exactly one `ok` or `error` message with the same id. All numbers are
 * computed in the worker by core; the page only renders them.
 */

/** Files above this size are refused before reading: sql.js holds the whole file in memory, twice while opening. */
export const MAX_FILE_BYTES = 1024 ** 3;

/**
 * The response header by which `llm-monitor serve` names its change feed (Server-Sent Events) when it
 * sends the database; each `change` event means a new snapshot is ready at the same URL.
 */
export const EVENTS_HEADER = 'Llm-Monitor-Events';

export type OpenSource = { kind: 'file'; file: File } | { kind: 'url'; url: string };

export interface OverviewQuery {
  from: number | null;
  to: number | null;
  bucket: Bucket;
  timeZone: string;
  pricing: PricingOverrides;
}

export interface RequestsQuery {
  from: number | null;
  to: number | null;
  /** null: every model. */
  model: string | null;
  /** Time order: newest first when true. */
  descending: boolean;
  /** 0-based. */
  page: number;
  pageSize: number;
}

export interface InsightsQuery {
  from: number | null;
  to: number | null;
  timeZone: string;
  pricing: PricingOverrides;
  /** null: every model. */
  models: string[] | null;
  /** Catalog models to price the same requests at (`provider:model`); none: no comparison (the catalog is not loaded). */
  cloud: string[];
  /** What one unit of the file's currency is worth in USD; null: the saving is not known. */
  usdPerUnit: number | null;
}

export type WorkerRequest =
  | { type: 'open'; source: OpenSource }
  /** What the file is (layout, row counts, problems): read after the overview, for the File section. */
  | { type: 'describe' }
  | { type: 'overview'; query: OverviewQuery }
  /** Core's insight report of the range (and the cloud comparison), from the aggregation already held. */
  | { type: 'insights'; query: InsightsQuery }
  | { type: 'requests'; query: RequestsQuery }
  | { type: 'export-requests'; query: RequestsQuery; format: 'csv' | 'json' };

export interface OpenResult {
  fileName: string;
  size: number;
  /** The file was in WAL mode and is read from a copy with its header patched (a separate -wal file is not included). */
  walPatched: boolean;
  /** The models of the analysis, in the file's order (those core could scan). */
  models: { name: string; shape: Shape }[];
  /** Stored billing per model, as core prices it (null: the model has no usable billing rows). */
  billing: Record<string, ModelBilling | null>;
  span: DataSpan | null;
  programRuns: ModelRunTime[];
  modelRuns: Record<string, ModelRunTime[]>;
  /** Milliseconds from the start of reading until the file was open and described. */
  openMs: number;
  /**
   * Where the server announces changes of the file (Server-Sent Events), from the `Llm-Monitor-Events`
   * header `llm-monitor serve` sends with the database; null for a picked file or another server.
   */
  liveEvents: string | null;
}

export interface OverviewResult {
  summary: Summary;
  series: Series;
  /** With a what-if scenario: the same figures at the stored prices; null without one. */
  baseline: { summary: Summary; series: Series } | null;
  /** Length of the window shown (an open end is the file's first or last activity), seconds. */
  windowSeconds: number;
  /** Seconds of the window in which at least one model ran (runs merged, never summed). */
  anyModelSeconds: number;
  /** Seconds of the window in which the program ran (its runs merged). */
  programSeconds: number;
  ms: number;
}

export interface InsightsResult {
  report: InsightReport;
  /**
   * The present of the projection: the end of the data (the first 15-minute boundary after the last
   * activity, as the presets end), not the clock; an exported file is usually older than today.
   */
  now: number;
  /** The cloud comparison of the range beside the period before it; null without cloud models. */
  cloud: Compared<CloudComparison> | null;
  /** Cloud models the catalog does not know: core's error code and message, per model as typed. */
  cloudErrors: { ref: string; code: string; message: string }[];
  ms: number;
}

export interface RequestRow {
  id: number;
  model: string;
  timestamp: number;
  inputTokens: number;
  outputTokens: number;
  cacheN: number;
  promptN: number;
}

export interface RequestsResult {
  rows: RequestRow[];
  /** Rows matching the filter and range, over all pages. */
  total: number;
  page: number;
  pageSize: number;
}

export interface ExportResult {
  blob: Blob;
  fileName: string;
  rows: number;
}

export interface WorkerResults {
  open: OpenResult;
  describe: Description;
  overview: OverviewResult;
  insights: InsightsResult;
  requests: RequestsResult;
  'export-requests': ExportResult;
}

export type ErrorKind =
  | 'empty'
  | 'not-a-database'
  | 'not-a-monitor-db'
  | 'corrupt'
  | 'too-large'
  | 'out-of-memory'
  | 'fetch'
  | 'invalid-input'
  | 'superseded'
  | 'internal';

/** An error as the page shows it: a title and a sentence a user understands, and the technical detail. */
export interface UserError {
  kind: ErrorKind;
  title: string;
  message: string;
  /** core's error code and message, or the engine's. */
  detail: string;
  /** The model an invalid what-if setting belongs to. */
  model?: string;
  /** The file the error is about, as the user named or picked it. */
  file?: string;
}

export interface Progress {
  phase: 'reading' | 'starting' | 'opening' | 'analysing';
  /** What is being done, e.g. the model being scanned. */
  detail?: string;
  /** 0..1 over the whole open. */
  fraction: number;
  loaded: number;
  total: number;
}

export type WorkerMessage =
  | { id: number; progress: Progress }
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: UserError };
