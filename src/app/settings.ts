// The settings form's text (as typed, or as a link carried it) to checked run and trainer settings,
// through the settings table's parsers (src/settings/training.ts). Every problem is reported per
// field, with what would be valid, so the page can show it beside the field. Beyond the table's
// bounds the page keeps its own memory budget (PAGE_LIMITS). The data's own limits (a CSV's rows)
// are checked when the data is prepared (dataView.ts), with the same messages.

import type { BundledName, StockSymbol } from '../data/bundled.js';
import type { SeriesSpec } from '../data/generators.js';
import type { NormalizeMethod } from '../data/normalize.js';
import { seasonOfSeries } from '../data/season.js';
import { splitRows } from '../data/split.js';
import { type Transform, targetTransform } from '../data/transform.js';
import { InputError } from '../model/errors.js';
import { paramLayout } from '../model/layout.js';
import { DEFAULT_OPTIMIZER, type LossName, type OptimizerSettings } from '../model/optimizer.js';
import { choice } from '../settings/setting.js';
import type { CpuThreads } from '../settings/threads.js';
import { optimizerValues, SETTINGS, type SeasonChoice } from '../settings/training.js';
import { modelFileProblem } from '../train/modelFile.js';
import { type FieldName, type FieldValues, fieldApplies, fieldOf, isFieldName } from './fields.js';
import type { SessionOptions } from './session.js';

/**
 * Which backend a run trains on: the faster here by a short race (auto, as the CLI's default), WebGPU,
 * the CPU, or both side by side.
 */
export const APP_BACKENDS = ['auto', 'webgpu', 'cpu', 'both'] as const;
export type AppBackendChoice = (typeof APP_BACKENDS)[number];
/** The link's `backend` key. */
export const APP_BACKEND = choice(APP_BACKENDS, { default: 'auto', help: 'the backend a run trains on' })('backend');

/**
 * The page's own budget beyond the settings' bounds: it holds parameters, gradients and activations
 * on the CPU (and again on the GPU), and charts every point, so 2^24 parameters (64 MB a copy),
 * 2^24 input values and 100,000 points keep a tab well clear of trouble.
 */
export const PAGE_LIMITS = {
  points: 100_000,
  parameters: 2 ** 24,
  inputValues: 2 ** 24,
  /** Forecast steps past the end: one batch-1 forward each on the CPU at every report. */
  horizon: 1000,
  /** Members trained together: every member's predictions and forecasts come to the page at each report. */
  members: 1024,
  /** Rows of a CSV: the page prepares, fingerprints and charts them all on its own thread. */
  csvRows: 2 ** 20,
} as const;

/** Where the data comes from; a CSV's table joins these settings when a run starts (dataView.ts). */
export type SourceChoice =
  | { kind: 'generated'; spec: SeriesSpec }
  | { kind: 'bundled'; name: BundledName; symbol: StockSymbol }
  | { kind: 'csv'; missing: 'refuse' | 'drop' };

export interface AppRunSettings {
  seed: number;
  data: SourceChoice;
  window: number;
  hiddenSizes: number[];
  trainFraction: number;
  validationFraction: number;
  normalize: NormalizeMethod;
  transform: Transform;
  season: SeasonChoice;
}

/** The trainer's options with the optimizer, loss, decay, best epoch and horizon always chosen. */
export interface AppTrainOptions extends SessionOptions {
  optimizer: OptimizerSettings;
  loss: LossName;
  lrDecay: number;
  /** The CPU backend's threads (one where the page is not cross-origin isolated). */
  threads: CpuThreads;
  /** Models trained together, seeds seed, seed + 1, … (1: one model, as the blog's). */
  members: number;
  keepBest: boolean;
  patience: number | null;
  horizon: number;
}

export interface AppSettings {
  run: AppRunSettings;
  train: AppTrainOptions;
}

export type FieldErrors = Partial<Record<FieldName, string>>;

export type ParseResult = { ok: true; settings: AppSettings } | { ok: false; errors: FieldErrors };

type Reader = <T>(name: FieldName, parse: (text: string) => T) => T | undefined;

/**
 * Reads fields: `parse` of a field's text, or undefined with the InputError's message recorded under
 * the field's name (any other error is thrown on); a field for which `applies` is false is not read.
 */
export function fieldReader<N extends string>(
  values: Record<N, string>,
  errors: Partial<Record<N, string>>,
  applies: (name: N) => boolean = () => true,
): <T>(name: N, parse: (text: string) => T) => T | undefined {
  return (name, parse) => {
    if (!applies(name)) return undefined;
    try {
      return parse(values[name]);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      errors[name] = messageOf(err);
      return undefined;
    }
  };
}

/** Each field as read: undefined where it does not apply or is at fault. */
type Read<T> = { [K in keyof T]: T[K] | undefined };

