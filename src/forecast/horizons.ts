// Multi-step accuracy per horizon: forecasts made from every origin of the part being evaluated, each
// with only the rows before it, scored h = 1..H steps ahead in the data's units and by the M4
// competition's measures (Makridakis, Spiliotis & Assimakopoulos 2020, "The M4 Competition: 100,000
// time series and 61 forecasting methods", Int. J. Forecasting 36(1); code: Mcompetitions/M4-methods,
// "Benchmarks and Evaluation.R": smape_cal, mase_cal and the OWA lines).
//
// Legend: H = the horizon in steps (not the hidden size here), o = an origin, the first row forecast
// (its history is rows 0..o-1), m = the seasonal period (1 when there is none), y = the series,
// ŷ = a forecast, N_h = the (origin, step h) pairs whose row o+h-1 lies inside the part.
//   MAE_h   = mean over N_h of |y - ŷ|                 RMSE_h = sqrt(mean over N_h of (y - ŷ)²)
//   sMAPE_h = mean over N_h of 200 |y - ŷ| / (|y| + |ŷ|)              (percent, 0..200)
//   MASE_h  = mean over N_h of |y - ŷ| / scale_o,  scale_o = (1/(o-m)) Σ_{t=m..o-1} |y_t - y_{t-m}|
//             (the in-sample seasonal naive MAE of origin o's history, rows counted from 0)
//   OWA_h   = ½ (sMAPE_h / sMAPE_h of Naive2 + MASE_h / MASE_h of Naive2)   on the same origins
// The row for all steps pools every pair (M4's mean over the horizon and the series). An origin near
// the part's end has fewer steps inside it, so N_h shrinks as h grows; no target outside the part is
// ever scored.

import type { RowRange } from '../data/windows.js';

/** A number, or why it cannot be computed: exactly one of the two is null. */
export interface Metric {
  value: number | null;
  reason: string | null;
}

/** The forecast made at one origin for rows origin .. origin+H-1, in levels. */
export interface OriginForecast {
  /** The first row forecast; the forecast saw rows 0..origin-1 only. */
  origin: number;
  /** (H) */
  forecast: Float64Array;
}

/** The series and the rows being evaluated (every target lies inside `targets`). */
export interface EvaluationPart {
  /** One column of levels, every row of the data. (R) */
  series: ArrayLike<number>;
  targets: RowRange;
  /** The seasonal period in rows, or null (MASE then scales by the naive one-step error). */
  season: number | null;
}

export interface HorizonRow {
  /** Steps ahead, 1..H; 0 for the row that pools every step. */
  horizon: number;
  /** Pairs scored. */
  count: number;
  mae: Metric;
  rmse: Metric;
  mase: Metric;
  smape: Metric;
  /** Against Naive2 on the same pairs; a reason when no Naive2 table was given. */
  owa: Metric;
}

export interface HorizonTable {
  /** (H) */
  steps: HorizonRow[];
  overall: HorizonRow;
}

export const known = (value: number): Metric => ({ value, reason: null });
export const unknown = (reason: string): Metric => ({ value: null, reason });

/** Why step `horizon` (0: every step) has nothing to score. */
export function nothingToScore(horizon: number): string {
  return horizon === 0
    ? 'no forecast reaches a row of the part'
    : `no origin has a row ${horizon} step${horizon > 1 ? 's' : ''} ahead inside the part`;
}

/** Every row of the part as an origin. */
export function originsIn(targets: RowRange): number[] {
  return Array.from({ length: Math.max(0, targets.end - targets.start) }, (_, k) => targets.start + k);
}

/**
 * `forecaster` run from every origin of `targets` with the rows before it: the forecasts, or the first
 * origin's reason it could not forecast.
 */
export function rollingForecasts(
  series: ArrayLike<number>,
  targets: RowRange,
  horizon: number,
  forecaster: (history: Float64Array, horizon: number) => Float64Array | string,
): OriginForecast[] | string {
  const all = Float64Array.from(series);
  const out: OriginForecast[] = [];
  for (const origin of originsIn(targets)) {
    const forecast = forecaster(all.subarray(0, origin), horizon);
    if (typeof forecast === 'string') return `from row ${origin + 1}: ${forecast}`;
    out.push({ origin, forecast });
  }
  return out;
}

/** The seasonal m, 1 without a season (MASE's scale is then the naive one-step MAE). */
export function scalingPeriod(season: number | null): number {
  return season === null || season < 1 ? 1 : season;
}

/** MASE's (and MSIS's) scale for origin o: the in-sample seasonal naive MAE of rows 0..o-1, or why none. */
export function maseScale(series: ArrayLike<number>, origin: number, season: number | null): Metric {
  const m = scalingPeriod(season);
  if (origin <= m) {
    return unknown(
      `MASE divides by the mean change over ${m} row${m > 1 ? 's' : ''} in the history, which needs more than ${m} row${m > 1 ? 's' : ''}; the forecast from row ${origin + 1} has ${origin}`,
    );
  }
  let sum = 0;
  for (let t = m; t < origin; t++) sum += Math.abs(series[t] - series[t - m]);
  if (sum === 0) {
    return unknown(
      m === 1
        ? `the history before row ${origin + 1} is constant, so MASE's scale (its mean change from row to row) is 0`
        : `every value before row ${origin + 1} equals the one ${m} rows before it, so MASE's scale (their mean difference) is 0`,
    );
  }
  return known(sum / (origin - m));
}

/** maseScale for each origin asked about, computed once per origin. */
export function maseScales(series: ArrayLike<number>, season: number | null): (origin: number) => Metric {
  const scales = new Map<number, Metric>();
  return (origin) => {
    let scale = scales.get(origin);
    if (scale === undefined) {
      scale = maseScale(series, origin, season);
      scales.set(origin, scale);
    }
    return scale;
  };
}

