// What training takes and gives back, for a single model and for each member of a population alike:
// the options, the reports at each report interval, the result, and where a run can be picked up
// again. The loop itself is population.ts's; trainer.ts is a single model's face of it.

import type { Dataset } from '../data/dataset.js';
import type { Rng } from '../data/rng.js';
import {
  DEFAULT_OPTIMIZER,
  type LossName,
  type OptimizerSettings,
  type OptimizerState,
  optimizerUses,
} from '../model/optimizer.js';
import { OPTIMIZER_KEYS, OPTIMIZER_SETTINGS, SETTINGS } from '../settings/training.js';

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Read errors back (and report) every this many epochs, and after the last. */
  reportEvery: number;
  /** Held-out samples: their error (same formula) is measured after every epoch, in the epoch's own work. */
  validation?: Dataset | null;
  /** The update after each minibatch; by default the blog's SGD (DEFAULT_OPTIMIZER). */
  optimizer?: OptimizerSettings;
  /** The loss trained and reported; by default the blog's 'sse'. */
  loss?: LossName;
  /** Epoch e trains with learningRate * lrDecay^(e - 1); default 1 (no decay). */
  lrDecay?: number;
  /** trainToEnd only: the optimizer state to start from (a loaded model's), if it is the same optimizer. */
  initialOptimizerState?: OptimizerState;
  /** Told how far a long epoch has got, where the backend says (EpochOptions.onProgress). */
  onEpochProgress?: (progress: EpochProgress) => void;
  /**
   * trainToEnd only: where a loaded model's training stopped (its epoch, errors so far, generator, and
   * its weights as the best so far); training goes on with epoch + 1 up to `epochs`.
   */
  continueFrom?: Pick<Checkpoint, 'epoch' | 'losses' | 'validationLosses' | 'rng' | 'best'>;
  /**
   * Keep the weights of the epoch with the lowest validation error (with validation data only): the
   * errors are then read back after every epoch, and the weights whenever the error is a new best.
   */
  keepBest?: boolean;
  /** With keepBest: stop once the validation error has not improved for this many epochs (null: never). */
  patience?: number | null;
}

/** Where training stands inside an epoch. */
export interface EpochProgress {
  /** The epoch under way, 1-based. */
  epoch: number;
  epochs: number;
  /** Minibatch steps of this epoch done so far. */
  steps: number;
  stepsPerEpoch: number;
}

/** The epoch with the lowest validation error so far, and where training stood after it. */
export interface BestEpoch {
  epoch: number;
  /** Its validation error. */
  loss: number;
  /** (P) its weights. */
  params: Float32Array;
  optimizerState?: OptimizerState;
  /** The generator after it: going on from the best epoch replays the orders that followed it. */
  rng: Rng;
}

export interface TrainReport {
  /** Epochs done so far. */
  epoch: number;
  epochs: number;
  /** Per-epoch errors from the first epoch to `epoch`. */
  losses: number[];
  /** Minibatch updates done so far. */
  steps: number;
  /** Wall time of the loop so far, in seconds. */
  seconds: number;
  /** The weights after `epoch`, read back at this report (P). */
  params: Float32Array;
  /** The generator as it stands after `epoch`: resuming from here replays the same minibatch orders. */
  rng: Rng;
  /** The validation error of every epoch so far, oldest first (empty without validation data). */
  validationLosses: { epoch: number; loss: number }[];
  /** The optimizer's state after `epoch`, read back at this report (always set by train()). */
  optimizerState?: OptimizerState;
  /** With keepBest: the best epoch so far (null before the first validation error). */
  best: BestEpoch | null;
}

/** Where a run can be picked up again (a report, or the start). */
export type Checkpoint = Pick<TrainReport, 'epoch' | 'losses' | 'params' | 'rng'> &
  Partial<Pick<TrainReport, 'validationLosses' | 'optimizerState' | 'best'>>;

/** Why training ended before its last epoch. */
export interface Divergence {
  /** First epoch whose error was not finite. */
  epoch: number;
  /** Epoch of the weights restored into the backend (0: the initial weights). */
  restoredEpoch: number;
  message: string;
}

/**
 * `params` (and the backend) hold the weights kept: the best epoch's with keepBest, else the last
 * epoch's; `epoch` is the last epoch trained.
 */
export interface TrainResult extends TrainReport {
  /** The last finite error. */
  finalLoss: number;
  /** Set when an error became NaN or Infinity; the backend then holds the last finite weights. */
  diverged: Divergence | null;
  /** The epoch at which patience ran out (training stopped early), or null. */
  stoppedEarly: number | null;
  /** Where the weights kept (`params`) stand: the best epoch, the epoch restored after a divergence, or the last. */
  kept: Kept;
}

/** An epoch's weights with the optimizer state and generator after it. */
export type Kept = Pick<BestEpoch, 'epoch' | 'params' | 'optimizerState' | 'rng'>;

/** Checks the options against the settings' bounds and the data; throws InputError naming the setting. */
export function checkTrainOptions(options: TrainOptions, data: Dataset): void {
  SETTINGS.batch.within({ max: data.count }).check(options.batchSize);
  SETTINGS.epochs.check(options.epochs);
  SETTINGS.lr.check(options.learningRate);
  SETTINGS.report.check(options.reportEvery);
  SETTINGS['lr-decay'].check(options.lrDecay ?? 1);
  const optimizer = options.optimizer ?? DEFAULT_OPTIMIZER;
  SETTINGS.optimizer.check(optimizer.name);
  for (const key of OPTIMIZER_KEYS) {
    if (optimizerUses(optimizer.name, key)) OPTIMIZER_SETTINGS[key].check(optimizer[key]);
  }
  SETTINGS.loss.check(options.loss ?? 'sse');
  SETTINGS.patience.check(options.patience ?? null);
}

/**
 * Max |value| of the windows and targets above which a divergence is blamed on the data's scale (the
 * model's activations saturate and its gradients overflow long before a learning rate matters).
 */
export const DATA_SCALE_LIMIT = 1e4;
