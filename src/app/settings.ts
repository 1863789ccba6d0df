// The app's settings form as pure logic: the fields, their defaults (the seed's task), and parsing of
// the text a person typed (or a link carried) into checked values. Every problem is reported per
// field, with what would be valid, so the page can show it beside the field; nothing here touches
// the DOM. The data's own limits (a CSV's rows, the split) are checked when the data is prepared
// (dataView.ts), with the same messages.

import { BUNDLED_NAMES, type BundledName, STOCK_SYMBOLS, type StockSymbol } from '../data/bundled.js';
import { SERIES_KINDS, type SeriesKind, type SeriesSpec } from '../data/generators.js';
import { NORMALISE_METHODS, type NormaliseMethod } from '../data/normalise.js';
import { splitRows } from '../data/split.js';
import { describeValue, InputError } from '../model/errors.js';
import { paramLayout } from '../model/layout.js';
import { DEFAULT_OPTIMIZER, LOSSES, type LossName, OPTIMIZERS, type OptimizerSettings } from '../model/optimizer.js';
import { intInRange, LIMITS } from '../model/validate.js';
import type { TrainOptions } from '../train/trainer.js';

export type BackendChoice = 'webgpu' | 'cpu' | 'both';

export const SOURCE_KINDS = ['generated', 'bundled', 'csv'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

/** Field names are the CLI's (and the trainer's) option names, so a message reads the same everywhere. */
export type FieldName =
  | 'source'
  | 'series'
  | 'points'
  | 'noise'
  | 'amplitude'
  | 'period'
  | 'periods'
  | 'dataset'
  | 'symbol'
  | 'missing'
  | 'split'
  | 'normalise'
  | 'window'
  | 'hidden'
  | 'batch'
  | 'epochs'
  | 'lr'
  | 'optimizer'
  | 'momentum'
  | 'clip-norm'
  | 'lr-decay'
  | 'loss'
  | 'seed'
  | 'report';

export type FieldGroup = 'data' | 'model' | 'training';

export interface FieldOption {
  value: string;
  label: string;
}

export interface FieldSpec {
  name: FieldName;
  label: string;
  group: FieldGroup;
  /** The value for a generated series (the seed's task); see defaultFieldValues for the others. */
  defaultText: string;
  /** A short note on what is valid, shown under the field. */
  hint: string;
  /** A choice among these (a select); a text box when absent. */
  options?: readonly FieldOption[];
  /** Browser input mode of a text box (the keyboard a phone shows). */
  inputMode?: 'numeric' | 'decimal' | 'text';
  /** The field applies (is shown, parsed and put in links) only when this holds; always when absent. */
  appliesWhen?: (values: FieldValues) => boolean;
}

export type FieldValues = Record<FieldName, string>;

/** Bounds beyond the model's own LIMITS: large enough for real use, small enough to chart. */
export const APP_LIMITS = {
  points: 100_000,
  epochs: 1_000_000,
  report: 1_000_000,
  seed: 0xffffffff,
  learningRate: 1e6,
  noise: 1e6,
  /**
   * Memory budget: the page holds parameters, gradients and activations on the CPU (and again on the
   * GPU), so 2^24 parameters (64 MB a copy) and 2^24 input values keep a tab well clear of trouble.
   */
  parameters: 2 ** 24,
  inputValues: 2 ** 24,
} as const;

const choices = (values: readonly string[], labels: Record<string, string> = {}): FieldOption[] =>
  values.map((value) => ({ value, label: labels[value] ?? value }));

const isGenerated = (v: FieldValues) => v.source === 'generated';
const isPeriodic = (v: FieldValues) => isGenerated(v) && (v.series === 'square' || v.series === 'sawtooth');

export const FIELDS: readonly FieldSpec[] = [
  {
    name: 'source',
    label: 'Data',
    group: 'data',
    defaultText: 'generated',
    hint: 'what the model learns to predict',
    options: choices(SOURCE_KINDS, {
      generated: 'generated',
      bundled: 'real series',
      csv: 'my CSV file',
    }),
  },
  {
    name: 'series',
    label: 'Series',
    group: 'data',
    defaultText: 'sine',
    hint: 'the sine is the seed’s; the walk changes regime',
    options: choices(SERIES_KINDS, {
      sine: 'noisy sine',
      'sum-of-sines': 'sum of sines',
      'random-walk': 'random walk',
    }),
    appliesWhen: isGenerated,
  },
  {
    name: 'points',
    label: 'Points',
    group: 'data',
    defaultText: '50',
    hint: 'length of the series',
    inputMode: 'numeric',
    appliesWhen: isGenerated,
  },
  {
    name: 'noise',
    label: 'Noise',
    group: 'data',
    defaultText: '0.1',
    hint: 'std. dev. added to each point',
    inputMode: 'decimal',
    appliesWhen: isGenerated,
  },
  {
    name: 'amplitude',
    label: 'Amplitude',
    group: 'data',
    defaultText: '1',
    hint: 'peak of the clean wave',
    inputMode: 'decimal',
    appliesWhen: isGenerated,
  },
  {
    name: 'period',
    label: 'Period',
    group: 'data',
    defaultText: '20',
    hint: 'steps per cycle, at least 2',
    inputMode: 'numeric',
    appliesWhen: isPeriodic,
  },
  {
    name: 'periods',
    label: 'Periods',
    group: 'data',
    defaultText: '20, 7',
    hint: 'comma list of steps per cycle',
    inputMode: 'text',
    appliesWhen: (v) => isGenerated(v) && v.series === 'sum-of-sines',
  },
  {
    name: 'dataset',
    label: 'Series',
    group: 'data',
    defaultText: 'stocks',
    hint: 'monthly; stocks and S&P 2000–2010, CO₂ 1958–2020',
    options: choices(BUNDLED_NAMES, {
      stocks: 'stock price',
      sp500: 'S&P 500',
      co2: 'CO₂, Mauna Loa',
    }),
    appliesWhen: (v) => v.source === 'bundled',
  },
  {
    name: 'symbol',
    label: 'Company',
    group: 'data',
    defaultText: 'AAPL',
    hint: 'whose share price',
    options: choices(STOCK_SYMBOLS),
    appliesWhen: (v) => v.source === 'bundled' && v.dataset === 'stocks',
  },
  {
    name: 'missing',
    label: 'Bad or missing values',
    group: 'data',
    defaultText: 'refuse',
    hint: 'what to do with such a row',
    options: choices(['refuse', 'drop'], { refuse: 'refuse the file', drop: 'drop the row' }),
    appliesWhen: (v) => v.source === 'csv',
  },
  {
    name: 'split',
    label: 'Training share',
    group: 'data',
    defaultText: '1',
    hint: 'first part trains, the rest is held out; 1: none',
    inputMode: 'decimal',
  },
  {
    name: 'normalise',
    label: 'Normalise',
    group: 'data',
    defaultText: 'none',
    hint: 'fitted on the training part only',
    options: choices(NORMALISE_METHODS),
  },
  {
    name: 'window',
    label: 'Window',
    group: 'model',
    defaultText: '10',
    hint: 'values per input window',
    inputMode: 'numeric',
  },
  {
    name: 'hidden',
    label: 'Hidden sizes',
    group: 'model',
    defaultText: '30',
    hint: 'comma list, one per layer: 64, 32',
    inputMode: 'text',
  },
  {
    name: 'batch',
    label: 'Batch',
    group: 'training',
    defaultText: '8',
    hint: 'samples per minibatch',
    inputMode: 'numeric',
  },
  {
    name: 'epochs',
    label: 'Epochs',
    group: 'training',
    defaultText: '101',
    hint: 'passes over the data',
    inputMode: 'numeric',
  },
  {
    name: 'lr',
    label: 'Learning rate',
    group: 'training',
    defaultText: '0.01',
    hint: 'step size of each update',
    inputMode: 'decimal',
  },
  {
    name: 'optimizer',
    label: 'Optimiser',
    group: 'training',
    defaultText: 'sgd',
    hint: 'SGD is the seed’s',
    options: choices(OPTIMIZERS, { sgd: 'SGD', momentum: 'momentum', adam: 'Adam' }),
  },
  {
    name: 'momentum',
    label: 'Momentum',
    group: 'training',
    defaultText: String(DEFAULT_OPTIMIZER.momentum),
    hint: 'from 0 up to (not including) 1',
    inputMode: 'decimal',
    appliesWhen: (v) => v.optimizer === 'momentum',
  },
  {
    name: 'clip-norm',
    label: 'Clip norm',
    group: 'training',
    defaultText: '',
    hint: 'cap on the gradients’ norm; empty: none',
    inputMode: 'decimal',
  },
  {
    name: 'lr-decay',
    label: 'Rate decay',
    group: 'training',
    defaultText: '1',
    hint: 'rate × this each epoch; 1: none',
    inputMode: 'decimal',
  },
  {
    name: 'loss',
    label: 'Loss',
    group: 'training',
    defaultText: 'sse',
    hint: '½ · Σ squares is the seed’s',
    options: choices(LOSSES, { sse: '½ · Σ squares', mse: 'mean squared' }),
  },
  {
    name: 'seed',
    label: 'Seed',
    group: 'training',
    defaultText: '0',
    hint: 'data, weights, batches',
    inputMode: 'numeric',
  },
  {
    name: 'report',
    label: 'Report every',
    group: 'training',
    defaultText: '10',
    hint: 'epochs between updates',
    inputMode: 'numeric',
  },
];

const SPEC = new Map(FIELDS.map((f) => [f.name, f]));

export function fieldSpec(name: FieldName): FieldSpec {
  return SPEC.get(name)!;
}

/**
 * Defaults that depend on the data: the seed's sine trains on everything un-normalised (the seed's
 * task); real series hold out the last 20% and are z-scored.
 */
const REAL_DATA_DEFAULTS: Partial<FieldValues> = { split: '0.8', normalise: 'z-score' };

export function defaultFieldValues(source: SourceKind = 'generated'): FieldValues {
  const values = Object.fromEntries(FIELDS.map((f) => [f.name, f.defaultText])) as FieldValues;
  values.source = source;
  return source === 'generated' ? values : { ...values, ...REAL_DATA_DEFAULTS };
}

/** Whether a field is in use with these values (others are hidden, not parsed, not linked). */
export function fieldApplies(name: FieldName, values: FieldValues): boolean {
  const when = fieldSpec(name).appliesWhen;
  return when === undefined || when(values);
}

/** Where the data comes from; a CSV's table joins these settings when a run starts (dataView.ts). */
export type DataChoice =
  | { kind: 'generated'; spec: SeriesSpec }
  | { kind: 'bundled'; name: BundledName; symbol: StockSymbol }
  | { kind: 'csv'; missing: 'refuse' | 'drop' };

export interface AppRunSettings {
  seed: number;
  data: DataChoice;
  window: number;
  hiddenSizes: number[];
  trainFraction: number;
  normalise: NormaliseMethod;
}

/** The trainer's options with the optimiser, loss and decay always chosen. */
export interface AppTrainOptions extends TrainOptions {
  optimizer: OptimizerSettings;
  loss: LossName;
  lrDecay: number;
}

export interface AppSettings {
  run: AppRunSettings;
  train: AppTrainOptions;
}

export type FieldErrors = Partial<Record<FieldName, string>>;

export type ParseResult = { ok: true; settings: AppSettings } | { ok: false; errors: FieldErrors };

/** A number as typed: empty or anything `Number` rejects is an error naming the field. */
function parseNumber(name: string, text: string): number {
  const trimmed = text.trim();
  const value = trimmed === '' ? Number.NaN : Number(trimmed);
  if (!Number.isFinite(value)) throw new InputError(name, `expected a number, got ${describeValue(text)}`);
  return value;
}

function parseWhole(name: string, text: string, min: number, max: number): number {
  return intInRange(parseNumber(name, text), name, min, max);
}

interface RealBounds {
  min: number;
  max: number;
  minExclusive?: boolean;
  maxExclusive?: boolean;
}

function parseReal(name: string, text: string, { min, max, minExclusive, maxExclusive }: RealBounds): number {
  const value = parseNumber(name, text);
  if ((minExclusive ? value <= min : value < min) || (maxExclusive ? value >= max : value > max)) {
    const low = minExclusive ? `greater than ${min}` : `at least ${min}`;
    const high = maxExclusive ? `below ${max}` : `at most ${max}`;
    throw new InputError(name, `expected a number ${low} and ${high}, got ${value}`);
  }
  return value;
}

/** "64, 32" → [64, 32]: a comma list of whole numbers from `min` to `max`, at most `maxItems` of them. */
export function parseWholeList(
  name: string,
  text: string,
  min: number,
  max: number,
  maxItems: number,
  items = 'values',
): number[] {
  const parts = text.split(',');
  if (parts.length > maxItems) throw new InputError(name, `expected 1 to ${maxItems} ${items}, got ${parts.length}`);
  return parts.map((part) => {
    const trimmed = part.trim();
    const value = trimmed === '' ? Number.NaN : Number(trimmed);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new InputError(
        name,
        `expected comma-separated whole numbers from ${min} to ${max}, got ${describeValue(text)}`,
      );
    }
    return value;
  });
}

