// Synthetic series to train on: the blog's noisy sine (the default), a sum of sines, square and
// sawtooth waves, and a random walk whose drift and volatility change part-way (a "market regime"
// change, the case the blog's author hit with stock prices).
//
// Legend: P = points (the series' length).
//   series     (P)  the values the windows are cut from
//   positions  (P)  x positions for charts: the sine's argument on [-2π, 2π] for `sine` (the blog's),
//                   the step index 0..P-1 for every other kind
//
// Every kind draws exactly one normal deviate per point for its noise (plus one per step for the
// walk's increments), even when `noise` is 0, so the draws that follow from the same Rng (initial
// weights, minibatch order) do not depend on the noise level.

import { describeValue, InputError } from '../model/errors.js';
import type { Rng } from './rng.js';

export const SERIES_KINDS = ['sine', 'sum-of-sines', 'square', 'sawtooth', 'random-walk'] as const;
export type SeriesKind = (typeof SERIES_KINDS)[number];

/** The longest series a generator makes (the CLI's bound on `points`). */
export const MAX_POINTS = 10_000_000;
/** Bound on amplitude, noise, drift and weights: far beyond use, well within float32. */
export const MAX_MAGNITUDE = 1e6;

interface CommonSpec {
  /** Length of the series, 2 to MAX_POINTS. */
  points: number;
  /** Standard deviation of the Gaussian noise added to every point, ≥ 0. */
  noise: number;
  /** Peak of the clean wave (for the walk: the scale of every step), > 0; default 1. */
  amplitude?: number;
}

/** amplitude · sin(p) for p evenly spaced on [-2π, 2π] (two periods), plus noise: the blog's task. */
export interface SineSpec extends CommonSpec {
  kind: 'sine';
}

/** amplitude · Σ_k w_k sin(2π i / period_k) / Σ_k |w_k|, so the clean wave stays within ±amplitude. */
export interface SumOfSinesSpec extends CommonSpec {
  kind: 'sum-of-sines';
  /** Periods in steps, each ≥ 2; 1 to 16 of them. */
  periods: number[];
  /** Relative weights, one per period, finite and not all 0; default all 1. */
  weights?: number[];
}

/** +amplitude for the first half of each period, -amplitude for the second. */
export interface SquareSpec extends CommonSpec {
  kind: 'square';
  /** Period in steps, ≥ 2. */
  period: number;
}

/** Rises linearly from -amplitude to just below +amplitude over each period, then drops back. */
export interface SawtoothSpec extends CommonSpec {
  kind: 'sawtooth';
  /** Period in steps, ≥ 2. */
  period: number;
}

/**
 * A walk from 0: step i adds amplitude · (drift + volatility · z_i), z_i ~ N(0, 1), with one
 * (drift, volatility) before the change and another after it.
 */
export interface RandomWalkSpec extends CommonSpec {
  kind: 'random-walk';
  /** Where the regime changes, as a fraction of the length, strictly between 0 and 1; default 0.5. */
  changeAt?: number;
  /** Mean step before and after the change; default [0.02, -0.02]. */
  drift?: [number, number];
  /** Standard deviation of a step before and after the change, each ≥ 0; default [0.05, 0.15]. */
  volatility?: [number, number];
}

export type SeriesSpec = SineSpec | SumOfSinesSpec | SquareSpec | SawtoothSpec | RandomWalkSpec;

export interface GeneratedSeries {
  /** (P) */
  series: Float32Array;
  /** (P) */
  positions: Float32Array;
}

export const RANDOM_WALK_DEFAULTS = {
  changeAt: 0.5,
  drift: [0.02, -0.02] as [number, number],
  volatility: [0.05, 0.15] as [number, number],
};

/** Validates `spec` and makes its series, drawing all randomness from `rng`. */
export function generateSeries(spec: SeriesSpec, rng: Rng): GeneratedSeries {
  const points = checkInt(spec.points, 'points', 2, MAX_POINTS);
  const noise = checkNumber(spec.noise, 'noise', 0, MAX_MAGNITUDE);
  const amplitude = spec.amplitude === undefined ? 1 : checkPositive(spec.amplitude, 'amplitude');
  switch (spec.kind) {
    case 'sine':
      return noisySine(points, amplitude, noise, rng);
    case 'sum-of-sines': {
      const { periods, weights } = checkSumOfSines(spec);
      const norm = weights.reduce((sum, w) => sum + Math.abs(w), 0);
      return periodic(points, noise, rng, (i) => {
        let sum = 0;
        for (let k = 0; k < periods.length; k++) sum += weights[k] * Math.sin((2 * Math.PI * i) / periods[k]);
        return (amplitude * sum) / norm;
      });
    }
    case 'square': {
      const period = checkPeriod(spec.period, 'period');
      return periodic(points, noise, rng, (i) => (phase(i, period) < 0.5 ? amplitude : -amplitude));
    }
    case 'sawtooth': {
      const period = checkPeriod(spec.period, 'period');
      return periodic(points, noise, rng, (i) => amplitude * (2 * phase(i, period) - 1));
    }
    case 'random-walk':
      return randomWalk(points, amplitude, noise, checkRandomWalk(spec), rng);
    default: {
      const kind: unknown = (spec as { kind: unknown }).kind;
      throw new InputError('kind', `expected one of ${SERIES_KINDS.join(', ')}, got ${describeValue(kind)}`);
    }
  }
}

