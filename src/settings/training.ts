// The settings of a training run, written once: the CLI's `train` and `predict` options and their
// help, the app's fields (which add a label and a hint, src/app/fields.ts), the link's keys and the
// trainer's checks all come from this table. Defaults are the blog's task (a noisy sine of 50
// points, windows of 10, 30 hidden units, batch 8, SGD at 0.01, 101 epochs); bounds are generous
// for real use and small enough that a typo cannot exhaust memory.

import { BUNDLED_NAMES, type BundledName, STOCK_SYMBOLS } from '../data/bundledNames.js';
import { readDecimal } from '../data/decimal.js';
import { MAX_MAGNITUDE, MAX_POINTS, SERIES_KINDS, type SeriesSpec } from '../data/generators.js';
import { NORMALIZE_METHODS } from '../data/normalize.js';
import { DECIMAL_MARKS } from '../data/numberFormat.js';
import { TRANSFORMS } from '../data/transform.js';
import { describeValue, InputError } from '../model/errors.js';
import {
  DEFAULT_OPTIMIZER,
  LOSSES,
  OPTIMIZERS,
  type OptimizerSettings,
  type OptimizerValues,
} from '../model/optimizer.js';
import { LIMITS } from '../model/validate.js';
import { choice, custom, defineTable, optional, real, type Setting, whole, wholeList } from './setting.js';
import { type CpuThreads, checkThreads, isThreadChoice, MAX_THREADS } from './threads.js';

/** Far beyond any rate that trains (the error diverges well before), well within float32. */
const MAX_LEARNING_RATE = 1e6;
/** Bound on counts of epochs, reports and minibatch samples. */
const MAX_COUNT = 1_000_000;
/**
 * Most forecast steps: each is a forward pass over the whole window, so a horizon is bounded by what
 * finishes (a window of 4,096 takes about 30 ms a step on one core: 10,000 steps are 5 minutes).
 */
export const MAX_HORIZON = 10_000;

export const SOURCE_KINDS = ['generated', 'bundled', 'csv'] as const;
export const MISSING_VALUES = ['refuse', 'drop'] as const;
export const ON_OFF = ['on', 'off'] as const;

/** The seasonal period: found from the data ('auto'), none, or a number of rows. */
export type SeasonChoice = 'auto' | 'none' | number;
const MAX_SEASON = 10_000;

/** The CPU backend's threads (training and the benchmark): 'auto' measures the fastest count. */
export const cpuThreads = custom<CpuThreads>({
  default: 'auto',
  placeholder: `auto|1..${MAX_THREADS}`,
  valid: `auto or a whole number from 1 to ${MAX_THREADS}`,
  help: 'the CPU backend’s threads; auto times 1, 2, 4, … when training starts and keeps the fastest',
  parse: (text, field) => checkThreads(text.trim() === 'auto' ? 'auto' : readDecimal(text), field, text),
  isValid: isThreadChoice,
});

/** Most members of a population (an ensemble, a search's shape): the GPU's grid and the file's bound. */
export const MAX_MEMBERS = 4096;

