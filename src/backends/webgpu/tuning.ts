// How the kernels are shaped and scheduled: the variants of a training step (a schedule of the
// recurrence and a kernel tuning), the shapes fixed in shaders/ that the dispatch plans size their grids
// by, and which variants a pass admits. A new schedule or tuning starts here (and gets its plan in
// dispatchPlan.ts; calibration.ts times whatever is admitted).
//
// Legend: B = batch of a pass, T = window, H = hidden size.

import type { AdapterDescription } from '../backend.js';
import { type FusedUnits, type GradientRows, oneWorkgroupSuffices } from './fusedStep.js';

/**
 * How the recurrence is dispatched: stepwise (a dispatch per time step, any size), persistent (one
 * dispatch for all T steps of a layer, its state in one workgroup, barriers between steps) or fused (a
 * one-layer model's whole forward and backward pass in one dispatch, a workgroup per 4 rows, and the
 * sums over the rows in a second: fusedStep.ts).
 */
export type Schedule = 'stepwise' | 'persistent' | 'fused';
export const SCHEDULES: readonly Schedule[] = ['stepwise', 'persistent', 'fused'];

/**
 * Which kernels run and how they are shaped: 'software' for a CPU emulating a GPU (SwiftShader: the
 * register kernels, few long invocations, nothing through workgroup memory), 'hardware' for GPUs
 * (workgroup-memory tiles, wide workgroups, coalesced loads). docs/ARCHITECTURE.md says why.
 */
export type TuningName = 'software' | 'hardware';
export const TUNING_NAMES: readonly TuningName[] = ['software', 'hardware'];

/** A training step's kernels: a schedule under a tuning. */
export interface Variant {
  schedule: Schedule;
  tuning: TuningName;
}

/** 'fused/software': how a variant is named in reports (bench's `variant`, train --json). */
export function variantName(variant: Variant): string {
  return `${variant.schedule}/${variant.tuning}`;
}

export function sameVariant(a: Variant, b: Variant): boolean {
  return a.schedule === b.schedule && a.tuning === b.tuning;
}

/** Shapes fixed in shaders/: the products' output tile, and the recurrence's items (4 rows x 1 or 4 units). */
export const MATMUL_TILE = 32;
const RECURRENCE_ROWS = 4;
const RECURRENCE_UNITS = 4;
/** Items a step one invocation of a persistent kernel may take on. */
const PERSISTENT_ITEMS = 8;

/**
 * FLOPs one dispatch may hold where work can be cut: a product is dispatched in bands of row tiles,
 * the per-epoch error over many samples in chunks of rows (dispatchPlan.ts), so that a Stop never
 * waits long for one dispatch (docs/PERFORMANCE.md: what 0.5 GFLOP takes on a software adapter and on
 * a GPU).
 */
export const MAX_DISPATCH_FLOPS = 5e8;

/** The kernels and shapes of a tuning. */
export interface KernelTuning {
  name: TuningName;
  matmulEntry: 'matmul_workgroup_tiles' | 'matmul_registers';
  /**
   * The stepwise recurrence: the register kernels (lstm_forward.wgsl, lstm_backward.wgsl), or the
   * tiled ones (lstm_forward_tiled.wgsl, lstm_backward_tiled.wgsl) with tiles from recurrenceTiling.ts.
   */
  stepKernels: 'registers' | 'tiled';
  /**
   * The persistent backward: lstm_backward.wgsl's, or lstm_backward_coalesced.wgsl's reading Vᵀ
   * (refreshed by recurrent_transpose.wgsl's `transposeEntry` before each backward pass).
   */
  persistentBackward: 'registers' | 'coalesced';
  transposeEntry: 'transpose_tiles' | 'transpose_elements';
  /** Invocations of the persistent kernels' one workgroup, at most. */
  persistentWorkgroup: number;
  /** Invocations a workgroup of the register step kernels. */
  stepWorkgroup: number;
  /** The fused rows kernel: V and y in workgroup memory, and its workgroup's invocations at most. */
  fusedOnChip: boolean;
  fusedWorkgroup: number;
  /** Units an item of the fused rows kernel takes (they share each load: more where loads cost most). */
  fusedUnits: FusedUnits;
  /**
   * Members from which an item of the fused rows kernel takes two quads (8 rows; FusedOptions.paired):
   * half the loads of the weights a multiply-add, one workgroup a member at the blog's batch, so only
   * where the members, not a member's row quads, keep the adapter's threads busy.
   */
  fusedPairedMembers: number;
  /** Invocations that run in lockstep: the fused rows kernel's workgroup is whole multiples of it. */
  fusedWarp: number;
  /** The fused gradients kernel: product rows an item takes, and invocations a workgroup. */
  fusedGradientRows: GradientRows;
  fusedGradientWorkgroup: number;
  /** Parameters one invocation of the update (and of the gradient norm) takes on. */
  updateParamsPerInvocation: number;
}

