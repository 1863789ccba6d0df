// Chart data in uPlot's column form ([xs, ys1, ys2, ...], one shared x column, null where a series
// has no value), and the numbers the progress and timing panels show. Pure functions: the charts
// only draw what these return, and tests check them without a browser.
//
// Legend: P = points of the series, T = window, N = P - T samples, E = epochs reported so far.

import type { BackendName } from '../backends/backend.js';

export type Column = (number | null)[];
/** uPlot's AlignedData with a plain x column. */
export type Columns = [number[], ...Column[]];

/** What one backend has produced so far in a run. */
export interface BackendTrace {
  backend: BackendName;
  /** Per-epoch errors, epoch 1 first. (E) */
  losses: number[];
  /** One-step-ahead predictions on every window at the latest report, or null before the first. (N) */
  predictions: Float32Array | null;
  /** The free-running forecast from the first window at the latest report. (N) */
  forecast: Float32Array | null;
  /** Timing of each report interval. */
  timing: IntervalTiming[];
}

export interface IntervalTiming {
  /** The epoch the interval ends at. */
  epoch: number;
  msPerEpoch: number;
  stepsPerSecond: number;
}

export const BACKEND_LABEL: Record<BackendName, string> = { webgpu: 'WebGPU', cpu: 'CPU' };

/**
 * The series chart: x = the sine's argument, then the noisy data (P), then per backend its
 * predictions and its forecast, both aligned so value n sits at point T + n.
 */
export function seriesColumns(positions: Float32Array, series: Float32Array, window: number, traces: BackendTrace[]) {
  const xs = Array.from(positions);
  const columns: Columns = [xs, Array.from(series)];
  const align = (values: Float32Array | null): Column => {
    const column: Column = new Array(xs.length).fill(null);
    if (values !== null)
      for (let n = 0; n < values.length && window + n < xs.length; n++) column[window + n] = values[n];
    return column;
  };
  for (const trace of traces) columns.push(align(trace.predictions), align(trace.forecast));
  return columns;
}

/** The error chart: x = epoch 1..E (the longest run so far), one column per backend. */
export function errorColumns(traces: BackendTrace[]): Columns {
  const epochs = Math.max(0, ...traces.map((t) => t.losses.length));
  const xs = Array.from({ length: epochs }, (_, i) => i + 1);
  return [xs, ...traces.map((t) => xs.map((_, i) => (i < t.losses.length ? t.losses[i] : null)))];
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
