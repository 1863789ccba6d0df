// What the model predicts: the series' levels (the blog's), or how each row differs from the one it
// follows, so that a trending series looks alike before and after the split and a model trained on
// the past can follow it beyond the training range. Every transform is undone for every chart,
// metric and forecast (toLevel below), so people only ever see levels in the data's units.
//
// Legend: R = rows, L = lag, y = a column's levels, z = its transformed values.
//   levels                z[r] = y[r]                        y[r] = z[r]                     L = 0
//   differences           z[r] = y[r] - y[r-1]               y[r] = y[r-1] + z[r]            L = 1
//   log-returns           z[r] = ln(y[r] / y[r-1])           y[r] = y[r-1] · exp(z[r])       L = 1
//   seasonal-differences  z[r] = y[r] - y[r-m]               y[r] = y[r-m] + z[r]            L = m, the seasonal period
// z[r] exists for rows r >= L only; the rows before are NaN and no window reads them.

import { describeValue, InputError } from '../model/errors.js';
import type { ColumnTable } from './windows.js';

export const TRANSFORMS = ['levels', 'differences', 'log-returns', 'seasonal-differences'] as const;
export type Transform = (typeof TRANSFORMS)[number];

/** A transform with its lag settled (the seasonal period for seasonal differences). */
export interface TargetTransform {
  kind: Transform;
  /** Rows each transformed value looks back: 0 for levels, 1 for differences and log returns, m for seasonal. */
  lag: number;
}

/** The transform's lag; seasonal differences need a seasonal period. */
export function targetTransform(kind: Transform, season: number | null): TargetTransform {
  switch (kind) {
    case 'levels':
      return { kind, lag: 0 };
    case 'differences':
    case 'log-returns':
      return { kind, lag: 1 };
    case 'seasonal-differences':
      if (season === null) {
        throw new InputError(
          'transform',
          'seasonal differences need a seasonal period: set season, or pick another transform',
        );
      }
      return { kind, lag: season };
    default:
      throw new InputError('transform', `expected one of ${TRANSFORMS.join(', ')}, got ${describeValue(kind)}`);
  }
}

/** z for `value` at a row whose reference level (y[r-1], or y[r-m]) is `reference`. */
export function toTransformed(kind: Transform, value: number, reference: number): number {
  switch (kind) {
    case 'levels':
      return value;
    case 'log-returns':
      return Math.log(value / reference);
    default:
      return value - reference;
  }
}

/** The level that transformed value `z` means at a row whose reference level is `reference`. */
export function toLevel(kind: Transform, z: number, reference: number): number {
  switch (kind) {
    case 'levels':
      return z;
    case 'log-returns':
      return reference * Math.exp(z);
    default:
      return reference + z;
  }
}

/**
 * The table with every column transformed (rows before the lag are NaN). Log returns need every value
 * to be above 0: the first that is not is named, with its row (and date).
 */
export function transformTable(table: ColumnTable, transform: TargetTransform): ColumnTable {
  const { kind, lag } = transform;
  if (kind === 'levels') return table;
  if (lag >= table.rows) {
    throw new InputError(
      'transform',
      `${kind} look back ${lag} rows, but the data has only ${table.rows}; use a shorter season or another transform`,
    );
  }
  const values = table.values.map((column, c) => {
    const out = new Float64Array(table.rows).fill(Number.NaN);
    for (let r = 0; r < table.rows; r++) {
      if (kind === 'log-returns' && !(column[r] > 0)) {
        const at = table.dates ? ` (${table.dates[r]})` : '';
        throw new InputError(
          'transform',
          `log returns need values above 0, but column ${describeValue(table.columns[c])} holds ${column[r]} at row ${r + 1}${at}; use differences`,
        );
      }
      if (r >= lag) out[r] = toTransformed(kind, column[r], column[r - lag]);
    }
    return out;
  });
  return { ...table, values };
}

/**
 * Levels from transformed values predicted one step ahead: row `firstRow + n` gets
 * toLevel(z[n], its actual reference level), one column of actual levels `levels` (R).
 */
export function oneStepLevels(
  transform: TargetTransform,
  levels: ArrayLike<number>,
  firstRow: number,
  predicted: ArrayLike<number>,
): Float64Array {
  const out = new Float64Array(predicted.length);
  for (let n = 0; n < predicted.length; n++) {
    const row = firstRow + n;
    out[n] = toLevel(transform.kind, predicted[n], transform.lag === 0 ? 0 : levels[row - transform.lag]);
  }
  return out;
}

/**
 * Levels of a free-running path: step s lands on row `firstRow + s`, and its reference level is the
 * actual one while that row is before `firstRow`, else the path's own earlier level. `history` holds
 * the actual levels of one column for rows 0..firstRow-1 (at least its last L).
 */
export function pathLevels(
  transform: TargetTransform,
  history: ArrayLike<number>,
  firstRow: number,
  predicted: ArrayLike<number>,
): Float64Array {
  const { kind, lag } = transform;
  const out = new Float64Array(predicted.length);
  for (let s = 0; s < predicted.length; s++) {
    const back = firstRow + s - lag;
    const reference = lag === 0 ? 0 : back < firstRow ? history[back] : out[back - firstRow];
    out[s] = toLevel(kind, predicted[s], reference);
  }
  return out;
}
