import { describe, expect, it } from 'vitest';
import { numberPlaceholders } from '../src/placeholders.js';

describe('numbering ? placeholders for PostgreSQL', () => {
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
      expect(numberPlaceholders(sql)).toEqual({ text, count });
    });

  it('numbers a statement of core the same way every time (cached)', () => {
    const sql = 'UPDATE "m_runtime" SET end_time = ? WHERE id = (SELECT MAX(id) FROM "m_runtime")';
    expect(numberPlaceholders(sql)).toBe(numberPlaceholders(sql));
  });
});
