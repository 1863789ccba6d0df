// The one table of settings: every setting parses its default, refuses values out of bounds with a
// message naming it, refuses values that float32 (the precision training runs in) cannot hold, and
// the same bounds reach the CLI, the trainer and the model file. Numbers are read in linear time.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BATCH_FILE, CLI_SETTINGS, COMMANDS, commandOptions, helpText } from '../src/cli/commands.js';
import { option, parseOptions } from '../src/cli/options.js';
import { isDecimal, MAX_NUMBER_TEXT, parseNumber, readDecimal } from '../src/data/decimal.js';
import { paramLayout } from '../src/model/layout.js';
import { DEFAULT_OPTIMIZER, initialState } from '../src/model/optimizer.js';
import { BENCH_SETTINGS } from '../src/settings/bench.js';
import { type RealSetting, type Setting, SMALLEST_NORMAL_FLOAT32 } from '../src/settings/setting.js';
import { SETTINGS } from '../src/settings/training.js';
import { readModelFile, toModelFile } from '../src/train/modelFile.js';
import { checkTrainOptions } from '../src/train/trainer.js';
import { inputErrorOf } from './helpers.js';

const TABLES = { training: SETTINGS, bench: BENCH_SETTINGS, cli: CLI_SETTINGS };
const ALL: [string, Setting<unknown>][] = Object.entries(TABLES).flatMap(([table, settings]) =>
  Object.values(settings).map((s): [string, Setting<unknown>] => [`${table} ${s.name}`, s]),
);

const isBounded = (s: Setting<unknown>): s is Setting<unknown> & { min: number; max: number } =>
  typeof (s as { min?: unknown }).min === 'number';
const isReal = (s: Setting<unknown>): s is RealSetting => typeof (s as { float32?: unknown }).float32 === 'boolean';

