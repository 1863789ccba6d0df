// A WebGPU backend made with compileAhead: false (what `auto`'s racers use) compiles no pipeline
// before its first dispatch, then only those its work runs: a training epoch without the error
// compiles neither the error's nor the predictions' kernels, nor another variant's. It trains exactly
// as a backend that compiled ahead. A default backend compiles at its setup what training runs (the
// steps and the error of every variant), so an epoch compiles nothing, and the predictions' mode at
// its first use. On a device of its own, so that no other file's pipelines are in its cache.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../src/backends/webgpu/context.js';
import { createWebGpuBackend, type WebGpuBackend } from '../src/backends/webgpu/webgpuBackend.js';
import { Rng } from '../src/data/rng.js';
import { initParams } from '../src/model/init.js';
import { paramLayout } from '../src/model/layout.js';
import { windowSeries } from './helpers.js';
import { testGpuContext, withoutGpuErrors } from './webgpu-context.js';

const layout = paramLayout({ inputSize: 1, outputSize: 1, hiddenSizes: [4], window: 3 });
const data = windowSeries(
  Float32Array.from({ length: 19 }, (_, i) => Math.sin(i / 2)),
  3,
);
const BATCH = 4;

let context: GpuContext;
/** The labels of the pipelines the device compiled (the cache's key: kernel, entry point, constants). */
const compiled: string[] = [];

beforeAll(async () => {
  context = await testGpuContext();
  const { device } = context;
  const create = device.createComputePipeline.bind(device);
  device.createComputePipeline = (descriptor) => {
    compiled.push(descriptor.label ?? '');
    return create(descriptor);
  };
});

afterAll(() => context.destroy());

/** The pipelines compiled while `body` ran. */
async function compiledBy(body: () => Promise<unknown>): Promise<string[]> {
  const before = compiled.length;
  await body();
  return compiled.slice(before);
}

/** A backend that compiles every pipeline ahead (the default), and the pipelines its setup compiled. */
async function aheadWith(params: Float32Array): Promise<{ ahead: WebGpuBackend; labels: string[] }> {
  const before = compiled.length;
  const ahead = await createWebGpuBackend(context, layout);
  ahead.setParams(params);
  ahead.setTrainingData(data, BATCH);
  return { ahead, labels: compiled.slice(before) };
}

/** A pipeline of the dense or fused kernel in one mode: training, the error, or predictions. */
const MODE = {
  train: '"WITH_LOSS":1,"WITH_GRADIENTS":1',
  error: '"WITH_LOSS":1,"WITH_GRADIENTS":0',
  predict: '"WITH_LOSS":0,"WITH_GRADIENTS":0',
} as const;
const inMode = (labels: string[], mode: keyof typeof MODE) => labels.filter((label) => label.includes(MODE[mode]));

describe('compileAhead (the default)', () => {
  it('compiles at setup what training runs, so an epoch compiles nothing, and predictions at their first use', async () => {
    await withoutGpuErrors(context, async () => {
      const shape = paramLayout({ ...layout.config, window: 5 });
      const series = windowSeries(Float32Array.from({ length: 30 }, Math.sin), 5);
      const before = compiled.length;
      const ahead = await createWebGpuBackend(context, shape);
      try {
        ahead.setParams(initParams(shape, new Rng(5)));
        ahead.setTrainingData(series, BATCH);
        ahead.setValidationData(series);
        const atSetup = compiled.slice(before);
        expect(inMode(atSetup, 'train').length).toBeGreaterThan(0);
        expect(inMode(atSetup, 'error').length).toBeGreaterThan(0);
        expect(inMode(atSetup, 'predict')).toEqual([]);
        const byEpochs = await compiledBy(async () => {
          await ahead.trainEpoch(
            Uint32Array.from({ length: series.count }, (_, i) => i),
            0.05,
          );
          await ahead.readLosses();
        });
        expect(byEpochs).toEqual([]);
        const byPredictions = await compiledBy(() => ahead.predict(series.x, series.count));
        expect(inMode(byPredictions, 'predict').length).toBeGreaterThan(0);
      } finally {
        await ahead.dispose();
      }
    });
  });
});

describe('compileAhead: false (a racer)', () => {
  it('compiles only what it runs, when it runs it, and trains as a backend that compiled ahead', async () => {
    await withoutGpuErrors(context, async () => {
      const params = initParams(layout, new Rng(3));
      const order = Uint32Array.from({ length: data.count }, (_, i) => (i * 7) % data.count);
      let ahead: WebGpuBackend | null = null;
      const lazy = await createWebGpuBackend(context, layout, { compileAhead: false });
      try {
        const atSetup = await compiledBy(async () => {
          lazy.setParams(params);
          lazy.setTrainingData(data, BATCH);
        });
        expect(atSetup).toEqual([]);

        const byTraining = await compiledBy(async () => {
          await lazy.trainEpoch(order, 0.05, { evaluate: false });
          await lazy.readParams();
        });
        expect(byTraining.length).toBeGreaterThan(0);
        // Training steps only: no pass that leaves the gradients out (the error's, the predictions').
        expect(byTraining.filter((label) => label.includes('"WITH_GRADIENTS":0'))).toEqual([]);

        // The other backend compiles ahead, at its setup: every variant's steps and error.
        const made = await aheadWith(params);
        ahead = made.ahead;
        expect(made.labels.some((label) => label.includes('"WITH_GRADIENTS":0'))).toBe(true);
        expect(ahead.variantName()).toBe(lazy.variantName());

        // An epoch with the error compiles its pass where nothing had.
        const lazyAgain = await createWebGpuBackend(context, paramLayout({ ...layout.config, window: 4 }), {
          compileAhead: false,
        });
        try {
          lazyAgain.setTrainingData(windowSeries(Float32Array.from({ length: 20 }, Math.cos), 4), BATCH);
          const byError = await compiledBy(async () => {
            await lazyAgain.trainEpoch(
              Uint32Array.from({ length: 16 }, (_, i) => i),
              0.05,
            );
            await lazyAgain.readLosses();
          });
          expect(byError.some((label) => label.includes('"WITH_GRADIENTS":0'))).toBe(true);
        } finally {
          await lazyAgain.dispose();
        }

        // The same steps on the same variant: the same weights, bit for bit.
        await ahead.trainEpoch(order, 0.05, { evaluate: false });
        expect(Array.from(await ahead.readParams())).toEqual(Array.from(await lazy.readParams()));
        await lazy.trainEpoch(order, 0.05);
        await ahead.trainEpoch(order, 0.05);
        expect(await lazy.readLosses()).toEqual(await ahead.readLosses());
      } finally {
        await Promise.all([lazy.dispose(), ahead?.dispose()]);
      }
    });
  });
});
