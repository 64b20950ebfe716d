import {
  type Aggregation,
  type ModelAggregate,
  type ModelBilling,
  type ModelRunTime,
  type Monitor,
  type PricingOverrides,
  type Series,
  type SeriesReportOptions,
  type SqliteFileKind,
  type Summary,
  compare,
  dataSpan,
  insightReport,
  isMonitorError,
  notASqliteFile,
  readSqliteHeader,
  rescanNeeded,
  seriesOf,
  summarize,
} from '@llm-monitor/core';
import { openWasmMonitor } from '@llm-monitor/driver-wasm';
import initSqlJs from 'sql.js';
import wasmUrl from 'sql.js/dist/sql-wasm-browser.wasm?url';
import { type DataSpan, GRID_SECONDS, snapDown } from '../lib/range.js';
import { coveredSeconds } from '../lib/runs.js';
import {
  EVENTS_HEADER,
  MAX_FILE_BYTES,
  type OpenResult,
  type OpenSource,
  type InsightsQuery,
  type InsightsResult,
  type OverviewQuery,
  type OverviewResult,
  type Progress,
  type RequestsQuery,
  type UserError,
  type WorkerMessage,
  type WorkerRequest,
  type WorkerResults,
} from './protocol.js';
import { RequestPages } from './requests-pages.js';
import { toUserError, tooLarge } from './user-error.js';

/**
 * The analysis worker: reads the file, runs sql.js and core, and answers the page's queries. The page
 * never touches the database; nothing here makes a request other than for the app's own wasm file and a
 * same-origin `?url=` file.
 */

/** The parts of the worker's global scope used here (the DOM and WebWorker libs do not mix in one program). */
declare const self: {
  location: Location;
  onmessage: ((event: MessageEvent<{ id: number; request: WorkerRequest }>) => void) | null;
  postMessage(message: WorkerMessage): void;
};

// Fetch and compile the wasm as soon as the page loads, while the user is still picking a file.
const sqlReady = initSqlJs({ locateFile: () => wasmUrl });
sqlReady.catch(() => undefined);

interface OpenDatabase {
  monitor: Monitor;
  info: OpenResult;
  header: SqliteFileKind;
  /**
   * The one scan of the file: every model's requests per 15-minute slot and tier. Every range, bucket,
   * zone and price-only what-if is answered from it without touching SQLite again.
   */
  aggregation: Aggregation;
  /** Models scanned again for a what-if that moves tier bounds, by model and override (the last few). */
  rescans: Map<string, ModelAggregate>;
  /** Stored-price figures by window, bucket and zone (the last few): a price edit leaves them as they are. */
  baselines: Map<string, { summary: Summary; series: Series }>;
  requests: RequestPages;
}

let current: OpenDatabase | null = null;

class Failure extends Error {
  constructor(readonly error: UserError) {
    super(error.message);
  }
}

// ---- messages ----------------------------------------------------------------------------------------

/** The latest id per query type: an overview or page asked for before a newer one is answered "superseded". */
const latest = new Map<string, number>();
let queue: Promise<void> = Promise.resolve();

self.onmessage = (event: MessageEvent<{ id: number; request: WorkerRequest }>) => {
  const { id, request } = event.data;
  latest.set(request.type, id);
  queue = queue.then(() => handle(id, request));
};

function post(message: WorkerMessage): void {
  self.postMessage(message);
}

async function handle(id: number, request: WorkerRequest): Promise<void> {
  try {
    if (request.type === 'overview' || request.type === 'insights' || request.type === 'requests') {
      // let queued messages arrive, then skip this one if a newer one of its kind is waiting
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (latest.get(request.type) !== id) throw new Failure({ kind: 'superseded', title: 'Superseded', message: 'A newer query replaced this one.', detail: '' });
    }
    const result = await answer(id, request);
    post({ id, ok: true, result });
  } catch (error) {
    const userError = error instanceof Failure ? error.error : toUserError(error, current?.header ?? 'unknown');
    if (userError.kind === 'internal') console.error(error);
    post({ id, ok: false, error: userError });
  }
}

async function answer<T extends WorkerRequest['type']>(id: number, request: WorkerRequest & { type: T }): Promise<WorkerResults[T]>;
async function answer(id: number, request: WorkerRequest): Promise<WorkerResults[keyof WorkerResults]> {
  switch (request.type) {
    case 'open':
      return open(id, request.source);
    case 'describe':
      return database().monitor.describe();
    case 'overview':
      return overview(database(), request.query);
    case 'insights':
      return insights(database(), request.query);
    case 'requests':
      return { ...(await database().requests.page(request.query)), pageSize: request.query.pageSize };
    case 'export-requests': {
      const { blob, rows } = await database().requests.export(request.query, request.format);
      return { blob, rows, fileName: exportName(database().info.fileName, request.query, request.format) };
    }
  }
}

