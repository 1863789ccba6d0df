// Numbers as people write them in CSV cells: currency signs and codes ($102.03, 5,00 €, USD 1,234.50,
// CHF 1'234.50), thousands separators (1,234.5; 1.234,5; 1 234,5 with plain, no-break or narrow
// spaces; 1'234.5; Indian 12,34,567), a decimal point or comma, percent signs (12.5% reads as 12.5),
// negatives as -5, −5, (5) or 5-. A column's format is decided once from its cells (detectColumn):
// which mark is the decimal, which the thousands separator, which unit; then every cell is read
// under that one format (readNumber) in a single pass over its characters.
//
// An ambiguous cell (1,234 or 1.234: one separator before exactly three digits) is resolved by the
// column's other cells (1,234.5; 1,5; 12,345,678), then by the other columns of the file, then by
// the decimal-mark setting, then by the delimiter (a comma after semicolon-separated values is the
// decimal comma Europeans write), else it is a thousands separator for a comma, a decimal point for a dot.

/** The decimal mark setting: detected from the file, or given. */
export const DECIMAL_MARKS = ['auto', '.', ','] as const;
export type DecimalSetting = (typeof DECIMAL_MARKS)[number];
export type DecimalMark = '.' | ',';

/** How one column writes its numbers. */
export interface NumberFormat {
  decimal: DecimalMark;
  /** The thousands separator ('' for none); every kind of space counts as ' ', both apostrophes as "'". */
  group: '' | ',' | '.' | ' ' | "'";
  /** The currency or unit written before or after the numbers ('$', '€', 'USD'), or ''. */
  unit: string;
  /** Whether the unit comes after the number (5,00 €) rather than before ($5.00). */
  unitAfter: boolean;
  /** Whether the cells carry a percent sign (kept as written: 12.5% reads as 12.5). */
  percent: boolean;
}

export const PLAIN_FORMAT: NumberFormat = { decimal: '.', group: '', unit: '', unitAfter: false, percent: false };

/** Largest finite float32: a value beyond it cannot be trained on. */
const FLOAT32_MAX = 3.4028234663852886e38;

