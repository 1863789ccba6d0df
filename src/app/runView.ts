// The run on the page as text: a progress row per lane (status, epoch i/N, steps per second, time
// left), the results table (with exact values in data- attributes for scripts and tests), the
// charts' summaries in words, the adapter and race lines, and the run controls' state. Everything
// goes in through textContent.

import type { AdapterDescription, BackendName } from '../backends/backend.js';
import type { PreparedData } from '../data/prepare.js';
import { selectionPart } from '../data/split.js';
import {
  type BaselineErrors,
  comparedWith,
  type Evaluation,
  evaluate,
  overfitting,
  partsFromPredictions,
} from '../train/evaluate.js';
import { capitalize } from '../util/text.js';
import { describeCoincidence } from './agreement.js';
import type { ShownView } from './chartSpecs.js';
import {
  BACKEND_LABEL,
  type BackendTrace,
  describeEpochProgress,
  describeRace,
  type ErrorScale,
  formatDuration,
  formatNumber,
  raceRatio,
  secondsLeft,
} from './columns.js';
import { describeData, noForecastReason, pastEndSentence } from './dataView.js';
import { byId, el, setText } from './dom.js';
import { adapterName } from './gpu.js';
import type { Lane, LaneStatus, RunLanes } from './lanes.js';
import { liveResources } from './runners.js';

const STATUS_TEXT: Record<LaneStatus, string> = {
  running: 'training',
  pausing: 'pausing at the next report…',
  paused: 'paused',
  finished: 'finished',
  stopped: 'stopped',
  diverged: 'diverged',
  failed: 'failed',
};

/** What the summaries describe, read at every render. */
export interface RunViewState {
  lanes: readonly Lane[];
  /** The run's data, or the settings' preview. */
  current: ShownView | null;
  /** How the run's errors are scaled (per sample with a held-out part), or null without a run. */
  scale: ErrorScale | null;
  /** Why there is no data to show: a CSV source without its file. */
  awaitingCsv: boolean;
  adapter: AdapterDescription | null;
  gpuUnavailable: string | null;
  /** The run's data and baselines, for errors in the data's units; null without a run. */
  forecasting: RunForecasting | null;
  /** The steps past the end the run's forecast asks for (0 without a run or a forecast). */
  horizon: number;
}

/** What the errors in the data's units are measured against. */
export interface RunForecasting {
  prepared: PreparedData;
  baselines: BaselineErrors[];
  unit: string | null;
}

function latest<T>(list: T[]): T | null {
  return list.length > 0 ? list[list.length - 1] : null;
}

function prefixed(text: string): string {
  return text === '' ? '' : ` ${text}`;
}

/**
 * In a race whose two lanes reported the same epoch: the sentence saying that their `series` (from
 * each lane's trace, in the same order) coincide on the chart, or '' (different, or not a race).
 */
function raceCoincidence(
  lanes: readonly Lane[],
  series: (trace: BackendTrace) => (ArrayLike<number> | null)[],
): (what: string) => string {
  const gpu = lanes.find((lane) => lane.backend === 'webgpu');
  const cpu = lanes.find((lane) => lane.backend === 'cpu');
  if (gpu?.last == null || cpu?.last == null || gpu.last.epoch !== cpu.last.epoch) return () => '';
  const ours = series(gpu.trace);
  const theirs = series(cpu.trace);
  const pairs = ours.map((values, i): [ArrayLike<number> | null, ArrayLike<number> | null] => [values, theirs[i]]);
  return (what) => describeCoincidence(what, pairs, { first: gpu.label, second: cpu.label });
}

