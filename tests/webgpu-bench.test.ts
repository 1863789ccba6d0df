// The benchmark on WebGPU (src/bench/bench.ts): its clock stops only when the GPU queue is done, it
// counts dispatches and reads the GPU's own split of a step, and a population takes one model's
// dispatches a step. Nothing here is compared with a clock's reading but a floor: the device group.

import { beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../src/backends/webgpu/context.js';
import { createWebGpuBackend, createWebGpuPopulation } from '../src/backends/webgpu/webgpuBackend.js';
import { benchCase } from '../src/bench/bench.js';
import { workerGpuContext } from './webgpu-context.js';

// The worker's shared device (with timestamp-query where the adapter offers it): both tests' shape is
// compiled once, and never again for the other device files.
let context: GpuContext;
beforeAll(async () => {
  context = await workerGpuContext();
});

describe('bench on webgpu', () => {
  it('stops the clock only when the GPU queue is done: rates are finite and dispatches counted', async () => {
    const result = await benchCase(
      (layout) => createWebGpuBackend(context, layout),
      { backend: 'webgpu', hidden: 8, batch: 4, window: 5 },
      { steps: 4, repetitions: 3, budgetSeconds: 10 },
    );
    expect(result.skipped).toBeNull();
    expect(Number.isFinite(result.stepsPerSecond)).toBe(true);
    // Calibration chose among the variants this shape admits, and the timed steps ran it: on a
    // software adapter (this machine's SwiftShader) one of the software tuning's.
    const software = context.adapter.software;
    expect(result.variant).toMatch(
      software ? /^(fused|stepwise|persistent)\/software$/ : /^(fused|stepwise|persistent)\//,
    );
    const fused = result.variant?.startsWith('fused/') === true;
    expect(result.dispatchesPerStep).toBeGreaterThanOrEqual(fused ? 3 : 6);
    // Each step is several dispatches of ~17 µs or more on SwiftShader: a clock that stopped before
    // the GPU ran them would give a fraction of that. (A real GPU runs them in a few µs each.)
    expect(result.msPerStep).toBeGreaterThan(software ? 0.05 : 0);
    // This machine's adapter offers timestamp-query: the GPU's own split of a step. One without it
    // gives no split (webgpu-no-timestamps.test.ts).
    if (software) expect(context.timestamps).toBe(true);
    if (!context.timestamps) {
      expect(result.kernelMs).toBeUndefined();
      return;
    }
    expect(Object.keys(result.kernelMs ?? {})).toEqual(['forward', 'backward', 'weightGradients', 'update']);
    // The fused schedule's BPTT runs in its forward's dispatch: no backward group of its own.
    const { backward, ...timed } = result.kernelMs ?? {};
    if (fused) expect(backward).toBe(0);
    else expect(backward).toBeGreaterThan(0);
    for (const ms of Object.values(timed)) expect(ms).toBeGreaterThan(0);
  });

  it('a population of 4 takes one model’s dispatches a step', async () => {
    const open = (layout: Parameters<typeof createWebGpuPopulation>[1], members: number) =>
      createWebGpuPopulation(context, layout, members, { schedule: 'fused', tuning: 'software' });
    const options = { steps: 2, repetitions: 1, budgetSeconds: 10 };
    const one = await benchCase(open, { backend: 'webgpu', hidden: 8, batch: 4, window: 5, members: 1 }, options);
    const four = await benchCase(open, { backend: 'webgpu', hidden: 8, batch: 4, window: 5, members: 4 }, options);
    expect(one.variant).toBe('fused/software');
    expect(four.variant).toBe('fused/software');
    expect(four.dispatchesPerStep).toBe(one.dispatchesPerStep);
    expect(four.dispatchesPerStep).toBe(3);
  });
});
