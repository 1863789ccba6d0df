// The app's settings form as pure logic: the fields, their defaults (the seed's task), and parsing of
// the text a person typed into checked values. Every problem is reported per field, with what would
// be valid, so the page can show it beside the field; nothing here touches the DOM.

import { Rng } from '../data/rng.js';
import { makeSineTask, type SeriesTask } from '../data/sine.js';
import { describeValue, InputError } from '../model/errors.js';
import { paramLayout } from '../model/layout.js';
import { intInRange, LIMITS } from '../model/validate.js';
import type { SineRunSettings } from '../train/setup.js';
import type { TrainOptions } from '../train/trainer.js';

export type BackendChoice = 'webgpu' | 'cpu' | 'both';

/** Field names are the CLI's option names, so a message reads the same in both places. */
export type FieldName = 'window' | 'hidden' | 'batch' | 'epochs' | 'lr' | 'seed' | 'points' | 'noise' | 'report';

export interface FieldSpec {
  name: FieldName;
  label: string;
  /** The seed's value, as the form shows it. */
  defaultText: string;
  /** A short note on what is valid, shown under the field. */
  hint: string;
  /** Browser input mode (the keyboard a phone shows). */
  inputMode: 'numeric' | 'decimal' | 'text';
}

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

export const FIELDS: readonly FieldSpec[] = [
  { name: 'window', label: 'Window', defaultText: '10', hint: 'values per input window', inputMode: 'numeric' },
  {
    name: 'hidden',
    label: 'Hidden sizes',
    defaultText: '30',
    hint: 'comma list, one per layer',
    inputMode: 'text',
  },
  { name: 'batch', label: 'Batch', defaultText: '8', hint: 'samples per minibatch', inputMode: 'numeric' },
  { name: 'epochs', label: 'Epochs', defaultText: '101', hint: 'passes over the data', inputMode: 'numeric' },
  { name: 'lr', label: 'Learning rate', defaultText: '0.01', hint: 'SGD step size', inputMode: 'decimal' },
  { name: 'seed', label: 'Seed', defaultText: '0', hint: 'data, weights, batches', inputMode: 'numeric' },
  { name: 'points', label: 'Points', defaultText: '50', hint: 'length of the series', inputMode: 'numeric' },
  { name: 'noise', label: 'Noise', defaultText: '0.1', hint: 'std. dev. added to the sine', inputMode: 'decimal' },
  { name: 'report', label: 'Report every', defaultText: '10', hint: 'epochs between updates', inputMode: 'numeric' },
];

export interface AppSettings {
  run: SineRunSettings;
  train: TrainOptions;
}

export type FieldValues = Record<FieldName, string>;

export type ParseResult =
  | { ok: true; settings: AppSettings }
  | { ok: false; errors: Partial<Record<FieldName, string>> };

export function defaultFieldValues(): FieldValues {
  return Object.fromEntries(FIELDS.map((f) => [f.name, f.defaultText])) as FieldValues;
}

/** A number as typed: empty or anything `Number` rejects is an error naming the field. */
function parseNumber(name: FieldName, text: string): number {
  const trimmed = text.trim();
  const value = trimmed === '' ? Number.NaN : Number(trimmed);
  if (!Number.isFinite(value)) throw new InputError(name, `expected a number, got ${describeValue(text)}`);
  return value;
}

function parseWhole(name: FieldName, text: string, min: number, max: number): number {
  return intInRange(parseNumber(name, text), name, min, max);
}

function parseReal(name: FieldName, text: string, min: number, max: number, minExclusive: boolean): number {
  const value = parseNumber(name, text);
  if ((minExclusive ? value <= min : value < min) || value > max) {
    const low = minExclusive ? `greater than ${min}` : `at least ${min}`;
    throw new InputError(name, `expected a number ${low} and at most ${max}, got ${value}`);
  }
  return value;
}

/** "64, 32" → [64, 32]: one whole number per stacked LSTM layer. */
export function parseHiddenSizes(text: string): number[] {
  const parts = text.split(',');
  if (parts.length > LIMITS.layers) {
    throw new InputError('hidden', `expected 1 to ${LIMITS.layers} layer sizes, got ${parts.length}`);
  }
  return parts.map((part) => {
    const trimmed = part.trim();
    const value = trimmed === '' ? Number.NaN : Number(trimmed);
    if (!Number.isInteger(value) || value < 1 || value > LIMITS.hiddenSize) {
      throw new InputError(
        'hidden',
        `expected comma-separated whole numbers from 1 to ${LIMITS.hiddenSize}, got ${describeValue(text)}`,
      );
    }
    return value;
  });
}

