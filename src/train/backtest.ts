// A rolling-origin backtest: K folds over the last rows of a series, fold k fitted only on the rows
// before its origin (a run of those rows alone, run.ts's `rows`: its own normalization, transform,
// validation part and best epoch), its model's recursive H-step forecast from the origin scored per
// step beside the six benchmarks from the same origin (src/forecast/), and prediction intervals whose
// coverage is measured on the folds' held-out rows, which no interval saw. The folds, and each fold's
// seeds, are the members of one population: they train in the same work.
//
// Legend: K = folds, M = seeds per fold (member k·M + j is fold k's seed j), H = the horizon in steps,
// S = the step between origins, R = rows, T = window, I = input columns, O = output columns,
// N = origins a member forecasts from, V_k = fold k's first validation row.
//   o_k = R - H - (K - 1 - k)·S      the first row fold k forecasts; it trains on rows 0..o_k-1
// The step defaults to S = H: the folds' test windows [o_k, o_k + H) then tile the last K·H rows, so
// each held-out row is forecast by one fold only. The folds' errors are then on different rows (as
// independent as a backtest can make them, which the coverage margins assume), and all K·H held-out
// values count once (96 on a monthly series at 8 folds of 12). A smaller step (R's tsCV steps by one
// row) scores the same rows from several origins, at more folds' training for the same rows.
// Conformal calibration for fold k, per step h: |y - ŷ| on rows before o_k of the forecasts of folds
// j <= k from every origin of their validation parts [V_j, o_j), and of the earlier folds' (j < k)
// from their origins: every forecast made by then by a model that did not train on the row it is
// scored on, and none by a model that chose its epoch on rows after o_k. (Fold k's validation part
// alone has too few origins on short series: 12 on the S&P 500's 123 rows, and 95% needs 19 a step.)
// Coverage is measured on the folds whose intervals exist at every step, and the report names the
// others. With M > 1 the point forecast is the mean of the fold's seeds, and the ensemble interval
// the spread of their forecasts.

import { fitAutoregression } from '../data/baselines.js';
import type { Dataset } from '../data/dataset.js';
import type { PreparedData } from '../data/prepare.js';
import { Rng } from '../data/rng.js';
import { seasonFromDates } from '../data/season.js';
import { splitRows } from '../data/split.js';
import { targetTransform } from '../data/transform.js';
import { type ColumnTable, type RowRange, withFutureRows } from '../data/windows.js';
import { type BenchmarkTable, benchmarkBacktest } from '../forecast/backtest.js';
import { autoregressionModel, BENCHMARK_KEYS, type BenchmarkKey } from '../forecast/benchmarks.js';
import {
  type EvaluationPart,
  type HorizonTable,
  horizonTable,
  known,
  type OriginForecast,
} from '../forecast/horizons.js';
import {
  calibrationScores,
  conformalIntervals,
  coverageMargin,
  ensembleIntervals,
  type IntervalSet,
  type IntervalTable,
  intervalTable,
} from '../forecast/intervals.js';
import { InputError } from '../model/errors.js';
import { BACKTEST_SETTINGS } from '../settings/backtest.js';
import { formatValue, SAME_ERROR } from './evaluate.js';
import { feedbackProblem, inputFeed, recursiveForecasts } from './forecast.js';
import { consecutiveSeeds, ensembleMembers, meanLevels, memberStarts } from './members.js';
import {
  type MemberSpec,
  type OpenPopulation,
  type PopulationReport,
  type SharedTraining,
  trainPopulation,
} from './population.js';
import { type Run, type RunSettings, resolveDataSettings, sourceTable, startRun } from './run.js';
import type { TrainResult } from './trainer.js';

export interface BacktestSettings {
  /** The data and the model: a run's settings less what each fold sets itself. */
  run: Omit<RunSettings, 'seed' | 'dataSeed' | 'rows' | 'trainFraction'>;
  /** The data's seed and each fold's first member's; the other seeds follow it (members.ts). */
  seed: number;
  /** Seeds per fold (M); two or more give the ensemble's intervals. */
  members: number;
  folds: number;
  /** Steps ahead; null: 12 for monthly data, else 24, bounded by the data. */
  horizon: number | null;
  /** Rows between origins; null: the horizon. */
  step: number | null;
  /** Interval levels in percent. */
  levels: number[];
  training: SharedTraining & { learningRate: number };
}

export interface FoldPlan {
  /** (K) o_k, ascending. */
  origins: number[];
  horizon: number;
  step: number;
  /** Why the horizon is shorter than the default (the data bounds it), or null. */
  note: string | null;
}

export interface FoldMember {
  seed: number;
  /** The epoch whose weights forecast (the best on the validation part, or the last). */
  keptEpoch: number;
  epochs: number;
  stoppedEarly: number | null;
  /** The divergence's message, or null. */
  diverged: string | null;
  /** The weights that forecast. (P) */
  params: Float32Array;
}

