// The Search view's reading of its fields: lists checked by the search's own settings (the CLI's
// messages, naming the field), an empty list taking the Train view's value, seeds counted from the
// Train view's seed, and a validation part made where the data has none (a search chooses on it).

import { describe, expect, it } from 'vitest';
import type { ExplicitRunSettings } from '../src/app/dataView.js';
import { runSettingsFor } from '../src/app/dataView.js';
import { defaultFieldValues } from '../src/app/fields.js';
import { readGrid, searchSettingsOf, spreadText } from '../src/app/searchView.js';
import { type AppTrainOptions, parseSettings } from '../src/app/settings.js';

function base(): { run: ExplicitRunSettings; train: AppTrainOptions } {
  const parsed = parseSettings(defaultFieldValues());
  if (!parsed.ok) throw new Error('the defaults do not parse');
  return { run: runSettingsFor(parsed.settings.run, null), train: parsed.settings.train };
}

describe('the Search view', () => {
  it('reads the grid, filling empty lists from the Train view', () => {
    const b = base();
    expect(readGrid({ lr: '0.01, 0.03', hidden: '4, 8/4', window: '', seeds: '2' }, b)).toEqual({
      grid: { learningRates: [0.01, 0.03], hiddenSizes: [[4], [8, 4]], windows: [b.run.window], seeds: [0, 1] },
    });
  });

  it('names each field that is wrong and what is valid', () => {
    const read = readGrid({ lr: '0.01,', hidden: '0', window: '10', seeds: '0' }, base());
    expect('errors' in read && Object.keys(read.errors).sort()).toEqual(['hidden', 'lr', 'seeds']);
    expect('errors' in read && read.errors.seeds).toMatch(/expected a whole number from 1 to 1000/);
    expect('errors' in read && read.errors.lr).toMatch(/expected a comma list of 1 to 64 values/);
  });

  it('makes a validation part where the data has none, and says so', () => {
    const b = base();
    expect(b.run.validationFraction).toBe(0);
    const grid = { learningRates: [0.01], hiddenSizes: [[4]], windows: [5], seeds: [0] };
    const { settings, note } = searchSettingsOf(b, grid);
    expect(settings.run.trainFraction).toBe(0.8);
    expect(settings.run.validationFraction).toBe(0.1);
    expect(note).toMatch(/validation part/);
    expect(settings.training.epochs).toBe(b.train.epochs);
    expect(spreadText({ mean: 0.5, min: 0.4, max: 0.61 })).toBe('0.500 (0.400–0.610)');
    expect(spreadText(null)).toBe('–');
  });
});
