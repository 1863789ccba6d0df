// The trainer of a population (src/backends/population.ts): the blog's loop run for K members at once.
// Each member draws its own minibatch order from its own generator every epoch, trains at its own
// learning rate after its own decay, and is judged on its own errors: a member whose error stops
// being finite is restored to its last report's weights and frozen alone, a member whose patience
// runs out is frozen with its best epoch's weights, and the others go on. A single model is a
// population of one (trainer.ts drives it through `singleMember`), so both share this loop.
//
// Legend: K = members, P = parameter count.

import { type EpochLosses, type EpochOptions, GpuFailure } from '../backends/backend.js';
import type { MemberEpoch, MemberOptimizer, Population, WindowRange } from '../backends/population.js';

export { singleMember } from '../backends/population.js';

import type { Dataset } from '../data/dataset.js';
import type { Rng } from '../data/rng.js';
import type { ParamLayout } from '../model/layout.js';
import {
  DEFAULT_OPTIMIZER,
  epochLearningRate,
  type LossName,
  type OptimizerSettings,
  type OptimizerState,
} from '../model/optimizer.js';
import {
  type BestEpoch,
  type Checkpoint,
  checkTrainOptions,
  DATA_SCALE_LIMIT,
  type Divergence,
  type EpochProgress,
  type Kept,
  type TrainOptions,
  type TrainReport,
  type TrainResult,
} from './options.js';

/** What one member trains with; what it shares with the others is in PopulationOptions. */
export interface MemberSpec
  extends Pick<TrainOptions, 'learningRate' | 'lrDecay' | 'optimizer' | 'loss' | 'initialOptimizerState'> {
  /** Its generator: the minibatch orders of its epochs come from it, one permutation an epoch. */
  rng: Rng;
  /** Its part of the training windows; by default all of them. */
  training?: WindowRange;
  /** Its part of the validation windows (count 0: none); by default all of them. */
  validation?: WindowRange;
  /** Where it picks up (a report of an earlier run, or a loaded model's training); else from epoch 1. */
  resume?: Checkpoint;
  /** Set when the member already finished (a population going on elsewhere): it stays as it ended. */
  finished?: TrainResult;
}

/** Opens a population of `members` for a layout and batch (the CLI's and app's backend choice). */
export type OpenPopulation = (layout: ParamLayout, members: number, batchSize: number) => Promise<Population>;

/** What the members share: the loop's length and cadence, the batch, and the validation windows. */
export type PopulationOptions = Pick<
  TrainOptions,
  'epochs' | 'batchSize' | 'reportEvery' | 'validation' | 'keepBest' | 'patience'
> & {
  /** Told how far a long epoch has got (the population's steps: the longest member's). */
  onEpochProgress?: (progress: EpochProgress) => void;
  /**
   * Compute each member's error over its training windows every epoch (default true). False, where
   * every member has validation windows, computes their validation errors alone (EpochOptions.
   * trainingError): a member is then judged on its validation error (a divergence is the first that
   * is not finite) and its results' `losses` stay empty, so they are not a model file's history.
   * With any member lacking validation windows, the training errors are computed as usual.
   */
  trainingError?: boolean;
};

/** What a search or a backtest gives every member: the loop's shared options, and the optimizer, loss and decay. */
export type SharedTraining = Omit<PopulationOptions, 'validation' | 'onEpochProgress'> & {
  optimizer: OptimizerSettings;
  loss: LossName;
  lrDecay: number;
};

/** The shared training picked from a run's full training settings (the CLI's or the app's). */
export function sharedTraining(train: SharedTraining): SharedTraining {
  const { epochs, batchSize, reportEvery, keepBest, patience, optimizer, loss, lrDecay } = train;
  return { epochs, batchSize, reportEvery, keepBest, patience, optimizer, loss, lrDecay };
}

/** A report of the whole population: each member's, frozen members' as they stood when they stopped. */
export interface PopulationReport {
  /** Epochs done so far (of the population: a frozen member's own report says where it stopped). */
  epoch: number;
  epochs: number;
  /** Wall time of the loop so far, seconds. */
  seconds: number;
  /** Minibatch updates of every member together so far (member-steps). */
  memberSteps: number;
  members: TrainReport[];
  /** Each member's result once it has stopped (diverged, or out of patience), else null. */
  finished: (TrainResult | null)[];
}

export interface PopulationResult {
  epoch: number;
  seconds: number;
  memberSteps: number;
  members: TrainResult[];
}

