// The WebGPU backend: the CPU backend's training (src/backends/cpu/lstm.ts) computed by the WGSL
// kernels in shaders/, behind the same Backend interface.
//
// Scheduler: the training data lives on the GPU; trainEpoch writes the epoch's sample order and
// learning rate, encodes every minibatch step (forward, dense and loss, BPTT, batched weight
// gradients, the optimiser's update) and the error over all samples into one command buffer, and
// submits it once. The error lands in a staging slot read back once per report interval. With a
// validation set (setValidationData, uploaded once), the same submit also runs a forward pass over the
// validation windows after the updates, and its error lands beside the training error. Two schedules of the
// recurrence exist: stepwise (a dispatch per time step, any size) and persistent (one dispatch for
// all T steps of a layer, when the batch's state fits one workgroup); calibrate() times both on the
// real training data and keeps the faster.
//
// Optimiser (src/model/optimizer.ts is the reference): its state (momentum's velocity, Adam's moments)
// lives in GPU buffers made by setOptimizer; the update is one dispatch a step, after one for the
// gradient norm when clipping. The update count is known on the CPU (steps per epoch are fixed), so
// trainEpoch writes Adam's bias corrections for the epoch's steps once, beside the learning rate.
//
// Profiling (profileSteps, where the device has 'timestamp-query'): the same steps encoded as one
// compute pass per kernel group with timestamps, by profiler.ts; the training path never pays for it.
//
// Legend: N = samples, B = batch, T = window, I = inputSize, O = outputSize, P = parameter count.

import type { Dataset } from '../../data/dataset.js';
import { describeValue, InputError } from '../../model/errors.js';
import type { ModelConfig, ParamLayout } from '../../model/layout.js';
import {
  checkOptimizerState,
  DEFAULT_OPTIMIZER,
  type LossName,
  type OptimizerSettings,
  type OptimizerState,
  stateArrays,
} from '../../model/optimizer.js';
import {
  type AdapterDescription,
  type Backend,
  checkValidationData,
  type EpochOptions,
  type GpuCounters,
  type GradientResult,
  type KernelTimes,
} from '../backend.js';
import { checkBatchFits, checkModelFits } from './capacity.js';
import type { GpuContext } from './context.js';
import { EpochReadback } from './epochReadback.js';
import { kernelsFor } from './kernels.js';
import {
  Allocator,
  identityOrder,
  type KernelTuning,
  kernelTuning,
  MAX_NORM_PARTIALS,
  OptimizerUpdate,
  Pass,
  type PassContext,
  type Schedule,
  stepUniform,
  Workspace,
} from './passes.js';
import { TimestampProfiler } from './profiler.js';

export type { Schedule } from './passes.js';

export interface WebGpuBackendOptions {
  /** How the recurrence is dispatched; 'auto' (the default) lets calibrate() measure. */
  schedule?: Schedule | 'auto';
  /** Kernel shapes; by default those for the adapter's kind (tests run the GPU ones on SwiftShader too). */
  tuning?: Partial<KernelTuning>;
}

/** The GPU failed (device lost, an uncaptured error): the weights last read back are still good. */
export class GpuFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpuFailure';
  }
}

interface Training {
  data: Dataset;
  batch: number;
  steps: number;
  /** (N) the epoch's sample order, written by trainEpoch */
  order: GPUBuffer;
  train: Pass;
  evaluate: Pass;
  /** (S, 2) Adam's bias corrections (c1, c2) of the epoch's steps, and their CPU copy */
  corrections: GPUBuffer;
  correctionValues: Float32Array;
  /** The update after each step, bound to `train`'s per-step uniform. */
  update: OptimizerUpdate;
  buffers: GPUBuffer[];
  workspace: Workspace;
}

/** The validation set on the GPU, uploaded once by setValidationData, and the pass over all of it. */
interface Validation {
  data: Dataset;
  pass: Pass;
  workspace: Workspace;
  buffers: GPUBuffer[];
}

/** The optimiser's state on the GPU: stateArrays(name) buffers of P values (16 bytes where unused). */
interface OptimizerBuffers {
  settings: OptimizerSettings;
  firstState: GPUBuffer;
  secondState: GPUBuffer;
  /** Updates done (Adam's t of the last one), counted here since every epoch has the same steps. */
  step: number;
}

