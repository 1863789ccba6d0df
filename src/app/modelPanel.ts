// The model panel: download the model a run trained (as the CLI's --save writes it: weights,
// normalization, the data's origin and fingerprint, every setting, the optimizer's state and the
// training so far), or the same model as ONNX or as a TensorFlow.js Layers model (model.json and its
// weights file, two downloads, as the CLI's export writes them), load a model file to train on or forecast with (its whole setup goes into the
// form; a CSV it was trained on is asked for and checked against the fingerprint), and forget it.
// A bad file is explained beside the control; whatever was loaded or trained before stays (the file
// is read in a worker, modelWorker.ts, so no file can stall or crash the page).

import { type DataFingerprint, fingerprintTable, sameFingerprint } from '../data/fingerprint.js';
import { exportOnnx, exportTfjs } from '../lib/files.js';
import { InputError } from '../model/errors.js';
import type { ModelConfig } from '../model/layout.js';
import type { OptimizerValues } from '../model/optimizer.js';
import { checkFloat32Tree } from '../model/validate.js';
import { OPTIMIZER_KEYS, OPTIMIZER_SETTINGS, SETTINGS, type SettingValues, settingOf } from '../settings/training.js';
import type { BaselineErrors } from '../train/evaluate.js';
import { MAX_MODEL_FILE_BYTES, type Model, modelFileBytes } from '../train/modelFile.js';
import { savedModel } from '../train/savedModel.js';
import type { DataOrigin } from '../train/savedSetup.js';
import { sentence } from '../util/text.js';
import type { ShownView } from './chartSpecs.js';
import type { ErrorScale } from './columns.js';
import type { CsvPicker } from './csvPicker.js';
import type { CsvChoice, ShownData } from './dataView.js';
import { byId, downloadBlob, downloadText, setText } from './dom.js';
import { FIELDS, type FieldName, type FieldValues, fieldApplies, isFieldName } from './fields.js';
import type { SettingsForm } from './form.js';
import type { Lane } from './lanes.js';
import { type AppSettings, messageOf } from './settings.js';
import { workerJob } from './workerJob.js';

/** The run on the charts: its settings, its data as the page prepared it, its errors' scale and the baselines. */
export interface ShownRun extends ShownView {
  settings: AppSettings;
  scale: ErrorScale;
  /** The baselines on the compared part (the test part, or the training windows without one). */
  baselines: BaselineErrors[];
  comparedOn: 'test' | 'train';
  /** The form's text when the run started (what a downloaded model keeps as its settings). */
  fieldValues: FieldValues;
}

/** The settings a form's text gives, every field that applies (what a model file keeps). */
export function settingsOfFields(values: FieldValues): Partial<SettingValues> {
  const settings: Record<string, unknown> = {};
  for (const { name, setting } of FIELDS) {
    if (fieldApplies(name, values)) settings[name] = setting.parse(values[name]);
  }
  return settings as Partial<SettingValues>;
}

/** The form's text for a model file's settings (and, for a version-1 file, what it has). */
export function fieldsOfModel(model: Model): Partial<FieldValues> {
  const { config, data, normalization, optimizer, settings } = model;
  const values: Partial<FieldValues> = {};
  for (const [name, value] of Object.entries(settings ?? {}) as [FieldName, unknown][]) {
    if (FIELDS.some((f) => f.name === name)) values[name] = settingOf(name).format(value as never);
  }
  return {
    ...values,
    window: SETTINGS.window.format(config.window),
    hidden: SETTINGS.hidden.format(config.hiddenSizes),
    ...(data ? { split: SETTINGS.split.format(data.trainFraction) } : {}),
    ...(data?.validationFraction !== undefined
      ? { validation: SETTINGS.validation.format(data.validationFraction) }
      : {}),
    ...(data?.transform !== undefined ? { transform: data.transform } : {}),
    ...(normalization ? { normalise: normalization.method } : {}),
    // The model's optimizer, so Start goes on as it was trained (its state is passed at start).
    ...(optimizer
      ? {
          optimizer: optimizer.settings.name,
          ...optimizerFields(optimizer.settings),
          loss: optimizer.loss,
        }
      : {}),
  };
}

/** The form's text of the optimizer's own settings that have a field (momentum, clip norm). */
function optimizerFields(settings: OptimizerValues): Partial<FieldValues> {
  const values: Partial<FieldValues> = {};
  const text = <K extends keyof OptimizerValues>(key: K) => OPTIMIZER_SETTINGS[key].format(settings[key]);
  for (const key of OPTIMIZER_KEYS) {
    const { name } = OPTIMIZER_SETTINGS[key];
    if (isFieldName(name)) values[name] = text(key);
  }
  return values;
}

