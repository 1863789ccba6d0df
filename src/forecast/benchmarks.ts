// The simple forecasts a model's multi-step forecast must beat, each made from one origin with only the
// history before it, for steps h = 1..H. Four are the M4 competition's statistical benchmarks as its
// organisers published them (Mcompetitions/M4-methods, "Benchmarks and Evaluation.R": naive,
// naive_seasonal, Naive2 = naive on des_input times SIout, Theta.classic on des_input times SIout),
// plus drift and the project's AR(window) iterated:
//   last value (naive)  ŷ_{n+h} = y_n
//   seasonal naive      ŷ_{n+h} = y_{n-m+((h-1) mod m)+1}             (the last season, repeated)
//   Naive2              ŷ_{n+h} = a_n · s_{n+h}                       (naive on the seasonally adjusted a)
//   drift               ŷ_{n+h} = y_n + h · (y_n - y_1) / (n - 1)
//   AR(T)               z_{n+h} = c + Σ_s coef_s · z_{n+h-T+s} with forecasts fed back, undone to levels
//   Theta               ŷ_{n+h} = s_{n+h} · max(0, ½ ℓ_n + ½ (b_0 + b_1 (n + h)))  (Theta.classic)
// where a_t = y_t / s_t (seasonality.ts: seasonalAdjustment; s = 1 when not seasonal), b_0 + b_1 t is
// the least-squares line through a_t at t = 1..n, and ℓ_n is the last level of simple exponential
// smoothing (SES) of the theta line θ_t = 2 a_t - (b_0 + b_1 t), with its α and initial level ℓ_0
// fitted by least squares of its one-step errors (forecast::ses → ets(model = "ANN",
// opt.crit = "mse"), α within ets's bounds [0.0001, 0.9999]). This is "SES with drift" (Hyndman &
// Billah 2003, Int. J. Forecasting 19(2)): SES is linear, so with the same α and ℓ_0 = (ℓ_0^θ + b_0)/2
// the forecast is SES of a plus ½ b_1 (h + (1-α)/α - (1-α)^(n+1)/α) (the form often quoted,
// ½ b_1 (h - 1 + 1/α - (1-α)^n/α), starts the smoothing one row later, from ℓ_1); but M4 fits α and
// ℓ_0 on the theta line, not on a, so the code follows the theta lines as published (a test checks
// the identity).
// Theta.classic sets negative forecasts to 0 (M4's data are all above 0); here that happens only when
// the history has no value below 0, so data that can be negative keeps its forecasts.
//
// Legend: n = rows of history (the origin), H = the horizon in steps (not the hidden size here),
// m = the seasonal period, T = window, I = columns, L = the transform's lag.

import type { LinearFit } from '../data/baselines.js';
import type { PreparedData } from '../data/prepare.js';
import { pathLevels, type TargetTransform, toTransformed } from '../data/transform.js';
import { seasonalAdjustment } from './seasonality.js';

export const BENCHMARK_KEYS = ['last-value', 'seasonal-naive', 'naive2', 'drift', 'autoregression', 'theta'] as const;
export type BenchmarkKey = (typeof BENCHMARK_KEYS)[number];

export interface BenchmarkForecast {
  key: BenchmarkKey;
  /** "naive (last value)", "seasonal naive (12)", "AR(10)". */
  label: string;
  /** Levels for steps 1..H, or null when it does not apply. (H) */
  forecast: Float64Array | null;
  /** Why it does not apply (no season, too short a history, no AR fit), or null. */
  skipped: string | null;
  /** Naive2 and Theta: why a seasonal history was not adjusted (values not above 0), or null. */
  note: string | null;
}

/** AR(T) ready to iterate: each column's coefficients over the window of all I columns. */
export interface AutoregressionModel {
  window: number;
  transform: TargetTransform;
  /** Column i's coefficients, time-major over the T rows × I columns of transformed values, then the intercept. (I)(T·I + 1) */
  coefficients: Float64Array[];
}

export interface BenchmarkOptions {
  /** The seasonal period m in rows, or null. */
  season: number | null;
  /** The AR fit to iterate (a univariate one: one column), or why there is none. */
  autoregression?: AutoregressionModel | string;
}

