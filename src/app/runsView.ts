// The Runs table: every kept run (runStore.ts), newest first, one tbody a run and one row a lane (a
// run with K members later adds rows, not columns): its data, settings, backend, errors per output
// column in the data's units beside the benchmarks', and time; a box to overlay it on the charts,
// and buttons to reopen its settings, download its model and remove it. Text goes in as text only.

import { formatDuration, formatNumber } from './columns.js';
import { byId, el, setText } from './dom.js';
import type { RunRecord } from './runStore.js';

export interface RunsViewActions {
  /** The runs ticked for the overlay changed. */
  onOverlay(ids: ReadonlySet<string>): void;
  reopen(record: RunRecord): void;
  download(record: RunRecord): void;
  remove(record: RunRecord): void;
  clear(): void;
}

/** The colour role of the k-th run overlaid (styles.css's --chart-run-0..9). */
export function overlayColor(k: number): `run-${number}` {
  return `run-${k % 10}`;
}

/** "window 10 · hidden 30 · batch 8 · sgd, lr 0.01 · 101 epochs": the settings that tell runs apart. */
export function describeRunSettings(values: Readonly<Record<string, string>>): string {
  const parts = [
    `window ${values.window}`,
    `hidden ${values.hidden}`,
    `batch ${values.batch}`,
    `${values.optimizer}, lr ${values.lr}`,
    `${values.epochs} epochs`,
  ];
  if (values.season !== undefined && values.season !== 'auto') parts.push(`season ${values.season}`);
  if (values.transform !== undefined && values.transform !== 'levels') parts.push(values.transform);
  return parts.join(' · ');
}

/** Errors per output column: "1.23" for one column, "load_a 1.23 · load_b 4.56" for several. */
export function perColumn(values: readonly number[] | null | undefined, columns: readonly string[]): string {
  if (values === null || values === undefined || values.length === 0) return '–';
  if (values.length === 1) return formatNumber(values[0]);
  return values.map((v, i) => `${columns[i] ?? i + 1} ${formatNumber(v)}`).join(' · ');
}

export class RunsView {
  private readonly table = byId('runs-table', HTMLTableElement);
  private readonly head = byId('runs-head', HTMLTableSectionElement);
  private readonly status = byId('runs-status', HTMLParagraphElement);
  private readonly clearButton = byId('runs-clear', HTMLButtonElement);
  readonly overlaid = new Set<string>();

  constructor(private readonly actions: RunsViewActions) {
    this.clearButton.addEventListener('click', () => actions.clear());
    this.head.replaceChildren(
      el(
        'tr',
        {},
        [
          'Overlay',
          'Run',
          'Data',
          'Settings',
          'Backend',
          'Epoch',
          'RMSE (model)',
          'RMSE (benchmarks)',
          'Time',
          'Actions',
        ].map((head) => el('th', { scope: 'col' }, [head])),
      ),
    );
  }

  /**
   * The rows for `records` (newest first); `current` is the run on the charts. Only a run whose row
   * changed is drawn again, so a box or button a person is on keeps its focus while a run reports.
   */
  render(records: readonly RunRecord[], current: string | null, note: string): void {
    const known = new Set(records.map((r) => r.id));
    for (const id of this.overlaid) if (!known.has(id)) this.overlaid.delete(id);
    setText(this.status, note);
    this.clearButton.hidden = records.length === 0;
    const bodies = [...records].reverse().map((record) => {
      const signature = JSON.stringify([
        record.id === current,
        this.colorOf(record.id),
        record.model !== null,
        record.lanes.map((l) => [l.label, l.status, l.epoch, l.seconds, l.errors]),
      ]);
      const drawn = this.drawn.get(record.id);
      if (drawn?.signature === signature) return drawn.body;
      const body = this.runBody(record, record.id === current);
      this.drawn.set(record.id, { signature, body });
      return body;
    });
    for (const id of this.drawn.keys()) if (!known.has(id)) this.drawn.delete(id);
    if (bodies.length === 0) bodies.push(this.empty);
    const now = [...this.table.tBodies];
    if (now.length !== bodies.length || now.some((body, i) => body !== bodies[i])) {
      // A control with the focus in a row drawn again keeps it: its twin in the new row takes it.
      const focused = document.activeElement instanceof HTMLElement ? document.activeElement : null;
      const focusedRun = focused?.closest('tbody')?.dataset.runId;
      const focusedAction = focused?.dataset.action;
      for (const body of now) if (!bodies.includes(body)) body.remove();
      // Inserting a tbody already in the table moves it: the order follows `bodies`.
      bodies.forEach((body, i) => {
        if (this.table.tBodies[i] !== body) this.table.insertBefore(body, this.table.tBodies[i] ?? null);
      });
      if (focused !== null && !focused.isConnected && focusedRun !== undefined && focusedAction !== undefined) {
        const twin = this.table.querySelector<HTMLElement>(
          `tbody[data-run-id="${CSS.escape(focusedRun)}"] [data-action="${CSS.escape(focusedAction)}"]`,
        );
        twin?.focus();
      }
    }
  }

