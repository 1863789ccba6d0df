// The CPU backend: the LSTM behind the Backend interface, computed by one of two engines (engine.ts):
// 'fast' (WebAssembly SIMD kernels, fastLstm.ts) or 'reference' (the readable TypeScript kernels of
// lstm.ts that every other path is tested against). The default is 'fast' wherever WebAssembly can
// run, else 'reference' (see fastKernelsProblem); `kernels` says which one a backend uses. Buffers are
// allocated when the shape, the largest batch or the optimizer changes, never inside the step loop.
// With a pool of threads (threads.ts; createCpuBackend starts one) the fast engine splits every step
// across them, on a count measured per model and batch, or as asked.
//
// Legend: B = batch, N = samples, O = outputSize, P = parameter count.

import type { Dataset } from '../../data/dataset.js';
import type { ModelConfig, ParamLayout } from '../../model/layout.js';
import {
  checkOptimizerState,
  DEFAULT_OPTIMIZER,
  type LossName,
  lossScale,
  type OptimizerSettings,
  type OptimizerState,
} from '../../model/optimizer.js';
import type { CpuThreads } from '../../settings/threads.js';
import {
  type Backend,
  checkParams,
  checkRows,
  checkTrainingData,
  checkValidationData,
  DisposedError,
  EPOCH_PROGRESS_MS,
  type EpochLosses,
  type EpochOptions,
  type GradientResult,
} from '../backend.js';
import { type CpuEngine, type CpuKernels, ReferenceEngine } from './engine.js';
import { FastLstm, fastKernelsProblem } from './fastLstm.js';
import type { KernelSimd } from './kernelsWasm.js';
import { type CpuThreadPool, measureThreads } from './threads.js';

export type { CpuKernels } from './engine.js';
export { fastKernelsProblem } from './fastLstm.js';

export interface CpuBackendOptions {
  /** 'fast' or 'reference'; by default 'fast' where it can run (asking for 'fast' where it cannot throws). */
  kernels?: CpuKernels;
  /** Started threads (CpuThreadPool.start) for the fast kernels; without, one thread. */
  pool?: CpuThreadPool | null;
  /** With a pool: 'auto' (the default) measures how many of its threads to use, a number uses that many. */
  threads?: CpuThreads;
  /** The fast kernels' products (without a pool; a pool's are its own): by default kernelSimd(). */
  simd?: KernelSimd;
  /** Why the backend has fewer threads than were asked for (createCpuBackend says). */
  threadsNote?: string | null;
}

/**
 * Samples the per-epoch error and predictions run through at once, so memory stays bounded whatever
 * the number of samples (the error is a sum over samples, so chunks change nothing but rounding).
 */
const EVALUATION_ROWS = 64;

export class CpuBackend implements Backend {
  readonly name = 'cpu' as const;
  readonly gpu = null;
  readonly config: ModelConfig;
  readonly layout: ParamLayout;
  readonly kernels: CpuKernels;
  /** Why this backend has fewer threads than asked for (one thread, say, on a page that is not cross-origin isolated), or null. */
  readonly threadsNote: string | null;
  private pool: CpuThreadPool | null;
  /** Whether the thread count is measured per training batch (threads: 'auto' with a pool). */
  private readonly autoThreads: boolean;
  private readonly simdChoice: KernelSimd | undefined;
  /** Threads the next engine starts with: the pool's, or what was asked for or measured. */
  private chosenThreads: number;
  /** Parameters, optimizer state and buffers for the largest batch so far; null once disposed. */
  private current: CpuEngine | null;
  private data: Dataset | null = null;
  private batchSize = 0;
  private validation: Dataset | null = null;
  /** The errors of the epochs since the last readLosses(). */
  private pending: EpochLosses = { train: [], validation: [] };
  private loss: LossName = 'sse';

