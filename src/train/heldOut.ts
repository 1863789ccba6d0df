// Multi-step accuracy on a run's held-out part, as the backtest measures it on its folds: the model's
// recursive forecast H steps from every origin of the test part (forecast.ts), scored per step beside
// the six benchmarks from the same origins (src/forecast/backtest.ts), with prediction intervals
// whose coverage is measured on the held-out values: split conformal calibrated on the forecasts from
// the validation part's origins, scored on validation rows only; with K members, the spread of their
// forecasts too. `train`, `train --members` and `search` report it; the app scores the forecast it
// draws with scoreFreeRun.
//
// Legend: H = the horizon in steps, K = members, N = origins (the test part's rows; on a long series
// every k-th of them, at most MAX_ORIGINS and MAX_ORIGIN_ROWS / R), V = the first validation row,
// B = the first test row, R = rows.
//   origins   o = B .. R-1; each forecast reads rows before o only (its window, and known-ahead
//             inputs' values at the rows it appends), and only its steps at rows < R are scored
//   conformal scores |y - ŷ| of the forecasts from origins V .. B-1 at rows V .. B-1 (never a test
//             row); per step h, n_h = B - V - h + 1 of them

import { fitAutoregression } from '../data/baselines.js';
import type { PreparedData } from '../data/prepare.js';
import type { ColumnTable, RowRange } from '../data/windows.js';
import { type BenchmarkTable, benchmarkBacktest } from '../forecast/backtest.js';
import { autoregressionModel } from '../forecast/benchmarks.js';
import { type EvaluationPart, type HorizonTable, horizonTable, type OriginForecast } from '../forecast/horizons.js';
import {
  calibrationScores,
  conformalIntervals,
  ensembleIntervals,
  type IntervalSet,
  type IntervalTable,
} from '../forecast/intervals.js';
import { defaultHorizon, type IntervalMethod, maseSentence, measuredCoverage } from './backtest.js';
import { type Forecaster, feedbackProblem, forecastLevels, inputFeed, recursiveOutputs } from './forecast.js';
import { meanLevels } from './members.js';

/** Most origins scored: past it, every k-th row of the held-out part (the benchmarks refit at each). */
export const MAX_ORIGINS = 1000;
/** Most origins × rows of history: Theta and Naive2 refit on the whole history at every origin. */
export const MAX_ORIGIN_ROWS = 1e7;

export interface HeldOutSettings {
  /** Steps ahead; null: 12 for monthly data, else 24. Either way at most the held-out part's rows. */
  horizon: number | null;
  /** Interval levels in percent. */
  levels: number[];
}

export interface HeldOutInterval {
  level: number;
  method: IntervalMethod;
  /** Per step and pooled over the held-out part; null when the method has no intervals here. */
  table: IntervalTable | null;
  /** Why there are none, or null. */
  skipped: string | null;
  /** The steps measured (1..steps): those with an interval. */
  steps: number;
  /** Why the steps after `steps` have none, or null. */
  unmeasured: string | null;
  holds: boolean | null;
  sentence: string;
}

export interface HeldOutForecasts {
  /** The column scored: the first output. */
  column: string;
  horizon: number;
  /** Why the horizon is not the one asked for (or the default), or why every k-th origin; else null. */
  note: string | null;
  /** The held-out rows scored. */
  targets: RowRange;
  /** The origins forecast from. (N) */
  origins: number[];
  /** Members whose mean is the forecast. */
  members: number;
  /** The model's forecast from each origin (the members' mean), levels; null when it cannot forecast. (N)(H) */
  forecasts: OriginForecast[] | null;
  model: HorizonTable | null;
  /** Why the model has no forecasts, or null. */
  modelSkipped: string | null;
  /** The six benchmarks from the same origins, in BENCHMARK_KEYS order. */
  benchmarks: BenchmarkTable[];
  /** Per step, how many validation forecasts the conformal interval rests on. (H) */
  calibration: number[];
  intervals: HeldOutInterval[];
  sentence: string;
}

/** What a held-out evaluation reads of a run. */
export interface HeldOutRun {
  prepared: PreparedData;
  unit: string | null;
  /** The columns in levels with any future rows (known-ahead inputs are read there). */
  levels: ColumnTable;
}

/**
 * Why a run has no held-out forecasts to score (nothing held out), else null: the blog's task trains
 * on every row.
 */
export function noHeldOutPart(prepared: PreparedData): string | null {
  return prepared.test === null
    ? 'nothing is held out (the split is 1), so no forecast can be scored on rows the model did not see; give --split below 1'
    : null;
}

