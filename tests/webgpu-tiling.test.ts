// The shapes chosen for the hardware recurrence kernels, without a device: the tiled steps' tiles
// (recurrenceTiling.ts) fit the workgroup limits they are given and cover the shape, the Vᵀ refresh's
// table places every layer, and the fused kernels (fusedStep.ts) are admitted only where a workgroup
// holds the state of its rows and its share of the step is small.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fusedAdmission, oneWorkgroupSuffices, rowGroupFlops } from '../src/backends/webgpu/fusedStep.js';
import {
  backwardTile,
  forwardTile,
  type RecurrenceTile,
  TARGET_WORKGROUPS,
  type TilingLimits,
  tileStorageBytes,
  transposePlan,
} from '../src/backends/webgpu/recurrenceTiling.js';
import { paramLayout } from '../src/model/layout.js';

function limits(storage: number, invocations: number): TilingLimits {
  return {
    maxComputeWorkgroupStorageSize: storage,
    maxComputeInvocationsPerWorkgroup: invocations,
    maxComputeWorkgroupSizeX: invocations,
    maxComputeWorkgroupsPerDimension: 65535,
  };
}
const WEBGPU_DEFAULT = limits(16384, 256);
const SWIFTSHADER = limits(32768, 256);

function expectValid(tile: RecurrenceTile, batch: number, hidden: number, device: TilingLimits): void {
  const [x, y] = tile.workgroupSize;
  expect(x * y).toBeLessThanOrEqual(device.maxComputeInvocationsPerWorkgroup);
  expect(x).toBeLessThanOrEqual(device.maxComputeWorkgroupSizeX);
  expect(tile.storageBytes).toBe(tileStorageBytes(tile.kernel, tile.rows, tile.units, tile.depth));
  expect(tile.storageBytes).toBeLessThanOrEqual(device.maxComputeWorkgroupStorageSize);
  expect(tile.rows % 4).toBe(0);
  if (tile.kernel === 'backward') expect(tile.units % 4).toBe(0);
  // Every row and unit is in a tile, and no tile lies wholly outside the shape.
  expect(tile.workgroups[0] * tile.units).toBeGreaterThanOrEqual(hidden);
  expect((tile.workgroups[0] - 1) * tile.units).toBeLessThan(hidden);
  expect(tile.workgroups[1] * tile.rows).toBeGreaterThanOrEqual(batch);
  expect((tile.workgroups[1] - 1) * tile.rows).toBeLessThan(batch);
}

describe('tiles of the tiled recurrence steps', () => {
  it('fit the limits they are given and cover the shape, for any batch, hidden size and device', () => {
    const devices = [WEBGPU_DEFAULT, SWIFTSHADER, limits(49152, 1024), limits(4096, 64)];
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4096 }),
        fc.integer({ min: 1, max: 2048 }),
        fc.constantFrom(...devices),
        (batch, hidden, device) => {
          expectValid(forwardTile(batch, hidden, device), batch, hidden, device);
          expectValid(backwardTile(batch, hidden, device), batch, hidden, device);
        },
      ),
    );
  });

  it('at hidden 512 and 1024, batch 256, a step has at least TARGET_WORKGROUPS workgroups of large tiles', () => {
    for (const hidden of [512, 1024]) {
      for (const tile of [forwardTile(256, hidden, WEBGPU_DEFAULT), backwardTile(256, hidden, WEBGPU_DEFAULT)]) {
        expect(tile.workgroups[0] * tile.workgroups[1]).toBeGreaterThanOrEqual(TARGET_WORKGROUPS);
        expect(tile.rows * tile.units).toBeGreaterThanOrEqual(32 * 32);
      }
    }
    // 32 rows x 32 units x 4 gates, 256 invocations, staged 16 deep in 10 KB (32 deep fits 32 KB).
    expect(forwardTile(256, 512, WEBGPU_DEFAULT)).toMatchObject({ rows: 32, units: 32, depth: 16 });
    expect(forwardTile(256, 512, SWIFTSHADER)).toMatchObject({ rows: 32, units: 32, depth: 32 });
  });

  it("at the blog's size (hidden 30, batch 8) a workgroup keeps at least two warps", () => {
    for (const tile of [forwardTile(8, 30, WEBGPU_DEFAULT), backwardTile(8, 30, WEBGPU_DEFAULT)]) {
      expect(tile.workgroupSize[0] * tile.workgroupSize[1]).toBeGreaterThanOrEqual(tile.kernel === 'forward' ? 64 : 16);
    }
  });

  it('refuses a shape no tile of the kernels fits', () => {
    expect(() => forwardTile(8, 30, limits(64, 64))).toThrow(/no tile fits/);
    expect(() => forwardTile(0, 30, WEBGPU_DEFAULT)).toThrow(/batch 0/);
  });
});

