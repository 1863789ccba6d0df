// The forecast measures recomputed from the raw CSV files for every bundled series, with plain code
// that shares nothing with src/ (its own CSV reading, autocorrelations, decomposition, exponential
// smoothing, least squares and scores), from the definitions of the M4 competition
// (Mcompetitions/M4-methods, "Benchmarks and Evaluation.R") and of split conformal prediction:
//   - every benchmark's forecasts and per-horizon MASE, sMAPE and OWA from every origin of the
//     held-out part;
//   - split conformal bounds from drift forecasts on the validation part, applied to the held-out
//     part, with their coverage, margin, width and MSIS; and ensemble bounds from the benchmarks as
//     members;
//   - train's held-out forecasts (src/train/heldOut.ts) of a stand-in model whose forecasts are a
//     line from the last value: every origin's forecast, its per-horizon MASE and sMAPE, and the
//     conformal coverage, width and margin from the validation part's forecasts.
// src/ is only called: the functions under test, and prepareData with fitAutoregression for the AR fit
// (which this file recomputes by the normal equations and compares through the forecasts).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fitAutoregression } from '../src/data/baselines.js';
import { prepareData } from '../src/data/prepare.js';
import { tableFromSeries } from '../src/data/windows.js';
import { benchmarkBacktest } from '../src/forecast/backtest.js';
import { autoregressionModel, driftForecast } from '../src/forecast/benchmarks.js';
import { type Metric, rollingForecasts } from '../src/forecast/horizons.js';
import {
  calibrationScores,
  conformalIntervals,
  ensembleIntervals,
  type IntervalTable,
  intervalTable,
} from '../src/forecast/intervals.js';
import type { Forecaster } from '../src/train/forecast.js';
import { heldOutForecasts } from '../src/train/heldOut.js';
import { repoRoot } from './helpers.js';

const DATA = join(repoRoot, 'node_modules', 'vega-datasets', 'data');
const HORIZON = 12;
const SEASON = 12;
const LEVELS = [80, 95];

/** One value column of a raw CSV, optionally only the rows whose first column is `symbol`. */
function rawColumn(file: string, column: string, symbol?: string): number[] {
  const [header, ...lines] = readFileSync(join(DATA, file), 'utf8').trim().split('\n');
  const at = header.split(',').indexOf(column);
  return lines
    .map((line) => line.split(','))
    .filter((cells) => symbol === undefined || cells[0] === symbol)
    .map((cells) => Number(cells[at]));
}

// ---- M4's benchmarks, written out once more ----

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** stats::acf at lag k. */
function acf(y: number[], k: number): number {
  const ybar = mean(y);
  let top = 0;
  for (let t = k; t < y.length; t++) top += (y[t] - ybar) * (y[t - k] - ybar);
  return top / y.reduce((sum, v) => sum + (v - ybar) ** 2, 0);
}

function isSeasonal(y: number[], m: number): boolean {
  if (y.length < 3 * m) return false;
  let cumulative = 1;
  for (let k = 1; k < m; k++) cumulative += 2 * acf(y, k) ** 2;
  return Math.abs(acf(y, m)) > (1.645 / Math.sqrt(y.length)) * Math.sqrt(cumulative);
}

/** decompose(type = "multiplicative")$figure: the filter c(½, 1, …, 1, ½)/m (even m) or rep(1/m, m). */
function seasonalFigure(y: number[], m: number): number[] {
  const filter = m % 2 === 0 ? [0.5, ...new Array(m - 1).fill(1), 0.5].map((w) => w / m) : new Array(m).fill(1 / m);
  const offset = (filter.length - 1) / 2;
  const ratios: number[][] = Array.from({ length: m }, () => []);
  for (let t = offset; t < y.length - offset; t++) {
    const trend = filter.reduce((sum, w, j) => sum + w * y[t - offset + j], 0);
    ratios[t % m].push(y[t] / trend);
  }
  const figure = ratios.map(mean);
  const average = mean(figure);
  return figure.map((f) => f / average);
}

/** SES's squared one-step errors at α with its best initial level, and its last level. */
function ses(x: number[], alpha: number): { sse: number; last: number } {
  // Every one-step error is a - b·ℓ0 for the a, b of a run from ℓ0 = 0: solve for the best ℓ0.
  let ab = 0;
  let bb = 0;
  let level = 0;
  let weight = 1;
  for (const v of x) {
    ab += (v - level) * weight;
    bb += weight * weight;
    level = level + alpha * (v - level);
    weight = weight * (1 - alpha);
  }
  const l0 = ab / bb;
  let sse = 0;
  let last = l0;
  for (const v of x) {
    sse += (v - last) ** 2;
    last += alpha * (v - last);
  }
  return { sse, last };
}

