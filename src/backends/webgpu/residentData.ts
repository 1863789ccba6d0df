// The data the WebGPU backend keeps on the GPU, each set with its workspace and dispatch plans:
// Training (the training windows, resident from setTrainingData on), the validation windows of
// setValidationData (ResidentWindows) and Scratch (the caller's rows of gradients() and predict(),
// grown, never shrunk). Each releases its own buffers.
//
// Legend: N = samples, B = batch, C = capacity (rows), S = minibatch steps of an epoch, T = window,
//         I = inputSize, O = outputSize.

import type { Dataset } from '../../data/dataset.js';
import type { LossName } from '../../model/optimizer.js';
import type { Allocator } from './allocator.js';
import { DispatchPlan, type DispatchTarget, errorChunkRows, type PlanContext } from './dispatchPlan.js';
import { type GpuOptimizerState, OptimizerUpdate, type UpdateBuffers } from './optimizerUpdate.js';
import type { TuningName, Variant } from './tuning.js';
import { GpuWorkspace, identityOrder, type SampleSource } from './workspace.js';

/**
 * The error over all N windows in order, into the workspace's outputs[0]: one plan, or, where one
 * pass's dispatches would be too large to cut an epoch finely, chunks of rows whose losses add up.
 */
export class ErrorPlan {
  /** Each plan and the entries (chunks) it runs. */
  private readonly parts: { plan: DispatchPlan; entries: number }[];

  constructor(context: PlanContext, label: string, workspace: GpuWorkspace, source: SampleSource, count: number) {
    const rows = errorChunkRows(context.layout, count, context.maxDispatchFlops);
    if (rows === count) {
      this.parts = [{ plan: new DispatchPlan(context, label, workspace, source, count, 1), entries: 1 }];
      return;
    }
    const chunks = Math.floor(count / rows);
    const rest = count - chunks * rows;
    const chunk = { firstRow: 0, firstEntry: 0, lossRows: count };
    this.parts = [{ plan: new DispatchPlan(context, label, workspace, source, rows, chunks, chunk), entries: chunks }];
    if (rest > 0) {
      const last = { firstRow: chunks * rows, firstEntry: chunks, lossRows: count };
      this.parts.push({
        plan: new DispatchPlan(context, `${label} (rest)`, workspace, source, rest, 1, last),
        entries: 1,
      });
    }
  }

  encode(target: DispatchTarget, variant: Variant): void {
    for (const { plan, entries } of this.parts) {
      for (let e = 0; e < entries; e++) plan.encodeForward(target, e, variant, 'evaluate');
    }
  }

  prepare(variants: readonly Variant[]): void {
    for (const { plan } of this.parts) plan.prepare(variants);
  }

  useLoss(loss: LossName): void {
    for (const { plan } of this.parts) plan.useLoss(loss);
  }

  release(): void {
    for (const { plan } of this.parts) plan.release();
  }
}

/** Windows uploaded once, with a workspace of their size and the plan of the error over all of them in order. */
export class ResidentWindows {
  readonly data: Dataset;
  /** (N, T, I) */
  readonly samples: GPUBuffer;
  /** (N, O) */
  readonly targets: GPUBuffer;
  readonly workspace: GpuWorkspace;
  /** The error over all N windows. */
  readonly all: ErrorPlan;
  private readonly allocator: Allocator;
  /** (N) 0, 1, …, N-1 */
  private readonly identity: GPUBuffer;

  /** `label` names the set in buffer labels ('training', 'validation'). */
  constructor(context: PlanContext, data: Dataset, label: string) {
    const allocator = context.allocator;
    this.allocator = allocator;
    this.data = data;
    this.samples = allocator.buffer(`${label} samples (N, T, I)`, data.x.byteLength, GPUBufferUsage.STORAGE, data.x);
    this.targets = allocator.buffer(`${label} targets (N, O)`, data.t.byteLength, GPUBufferUsage.STORAGE, data.t);
    this.identity = identityOrder(allocator, `${label} samples in order (N)`, data.count);
    this.workspace = new GpuWorkspace(allocator, context.layout, data.count, label);
    const source = { samples: this.samples, targets: this.targets, order: this.identity };
    this.all = new ErrorPlan(context, `all ${label} samples`, this.workspace, source, data.count);
  }

  release(): void {
    this.all.release();
    this.workspace.release();
    for (const buffer of [this.samples, this.targets, this.identity]) this.allocator.release(buffer);
  }
}

