import { type CsvValue, costDecimals, csvLine, formatCost, formatNumber } from '@llm-monitor/core';
import { Option } from 'commander';

/** `--format`: an unknown value is a usage error (exit 2). */
export function formatOption<const T extends string>(choices: readonly T[], defaultValue: T): Option {
  return new Option('--format <format>', 'output format').choices(choices).default(defaultValue);
}

/** A price as stored (per million tokens or per hour): every digit kept. */
export const formatPrice = (x: number): string => String(x);

/** Seconds of runtime as hours with 2 decimals: `167.98 h`. */
export const formatHours = (seconds: number): string => `${formatNumber(seconds / 3600, { decimals: 2 })} h`;

/** A column of costs: one decimals count for the whole column (core's rule), so the points line up. */
export function costColumn(values: readonly number[]): (value: number) => string {
  const decimals = costDecimals(values);
  return (value) => formatCost(value, { decimals });
}

/** A token range of a tier: `0 – 32,768`, `32,769 – ∞`. */
export const formatRange = (start: number, end: number): string => `${formatNumber(start)} – ${end === -1 ? '∞' : formatNumber(end)}`;

export interface Column {
  header: string;
  align?: 'left' | 'right';
}

/** The widest a table cell or a name in a message is printed (JSON and CSV keep names whole). */
export const MAX_PRINTED_WIDTH = 60;

/** Control characters (C0, DEL, C1) and the bidirectional overrides that can make text lie about its order. */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text from a database (a model name any proxy client can choose) made safe for a terminal: control
 * characters are shown as escapes (`\u001b`) instead of moving the cursor, clearing the screen or
 * setting the title, and text wider than `maxWidth` columns is cut with an ellipsis.
 */
export function printable(text: string, maxWidth = MAX_PRINTED_WIDTH): string {
  const escaped = text.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (displayWidth(escaped) <= maxWidth) return escaped;
  let out = '';
  let width = 0;
  for (const char of escaped) {
    const w = displayWidth(char);
    if (width + w > maxWidth - 1) break;
    out += char;
    width += w;
  }
  return `${out}…`;
}

/**
 * An aligned table: left-aligned text, right-aligned numbers, a rule above the totals row (if any).
 * Every cell goes through {@link printable}. No colours, so the output is the same on a terminal and in a
 * pipe. Linear in the number of rows (a report of 10,000 models is 10,000 lines, not a layout problem).
 */
export function renderTable(columns: readonly Column[], rows: readonly string[][], totals?: string[]): string {
  const body = rows.map((row) => columns.map((_, i) => printable(row[i] ?? '')));
  const total = totals?.map((cell) => printable(cell));
  const widths = columns.map((c, i) => Math.max(displayWidth(c.header), ...[...body, ...(total ? [total] : [])].map((row) => displayWidth(row[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    `│${cells
      .map((cell, i) => {
        const pad = ' '.repeat(widths[i]! - displayWidth(cell));
        return ` ${columns[i]!.align === 'right' ? pad + cell : cell + pad} `;
      })
      .join('│')}│`;
  const rule = (left: string, middle: string, right: string) => `${left}${widths.map((w) => '─'.repeat(w + 2)).join(middle)}${right}`;
  const lines = [rule('┌', '┬', '┐'), line(columns.map((c) => c.header)), rule('├', '┼', '┤'), ...body.map(line)];
  if (total) lines.push(line(widths.map((w) => '─'.repeat(w))), line(total));
  lines.push(rule('└', '┴', '┘'));
  return lines.join('\n');
}

/** Terminal columns a string takes (CJK and other wide characters count 2). */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    width +=
      (code >= 0x1100 && code <= 0x115f) ||
      (code >= 0x2e80 && code <= 0xa4cf) ||
      (code >= 0xac00 && code <= 0xd7a3) ||
      (code >= 0xf900 && code <= 0xfaff) ||
      (code >= 0xfe30 && code <= 0xfe4f) ||
      (code >= 0xff00 && code <= 0xff60) ||
      (code >= 0xffe0 && code <= 0xffe6) ||
      (code >= 0x1f300 && code <= 0x1faff) ||
      (code >= 0x20000 && code <= 0x3fffd)
        ? 2
        : 1;
  }
  return width;
}

/**
 * CSV records through core's one CSV writer (formula-safe text fields), with Unix line ends for pipes:
 * numbers in full precision, null as an empty field.
 */
export function csvRows(rows: readonly (readonly CsvValue[])[]): string {
  return rows.map((row) => csvLine(row, '\n')).join('');
}

/** A word (a model name, a path) as it would be typed in a POSIX shell. */
export function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
