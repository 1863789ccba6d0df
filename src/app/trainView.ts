// The Train view: starts runs from the settings (one lane per backend, two in a race), drives the
// run controls (start, pause and resume, stop, reset), keeps every run (runStore.ts, runsView.ts:
// the Runs table, overlays, reopening), and renders everything once per frame after any change.
// After Start the settings fold away, focus goes to Pause and the results come into view; `auto`
// starts on the CPU at once and moves the run to WebGPU at a report if WebGPU, timed meanwhile, is
// faster. The parts: settingsPanel.ts (form, CSV, link, preview), backendPicker.ts (the backend and
// WebGPU), modelPanel.ts (download, load), lanes.ts (the runs' state), trainCharts.ts and runView.ts
// (what the page shows).

import type { BackendName } from '../backends/backend.js';
import { partTargets } from '../data/metrics.js';
import { selectionPart } from '../data/split.js';
import { InputError } from '../model/errors.js';
import { describeConfig, type ParamLayout, paramLayout, sameShape } from '../model/layout.js';
import { baselineErrors, comparisonPart } from '../train/evaluate.js';
import { capitalize, sentence } from '../util/text.js';
import { decideAndRemember, describeAuto, rememberedChoice } from './autoChoice.js';
import { BackendPicker } from './backendPicker.js';
import type { BacktestBase } from './backtestView.js';
import type { ShownView } from './chartSpecs.js';
import { errorScale } from './columns.js';
import { checkAgainstData, runSettingsFor, shownData } from './dataView.js';
import { byId, setText } from './dom.js';
import { lanesShowing } from './ensembleBand.js';
import { describeFailure } from './failure.js';
import { FIELDS, type FieldValues, fieldApplies, fieldOf } from './fields.js';
import { ForecastPanel } from './forecastPanel.js';
import type { GpuAccess, GpuProbe } from './gpu.js';
import { type InsideReport, localInside } from './inside.js';
import { InsideView } from './insideView.js';
import { KeptRuns } from './keptRuns.js';
import { Lane, type LaneObserver, RunLanes } from './lanes.js';
import { MemberChoice } from './memberChoice.js';
import { dataMatches, ModelPanel, modelConfigOf, type ShownRun } from './modelPanel.js';
import { hideNotice, showNotice } from './notices.js';
import type { RunFailure, RunRequest } from './protocol.js';
import { gpuStepTime, onLiveResourcesChange, prepareSpareWorker, startTraining } from './runners.js';
import type { RunRecord } from './runStore.js';
import { RunView } from './runView.js';
import type { SearchBase } from './searchView.js';
import { APP_BACKEND, type AppBackendChoice, type AppSettings, messageOf, parseSettings } from './settings.js';
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
  private readonly members = new MemberChoice(() => {
    this.charts.respec();
    this.render();
  });
  private readonly forecast: ForecastPanel;
  private readonly view = new RunView();
  /** Open, it asks every active lane for a probe at each report (none while closed). */
  private readonly inside = new InsideView({
    onRequest: (request) => {
      for (const lane of this.lanes.lanes) if (lane.active) lane.run.inside(request);
      this.render();
    },
  });
  /** A probe taken on this page after the run (or for a window its last report did not probe), and for what. */
  private localInside: { key: string; report: InsideReport } | null = null;
  private readonly observer: LaneObserver;
  /** WebGPU timings for auto under way in the background (a sweep waits for them). */
  private racing = 0;
  /** WebGPU's ms a step per shape and batch being timed, so two runs at one shape share a timing. */
  private readonly timings = new Map<string, Promise<number>>();
  private readonly runs: KeptRuns;
  /** Where focus goes at the next render (after an action whose button disables itself). */
  private focusNext: 'start' | 'pause' | null = null;
  private readonly settingsToggle = byId('settings-toggle', HTMLButtonElement);
  private readonly settingsBody = byId('settings-body', HTMLDivElement);
  /** The control a person was on last (to find where focus went when it disabled itself). */
  private lastFocused: HTMLButtonElement | HTMLInputElement | null = null;

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
      onOpenSettings: () => this.foldSettings(false),
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
    // Before the charts: they draw the runs overlaid.
    this.runs = new KeptRuns({
      onOverlay: () => {
        this.charts.respecOverlays();
        this.render();
      },
      onChange: () => this.render(),
      reopen: (record) => this.reopen(record),
      running: () => this.lanes.active(),
    });
    this.forecast = new ForecastPanel(() => {
      this.charts.respecSeries();
      this.render();
    });
    this.charts = new TrainCharts(
      () => this.chartState(),
      () => this.render(),
    );
    this.observer = this.laneObserver();
    document.addEventListener('focusin', (event) => {
      const target = event.target;
      if (target instanceof HTMLButtonElement || target instanceof HTMLInputElement) this.lastFocused = target;
    });
    this.listen();
  }

  /** What the lanes tell this view: changes, ends, failures and moves between backends. */
  private laneObserver(): LaneObserver {
    return {
      changed: () => this.render(),
      ended: (lane, end) => {
        if (end.message !== null) {
          showNotice(`failed-${lane.backend}`, `The ${lane.label} run stopped: ${sentence(end.message)}`);
          if (end.outcome === 'diverged') this.settings.form.showNote('lr', sentence(capitalize(end.message)));
        }
        this.runs.endIfOver(this.shown, this.settings.csv.choice());
        this.checkForecast();
        this.render();
      },
      failed: (lane, failure) => {
        this.failed(lane, failure);
        this.runs.endIfOver(this.shown, this.settings.csv.choice());
      },
      switched: (lane, reason, fromEpoch, to) => {
        if (to === 'cpu') {
          const from =
            fromEpoch === 0
              ? 'from the start'
              : `from epoch ${fromEpoch}, its last report, with the weights read back then`;
          showNotice(
            `switched-${lane.backend}`,
            `${sentence(capitalize(reason))} The run goes on with the CPU backend ${from}; at most one report interval of training was lost.`,
          );
        } else {
          // Auto found WebGPU faster: the run goes on there from this report, nothing lost.
          this.backends.showAuto(
            `${reason} The run moved to WebGPU at epoch ${fromEpoch}, with its weights and optimizer state.`,
            'webgpu',
          );
        }
        this.charts.respec();
        this.render();
      },
    };
  }

  /** Whether a run that is over is not yet kept in the browser (leaving would lose it). */
  unsaved(): boolean {
    return this.runs.unsaved();
  }

  /** What the charts draw now: the run's data and lanes, or the settings' preview. */
  private chartState(): ChartState {
    const shown = this.shown;
    const base = {
      current: shown ?? this.previewed,
      lanes: lanesShowing(this.lanes.lanes, this.members.member()),
      horizon: 0,
      overlays: this.runs.overlays(shown ?? this.previewed),
      bands: this.forecast.bands(),
    };
    if (shown === null) {
      return {
        ...base,
        withValidation: false,
        withTest: false,
        scale: null,
        baselines: [],
        residualTargets: null,
        residualPart: null,
      };
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
      residualPart: shown.comparedOn,
    };
  }

  /** The Benchmark view, once it exists (it asks this view whether training runs). */
  attachBench(bench: SweepStatus): void {
    this.bench = bench;
  }

  gpu(): GpuAccess | null {
    return this.backends.gpu;
  }

  /** A run goes (pause, stop and leaving the page apply). */
  active(): boolean {
    return this.lanes.active();
  }

  /** The form's settings as the Backtest view takes them (backtestView.ts), or the first problem. */
  backtestBase(): BacktestBase {
    const result = parseSettings(this.settings.form.values());
    if (!result.ok) {
      const [field, message] = Object.entries(result.errors)[0] ?? ['settings', 'not valid'];
      return { ok: false, problem: `${field}: ${message}` };
    }
    try {
      return {
        ok: true,
        run: runSettingsFor(result.settings.run, this.settings.csv.choice()),
        train: result.settings.train,
      };
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      return { ok: false, problem: err.message };
    }
  }

  /** A run goes or auto times WebGPU in the background: a benchmark sweep would disturb either. */
  busy(): boolean {
    return this.lanes.active() || this.racing > 0;
  }

  /** The data and training settings a search starts from (the Search view), or why they cannot be used. */
  searchBase(): SearchBase {
    const result = this.settings.form.validate(true);
    if (!result.ok) return { problem: 'fix the Train view’s settings marked in red first' };
    if (this.settings.form.values().source === 'csv' && this.settings.csv.choice() === null) {
      return { problem: 'choose the CSV file in the Train view first' };
    }
    try {
      const run = runSettingsFor(result.settings.run, this.settings.csv.choice());
      return { run, train: result.settings.train };
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      return { problem: messageOf(err) };
    }
  }

  /** Puts a search's configuration in the settings (the Train view then shows it, ready to start). */
  openConfiguration(values: Partial<FieldValues>): void {
    this.settings.form.setValues(values);
    this.settings.changed();
    this.foldSettings(false);
    this.settings.say('The search’s configuration is in the settings: press Start to train it.');
    this.render();
  }

  /** The page as it loads: the link's settings, then the preview of their data. */
  open(): void {
    this.settings.applyLink();
    this.settings.preview();
    this.render();
    prepareSpareWorker();
  }

  private listen(): void {
    byId('settings', HTMLFormElement).addEventListener('submit', (event) => {
      event.preventDefault();
      if (!this.lanes.active() && !this.bench.running()) void this.start(false, performance.now());
    });
    byId('pause', HTMLButtonElement).addEventListener('click', () => {
      this.lanes.pauseOrResume();
      this.render();
    });
    byId('stop', HTMLButtonElement).addEventListener('click', () => {
      this.lanes.stop();
      this.runs.endIfOver(this.shown, this.settings.csv.choice());
      this.focusNext = 'start';
      this.render();
    });
    byId('reset', HTMLButtonElement).addEventListener('click', () => {
      // A run reset while it goes is kept as it stands (stopped), as after Stop.
      this.lanes.stop();
      this.runs.endIfOver(this.shown, this.settings.csv.choice());
      this.clearRun();
      this.shown = null;
      this.runs.leave();
      this.charts.respec();
      this.settings.preview();
      this.foldSettings(false);
      this.focusNext = 'start';
      this.render();
      this.settings.say('Reset: the charts are cleared; the settings are kept, and so is the run in the Runs table.');
    });
    this.settingsToggle.addEventListener('click', () =>
      this.foldSettings(this.settingsToggle.getAttribute('aria-expanded') === 'true'),
    );
    onLiveResourcesChange(() => this.view.renderLive());
    this.charts.onSeriesPointer((row) => this.inside.choose(row));
  }

  /** Starts a run (or a loaded model's forecast); `pressedAt` is when Start was pressed. */
  private async start(forecastOnly = false, pressedAt = performance.now()): Promise<void> {
    const run = this.runToStart();
    if (run === null) return;
    const picked = forecastOnly ? 'cpu' : this.backends.selected();
    if (!(await this.gpuReadyFor(picked))) return;
    const layout = paramLayout(modelConfigOf(run));
    const { batchSize } = run.settings.train;
    const gpu = this.backends.gpu;
    // Auto starts at once: on the backend remembered for this shape, else on the CPU while WebGPU
    // is timed in the background (decideAuto).
    const known = picked === 'auto' && gpu !== null ? rememberedChoice(gpu.adapter, layout.config, batchSize) : null;
    if (known !== null) {
      this.backends.showAuto(describeAuto(known, gpu!.adapter.software, layout.config, batchSize), known.backend);
    }
    const backends: BackendName[] =
      picked === 'both' ? ['webgpu', 'cpu'] : picked === 'auto' ? [known?.backend ?? 'cpu'] : [picked];
    this.showRun(run);
    const request = this.requestFor(run, forecastOnly);
    const lanes = backends.map(
      (backend) =>
        new Lane(backend, forecastOnly, (events) => startTraining(request, backend, gpu, events), this.observer),
    );
    for (const lane of lanes) {
      lane.startedAt = pressedAt;
      lane.run.inside(this.inside.request());
    }
    this.lanes.replace(lanes);
    for (const lane of lanes) this.view.addLane(lane);
    this.runs.begin(run, picked, lanes);
    this.charts.respec();
    this.afterStart(forecastOnly);
    this.render();
    // A population stays where it starts (its members cannot yet move between backends mid-run).
    const single = run.settings.train.members === 1;
    if (picked === 'auto' && known === null && single) void this.decideAuto(lanes[0], layout, batchSize);
  }

  /** The run the settings give, checked (fields, the CSV, the data, a loaded model's shape), or null with why. */
  private runToStart(): ShownRun | null {
    const { form, csv } = this.settings;
    const result = form.validate(true);
    if (!result.ok) {
      this.settings.say('Not started: fix the settings marked in red.');
      const first = FIELDS.find((f) => result.errors[f.name] !== undefined);
      if (first) form.focus(first.name);
      return null;
    }
    if (csv.busy()) {
      this.settings.say('Not started: the CSV file is still being read.');
      return null;
    }
    const run = this.prepareRun(result.settings);
    if (run === null) return null;
    const model = this.model.loaded?.model;
    if (model !== undefined && !sameShape(model.config, modelConfigOf(run))) {
      this.model.showError(
        `The loaded model (${describeConfig(model.config)}) does not fit these settings and data (${describeConfig(modelConfigOf(run))}); change the settings or forget the model.`,
      );
      this.settings.say('Not started: the loaded model does not fit.');
      return null;
    }
    return run;
  }

  /** WebGPU and both wait for the probe (the others never do); false, with why, when there is no WebGPU. */
  private async gpuReadyFor(picked: AppBackendChoice): Promise<boolean> {
    if (picked !== 'webgpu' && picked !== 'both') return true;
    this.view.holdStart();
    await this.backends.probed();
    if (this.backends.gpu !== null) return true;
    this.settings.say(`Not started: ${this.backends.unavailable ?? 'WebGPU is unavailable'} Pick the CPU backend.`);
    this.render();
    return false;
  }

  /** The run on the charts from now on, the previous one's notices gone. */
  private showRun(run: ShownRun): void {
    this.clearRun();
    this.settings.say('');
    this.model.showError('');
    this.shown = run;
    this.previewed = null;
    this.model.checkData(run.view);
    const model = this.model.loaded?.model;
    if (model !== undefined && dataMatches(model, run.view)?.same === false) {
      showNotice(
        'model-data',
        'The data differs from the data the loaded model was trained on (see its fingerprint beside the model controls); its errors here say how it does on other data.',
      );
    }
  }

  /**
   * What a backend needs to train `run`. A loaded model's optimizer state goes on where it stopped, if
   * the same optimizer is chosen; a version-2 model's training goes on from its epoch, numbering the
   * new epochs on from there. A forecast shows the model's training so far on the error chart.
   */
  private requestFor(run: ShownRun, forecastOnly: boolean): RunRequest {
    const model = this.model.loaded?.model;
    const saved = model?.optimizer;
    const training = model?.training;
    return {
      run: run.runSettings,
      train: {
        ...run.settings.train,
        ...(saved && saved.name === run.settings.train.optimizer.name ? { initialOptimizerState: saved } : {}),
        ...(training && !forecastOnly ? { saved: training, epochs: training.epoch + run.settings.train.epochs } : {}),
        ...(training && forecastOnly ? { saved: training } : {}),
      },
      ...(model ? { model } : {}),
      ...(forecastOnly ? { forecastOnly } : {}),
    };
  }

  /**
   * Auto's choice while its run trains on the CPU: the CPU where there is no WebGPU; else WebGPU is
   * timed on the page at the run's shape and batch, against the CPU's own steps in the run, and the
   * faster is remembered for the shape. When WebGPU wins the run moves there at its next report.
   */
  private async decideAuto(lane: Lane, layout: ParamLayout, batch: number): Promise<void> {
    const at = `at hidden ${layout.config.hiddenSizes.join(',')}, batch ${batch}`;
    this.racing++;
    this.backends.showAuto(`auto: training on the CPU while WebGPU is timed ${at}…`, 'racing');
    try {
      // The CPU's time comes from the run's first report; WebGPU is timed after it, so that setting
      // WebGPU up never slows the run's start.
      const cpu = await cpuStepTime(lane);
      await this.backends.probed();
      const gpu = this.backends.gpu;
      if (gpu === null) {
        const why = (this.backends.unavailable ?? 'WebGPU is unavailable').replace(/\.$/, '');
        this.backends.showAuto(
          `auto: cpu, the only backend here: ${why.charAt(0).toLowerCase()}${why.slice(1)}`,
          'cpu',
        );
        return;
      }
      let choice = rememberedChoice(gpu.adapter, layout.config, batch);
      if (choice === null) {
        const key = JSON.stringify([layout.config, batch]);
        const timing = this.timings.get(key) ?? gpuStepTime(gpu, layout, batch);
        this.timings.set(key, timing);
        let webgpu: number;
        try {
          webgpu = await timing;
        } finally {
          this.timings.delete(key);
        }
        if (cpu === null) {
          this.backends.showAuto(`auto: the CPU (the run ended before its steps could be timed ${at}).`, 'cpu');
          return;
        }
        choice = decideAndRemember({ cpu, webgpu }, gpu.adapter, layout.config, batch);
      }
      const said = describeAuto(choice, gpu.adapter.software, layout.config, batch);
      if (choice.backend === 'webgpu' && lane.active && this.lanes.lanes.includes(lane)) {
        this.backends.showAuto(`${said} The run moves there at its next report…`, 'webgpu');
        lane.run.moveTo('webgpu', said);
      } else this.backends.showAuto(said, choice.backend);
    } catch (err) {
      this.backends.showAuto(`auto: the CPU; WebGPU could not be timed (${describeFailure(err).message}).`, 'cpu');
    } finally {
      this.racing--;
      this.render();
    }
  }

  /** After Start: the settings fold away, Pause takes the focus and the live results come into view. */
  private afterStart(forecastOnly: boolean): void {
    this.foldSettings(true);
    this.focusNext = forecastOnly ? 'start' : 'pause';
    const results = byId('results', HTMLElement);
    const series = byId('series-chart', HTMLElement).closest('section') ?? results;
    // The run buttons stay at the foot of a narrow window: what they cover is out of view.
    const bar = document.querySelector<HTMLElement>('.run-buttons');
    const covered = bar !== null && getComputedStyle(bar).position === 'fixed' ? bar.offsetHeight : 0;
    const top = results.getBoundingClientRect().top;
    if (top < 0 || series.getBoundingClientRect().bottom > window.innerHeight - covered) {
      results.scrollIntoView({ block: 'start' });
    }
  }

  /** Folds the settings away (or opens them again); the toggle says which. */
  private foldSettings(folded: boolean): void {
    this.settingsBody.hidden = folded;
    this.settingsToggle.setAttribute('aria-expanded', String(!folded));
    setText(byId('settings-state', HTMLSpanElement), folded ? 'folded away: show them' : '');
  }

  /** A kept run's settings back in the form (and its backend), the run alone on the charts as an overlay. */
  private reopen(record: RunRecord): void {
    if (this.lanes.active()) {
      this.settings.say('Stop the run first: its settings are locked while it goes.');
      return;
    }
    this.settings.form.setValues(record.fieldValues as Partial<FieldValues>);
    this.backends.pick(backendOf(record.backendChoice));
    this.clearRun();
    this.shown = null;
    this.runs.leave();
    this.runs.overlayOnly(record);
    this.foldSettings(false);
    this.settings.changed();
    this.charts.respec();
    const file =
      record.fieldValues.source === 'csv'
        ? ` It trained on ${record.data.label}: choose that file again if another is in use.`
        : '';
    this.settings.say(
      `Run #${record.number}'s settings are in the form and the run is on the charts; Start trains it again.${file}`,
    );
    this.focusNext = 'start';
    this.render();
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
    this.inside.clear();
    this.localInside = null;
    this.forecast.clear();
    this.lanes.clear();
    this.view.clearLanes();
    for (const key of ['failed-webgpu', 'failed-cpu', 'switched-webgpu', 'model-data']) hideNotice(key);
  }

  /** Once every lane has ended: the forecast panel checks the first lane's last forecast (forecastPanel.ts). */
  private checkForecast(): void {
    const shown = this.shown;
    const lanes = this.lanes.lanes;
    const last = lanes[0]?.last;
    if (shown === null || last == null || lanes.some((lane) => lane.active)) return;
    const { prepared } = shown.view;
    const layout = paramLayout({
      inputSize: prepared.inputs.length,
      hiddenSizes: shown.runSettings.hiddenSizes,
      outputSize: prepared.outputs.length,
      window: shown.runSettings.window,
    });
    void this.forecast.check({
      prepared,
      layout,
      unit: shown.view.unit,
      params: last.params,
      forecast: last.forecast,
      forecastFrom: last.forecastFrom,
      future: last.future,
    });
  }

  /** The steps past the end the summary speaks of: the run's, or before one the form's (0 where none applies). */
  private summaryHorizon(): number {
    if (this.shown !== null) return this.shown.view.canForecast ? this.shown.settings.train.horizon : 0;
    const typed = Number(this.settings.form.values().horizon);
    return this.previewed?.view.canForecast && Number.isInteger(typed) && typed > 0 ? typed : 0;
  }

  /** Schedules one render for the next frame, whatever changed. */
  render(): void {
    if (this.frame !== 0) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      const lanes = this.lanes.lanes;
      this.members.render(lanes.map((lane) => lane.ensemble));
      this.charts.update();
      const { form, csv } = this.settings;
      const evaluations = this.view.render({
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
        horizon: this.summaryHorizon(),
      });
      this.runs.render(evaluations);
      const busy = this.lanes.active() || this.bench.running();
      this.model.render(busy, lanes);
      this.view.renderControls(this.lanes, this.bench.running());
      this.backends.setDisabled(this.lanes.active());
      byId('settings-locked', HTMLParagraphElement).hidden = !this.lanes.active();
      const trained = lanes.some((lane) => lane.last !== null && !lane.forecastOnly);
      setText(
        byId('actions-why', HTMLParagraphElement),
        trained
          ? this.model.loaded === null
            ? 'Forecast applies once a model file is loaded (Settings, Model).'
            : ''
          : 'The downloads apply once a run has reported; Forecast once a model file is loaded (Settings, Model).',
      );
      this.renderInside();
      this.view.renderLive();
      this.bench.render();
      this.moveFocus();
    });
  }

  /**
   * The Inside view, when open: the latest report's probe while the run goes; after it (or for a
   * loaded model's forecast) the window under the pointer is probed here, on the kept weights.
   */
  private renderInside(): void {
    const report = this.insideReport();
    if (report !== null) this.inside.show(report.report, report.epoch, (row) => this.charts.rowLabel(row));
    // The window drawn, shaded on the series chart: the rows it reads and the row it predicts.
    const steps = report?.report.steps ?? 0;
    this.charts.showWindow(
      report === null || !this.inside.isOpen ? null : { from: report.report.row - steps, to: report.report.row },
    );
  }

  /** The probe the Inside view draws now, and its epoch; null while it is closed or before a report. */
  private insideReport(): { report: InsideReport; epoch: number } | null {
    const request = this.inside.request();
    const shown = this.shown;
    const lane = this.lanes.lanes.find((l) => l.last !== null);
    if (request === null || shown === null || lane === undefined || lane.last === null) return null;
    const last = lane.last;
    const fresh = last.inside !== null && (request.row === null || last.inside.row === request.row);
    if (last.inside !== null && (lane.active || fresh)) return { report: last.inside, epoch: last.epoch };
    if (lane.active) return this.inside.drawnReport();
    const key = `${lane.backend}/${last.epoch}/${request.row}`;
    if (this.localInside?.key !== key) {
      const layout = paramLayout(modelConfigOf(shown));
      const summarized = last.inside ?? this.localInside?.report ?? null;
      const report = localInside(shown.view.prepared, layout, last.params, request, summarized);
      this.localInside = { key, report };
    }
    return { report: this.localInside.report, epoch: last.epoch };
  }

  /**
   * Focus where the next action is: Pause after Start, Start after Stop or Reset, and Start when the
   * control that had it disables itself (a run ends on its own while Pause has the focus).
   */
  private moveFocus(): void {
    const start = byId('start', HTMLButtonElement);
    const pause = byId('pause', HTMLButtonElement);
    const wanted = this.focusNext === 'pause' && !pause.disabled ? pause : this.focusNext === 'start' ? start : null;
    if (wanted !== null && !wanted.disabled) {
      wanted.focus({ preventScroll: true });
      this.focusNext = null;
    }
    // A control that disables itself drops the focus to the page: it goes to Start (or Pause) instead.
    const left = this.lastFocused;
    const focused = document.activeElement;
    const stranded = focused === null || focused === document.body || focused === left;
    if (left?.disabled && stranded) {
      const next = !start.disabled ? start : !pause.disabled ? pause : null;
      next?.focus({ preventScroll: true });
    }
  }
}

/** A kept run's backend choice, or auto where it is not one (a record from another version). */
function backendOf(text: string): AppBackendChoice {
  try {
    return APP_BACKEND.parse(text);
  } catch {
    return 'auto';
  }
}

/** The CPU's milliseconds a step in its own run, from the run's first report (null if it ends without one). */
async function cpuStepTime(lane: Lane): Promise<number | null> {
  while (lane.last === null && lane.active) await new Promise((resolve) => setTimeout(resolve, 50));
  const last = lane.last;
  return last === null || last.steps === 0 ? null : (last.seconds * 1000) / last.steps;
}