/** Buffers for gradients() and predict() on batches given by the caller; grown, never shrunk. */
export interface Scratch {
  capacity: number;
  workspace: Workspace;
  /** (C, T, I) */
  samples: GPUBuffer;
  /** (C, O) */
  targets: GPUBuffer;
  identity: GPUBuffer;
  pass: Pass | null;
}

/** Timed rounds of calibrate() (after one warm-up) and epochs in each. */
const CALIBRATION_ROUNDS = 4;
const CALIBRATION_EPOCHS = 2;

/** What calibrate() found. */
export interface Calibration {
  schedule: Schedule;
  /** Best milliseconds an epoch on each schedule; null where only the stepwise one applies. */
  msPerEpoch: Record<Schedule, number> | null;
}

/** calibrate()'s findings, per device and (shape, batch, samples). */
const calibrations = new WeakMap<GPUDevice, Map<string, Calibration>>();

export class WebGpuBackend implements Backend {
  readonly name = 'webgpu' as const;
  readonly config: ModelConfig;
  readonly layout: ParamLayout;
  readonly adapter: AdapterDescription;
  readonly context: GpuContext;
  private readonly device: GPUDevice;
  private readonly counts: GpuCounters = { dispatches: 0, submits: 0, readbacks: 0, buffersCreated: 0 };
  private readonly allocator: Allocator;
  private readonly passContext: PassContext;
  /** (P) parameters and gradients, flat layout */
  private readonly params: GPUBuffer;
  private readonly grads: GPUBuffer;
  /** EpochParams: the learning rate */
  private readonly epochUniform: GPUBuffer;
  private readonly epochValues = new Float32Array(4);
  /** (MAX_NORM_PARTIALS) the gradient norm's partial sums, for clipping */
  private readonly gradSquares: GPUBuffer;
  private optimizer: OptimizerBuffers;
  private readonly epochResults: EpochReadback;
  /** Bumped by everything that changes the parameters; tags the weights that came back with the errors. */
  private paramsVersion = 0;
  private returnedParams: { version: number; params: Float32Array } | null = null;
  private lastEpochEvaluated = false;
  private readonly requestedSchedule: Schedule | 'auto';
  private calibrated: Calibration | null = null;
  private training: Training | null = null;
  private validation: Validation | null = null;
  /** The validation errors that came back with the last readLosses(), until taken. */
  private returnedValidation: number[] = [];
  private scratch: Scratch | null = null;
  private staging: GPUBuffer | null = null;
  private readChain: Promise<unknown> = Promise.resolve();
  /** Made by the first profileSteps on a device with timestamps. */
  private profiler: TimestampProfiler | null = null;
  private disposed = false;

