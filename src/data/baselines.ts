// The forecasts a model must beat, made for the same target rows as the model's and measured in the
// same units (metrics.ts). Each predicts a row's levels from the rows before it:
//   last value      ŷ[r] = y[r-1]                 (persistence: "next value = last value")
//   seasonal naive  ŷ[r] = y[r-m]                 (the row one seasonal period m before; needs a season)
//   AR(T)           ŷ[r] = toLevel(ẑ[r], y[r-L])  with ẑ[r] = c + Σ_{s,i} a_{s,i} · z_i[r-T+s]
// AR(T) is the model's linear twin: a least-squares fit with an intercept of each output's transformed
// value z (transform.ts) on the same T rows × I input columns of transformed values the model reads,
// over the training samples only (target rows L+T .. V-1), then inverted like the model's predictions.
//
// Legend: N = a part's target rows, O = output columns, I = input columns, T = window,
// F = T·I + 1 coefficients per output.

import type { PreparedData } from './prepare.js';
import { toLevel } from './transform.js';
import type { RowRange } from './windows.js';

export type BaselineKey = 'last-value' | 'seasonal-naive' | 'autoregression';

export interface Baseline {
  key: BaselineKey;
  /** "last value", "seasonal naive (12)", "AR(10)". */
  label: string;
  /** (N, O) level predictions for the part's target rows; null when it does not apply. */
  levels: Float64Array | null;
  /** Why it does not apply (no season, too few training windows), or null. */
  skipped: string | null;
}

/** Most coefficients and work (training windows × F²) the AR fit takes on: it is a baseline, not a model. */
export const AR_LIMITS = { coefficients: 257, work: 2e9 } as const;

/** Every baseline's predictions for `targets`, in a fixed order: last value, seasonal naive, AR(T). */
export function baselinePredictions(prepared: PreparedData, targets: RowRange, fit?: LinearFit | string): Baseline[] {
  const ar = fit ?? fitAutoregression(prepared);
  const T = prepared.train.window;
  return [
    { key: 'last-value', label: 'last value', levels: laggedLevels(prepared, targets, 1), skipped: null },
    seasonalNaive(prepared, targets),
    typeof ar === 'string'
      ? { key: 'autoregression', label: `AR(${T})`, levels: null, skipped: ar }
      : { key: 'autoregression', label: `AR(${T})`, levels: arLevels(prepared, ar, targets), skipped: null },
  ];
}

function seasonalNaive(prepared: PreparedData, targets: RowRange): Baseline {
  const { season } = prepared;
  const label = season === null ? 'seasonal naive' : `seasonal naive (${season})`;
  if (season === null) return { key: 'seasonal-naive', label, levels: null, skipped: 'no seasonal period' };
  if (targets.start - season < 0) {
    return { key: 'seasonal-naive', label, levels: null, skipped: `no row ${season} before row ${targets.start + 1}` };
  }
  return { key: 'seasonal-naive', label, levels: laggedLevels(prepared, targets, season), skipped: null };
}

/** ŷ[r] = y[r - lag] for every output. (N, O) */
function laggedLevels(prepared: PreparedData, targets: RowRange, lag: number): Float64Array {
  const O = prepared.outputs.length;
  const out = new Float64Array((targets.end - targets.start) * O);
  prepared.outputs.forEach((name, o) => {
    const column = prepared.table.values[prepared.table.columns.indexOf(name)];
    for (let r = targets.start; r < targets.end; r++) out[(r - targets.start) * O + o] = column[r - lag];
  });
  return out;
}

/** Least-squares coefficients per output: (O, F), the window's T·I values in time-major order, then the intercept. */
export interface LinearFit {
  coefficients: Float64Array[];
}

/** The transformed values a sample with target row r reads, time-major as the model reads them, then 1. (F) */
function features(prepared: PreparedData, row: number, out: Float64Array): Float64Array {
  const T = prepared.train.window;
  const { transformed, inputs } = prepared;
  const columns = inputs.map((name) => transformed.values[transformed.columns.indexOf(name)]);
  let p = 0;
  for (let s = 0; s < T; s++) for (const column of columns) out[p++] = column[row - T + s];
  out[p] = 1;
  return out;
}

