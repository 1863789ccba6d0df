// Synthetic series: deterministic per seed, within their amplitude, the blog's sine unchanged, and
// every bad setting refused with an InputError naming the field.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateSeries, type SeriesSpec } from '../src/data/generators.js';
import { Rng } from '../src/data/rng.js';
import { InputError } from '../src/model/errors.js';
import { initParams } from '../src/model/init.js';
import { startRun } from '../src/train/run.js';
import { sineRunSettings, windowSeries } from './helpers.js';

const arbAmplitude = fc.double({ min: 0.01, max: 1000, noNaN: true });
const arbPoints = fc.integer({ min: 2, max: 400 });
const arbPeriod = fc.double({ min: 2, max: 200, noNaN: true });

/** Noise-free specs of every bounded kind. */
const arbBoundedSpec: fc.Arbitrary<SeriesSpec> = fc.oneof(
  fc.record({ kind: fc.constant('sine' as const), points: arbPoints, noise: fc.constant(0), amplitude: arbAmplitude }),
  fc.record({
    kind: fc.constant('sum-of-sines' as const),
    points: arbPoints,
    noise: fc.constant(0),
    amplitude: arbAmplitude,
    periods: fc.array(arbPeriod, { minLength: 1, maxLength: 5 }),
  }),
  fc.record({
    kind: fc.constant('square' as const),
    points: arbPoints,
    noise: fc.constant(0),
    amplitude: arbAmplitude,
    period: arbPeriod,
  }),
  fc.record({
    kind: fc.constant('sawtooth' as const),
    points: arbPoints,
    noise: fc.constant(0),
    amplitude: arbAmplitude,
    period: arbPeriod,
  }),
);

const arbAnySpec: fc.Arbitrary<SeriesSpec> = fc.oneof(
  arbBoundedSpec.map((spec) => ({ ...spec, noise: 0.3 })),
  fc.record({
    kind: fc.constant('random-walk' as const),
    points: arbPoints,
    noise: fc.double({ min: 0, max: 2, noNaN: true }),
    amplitude: arbAmplitude,
    changeAt: fc.double({ min: 0.05, max: 0.95, noNaN: true }),
  }),
);

function fieldOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (err instanceof InputError) return err.field;
    throw err;
  }
  throw new Error('expected an InputError');
}

