// Errors in the data's own units, for the model and the baselines alike: one-step-ahead level
// predictions for a part's target rows against the actual levels.
//
// Legend: R = rows, N = a part's target rows [start, end), O = output columns, L = the transform's lag.
//   levels (N, O)   row-major: predictions[n * O + o] is output o at row start + n
//   RMSE_o = sqrt(mean over n of (ŷ - y)²)    MAE_o = mean over n of |ŷ - y|     (per output column)

import { type LossName, lossScale } from '../model/optimizer.js';
import type { PreparedData } from './prepare.js';
import { toTransformed } from './transform.js';
import type { RowRange } from './windows.js';

export type PartName = 'train' | 'validation' | 'test';

/** Per output column, in its units. (O) */
export interface ColumnErrors {
  rmse: number[];
  mae: number[];
}

/** The target rows of a part. */
export function partTargets(prepared: PreparedData, part: PartName): RowRange {
  switch (part) {
    case 'train':
      return prepared.trainTargets;
    case 'validation':
      return prepared.validationTargets;
    case 'test':
      return prepared.testTargets;
  }
}

/** Output o's column of levels (R). */
export function outputLevels(prepared: PreparedData, o: number): Float64Array {
  return prepared.table.values[prepared.table.columns.indexOf(prepared.outputs[o])];
}

/** The actual levels at `targets`. (N, O) */
export function actualLevels(prepared: PreparedData, targets: RowRange): Float64Array {
  const O = prepared.outputs.length;
  const out = new Float64Array((targets.end - targets.start) * O);
  for (let o = 0; o < O; o++) {
    const column = outputLevels(prepared, o);
    for (let r = targets.start; r < targets.end; r++) out[(r - targets.start) * O + o] = column[r];
  }
  return out;
}

/** RMSE and MAE per output column of `predicted` (N, O) against the actual levels at `targets`. */
export function errorsInUnits(prepared: PreparedData, targets: RowRange, predicted: ArrayLike<number>): ColumnErrors {
  const O = prepared.outputs.length;
  const actual = actualLevels(prepared, targets);
  const count = targets.end - targets.start;
  const rmse: number[] = [];
  const mae: number[] = [];
  for (let o = 0; o < O; o++) {
    let squares = 0;
    let absolute = 0;
    for (let n = 0; n < count; n++) {
      const d = predicted[n * O + o] - actual[n * O + o];
      squares += d * d;
      absolute += Math.abs(d);
    }
    rmse.push(Math.sqrt(squares / count));
    mae.push(absolute / count);
  }
  return { rmse, mae };
}

/** actual - predicted at `targets`, in the data's units. (N, O) */
export function residuals(prepared: PreparedData, targets: RowRange, predicted: ArrayLike<number>): Float64Array {
  const actual = actualLevels(prepared, targets);
  return actual.map((value, i) => value - predicted[i]);
}

/**
 * The trainer's error (the same loss over the same samples, in the model's normalized, transformed
 * units) that level predictions `predicted` (N, O) at `targets` would have: what puts a baseline on the
 * error chart beside the model's own error.
 */
export function modelSpaceLoss(
  prepared: PreparedData,
  targets: RowRange,
  predicted: ArrayLike<number>,
  loss: LossName,
): number {
  const O = prepared.outputs.length;
  const count = targets.end - targets.start;
  const { kind, lag } = prepared.transform;
  // The normalization's offset cancels in a difference; its scale does not.
  const { columns, scale } = prepared.normalization;
  let sum = 0;
  for (let o = 0; o < O; o++) {
    const levels = outputLevels(prepared, o);
    const c = columns.indexOf(prepared.outputs[o]);
    for (let r = targets.start; r < targets.end; r++) {
      const reference = lag === 0 ? 0 : levels[r - lag];
      const guess = toTransformed(kind, predicted[(r - targets.start) * O + o], reference);
      const actual = toTransformed(kind, levels[r], reference);
      const d = (guess - actual) / scale[c];
      sum += d * d;
    }
  }
  return lossScale(loss, count, O) * 0.5 * sum;
}