/** The training windows, the plan of an epoch's minibatch steps over them and the update after each. */
export class Training {
  readonly windows: ResidentWindows;
  readonly batch: number;
  readonly steps: number;
  /** (N) the epoch's sample order, written by trainEpoch */
  readonly order: GPUBuffer;
  /** The minibatch steps: S entries of B rows taken by `order`, in the windows' workspace. */
  readonly train: DispatchPlan;
  /** (S, 2) Adam's bias corrections (c1, c2) of the epoch's steps, and their CPU copy */
  readonly corrections: GPUBuffer;
  readonly correctionValues: Float32Array;
  private readonly context: PlanContext;
  private optimizer: GpuOptimizerState;
  private shared: Omit<UpdateBuffers, 'corrections' | 'batchPass'>;
  /** The optimizer's update after each step under each tuning, bound to `train`'s per-step uniform. */
  private readonly updates = new Map<TuningName, OptimizerUpdate>();

  constructor(
    context: PlanContext,
    data: Dataset,
    batch: number,
    optimizer: GpuOptimizerState,
    shared: Omit<UpdateBuffers, 'corrections' | 'batchPass'>,
  ) {
    const allocator = context.allocator;
    this.context = context;
    this.windows = new ResidentWindows(context, data, 'training');
    this.batch = batch;
    this.steps = Math.floor(data.count / batch);
    this.order = allocator.storage('epoch order (N)', 4 * data.count, GPUBufferUsage.COPY_DST);
    // Ones until trainEpoch writes the epoch's: any update encoded before (calibration's) stays finite.
    this.correctionValues = new Float32Array(2 * this.steps).fill(1);
    this.corrections = allocator.buffer(
      "Adam's bias corrections (S, 2)",
      this.correctionValues.byteLength,
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
      this.correctionValues,
    );
    const { samples, targets, workspace } = this.windows;
    this.train = new DispatchPlan(
      context,
      'minibatch',
      workspace,
      { samples, targets, order: this.order },
      batch,
      this.steps,
    );
    this.optimizer = optimizer;
    this.shared = shared;
  }

  get data(): Dataset {
    return this.windows.data;
  }

  /** Binds the update after each step to `optimizer`'s state. */
  useOptimizer(optimizer: GpuOptimizerState, shared: Omit<UpdateBuffers, 'corrections' | 'batchPass'>): void {
    this.optimizer = optimizer;
    this.shared = shared;
    this.updates.clear();
  }

  /** The update after each step under `tuning` (made on first use: prepare() makes it before training). */
  update(tuning: TuningName): OptimizerUpdate {
    let update = this.updates.get(tuning);
    if (update === undefined) {
      update = new OptimizerUpdate(this.context, this.context.tunings[tuning], this.optimizer, {
        ...this.shared,
        corrections: this.corrections,
        batchPass: this.train.uniform,
      });
      this.updates.set(tuning, update);
    }
    return update;
  }

  /** Builds the steps, the error's passes and the updates of `variants` (their pipelines) now. */
  prepare(variants: readonly Variant[]): void {
    this.train.prepare(variants);
    this.windows.all.prepare(variants);
    for (const { tuning } of variants) this.update(tuning);
  }

  release(): void {
    this.train.release();
    this.windows.release();
    for (const buffer of [this.order, this.corrections]) this.context.allocator.release(buffer);
  }
}

/** Buffers for gradients() and predict() on up to `capacity` rows given by the caller. */
export class Scratch {
  readonly capacity: number;
  readonly workspace: GpuWorkspace;
  /** (C, T, I) */
  readonly samples: GPUBuffer;
  /** (C, O) */
  readonly targets: GPUBuffer;
  /** (C) 0, 1, …, C-1 */
  private readonly identity: GPUBuffer;
  private readonly context: PlanContext;
  private current: DispatchPlan | null = null;

  constructor(context: PlanContext, capacity: number) {
    const { allocator, layout } = context;
    const { window: T, inputSize: I, outputSize: O } = layout.config;
    this.context = context;
    this.capacity = capacity;
    this.workspace = new GpuWorkspace(allocator, layout, capacity, 'scratch');
    this.samples = allocator.storage('scratch samples (B, T, I)', 4 * capacity * T * I, GPUBufferUsage.COPY_DST);
    this.targets = allocator.storage('scratch targets (B, O)', 4 * capacity * O, GPUBufferUsage.COPY_DST);
    this.identity = identityOrder(allocator, 'scratch order (B)', capacity);
  }

  /** The plan for passes of `count` rows (made when the count changes, which builds its pipelines). */
  plan(count: number): DispatchPlan {
    if (this.current === null || this.current.batch !== count) {
      this.current?.release();
      const source = { samples: this.samples, targets: this.targets, order: this.identity };
      this.current = new DispatchPlan(this.context, 'scratch', this.workspace, source, count, 1);
    }
    return this.current;
  }

  /** The plan made last, if any (to follow a change of loss). */
  lastPlan(): DispatchPlan | null {
    return this.current;
  }

  release(): void {
    this.current?.release();
    this.workspace.release();
    for (const buffer of [this.samples, this.targets, this.identity]) this.context.allocator.release(buffer);
  }
}
