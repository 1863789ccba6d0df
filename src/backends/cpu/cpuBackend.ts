// The CPU backend: the LSTM behind the Backend and Population interfaces, computed by one of two
// engines (engine.ts): 'fast' (WebAssembly SIMD kernels, fastLstm.ts) or 'reference' (the readable
// TypeScript kernels of lstm.ts that every other path is tested against). The default is 'fast'
// wherever WebAssembly can run, else 'reference' (see fastKernelsProblem); `kernels` says which one a
// backend uses. Buffers are allocated when the shape, the largest batch or the optimizer changes,
// never inside the step loop.
// A backend trains K members (a population, population.ts; K = 1 unless asked), each a model of its
// own on an engine of its own (cpuModel.ts; a thread's engines take turns in one WebAssembly memory,
// fastLstm.ts). One member is a Backend: with a pool of threads
// (threads.ts; createCpuBackend starts one) its engine splits every step across them, on a count
// measured per model and batch, or as asked. Several members spread over member threads instead
// (createCpuPopulation starts them): each thread trains whole members (memberGroup.ts), member m on
// thread m mod threads, and the threads meet only when the caller reads.
//
// Legend: K = members, B = batch, N = windows, T = window, I = inputSize, O = outputSize,
// P = parameter count.

import type { Dataset } from '../../data/dataset.js';
import { InputError } from '../../model/errors.js';
import type { ModelConfig, ParamLayout } from '../../model/layout.js';
import {
  checkOptimizerState,
  DEFAULT_OPTIMIZER,
  type LossName,
  type OptimizerSettings,
  type OptimizerState,
} from '../../model/optimizer.js';
import type { ProbeOptions, WindowProbe } from '../../model/probe.js';
import type { CpuThreads } from '../../settings/threads.js';
import {
  type Backend,
  checkEpochProbe,
  checkParams,
  checkRows,
  checkTrainingData,
  checkValidationData,
  checkWindowsFit,
  DisposedError,
  EPOCH_PROGRESS_MS,
  type EpochLosses,
  type EpochOptions,
  epochErrors,
  type GradientResult,
} from '../backend.js';
import {
  checkMember,
  checkMemberEpoch,
  checkMemberRanges,
  type MemberEpoch,
  type MemberOptimizer,
  type Population,
  sharedRanges,
  type WindowRange,
} from '../population.js';
import { engineFactory, evaluationRows, trainingRows } from './cpuModel.js';
import { cpuProbe } from './cpuProbe.js';
import type { CpuKernels } from './engine.js';
import { FastLstm, fastLstmBytes, fastLstmStateBytes } from './fastLstm.js';
import { fastKernelsProblem, kernelSimd } from './kernelLoader.js';
import type { KernelSimd } from './kernelsWasm.js';
import { type GroupEpoch, type GroupWindows, MemberGroup, RemoteMemberGroup } from './memberGroup.js';
import { type CpuThreadPool, type MemberThread, measureThreads } from './threads.js';

export type { CpuKernels } from './engine.js';
export { fastKernelsProblem } from './kernelLoader.js';

export interface CpuBackendOptions {
  /** 'fast' or 'reference'; by default 'fast' where it can run (asking for 'fast' where it cannot throws). */
  kernels?: CpuKernels;
  /** Started threads (CpuThreadPool.start) for the fast kernels of one member; without, one thread. */
  pool?: CpuThreadPool | null;
  /** With a pool: 'auto' (the default) measures how many of its threads to use, a number uses that many. */
  threads?: CpuThreads;
  /** The fast kernels' products (without a pool; a pool's are its own): by default kernelSimd(). */
  simd?: KernelSimd;
  /** Why the backend has fewer threads than were asked for (createCpuBackend says). */
  threadsNote?: string | null;
  /** K, the members trained together; by default 1. */
  members?: number;
  /** Started member threads (createCpuPopulation), over which and this thread several members spread; the backend ends them. */
  memberThreads?: readonly MemberThread[];
}

/**
 * The most memory a population's engines may hold together: what one WebAssembly memory can, so that
 * a population never asks for more than the largest single model could.
 */
export const POPULATION_BYTES = 2 ** 32;

/** Throws InputError('members') unless `members` is a whole number of at least 1. */
export function checkMembers(members: number): void {
  if (!Number.isInteger(members) || members < 1) {
    throw new InputError('members', `expected a whole number of at least 1, got ${members}`);
  }
}

