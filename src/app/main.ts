// The app's page: the Train view (settings form with the data picker, run controls and progress, the
// three charts, model download and load) and the Benchmark view (benchView.ts), plus the notices.
// Training state lives in `lanes` (one per backend of the current run) and `shown` (the run's data);
// every change schedules one render per frame, which feeds the charts columns from columns.ts and
// writes text with textContent. The settings are mirrored into the page's URL (link.ts) as they change.

import './trustedTypes.js';
import './styles.css';
import type { BackendName } from '../backends/backend.js';
import { InputError } from '../model/errors.js';
import { describeConfig, type ModelConfig, paramLayout, sameShape } from '../model/layout.js';
import { type Model, parseJson, readModelFile, toModelFile } from '../model/modelFile.js';
import { BenchView } from './benchView.js';
import { Chart, type ChartSeries, type ChartSpec } from './charts.js';
import {
  BACKEND_LABEL,
  type BackendTrace,
  describeRace,
  type ErrorScale,
  errorColumns,
  errorScale,
  formatDuration,
  formatNumber,
  intervalTiming,
  raceRatio,
  type SeriesView,
  secondsLeft,
  seriesColumns,
  timingColumns,
} from './columns.js';
import { CsvPicker } from './csvPicker.js';
import {
  checkAgainstData,
  describeData,
  type ExplicitRunSettings,
  runSettingsFor,
  type ShownData,
  shownData,
} from './dataView.js';
import { byId, downloadText, el, setText } from './dom.js';
import { defaultFieldValues, FIELDS, fieldApplies, fieldOf, type SourceKind } from './fields.js';
import { SettingsForm } from './form.js';
import { adapterName, type GpuAccess, type GpuProbe, probeWebGpu } from './gpu.js';
import { describeNames, readLink, writeLink } from './link.js';
import { hideNotice, sentence, showNotice } from './notices.js';
import type { RunFailure, RunRequest } from './protocol.js';
import {
  liveResources,
  onLiveResourcesChange,
  type RunEvents,
  startCpuRun,
  startGpuRun,
  type TrainingRun,
} from './runners.js';
import type { Snapshot } from './session.js';
import { APP_BACKEND, type AppBackendChoice, type AppSettings, messageOf, parseSettings } from './settings.js';

type LaneStatus = 'running' | 'pausing' | 'paused' | 'finished' | 'stopped' | 'diverged' | 'failed';

interface Lane {
  /** The backend the lane started on (its colour); `run.backend` is the one training now. */
  backend: BackendName;
  /** A forecast with a loaded model, no training. */
  forecastOnly: boolean;
  run: TrainingRun;
  trace: BackendTrace;
  last: Snapshot | null;
  status: LaneStatus;
  failure: string | null;
  /** Set when a WebGPU lane went on with the CPU: from which epoch. */
  switchedAt: number | null;
  row: HTMLElement;
}

/** The run on the charts: its settings and its data as the page prepared it. */
interface ShownRun {
  settings: AppSettings;
  runSettings: ExplicitRunSettings;
  view: ShownData;
  scale: ErrorScale;
}

const ACTIVE: ReadonlySet<LaneStatus> = new Set(['running', 'pausing', 'paused']);

// ---- Elements (static markup in index.html; the form fields are generated from FIELDS) ----

const settingsForm = byId('settings', HTMLFormElement);
const settingsFieldset = byId('settings-fields', HTMLFieldSetElement);
const backendFieldset = byId('backend-choice', HTMLFieldSetElement);
const backendNote = byId('backend-note', HTMLParagraphElement);
const startButton = byId('start', HTMLButtonElement);
const pauseButton = byId('pause', HTMLButtonElement);
const stopButton = byId('stop', HTMLButtonElement);
const resetButton = byId('reset', HTMLButtonElement);
const defaultsButton = byId('defaults', HTMLButtonElement);
const copyLinkButton = byId('copy-link', HTMLButtonElement);
const formStatus = byId('form-status', HTMLParagraphElement);
const progressHost = byId('progress', HTMLDivElement);
const downloadButton = byId('download-model', HTMLButtonElement);
const forecastButton = byId('forecast', HTMLButtonElement);
const modelInput = byId('model-file', HTMLInputElement);
const forgetModelButton = byId('forget-model', HTMLButtonElement);
const modelStatus = byId('model-status', HTMLParagraphElement);
const modelError = byId('model-error', HTMLParagraphElement);
const dataSummary = byId('data-summary', HTMLParagraphElement);
const outputChoice = byId('output-choice', HTMLLabelElement);
const outputSelect = byId('output-column', HTMLSelectElement);
const logToggle = byId('log-scale', HTMLInputElement);
const seriesSummary = byId('series-summary', HTMLParagraphElement);
const errorSummary = byId('error-summary', HTMLParagraphElement);
const adapterLine = byId('adapter', HTMLParagraphElement);
const raceLine = byId('race', HTMLParagraphElement);
const statsBody = byId('stats-body', HTMLTableSectionElement);

