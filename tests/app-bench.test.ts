// The Benchmark view's pure logic: its form (the CLI's sweep options), the warning for a long CPU
// part, the table rows, the chart's columns (steps per second by hidden size, one series per backend
// and batch), the speed-ups and crossovers in words, the adapter line and the JSON export.

import { describe, expect, it } from 'vitest';
import {
  benchColumns,
  benchComparison,
  benchJson,
  benchRows,
  benchWarning,
  defaultBenchValues,
  describeAdapter,
  estimateCpuSeconds,
  parseBenchSettings,
} from '../src/app/benchTable.js';
import { formatNumber } from '../src/app/columns.js';
import type { BenchResult } from '../src/bench/bench.js';
import { BENCH_METHOD, resultsFromCsv, resultsToCsv } from '../src/bench/bench.js';
import { DEFAULT_SWEEP } from '../src/settings/bench.js';

function result(backend: 'cpu' | 'webgpu', hidden: number, batch: number, stepsPerSecond: number): BenchResult {
  const msPerStep = 1000 / stepsPerSecond;
  return {
    backend,
    hidden,
    batch,
    window: 10,
    stepsPerSecond,
    msPerStep,
    msPerStepMin: msPerStep * 0.9,
    msPerStepMax: msPerStep * 1.2,
    gflops: 1.5,
    flopsPerStep: 1e6,
    dispatchesPerStep: backend === 'webgpu' ? 7 : null,
    setupMs: 12,
    warmupMs: 3,
    repetitions: 2,
    steps: 5,
    skipped: null,
  };
}

const sweep = [
  result('cpu', 16, 8, 4000),
  result('cpu', 64, 8, 1000),
  result('cpu', 256, 8, 100),
  result('webgpu', 16, 8, 500),
  result('webgpu', 64, 8, 800),
  result('webgpu', 256, 8, 400),
  { ...result('webgpu', 1024, 8, 1), skipped: 'the device cannot hold it', stepsPerSecond: 0 },
];