describe('the settings table', () => {
  const valued = ALL.filter(([, s]) => s.default !== undefined && !s.flag);
  const unset = ALL.filter(([, s]) => s.default === undefined);
  const flags = ALL.filter(([, s]) => s.flag);
  it('sorts every setting into one of three kinds below, none left unchecked', () => {
    expect(valued.length + unset.length + flags.length).toBe(ALL.length);
    expect(unset.length).toBeGreaterThan(0);
    expect(flags.length).toBeGreaterThan(0);
  });

  it.each(valued)('%s: its default reads back from its text, and passes its own check', (_, setting) => {
    expect(setting.check(setting.default)).toEqual(setting.default);
    expect(setting.parse(setting.format(setting.default))).toEqual(setting.default);
  });

  // File names and column lists: no default, so the round trip starts from a value as typed.
  it.each(unset)(
    '%s: no default; a value as typed reads back from its text, and empty text is refused',
    (_, setting) => {
      expect(setting.kind).toBe('text');
      const typed = setting.parse('price,2');
      expect(typed).toBeDefined();
      expect(setting.parse(setting.format(typed))).toEqual(typed);
      expect(setting.check('price,2')).toEqual(typed);
      expect(inputErrorOf(() => setting.parse('')).field).toBe(setting.name);
      expect(inputErrorOf(() => setting.check(7)).field).toBe(setting.name);
    },
  );

  // Switches (--json): off by default, on when given, and a value from a file must be a boolean.
  it.each(flags)('%s: off by default, on when given, only booleans from elsewhere', (_, setting) => {
    expect(setting.default).toBe(false);
    expect(setting.check(setting.default)).toBe(false);
    expect(setting.parse('')).toBe(true);
    expect(setting.check(true)).toBe(true);
    expect(inputErrorOf(() => setting.check('yes')).field).toBe(setting.name);
  });

  it.each(ALL.filter(([, s]) => isBounded(s)))(
    '%s: refuses values beyond its bounds with a message naming it',
    (_, setting) => {
      const { min, max } = setting as Setting<unknown> & { min: number; max: number };
      const list = Array.isArray(setting.default);
      fc.assert(
        fc.property(
          fc
            .oneof(
              fc.double({ min: -1e30, max: min, noNaN: true, maxExcluded: true }),
              fc.double({ min: max, max: 1e30, noNaN: true, minExcluded: true }),
            )
            .filter((value) => value < min || value > max),
          (value) => {
            const text = list ? `${min}, ${value}` : String(value);
            const err = inputErrorOf(() => setting.parse(text));
            expect(err.field).toBe(setting.name);
            expect(err.message).toMatch(new RegExp(`^${setting.name}: expected `));
            expect(inputErrorOf(() => setting.parse(text, `--${setting.name}`)).field).toBe(`--${setting.name}`);
          },
        ),
        { numRuns: 50 },
      );
    },
  );

  it.each(ALL.filter(([, s]) => isBounded(s)))('%s: refuses text that is no number', (_, setting) => {
    for (const text of [
      ...(setting.default === null ? [] : ['']),
      'ten',
      '0x10',
      'Infinity',
      'NaN',
      '1e400',
      '1,,2',
      '١٢',
    ]) {
      expect(inputErrorOf(() => setting.parse(text)).field).toBe(setting.name);
    }
  });

  it('refuses what float32 cannot hold, naming the smallest or largest valid value', () => {
    const smallest = 'the smallest valid value is 1.1754943508222875e-38';
    expect(inputErrorOf(() => SETTINGS.lr.parse('1e-320', '--lr')).message).toBe(
      `--lr: expected a number greater than 0 and at most 1000000, got 1e-320, which float32 (the precision training runs in) holds as 0; ${smallest}`,
    );
    expect(inputErrorOf(() => SETTINGS['clip-norm'].parse('1e-300')).message).toContain(smallest);
    expect(inputErrorOf(() => SETTINGS.epsilon.parse('1e-300')).message).toContain(smallest);
    // Subnormal in float32: GPUs may flush it to 0.
    expect(inputErrorOf(() => SETTINGS.lr.parse('1e-40')).message).toContain(smallest);
    expect(inputErrorOf(() => SETTINGS.beta2.parse('0.99999999')).message).toMatch(
      /got 0\.99999999, which float32 .* holds as 1; the largest is 0\.9999999403953552$/,
    );
    // The values named are themselves valid.
    expect(SETTINGS.lr.parse(String(SMALLEST_NORMAL_FLOAT32))).toBe(SMALLEST_NORMAL_FLOAT32);
    expect(SETTINGS.beta2.parse('0.9999999403953552')).toBe(0.9999999403953552);
    // Every float32 setting with a bound that excludes 0 refuses what rounds to 0.
    for (const setting of Object.values(SETTINGS) as Setting<unknown>[]) {
      if (isReal(setting) && setting.float32 && setting.minExclusive && setting.min === 0) {
        expect(inputErrorOf(() => setting.parse('1e-300')).message).toContain(smallest);
      }
    }
  });

  it('refuses a choice outside its values, naming them', () => {
    expect(inputErrorOf(() => SETTINGS.optimizer.parse('rmsprop')).message).toBe(
      'optimizer: expected one of sgd, momentum, adam, got "rmsprop"',
    );
    expect(SETTINGS['clip-norm'].parse(' ')).toBeNull();
  });

  it('narrows bounds for what the data allows, with the same message', () => {
    expect(inputErrorOf(() => SETTINGS.points.within({ min: 11 }).parse('10', '--points')).message).toBe(
      '--points: expected a whole number from 11 to 10000000, got 10',
    );
    expect(SETTINGS.batch.within({ max: 40 }).parse('40')).toBe(40);
  });
});