function database(): OpenDatabase {
  if (!current) throw new Failure({ kind: 'internal', title: 'No file is open', message: 'Open a monitoring database first.', detail: '' });
  return current;
}

// ---- opening -----------------------------------------------------------------------------------------

async function open(id: number, source: OpenSource): Promise<OpenResult> {
  const started = performance.now();
  const progress = progressReporter(id);
  const name = source.kind === 'file' ? source.file.name : decodeURIComponent(new URL(source.url, self.location.href).pathname.split('/').pop() || source.url);
  // the file shown stays open (and on the page) until this one has opened: a bad file keeps the analysis
  try {
    const { bytes, fileName, liveEvents } = await read(source, progress);
    const { kind: header } = readSqliteHeader(bytes);
    if (header === 'empty')
      throw new Failure({
        kind: 'empty',
        title: 'This file is empty',
        message: `${fileName} is 0 bytes long, so it holds no database. It may have been copied while it was still being written, or be a placeholder: copy monitoring.db again.`,
        detail: 'size 0 bytes',
      });
    if (header === 'other') throw new Failure(toUserError(notASqliteFile(fileName, bytes.length), header));
    progress('starting', 0.72, bytes.length, bytes.length);
    const SQL = await sqlReady.catch((error: unknown) => {
      throw new Failure({
        kind: 'internal',
        title: 'SQLite could not start',
        message: 'The WebAssembly build of SQLite failed to load. Reload the page; if this persists, the app was served without its .wasm file.',
        detail: String(error),
      });
    });
    progress('opening', 0.76, bytes.length, bytes.length);
    let opened;
    try {
      opened = await openWasmMonitor({ SQL, bytes, readOnly: true });
    } catch (error) {
      throw new Failure(toUserError(error, header));
    }
    const { monitor, walPatched } = opened;
    try {
      const programRuns = await monitor.getProgramRuntime();
      const names = (await monitor.listModels()).map((m) => m.name);
      const aggregation = await aggregateWithProgress(monitor, names, (done, total, model) =>
        progress('analysing', 0.8 + (0.2 * done) / Math.max(1, total), bytes.length, bytes.length, model === null ? undefined : `model ${done + 1} of ${total}: ${model}`),
      );
      // the scan brings each model's shape, billing and runs: the file's full description waits for the File section
      const billing: Record<string, ModelBilling | null> = {};
      const modelRuns: Record<string, ModelRunTime[]> = {};
      for (const m of aggregation.models) {
        billing[m.name] = m.storedBilling;
        modelRuns[m.name] = m.runs.map((r, id) => ({ id, startTime: r.start, endTime: r.end }));
      }
      const info: OpenResult = {
        fileName,
        size: bytes.length,
        walPatched,
        models: aggregation.models.map((m) => ({ name: m.name, shape: m.shape })),
        billing,
        span: dataSpan(aggregation) ?? programSpan(programRuns),
        programRuns,
        modelRuns,
        openMs: Math.round(performance.now() - started),
        liveEvents,
      };
      const previous = current;
      current = { monitor, info, header, aggregation, rescans: new Map(), baselines: new Map(), requests: new RequestPages(monitor, aggregation) };
      await previous?.monitor.close().catch(() => undefined);
      return info;
    } catch (error) {
      await monitor.close().catch(() => undefined);
      throw new Failure(toUserError(error, header));
    }
  } catch (error) {
    const userError = error instanceof Failure ? error.error : toUserError(error);
    throw new Failure({ ...userError, file: name });
  }
}

type ReportProgress = (phase: Progress['phase'], fraction: number, loaded: number, total: number, detail?: string) => void;

function progressReporter(id: number): ReportProgress {
  let last = 0;
  return (phase, fraction, loaded, total, detail) => {
    const now = performance.now();
    if (phase === 'reading' && loaded < total && now - last < 50) return;
    last = now;
    post({ id, progress: { phase, fraction, loaded, total, ...(detail ? { detail } : {}) } });
  };
}

/**
 * The whole file's aggregation, one model at a time so that the progress names each, then merged: an
 * aggregation is plain data, and per-model scans are exactly the parts `monitor.aggregate()` joins.
 */
async function aggregateWithProgress(monitor: Monitor, models: string[], progress: (done: number, total: number, model: string | null) => void): Promise<Aggregation> {
  const parts: Aggregation[] = [];
  for (const [done, model] of models.entries()) {
    progress(done, models.length, model);
    parts.push(await monitor.aggregate({ models: [model] }));
  }
  progress(models.length, models.length, null);
  if (parts.length === 0) return monitor.aggregate();
  return { ...parts[0]!, models: parts.flatMap((p) => p.models), problems: [...new Set(parts.flatMap((p) => p.problems))] };
}