/** Whether every value was read (no field at fault, none missing). */
function allRead<T extends object>(values: Read<T>): values is T {
  return Object.values(values).every((value) => value !== undefined);
}

/**
 * Checks every field that applies and returns the settings, or one message per field at fault
 * (fields whose bounds depend on another field are checked only once that field is valid). Fields
 * are read in the form's order, so the messages come in that order too.
 */
export function parseSettings(values: FieldValues): ParseResult {
  const errors: FieldErrors = {};
  const read: Reader = fieldReader(values, errors, (name) => fieldApplies(name, values));
  const source = read('source', (t) => SETTINGS.source.parse(t));
  const shape = readShape(read, errors);
  const data = readSource(source, shape.window, read, errors);
  const preparation = readPreparation(read);
  const trainSamples = generatedTrainSamples(data, shape.window, preparation, errors);
  const { seed, ...train } = readTraining(read, errors, trainSamples, data, shape.window, preparation.trainFraction);
  const run: Read<AppRunSettings> = { seed, data, ...shape, ...preparation };
  if (Object.keys(errors).length > 0 || !allRead(run) || !allRead(train)) return { ok: false, errors };
  return { ok: true, settings: { run, train } };
}

/** The model's shape, held to the page's parameter budget. */
function readShape(read: Reader, errors: FieldErrors): Read<Pick<AppRunSettings, 'window' | 'hiddenSizes'>> {
  const window = read('window', (t) => SETTINGS.window.parse(t));
  const hiddenSizes = read('hidden', (t) => SETTINGS.hidden.parse(t));
  if (window !== undefined && hiddenSizes !== undefined) {
    const size = paramLayout({ inputSize: 1, hiddenSizes, outputSize: 1, window }).size;
    if (size > PAGE_LIMITS.parameters) {
      errors.hidden = `these layer sizes make a model of ${count(size)} parameters; the app allows at most ${count(PAGE_LIMITS.parameters)} (one layer of up to ${largestSingleLayer(window)})`;
    } else {
      // A model the page trains can always be downloaded and loaded again: its file, with the most
      // state (Adam's) and history any run keeps, is within what a model file may be.
      const problem = modelFileProblem({ parameters: size, optimizer: 'adam', epochs: SETTINGS.epochs.max });
      if (problem !== null) errors.hidden = problem;
    }
  }
  return { window, hiddenSizes };
}

type Preparation = Pick<AppRunSettings, 'trainFraction' | 'validationFraction' | 'normalize' | 'transform' | 'season'>;

/** How the data is split, normalized and transformed. */
function readPreparation(read: Reader): Read<Preparation> {
  const S = SETTINGS;
  return {
    trainFraction: read('split', (t) => S.split.parse(t)),
    validationFraction: read('validation', (t) => S.validation.parse(t)),
    normalize: read('normalise', (t) => S.normalise.parse(t)),
    transform: read('transform', (t) => S.transform.parse(t)),
    season: read('season', (t) => S.season.parse(t)),
  };
}

/**
 * The training samples of a generated series (what bounds the batch here), or undefined for other
 * sources: a bundled series or a CSV is checked against its rows when the data is prepared.
 */
function generatedTrainSamples(
  data: SourceChoice | undefined,
  window: number | undefined,
  preparation: Read<Preparation>,
  errors: FieldErrors,
): number | undefined {
  const { trainFraction, validationFraction, transform, season } = preparation;
  if (
    data?.kind !== 'generated' ||
    window === undefined ||
    trainFraction === undefined ||
    validationFraction === undefined ||
    transform === undefined ||
    season === undefined
  ) {
    return undefined;
  }
  try {
    const period = season === 'auto' ? seasonOfSeries(data.spec) : season === 'none' ? null : season;
    const { lag } = targetTransform(transform, period);
    const { trainTargets } = splitRows(data.spec.points, window, { trainFraction, validationFraction, lag });
    return trainTargets.end - trainTargets.start;
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    errors[fieldOf(err.field) ?? 'split'] = messageOf(err);
    return undefined;
  }
}

