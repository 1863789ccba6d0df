// `predict --model FILE [data options] [--horizon N] [--levels 80,95]`: the forecast past the end of
// the data (src/train/pastEnd.ts), the model's own data unless a source option names other data. The
// model reads the data's last window (transformed and normalized as in training, through the model
// file), then each prediction is fed back as the next input (known-ahead inputs are read from the
// data's future rows); the path is mapped back to levels in the data's units. An ensemble file
// forecasts the mean of its members. Stdout is CSV: `step,date|row,<outputs>[,<bands>]`.

import { Rng } from '../data/rng.js';
import { selectColumns } from '../data/windows.js';
import { InputError } from '../model/errors.js';
import { SETTINGS } from '../settings/training.js';
import { type Band, forecastPastEnd, type PastEndForecast } from '../train/pastEnd.js';
import { sourceTable } from '../train/run.js';
import { writeCsv } from '../util/csvWrite.js';
import { printable } from '../util/text.js';
import { CLI_SETTINGS, commandOptions, PREDICT_LEVELS } from './commands.js';
import { readDataOptions } from './dataOptions.js';
import { readModelOption } from './files.js';
import { option, parseOptions, requiredOption } from './options.js';

export async function predictCommand(argv: string[], write: (text: string) => void): Promise<void> {
  const values = parseOptions('predict', argv, commandOptions('predict'));
  const model = readModelOption(requiredOption(values, CLI_SETTINGS.model), '--model');
  const steps = option(values, SETTINGS.horizon, model.settings?.horizon);
  const levels = option(values, PREDICT_LEVELS) ?? [];
  const { inputSize: I, outputSize: O, window: T } = model.config;
  const choice = readDataOptions(values, T, model);
  for (const line of choice.notes) console.error(printable(line));
  // The model's transform: its weights predict that, whatever the options say.
  const kind = model.data?.transform ?? 'levels';
  if (choice.transform !== undefined && choice.transform !== kind) {
    throw new InputError('--transform', `the model predicts ${kind}, not ${choice.transform}; leave --transform out`);
  }
  const { table } = sourceTable(choice.source, new Rng(option(values, SETTINGS.seed, model.settings?.seed)));
  const future = choice.source.kind === 'table' ? choice.source.future : undefined;
  const all = choice.defaultColumns ?? table.columns.map((_, i) => i);
  const inputs = selectColumns(table, choice.inputs ?? all, 'inputs').columns;
  const known = choice.knownAhead === undefined ? [] : selectColumns(table, choice.knownAhead, '--known-ahead').columns;
  const outputs = selectColumns(
    table,
    choice.outputs ?? all.filter((c) => !known.includes(String(c))),
    'outputs',
  ).columns;
  if (inputs.length !== I || outputs.length !== O) {
    throw new InputError(
      'inputs',
      `the model reads ${I} column(s) and predicts ${O}, the data gives ${inputs.length} in and ${outputs.length} out`,
    );
  }
  // A normalization scales each column by its own name's statistics: the data must hold those names.
  const scaledBy = model.normalization?.columns;
  const unknown = [...inputs, ...outputs].filter((name) => scaledBy !== undefined && !scaledBy.includes(name));
  if (unknown.length > 0) {
    throw new InputError(
      'inputs',
      `the model scales its columns by their statistics in training, and ${JSON.stringify(unknown[0])} is not one of them (${scaledBy?.map((name) => JSON.stringify(name)).join(', ')}); give data with those columns`,
    );
  }
  const forecast = await forecastPastEnd(
    model,
    table,
    future,
    { inputs, outputs, knownAhead: known },
    { steps, levels, onStep: forecastProgress(steps) },
  );
  for (const line of bandNotes(forecast, table.dates ?? null)) console.error(printable(line));
  write(forecastCsv(forecast));
}

/** The CSV: the step, its date (or row number), each output, then each output's band at each level. */
export function forecastCsv(forecast: PastEndForecast): string {
  const { columns, paths, dates, rows, bands } = forecast;
  const several = columns.length > 1;
  // Column names from a file: escaped as text a terminal or a spreadsheet could run.
  const name = (band: Band, side: 'lower' | 'upper') =>
    `${several ? `${printable(band.column)}_` : ''}${side}_${band.level}`;
  const ordered = columns.flatMap((column) => bands.filter((band) => band.column === column));
  const header = [
    'step',
    dates === null ? 'row' : 'date',
    ...columns.map(printable),
    ...ordered.flatMap((band) => [name(band, 'lower'), name(band, 'upper')]),
  ];
  const cell = (value: number) => (Number.isNaN(value) ? null : value);
  const lines = Array.from({ length: rows.length }, (_, s) => [
    s + 1,
    dates === null ? rows[s] : printable(dates[s]),
    ...paths.map((path) => path[s]),
    ...ordered.flatMap((band) => [cell(band.lower[s]), cell(band.upper[s])]),
  ]);
  return writeCsv(header, lines);
}

/** What stderr says of the bands: how they were made, from which rows, and the steps without one. */
function bandNotes(forecast: PastEndForecast, dates: string[] | null): string[] {
  const { method, calibration, bands, members } = forecast;
  if (method === null) return [];
  const levels = [...new Set(bands.map((band) => band.level))].map((level) => `${level}%`).join(' and ');
  const notes: string[] = [];
  if (method === 'ensemble') {
    notes.push(
      `note: the ${levels} bands are the spread of the ${members} members' forecasts (their quantiles at each step)`,
    );
  } else if (calibration !== null) {
    const { start, end } = calibration.origins;
    const at = (row: number) => (dates === null ? `row ${row + 1}` : `${dates[row]} (row ${row + 1})`);
    const rows = `${end - start} origins, ${at(start)} to ${at(end - 1)}`;
    notes.push(
      calibration.trainedOn
        ? `note: the ${levels} bands are split conformal, calibrated on the model's forecasts from the last ${rows}; it trained on every row, these too, so the bands are likely too narrow`
        : `note: the ${levels} bands are split conformal: at each step the forecast ± the error that that share of the model's own forecasts as many steps ahead stayed within, from the ${rows}, the rows after its training part`,
    );
  }
  for (const band of bands) {
    const first = band.unavailable.findIndex((reason) => reason !== null);
    if (first >= 0) {
      notes.push(
        `note: no ${band.level}% band for ${JSON.stringify(band.column)} from step ${first + 1} on (empty cells): ${band.unavailable[first]}`,
      );
    }
  }
  return notes;
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
