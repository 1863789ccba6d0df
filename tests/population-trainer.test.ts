// The population trainer (src/train/population.ts) judges each member on its own: a random population
// (mixed learning rates, optimizers, losses, seeds, uneven ranges of the windows, a member without
// validation, one that diverges, early stopping) gives every member exactly the result of the same
// member trained alone by trainToEnd. The population here is K CPU backends in a loop (the engines'
// own tests compare their shared-dispatch populations with single backends), so this checks the loop:
// orders, learning rates, divergence, best epochs and patience, member by member.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GpuFailure } from '../src/backends/backend.js';
import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import type { Population, WindowRange } from '../src/backends/population.js';
import type { Dataset } from '../src/data/dataset.js';
import { Rng } from '../src/data/rng.js';
import { initParams } from '../src/model/init.js';
import { paramLayout } from '../src/model/layout.js';
import { DEFAULT_OPTIMIZER, type OptimizerName } from '../src/model/optimizer.js';
import { type MemberSpec, trainPopulation, trainPopulationToEnd } from '../src/train/population.js';
import { startRun } from '../src/train/run.js';
import { type TrainResult, trainToEnd } from '../src/train/trainer.js';
import { sineRunSettings } from './helpers.js';
import { loopedPopulation } from './population-loop.js';

function slice(data: Dataset, range: WindowRange): Dataset {
  const { window: T, inputSize: I, outputSize: O } = data;
  return {
    ...data,
    count: range.count,
    x: data.x.slice(range.start * T * I, (range.start + range.count) * T * I),
    t: data.t.slice(range.start * O, (range.start + range.count) * O),
  };
}

const run = startRun(sineRunSettings({ seed: 4, points: 90, noise: 0.1, window: 6, hiddenSizes: [5, 3] }));
const training = run.prepared.train.count;
const layout = paramLayout(run.config);
// The last 20 windows are the shared validation windows; the members train on ranges of the rest.
const data = slice(run.prepared.train, { start: 0, count: training - 20 });
const validation = slice(run.prepared.train, { start: training - 20, count: 20 });

interface Drawn {
  seed: number;
  optimizer: OptimizerName;
  loss: 'sse' | 'mse';
  learningRate: number;
  lrDecay: number;
  clip: boolean;
  start: number;
  count: number;
  validationStart: number;
  validationCount: number;
}

const member = fc.record<Drawn>({
  seed: fc.integer({ min: 1, max: 1000 }),
  optimizer: fc.constantFrom<OptimizerName>('sgd', 'momentum', 'adam'),
  loss: fc.constantFrom('sse', 'mse'),
  // 30 makes SGD diverge on the blog's loss: a member that stops alone.
  learningRate: fc.constantFrom(0.003, 0.01, 0.05, 30),
  lrDecay: fc.constantFrom(1, 0.9),
  clip: fc.boolean(),
  start: fc.integer({ min: 0, max: 20 }),
  count: fc.integer({ min: 8, max: 40 }),
  validationStart: fc.integer({ min: 0, max: 10 }),
  validationCount: fc.integer({ min: 0, max: 10 }),
});

function specOf(drawn: Drawn): MemberSpec & { params: Float32Array } {
  const rng = new Rng(drawn.seed);
  return {
    rng,
    params: initParams(layout, rng),
    learningRate: drawn.learningRate,
    lrDecay: drawn.lrDecay,
    optimizer: { ...DEFAULT_OPTIMIZER, name: drawn.optimizer, clipNorm: drawn.clip ? 1 : null },
    loss: drawn.loss,
    training: { start: drawn.start, count: Math.min(drawn.count, data.count - drawn.start) },
    validation: { start: drawn.validationStart, count: drawn.validationCount },
  };
}

const SHARED = { epochs: 7, batchSize: 4, reportEvery: 3 } as const;

async function alone(spec: MemberSpec & { params: Float32Array }, keepBest: boolean, patience: number | null) {
  const backend = new CpuBackend(layout);
  backend.setParams(spec.params);
  const own = spec.validation as WindowRange;
  return trainToEnd(backend, slice(data, spec.training as WindowRange), spec.rng.clone(), {
    ...SHARED,
    learningRate: spec.learningRate,
    lrDecay: spec.lrDecay,
    optimizer: spec.optimizer,
    loss: spec.loss,
    validation: own.count > 0 ? slice(validation, own) : null,
    keepBest,
    patience,
  });
}

