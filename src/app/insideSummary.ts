// What the Inside view says about probes of many windows, in the shape it draws: the summaries are
// src/forecast/inside.ts's (saturation per gate unit, dead units, connectivity per lag, the AR
// baseline's on the same scale, the reliance sentence), the same that `inspect` prints; here they are
// only brought to one number per lag (summed over the inputs, averaged over the outputs) and named.
//
// Legend: T = window, I = inputs, O = outputs, H = hidden size of a layer.

import type { PreparedData } from '../data/prepare.js';
import {
  deadUnits,
  type GateSaturation,
  type LagConnectivity,
  lagConnectivity,
  lagTotals,
  preparedArConnectivity,
  reliance,
  saturation,
} from '../forecast/inside.js';
import type { WindowProbe } from '../model/probe.js';
import { capitalize, sentence } from '../util/text.js';

export type { GateSaturation } from '../forecast/inside.js';

/** What the Inside view says about the held-out windows. */
export interface InsideSummary {
  /** Every gate of every layer, layers in order. */
  saturation: GateSaturation[];
  /** Units whose hidden output never changes over the windows ("layer 1 unit 4"). */
  dead: string[];
  /** (T) mean |d prediction / d input| over the windows, summed over the inputs, averaged over the outputs; lag 1 first. */
  connectivity: Float64Array;
  /** (T) the AR baseline's |coefficients| alike, in the network's normalized units; null without an AR fit. */
  autoregression: Float64Array | null;
  /** "The model relies mostly on the last 2 values (87% of its connectivity); the AR baseline …" */
  sentence: string;
}

/** (T) one number per lag: each output's per-lag total over the inputs, averaged over the outputs. */
export function perLag(byOutput: LagConnectivity, T: number): Float64Array {
  const out = new Float64Array(T);
  for (const byLag of byOutput) {
    lagTotals(byLag).forEach((total, lag) => {
      out[lag] += total / byOutput.length;
    });
  }
  return out;
}

/** The AR baseline's connectivity per prepared data: a run's reports all compare against the same one. */
const fits = new WeakMap<PreparedData, Float64Array | null>();

/** (T) the AR baseline's connectivity per lag in the network's units, or null where there is no fit. */
export function autoregressionByLag(prepared: PreparedData): Float64Array | null {
  if (!fits.has(prepared)) {
    const ar = preparedArConnectivity(prepared);
    fits.set(prepared, typeof ar === 'string' ? null : perLag(ar, prepared.train.window));
  }
  return fits.get(prepared) ?? null;
}

/** Every summary of `probes` (held-out windows) for the Inside view. */
export function summarizeInside(probes: WindowProbe[], prepared: PreparedData): InsideSummary {
  const T = prepared.train.window;
  const connectivity = perLag(lagConnectivity(probes, T, prepared.train.inputSize), T);
  const autoregression = autoregressionByLag(prepared);
  const model = reliance(Array.from(connectivity)).sentence;
  const ar = autoregression === null ? '' : `; ${reliance(Array.from(autoregression), 'the AR baseline').sentence}`;
  return {
    saturation: saturation(probes, T),
    dead: deadUnits(probes, T).map(({ layer, unit }) => `layer ${layer + 1} unit ${unit + 1}`),
    connectivity,
    autoregression,
    sentence: sentence(capitalize(`${model}${ar}`)),
  };
}
