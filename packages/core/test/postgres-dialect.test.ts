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
    expect([kind('42601'), kind('ECONNREFUSED'), postgresDialect.classifyError(new Error('no code'))]).toEqual([undefined, undefined, undefined]);
  });

  it('writes the SQL that differs from SQLite', () => {
    expect(postgresDialect.least('cache_n', 'input_tokens')).toBe('LEAST(cache_n, input_tokens)');
    expect(postgresDialect.slot('timestamp', 900)).toBe('FLOOR(timestamp / 900)::bigint');
    expect(postgresDialect.bool(true)).toBe(true);
    expect(postgresDialect.types).toMatchObject({ integer: 'BIGINT', real: 'DOUBLE PRECISION', boolean: 'BOOLEAN' });
    expect(postgresDialect.quoteIdentifier('a"b')).toBe('"a""b"');
    expect(postgresDialect.schemaLock).toMatch(/pg_advisory_xact_lock/);
    expect(sqliteDialect.schemaLock).toBeNull();
    // core writes ? placeholders; none of the dialect's own statements may contain one
    for (const sql of [postgresDialect.columnsQuery, postgresDialect.indexesQuery, postgresDialect.schemaLock!, postgresDialect.types.createdAt])
      expect(sql).not.toContain('?');
  });
});
