/** CSV text (RFC 4180): quoted where needed, and spreadsheet formulas defused. Pure. */
export type Cell = string | number | null | undefined;

export function csvCell(value: Cell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  // A text cell starting with = + - @ (or a tab/CR) would run as a formula in a spreadsheet.
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A table as CSV lines (each ending CRLF), for streaming: no export is built as one string. */
export function* csvLines(header: string[], rows: Iterable<Cell[]>): Generator<string> {
  yield `${header.map(csvCell).join(',')}\r\n`;
  for (const row of rows) yield `${row.map(csvCell).join(',')}\r\n`;
}
