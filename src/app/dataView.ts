// From the form's settings (and the user's CSV, when that is the source) to the data a run trains on,
// prepared exactly as startRun prepares it, so the page can chart the data in original units, mark
// the held-out part and check the batch against the training samples before any worker starts.
//
// Legend: R = rows, T = window, B = boundary (first held-out row), O = output columns.

import type { CsvTable } from '../data/csv.js';
import { type PreparedData, prepareData } from '../data/prepare.js';
import { Rng } from '../data/rng.js';
import { type ColumnTable, selectColumns, withFutureRows } from '../data/windows.js';
import { InputError } from '../model/errors.js';
import { feedbackProblem } from '../train/forecast.js';
import { type RunSettings, resolveDataSettings, sourceTable } from '../train/run.js';
import { checkTrainOptions } from '../train/trainer.js';
import { sameList } from '../util/lists.js';
import { pastEndNote, pastEndReach } from './knownAhead.js';
import { type AppRunSettings, type AppTrainOptions, PAGE_LIMITS } from './settings.js';

/** The user's CSV as parsed, and the columns chosen from it. */
export interface CsvChoice {
  table: CsvTable;
  /** The file's name. */
  label: string;
  inputs: string[];
  outputs: string[];
  /** The inputs read from the file's future rows, not predicted (knownAhead.ts knownAheadOf). */
  knownAhead?: string[];
}

/** RunSettings with every choice made explicit, so the page and the worker prepare the same data. */
export interface ExplicitRunSettings extends RunSettings {
  trainFraction: number;
  validationFraction: number;
  normalize: NonNullable<RunSettings['normalize']>;
  transform: NonNullable<RunSettings['transform']>;
  season: NonNullable<RunSettings['season']>;
}

export function runSettingsFor(run: AppRunSettings, csv: CsvChoice | null): ExplicitRunSettings {
  const common = {
    seed: run.seed,
    window: run.window,
    hiddenSizes: run.hiddenSizes,
    trainFraction: run.trainFraction,
    validationFraction: run.validationFraction,
    normalize: run.normalize,
    transform: run.transform,
    season: run.season,
  };
  switch (run.data.kind) {
    case 'generated':
      return { ...common, source: { kind: 'generated', spec: run.data.spec } };
    case 'bundled':
      return {
        ...common,
        source: {
          kind: 'bundled',
          name: run.data.name,
          options: run.data.name === 'stocks' ? { symbol: run.data.symbol } : {},
        },
      };
    case 'csv':
      if (csv === null) throw new InputError('csv', 'choose a CSV file first (or drop one on the box)');
      return {
        ...common,
        source: {
          kind: 'table',
          table: csv.table,
          label: csv.label,
          ...(csv.table.future !== null ? { future: csv.table.future } : {}),
        },
        inputs: csv.inputs,
        outputs: csv.outputs,
        ...(csv.knownAhead !== undefined && csv.knownAhead.length > 0 ? { knownAhead: csv.knownAhead } : {}),
      };
  }
}

export interface ShownData {
  prepared: PreparedData;
  /** (R) x positions: the sine's argument, or the row number. */
  positions: Float32Array;
  /** (R) row labels (dates) where the source has them. */
  dates: string[] | null;
  label: string;
  /** The data's unit where it is known ("ppm"), else null. */
  unit: string | null;
  /** Whether the free-running forecast applies: every input is an output or known ahead (forecast.ts feedbackProblem). */
  canForecast: boolean;
  /** The used columns with the source's future rows after them (as a run's `levels`); the data's own rows without any. */
  levels: ColumnTable;
}

/** Prepares the data as startRun does (same generator draws, same columns, transform, split and normalization). */
export function shownData(settings: ExplicitRunSettings): ShownData {
  const { table, positions, label: sourceLabel, unit } = sourceTable(settings.source, new Rng(settings.seed));
  const label = settings.source.kind === 'bundled' ? bundledLabel(settings.source) : sourceLabel;
  const prepared = prepareData(table, resolveDataSettings(settings, table));
  const future = settings.source.kind === 'table' ? settings.source.future : undefined;
  return {
    prepared,
    positions,
    dates: table.dates ?? null,
    label,
    unit,
    canForecast: feedbackProblem(prepared) === null,
    levels: withFutureRows(prepared.table, future && selectColumns(future, prepared.table.columns)),
  };
}