/**
 * Checks every field and returns the settings, or one message per field at fault (fields whose
 * bounds depend on another field are checked only once that field is valid).
 */
export function parseSettings(values: FieldValues): ParseResult {
  const errors: Partial<Record<FieldName, string>> = {};
  const read = <T>(name: FieldName, parse: () => T): T | undefined => {
    try {
      return parse();
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      errors[name] = messageOf(err);
      return undefined;
    }
  };
  const window = read('window', () => parseWhole('window', values.window, 1, LIMITS.window));
  const hiddenSizes = read('hidden', () => parseHiddenSizes(values.hidden));
  const points = read('points', () =>
    parseWhole('points', values.points, window === undefined ? 2 : window + 1, APP_LIMITS.points),
  );
  if (errors.points !== undefined && window !== undefined) {
    errors.points += ` (points must exceed the window, ${window}, to give at least one sample)`;
  }
  const samples = window !== undefined && points !== undefined ? points - window : undefined;
  const batchSize = read('batch', () => parseWhole('batch', values.batch, 1, samples ?? APP_LIMITS.points));
  if (errors.batch !== undefined && samples !== undefined) {
    errors.batch += ` (the batch cannot exceed the ${samples} samples that ${points} points and a window of ${window} give)`;
  }
  if (window !== undefined && hiddenSizes !== undefined) {
    const size = paramLayout({ inputSize: 1, hiddenSizes, outputSize: 1, window }).size;
    if (size > APP_LIMITS.parameters) {
      errors.hidden = `these layer sizes make a model of ${count(size)} parameters; the app allows at most ${count(APP_LIMITS.parameters)} (one layer of up to ${largestSingleLayer(window)})`;
    }
  }
  if (samples !== undefined && window !== undefined && samples * window > APP_LIMITS.inputValues) {
    errors.points = `${count(samples)} windows of ${window} values make ${count(samples * window)} inputs; the app allows at most ${count(APP_LIMITS.inputValues)} (use fewer points or a shorter window)`;
  }
  const epochs = read('epochs', () => parseWhole('epochs', values.epochs, 1, APP_LIMITS.epochs));
  const learningRate = read('lr', () => parseReal('lr', values.lr, 0, APP_LIMITS.learningRate, true));
  const seed = read('seed', () => parseWhole('seed', values.seed, 0, APP_LIMITS.seed));
  const noise = read('noise', () => parseReal('noise', values.noise, 0, APP_LIMITS.noise, false));
  const reportEvery = read('report', () => parseWhole('report', values.report, 1, APP_LIMITS.report));

  if (
    Object.keys(errors).length > 0 ||
    window === undefined ||
    hiddenSizes === undefined ||
    points === undefined ||
    batchSize === undefined ||
    epochs === undefined ||
    learningRate === undefined ||
    seed === undefined ||
    noise === undefined ||
    reportEvery === undefined
  ) {
    return { ok: false, errors };
  }
  return {
    ok: true,
    settings: {
      run: { seed, points, noise, window, hiddenSizes },
      train: { epochs, batchSize, learningRate, reportEvery },
    },
  };
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

/** The form field that an error's field (from setup, the trainer or a backend) belongs to, if any. */
export function fieldOf(errorField: string): FieldName | null {
  const known = FIELDS.find((f) => f.name === errorField);
  if (known) return known.name;
  // The model validators name fields like "config.window" or "config.hiddenSizes[0]".
  if (/hidden/i.test(errorField)) return 'hidden';
  if (/window/i.test(errorField)) return 'window';
  return null;
}

/**
 * The series a run with these settings trains on, without building the model: startSineRun draws
 * the data noise first from the seeded generator, so this is the same series.
 */
export function taskFor(run: SineRunSettings): SeriesTask {
  return makeSineTask(run, new Rng(run.seed));
}

export function parseBackendChoice(value: string): BackendChoice {
  if (value === 'webgpu' || value === 'cpu' || value === 'both') return value;
  throw new InputError('backend', `expected webgpu, cpu or both, got ${describeValue(value)}`);
}
