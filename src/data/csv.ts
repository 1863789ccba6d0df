// The user's own series from a CSV file, split into records and cells by papaparse (or, where a piece
// of the text holds no quote, in place exactly as papaparse splits it) and read into a ColumnTable.
//
// What is decided from the first rows (unless the caller says): the delimiter (comma, semicolon, tab
// or bar), whether row 1 is a header, how each column writes its numbers (numberFormat.ts: currency,
// thousands separators, decimal mark, percent) or its dates (dateFormat.ts), which columns are values
// (every numeric one; a column that counts rows is offered but not chosen by default), which one holds
// dates; a column that is not numeric is described with the reason. Then every row is read once, in
// chunks: parseCsv yields to the event loop between chunks so a 50 MB file does not freeze a page (in
// a Web Worker it simply runs), parseCsvText does the same work synchronously for the CLI and small
// texts. A file that runs newest first (by its dates, or a falling row counter) is reversed, so the
// held-out part is always the newest, and `reversedBy` says so; dates out of order anywhere (a row
// that goes back) are refused, naming the row. Row 1 may have at most MAX_CSV_COLUMNS fields, counted
// before any work per column, and no step is quadratic in the columns.
//
// Rows are numbered as a spreadsheet numbers them: 1-based, the header (if any) is row 1, blank
// lines count. A byte-order mark is stripped (UTF-16 is refused); CRLF, LF and CR line ends are all
// fine, mixed in one file too. A value that is empty, not a number in its column's format (NaN,
// Infinity, "abc"), longer than MAX_CELL_CHARS or beyond float32's range is a problem: with missing 'refuse' (the default) the
// first one stops the parse with a CsvError naming its row and column; with 'drop' its row is skipped
// and reported in `dropped`. Numbers are recognised by one pass over the cell (no backtracking), so
// a hostile cell costs time in proportion to its length, and at most MAX_CELL_CHARS of it.
//
// Header cells are data: they become column names as plain strings and are never evaluated.

import Papa from 'papaparse';
import { describeValue, InputError } from '../model/errors.js';
import { FLOAT32_MAX, LIMITS } from '../model/validate.js';
import { DATE_KIND_TEXT, DATE_NAME, type DateFormat, type DateKind, detectDateFormat, readDate } from './dateFormat.js';
import { isDecimal, readShortDecimal } from './decimal.js';
import {
  type ColumnVerdict,
  DECIMAL_MARKS,
  type DecimalMark,
  type DecimalSetting,
  describeExample,
  detectColumn,
  isMissingMarker,
  isPlain,
  type NumberFormat,
  PLAIN_FORMAT,
  provenDecimal,
  readNumber,
  type SampleCell,
  scanNumber,
  unboundedValueOf,
} from './numberFormat.js';
import { decodeTextFile } from './textFile.js';
import { type ColumnRef, type ColumnTable, columnIndex } from './windows.js';

export const CSV_DELIMITERS = [',', ';', '\t', '|'] as const;
export type CsvDelimiter = (typeof CSV_DELIMITERS)[number];

export interface CsvOptions {
  /** What errors name as the source: a file name, '--data'; default 'csv'. */
  field?: string;
  /** Whether row 1 holds column names; default 'auto'. */
  header?: boolean | 'auto';
  /** Default 'auto': whichever of comma, semicolon, tab and bar splits the first rows consistently. */
  delimiter?: CsvDelimiter | 'auto';
  /**
   * The decimal mark where a column's cells do not show it (1,234 alone): 'auto' (default) lets the
   * file's other columns decide, then the delimiter (a comma is decimal after semicolons).
   */
  decimal?: DecimalSetting;
  /** Value columns by name or 0-based index; default every numeric column except the date column. */
  valueColumns?: ColumnRef[];
  /**
   * The column of row labels (dates), kept as text; null for none. Default: a column named like
   * date/time/month/year, else the first non-numeric column whose values look like dates, else none.
   */
  dateColumn?: ColumnRef | null;
  /** Keep only rows whose `column` holds exactly `value` (long tables such as symbol,date,price). */
  filter?: { column: ColumnRef; value: string };
  /** What to do with a row whose date or value is missing or not a number; default 'refuse'. */
  missing?: 'refuse' | 'drop';
  /**
   * Keep the rows at the end of the data whose values are partly missing (empty, or a marker such as
   * NA) as the data's future (`future`: their outputs are not known yet, known-ahead inputs are), instead
   * of refusing or dropping them; default false. Missing values before them follow `missing`.
   */
  futureRows?: boolean;
  /** Largest input accepted, in characters (strings) or bytes (files); default 256 MiB. */
  maxBytes?: number;
  /** Most data rows read (the app's budget); more are refused as soon as they are seen. Default: no bound. */
  maxRows?: number;
}

export interface CsvStreamOptions extends CsvOptions {
  /** Characters parsed between yields to the event loop; default 512 KiB. */
  chunkSize?: number;
  /** Called after each chunk with the fraction of the text read so far. */
  onProgress?: (fraction: number) => void;
  /** Stops the parse; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface DroppedRow {
  /** Spreadsheet row number (header = row 1). */
  row: number;
  /** The first column at fault. */
  column: string;
  /** Its text, shortened to 40 characters. */
  value: string;
  reason: string;
}

/** What one column of the file is. */
export interface CsvColumn {
  name: string;
  /**
   * 'value': numbers (in `columns`); 'index': numbers that count rows (in `columns`, not among the
   * defaults); 'date': the date column; 'key': the filter's column; 'text': not numbers.
   */
  kind: 'value' | 'index' | 'date' | 'key' | 'text';
  /** Values: their format ("numbers like $1,234.5"); text: why it is not numbers; dates: their kind. */
  note: string;
}

export interface CsvTable extends ColumnTable {
  /** Every column of the file, in file order. */
  allColumns: string[];
  /** What each of allColumns is, in the same order. */
  columnInfo: CsvColumn[];
  /** The value columns a run uses unless told otherwise: every one but those that count rows. */
  defaultColumns: string[];
  /** The date column's name, or null. */
  dateColumn: string | null;
  /** How the date column writes its dates, or null (none, or labels as written). */
  dateKind: DateKind | null;
  delimiter: CsvDelimiter;
  header: boolean;
  /** The decimal mark of the file's numbers (where no column showed it: the setting's, or '.'). */
  decimal: DecimalMark;
  /** The column that showed the file runs newest first (its rows were reversed), or null. */
  reversedBy: string | null;
  /** Rows skipped under missing 'drop': how many, and the first MAX_REPORTED_DROPS of them. */
  dropped: { count: number; rows: DroppedRow[] };
  /**
   * With futureRows: the rows after the data's last whose values are partly missing (NaN there), the
   * same columns and their dates; null without such rows. Not among `rows`.
   */
  future: ColumnTable | null;
}

