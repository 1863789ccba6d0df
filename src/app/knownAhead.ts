// Inputs known ahead on the page: which of the CSV's marked columns count (inputs that are not
// outputs), and how far the forecast past the end can go on the file's future rows (the rows after
// the last whose outputs are empty, src/data/csv.ts futureRows). The forecast itself is the CLI's
// (src/train/forecast.ts inputFeed, freeRunForecast's feed); this only counts rows and says why.
//
// Legend: R = the data's rows, H = the horizon (steps past the end), F = the future rows.
// A forecast of H steps from row R reads each known-ahead input at rows R..R+H-2 (the last step's
// prediction is not fed back), so k known future values allow k + 1 steps.

import type { ColumnTable } from '../data/windows.js';

/** The marked columns that are read known ahead: the inputs not among the outputs, in input order. */
export function knownAheadOf(
  marked: readonly string[],
  inputs: readonly string[],
  outputs: readonly string[],
): string[] {
  return inputs.filter((name) => marked.includes(name) && !outputs.includes(name));
}

/** How many values of column `name` follow row `from` in `levels` without a gap. */
function valuesAfter(levels: ColumnTable, name: string, from: number): number {
  const column = levels.values[levels.columns.indexOf(name)];
  let have = 0;
  while (column !== undefined && from + have < levels.rows && Number.isFinite(column[from + have])) have++;
  return have;
}

/** The steps past the end a forecast can take, and the known-ahead input that stops it short, if one does. */
export interface PastEndReach {
  steps: number;
  /** The first known-ahead input whose future values run out before the horizon, and how many it has. */
  short: { column: string; values: number } | null;
}

/**
 * How far past row `rows` (the data's end) a forecast of `horizon` steps gets, reading each of
 * `knownAhead` in `levels` (the data with its future rows after it).
 */
export function pastEndReach(
  knownAhead: readonly string[],
  levels: ColumnTable,
  rows: number,
  horizon: number,
): PastEndReach {
  let reach: PastEndReach = { steps: horizon, short: null };
  for (const name of knownAhead) {
    const values = valuesAfter(levels, name, rows);
    if (values + 1 < reach.steps) reach = { steps: values + 1, short: { column: name, values } };
  }
  return reach;
}

/** What the page says about the forecast past the end with known-ahead inputs, or null without any. */
export function pastEndNote(
  knownAhead: readonly string[],
  futureRows: number,
  reach: PastEndReach,
  horizon: number,
): string | null {
  if (knownAhead.length === 0) return null;
  const names = knownAhead.map((name) => JSON.stringify(name)).join(', ');
  const rows = `${futureRows} future row${futureRows === 1 ? '' : 's'} (rows after the last whose outputs are empty)`;
  const read = `The forecast past the end reads ${names} (known ahead) from the file's ${rows}`;
  if (reach.short === null) return `${read}: all ${horizon} steps.`;
  const { column, values } = reach.short;
  const steps = `${reach.steps} step${reach.steps === 1 ? '' : 's'}`;
  return (
    `${read}, and stops after ${steps} of ${horizon}: each step after the first reads ${JSON.stringify(column)} one row further past the data's end, ` +
    `and the file gives ${values} value${values === 1 ? '' : 's'} there. Add its future values in rows after the last (their outputs empty) to forecast further.`
  );
}
