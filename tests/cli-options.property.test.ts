// Property-based tests of the CLI's option reader: whatever text a user types, a setting's reader either
// returns a value within the setting's bounds or throws an InputError naming the option; never anything else.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { option } from '../src/cli/options.js';
import { InputError } from '../src/model/errors.js';
import { SMALLEST_NORMAL_FLOAT32 } from '../src/settings/setting.js';
import { SETTINGS } from '../src/settings/training.js';

const batch = SETTINGS.batch.within({ max: 1000 });

const userText = fc.oneof(
  fc.string(),
  fc.integer().map(String),
  fc.double().map(String),
  fc.constantFrom('', ' ', '1e400', '-0', '0x10', 'NaN', 'Infinity', '3,', ',3', '1,,2', '2.5', '١٢', '0b1'),
);

function outcome(read: () => unknown): { ok: true; value: unknown } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: read() };
  } catch (error) {
    return { ok: false, error };
  }
}

describe('option readers under arbitrary input', () => {
  it('a whole number: an integer within bounds, or an InputError on the option', () => {
    fc.assert(
      fc.property(userText, (text) => {
        const result = outcome(() => option({ batch: text }, batch));
        if (result.ok) {
          expect(Number.isInteger(result.value)).toBe(true);
          expect(result.value as number).toBeGreaterThanOrEqual(1);
          expect(result.value as number).toBeLessThanOrEqual(1000);
        } else {
          expect(result.error).toBeInstanceOf(InputError);
          expect((result.error as InputError).field).toBe('--batch');
        }
      }),
    );
  });

  it('a real number: a finite number within bounds, or an InputError on the option', () => {
    fc.assert(
      fc.property(userText, (text) => {
        const result = outcome(() => option({ lr: text }, SETTINGS.lr));
        if (result.ok) {
          const value = result.value as number;
          expect(Number.isFinite(value) && Math.fround(value) > 0 && value <= 1e6).toBe(true);
        } else {
          expect(result.error).toBeInstanceOf(InputError);
          expect((result.error as InputError).field).toBe('--lr');
        }
      }),
    );
  });

  it('a list: 1 to maxItems integers within bounds, or an InputError on the option', () => {
    fc.assert(
      fc.property(userText, (text) => {
        const result = outcome(() => option({ hidden: text }, SETTINGS.hidden));
        if (result.ok) {
          const list = result.value as number[];
          expect(list.length).toBeGreaterThanOrEqual(1);
          expect(list.length).toBeLessThanOrEqual(8);
          for (const h of list) expect(Number.isInteger(h) && h >= 1 && h <= 4096).toBe(true);
        } else {
          expect(result.error).toBeInstanceOf(InputError);
          expect((result.error as InputError).field).toBe('--hidden');
        }
      }),
    );
  });

  it('reads decimal notation only', () => {
    for (const text of ['0x10', '0b1', 'Infinity', '1e400']) {
      expect(() => option({ batch: text }, batch)).toThrowError(InputError);
    }
    expect(option({ lr: '1e-3' }, SETTINGS.lr)).toBe(0.001);
  });

  // The properties above hold for a reader that refuses everything: these say it accepts what is valid.
  it('accepts every valid value it is given', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), (n) => {
        expect(option({ batch: String(n) }, batch)).toBe(n);
      }),
    );
  });

  it('accepts every valid learning rate: above 0 as float32 holds it (normal), at most 1e6', () => {
    const valid = fc.oneof(
      fc.double({ min: SMALLEST_NORMAL_FLOAT32, max: 1e6, noNaN: true }),
      fc.double({ min: 1e-6, max: 1, noNaN: true }),
      fc.constantFrom(SMALLEST_NORMAL_FLOAT32, 1e-3, 0.01, 1, 1e6),
    );
    fc.assert(
      fc.property(valid, (lr) => {
        expect(option({ lr: String(lr) }, SETTINGS.lr)).toBe(lr);
      }),
    );
  });

  it('accepts every valid list of hidden sizes: 1 to 8 whole numbers from 1 to 4096, with or without spaces', () => {
    const sizes = fc.array(fc.integer({ min: 1, max: 4096 }), { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(sizes, fc.constantFrom(',', ', '), (list, separator) => {
        expect(option({ hidden: list.join(separator) }, SETTINGS.hidden)).toEqual(list);
      }),
    );
  });
});
