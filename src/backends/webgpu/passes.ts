// The GPU memory of the WebGPU backend and the dispatch plans that run the model over it.
//
// A Workspace holds the activations of passes of up to `capacity` rows; a Pass binds one workspace to
// a sample source (samples, targets, sample order) for batches of one size, and holds the bind groups
// and the list of dispatches of a forward and a backward pass, built once. Encoding a minibatch step is
// then a walk over those lists with dynamic uniform offsets (which minibatch, which time step): no
// buffer, bind group or pipeline is made while training.
//
// Legend: C = capacity (rows), B = batch of a pass, T = window, I = layer input size, H = hidden size,
//         O = outputSize, P = parameter count.

import { GATES, type ParamLayout } from '../../model/layout.js';
import type { LossName, OptimizerSettings } from '../../model/optimizer.js';
import type { GpuCounters, KernelTimes } from '../backend.js';
import { type KernelCache, uniformStride } from './kernels.js';

export type Schedule = 'stepwise' | 'persistent';
/** What a dispatch counts toward when a step is profiled (see KernelTimes). */
export type KernelGroup = keyof KernelTimes;
/** What the dense kernel computes: outputs; + the loss; + the gradients; both. */
export type DenseMode = 'predict' | 'evaluate' | 'train' | 'gradients';

/** Shapes fixed in shaders/: the products' output tile, the recurrence items, workgroup sizes. */
export const MATMUL_TILE = 32;
export const RECURRENCE_ROWS = 4;
const RECURRENCE_UNITS = 4;
/** Invocations a workgroup of the update and of the gradient norm (SUM_WORKGROUP in workgroup_sum.wgsl). */
const UPDATE_WORKGROUP = 64;
/** Workgroups of the gradient norm's first stage at most (the update adds up one partial sum each). */
export const MAX_NORM_PARTIALS = 256;
/** Items a step one invocation of a persistent kernel may take on. */
const PERSISTENT_ITEMS = 8;
/** Floats of the dense kernel's partial sums (its workgroup size). */
const DENSE_PARTIALS = 64;

/** Creates, counts and finally destroys every buffer of one backend. */
export class Allocator {
  readonly device: GPUDevice;
  private readonly counters: GpuCounters;
  private readonly live = new Set<GPUBuffer>();

  constructor(device: GPUDevice, counters: GpuCounters) {
    this.device = device;
    this.counters = counters;
  }

  /** A buffer of at least `bytes` (rounded up to 16), optionally filled with `data`. */
  buffer(label: string, bytes: number, usage: GPUBufferUsageFlags, data?: Float32Array | Uint32Array): GPUBuffer {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    const buffer = this.device.createBuffer({ label, size, usage, mappedAtCreation: data !== undefined });
    if (data !== undefined) {
      const view =
        data instanceof Float32Array
          ? new Float32Array(buffer.getMappedRange())
          : new Uint32Array(buffer.getMappedRange());
      view.set(data);
      buffer.unmap();
    }
    this.counters.buffersCreated++;
    this.live.add(buffer);
    return buffer;
  }

  storage(label: string, bytes: number, extraUsage: GPUBufferUsageFlags = 0): GPUBuffer {
    return this.buffer(label, bytes, GPUBufferUsage.STORAGE | extraUsage);
  }

  release(buffer: GPUBuffer): void {
    if (this.live.delete(buffer)) buffer.destroy();
  }

  releaseAll(): void {
    for (const buffer of this.live) buffer.destroy();
    this.live.clear();
  }
}

/** Per-minibatch-step uniforms (PassParams): entry s says batch B, rows from order[s * B], capacity C, entry s. */
export function passUniform(
  allocator: Allocator,
  label: string,
  batch: number,
  entries: number,
  capacity: number,
): GPUBuffer {
  const stride = uniformStride(allocator.device) / 4;
  const data = new Uint32Array(entries * stride);
  for (let s = 0; s < entries; s++) {
    data[s * stride] = batch;
    data[s * stride + 1] = s * batch;
    data[s * stride + 2] = capacity;
    data[s * stride + 3] = s;
  }
  return allocator.buffer(label, data.byteLength, GPUBufferUsage.UNIFORM, data);
}

