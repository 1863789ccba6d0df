// Property-based tests of the CLI's option reader: whatever text a user types, a setting's reader either
// returns a value within the setting's bounds or throws an InputError naming the option; never anything else.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { option } from '../src/cli/options.js';
import { InputError } from '../src/model/errors.js';
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

  it('accepts every valid value it is given', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), (n) => {
        expect(option({ batch: String(n) }, batch)).toBe(n);
      }),
    );
  });
});