/** forecast::ses's α within [0.0001, 0.9999]: a scan of 300, then golden sections. */
function sesLevel(x: number[]): number {
  const lo = 0.0001;
  const hi = 0.9999;
  let best = lo;
  let bestSse = Number.POSITIVE_INFINITY;
  const step = (hi - lo) / 300;
  for (let i = 0; i <= 300; i++) {
    const alpha = Math.min(hi, lo + i * step);
    const { sse } = ses(x, alpha);
    if (sse < bestSse) [best, bestSse] = [alpha, sse];
  }
  let left = Math.max(lo, best - step);
  let right = Math.min(hi, best + step);
  const golden = (Math.sqrt(5) - 1) / 2;
  for (let i = 0; i < 200 && right - left > 1e-15; i++) {
    const c = right - golden * (right - left);
    const d = left + golden * (right - left);
    if (ses(x, c).sse < ses(x, d).sse) right = d;
    else left = c;
  }
  const candidates = [left, right, best].map((alpha) => ses(x, alpha));
  return candidates.reduce((p, q) => (q.sse < p.sse ? q : p)).last;
}

/** Theta.classic on the adjusted series `x` (before reseasonalizing). */
function thetaClassic(x: number[], h: number): number[] {
  const n = x.length;
  // lm(x ~ t), t = 1..n, by the normal equations.
  const st = (n * (n + 1)) / 2;
  const stt = (n * (n + 1) * (2 * n + 1)) / 6;
  const sy = x.reduce((s, v) => s + v, 0);
  const sty = x.reduce((s, v, i) => s + (i + 1) * v, 0);
  const b = (n * sty - st * sy) / (n * stt - st * st);
  const a = (sy - b * st) / n;
  const theta2 = x.map((v, i) => 2 * v - (a + b * (i + 1)));
  const level = sesLevel(theta2);
  return Array.from({ length: h }, (_, k) => Math.max(0, 0.5 * level + 0.5 * (a + b * (n + k + 1))));
}

interface Setup {
  kind: 'differences' | 'log-returns';
  window: number;
}

/** AR(T) on transformed values fitted on training target rows [1 + T, V) by the normal equations. */
function fitAr(y: number[], { kind, window: T }: Setup, V: number): number[] {
  const z = transformed(y, kind);
  const rows: number[][] = [];
  const targets: number[] = [];
  for (let r = 1 + T; r < V; r++) {
    rows.push([...z.slice(r - T, r), 1]);
    targets.push(z[r]);
  }
  const F = T + 1;
  const m = Array.from({ length: F }, (_, i) => {
    const row = new Array(F + 1).fill(0);
    for (let n = 0; n < rows.length; n++) {
      for (let j = 0; j < F; j++) row[j] += rows[n][i] * rows[n][j];
      row[F] += rows[n][i] * targets[n];
    }
    return row;
  });
  for (let c = 0; c < F; c++) {
    let pivot = c;
    for (let r = c + 1; r < F; r++) if (Math.abs(m[r][c]) > Math.abs(m[pivot][c])) pivot = r;
    [m[c], m[pivot]] = [m[pivot], m[c]];
    for (let r = 0; r < F; r++) {
      if (r === c) continue;
      const f = m[r][c] / m[c][c];
      for (let j = c; j <= F; j++) m[r][j] -= f * m[c][j];
    }
  }
  return m.map((row, i) => row[F] / row[i]);
}

function transformed(y: number[], kind: Setup['kind']): number[] {
  return y.map((v, r) => (r === 0 ? Number.NaN : kind === 'differences' ? v - y[r - 1] : Math.log(v / y[r - 1])));
}

function arForecast(history: number[], a: number[], { kind, window: T }: Setup, h: number): number[] {
  const z = transformed(history, kind).slice(-T);
  const out: number[] = [];
  let last = history[history.length - 1];
  for (let k = 0; k < h; k++) {
    const window = z.slice(-T);
    const next = window.reduce((s, v, i) => s + a[i] * v, a[T]);
    z.push(next);
    last = kind === 'differences' ? last + next : last * Math.exp(next);
    out.push(last);
  }
  return out;
}

