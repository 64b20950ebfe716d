import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { TokenUsage } from './usage.js';

/** Why a request on a recorded path left no row. */
export type NotRecordedReason = 'upstream_error' | 'unreachable' | 'too_large' | 'unreadable' | 'no_model' | 'new_model_limit' | 'ended_early';

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/**
 * The proxy's Prometheus metrics (`--metrics`), in a registry of its own. Model labels are only ever
 * names the proxy records, so their number is bounded by `maxNewModelsPerMinute`; `api` is an id of
 * `API_FAMILIES`, or `other` for requests that are only forwarded.
 */
export class ProxyMetrics {
  readonly registry = new Registry();
  readonly #requests: Counter<'api' | 'code'>;
  readonly #recorded: Counter<'model' | 'api'>;
  readonly #notRecorded: Counter<'api' | 'reason'>;
  readonly #tokens: Record<'input' | 'output' | 'cache' | 'prompt', Counter<'model'>>;
  readonly #failures: Counter<'model'>;
  readonly #upstreamSeconds: Histogram<'api'>;
  readonly #durationSeconds: Histogram<'api'>;
  readonly #openStreams: Gauge<'api'>;
  readonly #inFlight: Gauge;
  readonly #retries: Counter<'api'>;

  constructor(activeModels: () => number) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'llm_monitor_proxy_' });
    this.#requests = new Counter({ name: 'llm_monitor_proxy_requests_total', help: 'Requests answered, by API and HTTP status (502: upstream unreachable, 413: body over the limit).', labelNames: ['api', 'code'], registers });
    this.#recorded = new Counter({ name: 'llm_monitor_proxy_recorded_requests_total', help: 'Requests recorded into the monitor database, by model and API.', labelNames: ['model', 'api'], registers });
    this.#notRecorded = new Counter({ name: 'llm_monitor_proxy_unrecorded_requests_total', help: 'Requests on recorded paths that left no row, by API and reason.', labelNames: ['api', 'reason'], registers });
    const tokens = (kind: string, help: string) => new Counter({ name: `llm_monitor_proxy_${kind}_tokens_total`, help, labelNames: ['model'], registers });
    this.#tokens = {
      input: tokens('input', 'Input (prompt) tokens recorded, by model.'),
      output: tokens('output', 'Output tokens recorded, by model.'),
      cache: tokens('cache', 'Input tokens served from a cache (cache_n) recorded, by model.'),
      prompt: tokens('prompt', 'Input tokens the server processed (prompt_n) recorded, by model.'),
    };
    this.#failures = new Counter({ name: 'llm_monitor_proxy_recording_failures_total', help: 'Database writes that failed, by model ("" for the program run).', labelNames: ['model'], registers });
    this.#upstreamSeconds = new Histogram({ name: 'llm_monitor_proxy_upstream_response_seconds', help: "Time from forwarding a request to the upstream's response headers, by API.", labelNames: ['api'], buckets: SECONDS, registers });
    this.#durationSeconds = new Histogram({ name: 'llm_monitor_proxy_request_duration_seconds', help: 'Time from forwarding a request to the end of its response, by API.', labelNames: ['api'], buckets: SECONDS, registers });
    this.#openStreams = new Gauge({ name: 'llm_monitor_proxy_open_streams', help: 'Streamed responses in progress, by API.', labelNames: ['api'], registers });
    this.#inFlight = new Gauge({ name: 'llm_monitor_proxy_requests_in_flight', help: 'Requests being forwarded now.', registers });
    this.#retries = new Counter({
      name: 'llm_monitor_proxy_upstream_retries_total',
      help: 'Requests sent again on a fresh connection after a kept-alive one failed before any response (the upstream had closed it), by API.',
      labelNames: ['api'],
      registers,
    });
    new Gauge({
      name: 'llm_monitor_proxy_active_models',
      help: 'Models with an open run (a request recorded within the model idle time).',
      registers,
      collect() {
        this.set(activeModels());
      },
    });
  }

  started(): void {
    this.#inFlight.inc();
  }

  streamOpened(api: string): void {
    this.#openStreams.inc({ api });
  }

  ended(api: string, outcome: { status: number; headersMs: number | null; durationMs: number; streamed: boolean; retried: boolean }): void {
    this.#inFlight.dec();
    if (outcome.retried) this.#retries.inc({ api });
    this.#requests.inc({ api, code: String(outcome.status) });
    if (outcome.headersMs !== null) this.#upstreamSeconds.observe({ api }, outcome.headersMs / 1000);
    this.#durationSeconds.observe({ api }, outcome.durationMs / 1000);
    if (outcome.streamed) this.#openStreams.dec({ api });
  }

  recorded(model: string, api: string, usage: TokenUsage): void {
    this.#recorded.inc({ model, api });
    this.#tokens.input.inc({ model }, usage.inputTokens);
    this.#tokens.output.inc({ model }, usage.outputTokens);
    this.#tokens.cache.inc({ model }, usage.cacheN);
    this.#tokens.prompt.inc({ model }, usage.promptN);
  }

  notRecorded(api: string, reason: NotRecordedReason): void {
    this.#notRecorded.inc({ api, reason });
  }

  writeFailed(model: string | null): void {
    this.#failures.inc({ model: model ?? '' });
  }

  /** The metrics in Prometheus' text format, and its content type. */
  async render(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}
