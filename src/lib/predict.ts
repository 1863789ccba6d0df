// The library's predictions and forecasts from a model file's contents, on the CPU reference kernels
// (src/train/forecast.ts's paramsForecaster: no backend to open, the numbers the exported ONNX and
// TF.js models give). `predict`: the next row after each window of the data, in the data's units
// (one-step-ahead, each window the data's actual values). `forecast`: past the end of the data, each
// prediction fed back as the next input, with bands (src/train/pastEnd.ts, as the CLI's predict).
//
// Legend: K = members, N = windows, O = outputs, H = steps.

import { InputError } from '../model/errors.js';
import { SETTINGS } from '../settings/training.js';
import { forecastLevels, type InputFeed, paramsForecaster, recursiveOutputs } from '../train/forecast.js';
import { type Model, memberParams } from '../train/modelFile.js';
import { type ForecastColumns, forecastPastEnd, modelForecastData, type PastEndForecast } from '../train/pastEnd.js';
import type { LstmData } from './data.js';

export type { Band, PastEndForecast as Forecast } from '../train/pastEnd.js';

export interface Predictions {
  /** The output columns, in the model's order. (O) */
  columns: string[];
  /** The 1-based row each prediction is for. (N) */
  rows: number[];
  /** Those rows' dates, or null where the data has none. (N) */
  dates: string[] | null;
  /** Per output column, the prediction for each row, in the data's units (an ensemble's members' mean). (O)(N) */
  values: Float64Array[];
}

/** The columns the model reads and predicts, from its file. */
function columnsOf(model: Model): ForecastColumns {
  const { data } = model;
  if (data === undefined) {
    throw new InputError(
      'model.data',
      'the model file does not say which columns it reads and predicts (a version-1 file)',
    );
  }
  return { inputs: data.inputs, outputs: data.outputs, knownAhead: data.knownAhead ?? [] };
}

/** The model's one-step-ahead prediction of every row of `data` that a whole window precedes. */
export async function predict(model: Model, data: LstmData): Promise<Predictions> {
  const forecastData = modelForecastData(model, data.table, columnsOf(model));
  const first = forecastData.transform.lag + model.config.window;
  const R = data.table.rows;
  if (first >= R) {
    throw new InputError(
      'data',
      `has ${R} rows; the model reads windows of ${model.config.window} (after ${forecastData.transform.lag} for its transform), so it needs at least ${first + 1}`,
    );
  }
  const origins = Array.from({ length: R - first }, (_, n) => first + n);
  const members = memberParams(model);
  // One step: nothing is fed back, so no input needs to be predicted or known ahead.
  const I = model.config.inputSize;
  const feed: InputFeed = { fromOutput: new Array(I).fill(-1), known: new Array(I).fill(null) };
  const outputs = await recursiveOutputs(
    paramsForecaster(model.layout, members),
    members.map(() => ({ data: forecastData, origins, feed })),
    1,
  ); // (K)(N, 1, O)
  const O = model.config.outputSize;
  const values = forecastData.outputs.map(() => new Float64Array(origins.length));
  outputs.forEach((member) => {
    origins.forEach((origin, n) => {
      forecastLevels(forecastData, origin, member.subarray(n * O, (n + 1) * O)).forEach((path, o) => {
        values[o][n] += path[0] / members.length;
      });
    });
  });
  const { dates } = data.table;
  return {
    columns: [...forecastData.outputs],
    rows: origins.map((origin) => origin + 1),
    dates: dates ? origins.map((origin) => dates[origin]) : null,
    values,
  };
}

export interface ForecastSettings {
  /** Steps past the end; default the model's horizon setting, else 24. */
  steps?: number;
  /** Band levels in percent (80, 95); default none. */
  levels?: number[];
}

/** The model's forecast `steps` rows past the end of `data`, its predictions fed back as inputs. */
export async function forecast(
  model: Model,
  data: LstmData,
  settings: ForecastSettings = {},
): Promise<PastEndForecast> {
  const steps = SETTINGS.horizon.check(settings.steps ?? model.settings?.horizon ?? SETTINGS.horizon.default, 'steps');
  const levels = settings.levels ?? [];
  if (!Array.isArray(levels) || levels.some((level) => !Number.isFinite(level) || level <= 0 || level >= 100)) {
    throw new InputError('levels', `expected percentages between 0 and 100 (80, 95), got ${JSON.stringify(levels)}`);
  }
  return forecastPastEnd(model, data.table, data.future ?? undefined, columnsOf(model), { steps, levels });
}
