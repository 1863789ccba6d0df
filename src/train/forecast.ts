// Multi-step forecasts: the model's predictions fed back as its next inputs, from one origin (the
// blog's free-running forecast, freeRunForecast: the app's chart) or from many origins and members at
// once (recursiveOutputs: the backtest, train's held-out part, predict). An input known ahead (a
// calendar, a planned temperature, a price list) is not fed back: the row each step appends takes
// its actual value, read from the data (and from its future rows past the end).
//
// Legend: K = members, N = origins, T = window, I = input columns, O = output columns, H = steps,
// R = rows. The forecast from origin o reads rows o-T..o-1 and predicts row o; after step s (0-based)
// it appends row o+s: the predicted outputs where an input is an output, the known-ahead inputs'
// values at row o+s. freeRunForecast runs on the CPU reference kernels from parameters read back from
// any backend: it is sequential (one batch-1 forward per step), so a GPU would spend its time on
// submits, and it is what the screen needs, not what training needs.

import { forward, Workspace } from '../backends/cpu/lstm.js';
import type { Population } from '../backends/population.js';
import { denormalizeOutputs, type Normalization, normalizeValues } from '../data/normalize.js';
import { pathLevels, type TargetTransform, transformTable } from '../data/transform.js';
import type { ColumnTable } from '../data/windows.js';
import type { OriginForecast } from '../forecast/horizons.js';
import { InputError } from '../model/errors.js';
import type { ParamLayout } from '../model/layout.js';

/** What a forecast reads of the data: a run's PreparedData, or a model file's setup on any data. */
export interface ForecastData {
  /** In the order the model reads them. (I) */
  inputs: readonly string[];
  /** In the order the model predicts them. (O) */
  outputs: readonly string[];
  /** The inputs whose values are read, not predicted (a subset of the inputs, none an output). */
  knownAhead: readonly string[];
  /** The columns in levels, in the data's units. (R) */
  table: ColumnTable;
  /** The columns transformed and normalized, as the model reads them. (R) */
  normalized: ColumnTable;
  normalization: Normalization;
  transform: TargetTransform;
}

/** How the row a step appends gets each input: fed back from an output, or read (known ahead). */
export interface InputFeed {
  /** (I) the output input i is fed back from, or -1 for an input read from `known`. */
  fromOutput: readonly number[];
  /** (I) a known-ahead input's normalized, transformed value at every row (NaN where none), else null. */
  known: readonly (ArrayLike<number> | null)[];
}

/** Why the model's forecasts cannot run on by themselves (an input neither predicted nor known ahead), or null. */
export function feedbackProblem(data: Pick<ForecastData, 'inputs' | 'outputs' | 'knownAhead'>): string | null {
  const missing = data.inputs.filter((name) => !data.outputs.includes(name) && !data.knownAhead.includes(name));
  if (missing.length === 0) return null;
  const names = missing.map((name) => JSON.stringify(name)).join(', ');
  return (
    `a multi-step forecast feeds the model's predictions back as its inputs, and it does not predict ${names}, ` +
    `whose future values are not known here; make the outputs include every input column, or mark ${missing.length === 1 ? 'it' : 'them'} known ahead (--known-ahead) where ${missing.length === 1 ? 'its' : 'their'} future values are known`
  );
}

/**
 * The feed of `data`'s inputs: each fed back from its output, or, known ahead, read from `levels`
 * (the data's columns in levels, with any future rows after them: default the data itself),
 * transformed and normalized as the model reads it. Throws where an input is neither.
 */
export function inputFeed(data: ForecastData, levels: ColumnTable = data.table): InputFeed {
  const problem = feedbackProblem(data);
  if (problem !== null) throw new InputError('inputs', problem);
  const fromOutput = data.inputs.map((name) => (data.knownAhead.includes(name) ? -1 : data.outputs.indexOf(name)));
  const known = data.inputs.map((name, i) => (fromOutput[i] >= 0 ? null : knownValues(data, levels, name)));
  return { fromOutput, known };
}

