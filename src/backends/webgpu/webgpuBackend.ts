// The WebGPU backend: the CPU backend's training (src/backends/cpu/lstm.ts) computed by the WGSL
// kernels in shaders/, for a population of K models of one shape trained in the same dispatches
// (src/backends/population.ts), and behind the Backend interface as the population of one. The
// training data stays on the GPU; an epoch (every minibatch step of every member, then each member's
// error over its windows) is recorded once and handed to the device in as few slices as its cost
// allows; errors and weights come back once per report. docs/ARCHITECTURE.md draws the step and says
// why it is built this way, and how the member dimension runs through the buffers and the grids.
//
// Legend: K = members, N = samples, B = batch, T = window, I = inputSize, O = outputSize,
//         P = parameter count.

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
import type { ProbeOptions, WindowProbe } from '../../model/probe.js';
import {
  type AdapterDescription,
  type Backend,
  checkEpochProbe,
  checkParams,
  checkRows,
  checkTrainingData,
  checkValidationData,
  DisposedError,
  EPOCH_PROGRESS_MS,
  type EpochErrors,
  type EpochLosses,
  type EpochOptions,
  type EpochProbe,
  epochErrors,
  type GpuCounters,
  type GpuFacet,
  GpuFailure,
  type GradientResult,
  type KernelTimes,
} from '../backend.js';
import {
  checkMember,
  checkMemberRanges,
  type MemberEpoch,
  type MemberOptimizer,
  type Population,
  sharedRanges,
  type WindowRange,
} from '../population.js';
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
import { ProbePass, type ProbeRun } from './probePass.js';
import { TimestampProfiler } from './profiler.js';
import { transposePlan } from './recurrenceTiling.js';
import { ResidentWindows, Scratch, Training } from './residentData.js';
import { SLICE_MS, type Slice, SliceRecorder, SubmitPacer } from './submission.js';
import {
  candidateVariants,
  type KernelTuning,
  kernelTuning,
  MAX_DISPATCH_FLOPS,
  type Schedule,
  sameVariant,
  type TuningName,
  type Variant,
  variantName,
} from './tuning.js';
import { rangeOrders } from './workspace.js';

export { GpuFailure } from '../backend.js';
export type { Calibration } from './calibration.js';
export type { Schedule, TuningName, Variant } from './tuning.js';

/** What a readback copies: `bytes`, by the work `record` encodes. */
interface ReadBackWork {
  bytes: number;
  record: (recorder: SliceRecorder, staging: GPUBuffer) => Slice[];
}

export interface WebGpuBackendOptions {
  /** How the recurrence is dispatched; 'auto' (the default) lets calibrate() measure. */
  schedule?: Schedule | 'auto';
  /** Which kernels; 'auto' (the default) lets calibrate() measure those for the adapter's kind. */
  tuning?: TuningName | 'auto';
  /** FLOPs one dispatch may hold a member where work can be cut (default MAX_DISPATCH_FLOPS; tests cut finer). */
  maxDispatchFlops?: number;
  /** GPU time an epoch's slices aim at, ms (default SLICE_MS); Infinity hands every epoch over whole. */
  sliceMs?: number;
  /** The backend owns its device: dispose() destroys the context once the device has finished (the CLI's). */
  ownsContext?: boolean;
  /**
   * false: no pipeline is compiled before its first dispatch (default true: every variant's, in every
   * mode, at creation and with each data set). For a racer that runs one variant's training steps: on
   * a software adapter that is a fraction of the compiling.
   */
  compileAhead?: boolean;
  /**
   * false: the fused rows kernel's items keep one quad at every K (KernelTuning.fusedPairedMembers), to
   * measure what two quads an item gain a population (bench:webgpu's members … unpaired).
   */
  pairedItems?: boolean;
}

/** How long a failed map waits for the device to say it was lost, so that the loss is the reason told. */
const LOSS_GRACE_MS = 500;

