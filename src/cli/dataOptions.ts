// The data options shared by `train` and `predict`: which series (generated, bundled or a CSV file),
// which columns go in and come out, the split, the normalization and the transform. Without a source
// option, a loaded model's own data is used (its file says where it came from).

import { CsvError, type CsvTable, checkValueColumns, parseCsvText } from '../data/csv.js';
import type { NormalizeMethod } from '../data/normalize.js';
import type { Transform } from '../data/transform.js';
import { type ColumnRef, type ColumnTable, columnIndex } from '../data/windows.js';
import { InputError } from '../model/errors.js';
import {
  type DefaultsKey,
  SETTINGS,
  type SeasonChoice,
  type SettingName,
  type SettingValue,
  seriesSpecOf,
  settingOf,
  sourceDefault,
} from '../settings/training.js';
import type { Model } from '../train/modelFile.js';
import type { DataSource } from '../train/run.js';
import { printable } from '../util/text.js';
import { CLI_SETTINGS } from './commands.js';
import { readTextFile } from './files.js';
import { option, optionValue, type ParsedOptions } from './options.js';

/** The data options as given; undefined where the source's default applies. */
export interface DataOptions {
  source: DataSource;
  inputs: ColumnRef[] | undefined;
  outputs: ColumnRef[] | undefined;
  trainFraction: number | undefined;
  validationFraction: number | undefined;
  normalize: NormalizeMethod | undefined;
  transform: Transform | undefined;
  season: SeasonChoice | undefined;
  /** Inputs whose future values are read, not predicted (--known-ahead, else the model's); by name for a CSV. */
  knownAhead: ColumnRef[] | undefined;
  /** The columns a CSV trains on unless --inputs and --outputs say (its row counters left out). */
  defaultColumns: ColumnRef[] | undefined;
  /** What the reader did that the user should know (a newest-first file reversed), one line each. */
  notes: string[];
}

/** Whether any option picks a data source (--series, --dataset or --data). */
function picksSource(values: ParsedOptions): boolean {
  return [SETTINGS.series, SETTINGS.dataset, CLI_SETTINGS.data].some((setting) => values[setting.name] !== undefined);
}

/**
 * How the options fall back: to a loaded model's settings, then to the defaults of the source the
 * options (or the model) name. `fromModel` says whether the data is the model's own (no source option).
 */
export interface Fallbacks {
  key: DefaultsKey;
  fromModel: boolean;
  /** The option's value, else the model's, else the source's default. */
  value<K extends SettingName>(name: K): SettingValue<K>;
}

export function fallbacks(values: ParsedOptions, model: Model | undefined): Fallbacks {
  const saved = model?.settings ?? {};
  const fromModel = model?.data?.origin !== undefined && !picksSource(values);
  const savedKey: DefaultsKey | undefined =
    model?.data?.origin === undefined
      ? undefined
      : model.data.origin.kind === 'bundled'
        ? (saved.dataset ?? SETTINGS.dataset.default)
        : model.data.origin.kind;
  const key: DefaultsKey = fromModel
    ? savedKey!
    : values[CLI_SETTINGS.data.name] !== undefined
      ? 'csv'
      : (optionValue(values, SETTINGS.dataset) ?? (picksSource(values) ? 'generated' : (savedKey ?? 'generated')));
  return {
    key,
    fromModel,
    value: (name) => {
      const own = saved[name];
      return option(
        values,
        settingOf(name),
        own !== undefined ? (own as SettingValue<typeof name>) : sourceDefault(name, key),
      );
    },
  };
}

/**
 * The CSV a model file names as its data (`data.origin`), read by `read` as any CSV is, but as a file
 * the user did not name: a failure says why without a byte of the file's contents (a CSV error quotes
 * cells and column names; a model file could name /etc/shadow), and the table must hold the model's
 * own columns.
 */
