// One line per number the forecast tables show, for the README, the CLI's help and the app's
// tooltips, so that all three say the same thing. The formulas behind them are in horizons.ts,
// intervals.ts and benchmarks.ts.

import type { BenchmarkKey } from './benchmarks.js';

export type MeasureName = 'mae' | 'rmse' | 'mase' | 'smape' | 'owa' | 'coverage' | 'margin' | 'width' | 'msis';

export const MEASURE_EXPLANATIONS: Record<MeasureName, string> = {
  mae: 'MAE: the average size of a miss h steps ahead, in the data’s units.',
  rmse: 'RMSE: the root of the mean squared miss h steps ahead, in the data’s units; large misses weigh more than in MAE.',
  mase: 'MASE: the mean absolute miss divided by how much the history before the origin moved from one season (or one row) to the next; below 1 beats that in-sample seasonal naive step.',
  smape:
    'sMAPE: the mean of 200·|actual − forecast| / (|actual| + |forecast|), a percentage from 0 to 200 that reads the same for any units.',
  owa: 'OWA: the mean of sMAPE and MASE, each as a ratio to Naive2’s on the same forecasts; below 1 beats Naive2 (M4’s ranking measure).',
  coverage: 'Coverage: the share of held-out values inside their interval, to compare with the level asked for.',
  margin:
    'Margin: how far coverage may stray from the level by chance alone on this many held-out values, each counted once however many forecasts reach it (95% binomial margin, in percentage points).',
  width: 'Width: the mean distance from the interval’s lower to its upper bound, in the data’s units.',
  msis: 'MSIS: the interval’s width plus a penalty of 2/(1 − level) times each miss beyond a bound, scaled like MASE; lower is better (M4’s interval score).',
};

export const BENCHMARK_EXPLANATIONS: Record<BenchmarkKey, string> = {
  'last-value': 'Naive: every step repeats the last value seen.',
  'seasonal-naive': 'Seasonal naive: every step repeats the value one season before it, from the last season seen.',
  naive2: 'Naive2: the last value of the seasonally adjusted series, seasonality put back (M4’s reference for OWA).',
  drift: 'Drift: the last value plus the average change per row since the first row, once per step.',
  autoregression: 'AR(window): the linear fit on the window’s values, its forecasts fed back one step at a time.',
  theta:
    'Theta: exponential smoothing of the seasonally adjusted series with half its linear trend added, seasonality put back (M4’s strongest simple benchmark).',
};

export const METHOD_EXPLANATIONS = {
  ensemble:
    'Ensemble interval: the spread of the members’ forecasts at each step, between the quantiles for the level.',
  conformal:
    'Conformal interval: the forecast ± the error that a share of past forecasts this many steps ahead stayed within, measured on rows before the held-out part.',
} as const;
