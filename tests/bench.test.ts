// The benchmark module: a tiny sweep on the CPU produces consistent numbers, and exports round-trip.

import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import {
  type BenchResult,
  benchCase,
  crossovers,
  resultsFromCsv,
  resultsToCsv,
  runSweep,
  speedups,
} from '../src/bench/bench.js';
import { trainStepFlops } from '../src/model/flops.js';

const openCpu = async (layout: ConstructorParameters<typeof CpuBackend>[0]) => new CpuBackend(layout);

describe('bench on the cpu', () => {
  it('times a case: rates agree with each other and the FLOP formula', async () => {
    const result = await benchCase(
      openCpu,
      { backend: 'cpu', hidden: 12, batch: 4, window: 5 },
      {
        steps: 3,
        repetitions: 3,
        budgetSeconds: 5,
      },
    );
    expect(result.skipped).toBeNull();
    expect(result.repetitions).toBe(3);
    expect(result.stepsPerSecond).toBeCloseTo(1000 / result.msPerStep, 6);
    expect(result.msPerStepMin).toBeLessThanOrEqual(result.msPerStep);
    expect(result.msPerStepMax).toBeGreaterThanOrEqual(result.msPerStep);
    expect(result.flopsPerStep).toBe(trainStepFlops({ inputSize: 1, hiddenSizes: [12], outputSize: 1, window: 5 }, 4));
    expect(result.gflops).toBeCloseTo(result.flopsPerStep / (result.msPerStep * 1e6), 6);
    expect(result.dispatchesPerStep).toBeNull();
    expect(result.kernelMs).toBeUndefined();
    // What the CPU backend ran on: one thread here, and the kernels' SIMD variant.
    expect(result.threads).toBe(1);
    expect(['simd', 'relaxedSimd']).toContain(result.simd);
  });

  it('times a population: a step is every member’s, and member-steps are the members’ rate', async () => {
    const { createCpuPopulation } = await import('../src/backends/cpu/createCpuBackend.js');
    const result = await benchCase(
      (layout, members) => createCpuPopulation(layout, members),
      { backend: 'cpu', hidden: 6, batch: 4, window: 5, members: 3 },
      { steps: 3, repetitions: 3, budgetSeconds: 5 },
    );
    expect(result.skipped).toBeNull();
    expect(result.members).toBe(3);
    expect(result.memberStepsPerSecond).toBeCloseTo(3 * result.stepsPerSecond, 6);
    const config = { inputSize: 1, hiddenSizes: [6], outputSize: 1, window: 5 };
    expect(result.flopsPerStep).toBe(3 * trainStepFlops(config, 4));
    const single = await benchCase(
      openCpu,
      { backend: 'cpu', hidden: 6, batch: 4, window: 5 },
      { steps: 3, repetitions: 3, budgetSeconds: 5 },
    );
    expect(single.members).toBeUndefined();
    expect(single.memberStepsPerSecond).toBeUndefined();
  });

  it('reports a backend that is not available as skipped, with the reason', async () => {
    const results = await runSweep(
      { backends: ['cpu', 'webgpu'], hidden: [4], batch: [2], window: 3 },
      { cpu: openCpu },
      { steps: 1, repetitions: 1, budgetSeconds: 1 },
    );
    expect(results).toHaveLength(2);
    expect(results[0].skipped).toBeNull();
    expect(results[1].skipped).toMatch(/webgpu is not available/);
  });
});

describe('trainStepFlops', () => {
  it('follows the documented formula', () => {
    // One layer, I = 1, H = 30, O = 1, B = 8, T = 10, G = 120:
    // 2·T·B·G·[(I+H) + H + (I+H+1)] + 6·B·H·O + 2·P
    const P = 4 * 30 * 1 + 4 * 30 * 30 + 4 * 30 + 30 + 1;
    expect(trainStepFlops({ inputSize: 1, hiddenSizes: [30], outputSize: 1, window: 10 }, 8)).toBe(
      2 * 10 * 8 * 120 * (31 + 30 + 32) + 6 * 8 * 30 + 2 * P,
    );
  });

  it('counts the input gradient of stacked layers only', () => {
    const one = trainStepFlops({ inputSize: 3, hiddenSizes: [4], outputSize: 1, window: 2 }, 1);
    const two = trainStepFlops({ inputSize: 3, hiddenSizes: [4, 4], outputSize: 1, window: 2 }, 1);
    const secondLayer = 2 * 2 * 16 * (4 + 4 + 4 + 4 + (4 + 4 + 1)) + 2 * (4 * 16 + 4 * 16 + 16);
    expect(two - one).toBe(secondLayer);
  });
});

