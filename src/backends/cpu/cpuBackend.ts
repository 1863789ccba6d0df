// The CPU backend: the reference kernels of lstm.ts behind the Backend interface. Every buffer is
// allocated when the shape, batch size or data change, never inside the step loop.

import { type Dataset, gatherBatch } from '../../data/dataset.js';
import type { ModelConfig, ParamLayout } from '../../model/layout.js';
import type { Backend, GradientResult } from '../backend.js';
import { backward, forward, loss, sgdUpdate, Workspace } from './lstm.js';

export class CpuBackend implements Backend {
  readonly name = 'cpu' as const;
  readonly adapter = null;
  readonly config: ModelConfig;
  readonly layout: ParamLayout;
  private readonly params: Float32Array;
  private readonly grads: Float32Array;
  private workspace: Workspace | null = null;
  private data: Dataset | null = null;
  private batchSize = 0;
  /** (B, T, I) and (B, O): the current minibatch */
  private batchX = new Float32Array(0);
  private batchT = new Float32Array(0);
  private pendingLosses: number[] = [];

  constructor(layout: ParamLayout) {
    this.layout = layout;
    this.config = layout.config;
    this.params = new Float32Array(layout.size);
    this.grads = new Float32Array(layout.size);
  }

  setParams(params: Float32Array): void {
    this.params.set(params);
  }

  async readParams(): Promise<Float32Array> {
    return this.params.slice();
  }

  private workspaceFor(batch: number): Workspace {
    if (this.workspace === null || this.workspace.maxBatch < batch) this.workspace = new Workspace(this.layout, batch);
    return this.workspace;
  }

  async gradients(x: Float32Array, t: Float32Array, batchSize: number): Promise<GradientResult> {
    const ws = this.workspaceFor(batchSize);
    forward(this.params, ws, x, batchSize);
    const value = loss(ws, t, batchSize);
    backward(this.params, this.grads, ws, batchSize);
    return {
      loss: value,
      y: ws.out.slice(0, batchSize * this.config.outputSize),
      grads: this.grads.slice(),
    };
  }

  async predict(x: Float32Array, count: number): Promise<Float32Array> {
    const ws = this.workspaceFor(count);
    forward(this.params, ws, x, count);
    return ws.out.slice(0, count * this.config.outputSize);
  }

  setTrainingData(data: Dataset, batchSize: number): void {
    this.data = data;
    this.batchSize = batchSize;
    this.batchX = new Float32Array(batchSize * data.window * data.inputSize);
    this.batchT = new Float32Array(batchSize * data.outputSize);
    this.workspaceFor(Math.max(batchSize, data.count));
  }

  trainEpoch(order: Uint32Array, learningRate: number): void {
    const data = this.data;
    if (data === null) throw new Error('trainEpoch before setTrainingData');
    const B = this.batchSize;
    const ws = this.workspaceFor(Math.max(B, data.count));
    const steps = Math.floor(data.count / B);
    for (let s = 0; s < steps; s++) {
      gatherBatch(data, order, s * B, B, this.batchX, this.batchT);
      forward(this.params, ws, this.batchX, B);
      loss(ws, this.batchT, B);
      backward(this.params, this.grads, ws, B);
      sgdUpdate(this.params, this.grads, learningRate);
    }
    forward(this.params, ws, data.x, data.count);
    this.pendingLosses.push(loss(ws, data.t, data.count));
  }

  async readLosses(): Promise<number[]> {
    const losses = this.pendingLosses;
    this.pendingLosses = [];
    return losses;
  }

  counters(): null {
    return null;
  }

  dispatchesPerStep(): null {
    return null;
  }

  dispose(): void {
    this.workspace = null;
    this.data = null;
  }
}
