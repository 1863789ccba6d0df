// The WebGPU backend: the CPU backend's training (src/backends/cpu/lstm.ts) computed by the WGSL
// kernels in shaders/, behind the same Backend interface.
//
// Scheduler: the training data lives on the GPU; trainEpoch writes the epoch's sample order and
// learning rate, encodes every minibatch step (forward, dense and loss, BPTT, batched weight
// gradients, one SGD dispatch) and the error over all samples into one command buffer, and submits
// it once. The error lands in a staging slot read back once per report interval. Two schedules of the
// recurrence exist: stepwise (a dispatch per time step, any size) and persistent (one dispatch for
// all T steps of a layer, when the batch's state fits one workgroup); calibrate() times both on the
// real training data and keeps the faster.
//
// Legend: N = samples, B = batch, T = window, I = inputSize, O = outputSize, P = parameter count.

import type { Dataset } from '../../data/dataset.js';
import { InputError } from '../../model/errors.js';
import type { ModelConfig, ParamLayout } from '../../model/layout.js';
import type { AdapterDescription, Backend, EpochOptions, GpuCounters, GradientResult } from '../backend.js';
import { checkBatchFits, checkModelFits } from './capacity.js';
import type { GpuContext } from './context.js';
import { EpochReadback } from './epochReadback.js';
import { kernelsFor } from './kernels.js';
import {
  Allocator,
  identityOrder,
  type KernelTuning,
  kernelTuning,
  Pass,
  type PassContext,
  type Schedule,
  SgdUpdate,
  stepUniform,
  Workspace,
} from './passes.js';

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
  buffers: GPUBuffer[];
  workspace: Workspace;
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
  private readonly sgd: SgdUpdate;
  private readonly epochResults: EpochReadback;
  /** Bumped by everything that changes the parameters; tags the weights that came back with the errors. */
  private paramsVersion = 0;
  private returnedParams: { version: number; params: Float32Array } | null = null;
  private lastEpochEvaluated = false;
  private readonly requestedSchedule: Schedule | 'auto';
  private calibrated: Calibration | null = null;
  private training: Training | null = null;
  private scratch: Scratch | null = null;
  private staging: GPUBuffer | null = null;
  private readChain: Promise<unknown> = Promise.resolve();
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
    };
    this.sgd = new SgdUpdate(this.passContext, this.epochUniform);
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
    this.training = {
      data,
      batch: batchSize,
      steps,
      order,
      train: new Pass(this.passContext, 'minibatch', workspace, { samples, targets, order }, batchSize, steps),
      evaluate: new Pass(
        this.passContext,
        'all samples',
        workspace,
        { samples, targets, order: identity },
        data.count,
        1,
      ),
      buffers: [samples, targets, order, identity],
      workspace,
    };
    this.calibrated = calibrations.get(this.device)?.get(this.calibrationKey(this.training)) ?? null;
  }

  /**
   * Times epochs of each schedule on the training data (a warm-up, then the best of several rounds)
   * and keeps the faster for this device, model shape and batch. The parameters are restored afterwards, so it
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
    const bytes = 4 * this.layout.size;
    const backup = this.allocator.storage(
      'params backup (P)',
      bytes,
      GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
    );
    try {
      const save = this.device.createCommandEncoder({ label: 'calibration: save params' });
      save.copyBufferToBuffer(this.params, 0, backup, 0, bytes);
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
      const restore = this.device.createCommandEncoder({ label: 'calibration: restore params' });
      restore.copyBufferToBuffer(backup, 0, this.params, 0, bytes);
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
      this.allocator.release(backup);
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
    const evaluate = options.evaluate ?? true;
    this.lastEpochEvaluated = evaluate;
    const encoder = this.device.createCommandEncoder({ label: 'epoch' });
    this.encodeEpoch(encoder, training, this.schedule(), evaluate);
    if (evaluate) this.epochResults.encodeEpoch(encoder, training.workspace.outputs, 0, this.params);
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
    if (results === null) return [];
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

  /** Dispatches per minibatch step of the current schedule; null before setTrainingData. */
  dispatchesPerStep(): number | null {
    return this.training === null ? null : this.training.train.dispatchesPerStep(this.schedule());
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.training = null;
    this.scratch = null;
    this.allocator.releaseAll();
  }

  /** Every minibatch step (forward, BPTT, gradients, update), then the error over all samples. */
  private encodeEpoch(encoder: GPUCommandEncoder, training: Training, schedule: Schedule, evaluate: boolean): void {
    const compute = encoder.beginComputePass({ label: 'epoch' });
    for (let s = 0; s < training.steps; s++) {
      training.train.encodeForward(compute, s, schedule, 'train');
      training.train.encodeBackward(compute, s, schedule);
      this.sgd.encode(compute);
    }
    if (evaluate) training.evaluate.encodeForward(compute, 0, schedule, 'evaluate');
    compute.end();
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
