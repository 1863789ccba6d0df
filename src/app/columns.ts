// Chart data in uPlot's column form ([xs, ys1, ys2, ...], one shared x column, null where a series
// has no value), and the numbers the progress and timing panels show. Pure functions: the charts
// only draw what these return, and tests check them without a browser.
//
// Legend: R = rows of the series, T = window, N = R - T samples, O = output columns, S = forecast
// steps, E = epochs reported so far.

import type { AdapterDescription, BackendName } from '../backends/backend.js';
import type { LossName } from '../model/optimizer.js';
import type { EpochProgress } from '../train/trainer.js';

export type Column = (number | null)[];
/** uPlot's AlignedData with a plain x column. */
export type Columns = [number[], ...Column[]];

/** What one run (one lane) has produced so far. */
export interface BackendTrace {
  backend: BackendName;
  /** Per-epoch training errors as the trainer reports them, epoch 1 first. (E) */
  losses: number[];
  /** The validation error at each report so far (empty without a held-out part). */
  validation: { epoch: number; loss: number }[];
  /** (N, O) one-step-ahead predictions for rows predictionsFrom..R-1 at the latest report, original units; null before the first. */
  predictions: Float32Array | null;
  predictionsFrom: number;
  /** (S, O) the free-running forecast for rows forecastFrom.. at the latest report, original units. */
  forecast: Float32Array | null;
  forecastFrom: number;
  /** (H, O) the free-running forecast past the last row at the latest report, original units. */
  future: Float32Array | null;
  /** The test part's error at each report, where a validation part chooses the epoch (else empty). */
  test: { epoch: number; loss: number }[];
  /** The best epoch so far, where the run keeps it. */
  best: { epoch: number; loss: number } | null;
  /** Timing of each report interval. */
  timing: IntervalTiming[];
}

/** A trace before its run's first report. */
export function emptyTrace(backend: BackendName): BackendTrace {
  return {
    backend,
    losses: [],
    validation: [],
    predictions: null,
    predictionsFrom: 0,
    forecast: null,
    forecastFrom: 0,
    future: null,
    test: [],
    best: null,
    timing: [],
  };
}

export interface IntervalTiming {
  /** The epoch the interval ends at. */
  epoch: number;
  msPerEpoch: number;
  stepsPerSecond: number;
}

export const BACKEND_LABEL: Record<BackendName, string> = { webgpu: 'WebGPU', cpu: 'CPU' };

/** "google swiftshader …": the adapter's vendor, architecture and description, without repeats. */
export function adapterLabel(adapter: AdapterDescription): string {
  const parts = [adapter.vendor, adapter.architecture, adapter.description].filter((part) => part.trim() !== '');
  return [...new Set(parts)].join(' ') || 'an unnamed adapter';
}

/** The series chart's data: one output column of the series, in original units. */
export interface SeriesView {
  /** (R) x positions: the sine's argument, or the row number. */
  positions: Float32Array;
  /** (R) the shown column's values. */
  values: ArrayLike<number>;
  window: number;
  /** Output columns O of the model, and which one is shown. */
  outputs: number;
  output: number;
}

/**
 * A typed array's values as a plain array, by a loop: Array.from walks an iterator, several times
 * slower, which on a 400,000-row file is a pause on the page.
 */
function plainArray(values: ArrayLike<number>): number[] {
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i];
  return out;
}

/**
 * The series chart: x = positions, then the data (R), then per run its predictions and its
 * forecast of the shown output column, each value at the row it predicts (prediction n at row
 * predictionsFrom + n, forecast step s at row forecastFrom + s).
 */
