// Property-based tests of the CLI's option readers: whatever text a user types, a reader either
// returns a value within the stated bounds or throws an InputError naming the option; never anything else.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { intListOption, intOption, numberOption } from '../src/cli/options.js';
import { InputError } from '../src/model/errors.js';

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
  it('intOption: an integer within bounds, or an InputError on the option', () => {
    fc.assert(
      fc.property(userText, (text) => {
        const result = outcome(() => intOption({ batch: text }, 'batch', 8, 1, 1000));
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

  it('numberOption: a finite number within bounds, or an InputError on the option', () => {
    fc.assert(
      fc.property(userText, (text) => {
        const result = outcome(() => numberOption({ lr: text }, 'lr', 0.01, { min: 0, max: 10, minExclusive: true }));
        if (result.ok) {
          const value = result.value as number;
          expect(Number.isFinite(value) && value > 0 && value <= 10).toBe(true);
        } else {
          expect((result.error as InputError).field).toBe('--lr');
        }
      }),
    );
  });

  it('intListOption: 1 to maxItems integers within bounds, or an InputError on the option', () => {
    fc.assert(
      fc.property(userText, (text) => {
        const result = outcome(() => intListOption({ hidden: text }, 'hidden', [30], 1, 4096, 8));
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
      expect(() => intOption({ batch: text }, 'batch', 8, 1, 1000)).toThrowError(InputError);
    }
    expect(numberOption({ lr: '1e-3' }, 'lr', 0.01, { min: 0, max: 1 })).toBe(0.001);
  });

  it('accepts every valid value it is given', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), (n) => {
        expect(intOption({ batch: String(n) }, 'batch', 8, 1, 1000)).toBe(n);
      }),
    );
  });
});