/** Per-time-step uniforms: entry t holds t. */
export function stepUniform(allocator: Allocator, window: number): GPUBuffer {
  const stride = uniformStride(allocator.device) / 4;
  const data = new Uint32Array(window * stride);
  for (let t = 0; t < window; t++) data[t * stride] = t;
  return allocator.buffer('time steps', data.byteLength, GPUBufferUsage.UNIFORM, data);
}

/** 0, 1, …, count-1: the sample order of passes that take rows in order. */
export function identityOrder(allocator: Allocator, label: string, count: number): GPUBuffer {
  const data = new Uint32Array(count);
  for (let i = 0; i < count; i++) data[i] = i;
  return allocator.buffer(label, data.byteLength, GPUBufferUsage.STORAGE, data);
}

export interface LayerBuffers {
  /** (T, C, 4H) pre-activations, then activations f, i, g, o */
  gates: GPUBuffer;
  /** ((T+1) C, H) cell states, rows by params.wgsl's state_row; step 0 is the zero block */
  c: GPUBuffer;
  /** ((T+1) C, H+I+1) rows [y_prev | x | 1] by state_row: what the weight gradients multiply */
  inputs: GPUBuffer;
  /** (T, C, 4H) gate deltas */
  delta: GPUBuffer;
  /** (T, C, I) gradient at the layer's input (layers above the first only) */
  dInput: GPUBuffer | null;
}

/** Activations and scratch of passes of up to `capacity` rows; each pass packs its own B densely. */
export class Workspace {
  readonly capacity: number;
  readonly layers: LayerBuffers[];
  /** (C, H_max) running cell gradient of BPTT */
  readonly dc: GPUBuffer;
  /** (C, H_top) gradient at the top layer's last output */
  readonly dyTop: GPUBuffer;
  /** [loss, 3 unused, out (C, O), delta (C, O), partial sums (64)] */
  readonly outputs: GPUBuffer;
  /** Bound where the top layer's forward pass would write its outputs to the layer above. */
  readonly noLayerAbove: GPUBuffer;
  private readonly allocator: Allocator;

  constructor(allocator: Allocator, layout: ParamLayout, capacity: number, label: string) {
    const { window: T, outputSize: O } = layout.config;
    const C = capacity;
    this.allocator = allocator;
    this.capacity = capacity;
    this.layers = layout.layers.map(({ inputSize: I, hiddenSize: H }, l) => ({
      // Steps 0 of c and of inputs' y_prev (the zero initial state) are rows no pass writes; see
      // params.wgsl's state_row.
      gates: allocator.storage(`${label} lstm[${l}] gates (T, B, 4H)`, 4 * T * C * GATES * H),
      c: allocator.storage(`${label} lstm[${l}] c ((T+1) B, H)`, 4 * (T + 1) * C * H),
      inputs: allocator.buffer(
        `${label} lstm[${l}] inputs ((T+1) B, H+I+1)`,
        4 * (T + 1) * C * (H + I + 1),
        GPUBufferUsage.STORAGE,
        onesColumn((T + 1) * C, H + I + 1),
      ),
      delta: allocator.storage(`${label} lstm[${l}] delta (T, B, 4H)`, 4 * T * C * GATES * H),
      dInput: l === 0 ? null : allocator.storage(`${label} lstm[${l}] dInput (T, B, I)`, 4 * T * C * I),
    }));
    this.noLayerAbove = allocator.storage(`${label} no layer above`, 16);
    const maxHidden = Math.max(...layout.config.hiddenSizes);
    const topHidden = layout.dense.inputSize;
    this.dc = allocator.storage(`${label} dc (B, H)`, 4 * C * maxHidden);
    this.dyTop = allocator.storage(`${label} dyTop (B, H)`, 4 * C * topHidden);
    this.outputs = allocator.storage(
      `${label} dense outputs`,
      4 * (4 + 2 * C * O + DENSE_PARTIALS),
      GPUBufferUsage.COPY_SRC,
    );
  }

  release(): void {
    for (const layer of this.layers) {
      for (const buffer of [layer.gates, layer.c, layer.inputs, layer.delta, layer.dInput]) {
        if (buffer !== null) this.allocator.release(buffer);
      }
    }
    for (const buffer of [this.dc, this.dyTop, this.outputs, this.noLayerAbove]) this.allocator.release(buffer);
  }
}

/** Rows of `width` values, zero but for a last column of ones (the bias's input). */
function onesColumn(rows: number, width: number): Float32Array {
  const data = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) data[r * width + width - 1] = 1;
  return data;
}

