// Dispatch plans: the list of dispatches (pipeline, bind group, grid, FLOPs) of a forward and a
// backward pass of the model over one workspace and sample source, for batches of one size, built once
// per variant (a schedule under a kernel tuning, tuning.ts) before training. Encoding a minibatch step
// is a walk over those lists with dynamic uniform offsets (which minibatch, which time step): no
// buffer, bind group or pipeline is made while training. Every dispatch runs all K members: its grid
// is a member's, repeated K times in z (shaders/params.wgsl).
//
// Legend: K = members, C = capacity (rows), B = batch of a plan, T = window, I = layer input size,
//         H = hidden size, G = 4H, O = outputSize, P = parameter count, E = entries (minibatches) of a
//         plan.

import { GATES, type ParamLayout } from '../../model/layout.js';
import type { GpuCounters, KernelTimes } from '../backend.js';
import { type Allocator, uniformStride } from './allocator.js';
import type { GpuLimits } from './context.js';
import {
  type FusedMode,
  type FusedPlan,
  fusedAdmission,
  fusedGradientsConstants,
  fusedRowsConstants,
  gradientWorkgroups,
} from './fusedStep.js';
import type { Bindings, KernelName } from './kernels.js';
import type { PipelineCache, PipelineRef } from './pipelines.js';
import {
  backwardTile,
  forwardTile,
  type RecurrenceTile,
  type TransposePlan,
  tileConstants,
} from './recurrenceTiling.js';
import {
  admitsPersistent,
  backwardItems,
  forwardItems,
  type KernelTuning,
  MATMUL_TILE,
  persistentWorkgroup,
  type TuningName,
  type Variant,
  variantName,
} from './tuning.js';
import type { GpuWorkspace, SampleSource } from './workspace.js';

/** A pass through the recurrence: forward in time, or backward through it (BPTT). */
type Direction = 'forward' | 'backward';

/** A kernel file and the entry point a pipeline runs. */
interface KernelEntry {
  kernel: KernelName;
  entry: string;
}

/**
 * What the two directions of a layer's recurrence differ in, arm by arm: the kernel and entry point
 * of the persistent, tiled and stepwise arms, the work items a step has, and the tile it is cut into.
 */
interface RecurrenceKernels {
  persistent: KernelEntry;
  tiled: KernelEntry;
  step: KernelEntry;
  items(batch: number, hidden: number): number;
  tile(batch: number, hidden: number, limits: GpuLimits): RecurrenceTile;
}

const RECURRENCE: Record<Direction, RecurrenceKernels> = {
  forward: {
    persistent: { kernel: 'lstm_forward', entry: 'persistent_forward' },
    tiled: { kernel: 'lstm_forward_tiled', entry: 'tiled_forward' },
    step: { kernel: 'lstm_forward', entry: 'step_forward' },
    items: forwardItems,
    tile: forwardTile,
  },
  backward: {
    persistent: { kernel: 'lstm_backward', entry: 'persistent_backward' },
    tiled: { kernel: 'lstm_backward_tiled', entry: 'tiled_backward' },
    step: { kernel: 'lstm_backward', entry: 'step_backward' },
    items: backwardItems,
    tile: backwardTile,
  },
};

/** What a dispatch counts toward when a step is profiled (see KernelTimes). */
export type KernelGroup = keyof KernelTimes;
/** What the dense kernel computes: outputs; + the loss; + the gradients; both. */
export type DenseMode = 'predict' | 'evaluate' | 'train' | 'gradients';
/** The dense kernel in a plan's modes, or seeding a probe's backward with one-hot output gradients. */
type DenseKernelMode = DenseMode | 'seed';

/** Buffers and pipelines every plan of one backend shares. */
export interface PlanContext {
  pipelines: PipelineCache;
  layout: ParamLayout;
  allocator: Allocator;
  /** K: the grid's z of every dispatch. */
  members: number;
  /** (K, P) */
  params: GPUBuffer;
  /** (K, P) */
  grads: GPUBuffer;
  /** (T) StepParams, entry t holds t */
  steps: GPUBuffer;
  /** Each tuning's kernels and shapes. */
  tunings: Record<TuningName, KernelTuning>;
  limits: GpuLimits;
  /** FLOPs one dispatch may hold where work can be cut (tuning.ts's MAX_DISPATCH_FLOPS by default). */
  maxDispatchFlops: number;
  /** (K, Σ 4H²) Vᵀ of every layer, its layer table (L, 4) and grid: the coalesced backward reads it. */
  transposed: { buffer: GPUBuffer; layers: GPUBuffer; plan: TransposePlan };
  counters: GpuCounters;
}

