// The trainer's reactions: a divergence blames the data's scale when its values are far beyond what the
// model's gates can take (and suggests normalising), else the learning rate; only a GpuFailure moves a
// run to the fallback backend, while a programming error in the WebGPU backend surfaces as it is.

import { describe, expect, it } from 'vitest';
import { GpuFailure } from '../src/backends/backend.js';
import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import { createWebGpuBackend } from '../src/backends/webgpu/webgpuBackend.js';
import type { Dataset } from '../src/data/dataset.js';
import { startRun } from '../src/train/run.js';
import { DATA_SCALE_LIMIT, type TrainOptions, trainToEnd } from '../src/train/trainer.js';
import { sineRunSettings } from './helpers.js';
import { fileGpuContext } from './webgpu-context.js';

const SETTINGS = { seed: 2, points: 50, noise: 0.1, window: 10, hiddenSizes: [8] };
const OPTIONS: TrainOptions = { epochs: 6, batchSize: 8, learningRate: 0.01, reportEvery: 3 };

function scaled(data: Dataset, factor: number): Dataset {
  return { ...data, x: data.x.map((v) => v * factor), t: data.t.map((v) => v * factor) };
}

describe('divergence advice', () => {
  it("unnormalised data of 1e30 scale: the message names the data's scale and suggests normalising", async () => {
    const run = startRun(sineRunSettings(SETTINGS));
    const backend = new CpuBackend(run.layout);
    backend.setParams(run.params);
    const result = await trainToEnd(backend, scaled(run.prepared.train, 1e30), run.rng, OPTIONS);
    expect(result.diverged).not.toBeNull();
    expect(result.diverged?.message).toMatch(/the data's scale .*values up to 1\.\de\+30.*normalise/i);
    expect(result.diverged?.message).not.toMatch(/learning rate/);
  });

  it('data of an ordinary scale and too high a learning rate: the message suggests a lower one', async () => {
    const run = startRun(sineRunSettings(SETTINGS));
    const backend = new CpuBackend(run.layout);
    backend.setParams(run.params);
    // Still under the limit: the data is not to blame.
    const data = scaled(run.prepared.train, 0.5 * DATA_SCALE_LIMIT);
    const result = await trainToEnd(backend, data, run.rng, { ...OPTIONS, learningRate: 50 });
    expect(result.diverged).not.toBeNull();
    expect(result.diverged?.message).toMatch(/Try a lower learning rate \(now 50\)/);
    expect(result.diverged?.message).not.toMatch(/scale/);
  });
});

describe('what falls back to the CPU', () => {
  const gpu = fileGpuContext();

  it('a programming error in the WebGPU backend surfaces; the fallback is never made', async () => {
    const run = startRun(sineRunSettings(SETTINGS));
    const backend = await createWebGpuBackend(gpu(), run.layout);
    try {
      // The injected bug: training data that never reaches the GPU.
      backend.setTrainingData = () => {};
      let fallbacks = 0;
      const fallback = {
        create: () => {
          fallbacks++;
          return new CpuBackend(run.layout);
        },
      };
      await expect(trainToEnd(backend, run.prepared.train, run.rng, OPTIONS, undefined, fallback)).rejects.toThrow(
        /^trainEpoch before setTrainingData$/,
      );
      expect(fallbacks).toBe(0);
    } finally {
      await backend.dispose();
    }
  });

  it('a GpuFailure does fall back, from the last report', async () => {
    const run = startRun(sineRunSettings(SETTINGS));
    const backend = await createWebGpuBackend(gpu(), run.layout);
    backend.setParams(run.params);
    let epochs = 0;
    const trainEpoch = backend.trainEpoch.bind(backend);
    backend.trainEpoch = async (order, learningRate, options) => {
      if (++epochs === 5) throw new GpuFailure('WebGPU failed: an out-of-memory error');
      await trainEpoch(order, learningRate, options);
    };
    const switches: number[] = [];
    const result = await trainToEnd(backend, run.prepared.train, run.rng, OPTIONS, undefined, {
      create: () => new CpuBackend(run.layout),
      onSwitch: (_message, from) => switches.push(from),
    });
    expect(switches).toEqual([3]);
    expect(result.backend.name).toBe('cpu');
    expect(result.switched).toMatch(/out-of-memory/);
    expect(result.losses).toHaveLength(OPTIONS.epochs);
  });
});