async function read(source: OpenSource, progress: ReportProgress): Promise<{ bytes: Uint8Array; fileName: string; liveEvents: string | null }> {
  if (source.kind === 'file') {
    const { file } = source;
    if (file.size > MAX_FILE_BYTES) throw new Failure(tooLarge(file.size));
    const bytes = new Uint8Array(file.size);
    await pump(file.stream().getReader(), (chunk, offset) => bytes.set(chunk, offset), file.size, progress);
    return { bytes, fileName: file.name, liveEvents: null };
  }
  const url = new URL(source.url, self.location.href);
  if (url.origin !== self.location.origin)
    throw new Failure({
      kind: 'fetch',
      title: 'Only files from this site can be opened by link',
      message: `?url= must point to a file on ${self.location.origin}; the analyzer never fetches from other sites. Download the file and open it with the file picker instead.`,
      detail: url.href,
    });
  let response: Response;
  try {
    response = await fetch(url, { credentials: 'same-origin' });
  } catch (error) {
    throw new Failure({ kind: 'fetch', title: 'The file could not be downloaded', message: `Fetching ${url.pathname} failed.`, detail: String(error) });
  }
  if (!response.ok || !response.body)
    throw new Failure({
      kind: 'fetch',
      title: 'The file could not be downloaded',
      message: `${url.pathname} answered ${response.status} ${response.statusText}.`,
      detail: url.href,
    });
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > MAX_FILE_BYTES) throw new Failure(tooLarge(declared));
  const chunks: Uint8Array[] = [];
  const size = await pump(
    response.body.getReader(),
    (chunk, offset) => {
      if (offset + chunk.length > MAX_FILE_BYTES) throw new Failure(tooLarge(offset + chunk.length));
      chunks.push(chunk);
    },
    declared,
    progress,
  );
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  const fileName = decodeURIComponent(url.pathname.split('/').pop() || 'download.db');
  const events = response.headers.get(EVENTS_HEADER);
  const liveEvents = events && new URL(events, url).origin === self.location.origin ? new URL(events, url).href : null;
  return { bytes, fileName, liveEvents };
}

async function pump(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  sink: (chunk: Uint8Array, offset: number) => void,
  total: number,
  progress: ReportProgress,
): Promise<number> {
  let offset = 0;
  progress('reading', 0, 0, total);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    sink(value, offset);
    offset += value.length;
    progress('reading', total > 0 ? (0.7 * offset) / total : 0.35, offset, total);
  }
  progress('reading', 0.7, offset, offset);
  return offset;
}

/** The program's runs' span: what presets and open ranges use when no model has any activity. */
function programSpan(runs: readonly ModelRunTime[]): DataSpan | null {
  if (runs.length === 0) return null;
  return { first: runs.reduce((t, r) => Math.min(t, r.startTime), Infinity), last: runs.reduce((t, r) => Math.max(t, r.endTime), -Infinity) };
}

// ---- queries -----------------------------------------------------------------------------------------

/**
 * The aggregation that prices `pricing`: the file's, with the models whose what-if moves tier bounds
 * replaced by a scan of their own with that pricing (kept for the next edits of prices only).
 */
async function pricedAggregation(db: OpenDatabase, pricing: PricingOverrides): Promise<Aggregation> {
  const rescan = rescanNeeded(db.aggregation, pricing);
  if (rescan.length === 0) return db.aggregation;
  const replaced = new Map<string, ModelAggregate>();
  for (const name of rescan) replaced.set(name, await rescanModel(db, name, pricing, []));
  return { ...db.aggregation, models: db.aggregation.models.map((m) => replaced.get(m.name) ?? m) };
}

/**
 * One model scanned again on its own, with its what-if pricing (when it has one) and split at
 * `inputBounds`; the last 8 such scans are kept for the queries that follow (edits of prices only).
 */
async function rescanModel(db: OpenDatabase, name: string, pricing: PricingOverrides, inputBounds: readonly number[]): Promise<ModelAggregate> {
  const override = pricing[name];
  const key = JSON.stringify([name, override ?? null, inputBounds]);
  let model = db.rescans.get(key);
  if (!model) {
    [model] = (await db.monitor.aggregate({ models: [name], ...(override ? { pricing: { [name]: override } } : {}), ...(inputBounds.length > 0 ? { inputBounds } : {}) })).models;
    if (db.rescans.size >= 8) db.rescans.delete(db.rescans.keys().next().value!);
    db.rescans.set(key, model!);
  }
  return model!;
}

function storedFigures(db: OpenDatabase, window: { from?: number; to?: number }, series: SeriesReportOptions): { summary: Summary; series: Series } {
  const key = JSON.stringify(series);
  let figures = db.baselines.get(key);
  if (!figures) {
    figures = { summary: summarize(db.aggregation, window), series: seriesOf(db.aggregation, series) };
    if (db.baselines.size >= 8) db.baselines.delete(db.baselines.keys().next().value!);
    db.baselines.set(key, figures);
  }
  return figures;
}

