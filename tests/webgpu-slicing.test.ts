// Epochs handed to the GPU in slices (submission.ts): a cheap epoch is one submit; an epoch cut into
// many slices trains exactly as the whole one, and while it is being handed over the backend refuses
// what would interleave with it; the per-epoch error over many samples, taken in chunks so that no
// dispatch is long, is the error taken in one pass; a heavy epoch stopped by dispose() leaves the GPU
// within about a second, with the rest of the epoch never submitted.

import { describe, expect, it } from 'vitest';
import { DisposedError, EPOCH_PROGRESS_MS } from '../src/backends/backend.js';
import { createWebGpuBackend, type WebGpuBackend } from '../src/backends/webgpu/webgpuBackend.js';
import type { Dataset } from '../src/data/dataset.js';
import { Rng } from '../src/data/rng.js';
import { initParams } from '../src/model/init.js';
import { paramLayout } from '../src/model/layout.js';
import { type RunSettings, startRun } from '../src/train/run.js';
import { type TrainOptions, trainToEnd } from '../src/train/trainer.js';
import { sineRunSettings } from './helpers.js';
import { fileGpuContext, withoutGpuErrors } from './webgpu-context.js';

const SEED = { seed: 5, points: 50, noise: 0.1, window: 10, hiddenSizes: [30] };

const gpu = fileGpuContext();

/** `epochs` epochs on a fresh backend made with `options`: the errors, the weights and the submits of each epoch. */
async function trainEpochs(options: Parameters<typeof createWebGpuBackend>[2], epochs: number) {
  const run = startRun(sineRunSettings(SEED));
  const backend = await createWebGpuBackend(gpu(), run.layout, { schedule: 'stepwise', ...options });
  try {
    backend.setParams(run.params);
    backend.setTrainingData(run.prepared.train, 8);
    const order = new Uint32Array(run.prepared.train.count);
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
      const run = startRun(sineRunSettings(SEED));
      const backend = await createWebGpuBackend(gpu(), run.layout, { schedule: 'stepwise', sliceMs: 1e-6 });
      try {
        backend.setParams(run.params);
        backend.setTrainingData(run.prepared.train, 8);
        const order = run.rng.permutation(new Uint32Array(run.prepared.train.count));
        const epoch = backend.trainEpoch(order, 0.01);
        expect(() => backend.setParams(run.params)).toThrow(/still being queued/);
        expect(() => backend.setTrainingData(run.prepared.train, 8)).toThrow(/still being queued/);
        await expect(backend.trainEpoch(order, 0.01)).rejects.toThrow(/still being queued/);
        const losses = await backend.readLosses();
        expect(losses.train).toHaveLength(1);
        await epoch;
      } finally {
        await backend.dispose();
      }
    });
  });

  it('tells how far an epoch in slices has got, as the device finishes them', async () => {
    await withoutGpuErrors(gpu(), async () => {
      const run = startRun(sineRunSettings({ ...SEED, points: 210 }));
      const backend = await createWebGpuBackend(gpu(), run.layout, { schedule: 'stepwise', sliceMs: 1e-6 });
      try {
        backend.setParams(run.params);
        backend.setTrainingData(run.prepared.train, 2);
        const steps = Math.floor(run.prepared.train.count / 2);
        const seen: number[] = [];
        const t0 = performance.now();
        await backend.trainEpoch(run.rng.permutation(new Uint32Array(run.prepared.train.count)), 0.01, {
          onProgress: (done) => seen.push(done),
        });
        const ms = performance.now() - t0;
        // An epoch well past the interval is reported on; each report is further on, and short of the end.
        if (ms > 3 * EPOCH_PROGRESS_MS) expect(seen.length, `${ms.toFixed(0)} ms`).toBeGreaterThan(0);
        expect(seen.length).toBeLessThanOrEqual(Math.ceil(ms / EPOCH_PROGRESS_MS) + 1);
        for (const [i, done] of seen.entries()) {
          expect(done).toBeGreaterThan(i === 0 ? 0 : seen[i - 1]);
          expect(done).toBeLessThan(steps);
        }
      } finally {
        await backend.dispose();
      }
    });
  });
});

