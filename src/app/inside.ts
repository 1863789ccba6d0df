// What the Inside view asks of a run at a report, and what comes back: the probe (src/model/probe.ts)
// of the window under the pointer on the series chart, and summaries over a bounded sample of the
// held-out windows (saturation per gate unit, dead units, connectivity per lag beside the AR
// baseline's). It runs where the backend lives (the CPU worker, or the page for WebGPU) and only when
// the view is open; it touches no DOM.
//
// Legend: R = rows, T = window, L = the transform's lag, I = input columns, O = output columns,
// H = hidden size of a layer, W = windows probed (the chosen one, then up to MAX_INSIDE_WINDOWS held out).

import type { Backend } from '../backends/backend.js';
import type { Dataset } from '../data/dataset.js';
import type { PreparedData } from '../data/prepare.js';
import { windowInputs } from '../forecast/inside.js';
import type { ParamLayout } from '../model/layout.js';
import type { WindowProbe } from '../model/probe.js';
import { probeReference } from '../model/probeReference.js';
import { type InsideSummary, summarizeInside } from './insideSummary.js';

export type { GateSaturation } from './insideSummary.js';

/**
 * The most held-out windows a report probes: enough for the saturation and the connectivity to settle,
 * few enough that a probe costs a small part of a report interval at the blog's settings.
 */
export const MAX_INSIDE_WINDOWS = 16;

/**
 * The share of a run's wall time that probes may take: with the Inside view open, a report whose probe
 * would exceed it skips its probe (the view keeps the last), so training slows by about this at most,
 * whatever the model's size and the machine.
 */
export const INSIDE_SHARE = 0.08;

/** What the page asks for while the Inside view is open: the target row of the window to probe. */
export interface InsideRequest {
  /** The row whose one-step-ahead prediction the window makes (L + T .. R - 1; clamped); null: the last. */
  row: number | null;
}

/** What the Inside view draws at a report. */
export interface InsideReport extends InsideSummary {
  /** The probed window's target row (after clamping). */
  row: number;
  /** Its gates, states and connectivity. */
  window: WindowProbe;
  /** T, the steps of a window (the heatmaps' columns). */
  steps: number;
  /** Held-out windows summarised, and which part they came from. */
  windows: number;
  part: 'test' | 'validation' | 'train';
  /** Milliseconds the probe and the summaries took. */
  ms: number;
}

/**
 * A run's probes, one a report while the view is open: the chosen window every time (one window costs
 * little), the held-out sample only while the probes so far stay within INSIDE_SHARE of the run's wall
 * time; a report without it carries the last summaries (and the last report always takes it).
 */
export class InsideProbes {
  private readonly began: number;
  private spentMs = 0;
  private summarized: InsideReport | null = null;

  /** `now` is the wall clock in ms (a test stops it). */
  constructor(
    private readonly asked: (() => InsideRequest | null) | undefined,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.began = now();
  }

  /** The report at a run's report (the backend holds its weights), or null while the view is closed. */
  async take(backend: Backend, prepared: PreparedData, last: boolean): Promise<InsideReport | null> {
    const request = this.asked?.() ?? null;
    if (request === null) return null;
    const rest = this.now() - this.began - this.spentMs;
    const within = this.spentMs <= INSIDE_SHARE * rest;
    const summarized = last || within || this.summarized === null ? null : this.summarized;
    const report = await insideProbe(backend, prepared, request, summarized);
    this.spentMs += report.ms;
    if (summarized === null) this.summarized = report;
    return report;
  }
}

/** The first and last target rows a window can be cut for: L + T .. R - 1. */
export function windowRows(prepared: PreparedData): { first: number; last: number } {
  return { first: prepared.transform.lag + prepared.train.window, last: prepared.table.rows - 1 };
}

/** The window that predicts row `row` as the network reads it: rows row-T..row-1. (T, I) */
export function windowBefore(prepared: PreparedData, row: number): Float32Array {
  return windowInputs(prepared, row - prepared.transform.lag - prepared.train.window);
}

/** The held-out windows (the test part, else validation, else the training windows) and their part. */
function heldOut(prepared: PreparedData): { data: Dataset; part: InsideReport['part'] } {
  if (prepared.test !== null) return { data: prepared.test, part: 'test' };
  if (prepared.validation !== null) return { data: prepared.validation, part: 'validation' };
  return { data: prepared.train, part: 'train' };
}

/** Indices of up to `most` of `count` windows, evenly spread, first and last included. */
export function spreadIndices(count: number, most: number): number[] {
  if (count <= most) return Array.from({ length: count }, (_, i) => i);
  return Array.from({ length: most }, (_, k) => Math.round((k * (count - 1)) / (most - 1)));
}

/** The windows to probe, W of them: the chosen one first, then the held-out sample. (W, T, I) */
export function insideWindows(
  prepared: PreparedData,
  row: number | null,
  most = MAX_INSIDE_WINDOWS,
): { x: Float32Array; count: number; row: number } {
  const { first, last } = windowRows(prepared);
  const chosen = row === null ? last : Math.min(last, Math.max(first, Math.round(row)));
  const { data } = heldOut(prepared);
  const picks = spreadIndices(data.count, most);
  const size = data.window * data.inputSize;
  const x = new Float32Array((picks.length + 1) * size);
  x.set(windowBefore(prepared, chosen), 0);
  picks.forEach((n, k) => {
    x.set(data.x.subarray(n * size, (n + 1) * size), (k + 1) * size);
  });
  return { x, count: picks.length + 1, row: chosen };
}

/**
 * The report of `probes` (the chosen window at `row`, then the held-out sample), timed from `began`;
 * with `summarized` (an earlier report) the probes are the chosen window's alone, and its summaries stand.
 */
function reportOf(
  prepared: PreparedData,
  probes: WindowProbe[],
  row: number,
  summarized: InsideReport | null,
  began: number,
): InsideReport {
  if (summarized !== null) return { ...summarized, row, window: probes[0], ms: performance.now() - began };
  const rest = probes.slice(1);
  return {
    row,
    window: probes[0],
    steps: prepared.train.window,
    windows: rest.length,
    part: heldOut(prepared).part,
    ...summarizeInside(rest, prepared),
    ms: performance.now() - began,
  };
}

/**
 * The report at one of a run's reports, by the backend's own probe (its current weights), in the
 * thread that owns it: the chosen window and the held-out sample, or with `summarized` (an earlier
 * report) the chosen window alone and its summaries.
 */
export async function insideProbe(
  backend: Backend,
  prepared: PreparedData,
  request: InsideRequest,
  summarized: InsideReport | null = null,
): Promise<InsideReport> {
  const began = performance.now();
  const { x, count, row } = insideWindows(prepared, request.row, summarized === null ? MAX_INSIDE_WINDOWS : 0);
  return reportOf(prepared, await backend.probe(x, count), row, summarized, began);
}

/**
 * The report for `request` taken on this thread with the float64 reference (after a run, when no
 * backend is left): with `summarized` (the run's last report) the chosen window only, so a pointer
 * moving over the chart costs one window each time.
 */
export function localInside(
  prepared: PreparedData,
  layout: ParamLayout,
  params: Float32Array,
  request: InsideRequest,
  summarized: InsideReport | null = null,
): InsideReport {
  const began = performance.now();
  const { x, count, row } = insideWindows(prepared, request.row, summarized === null ? MAX_INSIDE_WINDOWS : 0);
  return reportOf(prepared, probeReference(layout, params, x, count), row, summarized, began);
}
