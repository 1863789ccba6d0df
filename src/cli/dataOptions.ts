// The data options shared by `train` and `predict`: which series (generated, bundled or a CSV file),
// which columns go in and come out, the split and the normalization.

import { checkValueColumns, parseCsvText } from '../data/csv.js';
import type { SeriesSpec } from '../data/generators.js';
import type { NormaliseMethod } from '../data/normalise.js';
import type { ColumnRef } from '../data/windows.js';
import { InputError } from '../model/errors.js';
import { SETTINGS } from '../settings/training.js';
import type { DataSource } from '../train/run.js';
import { CLI_SETTINGS } from './commands.js';
import { readTextFile } from './files.js';
import { option, optionValue, type ParsedOptions } from './options.js';

/** The data options as given; undefined where the source's default applies. */
export interface DataOptions {
  source: DataSource;
  inputs: ColumnRef[] | undefined;
  outputs: ColumnRef[] | undefined;
  trainFraction: number | undefined;
  normalize: NormaliseMethod | undefined;
  /** The columns a CSV trains on unless --inputs and --outputs say (its row counters left out). */
  defaultColumns: ColumnRef[] | undefined;
  /** What the reader did that the user should know (a newest-first file reversed), one line each. */
  notes: string[];
}

/** Reads the data options; `window` bounds the number of points. */
export function readDataOptions(values: ParsedOptions, window: number): DataOptions {
  const chosen = [SETTINGS.series, SETTINGS.dataset, CLI_SETTINGS.data].filter(
    (setting) => values[setting.name] !== undefined,
  );
  if (chosen.length > 1) {
    throw new InputError(`--${chosen[1].name}`, `cannot be combined with --${chosen[0].name}: pick one data source`);
  }
  let source: DataSource;
  let defaultColumns: ColumnRef[] | undefined;
  const notes: string[] = [];
  const inputs = optionValue(values, CLI_SETTINGS.inputs);
  const outputs = optionValue(values, CLI_SETTINGS.outputs);
  const data = optionValue(values, CLI_SETTINGS.data);
  const dataset = optionValue(values, SETTINGS.dataset);
  if (data !== undefined) {
    const dateColumn = optionValue(values, CLI_SETTINGS['date-column']);
    const table = parseCsvText(readTextFile(data, '--data'), {
      field: `--data ${data}`,
      missing: option(values, SETTINGS.missing),
      decimal: option(values, SETTINGS.decimal),
      ...(dateColumn === undefined ? {} : { dateColumn: dateColumn === 'none' ? null : dateColumn }),
    });
    // A chosen column that is in the file but holds no numbers is refused with the reason.
    if (inputs !== undefined) checkValueColumns(table, inputs, '--inputs');
    if (outputs !== undefined) checkValueColumns(table, outputs, '--outputs');
    source = { kind: 'table', table, label: data };
    defaultColumns = table.defaultColumns;
    if (table.reversedBy !== null) {
      notes.push(
        `note: ${data} runs newest first (by ${JSON.stringify(table.reversedBy)}); its rows were reversed, so the held-out part is the newest`,
      );
    }
  } else if (dataset !== undefined) {
    const symbol = optionValue(values, SETTINGS.symbol);
    if (symbol !== undefined && dataset !== 'stocks')
      throw new InputError('--symbol', 'only applies to --dataset stocks');
    source = { kind: 'bundled', name: dataset, options: symbol === undefined ? {} : { symbol } };
  } else {
    source = { kind: 'generated', spec: readSeriesSpec(values, window) };
  }
  return {
    source,
    inputs,
    outputs,
    trainFraction: optionValue(values, SETTINGS.split),
    normalize: optionValue(values, SETTINGS.normalise),
    defaultColumns,
    notes,
  };
}

function readSeriesSpec(values: ParsedOptions, window: number): SeriesSpec {
  const kind = option(values, SETTINGS.series);
  const common = {
    // At least one sample: more points than the window.
    points: option(values, SETTINGS.points.within({ min: window + 1 })),
    noise: option(values, SETTINGS.noise),
    amplitude: option(values, SETTINGS.amplitude),
  };
  switch (kind) {
    case 'sine':
    case 'random-walk':
      return { kind, ...common };
    case 'square':
    case 'sawtooth':
      return { kind, ...common, period: option(values, SETTINGS.period) };
    case 'sum-of-sines':
      return { kind, ...common, periods: option(values, SETTINGS.periods) };
  }
}