  constructor(context: GpuContext, layout: ParamLayout, options: WebGpuBackendOptions = {}) {
    checkModelFits(layout, context.limits);
    this.context = context;
    this.device = context.device;
    this.adapter = context.adapter;
    this.layout = layout;
    this.config = layout.config;
    this.requestedSchedule = options.schedule ?? 'auto';
    this.allocator = new Allocator(this.device, this.counts);
    const P = 4 * layout.size;
    this.params = this.allocator.storage('params (P)', P, GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC);
    this.grads = this.allocator.storage('grads (P)', P, GPUBufferUsage.COPY_SRC);
    this.epochUniform = this.allocator.buffer('epoch', 16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.passContext = {
      kernels: kernelsFor(this.device),
      layout,
      allocator: this.allocator,
      params: this.params,
      grads: this.grads,
      steps: stepUniform(this.allocator, layout.config.window),
      tuning: {
        ...kernelTuning(context.adapter.software, context.limits.maxComputeInvocationsPerWorkgroup),
        ...options.tuning,
      },
      maxWorkgroupsPerDimension: context.limits.maxComputeWorkgroupsPerDimension,
      counters: this.counts,
      loss: 'sse',
    };
    this.gradSquares = this.allocator.storage('gradient norm partial sums', 4 * MAX_NORM_PARTIALS);
    this.optimizer = this.createOptimizer(DEFAULT_OPTIMIZER);
    this.epochResults = new EpochReadback(this.allocator, this.counts, layout.size, context.waitsByPolling);
  }

  /** The schedule training uses now: the requested one, calibrate()'s pick, or the default before it. */
  schedule(): Schedule {
    if (this.requestedSchedule !== 'auto') return this.requestedSchedule;
    return this.calibrated?.schedule ?? defaultSchedule(this.adapter);
  }

  setParams(params: Float32Array): void {
    this.assertUsable();
    if (params.length !== this.layout.size) {
      throw new InputError('params', `expected ${this.layout.size} values for this model, got ${params.length}`);
    }
    upload(this.device.queue, this.params, params, params.length);
    this.paramsVersion++;
  }

  readParams(): Promise<Float32Array> {
    // After readLosses, the weights of the last epoch came back with the errors.
    const returned = this.returnedParams;
    if (returned !== null && returned.version === this.paramsVersion) {
      this.assertUsable();
      return Promise.resolve(returned.params.slice());
    }
    const bytes = 4 * this.layout.size;
    return this.readBack(bytes, (encoder, staging) => encoder.copyBufferToBuffer(this.params, 0, staging, 0, bytes));
  }

  async gradients(x: Float32Array, t: Float32Array, batchSize: number): Promise<GradientResult> {
    const { window: T, inputSize: I, outputSize: O } = this.config;
    checkRows('batch', batchSize, x, T * I, t, O);
    const outBytes = 4 * (4 + batchSize * O);
    const values = await this.readBack(outBytes + 4 * this.layout.size, (encoder, staging) => {
      const pass = this.scratchPass(batchSize, x, t);
      const compute = encoder.beginComputePass({ label: 'gradients' });
      pass.encodeForward(compute, 0, this.schedule(), 'gradients');
      pass.encodeBackward(compute, 0, this.schedule());
      compute.end();
      encoder.copyBufferToBuffer(pass.workspace.outputs, 0, staging, 0, outBytes);
      encoder.copyBufferToBuffer(this.grads, 0, staging, outBytes, 4 * this.layout.size);
    });
    return {
      loss: values[0],
      y: values.slice(4, 4 + batchSize * O),
      grads: values.slice(4 + batchSize * O),
    };
  }

  predict(x: Float32Array, count: number): Promise<Float32Array> {
    const { window: T, inputSize: I, outputSize: O } = this.config;
    checkRows('count', count, x, T * I, null, O);
    const bytes = 4 * count * O;
    return this.readBack(bytes, (encoder, staging) => {
      const pass = this.scratchPass(count, x, null);
      const compute = encoder.beginComputePass({ label: 'predict' });
      pass.encodeForward(compute, 0, this.schedule(), 'predict');
      compute.end();
      encoder.copyBufferToBuffer(pass.workspace.outputs, 16, staging, 0, bytes);
    });
  }

  setTrainingData(data: Dataset, batchSize: number): void {
    this.assertUsable();
    const { window: T, inputSize: I, outputSize: O } = this.config;
    if (data.window !== T || data.inputSize !== I || data.outputSize !== O) {
      throw new InputError(
        'data',
        `windows of ${data.window} steps, ${data.inputSize} inputs and ${data.outputSize} outputs do not fit a model of window ${T}, inputSize ${I}, outputSize ${O}`,
      );
    }
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > data.count) {
      throw new InputError(
        'batch',
        `expected a whole number from 1 to the number of samples (${data.count}), got ${batchSize}`,
      );
    }
    checkBatchFits(this.layout, this.context.limits, data.count, data.count, 'points');
    this.releaseTraining();

    const allocator = this.allocator;
    const samples = allocator.buffer('samples (N, T, I)', data.x.byteLength, GPUBufferUsage.STORAGE, data.x);
    const targets = allocator.buffer('targets (N, O)', data.t.byteLength, GPUBufferUsage.STORAGE, data.t);
    const order = allocator.storage('epoch order (N)', 4 * data.count, GPUBufferUsage.COPY_DST);
    const identity = identityOrder(allocator, 'samples in order (N)', data.count);
    const workspace = new Workspace(allocator, this.layout, data.count, 'training');
    const steps = Math.floor(data.count / batchSize);
    // Ones until trainEpoch writes the epoch's: any update encoded before (calibrate's) stays finite.
    const correctionValues = new Float32Array(2 * steps).fill(1);
    const corrections = allocator.buffer(
      "Adam's bias corrections (S, 2)",
      correctionValues.byteLength,
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
      correctionValues,
    );
    const train = new Pass(this.passContext, 'minibatch', workspace, { samples, targets, order }, batchSize, steps);
    this.training = {
      data,
      batch: batchSize,
      steps,
      order,
      train,
      corrections,
      correctionValues,
      update: this.createUpdate(train, corrections),
      evaluate: new Pass(
        this.passContext,
        'all samples',
        workspace,
        { samples, targets, order: identity },
        data.count,
        1,
      ),
      buffers: [samples, targets, order, identity, corrections],
      workspace,
    };
    this.calibrated = calibrations.get(this.device)?.get(this.calibrationKey(this.training)) ?? null;
  }

