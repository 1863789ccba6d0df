// A run of K members (the Members field above 1) as the app shows it: K seeds of the same settings
// trained as one population (src/train/population.ts) on the backend that owns it (the CPU worker's
// engine, or the page's WebGPU device), each member exactly the model its seed trains alone
// (src/train/members.ts). At every report the session takes a snapshot as a single run's
// (session.ts), whose predictions, forecasts and errors are the members' medians, with the band and
// each member's own values beside them (ensemble.ts); then it yields, where pause and stop act.
//
// Legend: K = members, N = target rows with a prediction, O = output columns, S = forecast steps,
// H = steps past the end.

import type { Population } from '../backends/population.js';
import { selectionPart } from '../data/split.js';
import { InputError } from '../model/errors.js';
import { SETTINGS } from '../settings/training.js';
import { feedbackProblem } from '../train/forecast.js';
import { consecutiveSeeds, type MemberStart, memberPartLevels, memberStarts } from '../train/members.js';
import type { TrainReport } from '../train/options.js';
import { type MemberSpec, type PopulationOptions, trainPopulation } from '../train/population.js';
import type { Run, RunSettings } from '../train/run.js';
import {
  bandOf,
  type EnsembleSnapshot,
  lossesAcross,
  MEMBER_VALUES_LIMIT,
  type MemberValues,
  validationAcross,
} from './ensemble.js';
import {
  type MemberForecaster,
  type MemberForecastRequest,
  type MemberForecasts,
  memberForecasts,
  packParams,
} from './memberForecasts.js';
import {
  MAX_FORECAST_STEPS,
  nextTask,
  pastEndSteps,
  type RunControl,
  type SessionEnd,
  type SessionOptions,
  type Snapshot,
  Stopwatch,
  TaskSlices,
} from './session.js';

/** What a population session trains with: a single run's options and the count of members. */
export interface PopulationSessionOptions extends SessionOptions {
  members: number;
  /**
   * Where the members' forecasts run at each report (the page gives a worker of their own);
   * without it, here, in slices.
   */
  forecasts?: MemberForecaster;
}

/** Where the population stands at a report (or at the end). */
interface PopulationPoint {
  epoch: number;
  epochs: number;
  seconds: number;
  memberSteps: number;
  /** (K) each member's report, or its result once it stopped. */
  members: TrainReport[];
  diverged: number;
}

/**
 * Trains `population` (K members, weights not yet set) from `run` with seeds settings.seed .. + K - 1,
 * calling `emit` at every report and after the last epoch. A loaded model cannot start a population.
 */
export async function runPopulationSession(
  population: Population,
  run: Run,
  settings: RunSettings,
  options: PopulationSessionOptions,
  control: RunControl,
  emit: (snapshot: Snapshot) => void,
): Promise<SessionEnd> {
  const stopped: SessionEnd = { outcome: 'stopped', message: null };
  if (options.saved !== undefined || options.initialOptimizerState !== undefined) {
    throw new InputError('members', 'a loaded model goes on as one model: set Members to 1, or forget the model');
  }
  if (!(await control.checkpoint())) return stopped;
  const seeds = consecutiveSeeds(settings.seed, options.members);
  const starts = await slicedStarts(settings, run, seeds);
  starts.forEach((start, m) => {
    population.setMemberParams(m, start.params);
  });
  const specs: MemberSpec[] = starts.map((start) => ({
    rng: start.rng,
    learningRate: options.learningRate,
    lrDecay: options.lrDecay,
    optimizer: options.optimizer,
    loss: options.loss,
  }));
  const clock = new Stopwatch();
  const populationOptions: PopulationOptions = {
    epochs: options.epochs,
    batchSize: options.batchSize,
    reportEvery: options.reportEvery,
    validation: selectionPart(run.prepared)?.data ?? null,
    keepBest: options.keepBest,
    patience: options.patience,
    ...(options.onEpochProgress ? { onEpochProgress: options.onEpochProgress } : {}),
  };
  const loop = trainPopulation(population, run.prepared.train, specs, populationOptions, () => clock.read());
  const reported = seeds.map(() => 0);
  let previousEpoch = 0;
  for (;;) {
    clock.start();
    const next = await loop.next();
    clock.stop();
    if (control.isStopped) return stopped;
    const value = next.value;
    const point: PopulationPoint = {
      epoch: value.epoch,
      epochs: options.epochs,
      seconds: value.seconds,
      memberSteps: value.memberSteps,
      members: value.members,
      diverged: 'finished' in value ? value.finished.filter((f) => f?.diverged).length : 0,
    };
    if (next.done) point.diverged = next.value.members.filter((m) => m.diverged !== null).length;
    const snapshot = await populationSnapshot(population, run, options, point, reported, previousEpoch, seeds);
    emit({ ...snapshot, done: next.done === true });
    point.members.forEach((m, i) => {
      reported[i] = m.losses.length;
    });
    previousEpoch = snapshot.epoch;
    if (next.done) {
      const results = next.value.members;
      const all = results.every((m) => m.diverged !== null);
      return all
        ? { outcome: 'diverged', message: `every member diverged; member 0: ${results[0].diverged?.message}` }
        : { outcome: 'finished', message: null };
    }
    await nextTask();
    if (!(await control.checkpoint())) return stopped;
  }
}

