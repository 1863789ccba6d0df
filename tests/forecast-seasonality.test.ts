// M4's seasonality test and classical multiplicative decomposition on series small enough to work out
// by hand (the working is in the comments).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  autocorrelations,
  multiplicativeDecomposition,
  seasonalAdjustment,
  seasonalityTest,
} from '../src/forecast/seasonality.js';

/** [low, high] repeated `times` times. */
const alternating = (low: number, high: number, times: number) =>
  Array.from({ length: 2 * times }, (_, t) => (t % 2 ? high : low));

describe('autocorrelations', () => {
  it('follows stats::acf on 1, 2, 3, 4', () => {
    // Deviations -1.5, -0.5, 0.5, 1.5; Σ d² = 5.
    // r1 = (0.75 - 0.25 + 0.75) / 5, r2 = (-0.75 - 0.75) / 5, r3 = -2.25 / 5.
    const r = autocorrelations([1, 2, 3, 4], 3);
    expect(r[0]).toBe(1);
    expect(r[1]).toBeCloseTo(0.25, 15);
    expect(r[2]).toBeCloseTo(-0.3, 15);
    expect(r[3]).toBeCloseTo(-0.45, 15);
  });
});

describe('seasonalityTest', () => {
  it('finds the season of 10, 20 repeated 6 times', () => {
    // Deviations ±5, Σ d² = 300: r1 = -11·25/300 = -11/12, r2 = 10·25/300 = 5/6;
    // limit = 1.645 · sqrt((1 + 2 (11/12)²) / 12) ≈ 0.7775 < 5/6.
    const test = seasonalityTest(alternating(10, 20, 6), 2);
    expect(test.autocorrelation).toBeCloseTo(5 / 6, 14);
    expect(test.limit).toBeCloseTo(1.645 * Math.sqrt((1 + 2 * (11 / 12) ** 2) / 12), 14);
    expect(test).toMatchObject({ seasonal: true, reason: null });
  });

  it('does not find it in three repeats, where the bound is wider', () => {
    // r1 = -5·25/150 = -5/6, r2 = 4·25/150 = 2/3; limit = 1.645 · sqrt((1 + 2·25/36) / 6) ≈ 1.038.
    const test = seasonalityTest(alternating(10, 20, 3), 2);
    expect(test.autocorrelation).toBeCloseTo(2 / 3, 14);
    expect(test.limit).toBeCloseTo(1.645 * Math.sqrt((1 + 50 / 36) / 6), 14);
    expect(test.seasonal).toBe(false);
  });

  it('says why it cannot test', () => {
    expect(seasonalityTest([1, 2, 3, 4, 5, 6], null)).toMatchObject({ seasonal: false, reason: 'no seasonal period' });
    expect(seasonalityTest([1, 2, 3, 4, 5, 6], 1).reason).toBe('no seasonal period');
    expect(seasonalityTest([1, 2, 3, 4, 5], 2).reason).toBe('the test needs 3 seasons (6 rows); the history has 5');
    expect(seasonalityTest([7, 7, 7, 7, 7, 7], 2)).toMatchObject({
      seasonal: false,
      autocorrelation: null,
      reason: 'the history is constant, so it has no autocorrelation',
    });
  });
});

describe('multiplicativeDecomposition', () => {
  it('uses the 2×m moving average for an even season', () => {
    // Trend at rows 1..4 = (½·1 + 3 + ½·1) / 2 = 2; ratios 3/2 at odd rows and 1/2 at even ones.
    const { trend, indices } = multiplicativeDecomposition([1, 3, 1, 3, 1, 3], 2);
    expect(Number.isNaN(trend[0]) && Number.isNaN(trend[5])).toBe(true);
    expect(Array.from(trend.subarray(1, 5))).toEqual([2, 2, 2, 2]);
    expect(Array.from(indices)).toEqual([0.5, 1.5]);
  });

  it('uses the plain moving average for an odd season, and normalizes the indices to mean 1', () => {
    // Trend at rows 1..4 = 2; ratios: row 1 → 1 (position 1), 2 → 1.5 (2), 3 → 0.5 (0), 4 → 1 (1).
    const { trend, indices } = multiplicativeDecomposition([2, 4, 6, 2, 4, 6], 3);
    expect(Array.from(trend.subarray(1, 5))).toEqual([4, 4, 4, 4]);
    expect(Array.from(indices)).toEqual([0.5, 1, 1.5]);
    // Unequal ratios whose means do not average 1 come out normalized.
    const scaled = multiplicativeDecomposition([10, 20, 10, 20, 10, 30, 10, 20, 10], 3).indices;
    expect(scaled.reduce((a, b) => a + b) / 3).toBeCloseTo(1, 15);
  });

  it('refuses fewer than two seasons, as R does', () => {
    expect(() => multiplicativeDecomposition([1, 2, 3], 2)).toThrow(RangeError);
  });

  it('gives indices above 0 with mean 1 for any positive series', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 7 }),
        fc.array(fc.double({ min: 1, max: 100, noNaN: true }), { minLength: 21, maxLength: 60 }),
        (season, values) => {
          const { indices } = multiplicativeDecomposition(values, season);
          expect(indices.reduce((a, b) => a + b) / season).toBeCloseTo(1, 12);
          for (const index of indices) expect(index).toBeGreaterThan(0);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('seasonalAdjustment', () => {
  it('divides a seasonal history by its indices and continues their phase', () => {
    // 10, 20 × 6: trend 15, indices 2/3 and 4/3, adjusted 15 everywhere; row 12 (h = 1) is position 0.
    const adjustment = seasonalAdjustment(alternating(10, 20, 6), 2, 3);
    for (const value of adjustment.adjusted) expect(value).toBeCloseTo(15, 12);
    expect(adjustment.futureIndices[0]).toBeCloseTo(2 / 3, 14);
    expect(adjustment.futureIndices[1]).toBeCloseTo(4 / 3, 14);
    expect(adjustment.futureIndices[2]).toBeCloseTo(2 / 3, 14);
    expect(adjustment.skipped).toBeNull();
  });

  it('leaves a history alone when the test finds no season', () => {
    const adjustment = seasonalAdjustment([3, 1, 4, 1, 5, 9], null, 2);
    expect(Array.from(adjustment.adjusted)).toEqual([3, 1, 4, 1, 5, 9]);
    expect(Array.from(adjustment.futureIndices)).toEqual([1, 1]);
  });

  it('does not divide by a season of values at or below 0, and says why', () => {
    const adjustment = seasonalAdjustment(alternating(-10, 20, 6), 2, 1);
    expect(adjustment.test.seasonal).toBe(true);
    expect(adjustment.skipped).toBe('a multiplicative decomposition needs values above 0, and row 1 holds -10');
    expect(adjustment.adjusted[0]).toBe(-10);
    expect(adjustment.futureIndices[0]).toBe(1);
  });
});
