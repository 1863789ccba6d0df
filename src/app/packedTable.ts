// A CSV table as it crosses from the CSV worker to the page: the values' buffers transferred, the
// dates joined into one text. A clone of one string is a copy of its bytes; a clone of a string per
// row costs the page a pause as long as the file. So taking the table costs the page no work per row
// beyond one split.

import type { CsvTable } from '../data/csv.js';

/** The table with `dates` joined into `dateText`. */
export interface PackedTable extends Omit<CsvTable, 'dates'> {
  dateText?: string;
}

/** Between two dates in dateText: a NUL, which a date label does not hold (one that does goes as a list). */
const DATE_SEPARATOR = '\u0000';

export function packTable(table: CsvTable): PackedTable | CsvTable {
  const { dates, ...rest } = table;
  if (dates === undefined || dates.some((date) => date.includes(DATE_SEPARATOR))) return table;
  return { ...rest, dateText: dates.join(DATE_SEPARATOR) };
}

/** The buffers to transfer with a packed table: its columns'. */
export function tableTransfer(table: PackedTable | CsvTable): ArrayBuffer[] {
  return table.values.map((column) => column.buffer as ArrayBuffer);
}

export function unpackTable(table: PackedTable | CsvTable): CsvTable {
  if (!('dateText' in table) || table.dateText === undefined) return table as CsvTable;
  const { dateText, ...rest } = table;
  return { ...rest, dates: dateText.split(DATE_SEPARATOR) };
}