/** Where a pass's rows come from: row b of minibatch s is sample order[s * B + b]. */
export interface SampleSource {
  /** (N, T, I) */
  samples: GPUBuffer;
  /** (N, O) */
  targets: GPUBuffer;
  /** sample indices */
  order: GPUBuffer;
}

/**
 * How the kernels are shaped for a kind of adapter. GPUs get the classic choices (workgroup-memory
 * tiles, wide workgroups); SwiftShader (a CPU) gets what measured fastest there: workgroup memory is
 * slower than storage, zero-initialising it and barriers cost per invocation, and starting an
 * invocation costs more than a few updates, so few long invocations win.
 */
export interface KernelTuning {
  matmulEntry: 'matmul_workgroup_tiles' | 'matmul_registers';
  /** Invocations of the persistent kernels' one workgroup, at most. */
  persistentWorkgroup: number;
  /** Invocations a workgroup of the stepwise recurrence kernels. */
  stepWorkgroup: number;
  /** Parameters one invocation of the update (and of the gradient norm) takes on. */
  updateParamsPerInvocation: number;
}

export function kernelTuning(software: boolean, maxInvocationsPerWorkgroup: number): KernelTuning {
  return software
    ? {
        matmulEntry: 'matmul_registers',
        persistentWorkgroup: 64,
        stepWorkgroup: 16,
        updateParamsPerInvocation: 64,
      }
    : {
        matmulEntry: 'matmul_workgroup_tiles',
        persistentWorkgroup: Math.min(256, maxInvocationsPerWorkgroup),
        stepWorkgroup: 64,
        updateParamsPerInvocation: 1,
      };
}

/** Buffers and pipelines every pass of one backend shares. */
export interface PassContext {
  kernels: KernelCache;
  layout: ParamLayout;
  allocator: Allocator;
  params: GPUBuffer;
  grads: GPUBuffer;
  steps: GPUBuffer;
  tuning: KernelTuning;
  maxWorkgroupsPerDimension: number;
  counters: GpuCounters;
  /** The loss of training steps, the per-epoch error and gradients(); passes follow it in useLoss(). */
  loss: LossName;
}

interface Dispatch {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  /** How many dynamic offsets: 1 the pass entry, 2 the pass entry and the time step. */
  dynamicOffsets: 1 | 2;
  /** Time step (for the step uniform's offset). */
  step: number;
  workgroups: [number, number];
  group: KernelGroup;
}

/** Consecutive dispatches of one kernel group: one compute pass when a step is profiled. */
interface GroupRun {
  group: KernelGroup;
  dispatches: Dispatch[];
}

function groupRuns(dispatches: Dispatch[]): GroupRun[] {
  const runs: GroupRun[] = [];
  for (const dispatch of dispatches) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last.group === dispatch.group) last.dispatches.push(dispatch);
    else runs.push({ group: dispatch.group, dispatches: [dispatch] });
  }
  return runs;
}

/** The dispatches of one minibatch step for one schedule (the dense layer and the update aside). */
interface StepPlan {
  forward: Dispatch[];
  backward: Dispatch[];
}

/** Items of the recurrence kernels (see lstm_forward.wgsl, lstm_backward.wgsl): 4 rows x 1 or 4 units. */
export function forwardItems(batch: number, hidden: number): number {
  return Math.ceil(batch / RECURRENCE_ROWS) * hidden;
}
function backwardItems(batch: number, hidden: number): number {
  return Math.ceil(batch / RECURRENCE_ROWS) * Math.ceil(hidden / RECURRENCE_UNITS);
}

/**
 * Whether a layer's recurrence at `batch` rows fits the persistent schedule: one workgroup, each
 * invocation with at most PERSISTENT_ITEMS items a step (beyond that one workgroup is too little).
 */
export function persistentFits(batch: number, hidden: number, tuning: KernelTuning): boolean {
  return forwardItems(batch, hidden) <= PERSISTENT_ITEMS * tuning.persistentWorkgroup;
}

export class Pass {
  readonly batch: number;
  readonly entries: number;
  readonly workspace: Workspace;
  private readonly context: PassContext;
  private readonly plans: { stepwise: StepPlan; persistent: StepPlan | null };
  /** The backward plans cut into runs of one kernel group, for profiled steps only. */
  private readonly backwardRuns: { stepwise: GroupRun[]; persistent: GroupRun[] | null };
  private dense: Record<DenseMode, Dispatch>;
  private readonly denseBindGroup: GPUBindGroup;
  private readonly offsets = new Uint32Array(2);
  private readonly stride: number;
  /** (entries) PassParams, bound with a dynamic offset per minibatch step */
  readonly uniform: GPUBuffer;