export interface Dispatch {
  /** Compiled at the dispatch's first encoding, or when its plan is prepared. */
  pipeline: PipelineRef;
  bindGroup: GPUBindGroup;
  /** How many dynamic offsets: none, 1 the plan's entry, 2 the entry and the time step. */
  dynamicOffsets: 0 | 1 | 2;
  /** Time step (for the step uniform's offset). */
  step: number;
  /** A member's grid (x, y); z is the member. */
  workgroups: [number, number];
  group: KernelGroup;
  /** A member's share of src/model/flops.ts's count (K of them make what an epoch's slices are budgeted by). */
  flops: number;
}

/**
 * Where dispatches are recorded: the compute pass for the next dispatch of `flops` FLOPs. A single
 * pass (fixedPass), or an epoch that opens a new pass in a new command buffer when a slice is full
 * (submission.ts's SliceRecorder).
 */
export interface DispatchTarget {
  pass(flops: number): GPUComputePassEncoder;
}

/** Every dispatch into one compute pass. */
export function fixedPass(compute: GPUComputePassEncoder): DispatchTarget {
  return { pass: () => compute };
}

/**
 * A plan that is one chunk of an error computed in several passes: its entries start at row
 * `firstRow` of the order and at entry index `firstEntry`; their losses add up (dense.wgsl).
 */
export interface ErrorChunk {
  firstRow: number;
  firstEntry: number;
}

/**
 * Rows a chunk of the error over `count` windows takes: all of them unless its largest dispatch (an
 * input projection or a step of the recurrence) would exceed `maxFlops` for one member, so that an
 * epoch's slices can be cut finely there too (and a member's chunks are the same whatever K).
 */
export function errorChunkRows(layout: ParamLayout, count: number, maxFlops: number): number {
  const T = layout.config.window;
  const perRow = Math.max(
    ...layout.layers.map(({ inputSize: I, hiddenSize: H }) => 2 * GATES * H * Math.max(T * I, H)),
  );
  return Math.max(1, Math.min(count, Math.floor(maxFlops / perRow)));
}

/** Per-time-step uniforms (StepParams): entry t holds t. */
export function stepUniform(allocator: Allocator, window: number): GPUBuffer {
  return allocator.uniformEntries('time steps', window, (t) => [t, 0, 0, 0]);
}

/** Each layer's products under one tuning (a layer without dInput has no input gradients). */
interface LayerProducts {
  forward: Dispatch[][];
  weightGradients: Dispatch[][];
  inputGradients: Dispatch[][];
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

/** The dispatches of one minibatch step for one variant. */
interface StepPlan {
  /** What runs: the variant asked for, or stepwise under its tuning where this pass does not admit it. */
  variant: Variant;
  /** Each layer's forward, before the dense layer (none on the fused schedule). */
  layers: Dispatch[];
  /** What follows the layers in each mode: the dense layer, or the fused kernels. */
  modes: Record<DenseMode, Dispatch[]>;
  /** BPTT and the gradients (after the forward in a gradient mode). */
  backward: Dispatch[];
  /** The backward dispatches cut into runs of one kernel group, for profiled steps only. */
  backwardRuns: GroupRun[];
  /** The fused rows kernel's plan, on the fused schedule. */
  fused: FusedPlan | null;
}

const DENSE_MODES: readonly DenseMode[] = ['predict', 'evaluate', 'train', 'gradients'];

/** What a fused pass sums besides its rows, per mode ('train' and 'gradients' alike: the loss costs one item). */
function fusedMode(mode: DenseMode): FusedMode {
  return { withLoss: mode !== 'predict', withGradients: mode === 'train' || mode === 'gradients' };
}

export class DispatchPlan {
  readonly batch: number;
  readonly entries: number;
  readonly workspace: GpuWorkspace;
  /** (E) PassParams, bound with a dynamic offset per minibatch step */
  readonly uniform: GPUBuffer;
  private readonly context: PlanContext;
  private readonly label: string;
  private readonly source: SampleSource;
  private readonly chunk: ErrorChunk | null;
  private readonly stride: number;
  private readonly offsets = new Uint32Array(2);
  private readonly denseBindGroup: GPUBindGroup;
  /** The forward and backward recurrence's bind groups of each layer (every variant's kernels share them). */
  private readonly recurrenceBindGroups: { forward: GPUBindGroup; backward: GPUBindGroup }[];
  /** The products of each tuning (shared by its schedules). */
  private readonly products = new Map<TuningName, LayerProducts>();
  /** Step plans by variant name, built on first use (prepare() builds them before training). */
  private readonly stepPlans = new Map<string, StepPlan>();
  /** A probe's backward by variant name, built on first use (probe workspaces only). */
  private readonly probeBackwards = new Map<string, Dispatch[]>();

