// The app's page: the settings form, the run controls and progress, the three charts and the
// notices. State lives in `lanes` (one per backend of the current run); every change schedules one
// render per frame, which feeds the charts columns from columns.ts and writes text with textContent.

import './trustedTypes.js';
import './styles.css';
import type { BackendName } from '../backends/backend.js';
import type { SeriesTask } from '../data/sine.js';
import { Chart, type ChartSpec, type SeriesSpec } from './charts.js';
import {
  BACKEND_LABEL,
  type BackendTrace,
  describeRace,
  errorColumns,
  formatDuration,
  formatNumber,
  intervalTiming,
  raceRatio,
  secondsLeft,
  seriesColumns,
  timingColumns,
} from './columns.js';
import { byId, el, setText } from './dom.js';
import { adapterName, type GpuAccess, type GpuProbe, probeWebGpu } from './gpu.js';
import type { RunFailure } from './protocol.js';
import { startCpuRun, startMainThreadRun, type TrainingRun } from './runners.js';
import type { Snapshot } from './session.js';
import {
  type BackendChoice,
  defaultFieldValues,
  FIELDS,
  type FieldName,
  type FieldValues,
  fieldOf,
  parseBackendChoice,
  parseSettings,
  taskFor,
} from './settings.js';

type LaneStatus = 'running' | 'pausing' | 'paused' | 'finished' | 'stopped' | 'diverged' | 'failed';

interface Lane {
  backend: BackendName;
  run: TrainingRun;
  trace: BackendTrace;
  last: Snapshot | null;
  status: LaneStatus;
  failure: string | null;
  row: HTMLElement;
}

const ACTIVE: ReadonlySet<LaneStatus> = new Set(['running', 'pausing', 'paused']);

// ---- Elements (static markup in index.html; the form fields are generated from FIELDS) ----

const form = byId('settings', HTMLFormElement);
const settingsFieldset = byId('settings-fields', HTMLFieldSetElement);
const fieldsHost = byId('fields', HTMLDivElement);
const backendFieldset = byId('backend-choice', HTMLFieldSetElement);
const backendNote = byId('backend-note', HTMLParagraphElement);
const startButton = byId('start', HTMLButtonElement);
const pauseButton = byId('pause', HTMLButtonElement);
const stopButton = byId('stop', HTMLButtonElement);
const resetButton = byId('reset', HTMLButtonElement);
const defaultsButton = byId('defaults', HTMLButtonElement);
const formStatus = byId('form-status', HTMLParagraphElement);
const progressHost = byId('progress', HTMLDivElement);
const notices = byId('notices', HTMLDivElement);
const logToggle = byId('log-scale', HTMLInputElement);
const seriesSummary = byId('series-summary', HTMLParagraphElement);
const errorSummary = byId('error-summary', HTMLParagraphElement);
const adapterLine = byId('adapter', HTMLParagraphElement);
const raceLine = byId('race', HTMLParagraphElement);
const statsBody = byId('stats-body', HTMLTableSectionElement);

const inputs = new Map<FieldName, HTMLInputElement>();
const errorLines = new Map<FieldName, HTMLParagraphElement>();

for (const spec of FIELDS) {
  const id = `field-${spec.name}`;
  const input = el('input', {
    id,
    name: spec.name,
    type: 'text',
    inputmode: spec.inputMode,
    autocomplete: 'off',
    spellcheck: 'false',
    'aria-describedby': `${id}-hint ${id}-error`,
  });
  input.value = spec.defaultText;
  const error = el('p', { class: 'field-error', id: `${id}-error` });
  fieldsHost.append(
    el('div', { class: 'field', 'data-field': spec.name }, [
      el('label', { for: id }, [spec.label]),
      input,
      el('p', { class: 'field-hint', id: `${id}-hint` }, [spec.hint]),
      error,
    ]),
  );
  inputs.set(spec.name, input);
  errorLines.set(spec.name, error);
}

// ---- State ----

let lanes: Lane[] = [];
/** The series the charts show: the current run's, or a preview of the settings while idle. */
let shownTask: { task: SeriesTask; window: number } | null = null;
let gpuProbe: Promise<GpuProbe> = probeWebGpu();
let gpu: GpuAccess | null = null;
let gpuUnavailable: string | null = null;
/** Once a person picks a backend, the WebGPU probe no longer changes the choice. */
let userPickedBackend = false;

