// Per-column normalization, fitted on the training rows only (statistics of the held-out part must
// not reach the model), applied to the whole table, and undone for charts and exported forecasts.
//
//   normalized = (value - offset) / scale        value = normalized · scale + offset
//   z-score:  offset = mean,  scale = standard deviation (population) of the training rows
//   min-max:  offset = min,   scale = max - min, so the training rows span [0, 1]
//   none:     offset = 0,     scale = 1
// A constant column (scale 0, or below float32's smallest normal number) gets scale 1: it normalizes
// to 0 (z-score and min-max alike) instead of dividing by zero, and the inverse still returns the
// constant. Offsets and scales, fitted or read, stay finite in float32 with offset ± scale too, so
// the model file can hold them; normalized values that leave float32's range are refused.
//
// `Normalization` is plain JSON (numbers, strings, arrays), the form the model file stores.

import { describeValue, InputError } from '../model/errors.js';
import { FLOAT32_MAX, FLOAT32_MIN_NORMAL, field, float32Number, isFloat32Finite, isRecord } from '../model/validate.js';
import { type ColumnRef, type ColumnTable, columnIndex, type RowRange } from './windows.js';

export const NORMALIZE_METHODS = ['z-score', 'min-max', 'none'] as const;
export type NormalizeMethod = (typeof NORMALIZE_METHODS)[number];

export interface Normalization {
  method: NormalizeMethod;
  /** The table's column names, in order. (C) */
  columns: string[];
  /** (C) */
  offset: number[];
  /** (C), every one > 0 */
  scale: number[];
}

/** Fits `method` on `rows` of every column of `table` (the training rows: default all). */
export function fitNormalization(table: ColumnTable, method: NormalizeMethod, rows?: RowRange): Normalization {
  if (!NORMALIZE_METHODS.includes(method)) {
    throw new InputError('normalise', `expected one of ${NORMALIZE_METHODS.join(', ')}, got ${describeValue(method)}`);
  }
  const { start, end } = rows ?? { start: 0, end: table.rows };
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > table.rows || end - start < 1) {
    throw new InputError('rows', `expected a non-empty range within 0..${table.rows}, got ${start}..${end}`);
  }
  const offset: number[] = [];
  const scale: number[] = [];
  table.values.forEach((column, c) => {
    const [o, s] = fitColumn(column.subarray(start, end), method);
    const kept = s >= FLOAT32_MIN_NORMAL && Number.isFinite(s) ? s : 1;
    const problem = columnProblem(o, kept);
    if (problem !== null) {
      throw new InputError(
        'normalise',
        `column ${describeValue(table.columns[c])} cannot be normalised with ${method}: ${problem}`,
      );
    }
    offset.push(o);
    scale.push(kept);
  });
  return { method, columns: [...table.columns], offset, scale };
}

function fitColumn(values: Float64Array, method: NormalizeMethod): [number, number] {
  if (method === 'none') return [0, 1];
  if (method === 'min-max') {
    let min = Infinity;
    let max = -Infinity;
    for (const v of values) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    return [min, max - min];
  }
  // Two passes: the mean first, then squared deviations from it, which keeps the variance accurate
  // for series far from 0 (prices, CO2 in ppm).
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / values.length;
  let squares = 0;
  for (const v of values) squares += (v - mean) * (v - mean);
  return [mean, Math.sqrt(squares / values.length)];
}

/** A new table with every column normalized; `norm` must have been fitted on a table with these columns. */
export function normalizeTable(table: ColumnTable, norm: Normalization): ColumnTable {
  checkColumns(table, norm);
  const values = table.values.map((column, c) => normalizeColumn(norm, c, column, 'normalise'));
  return { ...table, values };
}

/**
 * (values - offset) / scale of column c into a new array; a result beyond float32's range (data far
 * outside what the scale was fitted on) is an InputError on `field`, naming the row.
 */
function normalizeColumn(norm: Normalization, c: number, values: ArrayLike<number>, field: string): Float64Array {
  const out = new Float64Array(values.length);
  const o = norm.offset[c];
  const s = norm.scale[c];
  for (let r = 0; r < values.length; r++) {
    out[r] = (values[r] - o) / s;
    if (!isFloat32Finite(out[r])) {
      throw new InputError(
        field,
        `value ${values[r]} (data row ${r + 1} of column ${describeValue(norm.columns[c])}) normalises to ${Number(out[r].toPrecision(6))} ` +
          `with offset ${o} and scale ${s}, beyond float32's range`,
      );
    }
  }
  return out;
}

/** Normalizes values of one column (by name or index) into a new array. */
export function normalizeValues(norm: Normalization, column: ColumnRef, values: ArrayLike<number>): Float64Array {
  return normalizeColumn(norm, normalizedColumn(norm, column), values, 'normalisation');
}

