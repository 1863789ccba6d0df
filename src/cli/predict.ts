// `predict --model FILE [data options] [--horizon N]`: the free-running forecast past the end of the
// data, the model's own data unless a source option names other data. The model reads the data's
// last window (transformed and normalized as in training, through the model file), then each
// prediction is fed back as the next input; the path is mapped back to levels in the data's units.
// Stdout is CSV: `step,<output columns>`.

import { denormalizeOutputs, normalizeValues } from '../data/normalize.js';
import { Rng } from '../data/rng.js';
import { pathLevels, targetTransform, transformTable } from '../data/transform.js';
import { selectColumns } from '../data/windows.js';
import { InputError } from '../model/errors.js';
import { isFloat32Finite } from '../model/validate.js';
import { SETTINGS } from '../settings/training.js';
import { freeRunForecast } from '../train/forecast.js';
import { sourceTable } from '../train/run.js';
import { writeCsv } from '../util/csvWrite.js';
import { printable } from '../util/text.js';
import { CLI_SETTINGS, commandOptions } from './commands.js';
import { readDataOptions } from './dataOptions.js';
import { readModelOption } from './files.js';
import { option, parseOptions, requiredOption } from './options.js';

export async function predictCommand(argv: string[], write: (text: string) => void): Promise<void> {
  const values = parseOptions('predict', argv, commandOptions('predict'));
  const model = readModelOption(requiredOption(values, CLI_SETTINGS.model), '--model');
  const steps = option(values, SETTINGS.horizon, model.settings?.horizon);
  const { inputSize: I, outputSize: O, window: T } = model.config;
  const choice = readDataOptions(values, T, model);
  for (const line of choice.notes) console.error(printable(line));
  // The model's transform: its weights predict that, whatever the options say.
  const kind = model.data?.transform ?? 'levels';
  if (choice.transform !== undefined && choice.transform !== kind) {
    throw new InputError('--transform', `the model predicts ${kind}, not ${choice.transform}; leave --transform out`);
  }
  const transform = targetTransform(kind, model.data?.season ?? null);
  const { table } = sourceTable(choice.source, new Rng(option(values, SETTINGS.seed, model.settings?.seed)));
  const all = choice.defaultColumns ?? table.columns.map((_, i) => i);
  const inputs = selectColumns(table, choice.inputs ?? all, 'inputs');
  const outputs = selectColumns(table, choice.outputs ?? all, 'outputs');
  if (inputs.columns.length !== I || outputs.columns.length !== O) {
    throw new InputError(
      'inputs',
      `the model reads ${I} column(s) and predicts ${O}, the data gives ${inputs.columns.length} in and ${outputs.columns.length} out`,
    );
  }
  if (inputs.columns.join('\u0000') !== outputs.columns.join('\u0000')) {
    throw new InputError(
      'outputs',
      'a free-running forecast feeds predictions back, so outputs must be the input columns',
    );
  }
  const R = table.rows;
  if (R < T + transform.lag) {
    const lag = transform.lag > 0 ? ` plus the ${transform.lag} its ${kind} look back` : '';
    throw new InputError('data', `has ${R} rows, fewer than the model's window (${T})${lag}`);
  }
  const transformed = transformTable(inputs, transform);
  // (T, I) the data's last window, transformed and normalized as in training.
  const lastWindow = new Float32Array(T * I);
  transformed.columns.forEach((name, k) => {
    const column = transformed.values[k].subarray(R - T);
    const scaled = model.normalization ? normalizeValues(model.normalization, name, column) : column;
    for (let t = 0; t < T; t++) lastWindow[t * I + k] = scaled[t];
  });
  const forecast = freeRunForecast(model.layout, model.params, lastWindow, steps, forecastProgress(steps));
  const predicted = model.normalization ? denormalizeOutputs(model.normalization, outputs.columns, forecast) : forecast;
  // (O)(S) each output's path in levels, continuing from the data's last rows.
  const paths = outputs.columns.map((_, o) =>
    pathLevels(
      transform,
      outputs.values[o],
      R,
      Array.from({ length: steps }, (_, s) => predicted[s * O + o]),
    ),
  );
  for (const [o, path] of paths.entries()) {
    const overflow = path.findIndex((v) => !isFloat32Finite(v));
    if (overflow >= 0) {
      throw new InputError(
        '--model',
        `the forecast for ${JSON.stringify(outputs.columns[o])} at step ${overflow + 1} is ` +
          `${Number(path[overflow].toPrecision(6))}, beyond float32's range: the model's weights or normalisation do not fit this data`,
      );
    }
  }
  const rows = Array.from({ length: steps }, (_, s) => [s + 1, ...paths.map((path) => path[s])]);
  // Column names from a file: escaped as text a terminal or a spreadsheet could run.
  write(writeCsv(['step', ...outputs.columns.map(printable)], rows));
}

/** Seconds between two progress lines of a long forecast. */
const PROGRESS_SECONDS = 2;

/** Reports a forecast's progress on stderr every PROGRESS_SECONDS, once it has run that long (short ones say nothing). */
function forecastProgress(steps: number): (done: number) => void {
  const started = performance.now();
  let next = started + 1000 * PROGRESS_SECONDS;
  return (done) => {
    const now = performance.now();
    if (now < next || done === steps) return;
    next = now + 1000 * PROGRESS_SECONDS;
    const rate = done / ((now - started) / 1000);
    console.error(`forecast: step ${done} of ${steps} (about ${Math.ceil((steps - done) / rate)} s to go)`);
  };
}
