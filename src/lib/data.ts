// The library's data: a table of named columns in time order (src/data/windows.ts's ColumnTable),
// with where it came from, so that training takes the source's defaults (a CSV's z-score and split,
// say) and the model file records its origin. From arrays here; from a CSV text or a bundled series
// in csv.ts (a separate entry point: it needs a CSV parser).

import type { ColumnTable } from '../data/windows.js';
import { describeValue, InputError } from '../model/errors.js';
import type { DataSource } from '../train/runSetup.js';
import type { DataOrigin } from '../train/savedSetup.js';

/** Data to train on, predict or forecast: make it with fromArrays, fromCsv or bundledSeries. */
export interface LstmData {
  /** The columns in time order, in the data's units. */
  readonly table: ColumnTable;
  /** Rows after the last whose outputs are not known yet (a CSV's rows with empty outputs), or null. */
  readonly future: ColumnTable | null;
  /** A short description ("bundled co2", "prices.csv", "arrays"). */
  readonly label: string;
  /** The values' unit where known ("ppm"), else null. */
  readonly unit: string | null;
  /** @internal Which defaults the data takes, and what the model file records of its origin. */
  readonly source: DataSource;
  /** @internal */
  readonly origin: DataOrigin;
}

export interface ArraysOptions {
  /** One label per row (ISO yyyy-mm-dd dates let forecasts carry dates on). */
  dates?: string[];
  /** What the model file calls the data; default "arrays". */
  label?: string;
}

/**
 * Data from columns of numbers of equal length, in time order: `{ sales: [...], price: [...] }`. Every
 * value must be a finite number; errors name the column and the row.
 */
export function fromArrays(columns: Record<string, ArrayLike<number>>, options: ArraysOptions = {}): LstmData {
  if (typeof columns !== 'object' || columns === null || Array.isArray(columns)) {
    throw new InputError('columns', `expected an object of named arrays, got ${describeValue(columns)}`);
  }
  const names = Object.keys(columns);
  if (names.length === 0) throw new InputError('columns', 'expected at least one named column, got none');
  const rows = columns[names[0]]?.length;
  const values = names.map((name) => {
    const column = columns[name];
    if (column === null || typeof column !== 'object' || typeof column.length !== 'number') {
      throw new InputError(`columns.${name}`, `expected an array of numbers, got ${describeValue(column)}`);
    }
    if (column.length !== rows) {
      throw new InputError(
        `columns.${name}`,
        `has ${column.length} values; every column must have ${rows}, as ${JSON.stringify(names[0])}`,
      );
    }
    const out = Float64Array.from(column);
    const bad = out.findIndex((v, r) => !Number.isFinite(v) || typeof column[r] !== 'number');
    if (bad >= 0)
      throw new InputError(`columns.${name}[${bad}]`, `expected a finite number, got ${describeValue(column[bad])}`);
    return out;
  });
  if (rows === undefined || rows < 2)
    throw new InputError('columns', `expected at least 2 rows, got ${describeValue(rows)}`);
  const { dates } = options;
  if (
    dates !== undefined &&
    (!Array.isArray(dates) || dates.length !== rows || dates.some((d) => typeof d !== 'string'))
  ) {
    throw new InputError('dates', `expected ${rows} strings, one per row, got ${describeValue(dates)}`);
  }
  const table: ColumnTable = { columns: names, values, rows, ...(dates ? { dates: [...dates] } : {}) };
  const label = options.label ?? 'arrays';
  return tableData(table, null, label, { kind: 'csv', fileName: label, dateColumn: null });
}

/** @internal A table the caller read (a CSV's), taking a CSV's defaults. */
export function tableData(table: ColumnTable, future: ColumnTable | null, label: string, origin: DataOrigin): LstmData {
  const source: DataSource = { kind: 'table', table, label, ...(future === null ? {} : { future }) };
  return { table, future, label, unit: null, source, origin };
}