/** Every benchmark's forecast from one origin (history = the rows before it). */
function benchmarks(history: number[], h: number, ar: number[], setup: Setup): Record<string, number[]> {
  const n = history.length;
  const seasonal = isSeasonal(history, SEASON);
  const figure = seasonal ? seasonalFigure(history, SEASON) : new Array(SEASON).fill(1);
  const adjusted = history.map((v, t) => v / figure[t % SEASON]);
  const out = (f: (k: number) => number) => Array.from({ length: h }, (_, k) => f(k + 1));
  const indexAt = (k: number) => figure[(n - 1 + k) % SEASON];
  const theta = thetaClassic(adjusted, h);
  return {
    'last-value': out(() => history[n - 1]),
    'seasonal-naive': out((k) => history[n - SEASON + ((k - 1) % SEASON)]),
    naive2: out((k) => adjusted[n - 1] * indexAt(k)),
    drift: out((k) => history[n - 1] + (k * (history[n - 1] - history[0])) / (n - 1)),
    autoregression: arForecast(history, ar, setup, h),
    theta: out((k) => theta[k - 1] * indexAt(k)),
  };
}

/** MASE's scale over rows 0..o-1 (every bundled history changes, so it is never 0). */
function scaleAt(y: number[], o: number): number {
  let sum = 0;
  for (let t = SEASON; t < o; t++) sum += Math.abs(y[t] - y[t - SEASON]);
  return sum / (o - SEASON);
}

interface Scores {
  mase: number[];
  smape: number[];
}

/** Per step (index h - 1) and pooled (index H): MASE and sMAPE of forecasts from origins [B, R). */
function score(y: number[], forecasts: Map<number, number[]>, B: number, R: number): Scores {
  const mase = new Array(HORIZON + 1).fill(0);
  const smape = new Array(HORIZON + 1).fill(0);
  const count = new Array(HORIZON + 1).fill(0);
  for (const [o, f] of forecasts) {
    for (let k = 0; k < HORIZON && o + k < R && o + k >= B; k++) {
      const actual = y[o + k];
      const e = Math.abs(actual - f[k]);
      for (const i of [k, HORIZON]) {
        mase[i] += e / scaleAt(y, o);
        smape[i] += (200 * e) / (Math.abs(actual) + Math.abs(f[k]));
        count[i] += 1;
      }
    }
  }
  return { mase: mase.map((s, i) => s / count[i]), smape: smape.map((s, i) => s / count[i]) };
}

// ---- intervals, written out once more ----

interface Bounds {
  lower: number[];
  upper: number[];
}

function intervalScores(y: number[], bounds: Map<number, Bounds>, B: number, R: number, level: number) {
  const a = 1 - level / 100;
  const inside = new Array(HORIZON + 1).fill(0);
  const width = new Array(HORIZON + 1).fill(0);
  const msis = new Array(HORIZON + 1).fill(0);
  const count = new Array(HORIZON + 1).fill(0);
  for (const [o, { lower, upper }] of bounds) {
    for (let k = 0; k < HORIZON && o + k < R && o + k >= B; k++) {
      const v = y[o + k];
      const [l, u] = [lower[k], upper[k]];
      const penalty = v < l ? (2 / a) * (l - v) : v > u ? (2 / a) * (v - u) : 0;
      for (const i of [k, HORIZON]) {
        inside[i] += v >= l && v <= u ? 1 : 0;
        width[i] += u - l;
        msis[i] += (u - l + penalty) / scaleAt(y, o);
        count[i] += 1;
      }
    }
  }
  return count.map((n, i) => ({
    count: n,
    coverage: (100 * inside[i]) / n,
    margin: 196 * Math.sqrt(((level / 100) * (1 - level / 100)) / n),
    width: width[i] / n,
    msis: msis[i] / n,
  }));
}

/** |a - e| <= 1e-6 |e|, or both absent. */
function agrees(actual: Metric | number | null | undefined, expected: number, what: string): void {
  const value = typeof actual === 'object' && actual !== null ? actual.value : actual;
  expect(value, `${what}${typeof actual === 'object' && actual?.reason ? `: ${actual.reason}` : ''}`).not.toBeNull();
  expect(Math.abs((value as number) - expected), `${what}: ${value} against ${expected}`).toBeLessThanOrEqual(
    1e-6 * Math.abs(expected) + 1e-12,
  );
}

interface Case {
  name: string;
  y: number[];
  setup: Setup;
}