export interface FoldResult {
  /** o_k: the first row forecast; the fold saw rows 0..origin-1 only. */
  origin: number;
  /** The origin's date where the data has dates, else null. */
  originDate: string | null;
  /** Rows the fold was fitted on (training and validation parts): o_k. */
  trainRows: number;
  validationRows: number;
  /** (M) empty when the model cannot forecast. */
  members: FoldMember[];
  /** The model's forecast from the origin (the mean of its ensemble's seeds'), levels; null when it cannot forecast. (H) */
  forecast: Float64Array | null;
  /** The forecast of each seed in the fold's ensemble (those that did not diverge; all where every one did). (M)(H) */
  memberForecasts: Float64Array[];
  /** The model's table on this fold's H rows; null when it cannot forecast. */
  model: HorizonTable | null;
  /** The six benchmarks from the same origin, in BENCHMARK_KEYS order. */
  benchmarks: BenchmarkTable[];
  /** Per step, how many calibration forecasts its conformal interval rests on. (H) */
  calibration: number[];
}

export interface BenchmarkSummary {
  key: BenchmarkKey;
  label: string;
  /** Pooled over the folds; null when the benchmark does not apply in some fold. */
  table: HorizonTable | null;
  skipped: string | null;
}

/** Folds where the model's MASE over the H steps is below the benchmark's, of those where both are known. */
export interface FoldWins {
  wins: number;
  folds: number;
}

export interface BacktestSummary {
  /** Per step and over all steps, pooled over the folds: each fold's one pair per step. */
  model: HorizonTable | null;
  benchmarks: BenchmarkSummary[];
  /** Per benchmark; null where the model or the benchmark has no MASE in any fold. */
  wins: Record<BenchmarkKey, FoldWins | null>;
  /** "Over 8 folds, 12-step MASE 0.61 against …" */
  sentence: string;
}

export type IntervalMethod = 'conformal' | 'ensemble';

export interface IntervalResult {
  level: number;
  method: IntervalMethod;
  /** Per step and pooled over the folds' held-out rows; null when the method has no intervals here. */
  table: IntervalTable | null;
  /** Why the method has no intervals here, or null. */
  skipped: string | null;
  /** The folds measured (1-based): those whose intervals exist at every step. */
  folds: number[];
  /** Which folds have no interval at some step, and why; null when every fold has them. */
  unmeasured: string | null;
  /** Whether the pooled coverage is within its margin of the level; null when it cannot be measured. */
  holds: boolean | null;
  sentence: string;
}

export interface BacktestResult {
  label: string;
  unit: string | null;
  /** The column scored: the first output. */
  column: string;
  rows: number;
  season: number | null;
  plan: FoldPlan;
  seeds: number[];
  /** Why the model has no forecasts (its inputs are not all outputs), or null. */
  modelSkipped: string | null;
  folds: FoldResult[];
  summary: BacktestSummary;
  intervals: IntervalResult[];
  /** Wall time: the population's training, the forecasts, everything. */
  seconds: { training: number; forecasting: number; total: number };
  /** Minibatch updates of every member together. */
  memberSteps: number;
}

/** o_k = R - H - (K - 1 - k)·S for k = 0..K-1. */
export function foldOrigins(rows: number, folds: number, horizon: number, step: number): number[] {
  return Array.from({ length: folds }, (_, k) => rows - horizon - (folds - 1 - k) * step);
}

/**
 * The fewest rows a fold can train on: a training part with `batch` windows (of `window` rows after
 * the transform's `lag`) and, with a validation share, a validation part of a row or more. Null when
 * not even `rows` rows are enough.
 */
export function smallestFoldRows(
  window: number,
  lag: number,
  validation: number,
  batch: number,
  rows: number,
): number | null {
  for (let r = window + lag + 1; r <= rows; r++) {
    try {
      const split = splitRows(r, window, { trainFraction: 1, validationFraction: validation, lag });
      if (split.trainTargets.end - split.trainTargets.start >= batch) return r;
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
    }
  }
  return null;
}

/** The horizon when none is asked for: a year of monthly data, else 24 steps. */
export function defaultHorizon(dates: readonly string[] | undefined): number {
  return seasonFromDates(dates)?.name === 'monthly' ? 12 : 24;
}

/**
 * The folds' origins for R rows when a fold needs at least `smallest` rows: the horizon asked for, or
 * the default one shortened until K folds fit; an InputError naming what to change when they do not.
 */