  /** A pass of `batch` rows over `entries` consecutive minibatches of `source`'s order. */
  constructor(
    context: PassContext,
    label: string,
    workspace: Workspace,
    source: SampleSource,
    batch: number,
    entries: number,
  ) {
    if (batch > workspace.capacity) throw new Error(`${label}: batch ${batch} over capacity ${workspace.capacity}`);
    this.context = context;
    this.batch = batch;
    this.entries = entries;
    this.workspace = workspace;
    this.stride = uniformStride(context.allocator.device);
    const { kernels, layout, params, grads, steps, tuning } = context;
    const uniform = passUniform(context.allocator, `${label} uniforms`, batch, entries, workspace.capacity);
    this.uniform = uniform;
    const { window: T } = layout.config;
    const top = layout.layers.length - 1;
    const matmulGrid = (rows: number, cols: number): [number, number] => [
      Math.ceil(cols / MATMUL_TILE),
      Math.ceil(rows / MATMUL_TILE),
    ];
    const grid = (groups: number): [number, number] => {
      const x = Math.min(groups, context.maxWorkgroupsPerDimension);
      return [x, Math.ceil(groups / x)];
    };
    const persistentWorkgroup = (items: number) => Math.min(tuning.persistentWorkgroup, Math.ceil(items / 32) * 32);

    const stepwise: StepPlan = { forward: [], backward: [] };
    const persistent: StepPlan = { forward: [], backward: [] };
    let anyPersistent = false;

    layout.layers.forEach((layer, l) => {
      const { inputSize: I, hiddenSize: H } = layer;
      const buffers = workspace.layers[l];
      const name = `${label} lstm[${l}]`;
      const projection: Dispatch = {
        pipeline: kernels.pipeline('input_projection', tuning.matmulEntry, {
          WINDOW: T,
          INPUT_SIZE: I,
          HIDDEN_SIZE: H,
          W_OFFSET: layer.w,
          BIAS_OFFSET: layer.b,
          GATHER_SAMPLES: l === 0 ? 1 : 0,
        }),
        bindGroup: kernels.bindGroup('input_projection', `${name} input projection`, [
          params,
          source.samples,
          source.order,
          buffers.inputs,
          buffers.gates,
          uniform,
        ]),
        dynamicOffsets: 1,
        step: 0,
        workgroups: matmulGrid(T * batch, GATES * H),
        group: 'forward',
      };
      const above = l < top ? workspace.layers[l + 1].inputs : workspace.noLayerAbove;
      const bindGroup = kernels.bindGroup('lstm_forward', `${name} forward`, [
        params,
        buffers.gates,
        buffers.c,
        buffers.inputs,
        above,
        uniform,
        steps,
      ]);
      const constants = {
        WINDOW: T,
        INPUT_SIZE: I,
        HIDDEN_SIZE: H,
        V_OFFSET: layer.v,
        ABOVE_HIDDEN_SIZE: l < top ? layout.layers[l + 1].hiddenSize : 0,
      };
      const items = forwardItems(batch, H);
      const stepPipeline = kernels.pipeline('lstm_forward', 'step_forward', {
        ...constants,
        STEP_WORKGROUP: tuning.stepWorkgroup,
      });
      const forwardSteps: Dispatch[] = [];
      for (let t = 0; t < T; t++) {
        forwardSteps.push({
          pipeline: stepPipeline,
          bindGroup,
          dynamicOffsets: 2,
          step: t,
          workgroups: grid(Math.ceil(items / tuning.stepWorkgroup)),
          group: 'forward',
        });
      }
      stepwise.forward.push(projection, ...forwardSteps);
      if (persistentFits(batch, H, tuning)) {
        anyPersistent = true;
        const pipeline = kernels.pipeline('lstm_forward', 'persistent_forward', {
          ...constants,
          PERSISTENT_WORKGROUP: persistentWorkgroup(items),
        });
        persistent.forward.push(projection, {
          pipeline,
          bindGroup,
          dynamicOffsets: 2,
          step: 0,
          workgroups: [1, 1],
          group: 'forward',
        });
      } else {
        persistent.forward.push(projection, ...forwardSteps);
      }
    });

    // Backward runs from the top layer down: BPTT, then the layer's weight gradients and, above the
    // first layer, the gradient at its input, which the layer below's BPTT reads.
    for (let l = top; l >= 0; l--) {
      const layer = layout.layers[l];
      const { inputSize: I, hiddenSize: H } = layer;
      const buffers = workspace.layers[l];
      const fromAbove = l === top ? workspace.dyTop : workspace.layers[l + 1].dInput;
      if (fromAbove === null) throw new Error('unreachable: a layer above the first has dInput');
      const name = `${label} lstm[${l}]`;
      const bindGroup = kernels.bindGroup('lstm_backward', `${name} bptt`, [
        params,
        buffers.gates,
        buffers.c,
        fromAbove,
        buffers.delta,
        workspace.dc,
        uniform,
        steps,
      ]);
      const constants = { WINDOW: T, HIDDEN_SIZE: H, V_OFFSET: layer.v, FROM_DENSE: l === top ? 1 : 0 };
      const items = backwardItems(batch, H);
      const stepPipeline = kernels.pipeline('lstm_backward', 'step_backward', {
        ...constants,
        STEP_WORKGROUP: tuning.stepWorkgroup,
      });
      const backwardSteps: Dispatch[] = [];
      for (let t = T - 1; t >= 0; t--) {
        backwardSteps.push({
          pipeline: stepPipeline,
          bindGroup,
          dynamicOffsets: 2,
          step: t,
          workgroups: grid(Math.ceil(items / tuning.stepWorkgroup)),
          group: 'backward',
        });
      }
      const gradients: Dispatch[] = [
        {
          pipeline: kernels.pipeline('weight_gradients', tuning.matmulEntry, {
            WINDOW: T,
            INPUT_SIZE: I,
            HIDDEN_SIZE: H,
            W_OFFSET: layer.w,
          }),
          bindGroup: kernels.bindGroup('weight_gradients', `${name} weight gradients`, [
            buffers.inputs,
            buffers.delta,
            grads,
            uniform,
          ]),
          dynamicOffsets: 1,
          step: 0,
          workgroups: matmulGrid(I + H + 1, GATES * H),
          group: 'weightGradients',
        },
      ];
      if (buffers.dInput !== null) {
        gradients.push({
          pipeline: kernels.pipeline('input_gradients', tuning.matmulEntry, {
            WINDOW: T,
            INPUT_SIZE: I,
            HIDDEN_SIZE: H,
            W_OFFSET: layer.w,
          }),
          bindGroup: kernels.bindGroup('input_gradients', `${name} input gradients`, [
            params,
            buffers.delta,
            buffers.dInput,
            uniform,
          ]),
          dynamicOffsets: 1,
          step: 0,
          workgroups: matmulGrid(T * batch, I),
          group: 'backward',
        });
      }
      stepwise.backward.push(...backwardSteps, ...gradients);
      if (persistentFits(batch, H, tuning)) {
        anyPersistent = true;
        const pipeline = kernels.pipeline('lstm_backward', 'persistent_backward', {
          ...constants,
          PERSISTENT_WORKGROUP: persistentWorkgroup(items),
        });
        persistent.backward.push(
          { pipeline, bindGroup, dynamicOffsets: 2, step: 0, workgroups: [1, 1], group: 'backward' },
          ...gradients,
        );
      } else {
        persistent.backward.push(...backwardSteps, ...gradients);
      }
    }
    this.plans = { stepwise, persistent: anyPersistent ? persistent : null };
    this.backwardRuns = {
      stepwise: groupRuns(stepwise.backward),
      persistent: anyPersistent ? groupRuns(persistent.backward) : null,
    };

    this.denseBindGroup = kernels.bindGroup('dense', `${label} dense`, [
      params,
      workspace.layers[top].inputs,
      source.targets,
      source.order,
      workspace.outputs,
      workspace.dyTop,
      grads,
      uniform,
    ]);
    this.dense = this.denseDispatches(context.loss);
  }