describe('numbers as typed', () => {
  it('reads plain decimal notation exactly as the pattern it replaces', () => {
    const pattern = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
    const text = fc.oneof(
      fc.string({ unit: fc.constantFrom('0', '1', '9', '.', 'e', 'E', '+', '-', 'x', ' ') }),
      fc.double().map(String),
      fc.string(),
    );
    fc.assert(
      fc.property(text, (t) => {
        expect(isDecimal(t)).toBe(pattern.test(t));
      }),
      { numRuns: 2000 },
    );
    expect(readDecimal(' 1e-3 ')).toBe(0.001);
    expect(readDecimal('5.')).toBe(5);
    expect(readDecimal('.5')).toBe(0.5);
    expect(readDecimal('.')).toBeNaN();
  });

  it('does linear work on a long run of digits (the old pattern backtracked quadratically)', () => {
    const digits = `${'0'.repeat(300_000)}x`;
    const started = performance.now();
    expect(isDecimal(digits)).toBe(false);
    expect(isDecimal('9'.repeat(300_000))).toBe(true);
    expect(inputErrorOf(() => parseNumber(digits, '--lr')).message).toMatch(
      /^--lr: expected a number, got "0{40}…" \(300,001 characters; at most 1000\)$/,
    );
    expect(inputErrorOf(() => SETTINGS.hidden.parse(`${digits},${digits}`)).field).toBe('hidden');
    expect(readDecimal('1'.repeat(MAX_NUMBER_TEXT + 1))).toBeNaN();
    // Generous: the quadratic pattern took minutes here; a linear scan takes milliseconds.
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('caps the length of any command-line value', () => {
    const options = commandOptions('train');
    const values = parseOptions('train', ['--lr', `${'0'.repeat(2000)}x`], options);
    expect(inputErrorOf(() => option(values, SETTINGS.lr)).message).toMatch(
      /^--lr: expected a number, got "0{40}…" \(2,001 characters; at most 1000\)$/,
    );
    expect(inputErrorOf(() => parseOptions('train', ['--lr', `${'0'.repeat(300_000)}x`], options)).message).toBe(
      '--lr: expected at most 65536 characters, got 300,001',
    );
  });
});

describe('the table reaches every reader', () => {
  it('generates the help of every command from the table', () => {
    const overview = helpText();
    for (const command of COMMANDS) {
      const own = helpText(command.name);
      for (const setting of commandOptions(command.name)) {
        expect(overview).toContain(`--${setting.name}`);
        expect(own).toContain(`--${setting.name}`);
        if (setting.help !== '') expect(own).toContain(setting.help);
      }
    }
    expect(helpText('train')).toContain('--lr X                         learning rate (default 0.01)');
    expect(helpText('train')).toContain('a number greater than 0 and at most 1000000');
    expect(helpText('gradients')).toContain(`--batch FILE`);
    expect(BATCH_FILE.name).toBe('batch');
    expect(() => helpText('fly')).toThrowError(/unknown command "fly"/);
  });

  it('accepts --normalize for --normalise, but not both', () => {
    const options = commandOptions('train');
    expect(option(parseOptions('train', ['--normalize', 'min-max'], options), SETTINGS.normalise)).toBe('min-max');
    expect(option(parseOptions('train', ['--normalise', 'min-max'], options), SETTINGS.normalise)).toBe('min-max');
    const both = parseOptions('train', ['--normalise', 'none', '--normalize', 'none'], options);
    expect(inputErrorOf(() => option(both, SETTINGS.normalise)).message).toBe(
      '--normalize: is the same option as --normalise: give one',
    );
  });

  it('checks the trainer options against the same bounds', () => {
    const data = {
      count: 40,
      window: 10,
      inputSize: 1,
      outputSize: 1,
      x: new Float32Array(400),
      t: new Float32Array(40),
    };
    const options = { epochs: 3, batchSize: 8, learningRate: 0.01, reportEvery: 1 };
    expect(() => checkTrainOptions(options, data)).not.toThrow();
    const field = (changes: object) => inputErrorOf(() => checkTrainOptions({ ...options, ...changes }, data)).field;
    expect(field({ learningRate: 1e-320 })).toBe('lr');
    expect(field({ batchSize: 41 })).toBe('batch');
    expect(field({ epochs: 0 })).toBe('epochs');
    expect(field({ lrDecay: 0 })).toBe('lr-decay');
    expect(field({ optimizer: { ...DEFAULT_OPTIMIZER, name: 'adam', epsilon: 1e-300 } })).toBe('epsilon');
    expect(field({ optimizer: { ...DEFAULT_OPTIMIZER, name: 'adam', beta1: 1 } })).toBe('beta1');
    expect(field({ optimizer: { ...DEFAULT_OPTIMIZER, name: 'momentum', momentum: 1 } })).toBe('momentum');
    expect(field({ optimizer: { ...DEFAULT_OPTIMIZER, clipNorm: 1e-300 } })).toBe('clip-norm');
  });

  it("refuses a model file's optimizer settings out of bounds, naming the file's field", () => {
    const config = { inputSize: 1, hiddenSizes: [2], outputSize: 1, window: 2 };
    const layout = paramLayout(config);
    const file = toModelFile({
      config,
      layout,
      params: new Float32Array(layout.size),
      optimizer: {
        ...initialState('adam', layout.size),
        settings: { ...DEFAULT_OPTIMIZER, name: 'adam' },
        loss: 'sse',
      },
    });
    expect(readModelFile(file).optimizer?.settings.beta1).toBe(0.9);
    const withSetting = (key: string, value: unknown) => {
      const copy = JSON.parse(JSON.stringify(file));
      copy.optimizer.settings[key] = value;
      return inputErrorOf(() => readModelFile(copy)).message;
    };
    expect(withSetting('beta1', 1)).toBe('optimizer.settings.beta1: expected a number at least 0 and below 1, got 1');
    expect(withSetting('beta2', 1)).toMatch(/^optimizer\.settings\.beta2: expected .* got 1$/);
    expect(withSetting('momentum', 1)).toMatch(/^optimizer\.settings\.momentum: expected .* got 1$/);
    expect(withSetting('epsilon', 0)).toBe(
      'optimizer.settings.epsilon: expected a number greater than 0 and at most 1, got 0',
    );
    expect(withSetting('clipNorm', 'big')).toMatch(/^optimizer\.settings\.clipNorm: expected .* got "big"$/);
  });
});
