// Training the blog's task on the CPU backend, and a finite-difference check of its gradients on
// random small models (stacked ones included).

import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import { backward, forward, loss, Workspace } from '../src/backends/cpu/lstm.js';
import { Rng } from '../src/data/rng.js';
import { initParams } from '../src/model/init.js';
import { type ModelConfig, paramLayout } from '../src/model/layout.js';
import { freeRunForecast } from '../src/train/forecast.js';
import { startRun } from '../src/train/run.js';
import { trainToEnd } from '../src/train/trainer.js';
import { sineRunSettings } from './helpers.js';

const SEED_DEFAULTS = { points: 50, noise: 0.1, window: 10, hiddenSizes: [30] };

describe('training at the blog’s defaults on the cpu', () => {
  for (const seed of [0, 1, 2]) {
    it(`seed ${seed}: final error below 0.6 and below 0.25 x the first epoch's`, async () => {
      const run = startRun(sineRunSettings({ seed, ...SEED_DEFAULTS }));
      const backend = new CpuBackend(run.layout);
      backend.setParams(run.params);
      const result = await trainToEnd(backend, run.prepared.train, run.rng, {
        epochs: 101,
        batchSize: 8,
        learningRate: 0.01,
        reportEvery: 10,
      });
      expect(result.losses).toHaveLength(101);
      expect(result.steps).toBe(101 * 5);
      expect(result.finalLoss).toBeLessThan(0.6);
      expect(result.finalLoss).toBeLessThan(0.25 * result.losses[0]);
      // The free-running forecast follows the series for the first steps after the first window.
      const params = await backend.readParams();
      const forecast = freeRunForecast(
        run.layout,
        params,
        run.prepared.train.x.subarray(0, 10),
        run.prepared.train.count,
      );
      expect(forecast).toHaveLength(run.prepared.train.count);
      const err = Math.abs(forecast[0] - run.prepared.train.t[0]);
      expect(err).toBeLessThan(0.5);
    });
  }

  it('is deterministic for a seed and differs between seeds', async () => {
    const losses = async (seed: number) => {
      const run = startRun(sineRunSettings({ seed, ...SEED_DEFAULTS }));
      const backend = new CpuBackend(run.layout);
      backend.setParams(run.params);
      const options = { epochs: 5, batchSize: 8, learningRate: 0.01, reportEvery: 2 };
      return (await trainToEnd(backend, run.prepared.train, run.rng, options)).losses;
    };
    expect(await losses(7)).toEqual(await losses(7));
    expect(await losses(7)).not.toEqual(await losses(8));
  });
});

function randomCase(config: ModelConfig, batch: number, seed: number) {
  const rng = new Rng(seed);
  const layout = paramLayout(config);
  const params = initParams(layout, rng);
  // Non-zero biases so their gradients are exercised away from the symmetric start.
  for (const layer of layout.layers)
    for (let j = 0; j < 4 * layer.hiddenSize; j++) params[layer.b + j] = 0.1 * rng.normal();
  const x = Float32Array.from({ length: batch * config.window * config.inputSize }, () => rng.normal());
  const t = Float32Array.from({ length: batch * config.outputSize }, () => rng.normal());
  return { layout, params, x, t, rng };
}

describe('finite-difference gradient check (float64 loss of float32 kernels, central differences)', () => {
  const cases: [string, ModelConfig, number][] = [
    ['single layer', { inputSize: 2, hiddenSizes: [5], outputSize: 2, window: 4 }, 3],
    ['stacked', { inputSize: 3, hiddenSizes: [6, 4], outputSize: 1, window: 5 }, 2],
    ['three layers, T = 1', { inputSize: 1, hiddenSizes: [3, 4, 2], outputSize: 3, window: 1 }, 2],
  ];
  for (const [name, config, batch] of cases) {
    it(name, () => {
      const { layout, params, x, t, rng } = randomCase(config, batch, 42);
      const ws = new Workspace(layout, batch);
      const grads = new Float32Array(layout.size);
      forward(params, ws, x, batch);
      loss(ws, t, batch);
      backward(params, grads, ws, batch);
      const lossAt = (): number => {
        forward(params, ws, x, batch);
        return loss(ws, t, batch);
      };
      // Probe a few coordinates of every parameter tensor.
      let worst = 0;
      const eps = 1e-2;
      for (let probe = 0; probe < 60; probe++) {
        const p = rng.below(layout.size);
        const old = params[p];
        params[p] = old + eps;
        const plus = lossAt();
        params[p] = old - eps;
        const minus = lossAt();
        params[p] = old;
        const numeric = (plus - minus) / (2 * eps);
        const rel = Math.abs(numeric - grads[p]) / Math.max(1e-3, Math.abs(numeric) + Math.abs(grads[p]));
        worst = Math.max(worst, rel);
      }
      expect(worst).toBeLessThan(1e-2);
    });
  }
});
