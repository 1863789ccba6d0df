// Per-horizon MAE, RMSE, MASE, sMAPE and OWA on forecasts small enough to score by hand, each reason a
// measure cannot be computed, and the measures' invariances over random forecasts.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { benchmarkBacktest } from '../src/forecast/backtest.js';
import {
  type EvaluationPart,
  horizonTable,
  maseScale,
  type OriginForecast,
  originsIn,
  owa,
  rollingForecasts,
} from '../src/forecast/horizons.js';

const at = (origin: number, ...forecast: number[]): OriginForecast => ({
  origin,
  forecast: Float64Array.from(forecast),
});

describe('maseScale', () => {
  it('is the in-sample MAE of the seasonal naive forecast over the rows before the origin', () => {
    // Changes 1, 2, 3 (mean 2); two rows apart 3, 5 (mean 4).
    expect(maseScale([1, 2, 4, 7, 100], 4, null)).toEqual({ value: 2, reason: null });
    expect(maseScale([1, 2, 4, 7, 100], 4, 2)).toEqual({ value: 4, reason: null });
  });

  it('says why there is no scale', () => {
    expect(maseScale([1, 2, 3], 2, 2).reason).toBe(
      'MASE divides by the mean change over 2 rows in the history, which needs more than 2 rows; the forecast from row 3 has 2',
    );
    expect(maseScale([5, 5, 5, 9], 3, null).reason).toBe(
      "the history before row 4 is constant, so MASE's scale (its mean change from row to row) is 0",
    );
    expect(maseScale([1, 2, 1, 2, 9], 4, 2).reason).toBe(
      "every value before row 5 equals the one 2 rows before it, so MASE's scale (their mean difference) is 0",
    );
  });
});

describe('horizonTable', () => {
  // Rows 4 and 5 (values 5, 6) are the part; origin 5's second step (row 6) lies outside it.
  const part: EvaluationPart = { series: [1, 2, 3, 4, 5, 6, 7], targets: { start: 4, end: 6 }, season: null };
  const forecasts = [at(4, 5.5, 5), at(5, 7, 8)];
  const naive2Forecasts = [at(4, 4, 4), at(5, 5, 5)];

  it('scores each step over the origins whose row is inside the part', () => {
    const table = horizonTable(part, forecasts);
    const [first, second] = table.steps;
    // Step 1: errors 0.5 (5 vs 5.5) and 1 (6 vs 7); both histories change by 1 a row, so the scale is 1.
    expect(first.count).toBe(2);
    expect(first.mae.value).toBeCloseTo(0.75, 15);
    expect(first.rmse.value).toBeCloseTo(Math.sqrt((0.25 + 1) / 2), 15);
    expect(first.mase.value).toBeCloseTo(0.75, 15);
    expect(first.smape.value).toBeCloseTo((200 * 0.5) / 10.5 / 2 + (200 * 1) / 13 / 2, 12);
    // Step 2: only origin 4 (6 vs 5).
    expect(second.count).toBe(1);
    expect(second.mae.value).toBe(1);
    expect(second.smape.value).toBeCloseTo(200 / 11, 12);
    // All steps pooled: three pairs.
    expect(table.overall.horizon).toBe(0);
    expect(table.overall.count).toBe(3);
    expect(table.overall.mae.value).toBeCloseTo(2.5 / 3, 15);
    expect(first.owa.reason).toBe('no Naive2 forecasts to compare with');
  });

  it('measures OWA against Naive2 on the same pairs', () => {
    const naive2 = horizonTable(part, naive2Forecasts);
    const table = horizonTable(part, forecasts, naive2);
    const [mine, theirs] = [table.steps[0], naive2.steps[0]];
    const expected = 0.5 * (mine.smape.value! / theirs.smape.value! + mine.mase.value! / theirs.mase.value!);
    expect(table.steps[0].owa.value).toBeCloseTo(expected, 15);
    expect(horizonTable(part, naive2Forecasts, naive2).overall.owa.value).toBe(1);
  });

  it('says why a measure cannot be computed', () => {
    // sMAPE: actual 0 and forecast 0; MASE: a constant history.
    const zeros: EvaluationPart = { series: [0, 0, 0, 0, 1], targets: { start: 3, end: 5 }, season: null };
    const table = horizonTable(zeros, [at(3, 0, 2)]);
    expect(table.steps[0].smape.reason).toBe(
      "at row 4 the actual value and the forecast are both 0, so sMAPE's |y - ŷ| / (|y| + |ŷ|) is 0/0",
    );
    expect(table.steps[0].mase.reason).toBe(
      "the history before row 4 is constant, so MASE's scale (its mean change from row to row) is 0",
    );
    expect(table.steps[0].mae.value).toBe(0);
    expect(table.steps[1].smape.value).toBeCloseTo((200 * 1) / 3, 12);
    // A forecast that is not a number poisons its step, and says where.
    const broken = horizonTable(part, [at(4, Number.POSITIVE_INFINITY, 5)]);
    expect(broken.steps[0].mae.reason).toBe('the forecast from row 5, 1 step ahead, is Infinity, not a finite number');
    expect(broken.steps[1].mae.value).toBe(1);
    // A step no origin reaches inside the part.
    const short = horizonTable({ ...part, targets: { start: 5, end: 6 } }, [at(5, 6, 7, 8)]);
    expect(short.steps[1].count).toBe(0);
    expect(short.steps[1].rmse.reason).toBe('no origin has a row 2 steps ahead inside the part');
  });

  it('says why OWA cannot be computed', () => {
    const exact = horizonTable(part, [at(4, 5, 6), at(5, 6, 7)]);
    const row = horizonTable(part, forecasts).steps[0];
    expect(owa(row, exact.steps[0]).reason).toBe(
      "Naive2's sMAPE is 0 (it forecast every value exactly), so there is no ratio",
    );
    expect(owa(row, { ...exact.steps[0], count: 7 }).reason).toBe(
      'Naive2 was scored on 7 forecasts here, not the same 2',
    );
  });

  it('keeps MASE, sMAPE and OWA whatever the units, and scales MAE and RMSE with them', () => {
    const series = fc.array(fc.double({ min: 1, max: 1000, noNaN: true }), { minLength: 20, maxLength: 40 });
    fc.assert(
      fc.property(series, fc.double({ min: 0.01, max: 100, noNaN: true }), (values, factor) => {
        const targets = { start: values.length - 6, end: values.length };
        const made = (ys: number[]) => {
          const part = { series: ys, targets, season: 4 };
          const { benchmarks, naive2 } = benchmarkBacktest(part, 3, {});
          const drift = benchmarks.find((b) => b.key === 'drift')!;
          return { drift: drift.table!, naive2: naive2! };
        };
        const plain = made(values);
        // A history that never changes, or Naive2 exact everywhere, has no OWA (tested above).
        fc.pre(plain.naive2.overall.mase.value !== null && plain.naive2.overall.smape.value !== 0);
        const scaled = made(values.map((v) => v * factor));
        for (const [a, b] of [[plain.drift.overall, scaled.drift.overall] as const]) {
          expect(b.mae.value!).toBeCloseTo(a.mae.value! * factor, 6);
          expect(b.rmse.value!).toBeCloseTo(a.rmse.value! * factor, 6);
          expect(b.mase.value!).toBeCloseTo(a.mase.value!, 6);
          expect(b.smape.value!).toBeCloseTo(a.smape.value!, 6);
          expect(b.owa.value!).toBeCloseTo(a.owa.value!, 6);
          expect(a.smape.value!).toBeGreaterThanOrEqual(0);
          expect(a.smape.value!).toBeLessThanOrEqual(200);
        }
        expect(plain.naive2.overall.owa.value).toBe(1);
      }),
      { numRuns: 50 },
    );
  });
});

