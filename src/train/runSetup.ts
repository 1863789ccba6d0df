// How a run is set up from a table, whatever reads the data source: the data settings with the
// source's defaults filled in, the chronological split and normalization (prepareData), the weights
// drawn from the seeded generator in the blog's order (data noise, then initial weights, then during
// training the minibatch orders). run.ts reads every source (the bundled series among them, parsed
// as CSV); the library (src/lib) reads its sources itself, so that this module pulls in no CSV
// parser.

import type { BundledName, BundledOptions } from '../data/bundled.js';
import { generateSeries, type SeriesSpec } from '../data/generators.js';
import type { NormalizeMethod } from '../data/normalize.js';
import { type DataSettings, type PreparedData, prepareData } from '../data/prepare.js';
import { Rng } from '../data/rng.js';
import { seasonFromDates, seasonOfSeries } from '../data/season.js';
import type { Transform } from '../data/transform.js';
import {
  type ColumnRef,
  type ColumnTable,
  columnIndex,
  selectColumns,
  tableFromSeries,
  withFutureRows,
} from '../data/windows.js';
import { describeValue, InputError } from '../model/errors.js';
import { initParams } from '../model/init.js';
import { describeConfig, type ModelConfig, type ParamLayout, paramLayout, sameShape } from '../model/layout.js';
import { checkParameterBudget } from '../model/validate.js';
import { type DefaultsKey, type SeasonChoice, sourceDefault } from '../settings/training.js';
import type { Model } from './modelFile.js';

export type DataSource =
  | { kind: 'generated'; spec: SeriesSpec }
  | { kind: 'bundled'; name: BundledName; options?: BundledOptions }
  | {
      kind: 'table';
      table: ColumnTable;
      label: string;
      /**
       * Rows after the table's last whose outputs are not known yet (a CSV's rows with empty outputs):
       * the known-ahead columns' future values, and their dates. Same columns as `table`, NaN where empty.
       */
      future?: ColumnTable;
    };

export interface RunSettings {
  /** The generator of the initial weights and minibatch orders, and of the data noise unless dataSeed is set. */
  seed: number;
  /**
   * The data noise's seed where it differs from `seed` (a population's member trained alone: the
   * population's data, the member's own weights and orders; see members.ts).
   */
  dataSeed?: number;
  source: DataSource;
  /** Only the source's first `rows` rows (a backtest fold: the rows before its origin); by default all. */
  rows?: number;
  window: number;
  hiddenSizes: number[];
  /** Input and output columns (default: every column in, every column out). */
  inputs?: ColumnRef[];
  outputs?: ColumnRef[];
  /** Share of the rows before the test part; by default the source's (all for a generated series, 0.8 otherwise). */
  trainFraction?: number;
  /** Share of the rows in the validation part; by default the source's (none for a generated series, 0.1 otherwise). */
  validationFraction?: number;
  /** By default the source's ('none' for a generated series, 'z-score' otherwise). */
  normalize?: NormalizeMethod;
  /** What the model predicts; by default the source's (levels for a generated series). */
  transform?: Transform;
  /** The seasonal period; by default 'auto' (from the dates, or a generated wave's period). */
  season?: SeasonChoice;
  /** Inputs whose future values are known, read instead of predicted in a multi-step forecast (prepare.ts). */
  knownAhead?: ColumnRef[];
}

export interface Run {
  rng: Rng;
  config: ModelConfig;
  layout: ParamLayout;
  params: Float32Array;
  prepared: PreparedData;
  /** x positions of the rows (the sine's argument, the step index, or the row index) for charts. */
  positions: Float32Array;
  /** A short description of the data for people. */
  label: string;
  /** The data's unit where it is known ("ppm"), else null. */
  unit: string | null;
  /** The data settings as resolved (the source's defaults filled in). */
  dataSettings: Required<DataSettings>;
  /**
   * The used columns in levels with the source's future rows after them (a CSV's rows whose outputs
   * are empty: known-ahead inputs are read there past the end); prepared.table where there are none.
   */
  levels: ColumnTable;
}

/** A source's table with its rows' x positions, its label and its unit. */
export interface SourceTable {
  table: ColumnTable;
  positions: Float32Array;
  label: string;
  unit: string | null;
}

/** Reads a data source's table; the generator draws a generated series' noise. */
export type SourceReader = (source: DataSource, rng: Rng) => SourceTable;

/** A generated series or a table the caller parsed; a bundled series needs run.ts's reader (it parses CSV). */
export function tableOrGenerated(source: DataSource, rng: Rng): SourceTable {
  switch (source.kind) {
    case 'generated': {
      const { series, positions } = generateSeries(source.spec, rng);
      const label = `${source.spec.kind} series`;
      return { table: tableFromSeries(series, source.spec.kind), positions, label, unit: null };
    }
    case 'bundled':
      throw new InputError(
        'source',
        `the bundled series ${describeValue(source.name)} is read by run.ts's sourceTable`,
      );
    case 'table':
      return { table: source.table, positions: rowPositions(source.table.rows), label: source.label, unit: null };
  }
}