/** The horizon and origins on the run's test part, with a note where either is not as asked. */
function plan(
  prepared: PreparedData,
  asked: number | null,
): { horizon: number; origins: number[]; note: string | null } {
  const { start, end } = prepared.testTargets;
  const rows = end - start;
  const wanted = asked ?? defaultHorizon(prepared.table.dates);
  const horizon = Math.min(wanted, rows);
  const notes: string[] = [];
  if (horizon < wanted) {
    notes.push(`a horizon of ${horizon} steps, not ${wanted}: the held-out part has ${rows} rows`);
  }
  const most = Math.max(1, Math.min(MAX_ORIGINS, Math.floor(MAX_ORIGIN_ROWS / end)));
  const stride = Math.ceil(rows / most);
  const origins = Array.from({ length: Math.ceil(rows / stride) }, (_, k) => start + k * stride);
  if (stride > 1) {
    notes.push(
      `forecast from every ${stride}th row of the ${rows} held-out rows (${origins.length} origins), not from each`,
    );
  }
  return { horizon, origins, note: notes.length === 0 ? null : notes.join('; ') };
}

/** Every row of the validation part: the origins of the forecasts that calibrate the conformal intervals. */
function validationOrigins(prepared: PreparedData): number[] {
  const { start, end } = prepared.validationTargets;
  return Array.from({ length: end - start }, (_, i) => start + i);
}

/**
 * The held-out evaluation of a run's model: `forecaster`'s members (K of them, each with the run's
 * weights of one seed) forecast from every origin of the test part and of the validation part; the
 * mean of the members is scored, calibrated and, with K ≥ 2, spread into the ensemble interval.
 * Null (with the reason from noHeldOutPart) when nothing is held out.
 */
export async function heldOutForecasts(
  forecaster: Forecaster,
  run: HeldOutRun,
  settings: HeldOutSettings,
): Promise<HeldOutForecasts> {
  const { prepared } = run;
  const none = noHeldOutPart(prepared);
  if (none !== null) throw new RangeError(none);
  const { horizon, origins, note } = plan(prepared, settings.horizon);
  const column = prepared.outputs[0];
  const part = partOf(prepared, prepared.testTargets);
  const autoregression = autoregressionModel(prepared, fitAutoregression(prepared));
  const { benchmarks, naive2 } = benchmarkBacktest(part, horizon, { autoregression }, origins);
  const skipped = feedbackProblem(prepared);
  const K = forecaster.members;
  const base = {
    column,
    horizon,
    note,
    targets: prepared.testTargets,
    origins,
    members: K,
    benchmarks,
  };
  if (skipped !== null) {
    return {
      ...base,
      forecasts: null,
      model: null,
      modelSkipped: skipped,
      calibration: new Array(horizon).fill(0),
      intervals: settings.levels.flatMap((level) =>
        (['conformal', 'ensemble'] as const).map((method) => skippedInterval(level, method, skipped)),
      ),
      sentence: sentenceOf(origins.length, horizon, null, benchmarks, skipped),
    };
  }
  const calibrating = validationOrigins(prepared);
  const feed = inputFeed(prepared, run.levels);
  const all = [...origins, ...calibrating];
  const paths = await recursiveOutputs(
    forecaster,
    Array.from({ length: K }, () => ({ data: prepared, origins: all, feed })),
    horizon,
  );
  const O = prepared.outputs.length;
  // (K)(N + validation origins) each member's forecast of the first output, in levels.
  const levels = paths.map((path) =>
    all.map((origin, n): OriginForecast => {
      const outputs = path.subarray(n * horizon * O, (n + 1) * horizon * O);
      return { origin, forecast: forecastLevels(prepared, origin, outputs)[0] };
    }),
  );
  const mean = all.map(
    (origin, n): OriginForecast => ({
      origin,
      forecast: meanLevels(levels.map((member) => member[n].forecast)) as Float64Array,
    }),
  );
  const forecasts = mean.slice(0, origins.length);
  const model = horizonTable(part, forecasts, naive2);
  const validation = prepared.validationTargets;
  const scores = calibrationScores(part.series, validation, mean.slice(origins.length), horizon);
  const members = levels.map((member) => member.slice(0, origins.length));
  const intervals = settings.levels.flatMap((level) => [
    conformal(run, part, forecasts, scores, level),
    ensemble(run, part, members, level),
  ]);
  return {
    ...base,
    forecasts,
    model,
    modelSkipped: null,
    calibration: scores.map((list) => list.length),
    intervals,
    sentence: sentenceOf(origins.length, horizon, model, benchmarks, null),
  };
}

/** The first output's levels on `targets`, every row of the data before them as history. */
function partOf(prepared: PreparedData, targets: RowRange): EvaluationPart {
  const column = prepared.outputs[0];
  return { series: prepared.table.values[prepared.table.columns.indexOf(column)], targets, season: prepared.season };
}

