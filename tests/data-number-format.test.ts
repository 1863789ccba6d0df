// Numbers as people write them (src/data/numberFormat.ts): each kind of the examples and
// the same kinds written otherwise (other currencies and codes, apostrophes and every width of
// space as thousands separators, dot thousands with comma decimals, Indian groups, negatives as -,
// −, (…) and a trailing minus, percent), and property-based: a random number written in a random
// locale's style reads back as the number written.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DecimalHints,
  type DecimalMark,
  describeExample,
  detectColumn,
  type NumberFormat,
  readNumber,
  scanNumber,
} from '../src/data/numberFormat.js';

const AUTO: DecimalHints = { preferred: null, semicolons: false };

/** The column's cells read under the format detected from them (throws when it is not numeric). */
function readColumn(cells: string[], hints: DecimalHints = AUTO): { values: number[]; format: NumberFormat } {
  const verdict = detectColumn(
    cells.map((text, i) => ({ row: i + 2, text })),
    hints,
  );
  if (!verdict.numeric) throw new Error(`not numeric: ${verdict.reason}`);
  return { values: cells.map((cell) => readNumber(cell, verdict.format)), format: verdict.format };
}

describe('number formats', () => {
  it('reads currencies before or after, with or without a space, signs and codes', () => {
    const cases: [string[], number[]][] = [
      [
        ['$102.03', '$99.50', '$1,001.00'],
        [102.03, 99.5, 1001],
      ],
      [
        ['€5', '€12.50', '€0.99'],
        [5, 12.5, 0.99],
      ],
      [
        ['£1,234.56', '£0.10', '£12.00'],
        [1234.56, 0.1, 12],
      ],
      [
        ['¥1,200', '¥980', '¥15,000'],
        [1200, 980, 15000],
      ],
      [
        ['₹12,34,567.00', '₹1,00,000.50', '₹999.00'],
        [1234567, 100000.5, 999],
      ],
      [
        ['USD 1,234.50', 'USD 99.00', 'USD 12,000.25'],
        [1234.5, 99, 12000.25],
      ],
      [
        ['1,234.50 USD', '99.00 USD', '12,000.25 USD'],
        [1234.5, 99, 12000.25],
      ],
      [
        ["CHF 1'234.50", 'CHF 99.95', "CHF 12'000.00"],
        [1234.5, 99.95, 12000],
      ],
      [
        ['5,00 €', '1.234,56 €', '12,50 €'],
        [5, 1234.56, 12.5],
      ],
      [
        ['R$ 1.234,56', 'R$ 10,00', 'R$ 0,99'],
        [1234.56, 10, 0.99],
      ],
      [
        ['kr 1 234,50', 'kr 99,00', 'kr 5,25'],
        [1234.5, 99, 5.25],
      ],
    ];
    for (const [cells, expected] of cases) {
      expect(readColumn(cells).values, cells.join(' ')).toEqual(expected);
    }
  });

  it('reads thousands separators of every kind, with a decimal point or a decimal comma', () => {
    const cases: [string[], number[]][] = [
      [
        ['10,203.00', '9,876.50', '1,000,000.25'],
        [10203, 9876.5, 1000000.25],
      ],
      [
        ['10 203,00', '9 876,50', '1 000 000,25'],
        [10203, 9876.5, 1000000.25],
      ],
      [
        ['10\u00a0203,00', '9\u00a0876,50', '1\u00a0000\u00a0000,25'],
        [10203, 9876.5, 1000000.25],
      ],
      [
        ['10\u202f203,00', '9\u202f876,50', '1\u202f000\u202f000,25'],
        [10203, 9876.5, 1000000.25],
      ],
      [
        ["10'203.00", "9'876.50", "1'000'000.25"],
        [10203, 9876.5, 1000000.25],
      ],
      [
        ['10\u2019203.00', '9\u2019876.50', '1\u2019000\u2019000.25'],
        [10203, 9876.5, 1000000.25],
      ],
      [
        ['1.234,56', '12.345,6', '1.234.567,89'],
        [1234.56, 12345.6, 1234567.89],
      ],
      [
        ['102,03', '101,5', '99,25'],
        [102.03, 101.5, 99.25],
      ],
      [
        ['12,34,567', '1,23,456', '9,99,999'],
        [1234567, 123456, 999999],
      ],
    ];
    for (const [cells, expected] of cases) {
      expect(readColumn(cells).values, cells.join(' ')).toEqual(expected);
    }
  });

  it('reads negatives as -, −, (…), a trailing minus, and signs around a currency', () => {
    expect(readColumn(['-5.5', '−5.5', '(5.5)', '5.5-', '–5.5']).values).toEqual([-5.5, -5.5, -5.5, -5.5, -5.5]);
    expect(readColumn(['-$5.00', '$-5.00', '($5.00)', '$5.00', '(1,234.50)']).values).toEqual([-5, -5, -5, 5, -1234.5]);
    expect(readColumn(['-1.234,50 €', '(1.234,50 €)', '1.234,50- €']).values).toEqual([-1234.5, -1234.5, -1234.5]);
  });

  it('keeps percent values as written and says the format in words', () => {
    const { values, format } = readColumn(['12.5%', '-3%', '0.25 %', '(1.5%)']);
    expect(values).toEqual([12.5, -3, 0.25, -1.5]);
    expect(format.percent).toBe(true);
    expect(describeExample(format)).toBe('1234.5%');
    expect(describeExample(readColumn(['$1,234.50', '$5.00']).format)).toBe('$1,234.5');
    expect(describeExample(readColumn(['1 234,50 €', '5,00 €']).format)).toBe('1 234,5 €');
    expect(describeExample(readColumn(['USD 1,234.50', 'USD 5.00']).format)).toBe('USD 1,234.5');
  });

  it('resolves 1,234 and 1.234 by the column, then the hints, then the delimiter', () => {
    // The column proves its mark: a comma before two digits, a repeated comma, a point after a comma.
    expect(readColumn(['1,234', '5,5']).values).toEqual([1.234, 5.5]);
    expect(readColumn(['1,234', '1,234,567']).values).toEqual([1234, 1234567]);
    expect(readColumn(['1,234', '2,345.5']).values).toEqual([1234, 2345.5]);
    expect(readColumn(['1.234', '0.5']).values).toEqual([1.234, 0.5]);
    expect(readColumn(['1.234', '1.234.567']).values).toEqual([1234, 1234567]);
    // Alone: a comma is a thousands separator, a point a decimal point…
    expect(readColumn(['1,234', '2,345']).values).toEqual([1234, 2345]);
    expect(readColumn(['1.234', '2.345']).values).toEqual([1.234, 2.345]);
    // …unless the values are separated by semicolons (a comma is then decimal), or a hint says.
    expect(readColumn(['1,234', '2,345'], { preferred: null, semicolons: true }).values).toEqual([1.234, 2.345]);
    expect(readColumn(['1.234', '2.345'], { preferred: ',', semicolons: false }).values).toEqual([1234, 2345]);
    expect(readColumn(['1,234', '2,345'], { preferred: ',', semicolons: false }).values).toEqual([1.234, 2.345]);
    // A proof in the column beats a hint.
    expect(readColumn(['1,234', '2,5'], { preferred: '.', semicolons: false }).values).toEqual([1.234, 2.5]);
  });

  it('says why a column is not numbers, and reads nothing that is not a number', () => {
    const verdict = detectColumn(
      ['abc', 'def', '1'].map((text, i) => ({ row: i + 2, text })),
      AUTO,
    );
    expect(verdict).toEqual({
      numeric: false,
      reason: 'only 1 of 3 cells read as numbers like 1234.5 (row 2 holds "abc")',
    });
    for (const cell of [
      '2024-01-31',
      '13:45',
      '1.2.3',
      '1,23,4',
      'e5',
      '1e',
      '$',
      '--5',
      '5%%',
      '0x10',
      'NaN',
      '1 2',
    ]) {
      const value = readNumber(cell, { decimal: '.', group: ',', unit: '$', unitAfter: false, percent: false });
      expect(Number.isNaN(value), cell).toBe(true);
    }
    // Missing markers do not make a column text; a column of them is empty.
    expect(readColumn(['1.5', 'NA', '', 'n/a', '2.5', '-']).values.filter(Number.isFinite)).toEqual([1.5, 2.5]);
    expect(detectColumn([{ row: 2, text: 'NA' }], AUTO)).toMatchObject({ numeric: false });
    // A number beyond float32 is not read; a plain exponent is.
    expect(
      Number.isNaN(readNumber('1e39', { decimal: '.', group: '', unit: '', unitAfter: false, percent: false })),
    ).toBe(true);
    expect(readColumn(['1e-3', '2.5E+2']).values).toEqual([0.001, 250]);
    expect(scanNumber(`${'x'.repeat(10)}1`)).toBeNull();
  });
});

