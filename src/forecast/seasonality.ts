// Whether a history is seasonal, and its seasonally adjusted values, as the M4 competition's
// statistical benchmarks decide them before forecasting (Naive2, Theta): the 90% autocorrelation test
// at the seasonal lag, then a classical multiplicative decomposition.
// Source: Mcompetitions/M4-methods, "Benchmarks and Evaluation.R" (SeasonalityTest, Benchmarks),
// which calls R's stats::acf and stats::decompose(type = "multiplicative").
//
// Legend: n = the history's length, m = the seasonal period in rows, y = the history (n),
// r_k = its autocorrelation at lag k, s = the seasonal indices (m), one per position in the season.
//   r_k         = Σ_{t=1..n-k} (y_t - ȳ)(y_{t+k} - ȳ) / Σ_{t=1..n} (y_t - ȳ)²         (stats::acf)
//   seasonal    ⇔ n >= 3m and |r_m| > 1.645 · sqrt((1 + 2 Σ_{k=1..m-1} r_k²) / n)
//   trend_t     = the centred moving average of m (odd m) or 2×m (even m: weights ½,1,…,1,½ over m+1
//                 rows), undefined within m/2 rows of either end
//   s_j         = mean over rows t ≡ j (mod m) of y_t / trend_t, divided by the mean of the m means
//   adjusted_t  = y_t / s_{t mod m}          the future row n-1+h has index s_{(n-1+h) mod m}
// Rows count from the series' first row (row 0), so a history cut at any origin keeps its phase.
//
// One difference from the R code, on purpose: R's acf computes lags up to 10·log10(n) only, so the
// R test says "not seasonal" whenever m > 10·log10(n) (hourly data under 251 rows, weekly data under
// 158,489 rows). That is an artefact of acf's default, not part of the test; here the test is applied
// as its formula reads. For monthly data (n >= 36 > 10^1.2) the two agree always.

/** The critical value of the one-sided 90% test M4 uses. */
const CRITICAL_VALUE = 1.645;

/** The autocorrelations r_0 = 1, r_1, …, r_maxLag of `series` as stats::acf defines them. (maxLag + 1) */
export function autocorrelations(series: ArrayLike<number>, maxLag: number): Float64Array {
  const n = series.length;
  let mean = 0;
  for (let t = 0; t < n; t++) mean += series[t];
  mean /= n;
  let variance = 0;
  for (let t = 0; t < n; t++) variance += (series[t] - mean) ** 2;
  const r = new Float64Array(maxLag + 1);
  for (let k = 0; k <= maxLag; k++) {
    let sum = 0;
    for (let t = 0; t + k < n; t++) sum += (series[t] - mean) * (series[t + k] - mean);
    r[k] = sum / variance;
  }
  return r;
}

export interface SeasonalityTest {
  /** Whether the autocorrelation at lag m is significant at 90%. */
  seasonal: boolean;
  /** r_m, or null when the test could not be applied. */
  autocorrelation: number | null;
  /** The bound |r_m| must exceed, or null when the test could not be applied. */
  limit: number | null;
  /** Why the test could not be applied (no season, too short, constant), or null. */
  reason: string | null;
}

/** M4's SeasonalityTest: is `history` seasonal with period `season`? */
export function seasonalityTest(history: ArrayLike<number>, season: number | null): SeasonalityTest {
  const notApplied = (reason: string): SeasonalityTest => ({
    seasonal: false,
    autocorrelation: null,
    limit: null,
    reason,
  });
  if (season === null || season < 2) return notApplied('no seasonal period');
  const n = history.length;
  if (n < 3 * season) return notApplied(`the test needs 3 seasons (${3 * season} rows); the history has ${n}`);
  const r = autocorrelations(history, season);
  if (!r.every(Number.isFinite)) return notApplied('the history is constant, so it has no autocorrelation');
  let squares = 0;
  for (let k = 1; k < season; k++) squares += r[k] * r[k];
  const limit = CRITICAL_VALUE * Math.sqrt((1 + 2 * squares) / n);
  return { seasonal: Math.abs(r[season]) > limit, autocorrelation: r[season], limit, reason: null };
}

