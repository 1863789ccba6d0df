// The chronological split and the whole preparation: sizes, no later part's target reaching an
// earlier part, normalisation fitted on the training rows only, transforms before windows.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { denormalizeOutputs } from '../src/data/normalize.js';
import { prepareData } from '../src/data/prepare.js';
import { selectionPart, splitRows, splitTable } from '../src/data/split.js';
import type { ColumnTable } from '../src/data/windows.js';
import { InputError } from '../src/model/errors.js';
import { inputErrorOf } from './helpers.js';

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
    expect(split.validationStart).toBe(80);
    expect(split.trainRows).toEqual({ start: 0, end: 80 });
    expect(split.trainTargets).toEqual({ start: 5, end: 80 });
    expect(split.testRows).toEqual({ start: 75, end: 100 });
    expect(split.testTargets).toEqual({ start: 80, end: 100 });
    expect(split.train.count).toBe(75);
    expect(split.validation).toBeNull();
    expect(split.test?.count).toBe(20);
  });

  it('cuts training | validation | test as 70/10/20, the test part the same last 20% as with two parts', () => {
    const split = splitTable(rowTable(100), {
      inputs: ['c0'],
      outputs: ['c0'],
      window: 5,
      trainFraction: 0.8,
      validationFraction: 0.1,
    });
    expect(split.validationStart).toBe(70);
    expect(split.boundary).toBe(80);
    expect(Array.from(split.train.t)).toEqual(range(5, 70));
    expect(Array.from(split.validation!.t)).toEqual(range(70, 80));
    expect(Array.from(split.test!.t)).toEqual(range(80, 100));
    // Training reads nothing from row 70 on; the validation windows read back into training rows.
    expect(Math.max(...split.train.x)).toBe(68);
    expect(split.validation!.x[0]).toBe(65);
    expect(selectionPart(split)?.name).toBe('validation');
    const two = splitTable(rowTable(100), { inputs: ['c0'], outputs: ['c0'], window: 5 });
    expect(selectionPart(two)?.name).toBe('test');
    expect(
      selectionPart(splitTable(rowTable(100), { inputs: ['c0'], outputs: ['c0'], window: 5, trainFraction: 1 })),
    ).toBeNull();
  });

  it("starts the training windows after the transform's lag, and refuses a validation share of no whole row", () => {
    const split = splitTable(rowTable(50), { inputs: ['c0'], outputs: ['c0'], window: 4, lag: 12 });
    expect(split.trainTargets).toEqual({ start: 16, end: 40 });
    expect(split.train.x[0]).toBe(12);
    expect(inputErrorOf(() => splitRows(50, 4, { validationFraction: 0.005 })).field).toBe('validation');
    expect(inputErrorOf(() => splitRows(50, 4, { validationFraction: 0.8 })).field).toBe('validation');
    expect(inputErrorOf(() => splitRows(20, 4, { lag: 12 })).message).toMatch(/transform's 12 rows/);
  });

  it('never lets training read a held-out row, and validates on every held-out row in order', () => {
    fc.assert(
      fc.property(arbSplit, ({ rows, window, trainFraction }) => {
        const split = splitTable(rowTable(rows), { inputs: ['c0'], outputs: ['c0'], window, trainFraction });
        const { boundary, train, test: validation } = split;
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
    expect(field(() => splitRows(100, 5, { trainFraction: 0 }))).toBe('trainFraction');
    expect(field(() => splitRows(100, 5, { trainFraction: 1.5 }))).toBe('trainFraction');
    expect(field(() => splitRows(100, 5, { trainFraction: Number.NaN }))).toBe('trainFraction');
    // A fraction just under 1 still holds out a row.
    expect(splitRows(10, 2, { trainFraction: 0.99 }).boundary).toBe(9);
  });
});

describe('prepareData', () => {
  it('fits the normalisation on the training rows only', () => {
    const rows = 50;
    const table = rowTable(rows, 2);
    const prepared = prepareData(table, { inputs: ['c0', 'c1'], outputs: ['c1'], window: 3, normalize: 'min-max' });
    expect(prepared.boundary).toBe(40);
    expect(prepared.normalization.offset).toEqual([0, 1000]);
    expect(prepared.normalization.scale).toEqual([39, 39]);
    // Held-out values go beyond 1: their range never reached the fit.
    expect(Math.max(...prepared.test!.t)).toBeCloseTo(49 / 39, 6);
    expect(Math.max(...prepared.train.t)).toBeCloseTo(1, 6);
    // Changing the held-out part leaves the training data and the normalisation as they were.
    const altered = rowTable(rows, 2);
    for (const column of altered.values) column.fill(-1e4, 40);
    const again = prepareData(altered, { inputs: ['c0', 'c1'], outputs: ['c1'], window: 3, normalize: 'min-max' });
    expect(again.normalization).toEqual(prepared.normalization);
    expect(again.train).toEqual(prepared.train);
  });

  it('keeps only the used columns, inputs first, and maps forecasts back to original units', () => {
    const table = rowTable(30, 3);
    const prepared = prepareData(table, { inputs: ['c2'], outputs: ['c0', 'c2'], window: 2 });
    expect(prepared.table.columns).toEqual(['c2', 'c0']);
    expect(prepared.normalization.columns).toEqual(['c2', 'c0']);
    expect(prepared.inputs).toEqual(['c2']);
    expect(prepared.outputs).toEqual(['c0', 'c2']);
    expect(prepared.train.inputSize).toBe(1);
    expect(prepared.train.outputSize).toBe(2);
    const back = denormalizeOutputs(prepared.normalization, prepared.outputs, prepared.test!.t);
    const expected = range(24, 30).flatMap((r) => [r, r + 2000]);
    for (const [i, v] of back.entries()) expect(v).toBeCloseTo(expected[i], 3);
  });
});

function range(start: number, end: number): number[] {
  return Array.from({ length: end - start }, (_, i) => start + i);
}