export const SETTINGS = defineTable({
  // ---- Data ----
  /** The app's and the link's; the CLI picks the source by which of --series, --dataset, --data is given. */
  source: choice(SOURCE_KINDS, { default: 'generated', help: 'where the data comes from' }),
  series: choice(SERIES_KINDS, {
    default: 'sine',
    help: 'a generated series (the blog’s noisy sine by default); the random walk changes regime halfway',
  }),
  /** The series' length; at least window + 1 (one sample), checked where the window is known. */
  points: whole({ default: 50, min: 2, max: MAX_POINTS, help: 'length of a generated series' }),
  noise: real({ default: 0.1, min: 0, max: MAX_MAGNITUDE, help: 'standard deviation of the noise on each point' }),
  amplitude: real({
    default: 1,
    min: 0,
    max: MAX_MAGNITUDE,
    minExclusive: true,
    float32: true,
    help: 'peak of the clean wave',
  }),
  period: whole({ default: 20, min: 2, max: MAX_POINTS, help: 'steps per cycle (square, sawtooth)' }),
  periods: wholeList({
    default: [20, 7],
    min: 2,
    max: MAX_POINTS,
    maxItems: 16,
    items: 'periods',
    help: 'steps per cycle of each sine (sum-of-sines)',
  }),
  dataset: choice(BUNDLED_NAMES, {
    default: 'stocks',
    helpShowsDefault: false,
    help: 'a bundled real series: monthly prices 2000–2010, the S&P 500, CO2 at Mauna Loa',
  }),
  symbol: choice(STOCK_SYMBOLS, { default: 'AAPL', help: 'whose share price (stocks)' }),
  missing: choice(MISSING_VALUES, {
    default: 'refuse',
    help: 'a CSV row with a missing or non-numeric value: refuse the file, or drop the row',
  }),
  decimal: choice(DECIMAL_MARKS, {
    default: 'auto',
    help: 'the CSV’s decimal mark where its numbers do not show it (1,234 alone): auto reads it from the other columns, then the delimiter',
  }),
  /** Default 1 for a generated series (the blog's); sourceDefaults' for bundled and CSV data. */
  split: real({
    default: 1,
    min: 0,
    max: 1,
    minExclusive: true,
    help: 'the chronological share before the held-out test part (0.8 for bundled and CSV data)',
  }),
  validation: real({
    default: 0,
    min: 0,
    max: 1,
    maxExclusive: true,
    help: 'the share just before the test part that chooses the best epoch (0.1 for bundled and CSV data; 0: none)',
  }),
  normalise: choice(NORMALIZE_METHODS, {
    default: 'none',
    aliases: ['normalize'],
    help: 'scaling fitted on the training rows only (z-score for bundled and CSV data)',
  }),
  transform: choice(TRANSFORMS, {
    default: 'levels',
    help: 'what the model predicts: the values, their differences, log returns or seasonal differences (by source)',
  }),
  season: custom<SeasonChoice>({
    default: 'auto',
    placeholder: 'auto|none|N',
    valid: `auto, none, or a whole number of rows from 2 to ${MAX_SEASON}`,
    help: 'the seasonal period in rows: auto finds it (monthly dates: 12; a square or sawtooth wave: its period)',
    parse: (text, field) => {
      const value = text.trim();
      if (value === 'auto' || value === 'none') return value;
      const period = Number(value);
      if (/^\d+$/.test(value) && period >= 2 && period <= MAX_SEASON) return period;
      throw new InputError(
        field,
        `expected auto, none, or a whole number of rows from 2 to ${MAX_SEASON}, got ${describeValue(text)}`,
      );
    },
    isValid: (value) =>
      value === 'auto' ||
      value === 'none' ||
      (typeof value === 'number' && Number.isInteger(value) && value >= 2 && value <= MAX_SEASON),
    format: String,
  }),

  // ---- Model ----
  window: whole({ default: 10, min: 1, max: LIMITS.window, help: 'time steps per sample' }),
  hidden: wholeList({
    default: [30],
    min: 1,
    max: LIMITS.hiddenSize,
    maxItems: LIMITS.layers,
    items: 'layer sizes',
    help: 'hidden units; a comma list stacks layers, e.g. 64,32',
  }),

  // ---- Training ----
  /** At most the training samples, checked where they are known. */
  batch: whole({ default: 8, min: 1, max: MAX_COUNT, help: 'minibatch size (at most the training samples)' }),
  epochs: whole({ default: 101, min: 1, max: MAX_COUNT, help: 'passes over the training samples' }),
  lr: real({
    default: 0.01,
    min: 0,
    max: MAX_LEARNING_RATE,
    minExclusive: true,
    float32: true,
    help: 'learning rate',
  }),
  optimizer: choice(OPTIMIZERS, { default: DEFAULT_OPTIMIZER.name, help: 'the update rule (the blog’s is SGD)' }),
  momentum: real({
    default: DEFAULT_OPTIMIZER.momentum,
    min: 0,
    max: 1,
    maxExclusive: true,
    float32: true,
    help: 'momentum’s coefficient',
  }),
  beta1: real({
    default: DEFAULT_OPTIMIZER.beta1,
    min: 0,
    max: 1,
    maxExclusive: true,
    float32: true,
    help: 'Adam’s decay of the mean',
  }),
  beta2: real({
    default: DEFAULT_OPTIMIZER.beta2,
    min: 0,
    max: 1,
    maxExclusive: true,
    float32: true,
    help: 'Adam’s decay of the squares',
  }),
  epsilon: real({
    default: DEFAULT_OPTIMIZER.epsilon,
    min: 0,
    max: 1,
    minExclusive: true,
    float32: true,
    help: 'Adam’s epsilon',
  }),
  'clip-norm': optional(
    real({ default: 1, min: 0, max: 1e12, minExclusive: true, float32: true, help: '' }),
    'clip the gradients to this global L2 norm (none by default)',
  ),
  'lr-decay': real({
    default: 1,
    min: 0,
    max: 1,
    minExclusive: true,
    float32: true,
    help: 'epoch e trains at lr · decay^(e-1)',
  }),
  loss: choice(LOSSES, {
    default: 'sse',
    help: 'the blog’s 0.5·Σ(y-t)², or the mean squared error per sample and output',
  }),
  'best-epoch': choice(ON_OFF, {
    default: 'on',
    help: 'keep the weights of the epoch with the lowest validation error (needs a held-out part)',
  }),
  patience: optional(
    whole({ default: 20, min: 1, max: MAX_COUNT, help: '' }),
    'stop once the validation error has not improved for this many epochs (none by default)',
  ),
  /** The app holds it to PAGE_LIMITS.horizon. */
  horizon: whole({
    default: 24,
    min: 1,
    max: MAX_HORIZON,
    aliases: ['steps'],
    help: 'forecast steps past the end of the data',
  }),
  seed: whole({
    default: 0,
    min: 0,
    max: 0xffffffff,
    help: 'seed for data noise, initial weights and minibatch order',
  }),
  members: whole({
    default: 1,
    min: 1,
    max: MAX_MEMBERS,
    help: 'models trained together, seeds seed, seed + 1, …: an ensemble whose mean predicts and whose spread is a band',
  }),
  report: whole({ default: 10, min: 1, max: MAX_COUNT, help: 'epochs between progress reports (and GPU readbacks)' }),
  threads: cpuThreads,
});