describe('rolling origins', () => {
  it('forecasts from every row of the part with only the rows before it', () => {
    expect(originsIn({ start: 3, end: 6 })).toEqual([3, 4, 5]);
    const seen: number[][] = [];
    const made = rollingForecasts([1, 2, 3, 4, 5], { start: 3, end: 5 }, 2, (history, horizon) => {
      seen.push(Array.from(history));
      return new Float64Array(horizon).fill(history[history.length - 1]);
    });
    expect(seen).toEqual([
      [1, 2, 3],
      [1, 2, 3, 4],
    ]);
    expect(made).toEqual([at(3, 3, 3), at(4, 4, 4)]);
    expect(rollingForecasts([1, 2, 3], { start: 1, end: 3 }, 1, () => 'not enough rows')).toBe(
      'from row 2: not enough rows',
    );
  });
});

describe('benchmarkBacktest', () => {
  it('tables every benchmark from the same origins, with the reason for one that does not apply', () => {
    const series = Array.from({ length: 40 }, (_, t) => 50 + t + 5 * Math.sin((2 * Math.PI * t) / 4));
    const part = { series, targets: { start: 30, end: 40 }, season: 4 };
    const { benchmarks, naive2 } = benchmarkBacktest(part, 4, {});
    expect(benchmarks.map((b) => b.key)).toEqual([
      'last-value',
      'seasonal-naive',
      'naive2',
      'drift',
      'autoregression',
      'theta',
    ]);
    const ar = benchmarks.find((b) => b.key === 'autoregression')!;
    expect(ar.skipped).toBe('from row 31: no AR fit was given');
    const naive = benchmarks.find((b) => b.key === 'last-value')!;
    // Naive from origin o forecasts y[o - 1] for every step: recompute its step-2 MAE directly.
    let sum = 0;
    for (let o = 30; o < 39; o++) sum += Math.abs(series[o + 1] - series[o - 1]);
    expect(naive.table!.steps[1].mae.value).toBeCloseTo(sum / 9, 12);
    expect(naive.forecasts!.map((f) => f.origin)).toEqual(originsIn(part.targets));
    expect(naive2!.steps.every((row) => row.count > 0)).toBe(true);
  });
});