export interface Decomposition {
  /** The centred moving average; NaN within m/2 rows of either end. (n) */
  trend: Float64Array;
  /** The seasonal indices, position j for rows t ≡ j (mod m), normalized to mean 1. (m) */
  indices: Float64Array;
}

/**
 * stats::decompose(type = "multiplicative") of `series` (n >= 2m, values above 0): the trend by a
 * centred moving average and the seasonal indices. R's decompose refuses fewer than two seasons.
 */
export function multiplicativeDecomposition(series: ArrayLike<number>, season: number): Decomposition {
  const n = series.length;
  if (!(Number.isInteger(season) && season >= 2 && n >= 2 * season)) {
    throw new RangeError(`a decomposition needs a season of at least 2 and two seasons of rows (got ${season}, ${n})`);
  }
  const half = Math.floor(season / 2);
  const even = season % 2 === 0;
  const trend = new Float64Array(n).fill(Number.NaN);
  for (let t = half; t < n - half; t++) {
    let sum = 0;
    if (even) {
      sum = 0.5 * (series[t - half] + series[t + half]);
      for (let k = -half + 1; k < half; k++) sum += series[t + k];
    } else {
      for (let k = -half; k <= half; k++) sum += series[t + k];
    }
    trend[t] = sum / season;
  }
  const sums = new Float64Array(season);
  const counts = new Float64Array(season);
  for (let t = half; t < n - half; t++) {
    sums[t % season] += series[t] / trend[t];
    counts[t % season] += 1;
  }
  const means = sums.map((sum, j) => sum / counts[j]);
  let total = 0;
  for (const mean of means) total += mean;
  const indices = means.map((mean) => mean / (total / season));
  return { trend, indices };
}

/** A history ready for the benchmarks that forecast the seasonally adjusted series. */
export interface SeasonalAdjustment {
  /** y_t / s_{t mod m}, or the history itself when not seasonal. (n) */
  adjusted: Float64Array;
  /** The index each future step h = 1..H is multiplied by (1 when not seasonal). (H) */
  futureIndices: Float64Array;
  test: SeasonalityTest;
  /** Why the history was not adjusted although the test found a season (values not above 0), or null. */
  skipped: string | null;
}

/**
 * M4's Benchmarks() preamble: when the period is above 1 and the test finds seasonality, divide the
 * history by its multiplicative seasonal indices; the forecasts for the next `horizon` rows are
 * multiplied back by theirs. A multiplicative decomposition needs values above 0 (all of M4's are);
 * a history with one at or below 0 is left unadjusted, and `skipped` says so.
 */
export function seasonalAdjustment(
  history: ArrayLike<number>,
  season: number | null,
  horizon: number,
): SeasonalAdjustment {
  const n = history.length;
  const test = seasonalityTest(history, season);
  const unadjusted = (skipped: string | null): SeasonalAdjustment => ({
    adjusted: Float64Array.from(history),
    futureIndices: new Float64Array(horizon).fill(1),
    test,
    skipped,
  });
  if (!test.seasonal || season === null) return unadjusted(null);
  for (let t = 0; t < n; t++) {
    if (!(history[t] > 0)) {
      return unadjusted(`a multiplicative decomposition needs values above 0, and row ${t + 1} holds ${history[t]}`);
    }
  }
  const { indices } = multiplicativeDecomposition(history, season);
  const adjusted = new Float64Array(n);
  for (let t = 0; t < n; t++) adjusted[t] = history[t] / indices[t % season];
  const futureIndices = new Float64Array(horizon);
  for (let h = 1; h <= horizon; h++) futureIndices[h - 1] = indices[(n - 1 + h) % season];
  return { adjusted, futureIndices, test, skipped: null };
}
