// kernels.wat's memory map, the one table both languages read: the fixed blocks below the heap, the
// fields inside them, a layer table entry, the command codes and the products' panel length.
// fastLstm.ts imports it; scripts/build-cpu-kernels.ts writes its numbers into kernels.wat, which
// names them in braces ({control.threads}, offset={layer.gy}, ...), and compiles the result into
// kernelsWasm.ts. After editing this file, rebuild: npx tsx scripts/build-cpu-kernels.ts
// (tests/cpu-fast-wasm.test.ts fails until the committed kernels match the table).
//
// Every address and offset is in bytes. This module imports only the thread bound (a constant): the
// build script reads it before kernelsWasm.ts exists.

import { MAX_THREADS } from '../../settings/threads.js';

/**
 * The most threads kernels.wat has room for: mailboxes, share weights, busy times and rows. The
 * thread setting's bound (src/settings/threads.ts), so that the settings need not import the backend.
 */
export const KERNEL_THREADS = MAX_THREADS;

/** Bytes per thread in the blocks that hold one value per thread. */
export const PER_THREAD_BYTES = { mailboxes: 4, shareWeights: 4, busy: 8, busyRows: 4 } as const;

/** Byte addresses of the fixed blocks, in address order; fastLstm.ts carves its buffers from heapBase. */
export const KERNEL_MEMORY = {
  /** activate's constants (CONSTANTS, ACTIVATE_FORMS), stored when an instance starts */
  constants: 0,
  /** the call: command, threads, batch, barrier, update arguments (CONTROL) */
  control: 320,
  /** one i32 per thread, bumped to hand that thread the command */
  mailboxes: 448,
  /** the model: window, layer table, parameter buffers, scratch (MODEL) */
  model: 512,
  /** f32 per thread: its share of every split of columns or parameters, in proportion */
  shareWeights: 576,
  /** f64 per thread: milliseconds on its rows in the last forward pass or backward recurrence */
  busy: 640,
  /** i32 per thread: how many rows that was */
  busyRows: 768,
  /** the first byte of fastLstm.ts's buffers; kernels.wat exports it as the global heapBase */
  heapBase: 832,
} as const;

/** Offsets in the constants block of activate's exp (Cephes expf), one f32x4 each (bias: i32x4). */
export const CONSTANTS = {
  one: 0,
  hi: 16,
  lo: 32,
  log2e: 48,
  magic: 64,
  ln2hi: 80,
  ln2lo: 96,
  p0: 112,
  p1: 128,
  p2: 144,
  p3: 160,
  p4: 176,
  p5: 192,
  bias: 208,
} as const;

/** Offsets in the constants block of activate's two forms, a sigmoid(a x) + 1 - a for a = 1 and 2. */
export const ACTIVATE_FORMS = { sigmoid: 224, tanh: 272 } as const;

/** Offsets inside a form, one f32x4 each: -a, 1 - a and a. */
export const FORM = { scale: 0, shift: 16, a: 32 } as const;

export const FORM_BYTES = 48;

/** Offsets of the control block's words: i32 up to optimizer, then the update's f32 arguments. */
export const CONTROL = {
  /** COMMAND: what run hands the threads */
  command: 0,
  threads: 4,
  /** B: the batch rows of this call */
  batch: 8,
  /** the barrier: threads arrived, and the generation it bumps to release them */
  arrivals: 12,
  generation: 16,
  /** 1 once a thread has trapped: no thread waits any more */
  failed: 20,
  /** OPTIMIZER_CODE */
  optimizer: 24,
  learningRate: 28,
  momentum: 32,
  beta1: 36,
  oneMinusBeta1: 40,
  beta2: 44,
  oneMinusBeta2: 48,
  epsilon: 52,
  /** Adam's bias corrections 1 - beta^step */
  c1: 56,
  c2: 60,
  /** the gradient clipping scale */
  scale: 64,
  /** the first batch row the forward pass, and the backward recurrence, has not handed out */
  forwardNextRow: 68,
  backwardNextRow: 72,
  /** 1 where the threads split the recurrences' hidden units, else their batch rows */
  splitUnits: 76,
} as const;

/** Offsets of the model block's i32 words (pointers are byte addresses). */
export const MODEL = {
  /** T */
  window: 0,
  layerCount: 4,
  /** address of the layer table: layerCount entries of LAYER_ENTRY_BYTES */
  layers: 8,
  params: 12,
  grads: 16,
  /** the optimizer's state, one parameter count apart */
  slots: 20,
  /** floats of params (a multiple of 16) */
  paramCount: 24,
  /** the packing scratch, and its bytes per thread */
  packed: 28,
  packedBytes: 32,
  /** the backward pass's dc, and its row's bytes (the widest layer's Hp) */
  dc: 36,
  dcRow: 40,
} as const;

/** Offsets of one layer table entry's i32 words; rows in bytes, pointers byte addresses. */
export const LAYER_ENTRY = {
  /** Ip */
  inputWidth: 0,
  /** Hp */
  paddedHidden: 4,
  yAt: 8,
  /** Kp */
  zWidth: 12,
  zRow: 16,
  gateRow: 20,
  /** theta's offset inside params, grads and each of the slots */
  theta: 24,
  thetaT: 28,
  z: 32,
  gates: 36,
  c: 40,
  tanhC: 44,
  gy: 48,
  delta: 52,
  thetaS: 56,
} as const;

/** Bytes between layer table entries: a power of two, so kernels.wat finds the last by a shift. */
export const LAYER_ENTRY_BYTES = 64;

/** What run and threadMain do: the control block's command word. */
export const COMMAND = { forward: 1, backward: 2, update: 3, stop: 4, pack: 5 } as const;

/** The control block's optimizer word: the order of the update's br_table in kernels.wat. */
export const OPTIMIZER_CODE = { sgd: 0, momentum: 1, adam: 2 } as const;

/** The longest panel of k the products pack at once (a power of two): sizes the packing scratch. */
export const GEMM_PANEL = 256;