  /**
   * Makes `data` the validation set: checked against the model and the device limits, then its
   * windows uploaded once, with a workspace and an evaluate pass of its own; null removes it. Every
   * epoch that queues an error then also encodes the validation error in the same submit.
   */
  setValidationData(data: Dataset | null): void {
    this.assertUsable();
    if (data !== null) {
      checkValidationData(data, this.config);
      checkBatchFits(this.layout, this.context.limits, data.count, data.count, 'validation');
    }
    this.releaseValidation();
    if (data === null) return;
    const allocator = this.allocator;
    const samples = allocator.buffer('validation samples (N, T, I)', data.x.byteLength, GPUBufferUsage.STORAGE, data.x);
    const targets = allocator.buffer('validation targets (N, O)', data.t.byteLength, GPUBufferUsage.STORAGE, data.t);
    const identity = identityOrder(allocator, 'validation samples in order (N)', data.count);
    const workspace = new Workspace(allocator, this.layout, data.count, 'validation');
    const pass = new Pass(
      this.passContext,
      'validation samples',
      workspace,
      { samples, targets, order: identity },
      data.count,
      1,
    );
    this.validation = { data, pass, workspace, buffers: [samples, targets, identity] };
  }

  /** The validation errors read back by the last readLosses(), oldest first; handed over once. */
  takeValidationLosses(): number[] {
    const losses = this.returnedValidation;
    this.returnedValidation = [];
    return losses;
  }

  /**
   * Times epochs of each schedule on the training data (a warm-up, then the best of several rounds)
   * and keeps the faster for this device, model shape and batch. The parameters and the optimiser's
   * state are restored afterwards, so it
   * can run at any point; the trainer runs it once after setTrainingData. Null before training data
   * or when a schedule was asked for.
   */
  async calibrate(): Promise<Calibration | null> {
    const training = this.training;
    if (training === null || this.requestedSchedule !== 'auto') return null;
    if (this.calibrated !== null) return this.calibrated;
    const key = this.calibrationKey(training);
    if (!training.train.hasPersistent() && !training.evaluate.hasPersistent()) {
      return this.remember(key, { schedule: 'stepwise', msPerEpoch: null });
    }
    const kept = this.keepParamsAndState('calibration');
    try {
      const save = this.device.createCommandEncoder({ label: 'calibration: save params and state' });
      kept.save(save);
      this.submit(save);
      const best: Record<Schedule, number> = { stepwise: Infinity, persistent: Infinity };
      // Round 0 warms up (some drivers compile at first use); then the best of the rest, alternating,
      // so that a busy moment on a shared machine does not decide alone. Where waiting polls a core
      // (Dawn in Node), later rounds sleep through part of the expected time first, as training does:
      // a polled core is one a software GPU cannot use, and would bias the choice to one core.
      for (let round = 0; round <= CALIBRATION_ROUNDS; round++) {
        for (const schedule of ['stepwise', 'persistent'] as const) {
          const encoder = this.device.createCommandEncoder({ label: `calibration: ${schedule}` });
          for (let e = 0; e < CALIBRATION_EPOCHS; e++) this.encodeEpoch(encoder, training, schedule, true);
          const start = performance.now();
          this.submit(encoder);
          // Half the fastest epoch so far: shorter than either schedule takes, so no bias.
          const quiet = 0.5 * Math.min(best.stepwise, best.persistent);
          if (this.context.waitsByPolling && Number.isFinite(quiet)) await sleep(quiet);
          await this.device.queue.onSubmittedWorkDone();
          if (round > 0) best[schedule] = Math.min(best[schedule], performance.now() - start);
        }
        // A clear winner needs no more rounds (and a slow schedule costs the most to time).
        const [fast, slow] = [Math.min(best.stepwise, best.persistent), Math.max(best.stepwise, best.persistent)];
        if (round > 1 && slow > 2 * fast) break;
      }
      const restore = this.device.createCommandEncoder({ label: 'calibration: restore params and state' });
      kept.restore(restore);
      this.submit(restore);
      this.paramsVersion++;
      await this.device.queue.onSubmittedWorkDone();
      this.assertUsable();
      const msPerEpoch = {
        stepwise: best.stepwise / CALIBRATION_EPOCHS,
        persistent: best.persistent / CALIBRATION_EPOCHS,
      };
      return this.remember(key, {
        schedule: msPerEpoch.persistent < msPerEpoch.stepwise ? 'persistent' : 'stepwise',
        msPerEpoch,
      });
    } finally {
      kept.release();
    }
  }

