// How the kernels are shaped and scheduled: the schedules of the recurrence, the kernel tunings per
// kind of adapter, and the shapes fixed in shaders/ that the dispatch plans size their grids by.
// A new schedule or tuning starts here (and gets its plan in dispatchPlan.ts, its timing in
// calibration.ts).
//
// Legend: B = batch of a pass, H = hidden size.

import type { AdapterDescription } from '../backend.js';

/**
 * How the recurrence is dispatched: stepwise (a dispatch per time step, any size) or persistent (one
 * dispatch for all T steps of a layer, its state in one workgroup, barriers between steps).
 */
export type Schedule = 'stepwise' | 'persistent';
export const SCHEDULES: readonly Schedule[] = ['stepwise', 'persistent'];

/** Shapes fixed in shaders/: the products' output tile, and the recurrence's items (4 rows x 1 or 4 units). */
export const MATMUL_TILE = 32;
const RECURRENCE_ROWS = 4;
const RECURRENCE_UNITS = 4;
/** Items a step one invocation of a persistent kernel may take on. */
const PERSISTENT_ITEMS = 8;

/**
 * How the kernels are shaped for a kind of adapter. GPUs get the classic choices (workgroup-memory
 * tiles, wide workgroups); SwiftShader (a CPU) gets what measured fastest there (docs/ARCHITECTURE.md).
 */
export interface KernelTuning {
  matmulEntry: 'matmul_workgroup_tiles' | 'matmul_registers';
  /** Invocations of the persistent kernels' one workgroup, at most. */
  persistentWorkgroup: number;
  /** Invocations a workgroup of the stepwise recurrence kernels. */
  stepWorkgroup: number;
  /** Parameters one invocation of the update (and of the gradient norm) takes on. */
  updateParamsPerInvocation: number;
  /**
   * FLOPs one dispatch may hold where work can be cut: a product is dispatched in bands of row tiles,
   * the per-epoch error over many samples in chunks of rows (dispatchPlan.ts), so that a Stop never
   * waits long for one dispatch.
   */
  maxDispatchFlops: number;
}

/** 0.5 GFLOP: a third of a second on SwiftShader, a millisecond on a GPU. */
const MAX_DISPATCH_FLOPS = 5e8;

export function kernelTuning(software: boolean, maxInvocationsPerWorkgroup: number): KernelTuning {
  return software
    ? {
        matmulEntry: 'matmul_registers',
        persistentWorkgroup: 64,
        stepWorkgroup: 16,
        updateParamsPerInvocation: 64,
        maxDispatchFlops: MAX_DISPATCH_FLOPS,
      }
    : {
        matmulEntry: 'matmul_workgroup_tiles',
        persistentWorkgroup: Math.min(256, maxInvocationsPerWorkgroup),
        stepWorkgroup: 64,
        updateParamsPerInvocation: 1,
        maxDispatchFlops: MAX_DISPATCH_FLOPS,
      };
}

/** Before calibration: the schedule measured faster on this kind of adapter (see the README's figures). */
export function defaultSchedule(adapter: AdapterDescription): Schedule {
  return adapter.software ? 'stepwise' : 'persistent';
}

/** Items of the forward recurrence kernel (lstm_forward.wgsl): 4 rows x 1 unit each. */
export function forwardItems(batch: number, hidden: number): number {
  return Math.ceil(batch / RECURRENCE_ROWS) * hidden;
}

/** Items of the backward recurrence kernel (lstm_backward.wgsl): 4 rows x 4 units each. */
export function backwardItems(batch: number, hidden: number): number {
  return Math.ceil(batch / RECURRENCE_ROWS) * Math.ceil(hidden / RECURRENCE_UNITS);
}

/**
 * Whether a layer's recurrence at `batch` rows fits the persistent schedule: one workgroup, each
 * invocation with at most PERSISTENT_ITEMS items a step (beyond that one workgroup is too little).
 */
export function persistentFits(batch: number, hidden: number, tuning: KernelTuning): boolean {
  return forwardItems(batch, hidden) <= PERSISTENT_ITEMS * tuning.persistentWorkgroup;
}

/** The persistent kernels' workgroup for `items`: a multiple of 32 invocations, at most the tuning's. */
export function persistentWorkgroup(items: number, tuning: KernelTuning): number {
  return Math.min(tuning.persistentWorkgroup, Math.ceil(items / 32) * 32);
}