export class RunView {
  private readonly progressHost = byId('progress', HTMLDivElement);
  private readonly statsBody = byId('stats-body', HTMLTableSectionElement);
  private readonly statsHead = byId('stats-head', HTMLTableSectionElement);
  private readonly verdict = byId('verdict', HTMLParagraphElement);
  private readonly fitNote = byId('fit-note', HTMLParagraphElement);
  private readonly residualSummary = byId('residual-summary', HTMLParagraphElement);
  private readonly seriesSummary = byId('series-summary', HTMLParagraphElement);
  private readonly errorSummary = byId('error-summary', HTMLParagraphElement);
  private readonly timingSummary = byId('timing-summary', HTMLParagraphElement);
  private readonly adapterLine = byId('adapter', HTMLParagraphElement);
  private readonly raceLine = byId('race', HTMLParagraphElement);
  private readonly settingsFieldset = byId('settings-fields', HTMLFieldSetElement);
  private readonly startButton = byId('start', HTMLButtonElement);
  private readonly pauseButton = byId('pause', HTMLButtonElement);
  private readonly stopButton = byId('stop', HTMLButtonElement);
  private readonly resetButton = byId('reset', HTMLButtonElement);
  private readonly controlsWhy = byId('controls-why', HTMLParagraphElement);
  private readonly rows = new Map<Lane, HTMLElement>();

  /** A progress row for a new lane. */
  addLane(lane: Lane): void {
    const label = BACKEND_LABEL[lane.backend];
    const row = el('div', { class: `lane lane-${lane.backend}`, 'data-backend': lane.backend }, [
      el('div', { class: 'lane-head' }, [
        el('span', { class: 'lane-name' }, [label]),
        el('span', { class: 'lane-status' }, ['starting']),
      ]),
      el('progress', { max: '1', value: '0', 'aria-label': `${label} training progress` }),
      el('p', { class: 'lane-meta' }, ['starting…']),
    ]);
    this.progressHost.append(row);
    this.rows.set(lane, row);
  }

  clearLanes(): void {
    this.rows.clear();
    this.progressHost.replaceChildren();
  }

  /** The start button waits for the WebGPU probe. */
  holdStart(): void {
    this.startButton.disabled = true;
  }

  /** Renders the run's text; returns each lane's errors in the data's units (for the Runs table). */
  render(state: RunViewState): Map<Lane, Evaluation> {
    for (const lane of state.lanes) this.renderLane(lane);
    const evaluations = this.evaluations(state);
    this.renderStats(state, evaluations);
    this.renderSummaries(state);
    this.renderForecasting(state, evaluations);
    return evaluations;
  }

  /** Each lane's errors in the data's units from its latest predictions (null before its first report). */
  private evaluations({ lanes, forecasting }: RunViewState): Map<Lane, Evaluation> {
    const out = new Map<Lane, Evaluation>();
    if (forecasting === null) return out;
    for (const lane of lanes) {
      const { predictions, predictionsFrom } = lane.trace;
      if (predictions === null) continue;
      const parts = partsFromPredictions(forecasting.prepared, predictions, predictionsFrom);
      out.set(lane, evaluate(forecasting.prepared, parts, forecasting.baselines, forecasting.unit));
    }
    return out;
  }

  /** The run controls, and in words why those that are off are off. */
  renderControls(lanes: RunLanes, benchRunning: boolean): void {
    const active = lanes.active();
    const phase = lanes.phase();
    this.settingsFieldset.disabled = active;
    this.startButton.disabled = active || benchRunning;
    this.startButton.title = benchRunning ? 'The benchmark is running; training would disturb its timings.' : '';
    this.pauseButton.disabled = !active;
    this.stopButton.disabled = !active;
    this.resetButton.disabled = lanes.lanes.length === 0;
    const resumable = active && phase !== 'running';
    setText(this.pauseButton, resumable ? 'Resume' : 'Pause');
    this.pauseButton.setAttribute('aria-pressed', String(resumable));
    setText(
      this.controlsWhy,
      benchRunning
        ? 'Start waits for the benchmark sweep: training would disturb its timings.'
        : active
          ? 'The backend and the settings are locked while the run goes: Stop it to change them.'
          : lanes.lanes.length === 0
            ? 'Pause, Stop and Reset apply once a run has started.'
            : 'Pause and Stop apply while a run goes; Reset clears the charts.',
    );
    document.body.dataset.phase = phase;
  }

  /** How many workers and WebGPU backends live, for tests that check nothing is left running. */
  renderLive(): void {
    const { workers, gpuBackends } = liveResources();
    document.body.dataset.liveWorkers = String(workers);
    document.body.dataset.liveGpuBackends = String(gpuBackends);
  }