  /**
   * GPU time per kernel group of up to `steps` minibatch steps (at most the profiler's maxSteps; the
   * epoch's steps in turn, as the last trainEpoch ordered them), mean ms per step; null where the
   * device has no 'timestamp-query'. Each group runs in a compute pass of its own with timestamps at
   * its beginning and end, so the split costs a little pass overhead that training does not pay. One
   * submit (saving and restoring the parameters and optimiser state around the steps) and one readback.
   */
  async profileSteps(steps: number): Promise<KernelTimes | null> {
    this.assertUsable();
    if (!this.context.timestamps) return null;
    const training = this.training;
    if (training === null) throw new Error('profileSteps before setTrainingData');
    if (!Number.isInteger(steps) || steps < 1) {
      throw new InputError('steps', `expected a whole number of at least 1, got ${describeValue(steps)}`);
    }
    const schedule = this.schedule();
    // The groups' sequence depends on the layer count only, the same for every schedule and batch.
    this.profiler ??= new TimestampProfiler(this.allocator, [...training.train.profiledGroups(schedule), 'update']);
    const profiler = this.profiler;
    const measured = Math.min(steps, profiler.maxSteps);
    const kept = this.keepParamsAndState('profile');
    try {
      const values = await this.readBack(profiler.bytes(measured), (encoder, staging) => {
        kept.save(encoder);
        let next = 0;
        for (let s = 0; s < measured; s++) {
          const entry = s % training.steps;
          next = training.train.encodeProfiledStep(encoder, entry, schedule, profiler.passes, next);
          const update = encoder.beginComputePass(profiler.passes[next++]);
          training.update.encode(update, entry);
          update.end();
        }
        // Every pass took the descriptor of its own group, or the times would be misattributed.
        if (next !== measured * profiler.groups.length) {
          throw new Error(`unreachable: ${next} profiled passes, expected ${measured * profiler.groups.length}`);
        }
        profiler.encodeResolve(encoder, measured, staging);
        kept.restore(encoder);
      });
      this.paramsVersion++;
      return profiler.times(new BigUint64Array(values.buffer, values.byteOffset, values.length / 2), measured);
    } finally {
      kept.release();
    }
  }

  trainEpoch(order: Uint32Array, learningRate: number, options: EpochOptions = {}): void {
    this.assertUsable();
    const training = this.training;
    if (training === null) throw new Error('trainEpoch before setTrainingData');
    if (this.epochResults.busy()) throw new Error('trainEpoch while readLosses is still reading');
    if (order.length < training.steps * training.batch) {
      throw new Error(
        `trainEpoch: order has ${order.length} entries, an epoch needs ${training.steps * training.batch}`,
      );
    }
    const queue = this.device.queue;
    upload(queue, training.order, order, Math.min(order.length, training.data.count));
    this.epochValues[0] = learningRate;
    queue.writeBuffer(this.epochUniform, 0, this.epochValues);
    this.writeCorrections(training);
    this.optimizer.step += training.steps;
    const evaluate = options.evaluate ?? true;
    this.lastEpochEvaluated = evaluate;
    const encoder = this.device.createCommandEncoder({ label: 'epoch' });
    this.encodeEpoch(encoder, training, this.schedule(), evaluate);
    if (evaluate) {
      const validation = this.validation === null ? null : { buffer: this.validation.workspace.outputs, offset: 0 };
      this.epochResults.encodeEpoch(encoder, training.workspace.outputs, 0, this.params, validation);
    }
    this.submit(encoder);
    this.paramsVersion++;
  }

  async readLosses(): Promise<number[]> {
    this.assertUsable();
    const version = this.paramsVersion;
    let results: Awaited<ReturnType<EpochReadback['read']>>;
    try {
      results = await this.epochResults.read();
    } catch (error) {
      throw this.failureOr(error);
    }
    if (results === null) {
      this.returnedValidation = [];
      return [];
    }
    this.returnedValidation = results.validationLosses;
    // The weights are those after the last epoch that queued an error; current if nothing came after.
    if (version === this.paramsVersion && this.lastEpochEvaluated) {
      this.returnedParams = { version, params: results.params };
    }
    return results.losses;
  }