  constructor(layout: ParamLayout, options: CpuBackendOptions = {}) {
    this.layout = layout;
    this.config = layout.config;
    this.kernels = options.kernels ?? (fastKernelsProblem() === null ? 'fast' : 'reference');
    this.pool = this.kernels === 'fast' ? (options.pool ?? null) : null;
    const threads = options.threads ?? 'auto';
    this.autoThreads = this.pool !== null && threads === 'auto';
    this.chosenThreads =
      this.pool === null ? 1 : threads === 'auto' ? this.pool.size : Math.min(threads, this.pool.size);
    this.threadsNote = options.threadsNote ?? null;
    this.simdChoice = options.pool?.simd ?? options.simd;
    this.current = this.createEngine(1);
  }

  /** Threads the fast kernels use now (1 on the reference kernels). */
  get threads(): number {
    return this.engine instanceof FastLstm ? this.engine.threads : 1;
  }

  /** The fast kernels' products: 'relaxedSimd' (fused multiply-add) or 'simd'; null on the reference kernels. */
  get simd(): KernelSimd | null {
    return this.engine instanceof FastLstm ? this.engine.simd : null;
  }

  private createEngine(maxBatch: number, optimizer: OptimizerSettings = DEFAULT_OPTIMIZER): CpuEngine {
    if (this.kernels === 'reference') return new ReferenceEngine(this.layout, maxBatch, optimizer);
    const engine = new FastLstm(this.layout, maxBatch, optimizer, { pool: this.pool, simd: this.simdChoice });
    engine.threads = this.chosenThreads;
    return engine;
  }

  private assertUsable(): void {
    if (this.current === null) throw new DisposedError(this.name);
  }

  /** The engine; throws once disposed. */
  private get engine(): CpuEngine {
    if (this.current === null) throw new DisposedError(this.name);
    return this.current;
  }

  /** The engine, replaced by a larger one (parameters and optimizer state carried over) when `batch` outgrows it. */
  private engineFor(batch: number): CpuEngine {
    const engine = this.engine;
    if (engine.maxBatch < batch) this.replaceEngine(batch, engine.optimizer, true);
    return this.engine;
  }

  /** A new engine with the parameters of the current one, and its optimizer state when `keepState`. */
  private replaceEngine(maxBatch: number, optimizer: OptimizerSettings, keepState: boolean): void {
    const old = this.engine;
    const params = new Float32Array(this.layout.size);
    old.readParams(params);
    const state = keepState ? old.readOptimizerState() : null;
    const engine = this.createEngine(maxBatch, optimizer);
    engine.setParams(params);
    if (state !== null) engine.setOptimizerState(state);
    this.current = engine;
  }

  setOptimizer(settings: OptimizerSettings, loss: LossName): void {
    this.replaceEngine(this.engine.maxBatch, { ...settings }, false);
    this.loss = loss;
  }

  async readOptimizerState(): Promise<OptimizerState> {
    return this.engine.readOptimizerState();
  }

  setOptimizerState(state: OptimizerState): void {
    checkOptimizerState(state, this.engine.optimizer.name, this.layout.size);
    this.engine.setOptimizerState(state);
  }

  setParams(params: Float32Array): void {
    this.assertUsable();
    checkParams(params, this.layout);
    this.engine.setParams(params);
  }

  async readParams(): Promise<Float32Array> {
    const params = new Float32Array(this.layout.size);
    this.engine.readParams(params);
    return params;
  }

  async gradients(x: Float32Array, t: Float32Array, batchSize: number): Promise<GradientResult> {
    checkRows('batch', batchSize, this.config, x, t);
    const engine = this.engineFor(batchSize);
    engine.loadBatch(x, t, null, 0, batchSize);
    engine.forward(batchSize);
    const y = new Float32Array(batchSize * this.config.outputSize);
    engine.readOutputs(batchSize, y, 0);
    const scale = lossScale(this.loss, batchSize, this.config.outputSize);
    const loss = scale * engine.loss(batchSize, scale);
    engine.backward(batchSize);
    const grads = new Float32Array(this.layout.size);
    engine.readGrads(grads);
    return { loss, y, grads };
  }

