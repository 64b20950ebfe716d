import type { IncomingMessage, ServerResponse } from 'node:http';
import { createUpstream, fetchFirstModel, forward, readRequestBody, requestTarget } from './forward.js';
import { inspectRequest, recordedPath } from './llm-api.js';
import { type ProxyMonitor, Recorder } from './recorder.js';

export interface RecordingProxyOptions {
  /**
   * The OpenAI-compatible server to forward to, e.g. `http://127.0.0.1:8080` (llama.cpp). A path in it is
   * put before every forwarded path: `http://host/base` sends `/v1/models` to `http://host/base/v1/models`.
   */
  upstream: string | URL;
  /** Where requests and runtime are recorded: a `Monitor` (e.g. from `openMonitor()`). The proxy never closes it. */
  monitor: ProxyMonitor;
  /** Record every request under this model name. Default: the request body's `model`, else the first model the upstream lists at `/v1/models`. */
  model?: string;
  /** How often open runs get their end time moved to now. Default 10 000 ms. */
  heartbeatMs?: number;
  /** Where problems go (a failed write, an unreadable response); they never reach clients. Default `console.warn`. */
  log?: (message: string) => void;
  /** The largest non-streamed response read for its usage; larger ones are forwarded but not recorded. Default 64 MiB. */
  maxBodyBytes?: number;
}

/**
 * A request handler that forwards every request to the upstream and records the token usage of LLM
 * calls into a Monitor. Mount it as a whole server (`http.createServer(proxy)`) or as middleware
 * (`app.use('/llm', proxy)` in Express or Connect, which strip the mount path from `req.url`); it answers
 * every request itself and never calls `next`. Mount it before any body parser; if one ran anyway,
 * the proxy forwards `req.body` re-serialized.
 */
export interface RecordingProxy {
  (req: IncomingMessage, res: ServerResponse): void;
  /** Records the start of the program run and starts the heartbeat. Optional: without it, model runs and requests are still recorded. */
  start(): Promise<void>;
  /** Resolves when every exchange in flight has ended and its request has been written. */
  flush(): Promise<void>;
  /**
   * Stops recording: waits for the exchanges in flight (close the server and its connections first),
   * stops the heartbeat and sets the end of the program run and of every model run to now. Requests
   * that arrive later are still forwarded, without being recorded. Closes neither the monitor nor the
   * server. Idempotent.
   */
  close(): Promise<void>;
}

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
  const upstream = createUpstream(options.upstream);
  const log = options.log ?? ((message: string) => console.warn(`llm-monitor proxy: ${message}`));
  const recorder = new Recorder(options.monitor, options.heartbeatMs ?? 10_000, log);
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024 * 1024;
  let upstreamModel: Promise<string | null> | null = null;

  /** The upstream's first listed model, asked once and remembered; asked again while it cannot say. */
  const defaultModel = (req: IncomingMessage): Promise<string | null> => {
    upstreamModel ??= fetchFirstModel(upstream, req.headers).then((name) => {
      if (name === null) upstreamModel = null;
      return name;
    });
    return upstreamModel;
  };

  const exchange = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    const body = await readRequestBody(req);
    if (body === null) return;
    const request = inspectRequest(path, body);
    const name = options.model ?? request.model;
    const model = name !== null ? Promise.resolve(name) : defaultModel(req);
    void model.then((known) => known !== null && recorder.seeModel(known));
    const outcome = await forward(upstream, req, res, { body: request.body, read: { strip: request.stripUsage, stream: request.stream, maxBodyBytes }, log });
    if (!outcome.usage) return;
    const known = await model;
    if (known === null) {
      log(`a request to ${path} named no model and the upstream lists none at /v1/models; it is not recorded`);
      return;
    }
    await recorder.record(known, outcome.endTime, outcome.usage);
  };

  const proxy = ((req: IncomingMessage, res: ServerResponse) => {
    const path = recorder.recording ? recordedPath(req.method, requestTarget(req)) : null;
    if (path === null) void forward(upstream, req, res, { log });
    else
      void recorder.track(
        exchange(req, res, path).catch((error: unknown) => {
          log(`unexpected error while recording ${path}: ${(error as Error).stack ?? String(error)}`);
        }),
      );
  }) as RecordingProxy;
  proxy.start = () => recorder.start();
  proxy.flush = () => recorder.flush();
  proxy.close = async () => {
    await recorder.close();
    upstream.agent.destroy();
  };
  return proxy;
}