  /** Resolves when the GPU has finished everything queued so far (a benchmark's clock stops here). */
  async finish(): Promise<void> {
    this.assertUsable();
    await this.device.queue.onSubmittedWorkDone();
  }

  counters(): GpuCounters {
    return { ...this.counts };
  }

  /** Dispatches per minibatch step of the current schedule and optimiser; null before setTrainingData. */
  dispatchesPerStep(): number | null {
    const training = this.training;
    if (training === null) return null;
    return training.train.modelDispatchesPerStep(this.schedule()) + training.update.dispatches;
  }

  /** Chooses the optimiser and the loss; the state starts at zero (new buffers), the parameters stay. */
  setOptimizer(settings: OptimizerSettings, loss: LossName): void {
    this.assertUsable();
    for (const buffer of [this.optimizer.firstState, this.optimizer.secondState]) this.allocator.release(buffer);
    this.optimizer = this.createOptimizer({ ...settings });
    this.passContext.loss = loss;
    const training = this.training;
    if (training !== null) {
      training.train.useLoss(loss);
      training.evaluate.useLoss(loss);
      training.update = this.createUpdate(training.train, training.corrections);
    }
    this.validation?.pass.useLoss(loss);
    this.scratch?.pass?.useLoss(loss);
  }

  /** The state after every epoch queued so far: one readback (none for SGD, which keeps only the count). */
  readOptimizerState(): Promise<OptimizerState> {
    this.assertUsable();
    const { name } = this.optimizer.settings;
    const step = this.optimizer.step;
    const buffers = this.stateBuffers();
    if (buffers.length === 0) return Promise.resolve({ name, step, slots: new Float32Array(0) });
    const bytes = 4 * this.layout.size;
    return this.readBack(buffers.length * bytes, (encoder, staging) => {
      for (const [i, buffer] of buffers.entries()) encoder.copyBufferToBuffer(buffer, 0, staging, i * bytes, bytes);
    }).then((slots) => ({ name, step, slots }));
  }

  /** Restores a state of this optimiser (from this backend or another): checked, then uploaded. */
  setOptimizerState(state: OptimizerState): void {
    this.assertUsable();
    const P = this.layout.size;
    checkOptimizerState(state, this.optimizer.settings.name, P);
    this.stateBuffers().forEach((buffer, i) => {
      this.device.queue.writeBuffer(buffer, 0, state.slots as Float32Array<ArrayBuffer>, i * P, P);
    });
    this.optimizer.step = state.step;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.training = null;
    this.validation = null;
    this.scratch = null;
    this.profiler?.destroy();
    this.profiler = null;
    this.allocator.releaseAll();
  }

  /**
   * Every minibatch step (forward, BPTT, gradients, update), then the error over all samples and,
   * with a validation set, over the validation samples.
   */
  private encodeEpoch(encoder: GPUCommandEncoder, training: Training, schedule: Schedule, evaluate: boolean): void {
    const compute = encoder.beginComputePass({ label: 'epoch' });
    for (let s = 0; s < training.steps; s++) {
      training.train.encodeForward(compute, s, schedule, 'train');
      training.train.encodeBackward(compute, s, schedule);
      training.update.encode(compute, s);
    }
    if (evaluate) {
      training.evaluate.encodeForward(compute, 0, schedule, 'evaluate');
      this.validation?.pass.encodeForward(compute, 0, schedule, 'evaluate');
    }
    compute.end();
  }

  /**
   * A copy of the parameters and the optimiser's state, for work that must leave them as they were
   * (calibrate, profileSteps): save() and restore() encode the copies; release() when the GPU is done.
   */
  private keepParamsAndState(label: string): {
    save(encoder: GPUCommandEncoder): void;
    restore(encoder: GPUCommandEncoder): void;
    release(): void;
  } {
    // The parameters, then each array of the optimiser's state, back to back.
    const bytes = 4 * this.layout.size;
    const kept = [this.params, ...this.stateBuffers()];
    const backup = this.allocator.storage(
      `${label}: params and optimiser state backup ((1 + state arrays) P)`,
      kept.length * bytes,
      GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
    );
    return {
      save: (encoder) => {
        for (const [i, buffer] of kept.entries()) encoder.copyBufferToBuffer(buffer, 0, backup, i * bytes, bytes);
      },
      restore: (encoder) => {
        for (const [i, buffer] of kept.entries()) encoder.copyBufferToBuffer(backup, i * bytes, buffer, 0, bytes);
      },
      release: () => this.allocator.release(backup),
    };
  }

