// A population: K members of one shape (window, inputs, hidden sizes, outputs) and one batch size,
// trained together on one device. Each member has its own parameters, optimizer and its state, loss,
// learning rate per epoch, minibatch orders, and its own ranges of the shared training and
// validation windows (so that a member can be a seed of an ensemble, a point of a search grid or a
// backtest fold with its own origin). On WebGPU the members share every dispatch of a step (the
// member is a dimension of the grid and of the buffers); on the CPU they spread over the threads.
// A single model is a population of one: the Backend interface (backend.ts) is its face, and both
// backends implement Population too, with the same engine underneath.
//
// Legend: K = members, N = windows (all members' together), B = batch, P = parameter count,
// S_m = floor(count_m / B) the minibatch steps of member m's epoch.

import type { Dataset } from '../data/dataset.js';
import { describeValue, InputError } from '../model/errors.js';
import type { ModelConfig, ParamLayout } from '../model/layout.js';
import type { LossName, OptimizerSettings, OptimizerState } from '../model/optimizer.js';
import type { Backend, BackendName, EpochLosses, EpochOptions, GpuFacet, GradientResult } from './backend.js';

/** Windows start .. start + count - 1 of a dataset. */
export interface WindowRange {
  start: number;
  count: number;
}

/** What a member trains with: its optimizer (with its momentum, betas, clipping) and its loss. */
export interface MemberOptimizer {
  optimizer: OptimizerSettings;
  loss: LossName;
}

/** One epoch of every member. */
export interface MemberEpoch {
  /**
   * (K) each member's minibatch order: a permutation of 0 .. count_m - 1, positions inside its
   * training range (the backend adds the range's start). Its first S_m * B entries are used.
   */
  orders: readonly Uint32Array[];
  /** (K) each member's learning rate for this epoch (its decay applied). */
  learningRates: readonly number[];
  /**
   * (K) whether the member trains this epoch; a member that is not active keeps its parameters and
   * optimizer state unchanged (a diverged or early-stopped member). Default: every member.
   */
  active?: readonly boolean[];
}

/**
 * K models of one shape trained in the same work. Every method is required. The ordering and
 * disposal rules of the Backend contract hold (docs/ARCHITECTURE.md): await trainMembers before the
 * next call that changes the population; reads wait for it; after dispose() every call but dispose
 * throws a DisposedError.
 */
export interface Population {
  readonly name: BackendName;
  readonly config: ModelConfig;
  readonly layout: ParamLayout;
  /** K, fixed for the population's life. */
  readonly members: number;
  /** The GPU-only side; null on the CPU. Its dispatchesPerStep counts one step of the whole population. */
  readonly gpu: GpuFacet | null;

  /** Replaces member m's parameters. (P) */
  setMemberParams(member: number, params: Float32Array): void;
  /** Every member's parameters, (K) arrays of (P). */
  readMemberParams(): Promise<Float32Array[]>;

  /**
   * Forward only, every member on windows x: (K) arrays of outputs (N, O). With `each`, x holds
   * K * count windows, member m's from window m * count on; else all members read the same count.
   */
  predictMembers(x: Float32Array, count: number, each?: boolean): Promise<Float32Array[]>;
  /** One forward and backward pass of every member on the same batch, no update. */
  memberGradients(x: Float32Array, t: Float32Array, batchSize: number): Promise<GradientResult[]>;

  /**
   * Makes `data` the shared training windows and `ranges` (K) each member's part of them, for
   * minibatches of `batchSize` (at most the smallest range's count). Replaces the validation
   * windows' ranges' meaning only through setMemberValidation.
   */
  setMemberTraining(data: Dataset, batchSize: number, ranges: readonly WindowRange[]): void;
  /**
   * Makes `data` the shared validation windows and `ranges` (K) each member's part of them (a count
   * of 0: the member has none), or removes them (null). Every epoch that queues an error then also
   * queues each member's error over its range, in the same work.
   */
  setMemberValidation(data: Dataset | null, ranges?: readonly WindowRange[]): void;
  /** Chooses each member's optimizer and loss and resets every optimizer state; parameters stay. (K) */
  setMemberOptimizers(settings: readonly MemberOptimizer[]): void;

  /**
   * Queues one epoch of every member: max S_m minibatch steps, member m updating only in its first
   * S_m (and only when active), then each member's error over its training and validation ranges
   * unless `options.evaluate` is false, or over its validation range alone where
   * `options.trainingError` is false. Resolves once the epoch is handed to the device.
   */
  trainMembers(epoch: MemberEpoch, options?: EpochOptions): Promise<void>;
  /** (K) each member's errors of the epochs queued since the last call (waits for them). */
  readMemberLosses(): Promise<EpochLosses[]>;

  /** (K) each member's optimizer state after the epochs queued so far. */
  readMemberOptimizerStates(): Promise<OptimizerState[]>;
  /** Restores member m's optimizer state (same optimizer and parameter count). */
  setMemberOptimizerState(member: number, state: OptimizerState): void;

  /** Resolves when all queued work is complete. */
  finish(): Promise<void>;
  /** As Backend.dispose. */
  dispose(): Promise<void>;
}

/** Throws InputError(field) unless `member` is a member's index. */
export function checkMember(member: number, members: number, field = 'member'): void {
  if (!Number.isInteger(member) || member < 0 || member >= members) {
    throw new InputError(field, `expected a member from 0 to ${members - 1}, got ${member}`);
  }
}