/** A known-ahead column of `levels` as the model reads it: transformed, normalized; NaN before the transform's lag. */
function knownValues(data: ForecastData, levels: ColumnTable, name: string): Float64Array {
  const column = levels.values[levels.columns.indexOf(name)];
  if (column === undefined) throw new InputError('known-ahead', `the data has no column ${JSON.stringify(name)}`);
  const { lag } = data.transform;
  const transformed = transformTable({ columns: [name], values: [column], rows: column.length }, data.transform);
  const out = new Float64Array(column.length).fill(Number.NaN);
  out.set(normalizeValues(data.normalization, name, transformed.values[0].subarray(lag)), lag);
  return out;
}

/** The feed of a model whose inputs are its outputs, in order (the blog's). */
function feedBack(inputs: number): InputFeed {
  return { fromOutput: Array.from({ length: inputs }, (_, i) => i), known: new Array(inputs).fill(null) };
}

/**
 * Shifts the window at x[base..] (T, I) one row on and writes the row appended after a step: input i
 * from outputs[outputAt + fromOutput[i]], or its known value at `row` (NaN past the known rows).
 */
function appendRow(
  x: Float32Array,
  base: number,
  window: number,
  feed: InputFeed,
  outputs: ArrayLike<number>,
  outputAt: number,
  row: number,
): void {
  const I = feed.fromOutput.length;
  x.copyWithin(base, base + I, base + window * I);
  const last = base + (window - 1) * I;
  for (let i = 0; i < I; i++) {
    const from = feed.fromOutput[i];
    const known = feed.known[i];
    x[last + i] = from >= 0 ? outputs[outputAt + from] : known !== null && row < known.length ? known[row] : Number.NaN;
  }
}

/**
 * The free-running forecast from firstWindow (T, I) for `steps` steps; returns (steps, O) normalized
 * outputs. Without `feed` every input is fed back from the output of the same index (inputSize must
 * equal outputSize); with it, known-ahead inputs are read at rows origin, origin + 1, ….
 */
export function freeRunForecast(
  layout: ParamLayout,
  params: Float32Array,
  firstWindow: Float32Array,
  steps: number,
  onStep?: (done: number) => void,
  feed?: { inputs: InputFeed; origin: number },
): Float32Array {
  const { inputSize: I, outputSize: O, window: T } = layout.config;
  if (feed === undefined && I !== O) {
    throw new InputError('forecast', `feeding predictions back needs inputSize (${I}) equal to outputSize (${O})`);
  }
  const inputs = feed?.inputs ?? feedBack(I);
  const origin = feed?.origin ?? 0;
  const ws = new Workspace(layout, 1);
  const x = firstWindow.slice(0, T * I);
  const result = new Float32Array(steps * O);
  for (let s = 0; s < steps; s++) {
    forward(params, ws, x, 1);
    result.set(ws.out.subarray(0, O), s * O);
    appendRow(x, 0, T, inputs, ws.out, 0, origin + s);
    onStep?.(s + 1);
  }
  return result;
}

/** What forecasts: a population (every member at once) or anything with its forward pass. */
export type Forecaster = Pick<Population, 'config' | 'members' | 'predictMembers'>;

/** One member's forecasts: its data, the origins it forecasts from and how its inputs are fed. */
export interface ForecastMember {
  data: ForecastData;
  /** The first row each forecast predicts; each needs the T rows before it. (N_m) */
  origins: readonly number[];
  feed: InputFeed;
}

/** The T rows before `origin` of the inputs, as the model reads them, into x at `at`. (T, I) */
function writeWindow(x: Float32Array, at: number, data: ForecastData, origin: number, window: number): void {
  const columns = data.inputs.map((name) => data.normalized.values[data.normalized.columns.indexOf(name)]);
  let p = at;
  for (let row = origin - window; row < origin; row++) for (const column of columns) x[p++] = column[row];
}

/**
 * Every member's recursive forecast from each of its origins, H steps: all members and origins go
 * through the forecaster together, one forward a step. Normalized outputs, (K)(N_m, H, O).
 */
