// The data the WebGPU backend keeps on the GPU, each set with its workspace and dispatch plans:
// Training (the training windows, resident from setMemberTraining on), the validation windows of
// setMemberValidation (ResidentWindows) and Scratch (the caller's rows of memberGradients() and
// predictMembers(), grown, never shrunk). The windows are shared by the K members; each member has its
// range of them, its block of each workspace and its part of each order. Each releases its own buffers.
//
// Legend: K = members, N = samples, B = batch, C = capacity (rows a member), S = minibatch steps of an
//         epoch (the most of any member), T = window, I = inputSize, O = outputSize.

import type { Dataset } from '../../data/dataset.js';
import { describeValue, InputError } from '../../model/errors.js';
import type { LossName } from '../../model/optimizer.js';
import { type MemberEpoch, memberSteps, type WindowRange } from '../population.js';
import type { Allocator } from './allocator.js';
import { DispatchPlan, type DispatchTarget, errorChunkRows, type PlanContext } from './dispatchPlan.js';
import {
  type GpuOptimizerState,
  MEMBER_SETTINGS_WORDS,
  OptimizerUpdate,
  type UpdateBuffers,
  writeMemberSettings,
} from './optimizerUpdate.js';
import type { TuningName, Variant } from './tuning.js';
import { GpuWorkspace, rangeOrders, type SampleSource } from './workspace.js';

/**
 * The error over each member's windows in order, into its loss in the workspace's outputs: one plan,
 * or, where one pass's dispatches would be too large to cut an epoch finely, chunks of rows whose
 * losses add up.
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
    const chunk = { firstRow: 0, firstEntry: 0 };
    this.parts = [{ plan: new DispatchPlan(context, label, workspace, source, rows, chunks, chunk), entries: chunks }];
    if (rest > 0) {
      const last = { firstRow: chunks * rows, firstEntry: chunks };
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

  /** Compiles the error's pipelines of `variants` now (its one mode: the error). */
  prepare(variants: readonly Variant[]): void {
    for (const { plan } of this.parts) plan.prepare(variants, ['evaluate']);
  }

  release(): void {
    for (const { plan } of this.parts) plan.release();
  }
}

/**
 * Windows uploaded once, each member's range of them, a workspace of the largest range's size and the
 * plan of each member's error over its range in order.
 */
export class ResidentWindows {
  readonly data: Dataset;
  /** (K) each member's windows. */
  readonly ranges: readonly WindowRange[];
  /** (N, T, I) */
  readonly samples: GPUBuffer;
  /** (N, O) */
  readonly targets: GPUBuffer;
  readonly workspace: GpuWorkspace;
  /** Each member's error over its range (a member with none counts no rows). */
  readonly all: ErrorPlan;
  private readonly allocator: Allocator;
  /** (K, C) each member's range in order */
  private readonly inOrder: GPUBuffer;

  /** `label` names the set in buffer labels ('training', 'validation'). */
  constructor(context: PlanContext, data: Dataset, ranges: readonly WindowRange[], label: string) {
    const allocator = context.allocator;
    this.allocator = allocator;
    this.data = data;
    this.ranges = ranges.map(({ start, count }) => ({ start, count }));
    const capacity = Math.max(1, ...ranges.map((range) => range.count));
    this.samples = allocator.buffer(`${label} samples (N, T, I)`, data.x.byteLength, GPUBufferUsage.STORAGE, data.x);
    this.targets = allocator.buffer(`${label} targets (N, O)`, data.t.byteLength, GPUBufferUsage.STORAGE, data.t);
    const orders = rangeOrders(ranges, capacity, data.count);
    this.inOrder = allocator.buffer(
      `${label} ranges in order (K, C)`,
      orders.byteLength,
      GPUBufferUsage.STORAGE,
      orders,
    );
    this.workspace = new GpuWorkspace(allocator, context.layout, capacity, ranges.length, label);
    const source = { samples: this.samples, targets: this.targets, order: this.inOrder };
    this.all = new ErrorPlan(context, `all ${label} samples`, this.workspace, source, capacity);
  }

  /** Whether any member has windows here (else its error is not worth a pass). */
  get anyWindows(): boolean {
    return this.ranges.some((range) => range.count > 0);
  }

  /** Tells the workspace each member's loss and its rows of the error. */
  writeHeaders(queue: GPUQueue, losses: readonly LossName[]): void {
    this.workspace.writeHeaders(queue, { losses, errorRows: this.ranges.map((range) => range.count) });
  }

  release(): void {
    this.all.release();
    this.workspace.release();
    for (const buffer of [this.samples, this.targets, this.inOrder]) this.allocator.release(buffer);
  }
}