/**
 * Throws InputError unless `ranges` holds one range per member, each inside the `count` windows, and
 * (for training, `batchSize` given) each with at least `batchSize` windows.
 */
export function checkMemberRanges(
  ranges: readonly WindowRange[],
  members: number,
  count: number,
  field: string,
  batchSize?: number,
): void {
  if (ranges.length !== members) {
    throw new InputError(field, `expected one range of windows per member (${members}), got ${ranges.length}`);
  }
  for (const [m, { start, count: n }] of ranges.entries()) {
    const least = batchSize ?? 0;
    if (!Number.isInteger(start) || !Number.isInteger(n) || start < 0 || n < least || start + n > count) {
      throw new InputError(
        `${field}[${m}]`,
        `expected whole numbers with start >= 0, count >= ${least} and start + count <= ${count}, got start ${start}, count ${n}`,
      );
    }
  }
}

/**
 * Throws InputError unless `epoch` holds for each of the members training on `ranges` with batches
 * of `batchSize` an order, a finite learning rate and (if given) whether it is active, and each
 * active member's order at least S_m * B positions, those inside its range (0 .. count_m - 1).
 */
export function checkMemberEpoch(epoch: MemberEpoch, ranges: readonly WindowRange[], batchSize: number): void {
  const members = ranges.length;
  const { orders, learningRates, active } = epoch;
  for (const [field, list] of [
    ['orders', orders],
    ['learningRates', learningRates],
    ['active', active ?? ranges],
  ] as const) {
    if (list.length !== members) {
      throw new InputError(field, `expected one entry per member (${members}), got ${list.length}`);
    }
  }
  for (const [m, rate] of learningRates.entries()) {
    if (!Number.isFinite(rate)) {
      throw new InputError(`learningRates[${m}]`, `expected a finite number, got ${describeValue(rate)}`);
    }
  }
  for (const [m, { count }] of ranges.entries()) {
    // A member that sits the epoch out reads nothing of its order.
    if (active?.[m] === false) continue;
    const used = Math.floor(count / batchSize) * batchSize;
    const order = orders[m];
    if (order.length < used) {
      throw new InputError(
        `orders[${m}]`,
        `expected at least ${used} positions (whole batches of ${count} windows), got ${order.length}`,
      );
    }
    for (let p = 0; p < used; p++) {
      if (order[p] >= count) {
        throw new InputError(`orders[${m}]`, `expected positions from 0 to ${count - 1}, got ${order[p]} at ${p}`);
      }
    }
  }
}

/** Every member on all `count` windows: the ranges of a population whose members share their data. */
export function sharedRanges(members: number, count: number): WindowRange[] {
  return Array.from({ length: members }, () => ({ start: 0, count }));
}

/** Minibatch steps of each member's epoch: floor(count_m / B). */
export function memberSteps(ranges: readonly WindowRange[], batchSize: number): number[] {
  return ranges.map((range) => Math.floor(range.count / batchSize));
}

/**
 * A single Backend as a population of one: the trainer's one loop drives a lone model through it.
 * Member methods take member 0 only.
 */
export function singleMember(backend: Backend): Population {
  const only = (member: number) => checkMember(member, 1);
  return {
    name: backend.name,
    config: backend.config,
    layout: backend.layout,
    members: 1,
    gpu: backend.gpu,
    setMemberParams(member, params) {
      only(member);
      backend.setParams(params);
    },
    readMemberParams: async () => [await backend.readParams()],
    predictMembers: async (x, count) => [await backend.predict(x, count)],
    memberGradients: async (x, t, batchSize) => [await backend.gradients(x, t, batchSize)],
    setMemberTraining(data, batchSize, ranges) {
      backend.setTrainingData(rangeOf(data, ranges[0]), batchSize);
    },
    setMemberValidation(data, ranges) {
      const range = data === null ? null : (ranges?.[0] ?? { start: 0, count: data.count });
      backend.setValidationData(data === null || range === null || range.count === 0 ? null : rangeOf(data, range));
    },
    setMemberOptimizers(settings) {
      backend.setOptimizer(settings[0].optimizer, settings[0].loss);
    },
    trainMembers: (epoch, options) => backend.trainEpoch(epoch.orders[0], epoch.learningRates[0], options),
    readMemberLosses: async () => [await backend.readLosses()],
    readMemberOptimizerStates: async () => [await backend.readOptimizerState()],
    setMemberOptimizerState(member, state) {
      only(member);
      backend.setOptimizerState(state);
    },
    finish: () => backend.finish(),
    dispose: () => backend.dispose(),
  };
}

/** The windows of `range` (the whole dataset itself when the range covers it). */
function rangeOf(data: Dataset, range: WindowRange): Dataset {
  if (range.start === 0 && range.count === data.count) return data;
  const { window: T, inputSize: I, outputSize: O } = data;
  return {
    ...data,
    count: range.count,
    x: data.x.subarray(range.start * T * I, (range.start + range.count) * T * I),
    t: data.t.subarray(range.start * O, (range.start + range.count) * O),
  };
}

/** A Backend or a Population as a population (an engine is both; a plain Backend is a population of one). */
export function asPopulation(racer: Backend | Population): Population {
  return 'trainMembers' in racer && typeof racer.trainMembers === 'function' ? racer : singleMember(racer as Backend);
}
