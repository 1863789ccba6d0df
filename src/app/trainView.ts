// The Train view: starts runs from the settings (one lane per backend, two in a race), drives the
// run controls (start, pause and resume, stop, reset), and renders everything once per frame after
// any change. The parts: settingsPanel.ts (form, CSV, link, preview), backendPicker.ts (the backend
// and WebGPU), modelPanel.ts (download, load), lanes.ts (the runs' state), trainCharts.ts and
// runView.ts (what the page shows).

import type { BackendName } from '../backends/backend.js';
import { partTargets } from '../data/metrics.js';
import { selectionPart } from '../data/split.js';
import { InputError } from '../model/errors.js';
import { describeConfig, paramLayout, sameShape } from '../model/layout.js';
import { baselineErrors, comparisonPart } from '../train/evaluate.js';
import { capitalize, sentence } from '../util/text.js';
import { BackendPicker } from './backendPicker.js';
import type { ShownView } from './chartSpecs.js';
import { errorScale } from './columns.js';
import { checkAgainstData, runSettingsFor, shownData } from './dataView.js';
import { byId } from './dom.js';
import { describeFailure } from './failure.js';
import { FIELDS, fieldApplies, fieldOf } from './fields.js';
import type { GpuAccess, GpuProbe } from './gpu.js';
import { Lane, type LaneObserver, RunLanes } from './lanes.js';
import { dataMatches, ModelPanel, modelConfigOf, type ShownRun } from './modelPanel.js';
import { hideNotice, showNotice } from './notices.js';
import type { RunFailure, RunRequest } from './protocol.js';
import { chooseAutoBackend, onLiveResourcesChange, startCpuRun, startGpuRun } from './runners.js';
import { RunView } from './runView.js';
import { type AppSettings, messageOf } from './settings.js';
import { SettingsPanel } from './settingsPanel.js';
import { type ChartState, TrainCharts } from './trainCharts.js';

/** What the Train view asks of the Benchmark view: training and a sweep never time at once. */
export interface SweepStatus {
  running(): boolean;
  render(): void;
}

export class TrainView {
  private readonly lanes = new RunLanes();
  /** The run on the charts, or null while idle (the charts then preview the settings' data). */
  private shown: ShownRun | null = null;
  private previewed: ShownView | null = null;
  private bench: SweepStatus = { running: () => false, render: () => {} };
  private frame = 0;
  private readonly settings: SettingsPanel;
  private readonly backends: BackendPicker;
  private readonly model: ModelPanel;
  private readonly charts: TrainCharts;
  private readonly view = new RunView();
  private readonly observer: LaneObserver;
  /** Auto's race runs: the run starts when it is decided. */
  private racing = false;

  constructor(probe: Promise<GpuProbe>) {
    this.settings = new SettingsPanel({
      pickedBackend: () => (this.backends.picked ? this.backends.selected() : null),
      pickBackend: (choice) => this.backends.pick(choice),
      idle: () => this.lanes.lanes.length === 0,
      onPreview: (preview) => {
        this.previewed = preview;
        this.model.checkData(preview?.view ?? null);
        this.charts.respecSeries();
        this.render();
      },
      onChange: () => this.render(),
    });
    this.backends = new BackendPicker(probe, {
      onDeviceLost: (why) => {
        for (const lane of this.lanes.lanes) {
          if (lane.run.backend === 'webgpu' && lane.active) lane.run.fallBack(`the GPU device was lost (${why})`);
        }
        this.render();
      },
      onChange: () => {
        this.bench.render();
        this.render();
      },
      onPick: () => this.settings.scheduleLinkUpdate(),
    });
    this.model = new ModelPanel({
      form: this.settings.form,
      csv: this.settings.csv,
      run: () => ({ shown: this.shown, lanes: this.lanes.lanes }),
      forecast: () => {
        if (!this.active() && this.model.loaded !== null) void this.start(true);
      },
      onLoaded: () => {
        this.settings.changed();
        this.render();
      },
      onForgotten: () => this.render(),
    });
    this.charts = new TrainCharts(
      () => this.chartState(),
      () => this.render(),
    );
    this.observer = {
      changed: () => this.render(),
      ended: (lane, end) => {
        if (end.message !== null) {
          showNotice(`failed-${lane.backend}`, `The ${lane.label} run stopped: ${sentence(end.message)}`);
          if (end.outcome === 'diverged') this.settings.form.showNote('lr', sentence(capitalize(end.message)));
        }
        this.render();
      },
      failed: (lane, failure) => this.failed(lane, failure),
      switched: (lane, reason, fromEpoch) => {
        const from =
          fromEpoch === 0
            ? 'from the start'
            : `from epoch ${fromEpoch}, its last report, with the weights read back then`;
        showNotice(
          `switched-${lane.backend}`,
          `${sentence(capitalize(reason))} The run goes on with the CPU backend ${from}; at most one report interval of training was lost.`,
        );
        this.charts.respec();
        this.render();
      },
    };
    this.listen();
  }