export function planFolds(
  rows: number,
  smallest: number,
  asked: Pick<BacktestSettings, 'folds' | 'horizon' | 'step'>,
  defaultSteps: number,
): FoldPlan {
  const { folds } = asked;
  const firstRows = (horizon: number) => rows - horizon - (folds - 1) * (asked.step ?? horizon);
  const plan = (horizon: number, note: string | null): FoldPlan => {
    const step = asked.step ?? horizon;
    return { origins: foldOrigins(rows, folds, horizon, step), horizon, step, note };
  };
  if (asked.horizon !== null) {
    if (firstRows(asked.horizon) >= smallest) return plan(asked.horizon, null);
    throw tooFewRows(rows, smallest, asked, asked.horizon, firstRows(asked.horizon));
  }
  for (let horizon = defaultSteps; horizon >= 1; horizon--) {
    if (firstRows(horizon) < smallest) continue;
    const note =
      horizon === defaultSteps
        ? null
        : `a horizon of ${horizon} steps, not ${defaultSteps}: ${folds} folds of ${defaultSteps} would leave the first fold ${firstRows(defaultSteps)} rows to train on, and a fold needs ${smallest}`;
    return plan(horizon, note);
  }
  throw tooFewRows(rows, smallest, asked, 1, firstRows(1));
}

function tooFewRows(
  rows: number,
  smallest: number,
  asked: Pick<BacktestSettings, 'folds' | 'step'>,
  horizon: number,
  first: number,
): InputError {
  const step = asked.step ?? horizon;
  const mostFolds = Math.floor((rows - smallest - horizon) / step) + 1;
  const fewer =
    mostFolds >= 1
      ? `use at most ${mostFolds} fold${mostFolds === 1 ? '' : 's'} of ${horizon} steps${asked.step === null ? '' : ` ${step} apart`}`
      : 'use a shorter window, a smaller batch or a longer series';
  return new InputError(
    asked.step === null || mostFolds >= 1 ? '--folds' : '--step',
    `${asked.folds} folds of ${horizon} steps, ${step} rows apart, leave the first fold ${Math.max(0, first)} of the ${rows} rows to train on, ` +
      `and a fold needs at least ${smallest} (a window, a batch of training windows and the validation part): ${fewer}`,
  );
}

/** Throws InputError, naming the option, unless the backtest's own settings are within their bounds. */
export function checkBacktestSettings(
  settings: Pick<BacktestSettings, 'folds' | 'horizon' | 'step' | 'levels' | 'members'>,
): void {
  const B = BACKTEST_SETTINGS;
  B.folds.check(settings.folds, '--folds');
  B.horizon.check(settings.horizon, '--horizon');
  B.step.check(settings.step, '--step');
  B.levels.check(settings.levels, '--levels');
  B.members.check(settings.members, '--members');
}

/** What a backtest tells as it goes: its plan before training, then the population's progress. */
export interface BacktestListeners {
  onPlan?: (plan: FoldPlan, data: { label: string; column: string; unit: string | null }) => void;
  onReport?: (report: PopulationReport) => void;
}

/**
 * Runs the backtest: plans the folds, trains them (and their seeds) as one population from `open`,
 * forecasts, scores and measures the intervals.
 */
export async function runBacktest(
  settings: BacktestSettings,
  open: OpenPopulation,
  listeners: BacktestListeners = {},
  now: () => number = () => performance.now(),
): Promise<BacktestResult> {
  const start = now();
  checkBacktestSettings(settings);
  const setup = setUpFolds(settings);
  listeners.onPlan?.(setup.plan, { label: setup.label, column: setup.column, unit: setup.unit });
  const { plan, runs, series, season } = setup;
  const seeds = consecutiveSeeds(settings.seed, settings.members);
  const skipped = feedbackProblem(runs[0].prepared);
  const trained =
    skipped === null ? await trainAndForecast(settings, setup, seeds, open, listeners.onReport, now) : untrained(runs);
  const folds = runs.map((run, k) => scoreFold(setup, run, k, trained, seeds));
  const part = heldOut(series, season, plan);
  const summary = summarise(part, folds, plan.horizon, skipped);
  const intervals = settings.levels.flatMap((level) => [
    conformalResult(setup, folds, trained, level, skipped),
    ensembleResult(setup, folds, level, settings.members, skipped),
  ]);
  return {
    label: setup.label,
    unit: setup.unit,
    column: setup.column,
    rows: series.length,
    season,
    plan,
    seeds,
    modelSkipped: skipped,
    folds,
    summary,
    intervals,
    seconds: { ...trained.seconds, total: (now() - start) / 1000 },
    memberSteps: trained.memberSteps,
  };
}

/** What the folds share: the whole series' scored column, the plan and each fold's run. */
interface FoldSetup {
  label: string;
  unit: string | null;
  column: string;
  /** The scored column's levels, every row. (R) */
  series: Float64Array;
  /** Every column in levels, every row and any future rows after them (known-ahead inputs are read here). */
  levels: ColumnTable;
  dates: string[] | null;
  season: number | null;
  plan: FoldPlan;
  /** (K) each fold's run on its rows before the origin, with the first seed. */
  runs: Run[];
  /** (K) the settings each fold's run was started from. */
  runSettings: RunSettings[];
}

