// How good a model's one-step-ahead predictions are, in the data's units, next to the baselines on
// the same target rows (src/data/baselines.ts): RMSE and MAE per part (training, validation, test),
// and one plain sentence comparing the held-out error with repeating the last value. The CLI's
// `train --json` and the app report the same numbers from here.
//
// Legend: N = a part's target rows, O = output columns.

import type { Backend } from '../backends/backend.js';
import { type Baseline, baselinePredictions, fitAutoregression, type LinearFit } from '../data/baselines.js';
import type { Dataset } from '../data/dataset.js';
import {
  type ColumnErrors,
  errorsInUnits,
  modelSpaceLoss,
  outputLevels,
  type PartName,
  partTargets,
} from '../data/metrics.js';
import { denormalizeOutputs } from '../data/normalize.js';
import type { PreparedData } from '../data/prepare.js';
import { oneStepLevels } from '../data/transform.js';
import type { RowRange } from '../data/windows.js';
import type { LossName } from '../model/optimizer.js';

/** Level predictions (N, O) for the target rows of windows whose normalized outputs are `outputs` (N, O). */
export function levelsFromOutputs(prepared: PreparedData, targets: RowRange, outputs: ArrayLike<number>): Float64Array {
  const O = prepared.outputs.length;
  const N = targets.end - targets.start;
  const values = denormalizeOutputs(prepared.normalization, prepared.outputs, outputs);
  const out = new Float64Array(N * O);
  for (let o = 0; o < O; o++) {
    const column = new Float64Array(N);
    for (let n = 0; n < N; n++) column[n] = values[n * O + o];
    const levels = oneStepLevels(prepared.transform, outputLevels(prepared, o), targets.start, column);
    for (let n = 0; n < N; n++) out[n * O + o] = levels[n];
  }
  return out;
}

/** A part's windows by name. */
export function partData(prepared: PreparedData, part: PartName): Dataset | null {
  return part === 'train' ? prepared.train : part === 'validation' ? prepared.validation : prepared.test;
}

export interface PartErrors extends ColumnErrors {
  targets: RowRange;
}

export interface BaselineErrors extends Baseline {
  /** Errors per output column in its units; null when the baseline does not apply. */
  errors: ColumnErrors | null;
  /** The trainer's loss these predictions would have (the error chart's units); null when it does not apply. */
  loss: number | null;
}

export interface Evaluation {
  columns: string[];
  /** The data's unit ("ppm", "$") where it is known, else null. */
  unit: string | null;
  /** The model's errors per part, in units (null for a part the split does not have). */
  model: Record<PartName, PartErrors | null>;
  /** Where the baselines (and the sentence) are measured: the test part, or the training windows when nothing is held out. */
  comparedOn: 'test' | 'train';
  baselines: BaselineErrors[];
  /** "Held-out RMSE 3.1 $: 2.3× worse than repeating the last value (1.4 $); …" */
  summary: string;
}

/** Baselines on a part: their level predictions, errors and losses (they need no model, so charts get them at once). */
export function baselineErrors(
  prepared: PreparedData,
  part: PartName,
  loss: LossName,
  fit: LinearFit | string = fitAutoregression(prepared),
): BaselineErrors[] {
  const targets = partTargets(prepared, part);
  return baselinePredictions(prepared, targets, fit).map((baseline) => ({
    ...baseline,
    errors: baseline.levels === null ? null : errorsInUnits(prepared, targets, baseline.levels),
    loss: baseline.levels === null ? null : modelSpaceLoss(prepared, targets, baseline.levels, loss),
  }));
}

/** The part the baselines are measured on: the held-out test part where there is one. */
export function comparisonPart(prepared: PreparedData): 'test' | 'train' {
  return prepared.test === null ? 'train' : 'test';
}

/**
 * Everything from the model's level predictions per part (null for a part without windows) and the
 * baselines (baselineErrors on comparisonPart).
 */
export function evaluate(
  prepared: PreparedData,
  predictions: Record<PartName, Float64Array | null>,
  baselines: BaselineErrors[],
  unit: string | null,
): Evaluation {
  const model = {} as Record<PartName, PartErrors | null>;
  for (const part of ['train', 'validation', 'test'] as const) {
    const levels = predictions[part];
    const targets = partTargets(prepared, part);
    model[part] = levels === null ? null : { targets, ...errorsInUnits(prepared, targets, levels) };
  }
  const comparedOn = comparisonPart(prepared);
  return {
    columns: [...prepared.outputs],
    unit,
    model,
    comparedOn,
    baselines,
    summary: summarise(prepared.outputs, model[comparedOn], baselines, comparedOn, unit),
  };
}

/** The model's level predictions on every part, from the backend's current weights. */
export async function predictParts(
  backend: Backend,
  prepared: PreparedData,
): Promise<Record<PartName, Float64Array | null>> {
  const out = {} as Record<PartName, Float64Array | null>;
  for (const part of ['train', 'validation', 'test'] as const) {
    const data = partData(prepared, part);
    out[part] =
      data === null
        ? null
        : levelsFromOutputs(prepared, partTargets(prepared, part), await backend.predict(data.x, data.count));
  }
  return out;
}

/** Each part's slice of level predictions (N, O) that run on from row `from` over every part in order. */
export function partsFromPredictions(
  prepared: PreparedData,
  predictions: ArrayLike<number>,
  from: number,
): Record<PartName, Float64Array | null> {
  const O = prepared.outputs.length;
  const out = {} as Record<PartName, Float64Array | null>;
  for (const part of ['train', 'validation', 'test'] as const) {
    const { start, end } = partTargets(prepared, part);
    const first = (start - from) * O;
    const last = (end - from) * O;
    out[part] =
      partData(prepared, part) === null || first < 0 || last > predictions.length
        ? null
        : Float64Array.from({ length: last - first }, (_, i) => predictions[first + i]);
  }
  return out;
}