  private renderLane(lane: Lane): void {
    const row = this.rows.get(lane);
    if (row === undefined) return;
    const { last } = lane;
    row.dataset.status = lane.status;
    row.dataset.runningOn = lane.run.backend;
    // How long Start took to reach the first training step, for scripts and tests.
    if (lane.firstStepAt !== null) row.dataset.firstStepMs = String(Math.round(lane.firstStepAt - lane.startedAt));
    setText(row.querySelector<HTMLElement>('.lane-name')!, lane.label);
    setText(
      row.querySelector<HTMLElement>('.lane-status')!,
      lane.forecastOnly && lane.status === 'finished' ? 'forecast' : STATUS_TEXT[lane.status],
    );
    const bar = row.querySelector('progress')!;
    const meta = row.querySelector<HTMLElement>('.lane-meta')!;
    // Inside a long epoch: how far it has got, between the reports.
    const within =
      lane.active && lane.progress !== null && lane.progress.epoch > (last?.epoch ?? 0) ? lane.progress : null;
    if (within !== null) {
      bar.max = within.epochs;
      bar.value = within.epoch - 1 + within.steps / within.stepsPerEpoch;
    }
    if (last === null) {
      const waiting = within === null ? 'preparing the first epochs…' : describeEpochProgress(within);
      setText(meta, lane.status === 'failed' ? (lane.failure ?? 'failed') : waiting);
      return;
    }
    row.dataset.epoch = String(last.epoch);
    if (lane.forecastOnly) {
      bar.max = 1;
      bar.value = 1;
      setText(meta, 'the loaded model’s predictions and forecast, without training');
      return;
    }
    if (within === null) {
      bar.max = last.epochs;
      bar.value = last.epoch;
    }
    const rate = last.seconds > 0 ? last.steps / last.seconds : null;
    const left = lane.active
      ? `${formatDuration(secondsLeft(last.epoch, last.epochs, last.seconds))} left`
      : `took ${formatDuration(last.seconds)}`;
    const at = within === null ? `epoch ${last.epoch}/${last.epochs}` : describeEpochProgress(within);
    const progress = `${at} · ${formatNumber(rate)} steps/s`;
    const switched = lane.switchedAt === null ? '' : ` · on the CPU since epoch ${lane.switchedAt}`;
    setText(meta, lane.failure === null ? `${progress} · ${left}${switched}` : `${progress} · ${lane.failure}`);
  }

  private renderStats({ lanes, scale, forecasting }: RunViewState, evaluations: Map<Lane, Evaluation>): void {
    const factor = scale ?? { train: 1, validation: 1 };
    const unit = forecasting?.unit ? ` (${forecasting.unit})` : '';
    const compared = forecasting?.prepared.test === null ? 'training' : 'held-out';
    const baselines = (forecasting?.baselines ?? []).filter((b) => b.errors !== null);
    // Every output column has its own errors: one column of the table each (named when there are several).
    const outputs = forecasting?.prepared.outputs ?? [];
    const columns = outputs.length > 1 ? outputs.map((name, i) => ({ name: ` ${name}`, i })) : [{ name: '', i: 0 }];
    const heads = [
      'Backend',
      'Epoch',
      'Training error, epoch 1 → latest',
      'Validation error, latest',
      'Best epoch',
      ...columns.map((c) => `RMSE${c.name}, ${compared}${unit}`),
      ...columns.map((c) => `MAE${c.name}, ${compared}${unit}`),
      ...baselines.flatMap((b) => columns.map((c) => `${b.label} RMSE${c.name}${unit}`)),
      'ms/epoch',
      'steps/s',
    ];
    const names = [...this.statsHead.querySelectorAll('th')].map((th) => th.textContent);
    if (names.join('\n') !== heads.join('\n')) {
      this.statsHead.replaceChildren(
        el(
          'tr',
          {},
          heads.map((head) => el('th', { scope: 'col' }, [head])),
        ),
      );
    }
    const rows = lanes.map((lane) => {
      const { losses, validation, best } = lane.trace;
      const last = lane.last;
      const rate = last && last.seconds > 0 ? last.steps / last.seconds : null;
      const msPerEpoch = last && last.epoch > 0 ? (last.seconds * 1000) / last.epoch : null;
      const first = losses.length > 0 ? losses[0] : null;
      const final = latest(losses);
      const held = latest(validation);
      const scaled = (value: number | null, by: number) => (value === null ? null : value * by);
      const evaluation = evaluations.get(lane) ?? null;
      const measured = evaluation?.model[evaluation.comparedOn] ?? null;
      const row = el('tr', { 'data-backend': lane.backend, 'data-status': lane.status }, [
        el('th', { scope: 'row' }, [lane.label]),
        el('td', {}, [last ? `${last.epoch}/${last.epochs}` : '–']),
        el('td', {}, [`${formatNumber(scaled(first, factor.train))} → ${formatNumber(scaled(final, factor.train))}`]),
        el('td', {}, [formatNumber(scaled(held?.loss ?? null, factor.validation))]),
        el('td', {}, [best === null ? '–' : String(best.epoch)]),
        ...columns.map((c) => el('td', {}, [formatNumber(measured?.rmse[c.i] ?? null)])),
        ...columns.map((c) => el('td', {}, [formatNumber(measured?.mae[c.i] ?? null)])),
        ...baselines.flatMap((b) => columns.map((c) => el('td', {}, [formatNumber(b.errors!.rmse[c.i])]))),
        el('td', {}, [formatNumber(msPerEpoch)]),
        el('td', {}, [formatNumber(rate)]),
      ]);
      // Exact values (as the trainer reports them) for scripts and tests; the cells show rounded ones.
      row.dataset.epoch = String(last?.epoch ?? 0);
      row.dataset.runningOn = lane.run.backend;
      row.dataset.firstError = String(first ?? '');
      row.dataset.lastError = String(final ?? '');
      row.dataset.validationError = String(held?.loss ?? '');
      row.dataset.bestEpoch = String(best?.epoch ?? '');
      row.dataset.rmse = String(measured?.rmse[0] ?? '');
      row.dataset.rmseColumns = JSON.stringify(measured?.rmse ?? []);
      row.dataset.stepsPerSecond = String(rate ?? '');
      row.dataset.msPerEpoch = String(msPerEpoch ?? '');
      return row;
    });
    this.statsBody.replaceChildren(...rows);
  }

