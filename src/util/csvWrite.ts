// Every CSV the project writes (predict's forecast, the charts' data, the benchmark's results) goes
// through writeCsv, which escapes text cells a spreadsheet would run as a formula (OWASP's CSV
// injection guidance): a cell that begins with =, +, -, @, a tab or a carriage return gets a leading
// apostrophe and quotes, so `=cmd|' /C calc'!A0` shows as text. Numbers stay numbers, whether given
// as numbers or as their text (`-0.5`, `+3e-7`).

import Papa from 'papaparse';

const FORMULA_START = /^[=+\-@\t\r]/;
/** A plain decimal number, as String(number) writes one (what a spreadsheet reads as a number, not a formula). */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

export type CsvCell = string | number | null | undefined;

/** The cell as written: empty for none, a number as it is, text escaped where it would start a formula. */
export function csvCell(value: CsvCell): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return typeof value === 'string' && FORMULA_START.test(text) && !NUMBER.test(text) ? `'${text}` : text;
}

/** A CSV with a header row, `\n` line ends and a final line end, every text cell escaped as csvCell says. */
export function writeCsv(fields: readonly CsvCell[], rows: readonly (readonly CsvCell[])[]): string {
  const escaped = (cells: readonly CsvCell[]) => cells.map(csvCell);
  const text = Papa.unparse(
    { fields: escaped(fields), data: rows.map(escaped) },
    // OWASP: an escaped cell is also quoted.
    { newline: '\n', quotes: (value: unknown) => typeof value === 'string' && /^'[=+\-@\t\r]/.test(value) },
  );
  return `${text}\n`;
}
