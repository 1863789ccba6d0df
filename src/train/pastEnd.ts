// A saved model's forecast past the end of the data, with its dates and prediction bands: what
// `predict` prints. An ensemble file's forecast is the mean of its members' paths and its band their
// quantiles; a single model's band is split conformal, calibrated on its own H-step forecasts from
// origins in the data's last part (the rows after the model's training part, the validation and test
// parts it did not fit). Known-ahead inputs are read from the data's future rows.
//
// Legend: K = members, H = steps, O = output columns, R = the data's rows, T = window,
// V = the first calibration origin, F = the data's future rows (after row R, outputs empty).
//   forecast      from origin R: rows R-T..R-1 in, H steps; known-ahead inputs read at rows R..R+H-2
//   calibration   origins V..R-1 (the last MAX_CALIBRATION_ORIGINS of them), H steps each; the scores
//                 per step h are |y - ŷ| at rows before R, so n_h = R - V - h + 1

import { futureDates } from '../data/futureDates.js';
import { type Normalization, normalizeValues } from '../data/normalize.js';
import { splitRows } from '../data/split.js';
import { targetTransform, transformTable } from '../data/transform.js';
import { type ColumnTable, type RowRange, selectColumns, withFutureRows } from '../data/windows.js';
import type { OriginForecast } from '../forecast/horizons.js';
import { calibrationScores, conformalIntervals, ensembleIntervals, type IntervalSet } from '../forecast/intervals.js';
import { describeValue, InputError } from '../model/errors.js';
import { isFloat32Finite } from '../model/validate.js';
import {
  type ForecastData,
  feedbackProblem,
  forecastLevels,
  inputFeed,
  paramsForecaster,
  recursiveOutputs,
} from './forecast.js';
import { meanLevels } from './members.js';
import { type Model, memberParams } from './modelFile.js';

/** Most origins a single model's conformal band is calibrated on: the last ones of the data. */
export const MAX_CALIBRATION_ORIGINS = 2000;
/** The share of the rows a model trained on entirely calibrates on (it saw them: the band is too narrow). */
const TRAINED_ON_SHARE = 0.2;

/** The columns a forecast reads and predicts, by name, and which inputs are known ahead. */
export interface ForecastColumns {
  inputs: string[];
  outputs: string[];
  knownAhead: string[];
}

/**
 * A model file's setup on `table` (the data in levels, the model's columns among them): its
 * transform, and its normalization (none where the file has none), as a forecast reads them.
 */
export function modelForecastData(model: Model, table: ColumnTable, columns: ForecastColumns): ForecastData {
  const { inputs, outputs, knownAhead } = columns;
  const used = [...inputs, ...outputs.filter((name) => !inputs.includes(name))];
  const levels = selectColumns(table, used);
  const transform = targetTransform(model.data?.transform ?? 'levels', model.data?.season ?? null);
  const transformed = transformTable(levels, transform);
  const normalization: Normalization = model.normalization ?? {
    method: 'none',
    columns: used,
    offset: used.map(() => 0),
    scale: used.map(() => 1),
  };
  const { lag } = transform;
  const normalized: ColumnTable = {
    ...transformed,
    values: transformed.values.map((column, c) => {
      const out = new Float64Array(levels.rows).fill(Number.NaN);
      out.set(normalizeValues(normalization, used[c], column.subarray(lag)), lag);
      return out;
    }),
  };
  return { inputs, outputs, knownAhead, table: levels, normalized, normalization, transform };
}

export interface PastEndSettings {
  steps: number;
  /** Band levels in percent; none: no bands. */
  levels: number[];
  /** Called after each step of the forecast (and of the calibration forecasts). */
  onStep?: (done: number, of: number) => void;
}

/** A band at one level for one output column: NaN at a step without one. */
export interface Band {
  level: number;
  column: string;
  /** (H) */
  lower: Float64Array;
  /** (H) */
  upper: Float64Array;
  /** Per step, why there is no band there, or null. (H) */
  unavailable: (string | null)[];
}