/** A member as the loop sees it. */
class MemberRun {
  readonly order: Uint32Array;
  readonly stepsPerEpoch: number;
  losses: number[];
  validationLosses: { epoch: number; loss: number }[];
  best: BestEpoch | null;
  rng: Rng;
  /** Whether its epochs compute its training error (PopulationOptions.trainingError); else its validation error alone. */
  readonly trainingError: boolean;
  /** The member's last report: what a divergence falls back to (with `best`). */
  report: TrainReport;
  /** Set once the member stops: its result. */
  result: TrainResult | null = null;

  constructor(
    readonly index: number,
    readonly spec: MemberSpec,
    readonly training: WindowRange,
    readonly validation: WindowRange,
    readonly keepBest: boolean,
    readonly patience: number | null,
    options: PopulationOptions,
    params: Float32Array,
    optimizerState: OptimizerState,
  ) {
    const resume = spec.resume;
    this.order = new Uint32Array(training.count);
    this.stepsPerEpoch = Math.floor(training.count / options.batchSize);
    // (A report's lists may have grown past its epoch since: with keepBest they gain an entry an epoch.)
    this.losses = resume ? resume.losses.slice(0, resume.epoch) : [];
    this.validationLosses = resume?.validationLosses?.filter((v) => v.epoch <= resume.epoch) ?? [];
    this.best = keepBest ? (resume?.best ?? null) : null;
    this.rng = (resume?.rng ?? spec.rng).clone();
    this.trainingError = options.trainingError !== false;
    const epoch = resume?.epoch ?? 0;
    this.report = {
      epoch,
      epochs: options.epochs,
      losses: this.losses,
      steps: epoch * this.stepsPerEpoch,
      seconds: 0,
      params,
      rng: this.rng.clone(),
      validationLosses: this.validationLosses,
      optimizerState,
      best: this.best,
    };
  }

  get active(): boolean {
    return this.result === null;
  }

  /** The errors the member is judged on in `fresh` epochs: its training errors, else its validation errors. */
  judged(fresh: EpochLosses): number[] {
    return this.trainingError ? fresh.train : fresh.validation;
  }

  learningRate(epoch: number): number {
    return epochLearningRate(this.spec.learningRate, this.spec.lrDecay ?? 1, epoch);
  }
}

/**
 * Trains every member of `population` on its ranges of `data` (and of options.validation), yielding
 * a report every `reportEvery` epochs while any member trains, and returning each member's result.
 * A member's results equal those of the same member trained alone.
 */
export async function* trainPopulation(
  population: Population,
  data: Dataset,
  specs: readonly MemberSpec[],
  options: PopulationOptions,
  now: () => number = () => performance.now(),
): AsyncGenerator<PopulationReport, PopulationResult> {
  const members = await setUp(population, data, specs, options);
  const start = now();
  const firstEpoch = Math.min(...members.map((m) => m.report.epoch)) + 1;
  const epochOf = (epoch: number): MemberEpoch => ({
    orders: members.map((m) => m.order),
    learningRates: members.map((m) => m.learningRate(epoch)),
    active: members.map((m) => m.active && m.report.epoch < epoch),
  });
  let epoch = firstEpoch - 1;
  while (++epoch <= options.epochs && members.some((m) => m.active)) {
    const plan = epochOf(epoch);
    for (const member of members) if (plan.active?.[member.index]) member.rng.permutation(member.order);
    await population.trainMembers(plan, epochOptions(options, epoch, members));
    const reportNow = epoch % options.reportEvery === 0 || epoch === options.epochs;
    if (!reportNow && !members.some((m) => m.active && m.keepBest)) continue;
    const seconds = () => (now() - start) / 1000;
    await readEpochs(population, members, plan, epoch, reportNow, data, seconds);
    if (reportNow && epoch < options.epochs && members.some((m) => m.active)) {
      yield populationReport(members, epoch, options.epochs, seconds());
    }
  }
  const seconds = (now() - start) / 1000;
  for (const member of members) if (member.active) member.result = finished(population, member, null);
  const results = members.map((m) => m.result as TrainResult);
  return { epoch: epoch - 1, seconds, memberSteps: memberStepsOf(members), members: results };
}