  /** Zeroed state buffers for `settings` (16 bytes for an array the optimiser does not keep). */
  private createOptimizer(settings: OptimizerSettings): OptimizerBuffers {
    const arrays = stateArrays(settings.name);
    const bytes = (used: boolean) => (used ? 4 * this.layout.size : 16);
    const usage = GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    return {
      settings,
      firstState: this.allocator.storage(`${settings.name} state 0 (P)`, bytes(arrays >= 1), usage),
      secondState: this.allocator.storage(`${settings.name} state 1 (P)`, bytes(arrays >= 2), usage),
      step: 0,
    };
  }

  /** The arrays of state the current optimiser keeps, in the order of OptimizerState.slots. */
  private stateBuffers(): GPUBuffer[] {
    const { firstState, secondState, settings } = this.optimizer;
    return [firstState, secondState].slice(0, stateArrays(settings.name));
  }

  private createUpdate(train: Pass, corrections: GPUBuffer): OptimizerUpdate {
    const { settings, firstState, secondState } = this.optimizer;
    return new OptimizerUpdate(
      this.passContext,
      settings,
      { firstState, secondState, gradSquares: this.gradSquares, corrections, epoch: this.epochUniform },
      train,
    );
  }

  /** Adam's (c1, c2) = (1 - beta1^t, 1 - beta2^t) for the updates t of the epoch about to be queued. */
  private writeCorrections(training: Training): void {
    const { settings, step } = this.optimizer;
    if (settings.name !== 'adam') return;
    const values = training.correctionValues;
    for (let s = 0; s < training.steps; s++) {
      values[2 * s] = 1 - settings.beta1 ** (step + s + 1);
      values[2 * s + 1] = 1 - settings.beta2 ** (step + s + 1);
    }
    upload(this.device.queue, training.corrections, values, values.length);
  }

  private submit(encoder: GPUCommandEncoder): void {
    this.device.queue.submit([encoder.finish()]);
    this.counts.submits++;
  }

  /** A pass over the caller's `count` windows (uploaded here), growing the scratch buffers if needed. */
  private scratchPass(count: number, x: Float32Array, t: Float32Array | null): Pass {
    const { window: T, inputSize: I, outputSize: O } = this.config;
    const scratch = this.prepareScratch(count, t === null ? 'count' : 'batch');
    upload(this.device.queue, scratch.samples, x, count * T * I);
    if (t !== null) upload(this.device.queue, scratch.targets, t, count * O);
    if (scratch.pass === null) throw new Error('unreachable: prepareScratch makes the pass');
    return scratch.pass;
  }

  /** Scratch buffers for passes of `count` rows and the pass itself (which compiles its pipelines). */
  prepareScratch(count: number, field: string): Scratch {
    const { window: T, inputSize: I, outputSize: O } = this.config;
    let scratch = this.scratch;
    if (scratch === null || scratch.capacity < count) {
      checkBatchFits(this.layout, this.context.limits, count, count, field);
      if (scratch !== null) this.releaseScratch(scratch);
      const allocator = this.allocator;
      scratch = {
        capacity: count,
        workspace: new Workspace(allocator, this.layout, count, 'scratch'),
        samples: allocator.storage('scratch samples (B, T, I)', 4 * count * T * I, GPUBufferUsage.COPY_DST),
        targets: allocator.storage('scratch targets (B, O)', 4 * count * O, GPUBufferUsage.COPY_DST),
        identity: identityOrder(allocator, 'scratch order (B)', count),
        pass: null,
      };
      this.scratch = scratch;
    }
    if (scratch.pass === null || scratch.pass.batch !== count) {
      scratch.pass?.release();
      const source = { samples: scratch.samples, targets: scratch.targets, order: scratch.identity };
      scratch.pass = new Pass(this.passContext, 'scratch', scratch.workspace, source, count, 1);
    }
    return scratch;
  }