export interface PastEndForecast {
  /** The output columns, in the model's order. (O) */
  columns: string[];
  /** Each column's forecast in the data's units, the members' mean. (O)(H) */
  paths: Float64Array[];
  /** The rows' dates (the future rows' own, then extrapolated), or null without dates. (H) */
  dates: string[] | null;
  /** The rows' 1-based numbers, continuing the data's. (H) */
  rows: number[];
  members: number;
  /** How the bands were made; null without levels. */
  method: 'ensemble' | 'conformal' | null;
  /** The conformal calibration: its origins' rows, and whether the model trained on them. */
  calibration: { origins: RowRange; trainedOn: boolean } | null;
  /** (levels × O) in level then column order. */
  bands: Band[];
}

/**
 * How many future rows the forecast reads each known-ahead input at (H - 1: the last step's
 * prediction is not fed back), checked against the data's; an InputError names the column and the
 * rows needed.
 */
export function checkFutureRows(columns: ForecastColumns, future: ColumnTable | undefined, steps: number): void {
  const needed = steps - 1;
  for (const name of columns.knownAhead) {
    const values = future?.values[future.columns.indexOf(name)];
    let have = 0;
    while (values !== undefined && have < values.length && Number.isFinite(values[have])) have++;
    if (have >= needed) continue;
    const given =
      future === undefined || future.rows === 0
        ? 'the data has no rows after its end (rows whose outputs are empty)'
        : `the data's ${future.rows} future row${future.rows === 1 ? '' : 's'} (rows whose outputs are empty) give ${have}`;
    throw new InputError(
      '--known-ahead',
      `a forecast of ${steps} steps reads the known-ahead input ${describeValue(name)} at the ${needed} rows after the data's end, and ${given}; ` +
        `add its future values in rows after the last (their outputs empty), or forecast at most ${have + 1} step${have === 0 ? '' : 's'} (--horizon ${have + 1})`,
    );
  }
}

/**
 * The model's forecast of `steps` steps past the end of `table` (the data in levels; `future` its
 * future rows, where known-ahead inputs are read), with bands at each level.
 */
export async function forecastPastEnd(
  model: Model,
  table: ColumnTable,
  future: ColumnTable | undefined,
  columns: ForecastColumns,
  settings: PastEndSettings,
): Promise<PastEndForecast> {
  const { steps, levels } = settings;
  const data = modelForecastData(model, table, columns);
  const problem = feedbackProblem(data);
  if (problem !== null) throw new InputError('outputs', problem);
  checkFutureRows(columns, future, steps);
  const R = table.rows;
  const { window: T } = model.config;
  if (R < T + data.transform.lag) {
    const lag = data.transform.lag > 0 ? ` plus the ${data.transform.lag} its ${data.transform.kind} look back` : '';
    throw new InputError('data', `has ${R} rows, fewer than the model's window (${T})${lag}`);
  }
  const feed = inputFeed(data, withFutureRows(data.table, future && selectColumns(future, data.table.columns)));
  const members = memberParams(model);
  const forecaster = paramsForecaster(model.layout, members);
  const calibration = levels.length > 0 && members.length === 1 ? calibrationOrigins(model, R, data) : null;
  const origins = calibration === null ? [R] : [R, ...rangeOf(calibration.origins)];
  const total = steps;
  const outputs = await recursiveOutputs(
    forecaster,
    members.map(() => ({ data, origins, feed })),
    steps,
    (done) => settings.onStep?.(done, total),
  );
  const O = data.outputs.length;
  const paths = (member: number, n: number) =>
    forecastLevels(data, origins[n], outputs[member].subarray(n * steps * O, (n + 1) * steps * O));
  // (K)(O)(H) each member's path from the end.
  const ends = members.map((_, m) => paths(m, 0));
  const mean = data.outputs.map((_, o) => meanLevels(ends.map((path) => path[o])) as Float64Array);
  checkRange(data.outputs, mean);
  const bands =
    levels.length === 0
      ? []
      : members.length > 1
        ? levels.flatMap((level) => ensembleBands(data.outputs, ends, R, level))
        : levels.flatMap((level) => conformalBands(data, origins, paths, mean, level, R));
  return {
    columns: [...data.outputs],
    paths: mean,
    dates: table.dates ? labels(table, future, steps) : null,
    rows: Array.from({ length: steps }, (_, s) => R + s + 1),
    members: members.length,
    method: levels.length === 0 ? null : members.length > 1 ? 'ensemble' : 'conformal',
    calibration,
    bands,
  };
}

