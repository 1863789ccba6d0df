// One model's training on one CPU engine (engine.ts): what a CPU backend does for each of its members
// (memberGroup.ts), on whichever thread holds the member. It grows the engine to the largest batch it
// meets (parameters and optimizer state carried over), runs the minibatch steps of an epoch and the
// errors after it, and keeps those errors until they are read. Arguments arrive checked (cpuBackend.ts
// checks them once for every member), so nothing here checks again.
//
// Legend: B = batch, N = windows, O = outputSize, P = parameter count.

import type { Dataset } from '../../data/dataset.js';
import type { ParamLayout } from '../../model/layout.js';
import {
  DEFAULT_OPTIMIZER,
  type LossName,
  lossScale,
  type OptimizerSettings,
  type OptimizerState,
} from '../../model/optimizer.js';
import type { EpochErrors, EpochLosses, GradientResult } from '../backend.js';
import { type CpuEngine, type CpuKernels, ReferenceEngine } from './engine.js';
import { FastLstm } from './fastLstm.js';
import { type KernelPool, kernelSimd, privateKernels } from './kernelLoader.js';
import type { KernelSimd } from './kernelsWasm.js';
import type { CpuThreadPool } from './threads.js';

/**
 * Windows the per-epoch error and predictions run through at once, so memory stays bounded whatever
 * the number of windows (the error is a sum over windows, so chunks change nothing but rounding).
 */
export const EVALUATION_ROWS = 64;

/** The rows an engine needs for minibatches of B and the errors over N windows. */
export function trainingRows(batchSize: number, count: number): number {
  return Math.max(batchSize, evaluationRows(count));
}

/** The rows an engine needs for the errors over (or the predictions of) N windows. */
export function evaluationRows(count: number): number {
  return Math.min(count, EVALUATION_ROWS);
}

/** Makes an engine for batches up to maxBatch training with `optimizer`. */
export type EngineFactory = (maxBatch: number, optimizer: OptimizerSettings) => CpuEngine;

/**
 * Engines of `kernels`: the fast ones with `simd` products (by default kernelSimd()), on one thread
 * or, given a pool, on the pool's memory with threads() of its threads. Without a pool, every engine
 * of one factory (a group's members, each model's engines as its batch grows) shares one memory and
 * kernel instance, made with the first (privateKernels): a thread holds one memory, not one a member.
 */
export function engineFactory(
  layout: ParamLayout,
  kernels: CpuKernels,
  simd: KernelSimd | undefined,
  pool: CpuThreadPool | null = null,
  threads: () => number = () => 1,
): EngineFactory {
  let host: KernelPool | null = pool;
  return (maxBatch, optimizer) => {
    if (kernels === 'reference') return new ReferenceEngine(layout, maxBatch, optimizer);
    host ??= privateKernels(simd ?? kernelSimd());
    const engine = new FastLstm(layout, maxBatch, optimizer, { pool: host });
    engine.threads = threads();
    return engine;
  };
}

/** Called with the steps done so far of the epoch being trained. */
export type StepCounter = (stepsDone: number) => void;

export class CpuModel {
  private readonly layout: ParamLayout;
  private readonly createEngine: EngineFactory;
  /** Parameters, optimizer state and buffers for the largest batch so far. */
  private current: CpuEngine;
  private loss: LossName = 'sse';
  private data: Dataset | null = null;
  private batchSize = 0;
  private validation: Dataset | null = null;
  /** The errors of the epochs since the last readLosses(). */
  private pending: EpochLosses = { train: [], validation: [] };

  constructor(layout: ParamLayout, createEngine: EngineFactory) {
    this.layout = layout;
    this.createEngine = createEngine;
    this.current = createEngine(1, DEFAULT_OPTIMIZER);
  }

  /** The engine as it is now (it is replaced when a batch outgrows it or the optimizer changes). */
  get engine(): CpuEngine {
    return this.current;
  }

  /** The engine, replaced by a larger one (parameters and optimizer state carried over) when `rows` outgrow it. */
  engineFor(rows: number): CpuEngine {
    if (this.current.maxBatch < rows) this.replaceEngine(rows, this.current.optimizer, true);
    return this.current;
  }

  /** A new engine with the parameters of the current one, and its optimizer state when `keepState`. */
  private replaceEngine(maxBatch: number, optimizer: OptimizerSettings, keepState: boolean): void {
    const old = this.current;
    const params = new Float32Array(this.layout.size);
    old.readParams(params);
    const state = keepState ? old.readOptimizerState() : null;
    const engine = this.createEngine(maxBatch, optimizer);
    engine.setParams(params);
    if (state !== null) engine.setOptimizerState(state);
    this.current = engine;
  }

