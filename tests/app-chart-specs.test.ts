// What the Train view's charts show (src/app/chartSpecs.ts), without a browser: one series per
// column columns.ts makes, named and coloured per lane; the x axis and marker follow the data.

import { describe, expect, it } from 'vitest';
import {
  countValues,
  errorChartSpec,
  type ShownView,
  seriesChartSpec,
  seriesViewOf,
  timingChartSpec,
} from '../src/app/chartSpecs.js';
import { emptyTrace, errorColumns, seriesColumns, timingColumns } from '../src/app/columns.js';
import { runSettingsFor, shownData } from '../src/app/dataView.js';
import { defaultFieldValues, type FieldValues } from '../src/app/fields.js';
import { parseSettings } from '../src/app/settings.js';

function shown(values: Partial<FieldValues> = {}): ShownView {
  const result = parseSettings({ ...defaultFieldValues(values.source as 'generated'), ...values });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  const runSettings = runSettingsFor(result.settings.run, null);
  return { view: shownData(runSettings), runSettings };
}

const race = [
  { backend: 'webgpu' as const, label: 'WebGPU' },
  { backend: 'cpu' as const, label: 'CPU' },
];

describe('chart specifications', () => {
  it('names the data, and each lane’s predictions and forecast, in the columns’ order', () => {
    const current = shown();
    const spec = seriesChartSpec(current, 0, race);
    expect(spec.series.map((s) => [s.label, s.color])).toEqual([
      ['data (sine)', 'data'],
      ['prediction (WebGPU)', 'webgpu'],
      ['forecast (WebGPU)', 'webgpu-alt'],
      ['prediction (CPU)', 'cpu'],
      ['forecast (CPU)', 'cpu-alt'],
    ]);
    // The blog's sine is drawn against its argument.
    expect(spec.xLabel).toBe('x');
    expect(spec.formatX(1.23456)).toBe('1.23');
    expect(spec.marker).toBeNull();
    const predictions = new Float32Array(40).fill(0.5);
    const traces = race.map((lane) => ({ ...emptyTrace(lane.backend), predictions, forecastFrom: 10 }));
    const columns = seriesColumns(seriesViewOf(current, 0), traces);
    expect(columns).toHaveLength(spec.series.length + 1);
    expect(JSON.parse(countValues(columns, spec))).toEqual({
      'data (sine)': 50,
      'prediction (WebGPU)': 40,
      'forecast (WebGPU)': 0,
      'prediction (CPU)': 40,
      'forecast (CPU)': 0,
    });
  });

  it('shows dates by month for a bundled series, and marks where the held-out part begins', () => {
    const current = shown({ source: 'bundled', dataset: 'co2' });
    const spec = seriesChartSpec(current, 0, []);
    expect(spec.xLabel).toBe('date');
    const { prepared, positions } = current.view;
    expect(spec.marker).toEqual({ x: positions[prepared.boundary], label: 'held out →' });
    expect(spec.formatX(0)).toBe('1958-03-01');
    expect(spec.formatXTick?.(0)).toBe('1958-03');
  });

  it('shows a placeholder series before there is data', () => {
    const spec = seriesChartSpec(null, 0, []);
    expect(spec.series.map((s) => s.label)).toEqual(['data (value)']);
    expect(seriesViewOf(null, 0)).toBeNull();
    expect(seriesColumns(null, [])).toHaveLength(spec.series.length + 1);
  });

  it('adds a validation series per lane with a held-out part, on a log scale if asked', () => {
    const plain = errorChartSpec(race, false, 'error', false);
    expect(plain.series.map((s) => s.label)).toEqual(['error (WebGPU)', 'error (CPU)']);
    const held = errorChartSpec(race, true, 'error per sample', true);
    expect(held.series.map((s) => s.label)).toEqual([
      'error (WebGPU)',
      'validation (WebGPU)',
      'error (CPU)',
      'validation (CPU)',
    ]);
    expect(held.axes).toEqual([{ scale: 'y', label: 'error per sample', log: true }]);
    const traces = race.map((lane) => ({
      ...emptyTrace(lane.backend),
      losses: [3, 2, 1],
      validation: [{ epoch: 3, loss: 4 }],
    }));
    expect(errorColumns(traces, null, true)).toHaveLength(held.series.length + 1);
  });

  it('draws ms per epoch and steps per second per lane on two log axes', () => {
    const spec = timingChartSpec(race);
    expect(spec.series.map((s) => [s.label, s.scale])).toEqual([
      ['ms/epoch (WebGPU)', 'ms'],
      ['steps/s (WebGPU)', 'sps'],
      ['ms/epoch (CPU)', 'ms'],
      ['steps/s (CPU)', 'sps'],
    ]);
    expect(spec.axes.every((axis) => axis.log)).toBe(true);
    expect(timingColumns([])).toHaveLength(timingChartSpec([]).series.length + 1);
  });
});
