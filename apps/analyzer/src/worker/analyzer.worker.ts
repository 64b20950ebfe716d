import type { ModelBilling, ModelRunTime, Monitor, PricingOverrides, Series, Summary } from '@llm-monitor/core';
import { openWasmMonitor } from '@llm-monitor/driver-wasm';
import initSqlJs from 'sql.js';
import wasmUrl from 'sql.js/dist/sql-wasm-browser.wasm?url';
import type { DataSpan } from '../lib/range.js';
import { coveredSeconds } from '../lib/runs.js';
import {
  EVENTS_HEADER,
  MAX_FILE_BYTES,
  type OpenResult,
  type OpenSource,
  type OverviewQuery,
  type OverviewResult,
  type Progress,
  type RequestsQuery,
  type UserError,
  type WorkerMessage,
  type WorkerRequest,
  type WorkerResults,
} from './protocol.js';
import { RequestsTable } from './requests-table.js';
import { hasSqliteHeader, toUserError, tooLarge } from './user-error.js';

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
  header: 'sqlite' | 'other';
  /** Summaries by window and pricing; the one of the whole file is computed while opening. */
  summaries: Map<string, Summary>;
  requests: Promise<RequestsTable> | null;
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
    if (request.type === 'overview' || request.type === 'requests') {
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
    case 'overview':
      return overview(database(), request.query);
    case 'requests': {
      const table = await requestsTable(database());
      return { ...table.page(request.query), pageSize: request.query.pageSize };
    }
    case 'export-requests': {
      const table = await requestsTable(database());
      const { blob, rows } = table.export(request.query, request.format);
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
    if (bytes.length === 0)
      throw new Failure({
        kind: 'empty',
        title: 'This file is empty',
        message: `${fileName} is 0 bytes long, so it holds no database. It may have been copied while it was still being written, or be a placeholder: copy monitoring.db again.`,
        detail: 'size 0 bytes',
      });
    const header = hasSqliteHeader(bytes) ? 'sqlite' : 'other';
    progress('starting', 0.72, bytes.length, bytes.length);
    const SQL = await sqlReady.catch((error: unknown) => {
      throw new Failure({
        kind: 'internal',
        title: 'SQLite could not start',
        message: 'The WebAssembly build of SQLite failed to load. Reload the page; if this persists, the app was served without its .wasm file.',
        detail: String(error),
      });
    });
    progress('opening', 0.78, bytes.length, bytes.length);
    let opened;
    try {
      opened = await openWasmMonitor({ SQL, bytes, readOnly: true });
    } catch (error) {
      throw new Failure(toUserError(error, header));
    }
    const { monitor, walPatched } = opened;
    try {
      progress('analysing', 0.84, bytes.length, bytes.length);
      const description = await monitor.describe();
      const billing: Record<string, ModelBilling | null> = {};
      const modelRuns: Record<string, ModelRunTime[]> = {};
      for (const m of description.models) {
        billing[m.name] = await monitor.getModelBilling(m.name).catch(() => null);
        modelRuns[m.name] = await monitor.getModelRuntime(m.name).catch(() => []);
      }
      const programRuns = await monitor.getProgramRuntime();
      progress('analysing', 0.9, bytes.length, bytes.length);
      const whole = await monitor.summary({});
      progress('analysing', 1, bytes.length, bytes.length);
      const info: OpenResult = {
        fileName,
        size: bytes.length,
        walPatched,
        description,
        billing,
        span: dataSpan(whole, programRuns, modelRuns),
        programRuns,
        modelRuns,
        openMs: Math.round(performance.now() - started),
        liveEvents,
      };
      const previous = current;
      current = { monitor, info, header, summaries: new Map([[summaryKey(null, null, {}), whole]]), requests: null };
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

type ReportProgress = (phase: Progress['phase'], fraction: number, loaded: number, total: number) => void;

function progressReporter(id: number): ReportProgress {
  let last = 0;
  return (phase, fraction, loaded, total) => {
    const now = performance.now();
    if (phase === 'reading' && loaded < total && now - last < 50) return;
    last = now;
    post({ id, progress: { phase, fraction, loaded, total } });
  };
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

/**
 * The span of the models' activity (requests and runs), as core's `series` resolves an open window; the
 * program's runs only when no model has any. A program that ran for months before the first model
 * started would otherwise squeeze every chart into its right edge.
 */
function dataSpan(whole: Summary, programRuns: ModelRunTime[], modelRuns: Record<string, ModelRunTime[]>): DataSpan | null {
  const span = (runs: ModelRunTime[], requests: { first: number | null; last: number | null }) => {
    let first = requests.first ?? Number.POSITIVE_INFINITY;
    let last = requests.last ?? Number.NEGATIVE_INFINITY;
    for (const run of runs) {
      first = Math.min(first, run.startTime);
      last = Math.max(last, run.endTime);
    }
    return Number.isFinite(first) && Number.isFinite(last) ? { first, last } : null;
  };
  return (
    span(Object.values(modelRuns).flat(), { first: whole.total.firstRequestAt, last: whole.total.lastRequestAt }) ??
    span(programRuns, { first: null, last: null })
  );
}

// ---- queries -----------------------------------------------------------------------------------------

function summaryKey(from: number | null, to: number | null, pricing: PricingOverrides): string {
  return JSON.stringify([from, to, pricing]);
}

async function figures(db: OpenDatabase, query: OverviewQuery, pricing: PricingOverrides): Promise<{ summary: Summary; series: Series }> {
  const window = { ...(query.from === null ? {} : { from: query.from }), ...(query.to === null ? {} : { to: query.to }) };
  const key = summaryKey(query.from, query.to, pricing);
  let summary = db.summaries.get(key);
  if (!summary) {
    summary = await db.monitor.summary({ ...window, pricing });
    if (db.summaries.size >= 16) db.summaries.delete(db.summaries.keys().next().value!);
    db.summaries.set(key, summary);
  }
  const series = await db.monitor.series({ ...window, pricing, bucket: query.bucket, timeZone: query.timeZone });
  return { summary, series };
}

async function overview(db: OpenDatabase, query: OverviewQuery): Promise<OverviewResult> {
  const started = performance.now();
  const scenario = Object.keys(query.pricing).length > 0;
  const { summary, series } = await figures(db, query, query.pricing);
  const baseline = scenario ? await figures(db, query, {}) : null;
  const { span, programRuns, modelRuns } = db.info;
  const from = query.from ?? span?.first ?? 0;
  const to = query.to ?? (span ? span.last + 1 : from);
  return {
    summary,
    series,
    baseline,
    windowSeconds: Math.max(0, to - from),
    anyModelSeconds: coveredSeconds(Object.values(modelRuns).flat(), from, to),
    programSeconds: coveredSeconds(programRuns, from, to),
    ms: Math.round(performance.now() - started),
  };
}

function requestsTable(db: OpenDatabase): Promise<RequestsTable> {
  db.requests ??= RequestsTable.load(db.monitor, db.info.description.models);
  return db.requests;
}

function exportName(fileName: string, query: RequestsQuery, format: 'csv' | 'json'): string {
  const base = fileName.replace(/\.[^.]*$/, '') || 'monitoring';
  const model = query.model === null ? '' : `-${query.model.replace(/[^\p{L}\p{N}._-]+/gu, '_').slice(0, 60)}`;
  return `${base}-requests${model}.${format}`;
}
