// Ensemble and split conformal intervals, their coverage with its margin, mean width and MSIS, on
// cases small enough to work out by hand, and the conformal guarantee's arithmetic over random scores.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EvaluationPart, OriginForecast } from '../src/forecast/horizons.js';
import {
  calibrationScores,
  checkLevel,
  conformalHalfWidth,
  conformalIntervals,
  coverageMargin,
  ensembleIntervals,
  fewestCalibrationScores,
  type IntervalSet,
  intervalTable,
  quantile,
} from '../src/forecast/intervals.js';
import { inputErrorOf } from './helpers.js';

const at = (origin: number, ...forecast: number[]): OriginForecast => ({
  origin,
  forecast: Float64Array.from(forecast),
});
const upTo = (n: number) => Array.from({ length: n }, (_, k) => k + 1);

describe('levels', () => {
  it('are percentages above 1 and below 100', () => {
    for (const bad of [0, 1, 100, -5, 150, Number.NaN, '95', null]) {
      expect(inputErrorOf(() => checkLevel(bad)).field).toBe('level');
    }
    expect(inputErrorOf(() => checkLevel(0.95, '--levels')).message).toBe(
      '--levels: expected a percentage above 1 and below 100 (80, 95), got 0.95 (in percent: 95 for 0.95)',
    );
    expect(() => checkLevel(95)).not.toThrow();
    expect(() => checkLevel(99.5)).not.toThrow();
  });
});

describe('ensemble intervals', () => {
  it('interpolate between order statistics (type 7)', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 0.1)).toBeCloseTo(1.3, 15);
    expect(quantile([7], 0.9)).toBe(7);
  });

  it('take the members’ quantiles at each step', () => {
    // Five members 0..4 at step 1 (and 0..40 at step 2): 80% → quantiles 0.1 and 0.9 → 0.4 and 3.6.
    const members = [3, 0, 4, 1, 2].map((k) => [at(10, k, 10 * k)]);
    const { intervals, unavailable, level } = ensembleIntervals(members, 80);
    expect(level).toBe(80);
    expect(intervals[0].origin).toBe(10);
    expect(intervals[0].lower[0]).toBeCloseTo(0.4, 14);
    expect(intervals[0].upper[0]).toBeCloseTo(3.6, 14);
    expect(intervals[0].lower[1]).toBeCloseTo(4, 13);
    expect(intervals[0].upper[1]).toBeCloseTo(36, 13);
    expect(unavailable).toEqual([null, null]);
  });

  it('refuse members from other origins', () => {
    expect(() => ensembleIntervals([[at(1, 0)], [at(2, 0)]], 80)).toThrow(RangeError);
    expect(inputErrorOf(() => ensembleIntervals([], 80)).field).toBe('members');
  });
});

describe('split conformal intervals', () => {
  it('take the ⌈(n + 1) p⌉-th smallest score', () => {
    // n = 19 at 95%: k = ⌈19⌉ = 19; at 80%: k = ⌈16⌉ = 16. n = 4 at 80%: k = ⌈4⌉ = 4.
    const scores = upTo(19).reverse();
    expect(conformalHalfWidth(scores, 95).value).toBe(19);
    expect(conformalHalfWidth(scores, 80).value).toBe(16);
    expect(conformalHalfWidth([4, 1, 3, 2], 80).value).toBe(4);
    // n = 9 at 50%: k = 5.
    expect(conformalHalfWidth(upTo(9), 50).value).toBe(5);
  });

  it('say how many calibration forecasts a level needs', () => {
    expect(fewestCalibrationScores(95)).toBe(19);
    expect(fewestCalibrationScores(80)).toBe(4);
    expect(fewestCalibrationScores(90)).toBe(9);
    expect(fewestCalibrationScores(50)).toBe(1);
    expect(conformalHalfWidth(upTo(18), 95, 3).reason).toBe(
      'a 95% split conformal interval needs at least 19 calibration forecasts 3 steps ahead, and there are 18',
    );
    expect(conformalHalfWidth([], 80).reason).toBe('no calibration forecast reaches a row 1 step ahead');
  });

  it('cover at least ⌈(n + 1) p⌉ of the n calibration scores, and no more than needed', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 100, noNaN: true }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 2, max: 99 }),
        (scores, level) => {
          const q = conformalHalfWidth(scores, level);
          const k = Math.ceil(((scores.length + 1) * level) / 100 - 1e-9);
          if (k > scores.length) {
            expect(q.value).toBeNull();
            return;
          }
          expect(scores).toContain(q.value);
          expect(scores.filter((s) => s <= q.value!).length).toBeGreaterThanOrEqual(k);
          expect(scores.filter((s) => s < q.value!).length).toBeLessThan(k);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('are the forecast ± each step’s half width, with the steps that have none marked', () => {
    // Calibration part rows 3..5 of y = 0..7: forecasts 1 off at step 1, 2 and 3 off at step 2.
    const series = [0, 1, 2, 3, 4, 5, 6, 7];
    const calibration = [at(3, 4, 6), at(4, 5, 8), at(5, 5, 0)];
    const scores = calibrationScores(series, { start: 3, end: 6 }, calibration, 2);
    // Step 1: rows 3, 4, 5 → |3-4|, |4-5|, |5-5|; step 2: rows 4, 5 (row 6 is beyond) → |4-6|, |5-8|.
    expect(scores.map((s) => Array.from(s))).toEqual([
      [1, 1, 0],
      [2, 3],
    ]);
    // 50%: step 1 k = 2 of 3 → 1; step 2 k = ⌈1.5⌉ = 2 of 2 → 3.
    const set = conformalIntervals([at(6, 10, 20)], scores, 50);
    expect(Array.from(set.intervals[0].lower)).toEqual([9, 17]);
    expect(Array.from(set.intervals[0].upper)).toEqual([11, 23]);
    // 80%: step 2 needs 4 scores.
    const wide = conformalIntervals([at(6, 10, 20)], scores, 80);
    expect(wide.intervals[0].lower[1]).toBeNaN();
    expect(wide.unavailable[1]).toBe(
      'an 80% split conformal interval needs at least 4 calibration forecasts 2 steps ahead, and there are 2',
    );
  });
});

