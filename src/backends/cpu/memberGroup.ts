// The members of a CPU population that one thread trains: a group of models (cpuModel.ts), each on an
// engine of its own, so a member's steps never wait for another's and its results are those of the
// same model trained alone. The engines take turns in one WebAssembly memory (engineFactory,
// fastLstm.ts): a browser gives a page only so many memories, and a thread runs one member at a time
// anyway. cpuBackend.ts spreads a population's members over groups:
// one on the calling thread, which it calls directly, and one on each member thread, which it calls by
// messages (RemoteMemberGroup posts them, serveMemberGroup answers them there with the same class).
// A group's calls take its members in its own order (0 .. size - 1); cpuBackend.ts maps them.
//
// Legend: K = the group's members, N = windows, T = window, I = inputSize, O = outputSize, B = batch.

import type { Dataset } from '../../data/dataset.js';
import { type ModelConfig, type ParamLayout, paramLayout } from '../../model/layout.js';
import type { OptimizerState } from '../../model/optimizer.js';
import type { EpochErrors, EpochLosses, GradientResult } from '../backend.js';
import type { MemberOptimizer, WindowRange } from '../population.js';
import { CpuModel, type EngineFactory, engineFactory, type StepCounter } from './cpuModel.js';
import type { CpuKernels } from './engine.js';
import { FastLstm } from './fastLstm.js';
import type { KernelSimd } from './kernelsWasm.js';
import type { MemberThread } from './threads.js';

/** Windows the group's members share: x (N, T, I), t (N, O), and each member's range of them. */
export interface GroupWindows {
  x: Float32Array;
  t: Float32Array;
  /** (K) a count of 0: the member has none */
  ranges: WindowRange[];
}

/** One epoch of the group's members. */
export interface GroupEpoch {
  /** (K) each member's order, positions in its training range (its first S_m * B entries are read) */
  orders: Uint32Array[];
  /** (K) */
  learningRates: number[];
  /** (K) whether each member trains (an inactive one keeps its parameters, state and errors as they are) */
  active: boolean[];
  errors: EpochErrors;
}

/** What a member thread needs to make its group. */
export interface GroupSetup {
  config: ModelConfig;
  kernels: CpuKernels;
  simd: KernelSimd | undefined;
  size: number;
}

/** `range` of the windows in `windows` as a dataset of the model's shape (views, no copy). */
function windowsOf(windows: GroupWindows, range: WindowRange, config: ModelConfig): Dataset {
  const { window, inputSize, outputSize } = config;
  const { start, count } = range;
  const x = windows.x.subarray(start * window * inputSize, (start + count) * window * inputSize);
  const t = windows.t.subarray(start * outputSize, (start + count) * outputSize);
  return { count, window, inputSize, outputSize, x, t };
}

export class MemberGroup {
  readonly layout: ParamLayout;
  readonly models: CpuModel[];

  constructor(layout: ParamLayout, size: number, createEngine: EngineFactory) {
    this.layout = layout;
    this.models = Array.from({ length: size }, () => new CpuModel(layout, createEngine));
  }

  /** The group a member thread makes from what it was sent. */
  static fromSetup({ config, kernels, simd, size }: GroupSetup): MemberGroup {
    const layout = paramLayout(config);
    return new MemberGroup(layout, size, engineFactory(layout, kernels, simd));
  }

  setParams(member: number, params: Float32Array): void {
    this.models[member].setParams(params);
  }

  readParams(): Float32Array[] {
    return this.models.map((model) => model.readParams());
  }

  setOptimizers(settings: MemberOptimizer[]): void {
    settings.forEach(({ optimizer, loss }, m) => {
      this.models[m].setOptimizer(optimizer, loss);
    });
  }

  readOptimizerStates(): OptimizerState[] {
    return this.models.map((model) => model.readOptimizerState());
  }

  setOptimizerState(member: number, state: OptimizerState): void {
    this.models[member].setOptimizerState(state);
  }

  setTraining(windows: GroupWindows, batchSize: number): void {
    this.models.forEach((model, m) => {
      model.setTrainingData(windowsOf(windows, windows.ranges[m], this.layout.config), batchSize);
    });
  }

  setValidation(windows: GroupWindows | null): void {
    this.models.forEach((model, m) => {
      const range = windows?.ranges[m];
      model.setValidationData(
        windows && range && range.count > 0 ? windowsOf(windows, range, this.layout.config) : null,
      );
    });
  }

  /** Minibatch steps the active members take in `epoch`, all together. */
  stepsOf(epoch: Pick<GroupEpoch, 'active'>): number {
    return this.models.reduce((sum, model, m) => sum + (epoch.active[m] ? model.steps : 0), 0);
  }

  /**
   * Each active member's epoch, one member after another (its engine's memory stays in the caches
   * for all of its steps). `counted` hears the group's steps done so far.
   */
  train(epoch: GroupEpoch, counted?: StepCounter): void {
    let before = 0;
    this.models.forEach((model, m) => {
      if (!epoch.active[m]) return;
      const at = before;
      model.trainEpoch(
        epoch.orders[m],
        epoch.learningRates[m],
        epoch.errors,
        counted && ((steps) => counted(at + steps)),
      );
      before += model.steps;
    });
  }

  readLosses(): EpochLosses[] {
    return this.models.map((model) => model.readLosses());
  }

  /** Outputs (N, O) of each member on its windows xs[m] (N, T, I). */
  predict(xs: Float32Array[], count: number): Float32Array[] {
    return this.models.map((model, m) => model.predict(xs[m], count));
  }