/** "64, 32" → [64, 32]: one whole number per stacked LSTM layer. */
export function parseHiddenSizes(text: string): number[] {
  return parseWholeList('hidden', text, 1, LIMITS.hiddenSize, LIMITS.layers, 'layer sizes');
}

/** A value of a choice field; anything else is refused with the valid ones. */
function parseChoice<T extends string>(name: FieldName, text: string): T {
  const options = fieldSpec(name).options ?? [];
  if (!options.some((o) => o.value === text)) {
    throw new InputError(name, `expected one of ${options.map((o) => o.value).join(', ')}, got ${describeValue(text)}`);
  }
  return text as T;
}

/**
 * Checks every field that applies and returns the settings, or one message per field at fault
 * (fields whose bounds depend on another field are checked only once that field is valid).
 */
export function parseSettings(values: FieldValues): ParseResult {
  const errors: FieldErrors = {};
  const read = <T>(name: FieldName, parse: () => T): T | undefined => {
    if (!fieldApplies(name, values)) return undefined;
    try {
      return parse();
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      errors[name] = messageOf(err);
      return undefined;
    }
  };
  const text = (name: FieldName) => values[name];

  const source = read('source', () => parseChoice<SourceKind>('source', text('source')));
  const window = read('window', () => parseWhole('window', text('window'), 1, LIMITS.window));
  const hiddenSizes = read('hidden', () => parseHiddenSizes(text('hidden')));
  if (window !== undefined && hiddenSizes !== undefined) {
    const size = paramLayout({ inputSize: 1, hiddenSizes, outputSize: 1, window }).size;
    if (size > APP_LIMITS.parameters) {
      errors.hidden = `these layer sizes make a model of ${count(size)} parameters; the app allows at most ${count(APP_LIMITS.parameters)} (one layer of up to ${largestSingleLayer(window)})`;
    }
  }

  const data = readData(source, window, values, read, errors);
  const split = read('split', () => parseReal('split', text('split'), { min: 0, max: 1, minExclusive: true }));
  const normalise = read('normalise', () => parseChoice<NormaliseMethod>('normalise', text('normalise')));

  // The batch is bounded by the training samples where they are known here (a generated series); a
  // bundled series or a CSV is checked against its rows when the data is prepared.
  const generated = data?.kind === 'generated' ? data.spec : undefined;
  let trainSamples: number | undefined;
  if (generated !== undefined && window !== undefined && split !== undefined) {
    try {
      const { trainTargets } = splitRows(generated.points, window, split);
      trainSamples = trainTargets.end - trainTargets.start;
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      errors.split = messageOf(err);
    }
  }
  const batchSize = read('batch', () => parseWhole('batch', text('batch'), 1, trainSamples ?? APP_LIMITS.points));
  if (errors.batch !== undefined && trainSamples !== undefined && generated !== undefined) {
    const share = split !== undefined && split < 1 ? ` with a training share of ${split}` : '';
    errors.batch += ` (the batch cannot exceed the ${trainSamples} training samples that ${generated.points} points and a window of ${window} give${share})`;
  }
  const epochs = read('epochs', () => parseWhole('epochs', text('epochs'), 1, APP_LIMITS.epochs));
  const learningRate = read('lr', () =>
    parseReal('lr', text('lr'), { min: 0, max: APP_LIMITS.learningRate, minExclusive: true }),
  );
  const optimizerName = read('optimizer', () => parseChoice<OptimizerSettings['name']>('optimizer', text('optimizer')));
  const momentum = read('momentum', () =>
    parseReal('momentum', text('momentum'), { min: 0, max: 1, maxExclusive: true }),
  );
  const clipNorm = read('clip-norm', () =>
    text('clip-norm').trim() === ''
      ? null
      : parseReal('clip-norm', text('clip-norm'), { min: 0, max: 1e12, minExclusive: true }),
  );
  const lrDecay = read('lr-decay', () =>
    parseReal('lr-decay', text('lr-decay'), { min: 0, max: 1, minExclusive: true }),
  );
  const loss = read('loss', () => parseChoice<LossName>('loss', text('loss')));
  const seed = read('seed', () => parseWhole('seed', text('seed'), 0, APP_LIMITS.seed));
  const reportEvery = read('report', () => parseWhole('report', text('report'), 1, APP_LIMITS.report));

  if (
    Object.keys(errors).length > 0 ||
    data === undefined ||
    window === undefined ||
    hiddenSizes === undefined ||
    split === undefined ||
    normalise === undefined ||
    batchSize === undefined ||
    epochs === undefined ||
    learningRate === undefined ||
    optimizerName === undefined ||
    clipNorm === undefined ||
    lrDecay === undefined ||
    loss === undefined ||
    seed === undefined ||
    reportEvery === undefined
  ) {
    return { ok: false, errors };
  }
  const optimizer: OptimizerSettings = {
    ...DEFAULT_OPTIMIZER,
    name: optimizerName,
    momentum: momentum ?? DEFAULT_OPTIMIZER.momentum,
    clipNorm,
  };
  return {
    ok: true,
    settings: {
      run: { seed, data, window, hiddenSizes, trainFraction: split, normalise },
      train: { epochs, batchSize, learningRate, reportEvery, optimizer, loss, lrDecay },
    },
  };
}

