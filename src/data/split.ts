// The chronological split into up to three parts, as when a model trained on the past meets the
// future: training | validation | test. The validation part chooses the best epoch; the test part
// (the last rows) is held out from every choice and measures the result.
//
// Legend: R = rows, T = window, L = the transform's lag (transform.ts), V = the first validation row,
// B = the first test row (the boundary).
//   training samples    target rows L+T .. V-1; every value they read is before V
//   validation samples  target rows V .. B-1 (none when V = B)
//   test samples        target rows B .. R-1 (none when B = R)
// A sample reads the T rows before its target (and, through the transform, L more), which may lie in
// an earlier part: those values are the known past at forecast time. No target is read by an earlier
// part's samples. The normalization is fitted on the training rows only (see prepare.ts).
//   B = round(R · trainFraction), kept below R so that a fraction under 1 holds out at least a row
//   V = round(R · (trainFraction - validationFraction)), or B without a validation part

import { describeValue, InputError } from '../model/errors.js';
import type { Dataset } from './dataset.js';
import { type ColumnTable, type RowRange, type WindowOptions, windowTable } from './windows.js';

export const DEFAULT_TRAIN_FRACTION = 0.8;

export interface SplitFractions {
  /** The share of rows before the test part (training and validation); 1 holds nothing out. Default 0.8. */
  trainFraction?: number;
  /** The share of rows in the validation part, taken from the end of the part before the test; default 0. */
  validationFraction?: number;
  /** Rows the transform looks back (0 for levels): the first L rows are no sample's input. Default 0. */
  lag?: number;
}

export interface RowSplit {
  /** The first test row B (= rows when nothing is held out). */
  boundary: number;
  /** The first validation row V (= B without a validation part). */
  validationStart: number;
  /** Rows the training samples read: [0, V). */
  trainRows: RowRange;
  /** Target rows of the training samples, in sample order: [L + T, V). */
  trainTargets: RowRange;
  /** Rows the validation samples read: [V - T, B), or empty at B. */
  validationRows: RowRange;
  /** Target rows of the validation samples: [V, B). */
  validationTargets: RowRange;
  /** Rows the test samples read: [B - T, R), or empty at R. */
  testRows: RowRange;
  /** Target rows of the test samples: [B, R). */
  testTargets: RowRange;
}

export interface SplitData extends RowSplit {
  train: Dataset;
  /** null without a validation part. */
  validation: Dataset | null;
  /** null when trainFraction is 1 (nothing held out). */
  test: Dataset | null;
}

/** Where to cut R rows for windows of T. */
export function splitRows(rows: number, window: number, fractions: SplitFractions = {}): RowSplit {
  const { trainFraction = DEFAULT_TRAIN_FRACTION, validationFraction = 0, lag = 0 } = fractions;
  if (typeof trainFraction !== 'number' || !(trainFraction > 0 && trainFraction <= 1)) {
    throw new InputError(
      'trainFraction',
      `expected a fraction greater than 0 and at most 1, got ${describeValue(trainFraction)}`,
    );
  }
  if (typeof validationFraction !== 'number' || !(validationFraction >= 0 && validationFraction < trainFraction)) {
    throw new InputError(
      'validation',
      `expected a share from 0 up to (not including) the training share ${trainFraction}, got ${describeValue(validationFraction)}`,
    );
  }
  const boundary = trainFraction === 1 ? rows : Math.min(Math.round(rows * trainFraction), rows - 1);
  const validationStart = validationFraction === 0 ? boundary : Math.round(rows * (trainFraction - validationFraction));
  if (validationFraction > 0 && validationStart >= boundary) {
    throw new InputError(
      'validation',
      `a share of ${validationFraction} of ${rows} rows is no whole row; use a larger share, or 0 for no validation part`,
    );
  }
  const first = lag + window;
  if (validationStart - first < 1) {
    const looks = lag > 0 ? ` (and the transform's ${lag} row${lag > 1 ? 's' : ''} before it)` : '';
    throw new InputError(
      'trainFraction',
      `the training part is ${validationStart} of ${rows} rows, which gives no window of ${window}${looks} followed by a target; ` +
        'use a larger fraction, a shorter window or a longer series',
    );
  }
  const part = (start: number, end: number): RowRange =>
    start < end ? { start: start - window, end } : { start: end, end };
  return {
    boundary,
    validationStart,
    trainRows: { start: 0, end: validationStart },
    trainTargets: { start: first, end: validationStart },
    validationRows: part(validationStart, boundary),
    validationTargets: { start: validationStart, end: boundary },
    testRows: part(boundary, rows),
    testTargets: { start: boundary, end: rows },
  };
}

/** Splits `table` chronologically and cuts each part into windows (rows before the lag read by none). */
export function splitTable(table: ColumnTable, options: Omit<WindowOptions, 'rows'> & SplitFractions): SplitData {
  const rows = splitRows(table.rows, options.window, options);
  const settings = { inputs: options.inputs, outputs: options.outputs, window: options.window };
  const windows = (range: RowRange) =>
    range.start < range.end ? windowTable(table, { ...settings, rows: range }) : null;
  const train = windowTable(table, { ...settings, rows: { start: options.lag ?? 0, end: rows.validationStart } });
  return { ...rows, train, validation: windows(rows.validationRows), test: windows(rows.testRows) };
}

/** The part whose error is measured after every epoch and chooses the best one: validation, else test. */
export function selectionPart(split: SplitData): { name: 'validation' | 'test'; data: Dataset } | null {
  if (split.validation !== null) return { name: 'validation', data: split.validation };
  if (split.test !== null) return { name: 'test', data: split.test };
  return null;
}