/** A locale's way of writing numbers. */
interface Style {
  decimal: DecimalMark;
  group: string;
  unit: string;
  unitAfter: boolean;
  negative: 'minus' | 'unicode' | 'parens' | 'trailing';
  percent: boolean;
  fractionDigits: number;
}

const arbStyle: fc.Arbitrary<Style> = fc
  .record({
    decimal: fc.constantFrom<DecimalMark>('.', ','),
    group: fc.constantFrom('', ',', '.', ' ', '\u00a0', '\u202f', "'", '\u2019'),
    unit: fc.constantFrom('', '$', '€', '£', '¥', '₹', 'CHF', 'USD', 'R$', 'kr'),
    unitAfter: fc.boolean(),
    negative: fc.constantFrom<Style['negative']>('minus', 'unicode', 'parens', 'trailing'),
    percent: fc.boolean(),
    fractionDigits: fc.integer({ min: 0, max: 4 }),
  })
  .filter((s) => s.group !== s.decimal);

/** `value` written in `style`: grouped by threes, rounded to the style's fraction digits. */
function write(value: number, style: Style): string {
  const [integer, fraction] = Math.abs(value).toFixed(style.fractionDigits).split('.');
  const grouped = style.group === '' ? integer : integer.replace(/\B(?=(\d{3})+(?!\d))/g, style.group);
  let text = fraction === undefined ? grouped : `${grouped}${style.decimal}${fraction}`;
  if (style.percent) text += '%';
  if (style.unit !== '') text = style.unitAfter ? `${text} ${style.unit}` : `${style.unit}${text}`;
  if (value < 0) {
    if (style.negative === 'parens') text = `(${text})`;
    else if (style.negative === 'trailing') text = `${text}-`;
    else text = `${style.negative === 'unicode' ? '−' : '-'}${text}`;
  }
  return text;
}

