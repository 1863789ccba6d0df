// The Train view's forecast, checked once a run has ended (in a worker, forecastWorker.ts, with the
// CPU reference kernels: paramsForecaster): the free-running forecast it draws over the held-out part
// scored per step beside the six benchmarks from the same origin (scoreFreeRun), the held-out
// evaluation from every origin with its intervals' coverage (heldOut.ts, what `train --levels`
// prints), and the bands the series chart draws: split conformal around the drawn forecast over the
// held-out part, calibrated on the validation part's forecasts only (as the coverage is), and around
// the forecast past the end, calibrated on every row after the training part (validation and held
// out, as `predict` does for one model: pastEnd.ts). No DOM here.
//
// Legend: R = rows, B = the first held-out row, V = the first validation row, H = the horizon in
// steps (the held-out evaluation's), O = output columns. Bands are of the first output.

import type { PreparedData } from '../data/prepare.js';
import type { RowRange } from '../data/windows.js';
import type { OriginForecast } from '../forecast/horizons.js';
import { calibrationScores, conformalIntervals } from '../forecast/intervals.js';
import type { ParamLayout } from '../model/layout.js';
import { maseSentence, threeDigits } from '../train/backtest.js';
import {
  type Forecaster,
  feedbackProblem,
  forecastLevels,
  inputFeed,
  paramsForecaster,
  recursiveOutputs,
} from '../train/forecast.js';
import {
  type HeldOutForecasts,
  heldOutForecasts,
  noHeldOutPart,
  type ScoredForecast,
  scoreFreeRun,
} from '../train/heldOut.js';
import type { ChartSeries, ChartSpec } from './charts.js';
import type { Column, Columns } from './columns.js';
import { type BenchmarkLine, strongestBenchmark } from './forecastTables.js';

/** A band of one level: its lower and upper bound from row `from`, NaN at a step without one. */
export interface DrawnBand {
  level: number;
  from: number;
  lower: Float64Array;
  upper: Float64Array;
}

export interface ForecastCheck {
  levels: number[];
  /** The drawn forecast over the held-out part, scored; null where none is drawn there. */
  scored: ScoredForecast | null;
  /** "The forecast drawn over the held-out part …": its MASE beside the strongest benchmark's. */
  sentence: string;
  /** Every origin's forecast with the intervals' coverage, or why there is none. */
  heldOut: HeldOutForecasts | string;
  /** Around the drawn forecast from B (H steps at most), per level. */
  heldOutBands: DrawnBand[];
  /** Around the forecast past the end from R (H steps at most), per level. */
  futureBands: DrawnBand[];
  /** Why a band is missing, or null. */
  bandNote: string | null;
}

export interface ForecastInput {
  prepared: PreparedData;
  layout: ParamLayout;
  unit: string | null;
  /** (P) the run's kept weights. */
  params: Float32Array;
  /** (S, O) the drawn forecast from `forecastFrom`, levels; null where none. */
  forecast: Float32Array | null;
  forecastFrom: number;
  /** (F, O) the forecast past the end, levels; null where none. */
  future: Float32Array | null;
}

/** The first output's values of an (S, O) forecast. */
function firstOutput(values: Float32Array, outputs: number): Float64Array {
  return Float64Array.from({ length: Math.floor(values.length / outputs) }, (_, s) => values[s * outputs]);
}

/** The forecasts of `steps` steps from every row of `rows`, the first output in levels. */
async function forecastsFrom(
  forecaster: Forecaster,
  prepared: PreparedData,
  rows: RowRange,
  steps: number,
): Promise<OriginForecast[]> {
  const origins = Array.from({ length: Math.max(0, rows.end - rows.start) }, (_, i) => rows.start + i);
  if (origins.length === 0) return [];
  const [path] = await recursiveOutputs(forecaster, [{ data: prepared, origins, feed: inputFeed(prepared) }], steps);
  const O = prepared.outputs.length;
  return origins.map((origin, n) => ({
    origin,
    forecast: forecastLevels(prepared, origin, path.subarray(n * steps * O, (n + 1) * steps * O))[0],
  }));
}

/** Conformal bands around `forecast` (its first `scores.length` steps) from `from`, per level. */
function bandsOf(forecast: Float64Array, from: number, scores: Float64Array[], levels: number[]): DrawnBand[] {
  const steps = Math.min(forecast.length, scores.length);
  if (steps < 1) return [];
  return levels.map((level) => {
    const set = conformalIntervals(
      [{ origin: from, forecast: forecast.subarray(0, steps) }],
      scores.slice(0, steps),
      level,
    );
    const [{ lower, upper }] = set.intervals;
    return { level, from, lower, upper };
  });
}

