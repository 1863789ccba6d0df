// Transforms and their inversion, seasonal periods, errors in the data's units and the baselines, on
// small tables whose answers are known by hand.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { baselinePredictions, fitAutoregression } from '../src/data/baselines.js';
import { fingerprintTable, sameFingerprint } from '../src/data/fingerprint.js';
import { errorsInUnits, modelSpaceLoss, partTargets, residuals } from '../src/data/metrics.js';
import { prepareData } from '../src/data/prepare.js';
import { seasonFromDates, seasonOfSeries } from '../src/data/season.js';
import {
  oneStepLevels,
  pathLevels,
  TRANSFORMS,
  targetTransform,
  toLevel,
  toTransformed,
  transformTable,
} from '../src/data/transform.js';
import type { ColumnTable } from '../src/data/windows.js';
import { type BaselineErrors, levelsFromOutputs, type PartErrors, summarise } from '../src/train/evaluate.js';
import { inputErrorOf } from './helpers.js';

function table(values: number[], dates?: string[]): ColumnTable {
  return { columns: ['y'], values: [Float64Array.from(values)], rows: values.length, ...(dates ? { dates } : {}) };
}

const positive = fc.array(fc.double({ min: 0.5, max: 1000, noNaN: true }), { minLength: 15, maxLength: 60 });

describe('transforms', () => {
  it('turns each level into its transformed value and back, for every transform', () => {
    fc.assert(
      fc.property(positive, fc.constantFrom(...TRANSFORMS), (values, kind) => {
        const transform = targetTransform(kind, 4);
        const z = transformTable(table(values), transform).values[0];
        for (let r = 0; r < transform.lag; r++) expect(z[r]).toBeNaN();
        // One step ahead from actual history: the actual transformed value gives the actual level.
        const from = transform.lag;
        const levels = oneStepLevels(transform, values, from, z.subarray(from));
        for (let n = 0; n < levels.length; n++) {
          expect(levels[n]).toBeCloseTo(values[from + n], 8);
        }
        // Free-running: feeding the path its own levels gives the series back too.
        const path = pathLevels(transform, values, from, z.subarray(from));
        for (let n = 0; n < path.length; n++) expect(path[n]).toBeCloseTo(values[from + n], 6);
      }),
      { numRuns: 200 },
    );
  });

  it('computes each transform as its definition says', () => {
    const y = [100, 110, 99, 120, 132];
    expect(Array.from(transformTable(table(y), targetTransform('differences', null)).values[0])).toEqual([
      Number.NaN,
      10,
      -11,
      21,
      12,
    ]);
    const logs = transformTable(table(y), targetTransform('log-returns', null)).values[0];
    expect(logs[2]).toBeCloseTo(Math.log(99 / 110), 12);
    const seasonal = transformTable(table(y), targetTransform('seasonal-differences', 2)).values[0];
    expect(Array.from(seasonal.subarray(2))).toEqual([-1, 10, 33]);
    expect(toTransformed('levels', 5, 3)).toBe(5);
    expect(toLevel('log-returns', Math.log(1.5), 10)).toBeCloseTo(15, 12);
  });

  it('builds a free-running path on its own earlier levels past the data', () => {
    // Differences of +1 each step from the last level 10: 11, 12, 13.
    expect(Array.from(pathLevels(targetTransform('differences', null), [8, 9, 10], 3, [1, 1, 1]))).toEqual([
      11, 12, 13,
    ]);
    // Seasonal differences with period 2: each step adds 5 to the level two rows before.
    expect(Array.from(pathLevels(targetTransform('seasonal-differences', 2), [1, 2], 2, [5, 5, 5, 5]))).toEqual([
      6, 7, 11, 12,
    ]);
  });

  it('refuses log returns of a value at or below 0, and seasonal differences without a season', () => {
    const err = inputErrorOf(() =>
      transformTable(table([1, 2, 0, 4], ['a', 'b', 'c', 'd']), targetTransform('log-returns', null)),
    );
    expect(err.field).toBe('transform');
    expect(err.message).toMatch(/holds 0 at row 3 \(c\); use differences/);
    expect(inputErrorOf(() => targetTransform('seasonal-differences', null)).message).toMatch(/need a seasonal period/);
  });
});