/** Which defaults the source brings (settings/training.ts, SOURCE_DEFAULTS). */
export function defaultsKeyOf(source: DataSource): DefaultsKey {
  return source.kind === 'bundled' ? source.name : source.kind === 'table' ? 'csv' : 'generated';
}

/** The seasonal period in rows that `choice` means for this source and table, or null. */
export function resolveSeason(choice: SeasonChoice, source: DataSource, table: ColumnTable): number | null {
  if (choice === 'none') return null;
  if (choice !== 'auto') return choice;
  return source.kind === 'generated' ? seasonOfSeries(source.spec) : (seasonFromDates(table.dates)?.period ?? null);
}

/** The data settings of a run, each left out taking the source's default. */
export function resolveDataSettings(
  settings: Omit<RunSettings, 'seed' | 'hiddenSizes'>,
  table: ColumnTable,
): Required<DataSettings> {
  const key = defaultsKeyOf(settings.source);
  const all = table.columns.map((_, i) => i);
  const knownAhead = settings.knownAhead ?? [];
  // A column known ahead is read, never predicted: the default outputs leave it out.
  const known = new Set(knownAhead.map((ref) => columnIndex(table, ref, 'knownAhead')));
  return {
    inputs: settings.inputs ?? all,
    outputs: settings.outputs ?? all.filter((c) => !known.has(c)),
    window: settings.window,
    trainFraction: settings.trainFraction ?? sourceDefault('split', key),
    validationFraction: settings.validationFraction ?? sourceDefault('validation', key),
    normalize: settings.normalize ?? sourceDefault('normalise', key),
    transform: settings.transform ?? sourceDefault('transform', key),
    season: resolveSeason(settings.season ?? 'auto', settings.source, table),
    knownAhead,
  };
}

/** The table, its positions and its label cut to the first `rows` rows. */
function firstRows(source: SourceTable, rows: number): { table: ColumnTable; positions: Float32Array; label: string } {
  const { table, positions, label } = source;
  if (!Number.isInteger(rows) || rows < 2 || rows > table.rows) {
    throw new InputError('rows', `expected a whole number of rows from 2 to ${table.rows}, got ${describeValue(rows)}`);
  }
  const cut: ColumnTable = {
    columns: table.columns,
    values: table.values.map((column) => column.subarray(0, rows)),
    rows,
    ...(table.dates ? { dates: table.dates.slice(0, rows) } : {}),
  };
  return { table: cut, positions: positions.subarray(0, rows), label: `${label}, rows 1–${rows}` };
}

/** 0, 1, … rows - 1: a table's x positions (a loop, not Float32Array.from's callback per row). */
export function rowPositions(rows: number): Float32Array {
  const positions = new Float32Array(rows);
  for (let i = 0; i < rows; i++) positions[i] = i;
  return positions;
}

/**
 * Sets up a run on the table `read` gives for the source. With `model` (a loaded model file) training
 * goes on from its weights: its shape must match the data's columns and the window.
 */
export function startRunWith(read: SourceReader, settings: RunSettings, model?: Model): Run {
  const rng = new Rng(settings.seed);
  const dataRng = settings.dataSeed === undefined ? rng : new Rng(settings.dataSeed);
  const source = read(settings.source, dataRng);
  // The weights come after the draws a run of `seed` makes for its own data, as members.ts's do.
  if (dataRng !== rng) read(settings.source, rng);
  const { table, positions, label } = settings.rows === undefined ? source : firstRows(source, settings.rows);
  const { unit } = source;
  const dataSettings = resolveDataSettings(settings, table);
  const prepared = prepareData(table, dataSettings);
  const config: ModelConfig = {
    inputSize: prepared.inputs.length,
    hiddenSizes: [...settings.hiddenSizes],
    outputSize: prepared.outputs.length,
    window: settings.window,
  };
  const layout = paramLayout(config);
  checkParameterBudget(layout.size, 'hidden');
  // Weights are drawn even when a model is loaded, so the minibatch orders do not depend on it.
  let params = initParams(layout, rng);
  if (model !== undefined) {
    if (!sameShape(model.config, config)) {
      throw new InputError(
        '--load',
        `the model is ${describeConfig(model.config)} but the data and options give ${describeConfig(config)}`,
      );
    }
    params = model.params.slice();
  }
  const future = settings.source.kind === 'table' && settings.rows === undefined ? settings.source.future : undefined;
  const levels =
    future === undefined
      ? prepared.table
      : withFutureRows(prepared.table, selectColumns(future, prepared.table.columns));
  return { rng, config, layout, params, prepared, positions, label, unit, dataSettings, levels };
}