export class WebGpuBackend implements Backend, Population, GpuFacet {
  readonly name = 'webgpu' as const;
  readonly config: ModelConfig;
  readonly layout: ParamLayout;
  /** K, fixed for the backend's life; 1 for a single model. */
  readonly members: number;
  readonly adapter: AdapterDescription;
  readonly context: GpuContext;
  /** Whether dispose() destroys the context too (WebGpuBackendOptions.ownsContext). */
  private readonly ownsContext: boolean;
  private readonly device: GPUDevice;
  private readonly counts: GpuCounters = { dispatches: 0, submits: 0, readbacks: 0, buffersCreated: 0 };
  private readonly allocator: Allocator;
  private readonly planContext: PlanContext;
  private readonly pacer: SubmitPacer;
  private readonly epochResults: EpochReadback;
  /** (K, P) parameters and gradients, flat layout */
  private readonly params: GPUBuffer;
  private readonly grads: GPUBuffer;
  /** (K, MAX_NORM_PARTIALS) the gradient norm's partial sums, for clipping */
  private readonly gradSquares: GPUBuffer;
  private optimizer: GpuOptimizerState;
  /** (K) each member's loss */
  private losses: LossName[];
  /** The variants asked for (one, or every one calibration may choose), most promising first. */
  private readonly requested: Variant[];
  /** WebGpuBackendOptions.compileAhead. */
  private readonly compileAhead: boolean;
  /** Those the training data admits (what runs of each requested one), once it is set. */
  private candidates: Variant[] = [];
  private calibrated: Calibration | null = null;
  private training: Training | null = null;
  private validation: ResidentWindows | null = null;
  private scratch: Scratch | null = null;
  /** The buffers of probe(), made by the first. */
  private probePass: ProbePass | null = null;
  /** The buffers of the epochs' probes (EpochOptions.probe), made by the first: apart from probe()'s, which may be mid-read. */
  private epochProbePass: ProbePass | null = null;
  /** Bumped by everything that changes the parameters; tags the weights that came back with the errors. */
  private paramsVersion = 0;
  /** (K, P) the weights that came back with the last errors, while current. */
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

  constructor(context: GpuContext, layout: ParamLayout, members = 1, options: WebGpuBackendOptions = {}) {
    checkModelFits(layout, context.limits, members);
    this.context = context;
    this.device = context.device;
    this.adapter = context.adapter;
    this.layout = layout;
    this.config = layout.config;
    this.members = members;
    this.requested = candidateVariants(context.adapter, options.schedule ?? 'auto', options.tuning ?? 'auto');
    this.compileAhead = options.compileAhead ?? true;
    this.allocator = new Allocator(this.device, this.counts);
    const KP = 4 * members * layout.size;
    this.params = this.allocator.storage('params (K, P)', KP, GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC);
    this.grads = this.allocator.storage('grads (K, P)', KP, GPUBufferUsage.COPY_SRC);
    const { limits } = context;
    const transposes = transposePlan(layout, limits.maxComputeWorkgroupsPerDimension);
    this.planContext = {
      pipelines: pipelinesFor(this.device),
      layout,
      allocator: this.allocator,
      members,
      params: this.params,
      grads: this.grads,
      steps: stepUniform(this.allocator, layout.config.window),
      tunings: {
        software: unpaired(kernelTuning('software', limits.maxComputeInvocationsPerWorkgroup), options),
        hardware: unpaired(kernelTuning('hardware', limits.maxComputeInvocationsPerWorkgroup), options),
      },
      limits,
      maxDispatchFlops: options.maxDispatchFlops ?? MAX_DISPATCH_FLOPS,
      transposed: {
        buffer: this.allocator.storage('Vᵀ of every layer (K, Σ 4H²)', 4 * members * transposes.transposedSize),
        layers: this.allocator.buffer(
          'Vᵀ layers (L, 4)',
          transposes.table.byteLength,
          GPUBufferUsage.STORAGE,
          transposes.table,
        ),
        plan: transposes,
      },
      counters: this.counts,
    };
    this.gradSquares = this.allocator.storage('gradient norm partial sums (K, W)', 4 * members * MAX_NORM_PARTIALS);
    this.optimizer = new GpuOptimizerState(this.allocator, this.everyMember(DEFAULT_OPTIMIZER), layout.size);
    this.losses = this.everyMember<LossName>('sse');
    this.ownsContext = options.ownsContext === true;
    this.pacer = new SubmitPacer(this.device.queue, this.counts, {
      wait: context.wait,
      software: context.adapter.software,
      sliceMs: options.sliceMs ?? SLICE_MS,
    });
    this.epochResults = new EpochReadback(this.allocator, this.counts, members, layout.size, this.pacer);
  }

