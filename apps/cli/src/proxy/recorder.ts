import type { TokenUsage } from './usage.js';

/**
 * The part of a Monitor the proxy writes to. `Monitor` from `@llm-monitor/core` (what
 * `openMonitor()` of `@llm-monitor/driver-node` returns) is one; anything with these methods will do.
 */
export interface ProxyMonitor {
  addModelRequest(name: string, request: readonly [endTime: number, inputTokens: number, outputTokens: number, cacheN: number, promptN: number]): Promise<unknown>;
  /** Resolves to the run's id, which the heartbeat passes back so it moves only this proxy's runs. */
  addModelRuntimeStart(name: string, startTime: number): Promise<number>;
  updateModelRuntimeEnd(name: string, endTime: number, runId?: number): Promise<unknown>;
  addProgramRuntimeStart(startTime: number): Promise<number>;
  updateProgramRuntimeEnd(endTime: number, runId?: number): Promise<unknown>;
}

export interface RecorderOptions {
  /** How often open runs get their end time moved to now. */
  heartbeatMs: number;
  /** A model's run ends this long after its last recorded request; its next request starts a new run. */
  modelIdleMs: number;
  /** Models this proxy has not recorded before that it starts recording per minute, at most. */
  maxNewModelsPerMinute: number;
  log: (message: string) => void;
  /** Told of every write that failed, with the model it was for (null: the program run). */
  onWriteFailed?: (model: string | null) => void;
}

/** What became of a request handed to `record()`. */
export type RecordResult = 'recorded' | 'write-failed' | 'refused' | 'closed';

interface ActiveModel {
  /** The id of the model's run once written (null if that failed). */
  run: Promise<number | null>;
  /** Epoch ms of its last recorded request. */
  lastSeen: number;
}

const now = () => Date.now() / 1000;

/** Refusals are logged at most this often. */
const REFUSAL_LOG_MS = 10_000;

/**
 * Everything the proxy writes: the program run (from `start()`), one row per recorded request, and the
 * runs of the models it records. A model's run starts with the first request recorded for it (so a
 * request the upstream refused registers nothing) and ends `modelIdleMs` after its last one; while it
 * is open the heartbeat moves its end to now. Only models seen recently are touched: an idle proxy
 * writes one program-run update per heartbeat.
 *
 * A failed write is logged and never thrown: recording must not break forwarding.
 */
export class Recorder {
  readonly #monitor: ProxyMonitor;
  readonly #options: RecorderOptions;
  /** Models with an open run, by name. */
  readonly #active = new Map<string, ActiveModel>();
  /** Every model this proxy has recorded: seeing one again is not a new model. */
  readonly #known = new Set<string>();
  /** Epoch ms at which new models were admitted, within the last minute. */
  #admitted: number[] = [];
  #refusals = { count: 0, lastLogged: 0, example: '' };
  /** Work to wait for in `flush()`: exchanges in flight and their writes. */
  readonly #pending = new Set<Promise<unknown>>();
  #program: Promise<number | null> | null = null;
  #timer: ReturnType<typeof setInterval> | null = null;
  #beat: Promise<void> | null = null;
  #closing: Promise<void> | null = null;
  #closed = false;

  constructor(monitor: ProxyMonitor, options: RecorderOptions) {
    this.#monitor = monitor;
    this.#options = options;
  }

  /** False once `close()` has begun: later exchanges are forwarded but not recorded. */
  get recording(): boolean {
    return this.#closing === null;
  }

  /** Models whose run is open now. */
  get activeModels(): number {
    return this.#active.size;
  }

