// CSV reading: detection (delimiter, header, date column), every kind of bad input from issue 7 with
// the row and column named, the drop policy, property-based round trips and fuzzing, a 50 MB file
// through the chunked path without blocking the event loop for long, and files as brokers,
// spreadsheets in other locales and logging tools write them (issue 13).

import fc from 'fast-check';
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import {
  type CsvDelimiter,
  CsvError,
  type CsvOptions,
  type CsvTable,
  checkValueColumns,
  MAX_CELL_CHARS,
  MAX_CSV_COLUMNS,
  parseCsv,
  parseCsvText,
  plainRecords,
} from '../src/data/csv.js';
import { isDecimal, readShortDecimal } from '../src/data/decimal.js';
import { windowTable } from '../src/data/windows.js';
import { InputError } from '../src/model/errors.js';
import { inputErrorOf } from './helpers.js';
import { minuteBarsCsv } from './large-csv.js';

function csvErrorOf(text: string, options?: CsvOptions): CsvError {
  try {
    parseCsvText(text, options);
  } catch (err) {
    if (err instanceof CsvError) return err;
    throw err;
  }
  throw new Error('expected a CsvError');
}

const values = (table: CsvTable) => table.values.map((column) => Array.from(column));

/** A fuzzed text gives a table of finite values and at least two rows, or an InputError; nothing else. */
function expectTableOrInputError(text: string, options: CsvOptions): void {
  try {
    const table = parseCsvText(text, options);
    expect(table.rows).toBeGreaterThanOrEqual(2);
    for (const column of table.values) expect(column.every(Number.isFinite)).toBe(true);
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
  }
}

describe('CSV detection', () => {
  it('detects comma, semicolon and tab delimiters and the header row', () => {
    for (const delimiter of [',', ';', '\t'] as const) {
      const text =
        ['date', 'open', 'close'].join(delimiter) +
        '\n' +
        ['2020-01-01', '1.5', '2'].join(delimiter) +
        '\n' +
        ['2020-01-02', '-3', '4e2'].join(delimiter);
      const table = parseCsvText(text);
      expect(table.delimiter).toBe(delimiter);
      expect(table.header).toBe(true);
      expect(table.allColumns).toEqual(['date', 'open', 'close']);
      expect(table.columns).toEqual(['open', 'close']);
      expect(table.dateColumn).toBe('date');
      expect(table.dates).toEqual(['2020-01-01', '2020-01-02']);
      expect(values(table)).toEqual([
        [1.5, -3],
        [2, 400],
      ]);
    }
  });

  it('reads a file without a header, naming the columns by position', () => {
    const table = parseCsvText('1;2\n3;4\n5;6\n');
    expect(table.header).toBe(false);
    expect(table.columns).toEqual(['column 1', 'column 2']);
    expect(values(table)).toEqual([
      [1, 3, 5],
      [2, 4, 6],
    ]);
    // The caller can overrule the detection.
    const forced = parseCsvText('1;2\n3;4\n5;6\n', { header: true });
    expect(forced.columns).toEqual(['1', '2']);
    expect(forced.rows).toBe(2);
  });

  it('strips a byte-order mark and reads CRLF and CR line ends', () => {
    for (const text of ['\ufeffx,y\r\n1,2\r\n3,4\r\n', 'x,y\r1,2\r3,4\r', '\ufeffx,y\n1,2\n3,4']) {
      const table = parseCsvText(text);
      expect(table.columns).toEqual(['x', 'y']);
      expect(values(table)).toEqual([
        [1, 3],
        [2, 4],
      ]);
    }
  });

  it('finds a date column by its name or by its values, and takes every other numeric column', () => {
    const byValue = parseCsvText('when,temp,site\nJan 1 2000,1,a\nFeb 1 2000,2,b\n');
    expect(byValue.dateColumn).toBe('when');
    expect(byValue.columns).toEqual(['temp']);
    // Dates read in any format are labelled in ISO form.
    expect(byValue.dates).toEqual(['2000-01-01', '2000-02-01']);
    const none = parseCsvText('a,b\n1,2\n3,4\n');
    expect(none.dateColumn).toBeNull();
    expect(none.dates).toBeUndefined();
    const off = parseCsvText('Date,v\n2020-01-01,1\n2020-01-02,2\n', { dateColumn: null });
    expect(off.dateColumn).toBeNull();
  });

  it('takes chosen value columns by name or index, in the order given', () => {
    const text = 'a,b,c\n1,2,3\n4,5,6\n';
    expect(parseCsvText(text, { valueColumns: ['c', 0] }).columns).toEqual(['c', 'a']);
    expect(values(parseCsvText(text, { valueColumns: [1] }))).toEqual([[2, 5]]);
    expect(inputErrorOf(() => parseCsvText(text, { valueColumns: ['d'] })).field).toBe('valueColumns[0]');
    expect(inputErrorOf(() => parseCsvText(text, { valueColumns: [3] })).field).toBe('valueColumns[0]');
    expect(inputErrorOf(() => parseCsvText(text, { valueColumns: [] })).field).toBe('valueColumns');
    expect(inputErrorOf(() => parseCsvText(text, { valueColumns: ['a', 0] })).field).toBe('valueColumns');
    expect(inputErrorOf(() => parseCsvText(text, { dateColumn: 'zz' })).field).toBe('dateColumn');
    // Choosing the would-be date column as values turns the guess off; saying it is the date refuses.
    const dated = 'Date,v\n2020-01-01,1\n2020-01-02,2\n';
    expect(csvErrorOf(dated, { valueColumns: ['Date'] }).column).toBe('Date');
    expect(inputErrorOf(() => parseCsvText(dated, { valueColumns: ['Date'], dateColumn: 'Date' })).field).toBe(
      'valueColumns',
    );
  });

  it('keeps the rows of one key in a long table', () => {
    const text = 'symbol,date,price\nA,Jan 1 2000,1\nB,Jan 1 2000,10\nA,Feb 1 2000,2\nB,Feb 1 2000,20\n';
    const table = parseCsvText(text, { filter: { column: 'symbol', value: 'B' } });
    expect(table.columns).toEqual(['price']);
    expect(values(table)).toEqual([[10, 20]]);
    expect(table.dates).toEqual(['2000-01-01', '2000-02-01']);
    const err = inputErrorOf(() => parseCsvText(text, { filter: { column: 'symbol', value: 'C' } }));
    expect(err.field).toBe('filter.value');
    expect(err.message).toContain('values seen: "A", "B"');
  });

  it('reads quoted fields and decimal commas when asked', () => {
    const quoted = parseCsvText('"name, with comma",v\n"1.5","2"\n"3",4\n');
    expect(quoted.allColumns).toEqual(['name, with comma', 'v']);
    expect(values(quoted)).toEqual([
      [1.5, 3],
      [2, 4],
    ]);
    const european = parseCsvText('a;b\n1,5;2\n3;4,25\n', { decimal: ',' });
    expect(values(european)).toEqual([
      [1.5, 3],
      [2, 4.25],
    ]);
    // Quoted, a decimal comma is fine with comma delimiters too; an unknown mark is refused by name.
    expect(values(parseCsvText('a,b\n"1,5",2\n3,"4,25"\n', { decimal: ',' }))).toEqual([
      [1.5, 3],
      [2, 4.25],
    ]);
    expect(inputErrorOf(() => parseCsvText('a;b\n1;2\n', { decimal: ';' as ',' })).field).toBe('decimal');
  });

  it('keeps header text as plain strings: markup and prototype names are just names', () => {
    const table = parseCsvText('<img src=x onerror=alert(1)>,__proto__,constructor\n1,2,3\n4,5,6\n');
    expect(table.columns).toEqual(['<img src=x onerror=alert(1)>', '__proto__', 'constructor']);
    expect(values(table)).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    expect(Object.getPrototypeOf(table)).toBe(Object.prototype);
  });

  it('names blank and repeated header cells apart', () => {
    const table = parseCsvText('x,,x,x\n1,2,3,4\n5,6,7,8\n');
    expect(table.columns).toEqual(['x', 'column 2', 'x (2)', 'x (3)']);
  });
});