function setUpFolds(settings: BacktestSettings): FoldSetup {
  const { table, label, unit } = sourceTable(settings.run.source, new Rng(settings.seed));
  const data = resolveDataSettings(settings.run, table);
  const { lag } = targetTransform(data.transform, data.season);
  const batch = settings.training.batchSize;
  const smallest = smallestFoldRows(settings.run.window, lag, data.validationFraction, batch, table.rows);
  if (smallest === null) {
    throw new InputError(
      '--window',
      `the ${table.rows} rows hold no fold: a fold needs a window of ${settings.run.window}, ${batch} training windows and the validation part; use a shorter window or a smaller batch`,
    );
  }
  const plan = planFolds(table.rows, smallest, settings, defaultHorizon(table.dates));
  const runSettings = plan.origins.map(
    (origin): RunSettings => ({
      ...settings.run,
      seed: settings.seed,
      rows: origin,
      trainFraction: 1,
      validationFraction: data.validationFraction,
      normalize: data.normalize,
      transform: data.transform,
      season: data.season ?? 'none',
      inputs: data.inputs,
      outputs: data.outputs,
    }),
  );
  const runs = runSettings.map((s) => startRun(s));
  const column = runs[0].prepared.outputs[0];
  return {
    label,
    unit,
    column,
    series: Float64Array.from(table.values[table.columns.indexOf(column)]),
    levels: settings.run.source.kind === 'table' ? withFutureRows(table, settings.run.source.future) : table,
    dates: table.dates ?? null,
    season: data.season,
    plan,
    runs,
    runSettings,
  };
}

/** Each member's forecasts: from its fold's origin, then from its fold's validation origins. */
interface Trained {
  /** (K·M) */
  results: TrainResult[];
  /** (K·M) the forecast from o_k. (H) */
  test: Float64Array[];
  /** (K) the mean of fold k's kept seeds from each validation origin. */
  validation: OriginForecast[][];
  /** (K) fold k's seeds in its ensemble (indices 0 … M-1): those that did not diverge, all where every one did. */
  kept: number[][];
  seconds: { training: number; forecasting: number };
  memberSteps: number;
}

function untrained(runs: Run[]): Trained {
  return {
    results: [],
    test: [],
    validation: runs.map(() => []),
    kept: runs.map(() => []),
    seconds: { training: 0, forecasting: 0 },
    memberSteps: 0,
  };
}

/** The folds' windows in one dataset, with each fold's range of it; null when no fold has any. */
function concatenate(parts: (Dataset | null)[]): { data: Dataset | null; ranges: { start: number; count: number }[] } {
  const present = parts.filter((d): d is Dataset => d !== null);
  const ranges: { start: number; count: number }[] = [];
  let start = 0;
  for (const part of parts) {
    const count = part?.count ?? 0;
    ranges.push({ start, count });
    start += count;
  }
  if (present.length === 0) return { data: null, ranges };
  const { window, inputSize, outputSize } = present[0];
  const x = new Float32Array(start * window * inputSize);
  const t = new Float32Array(start * outputSize);
  parts.forEach((part, k) => {
    if (part === null) return;
    x.set(part.x, ranges[k].start * window * inputSize);
    t.set(part.t, ranges[k].start * outputSize);
  });
  return { data: { count: start, window, inputSize, outputSize, x, t }, ranges };
}

async function trainAndForecast(
  settings: BacktestSettings,
  setup: FoldSetup,
  seeds: number[],
  open: OpenPopulation,
  onReport: ((report: PopulationReport) => void) | undefined,
  now: () => number,
): Promise<Trained> {
  const { runs, runSettings, plan } = setup;
  const M = seeds.length;
  const training = concatenate(runs.map((run) => run.prepared.train));
  const validation = concatenate(runs.map((run) => run.prepared.validation));
  const starts = runs.flatMap((run, k) => memberStarts(runSettings[k], run, seeds));
  const { learningRate, lrDecay, optimizer, loss, ...shared } = settings.training;
  const specs: MemberSpec[] = starts.map((memberStart, m) => ({
    rng: memberStart.rng.clone(),
    learningRate,
    lrDecay,
    optimizer,
    loss,
    training: training.ranges[Math.floor(m / M)],
    validation: validation.ranges[Math.floor(m / M)],
  }));
  const population = await open(runs[0].layout, specs.length, settings.training.batchSize);
  try {
    const trainingStart = now();
    starts.forEach((memberStart, m) => {
      population.setMemberParams(m, memberStart.params);
    });
    // A backtest scores forecasts and chooses epochs on validation: its folds' training errors are never read.
    const loop = trainPopulation(population, training.data as Dataset, specs, {
      ...shared,
      validation: validation.data,
      trainingError: false,
    });
    let next = await loop.next();
    while (!next.done) {
      onReport?.(next.value);
      next = await loop.next();
    }
    const forecastStart = now();
    // A known-ahead input is read from the whole series: its values after the origin are known then.
    const feeds = runs.map((run) => inputFeed(run.prepared, setup.levels));
    const members = runs.flatMap((run, k) =>
      seeds.map(() => ({
        prepared: run.prepared,
        origins: [plan.origins[k], ...validationOrigins(run.prepared)],
        feed: feeds[k],
      })),
    );
    const forecasts = await recursiveForecasts(population, members, plan.horizon);
    const results = next.value.members;
    const kept = runs.map((_, k) => ensembleMembers(results.slice(k * M, (k + 1) * M).map((r) => r.diverged !== null)));
    return {
      results,
      test: forecasts.map((own) => own[0].forecast),
      validation: kept.map((seedsKept, k) => meanForecasts(seedsKept.map((j) => forecasts[k * M + j].slice(1)))),
      kept,
      seconds: { training: (forecastStart - trainingStart) / 1000, forecasting: (now() - forecastStart) / 1000 },
      memberSteps: next.value.memberSteps,
    };
  } finally {
    await population.dispose();
  }
}