/** A number as people read it: about three significant digits. */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs === 0) return '0';
  if (abs >= 999.5) return Math.round(value).toLocaleString('en-US');
  // Only zeros after the point go: 120 stays 120, 1.50 becomes 1.5.
  if (abs >= 0.01)
    return value
      .toPrecision(3)
      .replace(/(\.\d*?)0+$/, '$1')
      .replace(/\.$/, '');
  return value.toExponential(2);
}

function withUnit(value: number, unit: string | null): string {
  return unit === null ? formatValue(value) : `${formatValue(value)} ${unit}`;
}

/** How close to 1 a ratio of two errors must be for them to read as equal ("as good as"). */
export const SAME_ERROR = 0.005;

/** "2.3× worse than" / "2.3× better than" / "about as good as", from model / baseline. */
export function comparedWith(model: number, baseline: number): string {
  if (!(baseline > 0) || !Number.isFinite(model)) return 'not comparable with';
  const ratio = model / baseline;
  if (Math.abs(ratio - 1) < SAME_ERROR) return 'as good as';
  return ratio > 1 ? `${formatRatio(ratio)} worse than` : `${formatRatio(1 / ratio)} better than`;
}

function formatRatio(ratio: number): string {
  return `${ratio >= 10 ? Math.round(ratio) : ratio.toFixed(ratio >= 1.995 ? 1 : 2)}×`;
}

/**
 * The sentence, per output column: the model's RMSE against the strongest baseline (the lowest RMSE
 * on the same rows), then against repeating the last value where that is another one, then the rest.
 * Each comparison is comparedWith's, so a loss reads "worse than" and a hair's difference "as good
 * as", whichever baseline it is; "though" joins a win to a loss.
 */
export function summarise(
  columns: string[],
  model: PartErrors | null,
  baselines: BaselineErrors[],
  part: 'test' | 'train',
  unit: string | null,
): string {
  if (model === null) return '';
  const what = part === 'test' ? 'Held-out RMSE' : 'RMSE on the training windows (nothing is held out)';
  const present = baselines.filter((b) => b.errors !== null);
  return columns
    .map((column, o) => {
      const rmse = model.rmse[o];
      const of = columns.length > 1 ? ` of ${column}` : '';
      const phrase = (b: BaselineErrors) => {
        const theirs = b.errors!.rmse[o];
        const name = b.key === 'last-value' ? 'repeating the last value' : b.label;
        return { verdict: comparedWith(rmse, theirs), text: `${name} (${withUnit(theirs, unit)})` };
      };
      const ranked = [...present].sort((a, b) => a.errors!.rmse[o] - b.errors!.rmse[o]);
      const strongest = ranked[0];
      if (strongest === undefined) return `${what}${of} ${withUnit(rmse, unit)}.`;
      const first = phrase(strongest);
      const strongestText = `${first.verdict} ${first.text}${ranked.length > 1 ? ', the strongest baseline' : ''}`;
      const last = strongest.key === 'last-value' ? undefined : present.find((b) => b.key === 'last-value');
      let versusLast = '';
      if (last !== undefined) {
        const second = phrase(last);
        const turns = first.verdict.endsWith('worse than') && second.verdict.endsWith('better than');
        versusLast = `${turns ? ', though' : ', and'} ${second.verdict} ${second.text}`;
      }
      const others = ranked
        .filter((b) => b !== strongest && b !== last)
        .map((b) => `${b.label} ${withUnit(b.errors!.rmse[o], unit)}`);
      return `${what}${of} ${withUnit(rmse, unit)}: ${strongestText}${versusLast}${others.length > 0 ? `; ${others.join(', ')}` : ''}.`;
    })
    .join(' ');
}

/** The validation error rising while the training error falls, since the best epoch. */
export interface Overfitting {
  bestEpoch: number;
  lastEpoch: number;
  /** Validation errors at the best and the last epoch. */
  validation: [number, number];
  /** Training errors at the best and the last epoch. */
  training: [number, number];
  message: string;
}

/** How far above its best the validation error must end to count as rising (noise moves it a little). */
export const OVERFITTING_RISE = 1.05;

/**
 * Overfitting, when the last validation error is more than OVERFITTING_RISE × its best while the
 * training error at the last epoch is below the training error at that best epoch; else null.
 */
export function overfitting(losses: number[], validationLosses: { epoch: number; loss: number }[]): Overfitting | null {
  if (validationLosses.length < 2) return null;
  const best = validationLosses.reduce((a, b) => (b.loss < a.loss ? b : a));
  const last = validationLosses[validationLosses.length - 1];
  if (last.epoch <= best.epoch || !(last.loss > best.loss * OVERFITTING_RISE)) return null;
  const trainingAtBest = losses[best.epoch - 1];
  const trainingAtLast = losses[last.epoch - 1];
  if (!(trainingAtLast < trainingAtBest)) return null;
  const change = (from: number, to: number) => `${Math.round(Math.abs(to / from - 1) * 100)}%`;
  return {
    bestEpoch: best.epoch,
    lastEpoch: last.epoch,
    validation: [best.loss, last.loss],
    training: [trainingAtBest, trainingAtLast],
    message:
      `Since epoch ${best.epoch} the validation error rose ${change(best.loss, last.loss)} while the training error fell ` +
      `${change(trainingAtBest, trainingAtLast)}: the model is learning the training part's noise (overfitting).`,
  };
}