const form = new SettingsForm({
  data: byId('fields-data', HTMLDivElement),
  split: byId('fields-split', HTMLDivElement),
  model: byId('fields-model', HTMLDivElement),
  training: byId('fields-training', HTMLDivElement),
});
const csv = new CsvPicker(() => (form.values().missing === 'drop' ? 'drop' : 'refuse'));

// ---- State ----

let lanes: Lane[] = [];
/** The run on the charts, or null while idle (the charts then preview the settings' data). */
let shown: ShownRun | null = null;
let preview: { view: ShownData; runSettings: ExplicitRunSettings } | null = null;
/** Which output column the series chart shows. */
let outputIndex = 0;
let loaded: { model: Model; name: string } | null = null;
let gpuProbe: Promise<GpuProbe> = probeWebGpu();
let gpu: GpuAccess | null = null;
let gpuUnavailable: string | null = null;
/** Once a person (or a link) picks a backend, the WebGPU probe no longer changes the choice. */
let userPickedBackend = false;

const active = () => lanes.some((lane) => ACTIVE.has(lane.status));

// ---- Charts ----

const fmt3 = (v: number) => (Math.abs(v) >= 1000 ? formatNumber(v) : v.toFixed(3));

function laneLabel(lane: Lane): string {
  if (lane.forecastOnly) return 'loaded model';
  return lane.switchedAt === null ? BACKEND_LABEL[lane.backend] : `${BACKEND_LABEL[lane.backend]} → CPU`;
}

function shownView(): { view: ShownData; runSettings: ExplicitRunSettings } | null {
  return shown ?? preview;
}

function seriesSpec(): ChartSpec {
  const current = shownView();
  const view = current?.view ?? null;
  const column = view?.prepared.outputs[outputIndex] ?? 'value';
  const series: ChartSeries[] = [{ label: `data (${column})`, color: 'data', width: 1, points: true, format: fmt3 }];
  for (const lane of lanes) {
    const label = laneLabel(lane);
    series.push(
      { label: `prediction (${label})`, color: lane.backend, format: fmt3 },
      { label: `forecast (${label})`, color: `${lane.backend}-alt`, dash: [6, 4], format: fmt3 },
    );
  }
  const dates = view?.dates ?? null;
  const source = current?.runSettings.source;
  const sine = source?.kind === 'generated' && source.spec.kind === 'sine';
  const formatX = (v: number) =>
    dates !== null ? (dates[Math.round(v)] ?? String(v)) : sine ? v.toFixed(2) : String(v);
  const prepared = view?.prepared ?? null;
  const marker =
    view !== null && prepared !== null && prepared.validation !== null
      ? { x: view.positions[prepared.boundary], label: 'held out →' }
      : null;
  return {
    xLabel: dates !== null ? 'date' : sine ? 'x' : source?.kind === 'generated' ? 'step' : 'row',
    formatX,
    // Monthly series (every date the 1st) label ticks by month; others by the full date.
    formatXTick: dates !== null ? tickFormat(dates, formatX) : undefined,
    xTickSpace: dates !== null ? 90 : undefined,
    series,
    axes: [{ scale: 'y', label: column, log: false }],
    height: 270,
    marker,
  };
}

function tickFormat(dates: string[], formatX: (v: number) => string): (v: number) => string {
  const monthly = dates.every((d) => /^\d{4}-\d{2}-01$/.test(d));
  return monthly ? (v) => formatX(v).replace(/^(\d{4}-\d{2})-01$/, '$1') : formatX;
}

function withValidation(): boolean {
  return shown !== null && shown.view.prepared.validation !== null;
}

function errorSpec(): ChartSpec {
  const series: ChartSeries[] = [];
  for (const lane of lanes) {
    const label = laneLabel(lane);
    series.push({ label: `error (${label})`, color: lane.backend, format: formatNumber });
    if (withValidation()) {
      series.push({
        label: `validation (${label})`,
        color: `${lane.backend}-alt`,
        dash: [3, 3],
        points: true,
        format: formatNumber,
      });
    }
  }
  return {
    xLabel: 'epoch',
    formatX: String,
    series,
    axes: [{ scale: 'y', label: shown?.scale.label ?? 'error', log: logToggle.checked }],
    height: 210,
  };
}

function timingSpec(): ChartSpec {
  const series: ChartSeries[] = [];
  for (const lane of lanes) {
    const label = laneLabel(lane);
    series.push(
      // Points: one value per report, and a run of one report is still visible.
      { label: `ms/epoch (${label})`, color: lane.backend, scale: 'ms', points: true, format: formatNumber },
      {
        label: `steps/s (${label})`,
        color: lane.backend,
        dash: [6, 4],
        scale: 'sps',
        points: true,
        format: formatNumber,
      },
    );
  }
  return {
    xLabel: 'epoch',
    formatX: String,
    series,
    axes: [
      // Log scales: in a race the backends can be orders of magnitude apart.
      { scale: 'ms', label: 'ms per epoch', log: true },
      { scale: 'sps', label: 'steps per second', side: 'right', log: true },
    ],
    height: 210,
  };
}

const traces = () => lanes.map((lane) => lane.trace);

