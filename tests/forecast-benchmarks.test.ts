// The six benchmarks' multi-step forecasts on histories whose answers are known by hand, SES's fit,
// Theta's identity with "SES with drift", and AR(T) iterated against the one-step AR of baselines.ts.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { baselinePredictions, fitAutoregression } from '../src/data/baselines.js';
import { prepareData } from '../src/data/prepare.js';
import { targetTransform } from '../src/data/transform.js';
import { tableFromSeries } from '../src/data/windows.js';
import {
  type AutoregressionModel,
  autoregressionModel,
  autoregressionPaths,
  BENCHMARK_KEYS,
  benchmarkForecasts,
  driftForecast,
  fitSes,
  naiveForecast,
  SES_ALPHA_BOUNDS,
  seasonalNaiveForecast,
  thetaForecast,
  trendLine,
} from '../src/forecast/benchmarks.js';
import { seasonalAdjustment } from '../src/forecast/seasonality.js';

const list = (values: ArrayLike<number>) => Array.from(values);

/** Σ (x_t - ℓ_{t-1})² of SES at α from ℓ_0. */
function sesSquares(series: number[], alpha: number, initialLevel: number): { squares: number; level: number } {
  let level = initialLevel;
  let squares = 0;
  for (const x of series) {
    squares += (x - level) ** 2;
    level += alpha * (x - level);
  }
  return { squares, level };
}

describe('the simple benchmarks', () => {
  it('naive repeats the last value', () => {
    expect(list(naiveForecast([1, 2, 3], 2))).toEqual([3, 3]);
  });

  it('seasonal naive repeats the last season, or says why it cannot', () => {
    expect(list(seasonalNaiveForecast([1, 2, 3, 4, 5], 3, 2) as Float64Array)).toEqual([4, 5, 4]);
    expect(seasonalNaiveForecast([1, 2, 3], 3, null)).toBe('no seasonal period');
    expect(seasonalNaiveForecast([1, 2, 3], 3, 4)).toBe('it repeats the last 4 rows, and the history has 3');
  });

  it('drift extends the line from the first value to the last', () => {
    // (5 - 1) / 2 = 2 a row.
    expect(list(driftForecast([1, 4, 5], 2) as Float64Array)).toEqual([7, 9]);
    expect(driftForecast([1], 2)).toBe('a slope needs 2 rows of history, and there is 1');
  });

  it('Naive2 is naive on the adjusted series with the season put back', () => {
    // 10, 20 × 6: adjusted 15, indices 2/3 (row 12) and 4/3 (row 13).
    const history = Array.from({ length: 12 }, (_, t) => (t % 2 ? 20 : 10));
    const naive2 = benchmarkForecasts(history, 2, { season: 2 }).find((b) => b.key === 'naive2');
    expect(naive2?.forecast?.[0]).toBeCloseTo(10, 12);
    expect(naive2?.forecast?.[1]).toBeCloseTo(20, 12);
  });

  it('gives every key in order, with a reason for each that does not apply', () => {
    const made = benchmarkForecasts([5], 2, { season: null });
    expect(made.map((b) => b.key)).toEqual([...BENCHMARK_KEYS]);
    const reasons = Object.fromEntries(made.map((b) => [b.key, b.skipped]));
    expect(reasons).toEqual({
      'last-value': null,
      'seasonal-naive': 'no seasonal period',
      naive2: null,
      drift: 'a slope needs 2 rows of history, and there is 1',
      autoregression: 'no AR fit was given',
      theta: 'a trend line needs 2 rows of history, and there is 1',
    });
    expect(made.filter((b) => b.skipped !== null).every((b) => b.forecast === null)).toBe(true);
    expect(made.every((b) => b.note === null)).toBe(true);
  });

  it('notes when Naive2 and Theta could not adjust a seasonal history', () => {
    const history = Array.from({ length: 12 }, (_, t) => (t % 2 ? 20 : -10));
    const made = benchmarkForecasts(history, 2, { season: 2 });
    const notes = Object.fromEntries(made.map((b) => [b.key, b.note]));
    const why = 'not seasonally adjusted: a multiplicative decomposition needs values above 0, and row 1 holds -10';
    expect(notes).toMatchObject({ naive2: why, theta: why, 'last-value': null, drift: null });
    // Unadjusted, Naive2 is naive.
    expect(Array.from(made.find((b) => b.key === 'naive2')!.forecast!)).toEqual([20, 20]);
  });
});

