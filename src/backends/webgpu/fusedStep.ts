// When the fused small-model kernels (shaders/lstm_fused_forward.wgsl, lstm_fused_backward.wgsl) run
// a training step, and their override constants. They put a whole forward pass, then a whole backward
// pass, in one workgroup each, so a step is 3 dispatches with the update; that pays only where one
// workgroup (one SM) does the step's arithmetic in about the time the saved dispatches would cost
// (docs/PERFORMANCE.md derives the bound). One-layer models only: stacked ones take the other paths.
//
// Legend: B = batch, T = window, I = input size, H = hidden size, O = output size, Q = ceil(B / 4).

import { trainStepFlops } from '../../model/flops.js';
import type { ParamLayout } from '../../model/layout.js';
import type { GpuLimits } from './context.js';

export type FusedLimits = Pick<
  GpuLimits,
  'maxComputeWorkgroupStorageSize' | 'maxComputeInvocationsPerWorkgroup' | 'maxStorageBuffersPerShaderStage'
>;

/** Items an invocation may take on (MAX_ITEMS_PER_LANE in the fused kernels: c and dc stay in registers). */
export const MAX_ITEMS_PER_LANE = 4;
/** Storage buffers the fused forward binds (the backward binds 7). */
const FUSED_STORAGE_BUFFERS = 8;
const BYTES_PER_VEC4 = 16;

/**
 * FLOPs one workgroup does in the time one dispatch costs on a real GPU with WebGPU: about a quarter
 * of one SM's fp32 peak (~60 GFLOP/s of a 25-TFLOP/s GPU's ~100 SMs: one workgroup, a barrier a
 * time step) times ~7 µs a dispatch.
 */
export const WORKGROUP_FLOPS_PER_DISPATCH = 4e5;

/**
 * Whether one workgroup's work is small enough: a step of `flopsPerStep` on one SM takes no longer
 * than the `dispatchesSaved` dispatches it replaces. The persistent schedule saves 2(T - 1) a layer,
 * the fused kernels 2T + 3 at one layer.
 */
export function oneWorkgroupSuffices(flopsPerStep: number, dispatchesSaved: number): boolean {
  return flopsPerStep <= WORKGROUP_FLOPS_PER_DISPATCH * dispatchesSaved;
}

export interface FusedPlan {
  /** Invocations of the one workgroup. */
  workgroup: number;
  itemsPerLane: number;
  /** ceil(B / 4): sizes the workgroup memory for this batch. */
  batchQuads: number;
  /** Whether the backward keeps step t+1's deltas in workgroup memory (else reads them back). */
  stageDeltas: boolean;
  forwardStorageBytes: number;
  backwardStorageBytes: number;
  flopsPerStep: number;
}

export type FusedAdmission = { admitted: true; plan: FusedPlan } | { admitted: false; reason: string };

export interface FusedOptions {
  /** Invocations of the workgroup at most (a software adapter may want fewer); the device's limit by default. */
  maxWorkgroup?: number;
  /** Admit whatever fits, however much work (to test and time the kernels beyond the bound). */
  ignoreFlopBound?: boolean;
}

