// One training run of one backend, as the app shows it: the shared trainer drives the backend, and
// at every report the run takes a snapshot for the charts (one-step-ahead predictions on every
// window, the free-running forecast from the parameters read back) and then yields to the event
// loop, where pause and stop take effect. The same code runs in the CPU worker and, for WebGPU, on
// the page's main thread; it touches no DOM.
//
// Legend: N = samples, T = window, I = inputSize, O = outputSize (1 for the sine task).

import type { Backend } from '../backends/backend.js';
import { freeRunForecast } from '../train/forecast.js';
import type { RunStart } from '../train/setup.js';
import { type TrainOptions, type TrainReport, train } from '../train/trainer.js';

export interface Snapshot {
  epoch: number;
  epochs: number;
  /** The errors of the epochs since the previous snapshot, oldest first. */
  newLosses: number[];
  steps: number;
  /** Training time so far in seconds: pauses and snapshots excluded. */
  seconds: number;
  stepsPerEpoch: number;
  /** (N, O) one-step-ahead predictions on every window. */
  predictions: Float32Array;
  /** (N, O) the free-running forecast from the first window. */
  forecast: Float32Array;
  /** True for the snapshot after the last epoch. */
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

async function takeSnapshot(
  backend: Backend,
  start: RunStart,
  batchSize: number,
  report: TrainReport,
  reported: number,
  done: boolean,
) {
  const { data } = start.task;
  const predictions = await backend.predict(data.x, data.count);
  const firstWindow = data.x.subarray(0, data.window * data.inputSize);
  // report.params: the weights the trainer read back at this report.
  const forecast = freeRunForecast(start.layout, report.params, firstWindow, data.count);
  return {
    epoch: report.epoch,
    epochs: report.epochs,
    newLosses: report.losses.slice(reported),
    steps: report.steps,
    seconds: report.seconds,
    stepsPerEpoch: Math.floor(data.count / batchSize),
    predictions,
    forecast,
    done,
  } satisfies Snapshot;
}

/** How a run ended; `message` says why a run diverged (and which weights it kept). */
export interface SessionEnd {
  outcome: 'finished' | 'stopped' | 'diverged';
  message: string | null;
}

/**
 * Trains `backend` from `start` (its parameters, data and generator) and calls `emit` at every report
 * and after the last epoch (after divergence: with the last finite weights the trainer restored).
 */
export async function runSession(
  backend: Backend,
  start: RunStart,
  options: TrainOptions,
  control: RunControl,
  emit: (snapshot: Snapshot) => void,
): Promise<SessionEnd> {
  const stopped: SessionEnd = { outcome: 'stopped', message: null };
  backend.setParams(start.params);
  const clock = new Stopwatch();
  const run = train(backend, start.task.data, start.rng, options, () => clock.read());
  let reported = 0;
  for (;;) {
    clock.start();
    const next = await run.next();
    clock.stop();
    if (control.isStopped) return stopped;
    const report = next.value;
    emit(await takeSnapshot(backend, start, options.batchSize, report, reported, next.done === true));
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
