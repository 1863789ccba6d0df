// The user's CSV on the page: a file picker and a drop box, parsed with parseCsv in a Web Worker
// (csvWorker.ts: the page stays responsive whatever the file, a progress bar moves), then a choice of
// value columns as inputs and outputs and of the date column; every column of the file is listed,
// those that are not numbers with the reason (columnChooser.ts: a file of thousands of columns shows
// them a page at a time, with a find box). A file that cannot be read gets its message beside the
// control and the file in use before it stays in use; changing how bad values or decimal marks are
// read reads the file picked last again, even one that was refused. Column names are the file's
// text: they go in through textContent only, never as markup.

import { type CsvOptions, type CsvTable, DELIMITER_NAMES } from '../data/csv.js';
import type { DecimalSetting } from '../data/numberFormat.js';
import { InputError } from '../model/errors.js';
import { CHOOSER_PAGE, ColumnChooser, ROLE_WORDS, type Role } from './columnChooser.js';
import type { CsvParseRequest } from './csvWorker.js';
import type { CsvChoice } from './dataView.js';
import { byId, el, setText } from './dom.js';
import { knownAheadOf } from './knownAhead.js';
import type { LinkColumns } from './link.js';
import { type PackedTable, unpackTable } from './packedTable.js';
import { messageOf, PAGE_LIMITS } from './settings.js';
import { workerJob } from './workerJob.js';

const MAX_CSV_BYTES = 256 * 1024 * 1024;

interface Loaded {
  file: File;
  table: CsvTable;
  inputs: string[];
  outputs: string[];
  /** Columns marked known ahead (their future values are in the file's last rows); only inputs that are not outputs count. */
  known: string[];
  /** The date column as chosen: undefined while the parser's guess stands. */
  date: string | null | undefined;
}

export class CsvPicker {
  private readonly root = byId('csv-picker', HTMLDivElement);
  private readonly fileInput = byId('csv-file', HTMLInputElement);
  private readonly drop = byId('csv-drop', HTMLLabelElement);
  private readonly progress = byId('csv-progress', HTMLProgressElement);
  private readonly status = byId('csv-status', HTMLParagraphElement);
  private readonly error = byId('csv-error', HTMLParagraphElement);
  private readonly columnsBox = byId('csv-columns', HTMLDivElement);
  private readonly chooser = new ColumnChooser(
    () => this.loaded ?? { inputs: [], outputs: [], known: [] },
    (role, name, on) => this.toggle(role, name, on),
  );
  private readonly dateSelect = byId('csv-date', HTMLSelectElement);
  private loaded: Loaded | null = null;
  /** The file picked or dropped last, read or refused: what a changed reading setting reads again. */
  private picked: File | null = null;
  /** Columns a link or a loaded model asked for, applied when a file is read. */
  private pending: LinkColumns = { inputs: null, outputs: null, knownAhead: null, date: undefined };
  private parsing: AbortController | null = null;
  /** Whether the date select lists every column (a long file's lists them once it is reached). */
  private datesListed = true;
  private readonly listeners: (() => void)[] = [];

