// Training at the blog's defaults on the CPU backend's fast path (the default kernels): the error
// must fall as the blog's does (it reaches 0.25-0.42 here).

import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import { startRun } from '../src/train/run.js';
import { trainToEnd } from '../src/train/trainer.js';
import { sineRunSettings } from './helpers.js';

const SEED_DEFAULTS = { points: 50, noise: 0.1, window: 10, hiddenSizes: [30] };
const SEED_TRAINING = { epochs: 101, batchSize: 8, learningRate: 0.01, reportEvery: 101 };

describe('fast CPU kernels train the blog’s task', () => {
  for (const seed of [0, 1, 2]) {
    it(`seed ${seed}: final error < 0.6 and < 0.25 x the first epoch's`, async () => {
      const run = startRun(sineRunSettings({ seed, ...SEED_DEFAULTS }));
      const backend = new CpuBackend(run.layout, { kernels: 'fast' });
      backend.setParams(run.params);
      const result = await trainToEnd(backend, run.prepared.train, run.rng, SEED_TRAINING);
      expect(result.losses.length).toBe(101);
      expect(result.steps).toBe(101 * 5);
      expect(result.finalLoss).toBeLessThan(0.6);
      expect(result.finalLoss).toBeLessThan(0.25 * result.losses[0]);
    });
  }
});