function readModelsData(file: string, model: Model | undefined, read: () => CsvTable): CsvTable {
  const refuse = (why: string): never => {
    throw new InputError('--data', `the model was trained on ${JSON.stringify(file)}, which ${why}; give --data FILE`);
  };
  let table: CsvTable;
  try {
    table = read();
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    if (err instanceof CsvError) {
      return refuse(`is not a CSV this model can read${err.row === undefined ? '' : ` (at row ${err.row})`}`);
    }
    // Reading the file itself (missing, not a regular file, too large): the message names only the path.
    if (err.field === '--model') return refuse(`cannot be read here (${err.message.replace(/^[^:]*: /, '')})`);
    return refuse('is not a CSV this model can read');
  }
  const wanted = [...new Set([...(model?.data?.inputs ?? []), ...(model?.data?.outputs ?? [])])];
  const missing = wanted.filter((name) => !table.columns.includes(name));
  if (missing.length > 0) {
    refuse(`has no column of numbers named ${missing.map((name) => JSON.stringify(name)).join(', ')}`);
  }
  return table;
}

/** Reads the data options; `window` bounds the number of points. */
export function readDataOptions(values: ParsedOptions, window: number, model?: Model): DataOptions {
  const chosen = [SETTINGS.series, SETTINGS.dataset, CLI_SETTINGS.data].filter(
    (setting) => values[setting.name] !== undefined,
  );
  if (chosen.length > 1) {
    throw new InputError(`--${chosen[1].name}`, `cannot be combined with --${chosen[0].name}: pick one data source`);
  }
  const given = fallbacks(values, model);
  const data = given.fromModel ? model?.data : undefined;
  const saved = model?.settings ?? {};
  /** The option's value, else (for the model's own data) what the model was trained with. */
  const asSaved = <K extends SettingName>(name: K): SettingValue<K> | undefined =>
    optionValue(values, settingOf(name)) ?? (given.fromModel ? saved[name] : undefined);
  const knownAhead = optionValue(values, CLI_SETTINGS['known-ahead']) ?? model?.data?.knownAhead;
  const { source, defaultColumns, notes } = readSource(values, window, given, model, knownAhead);
  // Other data for a model: its own columns, by name, where the new table has every one of them.
  const modelColumns = (names: string[] | undefined): string[] | undefined =>
    names !== undefined && source.kind === 'table' && names.every((name) => source.table.columns.includes(name))
      ? names
      : undefined;
  return {
    source,
    inputs: optionValue(values, CLI_SETTINGS.inputs) ?? data?.inputs ?? modelColumns(model?.data?.inputs),
    outputs: optionValue(values, CLI_SETTINGS.outputs) ?? data?.outputs ?? modelColumns(model?.data?.outputs),
    knownAhead: source.kind === 'table' && knownAhead !== undefined ? namesOf(source.table, knownAhead) : knownAhead,
    trainFraction: asSaved('split') ?? data?.trainFraction,
    validationFraction: asSaved('validation') ?? data?.validationFraction,
    normalize: asSaved('normalise') ?? model?.normalization?.method,
    transform: asSaved('transform') ?? data?.transform,
    season: asSaved('season') ?? (data?.season === undefined ? undefined : (data.season ?? 'none')),
    defaultColumns,
    notes,
  };
}

/** Column references (names or 0-based indices) as names, each checked against the table. */
function namesOf(table: ColumnTable, refs: readonly ColumnRef[]): string[] {
  return refs.map((ref, k) => table.columns[columnIndex(table, ref, `--known-ahead[${k}]`)]);
}

