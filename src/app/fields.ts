// The settings form's fields: the settings table (src/settings/training.ts) gives each field's name,
// default, bounds and parser; this adds what a page needs beside them: a label, a hint, a group,
// the choices' labels and when a field applies (a period for a square wave, a company for stocks).
// No DOM here: form.ts builds the page's controls from FIELDS.

import type { BundledName } from '../data/bundled.js';
import { OPTIMIZERS, type OptimizerName, type OptimizerValues, optimizerUses } from '../model/optimizer.js';
import type { Setting } from '../settings/setting.js';
import {
  defaultsKey,
  OPTIMIZER_SETTINGS,
  SETTINGS,
  type SettingName,
  type SOURCE_KINDS,
  settingOf,
  sourceDefault,
} from '../settings/training.js';

export type SourceKind = (typeof SOURCE_KINDS)[number];
export type FieldGroup = 'data' | 'model' | 'training';

interface FieldLook {
  label: string;
  group: FieldGroup;
  /** A short note on what is valid, shown under the field. */
  hint: string;
  /** Labels of a choice's values, where they differ from the values. */
  optionLabels?: Record<string, string>;
  /** The field applies (is shown, parsed and put in links) only when this holds; always when absent. */
  appliesWhen?: (values: FieldText) => boolean;
}

/** The fields' text by name (FieldValues, before its names are known). */
type FieldText = Readonly<Record<string, string>>;

const isGenerated = (v: FieldText) => v.source === 'generated';
/** An optimizer's own setting applies where the chosen optimizer's update reads it. */
const readBy = (key: keyof OptimizerValues) => (v: FieldText) =>
  (OPTIMIZERS as readonly string[]).includes(v.optimizer) && optimizerUses(v.optimizer as OptimizerName, key);
const isPeriodic = (v: FieldText) => isGenerated(v) && (v.series === 'square' || v.series === 'sawtooth');

/** The form's fields in page order; each key is a setting's name (the CLI's option, the link's key). */
const LOOKS = {
  source: {
    label: 'Data',
    group: 'data',
    hint: 'what the model learns to predict',
    optionLabels: { bundled: 'real series', csv: 'my CSV file' },
  },
  series: {
    label: 'Series',
    group: 'data',
    hint: 'the sine is the blog’s; the walk changes regime',
    optionLabels: { sine: 'noisy sine', 'sum-of-sines': 'sum of sines', 'random-walk': 'random walk' },
    appliesWhen: isGenerated,
  },
  points: { label: 'Points', group: 'data', hint: 'length of the series', appliesWhen: isGenerated },
  noise: { label: 'Noise', group: 'data', hint: 'std. dev. added to each point', appliesWhen: isGenerated },
  amplitude: { label: 'Amplitude', group: 'data', hint: 'peak of the clean wave', appliesWhen: isGenerated },
  period: { label: 'Period', group: 'data', hint: 'steps per cycle, at least 2', appliesWhen: isPeriodic },
  periods: {
    label: 'Periods',
    group: 'data',
    hint: 'comma list of steps per cycle',
    appliesWhen: (v) => isGenerated(v) && v.series === 'sum-of-sines',
  },
  dataset: {
    label: 'Series',
    group: 'data',
    hint: 'monthly; stocks and S&P 2000–2010, CO₂ 1958–2020',
    optionLabels: { stocks: 'stock price', sp500: 'S&P 500', co2: 'CO₂, Mauna Loa' },
    appliesWhen: (v) => v.source === 'bundled',
  },
  symbol: {
    label: 'Company',
    group: 'data',
    hint: 'whose share price',
    appliesWhen: (v) => v.source === 'bundled' && v.dataset === 'stocks',
  },
  missing: {
    label: 'Bad or missing values',
    group: 'data',
    hint: 'what to do with such a row',
    optionLabels: { refuse: 'refuse the file', drop: 'drop the row' },
    appliesWhen: (v) => v.source === 'csv',
  },
  decimal: {
    label: 'Decimal mark',
    group: 'data',
    hint: 'where 1,234 alone could be either',
    optionLabels: { auto: 'detect', '.': 'point: 1,234.5', ',': 'comma: 1.234,5' },
    appliesWhen: (v) => v.source === 'csv',
  },
  split: {
    label: 'Before the test part',
    group: 'data',
    hint: 'share of rows; the rest is the held-out test; 1: none',
  },
  validation: {
    label: 'Validation share',
    group: 'data',
    hint: 'rows just before the test that choose the best epoch; 0: none',
  },
  normalise: { label: 'Normalise', group: 'data', hint: 'fitted on the training part only' },
  transform: {
    label: 'Predict',
    group: 'data',
    hint: 'the model learns this, and it is undone for every chart',
    optionLabels: {
      levels: 'the values (levels)',
      differences: 'differences',
      'log-returns': 'log returns',
      'seasonal-differences': 'seasonal differences',
    },
  },
  season: { label: 'Season', group: 'data', hint: 'rows per cycle: auto (monthly: 12), none, or a number' },
  window: { label: 'Window', group: 'model', hint: 'values per input window' },
  hidden: { label: 'Hidden sizes', group: 'model', hint: 'comma list, one per layer: 64, 32' },
  batch: { label: 'Batch', group: 'training', hint: 'samples per minibatch' },
  epochs: { label: 'Epochs', group: 'training', hint: 'passes over the data' },
  lr: { label: 'Learning rate', group: 'training', hint: 'step size of each update' },
  optimizer: {
    label: 'Optimizer',
    group: 'training',
    hint: 'SGD is the blog’s',
    optionLabels: { sgd: 'SGD', adam: 'Adam' },
  },
  momentum: {
    label: 'Momentum',
    group: 'training',
    hint: 'from 0 up to (not including) 1',
    appliesWhen: readBy('momentum'),
  },
  'clip-norm': { label: 'Clip norm', group: 'training', hint: 'cap on the gradients’ norm; empty: none' },
  'lr-decay': { label: 'Rate decay', group: 'training', hint: 'rate × this each epoch; 1: none' },
  loss: {
    label: 'Loss',
    group: 'training',
    hint: '½ · Σ squares is the blog’s',
    optionLabels: { sse: '½ · Σ squares', mse: 'mean squared' },
  },
  'best-epoch': {
    label: 'Keep the best epoch',
    group: 'training',
    hint: 'lowest validation error; needs a held-out part',
    optionLabels: { on: 'yes', off: 'no, the last' },
  },
  patience: {
    label: 'Patience',
    group: 'training',
    hint: 'stop after this many epochs without a better one; empty: never',
  },
  horizon: { label: 'Forecast steps', group: 'training', hint: 'how far past the end of the data' },
  seed: { label: 'Seed', group: 'training', hint: 'data, weights, batches' },
  members: {
    label: 'Members',
    group: 'training',
    hint: 'seeds trained together (seed, seed + 1, …): their median and 10–90% band; 1: one model',
  },
  report: { label: 'Report every', group: 'training', hint: 'epochs between updates' },
  threads: { label: 'CPU threads', group: 'training', hint: 'auto: the fastest count, measured; or 1 to 16' },
} satisfies Partial<Record<SettingName, FieldLook>>;

