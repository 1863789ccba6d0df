// The Search view: learning rates, hidden sizes, windows and seeds to try on the Train view's data
// and training settings; every configuration trains with every seed in a worker (searchWorker.ts, one
// population per shape), and as each finishes the table and the heatmap of its validation error fill
// in. The configuration with the lowest mean validation RMSE is chosen (the test part is shown, never
// used to choose) and marked with why; a click on a configuration opens it in the Train view, its
// seeds as Members. Stop ends the search at once; leaving the page while it runs asks first.

import { InputError } from '../model/errors.js';
import { SEARCH_SETTINGS } from '../settings/search.js';
import type { CpuThreads } from '../settings/threads.js';
import type { Configuration, SearchGrid, SearchSettings, Spread } from '../train/search.js';
import { sentence } from '../util/text.js';
import type { ExplicitRunSettings } from './dataView.js';
import { byId, el, setText } from './dom.js';
import type { FieldValues } from './fields.js';
import type { SearchReply, SearchRequest } from './searchWorker.js';
import { type AppTrainOptions, messageOf } from './settings.js';

/** What a search takes from the Train view: its data and training settings, or why they cannot be used. */
export type SearchBase = { run: ExplicitRunSettings; train: AppTrainOptions } | { problem: string };

export interface SearchViewDeps {
  base(): SearchBase;
  /** Opens a configuration in the Train view with these fields' values. */
  open(values: Partial<FieldValues>): void;
  trainingActive(): boolean;
}

const GRID_FIELDS = ['lr', 'hidden', 'window', 'seeds'] as const;
type GridField = (typeof GRID_FIELDS)[number];

/** The grid the fields give (an empty list field: the Train view's value), or each field's problem. */
export function readGrid(
  text: Record<GridField, string>,
  base: { run: ExplicitRunSettings; train: AppTrainOptions },
): { grid: SearchGrid } | { errors: Partial<Record<GridField, string>> } {
  const errors: Partial<Record<GridField, string>> = {};
  const read = <T>(name: GridField, parse: () => T): T | undefined => {
    try {
      return parse();
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      errors[name] = messageOf(err);
      return undefined;
    }
  };
  const lr = read('lr', () => SEARCH_SETTINGS.lr.parse(text.lr, 'lr'));
  const hidden = read('hidden', () => SEARCH_SETTINGS.hidden.parse(text.hidden, 'hidden'));
  const window = read('window', () => SEARCH_SETTINGS.window.parse(text.window, 'window'));
  const seeds = read('seeds', () => SEARCH_SETTINGS.seeds.parse(text.seeds, 'seeds'));
  if (Object.keys(errors).length > 0 || seeds === undefined) return { errors };
  const { seed } = base.run;
  return {
    grid: {
      learningRates: lr ?? [base.train.learningRate],
      hiddenSizes: hidden ?? [base.run.hiddenSizes],
      windows: window ?? [base.run.window],
      seeds: Array.from({ length: seeds }, (_, i) => seed + i),
    },
  };
}

/**
 * The search's settings: a search chooses on a validation part, so data without one gets the rows
 * before the test part ending with one of 10% (and said so in `note`).
 */
export function searchSettingsOf(
  base: { run: ExplicitRunSettings; train: AppTrainOptions },
  grid: SearchGrid,
): { settings: SearchSettings; note: string | null } {
  const { seed: _s, hiddenSizes: _h, window: _w, ...run } = base.run;
  let note: string | null = null;
  if (run.validationFraction === 0) {
    run.trainFraction = Math.min(run.trainFraction, 0.8);
    run.validationFraction = 0.1;
    note = `A search chooses on a validation part: the ${run.trainFraction * 100}% of rows before the test part end with one of 10%.`;
  }
  const t = base.train;
  return {
    settings: {
      run,
      grid,
      training: {
        epochs: t.epochs,
        batchSize: t.batchSize,
        reportEvery: t.reportEvery,
        keepBest: t.keepBest,
        patience: t.patience,
        optimizer: t.optimizer,
        loss: t.loss,
        lrDecay: t.lrDecay,
      },
    },
    note,
  };
}

/** "0.412 (0.398–0.431)", or "–" without a value. */
export function spreadText(spread: Spread | null): string {
  if (spread === null) return '–';
  const f = (v: number) => v.toPrecision(3);
  return spread.min === spread.max ? f(spread.mean) : `${f(spread.mean)} (${f(spread.min)}–${f(spread.max)})`;
}

