// Multi-step forecasts outside the backtest (src/train/heldOut.ts, forecast.ts, pastEnd.ts) on small
// tables with untrained weights (the numbers need no training to be checked): the held-out part's
// forecasts from every origin scored beside the benchmarks, conformal intervals calibrated on the
// validation part alone, the members' spread; the forecast a chart draws, scored; inputs known ahead
// read from the data instead of fed back; and the forecast past the end with its dates and bands.

import { describe, expect, it } from 'vitest';
import { fitAutoregression } from '../src/data/baselines.js';
import { denormalizeValues } from '../src/data/normalize.js';
import { Rng } from '../src/data/rng.js';
import { pathLevels } from '../src/data/transform.js';
import type { ColumnTable } from '../src/data/windows.js';
import { benchmarkBacktest } from '../src/forecast/backtest.js';
import { autoregressionModel } from '../src/forecast/benchmarks.js';
import { horizonTable } from '../src/forecast/horizons.js';
import { conformalHalfWidth, coverageMargin, quantile } from '../src/forecast/intervals.js';
import { InputError } from '../src/model/errors.js';
import { initParams } from '../src/model/init.js';
import { measuredCoverage } from '../src/train/backtest.js';
import {
  feedbackProblem,
  freeRunForecast,
  inputFeed,
  paramsForecaster,
  recursiveForecasts,
} from '../src/train/forecast.js';
import { heldOutForecasts, noHeldOutPart, scoreFreeRun } from '../src/train/heldOut.js';
import { checkFutureRows, forecastPastEnd } from '../src/train/pastEnd.js';
import { type Run, type RunSettings, resolveDataSettings, startRun } from '../src/train/run.js';
import { savedModel } from '../src/train/savedModel.js';
import { inputErrorOf } from './helpers.js';

/** `rows` months of a trend with a yearly cycle and noise, and a temperature that drives a load. */
function monthly(rows: number, seed = 3): ColumnTable {
  const rng = new Rng(seed);
  const temp = new Float64Array(rows);
  const load = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    temp[r] = 10 + 8 * Math.sin((2 * Math.PI * r) / 12) + rng.normal();
    load[r] = 100 + 0.2 * r + 3 * temp[r] + 0.3 * rng.normal();
  }
  const dates = Array.from({ length: rows }, (_, r) => {
    const month = 12 * 2000 + r;
    return `${Math.floor(month / 12)}-${String((month % 12) + 1).padStart(2, '0')}-01`;
  });
  return { columns: ['temp', 'load'], values: [temp, load], rows, dates };
}

function settings(table: ColumnTable, extra: Partial<RunSettings> = {}): RunSettings {
  return {
    seed: 5,
    source: { kind: 'table', table, label: 'monthly' },
    window: 6,
    hiddenSizes: [4],
    inputs: ['load'],
    outputs: ['load'],
    trainFraction: 0.8,
    validationFraction: 0.2,
    normalize: 'z-score',
    transform: 'differences',
    season: 12,
    ...extra,
  };
}

/** K members of `run`'s shape: its own weights, then weights drawn from other seeds. */
function members(run: Run, count: number): Float32Array[] {
  return Array.from({ length: count }, (_, m) => (m === 0 ? run.params : initParams(run.layout, new Rng(100 + m))));
}

