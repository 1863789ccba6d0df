// The CPU backend's fast path: the LSTM of lstm.ts (same math, same results to float rounding)
// computed by the WebAssembly SIMD kernels of kernels.wat. The tests hold it to the reference.
//
// Legend: B = batch, T = window, I = layer input size, H = hidden size, Hp = H rounded up to a
// multiple of 4, G = 4 gates, O = outputSize, P = parameter count.
//
// How it differs from the reference, and why:
// - Every tensor lives in one WebAssembly memory, sized once per (shape, maximum batch).
// - Inside, gate blocks are padded from H to Hp units (w (I, 4Hp), v (H, 4Hp), b (4Hp)), so every
//   gate vector is whole f32x4 lanes and no kernel needs a scalar tail. The padding units have zero
//   weights and bias, so their c and y stay exactly 0, their gate deltas and gradients are exactly 0,
//   and every optimiser keeps their weights and state 0; parameters, gradients and the optimiser's
//   state (same padded layout, beside the parameters) are converted to the flat layout only when they
//   cross the engine's interface, never in the step loop.
// - Matrix products are batched: the input product x W + b is one (T·B, I) × (I, 4Hp) product for
//   all steps before the recurrence, and the weight gradients X^T δ, Y^T δ, sum δ are one product
//   each over all T·B rows after it; only y_prev V and δ V^T run per step.

import { GATES, type ParamLayout } from '../../model/layout.js';
import {
  clipScale,
  DEFAULT_OPTIMIZER,
  type OptimizerSettings,
  type OptimizerState,
  stateArrays,
} from '../../model/optimizer.js';
import { type CpuEngine, copyOutputs } from './engine.js';
import { KERNELS_WASM_BASE64 } from './kernelsWasm.js';
import { outputLoss } from './lstm.js';

interface Kernels {
  gemm(
    c: number,
    a: number,
    aRow: number,
    aInner: number,
    b: number,
    m: number,
    n: number,
    k: number,
    accumulate: number,
  ): void;
  cellForward(gates: number, cPrev: number, c: number, tanhC: number, y: number, rows: number, hp: number): void;
  cellBackward(
    gates: number,
    cPrev: number,
    tanhC: number,
    gy: number,
    dc: number,
    delta: number,
    rows: number,
    hp: number,
  ): void;
  transpose(dst: number, src: number, rows: number, cols: number, dstStride: number): void;
  sgd(params: number, grads: number, count: number, learningRate: number): void;
  momentum(
    params: number,
    grads: number,
    velocity: number,
    count: number,
    learningRate: number,
    momentum: number,
    scale: number,
  ): void;
  adam(
    params: number,
    grads: number,
    m: number,
    v: number,
    count: number,
    learningRate: number,
    beta1: number,
    oneMinusBeta1: number,
    beta2: number,
    oneMinusBeta2: number,
    epsilon: number,
    c1: number,
    c2: number,
    scale: number,
  ): void;
  /** Where the kernels' own constants end and fastLstm.ts's buffers may start (bytes). */
  heapBase: WebAssembly.Global;
  /** Address of (1, 1, 1, 1): the broadcast A of the bias products. */
  ones: WebAssembly.Global;
}

/** Bytes at the start of memory that kernels.wat keeps for its constants (its heapBase). */
const KERNEL_CONSTANT_BYTES = 320;

let kernelModule: WebAssembly.Module | null = null;
let kernelProblem: string | null = null;

/**
 * Why the fast kernels cannot run here, or null when they can. They need WebAssembly with SIMD (every
 * current browser and Node 16.4+) and, on a page with a Content-Security-Policy, 'wasm-unsafe-eval'
 * in its script-src. The module is 3.4 KB, so compiling it synchronously is allowed everywhere.
 */
export function fastKernelsProblem(): string | null {
  if (kernelModule === null && kernelProblem === null) {
    try {
      const bytes = Uint8Array.from(atob(KERNELS_WASM_BASE64), (ch) => ch.charCodeAt(0));
      kernelModule = new WebAssembly.Module(bytes);
    } catch (err) {
      kernelProblem = typeof WebAssembly === 'undefined' ? 'no WebAssembly' : String(err);
    }
  }
  return kernelProblem;
}

function compiledKernels(): WebAssembly.Module {
  const problem = fastKernelsProblem();
  if (kernelModule === null) throw new Error(`the fast CPU kernels cannot run here: ${problem}`);
  return kernelModule;
}

const FLOAT = 4;

function roundUp4(n: number): number {
  return (n + 3) & ~3;
}