/** The same end: validation errors, weights, kept and best epoch, early stop and last epoch. */
function expectSameEnd(got: TrainResult, want: TrainResult, where: string): void {
  expect(got.validationLosses, where).toEqual(want.validationLosses);
  expect(got.params, where).toEqual(want.params);
  expect(got.kept.epoch, where).toBe(want.kept.epoch);
  expect(got.best?.epoch ?? null, where).toBe(want.best?.epoch ?? null);
  expect(got.stoppedEarly, where).toBe(want.stoppedEarly);
  expect(got.epoch, where).toBe(want.epoch);
}

function expectSame(together: TrainResult, single: TrainResult, m: number): void {
  const where = `member ${m}`;
  expect(together.losses, where).toEqual(single.losses);
  expect(together.diverged, where).toEqual(single.diverged);
  expectSameEnd(together, single, where);
}

describe('a population trains each member as it would train alone', () => {
  it('random populations, with and without keeping the best epoch', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(member, { minLength: 2, maxLength: 5 }),
        fc.boolean(),
        fc.constantFrom(null, 2),
        async (drawn, keepBest, patience) => {
          const specs = drawn.map(specOf);
          const population = loopedPopulation(specs.map(() => new CpuBackend(layout)));
          specs.forEach((spec, m) => {
            population.setMemberParams(m, spec.params);
          });
          const options = { ...SHARED, validation, keepBest, patience };
          const trained = trainPopulation(population, data, specs, options);
          let next = await trained.next();
          while (!next.done) next = await trained.next();
          for (const [m, spec] of specs.entries()) {
            expectSame(next.value.members[m], await alone(spec, keepBest, patience), m);
          }
        },
      ),
      { numRuns: 12 },
    );
  });

  it('reports while any member trains, each frozen member as it stood', async () => {
    const specs = [specOf({ ...BASE, learningRate: 30 }), specOf({ ...BASE, seed: 9, learningRate: 0.01 })];
    const population = loopedPopulation(specs.map(() => new CpuBackend(layout)));
    specs.forEach((spec, m) => {
      population.setMemberParams(m, spec.params);
    });
    const trained = trainPopulation(population, data, specs, { ...SHARED, reportEvery: 2 });
    const reports = [];
    let next = await trained.next();
    while (!next.done) {
      reports.push(next.value);
      next = await trained.next();
    }
    expect(reports.map((r) => r.epoch)).toEqual([2, 4, 6]);
    // The diverging member stopped at its first report; the other went on to the end.
    expect(next.value.members[0].diverged).not.toBeNull();
    expect(next.value.members[1].diverged).toBeNull();
    expect(next.value.members[1].epoch).toBe(SHARED.epochs);
    expect(reports[2].members[0].epoch).toBeLessThanOrEqual(2);
  });
});

describe('validation errors alone (a search: PopulationOptions.trainingError false)', () => {
  async function trainWith(
    specs: (MemberSpec & { params: Float32Array })[],
    trainingError: boolean,
    keepBest: boolean,
  ) {
    const population = loopedPopulation(specs.map(() => new CpuBackend(layout)));
    specs.forEach((spec, m) => {
      population.setMemberParams(m, spec.params);
    });
    const options = { ...SHARED, validation, keepBest, patience: 2, trainingError };
    const clones = specs.map((spec) => ({ ...spec, rng: spec.rng.clone() }));
    return (await trainPopulationToEnd(population, data, clones, options)).members;
  }

  it('every member ends as with its training errors (best epoch, early stop, divergence), its losses empty', async () => {
    const withValidation = member.map((drawn) => ({ ...drawn, validationCount: 1 + (drawn.validationCount % 10) }));
    await fc.assert(
      fc.asyncProperty(
        fc.array(withValidation, { minLength: 2, maxLength: 4 }),
        fc.boolean(),
        async (drawn, keepBest) => {
          const specs = drawn.map(specOf);
          const alone = await trainWith(specs, false, keepBest);
          const full = await trainWith(specs, true, keepBest);
          for (const [m, got] of alone.entries()) {
            const want = full[m];
            const where = `member ${m}`;
            expect(got.losses, where).toEqual([]);
            expect(got.finalLoss, where).toBeNaN();
            expectSameEnd(got, want, where);
            expect(got.diverged?.epoch ?? null, where).toBe(want.diverged?.epoch ?? null);
            expect(got.diverged?.restoredEpoch ?? null, where).toBe(want.diverged?.restoredEpoch ?? null);
          }
        },
      ),
      { numRuns: 10 },
    );
  });

  it('a diverging member is judged on its validation error and says so', async () => {
    const specs = [
      specOf({ ...BASE, learningRate: 30, validationCount: 5 }),
      specOf({ ...BASE, seed: 9, validationCount: 5 }),
    ];
    const [diverged, going] = await trainWith(specs, false, false);
    expect(diverged.diverged?.message).toMatch(/the (validation error became|error became finite but the weights)/);
    expect(diverged.validationLosses.length).toBe((diverged.diverged?.epoch ?? 0) - 1);
    expect(going.diverged).toBeNull();
    expect(going.validationLosses).toHaveLength(SHARED.epochs);
  });

  it('with a member lacking validation windows, every member computes its training errors as usual', async () => {
    const specs = [specOf({ ...BASE, validationCount: 0 }), specOf({ ...BASE, seed: 9, validationCount: 5 })];
    const alone = await trainWith(specs, false, true);
    const full = await trainWith(specs, true, true);
    for (const m of [0, 1]) {
      expect(alone[m].losses).toHaveLength(SHARED.epochs);
      expect(alone[m].losses).toEqual(full[m].losses);
      expect(alone[m].validationLosses).toEqual(full[m].validationLosses);
    }
  });
});

