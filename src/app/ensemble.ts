// What a population's run (the Members field above 1) brings to the page at each report, and how the
// members' values become the ensemble's: at every point their median, and a band from their 10% to
// their 90% quantile (the predictions and forecasts) or from least to greatest (the errors). Pure
// functions, no DOM: the worker (or the page, for WebGPU) computes them once per report.
//
// Legend: K = members, N = values of one member's array (rows × output columns), E = epochs.

/** The lower and upper quantiles of the band the series chart draws. */
export const BAND_QUANTILES = [0.1, 0.9] as const;

/**
 * Each member's own arrays go to the page (for showing one alone) while K × their values stay within
 * this; beyond it the page has the median and the band only.
 */
export const MEMBER_VALUES_LIMIT = 2 ** 22;

/** One member's arrays as a snapshot has them. */
export interface MemberValues {
  /** (N, O) one-step predictions, levels. */
  predictions: Float32Array;
  /** (S, O) the free-running forecast into the held-out part; null when the outputs are not the inputs. */
  forecast: Float32Array | null;
  /** (H, O) the forecast past the end; null as forecast. */
  future: Float32Array | null;
}

export interface EnsembleSnapshot {
  /** K */
  members: number;
  /** Each member's seed: seed, seed + 1, …. */
  seeds: number[];
  /** The members' 10% quantile at every point, and their 90%. */
  low: MemberValues;
  high: MemberValues;
  /** Least and greatest of the members' errors at each epoch since the previous snapshot. */
  newLossMin: number[];
  newLossMax: number[];
  /** Least and greatest of the members' validation errors at every report so far. */
  validationMin: EpochLoss[];
  validationMax: EpochLoss[];
  /** Each member's arrays and errors, or null where K × values exceed MEMBER_VALUES_LIMIT. */
  each: {
    values: MemberValues[];
    /** (K) each member's errors since the previous snapshot. */
    newLosses: number[][];
    /** (K) each member's validation errors so far. */
    validationLosses: EpochLoss[][];
  } | null;
  /** Members that diverged (each stopped alone, its last good weights kept). */
  diverged: number;
}

export interface EpochLoss {
  epoch: number;
  loss: number;
}

/** The q-quantile of `sorted` (ascending), linear between order statistics (numpy's default). */
export function quantileOfSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const at = q * (n - 1);
  const below = Math.floor(at);
  const above = Math.min(n - 1, below + 1);
  return sorted[below] + (at - below) * (sorted[above] - sorted[below]);
}

/** At every point of K arrays of one length: their median, 10% and 90% quantiles. (N) each */
export function bandOf(arrays: readonly ArrayLike<number>[]): {
  median: Float32Array;
  low: Float32Array;
  high: Float32Array;
} {
  const K = arrays.length;
  const N = K === 0 ? 0 : arrays[0].length;
  const median = new Float32Array(N);
  const low = new Float32Array(N);
  const high = new Float32Array(N);
  const values = new Float64Array(K);
  for (let i = 0; i < N; i++) {
    for (let m = 0; m < K; m++) values[m] = arrays[m][i];
    values.sort();
    median[i] = quantileOfSorted(values, 0.5);
    low[i] = quantileOfSorted(values, BAND_QUANTILES[0]);
    high[i] = quantileOfSorted(values, BAND_QUANTILES[1]);
  }
  return { median, low, high };
}

/**
 * Per epoch from `from` (1-based) on, over the members that reached it: the median, least and
 * greatest error. Members that stopped early (diverged, out of patience) count until they stopped.
 */
export function lossesAcross(
  losses: readonly (readonly number[])[],
  from: number,
): { median: number[]; min: number[]; max: number[] } {
  const last = Math.max(0, ...losses.map((l) => l.length));
  const out = { median: [] as number[], min: [] as number[], max: [] as number[] };
  for (let epoch = from; epoch <= last; epoch++) {
    const values = losses.filter((l) => l.length >= epoch).map((l) => l[epoch - 1]);
    const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
    out.median.push(quantileOfSorted(sorted, 0.5));
    out.min.push(sorted.length === 0 ? Number.NaN : sorted[0]);
    out.max.push(sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]);
  }
  return out;
}

/** The validation errors of every member, epoch by epoch where any has one: median, least, greatest. */
export function validationAcross(members: readonly (readonly EpochLoss[])[]): {
  median: EpochLoss[];
  min: EpochLoss[];
  max: EpochLoss[];
} {
  const byEpoch = new Map<number, number[]>();
  for (const list of members) {
    for (const { epoch, loss } of list) {
      if (!Number.isFinite(loss)) continue;
      const values = byEpoch.get(epoch) ?? [];
      values.push(loss);
      byEpoch.set(epoch, values);
    }
  }
  const epochs = [...byEpoch.keys()].sort((a, b) => a - b);
  const pick = (f: (sorted: number[]) => number) =>
    epochs.map((epoch) => ({ epoch, loss: f((byEpoch.get(epoch) as number[]).sort((a, b) => a - b)) }));
  return {
    median: pick((s) => quantileOfSorted(s, 0.5)),
    min: pick((s) => s[0]),
    max: pick((s) => s[s.length - 1]),
  };
}