/**
 * The bytes K members (rows[m] rows, optimizers[m]) hold: each its parameters and optimizer state
 * (fastLstmStateBytes), and the one memory their engines take turns in, as large as the largest
 * carve (fastLstmBytes; a thread holds one such memory, as one model does, however many members it
 * trains). Returns the total, the largest member's state, the largest carve and the most rows.
 */
export function populationBytes(
  layout: ParamLayout,
  rows: readonly number[],
  optimizers: readonly OptimizerSettings[],
): { total: number; mostState: number; mostCarve: number; mostRows: number } {
  // Loops, not spreads: K may be far beyond what a call's arguments can hold.
  let states = 0;
  let mostState = 0;
  let mostCarve = 0;
  let mostRows = 0;
  // Members mostly share their rows and optimizer: each kind's bytes are worked out once.
  const known = new Map<string, { state: number; carve: number }>();
  rows.forEach((r, m) => {
    const key = `${r} ${optimizers[m].name}`;
    const bytes = known.get(key) ?? {
      state: fastLstmStateBytes(layout, optimizers[m]),
      carve: fastLstmBytes(layout, r, optimizers[m]),
    };
    known.set(key, bytes);
    states += bytes.state;
    mostState = Math.max(mostState, bytes.state);
    mostCarve = Math.max(mostCarve, bytes.carve);
    mostRows = Math.max(mostRows, r);
  });
  return { total: states + mostCarve, mostState, mostCarve, mostRows };
}

/**
 * Throws InputError('members') unless the members at these rows and optimizers fit in
 * POPULATION_BYTES together (populationBytes), naming the largest K that would.
 */
function checkMemoryOf(layout: ParamLayout, rows: readonly number[], optimizers: readonly OptimizerSettings[]): void {
  const { total, mostState, mostCarve, mostRows } = populationBytes(layout, rows, optimizers);
  if (total <= POPULATION_BYTES) return;
  const largest = Math.max(0, Math.floor((POPULATION_BYTES - mostCarve) / mostState));
  throw new InputError(
    'members',
    `${rows.length} members of ${layout.config.hiddenSizes.join(',')} hidden at up to ${mostRows} rows need ` +
      `${(total / 2 ** 30).toFixed(2)} GiB, more than the ${POPULATION_BYTES / 2 ** 30} GiB a population may hold; ` +
      `at most ${largest} fit`,
  );
}

/** Throws InputError('members') unless a new population of `members` fits (createCpuPopulation asks before starting threads). */
export function checkPopulationMemory(layout: ParamLayout, members: number): void {
  if (members > 1) checkMemoryOf(layout, new Array(members).fill(1), new Array(members).fill(DEFAULT_OPTIMIZER));
}

/** Where a member lives: its group (0: this thread's, g: member thread g's) and its place there. */
interface Placement {
  group: number;
  index: number;
}

export class CpuBackend implements Backend, Population {
  readonly name = 'cpu' as const;
  readonly gpu = null;
  readonly config: ModelConfig;
  readonly layout: ParamLayout;
  readonly kernels: CpuKernels;
  readonly members: number;
  /** Why this backend has fewer threads than asked for (one thread, say, on a page that is not cross-origin isolated), or null. */
  readonly threadsNote: string | null;
  private pool: CpuThreadPool | null;
  /** Whether the thread count is measured per training batch (threads: 'auto' with a pool). */
  private readonly autoThreads: boolean;
  private readonly simdChoice: KernelSimd | undefined;
  /** Threads the next engine starts with: the pool's, or what was asked for or measured. */
  private chosenThreads: number;
  /** The members on this thread; null once disposed. */
  private local: MemberGroup | null;
  /** The members on member threads, group g at g - 1. */
  private remote: RemoteMemberGroup[];
  /** (K) */
  private readonly placement: Placement[];
  /** (K) each member's engine rows and optimizer as its engine has them: what the memory check counts. */
  private readonly rows: number[];
  private readonly optimizers: OptimizerSettings[];
  /** (K) each member's training and validation windows, and the batch; null before they are set. */
  private training: WindowRange[] | null = null;
  private validation: WindowRange[] | null = null;
  private batchSize = 0;
  /** The probe of the last epoch that asked for one since the last readMemberLosses (EpochOptions.probe). */
  private epochProbe: Promise<WindowProbe[]> | null = null;