/** Whether the fused kernels take training steps of `layout` at batch B on a device with `limits`. */
export function fusedAdmission(
  layout: ParamLayout,
  batch: number,
  limits: FusedLimits,
  options: FusedOptions = {},
): FusedAdmission {
  const { config } = layout;
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`fused step: batch ${batch} is not a count`);
  if (config.hiddenSizes.length !== 1) {
    return { admitted: false, reason: `${config.hiddenSizes.length} layers: the fused kernels take one` };
  }
  const H = config.hiddenSizes[0];
  const T = config.window;
  const batchQuads = Math.ceil(batch / 4);
  const items = batchQuads * H;
  const maxWorkgroup = Math.min(
    options.maxWorkgroup ?? limits.maxComputeInvocationsPerWorkgroup,
    limits.maxComputeInvocationsPerWorkgroup,
  );
  const itemsPerLane = Math.ceil(items / maxWorkgroup);
  if (itemsPerLane > MAX_ITEMS_PER_LANE) {
    return {
      admitted: false,
      reason: `${items} items (4 rows x 1 unit) need ${itemsPerLane} a lane of ${maxWorkgroup}, more than ${MAX_ITEMS_PER_LANE}`,
    };
  }
  // As few invocations as the items need at that many a lane, in whole warps where the limit allows.
  const workgroup = Math.min(maxWorkgroup, Math.ceil(Math.ceil(items / itemsPerLane) / 32) * 32);
  const weights = BYTES_PER_VEC4 * H * H;
  const forwardStorageBytes = weights + BYTES_PER_VEC4 * 2 * H * batchQuads;
  const stagedDeltas = weights + BYTES_PER_VEC4 * 2 * H * 4 * batchQuads;
  const storage = limits.maxComputeWorkgroupStorageSize;
  const stageDeltas = stagedDeltas <= storage;
  const backwardStorageBytes = stageDeltas ? stagedDeltas : weights + BYTES_PER_VEC4;
  if (forwardStorageBytes > storage || backwardStorageBytes > storage) {
    return {
      admitted: false,
      reason: `V and the state need ${Math.max(forwardStorageBytes, backwardStorageBytes)} bytes of workgroup memory, more than ${storage}`,
    };
  }
  if (limits.maxStorageBuffersPerShaderStage < FUSED_STORAGE_BUFFERS) {
    return {
      admitted: false,
      reason: `${FUSED_STORAGE_BUFFERS} storage buffers, more than ${limits.maxStorageBuffersPerShaderStage}`,
    };
  }
  const flopsPerStep = trainStepFlops(config, batch);
  if (!options.ignoreFlopBound && !oneWorkgroupSuffices(flopsPerStep, 2 * T + 3)) {
    return {
      admitted: false,
      reason: `${(flopsPerStep / 1e6).toFixed(1)} MFLOP a step is too much for one workgroup at window ${T}`,
    };
  }
  return {
    admitted: true,
    plan: { workgroup, itemsPerLane, batchQuads, stageDeltas, forwardStorageBytes, backwardStorageBytes, flopsPerStep },
  };
}

/** What the fused forward computes after the recurrence (as dense.wgsl's modes). */
export interface FusedForwardMode {
  withLoss: boolean;
  withGradients: boolean;
  meanLoss: boolean;
}

function sharedConstants(layout: ParamLayout, plan: FusedPlan): Record<string, number> {
  const [layer] = layout.layers;
  return {
    WINDOW: layout.config.window,
    INPUT_SIZE: layer.inputSize,
    HIDDEN_SIZE: layer.hiddenSize,
    OUTPUT_SIZE: layout.dense.outputSize,
    W_OFFSET: layer.w,
    V_OFFSET: layer.v,
    DENSE_W_OFFSET: layout.dense.w,
    DENSE_B_OFFSET: layout.dense.b,
    WORKGROUP: plan.workgroup,
    ITEMS_PER_LANE: plan.itemsPerLane,
    BATCH_QUADS: plan.batchQuads,
  };
}

/** Override constants of lstm_fused_forward.wgsl's fused_forward. */
export function fusedForwardConstants(
  layout: ParamLayout,
  plan: FusedPlan,
  mode: FusedForwardMode,
): Record<string, number> {
  return {
    ...sharedConstants(layout, plan),
    BIAS_OFFSET: layout.layers[0].b,
    WITH_LOSS: mode.withLoss ? 1 : 0,
    WITH_GRADIENTS: mode.withGradients ? 1 : 0,
    MEAN_LOSS: mode.meanLoss ? 1 : 0,
  };
}

/** Override constants of lstm_fused_backward.wgsl's fused_backward. */
export function fusedBackwardConstants(layout: ParamLayout, plan: FusedPlan): Record<string, number> {
  return { ...sharedConstants(layout, plan), STAGE_DELTAS: plan.stageDeltas ? 1 : 0 };
}