  /** A plan of `batch` rows over `entries` consecutive minibatches of `source`'s order. */
  constructor(
    context: PlanContext,
    label: string,
    workspace: GpuWorkspace,
    source: SampleSource,
    batch: number,
    entries: number,
    chunk: ErrorChunk | null = null,
  ) {
    if (batch > workspace.capacity) throw new Error(`${label}: batch ${batch} over capacity ${workspace.capacity}`);
    this.context = context;
    this.label = label;
    this.source = source;
    this.chunk = chunk;
    this.batch = batch;
    this.entries = entries;
    this.workspace = workspace;
    this.stride = uniformStride(context.allocator.device);
    const { pipelines, layout, params, grads, steps: step } = context;
    // Entry s: batch B, rows from order[s * B], capacity C, entry s (offset by a chunk's first ones).
    const firstRow = chunk?.firstRow ?? 0;
    const firstEntry = chunk?.firstEntry ?? 0;
    const batchPass = context.allocator.uniformEntries(`${label} uniforms`, entries, (s) => [
      batch,
      firstRow + s * batch,
      workspace.capacity,
      firstEntry + s,
    ]);
    this.uniform = batchPass;
    const top = layout.layers.length - 1;
    this.recurrenceBindGroups = layout.layers.map((_, l) => {
      const { gates, c, inputs, delta } = workspace.layers[l];
      const above = l < top ? workspace.layers[l + 1].inputs : workspace.noLayerAbove;
      const dyAbove = l === top ? workspace.dyTop : workspace.layers[l + 1].dInput;
      if (dyAbove === null) throw new Error('unreachable: a layer above the first has dInput');
      const name = `${label} lstm[${l}]`;
      return {
        forward: pipelines.bindGroup('lstm_forward', `${name} forward`, {
          params,
          gates,
          c,
          inputs,
          above,
          batchPass,
          step,
        }),
        backward: pipelines.bindGroup('lstm_backward', `${name} bptt`, {
          params,
          gates,
          c,
          dyAbove,
          delta,
          dc: workspace.dc,
          batchPass,
          step,
        }),
      };
    });
    this.denseBindGroup = pipelines.bindGroup('dense', `${label} dense`, {
      params,
      yTop: workspace.layers[top].inputs,
      targets: source.targets,
      order: source.order,
      outputs: workspace.outputs,
      dyTop: workspace.dyTop,
      grads,
      batchPass,
    });
  }

  /**
   * Builds the step plans of `variants` and compiles, now rather than at their first use, the
   * pipelines of the `modes` this plan runs: the layers, those modes' dense (or fused) dispatches, and
   * the backward where a mode has one. A mode not named compiles at its first use.
   */
  prepare(variants: readonly Variant[], modes: readonly DenseMode[]): void {
    const backward = modes.includes('train') || modes.includes('gradients');
    for (const variant of variants) {
      const plan = this.stepPlan(variant);
      const dispatches = [
        ...plan.layers,
        ...modes.flatMap((mode) => plan.modes[mode]),
        ...(backward ? plan.backward : []),
      ];
      for (const dispatch of dispatches) dispatch.pipeline.get();
    }
  }

  /** What runs when `variant` is asked for: itself, or stepwise under its tuning where this pass does not admit it. */
  effective(variant: Variant): Variant {
    return this.stepPlan(variant).variant;
  }

  /** Frees the plan's own buffer (the workspace and source belong to the caller). */
  release(): void {
    this.context.allocator.release(this.uniform);
  }

  /** Dispatches of one training step before the update: forward, dense, backward. */
  modelDispatchesPerStep(variant: Variant): number {
    const plan = this.stepPlan(variant);
    return plan.layers.length + plan.modes.train.length + plan.backward.length;
  }

