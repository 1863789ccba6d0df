// Shapes of the hardware recurrence kernels: the tiles of shaders/lstm_forward_tiled.wgsl and
// shaders/lstm_backward_tiled.wgsl for a batch, a hidden size and the device's limits, and the layer
// table and grid of the Vᵀ refresh (shaders/recurrent_transpose.wgsl). Pure functions of their
// arguments, so the choice is unit-tested without a device.
//
// Legend: B = batch, H = hidden size, BT = tile rows, JT = tile units, KT = tile depth.

import { GATES, type ParamLayout } from '../../model/layout.js';
import type { GpuLimits } from './context.js';

export type TilingLimits = Pick<
  GpuLimits,
  | 'maxComputeWorkgroupStorageSize'
  | 'maxComputeInvocationsPerWorkgroup'
  | 'maxComputeWorkgroupSizeX'
  | 'maxComputeWorkgroupsPerDimension'
>;

export type RecurrenceKernel = 'forward' | 'backward';

export interface RecurrenceTile {
  kernel: RecurrenceKernel;
  /** BT batch rows a workgroup (a multiple of 4). */
  rows: number;
  /** JT hidden units a workgroup (a multiple of 4 for the backward). */
  units: number;
  /** KT: the reduction is staged this many values deep at a time. */
  depth: number;
  /** Invocations (x, y) of a workgroup. */
  workgroupSize: [number, number];
  /** Workgroups (x: unit tiles, y: row tiles) of one time step's dispatch. */
  workgroups: [number, number];
  /** Workgroup memory of the tile's staging arrays. */
  storageBytes: number;
}

/**
 * Workgroups a step should have at least before tiles grow: a large GPU has 46-132 SMs and keeps two
 * or more workgroups of 256 invocations on each, so fewer leave SMs idle; more cost reuse.
 */
export const TARGET_WORKGROUPS = 128;
/**
 * The largest tiles tried (forward: 32 x 32 x 4 gates = 256 invocations of 16 outputs each). Their y
 * size is at most 16, within every device's maxComputeWorkgroupSizeY (at least 256).
 */
const LARGEST = { forward: { rows: 32, units: 32 }, backward: { rows: 64, units: 64 } } as const;
/** Invocations a workgroup keeps when tiles shrink for parallelism. */
const MIN_INVOCATIONS = 64;
const DEPTHS = [32, 16, 8, 4];
const BYTES_PER_VEC4 = 16;

/** Invocations (x, y) of a tile: forward 1 unit x 4 rows each, backward 4 units x 4 rows. */
export function tileWorkgroupSize(kernel: RecurrenceKernel, rows: number, units: number): [number, number] {
  return kernel === 'forward' ? [units, rows / 4] : [units / 4, rows / 4];
}

/** Workgroup memory of a tile: y (or delta) KT x BT/4 vec4, V KT x JT (forward: 4 gates each) or KT x JT/4. */
export function tileStorageBytes(kernel: RecurrenceKernel, rows: number, units: number, depth: number): number {
  const vVectors = kernel === 'forward' ? units : units / 4;
  return BYTES_PER_VEC4 * depth * (rows / 4 + vVectors);
}

/** The tile of the tiled forward step at batch B and hidden size H on a device with `limits`. */
export function forwardTile(batch: number, hidden: number, limits: TilingLimits): RecurrenceTile {
  return chooseTile('forward', batch, hidden, limits);
}

/** The tile of the tiled backward step at batch B and hidden size H on a device with `limits`. */
export function backwardTile(batch: number, hidden: number, limits: TilingLimits): RecurrenceTile {
  return chooseTile('backward', batch, hidden, limits);
}

/** The override constants of a tiled kernel for `tile` (besides the layer's own). */
export function tileConstants(tile: RecurrenceTile): Record<string, number> {
  return { TILE_ROWS: tile.rows, TILE_UNITS: tile.units, TILE_DEPTH: tile.depth };
}

/**
 * Start from the largest tile the shape can use, shrink it until the device holds it, then on until
 * the step has TARGET_WORKGROUPS workgroups (or a workgroup would fall below MIN_INVOCATIONS); then
 * the deepest staging that fits the workgroup memory.
 */
