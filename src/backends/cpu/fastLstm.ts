// The CPU backend's fast path: the LSTM of lstm.ts (same math, same results to float rounding)
// computed by the WebAssembly SIMD kernels of kernels.wat, on one thread or on a pool of threads
// sharing the memory (threads.ts). The tests hold it to the reference.
//
// Legend: B = batch, T = window, I = layer input size, H = hidden size, Hp = H rounded up to a
// multiple of 4 (of 8 from 64 units), G = 4Hp gate columns, Ip = a layer's input slot (I for the
// first layer, the layer below's Hp above it), Kp = yAt + Hp with yAt = Ip + 1 rounded up to 4,
// O = outputSize.
//
// How it differs from the reference, and why (README, "The CPU backend on every core", has more):
// - Every tensor lives in one WebAssembly memory, carved once per (shape, maximum batch) above the
//   fixed blocks of kernelMemory.ts (the memory map kernels.wat is built from); one kernel call
//   runs a whole forward pass, backward pass or update.
// - Engines share memories: every engine on one thread (a population's members there, one model's
//   engines as its batch grows) runs on one memory and kernel instance (privateKernels), a pool's
//   engines on the pool's. They take turns: an engine moves in before its first call after another's
//   (enter), copying its parameters and optimizer state (a member's few thousand floats, once per
//   epoch of its steps) into the memory's regions and its model table into the model block; the
//   engine that was there copies its own out first. Everything else in the heap is scratch that each
//   call writes before it reads (the kernels' c_0 and y_{-1} are zeros they write or skip), so an
//   engine's results do not depend on what another left: the heap is zeroed only where the carve
//   changes, as a fresh memory would be.
// - A layer's parameters are one matrix theta (Kp, G) = [W; b; 0; V], its inputs per step one
//   matrix z = [x_t, 1, 0, y_{t-1}], so the pre-activation is one product z_t theta and the weight
//   gradients one product z^T δ. Gate blocks are padded from H to Hp units; the padding has zero
//   weights, so its c and y stay exactly 0, its deltas and gradients are exactly 0, and every
//   optimizer keeps it 0. Rows are strided (rowStride) so the products' column strips do not
//   crowd into a few cache sets. The recurrences' products read theta (forward) and its parts
//   transposed (backward) packed in column strips, each strip one run of memory: packed once per
//   forward after the parameters change, and at the start of each backward pass. Parameters,
//   gradients and the optimizer's state are converted to the flat layout only when they cross the
//   engine's interface, never in the step loop.
// - The dense layer and the loss (O is small) are plain TypeScript on the calling thread.

import { InputError } from '../../model/errors.js';
import { GATES, type ParamLayout } from '../../model/layout.js';
import {
  clipScale,
  DEFAULT_OPTIMIZER,
  type OptimizerSettings,
  type OptimizerState,
  stateArrays,
} from '../../model/optimizer.js';
import { type CpuEngine, copyOutputs } from './engine.js';
import { type KernelPool, kernelSimd, privateKernels } from './kernelLoader.js';
import {
  COMMAND,
  CONTROL,
  GEMM_PANEL,
  KERNEL_MEMORY,
  KERNEL_THREADS,
  LAYER_ENTRY,
  LAYER_ENTRY_BYTES,
  MODEL,
  OPTIMIZER_CODE,
} from './kernelMemory.js';
import type { KernelSimd } from './kernelsWasm.js';
import { outputLoss } from './lstm.js';

// Moved to kernelLoader.ts; still exported here for the modules that import them from this file.
export { fastKernelsProblem, type Kernels, relaxedSimdValidates } from './kernelLoader.js';

/** Busy times shorter than this (a timer's resolution is 5 µs to 0.1 ms in browsers) move no weight. */
const MIN_TIMED_MS = 0.5;

/**
 * The least share weight, a fraction of the mean: a thread its core left waiting for a while (the
 * system ran something else there) still gets columns and parameters to do (and its speed is
 * measured again on the rows it claims).
 */
const MIN_WEIGHT = 0.1;

/**
 * Moves each of `threads` share weights toward its thread's measured speed (rows per millisecond
 * over the last pass), so that the next passes end together; the weights keep their sum, `threads`.
 * Speeds wobble from step to step; moving halfway each time follows a core that stays slower without
 * chasing one slow step. A thread that had no rows (a small batch) moves toward the mean weight, and
 * none falls below MIN_WEIGHT of it. A pass too short to time leaves the weights as they are.
 */