export type SettingName = keyof typeof SETTINGS;

/** A setting's value type. */
export type SettingValue<K extends SettingName> = (typeof SETTINGS)[K]['default'];
export type SettingValues = { [K in SettingName]: SettingValue<K> };

/** The setting named `name`, typed by its value (indexing SETTINGS with a generic name loses that). */
export function settingOf<K extends SettingName>(name: K): Setting<SettingValue<K>> {
  return SETTINGS[name] as unknown as Setting<SettingValue<K>>;
}

/** Which defaults a source brings: a generated series, each bundled series, or a CSV. */
export type DefaultsKey = 'generated' | BundledName | 'csv';

/** The source's own defaults key from a source kind and (for bundled data) its name. */
export function defaultsKey(kind: (typeof SOURCE_KINDS)[number], dataset?: BundledName): DefaultsKey {
  return kind === 'bundled' ? (dataset ?? SETTINGS.dataset.default) : kind;
}

/** Held out the last 20%, the 10% before it choosing the best epoch, z-scores fitted on the first 70%. */
const REAL_DATA = { split: 0.8, validation: 0.1, normalise: 'z-score' } as const;

/**
 * What a forecaster would choose for each source, where it differs from the table's defaults (the
 * blog's, which a generated series keeps). SOURCE_DEFAULT_REASONS says why, for the UI and the README.
 */
export const SOURCE_DEFAULTS: Record<DefaultsKey, Partial<SettingValues>> = {
  generated: {},
  stocks: { ...REAL_DATA, transform: 'log-returns', hidden: [4], lr: 0.003 },
  sp500: { ...REAL_DATA, transform: 'log-returns', hidden: [4], lr: 0.003 },
  co2: { ...REAL_DATA, transform: 'differences', window: 24 },
  csv: { ...REAL_DATA, transform: 'differences' },
};