/** Maps normalized values of one column (a forecast, say) back to original units, into a new array. */
export function denormalizeValues(norm: Normalization, column: ColumnRef, values: ArrayLike<number>): Float64Array {
  const c = normalizedColumn(norm, column);
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i] * norm.scale[c] + norm.offset[c];
  return out;
}

/**
 * Maps normalized model outputs (N, O), row-major as the trainer produces them, back to original
 * units, given the output columns in the order the model predicts them.
 */
export function denormalizeOutputs(
  norm: Normalization,
  outputs: readonly ColumnRef[],
  values: ArrayLike<number>,
): Float64Array {
  const columns = outputs.map((ref) => normalizedColumn(norm, ref));
  const width = columns.length;
  if (width < 1 || values.length % width !== 0) {
    throw new InputError('outputs', `${values.length} values do not split into rows of ${width} outputs`);
  }
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const c = columns[i % width];
    out[i] = values[i] * norm.scale[c] + norm.offset[c];
  }
  return out;
}

/** Reads a normalization from untrusted JSON (a model file's optional field). */
export function readNormalization(value: unknown, path = 'normalisation'): Normalization {
  if (!isRecord(value)) throw new InputError(path, `expected an object, got ${describeValue(value)}`);
  const method = field(value, 'method', path);
  if (typeof method !== 'string' || !(NORMALIZE_METHODS as readonly string[]).includes(method)) {
    throw new InputError(
      `${path}.method`,
      `expected one of ${NORMALIZE_METHODS.join(', ')}, got ${describeValue(method)}`,
    );
  }
  const columns = field(value, 'columns', path);
  if (!Array.isArray(columns) || columns.length < 1 || columns.length > 100_000) {
    throw new InputError(`${path}.columns`, `expected a list of column names, got ${describeValue(columns)}`);
  }
  const names = columns.map((name, c) => {
    if (typeof name !== 'string') {
      throw new InputError(`${path}.columns[${c}]`, `expected a column name, got ${describeValue(name)}`);
    }
    return name;
  });
  const numbers = (key: 'offset' | 'scale'): unknown[] => {
    const list = field(value, key, path);
    if (!Array.isArray(list) || list.length !== names.length) {
      throw new InputError(`${path}.${key}`, `expected ${names.length} numbers, got ${describeValue(list)}`);
    }
    return list;
  };
  const offset = numbers('offset').map((o, c) => float32Number(o, `${path}.offset[${c}]`));
  const scale = numbers('scale').map((s, c) => {
    if (!(isFloat32Finite(s) && s >= FLOAT32_MIN_NORMAL)) {
      throw new InputError(
        `${path}.scale[${c}]`,
        `expected a number from ${FLOAT32_MIN_NORMAL} to ${FLOAT32_MAX} (normal and finite in float32), got ${describeValue(s)}`,
      );
    }
    return s;
  });
  offset.forEach((o, c) => {
    const problem = columnProblem(o, scale[c]);
    if (problem !== null) throw new InputError(`${path}.offset[${c}]`, problem);
  });
  return { method: method as NormalizeMethod, columns: names, offset, scale };
}

/**
 * Why offset and scale cannot serve a column, or null: both must be finite in float32, the scale a
 * normal float32 (not 0 once rounded or flushed), and offset ± scale finite too, so that the values
 * the training rows normalise to (within a few units of 0) map back to finite ones.
 */
function columnProblem(offset: number, scale: number): string | null {
  if (!isFloat32Finite(offset)) return `the offset ${offset} is beyond float32's range`;
  if (!(isFloat32Finite(scale) && scale >= FLOAT32_MIN_NORMAL)) {
    return `the scale ${scale} is not a normal float32 number (${FLOAT32_MIN_NORMAL} to ${FLOAT32_MAX})`;
  }
  if (!isFloat32Finite(Math.abs(offset) + scale)) {
    return `offset ${offset} ± scale ${scale} is beyond float32's range, so denormalised values would overflow`;
  }
  return null;
}

function normalizedColumn(norm: Normalization, ref: ColumnRef): number {
  return columnIndex({ columns: norm.columns, values: [], rows: 0 }, ref, 'column');
}

function checkColumns(table: ColumnTable, norm: Normalization): void {
  const same =
    table.columns.length === norm.columns.length && table.columns.every((name, c) => name === norm.columns[c]);
  if (!same) {
    throw new InputError(
      'normalisation',
      `was fitted on columns ${JSON.stringify(norm.columns)}, not ${JSON.stringify(table.columns)}`,
    );
  }
}