  /** The GPU-only side of the Backend interface: this backend itself. */
  get gpu(): GpuFacet {
    return this;
  }

  /**
   * The variant training, gradients and predictions use now: calibrate()'s pick, or before it the most
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

  // The Backend interface: the population of one, member 0.

  setParams(params: Float32Array): void {
    this.singleModel('setParams');
    this.setMemberParams(0, params);
  }

  async readParams(): Promise<Float32Array> {
    this.singleModel('readParams');
    return (await this.readMemberParams())[0];
  }

  async gradients(x: Float32Array, t: Float32Array, batchSize: number): Promise<GradientResult> {
    this.singleModel('gradients');
    return (await this.memberGradients(x, t, batchSize))[0];
  }

  async predict(x: Float32Array, count: number): Promise<Float32Array> {
    this.singleModel('predict');
    return (await this.predictMembers(x, count))[0];
  }

  /**
   * The probe (src/model/probe.ts) of `count` windows x (count, T, I): the forward kernels training runs (this
   * variant's, as predict() runs them) leave every step's gates, cell and hidden states in a probe
   * workspace, and with the connectivity (the default) the backward kernels seeded with a one-hot
   * output gradient per output leave d out / d x there (probePass.ts). One submit and one readback.
   */
  async probe(x: Float32Array, count: number, options: ProbeOptions = {}): Promise<WindowProbe[]> {
    this.singleModel('probe');
    checkRows('count', count, this.config, x, null);
    const connectivity = options.connectivity ?? true;
    await this.queued();
    // The run is loaded inside the read chain (probes share their buffers), and reads what came back.
    const loaded: { run?: ProbeRun } = {};
    const values = await this.readBack('probe', () => {
      this.probePass ??= new ProbePass(this.planContext, 'probe');
      const run = this.probePass.load(this.device.queue, x, count, connectivity, 'count');
      loaded.run = run;
      return {
        bytes: run.bytes,
        record: (recorder, staging) => {
          run.encode(recorder, this.variant());
          return recorder.finish((encoder) => run.copy(encoder, staging, 0));
        },
      };
    });
    if (loaded.run === undefined) throw new Error('unreachable: a probe read back without its run');
    return loaded.run.read(values);
  }

  setTrainingData(data: Dataset, batchSize: number): void {
    this.singleModel('setTrainingData');
    this.setMemberTraining(data, batchSize, sharedRanges(1, data.count));
  }

  setValidationData(data: Dataset | null): void {
    this.singleModel('setValidationData');
    this.setMemberValidation(data);
  }

  async trainEpoch(order: Uint32Array, learningRate: number, options: EpochOptions = {}): Promise<void> {
    this.singleModel('trainEpoch');
    this.assertIdle();
    const training = this.training;
    if (training === null) throw new Error('trainEpoch before setTrainingData');
    if (order.length < training.steps * training.batch) {
      throw new Error(
        `trainEpoch: order has ${order.length} entries, an epoch needs ${training.steps * training.batch}`,
      );
    }
    await this.trainMembers({ orders: [order], learningRates: [learningRate] }, options);
  }

  async readLosses(): Promise<EpochLosses> {
    this.singleModel('readLosses');
    return (await this.readMemberLosses())[0];
  }

  /** Chooses the optimizer and the loss; the state starts at zero (new buffers), the parameters stay. */
  setOptimizer(settings: OptimizerSettings, loss: LossName): void {
    this.singleModel('setOptimizer');
    this.setMemberOptimizers([{ optimizer: settings, loss }]);
  }

  /** The state after every epoch queued so far: one readback (none for SGD, which keeps only the count). */
  async readOptimizerState(): Promise<OptimizerState> {
    this.singleModel('readOptimizerState');
    return (await this.readMemberOptimizerStates())[0];
  }

