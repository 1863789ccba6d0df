// Progress inside a long epoch: the CPU backend tells the trainer how many minibatch steps are done
// (at most every EPOCH_PROGRESS_MS), and the trainer tells its caller with the epoch's number, so
// the page can say "epoch 1: 37% (1,234 of 3,300 steps)" instead of waiting for the first report.

import { describe, expect, it } from 'vitest';
import { describeEpochProgress } from '../src/app/columns.js';
import { EPOCH_PROGRESS_MS } from '../src/backends/backend.js';
import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import { startRun } from '../src/train/run.js';
import { type EpochProgress, train } from '../src/train/trainer.js';
import { sineRunSettings } from './helpers.js';

describe('progress within an epoch', () => {
  it('is reported between the steps of a long epoch, with its epoch, in order, never past its end', async () => {
    // 12,000 windows at batch 1: thousands of steps an epoch, long enough to outlast the interval.
    const run = startRun(sineRunSettings({ seed: 0, points: 12010, noise: 0.1, window: 10, hiddenSizes: [24] }));
    const backend = new CpuBackend(run.layout);
    backend.setParams(run.params);
    const seen: EpochProgress[] = [];
    const epochMs: number[] = [];
    const options = {
      epochs: 2,
      batchSize: 1,
      learningRate: 0.001,
      reportEvery: 1,
      onEpochProgress: (p: EpochProgress) => seen.push(p),
    };
    let t0 = performance.now();
    for await (const _report of train(backend, run.prepared.train, run.rng, options)) {
      epochMs.push(performance.now() - t0);
      t0 = performance.now();
    }
    epochMs.push(performance.now() - t0);
    const stepsPerEpoch = run.prepared.train.count;
    expect(stepsPerEpoch).toBe(12000);
    // An epoch that ran well past the interval was reported on; how often depends on the machine.
    for (const [k, ms] of epochMs.entries()) {
      const ofEpoch = seen.filter((p) => p.epoch === k + 1);
      if (ms > 3 * EPOCH_PROGRESS_MS)
        expect(ofEpoch.length, `epoch ${k + 1} took ${ms.toFixed(0)} ms`).toBeGreaterThan(0);
      expect(ofEpoch.length).toBeLessThanOrEqual(Math.ceil(ms / EPOCH_PROGRESS_MS) + 1);
    }
    for (const [i, p] of seen.entries()) {
      expect(p).toMatchObject({ epochs: 2, stepsPerEpoch });
      expect(p.steps).toBeGreaterThan(0);
      expect(p.steps).toBeLessThan(stepsPerEpoch);
      if (i > 0 && seen[i - 1].epoch === p.epoch) expect(p.steps).toBeGreaterThan(seen[i - 1].steps);
    }
    expect(describeEpochProgress({ epoch: 1, epochs: 5, steps: 1234, stepsPerEpoch: 3300 })).toBe(
      'epoch 1: 37% (1,234 of 3,300 steps)',
    );
    backend.dispose();
  });
});