  /** Forward through every layer and the dense layer for minibatch `entry`. */
  encodeForward(target: DispatchTarget, entry: number, variant: Variant, mode: DenseMode): void {
    const plan = this.stepPlan(variant);
    for (const dispatch of plan.layers) this.encode(this.passFor(target, dispatch), dispatch, entry);
    for (const dispatch of plan.modes[mode]) this.encode(this.passFor(target, dispatch), dispatch, entry);
  }

  /** BPTT and the gradients of every layer for minibatch `entry` (after encodeForward in a gradient mode). */
  encodeBackward(target: DispatchTarget, entry: number, variant: Variant): void {
    for (const dispatch of this.stepPlan(variant).backward)
      this.encode(this.passFor(target, dispatch), dispatch, entry);
  }

  /**
   * A probe's backward for entry `entry`, after encodeForward(…, 'predict') (probePass.ts): the dense
   * layer seeded with a one-hot output gradient per row, then each layer's BPTT and the gradient at its
   * input, top down, by the kernels training runs under `variant`'s tuning (persistent where admitted,
   * unless the variant is stepwise). No weight gradients: `grads` is untouched. The workspace must be
   * a probe's (a dInput at the first layer).
   */
  encodeProbeBackward(target: DispatchTarget, entry: number, variant: Variant): void {
    const key = variantName(variant);
    let dispatches = this.probeBackwards.get(key);
    if (dispatches === undefined) {
      dispatches = this.buildProbeBackward(variant);
      this.probeBackwards.set(key, dispatches);
    }
    for (const dispatch of dispatches) this.encode(this.passFor(target, dispatch), dispatch, entry);
  }

  /** The kernel groups of the compute passes encodeProfiledStep opens, in order. */
  profiledGroups(variant: Variant): KernelGroup[] {
    return ['forward', ...this.stepPlan(variant).backwardRuns.map((run) => run.group)];
  }

  /**
   * The same dispatches as encodeForward(…, 'train') and encodeBackward, in the same order, but one
   * compute pass per run of a kernel group, pass k opened with `passes[first + k]` (which carries its
   * timestamp writes). Only for profiling. Returns the index of the next descriptor.
   */
  encodeProfiledStep(
    encoder: GPUCommandEncoder,
    entry: number,
    variant: Variant,
    passes: readonly GPUComputePassDescriptor[],
    first: number,
  ): number {
    let next = first;
    const forward = encoder.beginComputePass(passes[next++]);
    this.encodeForward(fixedPass(forward), entry, variant, 'train');
    forward.end();
    for (const run of this.stepPlan(variant).backwardRuns) {
      const compute = encoder.beginComputePass(passes[next++]);
      for (const dispatch of run.dispatches) this.encode(compute, dispatch, entry);
      compute.end();
    }
    return next;
  }

  /** The pass for `dispatch`: its FLOPs are K members'. */
  private passFor(target: DispatchTarget, dispatch: Dispatch): GPUComputePassEncoder {
    return target.pass(this.context.members * dispatch.flops);
  }

  private encode(compute: GPUComputePassEncoder, dispatch: Dispatch, entry: number): void {
    this.offsets[0] = entry * this.stride;
    this.offsets[1] = dispatch.step * this.stride;
    compute.setPipeline(dispatch.pipeline.get());
    compute.setBindGroup(0, dispatch.bindGroup, this.offsets, 0, dispatch.dynamicOffsets);
    compute.dispatchWorkgroups(dispatch.workgroups[0], dispatch.workgroups[1], this.context.members);
    this.context.counters.dispatches++;
  }

  private stepPlan(variant: Variant): StepPlan {
    const key = variantName(variant);
    let plan = this.stepPlans.get(key);
    if (plan === undefined) {
      plan = this.buildStepPlan(variant);
      this.stepPlans.set(key, plan);
    }
    return plan;
  }

  private buildStepPlan(variant: Variant): StepPlan {
    const tuning = this.context.tunings[variant.tuning];
    const fused = variant.schedule === 'fused' ? this.fusedPlan(tuning) : null;
    if (fused !== null) {
      const backward = this.fusedBackward(fused);
      return {
        variant,
        layers: [],
        modes: this.modeDispatches(fused),
        backward,
        backwardRuns: groupRuns(backward),
        fused,
      };
    }
    return this.layeredPlan(variant.schedule === 'persistent', tuning);
  }

