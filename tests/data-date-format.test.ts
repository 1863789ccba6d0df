// Dates as CSV files write them (src/data/dateFormat.ts): ISO with a time and a zone or without,
// day-first and month-first with slashes, dots or dashes, epoch seconds to nanoseconds, years, and
// text that Date.parse reads; property-based: a rising series written in any of these styles reads
// back as the same instants, in ISO labels.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DateFormat, detectDateFormat, readDate } from '../src/data/dateFormat.js';

const cells = (texts: string[]) => texts.map((text, i) => ({ row: i + 2, text }));

function readAll(
  texts: string[],
  name = 'date',
  numeric = false,
): { format: DateFormat; labels: string[]; times: number[] } {
  const format = detectDateFormat(cells(texts), name, numeric, false);
  if (format === null) throw new Error(`no date format for ${texts.join(', ')}`);
  const read = texts.map((text) => readDate(text, format));
  if (read.some((r) => r === null)) throw new Error('a cell did not read');
  return { format, labels: read.map((r) => r!.label), times: read.map((r) => r!.time) };
}

describe('date formats', () => {
  it('reads ISO dates, times and zones, labelled as written but with a space before the time', () => {
    const { format, labels, times } = readAll([
      '2024-01-31',
      '2024-01-31T13:45:00Z',
      '2024-01-31 13:45',
      '2024-01-31T14:45:07+01:00',
      '2024-01-31T13:45:07.250Z',
    ]);
    expect(format.kind).toBe('iso');
    expect(labels).toEqual([
      '2024-01-31',
      '2024-01-31 13:45:00',
      '2024-01-31 13:45',
      '2024-01-31 14:45:07 +01:00',
      '2024-01-31 13:45:07.250',
    ]);
    // The zone is honoured: 14:45:07 at +01:00 is 13:45:07 UTC.
    expect(times[3]).toBe(Date.UTC(2024, 0, 31, 13, 45, 7));
    expect(readAll(['2024-01', '2024-02']).labels).toEqual(['2024-01', '2024-02']);
    expect(readDate('2024-02-30', { kind: 'iso' })).toBeNull();
  });

  it('tells day-first from month-first by a field above 12, by the order of the rows, else by the separator', () => {
    expect(readAll(['31/01/2024', '01/02/2024']).format.kind).toBe('dmy');
    expect(readAll(['01/31/2024', '02/01/2024']).format.kind).toBe('mdy');
    expect(readAll(['31.01.2024', '01.02.2024']).labels).toEqual(['2024-01-31', '2024-02-01']);
    // All fields 12 or less: the reading that keeps the rows in order wins (3 Jan, 4 Jan, 5 Jan, 1 Feb).
    expect(readAll(['03/01/2024', '04/01/2024', '05/01/2024', '01/02/2024']).format.kind).toBe('dmy');
    expect(readAll(['01/03/2024', '01/04/2024', '01/05/2024', '02/01/2024']).format.kind).toBe('mdy');
    // Both in order: dots and dashes are day-first, slashes month-first.
    expect(readAll(['01.02.2024', '01.03.2024']).format.kind).toBe('dmy');
    expect(readAll(['01/02/2024', '01/03/2024']).format.kind).toBe('mdy');
    expect(readAll(['31/01/24 1:45 PM', '31/01/24 2:15 PM']).labels).toEqual(['2024-01-31 13:45', '2024-01-31 14:15']);
    // Day 31 first and month 13 second: neither.
    expect(detectDateFormat(cells(['31/01/2024', '01/13/2024']), 'date', false, false)).toBeNull();
  });

  it('recognises epoch seconds, milliseconds, microseconds and nanoseconds in a numeric column', () => {
    const t = Date.UTC(2024, 0, 31, 13, 45);
    const series = (scale: number) => [0, 60, 120].map((s) => String((t / 1000 + s) * scale));
    expect(readAll(series(1), 'timestamp', true).format.kind).toBe('epoch-s');
    expect(readAll(series(1e3), 'time', true).format.kind).toBe('epoch-ms');
    expect(readAll(series(1e6), 'ts', true).format.kind).toBe('epoch-us');
    expect(readAll(series(1e3), 'created_at', true).labels).toEqual([
      '2024-01-31 13:45',
      '2024-01-31 13:46',
      '2024-01-31 13:47',
    ]);
    // Unnamed, a steadily rising column in range is a time too; a price in that range is not.
    expect(readAll(series(1), 'x', true).format.kind).toBe('epoch-s');
    expect(detectDateFormat(cells(['1700000000', '1600000000', '1800000000']), 'volume', true, false)).toBeNull();
    expect(detectDateFormat(cells(['101.5', '102.25', '99']), 'price', true, false)).toBeNull();
    expect(readAll(['1999', '2000', '2001'], 'Year', true).labels).toEqual(['1999', '2000', '2001']);
  });

  it('reads other text dates through Date.parse, and leaves text alone', () => {
    expect(readAll(['Jan 1 2000', 'Feb 1 2000']).labels).toEqual(['2000-01-01', '2000-02-01']);
    expect(detectDateFormat(cells(['abc', 'def']), 'name', false, false)).toBeNull();
    expect(detectDateFormat(cells(['Q1 2024', 'Q2 2024']), 'quarter', false, false)).toBeNull();
  });
});