  /** What the charts draw now: the run's data and lanes, or the settings' preview. */
  private chartState(): ChartState {
    const shown = this.shown;
    const base = { current: shown ?? this.previewed, lanes: this.lanes.lanes, horizon: 0 };
    if (shown === null) {
      return { ...base, withValidation: false, withTest: false, scale: null, baselines: [], residualTargets: null };
    }
    const { prepared } = shown.view;
    const scale = shown.scale;
    const factor = shown.comparedOn === 'test' ? scale.test : scale.train;
    return {
      ...base,
      horizon: shown.view.canForecast ? shown.settings.train.horizon : 0,
      withValidation: selectionPart(prepared) !== null,
      withTest: prepared.validation !== null && prepared.test !== null,
      scale,
      baselines: shown.baselines.map((b) => ({ label: b.label, value: b.loss === null ? null : b.loss * factor })),
      residualTargets: partTargets(prepared, shown.comparedOn),
    };
  }

  /** The Benchmark view, once it exists (it asks this view whether training runs). */
  attachBench(bench: SweepStatus): void {
    this.bench = bench;
  }

  gpu(): GpuAccess | null {
    return this.backends.gpu;
  }

  active(): boolean {
    return this.lanes.active() || this.racing;
  }

  /** The page as it loads: the link's settings, then the preview of their data. */
  open(): void {
    this.settings.applyLink();
    this.settings.preview();
    this.render();
  }

  private listen(): void {
    byId('settings', HTMLFormElement).addEventListener('submit', (event) => {
      event.preventDefault();
      if (!this.active() && !this.bench.running()) void this.start();
    });
    byId('pause', HTMLButtonElement).addEventListener('click', () => {
      this.lanes.pauseOrResume();
      this.render();
    });
    byId('stop', HTMLButtonElement).addEventListener('click', () => {
      this.lanes.stop();
      this.render();
    });
    byId('reset', HTMLButtonElement).addEventListener('click', () => {
      this.clearRun();
      this.shown = null;
      this.charts.respec();
      this.settings.preview();
      this.render();
      this.settings.say('Reset: the charts are cleared; the settings are kept.');
    });
    onLiveResourcesChange(() => this.view.renderLive());
  }

  private async start(forecastOnly = false): Promise<void> {
    const { form, csv } = this.settings;
    const result = form.validate(true);
    if (!result.ok) {
      this.settings.say('Not started: fix the settings marked in red.');
      const first = FIELDS.find((f) => result.errors[f.name] !== undefined);
      if (first) form.focus(first.name);
      return;
    }
    if (csv.busy()) {
      this.settings.say('Not started: the CSV file is still being read.');
      return;
    }
    const run = this.prepareRun(result.settings);
    if (run === null) return;
    const model = this.model.loaded?.model;
    if (model !== undefined && !sameShape(model.config, modelConfigOf(run))) {
      this.model.showError(
        `The loaded model (${describeConfig(model.config)}) does not fit these settings and data (${describeConfig(modelConfigOf(run))}); change the settings or forget the model.`,
      );
      this.settings.say('Not started: the loaded model does not fit.');
      return;
    }
    const picked = forecastOnly ? 'cpu' : this.backends.selected();
    if (picked !== 'cpu') {
      this.view.holdStart();
      await this.backends.probed();
      if (this.backends.gpu === null && picked !== 'auto') {
        this.settings.say(`Not started: ${this.backends.unavailable ?? 'WebGPU is unavailable'} Pick the CPU backend.`);
        this.render();
        return;
      }
    }
    const decided = picked === 'auto' ? await this.decideAuto(run) : picked;
    // A device lost during auto's race leaves the CPU.
    const choice = decided === 'webgpu' && this.backends.gpu === null ? 'cpu' : decided;
    this.clearRun();
    this.settings.say('');
    this.model.showError('');
    this.shown = run;
    this.previewed = null;
    this.model.checkData(run.view);
    if (model !== undefined && dataMatches(model, run.view)?.same === false) {
      showNotice(
        'model-data',
        'The data differs from the data the loaded model was trained on (see its fingerprint beside the model controls); its errors here say how it does on other data.',
      );
    }
    // A loaded model's optimizer state goes on where it stopped, if the same optimizer is chosen; a
    // version-2 model's training goes on from its epoch, numbering the new epochs on from there.
    const saved = model?.optimizer;
    const training = forecastOnly ? undefined : model?.training;
    const request: RunRequest = {
      run: run.runSettings,
      train: {
        ...run.settings.train,
        ...(saved && saved.name === run.settings.train.optimizer.name ? { initialOptimizerState: saved } : {}),
        ...(training ? { saved: training, epochs: training.epoch + run.settings.train.epochs } : {}),
      },
      ...(model ? { model } : {}),
      ...(forecastOnly ? { forecastOnly } : {}),
    };
    const backends: BackendName[] = choice === 'both' ? ['webgpu', 'cpu'] : [choice];
    const gpu = this.backends.gpu;
    const lanes = backends.map((backend) =>
      backend === 'cpu'
        ? new Lane('cpu', forecastOnly, (events) => startCpuRun(request, events), this.observer)
        : new Lane('webgpu', false, (events) => startGpuRun(request, gpu!, events), this.observer),
    );
    this.lanes.replace(lanes);
    for (const lane of lanes) this.view.addLane(lane);
    this.charts.respec();
    this.render();
  }

