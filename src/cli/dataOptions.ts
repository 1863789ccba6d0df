// The data options shared by `train` and `predict`: which series (generated, bundled or a CSV file),
// which columns go in and come out, the split and the normalization.

import { parseCsvText } from '../data/csv.js';
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
  const data = optionValue(values, CLI_SETTINGS.data);
  const dataset = optionValue(values, SETTINGS.dataset);
  if (data !== undefined) {
    const dateColumn = optionValue(values, CLI_SETTINGS['date-column']);
    const table = parseCsvText(readTextFile(data, '--data'), {
      field: `--data ${data}`,
      missing: option(values, SETTINGS.missing),
      ...(dateColumn === undefined ? {} : { dateColumn: dateColumn === 'none' ? null : dateColumn }),
    });
    source = { kind: 'table', table, label: data };
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
    inputs: optionValue(values, CLI_SETTINGS.inputs),
    outputs: optionValue(values, CLI_SETTINGS.outputs),
    trainFraction: optionValue(values, SETTINGS.split),
    normalize: optionValue(values, SETTINGS.normalise),
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