export function rebalanceWeights(
  weights: Float32Array,
  rows: ArrayLike<number>,
  busyMs: ArrayLike<number>,
  threads: number,
): void {
  let speedSum = 0;
  let timedWeight = 0;
  let weightSum = 0;
  for (let i = 0; i < threads; i++) {
    weightSum += weights[i];
    if (rows[i] === 0) continue;
    if (!(busyMs[i] >= MIN_TIMED_MS)) return;
    speedSum += rows[i] / busyMs[i];
    timedWeight += weights[i];
  }
  if (speedSum === 0) return;
  const mean = weightSum / threads;
  let sum = 0;
  for (let i = 0; i < threads; i++) {
    const target = rows[i] === 0 ? mean : (rows[i] / busyMs[i] / speedSum) * timedWeight;
    weights[i] = Math.max(MIN_WEIGHT * mean, 0.5 * weights[i] + 0.5 * target);
    sum += weights[i];
  }
  for (let i = 0; i < threads; i++) weights[i] *= threads / sum;
}

/**
 * Threads split a model's hidden units rather than its batch rows (splitUnits) where some layer's
 * theta is larger than this: with rows, each thread reads all of theta every step, which for a large
 * theta costs more than the barrier a step that units need. npm run bench:cpu-sizes measures where
 * the two cross over (docs/PERFORMANCE.md).
 */
const UNITS_FROM_BYTES = 8 * 1024 * 1024;

const FLOAT = 4;

function roundUp(n: number, multiple: number): number {
  return Math.ceil(n / multiple) * multiple;
}

/**
 * Floats between rows of a matrix with n columns: at least n, a multiple of 16 (64-byte rows) and an
 * odd number of 64-byte lines, so that a column strip's rows fall into different cache sets (rows
 * 4 KB apart would all share one set and evict each other).
 */
export function rowStride(n: number): number {
  return n <= 16 ? 16 : 16 + roundUp(n - 16, 32);
}

/** One layer of the padded internal parameter layout. */
export interface PaddedLayer {
  inputSize: number;
  hiddenSize: number;
  /** hiddenSize rounded up to a multiple of 4 (of 8 from 64 units) */
  paddedHidden: number;
  /** Ip: the input slot of z, inputSize for the first layer, the layer below's paddedHidden above */
  inputWidth: number;
  /** where y starts in z and V in theta: inputWidth + 1 (the bias) rounded up to 4 */
  yAt: number;
  /** Kp = yAt + paddedHidden: theta's rows, z's columns */
  zWidth: number;
  /** floats between rows of theta, gates and delta (rowStride(4Hp)) */
  gateRow: number;
  /** floats between rows of z (rowStride(Kp)) */
  zRow: number;
  /** offset of theta (Kp, gateRow): W rows 0..I, b at row Ip, V rows yAt..yAt+H */
  theta: number;
}

export interface PaddedLayout {
  layers: PaddedLayer[];
  /** dense w (H_last, O) and b (O), unpadded */
  dense: { w: number; b: number };
  /** Floats, a multiple of 16. */
  size: number;
}

export function paddedLayout(layout: ParamLayout): PaddedLayout {
  let offset = 0;
  let inputWidth = layout.config.inputSize;
  const layers = layout.layers.map(({ inputSize, hiddenSize }) => {
    // Multiples of 8 from 64 units, so that the threads can split the units in whole 8-column strips.
    const paddedHidden = roundUp(hiddenSize, hiddenSize >= 64 ? 8 : 4);
    const yAt = roundUp(inputWidth + 1, 4);
    const zWidth = yAt + paddedHidden;
    const gateRow = rowStride(GATES * paddedHidden);
    const layer = { inputSize, hiddenSize, paddedHidden, inputWidth, yAt, zWidth, gateRow, zRow: rowStride(zWidth) };
    const theta = offset;
    offset += zWidth * gateRow;
    inputWidth = paddedHidden;
    return { ...layer, theta };
  });
  const w = offset;
  const b = w + layout.dense.inputSize * layout.dense.outputSize;
  return { layers, dense: { w, b }, size: roundUp(b + layout.dense.outputSize, 16) };
}

