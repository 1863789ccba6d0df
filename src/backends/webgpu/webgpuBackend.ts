// The WebGPU backend: the CPU backend's training (src/backends/cpu/lstm.ts) computed by the WGSL
// kernels in shaders/, behind the same Backend interface. The training data stays on the GPU; an
// epoch (every minibatch step, then the error over all samples) is recorded once and handed to the
// device in as few slices as its cost allows; errors and weights come back once per report.
// docs/ARCHITECTURE.md draws the step and says why it is built this way.
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
} from '../../model/optimizer.js';
import {
  type AdapterDescription,
  type Backend,
  checkParams,
  checkRows,
  checkTrainingData,
  checkValidationData,
  DisposedError,
  EPOCH_PROGRESS_MS,
  type EpochLosses,
  type EpochOptions,
  type GpuCounters,
  type GpuFacet,
  GpuFailure,
  type GradientResult,
  type KernelTimes,
} from '../backend.js';
import { Allocator, BufferBackup } from './allocator.js';
import {
  type Calibration,
  calibrationKey,
  rememberCalibration,
  rememberedCalibration,
  timeVariants,
} from './calibration.js';
import { checkBatchFits, checkModelFits } from './capacity.js';
import type { GpuContext } from './context.js';
import { type DispatchTarget, type PlanContext, stepUniform } from './dispatchPlan.js';
import { EpochReadback } from './epochReadback.js';
import { GpuOptimizerState, MAX_NORM_PARTIALS, prepareUpdatePipelines } from './optimizerUpdate.js';
import { pipelinesFor } from './pipelines.js';
import { TimestampProfiler } from './profiler.js';
import { transposePlan } from './recurrenceTiling.js';
import { ResidentWindows, Scratch, Training } from './residentData.js';
import { SLICE_MS, type Slice, SliceRecorder, SubmitPacer } from './submission.js';
import {
  candidateVariants,
  kernelTuning,
  MAX_DISPATCH_FLOPS,
  type Schedule,
  sameVariant,
  type TuningName,
  type Variant,
  variantName,
} from './tuning.js';

export { GpuFailure } from '../backend.js';
export type { Calibration } from './calibration.js';
export type { Schedule, TuningName, Variant } from './tuning.js';

export interface WebGpuBackendOptions {
  /** How the recurrence is dispatched; 'auto' (the default) lets calibrate() measure. */
  schedule?: Schedule | 'auto';
  /** Which kernels; 'auto' (the default) lets calibrate() measure those for the adapter's kind. */
  tuning?: TuningName | 'auto';
  /** FLOPs one dispatch may hold where work can be cut (default MAX_DISPATCH_FLOPS; tests cut finer). */
  maxDispatchFlops?: number;
  /** GPU time an epoch's slices aim at, ms (default SLICE_MS); Infinity hands every epoch over whole. */
  sliceMs?: number;
}

/** How long a failed map waits for the device to say it was lost, so that the loss is the reason told. */
const LOSS_GRACE_MS = 500;