/** Every benchmark's forecast for steps 1..H after `history`, in the order of BENCHMARK_KEYS. */
export function benchmarkForecasts(
  history: ArrayLike<number>,
  horizon: number,
  options: BenchmarkOptions,
): BenchmarkForecast[] {
  const n = history.length;
  const { season } = options;
  const adjustment = seasonalAdjustment(history, season, horizon);
  const note = adjustment.skipped === null ? null : `not seasonally adjusted: ${adjustment.skipped}`;
  const result = (key: BenchmarkKey, label: string, forecast: Float64Array | string): BenchmarkForecast => ({
    key,
    label,
    forecast: typeof forecast === 'string' ? null : forecast,
    skipped: typeof forecast === 'string' ? forecast : null,
    note: key === 'naive2' || key === 'theta' ? note : null,
  });
  const ar = options.autoregression ?? 'no AR fit was given';
  return [
    result('last-value', 'naive (last value)', n < 1 ? 'no history' : naiveForecast(history, horizon)),
    result(
      'seasonal-naive',
      season === null ? 'seasonal naive' : `seasonal naive (${season})`,
      seasonalNaiveForecast(history, horizon, season),
    ),
    result(
      'naive2',
      'Naive2',
      n < 1 ? 'no history' : reseasonalize(naiveForecast(adjustment.adjusted, horizon), adjustment.futureIndices),
    ),
    result('drift', 'drift', driftForecast(history, horizon)),
    typeof ar === 'string'
      ? result('autoregression', 'AR', ar)
      : result('autoregression', `AR(${ar.window})`, univariateAutoregression(history, ar, horizon)),
    result('theta', 'Theta', thetaForecast(history, horizon, adjustment.adjusted, adjustment.futureIndices)),
  ];
}

/** ŷ_{n+h} = y_n. (H) */
export function naiveForecast(history: ArrayLike<number>, horizon: number): Float64Array {
  return new Float64Array(horizon).fill(history[history.length - 1]);
}

/** The last season repeated (M4's naive_seasonal), or why not. (H) */
export function seasonalNaiveForecast(
  history: ArrayLike<number>,
  horizon: number,
  season: number | null,
): Float64Array | string {
  const n = history.length;
  if (season === null) return 'no seasonal period';
  if (n < season) return `it repeats the last ${season} rows, and the history has ${n}`;
  const out = new Float64Array(horizon);
  for (let h = 1; h <= horizon; h++) out[h - 1] = history[n - season + ((h - 1) % season)];
  return out;
}

/** ŷ_{n+h} = y_n + h · (y_n - y_1) / (n - 1), or why not. (H) */
export function driftForecast(history: ArrayLike<number>, horizon: number): Float64Array | string {
  const n = history.length;
  if (n < 2) return `a slope needs 2 rows of history, and there ${n === 1 ? 'is 1' : `are ${n}`}`;
  const slope = (history[n - 1] - history[0]) / (n - 1);
  const out = new Float64Array(horizon);
  for (let h = 1; h <= horizon; h++) out[h - 1] = history[n - 1] + h * slope;
  return out;
}

/** Forecasts of the adjusted series times each step's seasonal index. (H) */
function reseasonalize(adjusted: Float64Array, futureIndices: Float64Array): Float64Array {
  return adjusted.map((value, h) => value * futureIndices[h]);
}

/** SES fitted by least squares: its smoothing constant, initial level, last level and squared errors. */
export interface SesFit {
  alpha: number;
  /** ℓ_0, the level before the first value. */
  initialLevel: number;
  /** ℓ_n, the level after the last value: SES's forecast for every step. */
  level: number;
  /** Σ of the one-step errors squared. */
  sumOfSquares: number;
}

/** ets's bounds on α. */
export const SES_ALPHA_BOUNDS = { lower: 0.0001, upper: 0.9999 } as const;
const ALPHA_GRID = 100;

/**
 * Simple exponential smoothing ℓ_t = ℓ_{t-1} + α (x_t - ℓ_{t-1}) with α and ℓ_0 minimising Σ_t (x_t -
 * ℓ_{t-1})² (ets "ANN" with opt.crit = "mse"). The errors are linear in ℓ_0, so for each α its best ℓ_0
 * is exact (profile); α is found on a grid of 100 over the bounds, then the derivative of the squared
 * errors in α is bisected to its zero beside the best grid point, which pins α down to rounding (a
 * search on the squared errors alone stops at √ε, where they stop changing).
 */
