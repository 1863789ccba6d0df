// `predict --model FILE [data options] [--steps N]`: the free-running forecast past the end of the
// data. The model reads the data's last window (in the units it was trained in, through the model
// file's normalisation), then each prediction is fed back as the next input. Stdout is CSV:
// `step,<output columns>` in the data's original units.

import Papa from 'papaparse';
import { denormaliseOutputs, normaliseValues } from '../data/normalise.js';
import { Rng } from '../data/rng.js';
import { selectColumns } from '../data/windows.js';
import { InputError } from '../model/errors.js';
import { isFloat32Finite } from '../model/validate.js';
import { SETTINGS } from '../settings/training.js';
import { freeRunForecast } from '../train/forecast.js';
import { sourceTable } from '../train/run.js';
import { CLI_SETTINGS, commandOptions } from './commands.js';
import { readDataOptions } from './dataOptions.js';
import { readModelOption } from './files.js';
import { option, parseOptions, requiredOption } from './options.js';

export async function predictCommand(argv: string[], write: (text: string) => void): Promise<void> {
  const values = parseOptions('predict', argv, commandOptions('predict'));
  const model = readModelOption(requiredOption(values, CLI_SETTINGS.model), '--model');
  const steps = option(values, CLI_SETTINGS.steps);
  const { inputSize: I, outputSize: O, window: T } = model.config;
  const choice = readDataOptions(values, T);
  for (const line of choice.notes) console.error(line);
  const { table } = sourceTable(choice.source, new Rng(option(values, SETTINGS.seed)));
  const all = choice.defaultColumns ?? table.columns.map((_, i) => i);
  const inputs = selectColumns(table, choice.inputs ?? model.data?.inputs ?? all, 'inputs');
  const outputs = selectColumns(table, choice.outputs ?? model.data?.outputs ?? all, 'outputs');
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
  if (table.rows < T) throw new InputError('data', `has ${table.rows} rows, fewer than the model's window (${T})`);
  // (T, I) the data's last window, normalised as in training.
  const lastWindow = new Float32Array(T * I);
  inputs.columns.forEach((name, k) => {
    const column = inputs.values[k].subarray(table.rows - T);
    const scaled = model.normalisation ? normaliseValues(model.normalisation, name, column) : column;
    for (let t = 0; t < T; t++) lastWindow[t * I + k] = scaled[t];
  });
  const forecast = freeRunForecast(model.layout, model.params, lastWindow, steps);
  const original = model.normalisation ? denormaliseOutputs(model.normalisation, outputs.columns, forecast) : forecast;
  const overflow = original.findIndex((v) => !isFloat32Finite(v));
  if (overflow >= 0) {
    throw new InputError(
      '--model',
      `the forecast for ${JSON.stringify(outputs.columns[overflow % O])} at step ${Math.floor(overflow / O) + 1} is ` +
        `${Number(original[overflow].toPrecision(6))}, beyond float32's range: the model's weights or normalisation do not fit this data`,
    );
  }
  const rows = Array.from({ length: steps }, (_, s) => [
    String(s + 1),
    ...Array.from(original.subarray(s * O, (s + 1) * O), (v) => String(v)),
  ]);
  write(`${Papa.unparse({ fields: ['step', ...outputs.columns], data: rows }, { newline: '\n' })}\n`);
}