describe('generateSeries', () => {
  it('is deterministic per seed, and different seeds give different noise', () => {
    fc.assert(
      fc.property(arbAnySpec, fc.integer({ min: 0, max: 2 ** 31 }), (spec, seed) => {
        const a = generateSeries(spec, new Rng(seed));
        const b = generateSeries(spec, new Rng(seed));
        expect(a.series).toEqual(b.series);
        expect(a.positions).toEqual(b.positions);
        expect(a.series.length).toBe(spec.points);
        expect(a.series.every(Number.isFinite)).toBe(true);
      }),
      { numRuns: 100 },
    );
    const spec: SeriesSpec = { kind: 'square', points: 100, noise: 0.1, period: 10 };
    expect(generateSeries(spec, new Rng(1)).series).not.toEqual(generateSeries(spec, new Rng(2)).series);
  });

  it('keeps the clean waves within ±amplitude', () => {
    fc.assert(
      fc.property(arbBoundedSpec, fc.integer(), (spec, seed) => {
        const { series } = generateSeries(spec, new Rng(seed));
        const bound = spec.amplitude! * (1 + 1e-6);
        for (const v of series) expect(Math.abs(v)).toBeLessThanOrEqual(bound);
      }),
      { numRuns: 200 },
    );
  });

  it('reaches the amplitude: square waves are exactly ±amplitude, sawtooth spans it', () => {
    const square = generateSeries({ kind: 'square', points: 40, noise: 0, amplitude: 3, period: 8 }, new Rng(0));
    expect(new Set(square.series)).toEqual(new Set([3, -3]));
    expect(Array.from(square.series.subarray(0, 8))).toEqual([3, 3, 3, 3, -3, -3, -3, -3]);
    const saw = generateSeries({ kind: 'sawtooth', points: 4, noise: 0, amplitude: 2, period: 4 }, new Rng(0));
    expect(Array.from(saw.series)).toEqual([-2, -1, 0, 1]);
    expect(Array.from(saw.positions)).toEqual([0, 1, 2, 3]);
  });

  it('draws one normal per point for the noise, whatever its level, so later draws do not depend on it', () => {
    const kinds: SeriesSpec[] = [
      { kind: 'sine', points: 30, noise: 0 },
      { kind: 'sum-of-sines', points: 30, noise: 0, periods: [5, 7] },
      { kind: 'square', points: 30, noise: 0, period: 6 },
      { kind: 'sawtooth', points: 30, noise: 0, period: 6 },
    ];
    for (const spec of kinds) {
      const quiet = new Rng(5);
      const loud = new Rng(5);
      const clean = generateSeries(spec, quiet).series;
      const noisy = generateSeries({ ...spec, noise: 0.5 }, loud).series;
      expect(quiet.nextUint32()).toBe(loud.nextUint32());
      // The noise is the same deviates, scaled.
      const replay = new Rng(5);
      for (let i = 0; i < 30; i++) expect(noisy[i]).toBeCloseTo(clean[i] + 0.5 * replay.normal(), 5);
    }
  });

  it("keeps the blog's task: a run of the sine draws the same data, weights and batches as the blog's formula", () => {
    const points = 50;
    const noise = 0.1;
    // The blog's formula, written out; then the weights, then the minibatch orders, from one generator.
    const rng = new Rng(42);
    const expected = new Float32Array(points);
    for (let i = 0; i < points; i++) {
      const p = -2 * Math.PI + (4 * Math.PI * i) / (points - 1);
      expected[i] = Math.sin(p) + noise * rng.normal();
    }
    const run = startRun(sineRunSettings({ seed: 42, points, noise, window: 5, hiddenSizes: [3] }));
    expect(Float32Array.from(run.prepared.table.values[0])).toEqual(expected);
    expect(run.prepared.train).toEqual(windowSeries(expected, 5));
    expect(run.prepared.validation).toBeNull();
    expect(run.params).toEqual(initParams(run.layout, rng));
    expect(run.rng.nextUint32()).toBe(rng.nextUint32());

    const generated = generateSeries({ kind: 'sine', points, noise }, new Rng(42));
    expect(generated.series).toEqual(expected);
    expect(generated.positions).toEqual(run.positions);
    expect(generated.positions[0]).toBeCloseTo(-2 * Math.PI, 6);
    expect(generated.positions[points - 1]).toBeCloseTo(2 * Math.PI, 6);
  });

  it('sums sines with weights normalised so the peak stays at the amplitude', () => {
    const { series } = generateSeries(
      { kind: 'sum-of-sines', points: 400, noise: 0, amplitude: 2, periods: [40, 40], weights: [1, 3] },
      new Rng(0),
    );
    for (let i = 0; i < 400; i++) expect(series[i]).toBeCloseTo(2 * Math.sin((2 * Math.PI * i) / 40), 5);
  });

  it('changes the regime of the random walk where asked', () => {
    const points = 20_000;
    const { series } = generateSeries(
      {
        kind: 'random-walk',
        points,
        noise: 0,
        amplitude: 1,
        changeAt: 0.5,
        drift: [0.1, -0.2],
        volatility: [0.01, 0.5],
      },
      new Rng(3),
    );
    const steps = (from: number, to: number) => {
      const d = [];
      for (let i = from + 1; i < to; i++) d.push(series[i] - series[i - 1]);
      const mean = d.reduce((a, b) => a + b, 0) / d.length;
      const sd = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length);
      return { mean, sd };
    };
    expect(series[0]).toBe(0);
    const before = steps(0, points / 2);
    const after = steps(points / 2, points);
    expect(before.mean).toBeCloseTo(0.1, 2);
    expect(before.sd).toBeCloseTo(0.01, 2);
    expect(after.mean).toBeCloseTo(-0.2, 1);
    expect(after.sd).toBeGreaterThan(0.45);
    expect(after.sd).toBeLessThan(0.55);
  });

  it('refuses bad settings with an InputError naming the field', () => {
    const rng = new Rng(0);
    const cases: [unknown, string][] = [
      [{ kind: 'sine', points: 1, noise: 0 }, 'points'],
      [{ kind: 'sine', points: 2.5, noise: 0 }, 'points'],
      [{ kind: 'sine', points: 1e9, noise: 0 }, 'points'],
      [{ kind: 'sine', points: '50', noise: 0 }, 'points'],
      [{ kind: 'sine', points: 50, noise: -1 }, 'noise'],
      [{ kind: 'sine', points: 50, noise: Number.NaN }, 'noise'],
      [{ kind: 'sine', points: 50, noise: Number.POSITIVE_INFINITY }, 'noise'],
      [{ kind: 'sine', points: 50, noise: 0, amplitude: 0 }, 'amplitude'],
      [{ kind: 'sine', points: 50, noise: 0, amplitude: -2 }, 'amplitude'],
      [{ kind: 'square', points: 50, noise: 0, period: 1 }, 'period'],
      [{ kind: 'sawtooth', points: 50, noise: 0 }, 'period'],
      [{ kind: 'sum-of-sines', points: 50, noise: 0, periods: [] }, 'periods'],
      [{ kind: 'sum-of-sines', points: 50, noise: 0, periods: [10, 0] }, 'periods[1]'],
      [{ kind: 'sum-of-sines', points: 50, noise: 0, periods: [10], weights: [1, 2] }, 'weights'],
      [{ kind: 'sum-of-sines', points: 50, noise: 0, periods: [10, 5], weights: [0, 0] }, 'weights'],
      [{ kind: 'random-walk', points: 50, noise: 0, changeAt: 1 }, 'changeAt'],
      [{ kind: 'random-walk', points: 50, noise: 0, volatility: [0.1, -1] }, 'volatility[1]'],
      [{ kind: 'random-walk', points: 50, noise: 0, drift: [0.1] }, 'drift'],
      [{ kind: 'triangle', points: 50, noise: 0 }, 'kind'],
    ];
    for (const [spec, field] of cases) {
      expect(fieldOf(() => generateSeries(spec as SeriesSpec, rng))).toBe(field);
    }
  });
});