export function fitSes(series: ArrayLike<number>): SesFit {
  if (series.length < 1) throw new RangeError('SES needs at least one value');
  const { lower, upper } = SES_ALPHA_BOUNDS;
  // The last point is the bound itself, not the bound give or take a rounding.
  const grid = Array.from({ length: ALPHA_GRID }, (_, i) =>
    i === ALPHA_GRID - 1 ? upper : lower + ((upper - lower) * i) / (ALPHA_GRID - 1),
  );
  const fits = grid.map((alpha) => sesAt(series, alpha));
  let best = 0;
  for (let i = 1; i < fits.length; i++) if (fits[i].sumOfSquares < fits[best].sumOfSquares) best = i;
  const slope = fits[best].slope;
  const neighbour = slope < 0 ? best + 1 : best - 1;
  if (slope === 0 || neighbour < 0 || neighbour >= grid.length) return withoutSlope(fits[best]);
  let left = Math.min(grid[best], grid[neighbour]);
  let right = Math.max(grid[best], grid[neighbour]);
  if (!(sesAt(series, left).slope < 0 && sesAt(series, right).slope > 0)) {
    // Not a bracket (two turns within one grid step): the better grid point is as good as can be told.
    return withoutSlope(fits[best]);
  }
  for (let i = 0; i < 200; i++) {
    const middle = 0.5 * (left + right);
    if (middle <= left || middle >= right) break;
    if (sesAt(series, middle).slope < 0) left = middle;
    else right = middle;
  }
  const candidates = [sesAt(series, left), sesAt(series, right), fits[best]];
  const fit = candidates.reduce((a, b) => (b.sumOfSquares < a.sumOfSquares ? b : a));
  return withoutSlope(fit);
}

function withoutSlope({ alpha, initialLevel, level, sumOfSquares }: SesFit & { slope: number }): SesFit {
  return { alpha, initialLevel, level, sumOfSquares };
}

/** SES at a given α with its best ℓ_0, and d(Σ e²)/dα there (ℓ_0 held: at its optimum that is the total derivative). */
function sesAt(series: ArrayLike<number>, alpha: number): SesFit & { slope: number } {
  const n = series.length;
  const keep = 1 - alpha;
  // e_t = u_t - w_t ℓ_0 with u_t the error from ℓ_0 = 0 and w_t = (1 - α)^(t-1).
  let part = 0;
  let weight = 1;
  let uw = 0;
  let ww = 0;
  for (let t = 0; t < n; t++) {
    const u = series[t] - part;
    uw += u * weight;
    ww += weight * weight;
    part += alpha * u;
    weight *= keep;
  }
  const initialLevel = uw / ww;
  let level = initialLevel;
  let levelSlope = 0; // dℓ_t/dα
  let sumOfSquares = 0;
  let slope = 0;
  for (let t = 0; t < n; t++) {
    const error = series[t] - level;
    sumOfSquares += error * error;
    slope -= 2 * error * levelSlope;
    levelSlope = keep * levelSlope + error;
    level += alpha * error;
  }
  return { alpha, initialLevel, level, sumOfSquares, slope };
}

/**
 * M4's Theta.classic on the seasonally adjusted history `adjusted` (n), reseasonalized: half the SES
 * forecast of the theta line 2a - line plus half the line, extended. Negative forecasts become 0 when
 * the history has no value below 0, as in M4. (H)
 */
export function thetaForecast(
  history: ArrayLike<number>,
  horizon: number,
  adjusted: ArrayLike<number>,
  futureIndices: ArrayLike<number>,
): Float64Array | string {
  const n = adjusted.length;
  if (n < 2) return `a trend line needs 2 rows of history, and there ${n === 1 ? 'is 1' : `are ${n}`}`;
  const { intercept, slope } = trendLine(adjusted);
  const thetaLine = new Float64Array(n);
  for (let t = 1; t <= n; t++) thetaLine[t - 1] = 2 * adjusted[t - 1] - (intercept + slope * t);
  const { level } = fitSes(thetaLine);
  let nonNegative = true;
  for (let t = 0; t < history.length; t++) if (history[t] < 0) nonNegative = false;
  const out = new Float64Array(horizon);
  for (let h = 1; h <= horizon; h++) {
    const combined = 0.5 * level + 0.5 * (intercept + slope * (n + h));
    out[h - 1] = (nonNegative ? Math.max(0, combined) : combined) * futureIndices[h - 1];
  }
  return out;
}