/** A problem in the file itself, with the spreadsheet row and the column where known. */
export class CsvError extends InputError {
  readonly row: number | undefined;
  readonly column: string | undefined;
  constructor(field: string, message: string, row?: number, column?: string) {
    const where =
      row === undefined ? '' : column === undefined ? `row ${row}: ` : `row ${row}, column ${JSON.stringify(column)}: `;
    super(field, `${where}${message}`);
    this.name = 'CsvError';
    this.row = row;
    this.column = column;
  }
}

export const MAX_REPORTED_DROPS = 100;
/**
 * Most columns a file may have: four times the most inputs a model reads (LIMITS.inputSize), room for
 * dates, labels and columns left out. Counted on row 1 before any work per column is done.
 */
export const MAX_CSV_COLUMNS = 4 * LIMITS.inputSize;
/** Longest value or date cell read, in characters: a number or a date needs a few dozen. */
export const MAX_CELL_CHARS = 1000;
const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;
/** Characters parsed between two yields to the page: a piece short enough that the page stays responsive. */
const DEFAULT_CHUNK_SIZE = 512 * 1024;
/** Characters and rows looked at to decide delimiter, header and column kinds. */
const SAMPLE_CHARS = 64 * 1024;
const SAMPLE_ROWS = 50;
/** Names of a column that counts rows (with any step). */
const INDEX_NAME = /^(|#|n|no\.?|idx|index|id|row|rownum|unnamed: ?0)$/i;

/** Parses a whole CSV text synchronously (the CLI, small texts, a Web Worker). */
export function parseCsvText(raw: string, options: CsvOptions = {}): CsvTable {
  const text = oneKindOfLineEnd(raw);
  const plan = planParse(text, options);
  const table = new TableBuilder(plan);
  const body = stripBom(text);
  for (const [start, end] of pieces(body, plan.newline, DEFAULT_CHUNK_SIZE)) table.addPiece(body, start, end);
  return table.finish();
}

/**
 * Parses a CSV text or file in pieces of about `chunkSize` characters, yielding to the event loop
 * between them so a page stays responsive. A Blob (a File from a picker or a drop) is read as UTF-8.
 */
export async function parseCsv(source: string | Blob, options: CsvStreamOptions = {}): Promise<CsvTable> {
  const field = options.field ?? 'csv';
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (typeof source !== 'string' && source.size > maxBytes) throw tooLarge(field, source.size, maxBytes);
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (typeof chunkSize !== 'number' || !Number.isInteger(chunkSize) || chunkSize < 1) {
    throw new InputError('chunkSize', `expected a whole number of characters ≥ 1, got ${describeValue(chunkSize)}`);
  }
  const { signal, onProgress } = options;
  signal?.throwIfAborted();
  const text = oneKindOfLineEnd(
    typeof source === 'string' ? source : decodeTextFile(new Uint8Array(await source.arrayBuffer()), field, 'the file'),
  );
  const plan = planParse(text, options);
  const table = new TableBuilder(plan);
  const body = stripBom(text);
  for (const [start, end] of pieces(body, plan.newline, chunkSize)) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    signal?.throwIfAborted();
    table.addPiece(body, start, end);
    onProgress?.(end / body.length);
  }
  return table.finish();
}

/**
 * The text with one kind of line end: as it is when it uses one (LF, CRLF or CR), else (a file
 * edited on two systems) every CRLF and lone CR made LF, so that each line end ends one row. A line
 * end inside a quoted cell changes kind too, which a cell's value does not notice.
 */
function oneKindOfLineEnd(text: string): string {
  const cr = text.indexOf('\r');
  if (cr < 0) return text;
  const crlf = text.indexOf('\r\n') >= 0;
  // From one line end to the next with indexOf, which a file of one kind walks to its end: faster
  // than a regular expression that looks at every character.
  let loneCr = false;
  for (let at = cr; at >= 0 && !loneCr; at = text.indexOf('\r', at + 1)) loneCr = text.charCodeAt(at + 1) !== 10;
  let loneLf = false;
  for (let at = text.indexOf('\n'); at >= 0 && !loneLf; at = text.indexOf('\n', at + 1)) {
    loneLf = at === 0 || text.charCodeAt(at - 1) !== 13;
  }
  const kinds = Number(crlf) + Number(loneCr) + Number(loneLf);
  return kinds > 1 ? text.replace(/\r\n?/g, '\n') : text;
}

/**
 * Cuts the text into pieces of whole records: each ends after the first line end past `size`
 * characters that lies outside quotes (an even number of quote characters since the piece began;
 * RFC 4180 doubles quotes inside quoted fields, so the parity holds; a stray quote only makes a
 * piece longer). Each piece is then split on its own (TableBuilder.addPiece). (Papaparse's own
 * chunked mode reports false quote errors when a chunk ends between the CR and the LF of a line end.)
 */
function* pieces(text: string, newline: string, size: number): Generator<[number, number]> {
  const lineEnd = newline === '\r' ? '\r' : '\n';
  let start = 0;
  // The first quote not yet counted: searched for once, not again for each piece.
  let quote = text.indexOf('"');
  while (start < text.length) {
    let inQuotes = false;
    let from = Math.min(text.length, start + size);
    let end = text.length;
    for (;;) {
      const at = text.indexOf(lineEnd, from);
      if (at === -1) break;
      while (quote !== -1 && quote < at) {
        inQuotes = !inQuotes;
        quote = text.indexOf('"', quote + 1);
      }
      // With CRLF line ends a lone LF is data, as papaparse reads it.
      const whole = newline !== '\r\n' || text.charCodeAt(at - 1) === 13;
      if (!inQuotes && whole) {
        end = at + 1;
        break;
      }
      from = at + 1;
    }
    yield [start, end];
    start = end;
  }
}

/** A piece's text (its last line end left out) through papaparse, which only splits rows and fields. */
function parsePiece(piece: string, plan: ParsePlan): Papa.ParseResult<string[]> {
  return Papa.parse<string[]>(piece, {
    delimiter: plan.delimiter,
    newline: plan.newline as '\n' | '\r' | '\r\n',
    header: false,
    dynamicTyping: false,
    skipEmptyLines: false,
  });
}

