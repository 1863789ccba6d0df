// The options of the commands that train (`train`, `backtest`, `search`): read once into
// TrainSettings, each option not given falling back to a loaded model's setting, then to the
// source's default; and the run they describe.

import { InputError } from '../model/errors.js';
import { DEFAULT_OPTIMIZER, type LossName, type OptimizerSettings } from '../model/optimizer.js';
import { BACKTEST_SETTINGS } from '../settings/backtest.js';
import type { CpuThreads } from '../settings/threads.js';
import { optimizerValues, SETTINGS } from '../settings/training.js';
import type { Model } from '../train/modelFile.js';
import { type Run, type RunSettings, startRun } from '../train/run.js';
import type { BackendChoice } from './backends.js';
import { CLI_SETTINGS, commandOptions } from './commands.js';
import { type DataOptions, type Fallbacks, fallbacks, readDataOptions } from './dataOptions.js';
import { readModelOption } from './files.js';
import { option, optionValue, type ParsedOptions, parseOptions } from './options.js';

/** Exit status when training stopped because the error became NaN or Infinity. */
export const EXIT_DIVERGED = 3;

export interface TrainSettings {
  backend: BackendChoice;
  /** The CPU backend's threads. */
  threads: CpuThreads;
  hiddenSizes: number[];
  window: number;
  batchSize: number;
  epochs: number;
  learningRate: number;
  seed: number;
  /** Seeds seed .. seed + members - 1 trained together (an ensemble); 1: a single model. */
  members: number;
  /** The data noise's seed where it is not `seed` (RunSettings.dataSeed), else null. */
  dataSeed: number | null;
  reportEvery: number;
  data: DataOptions;
  optimizer: OptimizerSettings;
  loss: LossName;
  lrDecay: number;
  /** Keep the weights of the best epoch on the validation part. */
  keepBest: boolean;
  patience: number | null;
  load: Model | undefined;
  save: string | undefined;
  json: boolean;
  /** Steps of the held-out part's multi-step forecasts (null: 12 for monthly data, else 24). */
  horizon: number | null;
  /** The prediction intervals' levels, in percent. */
  levels: number[];
}

/** The training and data options of `train`, or of another command that trains (`backtest`). */
export function readTrainSettings(argv: string[], command = 'train'): TrainSettings {
  const values = parseOptions(command, argv, commandOptions(command));
  const loadPath = optionValue(values, CLI_SETTINGS.load);
  const load = loadPath === undefined ? undefined : readModelOption(loadPath, '--load');
  // Each option not given falls back to the loaded model's setting, then to the source's default.
  const given = fallbacks(values, load);
  // A loaded model fixes the shape; options may repeat it but not contradict it (startRun checks).
  const window = option(values, SETTINGS.window, load?.config.window ?? given.value('window'));
  const data = readDataOptions(values, window, load);
  if (load?.normalization !== undefined && data.normalize === undefined) data.normalize = load.normalization.method;
  // A loaded ensemble goes on with all its members unless --members says otherwise.
  const members = option(values, SETTINGS.members, load?.members?.length ?? 1);
  if (load !== undefined && load.members === undefined && members > 1) {
    // Its other members would start from fresh weights beside one trained model: not an ensemble.
    throw new InputError(
      '--members',
      `the loaded model is one model, not an ensemble: leave --members out to go on with it, or train ${members} seeds afresh without --load`,
    );
  }
  return {
    backend: option(values, CLI_SETTINGS.backend),
    threads: option(values, SETTINGS.threads),
    hiddenSizes: option(values, SETTINGS.hidden, load?.config.hiddenSizes ?? given.value('hidden')),
    window,
    batchSize: given.value('batch'),
    epochs: given.value('epochs'),
    learningRate: given.value('lr'),
    seed: given.value('seed'),
    members,
    dataSeed: option(values, CLI_SETTINGS['data-seed']),
    reportEvery: given.value('report'),
    data,
    ...readOptimizerOptions(values, load, given),
    keepBest: given.value('best-epoch') === 'on',
    patience: given.value('patience'),
    load,
    save: optionValue(values, CLI_SETTINGS.save),
    json: option(values, CLI_SETTINGS.json),
    horizon: option(values, BACKTEST_SETTINGS.horizon),
    levels: option(values, BACKTEST_SETTINGS.levels),
  };
}

function readOptimizerOptions(
  values: ParsedOptions,
  load: Model | undefined,
  given: Fallbacks,
): Pick<TrainSettings, 'optimizer' | 'loss' | 'lrDecay'> {
  // A loaded model's optimizer is the default, so --load goes on as it was trained.
  const base = load?.optimizer?.settings ?? { ...DEFAULT_OPTIMIZER, name: given.value('optimizer') };
  return {
    optimizer: {
      name: option(values, SETTINGS.optimizer, base.name),
      ...optimizerValues((key, setting) => option(values, setting, base[key])),
    },
    loss: option(values, SETTINGS.loss, load?.optimizer?.loss ?? given.value('loss')),
    lrDecay: given.value('lr-decay'),
  };
}

/** The run the options describe, each setting not given left to the source's default. */
export function runSettingsFor(
  s: Pick<TrainSettings, 'seed' | 'window' | 'hiddenSizes' | 'data'> & Partial<Pick<TrainSettings, 'dataSeed'>>,
): RunSettings {
  const { source, trainFraction, validationFraction, normalize, transform, season, defaultColumns, knownAhead } =
    s.data;
  const inputs = s.data.inputs ?? defaultColumns;
  // A column known ahead is read, never predicted: the default outputs leave it out.
  const outputs = s.data.outputs ?? defaultColumns?.filter((c) => !knownAhead?.includes(c));
  return {
    seed: s.seed,
    ...(s.dataSeed != null ? { dataSeed: s.dataSeed } : {}),
    source,
    window: s.window,
    hiddenSizes: s.hiddenSizes,
    ...(inputs ? { inputs } : {}),
    ...(outputs ? { outputs } : {}),
    ...(trainFraction !== undefined ? { trainFraction } : {}),
    ...(validationFraction !== undefined ? { validationFraction } : {}),
    ...(normalize ? { normalize } : {}),
    ...(transform ? { transform } : {}),
    ...(season !== undefined ? { season } : {}),
    ...(knownAhead !== undefined && knownAhead.length > 0 ? { knownAhead } : {}),
  };
}

export function runFor(
  s: Pick<TrainSettings, 'seed' | 'window' | 'hiddenSizes' | 'data' | 'load'> &
    Partial<Pick<TrainSettings, 'dataSeed'>>,
): Run {
  return startRun(runSettingsFor(s), s.load);
}
