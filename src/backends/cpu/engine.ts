// What the CPU backend asks of a set of kernels, and the reference kernels (lstm.ts) behind it.
// Two engines implement it: ReferenceEngine (plain TypeScript, the readable ground truth) and
// FastLstm (fastLstm.ts, WebAssembly SIMD). An engine holds the parameters, gradients and every
// buffer for one model shape and a maximum batch, and the optimizer's state beside the parameters;
// nothing in it allocates per step.
//
// Legend: B = batch (rows in use, <= maxBatch), T = window, I = inputSize, O = outputSize,
// P = parameter count. Parameters and gradients cross this interface in the flat layout of
// src/model/layout.ts.

import type { ParamLayout } from '../../model/layout.js';
import { initialState, type OptimizerSettings, type OptimizerState, optimizerStep } from '../../model/optimizer.js';
import { backward, forward, loss, Workspace } from './lstm.js';

export type CpuKernels = 'fast' | 'reference';

export interface CpuEngine {
  readonly kernels: CpuKernels;
  readonly layout: ParamLayout;
  readonly maxBatch: number;
  /** The optimizer update() applies, fixed for the engine's life (src/model/optimizer.ts). */
  readonly optimizer: OptimizerSettings;
  /** Replaces every parameter. (P) */
  setParams(params: Float32Array): void;
  /** Copies the parameters into `out`. (P) */
  readParams(out: Float32Array): void;
  /**
   * Takes B samples of x (N, T, I) and t (N, O) as the batch: rows indices[start..start+B) when
   * `indices` is given, else rows start..start+B. t may be null when only outputs are wanted.
   */
  loadBatch(x: Float32Array, t: Float32Array | null, indices: ArrayLike<number> | null, start: number, B: number): void;
  /** Forward pass of the loaded batch. */
  forward(B: number): void;
  /** Copies the outputs (B, O) of the last forward() into `out` from `offset`. */
  readOutputs(B: number, out: Float32Array, offset: number): void;
  /**
   * The blog's 0.5 * sum((out - t)^2) after forward(); keeps gradScale * (out - t), the gradient of
   * the chosen loss with respect to out (gradScale = lossScale of src/model/optimizer.ts), for backward().
   */
  loss(B: number, gradScale: number): number;
  /** Gradients summed over the batch, after loss(). */
  backward(B: number): void;
  /** Copies the gradients of the last backward() into `out`. (P) */
  readGrads(out: Float32Array): void;
  /** One update of every parameter by the engine's optimizer, from the last backward()'s gradients. */
  update(learningRate: number): void;
  /** The optimizer's state, slots in the flat layout (a copy). */
  readOptimizerState(): OptimizerState;
  /** Replaces the optimizer's state (checked by the caller: same optimizer, flat layout). */
  setOptimizerState(state: OptimizerState): void;
}

/** Copies the first `count` values of `from` into `out` at `offset` (a loop: no view allocated). */
export function copyOutputs(from: Float32Array, count: number, out: Float32Array, offset: number): void {
  for (let p = 0; p < count; p++) out[offset + p] = from[p];
}

/**
 * The reference kernels of lstm.ts behind the engine interface; the update is optimizer.ts's
 * optimizerStep itself, on the flat parameters and state.
 */
export class ReferenceEngine implements CpuEngine {
  readonly kernels = 'reference' as const;
  readonly layout: ParamLayout;
  readonly maxBatch: number;
  readonly optimizer: OptimizerSettings;
  private readonly params: Float32Array;
  private readonly grads: Float32Array;
  private readonly state: OptimizerState;
  private readonly workspace: Workspace;
  /** (B, T, I) and (B, O): the gathered minibatch */
  private readonly batchX: Float32Array;
  private readonly batchT: Float32Array;
  private x: Float32Array;
  private t: Float32Array | null = null;

  constructor(layout: ParamLayout, maxBatch: number, optimizer: OptimizerSettings) {
    const { window, inputSize, outputSize } = layout.config;
    this.layout = layout;
    this.maxBatch = maxBatch;
    this.optimizer = optimizer;
    this.params = new Float32Array(layout.size);
    this.grads = new Float32Array(layout.size);
    this.state = initialState(optimizer.name, layout.size);
    this.workspace = new Workspace(layout, maxBatch);
    this.batchX = new Float32Array(maxBatch * window * inputSize);
    this.batchT = new Float32Array(maxBatch * outputSize);
    this.x = this.batchX;
  }

  setParams(params: Float32Array): void {
    this.params.set(params);
  }

  readParams(out: Float32Array): void {
    out.set(this.params);
  }

  loadBatch(
    x: Float32Array,
    t: Float32Array | null,
    indices: ArrayLike<number> | null,
    start: number,
    B: number,
  ): void {
    if (indices === null && start === 0) {
      this.x = x;
      this.t = t;
      return;
    }
    const { window: T, inputSize: I, outputSize: O } = this.layout.config;
    for (let b = 0; b < B; b++) {
      const n = indices === null ? start + b : indices[start + b];
      for (let p = 0; p < T * I; p++) this.batchX[b * T * I + p] = x[n * T * I + p];
      if (t !== null) for (let o = 0; o < O; o++) this.batchT[b * O + o] = t[n * O + o];
    }
    this.x = this.batchX;
    this.t = t === null ? null : this.batchT;
  }

  forward(B: number): void {
    forward(this.params, this.workspace, this.x, B);
  }

  readOutputs(B: number, out: Float32Array, offset: number): void {
    copyOutputs(this.workspace.out, B * this.layout.config.outputSize, out, offset);
  }

  loss(B: number, gradScale: number): number {
    if (this.t === null) throw new Error('loss() of a batch loaded without targets');
    return loss(this.workspace, this.t, B, gradScale);
  }

  backward(B: number): void {
    backward(this.params, this.grads, this.workspace, B);
  }

  readGrads(out: Float32Array): void {
    out.set(this.grads);
  }

  update(learningRate: number): void {
    optimizerStep(this.optimizer, this.state, this.params, this.grads, learningRate);
  }

  readOptimizerState(): OptimizerState {
    return { name: this.state.name, step: this.state.step, slots: this.state.slots.slice() };
  }

  setOptimizerState(state: OptimizerState): void {
    this.state.step = state.step;
    this.state.slots.set(state.slots);
  }
}