function seriesData() {
  const current = shownView();
  if (current === null) return seriesColumns(null, traces());
  const { prepared, positions } = current.view;
  const name = prepared.outputs[outputIndex];
  const view: SeriesView = {
    positions,
    values: prepared.table.values[prepared.table.columns.indexOf(name)],
    window: current.runSettings.window,
    outputs: prepared.outputs.length,
    output: outputIndex,
  };
  return seriesColumns(view, traces());
}

const errorData = () => errorColumns(traces(), shown?.scale ?? null, withValidation());

const seriesChart = new Chart(byId('series-chart', HTMLDivElement), seriesSpec(), seriesData());
const errorChart = new Chart(byId('error-chart', HTMLDivElement), errorSpec(), errorData());
const timingChart = new Chart(byId('timing-chart', HTMLDivElement), timingSpec(), timingColumns([]));

function respecCharts(): void {
  seriesChart.setSpec(seriesSpec(), seriesData());
  errorChart.setSpec(errorSpec(), errorData());
  timingChart.setSpec(timingSpec(), timingColumns(traces()));
}

window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
  for (const chart of [seriesChart, errorChart, timingChart]) chart.rebuild();
});

logToggle.addEventListener('change', () => errorChart.setSpec(errorSpec(), errorData()));

/** The output column chooser, shown when the model predicts several columns. */
function renderOutputChoice(): void {
  const outputs = shownView()?.view.prepared.outputs ?? [];
  outputChoice.hidden = outputs.length < 2;
  if (outputIndex >= outputs.length) outputIndex = 0;
  const names = [...outputSelect.options].map((o) => o.textContent);
  if (names.length !== outputs.length || names.some((n, i) => n !== outputs[i])) {
    outputSelect.replaceChildren(...outputs.map((name, i) => el('option', { value: String(i) }, [name])));
  }
  outputSelect.value = String(outputIndex);
}

outputSelect.addEventListener('change', () => {
  outputIndex = Number(outputSelect.value);
  seriesChart.setSpec(seriesSpec(), seriesData());
  render();
});

// ---- WebGPU availability ----

function backendRadios(): HTMLInputElement[] {
  return [...backendFieldset.querySelectorAll<HTMLInputElement>('input[name="backend"]')];
}

function selectedBackend(): AppBackendChoice {
  const checked = backendRadios().find((r) => r.checked);
  return APP_BACKEND.parse(checked?.value ?? 'cpu');
}

function selectBackend(choice: AppBackendChoice): void {
  for (const radio of backendRadios()) radio.checked = radio.value === choice;
}

function applyGpuProbe(probe: GpuProbe): void {
  if (probe.ok) {
    gpu = probe.gpu;
    gpuUnavailable = null;
    hideNotice('webgpu');
    setText(backendNote, `WebGPU adapter: ${adapterName(probe.gpu.adapter)}.`);
    void probe.gpu.lost.then((reason) => onDeviceLost(probe.gpu, reason));
  } else {
    gpu = null;
    gpuUnavailable = probe.reason;
    setText(backendNote, 'WebGPU is unavailable here; the CPU backend works everywhere.');
    showNotice('webgpu', `${probe.reason} New runs use the CPU backend instead; everything else works.`, {
      label: 'Try WebGPU again',
      run: () => {
        gpuProbe = probeWebGpu();
        void gpuProbe.then(applyGpuProbe);
      },
    });
    if (selectedBackend() !== 'cpu') selectBackend('cpu');
  }
  for (const radio of backendRadios()) {
    const unavailable = radio.value !== 'cpu' && gpu === null;
    radio.disabled = unavailable;
    radio.toggleAttribute('data-unavailable', unavailable);
  }
  if (gpu !== null && lanes.length === 0 && !userPickedBackend) selectBackend('webgpu');
  bench.render();
  render();
}

/** The device is gone: say so, and move WebGPU runs to the CPU from their last report. */
function onDeviceLost(lostGpu: GpuAccess, reason: string): void {
  if (gpu !== lostGpu) return;
  const why = reason.replace(/\.$/, '');
  applyGpuProbe({ ok: false, reason: `WebGPU stopped working (${why}).` });
  for (const lane of lanes) {
    if (lane.run.backend === 'webgpu' && ACTIVE.has(lane.status)) lane.run.fallBack(`the GPU device was lost (${why})`);
  }
  render();
}

backendFieldset.addEventListener('change', () => {
  userPickedBackend = true;
  scheduleLinkUpdate();
});

// ---- Settings, data and the link ----

/** While no run is shown, the series chart previews the data the settings give. */
let previewTimer = 0;
function schedulePreview(): void {
  clearTimeout(previewTimer);
  previewTimer = window.setTimeout(previewSettings, 120);
}

