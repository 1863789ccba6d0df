// Tables of named columns (a parsed CSV, a bundled series, a generated one) and the windows cut
// from them: T consecutive rows of the input columns predict the output columns of the next row.
//
// Legend: R = rows, C = columns, T = window, I = input columns, O = output columns, N = samples.
//   table.values[c]  (R)        one column, in time order
//   dataset.x        (N, T, I)  sample n holds rows start+n .. start+n+T-1 of the input columns
//   dataset.t        (N, O)     the output columns at row start+n+T (the sample's target row)

import { describeValue, InputError } from '../model/errors.js';
import { allocateFloat32, LIMITS } from '../model/validate.js';
import { type Dataset, MAX_DATASET_VALUES } from './dataset.js';

/** Columns of equal length in time order; values in float64 so that statistics stay exact. */
export interface ColumnTable {
  /** Column names: data, shown as text only. (C) */
  columns: string[];
  /** One array per column. (C)(R) */
  values: Float64Array[];
  /** Row count R. */
  rows: number;
  /** One label per row when the source had a date column (ISO yyyy-mm-dd for bundled series). (R) */
  dates?: string[];
}

/** Half-open range of rows [start, end). */
export interface RowRange {
  start: number;
  end: number;
}

/** A column chosen by name or by 0-based index. */
export type ColumnRef = string | number;

/** A one-column table from a series (a generated one, say), so every source goes the same way. */
export function tableFromSeries(series: ArrayLike<number>, name = 'value'): ColumnTable {
  return { columns: [name], values: [Float64Array.from(series)], rows: series.length };
}

/** Resolves column references to indices; `field` names the setting in errors. */
export function columnIndices(table: ColumnTable, refs: readonly ColumnRef[], field: string): number[] {
  if (!Array.isArray(refs) || refs.length < 1) {
    throw new InputError(field, `choose at least one column (columns: ${listColumns(table)})`);
  }
  const seen = new Set<number>();
  return refs.map((ref, k) => {
    const index = columnIndex(table, ref, `${field}[${k}]`);
    if (seen.has(index)) throw new InputError(field, `column ${describeValue(table.columns[index])} is chosen twice`);
    seen.add(index);
    return index;
  });
}

export function columnIndex(table: ColumnTable, ref: ColumnRef, field: string): number {
  if (typeof ref === 'number') {
    if (Number.isInteger(ref) && ref >= 0 && ref < table.columns.length) return ref;
    throw new InputError(
      field,
      `expected a column number from 0 to ${table.columns.length - 1}, got ${describeValue(ref)}`,
    );
  }
  const index = typeof ref === 'string' ? table.columns.indexOf(ref) : -1;
  if (index < 0) throw new InputError(field, `no column ${describeValue(ref)} (columns: ${listColumns(table)})`);
  return index;
}

export interface WindowOptions {
  /** Columns fed to the model at each step (inputSize = their count). */
  inputs: readonly ColumnRef[];
  /** Columns predicted for the row after each window (outputSize = their count). */
  outputs: readonly ColumnRef[];
  window: number;
  /** Rows whose values may be read; default all. Every window and its target lie inside. */
  rows?: RowRange;
}

/**
 * Every window of `window` consecutive rows inside `rows`, with the next row's outputs as target:
 * N = (end - start) - window samples. For a single input-and-output column these are the blog's windows.
 */
export function windowTable(table: ColumnTable, options: WindowOptions): Dataset {
  const inputs = columnIndices(table, options.inputs, 'inputs');
  const outputs = columnIndices(table, options.outputs, 'outputs');
  const window = options.window;
  if (typeof window !== 'number' || !Number.isInteger(window) || window < 1 || window > LIMITS.window) {
    throw new InputError('window', `expected a whole number from 1 to ${LIMITS.window}, got ${describeValue(window)}`);
  }
  const { start, end } = options.rows ?? { start: 0, end: table.rows };
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > table.rows || start > end) {
    throw new InputError('rows', `expected a range within 0..${table.rows}, got ${start}..${end}`);
  }
  const count = end - start - window;
  if (count < 1) {
    throw new InputError(
      'window',
      `${end - start} rows give no window of ${window} followed by a target; the window must be at most ${end - start - 1}`,
    );
  }
  const inputSize = inputs.length;
  const outputSize = outputs.length;
  if (count * window * inputSize > MAX_DATASET_VALUES) {
    throw new InputError(
      'window',
      `${count} windows of ${window} rows × ${inputSize} inputs is ${count * window * inputSize} values, over the ` +
        `limit of ${MAX_DATASET_VALUES}; use a shorter window, fewer rows or fewer input columns`,
    );
  }
  const t = allocateFloat32(count * outputSize, 'window'); // (N, O)
  const outputColumns = outputs.map((c) => table.values[c]);
  for (let n = 0; n < count; n++) {
    for (let o = 0; o < outputSize; o++) t[n * outputSize + o] = outputColumns[o][start + n + window];
  }
  // The windows hold every row T times over: they are cut when first read, so a caller that needs
  // only the counts (the page's preview of a large file, on its main thread) never cuts them.
  let x: Float32Array | null = null;
  const inputColumns = inputs.map((c) => table.values[c]);
  return {
    count,
    window,
    inputSize,
    outputSize,
    get x() {
      x ??= cutWindows(inputColumns, start, count, window);
      return x;
    },
    t,
  };
}

/** (N, T, I) the windows of `window` rows from row `start` on, sample n reading rows start+n.. */
function cutWindows(inputColumns: Float64Array[], start: number, count: number, window: number): Float32Array {
  const inputSize = inputColumns.length;
  const x = allocateFloat32(count * window * inputSize, 'window'); // (N, T, I)
  for (let n = 0; n < count; n++) {
    const first = start + n;
    let p = n * window * inputSize;
    for (let s = 0; s < window; s++) {
      for (let i = 0; i < inputSize; i++) x[p++] = inputColumns[i][first + s];
    }
  }
  return x;
}

function listColumns(table: ColumnTable): string {
  const names = table.columns.slice(0, 20).map((name) => JSON.stringify(name));
  if (table.columns.length > 20) names.push(`… ${table.columns.length - 20} more`);
  return names.join(', ') || 'none';
}

/** A table of just the chosen columns, in the order given (the arrays are shared, not copied). */
export function selectColumns(table: ColumnTable, refs: readonly ColumnRef[], field = 'columns'): ColumnTable {
  const indices = columnIndices(table, refs, field);
  const selected: ColumnTable = {
    columns: indices.map((c) => table.columns[c]),
    values: indices.map((c) => table.values[c]),
    rows: table.rows,
  };
  if (table.dates) selected.dates = table.dates;
  return selected;
}

/**
 * `table` with `future`'s rows after its own (rows past the data's end whose outputs are not known
 * yet: a CSV's future rows). `future` has the same columns; its dates follow the table's where both
 * have them. Without future rows, the table itself.
 */
export function withFutureRows(table: ColumnTable, future: ColumnTable | undefined): ColumnTable {
  if (future === undefined || future.rows === 0) return table;
  if (future.columns.join('\u0000') !== table.columns.join('\u0000')) {
    throw new InputError('future', 'the future rows must have the same columns as the data');
  }
  const rows = table.rows + future.rows;
  const values = table.values.map((column, c) => {
    const out = new Float64Array(rows);
    out.set(column.subarray(0, table.rows));
    out.set(future.values[c], table.rows);
    return out;
  });
  const joined: ColumnTable = { columns: table.columns, values, rows };
  if (table.dates && future.dates) joined.dates = [...table.dates, ...future.dates];
  return joined;
}
