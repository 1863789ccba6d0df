// A CSV table as it crosses from the CSV worker to the page: the values' buffers transferred, the
// dates joined into one text. A clone of one string is a copy of its bytes; a clone of a string per
// row costs the page a pause as long as the file. So taking the table costs the page no work per row
// beyond one split. The dates' season (season.ts) is found in the worker too, so the page never
// reads every date to find it.

import type { CsvTable } from '../data/csv.js';
import { type FoundSeason, rememberSeason, seasonFromDates } from '../data/season.js';

/** The table with `dates` joined into `dateText`, and the season those dates imply. */
export interface PackedTable extends Omit<CsvTable, 'dates'> {
  dateText?: string;
  season?: FoundSeason;
}

/** Between two dates in dateText: a NUL, which a date label does not hold (one that does goes as a list). */
const DATE_SEPARATOR = '\u0000';

export function packTable(table: CsvTable): PackedTable | CsvTable {
  const { dates, ...rest } = table;
  if (dates === undefined || dates.some((date) => date.includes(DATE_SEPARATOR))) return table;
  return { ...rest, dateText: dates.join(DATE_SEPARATOR), season: seasonFromDates(dates) };
}

/** The buffers to transfer with a packed table: its columns'. */
export function tableTransfer(table: PackedTable | CsvTable): ArrayBuffer[] {
  return table.values.map((column) => column.buffer as ArrayBuffer);
}

export function unpackTable(table: PackedTable | CsvTable): CsvTable {
  if (!('dateText' in table) || table.dateText === undefined) return table as CsvTable;
  const { dateText, season, ...rest } = table;
  const dates = dateText.split(DATE_SEPARATOR);
  if (season !== undefined) rememberSeason(dates, season);
  return { ...rest, dates };
}