describe("the Vᵀ refresh's plan", () => {
  it('puts each layer after the one before, and numbers their tiles across layers', () => {
    const layout = paramLayout({ inputSize: 2, hiddenSizes: [40, 8], outputSize: 1, window: 5 });
    const plan = transposePlan(layout, 65535);
    // Layer 0: 40 x 160 -> 2 x 5 tiles; layer 1: 8 x 32 -> 1 x 1.
    expect(Array.from(plan.table)).toEqual([layout.layers[0].v, 0, 40, 0, layout.layers[1].v, 6400, 8, 10]);
    expect(plan.transposedOffsets).toEqual([0, 6400]);
    expect(plan.transposedSize).toBe(6400 + 256);
    expect(plan.workgroups).toEqual({ tiles: [11, 1], elements: [Math.ceil(6656 / 64), 1] });
    expect(transposePlan(layout, 4).workgroups.tiles).toEqual([4, 3]);
  });
});

describe('admission of the fused small-model kernels', () => {
  const blog = paramLayout({ inputSize: 1, hiddenSizes: [30], outputSize: 1, window: 10 });
  const device = { maxComputeInvocationsPerWorkgroup: 256, maxStorageBuffersPerShaderStage: 8 };

  it("admits the blog's model at batch 8 on a 16 KB device (deltas read back) and a 32 KB one (staged)", () => {
    const small = fusedAdmission(blog, 8, { ...device, maxComputeWorkgroupStorageSize: 16384 });
    const large = fusedAdmission(blog, 8, { ...device, maxComputeWorkgroupStorageSize: 32768 });
    // V (30 x 30 vec4) and y (2 x 30 vec4) and, staged, the deltas (2 x 30 x 4 vec4).
    expect(small).toMatchObject({
      admitted: true,
      plan: { stageDeltas: false, storageBytes: 14400 + 960 + 16, rowGroups: 2, workgroup: 32, itemsPerLane: 1 },
    });
    expect(large).toMatchObject({ admitted: true, plan: { stageDeltas: true, storageBytes: 14400 + 960 + 3840 } });
    expect(small.admitted && small.plan.rowGroupFlops).toBe(rowGroupFlops(blog, 4));
  });

  it('refuses stacked layers, too many items, too little workgroup memory or storage buffers', () => {
    const limits32 = { ...device, maxComputeWorkgroupStorageSize: 32768 };
    const stacked = paramLayout({ inputSize: 1, hiddenSizes: [8, 8], outputSize: 1, window: 10 });
    expect(fusedAdmission(stacked, 8, limits32)).toMatchObject({
      admitted: false,
      reason: expect.stringMatching(/2 layers/),
    });
    const large = paramLayout({ inputSize: 1, hiddenSizes: [1100], outputSize: 1, window: 10 });
    expect(fusedAdmission(large, 8, limits32, { onChip: false })).toMatchObject({
      admitted: false,
      reason: expect.stringMatching(/items/),
    });
    const wide = paramLayout({ inputSize: 1, hiddenSizes: [64], outputSize: 1, window: 10 });
    expect(fusedAdmission(wide, 4, limits32)).toMatchObject({
      admitted: false,
      reason: expect.stringMatching(/workgroup memory/),
    });
    expect(fusedAdmission(blog, 8, { ...limits32, maxStorageBuffersPerShaderStage: 4 })).toMatchObject({
      admitted: false,
      reason: expect.stringMatching(/storage buffers/),
    });
  });

  it('refuses a workgroup with too much work, which one can still ask for (to time it)', () => {
    const layout = paramLayout({ inputSize: 1, hiddenSizes: [256], outputSize: 1, window: 10 });
    const limits = { ...device, maxComputeWorkgroupStorageSize: 32768 };
    expect(oneWorkgroupSuffices(rowGroupFlops(layout, 4), 20)).toBe(false);
    expect(fusedAdmission(layout, 8, limits, { onChip: false })).toMatchObject({
      admitted: false,
      reason: expect.stringMatching(/MFLOP/),
    });
    expect(fusedAdmission(layout, 8, limits, { onChip: false, ignoreFlopBound: true }).admitted).toBe(true);
  });
});
