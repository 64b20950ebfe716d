/**
 * Core writes positional `?` placeholders; PostgreSQL numbers them (`$1, $2, …`). A `?` inside a
 * string literal (`'…'`, `E'…'`, `$tag$…$tag$`), a quoted identifier (`"…"`) or a comment stays as it is.
 */

export interface NumberedSql {
  text: string;
  /** How many placeholders the statement has. */
  count: number;
}

const DOLLAR_TAG = /^\$(?:[A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$/;
const cache = new Map<string, NumberedSql>();

/** `SELECT a FROM t WHERE b = ? AND c = '?'` → `SELECT a FROM t WHERE b = $1 AND c = '?'`. */
export function numberPlaceholders(sql: string): NumberedSql {
  let numbered = cache.get(sql);
  if (!numbered) {
    numbered = convert(sql);
    if (cache.size >= 1000) cache.clear();
    cache.set(sql, numbered);
  }
  return numbered;
}

function convert(sql: string): NumberedSql {
  if (!sql.includes('?')) return { text: sql, count: 0 };
  let text = '';
  let count = 0;
  let i = 0;
  const copyUntil = (end: number) => {
    text += sql.slice(i, end);
    i = end;
  };
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === '?') {
      text += `$${++count}`;
      i++;
    } else if (c === "'") {
      copyUntil(endOfQuoted(sql, i, "'", isEscapeString(sql, i)));
    } else if (c === '"') {
      copyUntil(endOfQuoted(sql, i, '"', false));
    } else if (c === '-' && sql[i + 1] === '-') {
      const newline = sql.indexOf('\n', i);
      copyUntil(newline === -1 ? sql.length : newline);
    } else if (c === '/' && sql[i + 1] === '*') {
      copyUntil(endOfBlockComment(sql, i));
    } else if (c === '$' && !/[\w$\u0080-\uffff]/.test(sql[i - 1] ?? '') && DOLLAR_TAG.test(sql.slice(i, i + 64))) {
      // a dollar-quoted string ($$…$$, $tag$…$tag$); `$1` is not one, nor is a `$` inside an identifier
      const tag = DOLLAR_TAG.exec(sql.slice(i, i + 64))![0];
      const close = sql.indexOf(tag, i + tag.length);
      copyUntil(close === -1 ? sql.length : close + tag.length);
    } else {
      // copy a run of characters that start nothing special in one go
      let j = i + 1;
      while (j < sql.length && !`?'"-/$`.includes(sql[j]!)) j++;
      copyUntil(j);
    }
  }
  return { text, count };
}

/** An `E'…'` literal, where a backslash escapes the next character. */
function isEscapeString(sql: string, quote: number): boolean {
  const before = sql[quote - 1];
  return (before === 'E' || before === 'e') && !/[\w$]/.test(sql[quote - 2] ?? '');
}

/** The index after the closing quote; a doubled quote is an escaped one. */
function endOfQuoted(sql: string, open: number, quote: string, backslashEscapes: boolean): number {
  let j = open + 1;
  while (j < sql.length) {
    const c = sql[j]!;
    if (backslashEscapes && c === '\\') j += 2;
    else if (c === quote && sql[j + 1] === quote) j += 2;
    else if (c === quote) return j + 1;
    else j++;
  }
  return sql.length;
}

/** The index after a block comment; PostgreSQL's block comments nest. */
function endOfBlockComment(sql: string, open: number): number {
  let depth = 0;
  let j = open;
  while (j < sql.length) {
    if (sql[j] === '/' && sql[j + 1] === '*') {
      depth++;
      j += 2;
    } else if (sql[j] === '*' && sql[j + 1] === '/') {
      depth--;
      j += 2;
      if (depth === 0) return j;
    } else j++;
  }
  return sql.length;
}