  start(): Promise<void> {
    if (this.#closing) return Promise.reject(new Error('The recording proxy is closed.'));
    this.#program ??= this.#writeId(null, 'record the program start', () => this.#monitor.addProgramRuntimeStart(now()));
    this.#startHeartbeat();
    return this.#program.then(() => undefined);
  }

  /**
   * Records one request of `name` that started at `startTime` (epoch s) and ended at `endTime`, starting
   * the model's run (at `startTime`) when it has none open. A model this proxy has not recorded before is
   * refused while `maxNewModelsPerMinute` others were admitted in the last minute.
   */
  async record(name: string, startTime: number, endTime: number, usage: TokenUsage): Promise<RecordResult> {
    if (this.#closed) return 'closed';
    let model = this.#active.get(name);
    if (!model) {
      if (!this.#known.has(name) && !this.#admit(name)) return 'refused';
      this.#known.add(name);
      model = {
        run: this.#writeId(name, `start the run of model ${JSON.stringify(name)}`, () => this.#monitor.addModelRuntimeStart(name, startTime)),
        lastSeen: Date.now(),
      };
      this.#active.set(name, model);
    }
    model.lastSeen = Date.now();
    await model.run;
    // A write holds the thread (better-sqlite3 is synchronous): let the streams in flight move first.
    await new Promise((resolve) => setImmediate(resolve));
    const written = await this.#write(name, `record a request of model ${JSON.stringify(name)}`, () =>
      this.#monitor.addModelRequest(name, [endTime, usage.inputTokens, usage.outputTokens, usage.cacheN, usage.promptN]),
    );
    return written ? 'recorded' : 'write-failed';
  }

  /** Keeps `work` (an exchange in flight) in what `flush()` and `close()` wait for. */
  track<T>(work: Promise<T>): Promise<T> {
    this.#pending.add(work);
    const forget = () => this.#pending.delete(work);
    work.then(forget, forget);
    return work;
  }

  /** Resolves when every exchange in flight has ended and been recorded. */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /** Stops the heartbeat, waits for exchanges in flight, then sets every open run's end to now. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#timer) clearInterval(this.#timer);
      this.#timer = null;
      await this.flush();
      await this.#beat;
      await this.heartbeat();
      this.#closed = true;
      this.#logRefusals(true);
    })();
    return this.#closing;
  }

  /**
   * Moves the end of the program run and of every open model run to now. A model idle for longer than
   * `modelIdleMs` gets this last update and its run is closed.
   */
  heartbeat(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#beat ??= (async () => {
      const time = now();
      const idleSince = Date.now() - this.#options.modelIdleMs;
      const writes: Promise<unknown>[] = [...this.#active].map(async ([name, model]) => {
        if (model.lastSeen < idleSince && !this.#closing) this.#active.delete(name);
        const runId = await model.run;
        if (runId !== null)
          await this.#write(name, `update the run of model ${JSON.stringify(name)}`, () => this.#monitor.updateModelRuntimeEnd(name, time, runId));
      });
      const programRun = this.#program ? await this.#program : null;
      if (programRun !== null) writes.push(this.#write(null, 'update the program run', () => this.#monitor.updateProgramRuntimeEnd(time, programRun)));
      await Promise.all(writes);
      this.#logRefusals(false);
    })().finally(() => {
      this.#beat = null;
    });
    return this.#beat;
  }

  /** Admits a new model unless the per-minute budget is spent. */
  #admit(name: string): boolean {
    const minuteAgo = Date.now() - 60_000;
    this.#admitted = this.#admitted.filter((time) => time > minuteAgo);
    if (this.#admitted.length < this.#options.maxNewModelsPerMinute) {
      this.#admitted.push(Date.now());
      return true;
    }
    if (this.#refusals.count === 0) this.#refusals.example = name;
    this.#refusals.count++;
    this.#logRefusals(false);
    return false;
  }

  /** Logs refused requests: the first at once, then at most one line per 10 s (and at close). */
  #logRefusals(final: boolean): void {
    const refusals = this.#refusals;
    if (refusals.count === 0 || (!final && Date.now() - refusals.lastLogged < REFUSAL_LOG_MS)) return;
    const example = refusals.example.length > 80 ? `${refusals.example.slice(0, 80)}…` : refusals.example;
    const others = refusals.count > 1 ? ` and ${refusals.count - 1} more request(s) of new models` : '';
    this.#options.log(
      `not recording a request of new model ${JSON.stringify(example)}${others}: this proxy records at most ${this.#options.maxNewModelsPerMinute} new models per minute (--max-new-models-per-minute); the requests were forwarded`,
    );
    this.#refusals = { count: 0, lastLogged: Date.now(), example: '' };
  }

  #startHeartbeat(): void {
    if (this.#timer || this.#closing) return;
    this.#timer = setInterval(() => void this.heartbeat(), this.#options.heartbeatMs);
    this.#timer.unref();
  }

  /** Runs one write that creates a run; resolves to its id, or null (after logging) when it failed. */
  async #writeId(model: string | null, what: string, write: () => Promise<number>): Promise<number | null> {
    try {
      return await write();
    } catch (error) {
      this.#failed(model, what, error);
      return null;
    }
  }

  /** Runs one write; resolves true when it succeeded, false (after logging) when it failed. */
  async #write(model: string | null, what: string, write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (error) {
      this.#failed(model, what, error);
      return false;
    }
  }

  #failed(model: string | null, what: string, error: unknown): void {
    this.#options.log(`could not ${what}: ${(error as Error).message}`);
    this.#options.onWriteFailed?.(model);
  }
}
