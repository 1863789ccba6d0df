// A search (src/train/search.ts): every configuration of the grid trained with every seed, each seed's
// errors those of the same model trained alone, the choice on the validation part only, and the
// chosen configuration's ensemble the mean of its seeds' predictions.

import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import { errorsInUnits, partTargets } from '../src/data/metrics.js';
import { InputError } from '../src/model/errors.js';
import type { ParamLayout } from '../src/model/layout.js';
import { DEFAULT_OPTIMIZER } from '../src/model/optimizer.js';
import { predictParts } from '../src/train/evaluate.js';
import { startRun } from '../src/train/run.js';
import { keptTraining } from '../src/train/savedModel.js';
import { type Configuration, choose, runSearch, type SearchSettings } from '../src/train/search.js';
import { trainToEnd } from '../src/train/trainer.js';
import { loopedPopulation } from './population-loop.js';

const SOURCE = { kind: 'generated', spec: { kind: 'sine', points: 80, noise: 0.1 } } as const;

const SETTINGS: SearchSettings = {
  run: { source: SOURCE, trainFraction: 0.7, validationFraction: 0.15 },
  grid: { learningRates: [0.003, 0.03], hiddenSizes: [[3], [5]], windows: [4, 6], seeds: [11, 12] },
  training: {
    epochs: 4,
    batchSize: 4,
    reportEvery: 2,
    optimizer: DEFAULT_OPTIMIZER,
    loss: 'sse',
    lrDecay: 1,
  },
};

const openLooped = async (layout: ParamLayout, members: number) =>
  loopedPopulation(Array.from({ length: members }, () => new CpuBackend(layout)));

describe('search', () => {
  it('trains every configuration with every seed, each as it would train alone, and chooses on validation', async () => {
    const finished: number[] = [];
    const result = await runSearch(SETTINGS, openLooped, (c, done, total) => {
      finished.push(c.index);
      expect(total).toBe(8);
      expect(done).toBe(finished.length);
    });
    expect(finished).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(result.configurations.map((c) => [c.window, c.hidden[0], c.lr])).toEqual([
      [4, 3, 0.003],
      [4, 3, 0.03],
      [4, 5, 0.003],
      [4, 5, 0.03],
      [6, 3, 0.003],
      [6, 3, 0.03],
      [6, 5, 0.003],
      [6, 5, 0.03],
    ]);
    // One configuration's seed, trained alone, gives the errors the search reports for it.
    const c = result.configurations[5];
    const run = startRun({ ...SETTINGS.run, window: c.window, hiddenSizes: c.hidden, seed: 12, dataSeed: 11 });
    const backend = new CpuBackend(run.layout);
    backend.setParams(run.params);
    await trainToEnd(backend, run.prepared.train, run.rng, {
      ...SETTINGS.training,
      learningRate: c.lr,
      validation: run.prepared.validation,
    });
    const parts = await predictParts(backend, run.prepared);
    const rmse = (part: 'validation' | 'test') =>
      errorsInUnits(run.prepared, partTargets(run.prepared, part), parts[part] as Float64Array).rmse[0];
    expect(c.members[1].validation).toBe(rmse('validation'));
    expect(c.members[1].test).toBe(rmse('test'));
    const values = c.members.map((m) => m.validation as number);
    expect(c.validation).toEqual({
      mean: (values[0] + values[1]) / 2,
      min: Math.min(...values),
      max: Math.max(...values),
    });
    // The choice is the lowest mean validation error.
    const lowest = Math.min(...result.configurations.map((x) => x.validation?.mean ?? Number.POSITIVE_INFINITY));
    expect(result.configurations[result.chosen.index].validation?.mean).toBe(lowest);
    expect(result.chosen.reason).toMatch(/lowest mean validation RMSE.*test part was not used/);
    expect(result.chosenRun.params).toHaveLength(2);
    expect(result.ensemble.model.test?.rmse[0]).toBeGreaterThan(0);
  });

  it('the test errors never choose: a configuration best on test but not on validation is not chosen', () => {
    const config = (index: number, validation: number, test: number): Configuration => ({
      index,
      lr: 0.01,
      hidden: [4],
      window: 5,
      seeds: [1],
      validation: { mean: validation, min: validation, max: validation },
      test: { mean: test, min: test, max: test },
      members: [],
    });
    expect(choose([config(0, 2, 0.1), config(1, 1, 5), config(2, 3, 0.01)]).index).toBe(1);
  });

  it('says its mean is over the seeds that did not diverge', () => {
    const member = (seed: number, diverged: boolean) => ({
      seed,
      validation: diverged ? null : 1,
      test: diverged ? null : 1,
      bestEpoch: null,
      diverged,
    });
    const chosen = choose([
      {
        index: 0,
        lr: 0.01,
        hidden: [4],
        window: 5,
        seeds: [0, 1, 2],
        validation: { mean: 1, min: 1, max: 1 },
        test: { mean: 1, min: 1, max: 1 },
        members: [member(0, false), member(1, true), member(2, false)],
      },
    ]);
    expect(chosen.reason).toBe(
      'the lowest mean validation RMSE, 1.00 over 2 seeds; the test part was not used to choose',
    );
  });

  it("computes the members' training errors only for a history to keep: the same search either way", async () => {
    const settings = { ...SETTINGS, grid: { ...SETTINGS.grid, windows: [4], hiddenSizes: [[3]] } };
    const reported = await runSearch(settings, openLooped);
    const kept = await runSearch({ ...settings, keepHistory: true }, openLooped);
    expect(reported.configurations).toEqual(kept.configurations);
    expect(reported.chosen).toEqual(kept.chosen);
    expect(reported.chosenRun.params).toEqual(kept.chosenRun.params);
    for (const [m, result] of kept.chosenRun.results.entries()) {
      expect(result.losses).toHaveLength(SETTINGS.training.epochs);
      expect(reported.chosenRun.results[m].losses).toEqual([]);
      expect(reported.chosenRun.results[m].validationLosses).toEqual(result.validationLosses);
      expect(keptTraining(result, DEFAULT_OPTIMIZER, 'sse').training.losses).toEqual(result.losses);
      // A model file's history is never written without its training errors.
      expect(() => keptTraining(reported.chosenRun.results[m], DEFAULT_OPTIMIZER, 'sse')).toThrow(/training errors/);
    }
  });

  it('refuses a grid without values, and data without a validation part', async () => {
    await expect(runSearch({ ...SETTINGS, grid: { ...SETTINGS.grid, learningRates: [] } }, openLooped)).rejects.toThrow(
      InputError,
    );
    await expect(
      runSearch({ ...SETTINGS, run: { ...SETTINGS.run, validationFraction: 0 } }, openLooped),
    ).rejects.toThrow(/validation part/);
  });
});
