import type { Progress, UserError, WorkerMessage, WorkerRequest, WorkerResults } from './worker/protocol.js';

/** A failed worker call, carrying the error as the page shows it. */
export class AnalyzerError extends Error {
  constructor(readonly error: UserError) {
    super(error.message);
  }
}

interface Pending {
  resolve(result: unknown): void;
  reject(error: AnalyzerError): void;
  onProgress?: (progress: Progress) => void;
}

/** The page's end of the worker: one promise per request, progress through a callback. */
export class AnalyzerClient {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;

  constructor() {
    this.#worker = new Worker(new URL('./worker/analyzer.worker.ts', import.meta.url), { type: 'module', name: 'analyzer' });
    this.#worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
      const message = event.data;
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      if ('progress' in message) return pending.onProgress?.(message.progress);
      this.#pending.delete(message.id);
      if (message.ok) pending.resolve(message.result);
      else pending.reject(new AnalyzerError(message.error));
    };
    this.#worker.onerror = (event) => {
      event.preventDefault();
      const error = new AnalyzerError({
        kind: 'internal',
        title: 'The analysis worker stopped',
        message: 'The background worker that reads the database failed (it may have run out of memory). Reload the page and try again.',
        detail: event.message ?? '',
      });
      for (const pending of this.#pending.values()) pending.reject(error);
      this.#pending.clear();
    };
  }

  call<T extends WorkerRequest['type']>(request: WorkerRequest & { type: T }, onProgress?: (progress: Progress) => void): Promise<WorkerResults[T]> {
    const id = this.#nextId++;
    return new Promise<WorkerResults[T]>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (result: unknown) => void, reject, ...(onProgress ? { onProgress } : {}) });
      this.#worker.postMessage({ id, request });
    });
  }
}
