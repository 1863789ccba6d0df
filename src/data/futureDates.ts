// The dates of the rows after the data's last: a forecast past the end is labelled with them (the
// charts' x labels, their CSV export, `predict`'s CSV). The spacing is read from the data's dates
// (season.ts): monthly, quarterly and yearly rows go on by calendar months (the same day of the
// month, a month's last day staying the last), any other regular spacing (hourly, daily, weekly, a
// step of 15 minutes) by its median step. Dates that follow no spacing read "<last date> + k".
//
// Labels are the CSV reader's ISO labels (dateFormat.ts): "2024-01-31", "2024-01-31 13:45",
// "2024-01-31 13:45:07", "2024-01", "2024"; a label with a zone is not extrapolated.

const DAY_MS = 86_400_000;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** A label's parts: year, month, day (null for "2024-01"), and its time of day in ms (null for none). */
interface Parsed {
  year: number;
  month: number;
  day: number | null;
  /** Milliseconds after midnight, or null for a label without a time. */
  clock: number | null;
  /** Whether the time shows its seconds. */
  seconds: boolean;
}

const LABEL = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?: (\d{2}):(\d{2})(?::(\d{2}))?)?)?)?$/;

function parse(label: string): Parsed | null {
  const m = LABEL.exec(label);
  if (m === null) return null;
  const [, year, month, day, hour, minute, second] = m;
  return {
    year: Number(year),
    month: month === undefined ? 1 : Number(month),
    day: month === undefined ? 1 : day === undefined ? null : Number(day),
    clock: hour === undefined ? null : (Number(hour) * 60 + Number(minute)) * 60_000 + Number(second ?? 0) * 1000,
    seconds: second !== undefined,
  };
}

function timeOf(p: Parsed): number {
  return Date.UTC(p.year, p.month - 1, p.day ?? 1) + (p.clock ?? 0);
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The label `months` calendar months after `p`, in the same form. */
function addMonths(p: Parsed, months: number, form: 'year' | 'month' | 'day'): string {
  const index = p.year * 12 + (p.month - 1) + months;
  const year = Math.floor(index / 12);
  const month = (index % 12) + 1;
  if (form === 'year') return String(year);
  if (form === 'month') return `${year}-${pad(month)}`;
  const day = p.day ?? 1;
  const lastDay = day === daysInMonth(p.year, p.month);
  const landed = lastDay ? daysInMonth(year, month) : Math.min(day, daysInMonth(year, month));
  return `${year}-${pad(month)}-${pad(landed)}${clockText(p)}`;
}

function clockText(p: Parsed): string {
  if (p.clock === null) return '';
  const seconds = Math.floor(p.clock / 1000);
  const text = ` ${pad(Math.floor(seconds / 3600))}:${pad(Math.floor(seconds / 60) % 60)}`;
  return p.seconds ? `${text}:${pad(seconds % 60)}` : text;
}

/** The label of time `ms` in the form of `like`: a date, or a date and a time. */
function labelAt(ms: number, like: Parsed): string {
  const d = new Date(ms);
  const date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  if (like.clock === null) return date;
  return `${date}${clockText({ ...like, clock: ms - Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) })}`;
}

/** How many calendar months apart the rows are, when their median gap is a month, a quarter or a year. */
function monthsApart(medianDays: number): number | null {
  if (medianDays >= 27.5 && medianDays <= 31.5) return 1;
  if (medianDays >= 88 && medianDays <= 93) return 3;
  if (medianDays >= 364 && medianDays <= 367) return 12;
  return null;
}

/**
 * A function from k = 1, 2, … to the label of the k-th row after the last of `dates`: by calendar
 * months for monthly, quarterly and yearly rows, else by the median step; "<last> + k" where the
 * dates have no regular spacing (or cannot be read).
 */
export function dateStepper(dates: readonly string[]): (ahead: number) => string {
  const last = dates[dates.length - 1] ?? '';
  const fallback = (ahead: number) => `${last} + ${ahead}`;
  if (dates.length < 2) return fallback;
  const parsed = dates.map(parse);
  if (parsed.some((p) => p === null)) return fallback;
  const points = parsed as Parsed[];
  const end = points[points.length - 1];
  const times = points.map(timeOf);
  const gaps: number[] = [];
  for (let r = 1; r < times.length; r++) gaps.push(times[r] - times[r - 1]);
  gaps.sort((a, b) => a - b);
  const median = gaps[Math.floor(gaps.length / 2)];
  if (!(median > 0)) return fallback;
  // Every label in one form (all "2024", all "2024-01", all days), as a regular series writes them.
  if (dates.some((d) => d.length !== dates[0].length)) return fallback;
  const labelForm = last.length === 4 ? 'year' : end.day === null ? 'month' : 'day';
  const months = monthsApart(median / DAY_MS);
  if (months !== null) return (ahead) => addMonths(end, months * ahead, labelForm);
  if (labelForm !== 'day') return fallback;
  // A step of whole days written as dates stays a date; a finer step needs a time in the label.
  if (end.clock === null && median % DAY_MS !== 0) return fallback;
  const from = times[times.length - 1];
  return (ahead) => labelAt(from + median * ahead, end);
}

/** The labels of the `count` rows after the last of `dates`. (count) */
export function futureDates(dates: readonly string[], count: number): string[] {
  return Array.from({ length: count }, (_, k) => dateAhead(dates, k + 1));
}

/** Each dates array's stepper, read once (a chart asks for one label per tick on every redraw). */
const steppers = new WeakMap<readonly string[], (ahead: number) => string>();

/** The label of the row `ahead` rows after the last of `dates` (1: the next row). */
export function dateAhead(dates: readonly string[], ahead: number): string {
  let step = steppers.get(dates);
  if (step === undefined) {
    step = dateStepper(dates);
    steppers.set(dates, step);
  }
  return step(ahead);
}