/**
 * Calls `copy(flatOffset, paddedOffset, length)` for every contiguous run of parameters the flat and
 * padded layouts share: one run per gate block of each row of w, v and b, and the dense layer.
 * Packing and unpacking are this walk in either direction.
 */
export function forEachParamRun(
  layout: ParamLayout,
  padded: PaddedLayout,
  copy: (flatOffset: number, paddedOffset: number, length: number) => void,
): void {
  layout.layers.forEach((flat, l) => {
    const { inputSize: I, hiddenSize: H, paddedHidden: Hp, inputWidth, yAt, gateRow, theta } = padded.layers[l];
    for (let g = 0; g < GATES; g++) {
      for (let k = 0; k < I; k++) copy(flat.w + k * GATES * H + g * H, theta + k * gateRow + g * Hp, H);
      copy(flat.b + g * H, theta + inputWidth * gateRow + g * Hp, H);
      for (let k = 0; k < H; k++) copy(flat.v + k * GATES * H + g * H, theta + (yAt + k) * gateRow + g * Hp, H);
    }
  });
  const { dense } = layout;
  copy(dense.w, padded.dense.w, dense.inputSize * dense.outputSize);
  copy(dense.b, padded.dense.b, dense.outputSize);
}

/** Byte offsets of one layer's buffers in wasm memory (shapes in kernels.wat's header). */
interface LayerBuffers {
  /** (T+1, B, zRow) */
  z: number;
  /** (T, B, gateRow) */
  gates: number;
  /** (T+1, B, Hp) */
  c: number;
  /** (T, B, Hp) */
  tanhC: number;
  /** (T, B, Hp) */
  gy: number;
  /** (T, B, gateRow) */
  delta: number;
  /** V^T (G, Hp) then W^T (G, Ip), in column strips, for the backward products */
  thetaT: number;
  /** (Kp, G) theta in column strips, for the forward products; packed after every change of theta */
  thetaS: number;
}

/** Byte addresses of the regions an engine carves from heapBase, each 64-byte aligned. */
interface Heap {
  /** (P_padded) each */
  params: number;
  grads: number;
  /** (stateArrays, P_padded): the optimizer's state */
  slots: number;
  /** one LAYER_ENTRY_BYTES entry a layer, which kernels.wat's drivers walk */
  layerTable: number;
  layers: LayerBuffers[];
  /** (B, max Hp): the backward pass's dc, rows dcRow bytes apart */
  dc: number;
  dcRow: number;
  /** a scratch of packedBytes per thread, where the products pack panels of A */
  packed: number;
  packedBytes: number;
  /** the first byte past the last region */
  end: number;
}

/** Carves the heap for a padded layout, window T, maximum batch B, the optimizer's state and `threads`. */
function carveHeap(padded: PaddedLayout, T: number, B: number, slotFloats: number, threads: number): Heap {
  let top = KERNEL_MEMORY.heapBase;
  const region = (floats: number): number => {
    const at = top;
    top += roundUp(floats, 16) * FLOAT;
    return at;
  };
  const params = region(padded.size);
  const grads = region(padded.size);
  const slots = region(slotFloats);
  const layerTable = region((padded.layers.length * LAYER_ENTRY_BYTES) / FLOAT);
  const layers = padded.layers.map(({ paddedHidden: Hp, inputWidth, gateRow, zRow, zWidth }) => ({
    z: region((T + 1) * B * zRow),
    gates: region(T * B * gateRow),
    c: region((T + 1) * B * Hp),
    tanhC: region(T * B * Hp),
    gy: region(T * B * Hp),
    delta: region(T * B * gateRow),
    thetaT: region(GATES * Hp * (Hp + inputWidth)),
    thetaS: region(zWidth * GATES * Hp),
  }));
  const maxHp = Math.max(...padded.layers.map((l) => l.paddedHidden));
  const dc = region(B * maxHp);
  // Each thread packs panels of A of up to max(B, Kp) rows by GEMM_PANEL columns.
  const packedBytes = roundUp(Math.max(B, ...padded.layers.map((l) => l.zWidth)), 4) * GEMM_PANEL * FLOAT;
  const packed = region((threads * packedBytes) / FLOAT);
  return { params, grads, slots, layerTable, layers, dc, dcRow: maxHp * FLOAT, packed, packedBytes, end: top };
}

