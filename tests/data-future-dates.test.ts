// The dates of the rows after the data's end (src/data/futureDates.ts): by calendar months for
// monthly, quarterly and yearly rows, by the median step for any other regular spacing, and
// "<last> + k" where the dates follow none.

import { describe, expect, it } from 'vitest';
import { dateAhead, futureDates } from '../src/data/futureDates.js';

describe('futureDates', () => {
  it('goes on by months from monthly dates, across the year', () => {
    expect(futureDates(['2019-10-01', '2019-11-01', '2019-12-01'], 3)).toEqual([
      '2020-01-01',
      '2020-02-01',
      '2020-03-01',
    ]);
  });

  it('keeps a month-end a month-end, and a mid-month day where the month has it', () => {
    expect(futureDates(['2023-11-30', '2023-12-31', '2024-01-31'], 3)).toEqual([
      '2024-02-29',
      '2024-03-31',
      '2024-04-30',
    ]);
    expect(futureDates(['2024-01-15', '2024-02-15'], 2)).toEqual(['2024-03-15', '2024-04-15']);
  });

  it('goes on by quarters, by years and in the labels’ own form', () => {
    expect(futureDates(['2023-01-01', '2023-04-01', '2023-07-01'], 2)).toEqual(['2023-10-01', '2024-01-01']);
    expect(futureDates(['2021', '2022', '2023'], 2)).toEqual(['2024', '2025']);
    expect(futureDates(['2023-11', '2023-12'], 2)).toEqual(['2024-01', '2024-02']);
  });

  it('goes on by the step of daily, weekly and hourly rows', () => {
    expect(futureDates(['2024-02-27', '2024-02-28', '2024-02-29'], 2)).toEqual(['2024-03-01', '2024-03-02']);
    expect(futureDates(['2024-01-01', '2024-01-08', '2024-01-15'], 1)).toEqual(['2024-01-22']);
    expect(futureDates(['2024-01-31 22:00', '2024-01-31 23:00'], 2)).toEqual(['2024-02-01 00:00', '2024-02-01 01:00']);
    expect(futureDates(['2024-01-31 23:59:30', '2024-01-31 23:59:45'], 1)).toEqual(['2024-02-01 00:00:00']);
  });

  it('takes the median step, so a missing day or a weekend does not set it', () => {
    const weekdays = ['2024-01-01', '2024-01-02', '2024-01-03', '2024-01-04', '2024-01-05', '2024-01-08'];
    expect(futureDates(weekdays, 1)).toEqual(['2024-01-09']);
  });

  it('counts rows past the end where the dates have no step it can follow', () => {
    expect(futureDates(['Jan', 'Feb'], 2)).toEqual(['Feb + 1', 'Feb + 2']);
    expect(futureDates(['2024-01-01 10:00 +01:00', '2024-01-01 11:00 +01:00'], 1)).toEqual([
      '2024-01-01 11:00 +01:00 + 1',
    ]);
    expect(futureDates(['2024-01-01', '2024-01-01'], 1)).toEqual(['2024-01-01 + 1']);
    expect(futureDates(['2024-01-01'], 1)).toEqual(['2024-01-01 + 1']);
  });

  it('answers one row at a time as the whole list does', () => {
    const dates = ['2000-01-01', '2000-02-01', '2000-03-01'];
    expect([1, 2, 12].map((k) => dateAhead(dates, k))).toEqual(['2000-04-01', '2000-05-01', '2001-03-01']);
  });
});
