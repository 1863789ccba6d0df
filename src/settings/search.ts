// The grid of a search (src/train/search.ts), written once for the CLI's `search` (options and help):
// lists of the training table's learning rate, hidden sizes and window, each value checked by that
// table's own setting (the same bounds and messages as `train`'s), and how many seeds each
// configuration trains with.

import { describeValue, InputError } from '../model/errors.js';
import { custom, defineTable, type Setting, whole } from './setting.js';
import { SETTINGS } from './training.js';

const MAX_VALUES = 64;
const MAX_SEEDS = 1000;

/** A comma list of values, each read and checked by `setting` (a `/` joins sizes of stacked layers). */
function listOf<T>(setting: Setting<T>, example: string, help: string) {
  return custom<T[] | null>({
    default: null,
    placeholder: example,
    valid: `a comma list of 1 to ${MAX_VALUES} values, each ${setting.valid}`,
    help,
    parse: (text, field) => {
      if (text.trim() === '') return null;
      const parts = text.split(',').map((part) => part.trim());
      if (parts.length > MAX_VALUES || parts.some((part) => part === '')) {
        throw new InputError(
          field,
          `expected a comma list of 1 to ${MAX_VALUES} values (${example}), got ${describeValue(text)}`,
        );
      }
      const values = parts.map((part) => setting.parse(part.replaceAll('/', ','), field));
      return values.filter((v, i) => values.findIndex((w) => JSON.stringify(w) === JSON.stringify(v)) === i);
    },
    isValid: (value) => value === null || (Array.isArray(value) && value.length > 0 && value.length <= MAX_VALUES),
    format: (value) => (value === null ? '' : value.map((v) => (Array.isArray(v) ? v.join('/') : String(v))).join(',')),
  });
}

export const SEARCH_SETTINGS = defineTable({
  lr: listOf(SETTINGS.lr, '0.001,0.003,0.01', 'learning rates to try (default: the source’s one)'),
  hidden: listOf(
    SETTINGS.hidden,
    '8,16,32',
    'hidden sizes to try, one model each; a slash stacks layers (64/32) (default: the source’s)',
  ),
  window: listOf(SETTINGS.window, '10,24', 'windows to try (default: the source’s)'),
  seeds: whole({
    default: 3,
    min: 1,
    max: MAX_SEEDS,
    help: 'seeds each configuration trains with (seed, seed + 1, …): their spread says how much is luck',
  }),
});