/** The most bytes WebAssembly memory holds (65,536 pages of 64 KiB): what the fast kernels can use. */
export const MAX_KERNEL_BYTES = 65536 * 65536;

/** Why the fast kernels cannot hold `layout` at batch `B`, as one line for a person. */
function tooLarge(bytes: number, layout: ParamLayout, B: number, why: string): InputError {
  const gib = (bytes / 2 ** 30).toFixed(1);
  return new InputError(
    'backend',
    `the CPU backend needs ${gib} GiB for hidden ${layout.config.hiddenSizes.join(',')}, window ${layout.config.window} and batch ${B}, ${why}; use fewer hidden units, a shorter window or a smaller batch, or the webgpu backend`,
  );
}

/**
 * Bytes of WebAssembly memory a one-thread engine of this layout, maximum batch and optimizer carves:
 * what its memory grows to (engines on one memory take turns in it, so it holds the largest carve).
 */
export function fastLstmBytes(layout: ParamLayout, maxBatch: number, optimizer: OptimizerSettings): number {
  const padded = paddedLayout(layout);
  return carveHeap(padded, layout.config.window, maxBatch, stateArrays(optimizer.name) * padded.size, 1).end;
}

/**
 * Bytes an engine keeps beside its memory while another engine is in it: its parameters and
 * optimizer state, padded (a population's members each keep them; its capacity check sums them).
 */
export function fastLstmStateBytes(layout: ParamLayout, optimizer: OptimizerSettings): number {
  return (1 + stateArrays(optimizer.name)) * paddedLayout(layout).size * FLOAT;
}

/**
 * The memory and kernels an engine of `bytes` runs on: a pool's (its shared memory, or one thread's
 * private one: privateKernels), grown to fit, or else a private memory of its own with the `simd`
 * kernels. Memory beyond WebAssembly's 4 GiB, or that this machine will not give, is an InputError
 * on `backend`.
 */
function engineHost(
  pool: KernelPool | null,
  simd: KernelSimd,
  bytes: number,
  layout: ParamLayout,
  B: number,
): KernelPool {
  const pages = Math.ceil(bytes / 65536);
  if (bytes > MAX_KERNEL_BYTES) throw tooLarge(bytes, layout, B, 'more than WebAssembly memory holds (4 GiB)');
  try {
    const host = pool ?? privateKernels(simd);
    if (host.simd !== simd) throw new Error(`the pool runs the ${host.simd} kernels, not ${simd}`);
    const have = host.memory.buffer.byteLength / 65536;
    if (have < pages) host.memory.grow(pages - have);
    return host;
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    throw tooLarge(bytes, layout, B, `more memory than this machine gave (${err.message})`);
  }
}

/** The views of a memory an engine reads and writes while it is in it; made again after the memory grows. */
interface Views {
  buffer: ArrayBufferLike;
  /** The whole memory as floats and as words. */
  f32: Float32Array;
  i32: Int32Array;
  /** kernels.wat's share weights, busy times and busy rows (one per thread). */
  shareWeights: Float32Array;
  busy: Float64Array;
  busyRows: Int32Array;
  /** (P_padded) the parameters and gradients; (stateArrays, P_padded) the optimizer's state */
  params: Float32Array;
  grads: Float32Array;
  slots: Float32Array;
}

function viewsOf(buffer: ArrayBufferLike, heap: Heap, paramCount: number, slotCount: number): Views {
  const f32 = new Float32Array(buffer);
  return {
    buffer,
    f32,
    i32: new Int32Array(buffer),
    shareWeights: new Float32Array(buffer, KERNEL_MEMORY.shareWeights, KERNEL_THREADS),
    busy: new Float64Array(buffer, KERNEL_MEMORY.busy, KERNEL_THREADS),
    busyRows: new Int32Array(buffer, KERNEL_MEMORY.busyRows, KERNEL_THREADS),
    params: f32.subarray(heap.params / FLOAT, heap.params / FLOAT + paramCount),
    grads: f32.subarray(heap.grads / FLOAT, heap.grads / FLOAT + paramCount),
    slots: f32.subarray(heap.slots / FLOAT, heap.slots / FLOAT + slotCount),
  };
}