/** The trainer's options (the batch within the training samples, where known) and the seed. */
function readTraining(
  read: Reader,
  errors: FieldErrors,
  trainSamples: number | undefined,
  data: SourceChoice | undefined,
  window: number | undefined,
  split: number | undefined,
): Read<AppTrainOptions> & { seed: number | undefined } {
  const S = SETTINGS;
  const batchSize = read('batch', (t) => S.batch.within({ max: trainSamples }).parse(t));
  if (errors.batch !== undefined && trainSamples !== undefined && data?.kind === 'generated') {
    const share = split !== undefined && split < 1 ? ` with a training share of ${split}` : '';
    errors.batch += ` (the batch cannot exceed the ${trainSamples} training samples that ${data.spec.points} points and a window of ${window} give${share})`;
  }
  const epochs = read('epochs', (t) => S.epochs.parse(t));
  const learningRate = read('lr', (t) => S.lr.parse(t));
  const optimizer = readOptimizer(read);
  const lrDecay = read('lr-decay', (t) => S['lr-decay'].parse(t));
  const loss = read('loss', (t) => S.loss.parse(t));
  const bestEpoch = read('best-epoch', (t) => S['best-epoch'].parse(t));
  const patience = read('patience', (t) => S.patience.parse(t));
  const horizon = read('horizon', (t) => S.horizon.within({ max: PAGE_LIMITS.horizon }).parse(t));
  const seed = read('seed', (t) => S.seed.parse(t));
  const reportEvery = read('report', (t) => S.report.parse(t));
  const threads = read('threads', (t) => S.threads.parse(t));
  const members = read('members', (t) => S.members.within({ max: PAGE_LIMITS.members }).parse(t));
  return {
    members,
    seed,
    epochs,
    batchSize,
    learningRate,
    reportEvery,
    optimizer,
    loss,
    lrDecay,
    keepBest: bestEpoch === undefined ? undefined : bestEpoch === 'on',
    patience,
    horizon,
    threads,
  };
}

/**
 * The optimizer: its name, and its own settings from the fields the form has for them (momentum, clip
 * norm); a setting without a field, or whose field does not apply to this optimizer, is at its default.
 */
function readOptimizer(read: Reader): OptimizerSettings | undefined {
  const name = read('optimizer', (t) => SETTINGS.optimizer.parse(t));
  const values = optimizerValues((key, setting) => {
    const field = setting.name;
    const value = isFieldName(field) ? read(field, (t) => setting.parse(t)) : undefined;
    return value === undefined ? DEFAULT_OPTIMIZER[key] : value;
  });
  return name === undefined ? undefined : { name, ...values };
}

function readSource(
  source: (typeof SETTINGS.source.values)[number] | undefined,
  window: number | undefined,
  read: Reader,
  errors: FieldErrors,
): SourceChoice | undefined {
  const S = SETTINGS;
  switch (source) {
    case undefined:
      return undefined;
    case 'bundled': {
      const name = read('dataset', (t) => S.dataset.parse(t));
      const symbol = read('symbol', (t) => S.symbol.parse(t)) ?? S.symbol.default;
      return name === undefined ? undefined : { kind: 'bundled', name, symbol };
    }
    case 'csv': {
      const missing = read('missing', (t) => S.missing.parse(t));
      return missing === undefined ? undefined : { kind: 'csv', missing };
    }
    case 'generated': {
      const kind = read('series', (t) => S.series.parse(t));
      // At least one sample: more points than the window.
      const points = read('points', (t) =>
        S.points.within({ min: window === undefined ? undefined : window + 1, max: PAGE_LIMITS.points }).parse(t),
      );
      if (errors.points !== undefined && window !== undefined) {
        errors.points += ` (points must exceed the window, ${window}, to give at least one sample)`;
      }
      if (points !== undefined && window !== undefined && (points - window) * window > PAGE_LIMITS.inputValues) {
        const samples = points - window;
        errors.points = `${count(samples)} windows of ${window} values make ${count(samples * window)} inputs; the app allows at most ${count(PAGE_LIMITS.inputValues)} (use fewer points or a shorter window)`;
      }
      const noise = read('noise', (t) => S.noise.parse(t));
      const amplitude = read('amplitude', (t) => S.amplitude.parse(t));
      const period = read('period', (t) => S.period.parse(t));
      const periods = read('periods', (t) => S.periods.parse(t));
      if (kind === undefined || points === undefined || noise === undefined || amplitude === undefined)
        return undefined;
      const common = { points, noise, amplitude };
      switch (kind) {
        case 'sine':
        case 'random-walk':
          return { kind: 'generated', spec: { kind, ...common } };
        case 'square':
        case 'sawtooth':
          return period === undefined ? undefined : { kind: 'generated', spec: { kind, ...common, period } };
        case 'sum-of-sines':
          return periods === undefined ? undefined : { kind: 'generated', spec: { kind, ...common, periods } };
      }
    }
  }
}

/** The largest hidden size of a one-layer model within the parameter budget. */
function largestSingleLayer(window: number): number {
  let hidden = Math.floor(Math.sqrt(PAGE_LIMITS.parameters / 4));
  while (paramLayout({ inputSize: 1, hiddenSizes: [hidden], outputSize: 1, window }).size > PAGE_LIMITS.parameters)
    hidden--;
  return hidden;
}

function count(value: number): string {
  return value.toLocaleString('en-US');
}

/** The message of an InputError without its "field: " prefix (the page shows it beside the field). */
export function messageOf(err: InputError): string {
  const prefix = `${err.field}: `;
  return err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
}
