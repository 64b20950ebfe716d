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

const now = () => Date.now() / 1000;

/**
 * Everything the proxy writes: the program run (from `start()`), one run per model (from the first
 * request that names it), heartbeats that move every open run's end time forward, and one row per
 * request. A failed write is logged and never thrown: recording must not break forwarding.
 */
export class Recorder {
  readonly #monitor: ProxyMonitor;
  readonly #heartbeatMs: number;
  readonly #log: (message: string) => void;
  /** Models whose run has been started; each promise resolves to the run's id once written (null if that failed). */
  readonly #models = new Map<string, Promise<number | null>>();
  /** Work to wait for in `flush()`: exchanges in flight and their writes. */
  readonly #pending = new Set<Promise<unknown>>();
  #program: Promise<number | null> | null = null;
  #timer: ReturnType<typeof setInterval> | null = null;
  #beat: Promise<void> | null = null;
  #closing: Promise<void> | null = null;
  #closed = false;

  constructor(monitor: ProxyMonitor, heartbeatMs: number, log: (message: string) => void) {
    this.#monitor = monitor;
    this.#heartbeatMs = heartbeatMs;
    this.#log = log;
  }

  /** False once `close()` has begun: later exchanges are forwarded but not recorded. */
  get recording(): boolean {
    return this.#closing === null;
  }

  start(): Promise<void> {
    if (this.#closing) return Promise.reject(new Error('The recording proxy is closed.'));
    this.#program ??= this.#writeId('record the program start', () => this.#monitor.addProgramRuntimeStart(now()));
    this.#startHeartbeat();
    return this.#program.then(() => undefined);
  }

  /** Starts the model's run the first time it is seen. */
  seeModel(name: string): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    let started = this.#models.get(name);
    if (!started) {
      started = this.#writeId(`start the run of model ${JSON.stringify(name)}`, () => this.#monitor.addModelRuntimeStart(name, now()));
      this.#models.set(name, started);
      this.#startHeartbeat();
    }
    return started.then((runId) => runId !== null);
  }

  async record(name: string, endTime: number, usage: TokenUsage): Promise<void> {
    if (this.#closed) return;
    await this.seeModel(name);
    await this.#write(`record a request of model ${JSON.stringify(name)}`, () =>
      this.#monitor.addModelRequest(name, [endTime, usage.inputTokens, usage.outputTokens, usage.cacheN, usage.promptN]),
    );
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
    })();
    return this.#closing;
  }

  /** Moves the end of the program run and of every model run to now. */
  heartbeat(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#beat ??= (async () => {
      const time = now();
      const writes: Promise<unknown>[] = [...this.#models].map(async ([name, started]) => {
        const runId = await started;
        if (runId !== null)
          await this.#write(`update the run of model ${JSON.stringify(name)}`, () => this.#monitor.updateModelRuntimeEnd(name, time, runId));
      });
      const programRun = this.#program ? await this.#program : null;
      if (programRun !== null) writes.push(this.#write('update the program run', () => this.#monitor.updateProgramRuntimeEnd(time, programRun)));
      await Promise.all(writes);
    })().finally(() => {
      this.#beat = null;
    });
    return this.#beat;
  }

  #startHeartbeat(): void {
    if (this.#timer || this.#closing) return;
    this.#timer = setInterval(() => void this.heartbeat(), this.#heartbeatMs);
    this.#timer.unref();
  }

  /** Runs one write that creates a run; resolves to its id, or null (after logging) when it failed. */
  async #writeId(what: string, write: () => Promise<number>): Promise<number | null> {
    try {
      return await write();
    } catch (error) {
      this.#log(`could not ${what}: ${(error as Error).message}`);
      return null;
    }
  }

  /** Runs one write; resolves true when it succeeded, false (after logging) when it failed. */
  async #write(what: string, write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (error) {
      this.#log(`could not ${what}: ${(error as Error).message}`);
      return false;
    }
  }
}
