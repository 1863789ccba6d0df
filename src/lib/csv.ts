// The library's `/csv` entry point: data from a CSV text (src/data/csv.ts: delimiter, header, number
// and date formats detected; rows with empty outputs at the end kept as the data's future) and the
// series bundled with the project (src/data/bundled.ts). Separate from the main entry because the
// CSV reader carries papaparse.

import { BUNDLED_UNITS, type BundledName, type BundledOptions, loadBundledSeries } from '../data/bundled.js';
import { type CsvOptions, parseCsvText } from '../data/csv.js';
import { describeValue, InputError } from '../model/errors.js';
import { type LstmData, tableData } from './data.js';

export type { BundledName, BundledOptions, CsvOptions };

/**
 * Data from a CSV file's text: every numeric column a value column, a date column found by its name or
 * its values; `name` is what the model file calls it. Errors name the row and the column.
 */
export function fromCsv(text: string, options: CsvOptions & { name?: string } = {}): LstmData {
  if (typeof text !== 'string')
    throw new InputError('text', `expected the CSV file's text, got ${describeValue(text)}`);
  const { name = 'data.csv', ...csv } = options;
  const table = parseCsvText(text, { field: name, futureRows: true, ...csv });
  const used = table.defaultColumns.length > 0 && options.valueColumns === undefined;
  const columns = used ? { ...table, ...pick(table, table.defaultColumns) } : table;
  return tableData(columns, table.future, name, { kind: 'csv', fileName: name, dateColumn: table.dateColumn });
}

/** The table's `names` columns only. */
function pick(table: ReturnType<typeof parseCsvText>, names: string[]) {
  return { columns: names, values: names.map((n) => table.values[table.columns.indexOf(n)]) };
}

/** A series bundled with the project: 'co2' (ppm, monthly), 'sp500', or 'stocks' (options.symbol: AAPL…). */
export function bundledSeries(name: BundledName, options: BundledOptions = {}): LstmData {
  const table = loadBundledSeries(name, options);
  return {
    table,
    future: null,
    label: `bundled ${name}`,
    unit: BUNDLED_UNITS[name],
    source: { kind: 'bundled', name, options },
    origin: { kind: 'bundled' },
  };
}
