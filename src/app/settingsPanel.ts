// The settings side of the Train view: the form (fields.ts), the CSV picker, the data summary and
// preview (while no run is shown, the series chart previews the data the settings give), and the
// page's link (link.ts), kept current as the settings change and read once at load.

import type { BundledName } from '../data/bundled.js';
import { seasonFromDates } from '../data/season.js';
import { InputError } from '../model/errors.js';
import { defaultsKey, SOURCE_DEFAULT_REASONS } from '../settings/training.js';
import { capitalize, sentence } from '../util/text.js';
import type { ShownView } from './chartSpecs.js';
import { CsvPicker } from './csvPicker.js';
import { checkAgainstData, describeData, runSettingsFor, shownData } from './dataView.js';
import { byId, setText } from './dom.js';
import { defaultFieldValues, fieldApplies, fieldOf, isFieldName, type SourceKind } from './fields.js';
import { SettingsForm } from './form.js';
import { describeNames, readLink, writeLink } from './link.js';
import { showNotice } from './notices.js';
import { type AppBackendChoice, messageOf, parseSettings } from './settings.js';

export interface SettingsPanelDeps {
  /** The backend picked, or null while the page chooses it (the link carries only a person's pick). */
  pickedBackend(): AppBackendChoice | null;
  /** A link's backend, which then stays picked. */
  pickBackend(choice: AppBackendChoice): void;
  /** No run on the page: the series chart shows the preview. */
  idle(): boolean;
  /** The preview changed (null: the settings give no data); called only while idle. */
  onPreview(preview: ShownView | null): void;
  /** The CSV or its columns changed. */
  onChange(): void;
  /** A file was dropped on the page: the settings open to show it. */
  onOpenSettings(): void;
}

export class SettingsPanel {
  readonly form = new SettingsForm({
    data: byId('fields-data', HTMLDivElement),
    split: byId('fields-split', HTMLDivElement),
    model: byId('fields-model', HTMLDivElement),
    training: byId('fields-training', HTMLDivElement),
  });
  readonly csv = new CsvPicker(
    () => (this.form.values().missing === 'drop' ? 'drop' : 'refuse'),
    () => {
      const decimal = this.form.values().decimal;
      return decimal === '.' || decimal === ',' ? decimal : 'auto';
    },
  );
  private readonly status = byId('form-status', HTMLParagraphElement);
  private readonly dataSummary = byId('data-summary', HTMLParagraphElement);
  private readonly sourceNote = byId('source-note', HTMLParagraphElement);
  private previewTimer = 0;
  private linkTimer = 0;

  constructor(private readonly deps: SettingsPanelDeps) {
    this.form.onChange((name) => {
      this.csv.show(this.form.values().source === 'csv');
      if (name === 'missing' || name === 'decimal') this.csv.reread();
      this.changed();
    });
    // A field left is checked against the data too (the batch against the training samples, the
    // window against the rows), with the same checks and words as Start.
    this.form.onLeave((name, valid) => {
      if (!valid) return;
      const problem = this.dataProblem();
      if (problem !== null && fieldOf(problem.field) === name) this.form.showError(name, problem.message);
    });
    this.csv.onChange(() => {
      this.followSeason();
      this.changed();
      deps.onChange();
    });
    byId('defaults', HTMLButtonElement).addEventListener('click', () => {
      const { source, dataset } = this.form.values();
      this.form.setValues(defaultFieldValues(source as SourceKind, dataset));
      this.changed();
    });
    byId('copy-link', HTMLButtonElement).addEventListener('click', () => this.copyLink());
    this.acceptDropsAnywhere();
  }