/** Where each tensor of the padded internal parameter layout starts, in floats. */
export interface PaddedLayer {
  inputSize: number;
  hiddenSize: number;
  /** hiddenSize rounded up to a multiple of 4 */
  paddedHidden: number;
  /** (I, 4Hp) */
  w: number;
  /** (H, 4Hp) */
  v: number;
  /** (4Hp) */
  b: number;
}

export interface PaddedLayout {
  layers: PaddedLayer[];
  /** dense w (H_last, O) and b (O), unpadded */
  dense: { w: number; b: number };
  /** Floats, a multiple of 4. */
  size: number;
}

export function paddedLayout(layout: ParamLayout): PaddedLayout {
  let offset = 0;
  const layers = layout.layers.map(({ inputSize, hiddenSize }) => {
    const paddedHidden = roundUp4(hiddenSize);
    const G = GATES * paddedHidden;
    const w = offset;
    const v = w + inputSize * G;
    const b = v + hiddenSize * G;
    offset = b + G;
    return { inputSize, hiddenSize, paddedHidden, w, v, b };
  });
  const w = offset;
  const b = w + layout.dense.inputSize * layout.dense.outputSize;
  return { layers, dense: { w, b }, size: roundUp4(b + layout.dense.outputSize) };
}

/**
 * Calls `copy(flatOffset, paddedOffset, length)` for every contiguous run of parameters the flat and
 * padded layouts share: one run per gate block of each row, the bias's gate blocks, the dense layer.
 * Packing and unpacking are this walk in either direction.
 */
export function forEachParamRun(
  layout: ParamLayout,
  padded: PaddedLayout,
  copy: (flatOffset: number, paddedOffset: number, length: number) => void,
): void {
  layout.layers.forEach((flat, l) => {
    const { inputSize: I, hiddenSize: H, paddedHidden: Hp, w, v, b } = padded.layers[l];
    for (let g = 0; g < GATES; g++) {
      for (let k = 0; k < I; k++) copy(flat.w + k * GATES * H + g * H, w + k * GATES * Hp + g * Hp, H);
      for (let k = 0; k < H; k++) copy(flat.v + k * GATES * H + g * H, v + k * GATES * Hp + g * Hp, H);
      copy(flat.b + g * H, b + g * Hp, H);
    }
  });
  const { dense } = layout;
  copy(dense.w, padded.dense.w, dense.inputSize * dense.outputSize);
  copy(dense.b, padded.dense.b, dense.outputSize);
}

/** Byte offsets of one layer's buffers in wasm memory. */
interface LayerBuffers {
  /** (T, B, 4Hp) pre-activations, then activations f, i, g, o */
  gates: number;
  /** (T+1, B, Hp) cell state; step 0 is zero */
  c: number;
  /** (T, B, Hp) tanh(c) of steps 1..T */
  tanhC: number;
  /** (T+1, B, Hp) outputs; step 0 is zero */
  y: number;
  /** (T, B, Hp) gradient reaching this layer's y at each step (from above, then the recurrence added) */
  gy: number;
  /** (T, B, 4Hp) gate deltas */
  delta: number;
  /** (4Hp, Hp) V^T for dy = δ V^T; padding columns stay 0 */
  vT: number;
  /** (4Hp, Hp of the layer below) W^T for the layer below's gy = δ W^T; layers above the first only */
  wT: number;
}

export class FastLstm implements CpuEngine {
  readonly kernels = 'fast' as const;
  readonly layout: ParamLayout;
  readonly padded: PaddedLayout;
  readonly maxBatch: number;
  readonly window: number;
  readonly optimizer: OptimizerSettings;
  private readonly k: Kernels;
  /** The whole wasm memory as floats. */
  private readonly f32: Float32Array;
  /** Byte offsets. (1, 1, 1, 1), the broadcast A of the bias products, is the kernels' own. */
  private readonly onesAt: number;
  private readonly paramsAt: number;
  private readonly gradsAt: number;
  /** (stateArrays, P_padded) the optimiser's state: momentum's velocity, or Adam's m then v */
  private readonly slotsAt: number;
  /** Updates so far (Adam's t). */
  private step = 0;
  /** (T, B, I) the batch's input, time-major */
  private readonly xTime: number;
  /** (B, Hp_max) dc carried back through the steps of one layer */
  private readonly dc: number;
  private readonly buffers: LayerBuffers[];
  /** (P_padded) views of the parameters and gradients; (stateArrays, P_padded) of the state */
  readonly params: Float32Array;
  readonly grads: Float32Array;
  readonly slots: Float32Array;
  /** (B, O) targets of the loaded batch, outputs, and out - t */
  private readonly target: Float32Array;
  private readonly out: Float32Array;
  private readonly outDelta: Float32Array;
  private hasTargets = false;

