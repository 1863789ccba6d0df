// The Train view's charts on the page: built from chartSpecs.ts's specifications and columns.ts's
// columns, with the output-column chooser (a model with several outputs shows one at a time) and the
// error chart's log-scale switch. The series chart runs on past the data with each lane's forecast;
// the error chart carries the baselines and the best epoch; the residual chart shows actual minus
// predicted on the held-out part. Each chart's value counts go into data-counts for scripts and
// tests (a canvas cannot be read back as data).

import type { RowRange } from '../data/windows.js';
import { type ShownBands, withBandColumns, withBandSeries } from './bands.js';
import {
  countValues,
  errorChartSpec,
  type LaneLook,
  type OverlayLook,
  residualChartSpec,
  residualTitle,
  type ShownView,
  seriesChartSpec,
  seriesViewOf,
  timingChartSpec,
  withBaselines,
  withFuture,
  withOverlayErrorSeries,
  withOverlayPredictionSeries,
} from './chartSpecs.js';
import { Chart, offerPng } from './charts.js';
import {
  type BackendTrace,
  type BaselineLine,
  type ErrorScale,
  errorColumnsWithBaselines,
  type OverlayTrace,
  residualColumns,
  seriesColumnsWithFuture,
  timingColumns,
  withOverlayPredictions,
} from './columns.js';
import { byId, downloadText, el, setText } from './dom.js';
import {
  bandKey,
  type EnsembleTrace,
  withBandColumns as withEnsembleBandColumns,
  withBandSeries as withEnsembleBandSeries,
  withErrorBandColumns,
  withErrorBandSeries,
} from './ensembleBand.js';
import { seriesCsv } from './seriesExport.js';

/** What the charts draw, read afresh at every update. */
export interface ChartState {
  /** The run's data, or the settings' preview; null when there is none. */
  current: ShownView | null;
  lanes: readonly (LaneLook & {
    trace: BackendTrace;
    last: { epoch: number } | null;
    /** A population's band (Members above 1), drawn after every other series. */
    ensemble?: EnsembleTrace | null;
  })[];
  /** The run has a held-out part: the error chart shows validation errors too. */
  withValidation: boolean;
  /** How the errors are scaled for the chart (null: as reported). */
  scale: ErrorScale | null;
  /** Steps of the forecast past the end on the series chart. */
  horizon: number;
  /** The baselines' levels on the error chart (empty without a run). */
  baselines: readonly BaselineLine[];
  /** The lanes' test error goes on the error chart (a validation part chooses the epoch). */
  withTest: boolean;
  /** The target rows the residual chart shows (the held-out part, or the training windows), or null. */
  residualTargets: RowRange | null;
  /** Kept runs ticked in the Runs table, drawn over the current one. */
  overlays: readonly Overlay[];
  /** Which part the residual chart shows: the held-out (test) part, the training windows, or none yet. */
  residualPart: 'test' | 'train' | null;
  /** The ended run's prediction bands of the first output (bands.ts), or null. */
  bands?: ShownBands | null;
}

/** A kept run on the charts. */
export type Overlay = OverlayLook & OverlayTrace;

