// Prediction intervals at a level (80, 95: percent) for forecasts from every origin, by two methods,
// and how well they hold on data they did not see.
//   ensemble        the members' forecasts at each step, their quantiles (1 - p)/2 and (1 + p)/2, linear
//                   between order statistics (R's type 7, numpy's default): Hyndman & Fan 1996
//   split conformal per step h: the scores are |y - ŷ| of forecasts made h steps ahead on calibration
//                   rows that precede the evaluated part (the validation part, or earlier folds); the
//                   half width q_h is the k-th smallest of those n_h scores, k = ⌈(n_h + 1) p⌉ (Lei,
//                   G'Sell, Rinaldo, Tibshirani & Wasserman 2018, "Distribution-free predictive
//                   inference for regression", JASA 113(523)); the interval is ŷ ± q_h. With k > n_h
//                   no finite interval is valid at that level, and the step says so.
// Scored on the evaluated part, per step and pooled, beside the nominal level p:
//   coverage  = 100 · share of pairs with l <= y <= u                                     (percent)
//   margin    = 100 · 1.96 · sqrt(p (1 - p) / N_h): the binomial Monte-Carlo margin at 95% of a coverage
//               measured on N_h points when the intervals are exactly right         (percentage points)
//   width     = mean of u - l, in the data's units
//   MSIS      = mean of [(u - l) + (2/a)(l - y)·1{y < l} + (2/a)(y - u)·1{y > u}] / scale_o,  a = 1 - p
//               (M4's mean scaled interval score; scale_o as MASE's: horizons.ts maseScale)
// Pairs at adjacent origins share rows, so they are not independent: the margin is what N_h
// independent points would give, a floor on the real one.
//
// Legend: H = the horizon in steps, K = ensemble members, N = origins, p = level / 100.

import type { RowRange } from '../data/windows.js';
import { describeValue, InputError } from '../model/errors.js';
import {
  type EvaluationPart,
  forEachPair,
  forEachStepInside,
  known,
  type Metric,
  maseScales,
  nothingToScore,
  type OriginForecast,
  unknown,
} from './horizons.js';

/** The bounds at one origin for rows origin .. origin+H-1; NaN at a step without an interval. */
export interface OriginInterval {
  origin: number;
  /** (H) */
  lower: Float64Array;
  /** (H) */
  upper: Float64Array;
}

export interface IntervalSet {
  /** Percent, 1 < level < 100. */
  level: number;
  /** In origin order. (N) */
  intervals: OriginInterval[];
  /** Per step, why there is no interval there (too few calibration forecasts), or null. (H) */
  unavailable: (string | null)[];
}

export interface IntervalRow {
  /** Steps ahead, 1..H; 0 for the row that pools every step. */
  horizon: number;
  /** Pairs scored. */
  count: number;
  /** The level asked for, in percent. */
  nominal: number;
  /** Percent of pairs inside their interval. */
  coverage: Metric;
  /** The 95% Monte-Carlo margin of `coverage` for `count` points, in percentage points. */
  margin: Metric;
  /** Mean u - l in the data's units. */
  width: Metric;
  msis: Metric;
}

export interface IntervalTable {
  /** (H) */
  steps: IntervalRow[];
  overall: IntervalRow;
}

/**
 * Throws an InputError on `field` unless `level` is a percentage above 1 and below 100: a level of 1
 * or less is far more likely a probability (0.95) than a 0.95% interval.
 */
export function checkLevel(level: unknown, field = 'level'): asserts level is number {
  if (typeof level !== 'number' || !(level > 1 && level < 100)) {
    const hint =
      typeof level === 'number' && level > 0 && level <= 1
        ? ` (in percent: ${Number((level * 100).toPrecision(12))} for ${level})`
        : '';
    throw new InputError(
      field,
      `expected a percentage above 1 and below 100 (80, 95), got ${describeValue(level)}${hint}`,
    );
  }
}

/** The `probability` quantile of ascending `sorted` values (at least one), linear between order statistics. */
export function quantile(sorted: ArrayLike<number>, probability: number): number {
  const position = (sorted.length - 1) * probability;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
}

/**
 * The ensemble's interval at each origin: `members` holds each member's forecasts from the same
 * origins, (K)(N)(H).
 */
export function ensembleIntervals(members: readonly (readonly OriginForecast[])[], level: number): IntervalSet {
  checkLevel(level);
  if (members.length < 1) throw new InputError('members', 'an ensemble interval needs at least one member');
  const p = level / 100;
  const first = members[0];
  const intervals = first.map(({ origin, forecast }, n): OriginInterval => {
    const H = forecast.length;
    const lower = new Float64Array(H);
    const upper = new Float64Array(H);
    const values = new Float64Array(members.length);
    for (let h = 0; h < H; h++) {
      members.forEach((member, k) => {
        if (member[n]?.origin !== origin || member[n].forecast.length !== H) {
          throw new RangeError(`member ${k} has no forecast of ${H} steps from row ${origin + 1}`);
        }
        values[k] = member[n].forecast[h];
      });
      values.sort();
      lower[h] = quantile(values, (1 - p) / 2);
      upper[h] = quantile(values, (1 + p) / 2);
    }
    return { origin, lower, upper };
  });
  const H = first.length === 0 ? 0 : first[0].forecast.length;
  return { level, intervals, unavailable: new Array(H).fill(null) };
}

/**
 * Split conformal calibration: for each step h, |y - ŷ| of `forecasts` whose row h steps ahead lies in
 * `calibration` (rows that precede the evaluated part). (H)(n_h)
 */