/** The engine whose state each memory holds now, and the carve (carveKey) its heap was last laid out for. */
const residents = new WeakMap<WebAssembly.Memory, FastLstm>();
const carves = new WeakMap<WebAssembly.Memory, string>();

/** Writes the model block and the layer table (kernelMemory.ts), which kernels.wat's drivers read. */
function writeModelTable(i32: Int32Array, heap: Heap, padded: PaddedLayout, T: number): void {
  const model = (field: keyof typeof MODEL, value: number) => {
    i32[(KERNEL_MEMORY.model + MODEL[field]) / FLOAT] = value;
  };
  model('window', T);
  model('layerCount', padded.layers.length);
  model('layers', heap.layerTable);
  model('params', heap.params);
  model('grads', heap.grads);
  model('slots', heap.slots);
  model('paramCount', padded.size);
  model('packed', heap.packed);
  model('packedBytes', heap.packedBytes);
  model('dc', heap.dc);
  model('dcRow', heap.dcRow);
  padded.layers.forEach((layer, l) => {
    const entry = (field: keyof typeof LAYER_ENTRY, value: number) => {
      i32[(heap.layerTable + l * LAYER_ENTRY_BYTES + LAYER_ENTRY[field]) / FLOAT] = value;
    };
    const buffers = heap.layers[l];
    entry('inputWidth', layer.inputWidth);
    entry('paddedHidden', layer.paddedHidden);
    entry('yAt', layer.yAt);
    entry('zWidth', layer.zWidth);
    entry('zRow', layer.zRow * FLOAT);
    entry('gateRow', layer.gateRow * FLOAT);
    entry('theta', layer.theta * FLOAT);
    for (const name of ['thetaT', 'thetaS', 'z', 'gates', 'c', 'tanhC', 'gy', 'delta'] as const)
      entry(name, buffers[name]);
  });
}

/** The index, in the memory's i32 and f32 views, of a word of the control block. */
function controlWord(field: keyof typeof CONTROL): number {
  return (KERNEL_MEMORY.control + CONTROL[field]) / FLOAT;
}

export class FastLstm implements CpuEngine {
  readonly kernels = 'fast' as const;
  readonly layout: ParamLayout;
  readonly padded: PaddedLayout;
  readonly maxBatch: number;
  readonly window: number;
  readonly optimizer: OptimizerSettings;
  /** The products' variant these kernels use. */
  readonly simd: KernelSimd;
  /** Threads this engine may use: its pool's, or 1. */
  readonly maxThreads: number;
  /** The memory and kernels this engine takes turns on with the other engines there. */
  readonly host: KernelPool;
  private views: Views;
  /** Byte offsets of the regions carved for this engine, and what identifies their layout. */
  private readonly heap: Heap;
  private readonly carveKey: string;
  /** The parameters and optimizer state (padded) while another engine is in the memory. */
  private readonly savedParams: Float32Array;
  private readonly savedSlots: Float32Array;
  /** The share weights, likewise. */
  private readonly savedWeights = new Float32Array(KERNEL_THREADS).fill(1);
  private threadCount = 1;
  private unitsSplit = false;
  /** Updates so far (Adam's t). */
  private step = 0;
  /** Whether thetaS holds the parameters as they are now. */
  private stripsCurrent = false;
  /** Whether the heap's scratch holds this engine's batch (loadBatch since it last moved in). */
  private batchLoaded = false;
  /** Whether splitting the units pays (UNITS_FROM_BYTES) and the layout allows it. */
  private readonly unitsPay: boolean;
  /** (B, O) targets of the loaded batch, outputs, and out - t */
  private readonly target: Float32Array;
  private readonly out: Float32Array;
  private readonly outDelta: Float32Array;
  private hasTargets = false;

