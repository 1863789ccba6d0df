// Dispatch plans: the list of dispatches (pipeline, bind group, grid, FLOPs) of a forward and a
// backward pass of the model over one workspace and sample source, for batches of one size, built once
// per schedule. Encoding a minibatch step is a walk over those lists with dynamic uniform offsets
// (which minibatch, which time step): no buffer, bind group or pipeline is made while training.
//
// Legend: C = capacity (rows), B = batch of a plan, T = window, I = layer input size, H = hidden size,
//         G = 4H, O = outputSize, P = parameter count, E = entries (minibatches) of a plan.

import { GATES, type ParamLayout } from '../../model/layout.js';
import type { LossName } from '../../model/optimizer.js';
import type { GpuCounters, KernelTimes } from '../backend.js';
import { type Allocator, uniformStride } from './allocator.js';
import type { Bindings, KernelName } from './kernels.js';
import type { PipelineCache } from './pipelines.js';
import {
  backwardItems,
  forwardItems,
  type KernelTuning,
  MATMUL_TILE,
  persistentFits,
  persistentWorkgroup,
  type Schedule,
} from './tuning.js';
import type { GpuWorkspace, SampleSource } from './workspace.js';

/** What a dispatch counts toward when a step is profiled (see KernelTimes). */
export type KernelGroup = keyof KernelTimes;
/** What the dense kernel computes: outputs; + the loss; + the gradients; both. */
export type DenseMode = 'predict' | 'evaluate' | 'train' | 'gradients';

/** Buffers and pipelines every plan of one backend shares. */
export interface PlanContext {
  pipelines: PipelineCache;
  layout: ParamLayout;
  allocator: Allocator;
  /** (P) */
  params: GPUBuffer;
  /** (P) */
  grads: GPUBuffer;
  /** (T) StepParams, entry t holds t */
  steps: GPUBuffer;
  tuning: KernelTuning;
  maxWorkgroupsPerDimension: number;
  counters: GpuCounters;
  /** The loss of training steps, the per-epoch error and gradients(); plans follow it in useLoss(). */
  loss: LossName;
}

export interface Dispatch {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  /** How many dynamic offsets: 1 the plan's entry, 2 the entry and the time step. */
  dynamicOffsets: 1 | 2;
  /** Time step (for the step uniform's offset). */
  step: number;
  workgroups: [number, number];
  group: KernelGroup;
  /** The dispatch's share of src/model/flops.ts's count: what an epoch's slices are budgeted by. */
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
 * A plan that is one chunk of an error over `lossRows` rows computed in several passes: its entries
 * start at row `firstRow` of the order and at entry index `firstEntry`; their losses add up.
 */
export interface ErrorChunk {
  firstRow: number;
  firstEntry: number;
  lossRows: number;
}

/**
 * Rows a chunk of the error over `count` windows takes: all of them unless its largest dispatch (an
 * input projection or a step of the recurrence) would exceed `maxFlops`, so that an epoch's slices
 * can be cut finely there too.
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
  /** The backward dispatches cut into runs of one kernel group, for profiled steps only. */
  backwardRuns: GroupRun[];
}

export class DispatchPlan {
  readonly batch: number;
  readonly entries: number;
  readonly workspace: GpuWorkspace;
  /** (E) PassParams, bound with a dynamic offset per minibatch step */
  readonly uniform: GPUBuffer;
  private readonly context: PlanContext;
  private readonly plans: { stepwise: StepPlan; persistent: StepPlan | null };
  private dense: Record<DenseMode, Dispatch>;
  private readonly denseBindGroup: GPUBindGroup;
  private readonly offsets = new Uint32Array(2);
  private readonly stride: number;
  private readonly chunk: ErrorChunk | null;

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
    this.chunk = chunk;
    this.batch = batch;
    this.entries = entries;
    this.workspace = workspace;
    this.stride = uniformStride(context.allocator.device);
    const { pipelines, layout, params, grads, tuning } = context;
    const step = context.steps;
    const C = workspace.capacity;
    // Entry s: batch B, rows from order[s * B], capacity C, entry s (offset by a chunk's first ones).
    const firstRow = chunk?.firstRow ?? 0;
    const firstEntry = chunk?.firstEntry ?? 0;
    const batchPass = context.allocator.uniformEntries(`${label} uniforms`, entries, (s) => [
      batch,
      firstRow + s * batch,
      C,
      firstEntry + s,
    ]);
    this.uniform = batchPass;
    const { window: T } = layout.config;
    const B = batch;
    const top = layout.layers.length - 1;
    const matmulGrid = (rows: number, cols: number): [number, number] => [
      Math.ceil(cols / MATMUL_TILE),
      Math.ceil(rows / MATMUL_TILE),
    ];
    const grid = (groups: number): [number, number] => {
      const x = Math.min(groups, context.maxWorkgroupsPerDimension);
      return [x, Math.ceil(groups / x)];
    };