/** One record's cells, however they were split: as strings (papaparse) or as places in the text. */
interface RecordCells {
  readonly count: number;
  /** Cell c, trimmed. */
  text(c: number): string;
  /** Cell c's value under `format` (`plain`: isPlain(format)), NaN where parseNumber gives NaN. */
  value(c: number, format: NumberFormat, plain: boolean): number;
  /** The record as written: its cells joined by the delimiter. */
  joined(delimiter: string): string;
}

/**
 * The records of text[start, stop), which holds no quote, split exactly as papaparse splits such a
 * text (at each line end, then at each delimiter; its fast path), each handed to `visit` in `cells`.
 */
function eachPlainRecord(
  text: string,
  start: number,
  stop: number,
  plan: Pick<ParsePlan, 'newline' | 'delimiter'>,
  cells: SpanCells,
  visit: (cells: SpanCells) => void,
): void {
  // Papaparse strips a byte-order mark from the start of each text it is given, and reads an empty
  // text as no records at all.
  const from = start < stop && text.charCodeAt(start) === 0xfeff ? start + 1 : start;
  if (from === stop) return;
  const { newline } = plan;
  const delimiter = plan.delimiter.charCodeAt(0);
  for (let rowStart = from; ; ) {
    let rowEnd = text.indexOf(newline, rowStart);
    if (rowEnd < 0 || rowEnd + newline.length > stop) rowEnd = stop;
    cells.split(text, rowStart, rowEnd, delimiter);
    visit(cells);
    if (rowEnd === stop) return;
    rowStart = rowEnd + newline.length;
  }
}

/** The cells of a text without quotes as the reader splits it, for tests that hold it to papaparse. */
export function plainRecords(text: string, newline: '\n' | '\r' | '\r\n', delimiter: CsvDelimiter): string[][] {
  const records: string[][] = [];
  eachPlainRecord(text, 0, text.length, { newline, delimiter }, new SpanCells(), (cells) => {
    records.push(Array.from({ length: cells.count }, (_, c) => cells.raw(c)));
  });
  return records;
}

/** A record papaparse split: one string a cell. */
class ArrayCells implements RecordCells {
  cells: string[] = [];
  get count(): number {
    return this.cells.length;
  }
  text(c: number): string {
    return this.cells[c].trim();
  }
  value(c: number, format: NumberFormat): number {
    return parseNumber(this.cells[c].trim(), format);
  }
  joined(delimiter: string): string {
    return this.cells.join(delimiter);
  }
}

/**
 * A record of a piece without quotes, split here as papaparse splits one (at each delimiter): each
 * cell is where it lies in the text, so a plain number is read without making a string of it.
 */
class SpanCells implements RecordCells {
  private source = '';
  private rowStart = 0;
  private rowEnd = 0;
  count = 0;
  /** Where each cell begins and ends in the text, grown to the widest record seen. */
  private starts = new Int32Array(16);
  private ends = new Int32Array(16);

  split(source: string, rowStart: number, rowEnd: number, delimiter: number): void {
    this.source = source;
    this.rowStart = rowStart;
    this.rowEnd = rowEnd;
    this.count = 0;
    let cellStart = rowStart;
    for (let i = rowStart; i < rowEnd; i++) {
      if (source.charCodeAt(i) === delimiter) {
        this.push(cellStart, i);
        cellStart = i + 1;
      }
    }
    this.push(cellStart, rowEnd);
  }

  private push(start: number, end: number): void {
    if (this.count === this.starts.length) {
      const starts = new Int32Array(2 * this.count);
      const ends = new Int32Array(2 * this.count);
      starts.set(this.starts);
      ends.set(this.ends);
      this.starts = starts;
      this.ends = ends;
    }
    this.starts[this.count] = start;
    this.ends[this.count] = end;
    this.count++;
  }

  /** Cell c as written. */
  raw(c: number): string {
    return this.source.slice(this.starts[c], this.ends[c]);
  }

  text(c: number): string {
    return this.raw(c).trim();
  }

  value(c: number, format: NumberFormat, plain: boolean): number {
    if (plain) {
      const value = readShortDecimal(this.source, this.starts[c], this.ends[c]);
      if (value !== undefined) return value;
    }
    return parseNumber(this.text(c), format);
  }

  joined(): string {
    return this.source.slice(this.rowStart, this.rowEnd);
  }
}

interface ParsePlan {
  field: string;
  delimiter: CsvDelimiter;
  newline: string;
  header: boolean;
  allColumns: string[];
  values: number[];
  /** How each value column writes its numbers (values[k]'s format). */
  formats: NumberFormat[];
  date: number;
  /** How the date column writes its dates; null: labels as written, no order known. */
  dateFormat: DateFormat | null;
  /** Value columns that count rows (1, 2, 3…): a falling one shows the file runs newest first. */
  indexColumns: number[];
  columnInfo: CsvColumn[];
  defaultColumns: string[];
  decimal: DecimalMark;
  filter: { index: number; value: string } | null;
  drop: boolean;
  /** Keep the last rows with missing values as the data's future (CsvOptions.futureRows). */
  futureRows: boolean;
  /** Records the whole text likely holds, from the sample's average row length: the columns' first size. */
  expectedRows: number;
  /** Most data rows read, or Infinity. */
  maxRows: number;
}

/** A sample row: its cells (trimmed) and its spreadsheet row number. */
interface SampleRow {
  row: number;
  cells: string[];
}

/**
 * Decides delimiter, header, column names and kinds, value and date columns from the first rows: the
 * options checked, the first rows sampled, each column's numbers and dates detected, then the date,
 * filter and value columns chosen and described.
 */