  /**
   * A file dropped anywhere on the page is read as the CSV (the source becomes "my CSV file" and the
   * settings open to show its columns); the browser never leaves the app to show a dropped file.
   */
  private acceptDropsAnywhere(): void {
    const overlay = byId('drop-overlay', HTMLDivElement);
    const locked = () => byId('settings-fields', HTMLFieldSetElement).disabled;
    const carriesFiles = (event: DragEvent) => event.dataTransfer?.types.includes('Files') ?? false;
    let depth = 0;
    document.addEventListener('dragenter', (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      depth++;
      overlay.hidden = locked();
    });
    document.addEventListener('dragover', (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = locked() ? 'none' : 'copy';
    });
    document.addEventListener('dragleave', () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) overlay.hidden = true;
    });
    document.addEventListener('drop', (event) => {
      depth = 0;
      overlay.hidden = true;
      // The drop box reads its own drops; elsewhere the page does, so the browser never navigates away.
      if (event.defaultPrevented || !carriesFiles(event)) return;
      event.preventDefault();
      if (locked()) {
        this.say('Not read: the settings are locked while a run goes; drop the file again once it ends.');
        return;
      }
      if (this.form.values().source !== 'csv') {
        // As if picked: the fields still at the old source's defaults take the CSV's.
        const source = byId('field-source', HTMLSelectElement);
        source.value = 'csv';
        source.dispatchEvent(new Event('change'));
      }
      this.csv.show(true);
      this.deps.onOpenSettings();
      this.csv.take(event.dataTransfer?.files ?? null);
      this.changed();
    });
  }

  /** A line under the Start button (why a run did not start, what a button did). */
  say(text: string): void {
    setText(this.status, text);
  }

  /** The settings changed: the preview and the link follow shortly. */
  changed(): void {
    clearTimeout(this.previewTimer);
    this.previewTimer = window.setTimeout(() => this.preview(), 120);
    this.scheduleLinkUpdate();
  }

  scheduleLinkUpdate(): void {
    clearTimeout(this.linkTimer);
    this.linkTimer = window.setTimeout(() => this.updateLink(), 250);
  }

  /** Shows a problem a run's input caused beside its field, or on the CSV; false when it is neither's. */
  placeProblem(field: string | null, message: string): boolean {
    const name = field === null ? null : fieldOf(field);
    if (name !== null && fieldApplies(name, this.form.values())) {
      this.form.showError(name, message);
      return true;
    }
    if (field !== null && field !== '--load' && this.form.values().source === 'csv') {
      this.csv.fail(sentence(capitalize(message)));
      return true;
    }
    return false;
  }

  /** Describes the data the settings give and, while no run is shown, previews it on the series chart. */
  preview(): void {
    const values = this.form.values();
    this.csv.show(values.source === 'csv');
    const source = values.source as SourceKind;
    const key = defaultsKey(source, source === 'bundled' ? (values.dataset as BundledName) : undefined);
    const seasonal = source === 'csv' ? (this.seasonOf?.note ?? '') : '';
    setText(this.sourceNote, `Defaults for this source: ${SOURCE_DEFAULT_REASONS[key] ?? ''}.${seasonal}`);
    const result = parseSettings(values);
    if (!result.ok) {
      setText(this.dataSummary, '');
      return;
    }
    let preview: ShownView | null;
    try {
      const runSettings = runSettingsFor(result.settings.run, this.csv.choice());
      const view = shownData(runSettings);
      setText(this.dataSummary, describeData(view, runSettings.window));
      this.dataSummary.removeAttribute('data-problem');
      preview = { view, runSettings };
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      setText(this.dataSummary, sentence(capitalize(messageOf(err))));
      this.dataSummary.setAttribute('data-problem', err.field);
      preview = null;
    }
    if (this.deps.idle()) this.deps.onPreview(preview);
  }

  /**
   * A new CSV brings defaults that follow its dates' season: a window of at least one season, and a
   * yearly season (365 rows) for daily data of two years or more; fields a person set stay as set.
   */
  private followSeason(): void {
    const choice = this.csv.choice();
    if (choice === null || choice.table === this.seasonOf?.table) return;
    const found = seasonFromDates(choice.table.dates);
    const yearly = found?.name === 'daily' && choice.table.rows >= 2 * 365;
    const season = yearly ? 365 : (found?.period ?? null);
    const values = this.form.values();
    const defaults = defaultFieldValues('csv');
    const ours = this.seasonOf?.set ?? {};
    const untouched = (name: 'window' | 'season') => values[name] === defaults[name] || values[name] === ours[name];
    const set: Partial<Record<'window' | 'season', string>> = {};
    if (untouched('season')) set.season = yearly ? '365' : defaults.season;
    if (untouched('window')) {
      set.window = season !== null && season > Number(defaults.window) ? String(season) : defaults.window;
    }
    this.form.setValues(set);
    const window = set.window ?? values.window;
    this.seasonOf = {
      table: choice.table,
      set,
      note:
        found === null || season === null
          ? ''
          : ` ${choice.label}'s dates are ${found.name}: ${yearly ? 'a yearly season of 365 rows (it holds two years or more of days)' : `a season of ${season} rows`}, and the window (${window} rows) ${Number(window) >= season ? 'sees at least one whole season' : 'is shorter than one season, as set'}.`,
    };
  }

  private seasonOf: { table: object; set: Partial<Record<'window' | 'season', string>>; note: string } | null = null;

  /** What Start would refuse in these settings against their data (the trainer's checks), or null. */
  private dataProblem(): { field: string; message: string } | null {
    const result = parseSettings(this.form.values());
    if (!result.ok) return null;
    try {
      const view = shownData(runSettingsFor(result.settings.run, this.csv.choice()));
      checkAgainstData(result.settings.train, view);
      return null;
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      return { field: err.field, message: messageOf(err) };
    }
  }

  private updateLink(): void {
    const query = writeLink(this.form.values(), this.deps.pickedBackend(), this.csv.linkColumns());
    const url = `${location.pathname}${query === '' ? '' : `?${query}`}${location.hash}`;
    if (url !== `${location.pathname}${location.search}${location.hash}`) history.replaceState(null, '', url);
  }

  private copyLink(): void {
    this.updateLink();
    const done = (text: string) => this.say(text);
    if (navigator.clipboard) {
      navigator.clipboard.writeText(location.href).then(
        () => done('A link to these settings is on the clipboard.'),
        () => done(`Copy this link to share these settings: ${location.href}`),
      );
    } else done(`Copy this link to share these settings: ${location.href}`);
  }

  /** Settings from the page's link: values the form's parser refuses are explained beside their fields. */
  applyLink(): void {
    const link = readLink(location.search);
    this.form.setValues(link.values);
    for (const [key, message] of Object.entries(link.errors)) {
      if (isFieldName(key)) this.form.showNote(key, message);
      else if (key === 'backend') this.say(`Backend: ${message}.`);
      else this.csv.fail(`${message}.`);
    }
    if (link.unknown.length > 0) {
      showNotice(
        'link',
        `The link has settings this app does not know (${describeNames(link.unknown)}); they were ignored.`,
      );
    }
    if (link.backend !== null) this.deps.pickBackend(link.backend);
    if (link.values.source === 'csv') {
      this.csv.choose(link.columns);
      const { inputs, outputs, knownAhead } = link.columns;
      const named = [...new Set([...(inputs ?? []), ...(outputs ?? []), ...(knownAhead ?? [])])];
      const columns = named.length > 0 ? ` (its columns ${describeNames(named, true)} are chosen when it is read)` : '';
      this.csv.note(`This link trains on a CSV file, which a link cannot carry: choose the file${columns}.`);
    }
    this.csv.show(link.values.source === 'csv');
  }
}