export function kernelTuning(name: TuningName, maxInvocationsPerWorkgroup: number): KernelTuning {
  return name === 'software'
    ? {
        name,
        matmulEntry: 'matmul_registers',
        stepKernels: 'registers',
        persistentBackward: 'registers',
        transposeEntry: 'transpose_elements',
        persistentWorkgroup: 64,
        stepWorkgroup: 16,
        fusedOnChip: false,
        fusedWorkgroup: 32,
        fusedWarp: 4,
        fusedUnits: 8,
        fusedPairedMembers: 2,
        fusedGradientRows: 8,
        fusedGradientWorkgroup: 16,
        updateParamsPerInvocation: 64,
      }
    : {
        name,
        matmulEntry: 'matmul_workgroup_tiles',
        stepKernels: 'tiled',
        persistentBackward: 'coalesced',
        transposeEntry: 'transpose_tiles',
        persistentWorkgroup: Math.min(256, maxInvocationsPerWorkgroup),
        stepWorkgroup: 64,
        fusedOnChip: true,
        fusedWorkgroup: maxInvocationsPerWorkgroup,
        fusedUnits: 1,
        fusedPairedMembers: Number.POSITIVE_INFINITY,
        fusedWarp: 32,
        fusedGradientRows: 4,
        fusedGradientWorkgroup: 64,
        updateParamsPerInvocation: 1,
      };
}

/**
 * The tunings worth timing on an adapter: a software adapter gets the software one only (workgroup
 * memory and barriers are what it is slowest at); a GPU both, the hardware one first.
 */
export function adapterTunings(adapter: AdapterDescription): TuningName[] {
  return adapter.software ? ['software'] : ['hardware', 'software'];
}

/**
 * The variants worth timing, most promising first: the schedules that save dispatches before the one
 * that always applies; on a software adapter the persistent schedule last but one (its barriers cost
 * more there than the dispatches it saves). What a pass admits is decided later (dispatchPlan.ts).
 */
export function candidateVariants(
  adapter: AdapterDescription,
  schedule: Schedule | 'auto',
  tuning: TuningName | 'auto',
): Variant[] {
  const schedules: Schedule[] =
    schedule !== 'auto'
      ? [schedule]
      : adapter.software
        ? ['fused', 'stepwise', 'persistent']
        : ['fused', 'persistent', 'stepwise'];
  const tunings = tuning !== 'auto' ? [tuning] : adapterTunings(adapter);
  return tunings.flatMap((t) => schedules.map((s) => ({ schedule: s, tuning: t })));
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
 * Whether a layer's recurrence at `batch` rows takes the persistent schedule: it fits one workgroup
 * (each invocation with at most PERSISTENT_ITEMS items a step), and one direction's T steps are little
 * work for one workgroup next to the T - 1 dispatches they save (oneWorkgroupSuffices), so that a run
 * is never stranded on one SM of a large GPU.
 */
export function admitsPersistent(batch: number, hidden: number, window: number, tuning: KernelTuning): boolean {
  const fitsOneWorkgroup = forwardItems(batch, hidden) <= PERSISTENT_ITEMS * tuning.persistentWorkgroup;
  return fitsOneWorkgroup && oneWorkgroupSuffices(2 * window * batch * hidden * 4 * hidden, window - 1);
}

/** The persistent kernels' workgroup for `items`: a multiple of 32 invocations, at most the tuning's. */
export function persistentWorkgroup(items: number, tuning: KernelTuning): number {
  return Math.min(tuning.persistentWorkgroup, Math.ceil(items / 32) * 32);
}
