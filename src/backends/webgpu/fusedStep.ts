// When the fused small-model kernels run a pass, and their shapes and override constants. A training
// step is then 3 dispatches: shaders/lstm_fused_rows.wgsl (each workgroup takes its batch rows through
// the whole forward and backward pass), shaders/lstm_fused_gradients.wgsl (the sums over the rows:
// weight and dense gradients, the loss), and the update. A workgroup runs all T steps of its rows, so
// this pays only where that is little work for one workgroup (one SM) next to the dispatches it saves
// (docs/PERFORMANCE.md derives the bound). One-layer models only: stacked ones take the other paths.
//
// Legend: B = batch, T = window, I = input size, H = hidden size, O = output size,
//         Q = row quads a workgroup, R = 4Q rows a workgroup.

import type { ParamLayout } from '../../model/layout.js';
import type { GpuLimits } from './context.js';

export type FusedLimits = Pick<
  GpuLimits,
  'maxComputeWorkgroupStorageSize' | 'maxComputeInvocationsPerWorkgroup' | 'maxStorageBuffersPerShaderStage'
>;

/** Items an invocation may take on (MAX_ITEMS_PER_LANE in lstm_fused_rows.wgsl: c and dc stay in registers). */
export const MAX_ITEMS_PER_LANE = 4;
/** Storage buffers the rows kernel binds (the gradients kernel binds 4). */
const ROWS_STORAGE_BUFFERS = 8;
const BYTES_PER_VEC4 = 16;
/** Units an item of the gradients kernel takes (UNITS in lstm_fused_gradients.wgsl). */
const GRADIENT_UNITS = 4;

/**
 * FLOPs one workgroup does in the time one dispatch costs on a real GPU with WebGPU: about a quarter
 * of one SM's fp32 peak (one workgroup, a barrier a time step) times the cost of a dispatch. The
 * figures it is made of are in docs/PERFORMANCE.md.
 */
export const WORKGROUP_FLOPS_PER_DISPATCH = 4e5;

/**
 * Whether one workgroup's share of a step is small enough: its `flops` on one SM take no longer than
 * the `dispatchesSaved` dispatches that running it in one workgroup replaces. The persistent schedule
 * saves 2(T - 1) a layer; the fused rows kernel about 2T.
 */
export function oneWorkgroupSuffices(flops: number, dispatchesSaved: number): boolean {
  return flops <= WORKGROUP_FLOPS_PER_DISPATCH * dispatchesSaved;
}

/** FLOPs of one workgroup of the rows kernel: the forward and BPTT products of its R rows over T steps. */
export function rowGroupFlops(layout: ParamLayout, rows: number): number {
  const [{ inputSize: I, hiddenSize: H }] = layout.layers;
  const T = layout.config.window;
  return 2 * T * rows * (I + H) * 4 * H + 2 * T * rows * H * 4 * H;
}

/** Units an item of the rows kernel may take (UNITS in lstm_fused_rows.wgsl). */
export type FusedUnits = 1 | 2 | 4 | 8;
/** Product rows an item of the gradients kernel may take (PRODUCT_ROWS in lstm_fused_gradients.wgsl). */
export type GradientRows = 4 | 8;

export interface FusedPlan {
  /** Row quads a workgroup of the rows kernel takes (GROUP_QUADS). */
  groupQuads: number;
  /** Workgroups of the rows kernel: ceil(B / 4Q). */
  rowGroups: number;
  /** Invocations a workgroup of the rows kernel, and the items each takes on. */
  workgroup: number;
  itemsPerLane: number;
  /** Units an item takes (UNITS): 1, or up to 8 where loads cost more than arithmetic. */
  units: FusedUnits;
  /** Whether an item takes two quads, 8 rows (PAIRED): each load of the weights serves 8 rows, not 4. */
  paired: boolean;
  /** The gradients kernel: product rows an item takes (PRODUCT_ROWS) and invocations a workgroup. */
  gradientRows: GradientRows;
  gradientWorkgroup: number;
  /** V and y in workgroup memory (GPUs), or read from storage (software adapters). */
  onChip: boolean;
  /** Whether BPTT keeps step t+1's deltas in workgroup memory (else reads them back). */
  stageDeltas: boolean;
  /** Workgroup memory of the rows kernel. */
  storageBytes: number;
  /** FLOPs of one workgroup of the rows kernel. */
  rowGroupFlops: number;
}