describe('seasonal periods', () => {
  const months = (n: number) =>
    Array.from({ length: n }, (_, i) => `${2000 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}-01`);

  it('finds the season from the dates’ spacing, and a wave’s own period', () => {
    expect(seasonFromDates(months(30))).toEqual({ period: 12, name: 'monthly' });
    // A few missing months (the CO2 file has some) leave the median spacing monthly.
    expect(seasonFromDates([...months(30)].filter((_, i) => i !== 4 && i !== 9))?.period).toBe(12);
    expect(seasonFromDates(['2020-01-01', '2020-04-01', '2020-07-01', '2020-10-01'])?.period).toBe(4);
    expect(seasonFromDates(['2020-01-01', '2020-01-02', '2020-01-03'])?.period).toBe(7);
    expect(seasonFromDates(['2020-01-01T00:00', '2020-01-01T01:00', '2020-01-01T02:00'])?.period).toBe(24);
    expect(seasonFromDates(['2000-01-01', '2001-01-01', '2002-01-01'])).toBeNull();
    expect(seasonFromDates(['1', '2', '3'])).toBeNull();
    expect(seasonFromDates(undefined)).toBeNull();
    expect(seasonOfSeries({ kind: 'square', points: 40, noise: 0, period: 8 })).toBe(8);
    expect(seasonOfSeries({ kind: 'sine', points: 40, noise: 0 })).toBeNull();
  });
});

describe('errors in units and baselines', () => {
  // A line with a yearly bump: y = 2r + (r % 4 === 0 ? 3 : 0), 40 rows, season 4.
  const y = Array.from({ length: 40 }, (_, r) => 2 * r + (r % 4 === 0 ? 3 : 0));
  const prepared = prepareData(table(y), {
    inputs: ['y'],
    outputs: ['y'],
    window: 4,
    transform: 'differences',
    season: 4,
    trainFraction: 0.8,
    validationFraction: 0.1,
  });

  it('measures RMSE and MAE per column on a part’s target rows, and residuals as actual minus predicted', () => {
    const targets = partTargets(prepared, 'test');
    expect(targets).toEqual({ start: 32, end: 40 });
    const guess = Float64Array.from({ length: 8 }, (_, n) => y[32 + n] + (n % 2 === 0 ? 1 : -3));
    const errors = errorsInUnits(prepared, targets, guess);
    expect(errors.mae[0]).toBeCloseTo(2, 12);
    expect(errors.rmse[0]).toBeCloseTo(Math.sqrt(5), 12);
    expect(Array.from(residuals(prepared, targets, guess).subarray(0, 2))).toEqual([-1, 3]);
  });

  it('predicts the last value, the value one season back, and AR(T) from the same rows', () => {
    const targets = partTargets(prepared, 'test');
    const [last, seasonal, ar] = baselinePredictions(prepared, targets);
    expect(last.label).toBe('last value');
    expect(Array.from(last.levels!)).toEqual(y.slice(31, 39));
    expect(seasonal.label).toBe('seasonal naive (4)');
    expect(Array.from(seasonal.levels!)).toEqual(y.slice(28, 36));
    // The differences repeat every 4 rows, which AR(4) on differences learns exactly.
    expect(ar.label).toBe('AR(4)');
    for (const [n, value] of ar.levels!.entries()) expect(value).toBeCloseTo(y[32 + n], 8);
  });

  it('skips what does not apply, saying why', () => {
    const plain = prepareData(table(y), { inputs: ['y'], outputs: ['y'], window: 4 });
    const [, seasonal] = baselinePredictions(plain, partTargets(plain, 'test'));
    expect(seasonal).toMatchObject({ levels: null, skipped: 'no seasonal period' });
    const short = prepareData(table(y.slice(0, 20)), { inputs: ['y'], outputs: ['y'], window: 12 });
    expect(fitAutoregression(short)).toMatch(/its 13 coefficients need more than the 4 training windows/);
  });

  it('puts level predictions on the error chart in the trainer’s own units', () => {
    // The model's outputs for the test windows mapped to levels, then back: the trainer's loss.
    const test = prepared.test!;
    const outputs = Float32Array.from(test.t, (t, i) => t + (i % 3) * 0.25);
    const levels = levelsFromOutputs(prepared, partTargets(prepared, 'test'), outputs);
    let sse = 0;
    for (let i = 0; i < outputs.length; i++) sse += (outputs[i] - test.t[i]) ** 2;
    expect(modelSpaceLoss(prepared, partTargets(prepared, 'test'), levels, 'sse')).toBeCloseTo(0.5 * sse, 5);
    expect(modelSpaceLoss(prepared, partTargets(prepared, 'test'), levels, 'mse')).toBeCloseTo(sse / test.count, 5);
  });
});