  /** The fused schedule's backward: the sums over the rows (the rows' BPTT ran in the forward's dispatch). */
  private fusedBackward(fused: FusedPlan): Dispatch[] {
    return [this.fusedSums(fused, fusedMode('train'), 'weightGradients')];
  }

  /** The fused kernels' plan for this pass under `tuning`, or null where it does not admit them. */
  private fusedPlan(tuning: KernelTuning): FusedPlan | null {
    // A chunk of a larger error adds its loss to the member's (dense.wgsl); the fused sums do not.
    if (this.chunk !== null) return null;
    const { layout, limits } = this.context;
    const admission = fusedAdmission(layout, this.batch, limits, {
      onChip: tuning.fusedOnChip,
      maxWorkgroup: tuning.fusedWorkgroup,
      units: tuning.fusedUnits,
      paired: !tuning.fusedOnChip && this.context.members >= tuning.fusedPairedMembers,
      warp: tuning.fusedWarp,
      gradientRows: tuning.fusedGradientRows,
      gradientWorkgroup: tuning.fusedGradientWorkgroup,
    });
    if (!admission.admitted || admission.plan.rowGroups > limits.maxComputeWorkgroupsPerDimension) return null;
    return admission.plan;
  }

  /** The dispatches after the layers' forward, per mode: the dense layer, or the fused kernels. */
  private modeDispatches(fused: FusedPlan | null): Record<DenseMode, Dispatch[]> {
    const modes = {} as Record<DenseMode, Dispatch[]>;
    for (const mode of DENSE_MODES) {
      if (fused === null) {
        modes[mode] = [this.denseDispatch(mode)];
        continue;
      }
      const kind = fusedMode(mode);
      const rows = this.fusedRows(fused, kind);
      // Training and gradients() sum in the backward; an evaluation sums its loss here.
      modes[mode] = mode === 'evaluate' ? [rows, this.fusedSums(fused, kind, 'forward')] : [rows];
    }
    return modes;
  }