/** The blog's noisy sine (the bounds are checked by generateSeries). */
function noisySine(points: number, amplitude: number, noise: number, rng: Rng): GeneratedSeries {
  const series = new Float32Array(points);
  const positions = new Float32Array(points);
  for (let i = 0; i < points; i++) {
    const p = -2 * Math.PI + (4 * Math.PI * i) / (points - 1);
    positions[i] = p;
    series[i] = amplitude * Math.sin(p) + noise * rng.normal();
  }
  return { series, positions };
}

function periodic(points: number, noise: number, rng: Rng, clean: (i: number) => number): GeneratedSeries {
  const series = new Float32Array(points);
  const positions = new Float32Array(points);
  for (let i = 0; i < points; i++) {
    positions[i] = i;
    series[i] = clean(i) + noise * rng.normal();
  }
  return { series, positions };
}

/** Position within the period, in [0, 1). */
function phase(i: number, period: number): number {
  const f = i / period;
  return f - Math.floor(f);
}

interface WalkRegimes {
  changeStep: number;
  drift: [number, number];
  volatility: [number, number];
}

function randomWalk(points: number, amplitude: number, noise: number, regimes: WalkRegimes, rng: Rng) {
  const series = new Float32Array(points);
  const positions = new Float32Array(points);
  let level = 0;
  for (let i = 0; i < points; i++) {
    if (i > 0) {
      const r = i < regimes.changeStep ? 0 : 1;
      level += amplitude * (regimes.drift[r] + regimes.volatility[r] * rng.normal());
    }
    positions[i] = i;
    series[i] = level + noise * rng.normal();
  }
  return { series, positions };
}

function checkSumOfSines(spec: SumOfSinesSpec): { periods: number[]; weights: number[] } {
  if (!Array.isArray(spec.periods) || spec.periods.length < 1 || spec.periods.length > 16) {
    throw new InputError('periods', `expected a list of 1 to 16 periods, got ${describeValue(spec.periods)}`);
  }
  const periods = spec.periods.map((p, k) => checkPeriod(p, `periods[${k}]`));
  if (spec.weights === undefined) return { periods, weights: periods.map(() => 1) };
  if (!Array.isArray(spec.weights) || spec.weights.length !== periods.length) {
    throw new InputError(
      'weights',
      `expected ${periods.length} weights (one per period), got ${describeValue(spec.weights)}`,
    );
  }
  const weights = spec.weights.map((w, k) => checkNumber(w, `weights[${k}]`, -MAX_MAGNITUDE, MAX_MAGNITUDE));
  if (weights.every((w) => w === 0)) throw new InputError('weights', 'expected at least one weight that is not 0');
  return { periods, weights };
}

function checkRandomWalk(spec: RandomWalkSpec): WalkRegimes {
  const changeAt = spec.changeAt ?? RANDOM_WALK_DEFAULTS.changeAt;
  if (typeof changeAt !== 'number' || !(changeAt > 0 && changeAt < 1)) {
    throw new InputError('changeAt', `expected a fraction strictly between 0 and 1, got ${describeValue(changeAt)}`);
  }
  const pair = (value: unknown, name: string, min: number): [number, number] => {
    if (!Array.isArray(value) || value.length !== 2) {
      throw new InputError(name, `expected two numbers (before and after the change), got ${describeValue(value)}`);
    }
    return [
      checkNumber(value[0], `${name}[0]`, min, MAX_MAGNITUDE),
      checkNumber(value[1], `${name}[1]`, min, MAX_MAGNITUDE),
    ];
  };
  return {
    changeStep: Math.round(changeAt * spec.points),
    drift: pair(spec.drift ?? RANDOM_WALK_DEFAULTS.drift, 'drift', -MAX_MAGNITUDE),
    volatility: pair(spec.volatility ?? RANDOM_WALK_DEFAULTS.volatility, 'volatility', 0),
  };
}

function checkInt(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InputError(name, `expected a whole number from ${min} to ${max}, got ${describeValue(value)}`);
  }
  return value;
}

function checkNumber(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new InputError(name, `expected a number from ${min} to ${max}, got ${describeValue(value)}`);
  }
  return value;
}

function checkPositive(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_MAGNITUDE) {
    throw new InputError(
      name,
      `expected a number greater than 0 and at most ${MAX_MAGNITUDE}, got ${describeValue(value)}`,
    );
  }
  return value;
}

function checkPeriod(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 2 || value > MAX_POINTS) {
    throw new InputError(name, `expected a period from 2 to ${MAX_POINTS} steps, got ${describeValue(value)}`);
  }
  return value;
}