/** Every row of the validation part: the origins of the forecasts that calibrate the conformal intervals. */
function validationOrigins(prepared: PreparedData): number[] {
  if (prepared.validation === null) return [];
  const { start, end } = prepared.validationTargets;
  return Array.from({ length: end - start }, (_, i) => start + i);
}

/** The mean of the seeds' forecasts from each origin. (M)(N) → (N) */
function meanForecasts(seeds: OriginForecast[][]): OriginForecast[] {
  return seeds[0].map(({ origin }, n) => ({
    origin,
    forecast: meanLevels(seeds.map((own) => own[n].forecast)) as Float64Array,
  }));
}

/** The fold's H rows after its origin, in the whole series. */
function foldPart(setup: FoldSetup, origin: number): EvaluationPart {
  return { series: setup.series, targets: { start: origin, end: origin + setup.plan.horizon }, season: setup.season };
}

/** Every fold's held-out rows: from the first origin to the end. */
function heldOut(series: Float64Array, season: number | null, plan: FoldPlan): EvaluationPart {
  return { series, targets: { start: plan.origins[0], end: series.length }, season };
}

function scoreFold(setup: FoldSetup, run: Run, k: number, trained: Trained, seeds: number[]): FoldResult {
  const origin = setup.plan.origins[k];
  const { horizon } = setup.plan;
  const part = foldPart(setup, origin);
  const autoregression = autoregressionModel(run.prepared, fitAutoregression(run.prepared));
  const { benchmarks, naive2 } = benchmarkBacktest(part, horizon, { autoregression }, [origin]);
  const M = trained.results.length / setup.runs.length;
  const results = trained.results.slice(k * M, (k + 1) * M);
  // The fold's ensemble: its seeds that did not diverge (all where every one did).
  const memberForecasts = trained.kept[k].map((j) => trained.test[k * M + j]);
  const forecast = meanLevels(memberForecasts);
  const validationRows = run.prepared.validationTargets.end - run.prepared.validationTargets.start;
  return {
    origin,
    originDate: setup.dates?.[origin] ?? null,
    trainRows: origin,
    validationRows,
    members: results.map((result, j) => ({
      seed: seeds[j],
      keptEpoch: result.kept.epoch,
      epochs: result.epoch,
      stoppedEarly: result.stoppedEarly,
      diverged: result.diverged?.message ?? null,
      params: result.params,
    })),
    forecast,
    memberForecasts,
    model: forecast === null ? null : horizonTable(part, [{ origin, forecast }], naive2),
    benchmarks,
    calibration: calibration(setup, trained, k).map((scores) => scores.length),
  };
}

/**
 * Fold k's conformal calibration scores per step: |y - ŷ| of every forecast made by a fold j <= k
 * (from its validation origins, and for j < k from its origin) on rows before o_k. Each was made by a
 * model that never trained on the row it is scored on, and none looks at fold k's own rows. (H)(n_h)
 */
function calibration(setup: FoldSetup, trained: Trained, k: number): Float64Array[] {
  const { series, plan } = setup;
  const { horizon, origins } = plan;
  if (trained.test.length === 0) return Array.from({ length: horizon }, () => new Float64Array(0));
  const M = trained.test.length / origins.length;
  const earlier = origins.slice(0, k).map((origin, j) => ({
    origin,
    forecast: meanLevels(trained.kept[j].map((i) => trained.test[j * M + i])) as Float64Array,
  }));
  const forecasts = [...trained.validation.slice(0, k + 1).flat(), ...earlier];
  return calibrationScores(series, { start: 0, end: origins[k] }, forecasts, horizon);
}