describe('CSV bad input (issue 7)', () => {
  it('refuses an empty file', () => {
    for (const text of ['', '\ufeff', '  \n\r\n  ']) {
      const err = csvErrorOf(text);
      expect(err.field).toBe('csv');
      expect(err.message).toMatch(/empty/);
    }
    expect(csvErrorOf('', { field: 'prices.csv' }).message).toBe('prices.csv: the file is empty');
  });

  it('refuses a header with no rows, and a single row', () => {
    expect(csvErrorOf('date,price\n').message).toMatch(/header row but no data rows/);
    expect(csvErrorOf('date,price\n2000-01-01,5\n').message).toMatch(/only 1 data row/);
    expect(csvErrorOf('42').message).toMatch(/only 1 data row/);
  });

  it('reads a series shorter than the window but windowing it names the window', () => {
    const table = parseCsvText('v\n1\n2\n3\n');
    const err = inputErrorOf(() => windowTable(table, { inputs: [0], outputs: [0], window: 5 }));
    expect(err.field).toBe('window');
    expect(err.message).toMatch(/3 rows give no window of 5.*at most 2/);
  });

  it('refuses a non-numeric, missing, NaN or infinite value, naming the row and column', () => {
    const cases: [string, string][] = [
      ['abc', 'expected a number, got "abc"'],
      ['', 'the value is missing'],
      ['NaN', 'expected a finite number, got "NaN"'],
      ['Infinity', 'expected a finite number'],
      ['-inf', 'expected a finite number'],
      ['1e400', 'beyond the range of 32-bit floats'],
      ['1e39', 'beyond the range of 32-bit floats'],
      ['0x10', 'expected a number'],
      // Thousands separators in groups of three only.
      ['1,23,4', 'expected a number'],
    ];
    for (const [cell, reason] of cases) {
      const text = `date,a,b\n2000-01-01,1,2\n2000-01-02,3,"${cell}"\n2000-01-03,5,6\n`;
      const err = csvErrorOf(text);
      expect(err.row).toBe(3);
      expect(err.column).toBe('b');
      expect(err.field).toBe('csv');
      expect(err.message).toMatch(/^csv: row 3, column "b": /);
      expect(err.message).toContain(reason);
    }
  });

  it('drops rows with problems when asked and reports each with row, column and value', () => {
    const text = 'date,a,b\n2000-01-01,1,2\n2000-01-02,x,4\n\n2000-01-04,5,NaN\n,7,8\n2000-01-06,9,10\n';
    const table = parseCsvText(text, { missing: 'drop' });
    expect(values(table)).toEqual([
      [1, 9],
      [2, 10],
    ]);
    expect(table.dates).toEqual(['2000-01-01', '2000-01-06']);
    expect(table.dropped.count).toBe(3);
    expect(table.dropped.rows).toEqual([
      { row: 3, column: 'a', value: 'x', reason: 'expected a number, got "x"' },
      { row: 5, column: 'b', value: 'NaN', reason: 'expected a finite number, got "NaN"' },
      { row: 6, column: 'date', value: '', reason: 'the date is missing' },
    ]);
    // Refusing stops at the first.
    expect(csvErrorOf(text).row).toBe(3);
    // Dropping everything is still an error.
    const allBad = csvErrorOf('a\nx\ny\n', { header: true, valueColumns: ['a'], missing: 'drop' });
    expect(allBad.message).toMatch(/all 2 data rows were dropped/);
  });

  it('keeps the last rows with missing values as the data’s future when asked, the rest as missing says', () => {
    const text = 'date,temp,load\n2000-01-01,1,10\n2000-02-01,2,NA\n2000-03-01,3,30\n2000-04-01,4,\n2000-05-01,,\n';
    // Row 3's load is missing before the last rows: refused, or dropped.
    expect(csvErrorOf(text, { futureRows: true }).message).toBe(
      'csv: row 3, column "load": the value is missing, and the row is not among the last rows (the data’s future)',
    );
    const table = parseCsvText(text, { futureRows: true, missing: 'drop' });
    expect(values(table)).toEqual([
      [1, 3],
      [10, 30],
    ]);
    expect(table.dates).toEqual(['2000-01-01', '2000-03-01']);
    expect(table.dropped.rows.map((d) => [d.row, d.column])).toEqual([[3, 'load']]);
    expect(table.future?.columns).toEqual(['temp', 'load']);
    expect(table.future?.values.map((column) => Array.from(column))).toEqual([
      [4, Number.NaN],
      [Number.NaN, Number.NaN],
    ]);
    expect(table.future?.dates).toEqual(['2000-04-01', '2000-05-01']);
    // Without the option the last rows are as any other: refused at the first missing value.
    expect(csvErrorOf(text.replace('NA', '20')).row).toBe(5);
    expect(parseCsvText(text.replace('NA', '20'), { missing: 'drop' }).future).toBeNull();
  });

  it('finds the future at the end of a file that runs newest first, and needs two rows before it', () => {
    const text = 'date,temp,load\n2000-04-01,4,\n2000-03-01,3,30\n2000-02-01,2,20\n';
    const table = parseCsvText(text, { futureRows: true });
    expect(table.reversedBy).toBe('date');
    expect(values(table)).toEqual([
      [2, 3],
      [20, 30],
    ]);
    expect(table.future?.dates).toEqual(['2000-04-01']);
    expect(csvErrorOf('a,b\n1,2\n3,\n4,\n', { futureRows: true }).message).toMatch(
      /1 data row before the 2 at the end with missing values \(the data's future\); a series needs at least 2/,
    );
  });

  it('reports mixed delimiters at the row that differs', () => {
    const err = csvErrorOf('a;b\n1;2\n3;4\n5,6\n7;8\n');
    expect(err.row).toBe(4);
    expect(err.message).toMatch(
      /has 1 field but the header has 2; is the delimiter mixed\? \(reading with semicolons\)/,
    );
    const commaFirst = csvErrorOf('a,b\n1,2\n3;4\n');
    expect(commaFirst.row).toBe(3);
  });

  it('refuses an unterminated quote', () => {
    const err = csvErrorOf('a,b\n1,2\n"3,4\n5,6\n');
    expect(err.message).toMatch(/row 3: .*unterminated.*check the quotes/i);
    expect(csvErrorOf('a,b\n\n1,2\n"3,4\n5,6\n').row).toBe(4);
    // Far into a file (past the rows sampled for detection) it is the full parse that reports it.
    const long = `a,b\n${'1,2\n'.repeat(30_000)}"3,4\n5,6\n`;
    expect(csvErrorOf(long).row).toBe(30_002);
  });

  it('refuses a file over the size limit, before reading it', async () => {
    expect(csvErrorOf('a\n1\n2\n', { maxBytes: 4 }).message).toMatch(/more than the/);
    await expect(parseCsv(new Blob(['a\n1\n2\n']), { maxBytes: 4 })).rejects.toThrow(CsvError);
  });

  it('refuses bad options with the option named', () => {
    const text = 'a\n1\n2\n';
    expect(inputErrorOf(() => parseCsvText(text, { missing: 'skip' as 'drop' })).field).toBe('missing');
    expect(inputErrorOf(() => parseCsvText(text, { delimiter: ':' as ',' })).field).toBe('delimiter');
    expect(inputErrorOf(() => parseCsvText(text, { header: 'yes' as 'auto' })).field).toBe('header');
  });

  it('fails only with InputErrors on arbitrary text (fuzz)', () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.constantFrom('a', '1', '2', '.', '-', 'e', ',', ';', '\t', '"', '\n', '\r', ' ', '\ufeff', 'N'),
        }),
        fc.constantFrom<'refuse' | 'drop'>('refuse', 'drop'),
        (text, missing) => expectTableOrInputError(text, { missing }),
      ),
      { numRuns: 2000 },
    );
  });
});