  private denseDispatch(mode: DenseKernelMode): Dispatch {
    const { pipelines, layout } = this.context;
    const { dense } = layout;
    const top = layout.layers.length - 1;
    return {
      pipeline: pipelines.later('dense', 'main', {
        WITH_LOSS: mode === 'evaluate' || mode === 'gradients' ? 1 : 0,
        WITH_GRADIENTS: mode === 'train' || mode === 'gradients' ? 1 : 0,
        ...(mode === 'seed' ? { SEED_OUTPUTS: 1 } : {}),
        WINDOW: layout.config.window,
        PARAM_COUNT: layout.size,
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
      flops: 6 * this.batch * dense.inputSize * dense.outputSize,
    };
  }

  /** lstm_fused_rows.wgsl over the pass's rows: a workgroup per row group (its BPTT timed with the forward). */
  private fusedRows(fused: FusedPlan, mode: FusedMode): Dispatch {
    const { pipelines, layout, params } = this.context;
    const [{ inputSize: I, hiddenSize: H }] = layout.layers;
    const { window: T, outputSize: O } = layout.config;
    const buffers = this.workspace.layers[0];
    const perRow = 2 * T * (I + H) * GATES * H + 2 * H * O + (mode.withGradients ? 2 * T * H * GATES * H : 0);
    return {
      pipeline: pipelines.later('lstm_fused_rows', 'fused_rows', fusedRowsConstants(layout, fused, mode)),
      bindGroup: pipelines.bindGroup('lstm_fused_rows', `${this.label} fused rows`, {
        params,
        samples: this.source.samples,
        order: this.source.order,
        targets: this.source.targets,
        gates: buffers.gates,
        c: buffers.c,
        inputs: buffers.inputs,
        outputs: this.workspace.outputs,
        batchPass: this.uniform,
      }),
      dynamicOffsets: 1,
      step: 0,
      workgroups: [fused.rowGroups, 1],
      group: 'forward',
      flops: this.batch * perRow,
    };
  }

  /** lstm_fused_gradients.wgsl: the sums over the rows (weight and dense gradients, the loss). */
  private fusedSums(fused: FusedPlan, mode: FusedMode, group: KernelGroup): Dispatch {
    const { pipelines, layout, grads, limits } = this.context;
    const [{ inputSize: I, hiddenSize: H }] = layout.layers;
    const { window: T, outputSize: O } = layout.config;
    const constants = fusedGradientsConstants(layout, fused, mode);
    if (constants === null) throw new Error('unreachable: a fused pass that sums nothing');
    const buffers = this.workspace.layers[0];
    return {
      pipeline: pipelines.later('lstm_fused_gradients', 'fused_gradients', constants),
      bindGroup: pipelines.bindGroup(
        'lstm_fused_gradients',
        `${this.label} fused sums (${fused.rowGroups} row groups)`,
        {
          inputs: buffers.inputs,
          gates: buffers.gates,
          outputs: this.workspace.outputs,
          grads,
          batchPass: this.uniform,
        },
      ),
      dynamicOffsets: 1,
      step: 0,
      workgroups: gradientWorkgroups(layout, fused, mode, limits.maxComputeWorkgroupsPerDimension),
      group,
      flops: mode.withGradients
        ? 2 * T * this.batch * (I + H + 1) * GATES * H + 2 * this.batch * H * O
        : this.batch * O,
    };
  }

  /**
   * The stepwise schedule under `tuning`, or (`persistent`) the persistent one for every layer whose
   * recurrence admits it at this batch (admitsPersistent), the others stepwise.
   */
  private layeredPlan(persistent: boolean, tuning: KernelTuning): StepPlan {
    const top = this.context.layout.layers.length - 1;
    const products = this.productsOf(tuning);
    const layers: Dispatch[] = [];
    const backward: Dispatch[] = [];
    let anyPersistent = false;
    let anyCoalesced = false;
    for (let l = 0; l <= top; l++) {
      const recurrence = this.recurrence('forward', l, persistent, tuning);
      layers.push(...products.forward[l], ...recurrence.dispatches);
      anyPersistent ||= recurrence.persistent;
    }
    // Backward runs from the top layer down: BPTT, then the layer's weight gradients and, above the
    // first layer, the gradient at its input, which the layer below's BPTT reads.
    for (let l = top; l >= 0; l--) {
      const recurrence = this.recurrence('backward', l, persistent, tuning);
      backward.push(...recurrence.dispatches, ...products.weightGradients[l]);
      if (l > 0) backward.push(...products.inputGradients[l]);
      anyPersistent ||= recurrence.persistent;
      anyCoalesced ||= recurrence.coalesced;
    }
    // Vᵀ is refreshed where it is read, first in every backward pass that reads it: no change of the
    // parameters (an update, setParams, a restore) can leave it stale.
    if (anyCoalesced) backward.unshift(this.transposeDispatch(tuning));
    return {
      variant: { schedule: anyPersistent ? 'persistent' : 'stepwise', tuning: tuning.name },
      layers,
      modes: this.modeDispatches(null),
      backward,
      backwardRuns: groupRuns(backward),
      fused: null,
    };
  }

  private buildProbeBackward(variant: Variant): Dispatch[] {
    const tuning = this.context.tunings[variant.tuning];
    const products = this.productsOf(tuning);
    const dispatches = [this.denseDispatch('seed')];
    let anyCoalesced = false;
    for (let l = this.context.layout.layers.length - 1; l >= 0; l--) {
      const inputGradients = products.inputGradients[l];
      if (inputGradients.length === 0) throw new Error(`${this.label}: a probe's backward needs dInput at layer ${l}`);
      const recurrence = this.recurrence('backward', l, variant.schedule !== 'stepwise', tuning);
      dispatches.push(...recurrence.dispatches, ...inputGradients);
      anyCoalesced ||= recurrence.coalesced;
    }
    if (anyCoalesced) dispatches.unshift(this.transposeDispatch(tuning));
    return dispatches;
  }

  /**
   * Layer l's recurrence in one direction: one persistent dispatch that walks the T steps (where asked
   * for and admitted; the backward's coalesced variant reads Vᵀ), else one dispatch a step, tiled or
   * an item a thread. Both directions take the same arms; RECURRENCE says what differs.
   */
  private recurrence(
    direction: Direction,
    l: number,
    persistent: boolean,
    tuning: KernelTuning,
  ): { dispatches: Dispatch[]; persistent: boolean; coalesced: boolean } {
    const { layout, limits, pipelines, transposed } = this.context;
    const { window: T } = layout.config;
    const B = this.batch;
    const top = layout.layers.length - 1;
    const layer = layout.layers[l];
    const H = layer.hiddenSize;
    const kernels = RECURRENCE[direction];
    const flops = 2 * B * H * GATES * H;
    const shape = { WINDOW: T, PARAM_COUNT: layout.size, HIDDEN_SIZE: H, V_OFFSET: layer.v };
    const constants: Record<string, number> =
      direction === 'forward'
        ? {
            ...shape,
            INPUT_SIZE: layer.inputSize,
            ABOVE_HIDDEN_SIZE: l < top ? layout.layers[l + 1].hiddenSize : 0,
          }
        : { ...shape, FROM_DENSE: l === top ? 1 : 0 };
    const bindGroup = this.recurrenceBindGroups[l][direction];
    const base = { bindGroup, dynamicOffsets: 2 as const, group: direction, flops };
    if (persistent && admitsPersistent(B, H, T, tuning)) {
      const whole = { ...base, step: 0, workgroups: [1, 1] as [number, number], flops: T * flops };
      if (direction === 'backward' && tuning.persistentBackward === 'coalesced') {
        const pipeline = pipelines.later('lstm_backward_coalesced', 'persistent_backward_coalesced', {
          ...constants,
          TRANSPOSED_OFFSET: transposed.plan.transposedOffsets[l],
          TRANSPOSED_SIZE: transposed.plan.transposedSize,
          PERSISTENT_WORKGROUP: persistentWorkgroup(forwardItems(B, H), tuning),
        });
        const dispatch = { ...whole, pipeline, bindGroup: this.coalescedBindGroup(l) };
        return { dispatches: [dispatch], persistent: true, coalesced: true };
      }
      const { kernel, entry } = kernels.persistent;
      const pipeline = pipelines.later(kernel, entry, {
        ...constants,
        PERSISTENT_WORKGROUP: persistentWorkgroup(kernels.items(B, H), tuning),
      });
      return { dispatches: [{ ...whole, pipeline }], persistent: true, coalesced: false };
    }
    let pipeline: PipelineRef;
    let workgroups: [number, number];
    if (tuning.stepKernels === 'tiled') {
      const tile = kernels.tile(B, H, limits);
      pipeline = pipelines.later(kernels.tiled.kernel, kernels.tiled.entry, {
        ...constants,
        ...tileConstants(tile),
      });
      workgroups = tile.workgroups;
    } else {
      const { kernel, entry } = kernels.step;
      pipeline = pipelines.later(kernel, entry, { ...constants, STEP_WORKGROUP: tuning.stepWorkgroup });
      const groups = Math.ceil(kernels.items(B, H) / tuning.stepWorkgroup);
      const x = Math.min(groups, limits.maxComputeWorkgroupsPerDimension);
      workgroups = [x, Math.ceil(groups / x)];
    }
    // The forward walks t = 0 … T-1, the backward T-1 … 0.
    const times = Array.from({ length: T }, (_, t) => (direction === 'forward' ? t : T - 1 - t));
    const dispatches = times.map((t) => ({ ...base, pipeline, workgroups, step: t }));
    return { dispatches, persistent: false, coalesced: false };
  }

  /** The Vᵀ refresh of every layer (recurrent_transpose.wgsl): one dispatch. */
  private transposeDispatch(tuning: KernelTuning): Dispatch {
    const { pipelines, layout, params, transposed } = this.context;
    return {
      pipeline: pipelines.later('recurrent_transpose', tuning.transposeEntry, {
        LAYER_COUNT: layout.layers.length,
        PARAM_COUNT: layout.size,
        TRANSPOSED_SIZE: transposed.plan.transposedSize,
      }),
      bindGroup: pipelines.bindGroup('recurrent_transpose', 'Vᵀ refresh', {
        params,
        recurrentTransposed: transposed.buffer,
        transposeLayers: transposed.layers,
      }),
      dynamicOffsets: 0,
      step: 0,
      workgroups:
        tuning.transposeEntry === 'transpose_tiles'
          ? transposed.plan.workgroups.tiles
          : transposed.plan.workgroups.elements,
      group: 'backward',
      flops: transposed.plan.transposedSize,
    };
  }

  private coalescedBindGroup(l: number): GPUBindGroup {
    const { pipelines, params, steps: step, transposed } = this.context;
    const { gates, c, delta } = this.workspace.layers[l];
    const top = this.context.layout.layers.length - 1;
    const dyAbove = l === top ? this.workspace.dyTop : this.workspace.layers[l + 1].dInput;
    if (dyAbove === null) throw new Error('unreachable: a layer above the first has dInput');
    return pipelines.bindGroup('lstm_backward_coalesced', `${this.label} lstm[${l}] bptt (Vᵀ)`, {
      params,
      gates,
      c,
      dyAbove,
      delta,
      dc: this.workspace.dc,
      batchPass: this.uniform,
      step,
      recurrentTransposed: transposed.buffer,
    });
  }

  /** Each layer's products under `tuning`: the input projection; the weight and input gradients. */
  private productsOf(tuning: KernelTuning): LayerProducts {
    const known = this.products.get(tuning.name);
    if (known !== undefined) return known;
    const { layout, params, grads } = this.context;
    const { window: T } = layout.config;
    const B = this.batch;
    const batchPass = this.uniform;
    const matmulGrid = (rows: number, cols: number): [number, number] => [
      Math.ceil(cols / MATMUL_TILE),
      Math.ceil(rows / MATMUL_TILE),
    ];
    const forward: Dispatch[][] = [];
    const weightGradients: Dispatch[][] = [];
    const inputGradients: Dispatch[][] = [];
    layout.layers.forEach((layer, l) => {
      const { inputSize: I, hiddenSize: H } = layer;
      const G = GATES * H;
      const buffers = this.workspace.layers[l];
      const name = `${this.label} lstm[${l}]`;
      forward.push(
        this.product(
          tuning,
          'input_projection',
          {
            WINDOW: T,
            PARAM_COUNT: layout.size,
            INPUT_SIZE: I,
            HIDDEN_SIZE: H,
            W_OFFSET: layer.w,
            BIAS_OFFSET: layer.b,
            GATHER_SAMPLES: l === 0 ? 1 : 0,
          },
          `${name} input projection`,
          {
            params,
            samples: this.source.samples,
            order: this.source.order,
            inputs: buffers.inputs,
            gates: buffers.gates,
            batchPass,
          },
          matmulGrid(T * B, G),
          'forward',
          2 * T * B * I * G,
        ),
      );
      const shape = { WINDOW: T, PARAM_COUNT: layout.size, INPUT_SIZE: I, HIDDEN_SIZE: H, W_OFFSET: layer.w };
      weightGradients.push(
        this.product(
          tuning,
          'weight_gradients',
          shape,
          `${name} weight gradients`,
          { inputs: buffers.inputs, delta: buffers.delta, grads, batchPass },
          matmulGrid(I + H + 1, G),
          'weightGradients',
          2 * T * B * (I + H + 1) * G,
        ),
      );
      inputGradients.push(
        buffers.dInput === null
          ? []
          : this.product(
              tuning,
              'input_gradients',
              shape,
              `${name} input gradients`,
              { params, delta: buffers.delta, dInput: buffers.dInput, batchPass },
              matmulGrid(T * B, I),
              'backward',
              2 * T * B * I * G,
            ),
      );
    });
    const built = { forward, weightGradients, inputGradients };
    this.products.set(tuning.name, built);
    return built;
  }

  /**
   * A product over all T steps (matmul.wgsl) on a grid of [column tiles, row tiles]: one dispatch,
   * or, past maxDispatchFlops, bands of row tiles (TILE_ROW_BASE), each a dispatch of its own.
   */
  private product<K extends KernelName>(
    tuning: KernelTuning,
    kernel: K,
    constants: Record<string, number>,
    label: string,
    bindings: Bindings<K>,
    [columnTiles, rowTiles]: [number, number],
    group: KernelGroup,
    flops: number,
  ): Dispatch[] {
    const { pipelines, maxDispatchFlops } = this.context;
    const bindGroup = pipelines.bindGroup(kernel, label, bindings);
    const band = Math.ceil(rowTiles / Math.min(rowTiles, Math.ceil(flops / maxDispatchFlops)));
    const dispatches: Dispatch[] = [];
    for (let base = 0; base < rowTiles; base += band) {
      const rows = Math.min(band, rowTiles - base);
      dispatches.push({
        pipeline: pipelines.later(
          kernel,
          tuning.matmulEntry,
          base === 0 ? constants : { ...constants, TILE_ROW_BASE: base },
        ),
        bindGroup,
        dynamicOffsets: 1,
        step: 0,
        workgroups: [columnTiles, rows],
        group,
        flops: (flops * rows) / rowTiles,
      });
    }
    return dispatches;
  }
}
