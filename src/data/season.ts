// The seasonal period of a series, in rows, when the data says what it is: from the spacing of its
// dates (monthly rows repeat every 12, quarterly every 4, weekly every 52, daily every 7, hourly every
// 24), or from a generated wave's own period. A person may set another (the `season` setting).

import type { SeriesSpec } from './generators.js';

const DAY_MS = 86_400_000;

/** Median spacing in days → rows per season; spacings are matched within these bounds. */
const SEASONS: { minDays: number; maxDays: number; period: number; name: string }[] = [
  { minDays: 0.9 / 24, maxDays: 1.1 / 24, period: 24, name: 'hourly' },
  { minDays: 0.9, maxDays: 1.1, period: 7, name: 'daily' },
  { minDays: 6.5, maxDays: 7.5, period: 52, name: 'weekly' },
  { minDays: 27.5, maxDays: 31.5, period: 12, name: 'monthly' },
  { minDays: 88, maxDays: 93, period: 4, name: 'quarterly' },
];

/** Milliseconds since 1970 for an ISO date (yyyy-mm-dd, optionally with a time), else NaN. */
function dateMs(text: string): number {
  return /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)
    ? Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text.replace(' ', 'T'))
    : Number.NaN;
}

/** What a season search found: the period in rows and its name ("monthly"). */
export type FoundSeason = { period: number; name: string } | null;

/**
 * Seasons already found, by the dates list itself (a list is never changed once read): the page asks
 * for a large file's season more than once (its defaults, every preview), and the CSV worker finds it
 * where the page need not (rememberSeason), so a list of 400,000 dates is read once, off the page.
 */
const found = new WeakMap<readonly string[], FoundSeason>();

/** The season the dates' spacing implies, with its name ("monthly"), or null (no dates, irregular, yearly). */
export function seasonFromDates(dates: readonly string[] | undefined | null): FoundSeason {
  if (!dates || dates.length < 3) return null;
  let season = found.get(dates);
  if (season === undefined) {
    season = searchSeason(dates);
    found.set(dates, season);
  }
  return season;
}

/** Records the season seasonFromDates found for a list elsewhere (in the CSV worker, on the same dates). */
export function rememberSeason(dates: readonly string[], season: FoundSeason): void {
  found.set(dates, season);
}

function searchSeason(dates: readonly string[]): FoundSeason {
  const gaps = new Float64Array(dates.length - 1);
  let previous = dateMs(dates[0]);
  for (let r = 1; r < dates.length; r++) {
    const current = dateMs(dates[r]);
    if (!Number.isFinite(previous) || !Number.isFinite(current)) return null;
    gaps[r - 1] = (current - previous) / DAY_MS;
    previous = current;
  }
  gaps.sort();
  const median = gaps[Math.floor(gaps.length / 2)];
  const match = SEASONS.find((s) => median >= s.minDays && median <= s.maxDays);
  return match ? { period: match.period, name: match.name } : null;
}

/** A generated wave's own period (square, sawtooth), or null (the sine's is not a whole number of rows). */
export function seasonOfSeries(spec: SeriesSpec): number | null {
  return spec.kind === 'square' || spec.kind === 'sawtooth' ? spec.period : null;
}