function planParse(raw: string, options: CsvOptions): ParsePlan {
  const checked = checkCsvOptions(raw, options);
  const { field, text } = checked;
  const { sample, delimiter, newline, rows } = sampleRows(text, checked.delimiter, field);
  const header = checked.header === 'auto' ? looksLikeHeader(rows.map((r) => r.cells)) : checked.header;
  // Row 1 sets the width, so a malformed row later is the one reported, not every row around it.
  const allColumns = columnNames(header ? rows[0].cells : [], rows[0].cells.length);
  const body = header ? rows.slice(1) : rows;
  if (body.length === 0) throw new CsvError(field, 'the file has a header row but no data rows');
  const table: ColumnTable = { columns: allColumns, values: [], rows: 0 };
  const columnCells = allColumns.map((_, c): SampleCell[] =>
    body.map(({ row, cells }) => ({ row, text: cells[c] ?? '' })),
  );
  const { verdicts, decimal } = detectNumbers(columnCells, checked.decimal, delimiter);
  const numeric = verdicts.map((v) => v.numeric);
  const dateFormats = allColumns.map((name, c) => detectDateFormat(columnCells[c], name, numeric[c], decimal === ','));
  const detected: Detected = { table, header, numeric, dateFormats };
  let date = dateColumnOf(options, detected);
  const filter = filterOf(options, table);
  // An unnamed column (a blank header cell, as pandas writes its index) is named like a counter.
  const index = allColumns.map(
    (name, c) =>
      numeric[c] && c !== date && isIndexColumn(header && rows[0].cells[c] === '' ? '' : name, columnCells[c]),
  );
  let values: number[];
  if (options.valueColumns !== undefined) {
    values = chosenValueColumns(options.valueColumns, table);
    // A column the caller chose as values is not a date column unless the caller said so.
    if (options.dateColumn === undefined && values.includes(date)) date = -1;
    if (values.includes(date)) {
      throw new InputError(
        'valueColumns',
        `${JSON.stringify(allColumns[date])} is the date column, not a value column`,
      );
    }
    if (new Set(values).size !== values.length) throw new InputError('valueColumns', 'a column is chosen twice');
  } else {
    values = allColumns.map((_, c) => c).filter((c) => numeric[c] && c !== date && c !== filter?.index);
  }
  const columnInfo = describeColumns(allColumns, { date, dateFormats, filter, verdicts, index });
  // Row counters are never the default, unless the file has no other numbers.
  const series = values.filter((c) => !index[c]);
  const defaultColumns = (series.length > 0 ? series : values).map((c) => allColumns[c]);
  if (options.valueColumns === undefined && defaultColumns.length === 0) {
    const described = columnInfo.map((column) => `${JSON.stringify(column.name)}: ${column.note}`).join('; ');
    throw new CsvError(
      field,
      `no column holds a series of numbers (${described}); use a file with at least one column of numbers (one value a row)`,
    );
  }
  return {
    field,
    delimiter,
    newline,
    header,
    allColumns,
    values,
    formats: values.map((c) => {
      const verdict = verdicts[c];
      return verdict.numeric ? verdict.format : { ...PLAIN_FORMAT, decimal };
    }),
    date,
    dateFormat: date >= 0 ? dateFormats[date] : null,
    indexColumns: values.filter((c) => index[c]),
    columnInfo,
    defaultColumns,
    decimal,
    filter,
    drop: checked.missing === 'drop',
    futureRows: options.futureRows === true,
    maxRows: checked.maxRows,
    expectedRows: Math.min(
      Math.ceil((1.05 * text.length * rows.length) / Math.max(1, sample.length)) + 16,
      1 << 26,
      checked.maxRows,
    ),
  };
}

/** The options that shape the parse, checked, and the text without its byte-order mark. */
function checkCsvOptions(raw: string, options: CsvOptions) {
  const field = options.field ?? 'csv';
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (raw.length > maxBytes) throw tooLarge(field, raw.length, maxBytes);
  const text = stripBom(raw);
  if (text.trim() === '') throw new CsvError(field, 'the file is empty');
  const delimiter = options.delimiter ?? 'auto';
  if (delimiter !== 'auto' && !CSV_DELIMITERS.includes(delimiter)) {
    throw new InputError('delimiter', `expected "auto", ",", ";", "|" or a tab, got ${describeValue(delimiter)}`);
  }
  const decimal = options.decimal ?? 'auto';
  if (!DECIMAL_MARKS.includes(decimal)) {
    throw new InputError('decimal', `expected "auto", "." or ",", got ${describeValue(decimal)}`);
  }
  const missing = options.missing ?? 'refuse';
  if (missing !== 'refuse' && missing !== 'drop') {
    throw new InputError('missing', `expected "refuse" or "drop", got ${describeValue(missing)}`);
  }
  const header = options.header ?? 'auto';
  if (header !== 'auto' && typeof header !== 'boolean') {
    throw new InputError('header', `expected true, false or "auto", got ${describeValue(header)}`);
  }
  const maxRows = options.maxRows ?? Number.POSITIVE_INFINITY;
  if (maxRows !== Number.POSITIVE_INFINITY && !(Number.isInteger(maxRows) && maxRows >= 2)) {
    throw new InputError('maxRows', `expected a whole number of at least 2, got ${describeValue(maxRows)}`);
  }
  return { field, text, delimiter, decimal, missing, header, maxRows };
}

/**
 * Refuses a file whose row 1 has more than MAX_CSV_COLUMNS fields, counting the delimiters of row 1
 * outside quotes (each candidate's, when the delimiter is 'auto') and stopping at the first count past
 * the limit: no work is done per column of a file that has too many.
 */
function checkColumnCount(text: string, delimiterOption: CsvDelimiter | 'auto', field: string): void {
  const candidates = delimiterOption === 'auto' ? CSV_DELIMITERS : [delimiterOption];
  const codes = candidates.map((d) => d.charCodeAt(0));
  const counts = codes.map(() => 1);
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) inQuotes = !inQuotes;
    else if (inQuotes) continue;
    else if (c === 10 || c === 13) return;
    else {
      const k = codes.indexOf(c);
      if (k >= 0 && ++counts[k] > MAX_CSV_COLUMNS) {
        throw new CsvError(
          field,
          `has more than ${MAX_CSV_COLUMNS.toLocaleString('en-US')} columns (separated by ${delimiterName(candidates[k])}); at most ${MAX_CSV_COLUMNS.toLocaleString('en-US')} can be read`,
          1,
        );
      }
    }
  }
}

/** The first rows (trimmed cells, blank lines left out) with the delimiter and line end they use. */
function sampleRows(text: string, delimiterOption: CsvDelimiter | 'auto', field: string) {
  checkColumnCount(text, delimiterOption, field);
  const sample = firstRows(text);
  const delimiter = delimiterOption === 'auto' ? guessDelimiter(sample) : delimiterOption;
  // Blank lines are kept here so that an error's row index is the record's, as in the full parse.
  const sniffed = Papa.parse<string[]>(sample, { delimiter, preview: SAMPLE_ROWS + 1, skipEmptyLines: false });
  if (sample.length === text.length && sniffed.errors.length > 0) {
    const error = sniffed.errors[0];
    const row = error.row === undefined ? undefined : error.row + 1;
    throw new CsvError(field, `${error.message.replace(/\.$/, '')} (check the quotes)`, row);
  }
  const newline = sniffed.meta.linebreak || '\n';
  const rows: SampleRow[] = sniffed.data
    .map((cells, i) => ({ row: i + 1, cells: cells.map((cell) => cell.trim()) }))
    .filter(({ cells }) => cells.length > 1 || cells[0] !== '');
  if (rows.length === 0) throw new CsvError(field, 'the file is empty');
  return { sample, delimiter, newline, rows };
}

