// The CSV's columns as a table of checkboxes: each value column as an input, an output, or known
// ahead; the others with what they are. A file may have 4,096 columns, and a table of that many
// rows took the page seconds to build and lay out (issue 33), so past CHOOSER_PAGE columns the table
// shows the first CHOOSER_PAGE whose names hold what is typed in "Find a column", "Show more" adds
// as many again, and a line says how many are shown and which are chosen (chosen ones may be out of
// view). One listener on the table's body serves every checkbox. Column names are the file's text:
// they go in through textContent only, never as markup.

import type { CsvColumn } from '../data/csv.js';
import { byId, el, setText } from './dom.js';

/** A checkbox column of the chooser: an input, an output, or known ahead (read from the future rows). */
export type Role = 'inputs' | 'outputs' | 'known';
export const ROLE_WORDS: Record<Role, string> = {
  inputs: 'as an input',
  outputs: 'as an output',
  known: 'known ahead',
};
const ROLES: readonly Role[] = ['inputs', 'outputs', 'known'];

/** Rows the table shows at first, and adds at each "Show more"; a file of no more columns shows them all with no find box. */
export const CHOOSER_PAGE = 100;

/** Which of `columns` the table shows: those whose name holds `find` (any case), the first `limit` of them. */
export function shownColumns(
  columns: readonly { name: string }[],
  find: string,
  limit: number,
): { shown: number[]; matches: number } {
  const needle = find.trim().toLowerCase();
  const shown: number[] = [];
  let matches = 0;
  for (let c = 0; c < columns.length; c++) {
    if (needle !== '' && !columns[c].name.toLowerCase().includes(needle)) continue;
    matches++;
    if (shown.length < limit) shown.push(c);
  }
  return { shown, matches };
}

const count = (n: number) => n.toLocaleString('en-US');

/** "c1, c2, c3 and 4 more", or "none". */
function nameList(names: readonly string[], most = 5): string {
  if (names.length === 0) return 'none';
  const listed = names.slice(0, most).join(', ');
  return names.length > most ? `${listed} and ${count(names.length - most)} more` : listed;
}

/**
 * The line under a long table: how many columns are shown of how many (that match what is typed),
 * and which are chosen, since a chosen column may be out of view.
 */
export function chooserSummary(total: number, find: string, matches: number, shown: number, chosen: Chosen): string {
  const needle = find.trim();
  const quoted = JSON.stringify(needle);
  const view =
    needle === ''
      ? `${count(shown)} of ${count(total)} columns shown; type in “Find a column” to see others.`
      : matches === 0
        ? `No column's name holds ${quoted}.`
        : `${count(shown)} of ${count(matches)} columns whose name holds ${quoted} shown (${count(total)} in all).`;
  const known = chosen.known.length > 0 ? `; known ahead: ${nameList(chosen.known)}` : '';
  return `${view} Inputs: ${nameList(chosen.inputs)}; outputs: ${nameList(chosen.outputs)}${known}.`;
}

/** What the chooser shows: the file's columns and their indices among the value columns. */
export interface ChooserContent {
  columns: readonly CsvColumn[];
  /** A value column's index in the table's columns (what data-column says); absent for the others. */
  valueIndex: ReadonlyMap<string, number>;
}

export type Chosen = Record<Role, readonly string[]>;

export class ColumnChooser {
  private readonly body = byId('csv-columns-body', HTMLTableSectionElement);
  private readonly findBox = byId('csv-column-find-box', HTMLDivElement);
  private readonly find = byId('csv-column-find', HTMLInputElement);
  private readonly summary = byId('csv-columns-count', HTMLParagraphElement);
  private readonly more = byId('csv-columns-more', HTMLButtonElement);
  private content: ChooserContent | null = null;
  private limit = CHOOSER_PAGE;

  constructor(
    private readonly chosen: () => Chosen,
    onToggle: (role: Role, name: string, on: boolean) => void,
  ) {
    this.body.addEventListener('change', (event) => {
      const input = event.target;
      if (!(input instanceof HTMLInputElement)) return;
      const role = input.dataset.role as Role | undefined;
      const name = input.closest('tr')?.dataset.name;
      if (role === undefined || name === undefined) return;
      onToggle(role, name, input.checked);
      this.describe();
    });
    this.find.addEventListener('input', () => {
      this.limit = CHOOSER_PAGE;
      this.render();
    });
    // Enter in the find box finds; it does not submit the settings (which would start a run).
    this.find.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') event.preventDefault();
    });
    this.more.addEventListener('click', () => {
      const before = this.body.rows.length;
      this.limit += CHOOSER_PAGE;
      this.render();
      // The last page shown hides the button: focus goes to the first row it added, not to the page.
      if (this.more.hidden) (this.body.rows[before]?.querySelector('input') ?? this.find).focus();
    });
  }

  /** A new file: what was typed and the rows shown go back to the start. */
  reset(): void {
    this.find.value = '';
    this.limit = CHOOSER_PAGE;
  }

  show(content: ChooserContent): void {
    this.content = content;
    this.render();
  }

  private long(): boolean {
    return (this.content?.columns.length ?? 0) > CHOOSER_PAGE;
  }

  private render(): void {
    const content = this.content;
    if (content === null) return;
    const long = this.long();
    const { shown, matches } = long
      ? shownColumns(content.columns, this.find.value, this.limit)
      : { shown: content.columns.map((_, c) => c), matches: content.columns.length };
    const now = this.chosen();
    const chosen = { inputs: new Set(now.inputs), outputs: new Set(now.outputs), known: new Set(now.known) };
    const rows = document.createDocumentFragment();
    for (const c of shown)
      rows.append(columnRow(content.columns[c], content.valueIndex.get(content.columns[c].name), chosen));
    this.body.replaceChildren(rows);
    this.findBox.hidden = !long;
    this.more.hidden = !long || shown.length >= matches;
    if (long) setText(this.more, `Show ${count(Math.min(CHOOSER_PAGE, matches - shown.length))} more columns`);
    this.describe(shown.length, matches);
  }

  /** The line under a long table (after a box is ticked, the choice in it changes). */
  private describe(shown = this.body.rows.length, matches?: number): void {
    const content = this.content;
    this.summary.hidden = content === null || !this.long();
    if (content === null || !this.long()) return;
    const found = matches ?? shownColumns(content.columns, this.find.value, Number.POSITIVE_INFINITY).matches;
    setText(this.summary, chooserSummary(content.columns.length, this.find.value, found, shown, this.chosen()));
  }
}

/** One column's row: its name and note, and a checkbox per role where it is a value column. */
function columnRow(column: CsvColumn, index: number | undefined, chosen: Record<Role, Set<string>>): HTMLElement {
  const { name, kind, note } = column;
  const boxes = ROLES.map((role) => {
    if (index === undefined) return el('td', { class: 'not-chosen' }, ['–']);
    const input = el('input', {
      type: 'checkbox',
      'data-column': String(index),
      'data-role': role,
      'aria-label': `${name} ${ROLE_WORDS[role]}`,
    });
    input.checked = chosen[role].has(name);
    return el('td', {}, [input]);
  });
  return el('tr', { 'data-kind': kind, 'data-name': name }, [
    el('th', { scope: 'row' }, [
      el('span', { class: 'column-name', title: name }, [name]),
      el('span', { class: 'column-note' }, [note]),
    ]),
    ...boxes,
  ]);
}
