// What every backend (cpu, webgpu) offers the trainer, the CLI and the app, and the checks of their
// arguments that both share. docs/ARCHITECTURE.md ("The Backend contract") says how the methods fit
// together; every tensor uses the flat parameter layout of src/model/layout.ts.
//
// Legend: B = batch, N = samples, T = window, I = inputSize, O = outputSize, P = parameter count.

import type { Dataset } from '../data/dataset.js';
import { InputError } from '../model/errors.js';
import type { ModelConfig, ParamLayout } from '../model/layout.js';
import type { LossName, OptimizerSettings, OptimizerState } from '../model/optimizer.js';
import type { ProbeOptions, ProbeWindows, WindowProbe } from '../model/probe.js';

export type BackendName = 'cpu' | 'webgpu';

export interface GradientResult {
  /** The chosen loss over the batch: the blog's 0.5 * sum of (y - t)^2 by default, or the mean ('mse'). */
  loss: number;
  /** (B, O) outputs */
  y: Float32Array;
  /** (P) gradients summed over the batch, flat layout */
  grads: Float32Array;
}

/** What readLosses() hands back: the errors of the epochs that queued one since the last call. */
export interface EpochLosses {
  /** The error over all training samples after each such epoch, oldest first. */
  train: number[];
  /** The error over the validation samples after the same epochs; empty without a validation set. */
  validation: number[];
  /**
   * The probe of the last of those epochs that asked for one (EpochOptions.probe), with the
   * parameters that epoch left; absent where none did.
   */
  probe?: WindowProbe[];
}

/** Windows an epoch probes after its steps (EpochOptions.probe): as Backend.probe's arguments. */
export interface EpochProbe {
  /** (count, T, I) the windows as the network reads them (normalized, transformed). */
  x: Float32Array;
  count: number;
  options?: ProbeOptions;
}

export interface EpochOptions {
  /** Compute the error over all samples after the epoch (default true). */
  evaluate?: boolean;
  /**
   * With `evaluate`, also the error over the training samples (default true). False computes the
   * validation samples' error alone (a search that reports and chooses on validation only): the
   * epoch adds a `validation` entry to EpochLosses and no `train` entry.
   */
  trainingError?: boolean;
  /**
   * Told the minibatch steps done so far, between the steps of a long epoch, at most about every
   * EPOCH_PROGRESS_MS (a page shows "epoch 1: 37%" instead of waiting for the epoch's end): the CPU
   * backend between steps, the WebGPU backend as the device finishes each slice it was handed.
   */
  onProgress?: (stepsDone: number) => void;
  /**
   * Probes these windows (src/model/probe.ts) after the epoch, with the parameters it leaves, in the
   * same work: on the GPU in the epoch's last command buffer (no submit of its own), its result copied
   * out beside the epoch's errors and mapped with them (one readback more at the next readLosses,
   * which hands it back). Needs `evaluate`; a single model's (a population of one).
   */
  probe?: EpochProbe;
}

/** Least milliseconds between two calls of EpochOptions.onProgress. */
export const EPOCH_PROGRESS_MS = 100;

/** Work counters of a GPU backend. */
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

/** What only a GPU backend has: its adapter, its work counters, calibration and kernel profiling. */
export interface GpuFacet {
  readonly adapter: AdapterDescription;
  counters(): GpuCounters;
  /** Dispatches per minibatch step of the current variant and optimizer; null before setTrainingData. */
  dispatchesPerStep(): number | null;
  /**
   * Measures the backend's alternative variants of a training step on the training data just set and
   * keeps the fastest (the WebGPU backend's schedules under its kernel tunings). The parameters are
   * unchanged.
   */
  calibrate(): Promise<unknown>;
  /** The variant training runs now, as reports name it ('fused/software'). */
  variantName(): string;
  /**
   * Runs up to `steps` minibatch steps of the training data just set with the GPU timing each kernel
   * group, and returns the mean per step; null where the device cannot time (no 'timestamp-query').
   * The parameters and the optimizer's state are left as they were.
   */
  profileSteps(steps: number): Promise<KernelTimes | null>;
}

/**
 * A model's training and inference on one device. Every method is required. Await trainEpoch before
 * the next call that changes the backend (a setter or trainEpoch; those throw otherwise); reads wait
 * for it. A call after dispose() throws (or rejects with) a DisposedError.
 */
export interface Backend {
  readonly name: BackendName;
  readonly config: ModelConfig;
  readonly layout: ParamLayout;
  /** The GPU-only side; null on the CPU. */
  readonly gpu: GpuFacet | null;

  /** Replaces every parameter. (P) */
  setParams(params: Float32Array): void;
  /** The current parameters. (P) */
  readParams(): Promise<Float32Array>;

  /** One forward and backward pass on a batch, no update. x (B, T, I), t (B, O). */
  gradients(x: Float32Array, t: Float32Array, batchSize: number): Promise<GradientResult>;
  /** Forward only: outputs (N, O) for N windows x (N, T, I). */
  predict(x: Float32Array, count: number): Promise<Float32Array>;

  /**
   * Inside the network (src/model/probe.ts): for `count` windows x (count, T, I), every layer's gates,
   * cell and hidden state at each step, the outputs, and (unless options.connectivity is false) the
   * gradient of each output with respect to each input at each step. Waits for queued work; the
   * parameters and the optimizer's state stay as they were.
   */
  probe: ProbeWindows;