/** What a cell says before a format decides which separator is the decimal mark. */
export interface ScannedNumber {
  negative: boolean;
  unit: string;
  /** The unit follows the digits. */
  unitAfter: boolean;
  percent: boolean;
  /** Digits and separators as written, e.g. "1,234.56" or "1 234,5" (any space, either apostrophe). */
  body: string;
  /** The exponent's digits with their sign ("-3"), or '' for none. */
  exponent: string;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** A space of any width: plain, no-break, narrow no-break, thin, figure. */
function isSpace(code: number): boolean {
  return code === 0x20 || code === 0xa0 || code === 0x202f || code === 0x2009 || code === 0x2007;
}

function isApostrophe(code: number): boolean {
  return code === 0x27 || code === 0x2019;
}

/** Hyphen-minus, the minus sign and the en dash that some exports write for it. */
function isMinus(code: number): boolean {
  return code === 0x2d || code === 0x2212 || code === 0x2013;
}

/** A separator inside a number's body: . , a space or an apostrophe. */
function isSeparator(code: number): boolean {
  return code === 0x2e || code === 0x2c || isSpace(code) || isApostrophe(code);
}
const CURRENCY = /\p{Sc}/u;
const SPACE_IN = /[ \u00a0\u202f\u2009\u2007]/;
const APOSTROPHE_IN = /['\u2019]/;
const SPACES_ALL = /[ \u00a0\u202f\u2009\u2007]/g;
const APOSTROPHES_ALL = /['\u2019]/g;

/** The separator class of a character code: '.', ',', ' ' (any space), "'" (either apostrophe), or null. */
function separatorClass(code: number): NumberFormat['group'] | null {
  if (code === 0x2e) return '.';
  if (code === 0x2c) return ',';
  if (isSpace(code)) return ' ';
  if (isApostrophe(code)) return "'";
  return null;
}
const LETTER = /\p{L}/u;
/** Unit words without a currency symbol that money columns use (three-letter codes are taken as they are). */
const UNIT_WORDS = new Set(['kr', 'kr.', 'Fr.', 'fr.', 'Rs', 'Rs.', 'zł', 'Kč', 'Ft', 'lei', 'R', 'RM', 'Rp']);

/** The unit last accepted: a column repeats one unit on every row, so it is checked once. */
let knownUnit = '';

function isUnit(token: string): boolean {
  if (token === knownUnit) return true;
  if (token.length === 0 || token.length > 6) return false;
  const ok = CURRENCY.test(token)
    ? [...token].every((ch) => CURRENCY.test(ch) || /[A-Za-z.]/.test(ch))
    : /^[A-Z]{3}$/.test(token) || UNIT_WORDS.has(token);
  if (ok) knownUnit = token;
  return ok;
}

/** A character that may be part of a unit: a currency sign or a letter (ASCII tested without a pattern). */
function isUnitChar(cell: string, j: number): boolean {
  const code = cell.charCodeAt(j);
  if (code === 0x24 || (code >= 65 && code <= 90) || (code >= 97 && code <= 122)) return true;
  return code > 0x7f && (CURRENCY.test(cell[j]) || LETTER.test(cell[j]));
}

function isLetterAt(cell: string, j: number): boolean {
  const code = cell.charCodeAt(j);
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || (code > 0x7f && LETTER.test(cell[j]));
}

/** The unit token starting at `i` (letters, currency signs and dots), or '' when there is none. */
function unitAt(cell: string, i: number, end: number): string {
  let j = i;
  while (j < end && j - i < 6) {
    if (!(isUnitChar(cell, j) || (cell.charCodeAt(j) === 0x2e && j > i && isLetterAt(cell, j - 1)))) break;
    j++;
  }
  // A dot belongs to a unit only after a letter (Fr., Rs.); a unit word may also stand without it.
  const token = cell.slice(i, j);
  if (isUnit(token)) return token;
  if (token.endsWith('.') && isUnit(token.slice(0, -1))) return token.slice(0, -1);
  return '';
}

/**
 * Splits a trimmed cell into sign, unit, percent, the digits with their separators and the exponent,
 * in one pass; null when it is not a number in any format (text, a date, two numbers).
 */
export function scanNumber(cell: string): ScannedNumber | null {
  let i = 0;
  let end = cell.length;
  let negative = false;
  let signs = 0;
  let unit = '';
  let unitAfter = false;
  let percent = false;
  if (cell.charCodeAt(0) === 0x28 && cell.charCodeAt(end - 1) === 0x29) {
    // Accounting negatives: (1,234.50)
    negative = true;
    signs++;
    i++;
    end--;
  }
  const skipSpaces = () => {
    while (i < end && isSpace(cell.charCodeAt(i))) i++;
  };
  skipSpaces();
  // Before the digits: a sign and a unit, in either order ("-$5", "$-5", "USD -5").
  for (let k = 0; k < 2; k++) {
    const code = cell.charCodeAt(i);
    if ((code === 0x2b || isMinus(code)) && signs === 0) {
      negative = code !== 0x2b;
      signs++;
      i++;
      skipSpaces();
    } else if (unit === '' && !isDigit(code) && code !== 0x2e && code !== 0x2c) {
      unit = unitAt(cell, i, end);
      if (unit === '') return null;
      i += unit.length;
      skipSpaces();
    }
  }
  const bodyStart = i;
  let digits = 0;
  while (i < end) {
    const code = cell.charCodeAt(i);
    if (isDigit(code)) digits++;
    // A space ends the body unless a digit follows it (a group of digits); then the suffix starts.
    else if (!isSeparator(code) || (isSpace(code) && !isDigit(cell.charCodeAt(i + 1)))) break;
    i++;
  }
  if (digits === 0) return null;
  const body = cell.slice(bodyStart, i);
  let exponent = '';
  const e = cell.charCodeAt(i);
  if (e === 0x65 || e === 0x45) {
    let j = i + 1;
    let sign = '';
    if (cell.charCodeAt(j) === 0x2b || cell.charCodeAt(j) === 0x2d) sign = cell[j++] === '-' ? '-' : '';
    const from = j;
    while (isDigit(cell.charCodeAt(j))) j++;
    if (j === from) return null;
    exponent = sign + cell.slice(from, j);
    i = j;
  }
  skipSpaces();
  // After the digits: a percent sign, a unit and a trailing minus, each at most once.
  for (let k = 0; k < 3 && i < end; k++) {
    const code = cell.charCodeAt(i);
    if (code === 0x25 && !percent) {
      percent = true;
      i++;
    } else if (isMinus(code) && signs === 0) {
      negative = true;
      signs++;
      i++;
    } else if (unit === '') {
      unit = unitAt(cell, i, end);
      if (unit === '') return null;
      unitAfter = true;
      i += unit.length;
    } else return null;
    skipSpaces();
  }
  if (i !== end) return null;
  return { negative, unit, unitAfter, percent, body, exponent };
}

/** A cell's evidence about the decimal mark: 'definite' when only one reading is possible. */
export interface BodyEvidence {
  /** The decimal mark this body proves, if any. */
  decimal: DecimalMark | null;
  /** Separator that can only be a thousands separator here (a space, an apostrophe, a repeated mark). */
  group: NumberFormat['group'];
  /** One , or . before exactly three digits: decimal or thousands, the column must say. */
  ambiguous: DecimalMark | null;
}

/** What one body tells about its format, from where its separators are. */
export function bodyEvidence(body: string): BodyEvidence {
  const evidence: BodyEvidence = { decimal: null, group: '', ambiguous: null };
  const lastDot = body.lastIndexOf('.');
  const lastComma = body.lastIndexOf(',');
  const other = SPACE_IN.test(body) ? ' ' : APOSTROPHE_IN.test(body) ? "'" : '';
  if (other !== '') evidence.group = other;
  if (lastDot < 0 && lastComma < 0) return evidence;
  if (lastDot >= 0 && lastComma >= 0) {
    // Both: the later one is the decimal mark.
    evidence.decimal = lastDot > lastComma ? '.' : ',';
    evidence.group = lastDot > lastComma ? ',' : '.';
    return evidence;
  }
  const mark: DecimalMark = lastDot >= 0 ? '.' : ',';
  const count = body.split(mark).length - 1;
  if (count > 1) {
    evidence.group = mark;
    evidence.decimal = mark === '.' ? ',' : '.';
    return evidence;
  }
  if (other !== '') {
    evidence.decimal = mark;
    return evidence;
  }
  const after = body.length - body.indexOf(mark) - 1;
  const before = body.slice(0, body.indexOf(mark));
  // A thousands group needs exactly three digits after it and no leading zero before it (0.123).
  if (after !== 3 || before === '' || before.length > 3 || before.startsWith('0')) evidence.decimal = mark;
  else evidence.ambiguous = mark;
  return evidence;
}

/**
 * The number `scanned` stands for under `format`, or NaN: separators must sit where the format puts
 * them (thousands in groups of three, or Indian groups of two before the last three), the exponent
 * only without thousands separators, and the value within float32's range.
 */
export function scannedValue(scanned: ScannedNumber, format: NumberFormat): number {
  const value = unboundedValueOf(scanned, format);
  return Math.abs(value) <= FLOAT32_MAX ? value : Number.NaN;
}

/** valueOf without the range check: Infinity or beyond float32 where the digits say so. */
export function unboundedValueOf(scanned: ScannedNumber, format: NumberFormat): number {
  if (scanned.unit !== '' && scanned.unit !== format.unit) return Number.NaN;
  const { body } = scanned;
  let groups: number[] | null = null;
  let run = 0;
  let decimalSeen = false;
  for (let i = 0; i < body.length; i++) {
    const code = body.charCodeAt(i);
    if (isDigit(code)) {
      run++;
      continue;
    }
    const separator = separatorClass(code);
    if (separator === format.decimal && !decimalSeen) {
      decimalSeen = true;
      groups?.push(run);
    } else if (separator === format.group && format.group !== '' && !decimalSeen) {
      groups ??= [];
      groups.push(run);
    } else return Number.NaN;
    run = 0;
  }
  let digits = body;
  if (groups !== null) {
    if (!decimalSeen) groups.push(run);
    if (!validGroups(groups) || scanned.exponent !== '') return Number.NaN;
    digits =
      format.group === ' '
        ? body.replace(SPACES_ALL, '')
        : format.group === "'"
          ? body.replace(APOSTROPHES_ALL, '')
          : body.split(format.group).join('');
  }
  if (format.decimal === ',') digits = digits.replace(',', '.');
  if (digits.charCodeAt(0) === 0x2e && digits.length === 1) return Number.NaN;
  const exponent = scanned.exponent === '' ? '' : `e${scanned.exponent}`;
  return Number(`${scanned.negative ? '-' : ''}${digits}${exponent}`);
}

/** Thousands groups: the first 1–3 digits, then threes; or Indian: 1–2, twos, then the last three. */
function validGroups(groups: number[]): boolean {
  const first = groups[0];
  const last = groups[groups.length - 1];
  const middle = groups.slice(1, -1);
  if (first < 1 || first > 3 || last !== 3) return false;
  if (middle.every((g) => g === 3)) return true;
  return first <= 2 && middle.every((g) => g === 2);
}

/** Reads a trimmed cell under `format`; NaN when it does not fit it. */
export function readNumber(cell: string, format: NumberFormat): number {
  const scanned = scanNumber(cell);
  return scanned === null ? Number.NaN : scannedValue(scanned, format);
}

/** Cells that stand for a missing value rather than text: they do not make a column non-numeric. */
const MISSING_MARKERS = new Set(['na', 'n/a', 'nan', 'null', 'none', '-', '–', '—', '#n/a', '.', '?', '#value!']);

export function isMissingMarker(cell: string): boolean {
  return MISSING_MARKERS.has(cell.toLowerCase());
}

/** A column's verdict: its format, or why it is not a column of numbers. */
export type ColumnVerdict =
  | { numeric: true; format: NumberFormat; ambiguous: boolean }
  | { numeric: false; reason: string };

/**
 * Share of a column's filled cells that must read as numbers for it to be a column of numbers (one
 * cell may be off in a short sample, as long as numbers are not fewer).
 */
export const NUMERIC_SHARE = 0.9;

/** A column's cells with their spreadsheet row numbers, as the detection sees them. */
export interface SampleCell {
  row: number;
  text: string;
}

/**
 * The decimal mark a column's cells prove ('.' or ','), or null when none proves one (plain
 * integers, or only ambiguous cells).
 */
export function provenDecimal(cells: readonly SampleCell[]): DecimalMark | null {
  let dot = 0;
  let comma = 0;
  for (const { text } of cells) {
    const scanned = scanNumber(text);
    if (scanned === null) continue;
    const { decimal } = bodyEvidence(scanned.body);
    if (decimal === '.') dot++;
    else if (decimal === ',') comma++;
  }
  return dot === 0 && comma === 0 ? null : dot >= comma ? '.' : ',';
}

/** What resolves a column whose cells prove no decimal mark. */
export interface DecimalHints {
  /** The mark the file's other columns prove, else the one the setting gives; null for neither. */
  preferred: DecimalMark | null;
  /** Semicolon-separated values: an ambiguous comma (1,234) is then the decimal comma Europeans write. */
  semicolons: boolean;
}

/**
 * Decides a column's format from its sample cells: the decimal mark its cells prove, else the
 * hints' (for 1,234 or 1.234 alone); the thousands separator and the unit most cells use; then the
 * column is numeric when at least NUMERIC_SHARE of its filled cells (missing markers aside) read
 * under that one format.
 */
export function detectColumn(cells: readonly SampleCell[], hints: DecimalHints): ColumnVerdict {
  const filled = cells.filter((cell) => cell.text !== '' && !isMissingMarker(cell.text));
  if (filled.length === 0) return { numeric: false, reason: 'it is empty in the rows looked at' };
  const scans = filled.map((cell) => scanNumber(cell.text));
  const ambiguousComma = scans.some((s) => s !== null && bodyEvidence(s.body).ambiguous === ',');
  const decimal = provenDecimal(filled) ?? hints.preferred ?? (ambiguousComma && hints.semicolons ? ',' : '.');
  const groupVotes = new Map<NumberFormat['group'], number>();
  const unitVotes = new Map<string, number>();
  let after = 0;
  let ambiguous = false;
  let percent = false;
  for (const scanned of scans) {
    if (scanned === null) continue;
    const evidence = bodyEvidence(scanned.body);
    let group = evidence.group;
    if (group === '' && evidence.ambiguous !== null && evidence.ambiguous !== decimal) group = evidence.ambiguous;
    if (evidence.ambiguous !== null) ambiguous = true;
    if (group !== '' && group !== decimal) groupVotes.set(group, (groupVotes.get(group) ?? 0) + 1);
    if (scanned.unit !== '') unitVotes.set(scanned.unit, (unitVotes.get(scanned.unit) ?? 0) + 1);
    if (scanned.unitAfter) after++;
    percent ||= scanned.percent;
  }
  const format: NumberFormat = {
    decimal,
    group: mostVoted(groupVotes) ?? '',
    unit: mostVoted(unitVotes) ?? '',
    unitAfter: after > 0 && 2 * after >= [...unitVotes.values()].reduce((a, b) => a + b, 0),
    percent,
  };
  let numbers = 0;
  let firstBad: SampleCell | null = null;
  filled.forEach((cell, k) => {
    const scanned = scans[k];
    if (scanned !== null && Number.isFinite(scannedValue(scanned, format))) numbers++;
    else firstBad ??= cell;
  });
  const bad = filled.length - numbers;
  if (numbers > 0 && numbers >= bad && bad <= Math.max(1, Math.floor((1 - NUMERIC_SHARE) * filled.length))) {
    return { numeric: true, format, ambiguous };
  }
  const first = firstBad as SampleCell | null;
  const example = first === null ? '' : `row ${first.row} holds ${JSON.stringify(shorten(first.text))}`;
  return {
    numeric: false,
    reason:
      numbers === 0
        ? `not numbers (${example})`
        : `only ${numbers} of ${filled.length} cells read as numbers like ${describeExample(format)} (${example})`,
  };
}

function mostVoted<T>(votes: Map<T, number>): T | null {
  let best: T | null = null;
  let count = 0;
  for (const [value, n] of votes) {
    if (n > count) {
      best = value;
      count = n;
    }
  }
  return best;
}

function shorten(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}…` : text;
}

/** The format as an example number: "$1,234.5", "1 234,5 €", "12.5%". */
export function describeExample(format: NumberFormat): string {
  const integer = format.group === '' ? '1234' : `1${format.group}234`;
  const number = `${integer}${format.decimal}5${format.percent ? '%' : ''}`;
  if (format.unit === '') return number;
  const symbol = /^\p{Sc}+$/u.test(format.unit);
  if (format.unitAfter) return `${number} ${format.unit}`;
  return symbol ? `${format.unit}${number}` : `${format.unit} ${number}`;
}

/** Whether a format is the plain one that JavaScript reads as it is (no unit, no separators, a point). */
export function isPlain(format: NumberFormat): boolean {
  return format.decimal === '.' && format.group === '' && format.unit === '' && !format.percent;
}