export const SOURCE_DEFAULT_REASONS: Record<DefaultsKey, string> = {
  generated: 'a generated series keeps the blog’s settings: levels, no split, no scaling',
  stocks:
    'prices: log returns (relative moves look alike at any price) and a small model (4 hidden units: monthly returns carry little signal, and about 75 training windows cannot pin down more), a learning rate of 0.003 (a larger step chases the noise), the last 20% held out, the 10% before it choosing the epoch',
  sp500:
    'an index: log returns (relative moves look alike at any level) and a small model (4 hidden units: monthly returns carry little signal), a learning rate of 0.003 (a larger step chases the noise), the last 20% held out, the 10% before it choosing the epoch',
  co2: 'a trend with a yearly cycle: first differences, a window of two years, the last 20% held out, the 10% before it choosing the epoch',
  csv: 'most measured series trend: first differences, the last 20% held out, the 10% before it choosing the epoch',
};

/** The value of setting `name` a source trains with unless it is set. */
export function sourceDefault<K extends SettingName>(name: K, key: DefaultsKey): SettingValue<K> {
  const own = SOURCE_DEFAULTS[key];
  return (Object.hasOwn(own, name) ? own[name] : SETTINGS[name].default) as SettingValue<K>;
}

/** The generated series that these settings describe. */
export function seriesSpecOf(
  values: Pick<SettingValues, 'series' | 'points' | 'noise' | 'amplitude' | 'period' | 'periods'>,
): SeriesSpec {
  const { series: kind, points, noise, amplitude } = values;
  switch (kind) {
    case 'sine':
    case 'random-walk':
      return { kind, points, noise, amplitude };
    case 'square':
    case 'sawtooth':
      return { kind, points, noise, amplitude, period: values.period };
    case 'sum-of-sines':
      return { kind, points, noise, amplitude, periods: values.periods };
  }
}

/**
 * The optimizer's own settings in the table, by their OptimizerSettings key (the table spells clipNorm
 * 'clip-norm'): the CLI's options, the app's fields, the model file and the trainer's checks all go
 * through this one list.
 */
export const OPTIMIZER_SETTINGS: { readonly [K in keyof OptimizerValues]: Setting<OptimizerValues[K]> } = {
  momentum: SETTINGS.momentum,
  beta1: SETTINGS.beta1,
  beta2: SETTINGS.beta2,
  epsilon: SETTINGS.epsilon,
  clipNorm: SETTINGS['clip-norm'],
};

/** The keys of OPTIMIZER_SETTINGS in the table's order. */
export const OPTIMIZER_KEYS = Object.keys(OPTIMIZER_SETTINGS) as (keyof OptimizerValues)[];

/** The optimizer's own settings, each from `valueFor` with its setting. */
export function optimizerValues(
  valueFor: <K extends keyof OptimizerValues>(key: K, setting: Setting<OptimizerValues[K]>) => OptimizerValues[K],
): OptimizerValues {
  const values: Partial<Record<keyof OptimizerValues, unknown>> = {};
  for (const key of OPTIMIZER_KEYS) values[key] = valueFor(key, OPTIMIZER_SETTINGS[key]);
  return values as OptimizerValues;
}

/** The optimizer's settings as the table names them (what a model file's settings keep). */
export function optimizerSettingValues(optimizer: OptimizerSettings): Partial<SettingValues> {
  return {
    optimizer: optimizer.name,
    ...Object.fromEntries(OPTIMIZER_KEYS.map((key) => [OPTIMIZER_SETTINGS[key].name, optimizer[key]])),
  };
}

/** A model file's optimizer settings (its keys are the OptimizerSettings' names), checked against the same bounds. */
export function readOptimizerSettings(value: Record<string, unknown>, path: string): OptimizerValues {
  return optimizerValues((key, setting) =>
    Object.hasOwn(value, key) ? setting.check(value[key], `${path}.${key}`) : DEFAULT_OPTIMIZER[key],
  );
}
