// The settings of a rolling-origin backtest (src/train/backtest.ts), written once for the CLI's
// `backtest` (options and help). The training and data settings are the training table's
// (training.ts); these say where the folds fall, how far they forecast and which intervals to check.

import { readDecimal } from '../data/decimal.js';
import { describeValue, InputError } from '../model/errors.js';
import { custom, defineTable, whole } from './setting.js';

const MAX_FOLDS = 1000;
const MAX_STEPS = 100_000;
const MAX_SEEDS = 1000;

/** A whole number of steps, or 'auto' (the default the backtest works out from the data). */
const stepsOrAuto = (help: string) =>
  custom<number | null>({
    default: null,
    placeholder: 'auto|N',
    valid: `auto or a whole number from 1 to ${MAX_STEPS}`,
    help,
    parse: (text, field) => {
      const value = text.trim();
      if (value === 'auto') return null;
      const steps = readDecimal(value);
      if (Number.isInteger(steps) && steps >= 1 && steps <= MAX_STEPS) return steps;
      throw new InputError(field, `expected auto or a whole number from 1 to ${MAX_STEPS}, got ${describeValue(text)}`);
    },
    isValid: (value) =>
      value === null || (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_STEPS),
    format: (value) => (value === null ? 'auto' : String(value)),
  });

/** Interval levels in percent (80,95), for the backtest's intervals and train's and predict's. */
export const LEVELS = custom<number[]>({
  default: [80, 95],
  placeholder: 'P,P,…',
  valid: 'a comma list of percentages above 1 and below 100',
  help: 'the prediction intervals’ levels, in percent',
  parse: (text, field) => {
    const levels = text.split(',').map((part) => readDecimal(part.trim()));
    if (levels.length === 0 || levels.some((level) => !(level > 1 && level < 100))) {
      throw new InputError(
        field,
        `expected a comma list of percentages above 1 and below 100 (80,95), got ${describeValue(text)}`,
      );
    }
    return [...new Set(levels)];
  },
  isValid: (value) =>
    Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'number' && v > 1 && v < 100),
  format: (value) => value.join(','),
});

export const BACKTEST_SETTINGS = defineTable({
  folds: whole({
    default: 8,
    min: 1,
    max: MAX_FOLDS,
    help: 'origins over the last part of the series, each fold trained only on the rows before its own',
  }),
  horizon: stepsOrAuto('steps forecast from each origin; auto: 12 for monthly data, else 24, bounded by the data'),
  step: stepsOrAuto('rows between origins; auto: the horizon, so the folds’ held-out rows do not overlap'),
  levels: LEVELS,
  members: whole({
    default: 1,
    min: 1,
    max: MAX_SEEDS,
    help: 'seeds per fold (seed, seed + 1, …): their mean forecasts, their spread is the ensemble interval',
  }),
});
