// The `auto` backend: a short race of the CPU and WebGPU backends at a model's shape, batch and
// members (a population of K trains as one: K is part of the shape) decides which trains faster on
// this machine, with a one-line reason; remembered per adapter, shape, batch and members.
//
// Legend: B = batch, N = samples (RACE_STEPS minibatches), T = window, I = inputSize, O = outputSize.

import type { Dataset } from '../data/dataset.js';
import { Rng } from '../data/rng.js';
import { initParams } from '../model/init.js';
import type { ModelConfig, ParamLayout } from '../model/layout.js';
import type { AdapterDescription, Backend, BackendName } from './backend.js';
import { asPopulation, type Population, sharedRanges } from './population.js';

/** Wall time of a race's timed rounds, after both backends' warm-up epochs, ms (at least one round). */
export const RACE_BUDGET_MS = 200;
/** Minibatch steps in a race epoch: enough to amortize an epoch's submit, little enough for the budget. */
const RACE_STEPS = 2;

/** Best milliseconds a training step of each backend (a step of every member of a population). */
export interface RaceTimes {
  cpu: number;
  webgpu: number;
}

/** What `auto` chose, by how much, and why in one line. */
export interface AutoChoice {
  backend: BackendName;
  /** How many times faster the chosen backend trained than the other (at least 1). */
  ratio: number;
  msPerStep: RaceTimes;
  /** `auto: cpu, 25× faster than webgpu on this software adapter at hidden 30, batch 8` */
  reason: string;
}

/** The faster backend of a race and the line that says so (a tie goes to the CPU: exact and no device). */
export function decideBackend(
  times: RaceTimes,
  adapter: AdapterDescription,
  config: ModelConfig,
  batch: number,
  members = 1,
): AutoChoice {
  const backend: BackendName = times.webgpu < times.cpu ? 'webgpu' : 'cpu';
  const other: BackendName = backend === 'cpu' ? 'webgpu' : 'cpu';
  const ratio = times[other] / times[backend];
  const where = adapter.software ? 'this software adapter' : 'this GPU';
  const digits = ratio < 10 ? 1 : 0;
  return {
    backend,
    ratio,
    msPerStep: { ...times },
    reason:
      `auto: ${backend}, ${ratio.toFixed(digits)}× faster than ${other} on ${where} at hidden ${config.hiddenSizes.join(',')}, batch ${batch}` +
      `${members === 1 ? '' : `, ${members} members`}`,
  };
}

/** Race results per adapter, model shape and batch, for the life of the page or process. */
const remembered = new Map<string, AutoChoice>();

function raceKey(adapter: AdapterDescription, config: ModelConfig, batch: number, members: number): string {
  return JSON.stringify([adapter, config, batch, members]);
}

/** Windows of the model's shape with values like a normalized series (the race times work, not learning). */
function raceData(config: ModelConfig, batch: number): Dataset {
  const count = RACE_STEPS * batch;
  const { window, inputSize, outputSize } = config;
  const rng = new Rng(1);
  const x = Float32Array.from({ length: count * window * inputSize }, () => rng.normal());
  const t = Float32Array.from({ length: count * outputSize }, () => rng.normal());
  return { count, window, inputSize, outputSize, x, t };
}

/**
 * Gives a backend (every member of a population alike) the race's training data and parameters, runs
 * its warm-up epoch, and returns the timed epoch (ms). The backend keeps the race's data and
 * parameters: the caller sets its own.
 */
async function warmRacer(racer: Backend | Population, batch: number): Promise<() => Promise<number>> {
  const population = asPopulation(racer);
  const K = population.members;
  const data = raceData(population.config, batch);
  const order = Uint32Array.from({ length: data.count }, (_, i) => i);
  const params = initParams(population.layout, new Rng(1));
  for (let m = 0; m < K; m++) population.setMemberParams(m, params);
  population.setMemberTraining(data, batch, sharedRanges(K, data.count));
  const epoch = { orders: Array.from({ length: K }, () => order), learningRates: new Array<number>(K).fill(1e-3) };
  const timed = async (): Promise<number> => {
    const begun = performance.now();
    await population.trainMembers(epoch, { evaluate: false });
    await population.finish();
    return performance.now() - begun;
  };
  await timed();
  return timed;
}

/**
 * Times training epochs of RACE_STEPS minibatches on each backend, alternating (a warm-up epoch each,
 * then rounds until the budget is spent, at least one), and returns the best per step. Both backends
 * are left with the race's training data and parameters: the caller sets its own.
 */
export async function raceBackends(
  cpu: Backend | Population,
  webgpu: Backend | Population,
  batch: number,
  budgetMs = RACE_BUDGET_MS,
): Promise<RaceTimes> {
  const racers = { cpu: await warmRacer(cpu, batch), webgpu: await warmRacer(webgpu, batch) };
  // The budget starts after the warm-ups: a racer that compiles its pipelines there still gets rounds.
  const start = performance.now();
  const best: RaceTimes = { cpu: Infinity, webgpu: Infinity };
  for (let round = 0; round === 0 || performance.now() - start < budgetMs; round++) {
    for (const name of ['cpu', 'webgpu'] as const) best[name] = Math.min(best[name], await racers[name]());
  }
  return { cpu: best.cpu / RACE_STEPS, webgpu: best.webgpu / RACE_STEPS };
}

/**
 * One backend's half of a race where the two cannot alternate (the app times the CPU in its worker,
 * WebGPU on the page): a warm-up epoch, then epochs until `budgetMs` more is spent (at least one); the
 * best milliseconds a step. Give each half half of RACE_BUDGET_MS.
 */
export async function timeRacer(
  backend: Backend | Population,
  batch: number,
  budgetMs = RACE_BUDGET_MS / 2,
): Promise<number> {
  const epoch = await warmRacer(backend, batch);
  const start = performance.now();
  let best = Infinity;
  for (let round = 0; round === 0 || performance.now() - start < budgetMs; round++)
    best = Math.min(best, await epoch());
  return best / RACE_STEPS;
}

/** The remembered choice for this adapter, shape, batch and members, or a race's (then remembered). */
export async function chooseBackend(
  adapter: AdapterDescription,
  layout: ParamLayout,
  batch: number,
  race: () => Promise<RaceTimes>,
  members = 1,
): Promise<AutoChoice> {
  const key = raceKey(adapter, layout.config, batch, members);
  const known = remembered.get(key);
  if (known !== undefined) return known;
  const choice = decideBackend(await race(), adapter, layout.config, batch, members);
  remembered.set(key, choice);
  return choice;
}
