// Real series shipped with the app, from the vega-datasets package (BSD-3-Clause), so nothing is
// fetched at run time:
//   stocks  monthly closing prices Jan 2000 – Mar 2010 of AAPL, AMZN, IBM, MSFT (123 months) and
//           GOOG (from Aug 2004, 68 months); a long table symbol,date,price, one symbol picked
//   sp500   the S&P 500 index, monthly, Jan 2000 – Mar 2010 (123 months)
//   co2     CO2 at Mauna Loa in ppm, monthly, Mar 1958 – Apr 2020 (741 months; a few are missing in
//           the source), as measured ("CO2") and seasonally adjusted ("adjusted CO2")
// Dates come back as ISO yyyy-mm-dd.
//
// The package's `exports` map exposes only its JavaScript entry, not data/, so the files are
// imported by their path under node_modules: `?raw` gives their text in Vite, Vitest and the CLI
// (scripts/register-raw.mjs) alike.

import co2Csv from '../../node_modules/vega-datasets/data/co2-concentration.csv?raw';
import sp500Csv from '../../node_modules/vega-datasets/data/sp500.csv?raw';
import stocksCsv from '../../node_modules/vega-datasets/data/stocks.csv?raw';
import { describeValue, InputError } from '../model/errors.js';
import { BUNDLED_NAMES, type BundledName, CO2_COLUMNS, STOCK_SYMBOLS, type StockSymbol } from './bundledNames.js';
import { type CsvTable, parseCsvText } from './csv.js';

export {
  BUNDLED_NAMES,
  BUNDLED_UNITS,
  type BundledName,
  CO2_COLUMNS,
  STOCK_SYMBOLS,
  type StockSymbol,
} from './bundledNames.js';

export interface BundledOptions {
  /** stocks only: which company; default 'AAPL'. */
  symbol?: StockSymbol;
  /** co2 only: which of the two columns, in order; default ['CO2']. */
  columns?: (typeof CO2_COLUMNS)[number][];
}

/** A bundled series as a table with one value column per series and ISO dates. */
export function loadBundledSeries(name: BundledName, options: BundledOptions = {}): CsvTable {
  let table: CsvTable;
  switch (name) {
    case 'stocks': {
      const symbol = options.symbol ?? 'AAPL';
      if (!STOCK_SYMBOLS.includes(symbol)) {
        throw new InputError('symbol', `expected one of ${STOCK_SYMBOLS.join(', ')}, got ${describeValue(symbol)}`);
      }
      table = parseCsvText(stocksCsv, {
        field: 'stocks.csv',
        valueColumns: ['price'],
        dateColumn: 'date',
        filter: { column: 'symbol', value: symbol },
      });
      break;
    }
    case 'sp500':
      table = parseCsvText(sp500Csv, { field: 'sp500.csv', valueColumns: ['price'], dateColumn: 'date' });
      break;
    case 'co2': {
      const columns = options.columns ?? ['CO2'];
      if (!Array.isArray(columns) || columns.some((c) => !CO2_COLUMNS.includes(c))) {
        throw new InputError(
          'columns',
          `expected some of ${CO2_COLUMNS.map((c) => JSON.stringify(c)).join(', ')}, got ${describeValue(columns)}`,
        );
      }
      table = parseCsvText(co2Csv, { field: 'co2-concentration.csv', valueColumns: columns, dateColumn: 'Date' });
      break;
    }
    default:
      throw new InputError('dataset', `expected one of ${BUNDLED_NAMES.join(', ')}, got ${describeValue(name)}`);
  }
  if (table.dates) table.dates = table.dates.map(isoDate);
  return table;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "Jan 1 2000" (stocks.csv, sp500.csv) → "2000-01-01"; ISO dates pass through. */
export function isoDate(text: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return text;
  const match = /^([A-Z][a-z]{2}) (\d{1,2}) (\d{4})$/.exec(text);
  const month = match ? MONTHS.indexOf(match[1]) : -1;
  if (!match || month < 0) throw new Error(`unexpected date ${JSON.stringify(text)} in a bundled series`);
  return `${match[3]}-${String(month + 1).padStart(2, '0')}-${match[2].padStart(2, '0')}`;
}