export type FieldName = keyof typeof LOOKS;
export type FieldValues = Record<FieldName, string>;

export interface FieldOption {
  value: string;
  label: string;
}

export interface FieldSpec {
  name: FieldName;
  setting: Setting<unknown>;
  label: string;
  group: FieldGroup;
  /** The value for a generated series (the blog's task); see defaultFieldValues for the others. */
  defaultText: string;
  hint: string;
  /** A choice among these (a select); a text box when absent. */
  options?: readonly FieldOption[];
  /** Browser input mode of a text box (the keyboard a phone shows). */
  inputMode: 'numeric' | 'decimal' | 'text';
  appliesWhen?: (values: FieldText) => boolean;
}

const INPUT_MODES = { whole: 'numeric', real: 'decimal' } as const;

export const FIELDS: readonly FieldSpec[] = (Object.entries(LOOKS) as [FieldName, FieldLook][]).map(([name, look]) => {
  const setting: Setting<unknown> = SETTINGS[name];
  const values = (setting as { values?: readonly string[] }).values;
  return {
    name,
    setting,
    label: look.label,
    group: look.group,
    defaultText: setting.format(setting.default),
    hint: look.hint,
    ...(values ? { options: values.map((value) => ({ value, label: look.optionLabels?.[value] ?? value })) } : {}),
    inputMode: setting.kind === 'whole' || setting.kind === 'real' ? INPUT_MODES[setting.kind] : 'text',
    ...(look.appliesWhen ? { appliesWhen: look.appliesWhen } : {}),
  };
});

const BY_NAME = new Map(FIELDS.map((f) => [f.name, f]));

export function fieldSpec(name: FieldName): FieldSpec {
  return BY_NAME.get(name)!;
}

export function isFieldName(name: string): name is FieldName {
  return BY_NAME.has(name as FieldName);
}

/**
 * Every field's text at its default for a source (and, for bundled data, which series): the blog's
 * task for a generated series, a forecaster's choices otherwise (settings/training.ts, SOURCE_DEFAULTS).
 */
export function defaultFieldValues(source: SourceKind = 'generated', dataset?: string): FieldValues {
  const name = (SETTINGS.dataset.values as readonly string[]).includes(dataset ?? '')
    ? (dataset as BundledName)
    : undefined;
  const key = defaultsKey(source, name);
  const values = Object.fromEntries(
    FIELDS.map((f) => [f.name, settingOf(f.name).format(sourceDefault(f.name, key) as never)]),
  ) as FieldValues;
  values.source = source;
  return values;
}

/** Whether a field is in use with these values (others are hidden, not parsed, not linked). */
export function fieldApplies(name: FieldName, values: FieldValues): boolean {
  const when = fieldSpec(name).appliesWhen;
  return when === undefined || when(values);
}

/** The form field that an error's field (from the data layer, setup, the trainer or a backend) belongs to. */
export function fieldOf(errorField: string): FieldName | null {
  if (isFieldName(errorField)) return errorField;
  const aliases: Record<string, FieldName> = {
    trainFraction: 'split',
    kind: 'series',
    name: 'dataset',
    // The optimizer's settings without a field of their own (Adam's) belong to the optimizer's.
    ...Object.fromEntries(
      Object.values(OPTIMIZER_SETTINGS)
        .filter((setting) => !isFieldName(setting.name))
        .map((setting) => [setting.name, 'optimizer' as const]),
    ),
    weights: 'periods',
  };
  const head = errorField.replace(/[[.].*$/, '');
  if (Object.hasOwn(aliases, head)) return aliases[head];
  if (isFieldName(head)) return head;
  // The model validators name fields like "config.window" or "config.hiddenSizes[0]".
  if (/hidden/i.test(errorField)) return 'hidden';
  if (/window/i.test(errorField)) return 'window';
  return null;
}