function rangeOf({ start, end }: RowRange): number[] {
  return Array.from({ length: end - start }, (_, i) => start + i);
}

/**
 * The origins a single model's band is calibrated on: the rows after its training part (the model's
 * shares on these rows), at most the last MAX_CALIBRATION_ORIGINS; where it trained on every row, the
 * last TRAINED_ON_SHARE of them, which it saw (`trainedOn`).
 */
function calibrationOrigins(model: Model, rows: number, data: ForecastData): { origins: RowRange; trainedOn: boolean } {
  const first = data.transform.lag + model.config.window;
  let start = rows;
  try {
    start = splitRows(rows, model.config.window, {
      trainFraction: model.data?.trainFraction ?? 1,
      validationFraction: model.data?.validationFraction ?? 0,
      lag: data.transform.lag,
    }).validationStart;
  } catch (err) {
    // The model's shares leave these rows no training part: calibrate on the last rows as below.
    if (!(err instanceof InputError)) throw err;
  }
  const trainedOn = start >= rows;
  if (trainedOn) start = rows - Math.max(1, Math.round(rows * TRAINED_ON_SHARE));
  start = Math.max(start, first, rows - MAX_CALIBRATION_ORIGINS);
  return { origins: { start, end: rows }, trainedOn };
}

/** Split conformal bands of each output from the calibration origins' forecasts (origins[1..]). */
function conformalBands(
  data: ForecastData,
  origins: number[],
  paths: (member: number, n: number) => Float64Array[],
  mean: Float64Array[],
  level: number,
  rows: number,
): Band[] {
  const steps = mean[0].length;
  const calibrating = origins.slice(1).map((_, k) => paths(0, k + 1));
  return data.outputs.map((column, o) => {
    const series = data.table.values[data.table.columns.indexOf(column)];
    const forecasts: OriginForecast[] = calibrating.map((path, k) => ({ origin: origins[k + 1], forecast: path[o] }));
    const scores = calibrationScores(series, { start: origins[1] ?? rows, end: rows }, forecasts, steps);
    return bandOf(column, conformalIntervals([{ origin: rows, forecast: mean[o] }], scores, level));
  });
}

/** The members' quantile band of each output. */
function ensembleBands(outputs: readonly string[], ends: Float64Array[][], rows: number, level: number): Band[] {
  return outputs.map((column, o) =>
    bandOf(
      column,
      ensembleIntervals(
        ends.map((path) => [{ origin: rows, forecast: path[o] }]),
        level,
      ),
    ),
  );
}

function bandOf(column: string, set: IntervalSet): Band {
  const [{ lower, upper }] = set.intervals;
  return { level: set.level, column, lower, upper, unavailable: set.unavailable };
}

/** The forecast rows' dates: the future rows' own where the data gives them, then extrapolated. */
function labels(table: ColumnTable, future: ColumnTable | undefined, steps: number): string[] {
  const given = future?.dates?.slice(0, steps) ?? [];
  const known = [...(table.dates as string[]), ...given];
  return [...given, ...futureDates(known, steps - given.length)];
}

/** Refuses a forecast beyond float32's range, naming the column and the step. */
function checkRange(columns: readonly string[], paths: Float64Array[]): void {
  for (const [o, path] of paths.entries()) {
    const overflow = path.findIndex((v) => !isFloat32Finite(v));
    if (overflow >= 0) {
      throw new InputError(
        '--model',
        `the forecast for ${JSON.stringify(columns[o])} at step ${overflow + 1} is ` +
          `${Number(path[overflow].toPrecision(6))}, beyond float32's range: the model's weights or normalisation do not fit this data`,
      );
    }
  }
}
