// The Train view's three charts on the page: built from chartSpecs.ts's specifications and
// columns.ts's columns, with the output-column chooser (a model with several outputs shows one at a
// time) and the error chart's log-scale switch. Each chart's value counts go into data-counts for
// scripts and tests (a canvas cannot be read back as data).

import {
  countValues,
  errorChartSpec,
  type LaneLook,
  type ShownView,
  seriesChartSpec,
  seriesViewOf,
  timingChartSpec,
} from './chartSpecs.js';
import { Chart, offerPng } from './charts.js';
import { type BackendTrace, type ErrorScale, errorColumns, seriesColumns, timingColumns } from './columns.js';
import { byId, downloadText, el } from './dom.js';
import { seriesCsv } from './seriesExport.js';

/** What the charts draw, read afresh at every update. */
export interface ChartState {
  /** The run's data, or the settings' preview; null when there is none. */
  current: ShownView | null;
  lanes: readonly (LaneLook & { trace: BackendTrace; last: { epoch: number } | null })[];
  /** The run has a held-out part: the error chart shows validation errors too. */
  withValidation: boolean;
  /** How the errors are scaled for the chart (null: as reported). */
  scale: ErrorScale | null;
}

export class TrainCharts {
  private readonly seriesHost = byId('series-chart', HTMLDivElement);
  private readonly errorHost = byId('error-chart', HTMLDivElement);
  private readonly timingHost = byId('timing-chart', HTMLDivElement);
  private readonly logToggle = byId('log-scale', HTMLInputElement);
  private readonly outputChoice = byId('output-choice', HTMLLabelElement);
  private readonly outputSelect = byId('output-column', HTMLSelectElement);
  private readonly csvButton = byId('download-series', HTMLButtonElement);
  /** Which output column the series chart shows. */
  private outputIndex = 0;
  private readonly series: Chart;
  private readonly error: Chart;
  private readonly timing: Chart;

  constructor(
    private readonly state: () => ChartState,
    /** The output column changed: the page re-renders. */
    onOutputChange: () => void,
  ) {
    this.series = new Chart(this.seriesHost, this.seriesSpec(), this.seriesData(), {
      title: 'Series',
      summaryId: 'series-summary',
    });
    this.error = new Chart(this.errorHost, this.errorSpec(), this.errorData(), {
      title: 'Error per epoch',
      summaryId: 'error-summary',
    });
    this.timing = new Chart(this.timingHost, timingChartSpec([]), timingColumns([]), {
      title: 'Timing',
      summaryId: 'timing-summary',
    });
    offerPng('series-png', this.series, 'webgpu-lstm-series.png');
    offerPng('error-png', this.error, 'webgpu-lstm-error.png');
    offerPng('timing-png', this.timing, 'webgpu-lstm-timing.png');
    this.csvButton.addEventListener('click', () => this.downloadCsv());
    window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
      for (const chart of [this.series, this.error, this.timing]) chart.rebuild();
    });
    this.logToggle.addEventListener('change', () => this.respecErrors());
    this.outputSelect.addEventListener('change', () => {
      this.outputIndex = Number(this.outputSelect.value);
      this.respecSeries();
      onOutputChange();
    });
  }

  /** New series on every chart (lanes came or went, a lane switched backend). */
  respec(): void {
    this.respecSeries();
    this.respecErrors();
    this.timing.setSpec(timingChartSpec(this.state().lanes), timingColumns(this.traces()));
  }

  /** The series chart's data changed shape (a preview, another output column). */
  respecSeries(): void {
    this.series.setSpec(this.seriesSpec(), this.seriesData());
  }

  private respecErrors(): void {
    this.error.setSpec(this.errorSpec(), this.errorData());
  }

  /** New values on the charts (a report), and the output chooser kept in step with the data. */
  update(): void {
    this.renderOutputChoice();
    this.csvButton.disabled = this.state().current === null;
    const series = this.seriesData();
    const errors = this.errorData();
    const timing = timingColumns(this.traces());
    this.series.setData(series);
    this.error.setData(errors);
    this.timing.setData(timing);
    this.seriesHost.dataset.counts = countValues(series, this.seriesSpec());
    this.errorHost.dataset.counts = countValues(errors, this.errorSpec());
    this.timingHost.dataset.counts = countValues(timing, timingChartSpec(this.state().lanes));
  }

  /** The charts' data as one tidy CSV (seriesExport.ts). */
  private downloadCsv(): void {
    const { current, lanes, scale } = this.state();
    if (current === null) return;
    const text = seriesCsv({
      view: current.view,
      lanes: lanes.map((lane) => ({
        backend: lane.backend,
        label: lane.label,
        trace: lane.trace,
        epoch: lane.last?.epoch ?? null,
      })),
      scale,
    });
    downloadText('webgpu-lstm-series.csv', text, 'text/csv');
  }

  private traces(): BackendTrace[] {
    return this.state().lanes.map((lane) => lane.trace);
  }

  private seriesSpec() {
    const { current, lanes } = this.state();
    return seriesChartSpec(current, this.outputIndex, lanes);
  }

  private seriesData() {
    return seriesColumns(seriesViewOf(this.state().current, this.outputIndex), this.traces());
  }

  private errorSpec() {
    const { lanes, withValidation, scale } = this.state();
    return errorChartSpec(lanes, withValidation, scale?.label ?? 'error', this.logToggle.checked);
  }

  private errorData() {
    const { withValidation, scale } = this.state();
    return errorColumns(this.traces(), scale, withValidation);
  }

  /** The output column chooser, shown when the model predicts several columns. */
  private renderOutputChoice(): void {
    const outputs = this.state().current?.view.prepared.outputs ?? [];
    this.outputChoice.hidden = outputs.length < 2;
    if (this.outputIndex >= outputs.length) this.outputIndex = 0;
    const names = [...this.outputSelect.options].map((o) => o.textContent);
    if (names.length !== outputs.length || names.some((n, i) => n !== outputs[i])) {
      this.outputSelect.replaceChildren(...outputs.map((name, i) => el('option', { value: String(i) }, [name])));
    }
    this.outputSelect.value = String(this.outputIndex);
  }
}