export class WebGpuBackend implements Backend, GpuFacet {
  readonly name = 'webgpu' as const;
  readonly config: ModelConfig;
  readonly layout: ParamLayout;
  readonly adapter: AdapterDescription;
  readonly context: GpuContext;
  private readonly device: GPUDevice;
  private readonly counts: GpuCounters = { dispatches: 0, submits: 0, readbacks: 0, buffersCreated: 0 };
  private readonly allocator: Allocator;
  private readonly planContext: PlanContext;
  private readonly pacer: SubmitPacer;
  private readonly epochResults: EpochReadback;
  /** (P) parameters and gradients, flat layout */
  private readonly params: GPUBuffer;
  private readonly grads: GPUBuffer;
  /** EpochParams: the learning rate */
  private readonly epochUniform: GPUBuffer;
  private readonly epochValues = new Float32Array(4);
  /** (MAX_NORM_PARTIALS) the gradient norm's partial sums, for clipping */
  private readonly gradSquares: GPUBuffer;
  private optimizer: GpuOptimizerState;
  /** The variants asked for (one, or every one calibration may choose), most promising first. */
  private readonly requested: Variant[];
  /** Those the training data admits (what runs of each requested one), once it is set. */
  private candidates: Variant[] = [];
  private calibrated: Calibration | null = null;
  private training: Training | null = null;
  private validation: ResidentWindows | null = null;
  private scratch: Scratch | null = null;
  /** Bumped by everything that changes the parameters; tags the weights that came back with the errors. */
  private paramsVersion = 0;
  private returnedParams: { version: number; params: Float32Array } | null = null;
  private lastEpochEvaluated = false;
  /** The epoch still being handed over in slices, if any. */
  private queueing: Promise<void> | null = null;
  private staging: GPUBuffer | null = null;
  private readChain: Promise<unknown> = Promise.resolve();
  /** Made by the first profileSteps on a device with timestamps. */
  private profiler: TimestampProfiler | null = null;
  /** Set by dispose(): resolves when the device has finished what it was handed. */
  private disposed: Promise<void> | null = null;

