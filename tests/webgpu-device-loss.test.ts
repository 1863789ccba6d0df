// A GPU device lost in the middle of training (device.destroy()): training goes on with the CPU
// backend from the last weights read back, losing at most one report interval, and finishes.

import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import { createWebGpuBackend } from '../src/backends/webgpu/webgpuBackend.js';
import { startRun } from '../src/train/run.js';
import { trainToEnd } from '../src/train/trainer.js';
import { sineRunSettings } from './helpers.js';
import { testGpuContext } from './webgpu-context.js';

const SETTINGS = { seed: 3, points: 50, noise: 0.1, window: 10, hiddenSizes: [12] };
const OPTIONS = { epochs: 30, batchSize: 8, learningRate: 0.05, reportEvery: 5 };

describe('device loss during training', () => {
  it('switches to the cpu from the last report and completes every epoch', async () => {
    const context = await testGpuContext();
    const run = startRun(sineRunSettings(SETTINGS));
    const gpu = await createWebGpuBackend(context, run.layout);
    gpu.setParams(run.params);
    const reports: number[] = [];
    const switches: [string, number][] = [];
    const result = await trainToEnd(
      gpu,
      run.prepared.train,
      run.rng,
      OPTIONS,
      (report) => {
        reports.push(report.epoch);
        if (report.epoch === 10) context.device.destroy();
      },
      {
        create: () => new CpuBackend(run.layout),
        onSwitch: (message, from) => switches.push([message, from]),
      },
    );
    expect(switches).toHaveLength(1);
    expect(switches[0][1]).toBe(10); // resumed from the last report: nothing before it was lost
    expect(switches[0][0]).toMatch(/webgpu failed .*device/i);
    expect(result.backend.name).toBe('cpu');
    expect(result.switched).not.toBeNull();
    expect(result.losses).toHaveLength(OPTIONS.epochs);
    expect(result.losses.every(Number.isFinite)).toBe(true);
    expect(result.epoch).toBe(OPTIONS.epochs);
    expect(reports).toEqual([5, 10, 15, 20, 25]);

    // The same run entirely on the CPU, resumed from the same epoch with the same minibatch orders,
    // ends close to it (the GPU's first 10 epochs differ from the CPU's only by rounding).
    const cpuRun = startRun(sineRunSettings(SETTINGS));
    const cpu = new CpuBackend(cpuRun.layout);
    cpu.setParams(cpuRun.params);
    const reference = await trainToEnd(cpu, cpuRun.prepared.train, cpuRun.rng, OPTIONS);
    expect(Math.abs(result.finalLoss - reference.finalLoss)).toBeLessThan(0.02 * reference.finalLoss);
    context.destroy();
  });
});