  /** Restores a state of this optimizer (from this backend or another): checked, then uploaded. */
  setOptimizerState(state: OptimizerState): void {
    this.singleModel('setOptimizerState');
    this.setMemberOptimizerState(0, state);
  }

  // The Population interface.

  setMemberParams(member: number, params: Float32Array): void {
    this.assertIdle();
    checkMember(member, this.members);
    checkParams(params, this.layout);
    const P = this.layout.size;
    this.device.queue.writeBuffer(this.params, 4 * member * P, params as Float32Array<ArrayBuffer>, 0, P);
    this.paramsVersion++;
  }

  async readMemberParams(): Promise<Float32Array[]> {
    await this.queued();
    // After readMemberLosses, the weights of the last epoch came back with the errors.
    const returned = this.returnedParams;
    if (returned !== null && returned.version === this.paramsVersion) {
      this.assertUsable();
      return this.byMember(returned.params, this.layout.size);
    }
    const bytes = 4 * this.members * this.layout.size;
    const values = await this.readBack('read params', () => ({
      bytes,
      record: (recorder, staging) =>
        recorder.finish((encoder) => encoder.copyBufferToBuffer(this.params, 0, staging, 0, bytes)),
    }));
    return this.byMember(values, this.layout.size);
  }

  async predictMembers(x: Float32Array, count: number, each = false): Promise<Float32Array[]> {
    checkRows('count', count, this.config, x, null);
    const { window: T, inputSize: I, outputSize: O } = this.config;
    const K = this.members;
    const rows = each ? K * count : count;
    if (x.length < rows * T * I) {
      throw new InputError('x', `expected ${rows * T * I} values (${K} x ${count} windows), got ${x.length}`);
    }
    await this.queued();
    const blocks = await this.readBack('predict', () => {
      const plan = this.scratchPlan(count, rows, x, null, each);
      const { workspace } = plan;
      // The members' blocks, up to the losses.
      const bytes = workspace.lossOffset(0);
      return {
        bytes,
        record: (recorder, staging) => {
          plan.encodeForward(recorder, 0, this.variant(), 'predict');
          return recorder.finish((encoder) => encoder.copyBufferToBuffer(workspace.outputs, 0, staging, 0, bytes));
        },
      };
    });
    return this.memberOutputs(blocks, count * O);
  }

  async memberGradients(x: Float32Array, t: Float32Array, batchSize: number): Promise<GradientResult[]> {
    checkRows('batch', batchSize, this.config, x, t);
    const O = this.config.outputSize;
    const KP = this.members * this.layout.size;
    await this.queued();
    // The members' blocks and their losses, then the gradients.
    let outputsFloats = 0;
    const values = await this.readBack('gradients', () => {
      const plan = this.scratchPlan(batchSize, batchSize, x, t, false);
      const { workspace } = plan;
      const outputsBytes = workspace.lossOffset(this.members);
      outputsFloats = outputsBytes / 4;
      return {
        bytes: outputsBytes + 4 * KP,
        record: (recorder, staging) => {
          plan.encodeForward(recorder, 0, this.variant(), 'gradients');
          plan.encodeBackward(recorder, 0, this.variant());
          return recorder.finish((encoder) => {
            encoder.copyBufferToBuffer(workspace.outputs, 0, staging, 0, outputsBytes);
            encoder.copyBufferToBuffer(this.grads, 0, staging, outputsBytes, 4 * KP);
          });
        },
      };
    });
    const outputs = this.memberOutputs(values, batchSize * O);
    const grads = this.byMember(values.subarray(outputsFloats), this.layout.size);
    const losses = values.subarray(outputsFloats - this.members, outputsFloats);
    return outputs.map((y, m) => ({ loss: losses[m], y, grads: grads[m] }));
  }