  constructor(layout: ParamLayout, options: CpuBackendOptions = {}) {
    this.layout = layout;
    this.config = layout.config;
    this.kernels = options.kernels ?? (fastKernelsProblem() === null ? 'fast' : 'reference');
    this.members = options.members ?? 1;
    checkMembers(this.members);
    const memberThreads = this.members > 1 ? (options.memberThreads ?? []) : [];
    this.pool = this.kernels === 'fast' && this.members === 1 ? (options.pool ?? null) : null;
    const threads = options.threads ?? 'auto';
    this.autoThreads = this.pool !== null && threads === 'auto';
    this.chosenThreads =
      this.pool === null ? 1 : threads === 'auto' ? this.pool.size : Math.min(threads, this.pool.size);
    this.threadsNote = options.threadsNote ?? null;
    this.simdChoice = options.pool?.simd ?? options.simd;
    this.rows = new Array<number>(this.members).fill(1);
    this.optimizers = new Array<OptimizerSettings>(this.members).fill(DEFAULT_OPTIMIZER);
    this.checkMemory(this.rows, this.optimizers);

    const groups = memberThreads.length + 1;
    this.placement = Array.from({ length: this.members }, (_, m) => ({
      group: m % groups,
      index: Math.floor(m / groups),
    }));
    const sizes = Array.from({ length: groups }, (_, g) => this.placement.filter((p) => p.group === g).length);
    this.local = new MemberGroup(
      layout,
      sizes[0],
      engineFactory(layout, this.kernels, this.simdChoice, this.pool, () => this.chosenThreads),
    );
    const simd = this.kernels === 'fast' ? (this.simdChoice ?? kernelSimd()) : undefined;
    this.remote = memberThreads.map(
      (thread, g) =>
        new RemoteMemberGroup(thread, { config: this.config, kernels: this.kernels, simd, size: sizes[g + 1] }),
    );
  }

  /** Threads training: the fast kernels' of one member (1 on the reference kernels), or the member threads and this one. */
  get threads(): number {
    if (this.members > 1) return 1 + this.remote.length;
    return this.engine instanceof FastLstm ? this.engine.threads : 1;
  }

  /** The fast kernels' products: 'relaxedSimd' (fused multiply-add) or 'simd'; null on the reference kernels. */
  get simd(): KernelSimd | null {
    return this.engine instanceof FastLstm ? this.engine.simd : null;
  }

  /** The members on this thread; throws once disposed. */
  private get group(): MemberGroup {
    if (this.local === null) throw new DisposedError(this.name);
    return this.local;
  }

  /** Member 0's engine (on this thread). */
  private get engine() {
    return this.group.models[0].engine;
  }

  private assertUsable(): void {
    if (this.local === null) throw new DisposedError(this.name);
  }

  /** Throws unless the backend trains one model: the Backend methods speak of one. */
  private assertOneModel(method: string): void {
    this.assertUsable();
    if (this.members > 1) {
      throw new Error(
        `${method} is for one model; this CPU backend trains ${this.members} members (use the member methods)`,
      );
    }
  }

  /** Throws InputError('members') unless the members' engines at these rows and optimizers fit (several members). */
  private checkMemory(rows: readonly number[], optimizers: readonly OptimizerSettings[]): void {
    if (this.members > 1) checkMemoryOf(this.layout, rows, optimizers);
  }

  /** Grows each member's rows to at least rows(m), after checking that the engines fit. */
  private growRows(rows: (member: number) => number): void {
    const grown = this.rows.map((r, m) => Math.max(r, rows(m)));
    if (grown.every((r, m) => r === this.rows[m])) return;
    this.checkMemory(grown, this.optimizers);
    grown.forEach((r, m) => {
      this.rows[m] = r;
    });
  }

  /** values (K) split into each group's, in its order. */
  private split<T>(values: readonly T[]): T[][] {
    const groups: T[][] = [[], ...this.remote.map(() => [])];
    values.forEach((value, m) => {
      groups[this.placement[m].group].push(value);
    });
    return groups;
  }

  /** Each group's results (in its order) back in member order. */
  private joined<T>(groups: readonly (readonly T[])[]): T[] {
    return this.placement.map(({ group, index }) => groups[group][index]);
  }

  /**
   * Asks every group for its members' results, this thread's group last (the member threads work
   * meanwhile), and returns them in member order. `remote` is given the group's number (1..).
   */
  private async readAll<T>(
    local: (group: MemberGroup) => T[],
    remote: (group: RemoteMemberGroup, g: number) => Promise<T[]>,
  ): Promise<T[]> {
    const group = this.group;
    const answers = Promise.all(this.remote.map((r, g) => remote(r, g + 1)));
    let own: T[];
    try {
      own = local(group);
    } catch (err) {
      answers.catch(() => undefined);
      throw err;
    }
    return this.joined([own, ...(await answers)]);
  }

