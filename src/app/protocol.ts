// Messages between the page and the CPU worker (src/app/cpuWorker.ts). A worker does one job: a
// training run (or a forecast with a loaded model), or the CPU part of a benchmark sweep.

import type { BenchOptions, BenchResult, SweepSpec } from '../bench/bench.js';
import type { Model } from '../train/modelFile.js';
import type { RunSettings } from '../train/run.js';
import type { EpochProgress } from '../train/trainer.js';
import type { InsideRequest } from './inside.js';
import type { ResumePoint, SessionEnd, Snapshot } from './session.js';
import type { AppTrainOptions } from './settings.js';

/** What a training run starts from: the data and model settings, the trainer's options, a loaded model. */
export interface RunRequest {
  run: RunSettings;
  train: AppTrainOptions;
  /** A loaded model file: training goes on from its weights (its shape must match). */
  model?: Model;
  /** Only predict and forecast with the starting weights (a loaded model), no training. */
  forecastOnly?: boolean;
}

export type ToWorker =
  | { type: 'start'; request: RunRequest; resume?: ResumePoint; paused?: boolean; inside?: InsideRequest | null }
  /** The Inside view opened, closed or moved to another window: what to probe at the next reports. */
  | { type: 'inside'; request: InsideRequest | null }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  | { type: 'bench'; spec: SweepSpec; options: BenchOptions };

/** A failure as the page shows it: beside a field when `field` names one. */
export interface RunFailure {
  field: string | null;
  message: string;
}

export type FromWorker =
  | { type: 'report'; snapshot: Snapshot }
  | { type: 'progress'; progress: EpochProgress }
  | { type: 'paused' }
  | { type: 'ended'; end: SessionEnd }
  | { type: 'error'; failure: RunFailure }
  | { type: 'bench-result'; result: BenchResult; index: number; total: number }
  | { type: 'bench-done' };
