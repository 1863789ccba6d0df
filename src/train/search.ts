// A search over learning rates, hidden sizes and windows, each configuration trained with several
// seeds, chosen on the validation part only (the test part is reported, never used to choose). The
// configurations of one shape (hidden sizes and window) are one population: every learning rate and
// seed of that shape trains in the same work; the shapes run one after another.
//
// Legend: C = configurations, S = seeds, K = members of a shape's population (learning rates × S).

import { errorsInUnits, partTargets } from '../data/metrics.js';
import { InputError } from '../model/errors.js';
import { baselineErrors, comparisonPart, type Evaluation, evaluate } from './evaluate.js';
import { type HeldOutForecasts, type HeldOutSettings, heldOutForecasts, noHeldOutPart } from './heldOut.js';
import { ensembleLevels, ensembleMembers, memberPartLevels, memberStarts, type PartLevels } from './members.js';
import { type MemberSpec, type OpenPopulation, type SharedTraining, trainPopulation } from './population.js';

export type { OpenPopulation } from './population.js';

import { type Run, type RunSettings, startRun } from './run.js';

export interface SearchGrid {
  learningRates: number[];
  /** Each entry one model's hidden sizes (one layer: [h]). */
  hiddenSizes: number[][];
  windows: number[];
  seeds: number[];
}

/** What every configuration shares: the data (RunSettings without window and hidden sizes) and the training. */
export interface SearchSettings {
  run: Omit<RunSettings, 'window' | 'hiddenSizes' | 'seed'>;
  grid: SearchGrid;
  training: SharedTraining;
  /** The chosen ensemble's multi-step forecasts on the held-out part; default: the data's horizon, 80 and 95%. */
  heldOut?: HeldOutSettings;
  /**
   * Compute every member's training error each epoch, the history a saved model carries (default
   * false: a search reports and chooses on the validation and test parts only, so its members'
   * epochs compute their validation errors alone and their results' `losses` stay empty).
   */
  keepHistory?: boolean;
}

/** Mean, least and greatest of a configuration's errors over its seeds. */
export interface Spread {
  mean: number;
  min: number;
  max: number;
}

export interface MemberOutcome {
  seed: number;
  /** RMSE on the validation and test parts, in the data's units (mean over output columns); null without the part. */
  validation: number | null;
  test: number | null;
  bestEpoch: number | null;
  diverged: boolean;
}

export interface Configuration {
  index: number;
  lr: number;
  hidden: number[];
  window: number;
  seeds: number[];
  /** Over the seeds that did not diverge (null when all did). */
  validation: Spread | null;
  test: Spread | null;
  members: MemberOutcome[];
}

export interface SearchResult {
  configurations: Configuration[];
  chosen: { index: number; reason: string };
  /** The chosen configuration's ensemble (the mean of its seeds' predictions), evaluated as a model is. */
  ensemble: Evaluation;
  /** Its multi-step forecasts on the held-out part (its members' mean and spread), or why there are none. */
  heldOut: HeldOutForecasts | string;
  /** What the chosen configuration trained on, and its members' results (for saving the ensemble). */
  chosenRun: ChosenRun;
  seconds: number;
}

export interface ChosenRun {
  run: Run;
  settings: RunSettings;
  /** The seeds of the chosen ensemble: the configuration's that did not diverge (all where every one did). */
  seeds: number[];
  /** Their kept weights, one per seed. (S of P) */
  params: Float32Array[];
  results: Awaited<ReturnType<typeof trainShape>>['results'];
}

/** Throws InputError unless every list of the grid has at least one value. */
export function checkGrid(grid: SearchGrid): void {
  const lists: [string, unknown[]][] = [
    ['--lr', grid.learningRates],
    ['--hidden', grid.hiddenSizes],
    ['--window', grid.windows],
    ['--seeds', grid.seeds],
  ];
  for (const [name, list] of lists) {
    if (list.length === 0) throw new InputError(name, 'expected at least one value to search over');
  }
}

/**
 * Trains every configuration of the grid (a population per shape), telling `onConfiguration` as each
 * one finishes, and chooses the one with the lowest mean validation RMSE.
 */
export async function runSearch(
  settings: SearchSettings,
  open: OpenPopulation,
  onConfiguration?: (configuration: Configuration, done: number, total: number) => void,
  now: () => number = () => performance.now(),
): Promise<SearchResult> {
  checkGrid(settings.grid);
  const { grid } = settings;
  const start = now();
  const configurations: Configuration[] = [];
  const shapes = grid.windows.flatMap((window) => grid.hiddenSizes.map((hidden) => ({ window, hidden })));
  const total = shapes.length * grid.learningRates.length;
  const trained: { shape: (typeof shapes)[number]; outcome: Awaited<ReturnType<typeof trainShape>> }[] = [];
  for (const shape of shapes) {
    const outcome = await trainShape(settings, shape.window, shape.hidden, open);
    trained.push({ shape, outcome });
    for (const [i, lr] of grid.learningRates.entries()) {
      const members = outcome.outcomes.slice(i * grid.seeds.length, (i + 1) * grid.seeds.length);
      const configuration: Configuration = {
        index: configurations.length,
        lr,
        hidden: shape.hidden,
        window: shape.window,
        seeds: [...grid.seeds],
        validation: spread(members.filter((m) => !m.diverged).map((m) => m.validation)),
        test: spread(members.filter((m) => !m.diverged).map((m) => m.test)),
        members,
      };
      configurations.push(configuration);
      onConfiguration?.(configuration, configurations.length, total);
    }
  }
  const chosen = choose(configurations);
  const perShape = grid.learningRates.length;
  const { outcome } = trained[Math.floor(chosen.index / perShape)];
  const lrIndex = chosen.index % perShape;
  const seeds = grid.seeds.length;
  // The chosen ensemble: its seeds that did not diverge (every one where all did), as it was scored.
  const inEnsemble = ensembleMembers(configurations[chosen.index].members.map((m) => m.diverged));
  const kept = inEnsemble.map((k) => lrIndex * seeds + k);
  const { prepared, unit } = outcome.run;
  const ensemble = evaluate(
    prepared,
    ensembleLevels(kept.map((m) => outcome.levels[m])),
    baselineErrors(prepared, comparisonPart(prepared), settings.training.loss),
    unit,
  );
  const results = kept.map((m) => outcome.results[m]);
  const params = results.map((r) => r.params);
  const heldOut = await ensembleHeldOut(outcome.run, params, open, settings);
  return {
    configurations,
    chosen,
    ensemble,
    heldOut,
    chosenRun: {
      run: outcome.run,
      settings: outcome.settings,
      seeds: inEnsemble.map((k) => grid.seeds[k]),
      params,
      results,
    },
    seconds: (now() - start) / 1000,
  };
}