/** "The forecast drawn over the held-out part: …", naming the strongest benchmark and whether it loses. */
export function drawnSentence(scored: ScoredForecast | null, reason: string): string {
  if (scored === null) return `The drawn forecast is not scored: ${reason}.`;
  const steps = scored.targets.end - scored.targets.start;
  const over = `The forecast drawn over the held-out part, scored on its ${steps} step${steps === 1 ? '' : 's'}`;
  const strongest = strongestBenchmark(scored.model, scored.benchmarks as BenchmarkLine[]);
  const base = maseSentence(`${over}: MASE`, scored.model, scored.benchmarks, null);
  if (strongest === null || strongest.mine === null) return base;
  const name = strongest.benchmark.label;
  const measure = strongest.metric === 'mase' ? 'MASE' : 'RMSE';
  const ratio = strongest.mine / strongest.theirs;
  const verdict =
    Math.abs(ratio - 1) < 0.01
      ? `as good as the strongest benchmark, ${name}`
      : ratio < 1
        ? `better than the strongest benchmark, ${name} (${measure} ${threeDigits(strongest.theirs)})`
        : `worse than the strongest benchmark, ${name} (${measure} ${threeDigits(strongest.theirs)}): ${name} forecasts these rows better`;
  return `${base} The model is ${verdict}.`;
}

/**
 * The checks of a run's forecast at `levels`, the held-out evaluation `horizon` steps ahead (null:
 * 12 for monthly data, else 24, bounded by the held-out part).
 */
export async function checkForecast(
  input: ForecastInput,
  levels: number[],
  horizon: number | null,
): Promise<ForecastCheck> {
  const { prepared, layout, unit, params } = input;
  const O = prepared.outputs.length;
  const none = noHeldOutPart(prepared) ?? feedbackProblem(prepared);
  const drawn = input.forecast === null ? null : firstOutput(input.forecast, O);
  const scored =
    none === null && drawn !== null && input.forecastFrom === prepared.boundary
      ? scoreFreeRun(prepared, input.forecastFrom, drawn)
      : null;
  const sentence = drawnSentence(scored, none ?? 'no forecast is drawn over the held-out part');
  const empty = { levels, scored, sentence, heldOutBands: [], futureBands: [] };
  if (none !== null) return { ...empty, heldOut: none, bandNote: none };
  const forecaster = paramsForecaster(layout, [params]);
  const heldOut = await heldOutForecasts(forecaster, { prepared, unit, levels: prepared.table }, { horizon, levels });
  if (heldOut.forecasts === null || levels.length === 0 || drawn === null) {
    return { ...empty, heldOut, bandNote: heldOut.modelSkipped };
  }
  const H = heldOut.horizon;
  const series = prepared.table.values[prepared.table.columns.indexOf(prepared.outputs[0])];
  const validation = prepared.validationTargets;
  const calibrating = await forecastsFrom(forecaster, prepared, validation, H);
  const validationScores = calibrationScores(series, validation, calibrating, H);
  // Past the end, every row after the training part calibrates: the held-out forecasts count too.
  const after = { start: validation.start, end: prepared.table.rows };
  const allScores = calibrationScores(series, after, [...calibrating, ...heldOut.forecasts], H);
  const future = input.future === null ? null : firstOutput(input.future, O);
  return {
    ...empty,
    heldOut,
    heldOutBands: prepared.validation === null ? [] : bandsOf(drawn, prepared.boundary, validationScores, levels),
    futureBands: future === null ? [] : bandsOf(future, prepared.table.rows, allScores, levels),
    bandNote:
      prepared.validation === null
        ? 'no band over the held-out part: there is no validation part to calibrate it on (the held-out part must not calibrate itself)'
        : null,
  };
}

/** The bands the series chart draws: over the held-out part and past the end. */
export interface ShownBands {
  heldOut: readonly DrawnBand[];
  future: readonly DrawnBand[];
}

/** The bands' lines after a series chart's others: per level its lower and upper bound, dotted. */
export function withBandSeries(spec: ChartSpec, bands: ShownBands | null): ChartSpec {
  if (bands === null) return spec;
  const format = (v: number) => threeDigits(v);
  const levels = [...new Set([...bands.heldOut, ...bands.future].map((b) => b.level))];
  const series = levels.flatMap((level, i): ChartSeries[] =>
    (['lower', 'upper'] as const).map((side) => ({
      label: `${level}% band ${side}`,
      color: `run-${(8 + i) % 10}`,
      dash: [2, 2],
      width: 1,
      format,
    })),
  );
  return { ...spec, series: [...spec.series, ...series] };
}

/** The bands' columns after `columns`' others (x = rows, then rows past the end), as withBandSeries orders them. */
export function withBandColumns(columns: Columns, bands: ShownBands | null): Columns {
  if (bands === null) return columns;
  const length = columns[0].length;
  const levels = [...new Set([...bands.heldOut, ...bands.future].map((b) => b.level))];
  const out: Columns = [...columns];
  for (const level of levels) {
    for (const side of ['lower', 'upper'] as const) {
      const column: Column = new Array(length).fill(null);
      for (const band of [...bands.heldOut, ...bands.future]) {
        if (band.level !== level) continue;
        band[side].forEach((value, s) => {
          if (band.from + s < length && Number.isFinite(value)) column[band.from + s] = value;
        });
      }
      out.push(column);
    }
  }
  return out;
}