function chooseTile(kernel: RecurrenceKernel, batch: number, hidden: number, limits: TilingLimits): RecurrenceTile {
  for (const [name, value] of [
    ['batch', batch],
    ['hidden', hidden],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`${kernel} tile: ${name} ${value} is not a count`);
  }
  const smallestUnits = kernel === 'forward' ? 1 : 4;
  let rows = Math.min(LARGEST[kernel].rows, powerOfTwoAtLeast(batch, 4));
  let units = Math.min(LARGEST[kernel].units, powerOfTwoAtLeast(hidden, smallestUnits));
  const depthLimit = powerOfTwoAtLeast(kernel === 'forward' ? hidden : GATES * hidden, 4);
  const depthFor = (r: number, u: number): number | null =>
    DEPTHS.find((d) => d <= depthLimit && tileStorageBytes(kernel, r, u, d) <= limits.maxComputeWorkgroupStorageSize) ??
    null;
  const held = (r: number, u: number): boolean => {
    const [x, y] = tileWorkgroupSize(kernel, r, u);
    return (
      x * y <= limits.maxComputeInvocationsPerWorkgroup &&
      x <= limits.maxComputeWorkgroupSizeX &&
      depthFor(r, u) !== null
    );
  };
  const workgroupCount = (r: number, u: number): number => Math.ceil(hidden / u) * Math.ceil(batch / r);
  // Halve the side that costs reuse least: a forward tile loads BT y values and 4 JT V values a depth
  // step, so it is balanced at BT = 4 JT; a backward tile loads BT + JT, balanced at BT = JT.
  const shrink = (): boolean => {
    const unitsWeight = kernel === 'forward' ? 4 : 1;
    const halveUnits = units > smallestUnits && (unitsWeight * units >= rows || rows <= 4);
    if (halveUnits) units /= 2;
    else if (rows > 4) rows /= 2;
    else return false;
    return true;
  };
  while (!held(rows, units)) {
    if (!shrink()) throw new Error(`${kernel} tile: no tile fits this device's workgroup limits`);
  }
  while (workgroupCount(rows, units) < TARGET_WORKGROUPS) {
    const before = { rows, units };
    if (!shrink()) break;
    const [x, y] = tileWorkgroupSize(kernel, rows, units);
    // Not below two warps a workgroup (one AMD wave): fewer waste the SIMD lanes more than idle SMs.
    if (x * y < MIN_INVOCATIONS) {
      ({ rows, units } = before);
      break;
    }
  }
  const depth = depthFor(rows, units);
  if (depth === null) throw new Error('unreachable: held() checked the depth');
  const tile = tileOf(kernel, batch, hidden, { rows, units, depth });
  if (Math.max(...tile.workgroups) > limits.maxComputeWorkgroupsPerDimension) {
    throw new Error(
      `${kernel} tile: ${tile.workgroups.join(' x ')} workgroups exceed maxComputeWorkgroupsPerDimension`,
    );
  }
  return tile;
}

/** A tile of the given sizes at batch B and hidden size H (sizes checked against the kernels' needs, not a device). */
export function tileOf(
  kernel: RecurrenceKernel,
  batch: number,
  hidden: number,
  { rows, units, depth }: { rows: number; units: number; depth: number },
): RecurrenceTile {
  const unitMultiple = kernel === 'forward' ? 1 : 4;
  if (rows < 4 || rows % 4 !== 0 || units < unitMultiple || units % unitMultiple !== 0 || depth < 1) {
    throw new Error(`${kernel} tile: ${rows} rows x ${units} units x ${depth} deep is not a tile`);
  }
  return {
    kernel,
    rows,
    units,
    depth,
    workgroupSize: tileWorkgroupSize(kernel, rows, units),
    workgroups: [Math.ceil(hidden / units), Math.ceil(batch / rows)],
    storageBytes: tileStorageBytes(kernel, rows, units, depth),
  };
}

function powerOfTwoAtLeast(n: number, least: number): number {
  let p = least;
  while (p < n) p *= 2;
  return p;
}

/** Side of the Vᵀ refresh's square tiles (TRANSPOSE_TILE in recurrent_transpose.wgsl). */
export const TRANSPOSE_TILE = 32;

export interface TransposePlan {
  /** (L, 4) u32: per layer vOffset, transposedOffset, hiddenSize, firstTile (TransposeLayer) */
  table: Uint32Array;
  /** Where each layer's Vᵀ (4H, H) starts in the transposed buffer. */
  transposedOffsets: number[];
  /** Floats of the transposed buffer: Σ 4H². */
  transposedSize: number;
  /** Workgroups (x, y) of the one dispatch: transpose_tiles (tiles) or transpose_elements (elements). */
  workgroups: { tiles: [number, number]; elements: [number, number] };
}

/** Invocations a workgroup of transpose_elements (ELEMENT_WORKGROUP in recurrent_transpose.wgsl). */
const TRANSPOSE_ELEMENT_WORKGROUP = 64;

/** The Vᵀ refresh for every layer of `layout`: its table, buffer size and grid. */
export function transposePlan(layout: ParamLayout, maxWorkgroupsPerDimension: number): TransposePlan {
  const table = new Uint32Array(4 * layout.layers.length);
  const transposedOffsets: number[] = [];
  let transposedSize = 0;
  let tiles = 0;
  layout.layers.forEach(({ v, hiddenSize: H }, l) => {
    table.set([v, transposedSize, H, tiles], 4 * l);
    transposedOffsets.push(transposedSize);
    transposedSize += GATES * H * H;
    tiles += Math.ceil(H / TRANSPOSE_TILE) * Math.ceil((GATES * H) / TRANSPOSE_TILE);
  });
  const grid = (groups: number): [number, number] => {
    const x = Math.min(groups, maxWorkgroupsPerDimension);
    return [x, Math.ceil(groups / x)];
  };
  return {
    table,
    transposedOffsets,
    transposedSize,
    workgroups: { tiles: grid(tiles), elements: grid(Math.ceil(transposedSize / TRANSPOSE_ELEMENT_WORKGROUP)) },
  };
}
