// From a table to what training needs: the chosen columns, transformed (levels, differences, log
// returns), split chronologically (training | validation | test), normalized with statistics of the
// training rows only, and cut into windows. Every source (a generator, a bundled series, the user's
// CSV) goes through here, so all behave alike.

import { describeValue, InputError } from '../model/errors.js';
import { fitNormalization, type Normalization, type NormalizeMethod, normalizeTable } from './normalize.js';
import { DEFAULT_TRAIN_FRACTION, type SplitData, splitRows, splitTable } from './split.js';
import { type TargetTransform, type Transform, targetTransform, transformTable } from './transform.js';
import { type ColumnRef, type ColumnTable, selectColumns } from './windows.js';

export interface DataSettings {
  /** Input columns (inputSize = their count). */
  inputs: ColumnRef[];
  /** Output columns (outputSize = their count). */
  outputs: ColumnRef[];
  window: number;
  /** Share of rows before the test part; default 0.8; 1 holds nothing out. */
  trainFraction?: number;
  /** Share of rows in the validation part (before the test part); default 0: none. */
  validationFraction?: number;
  /** Default 'z-score'. */
  normalize?: NormalizeMethod;
  /** What the model predicts; default 'levels'. */
  transform?: Transform;
  /** The seasonal period in rows (for seasonal differences and the seasonal baseline), or null. */
  season?: number | null;
  /**
   * Inputs whose future values are known (a calendar, a planned temperature): a multi-step forecast
   * reads them instead of predicting them. Each must be an input and no output. Default none.
   */
  knownAhead?: ColumnRef[];
}

export interface PreparedData extends SplitData {
  /** The used columns (inputs, then outputs not among them) in original units: what charts draw. */
  table: ColumnTable;
  /** The same columns transformed (NaN in the first `transform.lag` rows), in the data's units. */
  transformed: ColumnTable;
  /** The transformed columns normalized: what the windows were cut from. */
  normalized: ColumnTable;
  transform: TargetTransform;
  /** The seasonal period in rows, or null. */
  season: number | null;
  /** Fitted on the transformed training rows [lag, V); stored in the model file to map forecasts back. */
  normalization: Normalization;
  /** Output column names in the order the model predicts them (for denormalizeOutputs). */
  outputs: string[];
  /** Input column names in the order the model reads them. */
  inputs: string[];
  /** The inputs known ahead (DataSettings.knownAhead), by name. */
  knownAhead: string[];
}

export function prepareData(source: ColumnTable, settings: DataSettings): PreparedData {
  const inputTable = selectColumns(source, settings.inputs, 'inputs');
  const outputTable = selectColumns(source, settings.outputs, 'outputs');
  const used = [...inputTable.columns];
  for (const name of outputTable.columns) if (!used.includes(name)) used.push(name);
  const table = selectColumns(source, used);
  const knownAhead = knownAheadColumns(source, settings.knownAhead ?? [], inputTable.columns, outputTable.columns);
  const season = settings.season ?? null;
  const transform = targetTransform(settings.transform ?? 'levels', season);
  const fractions = {
    trainFraction: settings.trainFraction ?? DEFAULT_TRAIN_FRACTION,
    validationFraction: settings.validationFraction ?? 0,
    lag: transform.lag,
  };
  const { validationStart } = splitRows(table.rows, settings.window, fractions);
  const transformed = transformTable(table, transform);
  const normalization = fitNormalization(transformed, settings.normalize ?? 'z-score', {
    start: transform.lag,
    end: validationStart,
  });
  const normalized = normalizeFrom(transformed, normalization, transform.lag);
  const split = splitTable(normalized, {
    inputs: inputTable.columns,
    outputs: outputTable.columns,
    window: settings.window,
    ...fractions,
  });
  return {
    ...split,
    table,
    transformed,
    normalized,
    transform,
    season,
    normalization,
    inputs: inputTable.columns,
    outputs: outputTable.columns,
    knownAhead,
  };
}

/** The known-ahead columns by name: each an input, none an output (a value read is not predicted). */
function knownAheadColumns(source: ColumnTable, refs: ColumnRef[], inputs: string[], outputs: string[]): string[] {
  if (refs.length === 0) return [];
  const names = selectColumns(source, refs, 'knownAhead').columns;
  for (const name of names) {
    if (outputs.includes(name)) {
      throw new InputError(
        'knownAhead',
        `${describeValue(name)} is an output: a column known ahead is read, not predicted; leave it out of the outputs or of the known-ahead columns`,
      );
    }
    if (!inputs.includes(name)) {
      throw new InputError(
        'knownAhead',
        `${describeValue(name)} is not an input (inputs: ${inputs.map((n) => JSON.stringify(n)).join(', ')}); a column known ahead is one the model reads`,
      );
    }
  }
  return names;
}

/** The table normalized from row `lag` on; the rows before it (no transformed value) stay NaN. */
function normalizeFrom(table: ColumnTable, normalization: Normalization, lag: number): ColumnTable {
  if (lag === 0) return normalizeTable(table, normalization);
  const later = normalizeTable(
    { columns: table.columns, values: table.values.map((column) => column.subarray(lag)), rows: table.rows - lag },
    normalization,
  );
  const values = later.values.map((column) => {
    const out = new Float64Array(table.rows).fill(Number.NaN);
    out.set(column, lag);
    return out;
  });
  return { ...table, values };
}
