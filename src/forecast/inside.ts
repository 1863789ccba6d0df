// What the probes (src/model/probe.ts) say about a model, in the few numbers the Inside view and
// `inspect` show: gate saturation per unit, dead units, and how far back the model looks
// (connectivity per lag, beside the AR baseline's coefficients on the same scale), with one sentence.
//
// Legend: W = probed windows, T = window, I = inputSize, H = hidden size of a layer, O = outputSize.
//
// Saturation (Karpathy, Johnson & Fei-Fei, "Visualizing and Understanding Recurrent Networks"): per
// gate unit, the fraction of its values over every probed window and step within the first tenth of
// the gate's range (left) and within the last tenth (right): < 0.1 and > 0.9 for the sigmoid gates
// (forget, input, output), < -0.8 and > 0.8 for the tanh candidate (range -1..1).
// A unit is dead when its hidden output spans less than DEAD_RANGE over every probed window and step.
// Connectivity per lag: the mean over the windows of |d out[o] / d x[t][i]|, lag 1 = the last step.
// The AR baseline's is |a[o][t][i]| rescaled to the normalized units the network reads.
// Reliance: the fewest most recent lags that hold at least RELIANCE_SHARE of the total connectivity
// (summed over the inputs). The data's windows are numbered k = 0.. in time order (windowInputs), as
// `inspect --window` and the app number them.

import { fitAutoregression, type LinearFit } from '../data/baselines.js';
import type { PreparedData } from '../data/prepare.js';
import type { WindowProbe } from '../model/probe.js';

export const GATE_NAMES = ['forget', 'input', 'candidate', 'output'] as const;
export type GateName = (typeof GATE_NAMES)[number];

/** Below left and above right count as saturated, per gate: a tenth of its range from each end. */
export const SATURATION_BOUNDS: Record<GateName, { left: number; right: number }> = {
  forget: { left: 0.1, right: 0.9 },
  input: { left: 0.1, right: 0.9 },
  candidate: { left: -0.8, right: 0.8 },
  output: { left: 0.1, right: 0.9 },
};

/** A unit whose hidden output moves less than this over every probed step is dead. */
export const DEAD_RANGE = 1e-6;

/** The share of the connectivity the lags named by `reliance` hold at least. */
export const RELIANCE_SHARE = 0.8;

export interface GateSaturation {
  layer: number;
  gate: GateName;
  /** Per unit, the fraction of probed steps in the gate's lowest tenth. (H) */
  left: number[];
  /** Per unit, the fraction of probed steps in the gate's highest tenth. (H) */
  right: number[];
}

export interface DeadUnit {
  layer: number;
  unit: number;
  /** The value its hidden output held (the mean over the probed steps). */
  value: number;
}

/** Per output: (T, I) mean |gradient|, lag 1 (the last step) first. */
export type LagConnectivity = number[][][];

export interface Reliance {
  /** The fewest most recent lags holding at least `share` of the total. */
  lags: number;
  /** The share those lags hold. */
  share: number;
  sentence: string;
}

function hiddenSizesOf(probes: WindowProbe[], T: number): number[] {
  return probes.length === 0 ? [] : probes[0].layers.map((layer) => layer.hidden.length / T);
}

/** Saturation of every gate of every layer over the probed windows, layers in order, gates in GATE_NAMES order. */
export function saturation(probes: WindowProbe[], window: number): GateSaturation[] {
  const out: GateSaturation[] = [];
  hiddenSizesOf(probes, window).forEach((H, layer) => {
    for (const gate of GATE_NAMES) {
      const { left: low, right: high } = SATURATION_BOUNDS[gate];
      const left = new Array<number>(H).fill(0);
      const right = new Array<number>(H).fill(0);
      for (const probe of probes) {
        const values = probe.layers[layer][gate];
        for (let at = 0; at < values.length; at++) {
          if (values[at] < low) left[at % H]++;
          else if (values[at] > high) right[at % H]++;
        }
      }
      const steps = probes.length * window;
      out.push({ layer, gate, left: left.map((n) => n / steps), right: right.map((n) => n / steps) });
    }
  });
  return out;
}

