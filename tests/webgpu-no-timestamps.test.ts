// A device without 'timestamp-query' (asked for without it, as on an adapter that lacks it): profileSteps
// gives null and counts nothing, training goes on as before, and the benchmark goes on without the
// GPU's split of a step (no kernelMs). The device with the feature: webgpu-timestamps.test.ts.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GpuContext, requestGpuContext } from '../src/backends/webgpu/context.js';
import { nodeGpu } from '../src/backends/webgpu/nodeGpu.js';
import { createWebGpuBackend } from '../src/backends/webgpu/webgpuBackend.js';
import { benchCase } from '../src/bench/bench.js';
import { startRun } from '../src/train/run.js';
import { sineRunSettings } from './helpers.js';
import { withoutGpuErrors } from './webgpu-context.js';

describe('a device without timestamp-query', () => {
  let plain: GpuContext;
  beforeAll(async () => {
    const node = await nodeGpu();
    const made = node === null ? null : await requestGpuContext(node.gpu, { timestampQuery: false });
    if (made === null) throw new Error('no WebGPU device without timestamp-query');
    plain = made;
  });
  afterAll(() => plain?.destroy());

  it('profileSteps gives null, training is unaffected, and benchmark results carry no kernelMs', async () => {
    expect(plain.timestamps).toBe(false);
    expect(plain.device.features.has('timestamp-query')).toBe(false);
    await withoutGpuErrors(plain, async () => {
      const run = startRun(sineRunSettings({ seed: 7, points: 50, noise: 0.1, window: 10, hiddenSizes: [30] }));
      const backend = await createWebGpuBackend(plain, run.layout, {});
      try {
        backend.setParams(run.params);
        backend.setTrainingData(run.prepared.train, 8);
        const epoch = () => backend.trainEpoch(run.rng.permutation(new Uint32Array(run.prepared.train.count)), 0.01);
        await epoch();
        await backend.readLosses();
        const before = backend.counters();
        expect(await backend.profileSteps(8)).toBeNull();
        expect(backend.counters()).toEqual(before);
        await epoch();
        expect((await backend.readLosses()).train.every(Number.isFinite)).toBe(true);
      } finally {
        backend.dispose();
      }
    });
    const result = await withoutGpuErrors(plain, () =>
      benchCase(
        (layout) => createWebGpuBackend(plain, layout),
        { backend: 'webgpu', hidden: 8, batch: 4, window: 5 },
        { steps: 4, repetitions: 2, budgetSeconds: 10 },
      ),
    );
    expect(result.skipped).toBeNull();
    expect(result.kernelMs).toBeUndefined();
    expect(result.stepsPerSecond).toBeGreaterThan(0);
  });
});
