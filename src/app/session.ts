// One training run of one backend, as the app shows it: the shared trainer drives the backend, and
// at every report the run takes a snapshot for the charts (one-step-ahead predictions on every
// window and the free-running forecast, both mapped back to the data's original units) and for going
// on elsewhere (the weights and the generator as they stand), then yields to the event loop, where
// pause and stop take effect. The same code runs in the CPU worker and, for WebGPU, on the page's
// main thread; it touches no DOM.
//
// Legend: R = rows, T = window, B = boundary (first held-out row), N = R - T samples,
// I = input columns, O = output columns, P = parameters, S = forecast steps.

import type { Backend } from '../backends/backend.js';
import type { Dataset } from '../data/dataset.js';
import { denormaliseOutputs } from '../data/normalise.js';
import { Rng, type RngState } from '../data/rng.js';
import type { OptimizerState } from '../model/optimizer.js';
import { freeRunForecast } from '../train/forecast.js';
import type { Run } from '../train/run.js';
import { type Checkpoint, type TrainOptions, type TrainReport, train } from '../train/trainer.js';
import { sameList } from './dataView.js';

/**
 * The longest free-running forecast a snapshot computes: it runs one batch-1 forward per step on the
 * CPU, and beyond a few hundred steps a forecast fed on its own output says little anyway.
 */
export const MAX_FORECAST_STEPS = 1000;

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
  /** (N, O) one-step-ahead predictions for target rows T..R-1, in original units. */
  predictions: Float32Array;
  /** (S, O) the free-running forecast for rows forecastFrom.., in original units; null when the outputs are not the inputs. */
  forecast: Float32Array | null;
  /** The row of the forecast's first value: B with a held-out part (forecasting into it), else T (the blog's). */
  forecastFrom: number;
  /** (P) the weights at this report (a copy: the trainer keeps its own for divergence). */
  params: Float32Array;
  /** The generator after `epoch`: resuming from here replays the same minibatch orders. */
  rng: RngState;
  optimizerState?: OptimizerState;
  /** True for the snapshot after the last epoch (or the only one of a forecast). */
  done: boolean;
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

async function predictAll(backend: Backend, data: Dataset | null): Promise<Float32Array> {
  return data === null ? new Float32Array(0) : backend.predict(data.x, data.count);
}

/**
 * The snapshot at `report`: predictions on the training and the held-out windows (rows T..R-1), the
 * free-running forecast (into the held-out part when there is one), both in original units.
 */
export async function takeSnapshot(
  backend: Backend,
  run: Run,
  batchSize: number,
  report: TrainReport,
  reported: number,
  secondsBefore: number,
  done: boolean,
): Promise<Snapshot> {
  const { prepared } = run;
  const { train: trainData, validation } = prepared;
  const fitted = await predictAll(backend, trainData);
  const held = await predictAll(backend, validation);
  const normalised = new Float32Array(fitted.length + held.length);
  normalised.set(fitted);
  normalised.set(held, fitted.length);
  const predictions = Float32Array.from(denormaliseOutputs(prepared.normalisation, prepared.outputs, normalised));

  // Free-running from the window before the held-out part (its first validation window), or from
  // the first window when nothing is held out (the blog's forecast over the whole series).
  let forecast: Float32Array | null = null;
  const from = validation ?? trainData;
  if (sameList(prepared.inputs, prepared.outputs)) {
    const { window: T, inputSize: I } = from;
    const steps = Math.min(from.count, MAX_FORECAST_STEPS);
    const raw = freeRunForecast(run.layout, report.params, from.x.subarray(0, T * I), steps);
    forecast = Float32Array.from(denormaliseOutputs(prepared.normalisation, prepared.outputs, raw));
  }
  return {
    epoch: report.epoch,
    epochs: report.epochs,
    newLosses: report.losses.slice(reported),
    validationLosses: report.validationLosses.map((v) => ({ ...v })),
    steps: report.steps,
    seconds: secondsBefore + report.seconds,
    stepsPerEpoch: Math.floor(trainData.count / batchSize),
    predictions,
    forecast,
    forecastFrom: validation === null ? prepared.trainTargets.start : prepared.boundary,
    params: report.params.slice(),
    rng: report.rng.state(),
    ...(report.optimizerState ? { optimizerState: report.optimizerState } : {}),
    done,
  };
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
  options: TrainOptions,
  control: RunControl,
  emit: (snapshot: Snapshot) => void,
  resume?: ResumePoint,
): Promise<SessionEnd> {
  const stopped: SessionEnd = { outcome: 'stopped', message: null };
  if (!(await control.checkpoint())) return stopped;
  backend.setParams(run.params);
  // Where to start: where another backend left off, or before epoch 1 with a loaded model's
  // optimiser state (as trainToEnd starts from options.initialOptimizerState), or plainly.
  const start = options.initialOptimizerState;
  const checkpoint: Checkpoint | undefined = resume
    ? {
        epoch: resume.epoch,
        losses: resume.losses,
        validationLosses: resume.validationLosses,
        params: resume.params,
        rng: Rng.fromState(resume.rng),
        ...(resume.optimizerState ? { optimizerState: resume.optimizerState } : {}),
      }
    : start && { epoch: 0, losses: [], params: run.params, rng: run.rng.clone(), optimizerState: start };
  const clock = new Stopwatch();
  const trainOptions: TrainOptions = { ...options, validation: run.prepared.validation };
  const steps = train(backend, run.prepared.train, run.rng, trainOptions, () => clock.read(), checkpoint);
  const secondsBefore = resume?.seconds ?? 0;
  let reported = resume?.losses.length ?? 0;
  for (;;) {
    clock.start();
    const next = await steps.next();
    clock.stop();
    if (control.isStopped) return stopped;
    const report = next.value;
    emit(await takeSnapshot(backend, run, options.batchSize, report, reported, secondsBefore, next.done === true));
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

/** The one snapshot of a loaded model on the data, without training (epoch 0): its predictions and forecast. */
export async function forecastSnapshot(backend: Backend, run: Run, batchSize: number): Promise<Snapshot> {
  backend.setParams(run.params);
  const report: TrainReport = {
    epoch: 0,
    epochs: 0,
    losses: [],
    steps: 0,
    seconds: 0,
    params: run.params,
    rng: run.rng.clone(),
    validationLosses: [],
  };
  return takeSnapshot(backend, run, batchSize, report, 0, 0, true);
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
    seconds: snapshot.seconds,
  };
}
