// Windowing a table of columns: shapes, contents, the single-column case equal to windowSeries, and
// bad choices refused with the field named.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ColumnTable, selectColumns, tableFromSeries, windowTable } from '../src/data/windows.js';
import { InputError } from '../src/model/errors.js';
import { windowSeries } from './helpers.js';

/** A table whose value at (row r, column c) is 100·c + r, so every read can be checked by formula. */
function indexTable(rows: number, columns: number): ColumnTable {
  const names = Array.from({ length: columns }, (_, c) => `c${c}`);
  const values = names.map((_, c) => Float64Array.from({ length: rows }, (_, r) => 100 * c + r));
  return { columns: names, values, rows };
}

function fieldOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (err instanceof InputError) return err.field;
    throw err;
  }
  throw new Error('expected an InputError');
}

describe('windowTable', () => {
  it('reproduces windowSeries for one column', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: 2, maxLength: 200 }),
        fc.integer({ min: 1, max: 50 }),
        (values, window) => {
          fc.pre(window < values.length);
          const series = Float32Array.from(values);
          const table = tableFromSeries(series);
          const got = windowTable(table, { inputs: ['value'], outputs: ['value'], window });
          expect(got).toEqual(windowSeries(series, window));
        },
      ),
    );
  });

  it('puts rows n..n+T-1 of the inputs in sample n and row n+T of the outputs in its target', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 60 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (rows, columns, window, pick) => {
          fc.pre(window < rows);
          const table = indexTable(rows, columns);
          // A pseudo-random non-empty choice of input and output columns, in a shuffled order.
          const order = table.columns
            .map((_, c) => c)
            .sort((a, b) => ((a * 7919 + pick) % 13) - ((b * 7919 + pick) % 13));
          const inputs = order.slice(0, 1 + (pick % columns));
          const outputs = order.slice(pick % columns).reverse();
          const data = windowTable(table, { inputs, outputs, window });
          const count = rows - window;
          expect(data).toMatchObject({ count, window, inputSize: inputs.length, outputSize: outputs.length });
          expect(data.x.length).toBe(count * window * inputs.length);
          expect(data.t.length).toBe(count * outputs.length);
          const x: number[] = [];
          const t: number[] = [];
          for (let n = 0; n < count; n++) {
            for (let s = 0; s < window; s++) for (const i of inputs) x.push(100 * i + n + s);
            for (const o of outputs) t.push(100 * o + n + window);
          }
          expect(Array.from(data.x)).toEqual(x);
          expect(Array.from(data.t)).toEqual(t);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('keeps every window and target inside the given rows', () => {
    const table = indexTable(30, 2);
    const data = windowTable(table, { inputs: ['c0', 'c1'], outputs: ['c1'], window: 4, rows: { start: 10, end: 20 } });
    expect(data.count).toBe(6);
    expect(Math.min(...data.x.filter((v) => v < 100))).toBe(10);
    expect(Math.max(...data.x.filter((v) => v < 100))).toBe(18);
    expect(Array.from(data.t)).toEqual([114, 115, 116, 117, 118, 119]);
  });

  it('selects columns by name or index without copying', () => {
    const table = indexTable(5, 3);
    const picked = selectColumns(table, ['c2', 0]);
    expect(picked.columns).toEqual(['c2', 'c0']);
    expect(picked.values[0]).toBe(table.values[2]);
  });

  it('refuses bad choices with the field named', () => {
    const table = indexTable(10, 2);
    const base = { inputs: ['c0'], outputs: ['c1'], window: 3 };
    expect(fieldOf(() => windowTable(table, { ...base, inputs: [] }))).toBe('inputs');
    expect(fieldOf(() => windowTable(table, { ...base, inputs: ['nope'] }))).toBe('inputs[0]');
    expect(fieldOf(() => windowTable(table, { ...base, outputs: [2] }))).toBe('outputs[0]');
    expect(fieldOf(() => windowTable(table, { ...base, outputs: ['c1', 1] }))).toBe('outputs');
    expect(fieldOf(() => windowTable(table, { ...base, window: 0 }))).toBe('window');
    expect(fieldOf(() => windowTable(table, { ...base, window: 2.5 }))).toBe('window');
    expect(fieldOf(() => windowTable(table, { ...base, window: 10 }))).toBe('window');
    expect(fieldOf(() => windowTable(table, { ...base, rows: { start: 5, end: 11 } }))).toBe('rows');
    expect(() => windowTable(table, { ...base, window: 10 })).toThrow(/10 rows give no window of 10/);
  });
});