function fake(backend: 'cpu' | 'webgpu', hidden: number, batch: number, stepsPerSecond: number): BenchResult {
  return {
    backend,
    hidden,
    batch,
    window: 10,
    stepsPerSecond,
    msPerStep: 1000 / stepsPerSecond,
    msPerStepMin: 900 / stepsPerSecond,
    msPerStepMax: 1100 / stepsPerSecond,
    gflops: 1.5,
    flopsPerStep: 12345,
    dispatchesPerStep: backend === 'webgpu' ? 6 : null,
    setupMs: 3,
    warmupMs: 4,
    repetitions: 5,
    steps: 5,
    skipped: hidden === 1024 && backend === 'cpu' ? 'too slow, "quoted", reason' : null,
    ...(backend === 'webgpu'
      ? {
          kernelMs: { forward: 0.25, backward: 0.5, weightGradients: 0.125, update: 1 / stepsPerSecond },
          variant: 'fused/software',
        }
      : {}),
  };
}

describe('speed-ups, crossover and export', () => {
  const results = [
    fake('cpu', 16, 8, 1000),
    fake('cpu', 64, 8, 200),
    fake('cpu', 256, 8, 20),
    fake('cpu', 1024, 8, 1),
    fake('webgpu', 16, 8, 100),
    fake('webgpu', 64, 8, 150),
    fake('webgpu', 256, 8, 140),
    fake('webgpu', 1024, 8, 100),
  ];
  it('finds the ratio per size and the smallest size from which the GPU wins', () => {
    const ups = speedups(results);
    expect(ups.map((s) => s.hidden)).toEqual([16, 64, 256]);
    expect(ups[2].speedup).toBeCloseTo(7, 6);
    expect(crossovers(results)).toEqual([{ batch: 8, hidden: 256 }]);
  });
  it('round-trips through CSV and JSON', () => {
    expect(resultsFromCsv(resultsToCsv(results))).toEqual(results);
    expect(JSON.parse(JSON.stringify(results))).toEqual(results);
  });
  it('appends the kernel times, then the CPU threads and SIMD variant, then the GPU variant (then the members), as CSV columns, and still reads files written before them', () => {
    const withCpu = results.map((r) => (r.backend === 'cpu' ? { ...r, threads: 2, simd: 'relaxedSimd' } : r));
    const csv = resultsToCsv(withCpu);
    expect(resultsFromCsv(csv)).toEqual(withCpu);
    const [header, cpuRow, , , , gpuRow] = csv.split('\n');
    expect(header).toMatch(
      /,skipped,kernelForwardMs,kernelBackwardMs,kernelWeightGradientsMs,kernelUpdateMs,threads,simd,variant,members,memberStepsPerSecond$/,
    );
    expect(cpuRow).toMatch(/,,,,,2,relaxedSimd,,,$/);
    expect(gpuRow).toMatch(/,0\.25,0\.5,0\.125,0\.01,,,fused\/software,,$/);
    // Files of the columns up to the CPU's, up to the kernel times, and up to `skipped` (rows without
    // quoted commas, so they can be cut here).
    const ran = withCpu.filter((r) => r.skipped === null);
    const cut = (columns: number) =>
      resultsToCsv(ran)
        .split('\n')
        .map((line) => line.split(',').slice(0, -columns).join(','))
        .join('\n');
    expect(resultsFromCsv(cut(2))).toEqual(ran);
    expect(resultsFromCsv(cut(3))).toEqual(ran.map(({ variant: _, ...older }) => older));
    const withoutCpu = ran.map(({ threads: _t, simd: _s, variant: _v, ...rest }) => rest);
    expect(resultsFromCsv(cut(5))).toEqual(withoutCpu);
    const read = resultsFromCsv(cut(9));
    expect(read).toEqual(withoutCpu.map(({ kernelMs: _, ...older }) => older));
    for (const r of read) expect('kernelMs' in r || 'threads' in r || 'simd' in r || 'variant' in r).toBe(false);
  });
  it('appends a population’s members and member-steps as the last CSV columns, and reads files without them', () => {
    const populations = results.map((r, i) => ({
      ...r,
      members: 1 + i,
      memberStepsPerSecond: (1 + i) * r.stepsPerSecond,
    }));
    const csv = resultsToCsv(populations);
    expect(csv.split('\n')[0]).toMatch(/,variant,members,memberStepsPerSecond$/);
    expect(resultsFromCsv(csv)).toEqual(populations);
    const ran = populations.filter((r) => r.skipped === null);
    const older = resultsToCsv(ran)
      .split('\n')
      .map((line) => line.split(',').slice(0, -2).join(','))
      .join('\n');
    expect(resultsFromCsv(older)).toEqual(ran.map(({ members: _m, memberStepsPerSecond: _r, ...rest }) => rest));
  });
  it('compares backends at the same members only', () => {
    const ups = speedups([
      { ...fake('cpu', 16, 8, 100), members: 64 },
      { ...fake('webgpu', 16, 8, 300), members: 64 },
      { ...fake('webgpu', 16, 8, 900), members: 1 },
    ]);
    expect(ups).toEqual([{ hidden: 16, batch: 8, members: 64, speedup: 3 }]);
  });
});
