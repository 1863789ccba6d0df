// The Train view's forecast check (src/app/bands.ts) on the bundled CO2 series: the drawn forecast
// scored per step beside the benchmarks, a sentence that names the strongest benchmark and never
// calls a loss a win, conformal bands calibrated on the validation part around the drawn forecast
// (and on every row after the training part past the end), and the band lines the series chart draws.

import { beforeAll, describe, expect, it } from 'vitest';
import { checkForecast, drawnSentence, type ForecastCheck, withBandColumns, withBandSeries } from '../src/app/bands.js';
import type { ChartSpec } from '../src/app/charts.js';
import type { Columns } from '../src/app/columns.js';
import { calibrationScores, conformalHalfWidth } from '../src/forecast/intervals.js';
import { paramsForecaster, recursiveForecasts } from '../src/train/forecast.js';
import { scoreFreeRun } from '../src/train/heldOut.js';
import { type Run, startRun } from '../src/train/run.js';

let run: Run;
let check: ForecastCheck;
let drawn: Float64Array;
let future: Float64Array;

beforeAll(async () => {
  run = startRun({
    seed: 5,
    source: { kind: 'bundled', name: 'co2', options: {} },
    window: 12,
    hiddenSizes: [4],
    trainFraction: 0.8,
    validationFraction: 0.2,
  });
  const { prepared } = run;
  const forecaster = paramsForecaster(run.layout, [run.params]);
  const steps = prepared.table.rows - prepared.boundary;
  const [[fromBoundary, fromEnd]] = await recursiveForecasts(
    forecaster,
    [{ prepared, origins: [prepared.boundary, prepared.table.rows] }],
    steps,
  );
  drawn = fromBoundary.forecast;
  future = fromEnd.forecast.slice(0, 24);
  check = await checkForecast(
    {
      prepared,
      layout: run.layout,
      unit: run.unit,
      params: run.params,
      forecast: Float32Array.from(drawn),
      forecastFrom: prepared.boundary,
      future: Float32Array.from(future),
    },
    [80, 95],
    12,
  );
});

describe('the Train view’s forecast check on CO2', () => {
  it('scores the drawn forecast from the first held-out row against the data', () => {
    const { prepared } = run;
    const series = prepared.table.values[prepared.table.columns.indexOf(prepared.outputs[0])];
    const scored = check.scored!;
    expect(scored.targets).toEqual({ start: prepared.boundary, end: prepared.table.rows });
    expect(scored.model.steps[0].mae.value).toBeCloseTo(Math.abs(series[prepared.boundary] - Math.fround(drawn[0])), 4);
    expect(scored.benchmarks.map((b) => b.key)).toContain('theta');
    expect(typeof check.heldOut).not.toBe('string');
  });

  it('names the strongest benchmark, and says the model loses to it when it does', () => {
    const { prepared } = run;
    const series = prepared.table.values[prepared.table.columns.indexOf(prepared.outputs[0])];
    const rows = prepared.table.rows - prepared.boundary;
    const flat = scoreFreeRun(prepared, prepared.boundary, new Float64Array(rows).fill(300))!;
    const strongest = flat.benchmarks.reduce((a, b) =>
      (b.table?.overall.mase.value ?? Infinity) < (a.table?.overall.mase.value ?? Infinity) ? b : a,
    );
    expect(drawnSentence(flat, '')).toMatch(
      new RegExp(`worse than the strongest benchmark, ${strongest.label.replace(/[()]/g, '\\$&')}`),
    );
    const perfect = scoreFreeRun(prepared, prepared.boundary, series.slice(prepared.boundary))!;
    expect(drawnSentence(perfect, '')).toMatch(/better than the strongest benchmark/);
    expect(drawnSentence(null, 'nothing is held out')).toBe('The drawn forecast is not scored: nothing is held out.');
  });

  it('bands the drawn forecast by the validation part’s conformal half-widths, 12 steps', async () => {
    const { prepared } = run;
    const series = prepared.table.values[prepared.table.columns.indexOf(prepared.outputs[0])];
    const validation = prepared.validationTargets;
    const origins = Array.from({ length: validation.end - validation.start }, (_, i) => validation.start + i);
    const [calibrating] = await recursiveForecasts(
      paramsForecaster(run.layout, [run.params]),
      [{ prepared, origins }],
      12,
    );
    const scores = calibrationScores(series, validation, calibrating, 12);
    expect(check.heldOutBands.map((b) => b.level)).toEqual([80, 95]);
    const [band80] = check.heldOutBands;
    expect(band80.from).toBe(prepared.boundary);
    expect(band80.lower).toHaveLength(12);
    for (let h = 0; h < 12; h++) {
      const q = conformalHalfWidth(scores[h], 80, h + 1).value!;
      expect(band80.upper[h] - Math.fround(drawn[h])).toBeCloseTo(q, 6);
      expect(Math.fround(drawn[h]) - band80.lower[h]).toBeCloseTo(q, 6);
    }
    expect(check.heldOutBands[1].upper[0] - check.heldOutBands[1].lower[0]).toBeGreaterThan(
      band80.upper[0] - band80.lower[0],
    );
    expect(check.futureBands[0].from).toBe(prepared.table.rows);
    expect(check.futureBands[0].lower[0]).toBeLessThan(future[0]);
  });

  it('draws each level’s lower and upper bound at the rows it covers', () => {
    const length = run.prepared.table.rows + 24;
    const columns: Columns = [Array.from({ length }, (_, i) => i), new Array(length).fill(1)];
    const bands = { heldOut: check.heldOutBands, future: check.futureBands };
    const drawnColumns = withBandColumns(columns, bands);
    const spec = withBandSeries({ series: [{ label: 'data', color: 'data' }] } as unknown as ChartSpec, bands);
    expect(spec.series.map((s) => s.label)).toEqual([
      'data',
      '80% band lower',
      '80% band upper',
      '95% band lower',
      '95% band upper',
    ]);
    expect(drawnColumns).toHaveLength(2 + 4);
    const lower80 = drawnColumns[2];
    const B = run.prepared.boundary;
    expect(lower80[B]).toBe(check.heldOutBands[0].lower[0]);
    expect(lower80[B - 1]).toBeNull();
    expect(lower80[run.prepared.table.rows]).toBe(check.futureBands[0].lower[0]);
    expect(lower80.filter((v) => v !== null)).toHaveLength(24);
  });
});
