// One training run of one backend, as the app shows it: the shared trainer drives the backend, and
// at every report the run takes a snapshot for the charts (one-step-ahead predictions on every
// window, the free-running forecast into the held-out part and past the end of the data, all mapped
// back to levels in the data's units) and for going on elsewhere (the weights, the best epoch's and
// the generator as they stand), then yields to the event loop, where pause and stop take effect. The
// same code runs in the CPU worker and, for WebGPU, on the page's main thread; it touches no DOM.
//
// Legend: R = rows, T = window, L = the transform's lag, B = boundary (first test row),
// N = R - L - T samples, I = input columns, O = output columns, P = parameters, S = forecast steps,
// H = the horizon (steps past the end).

import type { Backend } from '../backends/backend.js';
import type { Dataset } from '../data/dataset.js';
import { type PartName, partTargets } from '../data/metrics.js';
import type { PreparedData } from '../data/prepare.js';
import { Rng, type RngState } from '../data/rng.js';
import { selectionPart } from '../data/split.js';
import { lossScale, type OptimizerState } from '../model/optimizer.js';
import { SETTINGS } from '../settings/training.js';
import { levelsFromOutputs, partData } from '../train/evaluate.js';
import { feedbackProblem, freeRunForecast, inputFeed, forecastLevels as levelPaths } from '../train/forecast.js';
import type { Run } from '../train/run.js';
import { continuationOf } from '../train/savedModel.js';
import type { SavedTraining } from '../train/savedSetup.js';
import {
  type BestEpoch,
  type Checkpoint,
  type EpochProgress,
  type TrainOptions,
  type TrainReport,
  train,
} from '../train/trainer.js';
import type { EnsembleSnapshot } from './ensemble.js';
import { InsideProbes, type InsideReport, type InsideRequest, windowBefore } from './inside.js';
import { pastEndReach } from './knownAhead.js';

/**
 * The longest free-running forecast a snapshot computes: it runs one batch-1 forward per step on the
 * CPU, and beyond a few hundred steps a forecast fed on its own output says little anyway.
 */
export const MAX_FORECAST_STEPS = 1000;

/** The best epoch so far as plain data (structured clone drops the generator's class). */
export interface BestPoint {
  epoch: number;
  /** Its validation error. */
  loss: number;
  /** (P) its weights */
  params: Float32Array;
  rng: RngState;
  optimizerState?: OptimizerState;
}

/** Where a run stood at a report: enough for another backend (the CPU worker) to go on from there. */
export interface ResumePoint {
  epoch: number;
  /** Per-epoch errors, epoch 1 first. */
  losses: number[];
  validationLosses: { epoch: number; loss: number }[];
  /** (P) the weights after `epoch` */
  params: Float32Array;
  rng: RngState;
  optimizerState?: OptimizerState;
  /** The best epoch so far, where the run keeps it. */
  best: BestPoint | null;
  /** Training seconds before this point (the new run's clock starts from them). */
  seconds: number;
}

export interface Snapshot {
  epoch: number;
  epochs: number;
  /** The errors of the epochs since the previous snapshot, oldest first. */
  newLosses: number[];
  /** The validation error at every report so far (empty without a held-out part). */
  validationLosses: { epoch: number; loss: number }[];
  steps: number;
  /** Training time so far in seconds: pauses and snapshots excluded. */
  seconds: number;
  stepsPerEpoch: number;
  /** (N, O) one-step-ahead predictions for target rows predictionsFrom..R-1, levels in original units. */
  predictions: Float32Array;
  /** The row of the first prediction: L + T. */
  predictionsFrom: number;
  /** (S, O) the free-running forecast for rows forecastFrom.., in original units; null when an input is neither an output nor known ahead. */
  forecast: Float32Array | null;
  /** The row of the forecast's first value: B with a held-out part (forecasting into it), else L + T (the blog's). */
  forecastFrom: number;
  /** (H, O) the free-running forecast past the last row (rows R..R+H-1; fewer where known-ahead inputs' future values run out), in original units; null as forecast. */
  future: Float32Array | null;
  /** The error on the test part (the trainer's loss) at this report, when a validation part chooses the epoch; else null. */
  testLoss: number | null;
  /** (P) the weights at this report (a copy: the trainer keeps its own for divergence); the kept weights in the last snapshot. */
  params: Float32Array;
  /** The best epoch so far where the run keeps it, else null. */
  best: BestPoint | null;
  /** The generator after `epoch`: resuming from here replays the same minibatch orders. */
  rng: RngState;
  optimizerState?: OptimizerState;
  /** True for the snapshot after the last epoch (or the only one of a forecast). */
  done: boolean;
  /**
   * A population's run (Members above 1): predictions, forecasts and errors above are the members'
   * medians, params and rng member 0's; the band and each member's own are here.
   */
  ensemble?: EnsembleSnapshot;
  /** Inside the network at this report, where the Inside view asked (open); else null. */
  inside: InsideReport | null;
}

