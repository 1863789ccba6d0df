// Chart columns and the numbers of the progress and timing panels, computed before any chart sees them.

import { describe, expect, it } from 'vitest';
import {
  adapterLabel,
  type BackendTrace,
  describeRace,
  emptyTrace,
  errorColumns,
  errorColumnsWithBaselines,
  errorScale,
  formatDuration,
  formatNumber,
  intervalTiming,
  raceRatio,
  residualColumns,
  secondsLeft,
  seriesColumns,
  seriesColumnsWithFuture,
  timingColumns,
} from '../src/app/columns.js';

const trace = (backend: 'cpu' | 'webgpu', extra: Partial<BackendTrace> = {}): BackendTrace => ({
  ...emptyTrace(backend),
  ...extra,
});

describe('chart columns', () => {
  it('aligns predictions after the first window and the forecast from its first row', () => {
    const view = { positions: Float32Array.from([0, 1, 2, 3, 4]), values: [10, 11, 12, 13, 14], window: 2 };
    const cpu = trace('cpu', {
      predictions: Float32Array.from([12.5, 13.5, 14.5]),
      predictionsFrom: 2,
      forecast: Float32Array.from([1, 2]),
      forecastFrom: 3,
    });
    const columns = seriesColumns({ ...view, outputs: 1, output: 0 }, [cpu, trace('webgpu')]);
    expect(columns).toEqual([
      [0, 1, 2, 3, 4],
      [10, 11, 12, 13, 14],
      [null, null, 12.5, 13.5, 14.5],
      [null, null, null, 1, 2],
      [null, null, null, null, null],
      [null, null, null, null, null],
    ]);
  });

  it('shows one output column of a model with several', () => {
    const view = { positions: Float32Array.from([0, 1, 2]), values: [5, 6, 7], window: 1, outputs: 2, output: 1 };
    // (N, O) = (2, 2): rows 1 and 2, columns a and b.
    const cpu = trace('cpu', { predictions: Float32Array.from([1, 100, 2, 200]), predictionsFrom: 1, forecast: null });
    expect(seriesColumns(view, [cpu])).toEqual([
      [0, 1, 2],
      [5, 6, 7],
      [null, 100, 200],
      [null, null, null],
    ]);
  });

  it('draws only the data before a run, and nothing without data', () => {
    const view = { positions: Float32Array.from([0, 1]), values: [5, 6], window: 1, outputs: 1, output: 0 };
    expect(seriesColumns(view, [])).toEqual([
      [0, 1],
      [5, 6],
    ]);
    expect(seriesColumns(null, [trace('cpu')])).toEqual([[], [], [], []]);
  });

  it('puts each backend error on a shared epoch axis', () => {
    const columns = errorColumns([trace('webgpu', { losses: [4, 2] }), trace('cpu', { losses: [4, 2, 1] })]);
    expect(columns).toEqual([
      [1, 2, 3],
      [4, 2, null],
      [4, 2, 1],
    ]);
    expect(errorColumns([])).toEqual([[]]);
  });

  it('puts the validation error at its report epochs, per sample beside the training error', () => {
    const cpu = trace('cpu', {
      losses: [40, 20, 10, 8],
      validation: [
        { epoch: 2, loss: 6 },
        { epoch: 4, loss: 3 },
      ],
    });
    // 20 training samples, 4 held out: both per sample.
    const scale = errorScale('sse', 20, 4);
    expect(scale.label).toBe('error per sample');
    expect(errorColumns([cpu], scale, true)).toEqual([
      [1, 2, 3, 4],
      [2, 1, 0.5, 0.4],
      [null, 1.5, null, 0.75],
    ]);
    // Without a held-out part the trainer's numbers are shown as they are (the blog's).
    expect(errorScale('sse', 20, null)).toEqual({ train: 1, validation: 1, test: 1, label: 'error' });
    // The mean squared error is per sample already.
    expect(errorScale('mse', 20, 5)).toMatchObject({ train: 1, validation: 1 });
  });

  it('runs the series on past the data with each lane’s forecast, joined to the last value', () => {
    const view = { positions: Float32Array.from([0, 2, 4]), values: [10, 11, 12], window: 1, outputs: 1, output: 0 };
    const cpu = trace('cpu', {
      predictions: Float32Array.from([10.5, 11.5]),
      predictionsFrom: 1,
      future: Float32Array.from([13, 14]),
    });
    expect(seriesColumnsWithFuture(view, [cpu], 2)).toEqual([
      [0, 2, 4, 6, 8],
      [10, 11, 12, null, null],
      [null, 10.5, 11.5, null, null],
      [null, null, null, null, null],
      [null, null, 12, 13, 14],
    ]);
  });

  it('puts the residuals of the compared part at its rows, and the baselines as flat lines beside the test error', () => {
    const view = { positions: Float32Array.from([0, 1, 2, 3]), values: [1, 2, 4, 8], window: 1, outputs: 1, output: 0 };
    const cpu = trace('cpu', { predictions: Float32Array.from([1, 5, 7]), predictionsFrom: 1 });
    expect(residualColumns(view, [cpu, trace('webgpu')], { start: 2, end: 4 })).toEqual([
      [2, 3],
      [-1, 1],
      [null, null],
    ]);
    const withTest = trace('cpu', { losses: [4, 2], test: [{ epoch: 2, loss: 8 }] });
    const scale = errorScale('sse', 2, 4, 8);
    expect(scale.test).toBe(1 / 8);
    const columns = errorColumnsWithBaselines([withTest], scale, false, true, [
      { label: 'last value', value: 0.75 },
      { label: 'seasonal naive', value: null },
    ]);
    expect(columns).toEqual([
      [1, 2],
      [2, 1],
      [null, 1],
      [0.75, 0.75],
      [null, null],
    ]);
  });

  it('merges report epochs of both backends for timing', () => {
    const gpu = trace('webgpu', { timing: [{ epoch: 10, msPerEpoch: 5, stepsPerSecond: 1000 }] });
    const cpu = trace('cpu', {
      timing: [
        { epoch: 5, msPerEpoch: 2, stepsPerSecond: 2500 },
        { epoch: 10, msPerEpoch: 1, stepsPerSecond: 5000 },
      ],
    });
    expect(timingColumns([gpu, cpu])).toEqual([
      [5, 10],
      [null, 5],
      [null, 1000],
      [2, 1],
      [2500, 5000],
    ]);
  });
});

