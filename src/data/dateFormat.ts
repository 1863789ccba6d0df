// Dates and times as CSV files write them: ISO (2024-01-31, 2024-01-31T13:45:00Z, 2024-01-31 13:45,
// with a zone or not, 2024-01 for a month), day-first and month-first (31/01/2024, 01/31/2024,
// 31.01.2024, two-digit years too, with a time and AM/PM), Unix epoch seconds, milliseconds,
// microseconds or nanoseconds, a year column, and whatever else Date.parse reads ("Jan 31, 2024").
// A column's format is decided once from its cells (detectDateFormat); every cell then reads as a
// time (for the order of the rows) and an ISO label (what charts show: "2024-01-31 13:45").

import type { SampleCell } from './numberFormat.js';

export type DateKind = 'iso' | 'dmy' | 'mdy' | 'epoch-s' | 'epoch-ms' | 'epoch-us' | 'epoch-ns' | 'year' | 'text';

export interface DateFormat {
  kind: DateKind;
}

export interface ReadDate {
  /** Milliseconds since 1970 (UTC where the cell says its zone or is an epoch, else as if UTC). */
  time: number;
  /** "2024-01-31", "2024-01-31 13:45", "2024-01-31 13:45:07 +01:00", "2024-01", "2024". */
  label: string;
}

/** Names that say a column holds dates or times. */
export const DATE_NAME = /^(date|time|datetime|timestamp|day|week|month|year|period|ds|dt|ts|t|when)$/i;
/** Names that hint at a time even inside longer names (created_at, Time (UTC), epoch_ms). */
const TIME_HINT = /date|time|stamp|epoch|unix|created|updated|^ts$|^t$/i;
const YEAR_NAME = /^(year|yr|jahr|année|año|anno)$/i;

const ISO =
  /^(\d{4})[-/.](\d{1,2})(?:[-/.](\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?|UTC|GMT)?$/i;
const DAY_MONTH =
  /^(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?\s*([AP]M)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?|UTC|GMT)?$/i;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : MONTH_DAYS[month - 1];
}

interface Parts {
  year: number;
  month: number;
  day: number | null;
  hour: number | null;
  minute: number;
  second: string | undefined;
  fraction: string | undefined;
  zone: string | undefined;
}

/** The time and label of checked parts, or null when a field is out of range. */
function fromParts(p: Parts): ReadDate | null {
  const { year, month, day, hour, minute } = p;
  if (month < 1 || month > 12) return null;
  if (day !== null && (day < 1 || day > daysIn(year, month))) return null;
  if (hour !== null && (hour > 23 || minute > 59 || Number(p.second ?? 0) > 59)) return null;
  let offset = 0;
  const zone = p.zone?.toUpperCase();
  const utc = zone === undefined || zone === 'Z' || zone === 'UTC' || zone === 'GMT';
  if (!utc) {
    const [, sign, hh, mm] = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    offset = (sign === '-' ? -1 : 1) * (Number(hh) * 60 + Number(mm ?? 0));
  }
  const ms = p.fraction === undefined ? 0 : Math.round(Number(`0${p.fraction}`) * 1000);
  const time = Date.UTC(year, month - 1, day ?? 1, hour ?? 0, minute, Number(p.second ?? 0), ms) - offset * 60_000;
  let label = day === null ? `${year}-${pad(month)}` : `${year}-${pad(month)}-${pad(day)}`;
  if (hour !== null) {
    label += ` ${pad(hour)}:${pad(minute)}`;
    if (p.second !== undefined) label += `:${p.second}${p.fraction ?? ''}`;
    if (!utc) label += ` ${p.zone}`;
  }
  return { time, label };
}

const twoDigits = (cell: string, i: number) => {
  const a = cell.charCodeAt(i) - 48;
  const b = cell.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? 10 * a + b : -1;
};

/** Character codes of the two lengths of label withSpaceForT makes, reused from row to row. */
const LABEL_CODES: Record<number, number[]> = { 16: new Array<number>(16).fill(0), 19: new Array<number>(19).fill(0) };

/**
 * "2024-01-31T13:45" as "2024-01-31 13:45", made as one flat string: a concatenation of slices keeps
 * three strings alive for each row of a long file, which the garbage collector then copies.
 */
function withSpaceForT(cell: string): string {
  const codes = LABEL_CODES[cell.length];
  for (let i = 0; i < codes.length; i++) codes[i] = cell.charCodeAt(i);
  codes[10] = 32;
  return String.fromCharCode.apply(null, codes);
}

/** The day readIsoFast read last and its time: a long file has many rows a day, each read without Date.UTC. */
let lastDay = { text: '\0', time: 0 };

/**
 * The common ISO shapes (2024-01-31, 2024-01-31 13:45, 2024-01-31T13:45:07) without a regular
 * expression: a long file is mostly these. Undefined for any other shape.
 */