  async predict(x: Float32Array, count: number): Promise<Float32Array> {
    checkRows('count', count, this.config, x, null);
    const O = this.config.outputSize;
    const engine = this.engineFor(Math.min(count, EVALUATION_ROWS));
    const out = new Float32Array(count * O);
    for (let start = 0; start < count; start += engine.maxBatch) {
      const rows = Math.min(engine.maxBatch, count - start);
      engine.loadBatch(x, null, null, start, rows);
      engine.forward(rows);
      engine.readOutputs(rows, out, start * O);
    }
    return out;
  }

  setTrainingData(data: Dataset, batchSize: number): void {
    this.assertUsable();
    checkTrainingData(data, batchSize, this.config);
    this.data = data;
    this.batchSize = batchSize;
    const engine = this.engineFor(Math.max(batchSize, Math.min(data.count, EVALUATION_ROWS)));
    if (this.autoThreads && engine instanceof FastLstm) {
      this.chosenThreads = measureThreads(engine, data.x, data.t, data.count, batchSize);
    }
  }

  setValidationData(data: Dataset | null): void {
    this.assertUsable();
    if (data !== null) checkValidationData(data, this.config);
    this.validation = data;
    if (data !== null) this.engineFor(Math.min(data.count, EVALUATION_ROWS));
  }

  async trainEpoch(order: Uint32Array, learningRate: number, options: EpochOptions = {}): Promise<void> {
    const data = this.data;
    this.assertUsable();
    if (data === null) throw new Error('trainEpoch before setTrainingData');
    const B = this.batchSize;
    const validation = this.validation;
    const evaluationRows = Math.max(data.count, validation?.count ?? 0);
    const engine = this.engineFor(Math.max(B, Math.min(evaluationRows, EVALUATION_ROWS)));
    const steps = Math.floor(data.count / B);
    const O = this.config.outputSize;
    const scale = lossScale(this.loss, B, O);
    const { onProgress } = options;
    let progressAt = onProgress === undefined ? Number.POSITIVE_INFINITY : performance.now() + EPOCH_PROGRESS_MS;
    for (let s = 0; s < steps; s++) {
      engine.loadBatch(data.x, data.t, order, s * B, B);
      engine.forward(B);
      engine.loss(B, scale);
      engine.backward(B);
      engine.update(learningRate);
      // The clock is read every 8 steps only: a step can take microseconds.
      if ((s & 7) === 7 && s + 1 < steps && performance.now() >= progressAt) {
        onProgress?.(s + 1);
        progressAt = performance.now() + EPOCH_PROGRESS_MS;
      }
    }
    if (options.evaluate === false) return;
    this.pending.train.push(this.error(engine, data));
    if (validation !== null) this.pending.validation.push(this.error(engine, validation));
  }

  /** The blog's error over all of `data` summed over chunks, then made the chosen loss over all samples. */
  private error(engine: CpuEngine, data: Dataset): number {
    let error = 0;
    for (let start = 0; start < data.count; start += engine.maxBatch) {
      const rows = Math.min(engine.maxBatch, data.count - start);
      engine.loadBatch(data.x, data.t, null, start, rows);
      engine.forward(rows);
      error += engine.loss(rows, 1);
    }
    return lossScale(this.loss, data.count, this.config.outputSize) * error;
  }

  async readLosses(): Promise<EpochLosses> {
    this.assertUsable();
    const losses = this.pending;
    this.pending = { train: [], validation: [] };
    return losses;
  }

  /** The CPU's work is done when its calls return. */
  async finish(): Promise<void> {
    this.assertUsable();
  }

  /** Drops the engine (parameters, optimizer state, buffers) and the data, and ends the threads. */
  async dispose(): Promise<void> {
    this.current = null;
    const pool = this.pool;
    this.pool = null;
    pool?.dispose();
    this.data = null;
    this.validation = null;
    this.pending = { train: [], validation: [] };
  }
}
