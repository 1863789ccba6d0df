// What a chart draws of a long series: at most a few points per pixel column. 120,000 rows on a
// 1,000-pixel chart put 120 points on every column, which a canvas strokes (and, with markers, fills)
// one by one for most of a second, with nothing more to see. Each column of pixels keeps its first and
// last row and, for every series, the rows of its lowest and highest value, so the line drawn covers
// the same pixels: spikes, steps and gaps stay where they are (M4, Jugel et al., "M4: a
// visualization-oriented time series data aggregation", VLDB 2014). The shared x column stays
// shared: a row kept for one series is kept for all.

import type { Column, Columns } from './columns.js';

/** Rows a chart draws per pixel column before thinning starts. */
export const ROWS_PER_PIXEL = 2;

/**
 * The rows of `columns` to draw on a chart `pixels` wide: all of them when there are at most
 * ROWS_PER_PIXEL a pixel, else per bucket of rows (one pixel column's worth) the first, the last, each
 * series' lowest and highest value, and its first gap (null), in row order. Returns null when
 * nothing is left out.
 */
export function keptRows(columns: Columns, pixels: number): number[] | null {
  const [xs, ...series] = columns;
  const rows = xs.length;
  const buckets = Math.max(1, Math.floor(pixels));
  if (rows <= ROWS_PER_PIXEL * buckets) return null;
  const kept: number[] = [];
  const inBucket = new Set<number>();
  for (let bucket = 0; bucket < buckets; bucket++) {
    const start = Math.floor((bucket * rows) / buckets);
    const end = Math.floor(((bucket + 1) * rows) / buckets);
    if (end <= start) continue;
    inBucket.clear();
    inBucket.add(start);
    inBucket.add(end - 1);
    for (const column of series) extremes(column, start, end, inBucket);
    kept.push(...[...inBucket].sort((a, b) => a - b));
  }
  return kept;
}

/** Adds to `into` the rows of the lowest and highest value of column[start..end), and its first null. */
function extremes(column: Column, start: number, end: number, into: Set<number>): void {
  let low = -1;
  let high = -1;
  let gap = -1;
  for (let row = start; row < end; row++) {
    const v = column[row];
    if (v === null) {
      if (gap < 0) gap = row;
      continue;
    }
    if (low < 0 || v < (column[low] as number)) low = row;
    if (high < 0 || v > (column[high] as number)) high = row;
  }
  for (const row of [low, high, gap]) if (row >= 0) into.add(row);
}

/** The columns at `rows` only (all of them when rows is null). */
export function pickRows(columns: Columns, rows: number[] | null): Columns {
  if (rows === null) return columns;
  const [xs, ...series] = columns;
  return [rows.map((row) => xs[row]), ...series.map((column) => rows.map((row) => column[row]))];
}