/** Whether `view`'s data is what the model was trained on, as its fingerprint says (null: it has none). */
export function dataMatches(model: Model, view: ShownData): { same: boolean; saved: DataFingerprint } | null {
  const saved = model.data?.fingerprint;
  if (saved === undefined) return null;
  return { same: sameFingerprint(saved, fingerprintTable(view.prepared.table)), saved };
}

/** The model a run's settings and data make (what a loaded model must match). */
export function modelConfigOf(run: ShownView): ModelConfig {
  const { prepared } = run.view;
  return {
    inputSize: prepared.inputs.length,
    hiddenSizes: [...run.runSettings.hiddenSizes],
    outputSize: prepared.outputs.length,
    window: run.runSettings.window,
  };
}

/** What a download button offers: our model file, ONNX, or a TF.js Layers model. */
type DownloadFormat = 'model' | 'onnx' | 'tfjs';

export interface ModelPanelDeps {
  form: SettingsForm;
  csv: CsvPicker;
  /** The run on the charts and its lanes, for the download. */
  run(): { shown: ShownRun | null; lanes: readonly Lane[] };
  /** Forecast with the loaded model (the page checks it is idle). */
  forecast(): void;
  /** A model was loaded: its settings are in the form. */
  onLoaded(): void;
  /** A model was forgotten. */
  onForgotten(): void;
}

export class ModelPanel {
  private readonly downloadButton = byId('download-model', HTMLButtonElement);
  private readonly onnxButton = byId('download-onnx', HTMLButtonElement);
  private readonly tfjsButton = byId('download-tfjs', HTMLButtonElement);
  private readonly forecastButton = byId('forecast', HTMLButtonElement);
  private readonly input = byId('model-file', HTMLInputElement);
  private readonly forgetButton = byId('forget-model', HTMLButtonElement);
  private readonly status = byId('model-status', HTMLParagraphElement);
  private readonly error = byId('model-error', HTMLParagraphElement);
  /** The loaded model file, or null. */
  loaded: { model: Model; name: string } | null = null;

  constructor(private readonly deps: ModelPanelDeps) {
    this.input.addEventListener('change', () => {
      const file = this.input.files?.[0];
      this.input.value = '';
      if (file) void this.load(file);
    });
    this.forgetButton.addEventListener('click', () => {
      this.loaded = null;
      setText(this.error, '');
      deps.onForgotten();
    });
    const offer = (button: HTMLButtonElement, format: DownloadFormat) =>
      button.addEventListener('click', () => {
        setText(this.error, '');
        try {
          this.download(format);
        } catch (err) {
          // A weight beyond float32's range: no file is offered that could not be loaded again.
          if (!(err instanceof InputError)) throw err;
          setText(this.error, `The model was not downloaded: ${sentence(`${err.field} ${messageOf(err)}`)}`);
        }
      });
    offer(this.downloadButton, 'model');
    offer(this.onnxButton, 'onnx');
    offer(this.tfjsButton, 'tfjs');
    this.forecastButton.addEventListener('click', () => deps.forecast());
  }

  /** A problem with the loaded model (or '' to clear it), shown beside the model controls. */
  showError(text: string): void {
    setText(this.error, text);
  }

  /** Says whether the data the settings give is the loaded model's (by its fingerprint); '' without a model. */
  checkData(view: ShownData | null): void {
    const loaded = this.loaded;
    const check = loaded === null || view === null ? null : dataMatches(loaded.model, view);
    this.dataCheck =
      loaded === null || view === null || check === null
        ? ''
        : check.same
          ? ` The data is the data it was trained on (${check.saved.rows} rows, fingerprint ${check.saved.hash}).`
          : ` Warning: this data differs from the data it was trained on (${check.saved.rows} rows, fingerprint ${check.saved.hash}; now ${view.prepared.table.rows} rows, ${fingerprintTable(view.prepared.table).hash}).`;
    this.status.dataset.dataMatches = check === null ? '' : String(check.same);
  }

  private dataCheck = '';

  render(busy: boolean, lanes: readonly Lane[]): void {
    const nothingTrained = !lanes.some((lane) => lane.last !== null && !lane.forecastOnly);
    for (const button of [this.downloadButton, this.onnxButton, this.tfjsButton]) button.disabled = nothingTrained;
    this.forecastButton.disabled = this.loaded === null || busy;
    this.forgetButton.hidden = this.loaded === null;
    if (this.loaded === null) {
      setText(this.status, 'Train, then download the model; or load a model file to train on or forecast.');
      return;
    }
    const { config, data, training } = this.loaded.model;
    const layers = [config.inputSize, ...config.hiddenSizes, config.outputSize].join(' → ');
    const source = data ? `, trained on ${data.source}` : '';
    const epochs = training ? ` for ${training.epoch} epochs` : '';
    const goesOn = training ? `, numbering on from epoch ${training.epoch + 1}` : '';
    setText(
      this.status,
      `Loaded ${this.loaded.name}: ${layers}, window ${config.window}${source}${epochs}. Start goes on training from its weights${goesOn}; Forecast shows what it predicts.${this.dataCheck}`,
    );
  }