export type FusedAdmission = { admitted: true; plan: FusedPlan } | { admitted: false; reason: string };

export interface FusedOptions {
  /** Invocations a workgroup at most (a software adapter may want fewer); the device's limit by default. */
  maxWorkgroup?: number;
  /** Row quads a workgroup (default 1: as many workgroups as the batch has quads). */
  groupQuads?: number;
  /** Keep V and the state in workgroup memory (default true; false for software adapters). */
  onChip?: boolean;
  /** Units an item takes (default 1; more for software adapters, where each load costs tens of cycles). */
  units?: FusedUnits;
  /**
   * Two quads an item (default false; off chip only): half the loads of the weights a multiply-add, at
   * half the workgroups a member (a population's members fill the threads instead).
   */
  paired?: boolean;
  /** Product rows an item of the gradients kernel takes (default 4; 8 share each load of the deltas). */
  gradientRows?: GradientRows;
  /** Invocations a workgroup of the gradients kernel (default 64). */
  gradientWorkgroup?: number;
  /**
   * Invocations that run in lockstep (default 32, a warp): the workgroup is whole multiples of it.
   * SwiftShader runs 4 at a time and pays for a group of 4 with no item as for one with items.
   */
  warp?: number;
  /** Admit whatever fits, however much work a workgroup gets (to test and time the kernels beyond the bound). */
  ignoreFlopBound?: boolean;
}

/** Whether the fused kernels take passes of `layout` at batch B on a device with `limits`, and how. */
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
  const paired = options.paired ?? false;
  const onChip = options.onChip ?? true;
  if (paired && onChip) return { admitted: false, reason: 'two quads an item are off chip only' };
  const itemQuads = paired ? 2 : 1;
  // A paired group takes whole pairs of quads (the last one's second quad may lie past the batch).
  const groupQuads = itemQuads * Math.ceil(Math.min(options.groupQuads ?? 1, Math.ceil(batch / 4)) / itemQuads);
  const units = options.units ?? 1;
  const items = (groupQuads / itemQuads) * Math.ceil(H / units);
  const maxWorkgroup = Math.min(
    options.maxWorkgroup ?? limits.maxComputeInvocationsPerWorkgroup,
    limits.maxComputeInvocationsPerWorkgroup,
  );
  const itemsPerLane = Math.ceil(items / maxWorkgroup);
  // A paired item's second quad keeps its c and dc in slot + MAX_ITEMS_PER_LANE / 2.
  const maxItems = MAX_ITEMS_PER_LANE / itemQuads;
  if (itemsPerLane > maxItems) {
    return {
      admitted: false,
      reason: `${items} items (${4 * itemQuads} rows x ${units} unit${units === 1 ? '' : 's'}) a workgroup need ${itemsPerLane} a lane of ${maxWorkgroup}, more than ${maxItems}`,
    };
  }
  // As few invocations as the items need at that many a lane, in whole warps where the limit allows.
  const warp = options.warp ?? 32;
  const workgroup = Math.min(maxWorkgroup, Math.ceil(Math.ceil(items / itemsPerLane) / warp) * warp);
  // Off chip, each workgroup array shrinks to one vec4.
  const state = onChip ? BYTES_PER_VEC4 * H * H + BYTES_PER_VEC4 * 2 * H * groupQuads : 2 * BYTES_PER_VEC4;
  const staged = state + BYTES_PER_VEC4 * 2 * H * 4 * groupQuads;
  const available = limits.maxComputeWorkgroupStorageSize;
  const stageDeltas = onChip && staged <= available;
  const storageBytes = stageDeltas ? staged : state + BYTES_PER_VEC4;
  if (storageBytes > available) {
    return {
      admitted: false,
      reason: `V and the state need ${storageBytes} bytes of workgroup memory, more than ${available}`,
    };
  }
  if (limits.maxStorageBuffersPerShaderStage < ROWS_STORAGE_BUFFERS) {
    return {
      admitted: false,
      reason: `${ROWS_STORAGE_BUFFERS} storage buffers, more than ${limits.maxStorageBuffersPerShaderStage}`,
    };
  }
  const flops = rowGroupFlops(layout, 4 * groupQuads);
  if (!options.ignoreFlopBound && !oneWorkgroupSuffices(flops, 2 * T)) {
    return {
      admitted: false,
      reason: `${(flops / 1e6).toFixed(1)} MFLOP a workgroup a step is too much for one workgroup at window ${T}`,
    };
  }
  return {
    admitted: true,
    plan: {
      groupQuads,
      rowGroups: Math.ceil(batch / (4 * groupQuads)),
      workgroup,
      itemsPerLane,
      units,
      paired,
      gradientRows: options.gradientRows ?? 4,
      gradientWorkgroup: options.gradientWorkgroup ?? 64,
      onChip,
      stageDeltas,
      storageBytes,
      rowGroupFlops: flops,
    },
  };
}