describe('a failed population goes on elsewhere', () => {
  it('every member resumes on the fallback from its last report, and ends as it would have', async () => {
    const specs = [
      specOf({ ...BASE, seed: 5 }),
      specOf({ ...BASE, seed: 6, learningRate: 30 }),
      specOf({ ...BASE, seed: 7 }),
    ];
    const start = (population: Population) => {
      specs.forEach((spec, m) => {
        population.setMemberParams(m, spec.params);
      });
      return population;
    };
    const options = { ...SHARED, epochs: 9, validation, keepBest: true };
    const uninterrupted = await trainPopulationToEnd(
      start(loopedPopulation(specs.map(() => new CpuBackend(layout)))),
      data,
      specs,
      options,
    );
    const failing = start(loopedPopulation(specs.map(() => new CpuBackend(layout))));
    let epochs = 0;
    const trainMembers = failing.trainMembers.bind(failing);
    failing.trainMembers = async (epoch, epochOptions) => {
      if (++epochs === 5) throw new GpuFailure('WebGPU failed: the device was lost');
      await trainMembers(epoch, epochOptions);
    };
    const switches: [string, number][] = [];
    const reports: number[] = [];
    const moved = await trainPopulationToEnd(
      failing,
      data,
      specs,
      options,
      (report) => {
        reports.push(report.epoch);
      },
      {
        create: async () => loopedPopulation(specs.map(() => new CpuBackend(layout))),
        onSwitch: (message, from) => switches.push([message, from]),
      },
    );
    expect(switches).toEqual([
      [expect.stringMatching(/failed \(WebGPU failed: the device was lost\); going on from epoch 3$/), 3],
    ]);
    expect(moved.switched).toMatch(/going on from epoch 3/);
    expect(moved.population).not.toBe(failing);
    expect(reports).toEqual([3, 3, 6]);
    for (const m of specs.keys()) {
      expect(moved.members[m].losses, `member ${m}`).toEqual(uninterrupted.members[m].losses);
      expect(moved.members[m].params, `member ${m}`).toEqual(uninterrupted.members[m].params);
      expect(moved.members[m].diverged, `member ${m}`).toEqual(uninterrupted.members[m].diverged);
    }
    // The member that diverged before the failure stayed as it ended.
    expect(moved.members[1].diverged).not.toBeNull();
  });

  it('anything but a GPU failure surfaces as it is', async () => {
    const specs = [specOf(BASE)];
    const failing = loopedPopulation([new CpuBackend(layout)]);
    failing.setMemberParams(0, specs[0].params);
    failing.trainMembers = async () => {
      throw new TypeError('a bug');
    };
    let created = 0;
    const fallback = {
      create: () => {
        created++;
        return loopedPopulation([new CpuBackend(layout)]);
      },
    };
    await expect(trainPopulationToEnd(failing, data, specs, SHARED, undefined, fallback)).rejects.toThrow(/^a bug$/);
    expect(created).toBe(0);
  });
});

const BASE: Drawn = {
  seed: 3,
  optimizer: 'sgd',
  loss: 'sse',
  learningRate: 0.01,
  lrDecay: 1,
  clip: false,
  start: 0,
  count: 40,
  validationStart: 0,
  validationCount: 10,
};