  /** Makes `data` the training set (on the GPU it stays resident) for minibatches of `batchSize`. */
  setTrainingData(data: Dataset, batchSize: number): void;
  /**
   * Makes `data` (windows of the model's shape) the validation set, or removes it (null). From then on
   * every epoch that queues an error also queues the error over the validation samples with the same
   * loss, in the same work (on the GPU: no extra submit or readback). Independent of setTrainingData.
   */
  setValidationData(data: Dataset | null): void;
  /**
   * Queues one epoch: floor(N / B) minibatches taken from `order` (a permutation of the samples), an
   * update by the chosen optimizer after each, then the error over all samples (and the validation
   * samples) unless `options.evaluate` is false, or the validation samples' alone where
   * `options.trainingError` is false. Resolves once the epoch is handed to the device; the
   * WebGPU backend hands a costly epoch over in slices and waits between them, so little work is ever
   * in flight (see docs/ARCHITECTURE.md), and a cheap one at once.
   */
  trainEpoch(order: Uint32Array, learningRate: number, options?: EpochOptions): Promise<void>;
  /** The errors of the epochs queued since the last call (waits for them). */
  readLosses(): Promise<EpochLosses>;

  /**
   * Chooses the optimizer and the loss (src/model/optimizer.ts is the reference) and resets the
   * optimizer's state; the parameters stay. Until called: SGD and the blog's loss ('sse'). The loss
   * applies to training updates, the per-epoch error and gradients().
   */
  setOptimizer(settings: OptimizerSettings, loss: LossName): void;
  /** The optimizer's state after every epoch queued so far (for saving, and for going on elsewhere). */
  readOptimizerState(): Promise<OptimizerState>;
  /** Restores a state read from this or another backend (same optimizer and parameter count). */
  setOptimizerState(state: OptimizerState): void;

  /** Resolves when all work queued so far is complete (the CPU's is done when its calls return). */
  finish(): Promise<void>;
  /**
   * Ends the backend and frees its memory. Work not yet handed to the device is dropped; the promise
   * resolves when the device has finished what it was handed (at most about one slice of an epoch)
   * and never rejects. A second call does nothing more and resolves alike; any other call afterwards
   * throws a DisposedError; `name`, `config` and `layout` stay readable.
   */
  dispose(): Promise<void>;
}

/** A backend was used after dispose(): a programming error, or work cut short by a stop. */
export class DisposedError extends Error {
  constructor(backend: BackendName) {
    super(`the ${backend} backend was disposed`);
    this.name = 'DisposedError';
  }
}

/** The GPU failed (device lost, out of memory, a validation error): the weights last read back are still good. */
export class GpuFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpuFailure';
  }
}

/** Throws InputError('params') unless `params` holds one value for each of the layout's parameters. */
export function checkParams(params: Float32Array, layout: ParamLayout): void {
  if (params.length !== layout.size) {
    throw new InputError('params', `expected ${layout.size} values for this model, got ${params.length}`);
  }
}

/** Throws InputError(field) when the windows of `data` do not fit the model. */
export function checkWindowsFit(data: Dataset, config: ModelConfig, field: string): void {
  const { window: T, inputSize: I, outputSize: O } = config;
  if (data.window !== T || data.inputSize !== I || data.outputSize !== O) {
    throw new InputError(
      field,
      `windows of ${data.window} steps, ${data.inputSize} inputs and ${data.outputSize} outputs do not fit a model of window ${T}, inputSize ${I}, outputSize ${O}`,
    );
  }
}

/** Throws InputError for training data that does not fit the model, or a batch outside 1..N. */
export function checkTrainingData(data: Dataset, batchSize: number, config: ModelConfig): void {
  checkWindowsFit(data, config, 'data');
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > data.count) {
    throw new InputError(
      'batch',
      `expected a whole number from 1 to the number of samples (${data.count}), got ${batchSize}`,
    );
  }
}

/** Throws InputError('validation') when `data` is empty or its windows do not fit the model. */
export function checkValidationData(data: Dataset, config: ModelConfig): void {
  if (!(data.count >= 1)) throw new InputError('validation', `expected at least 1 sample, got ${data.count}`);
  checkWindowsFit(data, config, 'validation');
}

/** Which errors an epoch computes after its steps: none, the validation samples' alone, or all. */
export type EpochErrors = 'none' | 'validation' | 'all';

export function epochErrors(options: EpochOptions): EpochErrors {
  if (options.evaluate === false) return 'none';
  return options.trainingError === false ? 'validation' : 'all';
}

/**
 * Throws InputError('probe') unless an epoch can carry `probe` (EpochOptions.probe): a single model's
 * epoch that evaluates; and InputError for windows that do not fit the model, as checkRows.
 */
export function checkEpochProbe(probe: EpochProbe, members: number, evaluate: boolean, config: ModelConfig): void {
  if (members !== 1) {
    throw new InputError('probe', `an epoch probes a single model's windows: this population has ${members} members`);
  }
  if (!evaluate) throw new InputError('probe', "an epoch's probe comes back with its errors: it needs evaluate");
  checkRows('count', probe.count, config, probe.x, null);
}

/**
 * Throws InputError when `rows` (named `field`) is not a whole number of at least 1, or when x (rows,
 * T, I) or t (rows, O) holds fewer values than that: the arguments of gradients() and predict().
 */
export function checkRows(
  field: string,
  rows: number,
  config: ModelConfig,
  x: Float32Array,
  t: Float32Array | null,
): void {
  const { window: T, inputSize: I, outputSize: O } = config;
  if (!Number.isInteger(rows) || rows < 1) {
    throw new InputError(field, `expected a whole number of at least 1, got ${rows}`);
  }
  if (x.length < rows * T * I) {
    throw new InputError('x', `expected ${rows * T * I} values (${rows} windows), got ${x.length}`);
  }
  if (t !== null && t.length < rows * O) {
    throw new InputError('t', `expected ${rows * O} values (${rows} targets), got ${t.length}`);
  }
}