/**
 * Each column's number format by its own cells; then a column that proves nothing (1,234 alone) by
 * the mark the other numeric columns prove, else the setting, else the delimiter.
 */
function detectNumbers(
  columnCells: SampleCell[][],
  decimalSetting: DecimalSetting,
  delimiter: CsvDelimiter,
): { verdicts: ColumnVerdict[]; decimal: DecimalMark } {
  const setting = decimalSetting === 'auto' ? null : decimalSetting;
  const semicolons = delimiter === ';';
  let verdicts = columnCells.map((cells) => detectColumn(cells, { preferred: setting, semicolons }));
  const proven = verdicts.flatMap((v, c) => (v.numeric ? [provenDecimal(columnCells[c])] : []));
  const votes = { '.': proven.filter((d) => d === '.').length, ',': proven.filter((d) => d === ',').length };
  const fileDecimal: DecimalMark | null = votes['.'] + votes[','] === 0 ? null : votes[','] > votes['.'] ? ',' : '.';
  if (fileDecimal !== null) {
    verdicts = verdicts.map((v, c) =>
      v.numeric && v.ambiguous && provenDecimal(columnCells[c]) === null
        ? detectColumn(columnCells[c], { preferred: fileDecimal, semicolons })
        : v,
    );
  }
  const decimal: DecimalMark =
    fileDecimal ?? setting ?? (verdicts.some((v) => v.numeric && v.format.decimal === ',') ? ',' : '.');
  return { verdicts, decimal };
}

/** What the sample showed of the columns: names, header, which hold numbers, which dates. */
interface Detected {
  table: ColumnTable;
  header: boolean;
  numeric: boolean[];
  dateFormats: (DateFormat | null)[];
}

/** The date column (-1: none): the one the options name, else the most date-like the sample shows. */
function dateColumnOf(options: CsvOptions, { table, header, numeric, dateFormats }: Detected): number {
  if (options.dateColumn !== undefined) {
    return options.dateColumn === null ? -1 : columnIndex(table, options.dateColumn, 'dateColumn');
  }
  // A column named as dates (and read as dates, or as text); else the first text column of dates;
  // else a numeric column of epoch times or years.
  const columns = table.columns;
  let date = columns.findIndex((name, c) => header && DATE_NAME.test(name) && (!numeric[c] || dateFormats[c] !== null));
  if (date < 0) date = columns.findIndex((_, c) => !numeric[c] && dateFormats[c] !== null);
  if (date < 0) date = columns.findIndex((_, c) => numeric[c] && dateFormats[c] !== null);
  return date;
}

/** The rows to keep by one column's text, where the options ask for it. */
function filterOf(options: CsvOptions, table: ColumnTable): ParsePlan['filter'] {
  if (options.filter === undefined) return null;
  if (typeof options.filter.value !== 'string') {
    throw new InputError('filter.value', `expected text to match, got ${describeValue(options.filter.value)}`);
  }
  return { index: columnIndex(table, options.filter.column, 'filter.column'), value: options.filter.value };
}

/** The value columns the options chose, as indices (at least one). */
function chosenValueColumns(refs: CsvOptions['valueColumns'], table: ColumnTable): number[] {
  if (!Array.isArray(refs) || refs.length < 1) {
    throw new InputError('valueColumns', `choose at least one column (columns: ${quoteList(table.columns)})`);
  }
  return refs.map((ref, k) => columnIndex(table, ref, `valueColumns[${k}]`));
}

/** Each column's kind and a note on it for a person: date, filter key, text, row counter or values. */
function describeColumns(
  allColumns: string[],
  chosen: {
    date: number;
    dateFormats: (DateFormat | null)[];
    filter: ParsePlan['filter'];
    verdicts: ColumnVerdict[];
    index: boolean[];
  },
): CsvColumn[] {
  const { date, dateFormats, filter, verdicts, index } = chosen;
  return allColumns.map((name, c) => {
    if (c === date) {
      const format = dateFormats[c];
      return { name, kind: 'date', note: format === null ? 'dates, as written' : DATE_KIND_TEXT[format.kind] };
    }
    if (c === filter?.index) return { name, kind: 'key', note: `rows with ${JSON.stringify(filter.value)} are kept` };
    const verdict = verdicts[c];
    if (!verdict.numeric) return { name, kind: 'text', note: verdict.reason };
    const like = `numbers like ${describeExample(verdict.format)}`;
    return index[c]
      ? { name, kind: 'index', note: `counts rows (${like}): not a default column` }
      : { name, kind: 'value', note: like };
  });
}

/** Lines the sample holds at least, however long they are: a header and two rows. */
const MIN_SAMPLE_LINES = 3;

/**
 * The start of the text, ending at a line end when the text goes on, so its last row is whole: about
 * SAMPLE_CHARS, and at least MIN_SAMPLE_LINES lines even when a line is longer than that.
 */
function firstRows(text: string): string {
  if (text.length <= SAMPLE_CHARS) return text;
  let end = Math.max(text.lastIndexOf('\n', SAMPLE_CHARS), text.lastIndexOf('\r', SAMPLE_CHARS));
  let lines = 0;
  let at = -1;
  while (lines < MIN_SAMPLE_LINES) {
    const next = text.slice(at + 1).search(/[\r\n]/);
    if (next < 0) {
      at = text.length;
      break;
    }
    at += next + 1;
    // CRLF is one line end.
    if (text.charCodeAt(at) === 13 && text.charCodeAt(at + 1) === 10) at++;
    lines++;
  }
  end = Math.max(end, at);
  return end > 0 && end < text.length ? text.slice(0, end) : text;
}

/**
 * The delimiter that splits the first rows most consistently into the width of row 1, then gives
 * the most numbers, then the most columns. Comma when none splits row 1 at all (one column).
 */
