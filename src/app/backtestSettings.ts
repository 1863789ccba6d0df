// The Backtest view's own fields (folds, horizon, step, levels, seeds per fold) read through the
// backtest's settings table (src/settings/backtest.ts, the CLI's options), and the backtest they make
// with the Train view's data, model and training settings. No DOM here.

import { BACKTEST_SETTINGS } from '../settings/backtest.js';
import type { BacktestSettings } from '../train/backtest.js';
import { sharedTraining } from '../train/population.js';
import type { ExplicitRunSettings } from './dataView.js';
import { type AppTrainOptions, fieldReader } from './settings.js';

export const BACKTEST_FIELDS = [
  { name: 'folds', label: 'Folds', hint: BACKTEST_SETTINGS.folds.help },
  { name: 'horizon', label: 'Horizon', hint: BACKTEST_SETTINGS.horizon.help },
  { name: 'step', label: 'Step', hint: BACKTEST_SETTINGS.step.help },
  { name: 'levels', label: 'Levels', hint: BACKTEST_SETTINGS.levels.help },
  { name: 'members', label: 'Seeds per fold', hint: BACKTEST_SETTINGS.members.help },
] as const;
export type BacktestFieldName = (typeof BACKTEST_FIELDS)[number]['name'];
type FieldName = BacktestFieldName;

type Own = Pick<BacktestSettings, 'folds' | 'horizon' | 'step' | 'levels' | 'members'>;

/** The view's own fields to settings, or one message per field at fault. */
export function parseBacktestFields(
  values: Record<FieldName, string>,
): { ok: true; own: Own } | { ok: false; errors: Partial<Record<FieldName, string>> } {
  const errors: Partial<Record<FieldName, string>> = {};
  const read = fieldReader(values, errors);
  const B = BACKTEST_SETTINGS;
  const own = {
    folds: read('folds', (t) => B.folds.parse(t)),
    horizon: read('horizon', (t) => B.horizon.parse(t)),
    step: read('step', (t) => B.step.parse(t)),
    levels: read('levels', (t) => B.levels.parse(t)),
    members: read('members', (t) => B.members.parse(t)),
  };
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, own: own as Own };
}

/** The backtest of the Train view's settings with the view's own. */
export function backtestSettingsOf(run: ExplicitRunSettings, train: AppTrainOptions, own: Own): BacktestSettings {
  const { seed, trainFraction: _split, ...rest } = run;
  return {
    run: rest,
    seed,
    ...own,
    training: { ...sharedTraining(train), learningRate: train.learningRate },
  };
}