/** One (origin, step) pair inside the part: its row, actual level, forecast and origin. */
export interface ScoredPair {
  origin: number;
  /** 1..H */
  step: number;
  row: number;
  actual: number;
  forecast: number;
}

/** Calls `visit` for each step 1..steps of the forecast from `origin` whose row lies inside `targets`. */
export function forEachStepInside(
  targets: RowRange,
  origin: number,
  steps: number,
  visit: (step: number, row: number) => void,
): void {
  for (let step = 1; step <= steps; step++) {
    const row = origin + step - 1;
    if (row >= targets.start && row < targets.end) visit(step, row);
  }
}

/** Calls `visit` for every pair whose row lies inside `targets`, in origin then step order. */
export function forEachPair(
  series: ArrayLike<number>,
  targets: RowRange,
  forecasts: readonly OriginForecast[],
  visit: (pair: ScoredPair) => void,
): void {
  for (const { origin, forecast } of forecasts) {
    forEachStepInside(targets, origin, forecast.length, (step, row) =>
      visit({ origin, step, row, actual: series[row], forecast: forecast[step - 1] }),
    );
  }
}

/** Sums over one horizon's pairs, with the first reason each measure cannot be computed. */
class Accumulator {
  count = 0;
  absolute = 0;
  squares = 0;
  scaled = 0;
  symmetric = 0;
  notFinite: string | null = null;
  noScale: string | null = null;
  zeroDenominator: string | null = null;

  add(pair: ScoredPair, scale: Metric): void {
    const { actual, forecast } = pair;
    this.count += 1;
    if (!Number.isFinite(forecast)) {
      this.notFinite ??= `the forecast from row ${pair.origin + 1}, ${pair.step} step${pair.step > 1 ? 's' : ''} ahead, is ${forecast}, not a finite number`;
      return;
    }
    const error = Math.abs(actual - forecast);
    this.absolute += error;
    this.squares += error * error;
    if (scale.value === null) this.noScale ??= scale.reason;
    else this.scaled += error / scale.value;
    const denominator = Math.abs(actual) + Math.abs(forecast);
    if (denominator === 0) {
      this.zeroDenominator ??= `at row ${pair.row + 1} the actual value and the forecast are both 0, so sMAPE's |y - ŷ| / (|y| + |ŷ|) is 0/0`;
    } else {
      this.symmetric += (200 * error) / denominator;
    }
  }

  row(horizon: number): HorizonRow {
    const n = this.count;
    const owa = unknown('no Naive2 forecasts to compare with');
    if (n === 0) {
      const none = unknown(nothingToScore(horizon));
      return { horizon, count: 0, mae: none, rmse: none, mase: none, smape: none, owa: none };
    }
    if (this.notFinite !== null) {
      const bad = unknown(this.notFinite);
      return { horizon, count: n, mae: bad, rmse: bad, mase: bad, smape: bad, owa: bad };
    }
    return {
      horizon,
      count: n,
      mae: known(this.absolute / n),
      rmse: known(Math.sqrt(this.squares / n)),
      mase: this.noScale === null ? known(this.scaled / n) : unknown(this.noScale),
      smape: this.zeroDenominator === null ? known(this.symmetric / n) : unknown(this.zeroDenominator),
      owa,
    };
  }
}

/**
 * Per-horizon MAE, RMSE, MASE, sMAPE (and OWA against `naive2`, a table of Naive2's forecasts from
 * the same origins) of `forecasts` on `part`. (H) rows and the pooled row.
 */
export function horizonTable(
  part: EvaluationPart,
  forecasts: readonly OriginForecast[],
  naive2: HorizonTable | null = null,
): HorizonTable {
  const horizon = forecasts.length === 0 ? 0 : forecasts[0].forecast.length;
  if (forecasts.some((f) => f.forecast.length !== horizon)) {
    throw new RangeError('every origin needs a forecast of the same number of steps');
  }
  const { series, targets, season } = part;
  const steps = Array.from({ length: horizon }, () => new Accumulator());
  const all = new Accumulator();
  const scaleAt = maseScales(series, season);
  forEachPair(series, targets, forecasts, (pair) => {
    const scale = scaleAt(pair.origin);
    steps[pair.step - 1].add(pair, scale);
    all.add(pair, scale);
  });
  const withOwa = (row: HorizonRow, reference: HorizonRow | undefined): HorizonRow =>
    naive2 === null || reference === undefined ? row : { ...row, owa: owa(row, reference) };
  return {
    steps: steps.map((s, h) => withOwa(s.row(h + 1), naive2?.steps[h])),
    overall: withOwa(all.row(0), naive2?.overall),
  };
}

/** ½ (sMAPE / sMAPE of Naive2 + MASE / MASE of Naive2), or why not. */
export function owa(row: HorizonRow, naive2: HorizonRow): Metric {
  if (row.count !== naive2.count) {
    return unknown(`Naive2 was scored on ${naive2.count} forecasts here, not the same ${row.count}`);
  }
  const smape = ratio('sMAPE', row.smape, naive2.smape);
  if (typeof smape === 'string') return unknown(smape);
  const mase = ratio('MASE', row.mase, naive2.mase);
  if (typeof mase === 'string') return unknown(mase);
  return known(0.5 * (smape + mase));
}

/** mine / Naive2's, or why there is no ratio. */
function ratio(name: string, mine: Metric, naive2: Metric): number | string {
  if (mine.value === null) return `${name} cannot be computed: ${mine.reason}`;
  if (naive2.value === null) return `Naive2's ${name} cannot be computed: ${naive2.reason}`;
  if (naive2.value === 0) return `Naive2's ${name} is 0 (it forecast every value exactly), so there is no ratio`;
  return mine.value / naive2.value;
}