/** Checks the options, gives the population its data and optimizers, and starts each member's run. */
async function setUp(
  population: Population,
  data: Dataset,
  specs: readonly MemberSpec[],
  options: PopulationOptions,
): Promise<MemberRun[]> {
  if (specs.length !== population.members) {
    throw new Error(`${specs.length} member settings for a population of ${population.members}`);
  }
  const validation = options.validation != null && options.validation.count > 0 ? options.validation : null;
  const trainingRanges = specs.map((spec) => spec.training ?? { start: 0, count: data.count });
  const validationRanges = specs.map((spec) =>
    validation === null ? { start: 0, count: 0 } : (spec.validation ?? { start: 0, count: validation.count }),
  );
  for (const [m, spec] of specs.entries()) {
    const { training: _t, validation: _v, ...settings } = spec;
    checkTrainOptions({ ...options, ...settings }, { ...data, count: trainingRanges[m].count });
  }
  // Validation errors alone only where every member has some to be judged on.
  const trainingError = options.trainingError !== false || validationRanges.some((range) => range.count === 0);
  const loop = { ...options, trainingError };
  population.setMemberOptimizers(specs.map(memberOptimizer));
  population.setMemberTraining(data, options.batchSize, trainingRanges);
  // (A population kept from an earlier run drops that run's validation set.)
  population.setMemberValidation(validation, validation === null ? undefined : validationRanges);
  await population.gpu?.calibrate();
  for (const [m, spec] of specs.entries()) {
    if (spec.finished) population.setMemberParams(m, spec.finished.params);
    else if (spec.resume) population.setMemberParams(m, spec.resume.params);
    // The same optimizer goes on where it was; a state of another one starts this one afresh.
    const state = spec.resume?.optimizerState ?? spec.initialOptimizerState;
    if (state !== undefined && state.name === memberOptimizer(spec).optimizer.name) {
      population.setMemberOptimizerState(m, state);
    }
  }
  // The weights each member starts from: those it resumes from, else the population's own (one read).
  const read = specs.every((spec) => spec.resume || spec.finished) ? null : await population.readMemberParams();
  const params = specs.map((spec, m) => spec.finished?.params ?? spec.resume?.params ?? (read as Float32Array[])[m]);
  const states = await population.readMemberOptimizerStates();
  return specs.map((spec, m) => {
    const keepBest = options.keepBest === true && validationRanges[m].count > 0;
    if (spec.finished) {
      const run = new MemberRun(
        m,
        spec,
        trainingRanges[m],
        validationRanges[m],
        keepBest,
        null,
        loop,
        params[m],
        states[m],
      );
      run.result = spec.finished;
      return run;
    }
    const patience = options.patience ?? null;
    return new MemberRun(
      m,
      spec,
      trainingRanges[m],
      validationRanges[m],
      keepBest,
      patience,
      loop,
      params[m],
      states[m],
    );
  });
}

function memberOptimizer(spec: MemberSpec): MemberOptimizer {
  return { optimizer: spec.optimizer ?? DEFAULT_OPTIMIZER, loss: spec.loss ?? 'sse' };
}

/** The epoch's errors (members[0].trainingError: the same for every member) and its progress callback. */
function epochOptions(options: PopulationOptions, epoch: number, members: MemberRun[]): EpochOptions {
  const errors: EpochOptions = members[0]?.trainingError === false ? { trainingError: false } : {};
  const onProgress = options.onEpochProgress;
  if (onProgress === undefined) return errors;
  // In the population's steps: its longest member's.
  const stepsPerEpoch = Math.max(...members.map((m) => m.stepsPerEpoch));
  return { ...errors, onProgress: (steps) => onProgress({ epoch, epochs: options.epochs, steps, stepsPerEpoch }) };
}

/**
 * Reads the errors and weights of the epochs since the last read and judges every member that
 * trained in them: a divergence freezes it with earlier weights restored, a new best is kept, and
 * patience running out freezes it with its best weights.
 */
async function readEpochs(
  population: Population,
  members: MemberRun[],
  plan: MemberEpoch,
  epoch: number,
  reportNow: boolean,
  data: Dataset,
  seconds: () => number,
): Promise<void> {
  const fresh = await population.readMemberLosses();
  const params = await population.readMemberParams();
  let states: OptimizerState[] | null = null;
  const statesNow = async () => {
    states ??= await population.readMemberOptimizerStates();
    return states;
  };
  for (const member of members) {
    if (!plan.active?.[member.index]) continue;
    const losses = fresh[member.index];
    const epochs = member.validation.count > 0 ? losses : { ...losses, validation: [] };
    checkLossCounts(population, member, epochs);
    const diverged = divergence(member, epochs, params[member.index], epoch, data);
    if (diverged !== null) {
      member.result = restoreAfterDivergence(population, member, diverged, seconds());
      continue;
    }
    keepErrors(member, epochs, epoch, member.judged(epochs).length);
    let stop = false;
    if (member.keepBest) stop = await judgeBest(member, epoch, params[member.index], statesNow);
    if (!reportNow && !stop) continue;
    member.report = {
      epoch,
      epochs: member.report.epochs,
      losses: member.losses,
      steps: epoch * member.stepsPerEpoch,
      seconds: seconds(),
      params: params[member.index],
      rng: member.rng.clone(),
      validationLosses: member.validationLosses,
      optimizerState: (await statesNow())[member.index],
      best: member.best,
    };
    if (stop) member.result = finished(population, member, epoch);
  }
}

