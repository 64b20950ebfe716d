/**
 * CSV as RFC 4180 writes it: fields with a comma, quote or line break are quoted, quotes doubled, lines
 * end in CRLF. A text field starting with `=`, `+`, `-` or `@` gets a leading `'`, so that a spreadsheet
 * shows a model name such as `=HYPERLINK(…)` as text instead of running it (OWASP's advice against CSV
 * injection). Numbers are written as JavaScript prints them (full precision), null as an empty field.
 */

export type CsvValue = string | number | boolean | null | undefined;

export function csvField(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'string') return String(value);
  const text = /^[=+\-@]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One CSV record with its line end: RFC 4180's CRLF, or `\n` where the output goes to Unix tools (the CLI). */
export function csvLine(fields: readonly CsvValue[], eol: '\r\n' | '\n' = '\r\n'): string {
  return `${fields.map(csvField).join(',')}${eol}`;
}
