// What the Train view's three charts show, as pure specifications (the chart only draws, charts.ts):
// the series chart (the data, and per lane its one-step predictions and free-running forecast), the
// error chart (per lane its training error, and its validation error with a held-out part) and the
// timing chart (per lane ms per epoch and steps per second). Series come in the same order as the
// columns from columns.ts. No DOM here.
//
// Legend: R = rows of the data, O = output columns.

import type { BackendName } from '../backends/backend.js';
import { dateAhead } from '../data/futureDates.js';
import type { ChartSeries, ChartSpec, ColorRole } from './charts.js';
import { type Columns, formatNumber, type SeriesView } from './columns.js';
import type { ExplicitRunSettings, ShownData } from './dataView.js';
import { dateTick, isMonthly, monthlyTick } from './ticks.js';

/** The data on the series chart: a run's, or a preview of the settings' before any run. */
export interface ShownView {
  view: ShownData;
  runSettings: ExplicitRunSettings;
}

/** A lane as the charts name and colour it. */
export interface LaneLook {
  backend: BackendName;
  label: string;
}

const fmt3 = (v: number) => (Math.abs(v) >= 1000 ? formatNumber(v) : v.toFixed(3));

export function seriesChartSpec(current: ShownView | null, outputIndex: number, lanes: readonly LaneLook[]): ChartSpec {
  const view = current?.view ?? null;
  const column = view?.prepared.outputs[outputIndex] ?? 'value';
  const series: ChartSeries[] = [{ label: `data (${column})`, color: 'data', width: 1, points: true, format: fmt3 }];
  for (const lane of lanes) {
    series.push(
      { label: `prediction (${lane.label})`, color: lane.backend, format: fmt3 },
      { label: `forecast (${lane.label})`, color: `${lane.backend}-alt`, dash: [6, 4], format: fmt3 },
    );
  }
  const dates = view?.dates ?? null;
  const source = current?.runSettings.source;
  const sine = source?.kind === 'generated' && source.spec.kind === 'sine';
  const formatX = (v: number) =>
    dates !== null ? (dates[Math.round(v)] ?? String(v)) : sine ? v.toFixed(2) : String(v);
  const prepared = view?.prepared ?? null;
  const marker =
    view !== null && prepared !== null && prepared.test !== null
      ? { x: view.positions[prepared.boundary], label: 'held out →' }
      : null;
  return {
    xLabel: dates !== null ? 'date' : sine ? 'x' : source?.kind === 'generated' ? 'step' : 'row',
    formatX,
    // Monthly series (every date the 1st) label ticks by month; others by the date over its time.
    formatXTick: dates === null ? undefined : tickFormat(dates, formatX),
    series,
    axes: [{ scale: 'y', label: column, log: false }],
    height: 270,
    marker,
  };
}

function tickFormat(dates: string[], formatX: (v: number) => string): (v: number) => string {
  const tick = isMonthly(dates) ? monthlyTick : dateTick;
  return (v) => tick(formatX(v));
}

/** The series chart's view of one output column (R values), or null before there is data. */
export function seriesViewOf(current: ShownView | null, outputIndex: number): SeriesView | null {
  if (current === null) return null;
  const { prepared, positions } = current.view;
  const name = prepared.outputs[outputIndex];
  return {
    positions,
    values: prepared.table.values[prepared.table.columns.indexOf(name)],
    window: current.runSettings.window,
    outputs: prepared.outputs.length,
    output: outputIndex,
  };
}

export function errorChartSpec(
  lanes: readonly LaneLook[],
  withValidation: boolean,
  axisLabel: string,
  log: boolean,
): ChartSpec {
  const series: ChartSeries[] = [];
  for (const lane of lanes) {
    series.push({ label: `error (${lane.label})`, color: lane.backend, format: formatNumber });
    if (withValidation) {
      series.push({
        label: `validation (${lane.label})`,
        color: `${lane.backend}-alt`,
        dash: [3, 3],
        points: true,
        format: formatNumber,
      });
    }
  }
  return { xLabel: 'epoch', formatX: String, series, axes: [{ scale: 'y', label: axisLabel, log }], height: 210 };
}