  /** Makes the dense layer compute `loss` (its pipelines are built here, not while training). */
  useLoss(loss: LossName): void {
    this.dense = this.denseDispatches(loss);
  }

  private denseDispatches(loss: LossName): Record<DenseMode, Dispatch> {
    const { kernels, layout } = this.context;
    const { dense } = layout;
    const top = layout.layers.length - 1;
    const dispatch = (mode: DenseMode): Dispatch => ({
      pipeline: kernels.pipeline('dense', 'main', {
        WITH_LOSS: mode === 'evaluate' || mode === 'gradients' ? 1 : 0,
        WITH_GRADIENTS: mode === 'train' || mode === 'gradients' ? 1 : 0,
        MEAN_LOSS: loss === 'mse' ? 1 : 0,
        WINDOW: layout.config.window,
        HIDDEN_SIZE: dense.inputSize,
        OUTPUT_SIZE: dense.outputSize,
        DENSE_W_OFFSET: dense.w,
        DENSE_B_OFFSET: dense.b,
        TOP_ROW: dense.inputSize + layout.layers[top].inputSize + 1,
      }),
      bindGroup: this.denseBindGroup,
      dynamicOffsets: 1,
      step: 0,
      workgroups: [1, 1],
      // One kernel computes the outputs, the loss and the loss's gradients: timed with the forward.
      group: 'forward',
    });
    return {
      predict: dispatch('predict'),
      evaluate: dispatch('evaluate'),
      train: dispatch('train'),
      gradients: dispatch('gradients'),
    };
  }