export class SearchView {
  private readonly form = byId('search-form', HTMLFormElement);
  private readonly startButton = byId('search-start', HTMLButtonElement);
  private readonly stopButton = byId('search-stop', HTMLButtonElement);
  private readonly progress = byId('search-progress', HTMLProgressElement);
  private readonly status = byId('search-status', HTMLParagraphElement);
  private readonly chosenLine = byId('search-chosen', HTMLParagraphElement);
  private readonly table = byId('search-table', HTMLTableElement);
  private readonly heatmap = byId('search-heatmap', HTMLDivElement);
  private worker: Worker | null = null;
  private configurations: Configuration[] = [];
  private chosen: { index: number; reason: string } | null = null;
  private settings: SearchSettings | null = null;
  private startedAt = 0;

  constructor(private readonly deps: SearchViewDeps) {
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (this.worker === null) this.start();
    });
    this.stopButton.addEventListener('click', () => this.stop());
    for (const name of GRID_FIELDS) this.input(name).addEventListener('input', () => this.showErrors({}));
    this.render();
  }

  /** A search is under way (leaving the page asks first). */
  running(): boolean {
    return this.worker !== null;
  }

  private input(name: GridField): HTMLInputElement {
    return byId(`search-${name}`, HTMLInputElement);
  }

  private showErrors(errors: Partial<Record<GridField, string>>): void {
    for (const name of GRID_FIELDS) {
      const message = errors[name];
      this.input(name).setAttribute('aria-invalid', String(message !== undefined));
      setText(byId(`search-${name}-error`, HTMLParagraphElement), message ?? '');
    }
  }

  private start(): void {
    if (this.deps.trainingActive()) {
      setText(this.status, 'Not started: a training run is going; stop it first (both would share the CPU).');
      return;
    }
    const base = this.deps.base();
    if ('problem' in base) {
      setText(this.status, `Not started: ${sentence(base.problem)}`);
      return;
    }
    const text = Object.fromEntries(GRID_FIELDS.map((n) => [n, this.input(n).value])) as Record<GridField, string>;
    const read = readGrid(text, base);
    if ('errors' in read) {
      this.showErrors(read.errors);
      setText(this.status, 'Not started: fix the values marked in red.');
      return;
    }
    this.showErrors({});
    const { settings, note } = searchSettingsOf(base, read.grid);
    this.settings = settings;
    this.configurations = [];
    this.chosen = null;
    this.startedAt = performance.now();
    const worker = new Worker(new URL('./searchWorker.ts', import.meta.url), { type: 'module', name: 'search' });
    this.worker = worker;
    worker.onmessage = (event: MessageEvent<SearchReply>) => this.reply(event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      this.finish(`The search stopped: the worker failed (${event.message || 'it could not be loaded'}).`);
    };
    const total = read.grid.learningRates.length * read.grid.hiddenSizes.length * read.grid.windows.length;
    this.progress.max = total;
    this.progress.value = 0;
    setText(
      this.status,
      `${note === null ? '' : `${note} `}Training ${total} configurations × ${read.grid.seeds.length} seeds…`,
    );
    worker.postMessage({ search: settings, threads: base.train.threads as CpuThreads } satisfies SearchRequest);
    this.render();
  }

  private reply(reply: SearchReply): void {
    if (reply.type === 'configuration') {
      this.configurations.push(reply.configuration);
      this.progress.value = reply.done;
      setText(this.status, `${reply.done} of ${reply.total} configurations done…`);
    } else if (reply.type === 'done') {
      this.chosen = reply.chosen;
      const seconds = ((performance.now() - this.startedAt) / 1000).toFixed(1);
      this.finish(
        `Done: ${this.configurations.length} configurations in ${seconds} s. The chosen one's ensemble: ${reply.ensembleSummary}`,
      );
      return;
    } else {
      const where = reply.failure.field === null ? '' : ` (${reply.failure.field})`;
      this.finish(`The search stopped${where}: ${sentence(reply.failure.message)}`);
      return;
    }
    this.render();
  }

  private stop(): void {
    if (this.worker === null) return;
    this.finish(`Stopped after ${this.configurations.length} configurations.`);
  }

  private finish(message: string): void {
    this.worker?.terminate();
    this.worker = null;
    setText(this.status, message);
    this.render();
  }

  /** Opens configuration `index` in the Train view: its learning rate, shape, seeds (as Members) and split. */
  private open(index: number): void {
    const c = this.configurations.find((x) => x.index === index);
    const run = this.settings?.run;
    if (c === undefined || run === undefined) return;
    this.deps.open({
      lr: String(c.lr),
      hidden: c.hidden.join(', '),
      window: String(c.window),
      seed: String(c.seeds[0]),
      members: String(c.seeds.length),
      split: String(run.trainFraction ?? 1),
      validation: String(run.validationFraction ?? 0),
    });
  }

  private render(): void {
    const running = this.worker !== null;
    this.startButton.disabled = running;
    this.stopButton.disabled = !running;
    this.progress.hidden = !running && this.configurations.length === 0;
    const chosen = this.chosen === null ? undefined : this.configurations.find((c) => c.index === this.chosen?.index);
    setText(
      this.chosenLine,
      chosen === undefined || this.chosen === null
        ? ''
        : `Chosen: lr ${chosen.lr}, hidden ${chosen.hidden.join(',')}, window ${chosen.window}: ${this.chosen.reason}.`,
    );
    this.renderTable();
    this.renderHeatmap();
  }

  private openButton(c: Configuration, text: string, extra: Record<string, string> = {}): HTMLButtonElement {
    const button = el('button', { type: 'button', 'data-config': String(c.index), ...extra }, [text]);
    button.addEventListener('click', () => this.open(c.index));
    return button;
  }

  private renderTable(): void {
    const head = el(
      'tr',
      {},
      ['#', 'learning rate', 'hidden', 'window', 'validation RMSE', 'test RMSE', ''].map((h) =>
        el('th', { scope: 'col' }, [h]),
      ),
    );
    const rows = this.configurations.map((c) => {
      const isChosen = this.chosen?.index === c.index;
      const diverged = c.members.filter((m) => m.diverged).length;
      return el('tr', isChosen ? { class: 'chosen', 'aria-current': 'true' } : {}, [
        el('td', {}, [String(c.index + 1)]),
        el('td', {}, [String(c.lr)]),
        el('td', {}, [c.hidden.join(',')]),
        el('td', {}, [String(c.window)]),
        el('td', {}, [
          `${spreadText(c.validation)}${diverged > 0 ? ` · ${diverged} diverged` : ''}${isChosen ? ' ★ chosen' : ''}`,
        ]),
        el('td', {}, [spreadText(c.test)]),
        el('td', {}, [this.openButton(c, 'Open in Train')]),
      ]);
    });
    this.table.replaceChildren(el('thead', {}, [head]), el('tbody', {}, rows));
  }

  /** One grid a window: learning rates down, hidden sizes across, each cell shaded by its validation error. */
  private renderHeatmap(): void {
    const grid = this.settings?.grid;
    if (grid === undefined) {
      this.heatmap.replaceChildren();
      return;
    }
    const values = this.configurations.map((c) => c.validation?.mean).filter((v): v is number => v !== undefined);
    const lo = Math.min(...values);
    const hi = Math.max(...values);
    const key = (lr: number, hidden: number[], window: number) => JSON.stringify([lr, hidden, window]);
    const byKey = new Map(this.configurations.map((c) => [key(c.lr, c.hidden, c.window), c]));
    const blocks = grid.windows.map((window) => {
      const head = el('tr', {}, [
        el('th', { scope: 'col' }, ['lr \\ hidden']),
        ...grid.hiddenSizes.map((h) => el('th', { scope: 'col' }, [h.join(',')])),
      ]);
      const rows = grid.learningRates.map((lr) =>
        el('tr', {}, [
          el('th', { scope: 'row' }, [String(lr)]),
          ...grid.hiddenSizes.map((hidden) => {
            const c = byKey.get(key(lr, hidden, window));
            if (c === undefined) return el('td', { class: 'pending' }, ['…']);
            const mean = c.validation?.mean;
            const share = mean === undefined || hi === lo ? 0 : (mean - lo) / (hi - lo);
            const cell = el('td', this.chosen?.index === c.index ? { class: 'chosen' } : {}, [
              this.openButton(c, mean === undefined ? 'diverged' : mean.toPrecision(3), {
                'aria-label': `lr ${lr}, hidden ${hidden.join(',')}, window ${window}: validation RMSE ${mean === undefined ? 'none (diverged)' : mean.toPrecision(3)}; open in Train`,
              }),
            ]);
            // Low errors light, high errors dark: the eye finds the best cells first.
            cell.style.setProperty('--heat', String(mean === undefined ? 1 : share));
            if (mean === undefined || share > 0.55) cell.classList.add('dark');
            return cell;
          }),
        ]),
      );
      return el('figure', { class: 'heat-block' }, [
        el('figcaption', {}, [`window ${window}`]),
        el('table', { class: 'heat' }, [el('thead', {}, [head]), el('tbody', {}, rows)]),
      ]);
    });
    this.heatmap.replaceChildren(...blocks);
  }
}