describe('products in bands of row tiles', () => {
  it('a product cut into one dispatch a row tile gives the same gradients, bit for bit', async () => {
    // Row tiles of 32: input projections 2 (T B = 60), weight gradients 3 and 4 (I + H + 1 = 73, 111),
    // the input gradients of layer 1 2.
    const layout = paramLayout({ inputSize: 2, hiddenSizes: [70, 40], outputSize: 1, window: 3 });
    const rng = new Rng(9);
    const params = initParams(layout, rng);
    const x = Float32Array.from({ length: 20 * 3 * 2 }, () => rng.normal());
    const t = Float32Array.from({ length: 20 }, () => rng.normal());
    const gradients = (maxDispatchFlops?: number) =>
      withoutGpuErrors(gpu(), async () => {
        const backend = await createWebGpuBackend(gpu(), layout, { schedule: 'stepwise', maxDispatchFlops });
        try {
          backend.setParams(params);
          const before = backend.counters().dispatches;
          const result = await backend.gradients(x, t, 20);
          return { ...result, dispatches: backend.counters().dispatches - before };
        } finally {
          await backend.dispose();
        }
      });
    const whole = await gradients();
    const cut = await gradients(1);
    expect(cut.dispatches - whole.dispatches).toBe(2 * (2 - 1) + (3 - 1) + (4 - 1) + (2 - 1));
    expect(cut.loss).toBe(whole.loss);
    expect(Array.from(cut.y)).toEqual(Array.from(whole.y));
    expect(Array.from(cut.grads)).toEqual(Array.from(whole.grads));
  });
});

describe('the per-epoch error in chunks', () => {
  for (const loss of ['sse', 'mse'] as const) {
    it(`${loss}: chunks of 5 rows and a rest give the error of one pass, training and validation`, async () => {
      const settings: RunSettings = {
        seed: 6,
        source: { kind: 'generated', spec: { kind: 'sum-of-sines', points: 64, noise: 0.1, periods: [16, 5] } },
        window: 5,
        hiddenSizes: [6],
        trainFraction: 0.75,
        normalize: 'min-max',
      };
      const options: TrainOptions = { epochs: 4, batchSize: 4, learningRate: 0.05, reportEvery: 2, loss };
      // 2 G max(T I, H) FLOPs a row in the largest dispatch (a step of the recurrence, G = 24): 5 rows a chunk.
      const maxDispatchFlops = 5 * (2 * 24 * 6);
      const trained = (maxDispatchFlops?: number) =>
        withoutGpuErrors(gpu(), async () => {
          const run = startRun(settings);
          const backend = await createWebGpuBackend(gpu(), run.layout, { schedule: 'stepwise', maxDispatchFlops });
          try {
            backend.setParams(run.params);
            // The held-out rows (the test part: no validation part here) are the evaluated second set.
            const { train, test: validation } = run.prepared;
            const result = await trainToEnd(backend, train, run.rng, { ...options, validation });
            return { ...result, dispatches: backend.counters().dispatches };
          } finally {
            await backend.dispose();
          }
        });
      const whole = await trained();
      const chunked = await trained(maxDispatchFlops);
      const run = startRun(settings);
      // Both sets are cut: 8 chunks and a rest of 3 rows; 3 chunks and a rest of 1.
      expect(run.prepared.train.count).toBe(43);
      expect(run.prepared.test?.count).toBe(16);
      // Each chunk past the first is one more forward pass: T + 2 dispatches (stepwise, one layer).
      const perEpoch = (chunked.dispatches - whole.dispatches) / options.epochs;
      expect(perEpoch).toBe((8 + 3) * (5 + 2));
      expect(Array.from(chunked.params)).toEqual(Array.from(whole.params));
      const close = (got: number[], want: number[]) => {
        expect(got).toHaveLength(want.length);
        for (const [i, value] of got.entries()) expect(Math.abs(value - want[i])).toBeLessThanOrEqual(1e-5 * want[i]);
      };
      close(chunked.losses, whole.losses);
      close(
        chunked.validationLosses.map((v) => v.loss),
        whole.validationLosses.map((v) => v.loss),
      );
    });
  }
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
