// The model panel: download the model a run trained (weights, normalization, data settings and the
// optimizer's state, as the CLI's --save writes it), load a model file to train on or forecast with
// (its settings go into the form), and forget it. A bad file is explained beside the control;
// whatever was loaded or trained before stays.

import { decodeTextFile } from '../data/textFile.js';
import { InputError } from '../model/errors.js';
import { type ModelConfig, paramLayout } from '../model/layout.js';
import { type Model, parseJson, readModelFile, toModelFile } from '../model/modelFile.js';
import { SETTINGS } from '../settings/training.js';
import type { ShownView } from './chartSpecs.js';
import type { ErrorScale } from './columns.js';
import type { CsvPicker } from './csvPicker.js';
import { byId, downloadText, setText } from './dom.js';
import type { SettingsForm } from './form.js';
import type { Lane } from './lanes.js';
import { sentence } from './notices.js';
import { type AppSettings, messageOf } from './settings.js';

const MAX_MODEL_BYTES = 256 * 1024 * 1024;

/** The run on the charts: its settings, its data as the page prepared it, and its errors' scale. */
export interface ShownRun extends ShownView {
  settings: AppSettings;
  scale: ErrorScale;
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
    this.downloadButton.addEventListener('click', () => {
      setText(this.error, '');
      try {
        this.download();
      } catch (err) {
        // A weight beyond float32's range: no file is offered that could not be loaded again.
        if (!(err instanceof InputError)) throw err;
        setText(this.error, `The model was not downloaded: ${sentence(`${err.field} ${messageOf(err)}`)}`);
      }
    });
    this.forecastButton.addEventListener('click', () => deps.forecast());
  }

  /** A problem with the loaded model (or '' to clear it), shown beside the model controls. */
  showError(text: string): void {
    setText(this.error, text);
  }

  render(busy: boolean, lanes: readonly Lane[]): void {
    this.downloadButton.disabled = !lanes.some((lane) => lane.last !== null && !lane.forecastOnly);
    this.forecastButton.disabled = this.loaded === null || busy;
    this.forgetButton.hidden = this.loaded === null;
    if (this.loaded === null) {
      setText(this.status, 'Train, then download the model; or load a model file to train on or forecast.');
      return;
    }
    const { config, data } = this.loaded.model;
    const layers = [config.inputSize, ...config.hiddenSizes, config.outputSize].join(' → ');
    const source = data ? `, trained on ${data.source}` : '';
    setText(
      this.status,
      `Loaded ${this.loaded.name}: ${layers}, window ${config.window}${source}. Start goes on training from its weights; Forecast shows what it predicts.`,
    );
  }

  private async load(file: File): Promise<void> {
    setText(this.error, '');
    try {
      if (file.size > MAX_MODEL_BYTES) {
        throw new InputError(
          file.name,
          `is ${(file.size / 2 ** 20).toFixed(1)} MiB; model files up to 256 MiB can be loaded`,
        );
      }
      const text = decodeTextFile(new Uint8Array(await file.arrayBuffer()), file.name);
      const model = readModelFile(parseJson(text, file.name));
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
    const { config, data, normalisation, optimizer } = this.loaded.model;
    const { form, csv } = this.deps;
    form.setValues({
      window: SETTINGS.window.format(config.window),
      hidden: SETTINGS.hidden.format(config.hiddenSizes),
      ...(data ? { split: SETTINGS.split.format(data.trainFraction) } : {}),
      ...(normalisation ? { normalise: normalisation.method } : {}),
      // The model's optimizer, so Start goes on as it was trained (its state is passed at start).
      ...(optimizer
        ? {
            optimizer: optimizer.settings.name,
            momentum: SETTINGS.momentum.format(optimizer.settings.momentum),
            'clip-norm': SETTINGS['clip-norm'].format(optimizer.settings.clipNorm),
            loss: optimizer.loss,
          }
        : {}),
    });
    if (data && form.values().source === 'csv')
      csv.choose({ inputs: data.inputs, outputs: data.outputs, date: undefined });
    this.deps.onLoaded();
  }

  private download(): void {
    const { shown, lanes } = this.deps.run();
    const lane = lanes.find((l) => l.last !== null);
    if (shown === null || lane === undefined || lane.last === null) return;
    const config = modelConfigOf(shown);
    const { prepared, label } = shown.view;
    const { optimizer, loss } = shown.settings.train;
    const state = lane.last.optimizerState;
    const file = toModelFile({
      config,
      layout: paramLayout(config),
      params: lane.last.params,
      // The optimizer's state, so that loading the file goes on training where it stopped.
      ...(state ? { optimizer: { ...state, settings: optimizer, loss } } : {}),
      normalisation: prepared.normalisation,
      data: {
        source: label,
        inputs: prepared.inputs,
        outputs: prepared.outputs,
        trainFraction: shown.runSettings.trainFraction,
      },
    });
    const slug =
      label
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-|-$/g, '') || 'data';
    downloadText(`webgpu-lstm-${slug}-epoch-${lane.last.epoch}.json`, `${JSON.stringify(file)}\n`, 'application/json');
  }
}
