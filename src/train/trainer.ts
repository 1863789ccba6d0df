// The training scheduler shared by the CLI, the app and the tests: the blog's loop (a fresh shuffle
// each epoch, floor(N / B) minibatches, an update after each, the error over all samples after the
// epoch), driving any Backend with the chosen optimizer (src/model/optimizer.ts) at the epoch's
// learning rate after decay. Errors are read back once per report interval; docs/ARCHITECTURE.md
// says why.

import { type Backend, GpuFailure } from '../backends/backend.js';
import type { Dataset } from '../data/dataset.js';
import type { Rng } from '../data/rng.js';
import {
  DEFAULT_OPTIMIZER,
  epochLearningRate,
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

/**
 * Trains `backend` on `data`, drawing each epoch's minibatch order from `rng`; yields a report every
 * `reportEvery` epochs and after the last. Stopping the iteration stops training after the epochs
 * already queued; disposing of the backend stops it between two slices of an epoch.
 */
export async function* train(
  backend: Backend,
  data: Dataset,
  rng: Rng,
  options: TrainOptions,
  now: () => number = () => performance.now(),
  resume?: Checkpoint,
): AsyncGenerator<TrainReport, TrainResult> {
  const { optimizer, validation } = await setUp(backend, data, options);
  const stepsPerEpoch = Math.floor(data.count / options.batchSize);
  const order = new Uint32Array(data.count);
  const losses: number[] = resume ? [...resume.losses] : [];
  const validationLosses = resume?.validationLosses ? [...resume.validationLosses] : [];
  const firstEpoch = resume ? resume.epoch + 1 : 1;
  const keepBest = options.keepBest === true && validation !== null && validation.count > 0;
  let best: BestEpoch | null = keepBest ? (resume?.best ?? null) : null;
  if (resume) rng = resumeFrom(backend, resume, optimizer);
  const start = now();
  // The last weights known to be finite: what divergence (and a lost GPU) falls back to.
  let report: TrainReport = {
    epoch: firstEpoch - 1,
    epochs: options.epochs,
    losses,
    steps: (firstEpoch - 1) * stepsPerEpoch,
    seconds: 0,
    params: resume ? resume.params : await backend.readParams(),
    rng: rng.clone(),
    validationLosses,
    optimizerState: await backend.readOptimizerState(),
    best,
  };
  for (let epoch = firstEpoch; epoch <= options.epochs; epoch++) {
    rng.permutation(order);
    await trainEpoch(backend, order, options, epoch, stepsPerEpoch);
    const reportNow = epoch % options.reportEvery === 0 || epoch === options.epochs;
    if (!reportNow && !keepBest) continue;
    const fresh = await readFreshLosses(backend, epoch, validation !== null);
    const bad = fresh.train.findIndex((value) => !Number.isFinite(value));
    const params = bad < 0 ? await backend.readParams() : null;
    if (params === null || !allFinite(params)) {
      keepLosses(fresh, Math.max(0, bad), losses, validationLosses);
      const seconds = (now() - start) / 1000;
      return divergence(backend, data, options.learningRate, { ...report, losses, seconds }, best, fresh, bad);
    }
    keepLosses(fresh, fresh.train.length, losses, validationLosses);
    let stop = false;
    if (keepBest && validationLosses.length > 0) {
      best = await bestSoFar(backend, best, validationLosses[validationLosses.length - 1], epoch, params, rng);
      stop = best !== null && options.patience != null && epoch - best.epoch >= options.patience;
    }
    if (!reportNow && !stop) continue;
    report = {
      epoch,
      epochs: options.epochs,
      losses,
      steps: epoch * stepsPerEpoch,
      seconds: (now() - start) / 1000,
      params,
      rng: rng.clone(),
      validationLosses,
      optimizerState: await backend.readOptimizerState(),
      best,
    };
    if (stop) return finish(backend, report, losses, epoch);
    if (epoch < options.epochs) yield report;
  }
  return finish(backend, report, losses, null);
}

/** Checks the options and gives the backend the optimizer, the data and its calibration. */
async function setUp(
  backend: Backend,
  data: Dataset,
  options: TrainOptions,
): Promise<{ optimizer: OptimizerSettings; validation: Dataset | null }> {
  checkTrainOptions(options, data);
  const optimizer = options.optimizer ?? DEFAULT_OPTIMIZER;
  backend.setOptimizer(optimizer, options.loss ?? 'sse');
  backend.setTrainingData(data, options.batchSize);
  const validation = options.validation != null && options.validation.count > 0 ? options.validation : null;
  // (A backend kept from an earlier run drops that run's validation set.)
  backend.setValidationData(validation);
  await backend.gpu?.calibrate();
  return { optimizer, validation };
}

/** Puts the checkpoint's weights (and its optimizer's state) back; returns the generator to go on with. */
function resumeFrom(backend: Backend, resume: Checkpoint, optimizer: OptimizerSettings): Rng {
  backend.setParams(resume.params);
  // The same optimizer goes on where it was; a checkpoint of another one starts this one afresh.
  const state = resume.optimizerState;
  if (state !== undefined && state.name === optimizer.name) backend.setOptimizerState(state);
  return resume.rng.clone();
}

/** One epoch over `order` at the epoch's learning rate, telling options.onEpochProgress how far it got. */
async function trainEpoch(
  backend: Backend,
  order: Uint32Array,
  options: TrainOptions,
  epoch: number,
  stepsPerEpoch: number,
): Promise<void> {
  const onProgress = options.onEpochProgress;
  await backend.trainEpoch(
    order,
    epochLearningRate(options.learningRate, options.lrDecay ?? 1, epoch),
    onProgress && {
      onProgress: (steps) => onProgress({ epoch, epochs: options.epochs, steps, stepsPerEpoch }),
    },
  );
}

/** The errors of the epochs since the last read, the first of them numbered `first`. */
interface FreshLosses {
  first: number;
  train: number[];
  /** One per training error, or none without validation data. */
  validation: number[];
}

async function readFreshLosses(backend: Backend, epoch: number, validating: boolean): Promise<FreshLosses> {
  const fresh = await backend.readLosses();
  if (validating && fresh.validation.length !== fresh.train.length) {
    throw new Error(
      `${backend.name} backend: ${fresh.validation.length} validation errors for ${fresh.train.length} epochs`,
    );
  }
  return { first: epoch - fresh.train.length + 1, train: fresh.train, validation: validating ? fresh.validation : [] };
}

/** Keeps the errors of the first `count` fresh epochs. */
function keepLosses(
  fresh: FreshLosses,
  count: number,
  losses: number[],
  validationLosses: { epoch: number; loss: number }[],
): void {
  for (let i = 0; i < count; i++) {
    losses.push(fresh.train[i]);
    if (fresh.validation.length > 0) validationLosses.push({ epoch: fresh.first + i, loss: fresh.validation[i] });
  }
}

/** The best epoch after `epoch`: this one where its validation error (`latest`) beats the best so far. */
async function bestSoFar(
  backend: Backend,
  best: BestEpoch | null,
  latest: { epoch: number; loss: number },
  epoch: number,
  params: Float32Array,
  rng: Rng,
): Promise<BestEpoch | null> {
  // (A NaN validation error is never better.)
  const better = latest.epoch === epoch && (best === null || latest.loss < best.loss);
  if (!better) return best;
  const optimizerState = await backend.readOptimizerState();
  return { epoch, loss: latest.loss, params, optimizerState, rng: rng.clone() };
}

/**
 * A non-finite error in the fresh epochs (the first at `bad`), or finite errors but weights that did
 * not stay finite (`bad` -1), ends training: the best epoch's weights where they are kept, else the
 * last report's (both finite), go back into the backend, and the message names the epoch and what to
 * try. `report` is the last report with the errors kept up to the bad epoch and the time so far.
 */
function divergence(
  backend: Backend,
  data: Dataset,
  learningRate: number,
  report: TrainReport,
  best: BestEpoch | null,
  fresh: FreshLosses,
  bad: number,
): TrainResult {
  const badEpoch = fresh.first + (bad < 0 ? fresh.train.length - 1 : bad);
  const restored = best ?? report;
  backend.setParams(restored.params);
  if (restored.optimizerState !== undefined) backend.setOptimizerState(restored.optimizerState);
  const became = bad < 0 ? 'finite but the weights did not stay finite' : String(fresh.train[bad]);
  const diverged: Divergence = {
    epoch: badEpoch,
    restoredEpoch: restored.epoch,
    message:
      `training diverged at epoch ${badEpoch} (the error became ${became}); ` +
      `the weights after epoch ${restored.epoch} were restored. ${divergenceAdvice(data, learningRate)}`,
  };
  const { losses } = report;
  return {
    ...report,
    params: restored.params,
    finalLoss: losses.length > 0 ? losses[losses.length - 1] : Number.NaN,
    diverged,
    stoppedEarly: null,
    kept: keptOf(restored),
  };
}

/** The result after the last epoch (or an early stop): the best epoch's weights go back into the backend. */
function finish(backend: Backend, report: TrainReport, losses: number[], stoppedEarly: number | null): TrainResult {
  const { best } = report;
  if (best !== null) {
    backend.setParams(best.params);
    if (best.optimizerState !== undefined) backend.setOptimizerState(best.optimizerState);
  }
  const kept = keptOf(best ?? report);
  return { ...report, params: kept.params, finalLoss: losses[losses.length - 1], diverged: null, stoppedEarly, kept };
}

function keptOf(point: Kept): Kept {
  return {
    epoch: point.epoch,
    params: point.params,
    rng: point.rng,
    ...(point.optimizerState ? { optimizerState: point.optimizerState } : {}),
  };
}

/**
 * What to try after a divergence: normalizing the data where its values are far beyond what an LSTM's
 * squashing gates can take (DATA_SCALE_LIMIT), else a lower learning rate.
 */
function divergenceAdvice(data: Dataset, learningRate: number): string {
  const scale = Math.max(maxAbs(data.x), maxAbs(data.t));
  if (scale > DATA_SCALE_LIMIT) {
    return (
      `The data's scale is the likely cause (values up to ${scale.toExponential(1)}): ` +
      'normalise the data (z-score or min-max) and train again.'
    );
  }
  return `Try a lower learning rate (now ${learningRate}).`;
}

function maxAbs(values: Float32Array): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    const value = Math.abs(values[i]);
    // NaN never compares greater: a NaN in the data is no scale.
    if (value > max) max = value;
  }
  return max;
}