  constructor(
    private readonly missing: () => 'refuse' | 'drop',
    private readonly decimal: () => DecimalSetting,
  ) {
    this.fileInput.addEventListener('change', () => {
      const file = this.fileInput.files?.[0];
      if (file) void this.read(file, undefined);
      // The same file picked again (after fixing it on disk) is a change too.
      this.fileInput.value = '';
    });
    for (const type of ['dragenter', 'dragover'] as const) {
      this.drop.addEventListener(type, (event) => {
        event.preventDefault();
        this.drop.classList.add('dragging');
      });
    }
    this.drop.addEventListener('dragleave', () => this.drop.classList.remove('dragging'));
    this.drop.addEventListener('drop', (event) => {
      event.preventDefault();
      this.drop.classList.remove('dragging');
      this.take(event.dataTransfer?.files ?? null);
    });
    for (const type of ['focus', 'pointerdown'] as const)
      this.dateSelect.addEventListener(type, () => this.listAllDates());
    this.dateSelect.addEventListener('change', () => {
      if (!this.loaded) return;
      const value = this.dateSelect.value;
      void this.read(this.loaded.file, value === '' ? null : value);
    });
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  show(visible: boolean): void {
    this.root.hidden = !visible;
  }

  /** The table and columns to train on, or null before a file was read. */
  choice(): CsvChoice | null {
    if (this.loaded === null) return null;
    const { table, file, inputs, outputs, known } = this.loaded;
    return {
      table,
      label: file.name,
      inputs: [...inputs],
      outputs: [...outputs],
      knownAhead: knownAheadOf(known, inputs, outputs),
    };
  }

  /** Whether a file is being read (a run must wait for it). */
  busy(): boolean {
    return this.parsing !== null;
  }

  /** The columns as a link carries them. */
  linkColumns(): LinkColumns {
    if (this.loaded === null) return this.pending;
    const { inputs, outputs, known, date } = this.loaded;
    return { inputs, outputs, knownAhead: known.length > 0 ? known : null, date };
  }

  /** Columns to choose when a file is read (from a link or a loaded model); applied now if one is. */
  choose(columns: LinkColumns): void {
    this.pending = columns;
    if (this.loaded !== null) {
      if (columns.date !== undefined && columns.date !== this.loaded.table.dateColumn) {
        void this.read(this.loaded.file, columns.date);
        return;
      }
      this.applyPending(this.loaded);
      this.renderColumns();
      this.changed();
    }
  }

  /** Reads a dropped file (on the box, or anywhere on the page); says what to drop when it is not one file. */
  take(files: FileList | null): void {
    if (!files || files.length === 0) {
      this.fail('nothing to read was dropped; drop a CSV file');
      return;
    }
    if (files.length > 1) {
      this.fail(`${files.length} files were dropped; drop one CSV file`);
      return;
    }
    void this.read(files[0], undefined);
  }

  /** A note under the control while no file is read (a link asked for a CSV). */
  note(text: string): void {
    if (this.loaded === null) setText(this.status, text);
  }

  /**
   * Reads the file picked last again (the missing-values policy or the decimal mark changed), even
   * when it was refused: choosing "drop the row" after a refusal needs no second pick.
   */
  reread(): void {
    if (this.picked === null) return;
    const date = this.loaded?.file === this.picked ? this.loaded.date : undefined;
    void this.read(this.picked, date);
  }

  /** A message about the file or its columns, from elsewhere (a run refused the columns). */
  fail(message: string): void {
    setText(this.error, message);
  }

  private async read(file: File, date: string | null | undefined): Promise<void> {
    this.picked = file;
    this.parsing?.abort();
    const parsing = new AbortController();
    this.parsing = parsing;
    setText(this.error, '');
    this.progress.hidden = false;
    this.progress.value = 0;
    setText(this.status, `Reading ${file.name}…`);
    this.changed();
    try {
      if (file.size > MAX_CSV_BYTES) {
        throw new InputError(
          file.name,
          `the file is ${(file.size / 2 ** 20).toFixed(1)} MiB; at most 256 MiB can be read`,
        );
      }
      const chosenDate = date !== undefined ? date : this.pending.date;
      const table = await parseInWorker(
        file,
        {
          field: file.name,
          maxRows: PAGE_LIMITS.csvRows,
          missing: this.missing(),
          decimal: this.decimal(),
          // The last rows with missing values are the data's future: known-ahead inputs are read there.
          futureRows: true,
          ...(chosenDate !== undefined ? { dateColumn: chosenDate } : {}),
        },
        parsing.signal,
        (fraction) => {
          this.progress.value = fraction;
        },
      );
      if (this.parsing !== parsing) return;
      const previous = this.loaded;
      const kept = (names: string[] | undefined) => names?.filter((name) => table.columns.includes(name)) ?? [];
      const loaded: Loaded = {
        file,
        table,
        // The same file read again keeps the columns chosen; a new one starts from its first column.
        inputs: previous?.file === file ? kept(previous.inputs) : [],
        outputs: previous?.file === file ? kept(previous.outputs) : [],
        known: previous?.file === file ? kept(previous.known) : [],
        date: chosenDate,
      };
      if (previous?.file !== file) {
        this.applyPending(loaded);
        this.chooser.reset();
      }
      // A column that counts rows is never the first pick.
      if (loaded.inputs.length === 0) loaded.inputs = [table.defaultColumns[0] ?? table.columns[0]];
      if (loaded.outputs.length === 0) loaded.outputs = [...loaded.inputs];
      this.loaded = loaded;
      this.renderColumns();
      setText(this.status, `${file.name}: ${describeTable(table)}`);
    } catch (err) {
      if (this.parsing !== parsing) return;
      const message = err instanceof InputError ? messageOf(err) : (err as Error).message;
      const hint =
        /missing|expected a (finite )?number/.test(message) && this.missing() === 'refuse'
          ? ' (or choose “drop the row” to skip such rows)'
          : '';
      setText(this.error, `${file.name} was not read: ${message}${hint}.`);
      setText(
        this.status,
        this.loaded ? `Still using ${this.loaded.file.name}: ${describeTable(this.loaded.table)}` : '',
      );
    } finally {
      if (this.parsing === parsing) {
        this.parsing = null;
        this.progress.hidden = true;
      }
      this.changed();
    }
  }

  /** Takes the pending columns that the file has; says which it lacks. */
  private applyPending(loaded: Loaded): void {
    const missingNames: string[] = [];
    const pick = (names: string[] | null): string[] => {
      if (names === null) return [];
      const found = names.filter((name) => loaded.table.columns.includes(name));
      missingNames.push(...names.filter((name) => !found.includes(name)));
      return found;
    };
    const inputs = pick(this.pending.inputs);
    const outputs = pick(this.pending.outputs);
    const known = pick(this.pending.knownAhead);
    if (inputs.length > 0) loaded.inputs = inputs;
    if (outputs.length > 0) loaded.outputs = outputs;
    if (known.length > 0) loaded.known = known;
    if (missingNames.length > 0) {
      setText(
        this.error,
        `${loaded.file.name} has no value column ${[...new Set(missingNames)].map((n) => JSON.stringify(n)).join(', ')}; choose the columns below.`,
      );
    }
    this.pending = { inputs: null, outputs: null, knownAhead: null, date: undefined };
  }

  private renderColumns(): void {
    const loaded = this.loaded;
    this.columnsBox.hidden = loaded === null;
    if (loaded === null) return;
    // Every column of the file: values (and row counters) can be chosen; the others say what they are.
    const valueIndex = new Map(loaded.table.columns.map((name, i) => [name, i]));
    this.chooser.show({ columns: loaded.table.columnInfo, valueIndex });
    // Any column can be the date column (a numeric one, such as epoch seconds, too); it then leaves the
    // values. Thousands of options take the page a few hundred ms to lay out, so a file of more than
    // CHOOSER_PAGE columns lists them when the select is first reached (focus, or a press on it).
    const { allColumns, dateColumn } = loaded.table;
    this.datesListed = allColumns.length <= CHOOSER_PAGE;
    this.listDates(this.datesListed ? allColumns : dateColumn === null ? [] : [dateColumn], dateColumn);
  }

  private listDates(names: readonly string[], value: string | null): void {
    const options = document.createDocumentFragment();
    options.append(el('option', { value: '' }, ['none']));
    for (const name of names) options.append(el('option', { value: name }, [name]));
    this.dateSelect.replaceChildren(options);
    this.dateSelect.value = value ?? '';
  }

  /** Lists every column in the date select, if it does not yet (a long file's, on first reaching it). */
  private listAllDates(): void {
    if (this.datesListed || this.loaded === null) return;
    this.datesListed = true;
    this.listDates(this.loaded.table.allColumns, this.loaded.table.dateColumn);
  }

  private toggle(role: Role, name: string, on: boolean): void {
    const loaded = this.loaded;
    if (!loaded) return;
    const order = loaded.table.columns;
    const chosen = new Set(loaded[role]);
    if (on) chosen.add(name);
    else chosen.delete(name);
    loaded[role] = order.filter((column) => chosen.has(column));
    setText(
      this.error,
      role !== 'known' && loaded[role].length === 0
        ? `choose at least one ${ROLE_WORDS[role].replace('as an ', '')} column`
        : '',
    );
    this.changed();
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}

/** Parses `file` in a worker of its own (csvWorker.ts), ended when the answer comes or `signal` aborts. */
async function parseInWorker(
  file: File,
  options: CsvOptions,
  signal: AbortSignal,
  onProgress: (fraction: number) => void,
): Promise<CsvTable> {
  const packed = await workerJob<CsvParseRequest, PackedTable | CsvTable>(
    () => new Worker(new URL('./csvWorker.ts', import.meta.url), { type: 'module', name: 'csv-parse' }),
    { file, options },
    { signal, onProgress, stopped: 'the CSV reader stopped' },
  );
  return unpackTable(packed);
}

/**
 * "1,234 rows, 2 value columns (commas, a header row, decimal commas, dates in "Date"); 3 rows dropped
 * (…). The file runs newest first…"
 */
export function describeTable(table: CsvTable): string {
  const parts = [DELIMITER_NAMES[table.delimiter], table.header ? 'a header row' : 'no header row'];
  if (table.decimal === ',') parts.push('decimal commas');
  if (table.dateColumn !== null) parts.push(`dates in ${JSON.stringify(table.dateColumn)}`);
  const columns = `${table.columns.length} value column${table.columns.length === 1 ? '' : 's'}`;
  let text = `${table.rows.toLocaleString('en-US')} rows, ${columns} (${parts.join(', ')})`;
  const { dropped } = table;
  if (dropped.count > 0) {
    const shown = dropped.rows
      .slice(0, 3)
      .map((d) => `row ${d.row}${d.column ? `, column ${JSON.stringify(d.column)}` : ''}: ${d.reason}`);
    const more = dropped.count > shown.length ? `; and ${dropped.count - shown.length} more` : '';
    text += `; ${dropped.count} row${dropped.count === 1 ? '' : 's'} dropped (${shown.join('; ')}${more})`;
  }
  const future = table.future?.rows ?? 0;
  if (future > 0) {
    text += `; the last ${future} row${future === 1 ? ' has' : 's have'} missing values: the data's future (columns marked known ahead are read there), not trained on`;
  }
  if (table.reversedBy !== null) {
    text += `. The file runs newest first (by ${JSON.stringify(table.reversedBy)}): its rows were reversed, so the held-out part is the newest`;
  }
  return `${text}.`;
}