  constructor(layout: ParamLayout, maxBatch: number, optimizer: OptimizerSettings = DEFAULT_OPTIMIZER) {
    this.layout = layout;
    this.padded = paddedLayout(layout);
    this.maxBatch = maxBatch;
    this.optimizer = optimizer;
    const T = layout.config.window;
    this.window = T;
    const B = maxBatch;

    // Carve the memory: 16-byte aligned regions, sizes in floats.
    let top = KERNEL_CONSTANT_BYTES;
    const region = (floats: number): number => {
      const at = top;
      top += roundUp4(floats) * FLOAT;
      return at;
    };
    this.paramsAt = region(this.padded.size);
    this.gradsAt = region(this.padded.size);
    const slotCount = stateArrays(optimizer.name) * this.padded.size;
    this.slotsAt = region(slotCount);
    this.xTime = region(T * B * layout.config.inputSize);
    let maxHp = 0;
    this.buffers = this.padded.layers.map(({ paddedHidden: Hp }, l) => {
      maxHp = Math.max(maxHp, Hp);
      const G = GATES * Hp;
      return {
        gates: region(T * B * G),
        c: region((T + 1) * B * Hp),
        tanhC: region(T * B * Hp),
        y: region((T + 1) * B * Hp),
        gy: region(T * B * Hp),
        delta: region(T * B * G),
        vT: region(G * Hp),
        wT: l > 0 ? region(G * this.padded.layers[l - 1].paddedHidden) : 0,
      };
    });
    this.dc = region(B * maxHp);
    const pages = Math.ceil(top / 65536);
    if (pages > 65536) {
      throw new RangeError(
        `the fast CPU kernels need ${top} bytes for ${layout.config.hiddenSizes.join(',')} hidden and batch ${B}, ` +
          'more than WebAssembly memory can hold (4 GiB)',
      );
    }
    const memory = new WebAssembly.Memory({ initial: pages });
    this.k = new WebAssembly.Instance(compiledKernels(), { env: { memory } }).exports as unknown as Kernels;
    if (this.k.heapBase.value !== KERNEL_CONSTANT_BYTES) {
      throw new Error(
        `kernels.wat keeps ${this.k.heapBase.value} bytes of constants, fastLstm.ts expects ${KERNEL_CONSTANT_BYTES}`,
      );
    }
    this.onesAt = this.k.ones.value;
    this.f32 = new Float32Array(memory.buffer);
    this.params = this.f32.subarray(this.paramsAt / FLOAT, this.paramsAt / FLOAT + this.padded.size);
    this.grads = this.f32.subarray(this.gradsAt / FLOAT, this.gradsAt / FLOAT + this.padded.size);
    this.slots = this.f32.subarray(this.slotsAt / FLOAT, this.slotsAt / FLOAT + slotCount);
    const O = layout.config.outputSize;
    this.target = new Float32Array(B * O);
    this.out = new Float32Array(B * O);
    this.outDelta = new Float32Array(B * O);
  }

  setParams(params: Float32Array): void {
    this.pack(params, this.params);
  }

  readParams(out: Float32Array): void {
    this.unpack(this.params, out);
  }

  readGrads(out: Float32Array): void {
    this.unpack(this.grads, out);
  }

  readOptimizerState(): OptimizerState {
    const P = this.layout.size;
    const Pp = this.padded.size;
    const arrays = stateArrays(this.optimizer.name);
    const slots = new Float32Array(arrays * P);
    for (let s = 0; s < arrays; s++) {
      this.unpack(this.slots.subarray(s * Pp, (s + 1) * Pp), slots.subarray(s * P, (s + 1) * P));
    }
    return { name: this.optimizer.name, step: this.step, slots };
  }

  setOptimizerState(state: OptimizerState): void {
    const P = this.layout.size;
    const Pp = this.padded.size;
    for (let s = 0; s < stateArrays(this.optimizer.name); s++) {
      this.pack(state.slots.subarray(s * P, (s + 1) * P), this.slots.subarray(s * Pp, (s + 1) * Pp));
    }
    this.step = state.step;
  }

  /** Flat (P) into padded (P_padded); the padding must be exactly zero (see the header). */
  private pack(flat: Float32Array, into: Float32Array): void {
    into.fill(0);
    forEachParamRun(this.layout, this.padded, (from, to, length) => {
      into.set(flat.subarray(from, from + length), to);
    });
  }

