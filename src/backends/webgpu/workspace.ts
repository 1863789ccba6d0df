// The GPU memory a pass over the model works in: a GpuWorkspace holds the activations of passes of up
// to `capacity` rows for each of K members (each pass packs its own B rows densely from the start of
// a member's block; shaders/params.wgsl), and a SampleSource says where a pass's rows come from.
//
// Legend: K = members, C = capacity (rows a member), N = samples, T = window, I = layer input size,
//         H = hidden size, O = outputSize.

import { GATES, type ParamLayout } from '../../model/layout.js';
import type { LossName } from '../../model/optimizer.js';
import type { WindowRange } from '../population.js';
import type { Allocator } from './allocator.js';

/** Floats of the dense kernel's partial sums (DENSE_PARTIALS in outputs.wgsl). */
const DENSE_PARTIALS = 64;
/** Floats of a block's header: [mean loss, error rows, 2 unused] (outputs.wgsl). */
const HEADER = 4;

/** Floats of a member's block of a workspace's `outputs`: [header, out (C, O), delta (C, O), partial sums]. */
export function denseOutputsLength(capacity: number, outputSize: number): number {
  return HEADER + 2 * capacity * outputSize + DENSE_PARTIALS;
}

/** What each member's block of `outputs` says about its loss (outputs.wgsl's header). */
export interface MemberLosses {
  /** (K) each member's loss. */
  losses: readonly LossName[];
  /** (K) each member's rows of the error over the workspace's windows (0 where none is taken). */
  errorRows: readonly number[];
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
  /** (T, C, I) gradient at the layer's input (layers above the first; the first too in a probe's workspace) */
  dInput: GPUBuffer | null;
}

/** Floats after the inputs rows that a product's vec4 loads may read (and never use). */
export const INPUTS_PAD = 4;

export class GpuWorkspace {
  /** Rows a member. */
  readonly capacity: number;
  readonly members: number;
  readonly layers: LayerBuffers[];
  /** (K, C, H) running cell gradient of BPTT, in a layer's H (the buffer holds the largest) */
  readonly dc: GPUBuffer;
  /** (K, C, H_top) gradient at the top layer's last output */
  readonly dyTop: GPUBuffer;
  /** (K, denseOutputsLength) [header, out (C, O), delta (C, O), partial sums], then the losses (K) */
  readonly outputs: GPUBuffer;
  /** Bound where the top layer's forward pass would write its outputs to the layer above. */
  readonly noLayerAbove: GPUBuffer;
  private readonly allocator: Allocator;

  /** Floats of a member's block of `outputs`. */
  readonly outputsBlock: number;
  /**
   * `probe`: a probe's workspace (probePass.ts): the first layer gets a dInput too, where the probe's
   * backward writes the gradient at the model's input (the connectivity), and what a probe reads
   * (gates, c, inputs, dInput) can be copied out.
   */
  constructor(
    allocator: Allocator,
    layout: ParamLayout,
    capacity: number,
    members: number,
    label: string,
    probe = false,
  ) {
    const { window: T, outputSize: O } = layout.config;
    const C = capacity;
    const K = members;
    const read = probe ? GPUBufferUsage.COPY_SRC : 0;
    this.allocator = allocator;
    this.capacity = capacity;
    this.members = members;
    this.layers = layout.layers.map(({ inputSize: I, hiddenSize: H }, l) => ({
      // Steps 0 of c and of inputs' y_prev (the zero initial state) are rows no pass writes; see
      // params.wgsl's state_row.
      gates: allocator.storage(`${label} lstm[${l}] gates (K, T, C, 4H)`, 4 * K * T * C * GATES * H, read),
      c: allocator.storage(`${label} lstm[${l}] c (K, (T+1) C, H)`, 4 * K * (T + 1) * C * H, read),
      // (+ INPUTS_PAD: weight_gradients.wgsl's vec4 loads of the last row's last columns read up to
      // 3 floats past it, never stored, and must stay inside the buffer.)
      inputs: allocator.buffer(
        `${label} lstm[${l}] inputs (K, (T+1) C, H+I+1)`,
        4 * (K * (T + 1) * C * (H + I + 1) + INPUTS_PAD),
        GPUBufferUsage.STORAGE | read,
        onesColumn(K * (T + 1) * C, H + I + 1),
      ),
      delta: allocator.storage(`${label} lstm[${l}] delta (K, T, C, 4H)`, 4 * K * T * C * GATES * H),
      dInput:
        l === 0 && !probe
          ? null
          : allocator.storage(`${label} lstm[${l}] dInput (K, T, C, I)`, 4 * K * T * C * I, read),
    }));
    this.noLayerAbove = allocator.storage(`${label} no layer above`, 16);
    const maxHidden = Math.max(...layout.config.hiddenSizes);
    const topHidden = layout.dense.inputSize;
    this.dc = allocator.storage(`${label} dc (K, C, H)`, 4 * K * C * maxHidden);
    this.dyTop = allocator.storage(`${label} dyTop (K, C, H)`, 4 * K * C * topHidden);
    this.outputsBlock = denseOutputsLength(C, O);
    this.outputs = allocator.storage(
      `${label} dense outputs (K, ${this.outputsBlock}) and losses (K)`,
      4 * (K * this.outputsBlock + K),
      GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    );
  }

  /** Byte offset of member m's loss in `outputs`. */
  lossOffset(member: number): number {
    return 4 * (this.members * this.outputsBlock + member);
  }

  /** Byte offset of member m's outputs (B, O) in `outputs`. */
  outOffset(member: number): number {
    return 4 * (member * this.outputsBlock + HEADER);
  }

  /**
   * Writes each member's header (its loss and error rows): one write for all members, over the
   * blocks' scratch space too, which every pass writes before it reads.
   */
  writeHeaders(queue: GPUQueue, { losses, errorRows }: MemberLosses): void {
    const K = this.members;
    const floats = new Float32Array(K * this.outputsBlock);
    const words = new Uint32Array(floats.buffer);
    for (let m = 0; m < K; m++) {
      floats[m * this.outputsBlock] = losses[m] === 'mse' ? 1 : 0;
      words[m * this.outputsBlock + 1] = errorRows[m];
    }
    queue.writeBuffer(this.outputs, 0, floats);
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

/** Where a pass's rows come from: row b of member m's minibatch s is sample order[m, s * B + b]. */
export interface SampleSource {
  /** (N, T, I) shared by the members */
  samples: GPUBuffer;
  /** (N, O) shared by the members */
  targets: GPUBuffer;
  /** (K, C) sample indices, a member's at m times the capacity of the workspace its passes use */
  order: GPUBuffer;
}

/**
 * (K, C) each member's windows in order, start_m .. start_m + count_m - 1, then its last window again
 * to the capacity (a member with none: a window of the `windows` there are): the order of passes that
 * take a member's range in order, whose rows past count_m compute but do not count.
 */
export function rangeOrders(
  ranges: readonly WindowRange[],
  capacity: number,
  windows: number,
): Uint32Array<ArrayBuffer> {
  const data = new Uint32Array(ranges.length * capacity);
  ranges.forEach(({ start, count }, m) => {
    const last = count > 0 ? start + count - 1 : Math.min(start, windows - 1);
    for (let i = 0; i < capacity; i++) data[m * capacity + i] = Math.min(start + i, last);
  });
  return data;
}