  /** The plain sentence per lane, the overfitting note, and the residuals in words. */
  private renderForecasting({ lanes, forecasting }: RunViewState, evaluations: Map<Lane, Evaluation>): void {
    const shown = lanes.filter((lane) => evaluations.has(lane));
    const prefix = (lane: Lane) => (shown.length > 1 ? `${lane.label}: ` : '');
    const peeked =
      forecasting !== null && selectionPart(forecasting.prepared)?.name === 'test' && shown.some((l) => l.trace.best)
        ? ' The best epoch is chosen on the held-out part itself (there is no validation part), so its error there is optimistic.'
        : '';
    const waiting =
      lanes.length === 0
        ? 'Press Start: the run’s summary comes here, with its charts below.'
        : lanes.some((lane) => lane.active)
          ? `Training: the summary comes at the first report (${lanes.map((l) => l.label).join(' and ')}).`
          : '';
    setText(
      this.verdict,
      shown.length === 0
        ? waiting
        : shown.map((lane) => `${prefix(lane)}${evaluations.get(lane)!.summary}`).join(' ') + peeked,
    );
    this.verdict.dataset.rmse =
      shown.length > 0
        ? String(evaluations.get(shown[0])!.model[evaluations.get(shown[0])!.comparedOn]?.rmse[0] ?? '')
        : '';
    const notes = lanes
      .map((lane) => {
        const note = overfitting(lane.trace.losses, lane.trace.validation);
        return note === null
          ? null
          : `${prefix(lane)}${note.message}${lane.trace.best ? ` The weights of epoch ${lane.trace.best.epoch} are kept.` : ''}`;
      })
      .filter((note) => note !== null);
    setText(this.fitNote, notes.join(' '));
    const residuals = shown.map((lane) => {
      const evaluation = evaluations.get(lane)!;
      const measured = evaluation.model[evaluation.comparedOn];
      const last = evaluation.baselines.find((b) => b.key === 'last-value')?.errors?.rmse[0];
      const versus =
        last === undefined || measured === null ? '' : `, ${comparedWith(measured.rmse[0], last)} the last value's`;
      return `${prefix(lane)}mean absolute residual ${formatNumber(measured?.mae[0] ?? null)}${versus}`;
    });
    setText(
      this.residualSummary,
      residuals.length === 0
        ? 'Actual minus predicted on the held-out part appears here once training runs.'
        : `${capitalize(residuals.join('; '))}.`,
    );
  }

