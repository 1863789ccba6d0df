// The members of a population on one run's data: each member's own generator, initial weights and
// predictions, and what an ensemble of them makes of those predictions (their mean, and a band of
// their quantiles).
//
// Seeds. A run draws from one seeded generator in the blog's order: data noise, initial weights, then
// the minibatch orders. A population shares the run's data (drawn from the run's seed), and member m
// with seed s draws its weights and orders from a generator of its own seed that has first drawn the
// data as a run of seed s would (and thrown it away): so the member with the run's own seed is
// exactly the run's single model, and every member is exactly the single model trained with its seed
// on the run's data (RunSettings.dataSeed).
//
// Legend: K = members, N = a part's target rows, O = output columns, P = parameter count.

import type { Population } from '../backends/population.js';
import type { PartName } from '../data/metrics.js';
import { partTargets } from '../data/metrics.js';
import type { PreparedData } from '../data/prepare.js';
import { Rng } from '../data/rng.js';
import { initParams } from '../model/init.js';
import { levelsFromOutputs, partData } from './evaluate.js';
import type { Forecaster } from './forecast.js';
import { type Run, type RunSettings, sourceTable } from './run.js';

export interface MemberStart {
  seed: number;
  /** The generator after the member's initial weights: its minibatch orders come from it. */
  rng: Rng;
  /** (P) its initial weights. */
  params: Float32Array;
}

/** Each seed's member of `run` (started from `settings`): its generator and initial weights. */
export function memberStarts(settings: RunSettings, run: Run, seeds: readonly number[]): MemberStart[] {
  return seeds.map((seed) => {
    if (seed === settings.seed && settings.dataSeed === undefined) {
      return { seed, rng: run.rng.clone(), params: run.params.slice() };
    }
    const rng = new Rng(seed);
    // The draws of the data, as a run of this seed makes them; the run's data is used instead.
    sourceTable(settings.source, rng);
    return { seed, rng, params: initParams(run.layout, rng) };
  });
}

/** The seeds seed, seed + 1, …, seed + count - 1 (the CLI's `--members`). */
export function consecutiveSeeds(seed: number, count: number): number[] {
  return Array.from({ length: count }, (_, m) => seed + m);
}

export type PartLevels = Record<PartName, Float64Array | null>;

/** Each member's level predictions on every part (null for a part without windows): one forward of every member a part. */
export async function memberPartLevels(population: Population, prepared: PreparedData): Promise<PartLevels[]> {
  const out: PartLevels[] = Array.from({ length: population.members }, () => ({
    train: null,
    validation: null,
    test: null,
  }));
  for (const part of ['train', 'validation', 'test'] as const) {
    const data = partData(prepared, part);
    if (data === null) continue;
    const outputs = await population.predictMembers(data.x, data.count);
    const targets = partTargets(prepared, part);
    outputs.forEach((values, m) => {
      out[m][part] = levelsFromOutputs(prepared, targets, values);
    });
  }
  return out;
}

/** The ensemble's prediction: the mean of the members' at every point. */
export function meanLevels(members: readonly (Float64Array | null)[]): Float64Array | null {
  const present = members.filter((m): m is Float64Array => m !== null);
  if (present.length === 0) return null;
  const out = new Float64Array(present[0].length);
  for (const levels of present) for (let i = 0; i < out.length; i++) out[i] += levels[i];
  for (let i = 0; i < out.length; i++) out[i] /= present.length;
  return out;
}

/** The ensemble's predictions on every part. */
/**
 * The members an ensemble is made of: every one that did not diverge, or all of them where every one
 * did. A diverged member's restored weights are those of its last report, which may already be far
 * off (a search scores its configurations without them too).
 */
export function ensembleMembers(diverged: readonly boolean[]): number[] {
  const kept = diverged.flatMap((gone, m) => (gone ? [] : [m]));
  return kept.length > 0 ? kept : diverged.map((_, m) => m);
}

/** `population`'s members `kept` alone, as a forecaster of kept.length members (each reads its own windows). */
export function keptForecaster(population: Forecaster, kept: readonly number[]): Forecaster {
  if (kept.length === population.members) return population;
  return {
    config: population.config,
    members: kept.length,
    async predictMembers(x, count, each) {
      if (!each) {
        const all = await population.predictMembers(x, count);
        return kept.map((m) => all[m]);
      }
      // Each kept member's windows in its own place; the others read the first kept member's.
      const stride = x.length / kept.length;
      const full = new Float32Array(population.members * stride);
      for (let m = 0; m < population.members; m++) {
        const k = Math.max(0, kept.indexOf(m));
        full.set(x.subarray(k * stride, (k + 1) * stride), m * stride);
      }
      const all = await population.predictMembers(full, count, true);
      return kept.map((m) => all[m]);
    },
  };
}

export function ensembleLevels(members: readonly PartLevels[]): PartLevels {
  return {
    train: meanLevels(members.map((m) => m.train)),
    validation: meanLevels(members.map((m) => m.validation)),
    test: meanLevels(members.map((m) => m.test)),
  };
}

/**
 * The q-quantile of the members' values at every point (linear between order statistics, as numpy's
 * default): q = 0.5 the median, 0.1 and 0.9 a band holding the middle 80% of the members.
 */
export function quantileLevels(members: readonly Float64Array[], q: number): Float64Array {
  const K = members.length;
  const out = new Float64Array(K === 0 ? 0 : members[0].length);
  const values = new Float64Array(K);
  for (let i = 0; i < out.length; i++) {
    for (let m = 0; m < K; m++) values[m] = members[m][i];
    values.sort();
    const at = q * (K - 1);
    const below = Math.floor(at);
    const above = Math.min(K - 1, below + 1);
    out[i] = values[below] + (at - below) * (values[above] - values[below]);
  }
  return out;
}