  setMemberTraining(data: Dataset, batchSize: number, ranges: readonly WindowRange[]): void {
    this.assertIdle();
    checkTrainingData(data, batchSize, this.config);
    checkMemberRanges(ranges, this.members, data.count, 'ranges', batchSize);
    const capacity = Math.max(...ranges.map((range) => range.count));
    checkBatchFits(this.layout, this.context.limits, capacity, data.count, 'points', this.members);
    this.training?.release();
    this.training = null;
    this.calibrated = null;
    this.candidates = [];
    const training = new Training(this.planContext, data, batchSize, ranges, this.optimizer, this.gradSquares);
    this.training = training;
    training.windows.writeHeaders(this.device.queue, this.losses);
    this.prepare(training, this.requested);
    for (const variant of this.requested.map((v) => training.train.effective(v))) {
      if (!this.candidates.some((known) => sameVariant(known, variant))) this.candidates.push(variant);
    }
    if (this.validation !== null) this.prepare(this.validation.all, this.candidates);
    this.calibrated = rememberedCalibration(this.device, this.calibrationKey(training));
  }

  /**
   * Makes `data` the validation windows and `ranges` each member's part of them (all of them for every
   * member by default): checked against the model and the device limits, then uploaded once, with a
   * workspace and a plan of their own; null removes them.
   */
  setMemberValidation(data: Dataset | null, ranges?: readonly WindowRange[]): void {
    this.assertIdle();
    let memberRanges: readonly WindowRange[] = [];
    if (data !== null) {
      checkValidationData(data, this.config);
      memberRanges = ranges ?? sharedRanges(this.members, data.count);
      checkMemberRanges(memberRanges, this.members, data.count, 'validationRanges');
      const capacity = Math.max(1, ...memberRanges.map((range) => range.count));
      checkBatchFits(this.layout, this.context.limits, capacity, data.count, 'validation', this.members);
    }
    this.validation?.release();
    this.validation = null;
    if (data === null) return;
    const validation = new ResidentWindows(this.planContext, data, memberRanges, 'validation');
    this.validation = validation;
    validation.writeHeaders(this.device.queue, this.losses);
    this.prepare(validation.all, this.training === null ? this.requested : this.candidates);
  }

  /** Chooses each member's optimizer and loss; every state starts at zero (new buffers), the parameters stay. */
  setMemberOptimizers(settings: readonly MemberOptimizer[]): void {
    this.assertIdle();
    if (settings.length !== this.members) {
      throw new InputError('optimizers', `expected one per member (${this.members}), got ${settings.length}`);
    }
    this.optimizer.release();
    this.optimizer = new GpuOptimizerState(
      this.allocator,
      settings.map((member) => member.optimizer),
      this.layout.size,
    );
    this.losses = settings.map((member) => member.loss);
    const queue = this.device.queue;
    this.training?.windows.writeHeaders(queue, this.losses);
    this.validation?.writeHeaders(queue, this.losses);
    this.scratch?.writeHeaders(queue, this.losses);
    const training = this.training;
    if (training !== null) {
      training.useOptimizer(this.optimizer);
      this.prepare(training, this.candidates);
    }
  }

  async trainMembers(epoch: MemberEpoch, options: EpochOptions = {}): Promise<void> {
    this.assertIdle();
    const training = this.training;
    if (training === null) throw new Error('trainMembers before setMemberTraining');
    if (this.epochResults.busy()) throw new Error('trainMembers while readMemberLosses is still reading');
    const errors = epochErrors(options);
    const evaluate = errors !== 'none';
    const probe = this.epochProbe(options.probe, evaluate);
    training.writeEpoch(this.device.queue, epoch);
    this.lastEpochEvaluated = evaluate;
    const recorder = new SliceRecorder(this.device, 'epoch', this.pacer.sliceFlops());
    const variant = this.variant();
    this.encodeEpoch(recorder, training, variant, errors);
    probe?.encode(recorder.joining(), variant);
    const slices = recorder.finish((encoder) => {
      if (!evaluate) return;
      const { workspace } = training.windows;
      const validation = this.validation;
      this.epochResults.encodeEpoch(
        encoder,
        errors === 'all' ? { buffer: workspace.outputs, offset: workspace.lossOffset(0) } : null,
        this.params,
        validation?.anyWindows === true
          ? {
              errors: { buffer: validation.workspace.outputs, offset: validation.workspace.lossOffset(0) },
              members: validation.ranges.map((range) => range.count > 0),
            }
          : null,
      );
      if (probe !== null) this.epochResults.encodeProbe(encoder, probe);
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
      const done = Math.min(training.steps - 1, Math.floor((training.steps * flops) / total));
      // Two slices can end inside one step: a report always says the epoch has got further.
      if (done <= reported || performance.now() < reportAt) return;
      onProgress(done);
      reported = done;
      reportAt = performance.now() + EPOCH_PROGRESS_MS;
    });
  }