/** AR(T) fitted on the training samples, or why it was not (too few windows, too much work). */
export function fitAutoregression(prepared: PreparedData): LinearFit | string {
  const T = prepared.train.window;
  const F = T * prepared.inputs.length + 1;
  const { start, end } = prepared.trainTargets;
  const count = end - start;
  if (F > AR_LIMITS.coefficients || count * F * F > AR_LIMITS.work) {
    return `${F} coefficients over ${count} training windows is more than a baseline fit takes on`;
  }
  if (count <= F) return `its ${F} coefficients need more than the ${count} training windows`;
  const { transformed } = prepared;
  const targets = prepared.outputs.map((name) => transformed.values[transformed.columns.indexOf(name)]);
  const solver = new LeastSquares(F, targets.length);
  const x = new Float64Array(F);
  const y = new Float64Array(targets.length);
  for (let r = start; r < end; r++) {
    features(prepared, r, x);
    targets.forEach((column, o) => {
      y[o] = column[r];
    });
    solver.add(x, y);
  }
  return { coefficients: solver.solve() };
}

/** AR(T)'s level predictions for `targets`. (N, O) */
function arLevels(prepared: PreparedData, fit: LinearFit, targets: RowRange): Float64Array {
  const O = prepared.outputs.length;
  const F = fit.coefficients[0].length;
  const x = new Float64Array(F);
  const out = new Float64Array((targets.end - targets.start) * O);
  const { kind, lag } = prepared.transform;
  for (let r = targets.start; r < targets.end; r++) {
    features(prepared, r, x);
    prepared.outputs.forEach((name, o) => {
      const a = fit.coefficients[o];
      let z = 0;
      for (let f = 0; f < F; f++) z += a[f] * x[f];
      const levels = prepared.table.values[prepared.table.columns.indexOf(name)];
      out[(r - targets.start) * O + o] = toLevel(kind, z, lag === 0 ? 0 : levels[r - lag]);
    });
  }
  return out;
}

/**
 * Least squares by Givens rotations, one row at a time: R (F, F) upper triangular and Qᵀy (O, F) are
 * all it keeps, so memory is F² whatever the rows, and the fit is as stable as a QR factorisation. A
 * column that depends on earlier ones (a constant series) gets coefficient 0.
 */
class LeastSquares {
  private readonly r: Float64Array; // (F, F)
  private readonly qty: Float64Array; // (O, F)

  constructor(
    private readonly size: number,
    private readonly outputs: number,
  ) {
    this.r = new Float64Array(size * size);
    this.qty = new Float64Array(outputs * size);
  }

  /** Adds a row x (F) with targets y (O); both are overwritten. */
  add(x: Float64Array, y: Float64Array): void {
    const F = this.size;
    for (let k = 0; k < F; k++) {
      if (x[k] === 0) continue;
      const diagonal = this.r[k * F + k];
      const h = Math.hypot(diagonal, x[k]);
      const c = diagonal / h;
      const s = x[k] / h;
      this.r[k * F + k] = h;
      for (let j = k + 1; j < F; j++) {
        const top = this.r[k * F + j];
        this.r[k * F + j] = c * top + s * x[j];
        x[j] = c * x[j] - s * top;
      }
      for (let o = 0; o < this.outputs; o++) {
        const top = this.qty[o * F + k];
        this.qty[o * F + k] = c * top + s * y[o];
        y[o] = c * y[o] - s * top;
      }
    }
  }

  /** The coefficients per output by back substitution. (O)(F) */
  solve(): Float64Array[] {
    const F = this.size;
    let largest = 0;
    for (let k = 0; k < F; k++) largest = Math.max(largest, Math.abs(this.r[k * F + k]));
    const tiny = largest * 1e-10;
    return Array.from({ length: this.outputs }, (_, o) => {
      const a = new Float64Array(F);
      for (let k = F - 1; k >= 0; k--) {
        const diagonal = this.r[k * F + k];
        if (Math.abs(diagonal) <= tiny) continue;
        let sum = this.qty[o * F + k];
        for (let j = k + 1; j < F; j++) sum -= this.r[k * F + j] * a[j];
        a[k] = sum / diagonal;
      }
      return a;
    });
  }
}