/** The snapshot at `point`: every member's predictions and forecasts, and the ensemble's of them. */
async function populationSnapshot(
  population: Population,
  run: Run,
  options: PopulationSessionOptions,
  point: PopulationPoint,
  reported: readonly number[],
  previousEpoch: number,
  seeds: number[],
): Promise<Snapshot> {
  const values = await memberValues(population, run, point, options);
  const predictions = bandOf(values.map((v) => v.predictions));
  const forecast = values[0].forecast === null ? null : bandOf(values.map((v) => v.forecast as Float32Array));
  const future = values[0].future === null ? null : bandOf(values.map((v) => v.future as Float32Array));
  const losses = lossesAcross(
    point.members.map((m) => m.losses),
    previousEpoch + 1,
  );
  const validation = validationAcross(point.members.map((m) => m.validationLosses));
  const first = point.members[0];
  const { prepared } = run;
  const total = values.reduce((sum, v) => sum + v.predictions.length + (v.forecast?.length ?? 0), 0);
  const ensemble: EnsembleSnapshot = {
    members: point.members.length,
    seeds,
    low: { predictions: predictions.low, forecast: forecast?.low ?? null, future: future?.low ?? null },
    high: { predictions: predictions.high, forecast: forecast?.high ?? null, future: future?.high ?? null },
    newLossMin: losses.min,
    newLossMax: losses.max,
    validationMin: validation.min,
    validationMax: validation.max,
    each:
      total > MEMBER_VALUES_LIMIT
        ? null
        : {
            values,
            newLosses: point.members.map((m, i) => m.losses.slice(reported[i])),
            validationLosses: point.members.map((m) => m.validationLosses.map((v) => ({ ...v }))),
          },
    diverged: point.diverged,
  };
  return {
    epoch: point.epoch,
    epochs: point.epochs,
    newLosses: losses.median,
    validationLosses: validation.median,
    steps: point.memberSteps,
    seconds: point.seconds,
    stepsPerEpoch: Math.floor(prepared.train.count / options.batchSize) * point.members.length,
    predictions: predictions.median,
    predictionsFrom: prepared.trainTargets.start,
    forecast: forecast?.median ?? null,
    forecastFrom: forecastFromOf(run),
    future: future?.median ?? null,
    testLoss: null,
    params: first.params.slice(),
    best: null,
    rng: first.rng.state(),
    done: false,
    // The Inside view reads a single model's probes; a population's snapshot carries none.
    inside: null,
    ensemble,
  };
}

/** Where the forecasts start: the held-out part's first row, else the first window's end (the blog's). */
function forecastFromOf(run: Run): number {
  const { prepared } = run;
  return prepared.test === null ? prepared.trainTargets.start : prepared.boundary;
}

/** Each member's one-step predictions on every part, its forecast into the held-out part and past the end. */
async function memberValues(
  population: Population,
  run: Run,
  point: PopulationPoint,
  options: PopulationSessionOptions,
): Promise<MemberValues[]> {
  const { prepared } = run;
  const parts = await memberPartLevels(population, prepared);
  const forecasts = feedbackProblem(prepared) === null ? await forecastsOf(run, point, options) : null;
  return parts.map((levels, m) => {
    const present = [levels.train, levels.validation, levels.test].filter((l): l is Float64Array => l !== null);
    const predictions = new Float32Array(present.reduce((sum, l) => sum + l.length, 0));
    let offset = 0;
    for (const l of present) {
      predictions.set(l, offset);
      offset += l.length;
    }
    return { predictions, forecast: forecasts?.forecast[m] ?? null, future: forecasts?.future[m] ?? null };
  });
}

/**
 * Every member's forecasts: each runs its forward pass once a step, at K = 256 seconds of work, so in
 * options.forecasts' worker where the page gives one, else here in slices between which the thread
 * handles its events.
 */
function forecastsOf(run: Run, point: PopulationPoint, options: PopulationSessionOptions): Promise<MemberForecasts> {
  const { prepared } = run;
  const rows = prepared.table.rows;
  const from = forecastFromOf(run);
  const request: MemberForecastRequest = {
    prepared,
    run: { layout: run.layout, levels: run.levels },
    params: packParams(point.members.map((m) => m.params)),
    members: point.members.length,
    from,
    steps: Math.min(rows - from, MAX_FORECAST_STEPS),
    futureSteps: pastEndSteps(run, options.horizon ?? SETTINGS.horizon.default),
  };
  if (options.forecasts !== undefined) return options.forecasts(request);
  const slices = new TaskSlices();
  return memberForecasts(request, () => slices.due());
}

/** memberStarts (the same members) seed by seed, in slices: K members' initial weights take a while. */
async function slicedStarts(settings: RunSettings, run: Run, seeds: readonly number[]): Promise<MemberStart[]> {
  const slices = new TaskSlices();
  const starts: MemberStart[] = [];
  for (const seed of seeds) {
    await slices.due();
    starts.push(...memberStarts(settings, run, [seed]));
  }
  return starts;
}

/**
 * A population's engines failing for memory, said as the Members field's problem. On the CPU a
 * thread's members take turns in one WebAssembly memory (a browser gives a page only so many:
 * Chromium about a hundred), each keeping its weights and optimizer state beside it, so this is a
 * machine that would not give what the members need together, not a count of memories.
 */
export function membersMemoryProblem(err: unknown, members: number): unknown {
  if (members < 2 || !(err instanceof InputError) || err.field !== 'backend') return err;
  // The reason inside "gave (...);": the engine's message ends in advice with no parentheses.
  const reason = /more memory than this machine gave \((.*)\);/.exec(err.message);
  if (reason === null) return err;
  return new InputError(
    'members',
    `the CPU backend's ${members} members need more memory than this browser would give (${reason[1]}); use fewer members, a smaller batch or the WebGPU backend`,
  );
}