  setOptimizer(settings: OptimizerSettings, loss: LossName): void {
    this.replaceEngine(this.current.maxBatch, { ...settings }, false);
    this.loss = loss;
  }

  readOptimizerState(): OptimizerState {
    return this.current.readOptimizerState();
  }

  setOptimizerState(state: OptimizerState): void {
    this.current.setOptimizerState(state);
  }

  setParams(params: Float32Array): void {
    this.current.setParams(params);
  }

  readParams(): Float32Array {
    const params = new Float32Array(this.layout.size);
    this.current.readParams(params);
    return params;
  }

  /** One forward and backward pass on a batch x (B, T, I), t (B, O), no update. */
  gradients(x: Float32Array, t: Float32Array, batchSize: number): GradientResult {
    const engine = this.engineFor(batchSize);
    engine.loadBatch(x, t, null, 0, batchSize);
    engine.forward(batchSize);
    const y = new Float32Array(batchSize * this.layout.config.outputSize);
    engine.readOutputs(batchSize, y, 0);
    const scale = lossScale(this.loss, batchSize, this.layout.config.outputSize);
    const loss = scale * engine.loss(batchSize, scale);
    engine.backward(batchSize);
    const grads = new Float32Array(this.layout.size);
    engine.readGrads(grads);
    return { loss, y, grads };
  }

  /** Outputs (N, O) of N windows x (N, T, I), in chunks of the engine's batch. */
  predict(x: Float32Array, count: number): Float32Array {
    const O = this.layout.config.outputSize;
    const engine = this.engineFor(evaluationRows(count));
    const out = new Float32Array(count * O);
    for (let start = 0; start < count; start += engine.maxBatch) {
      const rows = Math.min(engine.maxBatch, count - start);
      engine.loadBatch(x, null, null, start, rows);
      engine.forward(rows);
      engine.readOutputs(rows, out, start * O);
    }
    return out;
  }

  /** Makes `data` the training windows for minibatches of `batchSize`; returns the engine that trains on them. */
  setTrainingData(data: Dataset, batchSize: number): CpuEngine {
    this.data = data;
    this.batchSize = batchSize;
    return this.engineFor(trainingRows(batchSize, data.count));
  }

  setValidationData(data: Dataset | null): void {
    this.validation = data;
    if (data !== null) this.engineFor(evaluationRows(data.count));
  }

  /** The minibatch steps of an epoch on the training windows: floor(N / B). */
  get steps(): number {
    return this.data === null ? 0 : Math.floor(this.data.count / this.batchSize);
  }

  /**
   * One epoch: floor(N / B) minibatches taken from `order` (positions in the training windows), an
   * update after each, then the `errors` asked for. `counted` hears of every step.
   */
  trainEpoch(order: Uint32Array, learningRate: number, errors: EpochErrors, counted?: StepCounter): void {
    const data = this.data;
    if (data === null) throw new Error('trainEpoch before setTrainingData');
    const B = this.batchSize;
    const validation = this.validation;
    const engine = this.engineFor(trainingRows(B, Math.max(data.count, validation?.count ?? 0)));
    const steps = this.steps;
    const scale = lossScale(this.loss, B, this.layout.config.outputSize);
    for (let s = 0; s < steps; s++) {
      engine.loadBatch(data.x, data.t, order, s * B, B);
      engine.forward(B);
      engine.loss(B, scale);
      engine.backward(B);
      engine.update(learningRate);
      counted?.(s + 1);
    }
    if (errors === 'none') return;
    if (errors === 'all') this.pending.train.push(this.error(engine, data));
    if (validation !== null) this.pending.validation.push(this.error(engine, validation));
  }

  /** The blog's error over all of `data` summed over chunks, then made the chosen loss over all windows. */
  private error(engine: CpuEngine, data: Dataset): number {
    let error = 0;
    for (let start = 0; start < data.count; start += engine.maxBatch) {
      const rows = Math.min(engine.maxBatch, data.count - start);
      engine.loadBatch(data.x, data.t, null, start, rows);
      engine.forward(rows);
      error += engine.loss(rows, 1);
    }
    return lossScale(this.loss, data.count, this.layout.config.outputSize) * error;
  }

  /** The errors of the epochs since the last call. */
  readLosses(): EpochLosses {
    const losses = this.pending;
    this.pending = { train: [], validation: [] };
    return losses;
  }
}