  constructor(context: GpuContext, layout: ParamLayout, options: WebGpuBackendOptions = {}) {
    checkModelFits(layout, context.limits);
    this.context = context;
    this.device = context.device;
    this.adapter = context.adapter;
    this.layout = layout;
    this.config = layout.config;
    this.requested = candidateVariants(context.adapter, options.schedule ?? 'auto', options.tuning ?? 'auto');
    this.allocator = new Allocator(this.device, this.counts);
    const P = 4 * layout.size;
    this.params = this.allocator.storage('params (P)', P, GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC);
    this.grads = this.allocator.storage('grads (P)', P, GPUBufferUsage.COPY_SRC);
    this.epochUniform = this.allocator.buffer('epoch', 16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    const { limits } = context;
    const transposes = transposePlan(layout, limits.maxComputeWorkgroupsPerDimension);
    this.planContext = {
      pipelines: pipelinesFor(this.device),
      layout,
      allocator: this.allocator,
      params: this.params,
      grads: this.grads,
      steps: stepUniform(this.allocator, layout.config.window),
      tunings: {
        software: kernelTuning('software', limits.maxComputeInvocationsPerWorkgroup),
        hardware: kernelTuning('hardware', limits.maxComputeInvocationsPerWorkgroup),
      },
      limits,
      maxDispatchFlops: options.maxDispatchFlops ?? MAX_DISPATCH_FLOPS,
      transposed: {
        buffer: this.allocator.storage('Vᵀ of every layer (Σ 4H²)', 4 * transposes.transposedSize),
        layers: this.allocator.buffer(
          'Vᵀ layers (L, 4)',
          transposes.table.byteLength,
          GPUBufferUsage.STORAGE,
          transposes.table,
        ),
        plan: transposes,
      },
      counters: this.counts,
      loss: 'sse',
    };
    this.gradSquares = this.allocator.storage('gradient norm partial sums', 4 * MAX_NORM_PARTIALS);
    this.optimizer = new GpuOptimizerState(this.allocator, DEFAULT_OPTIMIZER, layout.size);
    this.pacer = new SubmitPacer(this.device.queue, this.counts, {
      wait: context.wait,
      software: context.adapter.software,
      sliceMs: options.sliceMs ?? SLICE_MS,
    });
    this.epochResults = new EpochReadback(this.allocator, this.counts, layout.size, this.pacer);
  }

  /** The GPU-only side of the Backend interface: this backend itself. */
  get gpu(): GpuFacet {
    return this;
  }

  /**
   * The variant training, gradients() and predict() use now: calibrate()'s pick, or before it the most
   * promising the training data admits (the first asked for, before any data). A pass that does not
   * admit it (a batch too large for one workgroup, a stacked model on the fused schedule) runs its
   * stepwise schedule under the same tuning.
   */
  variant(): Variant {
    return this.calibrated?.variant ?? this.candidates[0] ?? this.requested[0];
  }

  /** The variant's name as reports give it ('fused/software'): what the training steps run. */
  variantName(): string {
    const training = this.training;
    return variantName(training === null ? this.variant() : training.train.effective(this.variant()));
  }

  setParams(params: Float32Array): void {
    this.assertIdle();
    checkParams(params, this.layout);
    upload(this.device.queue, this.params, params, params.length);
    this.paramsVersion++;
  }

  async readParams(): Promise<Float32Array> {
    await this.queued();
    // After readLosses, the weights of the last epoch came back with the errors.
    const returned = this.returnedParams;
    if (returned !== null && returned.version === this.paramsVersion) {
      this.assertUsable();
      return returned.params.slice();
    }
    const bytes = 4 * this.layout.size;
    return this.readBack('read params', bytes, (recorder, staging) =>
      recorder.finish((encoder) => encoder.copyBufferToBuffer(this.params, 0, staging, 0, bytes)),
    );
  }

  async gradients(x: Float32Array, t: Float32Array, batchSize: number): Promise<GradientResult> {
    checkRows('batch', batchSize, this.config, x, t);
    const O = this.config.outputSize;
    const outBytes = 4 * (4 + batchSize * O);
    await this.queued();
    const values = await this.readBack('gradients', outBytes + 4 * this.layout.size, (recorder, staging) => {
      const plan = this.scratchPlan(batchSize, x, t);
      plan.encodeForward(recorder, 0, this.variant(), 'gradients');
      plan.encodeBackward(recorder, 0, this.variant());
      return recorder.finish((encoder) => {
        encoder.copyBufferToBuffer(plan.workspace.outputs, 0, staging, 0, outBytes);
        encoder.copyBufferToBuffer(this.grads, 0, staging, outBytes, 4 * this.layout.size);
      });
    });
    return {
      loss: values[0],
      y: values.slice(4, 4 + batchSize * O),
      grads: values.slice(4 + batchSize * O),
    };
  }

  async predict(x: Float32Array, count: number): Promise<Float32Array> {
    checkRows('count', count, this.config, x, null);
    const bytes = 4 * count * this.config.outputSize;
    await this.queued();
    return this.readBack('predict', bytes, (recorder, staging) => {
      const plan = this.scratchPlan(count, x, null);
      plan.encodeForward(recorder, 0, this.variant(), 'predict');
      return recorder.finish((encoder) => encoder.copyBufferToBuffer(plan.workspace.outputs, 16, staging, 0, bytes));
    });
  }

  setTrainingData(data: Dataset, batchSize: number): void {
    this.assertIdle();
    checkTrainingData(data, batchSize, this.config);
    checkBatchFits(this.layout, this.context.limits, data.count, data.count, 'points');
    this.training?.release();
    this.training = null;
    this.calibrated = null;
    this.candidates = [];
    const training = new Training(this.planContext, data, batchSize, this.optimizer, this.updateBuffers());
    this.training = training;
    training.prepare(this.requested);
    for (const variant of this.requested.map((v) => training.train.effective(v))) {
      if (!this.candidates.some((known) => sameVariant(known, variant))) this.candidates.push(variant);
    }
    this.validation?.all.prepare(this.candidates);
    this.calibrated = rememberedCalibration(this.device, this.calibrationKey(training));
  }

  /**
   * Makes `data` the validation set: checked against the model and the device limits, then its
   * windows uploaded once, with a workspace and a plan of its own; null removes it.
   */
  setValidationData(data: Dataset | null): void {
    this.assertIdle();
    if (data !== null) {
      checkValidationData(data, this.config);
      checkBatchFits(this.layout, this.context.limits, data.count, data.count, 'validation');
    }
    this.validation?.release();
    this.validation = data === null ? null : new ResidentWindows(this.planContext, data, 'validation');
    this.validation?.all.prepare(this.training === null ? this.requested : this.candidates);
  }

  /**
   * Times epochs of each variant the training data admits and keeps the fastest for this device, model
   * shape and batch (calibration.ts); a single one is kept untimed. The parameters and the optimizer's
   * state are restored afterwards, so it can run at any point; the trainer runs it once after
   * setTrainingData. Null before training data.
   */
  async calibrate(): Promise<Calibration | null> {
    await this.queued();
    this.assertUsable();
    const training = this.training;
    if (training === null) return null;
    if (this.calibrated !== null) return this.calibrated;
    const key = this.calibrationKey(training);
    if (this.candidates.length === 1) return this.remember(key, { variant: this.candidates[0], msPerEpoch: {}, ms: 0 });
    const backup = this.backupParamsAndState('calibration: params and optimizer state');
    try {
      this.submitEncoded('calibration: save params and state', (encoder) => backup.save(encoder));
      const calibration = await timeVariants(
        {
          queue: this.device.queue,
          wait: this.context.wait,
          encodeEpoch: (variant) => {
            const recorder = new SliceRecorder(this.device, `calibration: ${variantName(variant)}`, Infinity);
            this.encodeEpoch(recorder, training, variant, true);
            return recorder.finish()[0].commands;
          },
          submit: (commands) => this.submitCommands(commands),
        },
        this.candidates,
      );
      this.submitEncoded('calibration: restore params and state', (encoder) => backup.restore(encoder));
      this.paramsVersion++;
      await this.context.wait(this.device.queue.onSubmittedWorkDone());
      this.assertUsable();
      return this.remember(key, calibration);
    } finally {
      backup.release();
    }
  }

  /**
   * GPU time per kernel group of up to `steps` minibatch steps (at most the profiler's maxSteps; the
   * epoch's steps in turn, as the last trainEpoch ordered them), mean ms per step; null where the
   * device has no 'timestamp-query'. Each group runs in a compute pass of its own with timestamps at
   * its beginning and end (profiler.ts). One submit (saving and restoring the parameters and
   * optimizer state around the steps) and one readback.
   */
  async profileSteps(steps: number): Promise<KernelTimes | null> {
    await this.queued();
    this.assertUsable();
    if (!this.context.timestamps) return null;
    const training = this.training;
    if (training === null) throw new Error('profileSteps before setTrainingData');
    if (!Number.isInteger(steps) || steps < 1) {
      throw new InputError('steps', `expected a whole number of at least 1, got ${describeValue(steps)}`);
    }
    const variant = this.variant();
    // The groups' sequence depends on the variant and the layer count: a profiler per sequence.
    const groups = [...training.train.profiledGroups(variant), 'update'] as const;
    if (this.profiler === null || this.profiler.groups.join() !== groups.join()) {
      this.profiler?.destroy();
      this.profiler = new TimestampProfiler(this.allocator, groups);
    }
    const profiler = this.profiler;
    const measured = Math.min(steps, profiler.maxSteps);
    const backup = this.backupParamsAndState('profile: params and optimizer state');
    try {
      const values = await this.readBack('profile', profiler.bytes(measured), (recorder, staging) =>
        recorder.finish((encoder) => {
          backup.save(encoder);
          let next = 0;
          for (let s = 0; s < measured; s++) {
            const entry = s % training.steps;
            next = training.train.encodeProfiledStep(encoder, entry, variant, profiler.passes, next);
            const update = encoder.beginComputePass(profiler.passes[next++]);
            training.update(variant.tuning).encode({ pass: () => update }, entry);
            update.end();
          }
          // Every pass took the descriptor of its own group, or the times would be misattributed.
          if (next !== measured * profiler.groups.length) {
            throw new Error(`unreachable: ${next} profiled passes, expected ${measured * profiler.groups.length}`);
          }
          profiler.encodeResolve(encoder, measured, staging);
          backup.restore(encoder);
        }),
      );
      this.paramsVersion++;
      return profiler.times(new BigUint64Array(values.buffer, values.byteOffset, values.length / 2), measured);
    } finally {
      backup.release();
    }
  }

  async trainEpoch(order: Uint32Array, learningRate: number, options: EpochOptions = {}): Promise<void> {
    this.assertIdle();
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
    if (this.optimizer.settings.name === 'adam') {
      this.optimizer.corrections(training.correctionValues, training.steps);
      upload(queue, training.corrections, training.correctionValues, training.correctionValues.length);
    }
    this.optimizer.step += training.steps;
    const evaluate = options.evaluate ?? true;
    this.lastEpochEvaluated = evaluate;
    const recorder = new SliceRecorder(this.device, 'epoch', this.pacer.sliceFlops());
    this.encodeEpoch(recorder, training, this.variant(), evaluate);
    const slices = recorder.finish((encoder) => {
      if (!evaluate) return;
      const validation = this.validation === null ? null : { buffer: this.validation.workspace.outputs, offset: 0 };
      this.epochResults.encodeEpoch(encoder, training.windows.workspace.outputs, 0, this.params, validation);
    });
    this.paramsVersion++;
    const { onProgress } = options;
    if (onProgress === undefined) {
      await this.handOver(slices);
      return;
    }
    // Slices finished, as a share of the epoch's FLOPs, as minibatch steps (the error after them is small).
    const total = slices.reduce((sum, slice) => sum + slice.flops, 0);
    let reportAt = performance.now() + EPOCH_PROGRESS_MS;
    let reported = 0;
    await this.handOver(slices, (flops) => {
      const steps = Math.min(training.steps - 1, Math.floor((training.steps * flops) / total));
      // Two slices can end inside one step: a report always says the epoch has got further.
      if (steps <= reported || performance.now() < reportAt) return;
      onProgress(steps);
      reported = steps;
      reportAt = performance.now() + EPOCH_PROGRESS_MS;
    });
  }

  async readLosses(): Promise<EpochLosses> {
    await this.queued();
    this.assertUsable();
    const version = this.paramsVersion;
    let results: Awaited<ReturnType<EpochReadback['read']>>;
    try {
      results = await this.epochResults.read();
    } catch (error) {
      throw await this.deviceError(error);
    }
    if (results === null) return { train: [], validation: [] };
    // The weights are those after the last epoch that queued an error; current if nothing came after.
    if (version === this.paramsVersion && this.lastEpochEvaluated) {
      this.returnedParams = { version, params: results.params };
    }
    return { train: results.losses, validation: results.validationLosses };
  }

  /** Resolves when the GPU has finished everything queued so far (a benchmark's clock stops here). */
  async finish(): Promise<void> {
    await this.queued();
    this.assertUsable();
    await this.pacer.settle();
  }

  counters(): GpuCounters {
    return { ...this.counts };
  }

  dispatchesPerStep(): number | null {
    const training = this.training;
    if (training === null) return null;
    const variant = this.variant();
    return training.train.modelDispatchesPerStep(variant) + training.update(variant.tuning).dispatches;
  }

  /** Chooses the optimizer and the loss; the state starts at zero (new buffers), the parameters stay. */
  setOptimizer(settings: OptimizerSettings, loss: LossName): void {
    this.assertIdle();
    this.optimizer.release();
    this.optimizer = new GpuOptimizerState(this.allocator, { ...settings }, this.layout.size);
    this.planContext.loss = loss;
    const training = this.training;
    if (training !== null) {
      training.train.useLoss(loss);
      training.windows.all.useLoss(loss);
      training.useOptimizer(this.optimizer, this.updateBuffers());
      training.prepare(this.candidates);
    }
    this.validation?.all.useLoss(loss);
    this.scratch?.lastPlan()?.useLoss(loss);
  }

  /** The state after every epoch queued so far: one readback (none for SGD, which keeps only the count). */
  async readOptimizerState(): Promise<OptimizerState> {
    await this.queued();
    this.assertUsable();
    const { name } = this.optimizer.settings;
    const step = this.optimizer.step;
    const buffers = this.optimizer.buffers();
    if (buffers.length === 0) return { name, step, slots: new Float32Array(0) };
    const bytes = 4 * this.layout.size;
    const slots = await this.readBack('read optimizer state', buffers.length * bytes, (recorder, staging) =>
      recorder.finish((encoder) => {
        for (const [i, buffer] of buffers.entries()) encoder.copyBufferToBuffer(buffer, 0, staging, i * bytes, bytes);
      }),
    );
    return { name, step, slots };
  }

  /** Restores a state of this optimizer (from this backend or another): checked, then uploaded. */
  setOptimizerState(state: OptimizerState): void {
    this.assertIdle();
    const P = this.layout.size;
    checkOptimizerState(state, this.optimizer.settings.name, P);
    this.optimizer.buffers().forEach((buffer, i) => {
      this.device.queue.writeBuffer(buffer, 0, state.slots as Float32Array<ArrayBuffer>, i * P, P);
    });
    this.optimizer.step = state.step;
  }

  dispose(): Promise<void> {
    if (this.disposed === null) {
      this.training = null;
      this.validation = null;
      this.scratch = null;
      this.profiler?.destroy();
      this.profiler = null;
      this.allocator.releaseAll();
      const lost = this.context.lost.then(() => undefined);
      this.disposed = Promise.race([this.pacer.settle(), lost]);
    }
    return this.disposed;
  }

  /**
   * Builds every pipeline this model can use (the passes' of every variant asked for, the dense layer's
   * and the fused kernels' in every mode, every optimizer's update and the gradient norm):
   * createWebGpuBackend runs it inside an error scope, so a kernel that does not build fails there.
   * (The tiled kernels' tiles depend on the batch: setTrainingData builds those it needs.)
   */
  preparePipelines(): void {
    this.scratchFor(1, 'batch').plan(1).prepare(this.requested);
    prepareUpdatePipelines(this.planContext.pipelines, DEFAULT_OPTIMIZER, this.layout.size);
  }

  /**
   * Every minibatch step (forward, BPTT, gradients, update), then the error over all samples and,
   * with a validation set, over the validation samples.
   */
  private encodeEpoch(target: DispatchTarget, training: Training, variant: Variant, evaluate: boolean): void {
    const update = training.update(variant.tuning);
    for (let s = 0; s < training.steps; s++) {
      training.train.encodeForward(target, s, variant, 'train');
      training.train.encodeBackward(target, s, variant);
      update.encode(target, s);
    }
    if (evaluate) {
      training.windows.all.encode(target, variant);
      this.validation?.all.encode(target, variant);
    }
  }

  /**
   * Hands an epoch's slices to the device: at once when cheap, else one at a time (submission.ts),
   * telling `finished` the FLOPs done as the device finishes them.
   */
  private async handOver(slices: readonly Slice[], finished?: (flops: number) => void): Promise<void> {
    if (this.pacer.submitAtOnce(slices)) return;
    const queueing = this.pacer.submit(slices, () => this.assertUsable(), finished);
    this.queueing = queueing;
    try {
      await queueing;
    } catch (error) {
      throw error instanceof DisposedError || error instanceof GpuFailure ? error : await this.deviceError(error);
    } finally {
      if (this.queueing === queueing) this.queueing = null;
    }
  }

  /** Waits until no epoch is being handed over (reads come after the epochs queued before them). */
  private async queued(): Promise<void> {
    while (this.queueing !== null) await this.queueing.catch(() => undefined);
  }

  private updateBuffers() {
    return { gradSquares: this.gradSquares, epoch: this.epochUniform };
  }

  private backupParamsAndState(label: string): BufferBackup {
    return new BufferBackup(this.allocator, label, [this.params, ...this.optimizer.buffers()], 4 * this.layout.size);
  }

  private submitCommands(commands: GPUCommandBuffer): void {
    this.device.queue.submit([commands]);
    this.counts.submits++;
  }

  private submitEncoded(label: string, encode: (encoder: GPUCommandEncoder) => void): void {
    const encoder = this.device.createCommandEncoder({ label });
    encode(encoder);
    this.submitCommands(encoder.finish());
  }

  /** A plan over the caller's `count` windows (uploaded here), growing the scratch buffers if needed. */
  private scratchPlan(count: number, x: Float32Array, t: Float32Array | null) {
    const { window: T, inputSize: I, outputSize: O } = this.config;
    const scratch = this.scratchFor(count, t === null ? 'count' : 'batch');
    upload(this.device.queue, scratch.samples, x, count * T * I);
    if (t !== null) upload(this.device.queue, scratch.targets, t, count * O);
    return scratch.plan(count);
  }

  /** Scratch buffers for at least `count` rows. */
  private scratchFor(count: number, field: string): Scratch {
    const scratch = this.scratch;
    if (scratch !== null && scratch.capacity >= count) return scratch;
    checkBatchFits(this.layout, this.context.limits, count, count, field);
    scratch?.release();
    this.scratch = null;
    this.scratch = new Scratch(this.planContext, count);
    return this.scratch;
  }

  /**
   * Records work with `record` (which may write inputs, and ends with copies into `staging`), submits
   * it, and maps the first `bytes` of staging. One at a time: the staging buffer and scratch are shared.
   */
  private readBack(
    label: string,
    bytes: number,
    record: (recorder: SliceRecorder, staging: GPUBuffer) => Slice[],
  ): Promise<Float32Array> {
    const run = async (): Promise<Float32Array> => {
      this.assertUsable();
      if (this.staging === null || this.staging.size < bytes) {
        if (this.staging !== null) this.allocator.release(this.staging);
        this.staging = this.allocator.buffer('readback', bytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
      }
      const staging = this.staging;
      const [slice] = record(new SliceRecorder(this.device, label, Infinity), staging);
      this.pacer.submitNow(slice);
      this.counts.readbacks++;
      try {
        await this.pacer.waitFor(() => staging.mapAsync(GPUMapMode.READ, 0, bytes));
      } catch (error) {
        throw await this.deviceError(error);
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
    if (this.disposed !== null) throw new DisposedError(this.name);
    const failure = this.context.failure();
    if (failure !== null) throw new GpuFailure(`WebGPU failed: ${failure}`);
  }

  /** Usable, and no epoch still being handed over (its writes and submits would interleave with the caller's). */
  private assertIdle(): void {
    this.assertUsable();
    if (this.queueing !== null) throw new Error('the previous trainEpoch is still being queued: await it first');
  }

  /** What to throw for an error the device gave (a map or a wait that failed). */
  private async deviceError(error: unknown): Promise<Error> {
    if (this.disposed !== null) return new DisposedError(this.name);
    // A map cut short by a lost device can fail before the device says it was lost.
    if (this.context.failure() === null) {
      await Promise.race([this.context.lost, new Promise((resolve) => setTimeout(resolve, LOSS_GRACE_MS))]);
    }
    const reason = this.context.failure() ?? (error instanceof Error ? error.message : String(error));
    return new GpuFailure(`WebGPU failed: ${reason}`);
  }

  private calibrationKey(training: Training): string {
    return calibrationKey(this.config, training.batch, training.data.count, this.candidates);
  }

  private remember(key: string, calibration: Calibration): Calibration {
    this.calibrated = rememberCalibration(this.device, key, calibration);
    return calibration;
  }
}

/** The first `count` elements of `data` into `buffer` (any typed array; the DOM types want ArrayBuffer-backed ones). */
function upload(queue: GPUQueue, buffer: GPUBuffer, data: Float32Array | Uint32Array, count: number): void {
  queue.writeBuffer(buffer, 0, data as Float32Array<ArrayBuffer>, 0, count);
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
    backend.preparePipelines();
  } catch (error) {
    failure = error;
  }
  const error = await device.popErrorScope();
  if (failure === null && error !== null) failure = new GpuFailure(`WebGPU backend setup failed: ${error.message}`);
  if (failure !== null || backend === null) {
    await backend?.dispose();
    throw failure;
  }
  return backend;
}