  /**
   * With a pool, the buffers live in the pool's memory (its threads', or one thread's privateKernels,
   * shared with the other engines there) and the pool's variant of the kernels runs; else in a memory
   * of its own, with `simd` (by default kernelSimd()).
   */
  constructor(
    layout: ParamLayout,
    maxBatch: number,
    optimizer: OptimizerSettings = DEFAULT_OPTIMIZER,
    { pool = null, simd = pool?.simd ?? kernelSimd() }: { pool?: KernelPool | null; simd?: KernelSimd } = {},
  ) {
    this.layout = layout;
    this.padded = paddedLayout(layout);
    this.maxBatch = maxBatch;
    this.optimizer = optimizer;
    this.maxThreads = pool?.size ?? 1;
    this.window = layout.config.window;
    this.simd = simd;
    const P = this.padded.size;
    const slotCount = stateArrays(optimizer.name) * P;
    const heap = carveHeap(this.padded, this.window, maxBatch, slotCount, this.maxThreads);
    this.heap = heap;
    this.carveKey = JSON.stringify([layout.config, heap]);
    this.host = engineHost(pool, simd, heap.end, layout, maxBatch);
    this.views = viewsOf(this.host.memory.buffer, heap, P, slotCount);
    this.savedParams = new Float32Array(P);
    this.savedSlots = new Float32Array(slotCount);

    const layers = this.padded.layers;
    this.unitsPay =
      layers.some((l) => l.zWidth * l.gateRow * FLOAT > UNITS_FROM_BYTES) &&
      layers.every((l) => l.paddedHidden % 8 === 0);
    this.threads = this.maxThreads;

    const O = layout.config.outputSize;
    this.target = new Float32Array(maxBatch * O);
    this.out = new Float32Array(maxBatch * O);
    this.outDelta = new Float32Array(maxBatch * O);
  }

  /** Whether this engine's state is in the memory now. */
  private get resident(): boolean {
    return residents.get(this.host.memory) === this;
  }

  /** The views, made again if the memory grew (another engine's carve) since they were made. */
  private current(): Views {
    const { buffer } = this.host.memory;
    if (this.views.buffer !== buffer) {
      this.views = viewsOf(buffer, this.heap, this.savedParams.length, this.savedSlots.length);
    }
    return this.views;
  }

  /** Puts this engine's state in the memory (the engine there moves out first); returns the views. */
  private enter(): Views {
    const views = this.current();
    if (this.resident) return views;
    const { memory } = this.host;
    residents.get(memory)?.leave();
    const { f32, i32 } = views;
    // A fresh memory's heap is zeros; another carve's leftovers are cleared to match.
    if (carves.get(memory) !== this.carveKey) {
      f32.fill(0, KERNEL_MEMORY.heapBase / FLOAT, this.heap.end / FLOAT);
      carves.set(memory, this.carveKey);
    }
    writeModelTable(i32, this.heap, this.padded, this.window);
    i32[controlWord('threads')] = this.threadCount;
    i32[controlWord('splitUnits')] = this.unitsSplit ? 1 : 0;
    views.shareWeights.set(this.savedWeights);
    views.busyRows.fill(0);
    views.params.set(this.savedParams);
    views.slots.set(this.savedSlots);
    residents.set(memory, this);
    this.stripsCurrent = false;
    this.batchLoaded = false;
    return views;
  }

  /** Copies this engine's state out of the memory, for another engine to move in. */
  private leave(): void {
    const views = this.current();
    this.savedParams.set(views.params);
    this.savedSlots.set(views.slots);
    this.savedWeights.set(views.shareWeights);
    residents.delete(this.host.memory);
  }

  /** The parameters and optimizer state (padded) where they are now: in the memory, or kept aside. */
  private state(): { params: Float32Array; slots: Float32Array } {
    return this.resident ? this.current() : { params: this.savedParams, slots: this.savedSlots };
  }

  /** The views, for a call on the batch loadBatch put in the memory (no other engine may have moved in since). */
  private loaded(call: string): Views {
    const views = this.enter();
    if (!this.batchLoaded)
      throw new Error(`${call}() without a batch loaded since this engine last moved into its memory`);
    return views;
  }

  /** (P_padded) the parameters, in the memory (the engine moves in). */
  get params(): Float32Array {
    return this.enter().params;
  }

  /** (P_padded) the gradients of the last backward(), in the memory (the engine moves in). */
  get grads(): Float32Array {
    return this.enter().grads;
  }

  /** Threads every call splits its work across, 1 to maxThreads. */
  get threads(): number {
    return this.threadCount;
  }

