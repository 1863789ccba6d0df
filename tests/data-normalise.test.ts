// Normalization: round trips, the statistics of the chosen rows only, constant columns, the JSON
// form read back from untrusted input.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  denormalizeOutputs,
  denormalizeValues,
  fitNormalization,
  NORMALIZE_METHODS,
  normalizeTable,
  normalizeValues,
  readNormalization,
} from '../src/data/normalize.js';
import type { ColumnTable } from '../src/data/windows.js';
import { InputError } from '../src/model/errors.js';

const arbColumn = (rows: number) =>
  fc
    .array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: rows, maxLength: rows })
    .map((v) => Float64Array.from(v));

const arbTable: fc.Arbitrary<ColumnTable> = fc
  .tuple(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 4 }))
  .chain(([rows, columns]) =>
    fc.array(arbColumn(rows), { minLength: columns, maxLength: columns }).map((values) => ({
      columns: values.map((_, c) => `col ${c}`),
      values,
      rows,
    })),
  );

function closeTo(actual: number, expected: number, scale: number): boolean {
  return Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected), scale);
}

describe('normalisation', () => {
  it('round-trips: inverse(transform(x)) ≈ x for every method', () => {
    fc.assert(
      fc.property(arbTable, fc.constantFrom(...NORMALIZE_METHODS), (table, method) => {
        const norm = fitNormalization(table, method);
        const normalised = normalizeTable(table, norm);
        for (let c = 0; c < table.columns.length; c++) {
          const back = denormalizeValues(norm, c, normalised.values[c]);
          const range = Math.max(...table.values[c].map(Math.abs));
          for (let r = 0; r < table.rows; r++) expect(closeTo(back[r], table.values[c][r], range)).toBe(true);
          // The one-column form agrees with the table form.
          expect(normalizeValues(norm, table.columns[c], table.values[c])).toEqual(normalised.values[c]);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('gives mean 0 and deviation 1 (z-score), span [0, 1] (min-max) on the fitted rows', () => {
    fc.assert(
      fc.property(arbTable, (table) => {
        for (const c of table.values.keys()) {
          const column = table.values[c];
          fc.pre(Math.max(...column) - Math.min(...column) > 1e-3);
        }
        const z = normalizeTable(table, fitNormalization(table, 'z-score'));
        const m = normalizeTable(table, fitNormalization(table, 'min-max'));
        for (let c = 0; c < table.columns.length; c++) {
          const v = z.values[c];
          const mean = v.reduce((a, b) => a + b, 0) / v.length;
          const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
          expect(mean).toBeCloseTo(0, 6);
          expect(sd).toBeCloseTo(1, 6);
          expect(Math.min(...m.values[c])).toBeCloseTo(0, 9);
          expect(Math.max(...m.values[c])).toBeCloseTo(1, 9);
        }
      }),
    );
  });

  it('fits on the given rows only: values outside them change nothing', () => {
    const rows = 100;
    const base = Float64Array.from({ length: rows }, (_, r) => Math.sin(r));
    const changed = Float64Array.from(base);
    for (let r = 80; r < rows; r++) changed[r] = 1e5 * (r - 90);
    const train = { start: 0, end: 80 };
    for (const method of NORMALIZE_METHODS) {
      const a = fitNormalization({ columns: ['v'], values: [base], rows }, method, train);
      const b = fitNormalization({ columns: ['v'], values: [changed], rows }, method, train);
      expect(b).toEqual(a);
      const onTrain = fitNormalization({ columns: ['v'], values: [base.slice(0, 80)], rows: 80 }, method);
      expect(onTrain).toEqual(a);
    }
  });

  it('maps a constant column to 0 without dividing by zero, and back to the constant', () => {
    const table: ColumnTable = { columns: ['flat'], values: [new Float64Array(10).fill(7.5)], rows: 10 };
    for (const method of ['z-score', 'min-max'] as const) {
      const norm = fitNormalization(table, method);
      expect(norm.scale).toEqual([1]);
      expect(Array.from(normalizeTable(table, norm).values[0])).toEqual(new Array(10).fill(0));
      expect(Array.from(denormalizeValues(norm, 'flat', [0, 0]))).toEqual([7.5, 7.5]);
    }
  });

  it('maps model outputs (N, O) back column by column', () => {
    const table: ColumnTable = {
      columns: ['a', 'b'],
      values: [Float64Array.from([0, 10]), Float64Array.from([100, 300])],
      rows: 2,
    };
    const norm = fitNormalization(table, 'min-max');
    // Outputs predicted in the order b, a; two samples.
    expect(Array.from(denormalizeOutputs(norm, ['b', 'a'], [0, 0, 1, 0.5]))).toEqual([100, 0, 300, 5]);
    expect(() => denormalizeOutputs(norm, ['b', 'a'], [1, 2, 3])).toThrow(InputError);
  });

  it('survives JSON and reads back only well-formed objects', () => {
    const table: ColumnTable = {
      columns: ['x', 'y'],
      values: [Float64Array.from([1, 2, 4]), Float64Array.from([3, 3, 3])],
      rows: 3,
    };
    const norm = fitNormalization(table, 'z-score');
    expect(readNormalization(JSON.parse(JSON.stringify(norm)))).toEqual(norm);

    const good = JSON.parse(JSON.stringify(norm));
    const fieldOf = (value: unknown) => {
      try {
        readNormalization(value);
      } catch (err) {
        if (err instanceof InputError) return err.field;
        throw err;
      }
      return 'no error';
    };
    expect(fieldOf(null)).toBe('normalisation');
    expect(fieldOf({ ...good, method: 'log' })).toBe('normalisation.method');
    expect(fieldOf({ ...good, columns: [1, 2] })).toBe('normalisation.columns[0]');
    expect(fieldOf({ ...good, offset: [0] })).toBe('normalisation.offset');
    expect(fieldOf({ ...good, scale: [1, 0] })).toBe('normalisation.scale[1]');
    expect(fieldOf({ ...good, scale: [1, null] })).toBe('normalisation.scale[1]');
    const inherited = Object.create({ method: 'z-score' });
    Object.assign(inherited, { columns: good.columns, offset: good.offset, scale: good.scale });
    expect(fieldOf(inherited)).toBe('normalisation.method');
    expect(
      fieldOf(JSON.parse('{"__proto__": {"method": "none"}, "columns": ["x"], "offset": [0], "scale": [1]}')),
    ).toBe('normalisation.method');
  });

  it('refuses a table whose columns differ from the fitted ones', () => {
    const table: ColumnTable = { columns: ['x'], values: [Float64Array.from([1, 2])], rows: 2 };
    const norm = fitNormalization(table, 'z-score');
    expect(() => normalizeTable({ ...table, columns: ['y'] }, norm)).toThrow(/fitted on columns \["x"\]/);
    expect(() => fitNormalization(table, 'log' as 'none')).toThrow(InputError);
  });
});

describe('normalisation within float32 (issue 14)', () => {
  const table = (values: number[]): ColumnTable => ({
    columns: ['x'],
    values: [Float64Array.from(values)],
    rows: values.length,
  });

  it('fits only offsets and scales a model file can hold, refusing a min-max span beyond float32', () => {
    expect(() => fitNormalization(table([-3e38, 3e38]), 'min-max')).toThrowError(
      /^normalise: column "x" cannot be normalised with min-max: the scale 6e\+38 is not a normal float32 number/,
    );
    // z-score of the same column fits (its deviation is 3e38), and every fitted value reads back.
    const norm = fitNormalization(table([-3e38, 3e38]), 'z-score');
    expect(readNormalization(JSON.parse(JSON.stringify(norm)))).toEqual(norm);
  });

  it('treats a spread below float32’s smallest normal number as a constant column (scale 1)', () => {
    const norm = fitNormalization(table([1e-40, 2e-40, 3e-40]), 'min-max');
    expect(norm.scale).toEqual([1]);
    expect(readNormalization(JSON.parse(JSON.stringify(norm)))).toEqual(norm);
  });

  it('refuses data that normalises beyond float32, naming the value, its row and column', () => {
    // Fitted on rows 0..2 (span 2e-30), the held-out 3e38 normalises to 1.5e68.
    const data = table([0, 1e-30, 2e-30, 3e38]);
    const norm = fitNormalization(data, 'min-max', { start: 0, end: 3 });
    expect(() => normalizeTable(data, norm)).toThrowError(
      /^normalise: value 3e\+38 \(data row 4 of column "x"\) normalises to 1\.5e\+68 with offset 0 and scale 2e-30, beyond float32's range$/,
    );
    const loaded = { method: 'z-score' as const, columns: ['x'], offset: [0], scale: [1e-30] };
    expect(() => normalizeValues(loaded, 'x', [1, 1e10])).toThrowError(
      /^normalisation: value 10000000000 \(data row 2 of column "x"\) normalises to 1e\+40/,
    );
  });
});
