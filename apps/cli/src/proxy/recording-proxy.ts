import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { type ApiFamily, apiOf } from './apis.js';
import { type ForwardOutcome, createUpstream, fetchFirstModel, forward, readRequestBody, requestTarget } from './forward.js';
import { inspectRequest } from './llm-api.js';
import { type NotRecordedReason, ProxyMetrics } from './metrics.js';
import { type ProxyMonitor, Recorder } from './recorder.js';
import { NO_TOKENS, type TokenUsage, hasTokens } from './usage.js';

export interface RecordingProxyOptions {
  /**
   * The LLM server to forward to, e.g. `http://127.0.0.1:8080` (llama.cpp). A path in it is put before
   * every forwarded path: `http://host/base` sends `/v1/models` to `http://host/base/v1/models`.
   */
  upstream: string | URL;
  /** Where requests and runtime are recorded: a `Monitor` (e.g. from `openMonitor()`). The proxy never closes it. */
  monitor: ProxyMonitor;
  /** Record every request under this model name. Default: the request body's `model`, else the first model the upstream lists at `/v1/models`. */
  model?: string;
  /** How often open runs get their end time moved to now. Default 10 000 ms. */
  heartbeatMs?: number;
  /** A model's run ends this long after its last recorded request (its next request starts a new run). Default 300 000 ms (5 minutes). */
  modelIdleMs?: number;
  /** Models this proxy has not recorded before that it starts recording per minute, at most; requests of further new models are forwarded and not recorded (logged). Default 60. */
  maxNewModelsPerMinute?: number;
  /** The largest request body accepted; a larger one is answered with 413, without reading it. Default 32 MiB. */
  maxRequestBytes?: number;
  /** The largest non-streamed response read for its usage (and streamed event); larger ones are forwarded but not recorded. Default 64 MiB. */
  maxBodyBytes?: number;
  /** How long an idle connection to the upstream is kept for the next request; keep it below the upstream's own idle timeout. Default 4 000 ms. */
  upstreamIdleTimeoutMs?: number;
  /** Connections to the upstream at most; further requests wait for one. Default 512. */
  maxUpstreamSockets?: number;
  /** Answer `GET /metrics` (after the mount path) with Prometheus metrics instead of forwarding it. Default false. */
  metrics?: boolean;
  /** Where problems go (a failed write, an unreadable response); they never reach clients. Default `console.warn`. */
  log?: (message: string) => void;
}

/**
 * A request handler that forwards every request to the upstream and records the token usage of LLM
 * calls into a Monitor. Mount it as a whole server (`http.createServer(proxy)`, or `createProxyServer`
 * with connection limits) or as middleware (`app.use('/llm', proxy)` in Express or Connect, which strip
 * the mount path from `req.url`); it answers every request itself and never calls `next`. Mount it
 * before any body parser; if one ran anyway, the proxy forwards `req.body` re-serialized.
 */
export interface RecordingProxy {
  (req: IncomingMessage, res: ServerResponse): void;
  /** Records the start of the program run and starts the heartbeat. Optional: without it, model runs and requests are still recorded. */
  start(): Promise<void>;
  /** Resolves when every exchange in flight has ended and its request has been written. */
  flush(): Promise<void>;
  /**
   * Stops recording: waits for the exchanges in flight (close the server and its connections first),
   * stops the heartbeat and sets the end of the program run and of every open model run to now.
   * Requests that arrive later are still forwarded, without being recorded. Closes neither the monitor
   * nor the server. Idempotent.
   */
  close(): Promise<void>;
  /** The Prometheus registry of the proxy's metrics with `metrics: true` (to merge into an app's own), else null. */
  readonly metrics: Registry | null;
}

type NumericOption = 'heartbeatMs' | 'modelIdleMs' | 'maxNewModelsPerMinute' | 'maxRequestBytes' | 'maxBodyBytes' | 'upstreamIdleTimeoutMs' | 'maxUpstreamSockets';

/** Options that may be `Infinity` (no limit); the others are timers and sizes. */
const UNBOUNDED_OK = new Set<NumericOption>(['modelIdleMs', 'maxNewModelsPerMinute']);

/** A numeric option, or its default; anything but a number above zero is a TypeError naming it. */
function positive(options: RecordingProxyOptions, name: NumericOption, fallback: number): number {
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value <= 0 || (value === Number.POSITIVE_INFINITY && !UNBOUNDED_OK.has(name)))
    throw new TypeError(`createRecordingProxy: ${name} must be a ${UNBOUNDED_OK.has(name) ? '' : 'finite '}number above 0, got ${String(value)}`);
  return value;
}

/** Model names longer than this are not recorded (a name is a key the database and every report keep). */
const MAX_MODEL_NAME_LENGTH = 1024;

/**
 * Creates a recording proxy.
 *
 * @example
 * const monitor = await openMonitor('webui/monitoring.db');
 * const proxy = createRecordingProxy({ upstream: 'http://127.0.0.1:8080', monitor });
 * await proxy.start();
 * http.createServer(proxy).listen(8090);
 * // on shutdown: server.close(); await proxy.close(); await monitor.close();
 */