export function seriesColumns(view: SeriesView | null, traces: BackendTrace[]): Columns {
  if (view === null) {
    const empty: Columns = [[], []];
    for (const _ of traces) empty.push([], []);
    return empty;
  }
  const xs = plainArray(view.positions);
  const columns: Columns = [xs, plainArray(view.values)];
  const align = (values: Float32Array | null, from: number): Column => {
    const column: Column = new Array(xs.length).fill(null);
    if (values === null) return column;
    const steps = Math.floor(values.length / view.outputs);
    for (let n = 0; n < steps && from + n < xs.length; n++) column[from + n] = values[n * view.outputs + view.output];
    return column;
  };
  for (const trace of traces)
    columns.push(align(trace.predictions, trace.predictionsFrom), align(trace.forecast, trace.forecastFrom));
  return columns;
}

/**
 * seriesColumns with `horizon` more rows past the data (x continuing by the last step), and per run
 * its forecast past the end after the others: null over the data but its last row, where it starts
 * from the last value so the line joins the data.
 */
export function seriesColumnsWithFuture(view: SeriesView | null, traces: BackendTrace[], horizon: number): Columns {
  const base = seriesColumns(view, traces);
  if (view === null || horizon < 1) {
    for (const _ of traces) base.push(base[0].map(() => null));
    return base;
  }
  const rows = base[0].length;
  const [xs, ...rest] = base;
  const step = rows > 1 ? xs[rows - 1] - xs[rows - 2] : 1;
  const extended: Columns = [xs.concat(Array.from({ length: horizon }, (_, s) => xs[rows - 1] + step * (s + 1)))];
  for (const column of rest) extended.push(column.concat(new Array<null>(horizon).fill(null)));
  for (const trace of traces) {
    const column: Column = new Array(rows + horizon).fill(null);
    const future = trace.future;
    if (future !== null) {
      column[rows - 1] = view.values[rows - 1];
      const steps = Math.min(horizon, Math.floor(future.length / view.outputs));
      for (let s = 0; s < steps; s++) column[rows + s] = future[s * view.outputs + view.output];
    }
    extended.push(column);
  }
  return extended;
}

/**
 * The residual chart: x = the positions of the compared part's target rows, then per run actual -
 * predicted of the shown output column there (null before the run's first report).
 */
export function residualColumns(
  view: SeriesView | null,
  traces: BackendTrace[],
  targets: { start: number; end: number } | null,
): Columns {
  if (view === null || targets === null) return [[], ...traces.map((): Column => [])];
  const xs = plainArray(view.positions.subarray(targets.start, targets.end));
  const columns: Columns = [xs];
  for (const trace of traces) {
    const { predictions, predictionsFrom } = trace;
    columns.push(
      xs.map((_, n) => {
        const row = targets.start + n;
        const index = (row - predictionsFrom) * view.outputs + view.output;
        return predictions === null || index < 0 || index >= predictions.length
          ? null
          : view.values[row] - predictions[index];
      }),
    );
  }
  return columns;
}

/**
 * How the error chart shows the trainer's errors. Without a held-out part: as reported (the blog's
 * 0.5 · sum of squares over all samples). With one, training and validation errors are sums over
 * different numbers of samples, so both are shown per sample (or as the mean squared error, which
 * is per sample already) to be comparable.
 */
export interface ErrorScale {
  train: number;
  validation: number;
  /** For the test part's error and the baselines on it (1 without a test part). */
  test: number;
  /** The y axis' label. */
  label: string;
}

export function errorScale(
  loss: LossName,
  trainSamples: number,
  validationSamples: number | null,
  testSamples: number | null = validationSamples,
): ErrorScale {
  if (loss === 'mse') return { train: 1, validation: 1, test: 1, label: 'mean squared error' };
  if (validationSamples === null) return { train: 1, validation: 1, test: 1, label: 'error' };
  return {
    train: 1 / trainSamples,
    validation: 1 / validationSamples,
    test: testSamples === null ? 1 : 1 / testSamples,
    label: 'error per sample',
  };
}

/**
 * The error chart: x = epoch 1..E (the longest run so far); per run its training error, and with
 * `withValidation` its validation error after it (values at report epochs only, null elsewhere).
 */