  private async load(file: File): Promise<void> {
    setText(this.error, '');
    try {
      if (file.size > MAX_MODEL_FILE_BYTES) {
        throw new InputError(
          file.name,
          `is ${(file.size / 2 ** 20).toFixed(1)} MiB; model files up to ${MAX_MODEL_FILE_BYTES / 2 ** 20} MiB can be loaded`,
        );
      }
      // Read in a worker of its own: a hostile file costs the page nothing, and what it holds stays.
      const model = await workerJob<File, Model>(
        () => new Worker(new URL('./modelWorker.ts', import.meta.url), { type: 'module', name: 'model-file' }),
        file,
        { stopped: 'the model file reader stopped' },
      );
      this.loaded = { model, name: file.name };
    } catch (err) {
      // Whatever was loaded or trained before stays as it was.
      const message =
        err instanceof InputError
          ? `${err.field === file.name ? 'the file' : err.field} ${messageOf(err)}`
          : (err as Error).message;
      setText(this.error, `${file.name} was not loaded: ${sentence(message)}`);
      return;
    }
    const { data } = this.loaded.model;
    const { form, csv } = this.deps;
    form.setValues(fieldsOfModel(this.loaded.model));
    if (data && form.values().source === 'csv') {
      const origin = data.origin?.kind === 'csv' ? data.origin : null;
      csv.choose({
        inputs: data.inputs,
        outputs: data.outputs,
        knownAhead: data.knownAhead ?? null,
        date: origin?.dateColumn ?? undefined,
      });
      csv.show(true);
      if (origin !== null && csv.choice()?.label !== origin.fileName) {
        csv.note(
          `The model was trained on ${origin.fileName}: choose that file (it is checked against the model's fingerprint of its values).`,
        );
      }
    }
    this.deps.onLoaded();
  }

  private download(format: DownloadFormat): void {
    const { shown, lanes } = this.deps.run();
    const lane = lanes.find((l) => l.last !== null);
    if (shown === null || lane === undefined) return;
    const kept = modelOfLane(shown, lane, this.deps.csv.choice());
    if (kept === null) return;
    const { model, name } = kept;
    if (format === 'model') {
      // A chunk at a time (JSON, then base64 pieces): no string holds the file.
      downloadBlob(
        `${name}.json`,
        new Blob([...modelFileBytes(model).chunks()] as BlobPart[], { type: 'application/json' }),
      );
      return;
    }
    checkFloat32Tree(model.params, 'weights', 'no runtime could use it, so the model is not exported');
    if (format === 'onnx') {
      downloadBlob(`${name}.onnx`, new Blob([exportOnnx(model)], { type: 'application/octet-stream' }));
      return;
    }
    // model.json names its weights file: both keep the run's name, so that they do not clash with other downloads.
    const { modelJson, weights } = exportTfjs(model, `${name}.weights.bin`);
    downloadText(`${name}.model.json`, `${JSON.stringify(modelJson)}\n`, 'application/json');
    downloadBlob(`${name}.weights.bin`, new Blob([weights], { type: 'application/octet-stream' }));
  }
}

/**
 * The model a lane trained, as the CLI's --save writes it (the kept weights: the best epoch's where
 * the run keeps it, else the latest), and the file name it goes by; null before its first report.
 */
export function modelOfLane(shown: ShownRun, lane: Lane, csv: CsvChoice | null): { model: Model; name: string } | null {
  const last = lane.last;
  if (last === null) return null;
  const kept = last.best ?? last;
  const config = modelConfigOf(shown);
  const { prepared, label } = shown.view;
  const { optimizer, loss } = shown.settings.train;
  const state = kept.optimizerState;
  const { source, trainFraction, validationFraction } = shown.runSettings;
  const origin: DataOrigin =
    source.kind === 'table'
      ? { kind: 'csv', fileName: source.label, dateColumn: csv?.table.dateColumn ?? null }
      : { kind: source.kind };
  const model = savedModel({
    config,
    params: kept.params,
    prepared,
    label,
    origin,
    trainFraction,
    validationFraction,
    settings: settingsOfFields(shown.fieldValues),
    // The optimizer's state, so that loading the file goes on training where it stopped.
    ...(state ? { optimizer: { ...state, settings: optimizer, loss } } : {}),
    training: {
      epoch: kept.epoch,
      losses: lane.trace.losses.slice(0, kept.epoch),
      validationLosses: lane.trace.validation.filter((v) => v.epoch <= kept.epoch),
      rng: kept.rng,
    },
  });
  const slug =
    label
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'data';
  return { model, name: `webgpu-lstm-${slug}-epoch-${kept.epoch}` };
}