const CASES: Case[] = [
  ...['AAPL', 'AMZN', 'GOOG', 'IBM', 'MSFT'].map(
    (symbol): Case => ({
      name: symbol,
      y: rawColumn('stocks.csv', 'price', symbol),
      setup: { kind: 'log-returns', window: 10 },
    }),
  ),
  { name: 'S&P 500', y: rawColumn('sp500.csv', 'price'), setup: { kind: 'log-returns', window: 10 } },
  { name: 'CO2', y: rawColumn('co2-concentration.csv', 'CO2'), setup: { kind: 'differences', window: 24 } },
];

describe('forecast measures recomputed from the raw CSV', () => {
  for (const c of CASES) {
    const { y, setup } = c;
    const R = y.length;
    const B = Math.min(Math.round(R * 0.8), R - 1);
    const V = Math.round(R * (0.8 - 0.1));

    it(`${c.name}: every benchmark's forecasts and per-horizon MASE, sMAPE and OWA on the held-out origins`, () => {
      const prepared = prepareData(tableFromSeries(y), {
        inputs: [0],
        outputs: [0],
        window: setup.window,
        validationFraction: 0.1,
        transform: setup.kind,
        season: SEASON,
      });
      const model = autoregressionModel(prepared, fitAutoregression(prepared));
      expect(typeof model).not.toBe('string');
      const reported = benchmarkBacktest({ series: y, targets: { start: B, end: R }, season: SEASON }, HORIZON, {
        autoregression: typeof model === 'string' ? undefined : model,
      });

      const ar = fitAr(y, setup, V);
      const byKey = new Map<string, Map<number, number[]>>();
      for (let o = B; o < R; o++) {
        for (const [key, f] of Object.entries(benchmarks(y.slice(0, o), HORIZON, ar, setup))) {
          if (!byKey.has(key)) byKey.set(key, new Map());
          byKey.get(key)!.set(o, f);
        }
      }
      const naive2 = score(y, byKey.get('naive2')!, B, R);
      for (const benchmark of reported.benchmarks) {
        expect(benchmark.skipped, benchmark.key).toBeNull();
        // The forecasts themselves (Naive2 and Theta above all), at every origin and step.
        for (const { origin, forecast } of benchmark.forecasts!) {
          const expected = byKey.get(benchmark.key)!.get(origin)!;
          forecast.forEach((value, k) => {
            agrees(value, expected[k], `${benchmark.label} from row ${origin + 1} h=${k + 1}`);
          });
        }
        const mine = score(y, byKey.get(benchmark.key)!, B, R);
        const rows = [...benchmark.table!.steps, benchmark.table!.overall];
        rows.forEach((row, i) => {
          const what = `${benchmark.label} ${i < HORIZON ? `h=${i + 1}` : 'all steps'}`;
          agrees(row.mase, mine.mase[i], `${what} MASE`);
          agrees(row.smape, mine.smape[i], `${what} sMAPE`);
          const owa = 0.5 * (mine.smape[i] / naive2.smape[i] + mine.mase[i] / naive2.mase[i]);
          agrees(row.owa, owa, `${what} OWA`);
        });
      }
    });

    it(`${c.name}: split conformal and ensemble bounds, coverage, width and MSIS on the held-out origins`, () => {
      // Drift stands in for the model: calibrated on forecasts from the validation part's origins
      // whose rows stay in it, scored on the held-out part.
      const drift = (history: Float64Array, h: number) => driftForecast(history, h);
      const calibration = rollingForecasts(y, { start: V, end: B }, HORIZON, drift);
      const heldOut = rollingForecasts(y, { start: B, end: R }, HORIZON, drift);
      if (typeof calibration === 'string' || typeof heldOut === 'string') throw new Error('drift did not forecast');
      const scores = calibrationScores(y, { start: V, end: B }, calibration, HORIZON);
      const part = { series: y, targets: { start: B, end: R }, season: SEASON };

      const myDrift = (o: number) =>
        Array.from({ length: HORIZON }, (_, k) => y[o - 1] + ((k + 1) * (y[o - 1] - y[0])) / (o - 1));
      const residuals: number[][] = Array.from({ length: HORIZON }, () => []);
      for (let o = V; o < B; o++) {
        const f = myDrift(o);
        for (let k = 0; k < HORIZON && o + k < B; k++) residuals[k].push(Math.abs(y[o + k] - f[k]));
      }
      const compareTables = (table: IntervalTable, bounds: Map<number, Bounds>, level: number, what: string) => {
        const mine = intervalScores(y, bounds, B, R, level);
        [...table.steps, table.overall].forEach((row, i) => {
          if (mine[i].count === 0 || row.coverage.value === null) return;
          const label = `${what} ${i < HORIZON ? `h=${i + 1}` : 'all steps'}`;
          expect(row.count, label).toBe(mine[i].count);
          agrees(row.coverage, mine[i].coverage, `${label} coverage`);
          agrees(row.margin, mine[i].margin, `${label} margin`);
          agrees(row.width, mine[i].width, `${label} width`);
          agrees(row.msis, mine[i].msis, `${label} MSIS`);
        });
      };

      for (const level of LEVELS) {
        const set = conformalIntervals(heldOut, scores, level);
        const bounds = new Map<number, Bounds>();
        const halfWidths = residuals.map((list) => {
          const sorted = [...list].sort((p, q) => p - q);
          const k = Math.ceil(((list.length + 1) * level) / 100 - 1e-9);
          return k <= list.length ? sorted[k - 1] : null;
        });
        halfWidths.forEach((q, k) => {
          expect(set.unavailable[k] === null, `${level}% h=${k + 1} has a half width`).toBe(q !== null);
        });
        for (let o = B; o < R; o++) {
          const f = myDrift(o);
          bounds.set(o, {
            lower: f.map((v, k) => v - (halfWidths[k] ?? Number.NaN)),
            upper: f.map((v, k) => v + (halfWidths[k] ?? Number.NaN)),
          });
        }
        for (const interval of set.intervals) {
          const mine = bounds.get(interval.origin)!;
          for (let k = 0; k < HORIZON; k++) {
            if (halfWidths[k] === null) continue;
            agrees(interval.lower[k], mine.lower[k], `${level}% lower from row ${interval.origin + 1} h=${k + 1}`);
            agrees(interval.upper[k], mine.upper[k], `${level}% upper from row ${interval.origin + 1} h=${k + 1}`);
          }
        }
        const table = intervalTable(part, set);
        for (let k = 0; k < HORIZON; k++) {
          if (halfWidths[k] === null)
            expect(table.steps[k].coverage.reason).toMatch(
              /split conformal interval needs|no calibration forecast reaches/,
            );
        }
        compareTables(table, bounds, level, `conformal ${level}%`);
      }

      // Ensemble: the six benchmarks as members, their quantiles (type 7) at each step.
      const members = benchmarkBacktest(part, HORIZON, {}).benchmarks.filter((b) => b.forecasts !== null);
      const ensemble = ensembleIntervals(
        members.map((b) => b.forecasts!),
        80,
      );
      const bounds = new Map<number, Bounds>();
      ensemble.intervals.forEach(({ origin }, n) => {
        const lower: number[] = [];
        const upper: number[] = [];
        for (let k = 0; k < HORIZON; k++) {
          const values = members.map((b) => b.forecasts![n].forecast[k]).sort((p, q) => p - q);
          const pick = (p: number) => {
            const h = (values.length - 1) * p;
            const i = Math.floor(h);
            return values[i] + (h - i) * ((values[Math.min(i + 1, values.length - 1)] ?? values[i]) - values[i]);
          };
          lower.push(pick(0.1));
          upper.push(pick(0.9));
        }
        bounds.set(origin, { lower, upper });
        agrees(ensemble.intervals[n].lower[0], lower[0], `ensemble lower from row ${origin + 1}`);
        agrees(ensemble.intervals[n].upper[HORIZON - 1], upper[HORIZON - 1], `ensemble upper from row ${origin + 1}`);
      });
      compareTables(intervalTable(part, ensemble), bounds, 80, 'ensemble 80%');
    });
  }
});