function previewSettings(): void {
  const values = form.values();
  csv.show(values.source === 'csv');
  const result = parseSettings(values);
  if (!result.ok) {
    setText(dataSummary, '');
    return;
  }
  try {
    const runSettings = runSettingsFor(result.settings.run, csv.choice());
    const view = shownData(runSettings);
    setText(dataSummary, describeData(view, runSettings.window));
    dataSummary.removeAttribute('data-problem');
    if (lanes.length > 0) return;
    preview = { view, runSettings };
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    setText(dataSummary, sentence(capitalise(messageOf(err))));
    dataSummary.setAttribute('data-problem', err.field);
    if (lanes.length > 0) return;
    preview = null;
  }
  seriesChart.setSpec(seriesSpec(), seriesData());
  render();
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

let linkTimer = 0;
function scheduleLinkUpdate(): void {
  clearTimeout(linkTimer);
  linkTimer = window.setTimeout(updateLink, 250);
}

function updateLink(): void {
  const query = writeLink(form.values(), userPickedBackend ? selectedBackend() : null, csv.linkColumns());
  const url = `${location.pathname}${query === '' ? '' : `?${query}`}${location.hash}`;
  if (url !== `${location.pathname}${location.search}${location.hash}`) history.replaceState(null, '', url);
}

form.onChange((name) => {
  csv.show(form.values().source === 'csv');
  if (name === 'missing') csv.reread();
  schedulePreview();
  scheduleLinkUpdate();
});

csv.onChange(() => {
  schedulePreview();
  scheduleLinkUpdate();
  render();
});

defaultsButton.addEventListener('click', () => {
  form.setValues(defaultFieldValues(form.values().source as SourceKind));
  schedulePreview();
  scheduleLinkUpdate();
});

copyLinkButton.addEventListener('click', () => {
  updateLink();
  const done = (text: string) => setText(formStatus, text);
  if (navigator.clipboard) {
    navigator.clipboard.writeText(location.href).then(
      () => done('A link to these settings is on the clipboard.'),
      () => done(`Copy this link to share these settings: ${location.href}`),
    );
  } else done(`Copy this link to share these settings: ${location.href}`);
});

/** Settings from the page's link: values the form's parser refuses are explained beside their fields. */
function applyLink(): void {
  const link = readLink(location.search);
  form.setValues(link.values);
  for (const [key, message] of Object.entries(link.errors)) {
    const field = FIELDS.find((f) => f.name === key);
    if (field) form.showNote(field.name, message);
    else if (key === 'backend') setText(formStatus, `Backend: ${message}.`);
    else csv.fail(`${message}.`);
  }
  if (link.unknown.length > 0) {
    showNotice(
      'link',
      `The link has settings this app does not know (${describeNames(link.unknown)}); they were ignored.`,
    );
  }
  if (link.backend !== null) {
    selectBackend(link.backend);
    userPickedBackend = true;
  }
  if (link.values.source === 'csv') {
    csv.choose(link.columns);
    const named = [...new Set([...(link.columns.inputs ?? []), ...(link.columns.outputs ?? [])])];
    const columns = named.length > 0 ? ` (its columns ${describeNames(named, true)} are chosen when it is read)` : '';
    csv.note(`This link trains on a CSV file, which a link cannot carry: choose the file${columns}.`);
  }
  csv.show(link.values.source === 'csv');
}

// ---- Model files ----

const MAX_MODEL_BYTES = 256 * 1024 * 1024;

modelInput.addEventListener('change', () => {
  const file = modelInput.files?.[0];
  modelInput.value = '';
  if (file) void loadModel(file);
});

async function loadModel(file: File): Promise<void> {
  setText(modelError, '');
  try {
    if (file.size > MAX_MODEL_BYTES) {
      throw new InputError(
        file.name,
        `is ${(file.size / 2 ** 20).toFixed(1)} MiB; model files up to 256 MiB can be loaded`,
      );
    }
    const model = readModelFile(parseJson(await file.text(), file.name));
    loaded = { model, name: file.name };
  } catch (err) {
    // Whatever was loaded or trained before stays as it was.
    const message =
      err instanceof InputError
        ? `${err.field === file.name ? 'the file' : err.field} ${messageOf(err)}`
        : (err as Error).message;
    setText(modelError, `${file.name} was not loaded: ${sentence(message)}`);
    return;
  }
  const { config, data, normalisation, optimizer } = loaded.model;
  form.setValues({
    window: String(config.window),
    hidden: config.hiddenSizes.join(', '),
    ...(data ? { split: String(data.trainFraction) } : {}),
    ...(normalisation ? { normalise: normalisation.method } : {}),
    // The model's optimiser, so Start goes on as it was trained (its state is passed at start).
    ...(optimizer
      ? {
          optimizer: optimizer.settings.name,
          momentum: String(optimizer.settings.momentum),
          'clip-norm': optimizer.settings.clipNorm === null ? '' : String(optimizer.settings.clipNorm),
          loss: optimizer.loss,
        }
      : {}),
  });
  if (data && form.values().source === 'csv')
    csv.choose({ inputs: data.inputs, outputs: data.outputs, date: undefined });
  schedulePreview();
  scheduleLinkUpdate();
  render();
}

forgetModelButton.addEventListener('click', () => {
  loaded = null;
  setText(modelError, '');
  render();
});

function modelConfig(run: ShownRun): ModelConfig {
  const { prepared } = run.view;
  return {
    inputSize: prepared.inputs.length,
    hiddenSizes: [...run.runSettings.hiddenSizes],
    outputSize: prepared.outputs.length,
    window: run.runSettings.window,
  };
}

downloadButton.addEventListener('click', () => {
  const lane = lanes.find((l) => l.last !== null);
  if (shown === null || lane === undefined || lane.last === null) return;
  const config = modelConfig(shown);
  const { prepared, label } = shown.view;
  const { optimizer, loss } = shown.settings.train;
  const state = lane.last.optimizerState;
  const file = toModelFile({
    config,
    layout: paramLayout(config),
    params: lane.last.params,
    // The optimiser's state, so that loading the file goes on training where it stopped.
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
});

forecastButton.addEventListener('click', () => {
  if (!active() && loaded !== null) void start(true);
});

// ---- Runs ----

function newLane(backend: BackendName, forecastOnly: boolean, run: (events: RunEvents) => TrainingRun): Lane {
  const lane: Lane = {
    backend,
    forecastOnly,
    run: undefined as unknown as TrainingRun,
    trace: { backend, losses: [], validation: [], predictions: null, forecast: null, forecastFrom: 0, timing: [] },
    last: null,
    status: 'running',
    failure: null,
    switchedAt: null,
    row: progressRow(backend),
  };
  lane.run = run({
    onReport: (snapshot) => {
      const previous = lane.last ?? { epoch: 0, seconds: 0 };
      lane.trace.losses.push(...snapshot.newLosses);
      lane.trace.validation = snapshot.validationLosses;
      lane.trace.predictions = snapshot.predictions;
      lane.trace.forecast = snapshot.forecast;
      lane.trace.forecastFrom = snapshot.forecastFrom;
      if (snapshot.epoch > previous.epoch) {
        lane.trace.timing.push(intervalTiming(previous, snapshot, snapshot.stepsPerEpoch));
      }
      lane.last = snapshot;
      render();
    },
    onPaused: () => {
      if (lane.status === 'pausing') lane.status = 'paused';
      render();
    },
    onEnded: (end) => {
      lane.status = end.outcome;
      if (end.message !== null) {
        lane.failure = end.message;
        showNotice(`failed-${lane.backend}`, `The ${laneLabel(lane)} run stopped: ${sentence(end.message)}`);
        if (end.outcome === 'diverged') form.showNote('lr', sentence(capitalise(end.message)));
      }
      render();
    },
    onFailed: (failure) => failLane(lane, failure),
    onSwitched: (reason, fromEpoch) => {
      lane.switchedAt = fromEpoch;
      // What the GPU did after its last report is not kept: the CPU goes on from there.
      lane.trace.losses.length = Math.min(lane.trace.losses.length, fromEpoch);
      lane.trace.validation = lane.trace.validation.filter((v) => v.epoch <= fromEpoch);
      lane.trace.timing = lane.trace.timing.filter((t) => t.epoch <= fromEpoch);
      const from =
        fromEpoch === 0
          ? 'from the start'
          : `from epoch ${fromEpoch}, its last report, with the weights read back then`;
      showNotice(
        `switched-${lane.backend}`,
        `${sentence(capitalise(reason))} The run goes on with the CPU backend ${from}; at most one report interval of training was lost.`,
      );
      respecCharts();
      render();
    },
  });
  return lane;
}

/** Shows a problem a run's input caused beside what caused it: a field, the CSV, the loaded model. */
function placeInputProblem(field: string | null, message: string): void {
  const name = field === null ? null : fieldOf(field);
  if (name !== null && fieldApplies(name, form.values())) {
    form.showError(name, message);
  } else if (field === '--load') {
    setText(modelError, `The loaded model does not fit: ${sentence(message)}`);
  } else if (field !== null && form.values().source === 'csv') {
    csv.fail(sentence(capitalise(message)));
  }
}

function failLane(lane: Lane, failure: RunFailure): void {
  lane.status = 'failed';
  lane.failure = failure.message;
  placeInputProblem(failure.field, failure.message);
  showNotice(
    `failed-${lane.backend}`,
    `The ${laneLabel(lane)} run stopped: ${sentence(failure.message)}${lane.backend === 'webgpu' ? ' The CPU backend is still available.' : ''}`,
  );
  render();
}

function stopAll(): void {
  for (const lane of lanes) {
    if (ACTIVE.has(lane.status)) {
      lane.run.stop();
      lane.status = 'stopped';
    }
  }
}

function clearRun(): void {
  stopAll();
  lanes = [];
  progressHost.replaceChildren();
  for (const key of ['failed-webgpu', 'failed-cpu', 'switched-webgpu']) hideNotice(key);
}

/** The run's data and checks, or the problem shown where it belongs (null). */
function prepareRun(settings: AppSettings): ShownRun | null {
  try {
    const runSettings = runSettingsFor(settings.run, csv.choice());
    const view = shownData(runSettings);
    checkAgainstData(settings.train, view);
    const { train, validation } = view.prepared;
    const scale = errorScale(settings.train.loss, train.count, validation?.count ?? null);
    return { settings, runSettings, view, scale };
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    const message = messageOf(err);
    placeInputProblem(err.field, message);
    setText(formStatus, `Not started: ${sentence(message)}`);
    const name = fieldOf(err.field);
    if (name !== null && fieldApplies(name, form.values())) form.focus(name);
    return null;
  }
}

async function start(forecastOnly = false): Promise<void> {
  const result = form.validate(true);
  if (!result.ok) {
    setText(formStatus, 'Not started: fix the settings marked in red.');
    const first = FIELDS.find((f) => result.errors[f.name] !== undefined);
    if (first) form.focus(first.name);
    return;
  }
  if (csv.busy()) {
    setText(formStatus, 'Not started: the CSV file is still being read.');
    return;
  }
  const run = prepareRun(result.settings);
  if (run === null) return;
  const model = loaded?.model;
  if (model !== undefined && !sameShape(model.config, modelConfig(run))) {
    setText(
      modelError,
      `The loaded model (${describeConfig(model.config)}) does not fit these settings and data (${describeConfig(modelConfig(run))}); change the settings or forget the model.`,
    );
    setText(formStatus, 'Not started: the loaded model does not fit.');
    return;
  }
  const choice = forecastOnly ? 'cpu' : selectedBackend();
  if (choice !== 'cpu') {
    startButton.disabled = true;
    await gpuProbe; // applyGpuProbe, registered first, has run by now
    if (gpu === null) {
      setText(formStatus, `Not started: ${gpuUnavailable ?? 'WebGPU is unavailable'} Pick the CPU backend.`);
      render();
      return;
    }
  }
  clearRun();
  setText(formStatus, '');
  setText(modelError, '');
  shown = run;
  preview = null;
  // A loaded model's optimiser state goes on where it stopped, if the same optimiser is chosen.
  const saved = model?.optimizer;
  const request: RunRequest = {
    run: run.runSettings,
    train: {
      ...run.settings.train,
      ...(saved && saved.name === run.settings.train.optimizer.name ? { initialOptimizerState: saved } : {}),
    },
    ...(model ? { model } : {}),
    ...(forecastOnly ? { forecastOnly } : {}),
  };
  const backends: BackendName[] = choice === 'both' ? ['webgpu', 'cpu'] : [choice];
  const gpuForRun = gpu;
  lanes = backends.map((backend) =>
    backend === 'cpu'
      ? newLane('cpu', forecastOnly, (events) => startCpuRun(request, events))
      : newLane('webgpu', false, (events) => startGpuRun(request, gpuForRun!, events)),
  );
  respecCharts();
  render();
}

settingsForm.addEventListener('submit', (event) => {
  event.preventDefault();
  if (!active() && !bench.running()) void start();
});

pauseButton.addEventListener('click', () => {
  const running = lanes.filter((lane) => lane.status === 'running');
  if (running.length > 0) {
    for (const lane of running) {
      lane.run.pause();
      lane.status = 'pausing';
    }
  } else {
    for (const lane of lanes) {
      if (lane.status === 'paused' || lane.status === 'pausing') {
        lane.run.resume();
        lane.status = 'running';
      }
    }
  }
  render();
});

stopButton.addEventListener('click', () => {
  stopAll();
  render();
});

resetButton.addEventListener('click', () => {
  clearRun();
  shown = null;
  respecCharts();
  previewSettings();
  render();
  setText(formStatus, 'Reset: the charts are cleared; the settings are kept.');
});

// ---- Rendering ----

function progressRow(backend: BackendName): HTMLElement {
  const label = BACKEND_LABEL[backend];
  const row = el('div', { class: `lane lane-${backend}`, 'data-backend': backend }, [
    el('div', { class: 'lane-head' }, [
      el('span', { class: 'lane-name' }, [label]),
      el('span', { class: 'lane-status' }, ['starting']),
    ]),
    el('progress', { max: '1', value: '0', 'aria-label': `${label} training progress` }),
    el('p', { class: 'lane-meta' }, ['starting…']),
  ]);
  progressHost.append(row);
  return row;
}

const STATUS_TEXT: Record<LaneStatus, string> = {
  running: 'training',
  pausing: 'pausing at the next report…',
  paused: 'paused',
  finished: 'finished',
  stopped: 'stopped',
  diverged: 'diverged',
  failed: 'failed',
};

function renderLane(lane: Lane): void {
  const { row, last } = lane;
  row.dataset.status = lane.status;
  row.dataset.runningOn = lane.run.backend;
  setText(row.querySelector<HTMLElement>('.lane-name')!, laneLabel(lane));
  setText(
    row.querySelector<HTMLElement>('.lane-status')!,
    lane.forecastOnly && lane.status === 'finished' ? 'forecast' : STATUS_TEXT[lane.status],
  );
  const bar = row.querySelector('progress')!;
  const meta = row.querySelector<HTMLElement>('.lane-meta')!;
  if (last === null) {
    setText(meta, lane.status === 'failed' ? (lane.failure ?? 'failed') : 'preparing the first epochs…');
    return;
  }
  row.dataset.epoch = String(last.epoch);
  if (lane.forecastOnly) {
    bar.max = 1;
    bar.value = 1;
    setText(meta, 'the loaded model’s predictions and forecast, without training');
    return;
  }
  bar.max = last.epochs;
  bar.value = last.epoch;
  const rate = last.seconds > 0 ? last.steps / last.seconds : null;
  const left = ACTIVE.has(lane.status)
    ? `${formatDuration(secondsLeft(last.epoch, last.epochs, last.seconds))} left`
    : `took ${formatDuration(last.seconds)}`;
  const progress = `epoch ${last.epoch}/${last.epochs} · ${formatNumber(rate)} steps/s`;
  const switched = lane.switchedAt === null ? '' : ` · on the CPU since epoch ${lane.switchedAt}`;
  setText(meta, lane.failure === null ? `${progress} · ${left}${switched}` : `${progress} · ${lane.failure}`);
}

function latest<T>(list: T[]): T | null {
  return list.length > 0 ? list[list.length - 1] : null;
}

function renderStats(): void {
  const scale = shown?.scale ?? { train: 1, validation: 1 };
  const rows = lanes.map((lane) => {
    const { losses, validation } = lane.trace;
    const last = lane.last;
    const rate = last && last.seconds > 0 ? last.steps / last.seconds : null;
    const msPerEpoch = last && last.epoch > 0 ? (last.seconds * 1000) / last.epoch : null;
    const first = losses.length > 0 ? losses[0] : null;
    const final = latest(losses);
    const held = latest(validation);
    const scaled = (value: number | null, factor: number) => (value === null ? null : value * factor);
    const row = el('tr', { 'data-backend': lane.backend, 'data-status': lane.status }, [
      el('th', { scope: 'row' }, [laneLabel(lane)]),
      el('td', {}, [last ? `${last.epoch}/${last.epochs}` : '–']),
      el('td', {}, [`${formatNumber(scaled(first, scale.train))} → ${formatNumber(scaled(final, scale.train))}`]),
      el('td', {}, [formatNumber(scaled(held?.loss ?? null, scale.validation))]),
      el('td', {}, [formatNumber(msPerEpoch)]),
      el('td', {}, [formatNumber(rate)]),
    ]);
    // Exact values (as the trainer reports them) for scripts and tests; the cells show rounded ones.
    row.dataset.epoch = String(last?.epoch ?? 0);
    row.dataset.runningOn = lane.run.backend;
    row.dataset.firstError = String(first ?? '');
    row.dataset.lastError = String(final ?? '');
    row.dataset.validationError = String(held?.loss ?? '');
    row.dataset.stepsPerSecond = String(rate ?? '');
    row.dataset.msPerEpoch = String(msPerEpoch ?? '');
    return row;
  });
  statsBody.replaceChildren(...rows);
}

function renderSummaries(): void {
  const current = shownView();
  const reported = lanes.filter((lane) => lane.last !== null);
  if (current === null) {
    setText(
      seriesSummary,
      form.values().source === 'csv' && csv.choice() === null
        ? 'Choose a CSV file to see its series here.'
        : 'Set valid settings to see the data.',
    );
  } else {
    const about = describeData(current.view, current.runSettings.window);
    const heldOut =
      current.view.prepared.validation === null
        ? ''
        : ' The dashed line marks where the held-out part begins; the forecast runs on from there on its own predictions.';
    const parts = reported.map((lane) =>
      lane.forecastOnly
        ? `the loaded model: ${lane.trace.predictions?.length ?? 0} one-step predictions`
        : `${laneLabel(lane)} at epoch ${lane.last!.epoch}: one-step predictions${lane.trace.forecast === null ? '' : ' and a free-running forecast'}`,
    );
    setText(seriesSummary, `${about}${heldOut}${parts.length > 0 ? ` ${capitalise(parts.join('; '))}.` : ''}`);
  }
  const scale = shown?.scale ?? { train: 1, validation: 1 };
  const trained = reported.filter((lane) => lane.trace.losses.length > 0);
  if (trained.length === 0) setText(errorSummary, 'The error after each epoch appears here once training runs.');
  else {
    setText(
      errorSummary,
      trained
        .map((lane) => {
          const { losses, validation } = lane.trace;
          const held = latest(validation);
          const heldText =
            held === null ? '' : `; validation ${formatNumber(held.loss * scale.validation)} at epoch ${held.epoch}`;
          return `${laneLabel(lane)}: ${formatNumber(losses[0] * scale.train)} after epoch 1, ${formatNumber(losses[losses.length - 1] * scale.train)} after epoch ${losses.length}${heldText}`;
        })
        .join('. '),
    );
  }

  const adapter = gpu?.adapter ?? null;
  if (adapter !== null) setText(adapterLine, `WebGPU adapter: ${adapterName(adapter)}.`);
  else setText(adapterLine, `WebGPU: ${gpuUnavailable ?? 'checking…'}`);
  adapterLine.dataset.software = adapter === null ? '' : String(adapter.software);

  const gpuLane = lanes.find((lane) => lane.backend === 'webgpu');
  const cpuLane = lanes.find((lane) => lane.backend === 'cpu');
  const bothFinished = gpuLane?.status === 'finished' && cpuLane?.status === 'finished';
  if (bothFinished && gpuLane.switchedAt === null && gpuLane.last && cpuLane.last) {
    const ratio = raceRatio(gpuLane.last, cpuLane.last);
    setText(raceLine, describeRace(ratio, adapter?.software ?? false));
    raceLine.dataset.ratio = String(ratio ?? '');
  } else {
    setText(raceLine, lanes.length === 2 && !bothFinished ? 'The race result appears when both backends finish.' : '');
    raceLine.dataset.ratio = '';
  }
}

function renderModel(): void {
  const isActive = active();
  downloadButton.disabled = !lanes.some((lane) => lane.last !== null && !lane.forecastOnly);
  forecastButton.disabled = loaded === null || isActive || bench.running();
  forgetModelButton.hidden = loaded === null;
  if (loaded === null)
    setText(modelStatus, 'Train, then download the model; or load a model file to train on or forecast.');
  else {
    const { config, data } = loaded.model;
    const layers = [config.inputSize, ...config.hiddenSizes, config.outputSize].join(' → ');
    const source = data ? `, trained on ${data.source}` : '';
    setText(
      modelStatus,
      `Loaded ${loaded.name}: ${layers}, window ${config.window}${source}. Start goes on training from its weights; Forecast shows what it predicts.`,
    );
  }
}

function renderControls(): void {
  const isActive = active();
  const runningLanes = lanes.some((lane) => lane.status === 'running');
  settingsFieldset.disabled = isActive;
  backendFieldset.disabled = isActive;
  startButton.disabled = isActive || bench.running();
  startButton.title = bench.running() ? 'The benchmark is running; training would disturb its timings.' : '';
  pauseButton.disabled = !isActive;
  stopButton.disabled = !isActive;
  resetButton.disabled = lanes.length === 0;
  setText(pauseButton, isActive && !runningLanes ? 'Resume' : 'Pause');
  pauseButton.setAttribute('aria-pressed', String(isActive && !runningLanes));
  let phase = 'idle';
  if (isActive) {
    if (runningLanes) phase = 'running';
    else phase = lanes.some((lane) => lane.status === 'pausing') ? 'pausing' : 'paused';
  } else if (lanes.length > 0) phase = lanes.every((lane) => lane.status === 'finished') ? 'finished' : 'stopped';
  document.body.dataset.phase = phase;
}

function countValues(columns: (number | null)[][], labels: string[]): string {
  const counts: Record<string, number> = {};
  labels.forEach((label, i) => {
    counts[label] = columns[i + 1].filter((v) => v !== null).length;
  });
  return JSON.stringify(counts);
}

function renderLive(): void {
  const { workers, gpuBackends } = liveResources();
  document.body.dataset.liveWorkers = String(workers);
  document.body.dataset.liveGpuBackends = String(gpuBackends);
}

onLiveResourcesChange(renderLive);

let frame = 0;
function render(): void {
  if (frame !== 0) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    renderOutputChoice();
    const series = seriesData();
    const errors = errorData();
    const timing = timingColumns(traces());
    seriesChart.setData(series);
    errorChart.setData(errors);
    timingChart.setData(timing);
    // What each chart holds, for scripts and tests (a canvas cannot be read back as data).
    byId('series-chart', HTMLDivElement).dataset.counts = countValues(
      series,
      seriesSpec().series.map((s) => s.label),
    );
    byId('error-chart', HTMLDivElement).dataset.counts = countValues(
      errors,
      errorSpec().series.map((s) => s.label),
    );
    byId('timing-chart', HTMLDivElement).dataset.counts = countValues(
      timing,
      timingSpec().series.map((s) => s.label),
    );
    for (const lane of lanes) renderLane(lane);
    renderStats();
    renderSummaries();
    renderModel();
    renderControls();
    renderLive();
    bench.render();
  });
}

// ---- Views ----

const bench = new BenchView({
  gpu: () => gpu,
  trainingActive: active,
  onChange: () => render(),
});

const tabs = [
  { tab: byId('tab-train', HTMLButtonElement), view: byId('train-view', HTMLElement), hash: '' },
  { tab: byId('tab-bench', HTMLButtonElement), view: byId('bench-view', HTMLElement), hash: '#benchmark' },
];

function showView(index: number, focus = false): void {
  tabs.forEach(({ tab, view }, i) => {
    const selected = i === index;
    tab.setAttribute('aria-selected', String(selected));
    tab.tabIndex = selected ? 0 : -1;
    view.hidden = !selected;
  });
  if (focus) tabs[index].tab.focus();
  const url = `${location.pathname}${location.search}${tabs[index].hash}`;
  if (url !== `${location.pathname}${location.search}${location.hash}`) history.replaceState(null, '', url);
  document.body.dataset.view = index === 0 ? 'train' : 'benchmark';
}

tabs.forEach(({ tab }, i) => {
  tab.addEventListener('click', () => showView(i));
  tab.addEventListener('keydown', (event) => {
    if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
    event.preventDefault();
    showView((i + (event.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length, true);
  });
});

applyLink();
showView(location.hash === '#benchmark' ? 1 : 0);
previewSettings();
render();
void gpuProbe.then(applyGpuProbe);