export function calibrationScores(
  series: ArrayLike<number>,
  calibration: RowRange,
  forecasts: readonly OriginForecast[],
  horizon: number,
): Float64Array[] {
  const scores: number[][] = Array.from({ length: horizon }, () => []);
  forEachPair(series, calibration, forecasts, ({ step, actual, forecast }) => {
    if (step <= horizon) scores[step - 1].push(Math.abs(actual - forecast));
  });
  return scores.map((list) => Float64Array.from(list));
}

/** k = ⌈(n + 1) p⌉ for `level` in percent, immune to the level's rounding (95 % of 20 is 19, not 19.000…04). */
function conformalRank(count: number, level: number): number {
  return Math.ceil(((count + 1) * level) / 100 - 1e-9);
}

/** The fewest calibration scores for which split conformal gives a finite interval at `level`. */
export function fewestCalibrationScores(level: number): number {
  checkLevel(level);
  let n = 1;
  while (conformalRank(n, level) > n) n++;
  return n;
}

/** "an" before a number read with a vowel sound (8, 11, 18, 80, 85.5), else "a". */
function article(level: number): string {
  return /^(8|11(\.|$)|18(\.|$))/.test(String(level)) ? 'an' : 'a';
}

/** The split conformal half width: the ⌈(n + 1) p⌉-th smallest score, or why there is none. */
export function conformalHalfWidth(scores: ArrayLike<number>, level: number, step = 1): Metric {
  checkLevel(level);
  const n = scores.length;
  const ahead = `${step} step${step > 1 ? 's' : ''} ahead`;
  if (n === 0) return unknown(`no calibration forecast reaches a row ${ahead}`);
  const k = conformalRank(n, level);
  if (k > n) {
    return unknown(
      `${article(level)} ${level}% split conformal interval needs at least ${fewestCalibrationScores(level)} calibration forecasts ${ahead}, and there ${n === 1 ? 'is 1' : `are ${n}`}`,
    );
  }
  const sorted = Float64Array.from(scores).sort();
  return known(sorted[k - 1]);
}

/** ŷ ± q_h at every origin, q_h from each step's calibration `scores`. */
export function conformalIntervals(
  forecasts: readonly OriginForecast[],
  scores: readonly ArrayLike<number>[],
  level: number,
): IntervalSet {
  checkLevel(level);
  const halfWidths = scores.map((list, h) => conformalHalfWidth(list, level, h + 1));
  const intervals = forecasts.map(({ origin, forecast }): OriginInterval => {
    if (forecast.length !== halfWidths.length) {
      throw new RangeError(
        `the forecast from row ${origin + 1} has ${forecast.length} steps, the scores ${halfWidths.length}`,
      );
    }
    const width = (h: number) => halfWidths[h].value ?? Number.NaN;
    return {
      origin,
      lower: forecast.map((value, h) => value - width(h)),
      upper: forecast.map((value, h) => value + width(h)),
    };
  });
  return { level, intervals, unavailable: halfWidths.map((q) => q.reason) };
}

/** 100 · 1.96 · sqrt(p (1 - p) / count): the 95% margin of a coverage measured on `count` points. */
export function coverageMargin(level: number, count: number): number {
  const p = level / 100;
  return 100 * 1.96 * Math.sqrt((p * (1 - p)) / count);
}

class IntervalAccumulator {
  count = 0;
  inside = 0;
  width = 0;
  score = 0;
  noScale: string | null = null;
  unavailable: string | null = null;

  add(actual: number, lower: number, upper: number, alpha: number, scale: Metric, unavailable: string | null): void {
    this.count += 1;
    if (Number.isNaN(lower) || Number.isNaN(upper)) {
      this.unavailable ??= unavailable ?? 'no interval at this step';
      return;
    }
    if (actual >= lower && actual <= upper) this.inside += 1;
    const width = upper - lower;
    this.width += width;
    const penalty =
      actual < lower ? (2 / alpha) * (lower - actual) : actual > upper ? (2 / alpha) * (actual - upper) : 0;
    if (scale.value === null) this.noScale ??= scale.reason;
    else this.score += (width + penalty) / scale.value;
  }

  row(horizon: number, level: number): IntervalRow {
    const n = this.count;
    const none = (reason: string): IntervalRow => {
      const all = unknown(reason);
      return { horizon, count: n, nominal: level, coverage: all, margin: all, width: all, msis: all };
    };
    if (n === 0) return none(nothingToScore(horizon));
    if (this.unavailable !== null) return none(this.unavailable);
    return {
      horizon,
      count: n,
      nominal: level,
      coverage: known((100 * this.inside) / n),
      margin: known(coverageMargin(level, n)),
      width: known(this.width / n),
      msis: this.noScale === null ? known(this.score / n) : unknown(this.noScale),
    };
  }
}

/** Coverage (with its margin), mean width and MSIS of `set` on the part's rows, per step and pooled. */
export function intervalTable(part: EvaluationPart, set: IntervalSet): IntervalTable {
  checkLevel(set.level);
  const { series, targets, season } = part;
  const H = set.unavailable.length;
  const alpha = 1 - set.level / 100;
  const steps = Array.from({ length: H }, () => new IntervalAccumulator());
  const all = new IntervalAccumulator();
  const scaleAt = maseScales(series, season);
  for (const { origin, lower, upper } of set.intervals) {
    forEachStepInside(targets, origin, lower.length, (step, row) => {
      const scale = scaleAt(origin);
      const bounds = [series[row], lower[step - 1], upper[step - 1]] as const;
      const unavailable = set.unavailable[step - 1];
      steps[step - 1].add(...bounds, alpha, scale, unavailable);
      all.add(...bounds, alpha, scale, unavailable);
    });
  }
  return { steps: steps.map((s, h) => s.row(h + 1, set.level)), overall: all.row(0, set.level) };
}
