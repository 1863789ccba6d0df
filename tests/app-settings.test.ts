// The app's settings form as pure logic: defaults are the seed's, every bad field is refused with
// what would be valid, and the preview series is the one a run trains on.

import { describe, expect, it } from 'vitest';
import {
  defaultFieldValues,
  FIELDS,
  fieldOf,
  parseBackendChoice,
  parseHiddenSizes,
  parseSettings,
  taskFor,
} from '../src/app/settings.js';
import { startSineRun } from '../src/train/setup.js';

describe('app settings', () => {
  it('defaults to the seed task', () => {
    const result = parseSettings(defaultFieldValues());
    expect(result).toEqual({
      ok: true,
      settings: {
        run: { seed: 0, points: 50, noise: 0.1, window: 10, hiddenSizes: [30] },
        train: { epochs: 101, batchSize: 8, learningRate: 0.01, reportEvery: 10 },
      },
    });
  });

  it('reads stacked hidden sizes and tolerates spaces', () => {
    expect(parseHiddenSizes(' 64, 32 ')).toEqual([64, 32]);
    const result = parseSettings({ ...defaultFieldValues(), hidden: '16,8,4', lr: ' 1e-3 ' });
    expect(result.ok && result.settings.run.hiddenSizes).toEqual([16, 8, 4]);
    expect(result.ok && result.settings.train.learningRate).toBe(0.001);
  });

  it('refuses each bad field with what is valid, all at once', () => {
    const result = parseSettings({
      ...defaultFieldValues(),
      window: '0',
      hidden: '30,,10',
      epochs: '2.5',
      lr: '-1',
      seed: 'abc',
      noise: '-0.1',
      report: '',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.window).toBe('expected a whole number from 1 to 4096, got 0');
    expect(result.errors.hidden).toMatch(/comma-separated whole numbers from 1 to 4096/);
    expect(result.errors.epochs).toBe('expected a whole number from 1 to 1000000, got 2.5');
    expect(result.errors.lr).toBe('expected a number greater than 0 and at most 1000000, got -1');
    expect(result.errors.seed).toBe('expected a number, got "abc"');
    expect(result.errors.noise).toBe('expected a number at least 0 and at most 1000000, got -0.1');
    expect(result.errors.report).toBe('expected a number, got ""');
    // Points and batch depend on the window; with the window invalid they are checked on their own.
    expect(result.errors.points).toBeUndefined();
    expect(result.errors.batch).toBeUndefined();
  });

  it('checks points and batch against the window and the samples they give', () => {
    const tooFewPoints = parseSettings({ ...defaultFieldValues(), points: '10' });
    expect(!tooFewPoints.ok && tooFewPoints.errors.points).toMatch(/from 11 to 100000, got 10.*exceed the window, 10/);
    const bigBatch = parseSettings({ ...defaultFieldValues(), batch: '41' });
    expect(!bigBatch.ok && bigBatch.errors.batch).toMatch(/from 1 to 40, got 41.*40 samples that 50 points/);
    expect(parseSettings({ ...defaultFieldValues(), batch: '40' }).ok).toBe(true);
  });

  it('refuses more layers than the model allows', () => {
    const result = parseSettings({ ...defaultFieldValues(), hidden: '1,2,3,4,5,6,7,8,9' });
    expect(!result.ok && result.errors.hidden).toBe('expected 1 to 8 layer sizes, got 9');
  });

  it("keeps the model and the data within the page's memory budget", () => {
    expect(parseSettings({ ...defaultFieldValues(), hidden: '2046' }).ok).toBe(true);
    const justOver = parseSettings({ ...defaultFieldValues(), hidden: '2047' });
    expect(!justOver.ok && justOver.errors.hidden).toMatch(/16,779,260 parameters.*one layer of up to 2046\)$/);
    const big = parseSettings({ ...defaultFieldValues(), hidden: '4096,4096' });
    expect(!big.ok && big.errors.hidden).toBe(
      'these layer sizes make a model of 201,379,841 parameters; the app allows at most 16,777,216 (one layer of up to 2046)',
    );
    const long = parseSettings({ ...defaultFieldValues(), points: '100000', window: '4096' });
    expect(!long.ok && long.errors.points).toBe(
      '95,904 windows of 4096 values make 392,822,784 inputs; the app allows at most 16,777,216 (use fewer points or a shorter window)',
    );
  });

  it('maps errors from deeper code to form fields', () => {
    for (const { name } of FIELDS) expect(fieldOf(name)).toBe(name);
    expect(fieldOf('config.hiddenSizes[0]')).toBe('hidden');
    expect(fieldOf('config.window')).toBe('window');
    expect(fieldOf('device')).toBeNull();
  });

  it('parses the backend choice', () => {
    expect(parseBackendChoice('both')).toBe('both');
    expect(() => parseBackendChoice('tpu')).toThrow(/expected webgpu, cpu or both/);
  });

  it('previews the same series a run trains on', () => {
    const run = { seed: 7, points: 60, noise: 0.2, window: 12, hiddenSizes: [5] };
    const preview = taskFor(run);
    const started = startSineRun(run);
    expect(preview.series).toEqual(started.task.series);
    expect(preview.positions).toEqual(started.task.positions);
    expect(preview.data.t).toEqual(started.task.data.t);
  });
});