  set threads(count: number) {
    if (!Number.isInteger(count) || count < 1 || count > this.maxThreads) {
      throw new RangeError(`threads: expected a whole number from 1 to ${this.maxThreads}, got ${count}`);
    }
    this.threadCount = count;
    this.setSharedWeights(new Array<number>(KERNEL_THREADS).fill(1));
    this.splitUnits = count > 1 && this.unitsPay;
    if (this.resident) this.current().i32[controlWord('threads')] = count;
  }

  /**
   * How the threads split the recurrences: false, chunks of batch rows (each thread reads all of
   * theta every step for its rows, with no barrier between steps); true, ranges of hidden units
   * (every row, a barrier each step, and each thread reads only its columns of theta). Set with the
   * thread count: units where a layer's theta is larger than UNITS_FROM_BYTES.
   */
  get splitUnits(): boolean {
    return this.unitsSplit;
  }

  set splitUnits(split: boolean) {
    if (split && !this.padded.layers.every((l) => l.paddedHidden % 8 === 0)) {
      throw new RangeError('splitUnits: every layer needs a multiple of 8 padded hidden units');
    }
    this.unitsSplit = split && this.threads > 1;
    if (this.resident) this.current().i32[controlWord('splitUnits')] = this.unitsSplit ? 1 : 0;
  }

  /**
   * Sets every thread's share weight (positive, one per thread; 1 each until passes are timed), which
   * kernels.wat splits gate columns and parameters in proportion to (rows go in claimed chunks);
   * passes move them on from there.
   */
  setWeights(weights: readonly number[]): void {
    if (weights.length !== this.threads || !weights.every((w) => w > 0 && Number.isFinite(w))) {
      throw new RangeError(`weights: expected ${this.threads} positive numbers, got [${weights.join(', ')}]`);
    }
    this.setSharedWeights(weights);
  }

  /** Share weights from the first thread on, where they are now. */
  private setSharedWeights(weights: readonly number[]): void {
    (this.resident ? this.current().shareWeights : this.savedWeights).set(weights);
  }

  /** After a pass whose rows the threads shared: the weights moved toward the threads' measured speeds. */
  private rebalance(): void {
    const { shareWeights, busyRows, busy } = this.current();
    rebalanceWeights(shareWeights, busyRows, busy, this.threads);
  }

  setParams(params: Float32Array): void {
    this.pack(params, this.state().params);
    this.stripsCurrent = false;
  }

  readParams(out: Float32Array): void {
    this.unpack(this.state().params, out);
  }

  readGrads(out: Float32Array): void {
    this.unpack(this.loaded('readGrads').grads, out);
  }

  readOptimizerState(): OptimizerState {
    const P = this.layout.size;
    const Pp = this.padded.size;
    const arrays = stateArrays(this.optimizer.name);
    const slots = new Float32Array(arrays * P);
    const from = this.state().slots;
    for (let s = 0; s < arrays; s++) {
      this.unpack(from.subarray(s * Pp, (s + 1) * Pp), slots.subarray(s * P, (s + 1) * P));
    }
    return { name: this.optimizer.name, step: this.step, slots };
  }