  gradients(x: Float32Array, t: Float32Array, batchSize: number): GradientResult[] {
    return this.models.map((model) => model.gradients(x, t, batchSize));
  }

  /** The WebAssembly memories the members' engines hold: one for all of them (engineFactory), none on the reference kernels. */
  memories(): number {
    return new Set(this.models.flatMap(({ engine }) => (engine instanceof FastLstm ? [engine.host.memory] : []))).size;
  }

  /** Nothing: its answer says that every call before it is done. */
  finish(): void {}
}

/** The calls a member thread answers: MemberGroup's, less the ones only its own thread makes. */
type GroupCalls = Omit<MemberGroup, 'layout' | 'models' | 'stepsOf'>;
type GroupMethod = keyof GroupCalls;

/** A message to a member thread: its setup (first), then calls of its group. */
export type GroupRequest =
  | { id: number; method: 'setup'; args: [GroupSetup] }
  | { [M in GroupMethod]: { id: number; method: M; args: Parameters<GroupCalls[M]> } }[GroupMethod];

/** A member thread's answer to the request of the same id. */
export type GroupReply = { id: number; result: unknown } | { id: number; failure: string };

/** The buffers of the typed arrays inside a result (arrays and objects walked): its transfer list. */
function buffersIn(value: unknown, into: Set<ArrayBuffer> = new Set()): ArrayBuffer[] {
  if (ArrayBuffer.isView(value)) {
    if (value.buffer instanceof ArrayBuffer) into.add(value.buffer);
  } else if (Array.isArray(value)) {
    for (const item of value) buffersIn(item, into);
  } else if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) buffersIn(item, into);
  }
  return [...into];
}

/** What a thread's end of the messages offers serveMemberGroup. */
export interface GroupPort {
  post(message: GroupReply, transfer: Transferable[]): void;
  listen(onRequest: (request: GroupRequest) => void): void;
}

/**
 * Answers a member thread's requests with one MemberGroup, in order. Results go back transferred
 * (every array in them is fresh); a failure goes back as its message, and the thread goes on.
 */
export function serveMemberGroup(port: GroupPort): void {
  let group: MemberGroup | null = null;
  port.listen((request) => {
    try {
      let result: unknown;
      if (request.method === 'setup') {
        group = MemberGroup.fromSetup(request.args[0]);
      } else {
        if (group === null) throw new Error(`${request.method} before the member thread's setup`);
        result = (group[request.method] as (...args: unknown[]) => unknown)(...request.args);
      }
      port.post({ id: request.id, result }, buffersIn(result));
    } catch (err) {
      port.post({ id: request.id, failure: err instanceof Error ? (err.stack ?? err.message) : String(err) }, []);
    }
  });
}

/** Results of the calls a caller waits for. */
type Pending = Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>;

/**
 * A group on a member thread, called by messages, which the thread answers in order. `call` waits
 * for the answer; `send` does not, and a failure of a sent call fails the next call waited for (the
 * setters that send are checked before, so that is a thread's failure, not a caller's mistake).
 */
export class RemoteMemberGroup {
  readonly size: number;
  private readonly thread: MemberThread;
  private readonly pending: Pending = new Map();
  private nextId = 0;
  /** The first failure of the thread or of a sent call; every later call fails with it. */
  private failure: Error | null = null;

  constructor(thread: MemberThread, setup: GroupSetup) {
    this.thread = thread;
    this.size = setup.size;
    thread.listen(
      (message) => this.answered(message as GroupReply),
      (err) => this.failed(new Error(`a member thread of the CPU backend failed: ${err.message}`, { cause: err })),
    );
    this.post({ id: this.nextId++, method: 'setup', args: [setup] }, false);
  }

  private answered(reply: GroupReply): void {
    const waiting = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    if ('failure' in reply) {
      const err = new Error(`a member thread of the CPU backend failed: ${reply.failure}`);
      if (waiting === undefined) this.failure ??= err;
      else waiting.reject(this.failure ?? err);
    } else if (waiting !== undefined) {
      if (this.failure === null) waiting.resolve(reply.result);
      else waiting.reject(this.failure);
    }
  }

  private failed(err: Error): void {
    this.failure ??= err;
    for (const { reject } of this.pending.values()) reject(this.failure);
    this.pending.clear();
  }

  /**
   * Posts a request, its arrays copied (the caller's stay its own; a view copies its whole buffer once
   * a message). Returns the answer's promise when `wait`.
   */
  private post(request: GroupRequest, wait: boolean): Promise<unknown> | null {
    if (this.failure !== null) throw this.failure;
    const answer = wait
      ? new Promise<unknown>((resolve, reject) => this.pending.set(request.id, { resolve, reject }))
      : null;
    this.thread.post(request, []);
    return answer;
  }

  /** Calls `method` on the thread's group and waits for its result. */
  call<M extends GroupMethod>(method: M, ...args: Parameters<GroupCalls[M]>): Promise<ReturnType<GroupCalls[M]>> {
    const request = { id: this.nextId++, method, args } as GroupRequest;
    return this.post(request, true) as Promise<ReturnType<GroupCalls[M]>>;
  }

  /** Calls `method` on the thread's group without waiting. */
  send<M extends GroupMethod>(method: M, ...args: Parameters<GroupCalls[M]>): void {
    this.post({ id: this.nextId++, method, args } as GroupRequest, false);
  }

  /** Ends the thread; calls still waiting fail with `reason`. */
  async dispose(reason: Error): Promise<void> {
    this.failed(reason);
    await this.thread.terminate();
  }
}