  /** Frees the pass's own buffer (the workspace and source belong to the caller). */
  release(): void {
    this.context.allocator.release(this.uniform);
  }

  /** Whether the persistent schedule applies to this pass (to at least one layer). */
  hasPersistent(): boolean {
    return this.plans.persistent !== null;
  }

  private plan(schedule: Schedule): StepPlan {
    return (schedule === 'persistent' ? this.plans.persistent : null) ?? this.plans.stepwise;
  }

  /** Dispatches of one training step on this pass before the update: forward, dense, backward. */
  modelDispatchesPerStep(schedule: Schedule): number {
    const plan = this.plan(schedule);
    return plan.forward.length + 1 + plan.backward.length;
  }

  /** Forward through every layer and the dense layer for minibatch `entry`. */
  encodeForward(compute: GPUComputePassEncoder, entry: number, schedule: Schedule, mode: DenseMode): void {
    for (const dispatch of this.plan(schedule).forward) this.encode(compute, dispatch, entry);
    this.encode(compute, this.dense[mode], entry);
  }

  /** BPTT and the gradients of every layer for minibatch `entry` (after encodeForward in a gradient mode). */
  encodeBackward(compute: GPUComputePassEncoder, entry: number, schedule: Schedule): void {
    for (const dispatch of this.plan(schedule).backward) this.encode(compute, dispatch, entry);
  }

  /** The kernel groups of the compute passes encodeProfiledStep opens, in order. */
  profiledGroups(schedule: Schedule): KernelGroup[] {
    return ['forward', ...this.runs(schedule).map((run) => run.group)];
  }

  /**
   * The same dispatches as encodeForward(…, 'train') and encodeBackward, in the same order, but one
   * compute pass per run of a kernel group, pass k opened with `passes[first + k]` (which carries its
   * timestamp writes). Only for profiling: the epoch's single pass stays as it is. Returns the index
   * of the next descriptor.
   */
  encodeProfiledStep(
    encoder: GPUCommandEncoder,
    entry: number,
    schedule: Schedule,
    passes: readonly GPUComputePassDescriptor[],
    first: number,
  ): number {
    let next = first;
    const forward = encoder.beginComputePass(passes[next++]);
    this.encodeForward(forward, entry, schedule, 'train');
    forward.end();
    for (const run of this.runs(schedule)) {
      const compute = encoder.beginComputePass(passes[next++]);
      for (const dispatch of run.dispatches) this.encode(compute, dispatch, entry);
      compute.end();
    }
    return next;
  }

  private runs(schedule: Schedule): GroupRun[] {
    return (schedule === 'persistent' ? this.backwardRuns.persistent : null) ?? this.backwardRuns.stepwise;
  }

  private encode(compute: GPUComputePassEncoder, dispatch: Dispatch, entry: number): void {
    this.offsets[0] = entry * this.stride;
    this.offsets[1] = dispatch.step * this.stride;
    compute.setPipeline(dispatch.pipeline);
    compute.setBindGroup(0, dispatch.bindGroup, this.offsets, 0, dispatch.dynamicOffsets);
    compute.dispatchWorkgroups(dispatch.workgroups[0], dispatch.workgroups[1]);
    this.context.counters.dispatches++;
  }
}