  private renderSummaries(state: RunViewState): void {
    const { current, lanes } = state;
    const reported = lanes.filter((lane) => lane.last !== null);
    if (current === null) {
      setText(
        this.seriesSummary,
        state.awaitingCsv ? 'Choose a CSV file to see its series here.' : 'Set valid settings to see the data.',
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
          : `${lane.label} at epoch ${lane.last!.epoch}: one-step predictions${lane.trace.forecast === null ? '' : ' and a free-running forecast'}`,
      );
      const why =
        noForecastReason(current.view) ?? (state.horizon > 0 ? pastEndSentence(current.view, state.horizon) : null);
      const same = raceCoincidence(lanes, (trace) => [trace.predictions, trace.forecast]);
      setText(
        this.seriesSummary,
        [
          `${about}${heldOut}`,
          parts.length > 0 ? `${capitalize(parts.join('; '))}.` : '',
          why ?? '',
          same(current.view.canForecast ? 'predictions and forecast are' : 'predictions are'),
        ]
          .filter((part) => part !== '')
          .join(' '),
      );
    }
    const scale = state.scale ?? { train: 1, validation: 1 };
    const trained = reported.filter((lane) => lane.trace.losses.length > 0);
    if (trained.length === 0) setText(this.errorSummary, 'The error after each epoch appears here once training runs.');
    else {
      setText(
        this.errorSummary,
        trained
          .map((lane) => {
            const { losses, validation } = lane.trace;
            const held = latest(validation);
            const heldText =
              held === null ? '' : `; validation ${formatNumber(held.loss * scale.validation)} at epoch ${held.epoch}`;
            return `${lane.label}: ${formatNumber(losses[0] * scale.train)} after epoch 1, ${formatNumber(losses[losses.length - 1] * scale.train)} after epoch ${losses.length}${heldText}`;
          })
          .join('. ') +
          '.' +
          prefixed(
            raceCoincidence(lanes, (trace) => [trace.losses, trace.validation.map((v) => v.loss)])(
              'errors per epoch are',
            ),
          ),
      );
    }
    this.renderTiming(lanes);
    this.renderRace(state, lanes);
  }

  /** The timing chart in words: each lane's latest interval. */
  private renderTiming(lanes: readonly Lane[]): void {
    const parts = lanes.flatMap((lane) => {
      const last = latest(lane.trace.timing);
      return last === null
        ? []
        : [
            `${lane.label}: ${formatNumber(last.msPerEpoch)} ms per epoch, ${formatNumber(last.stepsPerSecond)} steps/s over the interval to epoch ${last.epoch}`,
          ];
    });
    setText(
      this.timingSummary,
      parts.length === 0
        ? 'Milliseconds per epoch (solid) and steps per second (dashed) of each run appear here at each report.'
        : `${parts.join('. ')}.`,
    );
  }

  private renderRace({ adapter, gpuUnavailable }: RunViewState, lanes: readonly Lane[]): void {
    if (adapter !== null) setText(this.adapterLine, `WebGPU adapter: ${adapterName(adapter)}.`);
    else setText(this.adapterLine, `WebGPU: ${gpuUnavailable ?? 'checking…'}`);
    this.adapterLine.dataset.software = adapter === null ? '' : String(adapter.software);
    const lane = (backend: BackendName) => lanes.find((l) => l.backend === backend);
    const gpuLane = lane('webgpu');
    const cpuLane = lane('cpu');
    const bothFinished = gpuLane?.status === 'finished' && cpuLane?.status === 'finished';
    if (bothFinished && gpuLane.switchedAt === null && gpuLane.last && cpuLane.last) {
      const ratio = raceRatio(gpuLane.last, cpuLane.last);
      setText(this.raceLine, describeRace(ratio, adapter?.software ?? false));
      this.raceLine.dataset.ratio = String(ratio ?? '');
    } else {
      setText(
        this.raceLine,
        lanes.length === 2 && !bothFinished ? 'The race result appears when both backends finish.' : '',
      );
      this.raceLine.dataset.ratio = '';
    }
  }
}