  // The Backend: member 0 of a backend of one member.

  setParams(params: Float32Array): void {
    this.assertOneModel('setParams');
    this.setMemberParams(0, params);
  }

  async readParams(): Promise<Float32Array> {
    this.assertOneModel('readParams');
    return (await this.readMemberParams())[0];
  }

  async gradients(x: Float32Array, t: Float32Array, batchSize: number): Promise<GradientResult> {
    this.assertOneModel('gradients');
    return (await this.memberGradients(x, t, batchSize))[0];
  }

  async predict(x: Float32Array, count: number): Promise<Float32Array> {
    this.assertOneModel('predict');
    return (await this.predictMembers(x, count))[0];
  }

  async probe(x: Float32Array, count: number, options: ProbeOptions = {}): Promise<WindowProbe[]> {
    this.assertOneModel('probe');
    checkRows('count', count, this.config, x, null);
    return cpuProbe(this.layout, await this.readParams(), x, count, options);
  }

  setTrainingData(data: Dataset, batchSize: number): void {
    this.assertOneModel('setTrainingData');
    checkTrainingData(data, batchSize, this.config);
    this.setTraining(data, batchSize, sharedRanges(1, data.count));
  }

  setValidationData(data: Dataset | null): void {
    this.assertOneModel('setValidationData');
    if (data !== null) checkValidationData(data, this.config);
    this.setValidation(data, data === null ? null : sharedRanges(1, data.count));
  }

  async trainEpoch(order: Uint32Array, learningRate: number, options: EpochOptions = {}): Promise<void> {
    this.assertOneModel('trainEpoch');
    if (this.training === null) throw new Error('trainEpoch before setTrainingData');
    await this.trainMembers({ orders: [order], learningRates: [learningRate] }, options);
  }

  async readLosses(): Promise<EpochLosses> {
    this.assertOneModel('readLosses');
    return (await this.readMemberLosses())[0];
  }

  setOptimizer(settings: OptimizerSettings, loss: LossName): void {
    this.assertOneModel('setOptimizer');
    this.setMemberOptimizers([{ optimizer: settings, loss }]);
  }

  async readOptimizerState(): Promise<OptimizerState> {
    this.assertOneModel('readOptimizerState');
    return (await this.readMemberOptimizerStates())[0];
  }

  setOptimizerState(state: OptimizerState): void {
    this.assertOneModel('setOptimizerState');
    this.setMemberOptimizerState(0, state);
  }

  // The Population.

  setMemberParams(member: number, params: Float32Array): void {
    this.assertUsable();
    checkMember(member, this.members);
    checkParams(params, this.layout);
    const { group, index } = this.placement[member];
    if (group === 0) this.group.setParams(index, params);
    else this.remote[group - 1].send('setParams', index, params);
  }

  readMemberParams(): Promise<Float32Array[]> {
    return this.readAll(
      (group) => group.readParams(),
      (group) => group.call('readParams'),
    );
  }

  async predictMembers(x: Float32Array, count: number, each = false): Promise<Float32Array[]> {
    this.assertUsable();
    checkRows('count', count, this.config, x, null);
    const windowValues = count * this.config.window * this.config.inputSize;
    if (each && x.length < this.members * windowValues) {
      throw new InputError(
        'x',
        `expected ${this.members * windowValues} values (${count} windows for each of ${this.members} members), got ${x.length}`,
      );
    }
    this.growRows(() => evaluationRows(count));
    const xs = Array.from({ length: this.members }, (_, m) =>
      x.subarray(each ? m * windowValues : 0, (each ? m + 1 : 1) * windowValues),
    );
    const split = this.split(xs);
    // A member thread is sent its members' windows only, and windows they share once.
    const shared = !each && this.remote.length > 0 ? xs[0].slice() : null;
    return this.readAll(
      (group) => group.predict(split[0], count),
      (group, g) =>
        group.call(
          'predict',
          split[g].map((windows) => shared ?? windows.slice()),
          count,
        ),
    );
  }

  async memberGradients(x: Float32Array, t: Float32Array, batchSize: number): Promise<GradientResult[]> {
    this.assertUsable();
    checkRows('batch', batchSize, this.config, x, t);
    this.growRows(() => batchSize);
    const { window: T, inputSize: I, outputSize: O } = this.config;
    const batchX = x.subarray(0, batchSize * T * I);
    const batchT = t.subarray(0, batchSize * O);
    return this.readAll(
      (group) => group.gradients(batchX, batchT, batchSize),
      (group) => group.call('gradients', batchX.slice(), batchT.slice(), batchSize),
    );
  }