export function errorColumns(traces: BackendTrace[], scale: ErrorScale | null = null, withValidation = false): Columns {
  const s = scale ?? { train: 1, validation: 1, test: 1, label: '' };
  const epochs = Math.max(0, ...traces.map((t) => t.losses.length), ...traces.map((t) => lastEpoch(t.validation)));
  const xs = Array.from({ length: epochs }, (_, i) => i + 1);
  const columns: Columns = [xs];
  for (const trace of traces) {
    columns.push(xs.map((_, i) => (i < trace.losses.length ? trace.losses[i] * s.train : null)));
    if (withValidation) {
      const byEpoch = new Map(trace.validation.map((v) => [v.epoch, v.loss * s.validation]));
      columns.push(xs.map((x) => byEpoch.get(x) ?? null));
    }
  }
  return columns;
}

/** A baseline's level on the error chart: its loss on the compared part, already scaled. */
export interface BaselineLine {
  label: string;
  /** Null where the baseline does not apply (no season, too few windows): a column of nulls. */
  value: number | null;
}

/**
 * errorColumns, then each overlay's errors (withOverlayErrors), then per run its test error at each
 * report (with `withTest`), then one constant column per baseline over every epoch (horizontal lines).
 */
export function errorColumnsWithBaselines(
  traces: BackendTrace[],
  scale: ErrorScale | null,
  withValidation: boolean,
  withTest: boolean,
  baselines: readonly BaselineLine[],
  overlays: OverlayTrace[] = [],
): Columns {
  const columns = withOverlayErrors(errorColumns(traces, scale, withValidation), overlays, withValidation);
  const xs = columns[0];
  if (withTest) {
    const s = scale?.test ?? 1;
    for (const trace of traces) {
      const byEpoch = new Map(trace.test.map((v) => [v.epoch, v.loss * s]));
      columns.push(xs.map((x) => byEpoch.get(x) ?? null));
    }
  }
  for (const line of baselines) columns.push(xs.map(() => line.value));
  return columns;
}

function lastEpoch(points: { epoch: number }[]): number {
  return points.length > 0 ? points[points.length - 1].epoch : 0;
}

/**
 * The timing chart: x = the epochs at which any backend reported; per backend ms per epoch and
 * steps per second (in that order), null where that backend did not report at that epoch.
 */
export function timingColumns(traces: BackendTrace[]): Columns {
  const xs = [...new Set(traces.flatMap((t) => t.timing.map((p) => p.epoch)))].sort((a, b) => a - b);
  const columns: Columns = [xs];
  for (const trace of traces) {
    const byEpoch = new Map(trace.timing.map((p) => [p.epoch, p]));
    columns.push(
      xs.map((x) => byEpoch.get(x)?.msPerEpoch ?? null),
      xs.map((x) => byEpoch.get(x)?.stepsPerSecond ?? null),
    );
  }
  return columns;
}

/** Timing of the interval between two reports (seconds are training time, pauses excluded). */
export function intervalTiming(
  previous: { epoch: number; seconds: number },
  current: { epoch: number; seconds: number },
  stepsPerEpoch: number,
): IntervalTiming {
  const epochs = current.epoch - previous.epoch;
  const seconds = Math.max(current.seconds - previous.seconds, 1e-9);
  return {
    epoch: current.epoch,
    msPerEpoch: (seconds * 1000) / Math.max(epochs, 1),
    stepsPerSecond: (epochs * stepsPerEpoch) / seconds,
  };
}

/** Seconds left at the run's average pace so far, or null before there is a pace. */
export function secondsLeft(epoch: number, epochs: number, seconds: number): number | null {
  if (epoch <= 0 || seconds <= 0) return null;
  return ((epochs - epoch) * seconds) / epoch;
}