export async function recursiveOutputs(
  forecaster: Forecaster,
  members: readonly ForecastMember[],
  horizon: number,
  onStep?: (done: number) => void,
): Promise<Float32Array[]> {
  const { window: T, inputSize: I, outputSize: O } = forecaster.config;
  const N = Math.max(1, ...members.map((m) => m.origins.length));
  const x = new Float32Array(members.length * N * T * I); // (K, N, T, I)
  const paths = members.map((m) => new Float32Array(m.origins.length * horizon * O)); // (K)(N, H, O)
  members.forEach(({ data, origins }, m) => {
    origins.forEach((origin, n) => {
      writeWindow(x, (m * N + n) * T * I, data, origin, T);
    });
  });
  for (let h = 0; h < horizon; h++) {
    const outputs = await forecaster.predictMembers(x, N, true); // (K)(N, O)
    members.forEach(({ origins, feed }, m) => {
      for (let n = 0; n < origins.length; n++) {
        paths[m].set(outputs[m].subarray(n * O, (n + 1) * O), (n * horizon + h) * O);
        appendRow(x, (m * N + n) * T * I, T, feed, outputs[m], n * O, origins[n] + h);
      }
    });
    onStep?.(h + 1);
  }
  return paths;
}

/** A forecast's normalized outputs (H, O) from `origin` as levels in the data's units, per output. (O)(H) */
export function forecastLevels(data: ForecastData, origin: number, outputs: ArrayLike<number>): Float64Array[] {
  const O = data.outputs.length;
  const H = outputs.length / O;
  const values = denormalizeOutputs(data.normalization, data.outputs, outputs);
  return data.outputs.map((name, o) => {
    const levels = data.table.values[data.table.columns.indexOf(name)];
    return pathLevels(
      data.transform,
      levels,
      origin,
      Array.from({ length: H }, (_, s) => values[s * O + o]),
    );
  });
}

/**
 * Every member's recursive forecast of its first output column, H steps from each of its origins,
 * in levels. A member without a feed feeds every input back from its output (feedbackProblem must
 * be null). (K)(N_m)
 */
export async function recursiveForecasts(
  forecaster: Forecaster,
  members: readonly { prepared: ForecastData; origins: readonly number[]; feed?: InputFeed }[],
  horizon: number,
): Promise<OriginForecast[][]> {
  const O = forecaster.config.outputSize;
  const paths = await recursiveOutputs(
    forecaster,
    members.map(({ prepared, origins, feed }) => ({ data: prepared, origins, feed: feed ?? inputFeed(prepared) })),
    horizon,
  );
  return members.map(({ prepared, origins }, m) =>
    origins.map((origin, n) => ({
      origin,
      forecast: forecastLevels(prepared, origin, paths[m].subarray(n * horizon * O, (n + 1) * horizon * O))[0],
    })),
  );
}

/** Windows the reference kernels take at once: bounds the workspace at any number of origins. */
const REFERENCE_CHUNK = 256;

/**
 * A forecaster of K parameter sets (a model file's members) on the CPU reference kernels: no backend
 * to open, the same numbers as freeRunForecast.
 */
export function paramsForecaster(layout: ParamLayout, members: readonly Float32Array[]): Forecaster {
  const { window: T, inputSize: I, outputSize: O } = layout.config;
  let ws: Workspace | null = null;
  return {
    config: layout.config,
    members: members.length,
    predictMembers: async (x, count, each = false) =>
      members.map((params, m) => {
        ws ??= new Workspace(layout, Math.min(REFERENCE_CHUNK, Math.max(1, count)));
        const out = new Float32Array(count * O);
        const first = each ? m * count : 0;
        for (let n = 0; n < count; n += ws.maxBatch) {
          const batch = Math.min(ws.maxBatch, count - n);
          forward(params, ws, x.subarray((first + n) * T * I, (first + n + batch) * T * I), batch);
          out.set(ws.out.subarray(0, batch * O), n * O);
        }
        return out;
      }),
  };
}
