// What `train` reports of a run, shared by a single model's and an ensemble's output: the settings
// and data in --json, the line that opens a run, and what a model file keeps of the settings.

import type { CsvTable } from '../data/csv.js';
import { fingerprintTable } from '../data/fingerprint.js';
import type { selectionPart } from '../data/split.js';
import { optimizerSettingValues, type SettingValues } from '../settings/training.js';
import type { Forecaster } from '../train/forecast.js';
import { type HeldOutForecasts, heldOutForecasts, noHeldOutPart } from '../train/heldOut.js';
import type { Run } from '../train/run.js';
import type { DataOrigin } from '../train/savedSetup.js';
import type { DataOptions } from './dataOptions.js';
import type { TrainSettings } from './trainSettings.js';

/** --json's `config`: the model's shape and every training setting. */
export function jsonConfig(s: TrainSettings, run: Run) {
  const { source } = s.data;
  return {
    ...run.config,
    batch: s.batchSize,
    learningRate: s.learningRate,
    optimizer: s.optimizer,
    loss: s.loss,
    lrDecay: s.lrDecay,
    epochs: s.epochs,
    seed: s.seed,
    members: s.members,
    bestEpoch: s.keepBest ? 'on' : 'off',
    patience: s.patience,
    ...(source.kind === 'generated' ? { series: source.spec } : {}),
    ...(source.kind === 'generated' ? { points: source.spec.points, noise: source.spec.noise } : {}),
  };
}

/** --json's `data`: where the data came from, how it was prepared and split, and its fingerprint. */
export function jsonData(run: Run, selection: ReturnType<typeof selectionPart>) {
  const { prepared } = run;
  return {
    source: run.label,
    inputs: prepared.inputs,
    outputs: prepared.outputs,
    normalise: prepared.normalization.method,
    transform: prepared.transform.kind,
    season: prepared.season,
    split: run.dataSettings.trainFraction,
    validation: run.dataSettings.validationFraction,
    rows: prepared.table.rows,
    parts: {
      train: prepared.trainTargets,
      validation: prepared.validation ? prepared.validationTargets : null,
      test: prepared.test ? prepared.testTargets : null,
    },
    trainSamples: prepared.train.count,
    validationSamples: selection?.data.count ?? 0,
    testSamples: prepared.test?.count ?? 0,
    fingerprint: fingerprintTable(prepared.table),
  };
}

/**
 * The held-out part's multi-step forecasts of `forecaster`'s members (the run's model, or its
 * ensemble) at the options' horizon and levels, or why there are none (nothing held out).
 */
export async function heldOutOf(
  s: Pick<TrainSettings, 'horizon' | 'levels'>,
  run: Run,
  forecaster: Forecaster,
): Promise<HeldOutForecasts | string> {
  return (
    noHeldOutPart(run.prepared) ?? (await heldOutForecasts(forecaster, run, { horizon: s.horizon, levels: s.levels }))
  );
}

/** The line that opens a run for a person: the model, the training and the data. */
export function startLine(s: TrainSettings, run: Run, firstEpoch: number, lastEpoch: number): string {
  const { prepared } = run;
  const parts = [
    prepared.validation ? `${prepared.validation.count} validation` : '',
    prepared.test ? `${prepared.test.count} held out` : '',
  ].filter((part) => part !== '');
  return (
    `training hidden [${s.hiddenSizes.join(',')}], window ${s.window}, batch ${s.batchSize}, ${s.optimizer.name} lr ${s.learningRate}, ` +
    `epochs ${firstEpoch}–${lastEpoch} on ${prepared.train.count} samples of ${run.label}` +
    `${parts.length > 0 ? ` (${parts.join(', ')})` : ''}, ${prepared.transform.kind} (seed ${s.seed})${s.load ? ', from the loaded model' : ''}`
  );
}

/** Where the CLI's data came from, as the model file says it. */
export function originOf(data: DataOptions): DataOrigin {
  const { source } = data;
  if (source.kind === 'table') {
    const table = source.table as Partial<CsvTable>;
    return { kind: 'csv', fileName: source.label, dateColumn: table.dateColumn ?? null };
  }
  return { kind: source.kind };
}

/** Every setting of the run, as the settings table names them (what a model file keeps). */
export function savedSettings(s: TrainSettings, run: Run): Partial<SettingValues> {
  const { source } = s.data;
  const dataValues: Partial<SettingValues> =
    source.kind === 'generated'
      ? {
          source: 'generated',
          series: source.spec.kind,
          points: source.spec.points,
          noise: source.spec.noise,
          amplitude: source.spec.amplitude ?? 1,
          ...('period' in source.spec ? { period: source.spec.period } : {}),
          ...('periods' in source.spec ? { periods: source.spec.periods } : {}),
        }
      : source.kind === 'bundled'
        ? {
            source: 'bundled',
            dataset: source.name,
            ...(source.options?.symbol ? { symbol: source.options.symbol } : {}),
          }
        : { source: 'csv' };
  const { dataSettings } = run;
  return {
    ...dataValues,
    split: dataSettings.trainFraction,
    validation: dataSettings.validationFraction,
    normalise: dataSettings.normalize,
    transform: dataSettings.transform,
    season: s.data.season ?? 'auto',
    window: s.window,
    hidden: s.hiddenSizes,
    batch: s.batchSize,
    epochs: s.epochs,
    lr: s.learningRate,
    ...optimizerSettingValues(s.optimizer),
    'lr-decay': s.lrDecay,
    loss: s.loss,
    'best-epoch': s.keepBest ? 'on' : 'off',
    patience: s.patience,
    seed: s.seed,
    members: s.members,
    report: s.reportEvery,
  };
}
