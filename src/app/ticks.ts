// Axis tick labels for the charts (charts.ts draws them), as pure functions: numbers that never
// round to "0" (a log axis at 1e-4) and never repeat, and dates with a time of day split over two
// lines (date above, time below), so that tick spacing sized from the widest line keeps labels apart.

/** Beyond these magnitudes a tick reads better as 1e-4 or 2.5e9 than as digits. */
const SMALLEST_PLAIN = 1e-3;
const LARGEST_PLAIN = 1e9;

/** "1e-4", "2.5e+9" → "2.5e9": JavaScript's exponent notation without trailing zeros or a '+'. */
function exponent(value: number, digits: number): string {
  const [mantissa, power] = value.toExponential(digits).split('e');
  const trimmed = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa;
  return `${trimmed}e${power.replace(/^\+/, '')}`;
}

function plain(value: number, fractionDigits: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: 0, maximumFractionDigits: fractionDigits });
}

/** Fraction digits that `step` needs written out (0.25 → 2, 5 → 0, 1e-7 → 7). */
function fractionDigitsOf(step: number): number {
  if (!(step > 0) || !Number.isFinite(step)) return 0;
  const [mantissa, power] = step.toExponential(6).split('e');
  const decimals = (mantissa.split('.')[1] ?? '').replace(/0+$/, '').length;
  return Math.max(0, decimals - Number(power));
}

/**
 * Labels for a linear axis' ticks `splits`, `increment` apart: as many fraction digits as the
 * increment needs, so neighbours differ and a small value is never shown as 0.
 */
export function linearTicks(splits: readonly (number | null)[], increment: number): string[] {
  const largest = Math.max(0, ...splits.map((v) => Math.abs(v ?? 0)));
  const digits = fractionDigitsOf(increment);
  const exponential = largest >= LARGEST_PLAIN || (digits > 6 && largest < SMALLEST_PLAIN * 10);
  // Significant digits for exponent notation: enough to tell ticks an increment apart.
  const significant = Math.min(12, Math.max(0, Math.ceil(Math.log10(largest / increment)) + 1));
  return splits.map((v) => {
    // uPlot passes null for a tick it leaves unlabelled.
    if (v === null) return '';
    if (v === 0) return '0';
    if (exponential) return exponent(v, significant);
    return plain(v, Math.min(digits, 20));
  });
}

/** One log-axis tick (1, 2, 5 × a power of ten and the like): up to four significant digits, never 0. */
export function logTick(value: number | null): string {
  if (value === null) return '';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs < SMALLEST_PLAIN || abs >= LARGEST_PLAIN) return exponent(value, 3);
  const rounded = Number(value.toPrecision(4));
  return plain(rounded, Math.max(0, 3 - Math.floor(Math.log10(abs))));
}

const DATE_TIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2}|UTC|GMT)?$/i;

/**
 * A date label as a tick: "2024-01-31T13:45:00Z" → "2024-01-31\n13:45" (the date above its time;
 * seconds only when they are not :00; a zone other than UTC kept), other labels as they are.
 */
export function dateTick(label: string): string {
  const match = DATE_TIME.exec(label.trim());
  if (match === null) return label;
  const [, day, minutes, seconds, zone] = match;
  const time = seconds !== undefined && seconds !== '00' ? `${minutes}:${seconds}` : minutes;
  const utc = zone === undefined || /^(z|utc|gmt|[+-]00:?00)$/i.test(zone);
  return `${day}\n${time}${utc ? '' : ` ${zone}`}`;
}

/**
 * Date ticks ("date\ntime") after the first of a day show only their time, as a clock's axis
 * does: "2024-01-31\n13:00", "14:00", "15:00", then "2024-02-01\n00:00" when the day changes.
 */
export function dropRepeatedDays(labels: readonly string[]): string[] {
  let day = '';
  return labels.map((label) => {
    const cut = label.indexOf('\n');
    if (cut < 0) {
      day = '';
      return label;
    }
    const date = label.slice(0, cut);
    if (date === day) return label.slice(cut + 1);
    day = date;
    return label;
  });
}

/** Monthly labels (every date the 1st of its month) read by month: "2004-03-01" → "2004-03". */
export function monthlyTick(label: string): string {
  return label.replace(/^(\d{4}-\d{2})-01$/, '$1');
}

/** Whether every label is the first of a month (a monthly series is labelled by month). */
export function isMonthly(labels: readonly string[]): boolean {
  return labels.length > 0 && labels.every((d) => /^\d{4}-\d{2}-01$/.test(d));
}

/** Whole-number steps between row ticks, so every tick lands on a row and no label repeats. */
export const ROW_INCREMENTS: number[] = [1, 2, 3, 4, 5, 6, 8].concat(
  [1, 10, 100, 1e3, 1e4, 1e5, 1e6].flatMap((power) =>
    [10, 12, 15, 20, 25, 30, 40, 50, 60, 75, 80].map((m) => m * power),
  ),
);

/** Most ticks an axis draws: a bound on any range and increment uPlot hands over. */
const MAX_SPLITS = 1000;

/**
 * Ticks on whole rows, `increment` apart, from `min` to `max`. Where no increment fits (uPlot then
 * passes 0) or the range is not finite, none: uPlot's own loop would never end.
 */
export function wholeRowSplits(min: number, max: number, increment: number): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max) || !(increment > 0) || max < min) return [];
  const splits: number[] = [];
  for (let v = Math.ceil(min / increment) * increment; v <= max && splits.length < MAX_SPLITS; v += increment) {
    splits.push(v);
  }
  return splits;
}