  setMemberTraining(data: Dataset, batchSize: number, ranges: readonly WindowRange[]): void {
    this.assertUsable();
    checkWindowsFit(data, this.config, 'data');
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new InputError('batch', `expected a whole number of at least 1, got ${batchSize}`);
    }
    checkMemberRanges(ranges, this.members, data.count, 'training', batchSize);
    this.setTraining(data, batchSize, ranges);
  }

  /** Makes `ranges` of `data` (checked) the members' training windows. */
  private setTraining(data: Dataset, batchSize: number, ranges: readonly WindowRange[]): void {
    this.growRows((m) => trainingRows(batchSize, ranges[m].count));
    this.training = ranges.map(({ start, count }) => ({ start, count }));
    this.batchSize = batchSize;
    const split = this.split(this.training);
    this.group.setTraining({ x: data.x, t: data.t, ranges: split[0] }, batchSize);
    this.remote.forEach((group, g) => {
      group.send('setTraining', this.windowsFor(data, split[g + 1]), batchSize);
    });
    const engine = this.engine;
    if (this.autoThreads && engine instanceof FastLstm) {
      const { start, count } = ranges[0];
      const { window: T, inputSize: I, outputSize: O } = this.config;
      const x = data.x.subarray(start * T * I);
      this.chosenThreads = measureThreads(engine, x, data.t.subarray(start * O), count, batchSize);
    }
  }

  /**
   * The part of `data` a member thread's members read (from the first window of their ranges to past
   * the last), copied, with their ranges moved to start there: a thread is sent no more than it reads.
   */
  private windowsFor(data: Dataset, ranges: WindowRange[]): GroupWindows {
    const used = ranges.filter((r) => r.count > 0);
    const from = used.reduce((least, r) => Math.min(least, r.start), used.length === 0 ? 0 : data.count);
    const to = used.reduce((most, r) => Math.max(most, r.start + r.count), 0);
    const { window: T, inputSize: I, outputSize: O } = this.config;
    return {
      x: data.x.slice(from * T * I, to * T * I),
      t: data.t.slice(from * O, to * O),
      ranges: ranges.map(({ start, count }) => ({ start: count > 0 ? start - from : 0, count })),
    };
  }

  setMemberValidation(data: Dataset | null, ranges?: readonly WindowRange[]): void {
    this.assertUsable();
    if (data === null) {
      this.setValidation(null, null);
      return;
    }
    checkValidationData(data, this.config);
    const chosen = ranges ?? sharedRanges(this.members, data.count);
    checkMemberRanges(chosen, this.members, data.count, 'validation');
    this.setValidation(data, chosen);
  }

  /** Makes `ranges` of `data` (checked) the members' validation windows, or removes them (null). */
  private setValidation(data: Dataset | null, ranges: readonly WindowRange[] | null): void {
    if (data === null || ranges === null) {
      this.validation = null;
      this.group.setValidation(null);
      for (const group of this.remote) group.send('setValidation', null);
      return;
    }
    this.growRows((m) => evaluationRows(ranges[m].count));
    this.validation = ranges.map(({ start, count }) => ({ start, count }));
    const split = this.split(this.validation);
    this.group.setValidation({ x: data.x, t: data.t, ranges: split[0] });
    this.remote.forEach((group, g) => {
      group.send('setValidation', this.windowsFor(data, split[g + 1]));
    });
  }

  setMemberOptimizers(settings: readonly MemberOptimizer[]): void {
    this.assertUsable();
    if (settings.length !== this.members) {
      throw new InputError('optimizers', `expected one optimizer per member (${this.members}), got ${settings.length}`);
    }
    const optimizers = settings.map((s) => ({ ...s.optimizer }));
    this.checkMemory(this.rows, optimizers);
    optimizers.forEach((optimizer, m) => {
      this.optimizers[m] = optimizer;
    });
    const split = this.split(settings.map(({ optimizer, loss }) => ({ optimizer: { ...optimizer }, loss })));
    this.group.setOptimizers(split[0]);
    this.remote.forEach((group, g) => {
      group.send('setOptimizers', split[g + 1]);
    });
  }

  readMemberOptimizerStates(): Promise<OptimizerState[]> {
    return this.readAll(
      (group) => group.readOptimizerStates(),
      (group) => group.call('readOptimizerStates'),
    );
  }

  setMemberOptimizerState(member: number, state: OptimizerState): void {
    this.assertUsable();
    checkMember(member, this.members);
    checkOptimizerState(state, this.optimizers[member].name, this.layout.size);
    const { group, index } = this.placement[member];
    if (group === 0) this.group.setOptimizerState(index, state);
    else this.remote[group - 1].send('setOptimizerState', index, state);
  }

  async trainMembers(epoch: MemberEpoch, options: EpochOptions = {}): Promise<void> {
    this.assertUsable();
    const training = this.training;
    if (training === null) throw new Error('trainMembers before setMemberTraining');
    const B = this.batchSize;
    checkMemberEpoch(epoch, training, B);
    const active = epoch.active ?? new Array<boolean>(this.members).fill(true);
    const steps = training.map(({ count }) => Math.floor(count / B));
    // A member thread is sent only the entries of an order its member reads.
    const orders = epoch.orders.map((order, m) => order.subarray(0, steps[m] * B));
    const split = {
      orders: this.split(orders),
      learningRates: this.split(epoch.learningRates),
      active: this.split(active),
    };
    const errors = epochErrors(options);
    const probe = options.probe;
    if (probe !== undefined) checkEpochProbe(probe, this.members, errors !== 'none', this.config);
    const groupEpoch = (g: number): GroupEpoch => ({
      orders: split.orders[g],
      learningRates: split.learningRates[g],
      active: split.active[g],
      errors,
    });
    this.remote.forEach((group, g) => {
      group.send('train', groupEpoch(g + 1));
    });
    const own = groupEpoch(0);
    const populationSteps = steps.reduce((most, s, m) => (active[m] ? Math.max(most, s) : most), 0);
    this.group.train(own, progressCounter(options.onProgress, this.group.stepsOf(own), populationSteps));
    if (probe !== undefined) {
      // The parameters this epoch leaves, asked for now (a later epoch changes them); the windows copied.
      const { window: T, inputSize: I } = this.config;
      const x = probe.x.slice(0, probe.count * T * I);
      const probed = this.readMemberParams().then(([params]) =>
        cpuProbe(this.layout, params, x, probe.count, probe.options),
      );
      probed.catch(() => undefined);
      this.epochProbe = probed;
    }
  }

  async readMemberLosses(): Promise<EpochLosses[]> {
    const probed = this.epochProbe;
    this.epochProbe = null;
    const losses = await this.readAll(
      (group) => group.readLosses(),
      (group) => group.call('readLosses'),
    );
    if (probed === null) return losses;
    const probe = await probed;
    return losses.map((member) => ({ ...member, probe }));
  }

  /**
   * The WebAssembly memories the members' engines hold, over every thread: one a thread on the fast
   * kernels (its members take turns in it), however many members (a browser gives a page only so many).
   */
  async memories(): Promise<number> {
    const own = this.group.memories();
    const remote = await Promise.all(this.remote.map((group) => group.call('memories')));
    return remote.reduce((sum, count) => sum + count, own);
  }

  /** Resolves when every member thread has done what it was sent (this thread's work is done when its calls return). */
  async finish(): Promise<void> {
    this.assertUsable();
    await Promise.all(this.remote.map((group) => group.call('finish')));
  }

  /** Drops the members (parameters, optimizer state, buffers) and the data, and ends the threads. */
  async dispose(): Promise<void> {
    this.local = null;
    const pool = this.pool;
    this.pool = null;
    pool?.dispose();
    const remote = this.remote;
    this.remote = [];
    this.training = null;
    this.validation = null;
    await Promise.all(remote.map((group) => group.dispose(new DisposedError(this.name)).catch(() => undefined)));
  }
}

/**
 * A step counter that tells onProgress the population's steps done (of `populationSteps`), from this
 * thread's `ownSteps`: at most every EPOCH_PROGRESS_MS, the clock read every 8 steps (a step can take
 * microseconds), never at the end. With one member the two counts are the same.
 */
function progressCounter(
  onProgress: ((stepsDone: number) => void) | undefined,
  ownSteps: number,
  populationSteps: number,
): ((stepsDone: number) => void) | undefined {
  if (onProgress === undefined || ownSteps === 0) return undefined;
  let progressAt = performance.now() + EPOCH_PROGRESS_MS;
  return (done) => {
    if ((done & 7) === 0 && done < ownSteps && performance.now() >= progressAt) {
      onProgress(Math.floor((done * populationSteps) / ownSteps));
      progressAt = performance.now() + EPOCH_PROGRESS_MS;
    }
  };
}