function checkLossCounts(population: Population, member: MemberRun, fresh: EpochLosses): void {
  const mismatch = member.trainingError
    ? member.validation.count > 0 && fresh.validation.length !== fresh.train.length
    : fresh.train.length !== 0;
  if (mismatch) {
    throw new Error(
      `${population.name} backend: ${fresh.validation.length} validation and ${fresh.train.length} training errors of member ${member.index}`,
    );
  }
}

/** Keeps the errors of the first `count` fresh epochs (the last of which is `epoch`'s if all are kept). */
function keepErrors(member: MemberRun, fresh: EpochLosses, epoch: number, count: number): void {
  const first = epoch - member.judged(fresh).length + 1;
  for (let i = 0; i < count; i++) {
    if (member.trainingError) member.losses.push(fresh.train[i]);
    if (member.validation.count > 0) member.validationLosses.push({ epoch: first + i, loss: fresh.validation[i] });
  }
}

/**
 * The divergence in the fresh epochs, if any: the first error judged (member.judged) that is not
 * finite, or finite errors with weights that are not. The errors before it are kept.
 */
function divergence(
  member: MemberRun,
  fresh: EpochLosses,
  params: Float32Array,
  epoch: number,
  data: Dataset,
): Divergence | null {
  const judged = member.judged(fresh);
  const bad = judged.findIndex((value) => !Number.isFinite(value));
  if (bad < 0 && allFinite(params)) return null;
  const first = epoch - judged.length + 1;
  const badEpoch = first + (bad < 0 ? judged.length - 1 : bad);
  keepErrors(member, fresh, epoch, Math.max(0, bad));
  const restored = member.best ?? member.report;
  const which = member.trainingError ? 'error' : 'validation error';
  const became = bad < 0 ? 'finite but the weights did not stay finite' : String(judged[bad]);
  return {
    epoch: badEpoch,
    restoredEpoch: restored.epoch,
    message:
      `training diverged at epoch ${badEpoch} (the ${which} became ${became}); ` +
      `the weights after epoch ${restored.epoch} were restored. ${divergenceAdvice(data, member.spec.learningRate)}`,
  };
}

/** Puts the best epoch's (or else the last report's) weights and state back and ends the member. */
function restoreAfterDivergence(
  population: Population,
  member: MemberRun,
  diverged: Divergence,
  seconds: number,
): TrainResult {
  const restored = member.best ?? member.report;
  population.setMemberParams(member.index, restored.params);
  if (restored.optimizerState !== undefined) population.setMemberOptimizerState(member.index, restored.optimizerState);
  const last = member.losses.length > 0 ? member.losses[member.losses.length - 1] : Number.NaN;
  return {
    ...member.report,
    losses: member.losses,
    params: restored.params,
    seconds,
    finalLoss: last,
    diverged,
    stoppedEarly: null,
    kept: keptOf(restored),
  };
}

/** Keeps a new best epoch; true when patience has run out. */
async function judgeBest(
  member: MemberRun,
  epoch: number,
  params: Float32Array,
  states: () => Promise<OptimizerState[]>,
): Promise<boolean> {
  const { validationLosses } = member;
  if (validationLosses.length === 0) return false;
  const latest = validationLosses[validationLosses.length - 1];
  if (latest.epoch === epoch && (member.best === null || latest.loss < member.best.loss)) {
    const optimizerState = (await states())[member.index];
    member.best = { epoch, loss: latest.loss, params, optimizerState, rng: member.rng.clone() };
  }
  return member.best !== null && member.patience != null && epoch - member.best.epoch >= member.patience;
}

/** The result after the member's last epoch (or an early stop): its best epoch's weights go back. */
function finished(population: Population, member: MemberRun, stoppedEarly: number | null): TrainResult {
  const { report } = member;
  const { best } = report;
  if (best !== null) {
    population.setMemberParams(member.index, best.params);
    if (best.optimizerState !== undefined) population.setMemberOptimizerState(member.index, best.optimizerState);
  }
  const kept = keptOf(best ?? report);
  const { losses } = member;
  const finalLoss = losses.length > 0 ? losses[losses.length - 1] : Number.NaN;
  return { ...report, params: kept.params, finalLoss, diverged: null, stoppedEarly, kept };
}

