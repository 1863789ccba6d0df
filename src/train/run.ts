// A run on any data source: a generated series (the seed's sine by default), a bundled real series,
// or a table the caller parsed (the user's CSV). Everything goes through prepareData (columns,
// chronological split, normalisation fitted on the training rows), and the draws from the seeded
// generator keep the seed's order: data noise, then initial weights, then minibatch orders.

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
  /** Share of the rows that trains; default 1 for generated series (the seed's), 0.8 otherwise. */
  trainFraction?: number;
  /** Default 'none' for generated series (the seed's), 'z-score' otherwise. */
  normalise?: NormaliseMethod;
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
  const generated = settings.source.kind === 'generated';
  const all = table.columns.map((_, i) => i);
  const prepared = prepareData(table, {
    inputs: settings.inputs ?? all,
    outputs: settings.outputs ?? all,
    window: settings.window,
    trainFraction: settings.trainFraction ?? (generated ? 1 : 0.8),
    normalise: settings.normalise ?? (generated ? 'none' : 'z-score'),
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
