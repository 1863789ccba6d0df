// From a table to what training needs: the chosen columns, split chronologically, normalised with
// statistics of the training rows only, and cut into train and validation windows. Every source (a
// generator, a bundled series, the user's CSV) goes through here, so all behave alike.

import { fitNormalisation, type Normalisation, type NormaliseMethod, normaliseTable } from './normalise.js';
import { DEFAULT_TRAIN_FRACTION, type SplitData, splitRows, splitTable } from './split.js';
import { type ColumnRef, type ColumnTable, selectColumns } from './windows.js';

export interface DataSettings {
  /** Input columns (inputSize = their count). */
  inputs: ColumnRef[];
  /** Output columns (outputSize = their count). */
  outputs: ColumnRef[];
  window: number;
  /** Default 0.8; 1 holds nothing out. */
  trainFraction?: number;
  /** Default 'z-score'. */
  normalise?: NormaliseMethod;
}

export interface PreparedData extends SplitData {
  /** The used columns (inputs, then outputs not among them) in original units: what charts draw. */
  table: ColumnTable;
  /** The same columns normalised: what the windows were cut from. */
  normalised: ColumnTable;
  /** Fitted on table rows [0, boundary); stored in the model file to map forecasts back. */
  normalisation: Normalisation;
  /** Output column names in the order the model predicts them (for denormaliseOutputs). */
  outputs: string[];
  /** Input column names in the order the model reads them. */
  inputs: string[];
}

export function prepareData(source: ColumnTable, settings: DataSettings): PreparedData {
  const inputTable = selectColumns(source, settings.inputs, 'inputs');
  const outputTable = selectColumns(source, settings.outputs, 'outputs');
  const used = [...inputTable.columns];
  for (const name of outputTable.columns) if (!used.includes(name)) used.push(name);
  const table = selectColumns(source, used);
  const trainFraction = settings.trainFraction ?? DEFAULT_TRAIN_FRACTION;
  const { trainRows } = splitRows(table.rows, settings.window, trainFraction);
  const normalisation = fitNormalisation(table, settings.normalise ?? 'z-score', trainRows);
  const normalised = normaliseTable(table, normalisation);
  const split = splitTable(normalised, {
    inputs: inputTable.columns,
    outputs: outputTable.columns,
    window: settings.window,
    trainFraction,
  });
  return { ...split, table, normalised, normalisation, inputs: inputTable.columns, outputs: outputTable.columns };
}