  private unpack(from: Float32Array, out: Float32Array): void {
    forEachParamRun(this.layout, this.padded, (flat, padded, length) => {
      out.set(from.subarray(padded, padded + length), flat);
    });
  }

  loadBatch(
    x: Float32Array,
    t: Float32Array | null,
    indices: ArrayLike<number> | null,
    start: number,
    B: number,
  ): void {
    const { window: T, inputSize: I, outputSize: O } = this.layout.config;
    const f32 = this.f32;
    const xTime = this.xTime / FLOAT;
    // Time-major, so each step's rows are one contiguous (B, I) block.
    for (let b = 0; b < B; b++) {
      const n = indices === null ? start + b : indices[start + b];
      for (let step = 0; step < T; step++) {
        const from = (n * T + step) * I;
        const to = xTime + (step * B + b) * I;
        for (let i = 0; i < I; i++) f32[to + i] = x[from + i];
      }
      if (t !== null) for (let o = 0; o < O; o++) this.target[b * O + o] = t[n * O + o];
    }
    this.hasTargets = t !== null;
  }

  forward(B: number): void {
    const { k, f32 } = this;
    const T = this.window;
    const layers = this.padded.layers;
    for (let l = 0; l < layers.length; l++) {
      const { inputSize: I, hiddenSize: H, paddedHidden: Hp, w, v, b } = layers[l];
      const L = this.buffers[l];
      const G = GATES * Hp;
      const input = this.inputAt(l, B);
      const inputRow = this.inputRowBytes(l);
      // u = b + x W for every step at once, then + y_prev V step by step.
      k.gemm(L.gates, this.onesAt, 0, 0, this.paramsAt + b * FLOAT, T * B, G, 1, 0);
      k.gemm(L.gates, input, inputRow, FLOAT, this.paramsAt + w * FLOAT, T * B, G, I, 1);
      f32.fill(0, L.c / FLOAT, L.c / FLOAT + B * Hp);
      f32.fill(0, L.y / FLOAT, L.y / FLOAT + B * Hp);
      const stepG = B * G * FLOAT;
      const stepH = B * Hp * FLOAT;
      for (let t = 0; t < T; t++) {
        const gates = L.gates + t * stepG;
        // y_prev is zero at the first step, so its product is skipped there.
        if (t > 0) k.gemm(gates, L.y + t * stepH, Hp * FLOAT, FLOAT, this.paramsAt + v * FLOAT, B, G, H, 1);
        k.cellForward(gates, L.c + t * stepH, L.c + (t + 1) * stepH, L.tanhC + t * stepH, L.y + (t + 1) * stepH, B, Hp);
      }
    }

    // The dense layer on the last step's y: (B, H) x (H, O), O is small.
    const { dense } = this.padded;
    const O = this.layout.config.outputSize;
    const top = layers[layers.length - 1];
    const yLast = (this.buffers[layers.length - 1].y + T * B * top.paddedHidden * FLOAT) / FLOAT;
    const params = this.params;
    for (let n = 0; n < B; n++) {
      const yRow = yLast + n * top.paddedHidden;
      for (let o = 0; o < O; o++) {
        let s = params[dense.b + o];
        for (let j = 0; j < top.hiddenSize; j++) s += f32[yRow + j] * params[dense.w + j * O + o];
        this.out[n * O + o] = s;
      }
    }
  }

  readOutputs(B: number, out: Float32Array, offset: number): void {
    copyOutputs(this.out, B * this.layout.config.outputSize, out, offset);
  }

  loss(B: number, gradScale: number): number {
    if (!this.hasTargets) throw new Error('loss() of a batch loaded without targets');
    return outputLoss(this.out, this.target, this.outDelta, B * this.layout.config.outputSize, gradScale);
  }