export function createRecordingProxy(options: RecordingProxyOptions): RecordingProxy {
  const upstream = createUpstream(options.upstream, {
    idleTimeoutMs: positive(options, 'upstreamIdleTimeoutMs', 4_000),
    maxSockets: positive(options, 'maxUpstreamSockets', 512),
  });
  const log = options.log ?? ((message: string) => console.warn(`llm-monitor proxy: ${message}`));
  let metrics: ProxyMetrics | null = null;
  const recorder = new Recorder(options.monitor, {
    heartbeatMs: positive(options, 'heartbeatMs', 10_000),
    modelIdleMs: positive(options, 'modelIdleMs', 300_000),
    maxNewModelsPerMinute: positive(options, 'maxNewModelsPerMinute', 60),
    log,
    onWriteFailed: (model) => metrics?.writeFailed(model),
  });
  if (options.metrics) metrics = new ProxyMetrics(() => recorder.activeModels);
  const maxRequestBytes = positive(options, 'maxRequestBytes', 32 * 1024 * 1024);
  const maxBodyBytes = positive(options, 'maxBodyBytes', 64 * 1024 * 1024);
  let upstreamModel: Promise<string | null> | null = null;
  /** The APIs whose responses were found to carry no counts (logged once each). */
  const countless = new Set<string>();

  /** The upstream's first listed model, asked once and remembered; asked again while it cannot say. */
  const defaultModel = (req: IncomingMessage): Promise<string | null> => {
    upstreamModel ??= fetchFirstModel(upstream, req.headers).then((name) => {
      if (name === null) upstreamModel = null;
      return name;
    });
    return upstreamModel;
  };

  /** What to record of an exchange: its usage, or why nothing. */
  const usageOf = (outcome: ForwardOutcome, family: ApiFamily, path: string): TokenUsage | NotRecordedReason => {
    if (outcome.end === 'refused') return 'too_large';
    if (outcome.headersMs === null) return outcome.end === 'client-aborted' ? 'ended_early' : 'unreachable';
    if (outcome.status >= 400) return 'upstream_error';
    const reader = outcome.reader;
    if (!reader || reader.unreadable) return 'unreadable';
    // Ended early, or a 200 whose stream reported a failure (Ollama and llama.cpp do that mid-stream):
    // what the server had stated, if anything.
    if (outcome.end !== 'complete' || reader.reportedError) return hasTokens(reader.usage) ? reader.usage : reader.reportedError ? 'upstream_error' : 'ended_early';
    if (reader.usage) return reader.usage;
    if (!countless.has(path)) {
      countless.add(path);
      log(`responses on ${path} (${family.title}) carry no token counts here: each is recorded as a request with 0 tokens`);
    }
    return NO_TOKENS;
  };

  const exchange = async (req: IncomingMessage, res: ServerResponse, family: ApiFamily, path: string): Promise<void> => {
    const startTime = Date.now() / 1000;
    const started = performance.now();
    metrics?.started();
    let outcome: ForwardOutcome | null = null;
    try {
      const body = await readRequestBody(req, res, maxRequestBytes);
      if (body === 'too-large') return metrics?.notRecorded(family.id, 'too_large');
      if (body === null) return;
      const request = inspectRequest(family, body);
      const name = options.model ?? request.model;
      const model = name !== null ? Promise.resolve(name) : defaultModel(req);
      outcome = await forward(upstream, req, res, {
        body: request.body,
        read: { family, strip: request.stripUsage, stream: request.stream, maxBodyBytes },
        maxRequestBytes,
        log,
        onResponse: (streamed) => streamed && metrics?.streamOpened(family.id),
      });
      const usage = usageOf(outcome, family, path);
      if (typeof usage === 'string') return metrics?.notRecorded(family.id, usage);
      const known = await model;
      if (known === null || known.length > MAX_MODEL_NAME_LENGTH) {
        log(
          known === null
            ? `a request to ${path} named no model and the upstream lists none at /v1/models; it is not recorded`
            : `a request to ${path} names a model of ${known.length} characters (more than ${MAX_MODEL_NAME_LENGTH}); it is not recorded`,
        );
        return metrics?.notRecorded(family.id, 'no_model');
      }
      const result = await recorder.record(known, startTime, outcome.endTime, usage);
      if (result === 'recorded') metrics?.recorded(known, family.id, usage);
      else if (result === 'refused') metrics?.notRecorded(family.id, 'new_model_limit');
    } finally {
      metrics?.ended(family.id, {
        status: outcome?.status ?? (res.statusCode === 413 ? 413 : 499),
        headersMs: outcome?.headersMs ?? null,
        durationMs: performance.now() - started,
        streamed: outcome?.streamed ?? false,
        retried: outcome?.retried ?? false,
      });
    }
  };

  const passThrough = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    metrics?.started();
    const outcome = await forward(upstream, req, res, { maxRequestBytes, log });
    metrics?.ended('other', { status: outcome.status, headersMs: outcome.headersMs, durationMs: performance.now() - started, streamed: false, retried: outcome.retried });
  };

  const serveMetrics = async (res: ServerResponse, registry: ProxyMetrics): Promise<void> => {
    const { body, contentType } = await registry.render();
    res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };

  const proxy = ((req: IncomingMessage, res: ServerResponse) => {
    const target = requestTarget(req);
    if (metrics && req.method === 'GET' && target.split('?')[0] === '/metrics') return void serveMetrics(res, metrics);
    const api = recorder.recording ? apiOf(req.method, target) : null;
    if (api === null) return void passThrough(req, res);
    void recorder.track(
      exchange(req, res, api.family, api.path).catch((error: unknown) => {
        log(`unexpected error while recording ${api.path}: ${(error as Error).stack ?? String(error)}`);
      }),
    );
  }) as RecordingProxy & { metrics: Registry | null };
  proxy.start = () => recorder.start();
  proxy.flush = () => recorder.flush();
  proxy.close = async () => {
    await recorder.close();
    upstream.agent.destroy();
  };
  proxy.metrics = metrics?.registry ?? null;
  return proxy;
}
