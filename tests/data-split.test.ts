// The chronological split and the whole preparation: sizes, no validation target reaching training,
// normalisation fitted on the training rows only.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { denormaliseOutputs } from '../src/data/normalise.js';
import { prepareData } from '../src/data/prepare.js';
import { splitRows, splitTable } from '../src/data/split.js';
import type { ColumnTable } from '../src/data/windows.js';
import { InputError } from '../src/model/errors.js';

/** Row r holds r in every column (plus 1000·c), so a window's values say which rows it read. */
function rowTable(rows: number, columns = 1): ColumnTable {
  return {
    columns: Array.from({ length: columns }, (_, c) => `c${c}`),
    values: Array.from({ length: columns }, (_, c) => Float64Array.from({ length: rows }, (_, r) => r + 1000 * c)),
    rows,
  };
}

const arbSplit = fc
  .record({
    rows: fc.integer({ min: 3, max: 300 }),
    window: fc.integer({ min: 1, max: 30 }),
    trainFraction: fc.double({ min: 0.05, max: 1, noNaN: true }),
  })
  .filter(({ rows, window, trainFraction }) => {
    const boundary = trainFraction === 1 ? rows : Math.min(Math.round(rows * trainFraction), rows - 1);
    return boundary - window >= 1;
  });

describe('chronological split', () => {
  it('defaults to 80/20 and reports the ranges for charting', () => {
    const split = splitTable(rowTable(100), { inputs: ['c0'], outputs: ['c0'], window: 5 });
    expect(split.boundary).toBe(80);
    expect(split.trainRows).toEqual({ start: 0, end: 80 });
    expect(split.trainTargets).toEqual({ start: 5, end: 80 });
    expect(split.validationRows).toEqual({ start: 75, end: 100 });
    expect(split.validationTargets).toEqual({ start: 80, end: 100 });
    expect(split.train.count).toBe(75);
    expect(split.validation?.count).toBe(20);
  });

  it('never lets training read a held-out row, and validates on every held-out row in order', () => {
    fc.assert(
      fc.property(arbSplit, ({ rows, window, trainFraction }) => {
        const split = splitTable(rowTable(rows), { inputs: ['c0'], outputs: ['c0'], window, trainFraction });
        const { boundary, train, validation } = split;
        // Every value a training sample reads (inputs and target) is a training row.
        expect(Math.max(...train.x, ...train.t)).toBeLessThan(boundary);
        expect(Array.from(train.t)).toEqual(range(split.trainTargets.start, split.trainTargets.end));
        expect(train.count).toBe(boundary - window);
        if (trainFraction === 1) {
          expect(validation).toBeNull();
          expect(boundary).toBe(rows);
        } else {
          expect(validation).not.toBeNull();
          expect(Array.from(validation!.t)).toEqual(range(boundary, rows));
          expect(validation!.count + train.count).toBe(rows - window);
          // Validation windows end right before their target: the last T rows before it.
          const lastInputs = range(0, validation!.count).map((n) => validation!.x[n * window + window - 1]);
          expect(lastInputs).toEqual(range(boundary - 1, rows - 1));
        }
        expect(Math.abs(boundary - rows * trainFraction)).toBeLessThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses splits that leave no training window or an invalid fraction', () => {
    const field = (run: () => unknown) => {
      try {
        run();
      } catch (err) {
        if (err instanceof InputError) return err.field;
        throw err;
      }
      return 'no error';
    };
    expect(field(() => splitRows(10, 8))).toBe('trainFraction');
    expect(field(() => splitRows(100, 5, 0))).toBe('trainFraction');
    expect(field(() => splitRows(100, 5, 1.5))).toBe('trainFraction');
    expect(field(() => splitRows(100, 5, Number.NaN))).toBe('trainFraction');
    // A fraction just under 1 still holds out a row.
    expect(splitRows(10, 2, 0.99).boundary).toBe(9);
  });
});

describe('prepareData', () => {
  it('fits the normalisation on the training rows only', () => {
    const rows = 50;
    const table = rowTable(rows, 2);
    const prepared = prepareData(table, { inputs: ['c0', 'c1'], outputs: ['c1'], window: 3, normalise: 'min-max' });
    expect(prepared.boundary).toBe(40);
    expect(prepared.normalisation.offset).toEqual([0, 1000]);
    expect(prepared.normalisation.scale).toEqual([39, 39]);
    // Held-out values go beyond 1: their range never reached the fit.
    expect(Math.max(...prepared.validation!.t)).toBeCloseTo(49 / 39, 6);
    expect(Math.max(...prepared.train.t)).toBeCloseTo(1, 6);
    // Changing the held-out part leaves the training data and the normalisation as they were.
    const altered = rowTable(rows, 2);
    for (const column of altered.values) column.fill(-1e4, 40);
    const again = prepareData(altered, { inputs: ['c0', 'c1'], outputs: ['c1'], window: 3, normalise: 'min-max' });
    expect(again.normalisation).toEqual(prepared.normalisation);
    expect(again.train).toEqual(prepared.train);
  });

  it('keeps only the used columns, inputs first, and maps forecasts back to original units', () => {
    const table = rowTable(30, 3);
    const prepared = prepareData(table, { inputs: ['c2'], outputs: ['c0', 'c2'], window: 2 });
    expect(prepared.table.columns).toEqual(['c2', 'c0']);
    expect(prepared.normalisation.columns).toEqual(['c2', 'c0']);
    expect(prepared.inputs).toEqual(['c2']);
    expect(prepared.outputs).toEqual(['c0', 'c2']);
    expect(prepared.train.inputSize).toBe(1);
    expect(prepared.train.outputSize).toBe(2);
    const back = denormaliseOutputs(prepared.normalisation, prepared.outputs, prepared.validation!.t);
    const expected = range(24, 30).flatMap((r) => [r, r + 2000]);
    for (const [i, v] of back.entries()) expect(v).toBeCloseTo(expected[i], 3);
  });
});

function range(start: number, end: number): number[] {
  return Array.from({ length: end - start }, (_, i) => start + i);
}
