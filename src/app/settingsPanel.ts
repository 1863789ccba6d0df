// The settings side of the Train view: the form (fields.ts), the CSV picker, the data summary and
// preview (while no run is shown, the series chart previews the data the settings give), and the
// page's link (link.ts), kept current as the settings change and read once at load.

import type { BundledName } from '../data/bundled.js';
import { InputError } from '../model/errors.js';
import { defaultsKey, SOURCE_DEFAULT_REASONS } from '../settings/training.js';
import { capitalize, sentence } from '../util/text.js';
import type { ShownView } from './chartSpecs.js';
import { CsvPicker } from './csvPicker.js';
import { describeData, runSettingsFor, shownData } from './dataView.js';
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
    this.csv.onChange(() => {
      this.changed();
      deps.onChange();
    });
    byId('defaults', HTMLButtonElement).addEventListener('click', () => {
      const { source, dataset } = this.form.values();
      this.form.setValues(defaultFieldValues(source as SourceKind, dataset));
      this.changed();
    });
    byId('copy-link', HTMLButtonElement).addEventListener('click', () => this.copyLink());
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
    setText(this.sourceNote, `Defaults for this source: ${SOURCE_DEFAULT_REASONS[key] ?? ''}.`);
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
      const named = [...new Set([...(link.columns.inputs ?? []), ...(link.columns.outputs ?? [])])];
      const columns = named.length > 0 ? ` (its columns ${describeNames(named, true)} are chosen when it is read)` : '';
      this.csv.note(`This link trains on a CSV file, which a link cannot carry: choose the file${columns}.`);
    }
    this.csv.show(link.values.source === 'csv');
  }
}
