import Table from 'cli-table3';
import { stringify } from 'csv-stringify/sync';
import { Option } from 'commander';

/** `--format`: an unknown value is a usage error (exit 2). */
export function formatOption<const T extends string>(choices: readonly T[], defaultValue: T): Option {
  return new Option('--format <format>', 'output format').choices(choices).default(defaultValue);
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const fixed = new Map<number, Intl.NumberFormat>();

/** `12,345` */
export const formatInt = (n: number): string => integer.format(n);

/** A number with thousands separators and `decimals` digits after the point (`minDecimals` when the rest are zeros). */
export function formatFixed(n: number, decimals: number, minDecimals = decimals): string {
  const key = decimals * 100 + minDecimals;
  let f = fixed.get(key);
  if (!f) fixed.set(key, (f = new Intl.NumberFormat('en-US', { minimumFractionDigits: minDecimals, maximumFractionDigits: decimals })));
  return f.format(n);
}

/**
 * A cost to 6 significant digits, with at least 2 decimals (`1,234.57`, `0.0123457`, `14.50`,
 * `0.0069`), so nothing that matters is rounded away.
 */
export function formatCost(x: number): string {
  if (x === 0) return '0.00';
  const magnitude = Math.floor(Math.log10(Math.abs(x)));
  return formatFixed(x, Math.min(12, Math.max(2, 5 - magnitude)), 2);
}

/** A price as stored (per million tokens or per hour): every digit kept. */
export const formatPrice = (x: number): string => String(x);

/** Seconds of runtime as hours with 2 decimals: `167.98 h`. */
export const formatHours = (seconds: number): string => `${formatFixed(seconds / 3600, 2)} h`;

/** A token range of a tier: `0 – 32,768`, `32,769 – ∞`. */
export const formatRange = (start: number, end: number): string => `${formatInt(start)} – ${end === -1 ? '∞' : formatInt(end)}`;

export interface Column {
  header: string;
  align?: 'left' | 'right';
}

/**
 * An aligned table: left-aligned text, right-aligned numbers, a rule above the totals row (if any).
 * No colours, so the output is the same on a terminal and in a pipe.
 */
export function renderTable(columns: readonly Column[], rows: readonly string[][], totals?: string[]): string {
  const table = new Table({
    head: columns.map((c) => c.header),
    colAligns: columns.map((c) => c.align ?? 'left'),
    style: { head: [], border: [], compact: true, 'padding-left': 1, 'padding-right': 1 },
  });
  for (const row of rows) table.push(row);
  if (totals) {
    table.push(columns.map((_, i) => '─'.repeat(Math.max(columns[i]!.header.length, ...rows.map((r) => displayWidth(r[i] ?? '')), displayWidth(totals[i] ?? '')))));
    table.push(totals);
  }
  return table.toString();
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

/** CSV with a header row; numbers in full precision, null as an empty field. */
export function toCsv(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return stringify([header, ...rows.map((row) => row.map(csvValue))], { record_delimiter: '\n' });
}

export function csvValue(value: unknown): string | number {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return String(value);
  return String(value);
}

/** A word (a model name, a path) as it would be typed in a POSIX shell. */
export function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