function summarise(
  part: EvaluationPart,
  folds: FoldResult[],
  horizon: number,
  skipped: string | null,
): BacktestSummary {
  // A benchmark's pooled table needs its forecast in every fold; else the first fold's reason stands.
  const pooled = BENCHMARK_KEYS.map((_, b) => {
    const missing = folds.find((fold) => fold.benchmarks[b].forecasts === null);
    return missing === undefined
      ? { forecasts: folds.flatMap((fold) => fold.benchmarks[b].forecasts ?? []), skipped: null }
      : { forecasts: null, skipped: missing.benchmarks[b].skipped };
  });
  const naive2Forecasts = pooled[BENCHMARK_KEYS.indexOf('naive2')].forecasts;
  const naive2 = naive2Forecasts === null ? null : horizonTable(part, naive2Forecasts);
  const benchmarks = BENCHMARK_KEYS.map(
    (key, b): BenchmarkSummary => ({
      key,
      label: folds[0].benchmarks[b].label,
      table: pooled[b].forecasts === null ? null : horizonTable(part, pooled[b].forecasts, naive2),
      skipped: pooled[b].skipped,
    }),
  );
  const model =
    skipped === null
      ? horizonTable(
          part,
          folds.map((fold) => ({ origin: fold.origin, forecast: fold.forecast as Float64Array })),
          naive2,
        )
      : null;
  const wins = foldWins(folds);
  return {
    model,
    benchmarks,
    wins,
    sentence: backtestSentence(folds.length, horizon, model, benchmarks, wins, skipped),
  };
}

function foldWins(folds: FoldResult[]): Record<BenchmarkKey, FoldWins | null> {
  const out = {} as Record<BenchmarkKey, FoldWins | null>;
  BENCHMARK_KEYS.forEach((key, b) => {
    let wins = 0;
    let compared = 0;
    for (const fold of folds) {
      const mine = fold.model?.overall.mase.value ?? null;
      const theirs = fold.benchmarks[b].table?.overall.mase.value ?? null;
      if (mine === null || theirs === null) continue;
      compared += 1;
      if (mine < theirs) wins += 1;
    }
    out[key] = compared === 0 ? null : { wins, folds: compared };
  });
  return out;
}

/** Three significant digits, zeros kept (1.50 beside 0.847), for tables and sentences of measures. */
export function threeDigits(value: number): string {
  const abs = Math.abs(value);
  return abs >= 0.01 && abs < 999.5 ? value.toPrecision(3) : formatValue(value);
}

/** The benchmarks the sentence names, in this order. */
const SENTENCE_BENCHMARKS: readonly BenchmarkKey[] = ['last-value', 'naive2', 'theta'];
const SHORT_LABELS: Partial<Record<BenchmarkKey, string>> = { 'last-value': 'naive', naive2: 'Naive2', theta: 'Theta' };

/**
 * One sentence: the model's MASE over the H steps against naive, Naive2 and Theta, which of them it
 * beats on average, and how many folds it wins against Naive2 and Theta (a fold is won only where its
 * MASE is lower).
 */
export function backtestSentence(
  folds: number,
  horizon: number,
  model: HorizonTable | null,
  benchmarks: readonly BenchmarkSummary[],
  wins: Record<BenchmarkKey, FoldWins | null>,
  skipped: string | null,
): string {
  const tallies = (['naive2', 'theta'] as const).flatMap((key) => {
    const count = wins[key];
    return count === null ? [] : [`${count.wins} of ${count.folds} folds against ${SHORT_LABELS[key]}`];
  });
  const tally = tallies.length === 0 ? '' : `; it wins ${tallies.join(' and ')}`;
  return maseSentence(
    `Over ${folds} fold${folds === 1 ? '' : 's'}, ${horizon}-step MASE`,
    model,
    benchmarks,
    skipped,
    tally,
  );
}

/**
 * "<over> 0.321 against naive 1.50, Naive2 0.847 and Theta 0.646: better than all three on average
 * (OWA 0.379 against Naive2)<tally>.", or why the model has no MASE. `over` opens it ("Over 8 folds,
 * 12-step MASE"); the verdict is maseVerdict's, so a loss never reads as a win.
 */
export function maseSentence(
  over: string,
  model: HorizonTable | null,
  benchmarks: readonly Pick<BenchmarkSummary, 'key' | 'table'>[],
  skipped: string | null,
  tally = '',
): string {
  const named = SENTENCE_BENCHMARKS.map((key) => benchmarks.find((b) => b.key === key)!).filter(
    (b) => b.table?.overall.mase.value != null,
  );
  const list = (parts: string[]) =>
    parts.length <= 1 ? parts.join('') : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
  const theirs = list(named.map((b) => `${SHORT_LABELS[b.key]} ${threeDigits(b.table!.overall.mase.value!)}`));
  if (skipped !== null) return `${over}: the model has none (${skipped}); ${theirs}.`;
  const mine = model?.overall.mase;
  if (mine?.value == null) return `${over} cannot be computed for the model: ${mine?.reason ?? 'no forecasts'}.`;
  if (named.length === 0) return `${over} ${threeDigits(mine.value)}; no benchmark has a MASE to compare with.`;
  const verdict = maseVerdict(mine.value, named, list);
  const owa = model?.overall.owa.value;
  const versusNaive2 = owa == null ? '' : ` (OWA ${threeDigits(owa)} against Naive2)`;
  return `${over} ${threeDigits(mine.value)} against ${theirs}: ${verdict}${versusNaive2}${tally}.`;
}