/** Units whose hidden output spans less than `range` over every probed window and step. */
export function deadUnits(probes: WindowProbe[], window: number, range = DEAD_RANGE): DeadUnit[] {
  const dead: DeadUnit[] = [];
  hiddenSizesOf(probes, window).forEach((H, layer) => {
    for (let unit = 0; unit < H; unit++) {
      let min = Infinity;
      let max = -Infinity;
      let sum = 0;
      for (const probe of probes) {
        const hidden = probe.layers[layer].hidden;
        for (let t = 0; t < window; t++) {
          const y = hidden[t * H + unit];
          min = Math.min(min, y);
          max = Math.max(max, y);
          sum += y;
        }
      }
      if (max - min < range) dead.push({ layer, unit, value: sum / (probes.length * window) });
    }
  });
  return dead;
}

/** The mean |d out[o] / d x| over the probed windows, per output, lag 1 first: (O)(T)(I). */
export function lagConnectivity(probes: WindowProbe[], window: number, inputSize: number): LagConnectivity {
  const T = window;
  const I = inputSize;
  const O = probes.length === 0 ? 0 : probes[0].connectivity.length / (T * I);
  return Array.from({ length: O }, (_, o) =>
    Array.from({ length: T }, (_, lag) =>
      Array.from({ length: I }, (_, i) => {
        let sum = 0;
        for (const probe of probes) sum += Math.abs(probe.connectivity[(o * T + T - 1 - lag) * I + i]);
        return sum / probes.length;
      }),
    ),
  );
}

/**
 * The AR baseline's |coefficients| in the network's units, per output, lag 1 first: (O)(T)(I).
 * AR fits transformed values z; the network reads (z - offset) / scale, so the coefficient of input i
 * for output o in its units is a * scale_i / scale_o (`inputScales` (I), `outputScales` (O)).
 */
export function arConnectivity(
  fit: LinearFit,
  window: number,
  inputScales: readonly number[],
  outputScales: readonly number[],
): LagConnectivity {
  const T = window;
  const I = inputScales.length;
  return fit.coefficients.map((a, o) =>
    Array.from({ length: T }, (_, lag) =>
      Array.from({ length: I }, (_, i) => (Math.abs(a[(T - 1 - lag) * I + i]) * inputScales[i]) / outputScales[o]),
    ),
  );
}

/** Per lag (lag 1 first), the sum over the inputs of one output's connectivity. (T) */
export function lagTotals(byLag: number[][]): number[] {
  return byLag.map((inputs) => inputs.reduce((sum, value) => sum + value, 0));
}

/**
 * The fewest most recent lags holding at least `share` of the total, and one sentence that says so:
 * "the model relies mostly on the last 2 values (87% of its connectivity)". `who` opens the sentence.
 */
export function reliance(totals: readonly number[], who = 'the model', share = RELIANCE_SHARE): Reliance {
  const total = totals.reduce((sum, value) => sum + value, 0);
  if (!(total > 0)) {
    return { lags: 0, share: 0, sentence: `${who} does not depend on its inputs (every gradient is 0)` };
  }
  let held = 0;
  let lags = 0;
  while (lags < totals.length && held < share * total) held += totals[lags++];
  const part = held / total;
  const percent = `${Math.round(100 * part)}% of its connectivity`;
  if (lags === totals.length && lags > 1) {
    return {
      lags,
      share: part,
      sentence: `${who} looks across its whole window: only all ${lags} values together hold ${Math.round(100 * share)}% of its connectivity`,
    };
  }
  const what = lags === 1 ? 'the last value' : `the last ${lags} values`;
  return { lags, share: part, sentence: `${who} relies mostly on ${what} (${percent})` };
}

/**
 * Window k of the data's windows as the network reads it (transformed, normalized), (T, I): rows
 * L + k .. L + k + T - 1 of the input columns (L the transform's lag), predicting row L + k + T.
 */
export function windowInputs(prepared: PreparedData, index: number): Float32Array {
  const T = prepared.train.window;
  const L = prepared.transform.lag;
  const { normalized, inputs } = prepared;
  const columns = inputs.map((name) => normalized.values[normalized.columns.indexOf(name)]);
  const I = columns.length;
  const x = new Float32Array(T * I);
  for (let t = 0; t < T; t++) for (let i = 0; i < I; i++) x[t * I + i] = columns[i][L + index + t];
  return x;
}

/** AR(T) fitted on the training windows (baselines.ts) as arConnectivity, or why it was not fitted. */
export function preparedArConnectivity(prepared: PreparedData): LagConnectivity | string {
  const fit = fitAutoregression(prepared);
  if (typeof fit === 'string') return fit;
  const { columns, scale } = prepared.normalization;
  const scales = (names: string[]) => names.map((name) => scale[columns.indexOf(name)]);
  return arConnectivity(fit, prepared.train.window, scales(prepared.inputs), scales(prepared.outputs));
}