/** What the update reads and writes besides the parameters and gradients. */
export interface UpdateBuffers {
  /** (P) momentum's velocity or Adam's m; (P) Adam's v; 16 bytes where the optimiser has no such state */
  firstState: GPUBuffer;
  secondState: GPUBuffer;
  /** (MAX_NORM_PARTIALS) the gradient norm's partial sums */
  gradSquares: GPUBuffer;
  /** (S, 2) Adam's bias corrections of the epoch's steps */
  corrections: GPUBuffer;
  /** EpochParams: the learning rate */
  epoch: GPUBuffer;
}

/**
 * The optimiser after each minibatch step: one dispatch over every parameter (optimizer_update.wgsl),
 * after one more for the gradient norm when clipping (gradient_norm.wgsl). Bound to a training pass,
 * whose per-step uniform says which step's Adam corrections apply.
 */
export class OptimizerUpdate {
  /** Dispatches a step: 1, or 2 with clipping. */
  readonly dispatches: number;
  private readonly update: { pipeline: GPUComputePipeline; bindGroup: GPUBindGroup; workgroups: [number, number] };
  private readonly norm: { pipeline: GPUComputePipeline; bindGroup: GPUBindGroup; workgroups: number } | null;
  private readonly counters: GpuCounters;
  private readonly stride: number;
  private readonly offsets = new Uint32Array(1);

  constructor(context: PassContext, settings: OptimizerSettings, buffers: UpdateBuffers, pass: Pass) {
    const { kernels, layout, params, grads, tuning, maxWorkgroupsPerDimension } = context;
    const P = layout.size;
    this.counters = context.counters;
    this.stride = uniformStride(context.allocator.device);
    const perWorkgroup = UPDATE_WORKGROUP * tuning.updateParamsPerInvocation;
    const clip = settings.clipNorm !== null;
    const partials = Math.min(MAX_NORM_PARTIALS, Math.ceil(P / perWorkgroup));
    this.norm = clip
      ? {
          pipeline: kernels.pipeline('gradient_norm', 'main', { PARAM_COUNT: P }),
          bindGroup: kernels.bindGroup('gradient_norm', 'gradient norm', [grads, buffers.gradSquares]),
          workgroups: partials,
        }
      : null;
    const constants: Record<string, number> = { PARAM_COUNT: P, CLIP: clip ? 1 : 0 };
    if (settings.clipNorm !== null) {
      constants.CLIP_NORM = settings.clipNorm;
      constants.NORM_PARTIALS = partials;
    }
    if (settings.name === 'momentum') constants.MOMENTUM = settings.momentum;
    if (settings.name === 'adam') {
      // The complements in double precision, as the CPU backend passes them.
      Object.assign(constants, {
        BETA1: settings.beta1,
        ONE_MINUS_BETA1: 1 - settings.beta1,
        BETA2: settings.beta2,
        ONE_MINUS_BETA2: 1 - settings.beta2,
        EPSILON: settings.epsilon,
      });
    }
    const groups = Math.ceil(P / perWorkgroup);
    const x = Math.min(groups, maxWorkgroupsPerDimension);
    this.update = {
      pipeline: kernels.pipeline('optimizer_update', settings.name, constants),
      bindGroup: kernels.bindGroup('optimizer_update', `${settings.name} update`, [
        params,
        grads,
        buffers.firstState,
        buffers.secondState,
        buffers.gradSquares,
        buffers.corrections,
        buffers.epoch,
        pass.uniform,
      ]),
      workgroups: [x, Math.ceil(groups / x)],
    };
    this.dispatches = clip ? 2 : 1;
  }

  /** The update after minibatch step `entry` of the pass. */
  encode(compute: GPUComputePassEncoder, entry: number): void {
    if (this.norm !== null) {
      compute.setPipeline(this.norm.pipeline);
      compute.setBindGroup(0, this.norm.bindGroup);
      compute.dispatchWorkgroups(this.norm.workgroups);
      this.counters.dispatches++;
    }
    this.offsets[0] = entry * this.stride;
    compute.setPipeline(this.update.pipeline);
    compute.setBindGroup(0, this.update.bindGroup, this.offsets, 0, 1);
    compute.dispatchWorkgroups(this.update.workgroups[0], this.update.workgroups[1]);
    this.counters.dispatches++;
  }
}