describe('the sentence', () => {
  const model = (rmse: number): PartErrors => ({ targets: { start: 0, end: 1 }, rmse: [rmse], mae: [rmse] });
  const baseline = (key: BaselineErrors['key'], label: string, rmse: number | null): BaselineErrors => ({
    key,
    label,
    levels: null,
    skipped: rmse === null ? 'does not apply' : null,
    errors: rmse === null ? null : { rmse: [rmse], mae: [rmse] },
    loss: null,
  });
  const baselines = (ar: number | null) => [
    baseline('last-value', 'last value', 0.53),
    baseline('seasonal-naive', 'seasonal naive', null),
    baseline('autoregression', 'AR(10)', ar),
  ];

  it('names the strongest baseline first and says when the model loses to it, though it beats the last value', () => {
    const sentence = summarise(['y'], model(0.255), baselines(0.18), 'train', null);
    expect(sentence).toBe(
      'RMSE on the training windows (nothing is held out) 0.255: 1.42× worse than AR(10) (0.18), the strongest baseline, though 2.1× better than repeating the last value (0.53).',
    );
  });

  it('says "better than" only where the model’s error is lower, and "as good as" for a hair’s difference', () => {
    const win = summarise(['y'], model(0.1), baselines(0.18), 'test', 'ppm');
    expect(win).toBe(
      'Held-out RMSE 0.1 ppm: 1.80× better than AR(10) (0.18 ppm), the strongest baseline, and 5.3× better than repeating the last value (0.53 ppm).',
    );
    const tie = summarise(['y'], model(0.1801), baselines(0.18), 'test', null);
    expect(tie).toMatch(/^Held-out RMSE 0\.18: as good as AR\(10\) \(0\.18\), the strongest baseline, and/);
    // Losing to every baseline: no "better" anywhere.
    const loss = summarise(['y'], model(0.6), baselines(0.18), 'test', null);
    expect(loss).not.toMatch(/better/);
    expect(loss).toMatch(/worse than AR\(10\) .*, and 1\.13× worse than repeating the last value/);
  });

  it('with the last value strongest, names it once, the others after', () => {
    const sentence = summarise(['y'], model(0.5), baselines(0.9), 'test', null);
    expect(sentence).toBe(
      'Held-out RMSE 0.5: 1.06× better than repeating the last value (0.53), the strongest baseline; AR(10) 0.9.',
    );
  });
});

describe('fingerprints', () => {
  it('tell data apart by its values, not its formatting', () => {
    const a = fingerprintTable(table([1, 2, 3]));
    expect(a.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(sameFingerprint(a, fingerprintTable(table([1, 2, 3])))).toBe(true);
    expect(sameFingerprint(a, fingerprintTable(table([1, 2, 3.0000001])))).toBe(false);
    expect(sameFingerprint(a, fingerprintTable({ ...table([1, 2, 3]), columns: ['z'] }))).toBe(false);
  });
});