describe('the held-out part, forecast from every origin', () => {
  const run = startRun(settings(monthly(120)));
  const { prepared } = run;
  const B = prepared.testTargets.start;
  const V = prepared.validationTargets.start;

  it('forecasts H steps from every test row, each the reference free-running forecast, scored beside the benchmarks', async () => {
    const result = await heldOutForecasts(paramsForecaster(run.layout, [run.params]), run, {
      horizon: 5,
      levels: [80],
    });
    expect(result.origins).toEqual(Array.from({ length: 120 - B }, (_, k) => B + k));
    expect(result.model?.steps.map((s) => s.count)).toEqual([24, 23, 22, 21, 20]);
    const origin = B + 3;
    const window = Float32Array.from(prepared.normalized.values[0].subarray(origin - 6, origin));
    const outputs = freeRunForecast(run.layout, run.params, window, 5);
    const levels = pathLevels(
      prepared.transform,
      prepared.table.values[0],
      origin,
      denormalizeValues(prepared.normalization, 'load', outputs),
    );
    const mine = result.forecasts?.find((f) => f.origin === origin)?.forecast as Float64Array;
    for (let h = 0; h < 5; h++) expect(Math.abs(mine[h] - levels[h])).toBeLessThan(1e-4 * Math.abs(levels[h]));
    const part = { series: prepared.table.values[0], targets: prepared.testTargets, season: 12 };
    const autoregression = autoregressionModel(prepared, fitAutoregression(prepared));
    const expected = benchmarkBacktest(part, 5, { autoregression }, result.origins);
    expect(result.benchmarks.map((b) => b.table?.overall.mase.value)).toEqual(
      expected.benchmarks.map((b) => b.table?.overall.mase.value),
    );
    expect(result.model?.overall.mase.value).toBe(
      horizonTable(part, result.forecasts ?? [], expected.naive2).overall.mase.value,
    );
    expect(result.sentence).toMatch(/^Over the 24 origins of the held-out part, 5-step MASE [\d.]+ against naive /);
  });

  it('calibrates the conformal interval on the validation part alone: the held-out values change nothing of its width', async () => {
    const forecaster = paramsForecaster(run.layout, [run.params]);
    const result = await heldOutForecasts(forecaster, run, { horizon: 5, levels: [80] });
    // Per step h, one score from each validation origin whose row h steps ahead is still before B.
    expect(result.calibration).toEqual([0, 1, 2, 3, 4].map((h) => B - V - h));
    const table = monthly(120);
    for (let r = B; r < 120; r++) table.values[1][r] += 50 * Math.cos(r);
    const changed = startRun(settings(table));
    const other = await heldOutForecasts(paramsForecaster(changed.layout, [changed.params]), changed, {
      horizon: 5,
      levels: [80],
    });
    const widths = (r: typeof result) => r.intervals[0].table?.steps.map((s) => s.width.value);
    expect(widths(other)).toEqual(widths(result));
    expect(widths(result)?.every((w) => (w as number) > 0)).toBe(true);
  });

  it('measures coverage on the steps that have an interval, with the margin of the distinct held-out values', async () => {
    const result = await heldOutForecasts(paramsForecaster(run.layout, [run.params]), run, {
      horizon: 8,
      levels: [80, 95],
    });
    const [conformal80, , conformal95] = result.intervals;
    // 24 validation rows give step h 25 - h scores: 80% needs 4 a step, 95% needs 19 (steps 1–6).
    expect(conformal80.steps).toBe(8);
    expect(conformal80.table?.overall.count).toBe(164);
    expect(conformal80.table?.overall.margin.value).toBeCloseTo(coverageMargin(80, 24), 12);
    expect(conformal80.sentence).toMatch(
      /of 164 forecasts of 24 held-out values inside \(80 ± 16\.0 by chance alone on 24 values\)/,
    );
    expect(conformal95.steps).toBe(6);
    expect(conformal95.table?.overall.count).toBe(129);
    expect(conformal95.unmeasured).toMatch(/^steps 7–8 have none \(a 95% split conformal interval needs at least 19/);
    expect(conformal95.sentence).toMatch(/; measured on steps 1–6 only, as steps 7–8 have none/);
    expect(result.intervals[1].skipped).toMatch(/there is 1 model; train several \(--members\)/);
  });

  it('forecasts the members’ mean, and their quantiles make the ensemble interval', async () => {
    const weights = members(run, 3);
    const result = await heldOutForecasts(paramsForecaster(run.layout, weights), run, { horizon: 3, levels: [80] });
    const alone = await Promise.all(
      weights.map((params) =>
        heldOutForecasts(paramsForecaster(run.layout, [params]), run, { horizon: 3, levels: [] }),
      ),
    );
    const n = 7;
    const paths = alone.map((r) => r.forecasts?.[n].forecast as Float64Array);
    const mean = result.forecasts?.[n].forecast as Float64Array;
    for (let h = 0; h < 3; h++) {
      expect(mean[h]).toBeCloseTo((paths[0][h] + paths[1][h] + paths[2][h]) / 3, 9);
    }
    const ensemble = result.intervals.find((i) => i.method === 'ensemble');
    expect(ensemble?.skipped).toBeNull();
    expect(result.members).toBe(3);
  });

  it('shortens the horizon to the held-out rows, and has nothing to score without a held-out part', async () => {
    const result = await heldOutForecasts(paramsForecaster(run.layout, [run.params]), run, { horizon: 40, levels: [] });
    expect(result.horizon).toBe(24);
    expect(result.note).toBe('a horizon of 24 steps, not 40: the held-out part has 24 rows');
    const all = startRun(settings(monthly(120), { trainFraction: 1, validationFraction: 0 }));
    expect(noHeldOutPart(all.prepared)).toMatch(/^nothing is held out/);
  });
});

describe('coverage of forecasts that share rows', () => {
  it('takes its margin from the distinct rows scored, and says how many forecasts reach them', () => {
    const series = Float64Array.from({ length: 16 }, (_, r) => 10 + (r % 3));
    const interval = (origin: number) => ({
      origin,
      lower: Float64Array.from([9, 9, 9, 9]),
      upper: Float64Array.from([11, 11, 11, 11]),
    });
    // Origins 10 and 12, four steps each: rows 10–15, rows 12 and 13 reached twice.
    const set = { level: 80, intervals: [interval(10), interval(12)], unavailable: [null, null, null, null] };
    const part = { series, targets: { start: 10, end: 16 }, season: null };
    const { table, sentence } = measuredCoverage(part, set, '80% test interval', 'kg');
    expect(table.overall.count).toBe(8);
    expect(table.overall.margin.value).toBeCloseTo(coverageMargin(80, 6), 12);
    expect(sentence).toMatch(
      /^80% test interval: 75% of 8 forecasts of 6 held-out values inside \(80 ± 32\.0 by chance alone on 6 values\)/,
    );
    // Apart, every pair is its own row: the margin of the pairs, as before.
    const apart = measuredCoverage(part, { ...set, intervals: [interval(10)] }, 'band', null);
    expect(apart.table.overall.margin.value).toBeCloseTo(coverageMargin(80, 4), 12);
    expect(apart.sentence).toMatch(/of 4 held-out values inside \(80 ± 39\.2 by chance alone\)/);
  });
});

describe('the forecast a chart draws, scored', () => {
  it('scores each step against the data beside the benchmarks from the same origin, never past the end', () => {
    const run = startRun(settings(monthly(60)));
    const { prepared } = run;
    const origin = 50;
    const y = prepared.table.values[0];
    const levels = Float64Array.from({ length: 15 }, (_, s) => y[origin - 1] + s);
    const scored = scoreFreeRun(prepared, origin, levels) as NonNullable<ReturnType<typeof scoreFreeRun>>;
    expect(scored.targets).toEqual({ start: 50, end: 60 });
    expect(scored.model.steps).toHaveLength(10);
    expect(scored.model.steps[0].mae.value).toBeCloseTo(Math.abs(y[50] - levels[0]), 9);
    const naive = scored.benchmarks.find((b) => b.key === 'last-value');
    expect(naive?.forecasts?.[0].forecast[9]).toBe(y[49]);
    expect(scoreFreeRun(prepared, 60, levels)).toBeNull();
  });
});

describe('inputs known ahead', () => {
  const table = monthly(80);
  const known = settings(table, { inputs: ['temp', 'load'], outputs: ['load'], knownAhead: ['temp'] });

  it('must be inputs and no outputs, leave the default outputs, and are what a forecast without them lacks', () => {
    expect(inputErrorOf(() => startRun({ ...known, outputs: ['temp', 'load'] })).message).toMatch(
      /"temp" is an output: a column known ahead is read, not predicted/,
    );
    expect(inputErrorOf(() => startRun({ ...known, inputs: ['load'] })).message).toMatch(/"temp" is not an input/);
    const { outputs } = resolveDataSettings({ ...known, outputs: undefined }, table);
    expect(outputs).toEqual([1]);
    const without = startRun({ ...known, knownAhead: [] });
    expect(feedbackProblem(without.prepared)).toMatch(
      /does not predict "temp", .* mark it known ahead \(--known-ahead\)/,
    );
    expect(feedbackProblem(startRun(known).prepared)).toBeNull();
  });

  it('are read at the rows a forecast appends: their actual values, while the outputs are the predictions', async () => {
    const run = startRun(known);
    const { prepared } = run;
    const origin = 60;
    const feed = inputFeed(prepared);
    const [[batched]] = await recursiveForecasts(
      paramsForecaster(run.layout, [run.params]),
      [{ prepared, origins: [origin], feed }],
      6,
    );
    // Written out: each step appends the actual temperature of the row it predicted and the predicted load.
    const column = (name: string) => prepared.normalized.values[prepared.normalized.columns.indexOf(name)];
    const x = new Float32Array(6 * 2);
    for (let t = 0; t < 6; t++) {
      x[2 * t] = column('temp')[origin - 6 + t];
      x[2 * t + 1] = column('load')[origin - 6 + t];
    }
    const outputs: number[] = [];
    for (let s = 0; s < 6; s++) {
      const [y] = freeRunForecast(run.layout, run.params, x, 1, undefined, { inputs: feed, origin: origin + s });
      outputs.push(y);
      x.copyWithin(0, 2);
      x[10] = column('temp')[origin + s];
      x[11] = y;
    }
    const levels = pathLevels(
      prepared.transform,
      prepared.table.values[1],
      origin,
      denormalizeValues(prepared.normalization, 'load', outputs),
    );
    for (let h = 0; h < 6; h++) expect(batched.forecast[h]).toBeCloseTo(levels[h], 3);
    // A later temperature changes the forecast; a later load does not (it is predicted, not read).
    const shifted = (name: 'temp' | 'load') => {
      const other = monthly(80);
      const c = other.columns.indexOf(name);
      for (let r = origin; r < 80; r++) other.values[c][r] += 5;
      const moved = startRun({ ...known, source: { kind: 'table', table: other, label: 'moved' } });
      return recursiveForecasts(
        paramsForecaster(run.layout, [run.params]),
        [{ prepared: moved.prepared, origins: [origin], feed: inputFeed(moved.prepared) }],
        6,
      );
    };
    const [[temp]] = await shifted('temp');
    const [[load]] = await shifted('load');
    expect(Array.from(load.forecast)).toEqual(Array.from(batched.forecast));
    expect(temp.forecast[5]).not.toBeCloseTo(batched.forecast[5], 3);
    expect(temp.forecast[0]).toBe(batched.forecast[0]);
  });
});

describe('the forecast past the end', () => {
  const table = monthly(90);
  const run = startRun(settings(table));
  const model = (params: Float32Array[]) => {
    const file = savedModel({
      config: run.config,
      params: params[0],
      prepared: run.prepared,
      label: 'monthly',
      origin: { kind: 'csv', fileName: 'monthly.csv', dateColumn: 'date' },
      trainFraction: 0.8,
      validationFraction: 0.2,
      settings: {},
    });
    return params.length === 1 ? file : { ...file, members: params.map((p, m) => ({ seed: m, params: p })) };
  };
  const columns = { inputs: ['load'], outputs: ['load'], knownAhead: [] };

  it('is an ensemble’s members’ mean, with their quantiles as its band, dated on from the data', async () => {
    const weights = members(run, 3);
    const together = await forecastPastEnd(model(weights), table, undefined, columns, { steps: 4, levels: [80] });
    const alone = await Promise.all(
      weights.map((p) => forecastPastEnd(model([p]), table, undefined, columns, { steps: 4, levels: [] })),
    );
    expect(together.dates).toEqual(['2007-07-01', '2007-08-01', '2007-09-01', '2007-10-01']);
    expect(together.rows).toEqual([91, 92, 93, 94]);
    expect(together.method).toBe('ensemble');
    for (let s = 0; s < 4; s++) {
      const values = alone.map((r) => r.paths[0][s]).sort((a, b) => a - b);
      expect(together.paths[0][s]).toBeCloseTo((values[0] + values[1] + values[2]) / 3, 9);
      expect(together.bands[0].lower[s]).toBeCloseTo(quantile(values, 0.1), 9);
      expect(together.bands[0].upper[s]).toBeCloseTo(quantile(values, 0.9), 9);
    }
  });

  it('gives a single model a split conformal band from its forecasts after its training part', async () => {
    const single = await forecastPastEnd(model([run.params]), table, undefined, columns, { steps: 3, levels: [80] });
    const V = run.prepared.validationTargets.start;
    expect(single.calibration).toEqual({ origins: { start: V, end: 90 }, trainedOn: false });
    // The half width at step h: the conformal quantile of |y - ŷ| from origins V.. whose row h ahead is in the data.
    const [[...from]] = await recursiveForecasts(
      paramsForecaster(run.layout, [run.params]),
      [{ prepared: run.prepared, origins: Array.from({ length: 90 - V }, (_, k) => V + k) }],
      3,
    );
    const y = table.values[1];
    for (let h = 0; h < 3; h++) {
      const scores = from.filter((f) => f.origin + h < 90).map((f) => Math.abs(y[f.origin + h] - f.forecast[h]));
      const q = conformalHalfWidth(scores, 80).value as number;
      expect(single.bands[0].upper[h] - single.paths[0][h]).toBeCloseTo(q, 6);
      expect(single.paths[0][h] - single.bands[0].lower[h]).toBeCloseTo(q, 6);
    }
  });

  it('reads known-ahead inputs from the future rows, and says how many it needs when they are too few', async () => {
    const full = monthly(96);
    const cut = (from: number, to: number): ColumnTable => ({
      columns: full.columns,
      values: full.values.map((v) => v.slice(from, to)),
      rows: to - from,
      dates: full.dates?.slice(from, to),
    });
    const history = cut(0, 90);
    const future = cut(90, 96);
    future.values[1].fill(Number.NaN);
    const knownRun = startRun(settings(history, { inputs: ['temp', 'load'], outputs: ['load'], knownAhead: ['temp'] }));
    const file = savedModel({
      config: knownRun.config,
      params: knownRun.params,
      prepared: knownRun.prepared,
      label: 'monthly',
      origin: { kind: 'csv', fileName: 'monthly.csv', dateColumn: 'date' },
      trainFraction: 0.8,
      validationFraction: 0.2,
      settings: {},
    });
    expect(file.data?.knownAhead).toEqual(['temp']);
    const knownColumns = { inputs: ['temp', 'load'], outputs: ['load'], knownAhead: ['temp'] };
    const ahead = await forecastPastEnd(file, history, future, knownColumns, { steps: 7, levels: [] });
    // The future rows' own dates, then the months after them.
    expect(ahead.dates).toEqual([
      '2007-07-01',
      '2007-08-01',
      '2007-09-01',
      '2007-10-01',
      '2007-11-01',
      '2007-12-01',
      '2008-01-01',
    ]);
    const [[same]] = await recursiveForecasts(
      paramsForecaster(knownRun.layout, [knownRun.params]),
      [{ prepared: knownRun.prepared, origins: [90], feed: inputFeed(knownRun.prepared, cut(0, 96)) }],
      7,
    );
    for (let s = 0; s < 7; s++) expect(ahead.paths[0][s]).toBeCloseTo(same.forecast[s], 9);
    const error = await forecastPastEnd(file, history, future, knownColumns, { steps: 8, levels: [] }).catch((e) => e);
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe(
      '--known-ahead: a forecast of 8 steps reads the known-ahead input "temp" at the 7 rows after the data\'s end, and the data\'s 6 future rows (rows whose outputs are empty) give 6; add its future values in rows after the last (their outputs empty), or forecast at most 7 steps (--horizon 7)',
    );
    expect(inputErrorOf(() => checkFutureRows(knownColumns, undefined, 2)).message).toMatch(
      /the data has no rows after its end .* forecast at most 1 step \(--horizon 1\)$/,
    );
  });
});