  setOptimizerState(state: OptimizerState): void {
    const P = this.layout.size;
    const Pp = this.padded.size;
    const into = this.state().slots;
    for (let s = 0; s < stateArrays(this.optimizer.name); s++) {
      this.pack(state.slots.subarray(s * P, (s + 1) * P), into.subarray(s * Pp, (s + 1) * Pp));
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
    const { f32 } = this.enter();
    const { zRow, yAt } = this.padded.layers[0];
    const z = this.heap.layers[0].z / FLOAT;
    // z_t rows [x_t, 1, 0..]: time-major, so each step's rows are one contiguous (B, zRow) block.
    for (let b = 0; b < B; b++) {
      const n = indices === null ? start + b : indices[start + b];
      for (let step = 0; step < T; step++) {
        const from = (n * T + step) * I;
        const to = z + (step * B + b) * zRow;
        for (let i = 0; i < I; i++) f32[to + i] = x[from + i];
        f32[to + I] = 1;
        for (let i = I + 1; i < yAt; i++) f32[to + i] = 0;
      }
      if (t !== null) for (let o = 0; o < O; o++) this.target[b * O + o] = t[n * O + o];
    }
    this.hasTargets = t !== null;
    this.batchLoaded = true;
  }

  forward(B: number): void {
    const { f32, params } = this.loaded('forward');
    if (!this.stripsCurrent) {
      this.run(COMMAND.pack, 0);
      this.stripsCurrent = true;
    }
    this.run(COMMAND.forward, B);

    // The dense layer on the last step's y (in the top layer's z at step T): (B, H) x (H, O).
    const { dense } = this.padded;
    const O = this.layout.config.outputSize;
    const top = this.padded.layers[this.padded.layers.length - 1];
    const yLast =
      (this.heap.layers[this.heap.layers.length - 1].z + this.window * B * top.zRow * FLOAT) / FLOAT + top.yAt;
    for (let n = 0; n < B; n++) {
      const yRow = yLast + n * top.zRow;
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
    const { f32, params, grads } = this.loaded('backward');
    const T = this.window;
    // Dense layer: dWd = y_T^T d, dbd = sum d, and dy_T = d Wd^T into the top layer's gy at step T-1.
    const { dense } = this.padded;
    const O = this.layout.config.outputSize;
    const top = this.padded.layers[this.padded.layers.length - 1];
    const topBuffers = this.heap.layers[this.heap.layers.length - 1];
    const H = top.hiddenSize;
    const Hp = top.paddedHidden;
    const yLast = (topBuffers.z + T * B * top.zRow * FLOAT) / FLOAT + top.yAt;
    const gyLast = (topBuffers.gy + (T - 1) * B * Hp * FLOAT) / FLOAT;
    grads.fill(0, dense.w, dense.b + O);
    for (let n = 0; n < B; n++) {
      const yRow = yLast + n * top.zRow;
      for (let o = 0; o < O; o++) {
        const d = this.outDelta[n * O + o];
        grads[dense.b + o] += d;
        for (let j = 0; j < H; j++) grads[dense.w + j * O + o] += f32[yRow + j] * d;
      }
      const gyRow = gyLast + n * Hp;
      for (let j = 0; j < H; j++) {
        let s = 0;
        for (let o = 0; o < O; o++) s += this.outDelta[n * O + o] * params[dense.w + j * O + o];
        f32[gyRow + j] = s;
      }
      f32.fill(0, gyRow + H, gyRow + Hp);
    }
    this.run(COMMAND.backward, B);
  }

  update(learningRate: number): void {
    const { optimizer } = this;
    const { f32, i32, grads } = this.loaded('update');
    // The padding's gradients are 0, so the norm over the padded gradients is the flat one.
    const scale = clipScale(grads, optimizer.clipNorm);
    this.step++;
    i32[controlWord('optimizer')] = OPTIMIZER_CODE[optimizer.name];
    f32[controlWord('scale')] = scale;
    switch (optimizer.name) {
      case 'sgd':
        // The blog's update, with the clipping scale folded into the rate.
        f32[controlWord('learningRate')] = learningRate * scale;
        break;
      case 'momentum':
        f32[controlWord('learningRate')] = learningRate;
        f32[controlWord('momentum')] = optimizer.momentum;
        break;
      case 'adam': {
        // The bias corrections and complements in double precision, as the reference takes them.
        const { beta1, beta2, epsilon } = optimizer;
        f32[controlWord('learningRate')] = learningRate;
        f32[controlWord('beta1')] = beta1;
        f32[controlWord('oneMinusBeta1')] = 1 - beta1;
        f32[controlWord('beta2')] = beta2;
        f32[controlWord('oneMinusBeta2')] = 1 - beta2;
        f32[controlWord('epsilon')] = epsilon;
        f32[controlWord('c1')] = 1 - beta1 ** this.step;
        f32[controlWord('c2')] = 1 - beta2 ** this.step;
        break;
      }
    }
    this.run(COMMAND.update, 0);
    this.stripsCurrent = false;
  }

  private run(command: number, B: number): void {
    // Every caller has moved in (loaded or enter); the views are current.
    const { i32 } = this.views;
    i32[controlWord('batch')] = B;
    try {
      this.host.kernels.run(command);
    } catch (err) {
      if (i32[controlWord('failed')] !== 0) {
        throw new Error('a thread of the CPU backend failed, so its threads cannot go on', { cause: err });
      }
      throw err;
    }
    if ((command === COMMAND.forward || command === COMMAND.backward) && this.threads > 1) this.rebalance();
  }
}