/** "epoch 1: 37% (1,234 of 3,300 steps)" */
export function describeEpochProgress(progress: EpochProgress): string {
  const share = Math.floor((100 * progress.steps) / Math.max(1, progress.stepsPerEpoch));
  const count = (n: number) => n.toLocaleString('en-US');
  return `epoch ${progress.epoch}: ${share}% (${count(progress.steps)} of ${count(progress.stepsPerEpoch)} steps)`;
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '–';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** A rate or an error with about three significant digits, readable at a glance. */
export function formatNumber(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 0.01 || abs === 0) return value.toFixed(abs >= 1 ? 2 : 3);
  return value.toExponential(2);
}

/**
 * The race's verdict: WebGPU's steps per second over the CPU's, both over the whole run. Above 1
 * the GPU was faster.
 */
export function raceRatio(gpu: { steps: number; seconds: number }, cpu: { steps: number; seconds: number }) {
  if (gpu.seconds <= 0 || cpu.seconds <= 0 || cpu.steps <= 0) return null;
  return gpu.steps / gpu.seconds / (cpu.steps / cpu.seconds);
}

export function describeRace(ratio: number | null, softwareAdapter: boolean): string {
  if (ratio === null) return '';
  const verdict =
    ratio >= 1
      ? `WebGPU ran ${formatNumber(ratio)}× the CPU's steps per second.`
      : `WebGPU ran at ${formatNumber(ratio)}× the CPU's steps per second (the CPU was ${formatNumber(1 / ratio)}× faster).`;
  return softwareAdapter
    ? `${verdict} The adapter is a software one (the GPU emulated on the CPU), so this says nothing about a real GPU.`
    : verdict;
}

// ---- Overlays: runs kept in the Runs table, drawn over the current one ----

/** A kept run on the charts: its trace and how its errors are scaled for the error chart. */
export interface OverlayTrace {
  trace: BackendTrace;
  /** Its errors' scale (per sample where it had a held-out part). */
  scale: { train: number; validation: number };
  /** Its predictions are of the data on the chart (else only its errors are drawn). */
  sameData: boolean;
}

/** The series chart's columns with, after them, each overlay's one-step predictions of the shown column. */
export function withOverlayPredictions(columns: Columns, view: SeriesView | null, overlays: OverlayTrace[]): Columns {
  const rows = columns[0].length;
  const added = overlays
    .filter((o) => o.sameData)
    .map(({ trace }): Column => {
      const column: Column = new Array(rows).fill(null);
      const { predictions, predictionsFrom } = trace;
      if (view === null || predictions === null) return column;
      const steps = Math.floor(predictions.length / view.outputs);
      for (let n = 0; n < steps && predictionsFrom + n < rows; n++) {
        column[predictionsFrom + n] = predictions[n * view.outputs + view.output];
      }
      return column;
    });
  return [...columns, ...added] as Columns;
}

/**
 * The error chart's columns with each overlay's training error (and validation error) after them;
 * the epochs run to the longest of all, the others' columns padded with gaps.
 */
export function withOverlayErrors(columns: Columns, overlays: OverlayTrace[], withValidation: boolean): Columns {
  const epochs = Math.max(
    columns[0].length,
    ...overlays.map((o) => Math.max(o.trace.losses.length, lastEpoch(o.trace.validation))),
  );
  const xs = Array.from({ length: epochs }, (_, i) => i + 1);
  const padded = columns.slice(1).map((column) => [...column, ...new Array<null>(epochs - column.length).fill(null)]);
  const added = overlays.flatMap(({ trace, scale }): Column[] => {
    const losses = xs.map((_, i) => (i < trace.losses.length ? trace.losses[i] * scale.train : null));
    if (!withValidation) return [losses];
    const byEpoch = new Map(trace.validation.map((v) => [v.epoch, v.loss * scale.validation]));
    return [losses, xs.map((x) => byEpoch.get(x) ?? null)];
  });
  return [xs, ...padded, ...added];
}