describe('progress and timing numbers', () => {
  it('times a report interval', () => {
    const t = intervalTiming({ epoch: 10, seconds: 1 }, { epoch: 20, seconds: 1.5 }, 5);
    expect(t.epoch).toBe(20);
    expect(t.msPerEpoch).toBeCloseTo(50);
    expect(t.stepsPerSecond).toBeCloseTo(100);
  });

  it('estimates the time left from the pace so far', () => {
    expect(secondsLeft(25, 100, 5)).toBeCloseTo(15);
    expect(secondsLeft(0, 100, 0)).toBeNull();
    expect(formatDuration(null)).toBe('–');
    expect(formatDuration(0.25)).toBe('250 ms');
    expect(formatDuration(4.25)).toBe('4.3 s');
    expect(formatDuration(125)).toBe('2 min 5 s');
    expect(formatDuration(3 * 3600 + 120)).toBe('3 h 2 min');
  });

  it('formats numbers to about three digits', () => {
    expect(formatNumber(12345.6)).toBe('12,346');
    expect(formatNumber(123.4)).toBe('123');
    expect(formatNumber(12.34)).toBe('12.3');
    expect(formatNumber(1.234)).toBe('1.23');
    expect(formatNumber(0.2549)).toBe('0.255');
    expect(formatNumber(0.000123)).toBe('1.23e-4');
    expect(formatNumber(null)).toBe('–');
  });

  it('states the race result and warns about software adapters', () => {
    const ratio = raceRatio({ steps: 500, seconds: 10 }, { steps: 500, seconds: 1 });
    expect(ratio).toBeCloseTo(0.1);
    expect(describeRace(ratio, true)).toMatch(
      /0\.100× the CPU's steps per second \(the CPU was 10\.0× faster\).*software/,
    );
    expect(describeRace(2, false)).toBe("WebGPU ran 2.00× the CPU's steps per second.");
    expect(raceRatio({ steps: 1, seconds: 0 }, { steps: 1, seconds: 1 })).toBeNull();
  });

  it('names an adapter without repeating itself', () => {
    const adapter = { vendor: 'google', architecture: 'swiftshader', description: 'swiftshader', software: true };
    expect(adapterLabel(adapter)).toBe('google swiftshader');
    expect(adapterLabel({ vendor: '', architecture: ' ', description: '', software: false })).toBe(
      'an unnamed adapter',
    );
  });
});