/** The least-squares line b_0 + b_1 t through series[t - 1] at t = 1..n (n >= 2). */
export function trendLine(series: ArrayLike<number>): { intercept: number; slope: number } {
  const n = series.length;
  const meanT = (n + 1) / 2;
  let meanY = 0;
  for (let t = 0; t < n; t++) meanY += series[t];
  meanY /= n;
  let covariance = 0;
  let variance = 0;
  for (let t = 1; t <= n; t++) {
    covariance += (t - meanT) * (series[t - 1] - meanY);
    variance += (t - meanT) ** 2;
  }
  const slope = covariance / variance;
  return { intercept: meanY - slope * meanT, slope };
}

/**
 * AR(T) from baselines.ts's fit, arranged to iterate: column i is predicted by the fit's output that
 * is input i, so forecasts can be fed back. Needs the outputs to be the input columns (any order).
 */
export function autoregressionModel(prepared: PreparedData, fit: LinearFit | string): AutoregressionModel | string {
  if (typeof fit === 'string') return fit;
  const { inputs, outputs } = prepared;
  if (inputs.length !== outputs.length || inputs.some((name) => !outputs.includes(name))) {
    return 'a multi-step forecast feeds forecasts back, so the outputs must be the input columns';
  }
  return {
    window: prepared.train.window,
    transform: prepared.transform,
    coefficients: inputs.map((name) => fit.coefficients[outputs.indexOf(name)]),
  };
}

function univariateAutoregression(
  history: ArrayLike<number>,
  model: AutoregressionModel,
  horizon: number,
): Float64Array | string {
  if (model.coefficients.length !== 1) return `this AR reads ${model.coefficients.length} columns, not one`;
  const needed = model.window + model.transform.lag;
  if (history.length < needed) return `it reads ${needed} rows of history, and there are ${history.length}`;
  return autoregressionPaths([history], model, horizon)[0];
}

/**
 * AR(T) iterated H steps after histories of I columns (each n >= T + L rows, levels): each step's
 * transformed values are predicted from the last T (actual, then predicted), then every column's path
 * is undone to levels as the model's are (transform.ts: pathLevels). (I)(H)
 */
export function autoregressionPaths(
  histories: ArrayLike<number>[],
  model: AutoregressionModel,
  horizon: number,
): Float64Array[] {
  const { window: T, transform, coefficients } = model;
  const I = histories.length;
  const n = histories[0].length;
  const F = T * I + 1;
  if (coefficients.length !== I || coefficients.some((a) => a.length !== F)) {
    throw new RangeError(`AR over ${I} columns and a window of ${T} needs ${I} sets of ${F} coefficients`);
  }
  if (histories.some((h) => h.length !== n) || n < T + transform.lag) {
    throw new RangeError(`AR needs ${T + transform.lag} rows of every column, got ${histories.map((h) => h.length)}`);
  }
  // (T + H, I) the transformed window, then the predicted steps, time-major.
  const z = new Float64Array((T + horizon) * I);
  for (let s = 0; s < T; s++) {
    const row = n - T + s;
    for (let i = 0; i < I; i++) {
      const y = histories[i];
      z[s * I + i] = toTransformed(transform.kind, y[row], transform.lag === 0 ? 0 : y[row - transform.lag]);
    }
  }
  for (let h = 0; h < horizon; h++) {
    const window = z.subarray(h * I, (h + T) * I);
    for (let i = 0; i < I; i++) {
      const a = coefficients[i];
      let sum = a[F - 1];
      for (let f = 0; f < F - 1; f++) sum += a[f] * window[f];
      z[(T + h) * I + i] = sum;
    }
  }
  return histories.map((y, i) => {
    const predicted = Array.from({ length: horizon }, (_, h) => z[(T + h) * I + i]);
    return pathLevels(transform, y, n, predicted);
  });
}