export class TrainCharts {
  private readonly seriesHost = byId('series-chart', HTMLDivElement);
  private readonly errorHost = byId('error-chart', HTMLDivElement);
  private readonly timingHost = byId('timing-chart', HTMLDivElement);
  private readonly residualHost = byId('residual-chart', HTMLDivElement);
  private readonly residualTitle = byId('residual-title', HTMLHeadingElement);
  private readonly logToggle = byId('log-scale', HTMLInputElement);
  private readonly outputChoice = byId('output-choice', HTMLLabelElement);
  private readonly outputSelect = byId('output-column', HTMLSelectElement);
  private readonly csvButton = byId('download-series', HTMLButtonElement);
  /** Which output column the series chart shows. */
  private outputIndex = 0;
  private readonly series: Chart;
  private readonly error: Chart;
  private readonly timing: Chart;
  private readonly residual: Chart;

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
    this.residual = new Chart(this.residualHost, this.residualSpec(), this.residualData(), {
      title: 'Residuals',
      summaryId: 'residual-summary',
    });
    offerPng('series-png', this.series, 'webgpu-lstm-series.png');
    offerPng('error-png', this.error, 'webgpu-lstm-error.png');
    offerPng('timing-png', this.timing, 'webgpu-lstm-timing.png');
    this.csvButton.addEventListener('click', () => this.downloadCsv());
    window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
      for (const chart of [this.series, this.error, this.timing, this.residual]) chart.rebuild();
    });
    this.logToggle.addEventListener('change', () => this.respecErrors());
    this.outputSelect.addEventListener('change', () => {
      this.outputIndex = Number(this.outputSelect.value);
      this.respecSeries();
      onOutputChange();
    });
  }

  /** Calls `listener` with the series chart's row under the pointer (the Inside view probes its window). */
  onSeriesPointer(listener: (row: number) => void): void {
    this.series.onPointer(listener);
  }

  /** Shades the rows of the window the Inside view draws on the series chart (null: none). */
  showWindow(rows: { from: number; to: number } | null): void {
    this.series.setBand(rows);
  }

  /** A row as the series chart's x axis names it ("x 3.14", "date 1990-01"). */
  rowLabel(row: number): string {
    const view = this.state().current?.view;
    const spec = this.seriesSpec();
    const position = view?.positions[row];
    return position === undefined ? `row ${row}` : `${spec.xLabel} ${spec.formatX(position)}`;
  }

  /** New series on every chart (lanes came or went, a lane switched backend). */
  respec(): void {
    this.respecSeries();
    this.respecErrors();
    this.timing.setSpec(timingChartSpec(this.state().lanes), timingColumns(this.traces()));
  }

  /** The runs overlaid changed: only the charts that draw them take new series. */
  respecOverlays(): void {
    this.series.setSpec(this.seriesSpec(), this.seriesData());
    this.respecErrors();
  }

  /**
   * The series chart's data changed shape (a preview, another output column): it takes its new
   * series at the next update (every caller renders next), so a large file's rows are gone over once,
   * in the frame that draws them, not also in the task that prepared them.
   */
  respecSeries(): void {
    const title = residualTitle(this.state().residualPart);
    setText(this.residualTitle, title);
    this.residual.retitle(title);
    this.seriesRespec = true;
    this.residual.setSpec(this.residualSpec(), this.residualData());
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
    const residuals = this.residualData();
    // A population's first report brings its bands: the series they add need new specs.
    const bands = bandKey(this.state().lanes);
    const respec = this.seriesRespec || bands !== this.bands;
    this.bands = bands;
    this.seriesRespec = false;
    // The error chart's marker (the best epoch) moves as training goes: its spec follows.
    const errorSpec = this.errorSpec();
    if (errorSpec.marker?.x !== this.errorMarker || errorSpec.series.length !== this.errorSeries) {
      this.errorSeries = errorSpec.series.length;
      this.errorMarker = errorSpec.marker?.x;
      this.error.setSpec(errorSpec, errors);
    } else this.error.setData(errors);
    if (respec) this.series.setSpec(this.seriesSpec(), series);
    else this.series.setData(series);
    this.timing.setData(timing);
    this.residual.setData(residuals);
    this.seriesHost.dataset.counts = countValues(series, this.seriesSpec());
    this.errorHost.dataset.counts = countValues(errors, errorSpec);
    this.errorHost.dataset.bestEpoch = String(errorSpec.marker?.x ?? '');
    this.timingHost.dataset.counts = countValues(timing, timingChartSpec(this.state().lanes));
    this.residualHost.dataset.counts = countValues(residuals, this.residualSpec());
  }

  /** The charts' data as one tidy CSV (seriesExport.ts). */
  private downloadCsv(): void {
    const { current, lanes, scale, bands } = this.state();
    if (current === null) return;
    const column = current.view.prepared.outputs[0];
    const futureBands = (bands?.future ?? []).map((b) => ({ ...b, column, unavailable: [] }));
    const text = seriesCsv({
      view: current.view,
      lanes: lanes.map((lane, i) => ({
        backend: lane.backend,
        label: lane.label,
        trace: lane.trace,
        epoch: lane.last?.epoch ?? null,
        ...(i === 0 ? { bands: futureBands } : {}),
      })),
      scale,
    });
    downloadText('webgpu-lstm-series.csv', text, 'text/csv');
  }

  private errorMarker: number | undefined = undefined;
  /** respecSeries was asked for since the last update. */
  private seriesRespec = false;
  private errorSeries = 0;
  private bands = '';

  private traces(): BackendTrace[] {
    return this.state().lanes.map((lane) => lane.trace);
  }

  private seriesSpec() {
    const { current, lanes, overlays } = this.state();
    const spec = withOverlayPredictionSeries(
      withFuture(seriesChartSpec(current, this.outputIndex, lanes), current, lanes),
      overlays,
    );
    return withEnsembleBandSeries(withBandSeries(spec, this.shownBands()), lanes);
  }

  private seriesData() {
    const { current, horizon, overlays, lanes } = this.state();
    const view = seriesViewOf(current, this.outputIndex);
    const columns = withOverlayPredictions(seriesColumnsWithFuture(view, this.traces(), horizon), view, [...overlays]);
    return withEnsembleBandColumns(withBandColumns(columns, this.shownBands()), view, lanes, horizon);
  }

  /** The bands are of the first output: drawn while it is the one shown. */
  private shownBands(): ShownBands | null {
    return this.outputIndex === 0 ? (this.state().bands ?? null) : null;
  }

  private errorSpec() {
    const { lanes, withValidation, withTest, scale, baselines, overlays } = this.state();
    const spec = withOverlayErrorSeries(
      errorChartSpec(lanes, withValidation, scale?.label ?? 'error', this.logToggle.checked),
      overlays,
      withValidation,
    );
    const lane = lanes.find((l) => l.trace.best !== null);
    const best = lane?.trace.best
      ? { epoch: lane.trace.best.epoch, label: `best epoch ${lane.trace.best.epoch}` }
      : null;
    return withErrorBandSeries(withBaselines(spec, lanes, withTest, baselines, best), lanes);
  }

  private errorData() {
    const { withValidation, withTest, scale, baselines, overlays, lanes } = this.state();
    const columns = errorColumnsWithBaselines(this.traces(), scale, withValidation, withTest, baselines, [...overlays]);
    return withErrorBandColumns(columns, lanes, scale);
  }

  private residualSpec() {
    const { current, lanes } = this.state();
    return residualChartSpec(current, this.outputIndex, lanes);
  }

  private residualData() {
    const { current, residualTargets } = this.state();
    return residualColumns(seriesViewOf(current, this.outputIndex), this.traces(), residualTargets);
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