/**
 * "better than all three on average", "as good as naive and Naive2, better than Theta on average":
 * MASEs within SAME_ERROR of each other read as equal, so a hair's difference is no win.
 */
function maseVerdict(
  mine: number,
  named: readonly Pick<BenchmarkSummary, 'key' | 'table'>[],
  list: (parts: string[]) => string,
): string {
  const groups = { better: [] as string[], same: [] as string[], worse: [] as string[] };
  for (const b of named) {
    const ratio = mine / (b.table?.overall.mase.value as number);
    const group = Math.abs(ratio - 1) < SAME_ERROR ? 'same' : ratio < 1 ? 'better' : 'worse';
    groups[group].push(SHORT_LABELS[b.key] as string);
  }
  const all = named.length === 1 ? null : named.length === 2 ? 'both' : 'all three';
  const phrase = (words: string, names: string[]) =>
    names.length === 0 ? [] : [`${words} ${names.length === named.length && all !== null ? all : list(names)}`];
  const parts = [
    ...phrase('better than', groups.better),
    ...phrase('as good as', groups.same),
    ...phrase('worse than', groups.worse),
  ];
  return `${parts.join(', ')} on average`;
}

function conformalResult(
  setup: FoldSetup,
  folds: FoldResult[],
  trained: Trained,
  level: number,
  skipped: string | null,
): IntervalResult {
  if (skipped !== null) return skippedInterval(level, 'conformal', skipped);
  const sets = folds.map((fold, k) =>
    conformalIntervals(
      [{ origin: fold.origin, forecast: fold.forecast as Float64Array }],
      calibration(setup, trained, k),
      level,
    ),
  );
  return measured(setup, sets, level, 'conformal');
}

function ensembleResult(
  setup: FoldSetup,
  folds: FoldResult[],
  level: number,
  members: number,
  skipped: string | null,
): IntervalResult {
  if (skipped !== null) return skippedInterval(level, 'ensemble', skipped);
  if (members < 2) {
    return skippedInterval(
      level,
      'ensemble',
      `an ensemble's interval is the spread of its members' forecasts, and each fold has 1 seed; ask for more (--members)`,
    );
  }
  // A fold whose other seeds all diverged has one forecast left: no spread to make an interval of.
  const sets = folds.map((fold): IntervalSet => {
    if (fold.memberForecasts.length < 2) {
      const reason = `only 1 of its ${members} seeds did not diverge, and an interval is the spread of 2 or more`;
      return { level, intervals: [], unavailable: new Array(setup.plan.horizon).fill(reason) };
    }
    return ensembleIntervals(
      fold.memberForecasts.map((forecast) => [{ origin: fold.origin, forecast }]),
      level,
    );
  });
  return measured(setup, sets, level, 'ensemble');
}

function skippedInterval(level: number, method: IntervalMethod, reason: string): IntervalResult {
  return {
    level,
    method,
    table: null,
    skipped: reason,
    folds: [],
    unmeasured: null,
    holds: null,
    sentence: `${level}% ${method} interval: none (${reason}).`,
  };
}

/** "1", "1 and 3", "1–3", "1–3 and 5". (1-based, ascending) */
function foldList(folds: readonly number[]): string {
  const runs: string[] = [];
  for (let i = 0; i < folds.length; ) {
    let j = i;
    while (j + 1 < folds.length && folds[j + 1] === folds[j] + 1) j++;
    runs.push(j > i ? `${folds[i]}–${folds[j]}` : String(folds[i]));
    i = j + 1;
  }
  return runs.length <= 1 ? runs.join('') : `${runs.slice(0, -1).join(', ')} and ${runs[runs.length - 1]}`;
}

/**
 * Coverage, margin, width and MSIS of the folds' intervals (one set a fold) on their held-out rows,
 * over the folds whose intervals exist at every step; the others are named with the first reason.
 */
