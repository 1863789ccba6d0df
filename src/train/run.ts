// The one way a run starts, for the CLI, the app, the tests and the scripts: on any data source (a
// generated series, the blog's noisy sine by default; a bundled real series; a table the caller
// parsed, the user's CSV), through prepareData (columns, chronological split, normalization fitted on
// the training rows). The seeded generator draws in the blog's order: data noise, then initial
// weights, then (during training) the minibatch orders, so every backend sees the same run.

import { type BundledName, type BundledOptions, loadBundledSeries } from '../data/bundled.js';
import { generateSeries, type SeriesSpec } from '../data/generators.js';
import type { NormaliseMethod } from '../data/normalise.js';
import { type PreparedData, prepareData } from '../data/prepare.js';
import { Rng } from '../data/rng.js';
import { type ColumnRef, type ColumnTable, tableFromSeries } from '../data/windows.js';
import { InputError } from '../model/errors.js';
import { initParams } from '../model/init.js';
import { describeConfig, type ModelConfig, type ParamLayout, paramLayout, sameShape } from '../model/layout.js';
import type { Model } from '../model/modelFile.js';
import { checkParameterBudget } from '../model/validate.js';
import { dataDefaults } from '../settings/training.js';

export type DataSource =
  | { kind: 'generated'; spec: SeriesSpec }
  | { kind: 'bundled'; name: BundledName; options?: BundledOptions }
  | { kind: 'table'; table: ColumnTable; label: string };

export interface RunSettings {
  seed: number;
  source: DataSource;
  window: number;
  hiddenSizes: number[];
  /** Input and output columns (default: every column in, every column out). */
  inputs?: ColumnRef[];
  outputs?: ColumnRef[];
  /** Share of the rows that trains; by default dataDefaults' (all for a generated series, 0.8 otherwise). */
  trainFraction?: number;
  /** By default dataDefaults' ('none' for a generated series, 'z-score' otherwise). */
  normalize?: NormaliseMethod;
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
}

export function sourceTable(
  source: DataSource,
  rng: Rng,
): { table: ColumnTable; positions: Float32Array; label: string } {
  switch (source.kind) {
    case 'generated': {
      const { series, positions } = generateSeries(source.spec, rng);
      return { table: tableFromSeries(series, source.spec.kind), positions, label: `${source.spec.kind} series` };
    }
    case 'bundled': {
      const table = loadBundledSeries(source.name, source.options);
      return { table, positions: rowPositions(table.rows), label: `bundled ${source.name}` };
    }
    case 'table':
      return { table: source.table, positions: rowPositions(source.table.rows), label: source.label };
  }
}

function rowPositions(rows: number): Float32Array {
  return Float32Array.from({ length: rows }, (_, i) => i);
}

/**
 * Sets up a run. With `model` (a loaded model file) training goes on from its weights: its shape must
 * match the data's columns and the window.
 */
export function startRun(settings: RunSettings, model?: Model): Run {
  const rng = new Rng(settings.seed);
  const { table, positions, label } = sourceTable(settings.source, rng);
  const defaults = dataDefaults(settings.source.kind === 'generated');
  const all = table.columns.map((_, i) => i);
  const prepared = prepareData(table, {
    inputs: settings.inputs ?? all,
    outputs: settings.outputs ?? all,
    window: settings.window,
    trainFraction: settings.trainFraction ?? defaults.split,
    normalise: settings.normalize ?? defaults.normalise,
  });
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
  return { rng, config, layout, params, prepared, positions, label };
}