function readIsoFast(cell: string): ReadDate | null | undefined {
  const n = cell.length;
  if (!(n === 10 || n === 16 || n === 19) || cell.charCodeAt(4) !== 45 || cell.charCodeAt(7) !== 45) return undefined;
  const century = twoDigits(cell, 0);
  const decade = twoDigits(cell, 2);
  const month = twoDigits(cell, 5);
  const day = twoDigits(cell, 8);
  if (century < 0 || decade < 0 || month < 0 || day < 0) return undefined;
  const year = 100 * century + decade;
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null;
  if (!cell.startsWith(lastDay.text)) lastDay = { text: cell.slice(0, 10), time: Date.UTC(year, month - 1, day) };
  if (n === 10) return { time: lastDay.time, label: cell };
  const t = cell.charCodeAt(10);
  if ((t !== 84 && t !== 32) || cell.charCodeAt(13) !== 58) return undefined;
  const hour = twoDigits(cell, 11);
  const minute = twoDigits(cell, 14);
  let second = 0;
  if (n === 19) {
    second = twoDigits(cell, 17);
    if (cell.charCodeAt(16) !== 58 || second < 0) return undefined;
  }
  if (hour < 0 || minute < 0) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const label = t === 32 ? cell : withSpaceForT(cell);
  // What Date.UTC(year, month - 1, day, hour, minute, second) gives: whole milliseconds, exact in a double.
  return { time: lastDay.time + hour * 3_600_000 + minute * 60_000 + second * 1000, label };
}

function readIso(cell: string): ReadDate | null {
  const fast = readIsoFast(cell);
  if (fast !== undefined) return fast;
  const m = ISO.exec(cell);
  if (m === null) return null;
  return fromParts({
    year: Number(m[1]),
    month: Number(m[2]),
    day: m[3] === undefined ? null : Number(m[3]),
    hour: m[4] === undefined ? null : Number(m[4]),
    minute: Number(m[5] ?? 0),
    second: m[6],
    fraction: m[7],
    zone: m[8],
  });
}

/** The fields of a day-first or month-first date, not yet ordered. */
function dayMonthFields(cell: string): { a: number; b: number; separator: string; m: RegExpExecArray } | null {
  const m = DAY_MONTH.exec(cell);
  return m === null ? null : { a: Number(m[1]), b: Number(m[3]), separator: m[2], m };
}

function readDayMonth(cell: string, dayFirst: boolean): ReadDate | null {
  const fields = dayMonthFields(cell);
  if (fields === null) return null;
  const { m } = fields;
  const yy = Number(m[4]);
  // Two-digit years: 00–69 are 2000–2069, 70–99 are 1970–1999.
  const year = m[4].length === 2 ? (yy < 70 ? 2000 + yy : 1900 + yy) : yy;
  let hour = m[5] === undefined ? null : Number(m[5]);
  if (hour !== null && m[9] !== undefined) {
    if (hour < 1 || hour > 12) return null;
    hour = (hour % 12) + (m[9].toUpperCase() === 'PM' ? 12 : 0);
  }
  return fromParts({
    year,
    month: dayFirst ? fields.b : fields.a,
    day: dayFirst ? fields.a : fields.b,
    hour,
    minute: Number(m[6] ?? 0),
    second: m[7],
    fraction: m[8],
    zone: m[10],
  });
}

/** Milliseconds per unit of each epoch kind, and the magnitudes (1973–2100) that kind takes. */
const EPOCHS: { kind: DateKind; ms: number; min: number; max: number }[] = [
  { kind: 'epoch-s', ms: 1e3, min: 1e8, max: 4.1e9 },
  { kind: 'epoch-ms', ms: 1, min: 1e11, max: 4.1e12 },
  { kind: 'epoch-us', ms: 1e-3, min: 1e14, max: 4.1e15 },
  { kind: 'epoch-ns', ms: 1e-6, min: 1e17, max: 4.1e18 },
];