describe('SES fitted by least squares', () => {
  it('keeps a constant series exactly', () => {
    const fit = fitSes([4, 4, 4, 4]);
    expect(fit.level).toBeCloseTo(4, 12);
    expect(fit.sumOfSquares).toBeCloseTo(0, 20);
  });

  it('follows a straight line as closely as ets allows: α at its upper bound', () => {
    const fit = fitSes([1, 2, 3, 4, 5, 6]);
    expect(fit.alpha).toBe(SES_ALPHA_BOUNDS.upper);
  });

  it('finds α and ℓ_0 no worse than any on a fine grid', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -50, max: 50, noNaN: true }), { minLength: 3, maxLength: 30 }),
        (series) => {
          const fit = fitSes(series);
          expect(fit.alpha).toBeGreaterThanOrEqual(SES_ALPHA_BOUNDS.lower);
          expect(fit.alpha).toBeLessThanOrEqual(SES_ALPHA_BOUNDS.upper);
          const mine = sesSquares(series, fit.alpha, fit.initialLevel);
          expect(mine.level).toBeCloseTo(fit.level, 9);
          expect(mine.squares).toBeCloseTo(fit.sumOfSquares, 6);
          // Any other α on a scan, with its own best ℓ_0, does no better. The squares are a parabola in
          // ℓ_0, so three of its values give its lowest.
          let best = Number.POSITIVE_INFINITY;
          for (let i = 0; i <= 400; i++) {
            const alpha = SES_ALPHA_BOUNDS.lower + ((SES_ALPHA_BOUNDS.upper - SES_ALPHA_BOUNDS.lower) * i) / 400;
            const [below, at, above] = [-1, 0, 1].map((start) => sesSquares(series, alpha, start).squares);
            const curvature = (above + below - 2 * at) / 2;
            const half = (below - above) / 4;
            best = Math.min(best, at - (half * half) / curvature);
          }
          expect(best).toBeGreaterThanOrEqual(fit.sumOfSquares * (1 - 1e-9) - 1e-9);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('Theta', () => {
  it('extends a straight line by half its slope', () => {
    // The theta line of y = 2 + 3t is the line itself; SES follows it (α = 0.9999), so the forecast is
    // ½ y_n + ½ (y_n + 3h) = y_n + 1.5h, less SES's lag of 3 (1 - α)/α.
    const history = Array.from({ length: 10 }, (_, k) => 2 + 3 * (k + 1));
    const forecast = thetaForecast(history, 3, history, [1, 1, 1]) as Float64Array;
    for (let h = 1; h <= 3; h++) expect(forecast[h - 1]).toBeCloseTo(32 + 1.5 * h, 3);
  });

  it('sets negative forecasts to 0 when the history is above 0, as M4 does, and not otherwise', () => {
    const falling = [50, 40, 30, 20, 10];
    const clipped = thetaForecast(falling, 3, falling, [1, 1, 1]) as Float64Array;
    expect(list(clipped).every((v) => v >= 0)).toBe(true);
    expect(clipped[2]).toBe(0);
    const shifted = falling.map((v) => v - 100);
    const free = thetaForecast(shifted, 3, shifted, [1, 1, 1]) as Float64Array;
    expect(free[2]).toBeLessThan(-100);
  });

  it('equals SES of the series plus ½ b_1 (h + (1-α)/α - (1-α)^(n+1)/α) with the theta line’s α', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 100, max: 200, noNaN: true }), { minLength: 4, maxLength: 40 }),
        (series) => {
          const n = series.length;
          const H = 4;
          const { intercept, slope } = trendLine(series);
          const thetaLine = series.map((y, k) => 2 * y - (intercept + slope * (k + 1)));
          const { alpha, initialLevel } = fitSes(thetaLine);
          const { level } = sesSquares(series, alpha, (initialLevel + intercept) / 2);
          const forecast = thetaForecast(series, H, series, new Array(H).fill(1)) as Float64Array;
          const keep = 1 - alpha;
          for (let h = 1; h <= H; h++) {
            const drift = 0.5 * slope * (h + keep / alpha - keep ** (n + 1) / alpha);
            expect(forecast[h - 1]).toBeCloseTo(level + drift, 6);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('fits the least-squares line at t = 1..n', () => {
    expect(trendLine([5, 7, 9])).toEqual({ intercept: 3, slope: 2 });
  });

  it('puts the season back', () => {
    const history = Array.from({ length: 12 }, (_, t) => (t % 2 ? 20 : 10));
    const adjustment = seasonalAdjustment(history, 2, 2);
    const theta = benchmarkForecasts(history, 2, { season: 2 }).find((b) => b.key === 'theta');
    // The adjusted series is flat at 15: Theta forecasts 15, times 2/3 and 4/3.
    expect(theta?.forecast?.[0]).toBeCloseTo(15 * adjustment.futureIndices[0], 9);
    expect(theta?.forecast?.[1]).toBeCloseTo(20, 9);
  });
});

describe('AR(T) iterated', () => {
  it('feeds its forecasts back on levels', () => {
    // z_t = 0.5 z_{t-2} + 0.25 z_{t-1} + 1: from 4, 8 → 5, then 0.5·8 + 0.25·5 + 1 = 6.25.
    const model: AutoregressionModel = {
      window: 2,
      transform: targetTransform('levels', null),
      coefficients: [Float64Array.of(0.5, 0.25, 1)],
    };
    expect(list(autoregressionPaths([[4, 8]], model, 2)[0])).toEqual([5, 6.25]);
  });

  it('undoes differences along its own path', () => {
    // Differences 1, 2; z_t = z_{t-1} keeps adding 2: 6, 8, 10.
    const model: AutoregressionModel = {
      window: 2,
      transform: targetTransform('differences', null),
      coefficients: [Float64Array.of(0, 1, 0)],
    };
    expect(list(autoregressionPaths([[1, 2, 4]], model, 3)[0])).toEqual([6, 8, 10]);
  });

  it('reads every column of a multi-column window, time-major', () => {
    // Column 0 copies column 1's last value, column 1 copies column 0's: they swap every step.
    const model: AutoregressionModel = {
      window: 1,
      transform: targetTransform('levels', null),
      coefficients: [Float64Array.of(0, 1, 0), Float64Array.of(1, 0, 0)],
    };
    const [a, b] = autoregressionPaths(
      [
        [0, 1],
        [0, 2],
      ],
      model,
      3,
    );
    expect(list(a)).toEqual([2, 1, 2]);
    expect(list(b)).toEqual([1, 2, 1]);
  });

  it('one step ahead, is baselines.ts’s AR at the same row', () => {
    const series = Array.from({ length: 80 }, (_, t) => 100 + 10 * Math.sin(t / 3) + t + ((t * 7) % 5));
    for (const transform of ['levels', 'differences', 'log-returns'] as const) {
      const prepared = prepareData(tableFromSeries(series), {
        inputs: [0],
        outputs: [0],
        window: 6,
        validationFraction: 0.1,
        transform,
      });
      const fit = fitAutoregression(prepared);
      const model = autoregressionModel(prepared, fit);
      if (typeof model === 'string' || typeof fit === 'string') throw new Error(String(model));
      const targets = prepared.testTargets;
      const oneStep = baselinePredictions(prepared, targets, fit).find((b) => b.key === 'autoregression')!.levels!;
      for (let row = targets.start; row < targets.end; row++) {
        const made = benchmarkForecasts(series.slice(0, row), 2, { season: null, autoregression: model });
        const ar = made.find((b) => b.key === 'autoregression')!;
        expect(ar.label).toBe('AR(6)');
        expect(ar.forecast![0]).toBeCloseTo(oneStep[row - targets.start], 9);
      }
    }
  });

  it('says why it cannot iterate', () => {
    const prepared = prepareData(
      {
        columns: ['a', 'b'],
        values: [new Float64Array(40).map((_, t) => t), new Float64Array(40).map((_, t) => t * t)],
        rows: 40,
      },
      { inputs: ['a'], outputs: ['b'], window: 3 },
    );
    expect(autoregressionModel(prepared, fitAutoregression(prepared))).toBe(
      'a multi-step forecast feeds forecasts back, so the outputs must be the input columns',
    );
    expect(autoregressionModel(prepared, 'too few windows')).toBe('too few windows');
    const model: AutoregressionModel = {
      window: 3,
      transform: targetTransform('differences', null),
      coefficients: [new Float64Array(4)],
    };
    const ar = benchmarkForecasts([1, 2, 3], 1, { season: null, autoregression: model }).find(
      (b) => b.key === 'autoregression',
    );
    expect(ar?.skipped).toBe('it reads 4 rows of history, and there are 3');
  });
});