function measured(setup: FoldSetup, sets: IntervalSet[], level: number, method: IntervalMethod): IntervalResult {
  const band = `${level}% ${method} interval`;
  const complete = sets.flatMap((set, k) => (set.unavailable.every((reason) => reason === null) ? [k] : []));
  const missing = sets.flatMap((set, k) => {
    const reason = set.unavailable.find((r) => r !== null);
    return reason === undefined || reason === null ? [] : [{ fold: k + 1, reason }];
  });
  const unmeasured =
    missing.length === 0
      ? null
      : `fold${missing.length === 1 ? '' : 's'} ${foldList(missing.map((m) => m.fold))} ${missing.length === 1 ? 'has' : 'have'} no interval at some step (fold ${missing[0].fold}: ${missing[0].reason.replace(/\.$/, '')})`;
  const folds = complete.map((k) => k + 1);
  if (complete.length === 0) {
    return {
      level,
      method,
      table: null,
      skipped: unmeasured,
      folds,
      unmeasured,
      holds: null,
      sentence: `${band}: none measured; ${unmeasured}.`,
    };
  }
  const set: IntervalSet = {
    level,
    intervals: complete.flatMap((k) => sets[k].intervals),
    unavailable: new Array(setup.plan.horizon).fill(null),
  };
  const on =
    missing.length === 0
      ? ''
      : `; measured on fold${folds.length === 1 ? '' : 's'} ${foldList(folds)} only, as ${unmeasured}`;
  const part = heldOut(setup.series, setup.season, setup.plan);
  return { level, method, skipped: null, folds, unmeasured, ...measuredCoverage(part, set, band, setup.unit, on) };
}

/**
 * Coverage, margin, width and MSIS of `set` on the part's rows, with coverageVerdict's sentence. The
 * pooled margin is that of the distinct rows scored: where forecasts from several origins reach the
 * same row (a step shorter than the horizon, every row of a held-out part as an origin), its pairs are
 * no independent draws, and counting each would make the margin too small.
 */
export function measuredCoverage(
  part: EvaluationPart,
  set: IntervalSet,
  band: string,
  unit: string | null,
  on = '',
): { table: IntervalTable; holds: boolean | null; sentence: string } {
  const steps = set.unavailable.length;
  const rows = scoredRows(
    part.targets,
    set.intervals.map((interval) => interval.origin),
    steps,
  );
  const table = withRowsMargin(intervalTable(part, set), rows);
  return { table, ...coverageVerdict(table, band, unit, on, rows) };
}

/** How many rows of `targets` the forecasts of `steps` steps from `origins` (ascending) reach. */
function scoredRows(targets: RowRange, origins: readonly number[], steps: number): number {
  let rows = 0;
  let reached = targets.start;
  for (const origin of origins) {
    const from = Math.max(origin, reached);
    const to = Math.min(origin + steps, targets.end);
    if (to > from) rows += to - from;
    reached = Math.max(reached, to);
  }
  return rows;
}

/** The pooled row's margin as that of the rows scored. */
function withRowsMargin(table: IntervalTable, rows: number): IntervalTable {
  const { overall } = table;
  if (overall.margin.value === null || rows >= overall.count) return table;
  return { ...table, overall: { ...overall, margin: known(coverageMargin(overall.nominal, rows)) } };
}

/**
 * Whether an interval's pooled coverage is within its margin of the level, and the sentence: "80%
 * conformal interval: 75% of 96 held-out values inside (80 ± 8.0 by chance alone): within its margin
 * of the level; mean width 1.47 ppm, MSIS 1.49<on>." `band` names the interval, `on` ends the
 * sentence with what was measured where not everything was. Where forecasts from several origins
 * score the same rows (`rows` distinct rows under more pairs), the sentence says so, and the table's
 * margin is to be that of the rows (heldOut.ts): pairs that share a row are not independent draws.
 */
export function coverageVerdict(
  table: IntervalTable,
  band: string,
  unit: string | null,
  on = '',
  rows?: number,
): { holds: boolean | null; sentence: string } {
  const { coverage, margin, width, msis, count, nominal: level } = table.overall;
  const shared = rows !== undefined && rows < count;
  const values = shared ? `${count} forecasts of ${rows} held-out values` : `${count} held-out values`;
  const chance = shared ? `by chance alone on ${rows} values` : 'by chance alone';
  if (coverage.value === null || margin.value === null)
    return { holds: null, sentence: `${band}: ${coverage.reason}${on}.` };
  const holds = Math.abs(coverage.value - level) <= margin.value;
  const verdict = holds
    ? 'within its margin of the level'
    : `it misses: ${coverage.value < level ? 'too narrow' : 'wider than it needs to be'}`;
  const units = unit === null ? '' : ` ${unit}`;
  const score = msis.value === null ? `MSIS none (${msis.reason})` : `MSIS ${formatValue(msis.value)}`;
  return {
    holds,
    sentence:
      `${band}: ${formatValue(coverage.value)}% of ${values} inside (${level} ± ${margin.value.toFixed(1)} ${chance}): ` +
      `${verdict}; mean width ${formatValue(width.value as number)}${units}, ${score}${on}.`,
  };
}
