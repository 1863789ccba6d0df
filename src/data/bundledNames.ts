// The names of the series bundled with the project (bundled.ts reads them), on their own so that the
// settings table and the library can name them without pulling in the CSV files and their parser.

export const BUNDLED_NAMES = ['stocks', 'sp500', 'co2'] as const;
export type BundledName = (typeof BUNDLED_NAMES)[number];

export const STOCK_SYMBOLS = ['AAPL', 'AMZN', 'GOOG', 'IBM', 'MSFT'] as const;
export type StockSymbol = (typeof STOCK_SYMBOLS)[number];

export const CO2_COLUMNS = ['CO2', 'adjusted CO2'] as const;

/** Each bundled series' unit, for errors stated in it. */
export const BUNDLED_UNITS: Record<BundledName, string> = { stocks: '$', sp500: 'points', co2: 'ppm' };