  async readMemberLosses(): Promise<EpochLosses[]> {
    await this.queued();
    this.assertUsable();
    const version = this.paramsVersion;
    let results: Awaited<ReturnType<EpochReadback['read']>>;
    try {
      results = await this.epochResults.read();
    } catch (error) {
      throw await this.deviceError(error);
    }
    if (results === null) return this.everyMember(null).map(() => ({ train: [], validation: [] }));
    // The weights are those after the last epoch that queued an error; current if nothing came after.
    if (version === this.paramsVersion && this.lastEpochEvaluated) {
      this.returnedParams = { version, params: results.params };
    }
    const { losses, validationLosses, probe } = results;
    return losses.map((train, m) => ({ train, validation: validationLosses[m], ...(probe === null ? {} : { probe }) }));
  }

  /** Each member's state after the epochs queued so far: one readback (none where every member is on SGD). */
  async readMemberOptimizerStates(): Promise<OptimizerState[]> {
    await this.queued();
    this.assertUsable();
    const { settings, steps } = this.optimizer;
    const buffers = this.optimizer.buffers();
    const P = this.layout.size;
    const bytes = 4 * this.members * P;
    const values =
      buffers.length === 0
        ? new Float32Array(0)
        : await this.readBack('read optimizer state', () => ({
            bytes: buffers.length * bytes,
            record: (recorder, staging) =>
              recorder.finish((encoder) => {
                for (const [i, buffer] of buffers.entries()) {
                  encoder.copyBufferToBuffer(buffer, 0, staging, i * bytes, bytes);
                }
              }),
          }));
    return settings.map(({ name }, m) => {
      const slots = new Float32Array(stateArrays(name) * P);
      for (let i = 0; i < stateArrays(name); i++) {
        slots.set(values.subarray((i * this.members + m) * P, (i * this.members + m + 1) * P), i * P);
      }
      return { name, step: steps[m], slots };
    });
  }

  /** Restores member m's state of its optimizer (from this backend or another): checked, then uploaded. */
  setMemberOptimizerState(member: number, state: OptimizerState): void {
    this.assertIdle();
    checkMember(member, this.members);
    const P = this.layout.size;
    checkOptimizerState(state, this.optimizer.settings[member].name, P);
    this.optimizer.buffers().forEach((buffer, i) => {
      if (i >= stateArrays(state.name)) return;
      this.device.queue.writeBuffer(buffer, 4 * member * P, state.slots as Float32Array<ArrayBuffer>, i * P, P);
    });
    this.optimizer.steps[member] = state.step;
  }

  // The GPU facet.

  /**
   * Times epochs of each variant the training data admits and keeps the fastest for this device, model
   * shape, members and batch (calibration.ts); a single one is kept untimed. The parameters and the
   * optimizer's state are restored afterwards, so it can run at any point; the trainer runs it once
   * after setTrainingData. Null before training data.
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
      training.writeTimingSettings(this.device.queue);
      const calibration = await timeVariants(
        {
          queue: this.device.queue,
          wait: this.context.wait,
          encodeEpoch: (variant) => {
            const recorder = new SliceRecorder(this.device, `calibration: ${variantName(variant)}`, Infinity);
            this.encodeEpoch(recorder, training, variant, 'all');
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
   * GPU time per kernel group of up to `steps` minibatch steps of every member (at most the profiler's
   * maxSteps; the epoch's steps in turn, as the last trainMembers ordered them), mean ms per step; null
   * where the device has no 'timestamp-query'. Each group runs in a compute pass of its own with
   * timestamps at its beginning and end (profiler.ts). One submit (saving and restoring the parameters
   * and optimizer state around the steps) and one readback.
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
      training.writeTimingSettings(this.device.queue);
      const values = await this.readBack('profile', () => ({
        bytes: profiler.bytes(measured),
        record: (recorder, staging) =>
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
      }));
      this.paramsVersion++;
      return profiler.times(new BigUint64Array(values.buffer, values.byteOffset, values.length / 2), measured);
    } finally {
      backup.release();
    }
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

  /** Dispatches of one step of the whole population: the same for any K. */
  dispatchesPerStep(): number | null {
    const training = this.training;
    if (training === null) return null;
    const variant = this.variant();
    return training.train.modelDispatchesPerStep(variant) + training.update(variant.tuning).dispatches;
  }