  backward(B: number): void {
    const { k, f32 } = this;
    const T = this.window;
    const layers = this.padded.layers;
    const topIndex = layers.length - 1;
    const top = layers[topIndex];

    // Dense layer: dWd = y_T^T d, dbd = sum d, and dy_T = d Wd^T into the top layer's gy at step T.
    const { dense } = this.padded;
    const O = this.layout.config.outputSize;
    const { params, grads } = this;
    const Htop = top.hiddenSize;
    const HpTop = top.paddedHidden;
    const yLast = (this.buffers[topIndex].y + T * B * HpTop * FLOAT) / FLOAT;
    const gyLast = (this.buffers[topIndex].gy + (T - 1) * B * HpTop * FLOAT) / FLOAT;
    grads.fill(0, dense.w, dense.b + O);
    for (let n = 0; n < B; n++) {
      const yRow = yLast + n * HpTop;
      for (let o = 0; o < O; o++) {
        const d = this.outDelta[n * O + o];
        grads[dense.b + o] += d;
        for (let j = 0; j < Htop; j++) grads[dense.w + j * O + o] += f32[yRow + j] * d;
      }
      const gyRow = gyLast + n * HpTop;
      for (let j = 0; j < Htop; j++) {
        let s = 0;
        for (let o = 0; o < O; o++) s += this.outDelta[n * O + o] * params[dense.w + j * O + o];
        f32[gyRow + j] = s;
      }
      f32.fill(0, gyRow + Htop, gyRow + HpTop);
    }

    for (let l = topIndex; l >= 0; l--) {
      const { inputSize: I, hiddenSize: H, paddedHidden: Hp, w, v, b } = layers[l];
      const L = this.buffers[l];
      const G = GATES * Hp;
      const stepG = B * G * FLOAT;
      const stepH = B * Hp * FLOAT;
      k.transpose(L.vT, this.paramsAt + v * FLOAT, H, G, Hp);
      f32.fill(0, this.dc / FLOAT, this.dc / FLOAT + B * Hp);
      // The top layer's gy holds only dy_T from the dense layer, so the recurrence writes the other
      // steps; a lower layer's gy already holds the layer above's input gradient, so it adds.
      const accumulate = l === topIndex ? 0 : 1;
      for (let t = T - 1; t >= 0; t--) {
        const delta = L.delta + t * stepG;
        k.cellBackward(
          L.gates + t * stepG,
          L.c + t * stepH,
          L.tanhC + t * stepH,
          L.gy + t * stepH,
          this.dc,
          delta,
          B,
          Hp,
        );
        if (t > 0) k.gemm(L.gy + (t - 1) * stepH, delta, G * FLOAT, FLOAT, L.vT, B, Hp, G, accumulate);
      }
      // Weight gradients over all steps at once: dW = X^T δ, dV = Y_prev^T δ (y_0 = 0 is skipped), db = sum δ.
      const input = this.inputAt(l, B);
      const inputRow = this.inputRowBytes(l);
      k.gemm(this.gradsAt + w * FLOAT, input, FLOAT, inputRow, L.delta, I, G, T * B, 0);
      k.gemm(this.gradsAt + v * FLOAT, L.y + stepH, FLOAT, Hp * FLOAT, L.delta + stepG, H, G, (T - 1) * B, 0);
      k.gemm(this.gradsAt + b * FLOAT, this.onesAt, 0, 0, L.delta, 1, G, T * B, 0);
      if (l > 0) {
        // The layer below's gy = δ W^T at every step.
        const belowHp = layers[l - 1].paddedHidden;
        k.transpose(L.wT, this.paramsAt + w * FLOAT, I, G, belowHp);
        k.gemm(this.buffers[l - 1].gy, L.delta, G * FLOAT, FLOAT, L.wT, T * B, belowHp, G, 0);
      }
    }
  }

  update(learningRate: number): void {
    const { k, optimizer, paramsAt, gradsAt, slotsAt } = this;
    const count = this.padded.size;
    // The padding's gradients are 0, so the norm over the padded gradients is the flat one.
    const scale = clipScale(this.grads, optimizer.clipNorm);
    this.step++;
    switch (optimizer.name) {
      case 'sgd':
        k.sgd(paramsAt, gradsAt, count, learningRate * scale);
        return;
      case 'momentum':
        k.momentum(paramsAt, gradsAt, slotsAt, count, learningRate, optimizer.momentum, scale);
        return;
      case 'adam': {
        const { beta1, beta2, epsilon } = optimizer;
        const c1 = 1 - beta1 ** this.step;
        const c2 = 1 - beta2 ** this.step;
        const v = slotsAt + count * FLOAT;
        k.adam(
          paramsAt,
          gradsAt,
          slotsAt,
          v,
          count,
          learningRate,
          beta1,
          1 - beta1,
          beta2,
          1 - beta2,
          epsilon,
          c1,
          c2,
          scale,
        );
        return;
      }
    }
  }

  /** Byte offset of layer l's input (T, B, I): the batch's x, or the layer below's y of steps 1..T. */
  private inputAt(l: number, B: number): number {
    return l === 0 ? this.xTime : this.buffers[l - 1].y + B * this.padded.layers[l - 1].paddedHidden * FLOAT;
  }

  /** Bytes between rows of layer l's input. */
  private inputRowBytes(l: number): number {
    return (l === 0 ? this.layout.config.inputSize : this.padded.layers[l - 1].paddedHidden) * FLOAT;
  }
}