describe('interval scores', () => {
  it('give the binomial margin in percentage points', () => {
    expect(coverageMargin(95, 100)).toBeCloseTo((196 * Math.sqrt(0.0475)) / 10, 12);
    expect(coverageMargin(80, 400)).toBeCloseTo(100 * 1.96 * 0.02, 12);
  });

  it('measure coverage, width and MSIS on the part, per step and pooled', () => {
    // Part rows 4..5 (values 5, 6); both histories change by 1 a row, so the scale is 1. Level 80: a = 0.2.
    const part: EvaluationPart = { series: [1, 2, 3, 4, 5, 6, 7], targets: { start: 4, end: 6 }, season: null };
    const set: IntervalSet = {
      level: 80,
      intervals: [
        // Row 4: [4, 6] holds 5 (score 2); row 5: [6.5, 7] misses 6 by 0.5 (score 0.5 + 10·0.5 = 5.5).
        { origin: 4, lower: Float64Array.of(4, 6.5), upper: Float64Array.of(6, 7) },
        // Row 5: [5, 8] holds 6 (score 3); row 6 is outside the part.
        { origin: 5, lower: Float64Array.of(5, 0), upper: Float64Array.of(8, 1) },
      ],
      unavailable: [null, null],
    };
    const table = intervalTable(part, set);
    const [first, second] = table.steps;
    expect(first.count).toBe(2);
    expect(first.coverage.value).toBe(100);
    expect(first.margin.value).toBeCloseTo(coverageMargin(80, 2), 15);
    expect(first.width.value).toBe(2.5);
    expect(first.msis.value).toBe(2.5);
    expect(second.count).toBe(1);
    expect(second.coverage.value).toBe(0);
    expect(second.width.value).toBe(0.5);
    expect(second.msis.value).toBeCloseTo(5.5, 14);
    expect(table.overall.count).toBe(3);
    expect(table.overall.coverage.value).toBeCloseTo(200 / 3, 12);
    expect(table.overall.msis.value).toBeCloseTo((2 + 3 + 5.5) / 3, 14);
    expect(table.overall.nominal).toBe(80);
  });

  it('say why a step has no score', () => {
    const part: EvaluationPart = { series: [3, 3, 3, 3, 4], targets: { start: 3, end: 5 }, season: null };
    const set: IntervalSet = {
      level: 95,
      intervals: [{ origin: 3, lower: Float64Array.of(2, Number.NaN), upper: Float64Array.of(4, Number.NaN) }],
      unavailable: [null, 'too few calibration forecasts'],
    };
    const table = intervalTable(part, set);
    expect(table.steps[0].coverage.value).toBe(100);
    expect(table.steps[0].msis.reason).toBe(
      "the history before row 4 is constant, so MASE's scale (its mean change from row to row) is 0",
    );
    expect(table.steps[1].coverage.reason).toBe('too few calibration forecasts');
    expect(table.overall.width.reason).toBe('too few calibration forecasts');
  });
});
