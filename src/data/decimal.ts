// Numbers as people type them (a CLI option, a form field, a link value): plain decimal notation,
// read by one left-to-right scan, so the work is linear in the text's length whatever it holds.
// "0x10", "0b1", "Infinity" and "1e400" are not what a person means by a number here. Below the
// settings (which parse options with it) because the CSV reader asks the same question of a cell.

import { describeValue, InputError } from '../model/errors.js';

/** Longer number texts are refused unread: no setting needs more than a few dozen characters. */
export const MAX_NUMBER_TEXT = 1000;

/** The index of the first character at or after `i` that is not a digit 0-9. */
function skipDigits(text: string, i: number): number {
  let j = i;
  while (j < text.length && text.charCodeAt(j) >= 48 && text.charCodeAt(j) <= 57) j++;
  return j;
}

/**
 * Whether `text` is `[+-]digits[.digits][e[+-]digits]` (digits on at least one side of the point);
 * `point` is the decimal separator (a CSV may use a comma).
 */
export function isDecimal(text: string, point: '.' | ',' = '.'): boolean {
  let i = text[0] === '+' || text[0] === '-' ? 1 : 0;
  const whole = skipDigits(text, i);
  let digits = whole - i;
  i = whole;
  if (text[i] === point) {
    const fraction = skipDigits(text, i + 1);
    digits += fraction - (i + 1);
    i = fraction;
  }
  if (digits === 0) return false;
  if (text[i] === 'e' || text[i] === 'E') {
    const sign = text[i + 1] === '+' || text[i + 1] === '-' ? i + 2 : i + 1;
    i = skipDigits(text, sign);
    if (i === sign) return false;
  }
  return i === text.length;
}

/** Powers of ten that are exact doubles, for the fraction digits readShortDecimal divides by. */
const EXACT_POWERS_OF_TEN = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
/** Digits a mantissa may have so that it is an exact double (below 2^53). */
const MAX_SHORT_DIGITS = 15;

/**
 * The value of `text.slice(from, to)` when it is `[+-]digits[.digits]` with at most 15 digits, read
 * without making the slice; undefined for anything else (an exponent, spaces, more digits, no digits),
 * which the caller reads the slow way. The same double as Number(): the digits are an exact integer and
 * the power of ten an exact double, so the one division rounds the exact quotient correctly, as
 * Number() rounds the decimal (Clinger's fast path).
 */
export function readShortDecimal(text: string, from: number, to: number): number | undefined {
  let i = from;
  const sign = text.charCodeAt(i);
  if (sign === 45 || sign === 43) i++;
  let mantissa = 0;
  let digits = 0;
  let point = -1;
  for (; i < to; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d >= 0 && d <= 9) {
      mantissa = mantissa * 10 + d;
      digits++;
    } else if (d === -2 && point < 0) {
      point = i;
    } else {
      return undefined;
    }
  }
  if (digits === 0 || digits > MAX_SHORT_DIGITS) return undefined;
  const value = point < 0 ? mantissa : mantissa / EXACT_POWERS_OF_TEN[to - 1 - point];
  return sign === 45 ? -value : value;
}

/** The number `text` spells (spaces around it allowed), or NaN when it is no finite decimal number. */
export function readDecimal(text: string): number {
  if (text.length > MAX_NUMBER_TEXT) return Number.NaN;
  const trimmed = text.trim();
  const value = isDecimal(trimmed) ? Number(trimmed) : Number.NaN;
  return Number.isFinite(value) ? value : Number.NaN;
}

/** A finite decimal number, or an InputError on `field` quoting (the start of) the text. */
export function parseNumber(text: string, field: string): number {
  if (text.length > MAX_NUMBER_TEXT) {
    throw new InputError(
      field,
      `expected a number, got ${describeValue(text)} (${text.length.toLocaleString('en-US')} characters; at most ${MAX_NUMBER_TEXT})`,
    );
  }
  const value = readDecimal(text);
  if (Number.isNaN(value)) {
    // "1,5" is how much of the world writes 1.5: say what to type instead.
    const comma = /^\s*[-+]?\d*,\d+\s*$/.test(text) ? `; use a point: ${text.trim().replace(',', '.')}` : '';
    throw new InputError(field, `expected a number, got ${describeValue(text)}${comma}`);
  }
  return value;
}