export function timingChartSpec(lanes: readonly LaneLook[]): ChartSpec {
  const series: ChartSeries[] = [];
  for (const lane of lanes) {
    series.push(
      // Points: one value per report, and a run of one report is still visible.
      { label: `ms/epoch (${lane.label})`, color: lane.backend, scale: 'ms', points: true, format: formatNumber },
      {
        label: `steps/s (${lane.label})`,
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

/** How many values each series holds, by label (JSON), for scripts and tests: a canvas cannot be read back. */
export function countValues(columns: Columns, spec: ChartSpec): string {
  const counts: Record<string, number> = {};
  spec.series.forEach((series, i) => {
    // Counted, not filtered: filtering a 400,000-row column copies it.
    const column = columns[i + 1];
    let count = 0;
    for (let row = 0; row < column.length; row++) if (column[row] !== null) count++;
    counts[series.label] = count;
  });
  return JSON.stringify(counts);
}

// ---- Forecasting: the forecast past the end, baselines and the best epoch, residuals ----

/** The label of row `row` past the last of `dates` (src/data/futureDates.ts: by months, or by the dates' step). */
export function futureDate(dates: readonly string[], row: number): string {
  return dateAhead(dates, row - (dates.length - 1));
}

/**
 * The series chart with each lane's forecast past the end after its other series (the columns come
 * from seriesColumnsWithFuture); x labels past the data continue its dates.
 */
export function withFuture(spec: ChartSpec, current: ShownView | null, lanes: readonly LaneLook[]): ChartSpec {
  const dates = current?.view.dates ?? null;
  const rows = current?.view.prepared.table.rows ?? 0;
  const label = (v: number, format: (v: number) => string) =>
    dates !== null && Math.round(v) >= rows ? futureDate(dates, Math.round(v)) : format(v);
  const { formatX, formatXTick } = spec;
  return {
    ...spec,
    formatX: (v) => label(v, formatX),
    // Ticks past the data read as the data's own ticks do (monthly dates by their month).
    ...(formatXTick
      ? {
          formatXTick: (v: number) =>
            dates !== null && Math.round(v) >= rows
              ? (isMonthly(dates) ? monthlyTick : dateTick)(futureDate(dates, Math.round(v)))
              : formatXTick(v),
        }
      : {}),
    series: [
      ...spec.series,
      ...lanes.map(
        (lane): ChartSeries => ({
          label: `past the end (${lane.label})`,
          color: `${lane.backend}-alt`,
          dash: [2, 3],
          width: 2,
          format: fmt3,
        }),
      ),
    ],
  };
}

/** A baseline on the error chart: its label; the columns hold its level. */
export interface BaselineLook {
  label: string;
}

const BASELINE_DASHES = [
  [10, 4],
  [2, 4],
  [10, 3, 2, 3],
];

/**
 * The error chart with, after its series, each lane's test error (where a validation part chooses
 * the epoch) and a horizontal line per baseline (on the compared part, in the chart's units), and a
 * mark at the first lane's best epoch. Columns from errorColumnsWithBaselines.
 */
export function withBaselines(
  spec: ChartSpec,
  lanes: readonly LaneLook[],
  withTest: boolean,
  baselines: readonly BaselineLook[],
  best: { epoch: number; label: string } | null,
): ChartSpec {
  const tests = withTest
    ? lanes.map(
        (lane): ChartSeries => ({
          label: `test (${lane.label})`,
          color: lane.backend,
          dash: [1, 3],
          points: true,
          format: formatNumber,
        }),
      )
    : [];
  const lines = baselines.map(
    (baseline, i): ChartSeries => ({
      label: baseline.label,
      color: 'data',
      dash: BASELINE_DASHES[i % BASELINE_DASHES.length],
      width: 1.5,
      format: formatNumber,
      benchmark: true,
    }),
  );
  return {
    ...spec,
    series: [...spec.series, ...tests, ...lines],
    marker: best === null ? null : { x: best.epoch, label: best.label },
  };
}

/** Actual minus predicted on the compared part (test, or training without one), in the data's units, per lane. */
export function residualChartSpec(
  current: ShownView | null,
  outputIndex: number,
  lanes: readonly LaneLook[],
): ChartSpec {
  const base = seriesChartSpec(current, outputIndex, []);
  const column = current?.view.prepared.outputs[outputIndex] ?? 'value';
  const unit = current?.view.unit ?? null;
  return {
    xLabel: base.xLabel,
    formatX: base.formatX,
    formatXTick: base.formatXTick,
    series: lanes.map(
      (lane): ChartSeries => ({ label: `residual (${lane.label})`, color: lane.backend, points: true, format: fmt3 }),
    ),
    axes: [
      {
        scale: 'y',
        label: `${column} actual − predicted${unit ? ` (${unit})` : ''}`,
        shortLabel: `residual${unit ? ` (${unit})` : ''}`,
        log: false,
      },
    ],
    height: 190,
    marker: null,
  };
}

/** A kept run overlaid on the charts: its legend name and colour. */
export interface OverlayLook {
  label: string;
  color: ColorRole;
  /** Its predictions are of the data on the chart (else the series chart leaves it out). */
  sameData: boolean;
}

/** The series chart with each overlay's one-step predictions after its series (withOverlayPredictions). */
export function withOverlayPredictionSeries(spec: ChartSpec, overlays: readonly OverlayLook[]): ChartSpec {
  const added = overlays
    .filter((o) => o.sameData)
    .map((o): ChartSeries => ({ label: `prediction (${o.label})`, color: o.color, width: 1.5, format: fmt3 }));
  return { ...spec, series: [...spec.series, ...added] };
}

/** The error chart with each overlay's training (and validation) error after the lanes' (withOverlayErrors). */
export function withOverlayErrorSeries(
  spec: ChartSpec,
  overlays: readonly OverlayLook[],
  withValidation: boolean,
): ChartSpec {
  const added = overlays.flatMap((o): ChartSeries[] => [
    { label: `error (${o.label})`, color: o.color, width: 1.5, format: formatNumber },
    ...(withValidation
      ? [{ label: `validation (${o.label})`, color: o.color, dash: [3, 3], width: 1.5, format: formatNumber }]
      : []),
  ]);
  return { ...spec, series: [...spec.series, ...added] };
}

/** The residual chart's title: which part's residuals it shows. */
export function residualTitle(part: 'test' | 'train' | null): string {
  if (part === 'test') return 'Residuals on the held-out part';
  if (part === 'train') return 'Residuals on the training windows (nothing is held out)';
  return 'Residuals';
}
