// The app's settings form as pure logic: defaults are the blog's, every bad field is refused with
// what would be valid, fields apply per data source, and the optimiser settings reach the trainer.

import { describe, expect, it } from 'vitest';
import { defaultFieldValues, FIELDS, fieldApplies, fieldOf } from '../src/app/fields.js';
import { APP_BACKEND, parseSettings } from '../src/app/settings.js';
import { DEFAULT_OPTIMIZER } from '../src/model/optimizer.js';
import { SETTINGS } from '../src/settings/training.js';

describe('app settings', () => {
  it('defaults to the blog’s task', () => {
    const result = parseSettings(defaultFieldValues());
    expect(result).toEqual({
      ok: true,
      settings: {
        run: {
          seed: 0,
          data: { kind: 'generated', spec: { kind: 'sine', points: 50, noise: 0.1, amplitude: 1 } },
          window: 10,
          hiddenSizes: [30],
          trainFraction: 1,
          validationFraction: 0,
          normalize: 'none',
          transform: 'levels',
          season: 'auto',
        },
        train: {
          epochs: 101,
          batchSize: 8,
          learningRate: 0.01,
          reportEvery: 10,
          optimizer: DEFAULT_OPTIMIZER,
          loss: 'sse',
          lrDecay: 1,
          threads: 'auto',
          members: 1,
          keepBest: true,
          patience: null,
          horizon: 24,
        },
      },
    });
  });

  it('takes the members as a whole number from 1 to the page limit, with the field named', () => {
    const withMembers = (members: string) => parseSettings({ ...defaultFieldValues(), members });
    const four = withMembers('4');
    expect(four.ok && four.settings.train.members).toBe(4);
    for (const text of ['0', '1025', '2.5']) {
      const result = withMembers(text);
      expect(result.ok, text).toBe(false);
      expect(!result.ok && result.errors.members, text).toMatch(/expected a whole number from 1 to 1024/);
    }
  });

  it('takes the CPU threads as auto or a whole number from 1 to 16', () => {
    const withThreads = (threads: string) => parseSettings({ ...defaultFieldValues(), threads });
    for (const [text, threads] of [
      ['auto', 'auto'],
      [' auto ', 'auto'],
      ['1', 1],
      ['16', 16],
    ] as const) {
      const result = withThreads(text);
      expect(result.ok && result.settings.train.threads, text).toBe(threads);
    }
    for (const text of ['0', '17', '2.5', 'many', '']) {
      expect(withThreads(text)).toEqual({
        ok: false,
        errors: { threads: `expected auto or a whole number from 1 to 16, got ${JSON.stringify(text)}` },
      });
    }
  });

  it('reads stacked hidden sizes and tolerates spaces', () => {
    expect(SETTINGS.hidden.parse(' 64, 32 ')).toEqual([64, 32]);
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
    expect(!bigBatch.ok && bigBatch.errors.batch).toMatch(/from 1 to 40, got 41.*40 training samples that 50 points/);
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
    expect(fieldOf('trainFraction')).toBe('split');
    expect(fieldOf('periods[1]')).toBe('periods');
    expect(fieldOf('beta1')).toBe('optimizer');
    expect(fieldOf('device')).toBeNull();
    expect(fieldOf('inputs[0]')).toBeNull();
  });

  it('parses the backend choice', () => {
    expect(APP_BACKEND.parse('both')).toBe('both');
    expect(() => APP_BACKEND.parse('tpu')).toThrow(/expected one of auto, webgpu, cpu, both/);
  });

  it('bounds the batch by the training part of a split series, and refuses a split with no training window', () => {
    const split = parseSettings({ ...defaultFieldValues(), split: '0.8', batch: '31' });
    // 50 points, boundary round(40) = 40, training targets 10..39: 30 samples.
    expect(!split.ok && split.errors.batch).toMatch(/from 1 to 30, got 31.*30 training samples.*training share of 0.8/);
    const tiny = parseSettings({ ...defaultFieldValues(), split: '0.1' });
    expect(!tiny.ok && tiny.errors.split).toMatch(/the training part is 5 of 50 rows, which gives no window of 10/);
    expect(parseSettings({ ...defaultFieldValues(), split: '0' }).ok).toBe(false);
    expect(parseSettings({ ...defaultFieldValues(), split: '1.5' }).ok).toBe(false);
  });

  it('uses real-data defaults and the fields of each source', () => {
    const bundled = defaultFieldValues('bundled');
    expect([bundled.split, bundled.normalise]).toEqual(['0.8', 'z-score']);
    expect(fieldApplies('symbol', bundled)).toBe(true);
    expect(fieldApplies('symbol', { ...bundled, dataset: 'co2' })).toBe(false);
    expect(fieldApplies('points', bundled)).toBe(false);
    expect(fieldApplies('period', { ...defaultFieldValues(), series: 'square' })).toBe(true);
    expect(fieldApplies('period', defaultFieldValues())).toBe(false);
    expect(fieldApplies('momentum', { ...defaultFieldValues(), optimizer: 'momentum' })).toBe(true);

    const stocks = parseSettings({ ...bundled, symbol: 'IBM', points: 'not used here' });
    expect(stocks.ok && stocks.settings.run.data).toEqual({ kind: 'bundled', name: 'stocks', symbol: 'IBM' });
    const csv = parseSettings({ ...defaultFieldValues('csv'), missing: 'drop' });
    expect(csv.ok && csv.settings.run.data).toEqual({ kind: 'csv', missing: 'drop' });
    const wave = parseSettings({
      ...defaultFieldValues(),
      series: 'sum-of-sines',
      periods: '12, 5 ,3',
      amplitude: '2',
    });
    expect(wave.ok && wave.settings.run.data).toEqual({
      kind: 'generated',
      spec: { kind: 'sum-of-sines', points: 50, noise: 0.1, amplitude: 2, periods: [12, 5, 3] },
    });
  });

  it('refuses values outside each choice and each data field', () => {
    const bad = parseSettings({
      ...defaultFieldValues(),
      source: 'ftp',
      normalise: 'log',
      optimizer: 'rmsprop',
      loss: 'l1',
    });
    expect(!bad.ok && bad.errors).toMatchObject({
      source: 'expected one of generated, bundled, csv, got "ftp"',
      normalise: 'expected one of z-score, min-max, none, got "log"',
      optimizer: 'expected one of sgd, momentum, adam, got "rmsprop"',
      loss: 'expected one of sse, mse, got "l1"',
    });
    const wave = parseSettings({ ...defaultFieldValues(), series: 'square', period: '1', amplitude: '0' });
    expect(!wave.ok && wave.errors.period).toBe('expected a whole number from 2 to 10000000, got 1');
    expect(!wave.ok && wave.errors.amplitude).toBe('expected a number greater than 0 and at most 1000000, got 0');
    const periods = parseSettings({ ...defaultFieldValues(), series: 'sum-of-sines', periods: '20, 1' });
    expect(!periods.ok && periods.errors.periods).toMatch(/comma-separated whole numbers from 2 to 10000000/);
  });

  it('reads the optimiser, clipping, decay and loss for the trainer', () => {
    const result = parseSettings({
      ...defaultFieldValues(),
      optimizer: 'momentum',
      momentum: '0.8',
      'clip-norm': ' 5 ',
      'lr-decay': '0.99',
      loss: 'mse',
    });
    expect(result.ok && result.settings.train).toMatchObject({
      optimizer: { ...DEFAULT_OPTIMIZER, name: 'momentum', momentum: 0.8, clipNorm: 5 },
      lrDecay: 0.99,
      loss: 'mse',
    });
    const wrong = parseSettings({
      ...defaultFieldValues(),
      optimizer: 'momentum',
      momentum: '1',
      'clip-norm': '-1',
      'lr-decay': '1.5',
    });
    expect(!wrong.ok && wrong.errors).toMatchObject({
      momentum: 'expected a number at least 0 and below 1, got 1',
      'clip-norm': 'expected a number greater than 0 and at most 1000000000000, got -1',
      'lr-decay': 'expected a number greater than 0 and at most 1, got 1.5',
    });
    // Momentum does not apply to Adam, so its value is not checked then.
    expect(parseSettings({ ...defaultFieldValues(), optimizer: 'adam', momentum: 'x' }).ok).toBe(true);
  });
});