function guessDelimiter(sample: string): CsvDelimiter {
  let best: CsvDelimiter = ',';
  let bestScore = [-1, -1, -1];
  for (const delimiter of CSV_DELIMITERS) {
    const { data } = Papa.parse<string[]>(sample, { delimiter, preview: SAMPLE_ROWS + 1, skipEmptyLines: 'greedy' });
    const width = data.length > 0 ? data[0].length : 0;
    if (width < 2) continue;
    let cells = 0;
    let numbers = 0;
    for (const row of data) {
      for (const cell of row) {
        cells++;
        if (looksNumeric(cell.trim())) numbers++;
      }
    }
    const consistent = data.filter((row) => row.length === width).length / data.length;
    const score = [consistent, numbers / Math.max(1, cells), width];
    const better = score.findIndex((v, k) => v !== bestScore[k]);
    if (better >= 0 && score[better] > bestScore[better]) {
      best = delimiter;
      bestScore = score;
    }
  }
  return best;
}

/** A number in some format (a currency, separators, a percent sign). */
function looksNumeric(cell: string): boolean {
  return cell.length <= MAX_CELL_CHARS && scanNumber(cell) !== null;
}

/**
 * Row 1 is a header when some column has text there but numbers (in any format) or dates below it;
 * or when it holds only text that no row below repeats in its column (a file without numbers);
 * or when it is the only row and holds any text.
 */
function looksLikeHeader(rows: string[][]): boolean {
  if (rows.length === 0) return false;
  const isText = (cell: string | undefined) => cell !== undefined && cell !== '' && !looksNumeric(cell);
  if (rows.length === 1) return rows[0].some(isText);
  const below = rows.slice(1);
  const typed = rows[0].some((cell, c) => {
    if (!isText(cell)) return false;
    const cells = below.map((row, i) => ({ row: i + 2, text: row[c] ?? '' }));
    const dates = detectDateFormat(cells, cell, false, false) !== null;
    const dateItself = detectDateFormat([{ row: 1, text: cell }], cell, false, false) !== null;
    return detectColumn(cells, { preferred: null, semicolons: false }).numeric || (dates && !dateItself);
  });
  return typed || (rows[0].every(isText) && rows[0].every((cell, c) => below.every((row) => row[c] !== cell)));
}

/**
 * A column that counts rows: whole numbers with the same step from each filled row to the next,
 * named as a counter ("index", "id", none) with three rows or more, or with a step of ±1 over five.
 */
function isIndexColumn(name: string, cells: readonly SampleCell[]): boolean {
  const numbers = cells.filter((cell) => cell.text !== '').map((cell) => Number(cell.text));
  if (numbers.length < 3 || !numbers.every(Number.isInteger)) return false;
  const step = numbers[1] - numbers[0];
  if (step === 0 || !numbers.every((v, i) => i === 0 || v - numbers[i - 1] === step)) return false;
  return INDEX_NAME.test(name) || (Math.abs(step) === 1 && numbers.length >= 5);
}

/** Names from the header cells: blanks become "column k", repeats get " (2)", " (3)"… */
function columnNames(headerCells: string[], width: number): string[] {
  const names: string[] = [];
  const used = new Set<string>();
  for (let c = 0; c < width; c++) {
    const base = headerCells[c] ? headerCells[c] : `column ${c + 1}`;
    let name = base;
    for (let k = 2; used.has(name); k++) name = `${base} (${k})`;
    used.add(name);
    names.push(name);
  }
  return names;
}

/** The value of a trimmed cell under `format`, or NaN when it does not read as one within float32's range. */
function parseNumber(cell: string, format: NumberFormat): number {
  if (cell.length > MAX_CELL_CHARS) return Number.NaN;
  if (!isPlain(format)) return readNumber(cell, format);
  if (!isDecimal(cell)) return Number.NaN;
  const value = Number(cell);
  return Math.abs(value) <= FLOAT32_MAX ? value : Number.NaN;
}

function problemWith(cell: string, format: NumberFormat): string {
  if (cell === '') return 'the value is missing';
  if (cell.length > MAX_CELL_CHARS) return tooLong(cell);
  if (/^[+-]?(nan|inf|infinity)$/i.test(cell)) return `expected a finite number, got ${describeValue(cell)}`;
  const scanned = scanNumber(cell);
  if (scanned !== null && Math.abs(unboundedValueOf(scanned, format)) > FLOAT32_MAX) {
    return `${cell} is beyond the range of 32-bit floats (±3.4e38)`;
  }
  const plain = isPlain(format);
  const hint = plain && /^[+-]?\d+,\d+$/.test(cell) ? ' (for a decimal comma choose decimal ",")' : '';
  return `expected a number${plain ? '' : ` like ${describeExample(format)}`}, got ${describeValue(cell)}${hint}`;
}

function tooLong(cell: string): string {
  return `the cell holds ${cell.length.toLocaleString('en-US')} characters; a value or date may have at most ${MAX_CELL_CHARS.toLocaleString('en-US')}`;
}

/** A row whose date goes up or down from the row above: its spreadsheet row, its date and the one above. */
interface Step {
  row: number;
  label: string;
  previous: string;
}

/** Appends rows into growing float64 columns, checking and counting as it goes. */
class TableBuilder {
  private readonly plan: ParsePlan;
  private readonly columns: Float64Array[];
  private readonly dates: string[] | null;
  /** The dates' times (ms), NaN where a cell did not read in the column's date format. */
  private times: Float64Array | null;
  private rows = 0;
  /** Spreadsheet number of the last record seen. */
  private record = 0;
  private headerSeen = false;
  private dropCount = 0;
  private readonly dropRows: DroppedRow[] = [];
  private readonly filterValuesSeen = new Set<string>();
  /** Each value column's position in plan.values, by its column (a lookup, not a search per column). */
  private readonly valueIndex: Map<number, number>;
  /** How the dates run from row to row: rises, falls, and where the first of each is (spreadsheet rows). */
  private readonly order = { up: 0, down: 0, firstUp: null as Step | null, firstDown: null as Step | null };
  private lastTime = Number.NaN;
  private lastLabel = '';
  /** With futureRows: each row (in file order) with a missing value, and where its first one is. */
  private readonly gaps: { at: number; record: number; column: number }[] = [];
  /** Whether each value column's format is plain (plan.formats[k]). */
  private readonly plain: boolean[];
  /** The first quote at or after the last piece's start (the text's length: none), so no search repeats. */
  private quoteAt = -1;
  private readonly arrayCells = new ArrayCells();
  private readonly spanCells = new SpanCells();

  constructor(plan: ParsePlan) {
    this.plan = plan;
    this.valueIndex = new Map(plan.values.map((c, k) => [c, k]));
    this.plain = plan.formats.map(isPlain);
    // Sized once from the estimate, so a large file is not copied again and again as it grows.
    this.columns = plan.values.map(() => new Float64Array(plan.expectedRows));
    this.dates = plan.date >= 0 ? [] : null;
    this.times = plan.dateFormat !== null ? new Float64Array(plan.expectedRows) : null;
  }