  dispose(): Promise<void> {
    if (this.disposed === null) {
      this.training = null;
      this.validation = null;
      this.scratch = null;
      this.probePass = null;
      this.epochProbePass = null;
      this.profiler?.destroy();
      this.profiler = null;
      this.allocator.releaseAll();
      const lost = this.context.lost.then(() => undefined);
      const finished = Promise.race([this.pacer.settle(), lost]);
      this.disposed = this.ownsContext ? finished.then(() => this.context.destroy()) : finished;
    }
    return this.disposed;
  }

  /**
   * Builds every kernel this model runs, once: a training step's pipelines of every variant asked for
   * (the layers', the dense layer's or the fused kernel's, the backward's) on one row, the update's and
   * the gradient norm's. createWebGpuPopulation runs it inside an error scope, so a kernel that does
   * not build fails there. (The tiled kernels' tiles depend on the batch, and the other modes are the
   * same kernels under other constants: each pass compiles those it runs when its data comes, or at
   * their first use.) Nothing with compileAhead: false, whose pipelines compile at their first dispatch.
   */
  preparePipelines(): void {
    if (!this.compileAhead) return;
    this.scratchFor(1, 1, 'batch').plan(1).prepare(this.requested, ['train']);
    prepareUpdatePipelines(this.planContext, this.layout.size);
  }

  /** Compiles the pipelines of `plans` for `variants` now, unless compiling ahead is off. */
  private prepare(plans: { prepare(variants: readonly Variant[]): void }, variants: readonly Variant[]): void {
    if (this.compileAhead) plans.prepare(variants);
  }

  /**
   * Every minibatch step (forward, BPTT, gradients, update), then the `errors` asked for: each
   * member's over its training windows and, with validation windows, over its validation windows.
   */
  private encodeEpoch(target: DispatchTarget, training: Training, variant: Variant, errors: EpochErrors): void {
    const update = training.update(variant.tuning);
    for (let s = 0; s < training.steps; s++) {
      training.train.encodeForward(target, s, variant, 'train');
      training.train.encodeBackward(target, s, variant);
      update.encode(target, s);
    }
    if (errors === 'all') training.windows.all.encode(target, variant);
    if (errors !== 'none' && this.validation?.anyWindows === true) this.validation.all.encode(target, variant);
  }