function populationReport(members: MemberRun[], epoch: number, epochs: number, seconds: number): PopulationReport {
  return {
    epoch,
    epochs,
    seconds,
    memberSteps: memberStepsOf(members),
    members: members.map((m) => m.report),
    finished: members.map((m) => m.result),
  };
}

function memberStepsOf(members: MemberRun[]): number {
  return members.reduce((sum, m) => sum + (m.result ?? m.report).steps, 0);
}

function keptOf(point: Kept): Kept {
  return {
    epoch: point.epoch,
    params: point.params,
    rng: point.rng,
    ...(point.optimizerState ? { optimizerState: point.optimizerState } : {}),
  };
}

/**
 * What to try after a divergence: normalizing the data where its values are far beyond what an LSTM's
 * squashing gates can take (DATA_SCALE_LIMIT), else a lower learning rate.
 */
function divergenceAdvice(data: Dataset, learningRate: number): string {
  const scale = Math.max(maxAbs(data.x), maxAbs(data.t));
  if (scale > DATA_SCALE_LIMIT) {
    return (
      `The data's scale is the likely cause (values up to ${scale.toExponential(1)}): ` +
      'normalise the data (z-score or min-max) and train again.'
    );
  }
  return `Try a lower learning rate (now ${learningRate}).`;
}

function maxAbs(values: Float32Array): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    const value = Math.abs(values[i]);
    // NaN never compares greater: a NaN in the data is no scale.
    if (value > max) max = value;
  }
  return max;
}

function allFinite(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}

/** A population to go on with when the first one fails (a lost GPU device). */
export interface PopulationFallback {
  /** Which failures to recover from: by default a GpuFailure (device lost, out of memory, a validation error). */
  recoverable?: (error: unknown, population: Population) => boolean;
  /** The population to go on with (its members' weights are set from their last reports). */
  create(): Population | Promise<Population>;
  /** Told why and from which epoch training goes on. */
  onSwitch?(message: string, fromEpoch: number): void;
}

/**
 * Runs `trainPopulation` to the end, calling `onReport` at each report. With a fallback, a failure
 * of the population (a lost GPU device) moves every member to the fallback from its last report
 * (weights, generator, optimizer state; a member that had stopped stays as it ended): at most one
 * report interval is lost and the minibatch orders stay those of each member's seed.
 */
export async function trainPopulationToEnd(
  population: Population,
  data: Dataset,
  specs: readonly MemberSpec[],
  options: PopulationOptions,
  onReport?: (report: PopulationReport) => void | Promise<void>,
  fallback?: PopulationFallback,
): Promise<PopulationResult & { population: Population; switched: string | null }> {
  let current = population;
  let switched: string | null = null;
  let from = [...specs];
  let secondsBefore = 0;
  for (;;) {
    const loop = trainPopulation(current, data, from, options);
    const resumed = from;
    let lastSeconds = 0;
    try {
      for (;;) {
        const next = await loop.next();
        lastSeconds = next.value.seconds;
        if (next.done) {
          const result = next.value;
          const members = result.members.map((m, i) => (resumed[i].finished ? m : later(m, secondsBefore)));
          return { ...result, members, seconds: secondsBefore + result.seconds, population: current, switched };
        }
        const report = next.value;
        from = specs.map((spec, m) => {
          const finished = report.finished[m];
          return { ...spec, resume: report.members[m], ...(finished ? { finished } : {}) };
        });
        const members = report.members.map((m, i) => (resumed[i].finished ? m : later(m, secondsBefore)));
        // Awaited: a caller may let its event loop turn here (the CLI hears Ctrl-C at a report).
        await onReport?.({ ...report, members, seconds: secondsBefore + report.seconds });
      }
    } catch (error) {
      const recoverable = fallback?.recoverable ?? isGpuFailure;
      if (fallback === undefined || switched !== null || !recoverable(error, current)) throw error;
      const fromEpoch = Math.min(...from.filter((spec) => !spec.finished).map((spec) => spec.resume?.epoch ?? 0));
      switched = `${current.name} failed (${(error as Error).message}); going on from epoch ${fromEpoch}`;
      fallback.onSwitch?.(switched, fromEpoch);
      secondsBefore += lastSeconds;
      void current.dispose();
      current = await fallback.create();
    }
  }
}

/** A report or result of a run that went on from an earlier one: its time counts the earlier one's. */
function later<T extends { seconds: number }>(report: T, secondsBefore: number): T {
  return secondsBefore === 0 ? report : { ...report, seconds: secondsBefore + report.seconds };
}

/** Only the GPU failing is recovered from: bad input and programming errors surface as they are. */
export function isGpuFailure(error: unknown): boolean {
  return error instanceof GpuFailure;
}