/** The training windows, the plan of an epoch's minibatch steps over them and the update after each. */
export class Training {
  readonly windows: ResidentWindows;
  readonly batch: number;
  /** (K) each member's steps of an epoch: S_m = floor(count_m / B) */
  readonly memberSteps: readonly number[];
  /** The population's steps of an epoch: the most of any member. */
  readonly steps: number;
  /** (K, C) the epoch's sample order of each member, written by trainMembers, and its CPU copy */
  readonly order: GPUBuffer;
  readonly orderValues: Uint32Array<ArrayBuffer>;
  /** The minibatch steps: S entries of B rows a member taken by `order`, in the windows' workspace. */
  readonly train: DispatchPlan;
  /** (S, K, 2) Adam's bias corrections (c1, c2) of each member at each step, and their CPU copy */
  readonly corrections: GPUBuffer;
  readonly correctionValues: Float32Array<ArrayBuffer>;
  /** (K) MemberSettings of the epoch (optimizer_update.wgsl), and their CPU copy */
  readonly settings: GPUBuffer;
  readonly settingsValues: Uint32Array<ArrayBuffer>;
  private readonly context: PlanContext;
  private optimizer: GpuOptimizerState;
  private gradSquares: GPUBuffer;
  /** The optimizer's update after each step under each tuning, bound to `train`'s per-step uniform. */
  private readonly updates = new Map<TuningName, OptimizerUpdate>();

  constructor(
    context: PlanContext,
    data: Dataset,
    batch: number,
    ranges: readonly WindowRange[],
    optimizer: GpuOptimizerState,
    gradSquares: GPUBuffer,
  ) {
    const allocator = context.allocator;
    const K = ranges.length;
    this.context = context;
    this.windows = new ResidentWindows(context, data, ranges, 'training');
    this.batch = batch;
    this.memberSteps = memberSteps(ranges, batch);
    this.steps = Math.max(...this.memberSteps);
    const C = this.windows.workspace.capacity;
    // Each member's range in order until trainMembers writes the epoch's: past a member's own
    // windows its part of the order repeats a window of its range, so its steps past S_m compute
    // harmlessly.
    this.orderValues = rangeOrders(ranges, C, data.count);
    this.order = allocator.buffer(
      'epoch order (K, C)',
      this.orderValues.byteLength,
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
      this.orderValues,
    );
    // Ones until trainMembers writes the epoch's: any update encoded before (calibration's) stays finite.
    this.correctionValues = new Float32Array(2 * this.steps * K).fill(1);
    this.corrections = allocator.buffer(
      "Adam's bias corrections (S, K, 2)",
      this.correctionValues.byteLength,
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
      this.correctionValues,
    );
    this.settingsValues = new Uint32Array(K * MEMBER_SETTINGS_WORDS);
    this.settings = allocator.storage('member settings (K)', this.settingsValues.byteLength, GPUBufferUsage.COPY_DST);
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
    this.gradSquares = gradSquares;
  }

  get data(): Dataset {
    return this.windows.data;
  }

  get ranges(): readonly WindowRange[] {
    return this.windows.ranges;
  }

  /** Binds the update after each step to `optimizer`'s state. */
  useOptimizer(optimizer: GpuOptimizerState): void {
    this.optimizer = optimizer;
    this.updates.clear();
  }

  /** The update after each step under `tuning` (made on first use: prepare() makes it before training). */
  update(tuning: TuningName): OptimizerUpdate {
    let update = this.updates.get(tuning);
    if (update === undefined) {
      const buffers: UpdateBuffers = {
        gradSquares: this.gradSquares,
        corrections: this.corrections,
        members: this.settings,
        batchPass: this.train.uniform,
      };
      update = new OptimizerUpdate(this.context, this.context.tunings[tuning], this.optimizer, buffers);
      this.updates.set(tuning, update);
    }
    return update;
  }

  /**
   * Checks `epoch` and writes what its steps read: each member's order (its range's start added), its
   * settings (optimizer, learning rate, steps: S_m, or 0 when it is not active) and, for Adam, its
   * bias corrections; one write each. Counts the members' updates. Nothing changes where it throws.
   */
  writeEpoch(queue: GPUQueue, epoch: MemberEpoch): void {
    const steps = this.epochSteps(epoch);
    this.writeOrders(queue, epoch.orders);
    this.writeSettings(queue, epoch.learningRates, steps);
    if (this.optimizer.settings.some((settings) => settings.name === 'adam')) {
      this.optimizer.corrections(this.correctionValues, steps);
      queue.writeBuffer(this.corrections, 0, this.correctionValues);
    }
    for (const [m, s] of steps.entries()) this.optimizer.steps[m] += s;
  }

  /**
   * Settings for epochs that only time (calibration, profiling): every member updates in all its steps
   * at a learning rate of 0, so the update costs what it does in training. The parameters and state
   * they touch are restored afterwards; writeEpoch writes an epoch's own.
   */
  writeTimingSettings(queue: GPUQueue): void {
    this.writeSettings(
      queue,
      this.memberSteps.map(() => 0),
      this.memberSteps,
    );
  }