/**
 * The trainer's own checks of the options against the training samples (the batch, above all), and
 * the page's memory budget for the windows cut from the data (a generated series is checked as it
 * is typed, in settings.ts; a file or a bundled series only once it is prepared).
 */
export function checkAgainstData(train: AppTrainOptions, view: ShownData): void {
  const { train: data, validation, test } = view.prepared;
  const samples = data.count + (validation?.count ?? 0) + (test?.count ?? 0);
  const values = samples * data.window * data.inputSize;
  if (values > PAGE_LIMITS.inputValues) {
    const count = (n: number) => n.toLocaleString('en-US');
    throw new InputError(
      'window',
      `${count(samples)} windows of ${data.window} rows × ${data.inputSize} input columns make ${count(values)} inputs; the app allows at most ${count(PAGE_LIMITS.inputValues)} (use a shorter window, fewer input columns or fewer rows)`,
    );
  }
  checkTrainOptions(train, data);
}

const TRANSFORM_WORDS: Record<string, string> = {
  levels: '',
  differences: ' (as differences from the row before)',
  'log-returns': ' (as log returns on the row before)',
  'seasonal-differences': ' (as differences from the row one season before)',
};

/** A one-line description of the data for people: rows, columns, transform, parts. */
export function describeData(view: ShownData, window: number): string {
  const { prepared } = view;
  const rows = prepared.table.rows;
  const columns = prepared.outputs.join(', ');
  const parts = [
    prepared.validation === null
      ? ''
      : `rows ${prepared.validationStart + 1}–${prepared.boundary} choose the best epoch (validation)`,
    prepared.test === null ? '' : `rows ${prepared.boundary + 1}–${rows} are held out (test)`,
  ].filter((part) => part !== '');
  const held = parts.length === 0 ? 'all of them train' : parts.join('; ');
  const inputs = sameList(prepared.inputs, prepared.outputs) ? '' : ` from ${prepared.inputs.join(', ')}`;
  const season = prepared.season === null ? '' : ` Seasonal period: ${prepared.season} rows.`;
  return `${view.label}: ${rows} rows; the model predicts ${columns}${TRANSFORM_WORDS[prepared.transform.kind]}${inputs} from the ${window} rows before; ${held}.${season}`;
}

/**
 * Why the series chart has no free-running forecast, or null when it has one: the forecast feeds
 * each prediction back as the next input, which needs the outputs to be the inputs.
 */
export function noForecastReason(view: ShownData): string | null {
  if (view.canForecast) return null;
  const { inputs, outputs } = view.prepared;
  const list = (names: string[]) => names.join(', ');
  const extra = inputs.filter((name) => !outputs.includes(name));
  const why =
    extra.length > 0
      ? `the model reads ${list(inputs)} but predicts only ${list(outputs)}, so a prediction cannot stand in for ${extra.length === 1 ? 'the next input' : 'all of the next inputs'} (${list(extra)} ${extra.length === 1 ? 'is' : 'are'} never predicted)`
      : `the model predicts ${list(outputs)} from ${list(inputs)}, so its predictions are not its next inputs`;
  const mark =
    extra.length > 0
      ? `, or mark ${list(extra)} known ahead where the file gives ${extra.length === 1 ? 'its' : 'their'} future values (rows after the last whose outputs are empty)`
      : '';
  return `No free-running forecast: ${why}. Choose the same columns as inputs and outputs for one${mark}.`;
}

/** What the page says about the forecast past the end of `horizon` steps with known-ahead inputs: how far it reads them, where it stops and why; null without any. */
export function pastEndSentence(view: ShownData, horizon: number): string | null {
  const { prepared, levels } = view;
  const reach = pastEndReach(prepared.knownAhead, levels, prepared.table.rows, horizon);
  return pastEndNote(prepared.knownAhead, levels.rows - prepared.table.rows, reach, horizon);
}

/** A bundled series as people call it: "AAPL share price", "S&P 500", "CO₂ at Mauna Loa". */
function bundledLabel(source: Extract<ExplicitRunSettings['source'], { kind: 'bundled' }>): string {
  switch (source.name) {
    case 'stocks':
      return `${(source.options as { symbol?: string }).symbol ?? 'stock'} share price`;
    case 'sp500':
      return 'S&P 500';
    case 'co2':
      return 'CO₂ at Mauna Loa';
  }
}