    /**
     * A product over all T steps (matmul.wgsl) on a grid of [column tiles, row tiles]: one dispatch,
     * or, past maxDispatchFlops, bands of row tiles (TILE_ROW_BASE), each a dispatch of its own.
     */
    const product = <K extends KernelName>(
      kernel: K,
      constants: Record<string, number>,
      label: string,
      bindings: Bindings<K>,
      [columnTiles, rowTiles]: [number, number],
      group: KernelGroup,
      flops: number,
    ): Dispatch[] => {
      const bindGroup = pipelines.bindGroup(kernel, label, bindings);
      const band = Math.ceil(rowTiles / Math.min(rowTiles, Math.ceil(flops / tuning.maxDispatchFlops)));
      const dispatches: Dispatch[] = [];
      for (let base = 0; base < rowTiles; base += band) {
        const rows = Math.min(band, rowTiles - base);
        dispatches.push({
          pipeline: pipelines.pipeline(
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
    };
    let anyPersistent = false;
    /**
     * A layer's recurrence (lstm_forward or lstm_backward): a dispatch per time step, in the order of
     * `times`, and, where the layer fits the persistent schedule, the one dispatch for all T steps.
     */
    const recurrence = (
      kernel: 'lstm_forward' | 'lstm_backward',
      bindGroup: GPUBindGroup,
      constants: Record<string, number>,
      H: number,
      times: number[],
    ): { steps: Dispatch[]; persistent: Dispatch | null } => {
      const direction = kernel === 'lstm_forward' ? 'forward' : 'backward';
      const items = kernel === 'lstm_forward' ? forwardItems(B, H) : backwardItems(B, H);
      const flops = 2 * B * H * GATES * H;
      const stepPipeline = pipelines.pipeline(kernel, `step_${direction}`, {
        ...constants,
        STEP_WORKGROUP: tuning.stepWorkgroup,
      });
      const workgroups = grid(Math.ceil(items / tuning.stepWorkgroup));
      const stepDispatches = times.map(
        (t): Dispatch => ({
          pipeline: stepPipeline,
          bindGroup,
          dynamicOffsets: 2,
          step: t,
          workgroups,
          group: direction,
          flops,
        }),
      );
      if (!persistentFits(B, H, tuning)) return { steps: stepDispatches, persistent: null };
      anyPersistent = true;
      const pipeline = pipelines.pipeline(kernel, `persistent_${direction}`, {
        ...constants,
        PERSISTENT_WORKGROUP: persistentWorkgroup(items, tuning),
      });
      return {
        steps: stepDispatches,
        persistent: {
          pipeline,
          bindGroup,
          dynamicOffsets: 2,
          step: 0,
          workgroups: [1, 1],
          group: direction,
          flops: T * flops,
        },
      };
    };
    const forwardTimes = Array.from({ length: T }, (_, t) => t);
    const backwardTimes = forwardTimes.map((t) => T - 1 - t);

    const stepwise: Omit<StepPlan, 'backwardRuns'> = { forward: [], backward: [] };
    const persistent: Omit<StepPlan, 'backwardRuns'> = { forward: [], backward: [] };
    layout.layers.forEach((layer, l) => {
      const { inputSize: I, hiddenSize: H } = layer;
      const buffers = workspace.layers[l];
      const name = `${label} lstm[${l}]`;
      const projection = product(
        'input_projection',
        {
          WINDOW: T,
          INPUT_SIZE: I,
          HIDDEN_SIZE: H,
          W_OFFSET: layer.w,
          BIAS_OFFSET: layer.b,
          GATHER_SAMPLES: l === 0 ? 1 : 0,
        },
        `${name} input projection`,
        {
          params,
          samples: source.samples,
          order: source.order,
          inputs: buffers.inputs,
          gates: buffers.gates,
          batchPass,
        },
        matmulGrid(T * B, GATES * H),
        'forward',
        2 * T * B * I * GATES * H,
      );
      const { gates, c, inputs } = buffers;
      const above = l < top ? workspace.layers[l + 1].inputs : workspace.noLayerAbove;
      const { steps: forwardSteps, persistent: wholeForward } = recurrence(
        'lstm_forward',
        pipelines.bindGroup('lstm_forward', `${name} forward`, { params, gates, c, inputs, above, batchPass, step }),
        {
          WINDOW: T,
          INPUT_SIZE: I,
          HIDDEN_SIZE: H,
          V_OFFSET: layer.v,
          ABOVE_HIDDEN_SIZE: l < top ? layout.layers[l + 1].hiddenSize : 0,
        },
        H,
        forwardTimes,
      );
      stepwise.forward.push(...projection, ...forwardSteps);
      persistent.forward.push(...projection, ...(wholeForward === null ? forwardSteps : [wholeForward]));
    });

    // Backward runs from the top layer down: BPTT, then the layer's weight gradients and, above the
    // first layer, the gradient at its input, which the layer below's BPTT reads.
    for (let l = top; l >= 0; l--) {
      const layer = layout.layers[l];
      const { inputSize: I, hiddenSize: H } = layer;
      const G = GATES * H;
      const buffers = workspace.layers[l];
      const dyAbove = l === top ? workspace.dyTop : workspace.layers[l + 1].dInput;
      if (dyAbove === null) throw new Error('unreachable: a layer above the first has dInput');
      const name = `${label} lstm[${l}]`;
      const { gates, c, delta } = buffers;
      const { dc } = workspace;
      const { steps: backwardSteps, persistent: wholeBackward } = recurrence(
        'lstm_backward',
        pipelines.bindGroup('lstm_backward', `${name} bptt`, { params, gates, c, dyAbove, delta, dc, batchPass, step }),
        { WINDOW: T, HIDDEN_SIZE: H, V_OFFSET: layer.v, FROM_DENSE: l === top ? 1 : 0 },
        H,
        backwardTimes,
      );
      const shape = { WINDOW: T, INPUT_SIZE: I, HIDDEN_SIZE: H, W_OFFSET: layer.w };
      const gradients = [
        ...product(
          'weight_gradients',
          shape,
          `${name} weight gradients`,
          { inputs: buffers.inputs, delta: buffers.delta, grads, batchPass },
          matmulGrid(I + H + 1, G),
          'weightGradients',
          2 * T * B * (I + H + 1) * G,
        ),
      ];
      if (buffers.dInput !== null) {
        gradients.push(
          ...product(
            'input_gradients',
            shape,
            `${name} input gradients`,
            { params, delta: buffers.delta, dInput: buffers.dInput, batchPass },
            matmulGrid(T * B, I),
            'backward',
            2 * T * B * I * G,
          ),
        );
      }
      stepwise.backward.push(...backwardSteps, ...gradients);
      persistent.backward.push(...(wholeBackward === null ? backwardSteps : [wholeBackward]), ...gradients);
    }
    const withRuns = (plan: Omit<StepPlan, 'backwardRuns'>): StepPlan => ({
      ...plan,
      backwardRuns: groupRuns(plan.backward),
    });
    this.plans = { stepwise: withRuns(stepwise), persistent: anyPersistent ? withRuns(persistent) : null };

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
    this.dense = this.denseDispatches(context.loss);
  }

  /** Makes the dense layer compute `loss` (its pipelines are built here, not while training). */
  useLoss(loss: LossName): void {
    this.dense = this.denseDispatches(loss);
  }

  private denseDispatches(loss: LossName): Record<DenseMode, Dispatch> {
    const { pipelines, layout } = this.context;
    const { dense } = layout;
    const top = layout.layers.length - 1;
    const dispatch = (mode: DenseMode): Dispatch => ({
      pipeline: pipelines.pipeline('dense', 'main', {
        WITH_LOSS: mode === 'evaluate' || mode === 'gradients' ? 1 : 0,
        WITH_GRADIENTS: mode === 'train' || mode === 'gradients' ? 1 : 0,
        MEAN_LOSS: loss === 'mse' ? 1 : 0,
        WINDOW: layout.config.window,
        HIDDEN_SIZE: dense.inputSize,
        OUTPUT_SIZE: dense.outputSize,
        DENSE_W_OFFSET: dense.w,
        DENSE_B_OFFSET: dense.b,
        TOP_ROW: dense.inputSize + layout.layers[top].inputSize + 1,
        ...(mode === 'evaluate' && this.chunk !== null ? { LOSS_ROWS: this.chunk.lossRows } : {}),
      }),
      bindGroup: this.denseBindGroup,
      dynamicOffsets: 1,
      step: 0,
      workgroups: [1, 1],
      // One kernel computes the outputs, the loss and the loss's gradients: timed with the forward.
      group: 'forward',
      flops: 6 * this.batch * dense.inputSize * dense.outputSize,
    });
    return {
      predict: dispatch('predict'),
      evaluate: dispatch('evaluate'),
      train: dispatch('train'),
      gradients: dispatch('gradients'),
    };
  }

  /** Frees the plan's own buffer (the workspace and source belong to the caller). */
  release(): void {
    this.context.allocator.release(this.uniform);
  }

  /** Whether the persistent schedule applies to this plan (to at least one layer). */
  hasPersistent(): boolean {
    return this.plans.persistent !== null;
  }

  private plan(schedule: Schedule): StepPlan {
    return (schedule === 'persistent' ? this.plans.persistent : null) ?? this.plans.stepwise;
  }

  /** Dispatches of one training step before the update: forward, dense, backward. */
  modelDispatchesPerStep(schedule: Schedule): number {
    const plan = this.plan(schedule);
    return plan.forward.length + 1 + plan.backward.length;
  }

  /** Forward through every layer and the dense layer for minibatch `entry`. */
  encodeForward(target: DispatchTarget, entry: number, schedule: Schedule, mode: DenseMode): void {
    for (const dispatch of this.plan(schedule).forward) this.encode(target.pass(dispatch.flops), dispatch, entry);
    const dense = this.dense[mode];
    this.encode(target.pass(dense.flops), dense, entry);
  }

  /** BPTT and the gradients of every layer for minibatch `entry` (after encodeForward in a gradient mode). */
  encodeBackward(target: DispatchTarget, entry: number, schedule: Schedule): void {
    for (const dispatch of this.plan(schedule).backward) this.encode(target.pass(dispatch.flops), dispatch, entry);
  }

  /** The kernel groups of the compute passes encodeProfiledStep opens, in order. */
  profiledGroups(schedule: Schedule): KernelGroup[] {
    return ['forward', ...this.plan(schedule).backwardRuns.map((run) => run.group)];
  }

  /**
   * The same dispatches as encodeForward(…, 'train') and encodeBackward, in the same order, but one
   * compute pass per run of a kernel group, pass k opened with `passes[first + k]` (which carries its
   * timestamp writes). Only for profiling. Returns the index of the next descriptor.
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
    this.encodeForward(fixedPass(forward), entry, schedule, 'train');
    forward.end();
    for (const run of this.plan(schedule).backwardRuns) {
      const compute = encoder.beginComputePass(passes[next++]);
      for (const dispatch of run.dispatches) this.encode(compute, dispatch, entry);
      compute.end();
    }
    return next;
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
