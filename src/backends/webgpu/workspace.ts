// The GPU memory a pass over the model works in: a GpuWorkspace holds the activations of passes of up
// to `capacity` rows (each pass packs its own B rows densely from the start), and a SampleSource says
// where a pass's rows come from.
//
// Legend: C = capacity (rows), N = samples, T = window, I = layer input size, H = hidden size,
//         O = outputSize.

import { GATES, type ParamLayout } from '../../model/layout.js';
import type { Allocator } from './allocator.js';

/** Floats of the dense kernel's partial sums (its workgroup size, WORKGROUP in dense.wgsl). */
const DENSE_PARTIALS = 64;

/** Floats of a workspace's `outputs` buffer: [loss, 3 unused, out (C, O), delta (C, O), partial sums]. */
export function denseOutputsLength(capacity: number, outputSize: number): number {
  return 4 + 2 * capacity * outputSize + DENSE_PARTIALS;
}

export interface LayerBuffers {
  /** (T, C, 4H) pre-activations, then activations f, i, g, o */
  gates: GPUBuffer;
  /** ((T+1) C, H) cell states, rows by params.wgsl's state_row; step 0 is the zero block */
  c: GPUBuffer;
  /** ((T+1) C, H+I+1) rows [y_prev | x | 1] by state_row: what the weight gradients multiply */
  inputs: GPUBuffer;
  /** (T, C, 4H) gate deltas */
  delta: GPUBuffer;
  /** (T, C, I) gradient at the layer's input (layers above the first only) */
  dInput: GPUBuffer | null;
}

export class GpuWorkspace {
  readonly capacity: number;
  readonly layers: LayerBuffers[];
  /** (C, H_max) running cell gradient of BPTT */
  readonly dc: GPUBuffer;
  /** (C, H_top) gradient at the top layer's last output */
  readonly dyTop: GPUBuffer;
  /** (denseOutputsLength) [loss, 3 unused, out (C, O), delta (C, O), partial sums] */
  readonly outputs: GPUBuffer;
  /** Bound where the top layer's forward pass would write its outputs to the layer above. */
  readonly noLayerAbove: GPUBuffer;
  private readonly allocator: Allocator;

  constructor(allocator: Allocator, layout: ParamLayout, capacity: number, label: string) {
    const { window: T, outputSize: O } = layout.config;
    const C = capacity;
    this.allocator = allocator;
    this.capacity = capacity;
    this.layers = layout.layers.map(({ inputSize: I, hiddenSize: H }, l) => ({
      // Steps 0 of c and of inputs' y_prev (the zero initial state) are rows no pass writes; see
      // params.wgsl's state_row.
      gates: allocator.storage(`${label} lstm[${l}] gates (T, B, 4H)`, 4 * T * C * GATES * H),
      c: allocator.storage(`${label} lstm[${l}] c ((T+1) B, H)`, 4 * (T + 1) * C * H),
      inputs: allocator.buffer(
        `${label} lstm[${l}] inputs ((T+1) B, H+I+1)`,
        4 * (T + 1) * C * (H + I + 1),
        GPUBufferUsage.STORAGE,
        onesColumn((T + 1) * C, H + I + 1),
      ),
      delta: allocator.storage(`${label} lstm[${l}] delta (T, B, 4H)`, 4 * T * C * GATES * H),
      dInput: l === 0 ? null : allocator.storage(`${label} lstm[${l}] dInput (T, B, I)`, 4 * T * C * I),
    }));
    this.noLayerAbove = allocator.storage(`${label} no layer above`, 16);
    const maxHidden = Math.max(...layout.config.hiddenSizes);
    const topHidden = layout.dense.inputSize;
    this.dc = allocator.storage(`${label} dc (B, H)`, 4 * C * maxHidden);
    this.dyTop = allocator.storage(`${label} dyTop (B, H)`, 4 * C * topHidden);
    this.outputs = allocator.storage(`${label} dense outputs`, 4 * denseOutputsLength(C, O), GPUBufferUsage.COPY_SRC);
  }

  release(): void {
    for (const layer of this.layers) {
      for (const buffer of [layer.gates, layer.c, layer.inputs, layer.delta, layer.dInput]) {
        if (buffer !== null) this.allocator.release(buffer);
      }
    }
    for (const buffer of [this.dc, this.dyTop, this.outputs, this.noLayerAbove]) this.allocator.release(buffer);
  }
}

/** Rows of `width` values, zero but for a last column of ones (the bias's input). */
function onesColumn(rows: number, width: number): Float32Array {
  const data = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) data[r * width + width - 1] = 1;
  return data;
}

/** Where a pass's rows come from: row b of minibatch s is sample order[s * B + b]. */
export interface SampleSource {
  /** (N, T, I) */
  samples: GPUBuffer;
  /** (N, O) */
  targets: GPUBuffer;
  /** (N) sample indices */
  order: GPUBuffer;
}

/** 0, 1, …, count-1: the sample order of passes that take rows in order. */
export function identityOrder(allocator: Allocator, label: string, count: number): GPUBuffer {
  const data = new Uint32Array(count);
  for (let i = 0; i < count; i++) data[i] = i;
  return allocator.buffer(label, data.byteLength, GPUBufferUsage.STORAGE, data);
}