/** The chosen ensemble's held-out forecasts: its members' kept weights in a population of their own. */
async function ensembleHeldOut(
  run: Run,
  params: Float32Array[],
  open: OpenPopulation,
  settings: SearchSettings,
): Promise<HeldOutForecasts | string> {
  const none = noHeldOutPart(run.prepared);
  if (none !== null) return none;
  const population = await open(run.layout, params.length, settings.training.batchSize);
  try {
    params.forEach((p, m) => {
      population.setMemberParams(m, p);
    });
    return await heldOutForecasts(population, run, settings.heldOut ?? { horizon: null, levels: [80, 95] });
  } finally {
    await population.dispose();
  }
}

/** One shape's population: every learning rate × seed, trained together, evaluated member by member. */
async function trainShape(settings: SearchSettings, window: number, hidden: number[], open: OpenPopulation) {
  const { grid, training } = settings;
  const runSettings: RunSettings = { ...settings.run, window, hiddenSizes: hidden, seed: grid.seeds[0] };
  const run = startRun(runSettings);
  const { prepared } = run;
  if (prepared.validation === null) {
    throw new InputError('--validation', 'a search chooses on the validation part: give it a share above 0');
  }
  const starts = memberStarts(runSettings, run, grid.seeds);
  const specs: MemberSpec[] = grid.learningRates.flatMap((learningRate) =>
    starts.map((start) => ({
      rng: start.rng.clone(),
      learningRate,
      lrDecay: training.lrDecay,
      optimizer: training.optimizer,
      loss: training.loss,
    })),
  );
  const population = await open(run.layout, specs.length, training.batchSize);
  try {
    specs.forEach((_, m) => {
      population.setMemberParams(m, starts[m % starts.length].params);
    });
    const loop = trainPopulation(population, prepared.train, specs, {
      ...training,
      validation: prepared.validation,
      trainingError: settings.keepHistory === true,
    });
    let next = await loop.next();
    while (!next.done) next = await loop.next();
    const results = next.value.members;
    const levels = await memberPartLevels(population, prepared);
    const outcomes = levels.map(
      (parts, m): MemberOutcome => ({
        seed: grid.seeds[m % grid.seeds.length],
        validation: meanRmse(run, parts, 'validation'),
        test: meanRmse(run, parts, 'test'),
        bestEpoch: results[m].best?.epoch ?? null,
        diverged: results[m].diverged !== null,
      }),
    );
    return { run, settings: runSettings, results, levels, outcomes };
  } finally {
    await population.dispose();
  }
}

/** A part's RMSE in the data's units, the mean over the output columns; null without the part. */
function meanRmse(run: Run, parts: PartLevels, part: 'validation' | 'test'): number | null {
  const levels = parts[part];
  if (levels === null) return null;
  const { rmse } = errorsInUnits(run.prepared, partTargets(run.prepared, part), levels);
  return rmse.reduce((sum, value) => sum + value, 0) / rmse.length;
}

function spread(values: (number | null)[]): Spread | null {
  const present = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (present.length === 0) return null;
  return {
    mean: present.reduce((sum, v) => sum + v, 0) / present.length,
    min: Math.min(...present),
    max: Math.max(...present),
  };
}

/** The configuration with the lowest mean validation RMSE over its seeds, and why. */
export function choose(configurations: readonly Configuration[]): { index: number; reason: string } {
  let best: Configuration | null = null;
  for (const c of configurations) {
    if (c.validation !== null && (best === null || c.validation.mean < (best.validation as Spread).mean)) best = c;
  }
  if (best === null) throw new InputError('--lr', 'every configuration diverged: try lower learning rates');
  // The seeds its mean is over: those that did not diverge.
  const seeds = best.members.filter((m) => !m.diverged).length;
  const runnerUp = configurations
    .filter((c) => c !== best && c.validation !== null)
    .sort((a, b) => (a.validation as Spread).mean - (b.validation as Spread).mean)[0];
  const margin =
    runnerUp === undefined
      ? ''
      : ` (next: lr ${runnerUp.lr}, hidden ${runnerUp.hidden.join(',')}, window ${runnerUp.window} at ${formatError(
          (runnerUp.validation as Spread).mean,
        )})`;
  return {
    index: best.index,
    reason:
      `the lowest mean validation RMSE, ${formatError((best.validation as Spread).mean)} over ${seeds} seed${seeds === 1 ? '' : 's'}` +
      `${margin}; the test part was not used to choose`,
  };
}

function formatError(value: number): string {
  return value.toPrecision(3);
}