type Reader = <T>(name: FieldName, parse: () => T) => T | undefined;

function readData(
  source: SourceKind | undefined,
  window: number | undefined,
  values: FieldValues,
  read: Reader,
  errors: FieldErrors,
): DataChoice | undefined {
  switch (source) {
    case undefined:
      return undefined;
    case 'bundled': {
      const name = read('dataset', () => parseChoice<BundledName>('dataset', values.dataset));
      const symbol = read('symbol', () => parseChoice<StockSymbol>('symbol', values.symbol)) ?? 'AAPL';
      return name === undefined ? undefined : { kind: 'bundled', name, symbol };
    }
    case 'csv': {
      const missing = read('missing', () => parseChoice<'refuse' | 'drop'>('missing', values.missing));
      return missing === undefined ? undefined : { kind: 'csv', missing };
    }
    case 'generated': {
      const kind = read('series', () => parseChoice<SeriesKind>('series', values.series));
      const points = read('points', () =>
        parseWhole('points', values.points, window === undefined ? 2 : window + 1, APP_LIMITS.points),
      );
      if (errors.points !== undefined && window !== undefined) {
        errors.points += ` (points must exceed the window, ${window}, to give at least one sample)`;
      }
      if (points !== undefined && window !== undefined && (points - window) * window > APP_LIMITS.inputValues) {
        const samples = points - window;
        errors.points = `${count(samples)} windows of ${window} values make ${count(samples * window)} inputs; the app allows at most ${count(APP_LIMITS.inputValues)} (use fewer points or a shorter window)`;
      }
      const noise = read('noise', () => parseReal('noise', values.noise, { min: 0, max: APP_LIMITS.noise }));
      const amplitude = read('amplitude', () =>
        parseReal('amplitude', values.amplitude, { min: 0, max: 1e6, minExclusive: true }),
      );
      const period = read('period', () => parseWhole('period', values.period, 2, APP_LIMITS.points));
      const periods = read('periods', () =>
        parseWholeList('periods', values.periods, 2, APP_LIMITS.points, 16, 'periods'),
      );
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
  let hidden = Math.floor(Math.sqrt(APP_LIMITS.parameters / 4));
  while (paramLayout({ inputSize: 1, hiddenSizes: [hidden], outputSize: 1, window }).size > APP_LIMITS.parameters)
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

/**
 * The form field that an error's field (from the data layer, setup, the trainer or a backend)
 * belongs to, if any.
 */
export function fieldOf(errorField: string): FieldName | null {
  if (SPEC.has(errorField as FieldName)) return errorField as FieldName;
  const aliases: Record<string, FieldName> = {
    trainFraction: 'split',
    kind: 'series',
    name: 'dataset',
    beta1: 'optimizer',
    beta2: 'optimizer',
    epsilon: 'optimizer',
    weights: 'periods',
  };
  const head = errorField.replace(/[[.].*$/, '');
  if (aliases[head] !== undefined) return aliases[head];
  if (SPEC.has(head as FieldName)) return head as FieldName;
  // The model validators name fields like "config.window" or "config.hiddenSizes[0]".
  if (/hidden/i.test(errorField)) return 'hidden';
  if (/window/i.test(errorField)) return 'window';
  return null;
}

export function parseBackendChoice(value: string): BackendChoice {
  if (value === 'webgpu' || value === 'cpu' || value === 'both') return value;
  throw new InputError('backend', `expected webgpu, cpu or both, got ${describeValue(value)}`);
}
