// What the Inside view says about probes of many windows: each sigmoid gate's saturation per unit
// (Karpathy, Johnson & Fei-Fei: the fraction of steps below 0.1 and above 0.9), the units whose output
// never changes, and the connectivity per lag (Distill's "memorization in RNNs": the mean |gradient| of
// the prediction with respect to the input at each lag) beside the AR baseline's coefficients, brought
// to the network's normalized units, with one sentence.
//
// Legend: W = windows, T = window, I = inputs, O = outputs, H = hidden size of a layer.

import { fitAutoregression, type LinearFit } from '../data/baselines.js';
import type { PreparedData } from '../data/prepare.js';
import type { WindowProbe } from '../model/probe.js';

/** One gate's saturation over the held-out windows: per unit, the fraction of steps below 0.1 and above 0.9. */
export interface GateSaturation {
  layer: number;
  gate: 'forget' | 'input' | 'output';
  /** (H) */
  left: Float64Array;
  /** (H) */
  right: Float64Array;
}

/** What the Inside view says about the held-out windows. */
export interface InsideSummary {
  saturation: GateSaturation[];
  /** Units whose hidden output never changes over the windows ("layer 1 unit 4"). */
  dead: string[];
  /** (T) mean |d prediction / d input| over the windows, outputs and inputs; lag 1 (the last value) first. */
  connectivity: Float64Array;
  /** (T) the AR baseline's mean |coefficient| at each lag, in the network's normalized units; null without an AR fit. */
  autoregression: Float64Array | null;
  /** "The model relies mostly on the last 2 values (80% of its sensitivity)." */
  sentence: string;
}

/** A unit whose hidden output moves less than this over every step of every window is dead. */
export const DEAD_RANGE = 1e-3;
/** The share of the connectivity that "relies mostly on" counts. */
const MOSTLY = 0.8;

/** Per layer, each sigmoid gate's fraction of (window, step) values below 0.1 and above 0.9, per unit. */
export function saturationOf(probes: readonly WindowProbe[], T: number): GateSaturation[] {
  if (probes.length === 0) return [];
  const out: GateSaturation[] = [];
  probes[0].layers.forEach((first, layer) => {
    const H = first.hidden.length / T;
    for (const gate of ['forget', 'input', 'output'] as const) {
      const left = new Float64Array(H);
      const right = new Float64Array(H);
      for (const probe of probes) {
        const v = probe.layers[layer][gate];
        for (let k = 0; k < T * H; k++) {
          if (v[k] < 0.1) left[k % H]++;
          else if (v[k] > 0.9) right[k % H]++;
        }
      }
      const steps = probes.length * T;
      for (let j = 0; j < H; j++) {
        left[j] /= steps;
        right[j] /= steps;
      }
      out.push({ layer, gate, left, right });
    }
  });
  return out;
}

/** "layer 1 unit 4" for each unit whose hidden output stays within DEAD_RANGE over all windows and steps. */
export function deadUnits(probes: readonly WindowProbe[], T: number): string[] {
  if (probes.length === 0) return [];
  const dead: string[] = [];
  probes[0].layers.forEach((first, layer) => {
    const H = first.hidden.length / T;
    for (let j = 0; j < H; j++) {
      let low = Number.POSITIVE_INFINITY;
      let high = Number.NEGATIVE_INFINITY;
      for (const probe of probes) {
        const hidden = probe.layers[layer].hidden;
        for (let t = 0; t < T; t++) {
          low = Math.min(low, hidden[t * H + j]);
          high = Math.max(high, hidden[t * H + j]);
        }
      }
      if (high - low < DEAD_RANGE) dead.push(`layer ${layer + 1} unit ${j + 1}`);
    }
  });
  return dead;
}

/** (T) mean |d output / d input| at each lag, lag 1 first, over windows, outputs and inputs. */
export function connectivityByLag(probes: readonly WindowProbe[], T: number, I: number): Float64Array {
  const byLag = new Float64Array(T);
  let count = 0;
  for (const probe of probes) {
    const c = probe.connectivity;
    const O = c.length / (T * I);
    for (let o = 0; o < O; o++) {
      for (let t = 0; t < T; t++) for (let i = 0; i < I; i++) byLag[T - 1 - t] += Math.abs(c[(o * T + t) * I + i]);
    }
    count += O * I;
  }
  if (count > 0) for (let k = 0; k < T; k++) byLag[k] /= count;
  return byLag;
}

/**
 * (T) the AR baseline's mean |coefficient| at each lag, lag 1 first, scaled to the network's
 * normalized units (coefficient × input scale / output scale), or null where there is no fit.
 */
export function autoregressionByLag(prepared: PreparedData): Float64Array | null {
  if (!fits.has(prepared)) fits.set(prepared, fitAutoregression(prepared));
  const fit = fits.get(prepared)!;
  if (typeof fit === 'string') return null;
  const T = prepared.train.window;
  const { normalization, inputs, outputs } = prepared;
  const scaleOf = (name: string) => normalization.scale[normalization.columns.indexOf(name)] ?? 1;
  const byLag = new Float64Array(T);
  fit.coefficients.forEach((a, o) => {
    inputs.forEach((name, i) => {
      const factor = scaleOf(name) / scaleOf(outputs[o]);
      for (let t = 0; t < T; t++) byLag[T - 1 - t] += Math.abs(a[t * inputs.length + i] * factor);
    });
  });
  for (let k = 0; k < T; k++) byLag[k] /= outputs.length * inputs.length;
  return byLag;
}

/** The AR fit per prepared data: a run's reports all compare against the same one. */
const fits = new WeakMap<PreparedData, LinearFit | string>();

/** The fewest most recent lags that hold MOSTLY of the total. */
export function recentLags(byLag: ArrayLike<number>): number {
  let total = 0;
  for (let k = 0; k < byLag.length; k++) total += byLag[k];
  if (!(total > 0)) return byLag.length;
  let sum = 0;
  for (let k = 0; k < byLag.length; k++) {
    sum += byLag[k];
    if (sum >= MOSTLY * total) return k + 1;
  }
  return byLag.length;
}

function lagsPhrase(k: number, T: number): string {
  if (k >= T) return `the whole window of ${T}`;
  return k === 1 ? 'the last value' : `the last ${k} values`;
}

/** "The model relies mostly on the last 2 values (AR(10): the last 3)." */
export function connectivitySentence(model: Float64Array, autoregression: Float64Array | null): string {
  const T = model.length;
  const k = recentLags(model);
  const ar = autoregression === null ? '' : `; the AR baseline on ${lagsPhrase(recentLags(autoregression), T)}`;
  return `The model relies mostly on ${lagsPhrase(k, T)} (${Math.round(MOSTLY * 100)}% of its sensitivity)${ar}.`;
}

/** Every summary of `probes` (held-out windows) for the Inside view. */
export function summarizeInside(probes: WindowProbe[], prepared: PreparedData): InsideSummary {
  const T = prepared.train.window;
  const connectivity = connectivityByLag(probes, T, prepared.train.inputSize);
  const autoregression = autoregressionByLag(prepared);
  return {
    saturation: saturationOf(probes, T),
    dead: deadUnits(probes, T),
    connectivity,
    autoregression,
    sentence: connectivitySentence(connectivity, autoregression),
  };
}