async function overview(db: OpenDatabase, query: OverviewQuery): Promise<OverviewResult> {
  const started = performance.now();
  const window = { ...(query.from === null ? {} : { from: query.from }), ...(query.to === null ? {} : { to: query.to }) };
  const scenario = Object.keys(query.pricing).length > 0;
  const priced = await pricedAggregation(db, query.pricing);
  const series = { ...window, bucket: query.bucket, timeZone: query.timeZone };
  const summary = summarize(priced, { ...window, pricing: query.pricing });
  const baseline = scenario ? storedFigures(db, window, series) : null;
  const { span, programRuns, modelRuns } = db.info;
  const from = query.from ?? span?.first ?? 0;
  const to = query.to ?? (span ? span.last + 1 : from);
  return {
    summary,
    series: seriesOf(priced, { ...series, pricing: query.pricing }),
    baseline,
    windowSeconds: Math.max(0, to - from),
    anyModelSeconds: coveredSeconds(Object.values(modelRuns).flat(), from, to),
    programSeconds: coveredSeconds(programRuns, from, to),
    ms: Math.round(performance.now() - started),
  };
}

/** The catalog of cloud prices (about 800 kB of data): loaded on the first comparison, never before. */
let cloudModule: Promise<typeof import('@llm-monitor/core/cloud')> | null = null;

/**
 * The aggregation `priced` with every model whose groups straddle one of the cloud models' input bounds
 * (their tier thresholds and context windows) scanned again, split there: the one scan of the file does
 * not know those bounds, and a straddling group cannot be priced by the catalog. Usually none straddle.
 */
async function cloudAggregation(db: OpenDatabase, priced: Aggregation, pricing: PricingOverrides, bounds: readonly number[]): Promise<Aggregation> {
  if (bounds.length === 0) return priced;
  const straddles = (m: ModelAggregate) => {
    const { minInput, maxInput, length } = m.groups;
    for (let i = 0; i < length; i++) for (const b of bounds) if (minInput[i]! < b && maxInput[i]! >= b) return true;
    return false;
  };
  const models = await Promise.all(priced.models.map((m) => (straddles(m) ? rescanModel(db, m.name, pricing, bounds) : m)));
  return { ...priced, models, inputBounds: [...bounds] };
}

/**
 * Core's insight report of the range from the aggregation already held (it covers the whole file, so the
 * period before the range and the month of the projection need no other scan), and, when cloud models
 * are asked for, the comparison with their catalog prices.
 */
async function insights(db: OpenDatabase, query: InsightsQuery): Promise<InsightsResult> {
  const started = performance.now();
  const window = { ...(query.from === null ? {} : { from: query.from }), ...(query.to === null ? {} : { to: query.to }) };
  const selection = { ...(query.models === null ? {} : { models: query.models }), ...(Object.keys(query.pricing).length > 0 ? { pricing: query.pricing } : {}) };
  const priced = await pricedAggregation(db, query.pricing);
  const span = db.info.span;
  const now = span ? snapDown(span.last) + GRID_SECONDS : snapDown(Date.now() / 1000);
  const report = insightReport(priced, { ...window, ...selection, now, timeZone: query.timeZone });
  let cloud: InsightsResult['cloud'] = null;
  const cloudErrors: InsightsResult['cloudErrors'] = [];
  if (query.cloud.length > 0) {
    const prices = await (cloudModule ??= import('@llm-monitor/core/cloud'));
    const targets = [];
    for (const ref of query.cloud) {
      try {
        targets.push(prices.cloudModel(ref));
      } catch (error) {
        if (!isMonitorError(error)) throw error;
        cloudErrors.push({ ref, code: error.code, message: error.message });
      }
    }
    if (targets.length > 0) {
      const scan = await cloudAggregation(db, priced, query.pricing, prices.cloudInputBounds(targets));
      const options = { ...selection, targets, ...(query.usdPerUnit === null ? {} : { usdPerUnit: query.usdPerUnit }) };
      const current = prices.compareWithCloud(scan, { ...options, ...window });
      cloud = compare(current, report.previous && prices.compareWithCloud(scan, { ...options, ...report.previous }));
    }
  }
  return { report, now, cloud, cloudErrors, ms: Math.round(performance.now() - started) };
}

function exportName(fileName: string, query: RequestsQuery, format: 'csv' | 'json'): string {
  const base = fileName.replace(/\.[^.]*$/, '') || 'monitoring';
  const model = query.model === null ? '' : `-${query.model.replace(/[^\p{L}\p{N}._-]+/gu, '_').slice(0, 60)}`;
  return `${base}-requests${model}.${format}`;
}