function allFinite(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}

/** A backend to go on with when the first one fails (a lost GPU device). */
export interface Fallback {
  /** Which failures to recover from: by default a GpuFailure (device lost, out of memory, a validation error). */
  recoverable?: (error: unknown, backend: Backend) => boolean;
  create(): Backend;
  /** Told why and from which epoch training goes on. */
  onSwitch?(message: string, fromEpoch: number): void;
}

/** Only the GPU failing is recovered from: bad input and programming errors surface as they are. */
export function isGpuFailure(error: unknown): boolean {
  return error instanceof GpuFailure;
}

/**
 * Runs `train` to the end, calling `onReport` at each report. With a fallback, a failure of the
 * backend (a lost GPU device) resumes on the fallback from the last report: at most one report
 * interval is lost and the minibatch orders stay those of the run's seed. Returns the backend that finished.
 */
export async function trainToEnd(
  backend: Backend,
  data: Dataset,
  rng: Rng,
  options: TrainOptions,
  onReport?: (report: TrainReport) => void | Promise<void>,
  fallback?: Fallback,
): Promise<TrainResult & { backend: Backend; switched: string | null }> {
  // The start is the first checkpoint, so a failure before the first report loses nothing either.
  let checkpoint: Checkpoint = {
    epoch: 0,
    losses: [],
    params: await backend.readParams(),
    rng: rng.clone(),
    ...(options.initialOptimizerState ? { optimizerState: options.initialOptimizerState } : {}),
    ...options.continueFrom,
  };
  let secondsBefore = 0;
  let current = backend;
  let switched: string | null = null;
  for (;;) {
    const run = train(current, data, rng, options, undefined, checkpoint);
    let lastSeconds = 0;
    try {
      for (;;) {
        const next = await run.next();
        const seconds = secondsBefore + next.value.seconds;
        lastSeconds = next.value.seconds;
        if (next.done) return { ...next.value, seconds, backend: current, switched };
        checkpoint = next.value;
        // Awaited: a caller may let its event loop turn here (the CLI hears Ctrl-C at a report).
        await onReport?.({ ...next.value, seconds });
      }
    } catch (error) {
      const recoverable = fallback?.recoverable ?? isGpuFailure;
      if (fallback === undefined || switched !== null || !recoverable(error, current)) throw error;
      switched = `${current.name} failed (${(error as Error).message}); going on from epoch ${checkpoint.epoch}`;
      fallback.onSwitch?.(switched, checkpoint.epoch);
      secondsBefore += lastSeconds;
      void current.dispose();
      current = fallback.create();
    }
  }
}