/** "2024-01-31 13:45:07.250" for a time in UTC: the time, seconds and milliseconds only where they are not 0. */
export function utcLabel(time: number): string {
  const d = new Date(time);
  let label = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const seconds = d.getUTCSeconds();
  const ms = d.getUTCMilliseconds();
  if (d.getUTCHours() !== 0 || d.getUTCMinutes() !== 0 || seconds !== 0 || ms !== 0) {
    label += ` ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
    if (seconds !== 0 || ms !== 0) label += `:${pad(seconds)}${ms === 0 ? '' : `.${pad(ms, 3)}`}`;
  }
  return label;
}

/** A cell read under `format`, or null when it does not fit. */
export function readDate(cell: string, format: DateFormat): ReadDate | null {
  switch (format.kind) {
    case 'iso':
      return readIso(cell);
    case 'dmy':
    case 'mdy':
      return readDayMonth(cell, format.kind === 'dmy');
    case 'year': {
      if (!/^\d{4}$/.test(cell)) return null;
      return { time: Date.UTC(Number(cell), 0, 1), label: cell };
    }
    case 'text': {
      // Only text with a digit and a separator: Date.parse reads "1" or "x 2" as dates too.
      if (!/\d/.test(cell) || !/[-/: .,]/.test(cell)) return null;
      const time = Date.parse(cell);
      if (Number.isNaN(time)) return null;
      const d = new Date(time);
      const local = Date.UTC(d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds());
      return { time, label: utcLabel(local) };
    }
    default: {
      const epoch = EPOCHS.find((e) => e.kind === format.kind)!;
      if (!/^\d+(\.\d+)?$/.test(cell)) return null;
      const value = Number(cell);
      if (value < epoch.min || value > epoch.max) return null;
      const time = value * epoch.ms;
      return { time, label: utcLabel(Math.round(time)) };
    }
  }
}

/** Whether the times only rise or only fall (equal neighbours allowed), ignoring missing ones. */
function monotonic(times: readonly number[]): boolean {
  let up = 0;
  let down = 0;
  for (let i = 1; i < times.length; i++) {
    if (times[i] > times[i - 1]) up++;
    else if (times[i] < times[i - 1]) down++;
  }
  return up === 0 || down === 0;
}

function readsAll(cells: readonly SampleCell[], format: DateFormat): ReadDate[] | null {
  const read: ReadDate[] = [];
  for (const cell of cells) {
    const date = readDate(cell.text, format);
    if (date === null) return null;
    read.push(date);
  }
  return read;
}

/**
 * A column's date format from its filled sample cells, or null when it holds no dates. A numeric
 * column is an epoch (seconds to nanoseconds) when every value lies in one epoch's range of
 * 1973–2100 and its name speaks of time or its values rise or fall steadily; a year when so named.
 * Day-first or month-first is decided by a field above 12, else by which reading keeps the rows in
 * order, else day-first for dots and dashes, month-first for slashes unless `decimalComma`.
 */
export function detectDateFormat(
  cells: readonly SampleCell[],
  name: string,
  numeric: boolean,
  decimalComma: boolean,
): DateFormat | null {
  const filled = cells.filter((cell) => cell.text !== '');
  if (filled.length === 0) return null;
  if (numeric) {
    if (YEAR_NAME.test(name)) {
      const years = readsAll(filled, { kind: 'year' });
      if (years?.every((y) => y.label >= '1000' && y.label <= '3000')) return { kind: 'year' };
    }
    for (const epoch of EPOCHS) {
      const format = { kind: epoch.kind };
      const read = readsAll(filled, format);
      if (read === null) continue;
      const steady = filled.length >= 3 && monotonic(read.map((r) => r.time));
      return TIME_HINT.test(name) || steady ? format : null;
    }
    return null;
  }
  if (readsAll(filled, { kind: 'iso' }) !== null) return { kind: 'iso' };
  const fields = filled.map((cell) => dayMonthFields(cell.text));
  if (fields.every((f) => f !== null)) {
    const firstOver12 = fields.some((f) => f!.a > 12);
    const secondOver12 = fields.some((f) => f!.b > 12);
    const candidates: DateFormat[] = [];
    if (!secondOver12) candidates.push({ kind: 'dmy' });
    if (!firstOver12) candidates.push({ kind: 'mdy' });
    const readable = candidates.filter((format) => readsAll(filled, format) !== null);
    if (readable.length === 1) return readable[0];
    if (readable.length === 2) {
      const ordered = readable.filter((format) => monotonic(readsAll(filled, format)!.map((r) => r.time)));
      if (ordered.length === 1) return ordered[0];
      const slash = fields[0]!.separator === '/';
      return { kind: slash && !decimalComma ? 'mdy' : 'dmy' };
    }
    return null;
  }
  return readsAll(filled, { kind: 'text' }) !== null ? { kind: 'text' } : null;
}

/** Whether the name says dates (for choosing among several date-like columns). */
export function isDateName(name: string): boolean {
  return DATE_NAME.test(name) || TIME_HINT.test(name);
}

/** The format in words for the file's summary: "day/month/year", "Unix seconds", … */
export const DATE_KIND_TEXT: Record<DateKind, string> = {
  iso: 'ISO dates',
  dmy: 'day-first dates',
  mdy: 'month-first dates',
  'epoch-s': 'Unix seconds',
  'epoch-ms': 'Unix milliseconds',
  'epoch-us': 'Unix microseconds',
  'epoch-ns': 'Unix nanoseconds',
  year: 'years',
  text: 'dates',
};
