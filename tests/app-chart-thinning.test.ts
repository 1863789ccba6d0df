// Thinning a long series for a chart (src/app/thinning.ts): short series are drawn whole; a long one
// keeps, in every pixel column's rows, the first and last row and each series' lowest and highest
// value and first gap, so the line covers the same pixels; the x column stays shared and in order.

import { describe, expect, it } from 'vitest';
import type { Column, Columns } from '../src/app/columns.js';
import { keptRows, pickRows, ROWS_PER_PIXEL } from '../src/app/thinning.js';
import { Rng } from '../src/data/rng.js';

/** `rows` rows of `series` random walks with spikes and gaps. */
function randomColumns(rows: number, series: number, seed: number): Columns {
  const rng = new Rng(seed);
  const xs = Array.from({ length: rows }, (_, i) => i * 0.5);
  const columns: Column[] = [];
  for (let s = 0; s < series; s++) {
    let level = 0;
    columns.push(
      xs.map(() => {
        level += rng.normal();
        const u = rng.uniform();
        if (u < 0.01) return null;
        return u > 0.995 ? level + 100 * rng.normal() : level;
      }),
    );
  }
  return [xs, ...columns];
}

function bucketExtremes(column: Column, start: number, end: number): { low: number; high: number; gap: boolean } {
  const values = column.slice(start, end).filter((v): v is number => v !== null);
  return {
    low: Math.min(...values),
    high: Math.max(...values),
    gap: column.slice(start, end).includes(null),
  };
}

describe('chart thinning', () => {
  it('draws a series whole while it has at most a few rows a pixel column', () => {
    const columns = randomColumns(2 * 800, 2, 1);
    expect(keptRows(columns, 800)).toBeNull();
    expect(pickRows(columns, null)).toBe(columns);
    expect(keptRows(randomColumns(ROWS_PER_PIXEL * 800 + 1, 1, 2), 800)).not.toBeNull();
  });

  for (const [rows, series, pixels, seed] of [
    [120_000, 1, 1000, 3],
    [50_000, 3, 640, 4],
    [7_777, 2, 333, 5],
  ] as const) {
    it(`keeps every pixel column's first, last, lowest, highest and first gap (${rows} rows, ${series} series, ${pixels} px)`, () => {
      const columns = randomColumns(rows, series, seed);
      const kept = keptRows(columns, pixels);
      expect(kept).not.toBeNull();
      const rowsKept = kept as number[];
      // In order, each row once, the ends included, a few a pixel column at most.
      for (let i = 1; i < rowsKept.length; i++) expect(rowsKept[i]).toBeGreaterThan(rowsKept[i - 1]);
      expect(rowsKept[0]).toBe(0);
      expect(rowsKept[rowsKept.length - 1]).toBe(rows - 1);
      expect(rowsKept.length).toBeLessThanOrEqual(pixels * (2 + 3 * series));
      const [xs, ...picked] = pickRows(columns, rowsKept);
      expect(xs).toEqual(rowsKept.map((row) => columns[0][row]));
      const keptSet = new Set(rowsKept);
      for (let bucket = 0; bucket < pixels; bucket++) {
        const start = Math.floor((bucket * rows) / pixels);
        const end = Math.floor(((bucket + 1) * rows) / pixels);
        const inBucket = rowsKept.filter((row) => row >= start && row < end);
        for (let s = 0; s < series; s++) {
          const all = bucketExtremes(columns[s + 1], start, end);
          const shown = bucketExtremes(
            inBucket.map((row) => columns[s + 1][row]),
            0,
            inBucket.length,
          );
          expect(shown, `series ${s}, pixel column ${bucket}`).toEqual(all);
          expect(picked[s]).toHaveLength(rowsKept.length);
        }
        expect(keptSet.has(start) && keptSet.has(end - 1)).toBe(true);
      }
    });
  }
});
