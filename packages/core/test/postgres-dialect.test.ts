import { describe, expect, it } from 'vitest';
import { postgresDialect, sqliteDialect } from '../src/index.js';

describe('postgresDialect', () => {
  it('classifies node-postgres errors by SQLSTATE', () => {
    const kind = (code: string) => postgresDialect.classifyError(Object.assign(new Error('x'), { code }));
    expect(['40001', '40P01', '55P03', '53300'].map(kind)).toEqual(['busy', 'busy', 'busy', 'busy']);
    expect(kind('23505')).toBe('unique');
    expect(['23502', '23503', '23514', '23P01'].map(kind)).toEqual(['constraint', 'constraint', 'constraint', 'constraint']);
    expect(kind('42P01')).toBe('missing-table');
    expect(kind('25006')).toBe('read-only');
    expect(kind('3D000')).toBe('not-a-database');
    expect([kind('42601'), kind('28P01'), postgresDialect.classifyError(new Error('no code'))]).toEqual([undefined, undefined, undefined]);
  });

  it('classifies a lost or refused connection as connection-lost, whichever way node-postgres reports it', () => {
    const kind = (code: string) => postgresDialect.classifyError(Object.assign(new Error('x'), { code }));
    // pg_terminate_backend, a restart (admin/crash shutdown, still starting up), connection exceptions, idle timeouts
    expect(['57P01', '57P02', '57P03', '57P05', '25P03', '08006', '08003', '08001', '08000'].map(kind)).toEqual(Array(9).fill('connection-lost'));
    // the socket: reset, refused, broken pipe, a host not reachable (yet)
    expect(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'EAI_AGAIN'].map(kind)).toEqual(Array(6).fill('connection-lost'));
    // node-postgres' own errors carry no code (messages from pg 8 lib/client.js and pg-pool index.js)
    const message = (text: string) => postgresDialect.classifyError(new Error(text));
    expect(
      [
        'Connection terminated unexpectedly',
        'Connection terminated',
        'Client has encountered a connection error and is not queryable',
        'Client was closed and is not queryable',
        'timeout exceeded when trying to connect',
        'Connection terminated due to connection timeout',
      ].map(message),
    ).toEqual(Array(6).fill('connection-lost'));
    // a server error whose text happens to say the same is classified by its SQLSTATE
    expect(postgresDialect.classifyError(Object.assign(new Error('Connection terminated by trigger'), { code: 'P0001' }))).toBeUndefined();
  });

  it('writes the SQL that differs from SQLite', () => {
    expect(postgresDialect.least('cache_n', 'input_tokens')).toBe('LEAST(cache_n, input_tokens)');
    expect(postgresDialect.slot('timestamp', 900)).toBe('FLOOR(timestamp / 900)::bigint');
    expect(postgresDialect.bool(true)).toBe(true);
    expect(postgresDialect.types).toMatchObject({ integer: 'BIGINT', real: 'DOUBLE PRECISION', boolean: 'BOOLEAN' });
    expect(postgresDialect.quoteIdentifier('a"b')).toBe('"a""b"');
    expect(postgresDialect.schemaLock).toMatch(/pg_advisory_xact_lock/);
    expect(sqliteDialect.schemaLock).toBeNull();
    expect(sqliteDialect.modelLock).toBeNull();
    // core writes ? placeholders; none of the dialect's own statements may contain one, except where it binds one
    for (const sql of [postgresDialect.columnsQuery, postgresDialect.indexesQuery, postgresDialect.schemaLock!, postgresDialect.types.createdAt, postgresDialect.commitOutcome!.begin])
      expect(sql).not.toContain('?');
    expect(postgresDialect.numberParameters!(postgresDialect.modelLock!).count).toBe(1);
    expect(postgresDialect.numberParameters!(postgresDialect.commitOutcome!.status).count).toBe(1);
  });
});

describe('numbering ? placeholders for PostgreSQL', () => {
  const number = postgresDialect.numberParameters!;
  const cases: [string, string, number][] = [
    ['SELECT a FROM t WHERE b = ? AND c = ?', 'SELECT a FROM t WHERE b = $1 AND c = $2', 2],
    ['INSERT INTO t (a, b) VALUES (?, ?)', 'INSERT INTO t (a, b) VALUES ($1, $2)', 2],
    ["SELECT '?', 'it''s ?', ? FROM t", "SELECT '?', 'it''s ?', $1 FROM t", 1],
    ["SELECT E'\\' ?', ? FROM t", "SELECT E'\\' ?', $1 FROM t", 1],
    ['SELECT "we?ird" FROM "t?""x" WHERE "a" = ?', 'SELECT "we?ird" FROM "t?""x" WHERE "a" = $1', 1],
    ['SELECT ? -- why?\n, ? /* what? /* nested? */ still? */ FROM t', 'SELECT $1 -- why?\n, $2 /* what? /* nested? */ still? */ FROM t', 2],
    ['SELECT $$a ? b$$, $tag$ ? $$ ? $tag$, ? FROM t', 'SELECT $$a ? b$$, $tag$ ? $$ ? $tag$, $1 FROM t', 1],
    ['SELECT a$b, ? FROM t', 'SELECT a$b, $1 FROM t', 1],
    ['SELECT 1', 'SELECT 1', 0],
    ["SELECT 'unterminated ?", "SELECT 'unterminated ?", 0],
  ];
  for (const [sql, text, count] of cases)
    it(`${JSON.stringify(sql)}`, () => {
      expect(number(sql)).toEqual({ text, count });
    });

  it('is left to the engine on SQLite, which takes ? as written', () => {
    expect(sqliteDialect.numberParameters).toBeNull();
  });
});
