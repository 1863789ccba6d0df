// The Backtest view: a rolling-origin backtest (src/train/backtest.ts, the CLI's `backtest`) of the
// Train view's data, model and training settings, with its own folds, horizon, step, levels and seeds
// per fold. The folds train as one population on the CPU in a worker (backtestWorker.ts), with
// progress and Stop; then the view draws every fold's forecast on the series, the per-step error of
// the model beside the six benchmarks (MASE or RMSE), the fold × step table, the backtest's sentence
// and the intervals' coverage.
//
// Legend: K = folds, H = the horizon in steps, R = rows.

import { BACKTEST_SETTINGS } from '../settings/backtest.js';
import type { BacktestResult } from '../train/backtest.js';
import { backtestSeriesColumns, backtestSeriesSpec } from './backtestSeries.js';
import {
  backtestSettingsOf,
  BACKTEST_FIELDS as FIELDS,
  type BacktestFieldName as FieldName,
  parseBacktestFields,
} from './backtestSettings.js';
import type { BacktestRequest } from './backtestWorker.js';
import { countValues } from './chartSpecs.js';
import { Chart, offerPng } from './charts.js';
import type { Columns } from './columns.js';
import { type ExplicitRunSettings, type ShownData, shownData } from './dataView.js';
import { byId, el, setText } from './dom.js';
import {
  type BenchmarkLine,
  benchmarkExplanation,
  type Cell,
  metricCell,
  metricExplanation,
  STEP_METRIC_LABEL,
  type StepMetric,
  stepErrorColumns,
  stepErrorSpec,
} from './forecastTables.js';
import type { AppTrainOptions } from './settings.js';
import { workerJob } from './workerJob.js';

/** The Train view's settings as a backtest takes them, or why there are none. */
export type BacktestBase =
  | { ok: true; run: ExplicitRunSettings; train: AppTrainOptions }
  | { ok: false; problem: string };

export interface BacktestDeps {
  /** The Train view's form, read now. */
  base(): BacktestBase;
  /** A training run or a sweep is going: a backtest would share the CPU with it. */
  busy(): string | null;
}

export class BacktestView {
  private readonly form = byId('backtest-form', HTMLFormElement);
  private readonly runButton = byId('backtest-run', HTMLButtonElement);
  private readonly stopButton = byId('backtest-stop', HTMLButtonElement);
  private readonly progress = byId('backtest-progress', HTMLProgressElement);
  private readonly status = byId('backtest-status', HTMLParagraphElement);
  private readonly base = byId('backtest-base', HTMLParagraphElement);
  private readonly metricSelect = byId('backtest-metric', HTMLSelectElement);
  private readonly sentence = byId('backtest-sentence', HTMLParagraphElement);
  private readonly intervals = byId('backtest-intervals', HTMLUListElement);
  private readonly table = byId('backtest-table', HTMLTableElement);
  private readonly seriesHost = byId('backtest-series-chart', HTMLDivElement);
  private readonly errorHost = byId('backtest-error-chart', HTMLDivElement);
  private readonly inputs = new Map<FieldName, HTMLInputElement>();
  private readonly errors = new Map<FieldName, HTMLParagraphElement>();
  private readonly seriesChart: Chart;
  private readonly errorChart: Chart;
  private abort: AbortController | null = null;
  private shown: { result: BacktestResult; data: ShownData } | null = null;

