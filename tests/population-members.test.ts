// A population's members on one run's data (src/train/members.ts): member m with seed s starts exactly
// as the single run of seed s on the run's data (RunSettings.dataSeed), the member with the run's own
// seed is the run itself, and the ensemble's mean and quantiles are what they say.

import { describe, expect, it } from 'vitest';
import {
  consecutiveSeeds,
  ensembleMembers,
  keptForecaster,
  meanLevels,
  memberStarts,
  quantileLevels,
} from '../src/train/members.js';
import { type RunSettings, startRun } from '../src/train/run.js';
import { sineRunSettings } from './helpers.js';

const SETTINGS: RunSettings = sineRunSettings({ seed: 7, points: 60, noise: 0.2, window: 5, hiddenSizes: [4] });

describe('member seeds', () => {
  it("member s starts as a run of seed s on the run's data, and the run's own seed is the run", () => {
    const run = startRun(SETTINGS);
    const members = memberStarts(SETTINGS, run, consecutiveSeeds(7, 4));
    expect(members.map((m) => m.seed)).toEqual([7, 8, 9, 10]);
    expect(members[0].params).toEqual(run.params);
    expect(members[0].rng.nextUint32()).toBe(run.rng.clone().nextUint32());
    for (const member of members.slice(1)) {
      const alone = startRun({ ...SETTINGS, seed: member.seed, dataSeed: 7 });
      expect(alone.prepared.train.x).toEqual(run.prepared.train.x);
      expect(member.params).toEqual(alone.params);
      expect(member.rng.clone().nextUint32()).toBe(alone.rng.clone().nextUint32());
      expect(member.params).not.toEqual(run.params);
    }
  });

  it('a data seed changes the data and nothing else', () => {
    const own = startRun({ ...SETTINGS, seed: 8 });
    const shared = startRun({ ...SETTINGS, seed: 8, dataSeed: 7 });
    expect(shared.prepared.train.x).not.toEqual(own.prepared.train.x);
    expect(shared.params).toEqual(own.params);
  });
});

describe('ensembles', () => {
  it('are made of the members that did not diverge, or all where every one did', () => {
    expect(ensembleMembers([false, true, false, true])).toEqual([0, 2]);
    expect(ensembleMembers([true, true])).toEqual([0, 1]);
    expect(ensembleMembers([false])).toEqual([0]);
  });

  it('forecast with their kept members alone, each reading its own windows', async () => {
    // Four members; member m's output for a window is 10 m + the window's first value.
    const calls: { x: number[]; count: number; each: boolean | undefined }[] = [];
    const population = {
      config: { inputSize: 1, hiddenSizes: [2], outputSize: 1, window: 1 },
      members: 4,
      async predictMembers(x: Float32Array, count: number, each?: boolean) {
        calls.push({ x: [...x], count, each });
        return Array.from({ length: 4 }, (_, m) =>
          Float32Array.from({ length: count }, (_, n) => 10 * m + x[(each ? m * count : 0) + n]),
        );
      },
    };
    const kept = keptForecaster(population, [1, 3]);
    expect(kept.members).toBe(2);
    // Each kept member its own windows: member 1 reads [1, 2], member 3 reads [5, 6].
    const own = await kept.predictMembers(Float32Array.of(1, 2, 5, 6), 2, true);
    expect(own.map((o) => [...o])).toEqual([
      [11, 12],
      [35, 36],
    ]);
    expect(calls[0]).toEqual({ x: [1, 2, 1, 2, 1, 2, 5, 6], count: 2, each: true });
    // Shared windows: every member reads the same, the kept ones' outputs come back.
    const shared = await kept.predictMembers(Float32Array.of(4), 1);
    expect(shared.map((o) => [...o])).toEqual([[14], [34]]);
    // Every member kept: the population itself.
    expect(keptForecaster(population, [0, 1, 2, 3])).toBe(population);
  });

  const members = [Float64Array.of(1, 10), Float64Array.of(3, 30), Float64Array.of(2, 20), Float64Array.of(6, 0)];

  it('the mean of the members at every point', () => {
    expect(Array.from(meanLevels(members) ?? [])).toEqual([3, 15]);
    expect(meanLevels([null, null])).toBeNull();
  });

  it('quantiles between order statistics, as numpy', () => {
    expect(Array.from(quantileLevels(members, 0.5))).toEqual([2.5, 15]);
    expect(Array.from(quantileLevels(members, 0))).toEqual([1, 0]);
    expect(Array.from(quantileLevels(members, 1))).toEqual([6, 30]);
    // numpy.quantile([1, 2, 3, 6], 0.1) = 1.3
    expect(quantileLevels(members, 0.1)[0]).toBeCloseTo(1.3, 12);
  });
});
