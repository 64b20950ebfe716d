/**
 * The one caching policy for prepared statements of single-connection engines (better-sqlite3, sql.js):
 * by SQL text, least recently used out first, at most {@link STATEMENT_CACHE_SIZE}. Core's statements are
 * few per model, so a file of thousands of models evicts; a bounded LRU keeps the hot ones (the fast
 * write path's insert) and frees the rest.
 */
export const STATEMENT_CACHE_SIZE = 500;

export class StatementCache<S> {
  readonly #statements = new Map<string, S>();
  readonly #prepare: (sql: string) => S;
  readonly #free: (statement: S) => void;

  /** `free` releases an evicted statement where the engine needs it (sql.js's `statement.free()`). */
  constructor(prepare: (sql: string) => S, free: (statement: S) => void = () => undefined) {
    this.#prepare = prepare;
    this.#free = free;
  }

  get(sql: string): S {
    let statement = this.#statements.get(sql);
    if (statement !== undefined) this.#statements.delete(sql);
    else {
      statement = this.#prepare(sql);
      if (this.#statements.size >= STATEMENT_CACHE_SIZE) {
        const [oldestSql, oldest] = this.#statements.entries().next().value!;
        this.#statements.delete(oldestSql);
        this.#free(oldest);
      }
    }
    this.#statements.set(sql, statement);
    return statement;
  }

  /** Frees every statement (they are prepared again on demand). */
  clear(): void {
    for (const statement of this.#statements.values()) this.#free(statement);
    this.#statements.clear();
  }
}
