// The bundled real series: each loads from the vega-datasets files with the expected symbols, row
// counts and date ranges, under Vite (this test) and under the CLI's Node loader.

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BUNDLED_NAMES, isoDate, loadBundledSeries, STOCK_SYMBOLS } from '../src/data/bundled.js';
import { prepareData } from '../src/data/prepare.js';
import { InputError } from '../src/model/errors.js';
import { repoRoot } from './helpers.js';

/** Months from one ISO date to the next. */
function monthSteps(dates: string[]): number[] {
  const month = (d: string) => Number(d.slice(0, 4)) * 12 + Number(d.slice(5, 7));
  return dates.slice(1).map((d, i) => month(d) - month(dates[i]));
}

describe('bundled series', () => {
  it('has monthly prices 2000–2010 for each stock symbol', () => {
    const counts: Record<string, number> = {};
    for (const symbol of STOCK_SYMBOLS) {
      const table = loadBundledSeries('stocks', { symbol });
      counts[symbol] = table.rows;
      expect(table.columns).toEqual(['price']);
      expect(table.dateColumn).toBe('date');
      expect(table.dates).toHaveLength(table.rows);
      expect(table.dates!.at(-1)).toBe('2010-03-01');
      expect(table.dates![0]).toBe(symbol === 'GOOG' ? '2004-08-01' : '2000-01-01');
      expect(new Set(monthSteps(table.dates!))).toEqual(new Set([1]));
      expect(table.values[0].every((v) => v > 0 && v < 1000)).toBe(true);
      expect(table.dropped.count).toBe(0);
    }
    expect(counts).toEqual({ AAPL: 123, AMZN: 123, GOOG: 68, IBM: 123, MSFT: 123 });
    // Spot values straight from stocks.csv.
    expect(loadBundledSeries('stocks', { symbol: 'MSFT' }).values[0][0]).toBe(39.81);
    expect(loadBundledSeries('stocks').values[0][0]).toBe(25.94); // AAPL is the default
  });

  it('has the S&P 500, monthly Jan 2000 – Mar 2010', () => {
    const table = loadBundledSeries('sp500');
    expect(table.rows).toBe(123);
    expect(table.dates![0]).toBe('2000-01-01');
    expect(table.dates!.at(-1)).toBe('2010-03-01');
    expect(new Set(monthSteps(table.dates!))).toEqual(new Set([1]));
    expect(table.values[0][0]).toBe(1394.46);
    expect(table.values[0].at(-1)).toBe(1140.45);
  });

  it('has CO2 at Mauna Loa, monthly 1958–2020, measured and adjusted', () => {
    const table = loadBundledSeries('co2', { columns: ['CO2', 'adjusted CO2'] });
    expect(table.rows).toBe(741);
    expect(table.columns).toEqual(['CO2', 'adjusted CO2']);
    expect(table.dates![0]).toBe('1958-03-01');
    expect(table.dates!.at(-1)).toBe('2020-04-01');
    expect(monthSteps(table.dates!).every((step) => step >= 1)).toBe(true);
    for (const column of table.values) expect(column.every((v) => v > 300 && v < 430)).toBe(true);
    expect(table.values[0][0]).toBe(315.7);
    expect(loadBundledSeries('co2').columns).toEqual(['CO2']);
  });

  it('goes through prepareData like any table', () => {
    for (const name of BUNDLED_NAMES) {
      const table = loadBundledSeries(name);
      const prepared = prepareData(table, { inputs: [0], outputs: [0], window: 12 });
      expect(prepared.train.count + prepared.test!.count).toBe(table.rows - 12);
    }
  });

  it('refuses unknown names and options with the field named', () => {
    const field = (run: () => unknown) => {
      try {
        run();
      } catch (err) {
        if (err instanceof InputError) return err.field;
        throw err;
      }
      return 'no error';
    };
    expect(field(() => loadBundledSeries('ftse' as 'sp500'))).toBe('dataset');
    expect(field(() => loadBundledSeries('stocks', { symbol: 'TSLA' as 'AAPL' }))).toBe('symbol');
    expect(field(() => loadBundledSeries('co2', { columns: ['CH4' as 'CO2'] }))).toBe('columns');
    expect(isoDate('Feb 1 2004')).toBe('2004-02-01');
    expect(() => isoDate('1 Feb 2004')).toThrow();
  });

  it('loads under the Node loader the CLI uses (scripts/register-raw.mjs)', () => {
    const script = [
      "import { loadBundledSeries } from './src/data/bundled.ts';",
      "const t = loadBundledSeries('stocks', { symbol: 'IBM' });",
      'console.log(JSON.stringify({ rows: t.rows, first: t.dates[0], last: t.dates.at(-1) }));',
    ].join('\n');
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--import', './scripts/register-raw.mjs', '--input-type=module', '-e', script],
      { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 },
    );
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ rows: 123, first: '2000-01-01', last: '2010-03-01' });
  });
});