/** What a fused pass computes besides the outputs (as dense.wgsl's modes; each member's loss is data). */
export interface FusedMode {
  /** The loss (the gradients kernel's last item). */
  withLoss: boolean;
  /** BPTT, and the weight and dense gradients. */
  withGradients: boolean;
}

function modeConstants(mode: FusedMode): Record<string, number> {
  return { WITH_LOSS: mode.withLoss ? 1 : 0, WITH_GRADIENTS: mode.withGradients ? 1 : 0 };
}

function layerConstants(layout: ParamLayout): Record<string, number> {
  const [layer] = layout.layers;
  return {
    WINDOW: layout.config.window,
    PARAM_COUNT: layout.size,
    INPUT_SIZE: layer.inputSize,
    HIDDEN_SIZE: layer.hiddenSize,
    OUTPUT_SIZE: layout.dense.outputSize,
    W_OFFSET: layer.w,
    DENSE_W_OFFSET: layout.dense.w,
    DENSE_B_OFFSET: layout.dense.b,
  };
}

/** Override constants of lstm_fused_rows.wgsl's fused_rows; dispatch plan.rowGroups workgroups. */
export function fusedRowsConstants(layout: ParamLayout, plan: FusedPlan, mode: FusedMode): Record<string, number> {
  const [layer] = layout.layers;
  return {
    ...layerConstants(layout),
    ...modeConstants(mode),
    V_OFFSET: layer.v,
    BIAS_OFFSET: layer.b,
    WORKGROUP: plan.workgroup,
    ITEMS_PER_LANE: plan.itemsPerLane,
    UNITS: plan.units,
    UNIT_STRIDE: Math.ceil(layer.hiddenSize / plan.units),
    GROUP_QUADS: plan.groupQuads,
    PAIRED: plan.paired ? 1 : 0,
    ON_CHIP: plan.onChip ? 1 : 0,
    STAGE_DELTAS: plan.stageDeltas ? 1 : 0,
  };
}

/** Override constants of lstm_fused_gradients.wgsl's fused_gradients (null where the mode has nothing to sum). */
export function fusedGradientsConstants(
  layout: ParamLayout,
  plan: FusedPlan,
  mode: FusedMode,
): Record<string, number> | null {
  if (!mode.withGradients && !mode.withLoss) return null;
  return {
    ...layerConstants(layout),
    ...modeConstants(mode),
    WORKGROUP: plan.gradientWorkgroup,
    PRODUCT_ROWS: plan.gradientRows,
  };
}

/** Items of the gradients kernel: product rows x 4 units each, the dense gradients, the loss. */
export function gradientItems(layout: ParamLayout, plan: FusedPlan, mode: FusedMode): number {
  const [{ inputSize: I, hiddenSize: H }] = layout.layers;
  const O = layout.dense.outputSize;
  const products = Math.ceil((H + I + 1) / plan.gradientRows) * Math.ceil(H / GRADIENT_UNITS);
  const gradients = mode.withGradients ? products + (H + 1) * O : 0;
  return gradients + (mode.withLoss ? 1 : 0);
}

/** Workgroups (x, y) of the gradients kernel for `mode`. */
export function gradientWorkgroups(
  layout: ParamLayout,
  plan: FusedPlan,
  mode: FusedMode,
  maxWorkgroupsPerDimension: number,
): [number, number] {
  const groups = Math.ceil(gradientItems(layout, plan, mode) / plan.gradientWorkgroup);
  const x = Math.min(groups, maxWorkgroupsPerDimension);
  return [x, Math.ceil(groups / x)];
}