describe('benchmark view logic', () => {
  it('defaults to the sweep of the bench module and reads the form', () => {
    const parsed = parseBenchSettings(defaultBenchValues(), ['cpu', 'webgpu']);
    expect(parsed.ok && parsed.spec).toEqual({
      backends: ['cpu', 'webgpu'],
      hidden: [...DEFAULT_SWEEP.hidden],
      batch: [...DEFAULT_SWEEP.batch],
      window: DEFAULT_SWEEP.window,
    });
    const tiny = parseBenchSettings({ hidden: '16, 8, 16', batch: '4', window: '5', steps: '3', repetitions: '2' }, [
      'webgpu',
    ]);
    expect(tiny.ok && tiny.spec).toEqual({ backends: ['webgpu'], hidden: [8, 16], batch: [4], window: 5 });
    expect(tiny.ok && tiny.options).toEqual({ steps: 3, repetitions: 2, budgetSeconds: 10 });
  });

  it('refuses bad fields and an empty choice of backends', () => {
    const parsed = parseBenchSettings(
      { hidden: '16,x', batch: '0', window: '', steps: '1.5', repetitions: '1001' },
      [],
    );
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors.hidden).toMatch(/comma-separated whole numbers from 1 to 4096/);
    // The CLI's bench options' bounds (src/settings/bench.ts).
    expect(parsed.errors.batch).toMatch(/from 1 to 65536, got "0"/);
    expect(parsed.errors.window).toMatch(/got ""/);
    expect(parsed.errors.steps).toBe('expected a whole number from 1 to 100000, got 1.5');
    expect(parsed.errors.repetitions).toBe('expected a whole number from 1 to 1000, got 1001');
    expect(parsed.errors.backends).toBe('choose at least one backend');
  });

  it('warns that the CPU at hidden 1024 and batch 256 takes long, and not for a tiny sweep', () => {
    const full = parseBenchSettings(defaultBenchValues(), ['cpu', 'webgpu']);
    if (!full.ok) throw new Error('defaults must parse');
    expect(estimateCpuSeconds(full.spec, full.options)).toBeGreaterThan(600);
    expect(benchWarning(full.spec, full.options)).toMatch(/^The CPU part may take about .* hidden 1024 at batch 256/);
    expect(benchWarning({ ...full.spec, backends: ['webgpu'] }, full.options)).toBeNull();
    const tiny = { backends: ['cpu' as const], hidden: [8, 16], batch: [4], window: 10 };
    expect(benchWarning(tiny, { steps: 5, repetitions: 2, budgetSeconds: 10 })).toBeNull();
  });

  it('makes table rows, skipped cases included with their reason', () => {
    const rows = benchRows(sweep);
    expect(rows[0]).toEqual({
      backend: 'CPU',
      hidden: 16,
      batch: 8,
      stepsPerSecond: '4,000',
      // Steps per second × batch 8: what compares across batches.
      samplesPerSecond: '32,000',
      msPerStep: '0.250',
      spread: '0.225–0.300',
      gflops: '1.50',
      dispatches: '–',
      variant: '–',
      setupMs: '12.0',
      kernels: '–',
      skipped: '',
    });
    expect(rows[6]).toMatchObject({ backend: 'WebGPU', stepsPerSecond: '–', skipped: 'the device cannot hold it' });
  });

  it('shows GPU time per kernel group where it was measured', () => {
    const measured = {
      ...result('webgpu', 16, 8, 500),
      kernelMs: { forward: 1.25, backward: 0.5, weightGradients: 0.25, update: 0.125 },
    };
    expect(benchRows([measured])[0].kernels).toBe([1.25, 0.5, 0.25, 0.125].map(formatNumber).join(' / '));
  });

  it('charts steps per second by hidden size, one series per backend and batch', () => {
    const { columns, series } = benchColumns([...sweep, result('cpu', 16, 64, 2000)]);
    expect(series.map((s) => s.label)).toEqual(['CPU, batch 8', 'WebGPU, batch 8', 'CPU, batch 64']);
    expect(columns).toEqual([
      [16, 64, 256, 1024],
      [4000, 1000, 100, null],
      [500, 800, 400, null],
      [2000, null, null, null],
    ]);
  });

  it('states the speed-ups and the crossover', () => {
    const comparison = benchComparison(sweep);
    expect(comparison.hidden).toEqual([16, 64, 256]);
    expect(comparison.rows).toEqual([{ batch: 8, speedups: [0.125, 0.8, 4] }]);
    expect(comparison.crossovers).toEqual(['batch 8: WebGPU is faster from hidden 256 on']);
    const early = benchComparison([
      result('cpu', 8, 4, 100),
      result('cpu', 16, 4, 100),
      result('webgpu', 8, 4, 200),
      result('webgpu', 16, 4, 50),
    ]);
    expect(early.crossovers).toEqual([
      'batch 4: WebGPU is faster only at hidden 8; the CPU is faster at the largest size measured',
    ]);
    const never = benchComparison([result('cpu', 8, 4, 100), result('webgpu', 8, 4, 50)]);
    expect(never.crossovers).toEqual(['batch 4: the CPU is faster at every hidden size measured']);
  });

  it('says plainly when the adapter is software emulation', () => {
    const swiftshader = { vendor: 'google', architecture: 'swiftshader', description: '', software: true };
    expect(describeAdapter(swiftshader)).toMatch(/^WebGPU adapter: google swiftshader\. Software emulation/);
    expect(describeAdapter({ ...swiftshader, vendor: 'nvidia', architecture: 'hopper', software: false })).toBe(
      'WebGPU adapter: nvidia hopper (a real GPU).',
    );
    expect(describeAdapter(null)).toMatch(/only the CPU/);
  });

  it('exports the CLI-shaped JSON, and the CSV reads back the same results', () => {
    const spec = { backends: ['cpu' as const, 'webgpu' as const], hidden: [16, 64, 256, 1024], batch: [8], window: 10 };
    const options = { steps: 5, repetitions: 2, budgetSeconds: 10 };
    const parsed = JSON.parse(benchJson(sweep, null, spec, options));
    expect(parsed).toEqual({ method: BENCH_METHOD, adapter: null, options, sweep: spec, results: sweep });
    expect(resultsFromCsv(resultsToCsv(sweep))).toEqual(sweep);
  });
});