  /**
   * Runs `encode` (which may write inputs and encode work that ends with copies into `staging`), submits
   * it, and maps the first `bytes` of staging. One at a time: the staging buffer and scratch are shared.
   */
  private readBack(
    bytes: number,
    encode: (encoder: GPUCommandEncoder, staging: GPUBuffer) => void,
  ): Promise<Float32Array> {
    const run = async (): Promise<Float32Array> => {
      this.assertUsable();
      if (this.staging === null || this.staging.size < bytes) {
        if (this.staging !== null) this.allocator.release(this.staging);
        this.staging = this.allocator.buffer('readback', bytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
      }
      const staging = this.staging;
      const encoder = this.device.createCommandEncoder({ label: 'readback' });
      encode(encoder, staging);
      this.submit(encoder);
      this.counts.readbacks++;
      try {
        await staging.mapAsync(GPUMapMode.READ, 0, bytes);
      } catch (error) {
        throw this.failureOr(error);
      }
      const values = new Float32Array(staging.getMappedRange(0, bytes).slice(0));
      staging.unmap();
      return values;
    };
    const result = this.readChain.then(run, run);
    this.readChain = result.catch(() => undefined);
    return result;
  }

  private assertUsable(): void {
    if (this.disposed) throw new Error('the WebGPU backend was disposed');
    const failure = this.context.failure();
    if (failure !== null) throw new GpuFailure(`WebGPU failed: ${failure}`);
  }

  private failureOr(error: unknown): unknown {
    const failure = this.context.failure();
    return failure === null ? error : new GpuFailure(`WebGPU failed: ${failure}`);
  }

  private calibrationKey(training: Training): string {
    return JSON.stringify([this.config, training.batch, training.data.count]);
  }

  private remember(key: string, calibration: Calibration): Calibration {
    let known = calibrations.get(this.device);
    if (known === undefined) {
      known = new Map();
      calibrations.set(this.device, known);
    }
    known.set(key, calibration);
    this.calibrated = calibration;
    return calibration;
  }

  private releaseTraining(): void {
    const training = this.training;
    if (training === null) return;
    training.train.release();
    training.evaluate.release();
    training.workspace.release();
    for (const buffer of training.buffers) this.allocator.release(buffer);
    this.training = null;
    this.calibrated = null;
  }

  private releaseValidation(): void {
    const validation = this.validation;
    if (validation === null) return;
    validation.pass.release();
    validation.workspace.release();
    for (const buffer of validation.buffers) this.allocator.release(buffer);
    this.validation = null;
  }

  private releaseScratch(scratch: Scratch): void {
    scratch.pass?.release();
    scratch.workspace.release();
    for (const buffer of [scratch.samples, scratch.targets, scratch.identity]) this.allocator.release(buffer);
    this.scratch = null;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Before calibration: the schedule measured faster on this kind of adapter (see the README's figures). */
function defaultSchedule(adapter: AdapterDescription): Schedule {
  return adapter.software ? 'stepwise' : 'persistent';
}

/** The first `count` elements of `data` into `buffer` (any typed array; the DOM types want ArrayBuffer-backed ones). */
function upload(queue: GPUQueue, buffer: GPUBuffer, data: Float32Array | Uint32Array, count: number): void {
  queue.writeBuffer(buffer, 0, data as Float32Array<ArrayBuffer>, 0, count);
}

function checkRows(
  field: string,
  rows: number,
  x: Float32Array,
  xRow: number,
  t: Float32Array | null,
  tRow: number,
): void {
  if (!Number.isInteger(rows) || rows < 1)
    throw new InputError(field, `expected a whole number of at least 1, got ${rows}`);
  if (x.length < rows * xRow)
    throw new InputError('x', `expected ${rows * xRow} values (${rows} windows), got ${x.length}`);
  if (t !== null && t.length < rows * tRow) {
    throw new InputError('t', `expected ${rows * tRow} values (${rows} targets), got ${t.length}`);
  }
}

/** A WebGPU backend for `layout` on `context`'s device; checks the model against the device limits first. */
export async function createWebGpuBackend(
  context: GpuContext,
  layout: ParamLayout,
  options: WebGpuBackendOptions = {},
): Promise<WebGpuBackend> {
  const { device } = context;
  device.pushErrorScope('validation');
  let backend: WebGpuBackend | null = null;
  let failure: unknown = null;
  try {
    backend = new WebGpuBackend(context, layout, options);
    // Compiles the kernels now, inside the error scope, so a shader that does not build fails here.
    backend.prepareScratch(1, 'batch');
  } catch (error) {
    failure = error;
  }
  const error = await device.popErrorScope();
  if (failure === null && error !== null) failure = new GpuFailure(`WebGPU backend setup failed: ${error.message}`);
  if (failure !== null || backend === null) {
    backend?.dispose();
    throw failure;
  }
  return backend;
}
