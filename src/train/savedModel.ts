// The model file's contents for a trained run, written alike by the CLI's --save and the app's
// download: weights, normalization, the data's origin and fingerprint, the transform and split as
// resolved, every setting, the optimizer's state and the training so far.

import { fingerprintTable } from '../data/fingerprint.js';
import type { PreparedData } from '../data/prepare.js';
import { Rng } from '../data/rng.js';
import type { ModelConfig } from '../model/layout.js';
import { paramLayout } from '../model/layout.js';
import type { LossName, OptimizerSettings } from '../model/optimizer.js';
import type { SettingValues } from '../settings/training.js';
import type { Model, SavedOptimizer } from './modelFile.js';
import type { DataOrigin, SavedTraining } from './savedSetup.js';
import type { TrainOptions, TrainResult } from './trainer.js';

export interface SavedRun {
  config: ModelConfig;
  /** (P) the weights kept. */
  params: Float32Array;
  prepared: PreparedData;
  /** The data's description ("bundled co2", "prices.csv"). */
  label: string;
  origin: DataOrigin;
  /** The shares as set (the prepared rows are their rounding). */
  trainFraction: number;
  validationFraction: number;
  /** Every setting as the run used it. */
  settings: Partial<SettingValues>;
  optimizer?: SavedOptimizer;
  training?: SavedTraining;
}

export function savedModel(run: SavedRun): Model {
  const { prepared } = run;
  return {
    config: run.config,
    layout: paramLayout(run.config),
    params: run.params,
    normalization: prepared.normalization,
    data: {
      source: run.label,
      inputs: prepared.inputs,
      outputs: prepared.outputs,
      trainFraction: run.trainFraction,
      validationFraction: run.validationFraction,
      transform: prepared.transform.kind,
      season: prepared.season,
      origin: run.origin,
      fingerprint: fingerprintTable(prepared.table),
      ...(prepared.knownAhead.length > 0 ? { knownAhead: prepared.knownAhead } : {}),
    },
    settings: run.settings,
    ...(run.optimizer ? { optimizer: run.optimizer } : {}),
    ...(run.training ? { training: run.training } : {}),
  };
}

/**
 * Where a loaded model's training stopped, as the trainer goes on from it (TrainOptions.continueFrom):
 * with keepBest, its weights (`params`) are the best so far, and a later epoch must beat their
 * validation error to replace them.
 */
export function continuationOf(
  saved: SavedTraining,
  params: Float32Array,
  keepBest: boolean,
): NonNullable<TrainOptions['continueFrom']> {
  const rng = Rng.fromState(saved.rng);
  const atEpoch = saved.validationLosses.find((v) => v.epoch === saved.epoch);
  return {
    epoch: saved.epoch,
    losses: saved.losses,
    validationLosses: saved.validationLosses,
    rng,
    best: keepBest && atEpoch ? { epoch: saved.epoch, loss: atEpoch.loss, params, rng: rng.clone() } : null,
  };
}

/** Where a result's kept weights stand: the optimizer's state (trained with `optimizer` on `loss`) and the training up to them. */
export function keptTraining(
  result: TrainResult,
  optimizer: OptimizerSettings,
  loss: LossName,
): { optimizer?: SavedOptimizer; training: SavedTraining } {
  const { kept } = result;
  if (result.losses.length < kept.epoch) {
    // (A search's members without their training errors: PopulationOptions.trainingError.)
    throw new Error(`a model's history needs its ${kept.epoch} training errors; the run kept ${result.losses.length}`);
  }
  return {
    ...(kept.optimizerState ? { optimizer: { ...kept.optimizerState, settings: optimizer, loss } } : {}),
    training: {
      epoch: kept.epoch,
      losses: result.losses.slice(0, kept.epoch),
      validationLosses: result.validationLosses.filter((v) => v.epoch <= kept.epoch),
      rng: kept.rng.state(),
    },
  };
}
