// The chronological train/validation split: the first part of the rows trains, the rest is held
// out, as when a model trained on the past meets the future.
//
// Legend: R = rows, T = window, B = boundary (the first held-out row).
//   training samples    target rows T .. B-1; every value they read (inputs and target) is before B
//   validation samples  target rows B .. R-1; their inputs may reach back before B (those values are
//                       the known past at forecast time), but no validation target is ever read by a
//                       training sample
// The normalisation is fitted on rows 0 .. B-1 only (see prepare.ts).

import { describeValue, InputError } from '../model/errors.js';
import type { Dataset } from './dataset.js';
import { type ColumnTable, type RowRange, type WindowOptions, windowTable } from './windows.js';

export const DEFAULT_TRAIN_FRACTION = 0.8;

export interface RowSplit {
  /** The first held-out row B (= rows when nothing is held out). */
  boundary: number;
  /** Rows the training samples read: [0, B). */
  trainRows: RowRange;
  /** Target rows of the training samples, in sample order: [T, B). */
  trainTargets: RowRange;
  /** Rows the validation samples read: [B - T, R), or empty at R when nothing is held out. */
  validationRows: RowRange;
  /** Target rows of the validation samples, in sample order: [B, R). */
  validationTargets: RowRange;
}

export interface SplitData extends RowSplit {
  train: Dataset;
  /** null when trainFraction is 1 (nothing held out). */
  validation: Dataset | null;
}

/**
 * Where to cut R rows for windows of T: B = round(R · trainFraction), kept below R so that a
 * fraction under 1 always holds out at least one row. trainFraction 1 holds out nothing.
 */
export function splitRows(rows: number, window: number, trainFraction = DEFAULT_TRAIN_FRACTION): RowSplit {
  if (typeof trainFraction !== 'number' || !(trainFraction > 0 && trainFraction <= 1)) {
    throw new InputError(
      'trainFraction',
      `expected a fraction greater than 0 and at most 1, got ${describeValue(trainFraction)}`,
    );
  }
  const boundary = trainFraction === 1 ? rows : Math.min(Math.round(rows * trainFraction), rows - 1);
  if (boundary - window < 1) {
    throw new InputError(
      'trainFraction',
      `the training part is ${boundary} of ${rows} rows, which gives no window of ${window} followed by a target; ` +
        'use a larger fraction, a shorter window or a longer series',
    );
  }
  const held = boundary < rows;
  return {
    boundary,
    trainRows: { start: 0, end: boundary },
    trainTargets: { start: window, end: boundary },
    validationRows: held ? { start: boundary - window, end: rows } : { start: rows, end: rows },
    validationTargets: { start: boundary, end: rows },
  };
}

/** Splits `table` chronologically and cuts each part into windows. */
export function splitTable(
  table: ColumnTable,
  options: Omit<WindowOptions, 'rows'> & { trainFraction?: number },
): SplitData {
  const rows = splitRows(table.rows, options.window, options.trainFraction);
  const settings = { inputs: options.inputs, outputs: options.outputs, window: options.window };
  const train = windowTable(table, { ...settings, rows: rows.trainRows });
  const validation = rows.boundary < table.rows ? windowTable(table, { ...settings, rows: rows.validationRows }) : null;
  return { ...rows, train, validation };
}