  /**
   * The epoch's probe (EpochOptions.probe), checked and its windows uploaded; null where none is asked
   * for. Checked before anything of the epoch is written.
   */
  private epochProbe(request: EpochProbe | undefined, evaluate: boolean): ProbeRun | null {
    if (request === undefined) return null;
    checkEpochProbe(request, this.members, evaluate, this.config);
    const { x, count, options } = request;
    this.epochProbePass ??= new ProbePass(this.planContext, 'epoch probe');
    return this.epochProbePass.load(this.device.queue, x, count, options?.connectivity ?? true, 'count');
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

  private backupParamsAndState(label: string): BufferBackup {
    const bytes = 4 * this.members * this.layout.size;
    return new BufferBackup(this.allocator, label, [this.params, ...this.optimizer.buffers()], bytes);
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

  /**
   * A plan over the caller's `count` windows a member (`rows` uploaded here: the count, or K times it
   * where each member reads its own), growing the scratch buffers if needed.
   */
  private scratchPlan(count: number, rows: number, x: Float32Array, t: Float32Array | null, each: boolean) {
    const { window: T, inputSize: I, outputSize: O } = this.config;
    const queue = this.device.queue;
    const scratch = this.scratchFor(count, rows, t === null ? 'count' : 'batch');
    queue.writeBuffer(scratch.samples, 0, x as Float32Array<ArrayBuffer>, 0, rows * T * I);
    if (t !== null) queue.writeBuffer(scratch.targets, 0, t as Float32Array<ArrayBuffer>, 0, rows * O);
    const ranges = Array.from({ length: this.members }, (_, m) => ({ start: each ? m * count : 0, count }));
    queue.writeBuffer(scratch.order, 0, rangeOrders(ranges, scratch.capacity, rows));
    return scratch.plan(count);
  }

  /** Scratch buffers for at least `count` rows a member and `rows` rows of samples. */
  private scratchFor(count: number, rows: number, field: string): Scratch {
    const scratch = this.scratch;
    if (scratch !== null && scratch.capacity >= count && scratch.rows >= rows) return scratch;
    const capacity = Math.max(count, scratch?.capacity ?? 0);
    const sampleRows = Math.max(rows, scratch?.rows ?? 0);
    checkBatchFits(this.layout, this.context.limits, capacity, sampleRows, field, this.members);
    scratch?.release();
    this.scratch = null;
    this.scratch = new Scratch(this.planContext, capacity, sampleRows);
    this.scratch.writeHeaders(this.device.queue, this.losses);
    return this.scratch;
  }

  /** (K) each member's first `floats` outputs from a copy of the scratch workspace's member blocks. */
  private memberOutputs(blocks: Float32Array, floats: number): Float32Array[] {
    const scratch = this.scratch;
    if (scratch === null) throw new Error('unreachable: outputs without a scratch workspace');
    return this.everyMember(null).map((_, m) => {
      const first = scratch.workspace.outOffset(m) / 4;
      return blocks.slice(first, first + floats);
    });
  }

  /** (K) arrays of `size` from (K, size) values. */
  private byMember(values: Float32Array, size: number): Float32Array[] {
    return this.everyMember(null).map((_, m) => values.slice(m * size, (m + 1) * size));
  }

  private everyMember<T>(value: T): T[] {
    return Array.from({ length: this.members }, () => value);
  }

  /**
   * Runs `work` (which may write inputs and grow the scratch buffers, and says how many bytes come
   * back), records its work with `record` (ending with copies of those bytes into `staging`), submits
   * it, and maps them. One at a time: the staging buffer and scratch are shared.
   */
  private readBack(label: string, work: () => ReadBackWork): Promise<Float32Array> {
    const run = async (): Promise<Float32Array> => {
      this.assertUsable();
      const { bytes, record } = work();
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

  /** Throws for a call of the Backend interface, which means one model, on a population of several. */
  private singleModel(method: string): void {
    if (this.members !== 1) {
      throw new Error(
        `${method} is a single model's: this population has ${this.members} members (use the member methods)`,
      );
    }
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
    const shape = { config: this.config, members: this.members, capacity: training.windows.workspace.capacity };
    return calibrationKey(shape, training.batch, training.data.count, this.candidates);
  }

  private remember(key: string, calibration: Calibration): Calibration {
    this.calibrated = rememberCalibration(this.device, key, calibration);
    return calibration;
  }
}

/** A population of `members` models of `layout` on `context`'s device; checks them against the device limits first. */
/** `tuning`, with one quad an item at every K where `options` turn paired items off. */
function unpaired(tuning: KernelTuning, options: WebGpuBackendOptions): KernelTuning {
  return options.pairedItems === false ? { ...tuning, fusedPairedMembers: Number.POSITIVE_INFINITY } : tuning;
}

export async function createWebGpuPopulation(
  context: GpuContext,
  layout: ParamLayout,
  members: number,
  options: WebGpuBackendOptions = {},
): Promise<WebGpuBackend> {
  const { device } = context;
  device.pushErrorScope('validation');
  let backend: WebGpuBackend | null = null;
  let failure: unknown = null;
  try {
    backend = new WebGpuBackend(context, layout, members, options);
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

/** A WebGPU backend for `layout` on `context`'s device: the population of one. */
export function createWebGpuBackend(
  context: GpuContext,
  layout: ParamLayout,
  options: WebGpuBackendOptions = {},
): Promise<WebGpuBackend> {
  return createWebGpuPopulation(context, layout, 1, options);
}