  constructor(private readonly deps: BacktestDeps) {
    const host = byId('backtest-fields', HTMLDivElement);
    for (const field of FIELDS) {
      const id = `backtest-${field.name}`;
      const input = el('input', {
        id,
        name: field.name,
        type: 'text',
        autocomplete: 'off',
        spellcheck: 'false',
        'aria-describedby': `${id}-hint ${id}-error`,
      });
      input.value = BACKTEST_SETTINGS[field.name].format(BACKTEST_SETTINGS[field.name].default as never);
      const error = el('p', { class: 'field-error', id: `${id}-error` });
      host.append(
        el('div', { class: 'field', 'data-field': field.name }, [
          el('label', { for: id }, [field.label]),
          input,
          el('p', { class: 'field-hint', id: `${id}-hint` }, [field.hint]),
          error,
        ]),
      );
      this.inputs.set(field.name, input);
      this.errors.set(field.name, error);
    }
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (this.abort === null) void this.run();
    });
    this.stopButton.addEventListener('click', () => this.stop());
    this.metricSelect.addEventListener('change', () => this.draw());
    this.seriesChart = new Chart(this.seriesHost, backtestSeriesSpec(null), [[]], {
      title: 'Backtest: every fold’s forecast',
      summaryId: 'backtest-series-summary',
    });
    this.errorChart = new Chart(this.errorHost, stepErrorSpec([], 'mase', null), [[], []], {
      title: 'Backtest: error per step ahead',
      summaryId: 'backtest-error-summary',
    });
    offerPng('backtest-series-png', this.seriesChart, 'webgpu-lstm-backtest-series.png');
    offerPng('backtest-error-png', this.errorChart, 'webgpu-lstm-backtest-error.png');
    this.render();
  }

  running(): boolean {
    return this.abort !== null;
  }

  /** Says what the backtest would train (the Train view's settings), or why it cannot. */
  describeBase(): void {
    const base = this.deps.base();
    if (!base.ok) {
      setText(this.base, `The Train tab's settings have a problem: ${base.problem}`);
      return;
    }
    const { run, train } = base;
    const source =
      run.source.kind === 'generated'
        ? `a ${run.source.spec.kind}`
        : run.source.kind === 'bundled'
          ? run.source.name
          : run.source.label;
    setText(
      this.base,
      `Trains on the Train tab's settings: ${source}, window ${run.window}, hidden [${run.hiddenSizes.join(',')}], ${train.epochs} epochs, batch ${train.batchSize}, validation share ${run.validationFraction} (the folds hold out their own rows, so the split is not used), on the CPU.`,
    );
  }

  private fieldValues(): Record<FieldName, string> {
    const values = {} as Record<FieldName, string>;
    for (const [name, input] of this.inputs) values[name] = input.value;
    return values;
  }

  private showErrors(errors: Partial<Record<FieldName, string>>): void {
    for (const [name, input] of this.inputs) {
      setText(this.errors.get(name)!, errors[name] ?? '');
      if (errors[name] === undefined) input.removeAttribute('aria-invalid');
      else input.setAttribute('aria-invalid', 'true');
    }
  }

  private async run(): Promise<void> {
    const parsed = parseBacktestFields(this.fieldValues());
    this.showErrors(parsed.ok ? {} : parsed.errors);
    if (!parsed.ok) {
      setText(this.status, 'Not started: fix the settings marked in red.');
      return;
    }
    const busy = this.deps.busy();
    if (busy !== null) {
      setText(this.status, `Not started: ${busy}`);
      return;
    }
    this.describeBase();
    const base = this.deps.base();
    if (!base.ok) {
      setText(this.status, `Not started: the Train tab's settings have a problem: ${base.problem}`);
      return;
    }
    let data: ShownData;
    try {
      data = shownData(base.run);
    } catch (err) {
      setText(this.status, `Not started: ${(err as Error).message}`);
      return;
    }
    const settings = backtestSettingsOf(base.run, base.train, parsed.own);
    const abort = new AbortController();
    this.abort = abort;
    this.progress.value = 0;
    setText(this.status, `Training ${settings.folds} folds as one population…`);
    this.render();
    const started = performance.now();
    try {
      const result = await workerJob<BacktestRequest, BacktestResult>(
        () => new Worker(new URL('./backtestWorker.ts', import.meta.url), { type: 'module', name: 'backtest' }),
        { settings, threads: base.train.threads },
        {
          signal: abort.signal,
          onProgress: (fraction) => {
            this.progress.value = fraction;
            setText(
              this.status,
              `Training ${settings.folds} folds as one population: ${Math.round(fraction * 100)}% of the epochs…`,
            );
          },
          stopped: 'the backtest worker stopped',
        },
      );
      const seconds = (performance.now() - started) / 1000;
      this.shown = { result, data };
      document.body.dataset.backtestSeconds = seconds.toFixed(2);
      setText(
        this.status,
        `Done in ${seconds.toFixed(1)} s: ${result.folds.length} folds of ${result.plan.horizon} steps, ${result.plan.step} rows apart (training ${result.seconds.training.toFixed(1)} s, forecasts ${result.seconds.forecasting.toFixed(1)} s).${result.plan.note === null ? '' : ` Note: ${result.plan.note}.`}`,
      );
      this.draw();
    } catch (err) {
      if (abort.signal.aborted) setText(this.status, 'Stopped: nothing was kept of the unfinished backtest.');
      else setText(this.status, `The backtest stopped: ${(err as Error).message}`);
    } finally {
      this.abort = null;
      this.render();
    }
  }

  private stop(): void {
    this.abort?.abort(new Error('stopped'));
  }

  private metric(): StepMetric {
    return this.metricSelect.value === 'rmse' ? 'rmse' : 'mase';
  }

  render(): void {
    const running = this.abort !== null;
    document.body.dataset.backtestPhase = running ? 'running' : this.shown === null ? 'idle' : 'done';
    this.runButton.disabled = running;
    this.stopButton.disabled = !running;
    this.progress.hidden = !running;
    for (const input of this.inputs.values()) input.disabled = running;
  }

  /** The charts, the table and the sentences of the shown result. */
  private draw(): void {
    const shown = this.shown;
    if (shown === null) return;
    const { result, data } = shown;
    const metric = this.metric();
    const seriesSpec = backtestSeriesSpec({ result, data });
    const series = backtestSeriesColumns(result, data);
    this.seriesChart.setSpec(seriesSpec, series);
    this.seriesHost.dataset.counts = countValues(series, seriesSpec);
    const benchmarks = result.summary.benchmarks as BenchmarkLine[];
    const errorSpec = stepErrorSpec(benchmarks, metric, result.unit);
    const errors: Columns = stepErrorColumns(result.plan.horizon, result.summary.model, benchmarks, metric);
    this.errorChart.setSpec(errorSpec, errors);
    this.errorHost.dataset.counts = countValues(errors, errorSpec);
    setText(
      byId('backtest-error-summary', HTMLParagraphElement),
      `${STEP_METRIC_LABEL[metric]} per step ahead over the ${result.folds.length} folds: the model's line and each benchmark's from the same origins. ${metricExplanation(metric)}`,
    );
    setText(this.sentence, result.summary.sentence);
    // The sentences name the CLI's option; here the field is "Seeds per fold".
    const sentences = result.intervals.map((interval) => interval.sentence.replace('(--members)', '(Seeds per fold)'));
    this.intervals.replaceChildren(...sentences.map((text) => el('li', {}, [text])));
    this.fillTable(result, metric);
  }

  private fillTable(result: BacktestResult, metric: StepMetric): void {
    const H = result.plan.horizon;
    const label = STEP_METRIC_LABEL[metric];
    const th = (text: string, title = '') => el('th', { scope: 'col', ...(title === '' ? {} : { title }) }, [text]);
    const td = (cell: Cell) => el('td', cell.title === '' ? {} : { title: cell.title }, [cell.text]);
    const head = el('tr', {}, [
      th('Fold'),
      th('Origin'),
      th('Rows', 'rows the fold was fitted on: every row before its origin'),
      th('Epoch', 'the epoch whose weights forecast, per seed'),
      ...Array.from({ length: H }, (_, h) => th(`h=${h + 1}`, `${label} ${h + 1} step${h === 0 ? '' : 's'} ahead`)),
      th(`${label}, all steps`, metricExplanation(metric)),
      th('Naive2, all steps', benchmarkExplanation('naive2')),
      th('vs Naive2', 'whether the fold’s MASE over its steps is below Naive2’s'),
    ]);
    const rows = result.folds.map((fold, k) => {
      const naive2 = fold.benchmarks.find((b) => b.key === 'naive2')?.table ?? null;
      const mine = fold.model?.overall.mase.value ?? null;
      const theirs = naive2?.overall.mase.value ?? null;
      const verdict = mine === null || theirs === null ? '–' : mine < theirs ? 'won' : 'lost';
      return el('tr', { 'data-fold': String(k + 1) }, [
        el('th', { scope: 'row' }, [String(k + 1)]),
        el('td', {}, [fold.originDate ?? `row ${fold.origin + 1}`]),
        el('td', {}, [String(fold.trainRows)]),
        el('td', {}, [fold.members.map((m) => m.keptEpoch).join(',') || '–']),
        ...Array.from({ length: H }, (_, h) =>
          td(metricCell(fold.model?.steps[h]?.[metric], result.modelSkipped ?? undefined)),
        ),
        td(metricCell(fold.model?.overall[metric], result.modelSkipped ?? undefined)),
        td(metricCell(naive2?.overall[metric] ?? null)),
        el('td', {}, [verdict]),
      ]);
    });
    const pooled = (name: string, title: string, table: BenchmarkLine['table'], reason: string | null) =>
      el('tr', { class: 'pooled' }, [
        el('th', { scope: 'row', colspan: '4', title }, [name]),
        ...Array.from({ length: H }, (_, h) => td(metricCell(table?.steps[h]?.[metric], reason ?? undefined))),
        td(metricCell(table?.overall[metric], reason ?? undefined)),
        el('td', {}, []),
        el('td', {}, []),
      ]);
    const summary = [
      pooled(
        'model, all folds',
        'pooled over the folds: each fold’s one forecast per step',
        result.summary.model,
        result.modelSkipped,
      ),
      ...result.summary.benchmarks.map((b) => pooled(b.label, benchmarkExplanation(b.key), b.table, b.skipped)),
    ];
    this.table.replaceChildren(
      el('caption', { class: 'visually-hidden' }, [
        `${label} of every fold per step ahead, then pooled beside the benchmarks`,
      ]),
      el('thead', {}, [head]),
      el('tbody', { id: 'backtest-folds' }, rows),
      el('tbody', { id: 'backtest-pooled' }, summary),
    );
  }
}
