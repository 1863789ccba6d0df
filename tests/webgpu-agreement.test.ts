// Training the blog's task with the same seed on both backends: the same data, initial weights and
// minibatches, so per-epoch errors agree within 1e-3 relative for the first 20 epochs (float32 on
// both; only the order of sums differs) and the final error within 2%.

import { beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/backends/backend.js';
import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import type { GpuContext } from '../src/backends/webgpu/context.js';
import { createWebGpuBackend } from '../src/backends/webgpu/webgpuBackend.js';
import type { ParamLayout } from '../src/model/layout.js';
import { startRun } from '../src/train/run.js';
import { trainToEnd } from '../src/train/trainer.js';
import { sineRunSettings } from './helpers.js';
import { withoutGpuErrors, workerGpuContext } from './webgpu-context.js';

// The worker's shared device: the blog's pipelines the other device files built are not built again.
let context: GpuContext;
beforeAll(async () => {
  context = await workerGpuContext();
});

async function trainSeed(open: (layout: ParamLayout) => Promise<Backend>, seed: number) {
  const run = startRun(sineRunSettings({ seed, points: 50, noise: 0.1, window: 10, hiddenSizes: [30] }));
  const backend = await open(run.layout);
  try {
    backend.setParams(run.params);
    return await trainToEnd(backend, run.prepared.train, run.rng, {
      epochs: 101,
      batchSize: 8,
      learningRate: 0.01,
      reportEvery: 10,
    });
  } finally {
    backend.dispose();
  }
}

describe('webgpu and cpu train the blog’s task alike', () => {
  it('per-epoch errors within 1e-3 relative for 20 epochs, final error within 2%', async () => {
    const cpu = await trainSeed(async (layout) => new CpuBackend(layout), 0);
    const gpu = await withoutGpuErrors(context, () => trainSeed((layout) => createWebGpuBackend(context, layout), 0));
    expect(gpu.losses).toHaveLength(101);
    for (let e = 0; e < 20; e++) {
      const rel = Math.abs(gpu.losses[e] - cpu.losses[e]) / Math.abs(cpu.losses[e]);
      expect(rel, `epoch ${e + 1}: gpu ${gpu.losses[e]} cpu ${cpu.losses[e]}`).toBeLessThanOrEqual(1e-3);
    }
    expect(Math.abs(gpu.finalLoss - cpu.finalLoss) / cpu.finalLoss).toBeLessThanOrEqual(0.02);
    expect(gpu.finalLoss).toBeLessThan(0.6);
    expect(gpu.finalLoss).toBeLessThan(0.25 * gpu.losses[0]);
  });
});
