// What `train` writes with --save: the model file of a run (a single model, or an ensemble whose
// members are the seeds trained together), and the checks that refuse, before any training, a save
// that could not be read back.

import type { Model, ModelMember, SavedOptimizer } from '../train/modelFile.js';
import { checkModelFile, checkModelFileSize, type SavedShape } from '../train/modelFile.js';
import type { TrainResult } from '../train/options.js';
import type { Run } from '../train/run.js';
import { keptTraining, savedModel } from '../train/savedModel.js';
import type { SavedTraining } from '../train/savedSetup.js';
import { originOf, savedSettings } from './trainReport.js';
import type { TrainSettings } from './trainSettings.js';

/** What bounds the size of the file this run saves: its parameters, optimizer, epochs and names. */
export function savedShape(s: TrainSettings, parameters: number, names: number): SavedShape {
  return {
    parameters,
    members: s.members,
    optimizer: s.optimizer.name,
    epochs: (s.load?.training?.epoch ?? 0) + s.epochs,
    names,
  };
}

/**
 * Refuses, before any training, a save that could not be read back: a model file too large (bounded
 * from the parameter count, the optimizer and the epochs), or a field the reader refuses (a checked
 * dry run of the file with the starting weights).
 */
export function checkSavable(s: TrainSettings, run: Run): void {
  const names = [run.label, ...run.prepared.inputs, ...run.prepared.outputs].reduce(
    (sum, name) => sum + name.length,
    0,
  );
  checkModelFileSize(savedShape(s, run.layout.size, names), '--save');
  checkModelFile(
    modelToSave(s, run, run.params, undefined, { epoch: 0, losses: [], validationLosses: [], rng: run.rng.state() }),
  );
}

/** The model file's contents for this run: `params`, the optimizer's state and the training so far. */
export function modelToSave(
  s: TrainSettings,
  run: Run,
  params: Float32Array,
  optimizer: SavedOptimizer | undefined,
  training: SavedTraining,
): Model {
  return savedModel({
    config: run.config,
    params,
    prepared: run.prepared,
    label: run.label,
    origin: originOf(s.data),
    trainFraction: run.dataSettings.trainFraction,
    validationFraction: run.dataSettings.validationFraction,
    settings: savedSettings(s, run),
    ...(optimizer ? { optimizer } : {}),
    training,
  });
}

/** Where a result's kept weights stand: the optimizer's state and the training up to them. */
export function keptOf(s: TrainSettings, result: TrainResult): { optimizer?: SavedOptimizer; training: SavedTraining } {
  return keptTraining(result, s.optimizer, s.loss);
}

/** An ensemble's model file: member 0 at the top level (a reader without members gets it), every member in `members`. */
export function ensembleToSave(
  s: TrainSettings,
  run: Run,
  results: readonly TrainResult[],
  seeds: readonly number[],
): Model {
  const members = results.map(
    (result, m): ModelMember => ({ seed: seeds[m], params: result.params, ...keptOf(s, result) }),
  );
  const first = members[0];
  const model = modelToSave(s, run, first.params, first.optimizer, first.training as SavedTraining);
  // One member left (the others diverged) is a model of one.
  return members.length > 1 ? { ...model, members } : model;
}