  /**
   * The records of text[start, end), a piece of whole records from pieces(). A piece with a quote goes
   * through papaparse; one without is split here exactly as papaparse splits it (at each line end, then
   * at each delimiter), without an array or a string a cell.
   */
  addPiece(text: string, start: number, end: number): void {
    const { plan } = this;
    // Every piece but the last ends with its line end; leaving it out keeps papaparse from adding an
    // empty record, so the pieces' records are exactly those of the whole text.
    const stop = end < text.length ? end - plan.newline.length : end;
    if (this.quoteAt < start) {
      const quote = text.indexOf('"', start);
      this.quoteAt = quote < 0 ? text.length : quote;
    }
    if (this.quoteAt < stop) {
      this.addChunk(parsePiece(text.slice(start, stop), plan));
      return;
    }
    eachPlainRecord(text, start, stop, plan, this.spanCells, this.addRecord);
  }

  private addChunk(results: Papa.ParseResult<string[]>): void {
    const { plan } = this;
    const first = this.record;
    for (const error of results.errors) {
      // Quoting errors can shift every field after them, so the file is refused whatever the policy.
      const row = error.row === undefined ? undefined : first + error.row + 1;
      throw new CsvError(plan.field, `${error.message.replace(/\.$/, '')} (check the quotes)`, row);
    }
    const cells = this.arrayCells;
    for (const row of results.data) {
      cells.cells = row;
      this.addRecord(cells);
    }
  }

  private readonly addRecord = (cells: RecordCells): void => {
    this.record++;
    if (cells.count === 1 && cells.text(0) === '') return;
    if (this.plan.header && !this.headerSeen) {
      this.headerSeen = true;
      return;
    }
    this.addRow(cells);
  };

  private addRow(cells: RecordCells): void {
    const { plan } = this;
    const width = plan.allColumns.length;
    if (cells.count !== width) {
      const fields = `${cells.count} field${cells.count === 1 ? '' : 's'}`;
      const reason = `has ${fields} but ${plan.header ? 'the header has' : 'the first rows have'} ${width}; is the delimiter mixed? (reading with ${delimiterName(plan.delimiter)})`;
      if (!plan.drop) throw new CsvError(plan.field, reason, this.record);
      this.dropRow({ row: this.record, column: '', value: cells.joined(plan.delimiter).slice(0, 40), reason });
      return;
    }
    if (plan.filter) {
      const key = cells.text(plan.filter.index);
      if (key !== plan.filter.value) {
        if (this.filterValuesSeen.size < 20) this.filterValuesSeen.add(key);
        return;
      }
    }
    let date = '';
    let time = Number.NaN;
    if (plan.date >= 0) {
      date = cells.text(plan.date);
      if ((date === '' || date.length > MAX_CELL_CHARS) && this.problem(plan.date, date)) return;
      if (plan.dateFormat !== null) {
        // A cell outside the column's format keeps its text as the label; its time stays unknown.
        const read = readDate(date, plan.dateFormat);
        if (read !== null) {
          date = read.label;
          time = read.time;
        }
      }
    }
    const at = this.rows;
    if (at === plan.maxRows) {
      throw new CsvError(
        plan.field,
        `has more than ${plan.maxRows.toLocaleString('en-US')} data rows, the most read here; use a shorter file (the CLI reads longer ones)`,
        this.record,
      );
    }
    this.grow();
    let gap = -1;
    for (let k = 0; k < plan.values.length; k++) {
      const c = plan.values[k];
      const value = cells.value(c, plan.formats[k], this.plain[k]);
      if (Number.isNaN(value)) {
        const cell = cells.text(c);
        // Possibly a future row's value not known yet: settled in finish(), once the last rows are known.
        if (plan.futureRows && (cell === '' || isMissingMarker(cell))) {
          if (gap < 0) gap = c;
          this.columns[k][at] = Number.NaN;
          continue;
        }
        this.problem(c, cell);
        return;
      }
      this.columns[k][at] = value;
    }
    if (gap >= 0) this.gaps.push({ at, record: this.record, column: gap });
    if (this.dates) this.dates.push(date);
    if (this.times) {
      this.times[at] = time;
      this.noteOrder(time, date);
    }
    this.rows++;
  }

  /** Counts a rise or a fall of the dates from the last dated row, keeping where the first of each is. */
  private noteOrder(time: number, label: string): void {
    if (Number.isNaN(time)) return;
    const { order } = this;
    if (time !== this.lastTime && !Number.isNaN(this.lastTime)) {
      const step: Step = { row: this.record, label, previous: this.lastLabel };
      if (time > this.lastTime) {
        order.up++;
        order.firstUp ??= step;
      } else {
        order.down++;
        order.firstDown ??= step;
      }
    }
    this.lastTime = time;
    this.lastLabel = label;
  }

  /** Refuses (throws) or records the row as dropped; returns true when the row is to be skipped. */
  private problem(c: number, cell: string): true {
    const { plan } = this;
    const column = plan.allColumns[c];
    const reason =
      c !== plan.date
        ? problemWith(cell, plan.formats[this.valueIndex.get(c) ?? -1] ?? PLAIN_FORMAT)
        : cell === ''
          ? 'the date is missing'
          : tooLong(cell);
    if (!plan.drop) throw new CsvError(plan.field, reason, this.record, column);
    this.dropRow({ row: this.record, column, value: cell.slice(0, 40), reason });
    return true;
  }

  private dropRow(dropped: DroppedRow): void {
    this.dropCount++;
    if (this.dropRows.length < MAX_REPORTED_DROPS) this.dropRows.push(dropped);
  }

  private grow(): void {
    const capacity = this.columns.length > 0 ? this.columns[0].length : Infinity;
    if (this.rows < capacity) return;
    const size = Math.ceil(capacity * 1.5) + 1024;
    for (let k = 0; k < this.columns.length; k++) {
      const bigger = new Float64Array(size);
      bigger.set(this.columns[k]);
      this.columns[k] = bigger;
    }
    if (this.times) {
      const bigger = new Float64Array(size);
      bigger.set(this.times);
      this.times = bigger;
    }
  }