/** A CSV named by --data, or by the model file's data origin: its table, default columns and the reader's notes. */
function readCsvSource(
  values: ParsedOptions,
  given: Fallbacks,
  model: Model | undefined,
  knownAhead: readonly ColumnRef[] | undefined,
  file: string,
  origin: NonNullable<Model['data']>['origin'] | undefined,
): { source: DataSource; defaultColumns: ColumnRef[] | undefined; notes: string[] } {
  const named = optionValue(values, CLI_SETTINGS.data) !== undefined;
  const dateOption = optionValue(values, CLI_SETTINGS['date-column']);
  const dateColumn =
    dateOption !== undefined
      ? dateOption === 'none'
        ? null
        : dateOption
      : origin?.kind === 'csv'
        ? origin.dateColumn
        : undefined;
  const read = () => {
    const table = parseCsvText(readTextFile(file, named ? '--data' : '--model'), {
      field: `${named ? '--data' : 'the model’s data'} ${file}`,
      missing: given.value('missing'),
      decimal: given.value('decimal'),
      ...(dateColumn === undefined ? {} : { dateColumn }),
      // Inputs known ahead are read past the end: the last rows may leave the outputs empty.
      futureRows: knownAhead !== undefined && knownAhead.length > 0,
    });
    // A chosen column that is in the file but holds no numbers is refused with the reason.
    const inputs = optionValue(values, CLI_SETTINGS.inputs);
    const outputs = optionValue(values, CLI_SETTINGS.outputs);
    if (inputs !== undefined) checkValueColumns(table, inputs, '--inputs');
    if (outputs !== undefined) checkValueColumns(table, outputs, '--outputs');
    return table;
  };
  if (!named) {
    // Said before the file is opened: the user sees which file a model makes the CLI read.
    console.error(
      printable(
        `note: reading the model's data from ${JSON.stringify(file)}, as its file names it (give --data FILE for other data)`,
      ),
    );
  }
  const table = named ? read() : readModelsData(file, model, read);
  const notes: string[] =
    table.reversedBy === null
      ? []
      : [
          `note: ${file} runs newest first (by ${JSON.stringify(table.reversedBy)}); its rows were reversed, so the held-out part is the newest`,
        ];
  if (table.future !== null) {
    notes.push(
      `note: the last ${table.future.rows} row${table.future.rows === 1 ? '' : 's'} of ${file} have missing values: they are the data's future (known-ahead inputs are read there), not trained on`,
    );
  }
  const source: DataSource = {
    kind: 'table',
    table,
    label: file,
    ...(table.future === null ? {} : { future: table.future }),
  };
  return { source, defaultColumns: table.defaultColumns, notes };
}

/** The data source, with the columns a CSV trains on by default and what its reader did. */
function readSource(
  values: ParsedOptions,
  window: number,
  given: Fallbacks,
  model: Model | undefined,
  knownAhead: readonly ColumnRef[] | undefined,
): { source: DataSource; defaultColumns: ColumnRef[] | undefined; notes: string[] } {
  const origin = given.fromModel ? model?.data?.origin : undefined;
  const file = optionValue(values, CLI_SETTINGS.data) ?? (origin?.kind === 'csv' ? origin.fileName : undefined);
  if (file !== undefined) return readCsvSource(values, given, model, knownAhead, file, origin);
  if (optionValue(values, SETTINGS.dataset) !== undefined || origin?.kind === 'bundled') {
    const dataset = given.value('dataset');
    const symbol = optionValue(values, SETTINGS.symbol);
    if (symbol !== undefined && dataset !== 'stocks') {
      throw new InputError('--symbol', 'only applies to --dataset stocks');
    }
    const source: DataSource = {
      kind: 'bundled',
      name: dataset,
      options: dataset === 'stocks' ? { symbol: given.value('symbol') } : {},
    };
    return { source, defaultColumns: undefined, notes: [] };
  }
  const source: DataSource = {
    kind: 'generated',
    spec: seriesSpecOf({
      series: given.value('series'),
      // At least one sample: more points than the window.
      points: option(values, SETTINGS.points.within({ min: window + 1 }), given.value('points')),
      noise: given.value('noise'),
      amplitude: given.value('amplitude'),
      period: given.value('period'),
      periods: given.value('periods'),
    }),
  };
  return { source, defaultColumns: undefined, notes: [] };
}
