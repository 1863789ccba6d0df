// The settings of a training run, written once: the CLI's `train` and `predict` options and their
// help, the app's fields (which add a label and a hint, src/app/fields.ts), the link's keys and the
// trainer's checks all come from this table. Defaults are the blog's task (a noisy sine of 50
// points, windows of 10, 30 hidden units, batch 8, SGD at 0.01, 101 epochs); bounds are generous
// for real use and small enough that a typo cannot exhaust memory.

import { type CpuThreads, checkThreads, isThreadChoice, MAX_THREADS } from '../backends/cpu/threads.js';
import { BUNDLED_NAMES, STOCK_SYMBOLS } from '../data/bundled.js';
import { MAX_MAGNITUDE, MAX_POINTS, SERIES_KINDS } from '../data/generators.js';
import { NORMALISE_METHODS } from '../data/normalise.js';
import { DECIMAL_MARKS } from '../data/numberFormat.js';
import { DEFAULT_OPTIMIZER, LOSSES, OPTIMIZERS, type OptimizerSettings } from '../model/optimizer.js';
import { LIMITS } from '../model/validate.js';
import { readDecimal } from './number.js';
import { choice, custom, defineTable, optional, real, type Setting, whole, wholeList } from './setting.js';

/** Far beyond any rate that trains (the error diverges well before), well within float32. */
const MAX_LEARNING_RATE = 1e6;
/** Bound on counts of epochs, reports and minibatch samples. */
const MAX_COUNT = 1_000_000;

export const SOURCE_KINDS = ['generated', 'bundled', 'csv'] as const;
export const MISSING_VALUES = ['refuse', 'drop'] as const;

/** Bundled and CSV data hold out the last 20% and are z-scored; a generated series trains on all, as is. */
export const REAL_DATA_DEFAULTS = { split: 0.8, normalise: 'z-score' } as const;

/** The CPU backend's threads (training and the benchmark): 'auto' measures the fastest count. */
export const cpuThreads = custom<CpuThreads>({
  default: 'auto',
  placeholder: `auto|1..${MAX_THREADS}`,
  valid: `auto or a whole number from 1 to ${MAX_THREADS}`,
  help: 'the CPU backend’s threads; auto times 1, 2, 4, … when training starts and keeps the fastest',
  parse: (text, field) => checkThreads(text.trim() === 'auto' ? 'auto' : readDecimal(text), field, text),
  isValid: isThreadChoice,
});

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
  /** Default 1 for a generated series (the blog's); REAL_DATA_DEFAULTS for bundled and CSV data. */
  split: real({
    default: 1,
    min: 0,
    max: 1,
    minExclusive: true,
    help: `the chronological share that trains, the rest held out (${REAL_DATA_DEFAULTS.split} for bundled and CSV data)`,
  }),
  normalise: choice(NORMALISE_METHODS, {
    default: 'none',
    aliases: ['normalize'],
    help: `scaling fitted on the training rows only (${REAL_DATA_DEFAULTS.normalise} for bundled and CSV data)`,
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
  seed: whole({
    default: 0,
    min: 0,
    max: 0xffffffff,
    help: 'seed for data noise, initial weights and minibatch order',
  }),
  report: whole({ default: 10, min: 1, max: MAX_COUNT, help: 'epochs between progress reports (and GPU readbacks)' }),
  threads: cpuThreads,
});

export type SettingName = keyof typeof SETTINGS;

/** The split and normalisation a source trains with unless they are set. */
export function dataDefaults(generated: boolean): { split: number; normalise: (typeof NORMALISE_METHODS)[number] } {
  return generated
    ? { split: SETTINGS.split.default, normalise: SETTINGS.normalise.default }
    : { ...REAL_DATA_DEFAULTS };
}

/** A model file's optimizer settings (its keys are the OptimizerSettings' names), checked against the same bounds. */
export function readOptimizerSettings(value: Record<string, unknown>, path: string): Omit<OptimizerSettings, 'name'> {
  const read = <T>(key: keyof OptimizerSettings, setting: Setting<T>, fallback: T): T =>
    Object.hasOwn(value, key) ? setting.check(value[key], `${path}.${key}`) : fallback;
  return {
    momentum: read('momentum', SETTINGS.momentum, DEFAULT_OPTIMIZER.momentum),
    beta1: read('beta1', SETTINGS.beta1, DEFAULT_OPTIMIZER.beta1),
    beta2: read('beta2', SETTINGS.beta2, DEFAULT_OPTIMIZER.beta2),
    epsilon: read('epsilon', SETTINGS.epsilon, DEFAULT_OPTIMIZER.epsilon),
    clipNorm: read('clipNorm', SETTINGS['clip-norm'], DEFAULT_OPTIMIZER.clipNorm),
  };
}