  /**
   * Auto's backend for this run's shape and batch: the CPU where there is no WebGPU, else the race's
   * winner (remembered for the page's life), with its reason beside the choice. The race's failure
   * (WebGPU failing in it, say) leaves the CPU, with why.
   */
  private async decideAuto(run: ShownRun): Promise<BackendName> {
    const gpu = this.backends.gpu;
    if (gpu === null) {
      const why = (this.backends.unavailable ?? 'WebGPU is unavailable').replace(/\.$/, '');
      this.backends.showAuto(`auto: cpu, the only backend here: ${why.charAt(0).toLowerCase()}${why.slice(1)}`, 'cpu');
      return 'cpu';
    }
    const layout = paramLayout(modelConfigOf(run));
    const { batchSize, threads } = run.settings.train;
    this.racing = true;
    const onRace = () => {
      this.backends.showAuto(
        `auto: timing cpu and webgpu at hidden ${layout.config.hiddenSizes.join(',')}, batch ${batchSize}…`,
        'racing',
      );
      this.render();
    };
    try {
      const auto = await chooseAutoBackend(gpu, layout, batchSize, threads, onRace);
      this.backends.showAuto(auto.reason, auto.backend);
      return auto.backend;
    } catch (err) {
      this.backends.showAuto(`auto: cpu, the race failed (${describeFailure(err).message})`, 'cpu');
      return 'cpu';
    } finally {
      this.racing = false;
    }
  }

  /** The run's data and checks, or the problem shown where it belongs (null). */
  private prepareRun(settings: AppSettings): ShownRun | null {
    try {
      const runSettings = runSettingsFor(settings.run, this.settings.csv.choice());
      const view = shownData(runSettings);
      checkAgainstData(settings.train, view);
      const { prepared } = view;
      const selection = selectionPart(prepared);
      const scale = errorScale(
        settings.train.loss,
        prepared.train.count,
        selection?.data.count ?? null,
        prepared.test?.count ?? null,
      );
      const comparedOn = comparisonPart(prepared);
      const baselines = baselineErrors(prepared, comparedOn, settings.train.loss);
      return { settings, runSettings, view, scale, baselines, comparedOn, fieldValues: this.settings.form.values() };
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      const message = messageOf(err);
      this.placeProblem(err.field, message);
      this.settings.say(`Not started: ${sentence(message)}`);
      const name = fieldOf(err.field);
      if (name !== null && fieldApplies(name, this.settings.form.values())) this.settings.form.focus(name);
      return null;
    }
  }

  /** Shows a problem a run's input caused beside what caused it: a field, the CSV, the loaded model. */
  private placeProblem(field: string | null, message: string): void {
    if (this.settings.placeProblem(field, message)) return;
    if (field === '--load') this.model.showError(`The loaded model does not fit: ${sentence(message)}`);
  }

  private failed(lane: Lane, failure: RunFailure): void {
    this.placeProblem(failure.field, failure.message);
    showNotice(
      `failed-${lane.backend}`,
      `The ${lane.label} run stopped: ${sentence(failure.message)}${lane.backend === 'webgpu' ? ' The CPU backend is still available.' : ''}`,
    );
    this.render();
  }

  private clearRun(): void {
    this.lanes.clear();
    this.view.clearLanes();
    for (const key of ['failed-webgpu', 'failed-cpu', 'switched-webgpu', 'model-data']) hideNotice(key);
  }

  /** Schedules one render for the next frame, whatever changed. */
  render(): void {
    if (this.frame !== 0) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      const lanes = this.lanes.lanes;
      this.charts.update();
      const { form, csv } = this.settings;
      this.view.render({
        lanes,
        current: this.shown ?? this.previewed,
        scale: this.shown?.scale ?? null,
        awaitingCsv: form.values().source === 'csv' && csv.choice() === null,
        adapter: this.backends.gpu?.adapter ?? null,
        gpuUnavailable: this.backends.unavailable,
        forecasting:
          this.shown === null
            ? null
            : { prepared: this.shown.view.prepared, baselines: this.shown.baselines, unit: this.shown.view.unit },
      });
      const busy = this.lanes.active() || this.bench.running();
      this.model.render(busy, lanes);
      this.view.renderControls(this.lanes, this.bench.running(), this.racing);
      this.backends.setDisabled(this.active());
      this.view.renderLive();
      this.bench.render();
    });
  }
}
