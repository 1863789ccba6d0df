// Epochs handed to the GPU in slices (submission.ts): a cheap epoch is one submit; an epoch cut into
// many slices trains exactly as the whole one, and while it is being handed over the backend refuses
// what would interleave with it; a heavy epoch stopped by dispose() leaves the GPU within about a
// second, with the rest of the epoch never submitted.

import { describe, expect, it } from 'vitest';
import { DisposedError } from '../src/backends/backend.js';
import { createWebGpuBackend, type WebGpuBackend } from '../src/backends/webgpu/webgpuBackend.js';
import type { Dataset } from '../src/data/dataset.js';
import { Rng } from '../src/data/rng.js';
import { initParams } from '../src/model/init.js';
import { paramLayout } from '../src/model/layout.js';
import { startSineRun } from '../src/train/setup.js';
import { fileGpuContext, withoutGpuErrors } from './webgpu-context.js';

const SEED = { seed: 5, points: 50, noise: 0.1, window: 10, hiddenSizes: [30] };

const gpu = fileGpuContext();

/** `epochs` epochs on a fresh backend made with `options`: the errors, the weights and the submits of each epoch. */
async function trainEpochs(options: Parameters<typeof createWebGpuBackend>[2], epochs: number) {
  const run = startSineRun(SEED);
  const backend = await createWebGpuBackend(gpu(), run.layout, { schedule: 'stepwise', ...options });
  try {
    backend.setParams(run.params);
    backend.setTrainingData(run.task.data, 8);
    const order = new Uint32Array(run.task.data.count);
    const submits: number[] = [];
    for (let e = 0; e < epochs; e++) {
      const before = backend.counters().submits;
      await backend.trainEpoch(run.rng.permutation(order), 0.01);
      submits.push(backend.counters().submits - before);
    }
    const losses = (await backend.readLosses()).train;
    return { losses, params: await backend.readParams(), submits };
  } finally {
    await backend.dispose();
  }
}

describe('epochs in slices', () => {
  it('a cheap epoch is one submit; one cut into a slice a dispatch trains exactly alike', async () => {
    await withoutGpuErrors(gpu(), async () => {
      const whole = await trainEpochs({}, 2);
      const sliced = await trainEpochs({ sliceMs: 1e-6 }, 2);
      expect(whole.submits).toEqual([1, 1]);
      // (5 steps of 24 dispatches, then the error's 12: a submit each.)
      for (const submits of sliced.submits) expect(submits).toBeGreaterThan(100);
      expect(sliced.losses).toEqual(whole.losses);
      expect(Array.from(sliced.params)).toEqual(Array.from(whole.params));
    });
  });

  it('while an epoch is handed over, setters and trainEpoch are refused; reads wait for it', async () => {
    await withoutGpuErrors(gpu(), async () => {
      const run = startSineRun(SEED);
      const backend = await createWebGpuBackend(gpu(), run.layout, { schedule: 'stepwise', sliceMs: 1e-6 });
      try {
        backend.setParams(run.params);
        backend.setTrainingData(run.task.data, 8);
        const order = run.rng.permutation(new Uint32Array(run.task.data.count));
        const epoch = backend.trainEpoch(order, 0.01);
        expect(() => backend.setParams(run.params)).toThrow(/still being queued/);
        expect(() => backend.setTrainingData(run.task.data, 8)).toThrow(/still being queued/);
        await expect(backend.trainEpoch(order, 0.01)).rejects.toThrow(/still being queued/);
        const losses = await backend.readLosses();
        expect(losses.train).toHaveLength(1);
        await epoch;
      } finally {
        await backend.dispose();
      }
    });
  });
});

describe('stopping a heavy run', () => {
  it('dispose() mid-epoch: the GPU is done within about a second; the rest is never submitted', async () => {
    // Hidden 256, batch 64, 640 samples: about 1 GFLOP a step, 10 steps and the error over 640 windows,
    // some 10 s an epoch on SwiftShader. Whole, a stop would wait for all of it.
    const layout = paramLayout({ inputSize: 1, hiddenSizes: [256], outputSize: 1, window: 10 });
    const rng = new Rng(3);
    const count = 640;
    const data: Dataset = {
      count,
      window: 10,
      inputSize: 1,
      outputSize: 1,
      x: Float32Array.from({ length: count * 10 }, () => rng.normal()),
      t: Float32Array.from({ length: count }, () => rng.normal()),
    };
    let backend: WebGpuBackend | null = null;
    try {
      backend = await createWebGpuBackend(gpu(), layout, { schedule: 'stepwise' });
      backend.setParams(initParams(layout, rng));
      backend.setTrainingData(data, 64);
      const before = backend.counters().submits;
      let queued = false;
      const epoch = backend.trainEpoch(rng.permutation(new Uint32Array(count)), 1e-3).then(() => {
        queued = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const submitted = backend.counters().submits - before;
      expect(submitted, 'slices submitted in 2 s').toBeGreaterThan(1);
      expect(queued, 'the epoch still being handed over').toBe(false);

      const stop = performance.now();
      await backend.dispose();
      const stopMs = performance.now() - stop;
      await expect(epoch).rejects.toThrow(DisposedError);
      expect(backend.counters().submits - before, 'nothing submitted after the stop').toBe(submitted);
      // The device has nothing left to do.
      const idle = performance.now();
      await gpu().device.queue.onSubmittedWorkDone();
      expect(performance.now() - idle).toBeLessThan(100);
      // About a second (one slice of ~250 ms or one big dispatch, on a busy machine), not the ~8 s
      // left of the epoch.
      expect(stopMs).toBeLessThan(2500);
    } finally {
      await backend?.dispose();
    }
  });
});