  /**
   * The column that shows the rows run newest first, or null: the dates fall from row to row more
   * often than they rise, or a row counter falls. Dates that go the other way anywhere (a row out of
   * order) are refused, naming the first such row: the held-out part must be the newest rows.
   */
  private newestFirst(values: Float64Array[]): string | null {
    const { plan, order } = this;
    if (this.times !== null && order.up + order.down > 0) {
      const reversed = order.down > order.up;
      const against = reversed ? order.firstUp : order.firstDown;
      if (against !== null) {
        const count = reversed ? order.up : order.down;
        throw new CsvError(
          plan.field,
          `the date ${JSON.stringify(against.label)} comes ${reversed ? 'after' : 'before'} the row above's ${JSON.stringify(against.previous)}, where the file runs ${reversed ? 'newest' : 'oldest'} first` +
            ` (${count} row${count === 1 ? '' : 's'} go${count === 1 ? 'es' : ''} against the order); sort the file by its dates`,
          against.row,
          plan.allColumns[plan.date],
        );
      }
      return reversed ? plan.allColumns[plan.date] : null;
    }
    for (const c of plan.indexColumns) {
      const column = values[this.valueIndex.get(c) ?? -1];
      let falling = column.length > 1;
      for (let i = 1; i < column.length && falling; i++) falling = column[i] < column[i - 1];
      if (falling) return plan.allColumns[c];
    }
    return null;
  }

  finish(): CsvTable {
    const { plan } = this;
    if (this.rows === 0) {
      if (plan.filter && this.dropCount === 0) {
        throw new InputError(
          'filter.value',
          `no row has ${JSON.stringify(plan.allColumns[plan.filter.index])} = ${JSON.stringify(plan.filter.value)}` +
            ` (values seen: ${quoteList([...this.filterValuesSeen])})`,
        );
      }
      const what = this.dropCount > 0 ? `all ${this.dropCount} data rows were dropped` : 'there are no data rows';
      throw new CsvError(plan.field, `${plan.header ? 'the file has a header row but ' : ''}${what}`);
    }
    if (this.rows === 1) {
      throw new CsvError(plan.field, 'only 1 data row was read; a series needs at least 2 (and more than the window)');
    }
    let values = this.columns.map((column) => column.slice(0, this.rows));
    const reversedBy = this.newestFirst(values);
    if (reversedBy !== null) {
      for (const column of values) column.reverse();
      this.dates?.reverse();
    }
    const columns = plan.values.map((c) => plan.allColumns[c]);
    let rows = this.rows;
    let dates = this.dates;
    let future: ColumnTable | null = null;
    if (this.gaps.length > 0) {
      const kept = this.settleGaps(reversedBy !== null);
      values = values.map((column) => column.filter((_, r) => kept.has(r)));
      dates = dates?.filter((_, r) => kept.has(r)) ?? null;
      rows = kept.size;
      const first = rows - kept.future;
      future = {
        columns,
        values: values.map((column) => column.slice(first)),
        rows: kept.future,
        ...(dates ? { dates: dates.slice(first) } : {}),
      };
      values = values.map((column) => column.slice(0, first));
      dates = dates?.slice(0, first) ?? null;
      rows = first;
      if (rows < 2) {
        throw new CsvError(
          plan.field,
          `${rows} data row${rows === 1 ? '' : 's'} before the ${kept.future} at the end with missing values (the data's future); a series needs at least 2`,
        );
      }
    }
    const table: CsvTable = {
      columns,
      values,
      rows,
      allColumns: plan.allColumns,
      columnInfo: plan.columnInfo,
      defaultColumns: plan.defaultColumns,
      dateColumn: plan.date >= 0 ? plan.allColumns[plan.date] : null,
      dateKind: plan.dateFormat?.kind ?? null,
      delimiter: plan.delimiter,
      header: plan.header,
      decimal: plan.decimal,
      reversedBy,
      dropped: { count: this.dropCount, rows: this.dropRows },
      future,
    };
    if (dates) table.dates = dates;
    return table;
  }

  /**
   * The rows (indices in time order) kept once the rows with missing values are settled: those at the
   * end are the data's future (`future` of them, the last kept); each earlier one is refused or
   * dropped as `missing` says, as a row with a bad value is.
   */
  private settleGaps(reversed: boolean): Set<number> & { future: number } {
    const { plan } = this;
    const inTime = (at: number) => (reversed ? this.rows - 1 - at : at);
    const gapAt = new Map(this.gaps.map((gap) => [inTime(gap.at), gap]));
    let future = 0;
    while (future < this.rows && gapAt.has(this.rows - 1 - future)) future++;
    const kept = new Set<number>() as Set<number> & { future: number };
    for (let r = 0; r < this.rows; r++) {
      const gap = gapAt.get(r);
      if (gap !== undefined && r < this.rows - future) {
        const column = plan.allColumns[gap.column];
        const reason = 'the value is missing, and the row is not among the last rows (the data’s future)';
        if (!plan.drop) throw new CsvError(plan.field, reason, gap.record, column);
        this.dropRow({ row: gap.record, column, value: '', reason });
        continue;
      }
      kept.add(r);
    }
    kept.future = future;
    return kept;
  }
}

/**
 * Refuses a chosen column (name or 0-based index among the value columns) that the file has but
 * that holds no numbers, or is its date column, saying why; unknown names are left to the caller.
 */
export function checkValueColumns(table: CsvTable, refs: readonly ColumnRef[], field: string): void {
  for (const ref of refs) {
    if (typeof ref !== 'string' || table.columns.includes(ref)) continue;
    const column = table.columnInfo.find((c) => c.name === ref);
    if (column === undefined) continue;
    const why = column.kind === 'date' ? `it is the date column (${column.note})` : column.note;
    throw new InputError(
      field,
      `${JSON.stringify(ref)} is not a column of numbers: ${why}; the value columns are ${quoteList(table.columns)}`,
    );
  }
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function tooLarge(field: string, size: number, max: number): CsvError {
  const mb = (n: number) => `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  return new CsvError(field, `the file is ${mb(size)}, more than the ${mb(max)} that can be read`);
}

export const DELIMITER_NAMES: Record<CsvDelimiter, string> = {
  ',': 'commas',
  ';': 'semicolons',
  '\t': 'tabs',
  '|': 'bars',
};

function delimiterName(delimiter: CsvDelimiter): string {
  return DELIMITER_NAMES[delimiter];
}

function quoteList(names: string[]): string {
  const shown = names.slice(0, 20).map((name) => JSON.stringify(name));
  if (names.length > 20) shown.push(`… ${names.length - 20} more`);
  return shown.join(', ') || 'none';
}
