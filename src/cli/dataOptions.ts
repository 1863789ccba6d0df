// The data options shared by `train` and `predict`: which series (generated, bundled or a CSV file),
// which columns go in and come out, the split and the normalisation.

import { BUNDLED_NAMES, type BundledName, STOCK_SYMBOLS, type StockSymbol } from '../data/bundled.js';
import { parseCsvText } from '../data/csv.js';
import { MAX_POINTS, SERIES_KINDS, type SeriesKind, type SeriesSpec } from '../data/generators.js';
import { NORMALISE_METHODS, type NormaliseMethod } from '../data/normalise.js';
import type { ColumnRef } from '../data/windows.js';
import { InputError } from '../model/errors.js';
import type { DataSource } from '../train/run.js';
import { readTextFile } from './files.js';
import {
  intListOption,
  intOption,
  numberOption,
  type OptionSpec,
  type ParsedOptions,
  stringOption,
} from './options.js';

export const DATA_OPTIONS: OptionSpec = {
  series: { type: 'string' },
  points: { type: 'string' },
  noise: { type: 'string' },
  amplitude: { type: 'string' },
  period: { type: 'string' },
  periods: { type: 'string' },
  dataset: { type: 'string' },
  symbol: { type: 'string' },
  data: { type: 'string' },
  'date-column': { type: 'string' },
  missing: { type: 'string' },
  inputs: { type: 'string' },
  outputs: { type: 'string' },
  normalise: { type: 'string' },
  split: { type: 'string' },
};

export interface DataChoice {
  source: DataSource;
  inputs: ColumnRef[] | undefined;
  outputs: ColumnRef[] | undefined;
  trainFraction: number | undefined;
  normalise: NormaliseMethod | undefined;
}

function oneOf<T extends string>(values: ParsedOptions, name: string, allowed: readonly T[]): T | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(text)) {
    throw new InputError(`--${name}`, `expected one of ${allowed.join(', ')}, got "${text}"`);
  }
  return text as T;
}

function columnList(values: ParsedOptions, name: string): ColumnRef[] | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return undefined;
  const parts = text.split(',').map((part) => part.trim());
  if (parts.some((part) => part === '')) {
    throw new InputError(`--${name}`, `expected comma-separated column names or 0-based indices, got "${text}"`);
  }
  return parts.map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

/** Reads the data options; `window` bounds the number of points. */
export function readDataChoice(values: ParsedOptions, window: number): DataChoice {
  const chosen = ['series', 'dataset', 'data'].filter((name) => stringOption(values, name) !== undefined);
  if (chosen.length > 1) {
    throw new InputError(`--${chosen[1]}`, `cannot be combined with --${chosen[0]}: pick one data source`);
  }
  let source: DataSource;
  const data = stringOption(values, 'data');
  const dataset = oneOf<BundledName>(values, 'dataset', BUNDLED_NAMES);
  if (data !== undefined) {
    const dateText = stringOption(values, 'date-column');
    const table = parseCsvText(readTextFile(data, '--data'), {
      field: `--data ${data}`,
      missing: oneOf(values, 'missing', ['refuse', 'drop'] as const) ?? 'refuse',
      ...(dateText === undefined ? {} : { dateColumn: dateText === 'none' ? null : dateText }),
    });
    source = { kind: 'table', table, label: data };
  } else if (dataset !== undefined) {
    const symbol = oneOf<StockSymbol>(values, 'symbol', STOCK_SYMBOLS);
    if (symbol !== undefined && dataset !== 'stocks')
      throw new InputError('--symbol', 'only applies to --dataset stocks');
    source = { kind: 'bundled', name: dataset, options: symbol === undefined ? {} : { symbol } };
  } else {
    source = { kind: 'generated', spec: readSeriesSpec(values, window) };
  }
  const split = numberOption(values, 'split', Number.NaN, { min: 0, max: 1, minExclusive: true });
  return {
    source,
    inputs: columnList(values, 'inputs'),
    outputs: columnList(values, 'outputs'),
    trainFraction: Number.isNaN(split) ? undefined : split,
    normalise: oneOf(values, 'normalise', NORMALISE_METHODS),
  };
}

function readSeriesSpec(values: ParsedOptions, window: number): SeriesSpec {
  const kind: SeriesKind = oneOf(values, 'series', SERIES_KINDS) ?? 'sine';
  const common = {
    points: intOption(values, 'points', 50, window + 1, MAX_POINTS),
    noise: numberOption(values, 'noise', 0.1, { min: 0, max: 1e6 }),
    amplitude: numberOption(values, 'amplitude', 1, { min: 0, max: 1e6, minExclusive: true }),
  };
  switch (kind) {
    case 'sine':
      return { kind, ...common };
    case 'square':
    case 'sawtooth':
      return { kind, ...common, period: intOption(values, 'period', 20, 2, MAX_POINTS) };
    case 'sum-of-sines':
      return { kind, ...common, periods: intListOption(values, 'periods', [20, 7], 2, MAX_POINTS, 16) };
    case 'random-walk':
      return { kind, ...common };
  }
}