// ---- Charts ----

const color = (backend: BackendName) => backend;
const fmt3 = (v: number) => v.toFixed(3);

function seriesSpec(backends: BackendName[]): ChartSpec {
  const series: SeriesSpec[] = [{ label: 'data', color: 'data', width: 1, points: true, format: fmt3 }];
  for (const b of backends) {
    series.push(
      { label: `prediction (${BACKEND_LABEL[b]})`, color: color(b), format: fmt3 },
      { label: `forecast (${BACKEND_LABEL[b]})`, color: `${color(b)}-alt`, dash: [6, 4], format: fmt3 },
    );
  }
  return { xLabel: 'x', formatX: (v) => v.toFixed(2), series, axes: [{ scale: 'y', label: 'value' }], height: 260 };
}

function errorSpec(backends: BackendName[]): ChartSpec {
  return {
    xLabel: 'epoch',
    formatX: String,
    series: backends.map((b) => ({ label: `error (${BACKEND_LABEL[b]})`, color: color(b), format: formatNumber })),
    axes: [{ scale: 'y', label: 'error', log: logToggle.checked }],
    height: 210,
  };
}

function timingSpec(backends: BackendName[]): ChartSpec {
  const series: SeriesSpec[] = [];
  for (const b of backends) {
    series.push(
      // Points: one value per report, and a run of one report is still visible.
      { label: `ms/epoch (${BACKEND_LABEL[b]})`, color: color(b), scale: 'ms', points: true, format: formatNumber },
      {
        label: `steps/s (${BACKEND_LABEL[b]})`,
        color: color(b),
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
const laneBackends = () => lanes.map((lane) => lane.backend);

function seriesData() {
  if (shownTask === null) return seriesColumns(new Float32Array(0), new Float32Array(0), 0, traces());
  return seriesColumns(shownTask.task.positions, shownTask.task.series, shownTask.window, traces());
}

const seriesChart = new Chart(byId('series-chart', HTMLDivElement), seriesSpec([]), seriesData());
const errorChart = new Chart(byId('error-chart', HTMLDivElement), errorSpec([]), errorColumns([]));
const timingChart = new Chart(byId('timing-chart', HTMLDivElement), timingSpec([]), timingColumns([]));

function respecCharts(): void {
  const backends = laneBackends();
  seriesChart.setSpec(seriesSpec(backends), seriesData());
  errorChart.setSpec(errorSpec(backends), errorColumns(traces()));
  timingChart.setSpec(timingSpec(backends), timingColumns(traces()));
}

window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
  for (const chart of [seriesChart, errorChart, timingChart]) chart.rebuild();
});

logToggle.addEventListener('change', () => errorChart.setSpec(errorSpec(laneBackends()), errorColumns(traces())));

// ---- Notices ----

function showNotice(key: string, text: string, action?: { label: string; run: () => void }): void {
  hideNotice(key);
  const notice = el('div', { class: 'notice', 'data-notice': key, role: 'alert' }, [el('p', {}, [text])]);
  if (action) {
    const button = el('button', { type: 'button' }, [action.label]);
    button.addEventListener('click', action.run);
    notice.append(button);
  }
  const close = el('button', { type: 'button', class: 'notice-close', 'aria-label': 'Dismiss this notice' }, ['×']);
  close.addEventListener('click', () => hideNotice(key));
  notice.append(close);
  notices.append(notice);
}

/** Ends a message with exactly one full stop. */
function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

function hideNotice(key: string): void {
  for (const node of notices.querySelectorAll(`[data-notice="${key}"]`)) node.remove();
}

// ---- WebGPU availability ----

function backendRadios(): HTMLInputElement[] {
  return [...backendFieldset.querySelectorAll<HTMLInputElement>('input[name="backend"]')];
}

function selectedBackend(): BackendChoice {
  const checked = backendRadios().find((r) => r.checked);
  return parseBackendChoice(checked?.value ?? 'cpu');
}

function selectBackend(choice: BackendChoice): void {
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
    showNotice('webgpu', `${probe.reason} Training runs on the CPU backend instead; everything else works.`, {
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
  render();
}

function onDeviceLost(lostGpu: GpuAccess, reason: string): void {
  if (gpu !== lostGpu) return;
  applyGpuProbe({ ok: false, reason: `WebGPU stopped working (${reason.replace(/\.$/, '')}).` });
  // The run may have failed first on a read-back the loss cut short; the loss is the story to tell.
  hideNotice('failed-webgpu');
  for (const lane of lanes) {
    if (lane.backend !== 'webgpu') continue;
    if (ACTIVE.has(lane.status)) lane.run.stop();
    if (ACTIVE.has(lane.status) || lane.status === 'failed') {
      lane.status = 'failed';
      lane.failure = 'the GPU device was lost; the charts keep its last report';
    }
  }
  render();
}

backendFieldset.addEventListener('change', () => {
  userPickedBackend = true;
});

// ---- Settings form ----

function fieldValues(): FieldValues {
  const values = defaultFieldValues();
  for (const [name, input] of inputs) values[name] = input.value;
  return values;
}

function showFieldError(name: FieldName, message: string | undefined): void {
  const input = inputs.get(name)!;
  const line = errorLines.get(name)!;
  setText(line, message ?? '');
  if (message === undefined) input.removeAttribute('aria-invalid');
  else input.setAttribute('aria-invalid', 'true');
}

/** Checks the form, shows every problem beside its field, and returns the settings if all are valid. */
function validateForm(showAll: boolean, touched?: FieldName) {
  const result = parseSettings(fieldValues());
  const errors = result.ok ? {} : result.errors;
  for (const { name } of FIELDS) {
    const shown = inputs.get(name)!.hasAttribute('aria-invalid');
    if (showAll || name === touched || shown) showFieldError(name, errors[name]);
  }
  return result;
}

/** While no run is shown, the series chart previews the data the settings give. */
function previewSettings(): void {
  if (lanes.length > 0) return;
  const result = parseSettings(fieldValues());
  if (!result.ok) return;
  shownTask = { task: taskFor(result.settings.run), window: result.settings.run.window };
  seriesChart.setData(seriesData());
  render();
}

// Problems show while typing, after a short pause (at once while a field is marked, so the mark
// clears as soon as it is fixed). Not on blur: a message appearing then would shift the buttons
// under a pointer that left the field to press one.
const typingPause = new Map<FieldName, number>();
for (const [name, input] of inputs) {
  input.addEventListener('input', () => {
    clearTimeout(typingPause.get(name));
    if (input.hasAttribute('aria-invalid')) validateForm(false, name);
    else
      typingPause.set(
        name,
        window.setTimeout(() => validateForm(false, name), 600),
      );
    previewSettings();
  });
}

defaultsButton.addEventListener('click', () => {
  const defaults = defaultFieldValues();
  for (const [name, input] of inputs) {
    input.value = defaults[name];
    showFieldError(name, undefined);
  }
  previewSettings();
});

// ---- Runs ----

function newLane(backend: BackendName, run: (events: Parameters<typeof startCpuRun>[1]) => TrainingRun): Lane {
  const lane: Lane = {
    backend,
    run: undefined as unknown as TrainingRun,
    trace: { backend, losses: [], predictions: null, forecast: null, timing: [] },
    last: null,
    status: 'running',
    failure: null,
    row: progressRow(backend),
  };
  lane.run = run({
    onReport: (snapshot) => {
      const previous = lane.last ?? { epoch: 0, seconds: 0 };
      lane.trace.losses.push(...snapshot.newLosses);
      lane.trace.predictions = snapshot.predictions;
      lane.trace.forecast = snapshot.forecast;
      lane.trace.timing.push(intervalTiming(previous, snapshot, snapshot.stepsPerEpoch));
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
        showNotice(`failed-${lane.backend}`, `The ${BACKEND_LABEL[lane.backend]} run ${sentence(end.message)}`);
      }
      render();
    },
    onFailed: (failure) => failLane(lane, failure),
  });
  return lane;
}

function failLane(lane: Lane, failure: RunFailure): void {
  lane.status = 'failed';
  lane.failure = failure.message;
  const field = failure.field === null ? null : fieldOf(failure.field);
  if (field !== null) showFieldError(field, failure.message);
  showNotice(
    `failed-${lane.backend}`,
    `The ${BACKEND_LABEL[lane.backend]} run stopped: ${sentence(failure.message)}${lane.backend === 'webgpu' ? ' The CPU backend is still available.' : ''}`,
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
  hideNotice('failed-webgpu');
  hideNotice('failed-cpu');
}

async function start(): Promise<void> {
  const result = validateForm(true);
  if (!result.ok) {
    setText(formStatus, 'Not started: fix the settings marked in red.');
    const first = FIELDS.find((f) => result.errors[f.name] !== undefined);
    if (first) inputs.get(first.name)!.focus();
    return;
  }
  const choice = selectedBackend();
  if (choice !== 'cpu') {
    startButton.disabled = true;
    await gpuProbe; // applyGpuProbe, registered first, has run by now
    if (gpu === null) {
      setText(formStatus, `Not started: ${gpuUnavailable ?? 'WebGPU is unavailable'} Pick the CPU backend.`);
      render();
      return;
    }
  }
  const settings = result.settings;
  clearRun();
  setText(formStatus, '');
  shownTask = { task: taskFor(settings.run), window: settings.run.window };
  const backends: BackendName[] = choice === 'both' ? ['webgpu', 'cpu'] : [choice];
  const gpuForRun = gpu;
  lanes = backends.map((backend) =>
    backend === 'cpu'
      ? newLane('cpu', (events) => startCpuRun(settings, events))
      : newLane('webgpu', (events) =>
          startMainThreadRun('webgpu', settings, (layout) => gpuForRun!.createBackend(layout), events),
        ),
  );
  respecCharts();
  render();
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  if (!lanes.some((lane) => ACTIVE.has(lane.status))) void start();
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
  shownTask = null;
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
  setText(row.querySelector<HTMLElement>('.lane-status')!, STATUS_TEXT[lane.status]);
  const bar = row.querySelector('progress')!;
  const meta = row.querySelector<HTMLElement>('.lane-meta')!;
  if (last === null) {
    setText(meta, lane.status === 'failed' ? (lane.failure ?? 'failed') : 'preparing the first epochs…');
    return;
  }
  bar.max = last.epochs;
  bar.value = last.epoch;
  const rate = last.seconds > 0 ? last.steps / last.seconds : null;
  const left = ACTIVE.has(lane.status)
    ? `${formatDuration(secondsLeft(last.epoch, last.epochs, last.seconds))} left`
    : `took ${formatDuration(last.seconds)}`;
  const progress = `epoch ${last.epoch}/${last.epochs} · ${formatNumber(rate)} steps/s`;
  setText(meta, lane.failure === null ? `${progress} · ${left}` : `${progress} · ${lane.failure}`);
  row.dataset.epoch = String(last.epoch);
}

function renderStats(): void {
  const rows = lanes.map((lane) => {
    const { losses } = lane.trace;
    const last = lane.last;
    const rate = last && last.seconds > 0 ? last.steps / last.seconds : null;
    const msPerEpoch = last && last.epoch > 0 ? (last.seconds * 1000) / last.epoch : null;
    const first = losses.length > 0 ? losses[0] : null;
    const latest = losses.length > 0 ? losses[losses.length - 1] : null;
    const row = el('tr', { 'data-backend': lane.backend, 'data-status': lane.status }, [
      el('th', { scope: 'row' }, [BACKEND_LABEL[lane.backend]]),
      el('td', {}, [last ? `${last.epoch}/${last.epochs}` : '–']),
      el('td', {}, [`${formatNumber(first)} → ${formatNumber(latest)}`]),
      el('td', {}, [formatNumber(msPerEpoch)]),
      el('td', {}, [formatNumber(rate)]),
    ]);
    // Exact values for scripts and tests; the cells show rounded ones.
    row.dataset.epoch = String(last?.epoch ?? 0);
    row.dataset.firstError = String(first ?? '');
    row.dataset.lastError = String(latest ?? '');
    row.dataset.stepsPerSecond = String(rate ?? '');
    row.dataset.msPerEpoch = String(msPerEpoch ?? '');
    return row;
  });
  statsBody.replaceChildren(...rows);
}

function renderSummaries(): void {
  const reported = lanes.filter((lane) => lane.last !== null);
  if (shownTask === null) setText(seriesSummary, 'Set valid settings to see the data.');
  else if (reported.length === 0) {
    setText(
      seriesSummary,
      `${shownTask.task.series.length} noisy points of a sine; the model will predict each value from the ${shownTask.window} before it.`,
    );
  } else {
    const parts = reported.map(
      (lane) =>
        `${BACKEND_LABEL[lane.backend]} at epoch ${lane.last!.epoch}: ${lane.trace.predictions?.length ?? 0} one-step predictions and a ${lane.trace.forecast?.length ?? 0}-step forecast`,
    );
    setText(seriesSummary, `${shownTask.task.series.length} data points. ${parts.join('; ')}.`);
  }
  if (reported.length === 0) setText(errorSummary, 'The error after each epoch appears here once training runs.');
  else {
    setText(
      errorSummary,
      reported
        .map(
          (lane) =>
            `${BACKEND_LABEL[lane.backend]}: ${formatNumber(lane.trace.losses[0])} after epoch 1, ${formatNumber(lane.trace.losses[lane.trace.losses.length - 1])} after epoch ${lane.trace.losses.length}`,
        )
        .join('. '),
    );
  }

  const adapter = gpu?.adapter ?? null;
  if (adapter !== null) setText(adapterLine, `WebGPU adapter: ${adapterName(adapter)}.`);
  else setText(adapterLine, `WebGPU: ${gpuUnavailable ?? 'checking…'}`);
  adapterLine.dataset.software = adapter === null ? '' : String(adapter.software);

  const gpuLane = lanes.find((lane) => lane.backend === 'webgpu');
  const cpuLane = lanes.find((lane) => lane.backend === 'cpu');
  if (gpuLane?.status === 'finished' && cpuLane?.status === 'finished' && gpuLane.last && cpuLane.last) {
    const ratio = raceRatio(gpuLane.last, cpuLane.last);
    setText(raceLine, describeRace(ratio, adapter?.software ?? false));
    raceLine.dataset.ratio = String(ratio ?? '');
  } else {
    setText(raceLine, lanes.length === 2 ? 'The race result appears when both backends finish.' : '');
    raceLine.dataset.ratio = '';
  }
}

function renderControls(): void {
  const active = lanes.some((lane) => ACTIVE.has(lane.status));
  const runningLanes = lanes.some((lane) => lane.status === 'running');
  settingsFieldset.disabled = active;
  backendFieldset.disabled = active;
  startButton.disabled = active;
  pauseButton.disabled = !active;
  stopButton.disabled = !active;
  resetButton.disabled = lanes.length === 0;
  setText(pauseButton, active && !runningLanes ? 'Resume' : 'Pause');
  pauseButton.setAttribute('aria-pressed', String(active && !runningLanes));
  let phase = 'idle';
  if (active) {
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

let frame = 0;
function render(): void {
  if (frame !== 0) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    const series = seriesData();
    const errors = errorColumns(traces());
    const timing = timingColumns(traces());
    seriesChart.setData(series);
    errorChart.setData(errors);
    timingChart.setData(timing);
    // What each chart holds, for scripts and tests (a canvas cannot be read back as data).
    const backends = laneBackends();
    byId('series-chart', HTMLDivElement).dataset.counts = countValues(
      series,
      seriesSpec(backends).series.map((s) => s.label),
    );
    byId('error-chart', HTMLDivElement).dataset.counts = countValues(
      errors,
      errorSpec(backends).series.map((s) => s.label),
    );
    byId('timing-chart', HTMLDivElement).dataset.counts = countValues(
      timing,
      timingSpec(backends).series.map((s) => s.label),
    );
    for (const lane of lanes) renderLane(lane);
    renderStats();
    renderSummaries();
    renderControls();
  });
}

previewSettings();
render();
void gpuProbe.then(applyGpuProbe);
