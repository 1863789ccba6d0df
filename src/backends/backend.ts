// What every backend (cpu, webgpu) offers the trainer, the CLI and the app. The math is the seed's
// (see src/backends/cpu/lstm.ts for the readable reference); all tensors use the flat parameter layout
// of src/model/layout.ts.
//
// Legend: B = batch, N = samples, T = window, I = inputSize, O = outputSize, P = parameter count.

import type { Dataset } from '../data/dataset.js';
import { InputError } from '../model/errors.js';
import type { ModelConfig, ParamLayout } from '../model/layout.js';
import type { LossName, OptimizerSettings, OptimizerState } from '../model/optimizer.js';

export type BackendName = 'cpu' | 'webgpu';

export interface GradientResult {
  /** The chosen loss over the batch: the seed's 0.5 * sum of (y - t)^2 by default, or the mean ('mse'). */
  loss: number;
  /** (B, O) outputs */
  y: Float32Array;
  /** (P) gradients summed over the batch, flat layout */
  grads: Float32Array;
}

/** Work counters of a GPU backend (null on the CPU). */
export interface GpuCounters {
  dispatches: number;
  submits: number;
  readbacks: number;
  buffersCreated: number;
}

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  description: string;
  /** True for a CPU emulation of a GPU (SwiftShader and the like). */
  software: boolean;
}

/**
 * GPU time of one training step per kernel group, mean milliseconds, from timestamp queries:
 * forward (input projection, recurrence, dense layer with its loss and output gradient), backward
 * (BPTT and the gradients at stacked layers' inputs), weight gradients, update (gradient norm included).
 */
export interface KernelTimes {
  forward: number;
  backward: number;
  weightGradients: number;
  update: number;
}

export interface EpochOptions {
  /** Compute the error over all samples after the epoch (default true). */
  evaluate?: boolean;
  /**
   * Told the minibatch steps done so far, between steps of a long epoch, at most about every
   * EPOCH_PROGRESS_MS (a page shows "epoch 1: 37%" instead of waiting for the epoch's end). The
   * CPU backend calls it; one that hands the whole epoch to a device at once may not.
   */
  onProgress?: (stepsDone: number) => void;
}

/** Least milliseconds between two calls of EpochOptions.onProgress. */
export const EPOCH_PROGRESS_MS = 100;

export interface Backend {
  readonly name: BackendName;
  readonly config: ModelConfig;
  readonly layout: ParamLayout;
  /** Null on the CPU. */
  readonly adapter: AdapterDescription | null;

  /** Replaces every parameter. (P) */
  setParams(params: Float32Array): void;
  /** The current parameters. (P) */
  readParams(): Promise<Float32Array>;

  /** One forward and backward pass on a batch, no update. x (B, T, I), t (B, O). */
  gradients(x: Float32Array, t: Float32Array, batchSize: number): Promise<GradientResult>;
  /** Forward only: outputs (N, O) for N windows x (N, T, I). */
  predict(x: Float32Array, count: number): Promise<Float32Array>;

  /** Makes `data` the training set (on the GPU it stays resident) for minibatches of `batchSize`. */
  setTrainingData(data: Dataset, batchSize: number): void;
  /**
   * Queues one epoch: floor(N / B) minibatches taken from `order` (a permutation of the samples),
   * an optimiser update after each (SGD unless setOptimizer chose another), then the error over all
   * samples with the chosen loss (the seed's 0.5 * sum of squares by default)
   * unless `options.evaluate` is false (benchmarks time the steps alone; no error is queued then).
   */
  trainEpoch(order: Uint32Array, learningRate: number, options?: EpochOptions): void;
  /** The errors of the epochs queued since the last call, oldest first. */
  readLosses(): Promise<number[]>;

  /**
   * Optional: makes `data` (windows of the same shape as the training data) the validation set, or
   * removes it (null). On the GPU it is uploaded here, once, after a check against the device limits.
   * From then on every epoch that queues an error also queues the error over the validation samples
   * (the same loss), computed after the epoch's updates in the same work as the training error: no
   * extra submit or readback. Independent of setTrainingData (it stays when the training data changes).
   */
  setValidationData?(data: Dataset | null): void;
  /**
   * Optional: the validation errors that came back with the last readLosses(), oldest first, one per
   * epoch that queued an error while a validation set was given (so, in a run that keeps one, as many
   * as readLosses() returned). Each call hands them over once: a second call returns [].
   */
  takeValidationLosses?(): number[];

  /**
   * Chooses the optimiser and the loss (src/model/optimizer.ts is the reference) and resets the
   * optimiser's state. Until called: SGD and the seed's loss ('sse'). The loss applies to training
   * updates, the per-epoch error and gradients().
   */
  setOptimizer?(settings: OptimizerSettings, loss: LossName): void;
  /** The optimiser's state (for saving, and for going on on another backend). */
  readOptimizerState?(): Promise<OptimizerState>;
  /** Restores a state read from this or another backend (same optimiser and parameter count). */
  setOptimizerState?(state: OptimizerState): void;

  /**
   * Optional: measures the backend's alternative schedules on the training data just set and keeps the
   * fastest (the WebGPU backend's stepwise or persistent recurrence). The parameters are unchanged.
   */
  calibrate?(): Promise<unknown>;

  /**
   * Optional: runs up to `steps` minibatch steps of the training data just set with the GPU timing each
   * kernel group, and returns the mean per step; null where the device cannot time (no
   * 'timestamp-query'). The parameters and the optimiser's state are left as they were.
   */
  profileSteps?(steps: number): Promise<KernelTimes | null>;

  /**
   * Resolves when all work queued so far is complete (the CPU's is done when its calls return).
   * readLosses() waits only for the epochs that queued an error; timing code waits here.
   */
  finish?(): Promise<void>;
  /** Null on the CPU. */
  counters(): GpuCounters | null;
  /** Minibatch updates per dispatch count, for reporting (null on the CPU). */
  dispatchesPerStep(): number | null;
  dispose(): void;
}

/** Throws InputError('validation') when `data` is empty or its windows do not fit the model. */
export function checkValidationData(data: Dataset, config: ModelConfig): void {
  if (!(data.count >= 1)) throw new InputError('validation', `expected at least 1 sample, got ${data.count}`);
  const { window: T, inputSize: I, outputSize: O } = config;
  if (data.window !== T || data.inputSize !== I || data.outputSize !== O) {
    throw new InputError(
      'validation',
      `windows of ${data.window} steps, ${data.inputSize} inputs and ${data.outputSize} outputs do not fit a model of window ${T}, inputSize ${I}, outputSize ${O}`,
    );
  }
}