function sentenceOf(
  origins: number,
  horizon: number,
  model: HorizonTable | null,
  benchmarks: BenchmarkTable[],
  skipped: string | null,
): string {
  const over = `Over the ${origins} origin${origins === 1 ? '' : 's'} of the held-out part, ${horizon}-step MASE`;
  return maseSentence(over, model, benchmarks, skipped);
}

function skippedInterval(level: number, method: IntervalMethod, reason: string): HeldOutInterval {
  return {
    level,
    method,
    table: null,
    skipped: reason,
    steps: 0,
    unmeasured: null,
    holds: null,
    sentence: `${level}% ${method} interval: none (${reason}).`,
  };
}

/**
 * Coverage of `set` over the steps that have an interval: its first steps (fewer validation origins
 * reach a step further ahead, so the steps without one are the last), the others named.
 */
function measured(run: HeldOutRun, part: EvaluationPart, set: IntervalSet, method: IntervalMethod): HeldOutInterval {
  const { level } = set;
  const band = `${level}% ${method} interval`;
  const first = set.unavailable.findIndex((reason) => reason !== null);
  const steps = first < 0 ? set.unavailable.length : first;
  const unmeasured =
    first < 0
      ? null
      : `step${steps + 1 === set.unavailable.length ? '' : 's'} ${steps + 1}${steps + 1 === set.unavailable.length ? '' : `–${set.unavailable.length}`} ${steps + 1 === set.unavailable.length ? 'has' : 'have'} none (${(set.unavailable[first] as string).replace(/\.$/, '')})`;
  if (steps === 0) {
    return {
      level,
      method,
      table: null,
      skipped: unmeasured,
      steps,
      unmeasured,
      holds: null,
      sentence: `${band}: none measured; ${unmeasured}.`,
    };
  }
  const cut: IntervalSet = {
    level,
    intervals: set.intervals.map(({ origin, lower, upper }) => ({
      origin,
      lower: lower.subarray(0, steps),
      upper: upper.subarray(0, steps),
    })),
    unavailable: set.unavailable.slice(0, steps),
  };
  const on = unmeasured === null ? '' : `; measured on steps 1–${steps} only, as ${unmeasured}`;
  const { table, ...verdict } = measuredCoverage(part, cut, band, run.unit, on);
  return { level, method, table, skipped: null, steps, unmeasured, ...verdict };
}

function conformal(
  run: HeldOutRun,
  part: EvaluationPart,
  forecasts: OriginForecast[],
  scores: Float64Array[],
  level: number,
): HeldOutInterval {
  if (run.prepared.validation === null) {
    return skippedInterval(
      level,
      'conformal',
      'there is no validation part to calibrate it on (--validation 0), and the held-out part must not calibrate itself',
    );
  }
  return measured(run, part, conformalIntervals(forecasts, scores, level), 'conformal');
}

function ensemble(run: HeldOutRun, part: EvaluationPart, members: OriginForecast[][], level: number): HeldOutInterval {
  if (members.length < 2) {
    return skippedInterval(
      level,
      'ensemble',
      `an ensemble's interval is the spread of its members' forecasts, and there is 1 model; train several (--members)`,
    );
  }
  return measured(run, part, ensembleIntervals(members, level), 'ensemble');
}

/** The forecast a chart draws, scored: per step against the actual values beside the six benchmarks. */
export interface ScoredForecast {
  column: string;
  /** The rows scored: from the origin, as far as the forecast and the data go. */
  targets: RowRange;
  model: HorizonTable;
  benchmarks: BenchmarkTable[];
}

/**
 * A free-running forecast of output `output` from `origin` (the app's line into the held-out part),
 * `levels` in the data's units, scored per step h = 1.. beside the six benchmarks forecasting from the
 * same origin with the same rows; steps past the data's end are not scored. Null when no step lands on
 * a row of the data.
 */
export function scoreFreeRun(
  prepared: PreparedData,
  origin: number,
  levels: ArrayLike<number>,
  output = 0,
): ScoredForecast | null {
  const rows = prepared.table.rows;
  const steps = Math.min(levels.length, rows - origin);
  if (steps < 1 || origin < 1) return null;
  const column = prepared.outputs[output];
  const targets = { start: origin, end: origin + steps };
  const part: EvaluationPart = {
    series: prepared.table.values[prepared.table.columns.indexOf(column)],
    targets,
    season: prepared.season,
  };
  const autoregression = autoregressionModel(prepared, fitAutoregression(prepared));
  const { benchmarks, naive2 } = benchmarkBacktest(part, steps, { autoregression }, [origin]);
  const forecast = Float64Array.from({ length: steps }, (_, s) => levels[s]);
  return { column, targets, model: horizonTable(part, [{ origin, forecast }], naive2), benchmarks };
}