  private readonly drawn = new Map<string, { signature: string; body: HTMLTableSectionElement }>();
  private readonly empty = el('tbody', {}, [
    el('tr', {}, [el('td', { colspan: '10', class: 'empty' }, ['No run yet.'])]),
  ]);

  /** The overlay colour of a run, in the order the runs were ticked. */
  colorOf(id: string): `run-${number}` | null {
    const k = [...this.overlaid].indexOf(id);
    return k < 0 ? null : overlayColor(k);
  }

  private runBody(record: RunRecord, current: boolean): HTMLTableSectionElement {
    const { data } = record;
    const unit = data.unit ? ` ${data.unit}` : '';
    const part = data.comparedOn === 'test' ? 'held-out' : 'training';
    const benchmarks = record.baselines
      .filter((b) => b.rmse !== null)
      .map((b) => `${b.label} ${perColumn(b.rmse, data.outputs)}`)
      .join('; ');
    const color = this.colorOf(record.id);
    const rows = record.lanes.map((lane, i) => {
      const first = i === 0;
      const box = el('input', {
        type: 'checkbox',
        'data-action': 'overlay',
        'aria-label': `Overlay run #${record.number} on the charts`,
      });
      box.checked = this.overlaid.has(record.id);
      box.addEventListener('change', () => {
        if (box.checked) this.overlaid.add(record.id);
        else this.overlaid.delete(record.id);
        this.actions.onOverlay(this.overlaid);
      });
      const swatch = el('span', { class: 'swatch', 'aria-hidden': 'true' });
      if (color !== null) swatch.style.background = `var(--chart-${color})`;
      const when = new Date(record.startedAt).toLocaleString('en-GB', {
        day: 'numeric',
        month: 'short',
        hour: '2-digit',
        minute: '2-digit',
      });
      const button = (label: string, name: string, run: () => void) => {
        const b = el(
          'button',
          { type: 'button', 'data-action': name, 'aria-label': `${label} run #${record.number}` },
          [label],
        );
        b.addEventListener('click', run);
        return b;
      };
      const actions = first
        ? [
            button('Reopen', 'reopen', () => this.actions.reopen(record)),
            ...(record.model !== null ? [button('Download', 'download', () => this.actions.download(record))] : []),
            button('Remove', 'remove', () => this.actions.remove(record)),
          ]
        : [];
      const row = el(
        'tr',
        { 'data-run': String(record.number), 'data-backend': lane.backend, 'data-status': lane.status },
        [
          el('td', {}, first ? [box] : []),
          el(
            'th',
            { scope: 'row' },
            first ? [swatch, `#${record.number}`, el('br'), el('small', { class: 'when' }, [when])] : [],
          ),
          el('td', { class: 'settings' }, first ? [data.label] : []),
          el('td', { class: 'settings' }, first ? [describeRunSettings(record.fieldValues)] : []),
          el('td', {}, [lane.label]),
          el('td', {}, [`${lane.epoch}/${lane.epochs}`]),
          el('td', { title: `RMSE on the ${part} part${unit}` }, [
            `${perColumn(lane.errors?.rmse, data.outputs)}${unit}`,
          ]),
          el('td', { class: 'settings' }, first ? [benchmarks === '' ? '–' : `${benchmarks}${unit}`] : []),
          el('td', {}, [lane.seconds > 0 ? formatDuration(lane.seconds) : '–']),
          el('td', { class: 'actions' }, actions),
        ],
      );
      if (current) row.setAttribute('data-current', '');
      row.dataset.rmse = JSON.stringify(lane.errors?.rmse ?? null);
      return row;
    });
    return el('tbody', { 'data-run-id': record.id }, rows);
  }
}