describe('number formats (property-based)', () => {
  it('reads back a column written in any locale style, given the decimal mark where the column cannot show it', () => {
    fc.assert(
      fc.property(
        arbStyle,
        fc.array(fc.double({ min: -1e7, max: 1e7, noNaN: true }), { minLength: 1, maxLength: 30 }),
        (style, numbers) => {
          const cells = numbers.map((n) => write(n, style));
          const expected = numbers.map((n) => {
            const rounded = Number(Math.abs(n).toFixed(style.fractionDigits));
            return n < 0 && rounded !== 0 ? -rounded : rounded;
          });
          const { values } = readColumn(cells, { preferred: style.decimal, semicolons: false });
          expect(values.map((v) => (Object.is(v, -0) ? 0 : v))).toEqual(expected);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('needs no hint when the column shows its decimal mark (a cell with other than three fraction digits)', () => {
    fc.assert(
      fc.property(
        arbStyle.filter((s) => s.fractionDigits === 2),
        fc.array(fc.double({ min: -1e7, max: 1e7, noNaN: true }), { minLength: 1, maxLength: 30 }),
        fc.constantFrom<DecimalMark | null>('.', ',', null),
        (style, numbers, wrongHint) => {
          const cells = numbers.map((n) => write(n, style));
          const { values } = readColumn(cells, { preferred: wrongHint, semicolons: false });
          expect(values.map((v) => Math.abs(v))).toEqual(numbers.map((n) => Number(Math.abs(n).toFixed(2))));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
