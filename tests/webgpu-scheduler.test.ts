// The WebGPU scheduler's contract at the blog's defaults (T 10, H 30, B 8, 40 samples), on every
// schedule under both tunings: dispatches per minibatch step (at most 2T + 8 stepwise, 7 persistent,
// 3 fused), one submit an epoch, one readback a report (errors and weights together), no buffer created
// while training; each variant trains like the CPU; sizes the device cannot hold are refused before
// anything is allocated, naming the field; calibrate() keeps the weights.

import { beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import type { GpuContext } from '../src/backends/webgpu/context.js';
import {
  SCHEDULES,
  type Schedule,
  sameVariant,
  TUNING_NAMES,
  type Variant,
  variantName,
} from '../src/backends/webgpu/tuning.js';
import { createWebGpuBackend, type WebGpuBackend } from '../src/backends/webgpu/webgpuBackend.js';
import type { Dataset } from '../src/data/dataset.js';
import { InputError } from '../src/model/errors.js';
import { paramLayout } from '../src/model/layout.js';
import { type Run, startRun } from '../src/train/run.js';
import { trainToEnd } from '../src/train/trainer.js';
import { sineRunSettings } from './helpers.js';
import { withoutGpuErrors, workerGpuContext } from './webgpu-context.js';

const SEED = { seed: 7, points: 50, noise: 0.1, window: 10, hiddenSizes: [30] };
const T = SEED.window;
const VARIANTS: Variant[] = SCHEDULES.flatMap((schedule) => TUNING_NAMES.map((tuning) => ({ schedule, tuning })));
/** Dispatches a step at most (the update included): the hardware persistent one refreshes Vᵀ first. */
const MAX_DISPATCHES: Record<Schedule, number> = { stepwise: 2 * T + 8, persistent: 7, fused: 3 };

let context: GpuContext;
beforeAll(async () => {
  context = await workerGpuContext();
});

/** Runs `body` on a fresh backend for the blog's task, disposing of it afterwards, failing on any GPU error. */
async function withSeedBackend<T>(
  options: Parameters<typeof createWebGpuBackend>[2],
  body: (backend: WebGpuBackend, run: Run) => Promise<T>,
): Promise<T> {
  return withoutGpuErrors(context, async () => {
    const run = startRun(sineRunSettings(SEED));
    const backend = await createWebGpuBackend(context, run.layout, options);
    try {
      backend.setParams(run.params);
      return await body(backend, run);
    } finally {
      backend.dispose();
    }
  });
}

describe('webgpu scheduler at the blog’s defaults', () => {
  for (const variant of VARIANTS) {
    const name = variantName(variant);
    it(`${name}: dispatches per step, one submit an epoch, one readback a report, no allocation`, async () => {
      await withSeedBackend(variant, async (backend, run) => {
        const data = run.prepared.train;
        backend.setTrainingData(data, 8);
        // The blog's model takes every variant: none falls back to another.
        expect(backend.variantName()).toBe(name);
        const steps = Math.floor(data.count / 8);
        const perStep = backend.dispatchesPerStep();
        expect(perStep).not.toBeNull();
        expect(perStep).toBeLessThanOrEqual(MAX_DISPATCHES[variant.schedule]);

        const order = new Uint32Array(data.count);
        run.rng.permutation(order);
        await backend.trainEpoch(order, 0.01); // warm-up: pipelines are already built, this proves it
        await backend.readLosses();

        const before = backend.counters();
        const epochs = 3;
        for (let e = 0; e < epochs; e++) {
          run.rng.permutation(order);
          await backend.trainEpoch(order, 0.01);
        }
        const queued = backend.counters();
        expect(queued.submits - before.submits).toBe(epochs);
        expect(queued.readbacks - before.readbacks).toBe(0);
        expect(queued.buffersCreated - before.buffersCreated).toBe(0);
        // Each epoch: its minibatch steps, then the error over all samples (one forward pass).
        const errorPass = (queued.dispatches - before.dispatches) / epochs - steps * (perStep ?? 0);
        expect(errorPass).toBeGreaterThanOrEqual(variant.schedule === 'fused' ? 2 : 3);
        expect(errorPass).toBeLessThanOrEqual(T + 2);

        const losses = (await backend.readLosses()).train;
        expect(losses).toHaveLength(epochs);
        expect(losses.every((loss) => Number.isFinite(loss) && loss > 0)).toBe(true);
        const read = backend.counters();
        expect(read.readbacks - queued.readbacks).toBe(1);
        expect(read.submits - queued.submits).toBe(0);
        expect(read.buffersCreated).toBe(before.buffersCreated);

        // The weights came back with the errors: the trainer's readParams at a report costs nothing more.
        const params = await backend.readParams();
        expect(backend.counters()).toEqual(read);
        backend.setParams(params);
        expect(Array.from(await backend.readParams())).toEqual(Array.from(params));
        expect(backend.counters().readbacks - read.readbacks).toBe(1);

        // An epoch without the error queues none (benchmarks time the steps alone).
        const unevaluated = backend.counters();
        await backend.trainEpoch(order, 0.01, { evaluate: false });
        expect((await backend.readLosses()).train).toEqual([]);
        expect(backend.counters().dispatches - unevaluated.dispatches).toBe(steps * (perStep ?? 0));
      });
    });

    it(`${name}: per-epoch errors within 1e-3 relative of the cpu for 20 epochs`, async () => {
      const options = { epochs: 20, batchSize: 8, learningRate: 0.01, reportEvery: 10 };
      const cpuRun = startRun(sineRunSettings(SEED));
      const cpu = new CpuBackend(cpuRun.layout);
      cpu.setParams(cpuRun.params);
      const expected = await trainToEnd(cpu, cpuRun.prepared.train, cpuRun.rng, options);
      const gpu = await withSeedBackend(variant, (backend, run) =>
        trainToEnd(backend, run.prepared.train, run.rng, options),
      );
      for (let e = 0; e < options.epochs; e++) {
        const relative = Math.abs(gpu.losses[e] - expected.losses[e]) / expected.losses[e];
        expect(relative, `epoch ${e + 1}: gpu ${gpu.losses[e]}, cpu ${expected.losses[e]}`).toBeLessThanOrEqual(1e-3);
      }
    });
  }

  it('grows the error slots past 256 queued epochs with one more buffer, read back in order', async () => {
    const tiny = { seed: 3, points: 9, noise: 0.1, window: 5, hiddenSizes: [4] };
    await withoutGpuErrors(context, async () => {
      const run = startRun(sineRunSettings(tiny));
      const backend = await createWebGpuBackend(context, run.layout, { schedule: 'stepwise' });
      try {
        backend.setParams(run.params);
        backend.setTrainingData(run.prepared.train, 4);
        const order = new Uint32Array(run.prepared.train.count);
        const before = backend.counters();
        for (let e = 0; e < 300; e++) await backend.trainEpoch(run.rng.permutation(order), 0.01);
        const losses = (await backend.readLosses()).train;
        const after = backend.counters();
        expect(losses).toHaveLength(300);
        expect(losses.every(Number.isFinite)).toBe(true);
        expect(after.buffersCreated - before.buffersCreated).toBe(1);
        expect(after.readbacks - before.readbacks).toBe(2);
        expect(after.submits - before.submits).toBe(300);
      } finally {
        backend.dispose();
      }
    });
  });

  it('calibrate() picks a variant, keeps the weights, and is remembered for the same shape', async () => {
    await withSeedBackend({}, async (backend, run) => {
      backend.setTrainingData(run.prepared.train, 8);
      const calibration = await backend.calibrate();
      expect(calibration).not.toBeNull();
      // Every schedule the adapter's tunings offer was timed (the blog's model takes them all).
      const tunings = context.adapter.software ? ['software'] : ['hardware', 'software'];
      expect(Object.keys(calibration?.msPerEpoch ?? {}).sort()).toEqual(
        VARIANTS.filter((v) => tunings.includes(v.tuning))
          .map(variantName)
          .sort(),
      );
      expect(calibration !== null && sameVariant(calibration.variant, backend.variant())).toBe(true);
      expect(Array.from(await backend.readParams())).toEqual(Array.from(run.params));
      const second = await createWebGpuBackend(context, run.layout);
      try {
        second.setTrainingData(run.prepared.train, 8);
        const submits = second.counters().submits;
        await second.calibrate();
        expect(second.counters().submits).toBe(submits);
        expect(second.variant()).toEqual(backend.variant());
      } finally {
        second.dispose();
      }
    });
  });
});

describe('webgpu sizes against the device limits', () => {
  it('refuses a model whose parameters do not fit, naming hidden and what fits', async () => {
    const layout = paramLayout({ inputSize: 1, hiddenSizes: [9000], outputSize: 1, window: 10 });
    await withoutGpuErrors(context, async () => {
      const error = await createWebGpuBackend(context, layout).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).field).toBe('hidden');
      expect((error as InputError).message).toMatch(/maxStorageBufferBindingSize .*at most \d+ hidden units/);
    });
  });

  it('refuses training data whose passes do not fit, before allocating anything', async () => {
    const window = 10;
    const layout = paramLayout({ inputSize: 1, hiddenSizes: [1024], outputSize: 1, window });
    // Enough samples that one pass's (T, N, 4H) gates exceed what this device binds: past its own
    // limit (1 GiB on SwiftShader, more on a GPU), not an amount assumed free.
    const { maxStorageBufferBindingSize, maxBufferSize } = context.limits;
    const gateBytesPerSample = 4 * window * 4 * 1024;
    const count = Math.floor(Math.min(maxStorageBufferBindingSize, maxBufferSize) / gateBytesPerSample) + 1;
    const data: Dataset = {
      count,
      window,
      inputSize: 1,
      outputSize: 1,
      x: new Float32Array(count * window),
      t: new Float32Array(count),
    };
    await withoutGpuErrors(context, async () => {
      const backend = await createWebGpuBackend(context, layout);
      try {
        const before = backend.counters().buffersCreated;
        expect(() => backend.setTrainingData(data, 8)).toThrow(InputError);
        expect(() => backend.setTrainingData(data, 8)).toThrow(/^points: .*gates .*at most \d+ fit/);
        expect(backend.counters().buffersCreated).toBe(before);
      } finally {
        backend.dispose();
      }
    });
  });
});