type Style =
  | 'iso-date'
  | 'iso-z'
  | 'iso-space'
  | 'dmy-slash'
  | 'mdy-slash'
  | 'dmy-dot'
  | 'epoch-s'
  | 'epoch-ms'
  | 'epoch-us';

function write(time: number, style: Style): string {
  const d = new Date(time);
  const p = (n: number) => String(n).padStart(2, '0');
  const [y, m, day, h, min] = [
    d.getUTCFullYear(),
    p(d.getUTCMonth() + 1),
    p(d.getUTCDate()),
    p(d.getUTCHours()),
    p(d.getUTCMinutes()),
  ];
  switch (style) {
    case 'iso-date':
      return `${y}-${m}-${day}`;
    case 'iso-z':
      return d.toISOString();
    case 'iso-space':
      return `${y}-${m}-${day} ${h}:${min}`;
    case 'dmy-slash':
      return `${day}/${m}/${y} ${h}:${min}`;
    case 'mdy-slash':
      return `${m}/${day}/${y} ${h}:${min}`;
    case 'dmy-dot':
      return `${day}.${m}.${y}`;
    case 'epoch-s':
      return String(time / 1000);
    case 'epoch-ms':
      return String(time);
    case 'epoch-us':
      return String(time * 1000);
  }
}

describe('date formats (property-based)', () => {
  it('reads the common ISO shapes to the time Date.UTC gives, in any order of days (its one-day memory)', () => {
    const pad = (n: number, width = 2) => String(n).padStart(width, '0');
    const fields = fc.record({
      year: fc.integer({ min: 0, max: 9999 }),
      month: fc.integer({ min: 1, max: 12 }),
      day: fc.integer({ min: 1, max: 28 }),
      hour: fc.integer({ min: 0, max: 23 }),
      minute: fc.integer({ min: 0, max: 59 }),
      second: fc.integer({ min: 0, max: 59 }),
      shape: fc.constantFrom('date', 'T', ' ', 'T:ss', ' :ss'),
    });
    fc.assert(
      fc.property(fc.array(fields, { minLength: 1, maxLength: 8 }), (dates) => {
        for (const d of dates) {
          const date = `${pad(d.year, 4)}-${pad(d.month)}-${pad(d.day)}`;
          const withSeconds = d.shape.endsWith(':ss');
          const cell =
            d.shape === 'date'
              ? date
              : `${date}${d.shape[0]}${pad(d.hour)}:${pad(d.minute)}${withSeconds ? `:${pad(d.second)}` : ''}`;
          const read = readDate(cell, { kind: 'iso' });
          const time =
            d.shape === 'date'
              ? Date.UTC(d.year, d.month - 1, d.day)
              : Date.UTC(d.year, d.month - 1, d.day, d.hour, d.minute, withSeconds ? d.second : 0);
          expect(read).toEqual({ time, label: cell.replace('T', ' ') });
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('reads back a rising series of at least 20 days written in any style', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Style>(
          'iso-date',
          'iso-z',
          'iso-space',
          'dmy-slash',
          'mdy-slash',
          'dmy-dot',
          'epoch-s',
          'epoch-ms',
          'epoch-us',
        ),
        fc.integer({ min: Date.UTC(1975, 0, 1) / 60_000, max: Date.UTC(2090, 0, 1) / 60_000 }),
        fc.integer({ min: 20, max: 60 }),
        fc.boolean(),
        (style, startMinute, days, newestFirst) => {
          const dateOnly = style === 'iso-date' || style === 'dmy-dot';
          const start = dateOnly ? Math.floor(startMinute / 1440) * 86_400_000 : startMinute * 60_000;
          const times = Array.from({ length: days }, (_, i) => start + i * 86_400_000);
          if (newestFirst) times.reverse();
          const texts = times.map((t) => write(t, style));
          const numeric = style.startsWith('epoch');
          const { times: read } = readAll(texts, 'when', numeric);
          expect(read).toEqual(times);
        },
      ),
      { numRuns: 500 },
    );
  });
});