  /** Builds the steps, the error's passes and the updates of `variants` (their pipelines) now. */
  prepare(variants: readonly Variant[]): void {
    this.train.prepare(variants, ['train']);
    this.windows.all.prepare(variants);
    for (const { tuning } of variants) this.update(tuning);
  }

  release(): void {
    this.train.release();
    this.windows.release();
    for (const buffer of [this.order, this.corrections, this.settings]) this.context.allocator.release(buffer);
  }

  /** Each member's steps this epoch (S_m, or 0 when it is not active), the epoch's arguments checked. */
  private epochSteps({ orders, learningRates, active }: MemberEpoch): number[] {
    const K = this.memberSteps.length;
    for (const [field, list] of [
      ['orders', orders],
      ['learningRates', learningRates],
      ['active', active ?? orders],
    ] as const) {
      if (list.length !== K) throw new InputError(field, `expected one per member (${K}), got ${list.length}`);
    }
    for (const [m, rate] of learningRates.entries()) {
      if (!Number.isFinite(rate)) {
        throw new InputError(`learningRates[${m}]`, `expected a finite number, got ${describeValue(rate)}`);
      }
    }
    return this.memberSteps.map((steps, m) => {
      const needed = steps * this.batch;
      if (orders[m].length < needed) {
        throw new InputError(
          `orders[${m}]`,
          `expected at least ${needed} entries (${steps} steps), got ${orders[m].length}`,
        );
      }
      return active === undefined || active[m] ? steps : 0;
    });
  }

  /**
   * Each member's order into the order buffer (K, C), its range's start added. A member's part past
   * its own order repeats its range's start, so its steps past S_m read windows of its range.
   */
  private writeOrders(queue: GPUQueue, orders: readonly Uint32Array[]): void {
    const values = this.orderValues;
    const C = this.windows.workspace.capacity;
    for (const [m, { start, count }] of this.ranges.entries()) {
      const order = orders[m];
      const given = Math.min(order.length, count);
      for (let i = 0; i < given; i++) {
        const position = order[i];
        if (!(position < count)) {
          throw new InputError(`orders[${m}]`, `expected positions from 0 to ${count - 1}, got ${position} at ${i}`);
        }
        values[m * C + i] = start + position;
      }
      values.fill(start, m * C + given, (m + 1) * C);
    }
    queue.writeBuffer(this.order, 0, values);
  }

  /** Each member's optimizer, learning rate and steps of the epoch into the update's settings. */
  private writeSettings(queue: GPUQueue, learningRates: readonly number[], steps: readonly number[]): void {
    const words = this.settingsValues;
    for (const [m, settings] of this.optimizer.settings.entries()) {
      writeMemberSettings(words, m, settings, learningRates[m], steps[m]);
    }
    queue.writeBuffer(this.settings, 0, words);
  }
}

/** Buffers for memberGradients() and predictMembers() on up to `capacity` rows a member given by the caller. */
export class Scratch {
  /** Rows a member. */
  readonly capacity: number;
  /** Rows of samples and targets: the capacity, or K times it where each member reads its own. */
  readonly rows: number;
  readonly workspace: GpuWorkspace;
  /** (R, T, I) */
  readonly samples: GPUBuffer;
  /** (R, O) */
  readonly targets: GPUBuffer;
  /** (K, C) which of the rows each member reads */
  readonly order: GPUBuffer;
  private readonly context: PlanContext;
  private current: DispatchPlan | null = null;

  constructor(context: PlanContext, capacity: number, rows: number) {
    const { allocator, layout, members } = context;
    const { window: T, inputSize: I, outputSize: O } = layout.config;
    this.context = context;
    this.capacity = capacity;
    this.rows = rows;
    this.workspace = new GpuWorkspace(allocator, layout, capacity, members, 'scratch');
    this.samples = allocator.storage('scratch samples (R, T, I)', 4 * rows * T * I, GPUBufferUsage.COPY_DST);
    this.targets = allocator.storage('scratch targets (R, O)', 4 * rows * O, GPUBufferUsage.COPY_DST);
    this.order = allocator.storage('scratch order (K, C)', 4 * members * capacity, GPUBufferUsage.COPY_DST);
  }

  /** Tells the workspace each member's loss (it takes no error over windows of its own). */
  writeHeaders(queue: GPUQueue, losses: readonly LossName[]): void {
    this.workspace.writeHeaders(queue, { losses, errorRows: losses.map(() => 0) });
  }

  /** The plan for passes of `count` rows (made when the count changes, which builds its pipelines). */
  plan(count: number): DispatchPlan {
    if (this.current === null || this.current.batch !== count) {
      this.current?.release();
      const source = { samples: this.samples, targets: this.targets, order: this.order };
      this.current = new DispatchPlan(this.context, 'scratch', this.workspace, source, count, 1);
    }
    return this.current;
  }

  release(): void {
    this.current?.release();
    this.workspace.release();
    for (const buffer of [this.samples, this.targets, this.order]) this.context.allocator.release(buffer);
  }
}