/** A clock that only runs while training runs (train() measures its seconds with it). */
export class Stopwatch {
  private totalMs = 0;
  private since: number | null = null;

  start(): void {
    if (this.since === null) this.since = performance.now();
  }

  stop(): void {
    if (this.since !== null) this.totalMs += performance.now() - this.since;
    this.since = null;
  }

  /** Milliseconds counted so far. */
  read(): number {
    return this.totalMs + (this.since === null ? 0 : performance.now() - this.since);
  }
}

/** Pause, resume and stop, asked for at any time and honoured at the next report. */
export class RunControl {
  private paused = false;
  private stopped = false;
  private wake: (() => void) | null = null;

  constructor(private readonly onPaused: () => void = () => {}) {}

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.release();
  }

  stop(): void {
    this.stopped = true;
    this.release();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /**
   * At a report: waits while paused, until the next resume or stop (a pause asked for right after
   * a resume holds at the following report); false once a stop was asked for.
   */
  async checkpoint(): Promise<boolean> {
    if (this.paused && !this.stopped) {
      this.onPaused();
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
    return !this.stopped;
  }

  private release(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}

/** Resolves in a new task, so that messages, input and rendering queued meanwhile get their turn. */
export function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/**
 * Work cut into tasks of about `budgetMs`: `due()`, called before each piece, yields to the page
 * (nextTask) at the first call and then once that much has run since the last yield, so a loop over
 * many members (a population's starts, its forecasts) keeps every task of the page's thread short
 * however many members there are, and does not add to the task that called it.
 */
export class TaskSlices {
  private since = Number.NEGATIVE_INFINITY;

  constructor(private readonly budgetMs = 15) {}

  async due(): Promise<void> {
    if (performance.now() - this.since < this.budgetMs) return;
    await nextTask();
    this.since = performance.now();
  }
}

/**
 * The free-running forecast of `steps` from the window that ends before row `from`, as levels: each
 * input fed back from its output, or, known ahead, read from the run's levels (its future rows past
 * the end). (S, O)
 */
export function forecastLevels(
  prepared: PreparedData,
  params: Float32Array,
  run: Pick<Run, 'layout' | 'levels'>,
  from: number,
  steps: number,
): Float32Array {
  const O = prepared.outputs.length;
  // (T, I) the window's normalized, transformed values, rows from-T..from-1.
  const window = windowBefore(prepared, from);
  const feed = { inputs: inputFeed(prepared, run.levels), origin: from };
  const raw = freeRunForecast(run.layout, params, window, steps, undefined, feed);
  const paths = levelPaths(prepared, from, raw); // (O)(S)
  const out = new Float32Array(steps * O);
  paths.forEach((path, o) => {
    for (let s = 0; s < steps; s++) out[s * O + o] = path[s];
  });
  return out;
}

/** The steps of the forecast past the end: the horizon, fewer where known-ahead inputs' future values run out first. */
export function pastEndSteps(run: Run, horizon: number): number {
  return pastEndReach(run.prepared.knownAhead, run.levels, run.prepared.table.rows, horizon).steps;
}

/** The trainer's loss of normalized outputs `y` (N, O) against a dataset's targets. */
function lossOf(y: Float32Array, data: Dataset, loss: TrainOptions['loss']): number {
  let sum = 0;
  for (let i = 0; i < y.length; i++) sum += (y[i] - data.t[i]) ** 2;
  return lossScale(loss ?? 'sse', data.count, data.outputSize) * 0.5 * sum;
}

function bestPoint(best: BestEpoch | null): BestPoint | null {
  if (best === null) return null;
  return {
    epoch: best.epoch,
    loss: best.loss,
    params: best.params.slice(),
    rng: best.rng.state(),
    ...(best.optimizerState ? { optimizerState: best.optimizerState } : {}),
  };
}

/**
 * The snapshot at `report`: level predictions on every part's windows (rows L+T..R-1), the
 * free-running forecast into the test part (or, without one, from the first window, as the blog's),
 * and past the end of the data for `horizon` steps.
 */
export async function takeSnapshot(
  backend: Backend,
  run: Run,
  options: Pick<SessionOptions, 'batchSize' | 'loss'>,
  report: TrainReport,
  reported: number,
  secondsBefore: number,
  done: boolean,
  horizon: number,
  inside: InsideProbes | null = null,
): Promise<Snapshot> {
  const { prepared } = run;
  const parts: PartName[] = ['train', 'validation', 'test'];
  const levels: Float64Array[] = [];
  let testLoss: number | null = null;
  for (const part of parts) {
    const data = partData(prepared, part);
    if (data === null) continue;
    const y = await backend.predict(data.x, data.count);
    levels.push(levelsFromOutputs(prepared, partTargets(prepared, part), y));
    if (part === 'test' && selectionPart(prepared)?.name === 'validation') testLoss = lossOf(y, data, options.loss);
  }
  const predictions = new Float32Array(levels.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of levels) {
    predictions.set(part, offset);
    offset += part.length;
  }
  const forecastFrom = prepared.test === null ? prepared.trainTargets.start : prepared.boundary;
  const canForecast = feedbackProblem(prepared) === null;
  const rows = prepared.table.rows;
  const pastEnd = pastEndSteps(run, horizon);
  const forecastSteps = Math.min(rows - forecastFrom, MAX_FORECAST_STEPS);
  return {
    epoch: report.epoch,
    epochs: report.epochs,
    newLosses: report.losses.slice(reported),
    validationLosses: report.validationLosses.map((v) => ({ ...v })),
    steps: report.steps,
    seconds: secondsBefore + report.seconds,
    stepsPerEpoch: Math.floor(prepared.train.count / options.batchSize),
    predictions,
    predictionsFrom: prepared.trainTargets.start,
    forecast: canForecast ? forecastLevels(prepared, report.params, run, forecastFrom, forecastSteps) : null,
    forecastFrom,
    future: canForecast ? forecastLevels(prepared, report.params, run, rows, pastEnd) : null,
    testLoss,
    params: report.params.slice(),
    best: bestPoint(report.best),
    rng: report.rng.state(),
    ...(report.optimizerState ? { optimizerState: report.optimizerState } : {}),
    done,
    inside: inside === null ? null : await inside.take(backend, prepared, done),
  };
}

/** The trainer's options and how far past the end of the data the snapshots forecast. */
export interface SessionOptions extends TrainOptions {
  /** Steps of the forecast past the end; SETTINGS.horizon's default when absent. */
  horizon?: number;
  /** A loaded model's training so far (plain data, as a worker receives it): training goes on from its epoch. */
  saved?: SavedTraining;
  /** What the Inside view asks for at the next report (read at every report), or null while it is closed. */
  inside?: () => InsideRequest | null;
}

/** How a run ended; `message` says why a run diverged (and which weights it kept). */
export interface SessionEnd {
  outcome: 'finished' | 'stopped' | 'diverged';
  message: string | null;
}

/**
 * Trains `backend` from `run` (its parameters, data and generator), or from `resume` (where another
 * backend left off), and calls `emit` at every report and after the last epoch (after divergence:
 * with the last finite weights the trainer restored). A run asked to pause before it starts waits
 * before its first epoch.
 */
export async function runSession(
  backend: Backend,
  run: Run,
  options: SessionOptions,
  control: RunControl,
  emit: (snapshot: Snapshot) => void,
  resume?: ResumePoint,
): Promise<SessionEnd> {
  const stopped: SessionEnd = { outcome: 'stopped', message: null };
  if (!(await control.checkpoint())) return stopped;
  backend.setParams(run.params);
  // Where to start: where another backend left off; where a loaded model's training stopped (its
  // epoch, errors, generator and optimizer state); before epoch 1 with a loaded model's optimizer
  // state (as trainToEnd starts from options.initialOptimizerState); or plainly.
  const start = options.initialOptimizerState;
  const checkpoint: Checkpoint | undefined = resume
    ? {
        epoch: resume.epoch,
        losses: resume.losses,
        validationLosses: resume.validationLosses,
        params: resume.params,
        rng: Rng.fromState(resume.rng),
        ...(resume.optimizerState ? { optimizerState: resume.optimizerState } : {}),
        best: bestEpochOf(resume.best),
      }
    : options.saved
      ? {
          ...continuationOf(options.saved, run.params, options.keepBest === true),
          params: run.params,
          ...(start ? { optimizerState: start } : {}),
        }
      : start && { epoch: 0, losses: [], params: run.params, rng: run.rng.clone(), optimizerState: start };
  const clock = new Stopwatch();
  const trainOptions: TrainOptions = { ...options, validation: selectionPart(run.prepared)?.data ?? null };
  const steps = train(backend, run.prepared.train, run.rng, trainOptions, () => clock.read(), checkpoint);
  const secondsBefore = resume?.seconds ?? 0;
  let reported = resume?.losses.length ?? 0;
  const horizon = options.horizon ?? SETTINGS.horizon.default;
  const inside = new InsideProbes(options.inside);
  for (;;) {
    clock.start();
    const next = await steps.next();
    clock.stop();
    if (control.isStopped) return stopped;
    const report = next.value;
    const done = next.done === true;
    emit(await takeSnapshot(backend, run, options, report, reported, secondsBefore, done, horizon, inside));
    reported = report.losses.length;
    if (next.done) {
      const diverged = next.value.diverged;
      return diverged === null
        ? { outcome: 'finished', message: null }
        : { outcome: 'diverged', message: diverged.message };
    }
    await nextTask();
    if (!(await control.checkpoint())) return stopped;
  }
}

/**
 * The one snapshot of a loaded model on the data, without training: its predictions and forecasts,
 * with the training history the model file keeps (its epoch and errors; none for a version-1 file).
 */
export async function forecastSnapshot(backend: Backend, run: Run, options: SessionOptions): Promise<Snapshot> {
  backend.setParams(run.params);
  const history = options.saved;
  const epoch = history?.epoch ?? 0;
  const report: TrainReport = {
    epoch,
    epochs: epoch,
    losses: history?.losses.slice(0, epoch) ?? [],
    steps: 0,
    seconds: 0,
    params: run.params,
    rng: run.rng.clone(),
    validationLosses: history?.validationLosses.filter((v) => v.epoch <= epoch) ?? [],
    best: null,
  };
  const horizon = options.horizon ?? SETTINGS.horizon.default;
  return takeSnapshot(backend, run, options, report, 0, 0, true, horizon, new InsideProbes(options.inside));
}

function bestEpochOf(best: BestPoint | null): BestEpoch | null {
  if (best === null) return null;
  const { epoch, loss, params, rng, optimizerState } = best;
  return { epoch, loss, params, rng: Rng.fromState(rng), ...(optimizerState ? { optimizerState } : {}) };
}

/** The point to go on from after `snapshot`, given every error so far. */
export function resumePointOf(snapshot: Snapshot, losses: number[]): ResumePoint {
  return {
    epoch: snapshot.epoch,
    losses: losses.slice(0, snapshot.epoch),
    validationLosses: snapshot.validationLosses,
    params: snapshot.params,
    rng: snapshot.rng,
    ...(snapshot.optimizerState ? { optimizerState: snapshot.optimizerState } : {}),
    best: snapshot.best,
    seconds: snapshot.seconds,
  };
}

/** The progress before the first step of a session: training is about to start (the page times Start to it). */
export function firstStep(
  run: Run,
  options: Pick<SessionOptions, 'epochs' | 'batchSize' | 'saved'>,
  resume?: ResumePoint,
): EpochProgress {
  const from = resume?.epoch ?? options.saved?.epoch ?? 0;
  return {
    epoch: from + 1,
    epochs: options.epochs,
    steps: 0,
    stepsPerEpoch: Math.floor(run.prepared.train.count / options.batchSize),
  };
}