describe('CSV hostile input (issue 14)', () => {
  it('refuses a 300,000-digit cell ending in x at once, naming row, column and the limit', () => {
    // Before: a backtracking number pattern took time quadratic in the cell (96 s in the CLI).
    const text = `a,b\n1,2\n3,${'9'.repeat(300_000)}x\n5,6\n`;
    const t0 = performance.now();
    const err = csvErrorOf(text);
    const seconds = (performance.now() - t0) / 1000;
    expect(err.message).toBe(
      `csv: row 3, column "b": the cell holds 300,001 characters; a value or date may have at most ${MAX_CELL_CHARS.toLocaleString('en-US')}`,
    );
    expect(err.row).toBe(3);
    expect(err.column).toBe('b');
    // A bound a hundred times what it takes, far below what quadratic time costs: it fails a regression, not a slow machine.
    expect(seconds).toBeLessThan(2);
  });

  it('refuses a too-long date cell the same way, and drops such rows when asked', () => {
    const long = `2020-01-0${'1'.repeat(MAX_CELL_CHARS)}`;
    const text = `date,v\n2020-01-01,1\n${long},2\n2020-01-03,3\n2020-01-04,4\n`;
    expect(csvErrorOf(text, { dateColumn: 'date' }).message).toMatch(
      /row 3, column "date": the cell holds 1,009 characters/,
    );
    const table = parseCsvText(text, { dateColumn: 'date', missing: 'drop' });
    expect(table.rows).toBe(3);
    expect(table.dropped.rows[0]).toMatchObject({ row: 3, column: 'date' });
  });

  it('recognises numbers in one pass exactly as the plain-decimal pattern does (property-based)', () => {
    const pattern = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
    const pieces = fc.constantFrom('1', '0', '9', '.', ',', 'e', 'E', '+', '-', 'x', ' ', '');
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 12 }), (parts) => {
        const cell = parts.join('');
        expect(isDecimal(cell)).toBe(pattern.test(cell));
        expect(isDecimal(cell, ',')).toBe(pattern.test(cell.replace(',', '.')) && !cell.includes('.'));
      }),
      { numRuns: 2000 },
    );
  });

  it('reads short plain decimals in place to the same double as Number(), and leaves the rest to it (property-based)', () => {
    const digits = (max: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: max });
    const decimal = fc
      .tuple(fc.constantFrom('', '+', '-'), digits(17), fc.boolean(), digits(17))
      .map(([sign, whole, point, fraction]) => `${sign}${whole}${point ? '.' : ''}${fraction}`);
    const anything = fc.string({ unit: fc.constantFrom(...'0123456789.+-eE x'), maxLength: 20 });
    fc.assert(
      fc.property(fc.oneof(decimal, anything), fc.string({ maxLength: 3 }), (cell, around) => {
        // Read where it lies inside a longer text, as the CSV reader reads it.
        const read = readShortDecimal(`${around}${cell}${around}`, around.length, around.length + cell.length);
        if (read === undefined) return;
        expect(isDecimal(cell)).toBe(true);
        expect(Object.is(read, Number(cell))).toBe(true);
      }),
      { numRuns: 5000 },
    );
    expect(readShortDecimal('-0', 0, 2)).toBe(-0);
    expect(readShortDecimal('0.1', 0, 3)).toBe(0.1);
    expect(readShortDecimal('123456789012345', 0, 15)).toBe(123456789012345);
    for (const cell of ['', '+', '.', '-.', '1e5', ' 1', '1.2.3', '1234567890123456', '1,5']) {
      expect(readShortDecimal(cell, 0, cell.length)).toBeUndefined();
    }
  });

  it('reads the records of a text without quotes exactly as papaparse does (fuzz)', () => {
    // A quoted header cell sends the whole text through papaparse; unquoted, the same records are
    // split in place: the table, or the error, must be the same either way.
    const unit = fc.constantFrom(
      '1',
      '2.5',
      '-3',
      '0',
      ' ',
      '\t',
      ',',
      ';',
      '|',
      '\n',
      '\r',
      '\r\n',
      '\ufeff',
      'x',
      'NA',
      '',
      '2024-01-0',
      'T12:30',
      '1e3',
      '$',
    );
    const outcome = (text: string, options: CsvOptions) => {
      try {
        return parseCsvText(text, options);
      } catch (err) {
        if (err instanceof InputError) return err.message;
        throw err;
      }
    };
    fc.assert(
      fc.property(
        fc.string({ unit, maxLength: 80 }),
        fc.constantFrom(',', ';', '\t', '|'),
        fc.constantFrom<CsvOptions>({}, { missing: 'drop' }, { futureRows: true }, { decimal: ',' }),
        (body, delimiter, more) => {
          // The delimiter is given: with another, the quoted cell would not be a cell of its own.
          const options = { ...more, delimiter };
          const quoted = outcome(`"a"${delimiter}b${delimiter}c\n${body}`, options);
          expect(outcome(`a${delimiter}b${delimiter}c\n${body}`, options)).toEqual(quoted);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('splits a text without quotes into the records and cells papaparse gives (fuzz)', () => {
    const unit = fc.constantFrom('1', 'x', ' ', ',', ';', '\t', '|', '\n', '\r', '\r\n', '\ufeff', '');
    fc.assert(
      fc.property(
        fc.string({ unit, maxLength: 40 }),
        fc.constantFrom<'\n' | '\r' | '\r\n'>('\n', '\r', '\r\n'),
        fc.constantFrom<CsvDelimiter>(',', ';', '\t', '|'),
        (text, newline, delimiter) => {
          const papa = Papa.parse<string[]>(text, { delimiter, newline, header: false, skipEmptyLines: false });
          expect(plainRecords(text, newline, delimiter)).toEqual(papa.data);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('reads UTF-8 with a byte-order mark from a Blob and refuses UTF-16 by name', async () => {
    const text = 'a,b\n1,2\n3,4\n';
    const bom = await parseCsv(new Blob([new Uint8Array([0xef, 0xbb, 0xbf]), text]), { field: 'f.csv' });
    expect(bom.columns).toEqual(['a', 'b']);
    const utf16le = new Uint8Array([0xff, 0xfe, ...Array.from(text).flatMap((c) => [c.charCodeAt(0), 0])]);
    await expect(parseCsv(new Blob([utf16le]), { field: 'f.csv' })).rejects.toThrow(
      'f.csv: the file is UTF-16 text; save it as UTF-8',
    );
    // Without a byte-order mark: the NUL beside every character gives it away (big-endian here).
    const utf16be = new Uint8Array(Array.from(text).flatMap((c) => [0, c.charCodeAt(0)]));
    await expect(parseCsv(new Blob([utf16be]), { field: 'f.csv' })).rejects.toThrow('is UTF-16 text');
    await expect(parseCsv(new Blob([new Uint8Array(64)]), { field: 'f.csv' })).rejects.toThrow(
      'f.csv: the file is not a text file (it holds NUL bytes)',
    );
  });
});

describe('CSV round trips (property-based)', () => {
  const arbCase = fc.record({
    rows: fc.array(fc.array(fc.double({ min: -1e30, max: 1e30, noNaN: true }), { minLength: 3, maxLength: 3 }), {
      minLength: 2,
      maxLength: 40,
    }),
    delimiter: fc.constantFrom(',', ';', '\t'),
    newline: fc.constantFrom('\n', '\r\n', '\r'),
    bom: fc.boolean(),
    header: fc.boolean(),
    quote: fc.boolean(),
    trailingNewline: fc.boolean(),
  });

  type Case = typeof arbCase extends fc.Arbitrary<infer T> ? T : never;

  function write(c: Case): string {
    const cell = (v: number) => (c.quote ? `"${String(v)}"` : String(v));
    const lines = c.rows.map((row) => row.map(cell).join(c.delimiter));
    if (c.header) lines.unshift(['alpha', 'beta gamma', 'δ'].join(c.delimiter));
    return (c.bom ? '\ufeff' : '') + lines.join(c.newline) + (c.trailingNewline ? c.newline : '');
  }

  it('reads back exactly the numbers written, whatever the delimiter, line end, BOM and quoting', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        // Header detection is left to the parser.
        const table = parseCsvText(write(c));
        expect(table.header).toBe(c.header);
        expect(table.delimiter).toBe(c.delimiter);
        expect(table.rows).toBe(c.rows.length);
        expect(table.columns).toEqual(c.header ? ['alpha', 'beta gamma', 'δ'] : ['column 1', 'column 2', 'column 3']);
        for (let k = 0; k < 3; k++) expect(Array.from(table.values[k])).toEqual(c.rows.map((row) => row[k] + 0));
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same table in chunks of any size as in one piece', async () => {
    await fc.assert(
      fc.asyncProperty(arbCase, fc.integer({ min: 1, max: 200 }), async (c, chunkSize) => {
        const text = write(c);
        const whole = parseCsvText(text);
        const chunked = await parseCsv(text, { chunkSize });
        expect(chunked).toEqual(whole);
      }),
      { numRuns: 150 },
    );
  });

  it('reports the same first bad row in chunks as in one piece', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 60 }),
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 1, max: 32 }),
        async (rows, bad, chunkSize) => {
          fc.pre(bad < rows);
          const lines = ['t,v', ...Array.from({ length: rows }, (_, r) => `${r},${r === bad ? 'oops' : r * 2}`)];
          const text = lines.join('\n');
          const err = await parseCsv(text, { chunkSize }).then(
            () => null,
            (e: unknown) => e,
          );
          expect(err).toBeInstanceOf(CsvError);
          expect((err as CsvError).row).toBe(bad + 2);
          expect((err as CsvError).column).toBe('v');
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('CSV large files', () => {
  it('parses a 50 MB file in chunks, yielding to the event loop, from a string and a Blob', async () => {
    const rows = 1_600_000;
    const { text, lines } = minuteBarsCsv(rows);
    expect(text.length).toBeGreaterThan(50 * 1000 * 1000);

    // A timer that should keep firing while the parse runs: the longest gap is the longest freeze.
    let longestGap = 0;
    let ticks = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
      ticks++;
    }, 1);
    const progress: number[] = [];
    const t0 = performance.now();
    let table: CsvTable;
    try {
      table = await parseCsv(text, { onProgress: (f) => progress.push(f) });
    } finally {
      clearInterval(ticker);
    }
    const seconds = (performance.now() - t0) / 1000;
    console.log(
      `50 MB CSV (${rows} rows): ${seconds.toFixed(2)} s, ${progress.length} chunks, ${ticks} timer ticks, ` +
        `longest event-loop gap ${longestGap.toFixed(0)} ms`,
    );
    expect(table.rows).toBe(rows);
    expect(table.columns).toEqual(['open', 'close']);
    expect(table.values[1][rows - 1]).toBe(-(rows - 1));
    expect(table.values[0][999]).toBe(999 / 8);
    expect(table.dates?.[rows - 1]).toBe(lines[rows].slice(0, 16).replace('T', ' '));
    expect(progress.length).toBeGreaterThan(80);
    expect(progress.every((f, i) => i === 0 || f >= progress[i - 1])).toBe(true);
    expect(progress.at(-1)).toBe(1);
    // Other work ran all along: parsing in one go would make the longest gap the whole parse. (An
    // absolute bound would measure this machine's load rather than the parser.)
    expect(ticks).toBeGreaterThan(progress.length / 2);
    expect(longestGap).toBeLessThan((seconds * 1000) / 4);
    expect(seconds).toBeLessThan(60);

    const fromBlob = await parseCsv(new Blob([text]), { chunkSize: 4 * 1024 * 1024 });
    expect(fromBlob.rows).toBe(rows);
    // Element by element as toEqual compares (Object.is), in one loop: toEqual walks a typed array this
    // long far more slowly than the parse itself.
    const [blobClose, textClose] = [fromBlob.values[1], table.values[1]];
    expect(blobClose).toBeInstanceOf(Float64Array);
    expect(blobClose.length).toBe(textClose.length);
    expect(blobClose.findIndex((v, i) => !Object.is(v, textClose[i]))).toBe(-1);
  });

  it('stops when aborted', async () => {
    const text = `v\n${Array.from({ length: 20_000 }, (_, i) => i).join('\n')}`;
    const controller = new AbortController();
    const parse = parseCsv(text, {
      chunkSize: 1000,
      signal: controller.signal,
      onProgress: (f) => {
        if (f > 0.3) controller.abort(new Error('picked another file'));
      },
    });
    await expect(parse).rejects.toThrow('picked another file');
  });
});

describe('CSV files from brokers, spreadsheets in other locales and logging tools (issue 13)', () => {
  /** A broker's export (Nasdaq): newest first, month-first dates, dollar prices, plain volume. */
  const broker = [
    'Date,Close/Last,Volume,Open,High,Low',
    '02/02/2024,$185.85,102551700,$179.86,$187.33,$179.25',
    '02/01/2024,$186.86,64885410,$183.985,$186.95,$183.82',
    '01/31/2024,$184.40,55467800,$187.04,$187.10,$184.35',
    '01/30/2024,$188.04,55859370,$190.94,$191.80,$187.47',
    '01/29/2024,$191.73,47145620,$192.01,$192.20,$189.58',
  ].join('\r\n');

  it('reads dollar prices instead of dropping them, and turns a newest-first file around', () => {
    const table = parseCsvText(broker);
    expect(table.header).toBe(true);
    expect(table.columns).toEqual(['Close/Last', 'Volume', 'Open', 'High', 'Low']);
    expect(table.defaultColumns[0]).toBe('Close/Last');
    expect(table.dateColumn).toBe('Date');
    expect(table.dateKind).toBe('mdy');
    expect(table.reversedBy).toBe('Date');
    // Oldest first now: the held-out part is the newest.
    expect(table.dates).toEqual(['2024-01-29', '2024-01-30', '2024-01-31', '2024-02-01', '2024-02-02']);
    expect(values(table)[0]).toEqual([191.73, 188.04, 184.4, 186.86, 185.85]);
    expect(table.columnInfo[1]).toEqual({ name: 'Close/Last', kind: 'value', note: 'numbers like $1234.5' });
  });

  it('reads decimal commas with semicolons, and quoted thousands with commas, keeping the header', () => {
    const european = parseCsvText('Datum;Kurs;Umsatz\n31.01.2024;102,03;1.234.567\n01.02.2024;101,5;987.654\n');
    expect(european.allColumns).toEqual(['Datum', 'Kurs', 'Umsatz']);
    expect(european.decimal).toBe(',');
    expect(values(european)).toEqual([
      [102.03, 101.5],
      [1234567, 987654],
    ]);
    expect(european.dates).toEqual(['2024-01-31', '2024-02-01']);
    const quoted = parseCsvText('date,price\n2024-01-02,"10,203.00"\n2024-01-03,"10,250.50"\n');
    expect(quoted.allColumns).toEqual(['date', 'price']);
    expect(values(quoted)).toEqual([[10203, 10250.5]]);
    const spaced = parseCsvText(
      'date;price\n2024-01-02;10 203,00\n2024-01-03;10\u202f250,50\n2024-01-04;9\u00a0999,99\n',
    );
    expect(values(spaced)).toEqual([[10203, 10250.5, 9999.99]]);
    const swiss = parseCsvText("date\tprice\n2024-01-02\tCHF 1'234.50\n2024-01-03\tCHF 1'300.00\n");
    expect(swiss.delimiter).toBe('\t');
    expect(values(swiss)).toEqual([[1234.5, 1300]]);
  });

  it('resolves a lone 1,234 by the file, the delimiter or the decimal-mark setting', () => {
    // Semicolons: a decimal comma. Commas (the cell quoted): a thousands separator.
    expect(values(parseCsvText('a;b\n1,234;1\n2,345;7\n'))[0]).toEqual([1.234, 2.345]);
    expect(values(parseCsvText('a,b\n"1,234",1\n"2,345",7\n'))[0]).toEqual([1234, 2345]);
    // Another column shows the file's decimal comma.
    expect(values(parseCsvText('a\tb\n1,234\t0,5\n2,345\t1,25\n'))[0]).toEqual([1.234, 2.345]);
    // The setting decides what nothing else does.
    expect(values(parseCsvText('a\tb\n1.234\t1\n2.345\t7\n', { decimal: ',' }))[0]).toEqual([1234, 2345]);
    expect(values(parseCsvText('a\tb\n1,234\t1\n2,345\t7\n', { decimal: ',' }))[0]).toEqual([1.234, 2.345]);
  });

  it('reads percent signs and negatives in parentheses, with a trailing minus or a Unicode minus', () => {
    const table = parseCsvText(
      'month,change,pnl\n2024-01,1.5%,"(1,234.50)"\n2024-02,−2.25%,"2,000.00"\n2024-03,0.5%,50.00-\n',
    );
    expect(table.dates).toEqual(['2024-01', '2024-02', '2024-03']);
    expect(values(table)).toEqual([
      [1.5, -2.25, 0.5],
      [-1234.5, 2000, -50],
    ]);
  });

  it('takes a Unix timestamp column as the dates, in seconds, milliseconds or microseconds', () => {
    const t = Date.UTC(2024, 0, 31, 13, 45) / 1000;
    for (const [scale, kind] of [
      [1, 'epoch-s'],
      [1e3, 'epoch-ms'],
      [1e6, 'epoch-us'],
    ] as const) {
      const rows = [0, 1, 2].map((k) => `${(t + 60 * k) * scale},${k + 0.5},${(7 * k) % 5}`);
      const table = parseCsvText(['timestamp,value,other', ...rows].join('\n'));
      expect(table.dateColumn).toBe('timestamp');
      expect(table.dateKind).toBe(kind);
      expect(table.columns).toEqual(['value', 'other']);
      expect(table.dates).toEqual(['2024-01-31 13:45', '2024-01-31 13:46', '2024-01-31 13:47']);
    }
    // A numeric column chosen as the date column leaves the values.
    const chosen = parseCsvText('t0,v\n100,1.5\n200,2.5\n300,2\n', { dateColumn: 't0' });
    expect(chosen.columns).toEqual(['v']);
    expect(chosen.dates).toEqual(['100', '200', '300']);
  });

  it('never makes a row counter the default column, and turns a file around by a falling one', () => {
    const pandas = parseCsvText(',close,volume\n0,5.5,100\n1,5.7,120\n2,5.2,90\n3,5.9,130\n');
    expect(pandas.columns).toEqual(['column 1', 'close', 'volume']);
    expect(pandas.defaultColumns).toEqual(['close', 'volume']);
    expect(pandas.columnInfo[0].kind).toBe('index');
    expect(pandas.reversedBy).toBeNull();
    const falling = parseCsvText('id,close\n5,5.5\n4,5.7\n3,5.2\n2,5.9\n1,6.1\n');
    expect(falling.reversedBy).toBe('id');
    expect(values(falling)).toEqual([
      [1, 2, 3, 4, 5],
      [6.1, 5.9, 5.2, 5.7, 5.5],
    ]);
  });

  it('describes a column that is not numbers instead of dropping it, and names it when chosen', () => {
    const table = parseCsvText('date,ticker,price\n2024-01-02,AAPL,185.5\n2024-01-03,AAPL,184.25\n');
    expect(table.columns).toEqual(['price']);
    expect(table.columnInfo.map((c) => [c.name, c.kind])).toEqual([
      ['date', 'date'],
      ['ticker', 'text'],
      ['price', 'value'],
    ]);
    expect(table.columnInfo[1].note).toBe('not numbers (row 2 holds "AAPL")');
    const err = inputErrorOf(() => checkValueColumns(table, ['ticker'], '--inputs'));
    expect(err.message).toBe(
      '--inputs: "ticker" is not a column of numbers: not numbers (row 2 holds "AAPL"); the value columns are "price"',
    );
    const none = csvErrorOf('name,city\nann,paris\nbob,oslo\n');
    expect(none.message).toMatch(
      /no column holds a series of numbers \("name": not numbers \(row 2 holds "ann"\); "city"/,
    );
    // Later rows out of the column's format are refused by row, with the format expected.
    expect(csvErrorOf('d,p\n2024-01-01,$1.50\n2024-01-02,$2.50\n2024-01-03,abc\n').message).toBe(
      'csv: row 4, column "p": expected a number like $1234.5, got "abc"',
    );
  });

  it('fails only with InputErrors on arbitrary text made of number and date pieces (fuzz)', () => {
    const unit = fc.constantFrom(
      '1',
      '2',
      '0',
      '.',
      ',',
      ';',
      '|',
      '\t',
      '\n',
      '"',
      '$',
      '€',
      '%',
      '(',
      ')',
      '-',
      '−',
      "'",
      ' ',
      '\u00a0',
      '/',
      ':',
      'e',
      'T',
      'Z',
      'USD ',
    );
    fc.assert(
      fc.property(fc.string({ unit }), fc.constantFrom<'auto' | '.' | ','>('auto', '.', ','), (text, decimal) =>
        expectTableOrInputError(text, { decimal, missing: 'drop' }),
      ),
      { numRuns: 2000 },
    );
  });

  it('reads bars and tabs, CRLF, quoted fields holding delimiters and line ends, and a first line over 64 KB', () => {
    const bars = parseCsvText('date|value\r\n2024-01-01|1.5\r\n2024-01-02|2.5\r\n');
    expect(bars.delimiter).toBe('|');
    expect(values(bars)).toEqual([[1.5, 2.5]]);
    const quoted = parseCsvText('"a;b","note\nmore",v\n1,"x, y\nz",2\n3,"w",4\n');
    expect(quoted.allColumns).toEqual(['a;b', 'note\nmore', 'v']);
    expect(values(quoted)).toEqual([
      [1, 3],
      [2, 4],
    ]);
    const wide = Array.from({ length: MAX_CSV_COLUMNS }, (_, c) => `a_column_with_a_long_name_${c}`);
    const rows = [0, 1, 2].map((r) => wide.map((_, c) => String(r + c / 10)).join(','));
    const long = parseCsvText([wide.join(','), ...rows].join('\n'));
    expect(wide.join(',').length).toBeGreaterThan(64 * 1024);
    expect(long.rows).toBe(3);
    expect(long.columns).toHaveLength(MAX_CSV_COLUMNS);
  });

  it('refuses more columns than MAX_CSV_COLUMNS at once, whatever the width (no work per column)', () => {
    for (const width of [MAX_CSV_COLUMNS + 1, 1_000_000]) {
      const header = Array.from({ length: width }, (_, c) => `c${c}`).join(',');
      const started = performance.now();
      const err = inputErrorOf(() => parseCsvText(`${header}\n${'1,'.repeat(width - 1)}1\n`));
      expect(performance.now() - started).toBeLessThan(1000);
      expect(err.message).toBe(
        'csv: row 1: has more than 4,096 columns (separated by commas); at most 4,096 can be read',
      );
    }
    // Delimiters inside a quoted header cell are not columns.
    const quoted = parseCsvText(`"${','.repeat(5000)}",b\n1,2\n3,4\n`);
    expect(quoted.allColumns).toHaveLength(2);
  });

  it('reads a file whose line ends are mixed (CRLF, LF and CR), each ending one row', () => {
    const table = parseCsvText('date,v\r\n2024-01-01,1\n2024-01-02,2\r\n2024-01-03,3\r2024-01-04,4\n');
    expect(table.rows).toBe(4);
    expect(values(table)).toEqual([[1, 2, 3, 4]]);
    expect(table.dates).toEqual(['2024-01-01', '2024-01-02', '2024-01-03', '2024-01-04']);
  });

  it('refuses dates that go back mid-file, naming the row (the held-out part must be the newest)', () => {
    const dates = ['2024-01-01', '2024-01-02', '2024-01-03', '2023-06-01', '2024-01-05', '2024-01-06'];
    const text = `date,v\n${dates.map((d, i) => `${d},${i}`).join('\n')}\n`;
    expect(inputErrorOf(() => parseCsvText(text)).message).toBe(
      'csv: row 5, column "date": the date "2023-06-01" comes before the row above\'s "2024-01-03", where the file runs oldest first (1 row goes against the order); sort the file by its dates',
    );
    // Newest first with one row out of order: refused too, not reversed with the stray row inside.
    const newest = `date,v\n${[...dates]
      .reverse()
      .map((d, i) => `${d},${i}`)
      .join('\n')}\n`;
    expect(inputErrorOf(() => parseCsvText(newest)).message).toMatch(
      /^csv: row 5, column "date": the date "2024-01-03" comes after the row above's "2023-06-01", where the file runs newest first/,
    );
    // Repeated dates are not out of order.
    expect(parseCsvText('date,v\n2024-01-01,1\n2024-01-01,2\n2024-01-02,3\n').rows).toBe(3);
  });
});