// ---- train's held-out part, written out once more ----

/**
 * A stand-in for the model that predicts the same normalized value at every step (a member each):
 * a transformed value of offset + c · scale, so its forecasts are a straight line (differences) or a
 * constant growth (log returns) from the last value, which this file can write out from the raw CSV.
 */
function constantForecaster(window: number, constants: number[]): Forecaster {
  return {
    config: { inputSize: 1, hiddenSizes: [1], outputSize: 1, window },
    members: constants.length,
    predictMembers: async (_x, count) => constants.map((c) => new Float32Array(count).fill(c)),
  };
}

describe("train's held-out forecasts recomputed from the raw CSV", () => {
  for (const c of CASES) {
    const { y, setup } = c;
    const R = y.length;
    const B = Math.min(Math.round(R * 0.8), R - 1);
    const V = Math.round(R * (0.8 - 0.1));

    it(`${c.name}: every origin's forecast, its per-horizon MASE and sMAPE, and conformal coverage from the validation part`, async () => {
      const prepared = prepareData(tableFromSeries(y), {
        inputs: [0],
        outputs: [0],
        window: setup.window,
        validationFraction: 0.1,
        transform: setup.kind,
        season: SEASON,
      });
      const constants = [0.25, -0.5];
      const result = await heldOutForecasts(
        constantForecaster(setup.window, constants),
        { prepared, unit: null, levels: prepared.table },
        { horizon: HORIZON, levels: [80] },
      );
      // The normalization of the transformed training rows [1, V): mean and population deviation.
      const z = transformed(y, setup.kind).slice(1, V);
      const mu = mean(z);
      const sigma = Math.sqrt(mean(z.map((v) => (v - mu) ** 2)));
      const line = (o: number, constant: number) => {
        const step = mu + constant * sigma;
        return Array.from({ length: HORIZON }, (_, k) =>
          setup.kind === 'differences' ? y[o - 1] + (k + 1) * step : y[o - 1] * Math.exp((k + 1) * step),
        );
      };
      const forecastAt = (o: number) => {
        const paths = constants.map((constant) => line(o, constant));
        return paths[0].map((_, k) => mean(paths.map((p) => p[k])));
      };
      const forecasts = new Map<number, number[]>();
      for (let o = B; o < R; o++) forecasts.set(o, forecastAt(o));
      for (const { origin, forecast } of result.forecasts ?? []) {
        forecast.forEach((value, k) => {
          agrees(value, forecasts.get(origin)![k], `forecast from row ${origin + 1} h=${k + 1}`);
        });
      }
      const mine = score(y, forecasts, B, R);
      const rows = [...(result.model?.steps ?? []), result.model!.overall];
      rows.forEach((row, i) => {
        agrees(row.mase, mine.mase[i], `${i < HORIZON ? `h=${i + 1}` : 'all steps'} MASE`);
        agrees(row.smape, mine.smape[i], `${i < HORIZON ? `h=${i + 1}` : 'all steps'} sMAPE`);
      });

      // Conformal at 80%: |y - ŷ| of the forecasts from the validation rows, on validation rows only.
      const residuals: number[][] = Array.from({ length: HORIZON }, () => []);
      for (let o = V; o < B; o++) {
        const f = forecastAt(o);
        for (let k = 0; k < HORIZON && o + k < B; k++) residuals[k].push(Math.abs(y[o + k] - f[k]));
      }
      const halfWidths = residuals.map((list) => {
        const sorted = [...list].sort((p, q) => p - q);
        const k = Math.ceil(((list.length + 1) * 80) / 100 - 1e-9);
        return k <= list.length ? sorted[k - 1] : null;
      });
      const steps = halfWidths.indexOf(null) < 0 ? HORIZON : halfWidths.indexOf(null);
      let inside = 0;
      let count = 0;
      let width = 0;
      for (let o = B; o < R; o++) {
        const f = forecastAt(o);
        for (let k = 0; k < steps && o + k < R; k++) {
          const q = halfWidths[k] as number;
          inside += Math.abs(y[o + k] - f[k]) <= q ? 1 : 0;
          width += 2 * q;
          count += 1;
        }
      }
      const conformal = result.intervals.find((i) => i.method === 'conformal' && i.level === 80)!;
      expect(conformal.steps, 'steps with an interval').toBe(steps);
      const overall = conformal.table!.overall;
      expect(overall.count).toBe(count);
      agrees(overall.coverage, (100 * inside) / count, 'coverage');
      agrees(overall.width, width / count, 'width');
      // The margin of the R - B distinct held-out values, not of the pairs that share them.
      agrees(overall.margin, 196 * Math.sqrt((0.8 * 0.2) / (R - B)), 'margin');
      // Two members: their spread at 80% lies between them, a tenth of the way in from each.
      const ensemble = result.intervals.find((i) => i.method === 'ensemble')!;
      let spread = 0;
      let pairs = 0;
      for (let o = B; o < R; o++) {
        const [first, second] = constants.map((constant) => line(o, constant));
        for (let k = 0; k < HORIZON && o + k < R; k++) {
          spread += 0.8 * Math.abs(first[k] - second[k]);
          pairs += 1;
        }
      }
      agrees(ensemble.table?.overall.width, spread / pairs, 'ensemble width');
    });
  }
});
