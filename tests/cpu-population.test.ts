// The CPU backend's populations (src/backends/population.ts): K members trained together, spread over
// member threads, each member bit for bit the same model trained alone by a CpuBackend of one member
// (same parameters, optimizer, loss, orders, learning rates, windows): its errors, its weights and its
// optimizer's state, compared with Object.is, on one thread and on two, on either engine. Random
// populations draw each member's seed, optimizer (clipping or not), loss, learning rate, training and
// validation ranges (one member has none), and leave members out of some epochs. Also: bad input is
// an InputError naming the field, a population too large for memory is refused naming the largest K
// that fits, a member thread that ends is an error and not a hang, and dispose() ends the threads. And
// the population trainer (src/train/population.ts) on a CPU population gives each member its result
// alone.

import { EventEmitter } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import { DisposedError, type EpochLosses } from '../src/backends/backend.js';
import { CpuBackend, type CpuKernels, POPULATION_BYTES, populationBytes } from '../src/backends/cpu/cpuBackend.js';
import { createCpuPopulation } from '../src/backends/cpu/createCpuBackend.js';
import { FastLstm, fastLstmBytes, fastLstmStateBytes } from '../src/backends/cpu/fastLstm.js';
import { kernelSimd, privateKernels } from '../src/backends/cpu/kernelLoader.js';
import { liveNodeThreads, nodeMemberThread, nodeThreadHost } from '../src/backends/cpu/nodeThreads.js';
import type { CpuThreadHost, MemberThread } from '../src/backends/cpu/threads.js';
import type { MemberOptimizer, Population, WindowRange } from '../src/backends/population.js';
import type { Dataset } from '../src/data/dataset.js';
import { Rng } from '../src/data/rng.js';
import { InputError } from '../src/model/errors.js';
import { initParams } from '../src/model/init.js';
import { type ModelConfig, type ParamLayout, paramLayout } from '../src/model/layout.js';
import { DEFAULT_OPTIMIZER, type OptimizerName, type OptimizerState } from '../src/model/optimizer.js';
import { trainPopulation, trainPopulationToEnd } from '../src/train/population.js';
import { startRun } from '../src/train/run.js';
import { trainToEnd } from '../src/train/trainer.js';
import { randomDataset } from './cpu-cases.js';
import { sineRunSettings } from './helpers.js';

const opened: { dispose(): Promise<void> }[] = [];
afterAll(async () => {
  await Promise.all(opened.map((backend) => backend.dispose()));
});

/** Waits (up to 5 s) until at most `count` worker threads are alive: Node ends a terminated worker soon, not at once. */
async function threadsDownTo(count: number): Promise<number> {
  const deadline = Date.now() + 5000;
  while (liveNodeThreads() > count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return liveNodeThreads();
}

/** The first index where a and b differ (Object.is: -0 is not 0, NaN is NaN), or -1. */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

function expectSame(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  const at = firstDifference(actual, expected);
  const shown = at < 0 ? '' : `: ${actual[at]} against ${expected[at]} at ${at}`;
  expect(at, `${what}${shown}`).toBe(-1);
}

/** One member's settings and its run alone. */
interface MemberPlan {
  params: Float32Array;
  optimizer: MemberOptimizer;
  learningRate: number;
  training: WindowRange;
  validation: WindowRange;
  /** Its order of every epoch, positions in its training range. */
  orders: Uint32Array[];
  /** Whether it trains in each epoch. */
  active: boolean[];
}

interface PopulationPlan {
  layout: ParamLayout;
  batch: number;
  train: Dataset;
  validation: Dataset;
  members: MemberPlan[];
  epochs: number;
  /** Epochs (1..) whose errors are not computed. */
  unevaluated: number[];
  /** Epochs after which the errors are read. */
  reads: number[];
}

const OPTIMIZER_NAMES: OptimizerName[] = ['sgd', 'momentum', 'adam'];

/** A random population of `members` on `config`: every member's settings drawn from `seed`. */
function randomPlan(config: ModelConfig, members: number, seed: number): PopulationPlan {
  const rng = new Rng(seed);
  const int = (lo: number, hi: number) => lo + rng.below(hi - lo + 1);
  const layout = paramLayout(config);
  const batch = int(2, 5);
  const train = randomDataset(config, int(30, 45), seed + 1);
  const validation = randomDataset(config, int(10, 20), seed + 2);
  const epochs = 4;
  const range = (count: number, least: number): WindowRange => {
    const n = int(least, count);
    return { start: int(0, count - n), count: n };
  };
  const plans = Array.from({ length: members }, (_, m): MemberPlan => {
    const name = OPTIMIZER_NAMES[m % 3];
    const training = range(train.count, batch);
    const order = new Rng(seed * 100 + m);
    return {
      params: initParams(layout, new Rng(seed * 1000 + m)),
      optimizer: {
        optimizer: { ...DEFAULT_OPTIMIZER, name, momentum: 0.8, clipNorm: rng.below(2) === 0 ? null : 0.5 },
        loss: rng.below(2) === 0 ? 'sse' : 'mse',
      },
      learningRate: (name === 'adam' ? 0.005 : 0.05) * (0.5 + rng.uniform()),
      training,
      // The second member has no validation windows.
      validation: m === 1 ? { start: 0, count: 0 } : range(validation.count, 1),
      orders: Array.from({ length: epochs }, () => order.permutation(new Uint32Array(training.count))),
      // The third member sits out the second epoch, the fourth the first two.
      active: Array.from({ length: epochs }, (_, e) => !((m === 2 && e === 1) || (m === 3 && e < 2))),
    };
  });
  return { layout, batch, train, validation, members: plans, epochs, unevaluated: [3], reads: [2, 4] };
}

/** A dataset of `range` of `data`'s windows (copied). */
function windowsOf(data: Dataset, { start, count }: WindowRange): Dataset {
  const { window, inputSize, outputSize } = data;
  const x = data.x.slice(start * window * inputSize, (start + count) * window * inputSize);
  const t = data.t.slice(start * outputSize, (start + count) * outputSize);
  return { count, window, inputSize, outputSize, x, t };
}

/** What a run leaves: each member's errors read at plan.reads, its parameters and optimizer state. */
interface Outcome {
  losses: EpochLosses[][];
  params: Float32Array[];
  states: OptimizerState[];
}

/** Each member trained alone by a CpuBackend of one member. */
async function alone(plan: PopulationPlan, kernels: CpuKernels): Promise<Outcome> {
  const outcome: Outcome = { losses: [], params: [], states: [] };
  for (const member of plan.members) {
    const backend = new CpuBackend(plan.layout, { kernels });
    backend.setOptimizer(member.optimizer.optimizer, member.optimizer.loss);
    backend.setTrainingData(windowsOf(plan.train, member.training), plan.batch);
    backend.setValidationData(member.validation.count > 0 ? windowsOf(plan.validation, member.validation) : null);
    backend.setParams(member.params);
    const reads: EpochLosses[] = [];
    for (let epoch = 1; epoch <= plan.epochs; epoch++) {
      if (member.active[epoch - 1]) {
        await backend.trainEpoch(member.orders[epoch - 1], member.learningRate * 0.9 ** epoch, {
          evaluate: !plan.unevaluated.includes(epoch),
        });
      }
      if (plan.reads.includes(epoch)) reads.push(await backend.readLosses());
    }
    outcome.losses.push(reads);
    outcome.params.push(await backend.readParams());
    outcome.states.push(await backend.readOptimizerState());
    await backend.dispose();
  }
  return outcome;
}

/** The members trained together by `population`. */
async function together(plan: PopulationPlan, population: Population): Promise<Outcome> {
  const { members } = plan;
  population.setMemberOptimizers(members.map((m) => m.optimizer));
  population.setMemberTraining(
    plan.train,
    plan.batch,
    members.map((m) => m.training),
  );
  population.setMemberValidation(
    plan.validation,
    members.map((m) => m.validation),
  );
  members.forEach((member, m) => {
    population.setMemberParams(m, member.params);
  });
  const reads: EpochLosses[][] = [];
  for (let epoch = 1; epoch <= plan.epochs; epoch++) {
    await population.trainMembers(
      {
        orders: members.map((m) => m.orders[epoch - 1]),
        learningRates: members.map((m) => m.learningRate * 0.9 ** epoch),
        active: members.map((m) => m.active[epoch - 1]),
      },
      { evaluate: !plan.unevaluated.includes(epoch) },
    );
    if (plan.reads.includes(epoch)) reads.push(await population.readMemberLosses());
  }
  return {
    losses: members.map((_, m) => reads.map((read) => read[m])),
    params: await population.readMemberParams(),
    states: await population.readMemberOptimizerStates(),
  };
}

function expectSameOutcome(got: Outcome, want: Outcome): void {
  expect(got.params).toHaveLength(want.params.length);
  want.params.forEach((params, m) => {
    got.losses[m].forEach((read, r) => {
      expectSame(read.train, want.losses[m][r].train, `member ${m}, read ${r}: training errors`);
      expectSame(read.validation, want.losses[m][r].validation, `member ${m}, read ${r}: validation errors`);
    });
    expectSame(got.params[m], params, `member ${m}: parameters`);
    expect(got.states[m].name, `member ${m}: optimizer`).toBe(want.states[m].name);
    expect(got.states[m].step, `member ${m}: optimizer steps`).toBe(want.states[m].step);
    expectSame(got.states[m].slots, want.states[m].slots, `member ${m}: optimizer state`);
  });
}

const STACKED: ModelConfig = { inputSize: 2, hiddenSizes: [6, 3], outputSize: 2, window: 4 };
const SINGLE: ModelConfig = { inputSize: 1, hiddenSizes: [9], outputSize: 1, window: 5 };

describe('a population trains each member exactly as alone', () => {
  const cases: { kernels: CpuKernels; threads: number; config: ModelConfig; seed: number }[] = [
    { kernels: 'fast', threads: 1, config: STACKED, seed: 11 },
    { kernels: 'fast', threads: 2, config: STACKED, seed: 11 },
    { kernels: 'fast', threads: 2, config: SINGLE, seed: 12 },
    { kernels: 'fast', threads: 3, config: SINGLE, seed: 13 },
    { kernels: 'reference', threads: 1, config: STACKED, seed: 14 },
    { kernels: 'reference', threads: 2, config: SINGLE, seed: 15 },
  ];
  for (const { kernels, threads, config, seed } of cases) {
    it(`${kernels} kernels, ${threads} thread${threads > 1 ? 's' : ''}, ${config.hiddenSizes.length} layer(s): 7 members`, async () => {
      const plan = randomPlan(config, 7, seed);
      const population = await createCpuPopulation(plan.layout, 7, { kernels, threads, host: nodeThreadHost });
      opened.push(population);
      expect(population.threads).toBe(threads);
      expect(population.threadsNote).toBeNull();
      const got = await together(plan, population);
      expectSameOutcome(got, await alone(plan, kernels));
      // One WebAssembly memory a thread, its members taking turns in it; none on the reference kernels.
      expect(await population.memories()).toBe(kernels === 'fast' ? threads : 0);
      // Errors of the epochs each member trained and evaluated, no others.
      expect(got.losses[3][0].train).toHaveLength(0);
      expect(got.losses[2][0].train).toHaveLength(1);
      expect(got.losses[0][0].validation).toHaveLength(2);
      expect(got.losses[0][1].train).toHaveLength(1);
      expect(got.losses[1][1].validation).toHaveLength(0);
      await population.dispose();
    });
  }

  it('predictions and gradients of every member, on windows of its own or on shared ones', async () => {
    const plan = randomPlan(STACKED, 5, 21);
    const population = await createCpuPopulation(plan.layout, 5, { threads: 2, host: nodeThreadHost });
    opened.push(population);
    population.setMemberOptimizers(plan.members.map((m) => m.optimizer));
    plan.members.forEach((member, m) => {
      population.setMemberParams(m, member.params);
    });
    const { x, t } = plan.train;
    const count = 6;
    const windowValues = count * STACKED.window * STACKED.inputSize;
    const shared = await population.predictMembers(x, count);
    const each = await population.predictMembers(x, count, true);
    const gradients = await population.memberGradients(x, t, 3);
    for (const [m, member] of plan.members.entries()) {
      const single = new CpuBackend(plan.layout);
      single.setOptimizer(member.optimizer.optimizer, member.optimizer.loss);
      single.setParams(member.params);
      expectSame(shared[m], await single.predict(x, count), `member ${m}: predictions`);
      const own = x.subarray(m * windowValues, (m + 1) * windowValues);
      expectSame(each[m], await single.predict(own, count), `member ${m}: predictions of its own windows`);
      const want = await single.gradients(x, t, 3);
      expect(Object.is(gradients[m].loss, want.loss), `member ${m}: loss`).toBe(true);
      expectSame(gradients[m].y, want.y, `member ${m}: outputs`);
      expectSame(gradients[m].grads, want.grads, `member ${m}: gradients`);
      await single.dispose();
    }
    await population.dispose();
  });
});

describe('the population trainer on a CPU population', () => {
  it('gives every member the result trainToEnd gives it alone: errors, best epoch, divergence, weights', async () => {
    const run = startRun(sineRunSettings({ seed: 4, points: 80, noise: 0.1, window: 6, hiddenSizes: [5, 3] }));
    const train = run.prepared.train;
    const data = windowsOf(train, { start: 0, count: train.count - 20 });
    const validation = windowsOf(train, { start: train.count - 20, count: 20 });
    const shared = { epochs: 6, batchSize: 4, reportEvery: 2, keepBest: true, patience: 3 } as const;
    const rng = new Rng(8);
    // Learning rate 30 makes SGD diverge on the blog's loss: a member that stops alone.
    const rates = [30, 0.01, 0.003, 0.05, 0.01];
    const specs = rates.map((learningRate, m) => {
      const own = new Rng(50 + m);
      const count = 8 + rng.below(data.count - 8);
      return {
        rng: own,
        params: initParams(run.layout, own),
        learningRate,
        lrDecay: m % 2 === 0 ? 1 : 0.9,
        optimizer: { ...DEFAULT_OPTIMIZER, name: OPTIMIZER_NAMES[m % 3], clipNorm: m === 3 ? 1 : null },
        loss: m % 2 === 0 ? ('sse' as const) : ('mse' as const),
        training: { start: rng.below(data.count - count + 1), count },
        validation: m === 2 ? { start: 0, count: 0 } : { start: rng.below(10), count: 1 + rng.below(10) },
      };
    });
    const population = await createCpuPopulation(run.layout, specs.length, { threads: 2, host: nodeThreadHost });
    opened.push(population);
    specs.forEach((spec, m) => {
      population.setMemberParams(m, spec.params);
    });
    const trained = trainPopulation(population, data, specs, { ...shared, validation });
    let next = await trained.next();
    while (!next.done) next = await trained.next();
    for (const [m, spec] of specs.entries()) {
      const single = new CpuBackend(run.layout);
      single.setParams(spec.params);
      const { training, validation: own, params: _params, ...settings } = spec;
      const want = await trainToEnd(single, windowsOf(data, training), spec.rng.clone(), {
        ...shared,
        ...settings,
        validation: own.count > 0 ? windowsOf(validation, own) : null,
      });
      const got = next.value.members[m];
      expect(got.losses, `member ${m}`).toEqual(want.losses);
      expect(got.validationLosses, `member ${m}`).toEqual(want.validationLosses);
      expectSame(got.params, want.params, `member ${m}: weights`);
      expect(got.kept.epoch, `member ${m}`).toBe(want.kept.epoch);
      expect(got.diverged, `member ${m}`).toEqual(want.diverged);
      expect(got.stoppedEarly, `member ${m}`).toBe(want.stoppedEarly);
    }
    expect(next.value.members[0].diverged).not.toBeNull();
    await population.dispose();
  });

  it('epochs of validation errors alone, over the member threads: the same validation errors and weights, no training errors', async () => {
    const run = startRun(sineRunSettings({ seed: 6, points: 80, noise: 0.1, window: 5, hiddenSizes: [4] }));
    const train = run.prepared.train;
    const data = windowsOf(train, { start: 0, count: train.count - 16 });
    const validation = windowsOf(train, { start: train.count - 16, count: 16 });
    const rates = [0.01, 0.003, 0.05, 0.02, 0.01];
    const both = [];
    for (const trainingError of [false, true]) {
      const population = await createCpuPopulation(run.layout, rates.length, { threads: 2, host: nodeThreadHost });
      opened.push(population);
      const specs = rates.map((learningRate, m) => {
        const own = new Rng(70 + m);
        population.setMemberParams(m, initParams(run.layout, own));
        return { rng: own, learningRate, validation: { start: m, count: 16 - m } };
      });
      const options = { epochs: 4, batchSize: 4, reportEvery: 2, validation, keepBest: true, trainingError };
      both.push((await trainPopulationToEnd(population, data, specs, options)).members);
      await population.dispose();
    }
    const [alone, full] = both;
    for (const [m, got] of alone.entries()) {
      expect(got.losses, `member ${m}`).toEqual([]);
      expect(full[m].losses, `member ${m}`).toHaveLength(4);
      expect(got.validationLosses, `member ${m}`).toEqual(full[m].validationLosses);
      expectSame(got.params, full[m].params, `member ${m}: weights`);
      expect(got.kept.epoch, `member ${m}`).toBe(full[m].kept.epoch);
    }
  });
});

describe('what a population refuses', () => {
  const layout = paramLayout(SINGLE);
  const data = randomDataset(SINGLE, 20, 3);

  /** The field of the InputError `run` throws or rejects with, or 'accepted'. */
  async function field(run: () => unknown): Promise<string> {
    try {
      await run();
    } catch (err) {
      if (err instanceof InputError) return err.field;
      throw err;
    }
    return 'accepted';
  }

  it('bad members, ranges, orders, parameters and states, naming the field', async () => {
    expect(await field(() => createCpuPopulation(layout, 0))).toBe('members');
    expect(await field(() => createCpuPopulation(layout, 2.5))).toBe('members');
    const population = await createCpuPopulation(layout, 3, { threads: 2, host: nodeThreadHost });
    opened.push(population);
    const ranges = [
      { start: 0, count: 20 },
      { start: 5, count: 10 },
      { start: 16, count: 4 },
    ];
    expect(await field(() => population.setMemberTraining(data, 4, ranges.slice(1)))).toBe('training');
    expect(
      await field(() => population.setMemberTraining(data, 4, [ranges[0], { start: 15, count: 6 }, ranges[2]])),
    ).toBe('training[1]');
    expect(await field(() => population.setMemberTraining(data, 5, ranges))).toBe('training[2]');
    expect(await field(() => population.setMemberTraining(data, 0, ranges))).toBe('batch');
    expect(await field(() => population.setMemberTraining({ ...data, window: 4 }, 4, ranges))).toBe('data');
    expect(await field(() => population.setMemberTraining(data, 4, ranges))).toBe('accepted');
    expect(
      await field(() => population.setMemberValidation(data, [ranges[0], ranges[1], { start: -1, count: 2 }])),
    ).toBe('validation[2]');
    expect(await field(() => population.setMemberValidation({ ...data, count: 0 }))).toBe('validation');
    expect(await field(() => population.setMemberValidation(data, [ranges[0]]))).toBe('validation');
    const orders = ranges.map(({ count }) => new Rng(1).permutation(new Uint32Array(count)));
    const epoch = { orders, learningRates: [0.1, 0.1, 0.1] };
    expect(await field(() => population.trainMembers({ ...epoch, orders: orders.slice(1) }))).toBe('orders');
    expect(
      await field(() => population.trainMembers({ ...epoch, orders: [orders[0], orders[1].subarray(3), orders[2]] })),
    ).toBe('orders[1]');
    const outside = Uint32Array.from([0, 1, 2, 4]);
    expect(await field(() => population.trainMembers({ ...epoch, orders: [orders[0], orders[1], outside] }))).toBe(
      'orders[2]',
    );
    expect(await field(() => population.trainMembers({ ...epoch, learningRates: [0.1] }))).toBe('learningRates');
    expect(await field(() => population.trainMembers({ ...epoch, learningRates: [0.1, Number.NaN, 0.1] }))).toBe(
      'learningRates[1]',
    );
    expect(await field(() => population.trainMembers({ ...epoch, active: [true] }))).toBe('active');
    expect(await field(() => population.trainMembers(epoch))).toBe('accepted');
    // A member that sits the epoch out reads nothing of its order.
    const idle = { ...epoch, orders: [orders[0], new Uint32Array(0), orders[2]], active: [true, false, true] };
    expect(await field(() => population.trainMembers(idle))).toBe('accepted');
    expect(await field(() => population.setMemberParams(3, new Float32Array(layout.size)))).toBe('member');
    expect(await field(() => population.setMemberParams(0, new Float32Array(3)))).toBe('params');
    expect(await field(() => population.setMemberOptimizers([]))).toBe('optimizers');
    const adam = { optimizer: { ...DEFAULT_OPTIMIZER, name: 'adam' as const }, loss: 'sse' as const };
    population.setMemberOptimizers([adam, adam, adam]);
    const sgdState = { name: 'sgd' as const, step: 0, slots: new Float32Array(0) };
    expect(await field(() => population.setMemberOptimizerState(1, sgdState))).toBe('optimizer.name');
    expect(await field(() => population.predictMembers(data.x, 7, true))).toBe('x');
    expect(await field(() => population.predictMembers(data.x, 0))).toBe('count');
    expect(await field(() => population.memberGradients(data.x, data.t, 1.5))).toBe('batch');
    // The Backend's methods speak of one model.
    expect(() => population.setParams(new Float32Array(layout.size))).toThrow(/this CPU backend trains 3 members/);
    await expect(population.readLosses()).rejects.toThrow(/this CPU backend trains 3 members/);
    await population.dispose();
  });

  it('a population larger than memory holds, before anything is allocated, naming the largest that fits', async () => {
    // A member keeps its parameters and optimizer state; its thread's one memory holds the largest carve.
    const state = fastLstmStateBytes(layout, DEFAULT_OPTIMIZER);
    const carve = fastLstmBytes(layout, 1, DEFAULT_OPTIMIZER);
    const fit = Math.floor((POPULATION_BYTES - carve) / state);
    const refused = await createCpuPopulation(layout, fit + 1).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(InputError);
    expect((refused as InputError).field).toBe('members');
    expect((refused as InputError).message).toContain(`at most ${fit} fit`);
    expect(populationBytes(layout, new Array(fit).fill(1), new Array(fit).fill(DEFAULT_OPTIMIZER)).total).toBe(
      fit * state + carve,
    );

    // Batches that grow grow the one memory, not every member's: the carve at 64 rows counts once.
    const long = paramLayout({ inputSize: 1, hiddenSizes: [32], outputSize: 1, window: 1000 });
    const members = 200;
    const grown = populationBytes(long, new Array(members).fill(64), new Array(members).fill(DEFAULT_OPTIMIZER));
    expect(grown.total).toBe(
      members * fastLstmStateBytes(long, DEFAULT_OPTIMIZER) + fastLstmBytes(long, 64, DEFAULT_OPTIMIZER),
    );
    // Each member holding that carve, as each held a memory of its own, would not have fit.
    expect(members * fastLstmBytes(long, 64, DEFAULT_OPTIMIZER)).toBeGreaterThan(POPULATION_BYTES);
    const population = await createCpuPopulation(long, members);
    opened.push(population);
    const windows = randomDataset(long.config, 64, 5);
    population.setMemberTraining(windows, 64, new Array(members).fill({ start: 0, count: 64 }));
    population.setMemberTraining(windows, 2, new Array(members).fill({ start: 0, count: 2 }));
    await population.trainMembers({
      orders: new Array(members).fill(Uint32Array.from([1, 0])),
      learningRates: new Array(members).fill(0.01),
    });
    expect((await population.readMemberLosses()).every((l) => l.train.length === 1)).toBe(true);
    expect(await population.memories()).toBe(1);
    await population.dispose();
  });
});

describe('member threads', () => {
  const layout = paramLayout(SINGLE);

  it('one thread, and why, where member threads cannot start', async () => {
    const noMembers: CpuThreadHost = { cores: 4, problem: () => null, spawn: nodeThreadHost.spawn };
    const failing: CpuThreadHost = {
      ...nodeThreadHost,
      spawnMembers: () => Promise.reject(new Error('no workers today')),
    };
    // A thread that starts, then fails every request (its setup first).
    const refusing: CpuThreadHost = {
      ...nodeThreadHost,
      spawnMembers: async () => {
        let answer: (message: unknown) => void = () => undefined;
        return {
          post: (message) =>
            setTimeout(() => answer({ id: (message as { id: number }).id, failure: 'no kernels here' })),
          listen: (onMessage) => {
            answer = onMessage;
          },
          terminate: async () => undefined,
        };
      },
    };
    const cases = [
      [await createCpuPopulation(layout, 4, { threads: 2, host: refusing }), /one thread: .*no kernels here/],
      [await createCpuPopulation(layout, 4, { threads: 2 }), /one thread: no way to start member threads/],
      [await createCpuPopulation(layout, 4, { threads: 2, host: noMembers }), /one thread: no way to start member/],
      [await createCpuPopulation(layout, 4, { threads: 3, host: failing }), /one thread: .*no workers today/],
      [await createCpuPopulation(layout, 4, { threads: 1, host: nodeThreadHost }), null],
    ] as const;
    for (const [population, note] of cases) {
      expect(population.threads).toBe(1);
      if (note === null) expect(population.threadsNote).toBeNull();
      else expect(population.threadsNote).toMatch(note);
      await population.dispose();
    }
    // No more threads than members.
    const two = await createCpuPopulation(layout, 2, { threads: 'auto', host: { ...nodeThreadHost, cores: 8 } });
    expect([two.threads, two.threadsNote]).toEqual([2, null]);
    await two.dispose();
    const asked = await createCpuPopulation(layout, 2, { threads: 4, host: nodeThreadHost });
    expect([asked.threads, asked.threadsNote]).toEqual([2, '2 threads: one a member']);
    await asked.dispose();
  });

  it('a member thread that ends makes the next read fail instead of waiting for it forever', async () => {
    const threads: MemberThread[] = [];
    const watched: CpuThreadHost = {
      ...nodeThreadHost,
      spawnMembers: async () => {
        const thread = await (nodeThreadHost.spawnMembers as () => Promise<MemberThread>)();
        threads.push(thread);
        return thread;
      },
    };
    const population = await createCpuPopulation(layout, 2, { threads: 2, host: watched });
    opened.push(population);
    expect(await population.readMemberParams()).toHaveLength(2);
    await threads[0].terminate();
    await expect(population.readMemberParams()).rejects.toThrow(/a member thread of the CPU backend failed/);
    await population.dispose();
  });

  it('a member thread keeps Node waiting while an answer is owed and while it ends, whatever answers come in meanwhile', async () => {
    /** A worker that records whether it holds Node alive; messages and its exit delivered by hand. */
    class HeldWorker extends EventEmitter {
      held = false;
      exit = () => {};
      ref() {
        this.held = true;
      }
      unref() {
        this.held = false;
      }
      postMessage() {}
      terminate() {
        return new Promise<number>((done) => {
          this.exit = () => done(1);
        });
      }
    }
    const threadOn = (worker: HeldWorker) => {
      const thread = nodeMemberThread(worker as unknown as Parameters<typeof nodeMemberThread>[0]);
      thread.listen(
        () => undefined,
        () => undefined,
      );
      return thread;
    };
    const busy = new HeldWorker();
    const thread = threadOn(busy);
    expect(busy.held).toBe(false);
    thread.post({ id: 0 }, []);
    thread.post({ id: 1 }, []);
    busy.emit('message', { id: 0 });
    expect(busy.held).toBe(true); // one answer still owed
    busy.emit('message', { id: 1 });
    expect(busy.held).toBe(false); // none owed: a forgotten population does not keep Node alive
    // A sent call unanswered when it is ended: its answer must not let Node go before the exit.
    thread.post({ id: 2 }, []);
    const ended = thread.terminate();
    busy.emit('message', { id: 2 });
    expect(busy.held).toBe(true);
    busy.exit();
    await ended;
    // Ended with nothing owed: held until it has exited, too.
    const idle = new HeldWorker();
    const quiet = threadOn(idle).terminate();
    expect(idle.held).toBe(true);
    idle.exit();
    await quiet;
  });

  it('dispose ends the threads; a second call resolves too; every other call then throws a DisposedError', async () => {
    const before = await threadsDownTo(0);
    const population = await createCpuPopulation(layout, 3, { threads: 3, host: nodeThreadHost });
    expect(liveNodeThreads()).toBe(before + 2);
    const data = randomDataset(SINGLE, 12, 4);
    population.setMemberTraining(data, 4, new Array(3).fill({ start: 0, count: 12 }));
    const order = new Rng(2).permutation(new Uint32Array(12));
    const epoch = { orders: [order, order, order], learningRates: [0.1, 0.1, 0.1] };
    await population.trainMembers(epoch);
    const params = (await population.readMemberParams())[0];
    const state = (await population.readMemberOptimizerStates())[0];
    // A read still owed when dispose() comes fails with a DisposedError, as every later call does.
    const owed = expect(population.readMemberLosses()).rejects.toThrow(DisposedError);
    const first = population.dispose();
    const second = population.dispose();
    await expect(first).resolves.toBeUndefined();
    await expect(second).resolves.toBeUndefined();
    await owed;
    expect(await threadsDownTo(before)).toBe(before);
    expect(population.members).toBe(3);
    expect(population.config).toEqual(SINGLE);
    expect(population.name).toBe('cpu');
    const calls: [string, () => unknown][] = [
      ['setMemberParams', () => population.setMemberParams(0, params)],
      ['readMemberParams', () => population.readMemberParams()],
      ['predictMembers', () => population.predictMembers(data.x, 2)],
      ['memberGradients', () => population.memberGradients(data.x, data.t, 2)],
      ['setMemberTraining', () => population.setMemberTraining(data, 4, new Array(3).fill({ start: 0, count: 12 }))],
      ['setMemberValidation', () => population.setMemberValidation(null)],
      ['setMemberOptimizers', () => population.setMemberOptimizers([])],
      ['trainMembers', () => population.trainMembers(epoch)],
      ['readMemberLosses', () => population.readMemberLosses()],
      ['readMemberOptimizerStates', () => population.readMemberOptimizerStates()],
      ['setMemberOptimizerState', () => population.setMemberOptimizerState(0, state)],
      ['finish', () => population.finish()],
    ];
    for (const [name, call] of calls) {
      let thrown: unknown = null;
      try {
        await call();
      } catch (error) {
        thrown = error;
      }
      expect(thrown, name).toBeInstanceOf(DisposedError);
    }
  });
});

describe('members share memories', () => {
  /** Runs `run` with every WebAssembly.Memory made on this thread counted. */
  async function countingMemories<T>(run: () => Promise<T>): Promise<{ result: T; made: number }> {
    const wasm = WebAssembly as { Memory: typeof WebAssembly.Memory };
    const Memory = wasm.Memory;
    let made = 0;
    wasm.Memory = class extends Memory {
      constructor(descriptor: WebAssembly.MemoryDescriptor) {
        super(descriptor);
        made++;
      }
    };
    try {
      return { result: await run(), made };
    } finally {
      wasm.Memory = Memory;
    }
  }

  it('256 members of the blog’s size train on one memory a thread, each exactly as alone', async () => {
    const config: ModelConfig = { inputSize: 1, hiddenSizes: [30], outputSize: 1, window: 10 };
    const layout = paramLayout(config);
    const K = 256;
    const batch = 8;
    const data = randomDataset(config, 64, 21);
    const ranges = Array.from({ length: K }, (_, m) => ({ start: m % 48, count: 16 }));
    const params = Array.from({ length: K }, (_, m) => initParams(layout, new Rng(500 + m)));
    const orders = (epoch: number) =>
      Array.from({ length: K }, (_, m) => new Rng(epoch * 1000 + m).permutation(new Uint32Array(16)));
    const epochs = 2;
    const { result: trained, made } = await countingMemories(async () => {
      const population = await createCpuPopulation(layout, K, { threads: 1 });
      opened.push(population);
      population.setMemberOptimizers(
        Array.from({ length: K }, (_, m) => ({
          optimizer: { ...DEFAULT_OPTIMIZER, name: OPTIMIZER_NAMES[m % 3] },
          loss: 'sse' as const,
        })),
      );
      population.setMemberTraining(data, batch, ranges);
      for (const [m, p] of params.entries()) population.setMemberParams(m, p);
      for (let epoch = 0; epoch < epochs; epoch++) {
        await population.trainMembers({ orders: orders(epoch), learningRates: new Array(K).fill(0.01) });
      }
      const losses = await population.readMemberLosses();
      const weights = await population.readMemberParams();
      expect(await population.memories()).toBe(1);
      await population.dispose();
      return { losses, weights };
    });
    // One memory for all 256 (the engines as their batch grows included), where a member each made 256.
    expect(made).toBe(1);
    expect(trained.losses.every((l) => l.train.length === epochs && l.train.every(Number.isFinite))).toBe(true);
    for (const m of [0, 1, 2, 127, 255]) {
      const alone = new CpuBackend(layout);
      alone.setOptimizer({ ...DEFAULT_OPTIMIZER, name: OPTIMIZER_NAMES[m % 3] }, 'sse');
      alone.setTrainingData(windowsOf(data, ranges[m]), batch);
      alone.setParams(params[m]);
      for (let epoch = 0; epoch < epochs; epoch++) await alone.trainEpoch(orders(epoch)[m], 0.01);
      expectSame((await alone.readLosses()).train, trained.losses[m].train, `member ${m}: training errors`);
      expectSame(await alone.readParams(), trained.weights[m], `member ${m}: parameters`);
      await alone.dispose();
    }

    // On two threads: one memory each.
    const two = await createCpuPopulation(layout, K, { threads: 2, host: nodeThreadHost });
    opened.push(two);
    two.setMemberTraining(data, batch, ranges);
    await two.trainMembers({ orders: orders(0), learningRates: new Array(K).fill(0.01) });
    expect(await two.memories()).toBe(2);
    await two.dispose();
  });

  it('engines taking turns on one memory step by step give each one’s results alone; a batch another moved over is refused', () => {
    const layout = paramLayout(STACKED);
    const data = randomDataset(STACKED, 12, 31);
    const plans = [
      { maxBatch: 4, optimizer: { ...DEFAULT_OPTIMIZER, name: 'adam' as const }, seed: 1 },
      { maxBatch: 7, optimizer: { ...DEFAULT_OPTIMIZER, name: 'momentum' as const, momentum: 0.8 }, seed: 2 },
    ];
    const host = privateKernels(kernelSimd());
    const shared = plans.map((p) => new FastLstm(layout, p.maxBatch, p.optimizer, { pool: host }));
    const alone = plans.map((p) => new FastLstm(layout, p.maxBatch, p.optimizer));
    for (const [i, p] of plans.entries()) {
      const params = initParams(layout, new Rng(p.seed));
      shared[i].setParams(params);
      alone[i].setParams(params);
    }
    const step = (engine: FastLstm, s: number, i: number) => {
      const B = plans[i].maxBatch - (s % 2);
      const order = new Rng(s * 10 + i).permutation(new Uint32Array(data.count));
      engine.loadBatch(data.x, data.t, order, 0, B);
      engine.forward(B);
      engine.loss(B, 1);
      engine.backward(B);
      engine.update(0.02);
    };
    for (let s = 0; s < 5; s++) {
      for (const i of [0, 1]) step(shared[i], s, i);
    }
    for (const i of [0, 1]) for (let s = 0; s < 5; s++) step(alone[i], s, i);
    for (const i of [0, 1]) {
      const got = new Float32Array(layout.size);
      const want = new Float32Array(layout.size);
      shared[i].readParams(got);
      alone[i].readParams(want);
      expectSame(got, want, `engine ${i}: parameters`);
      expectSame(shared[i].readOptimizerState().slots, alone[i].readOptimizerState().slots, `engine ${i}: state`);
    }
    shared[0].loadBatch(data.x, data.t, null, 0, 2);
    shared[1].loadBatch(data.x, data.t, null, 0, 2);
    expect(() => shared[0].forward(2)).toThrow(
      /forward\(\) without a batch loaded since this engine last moved into its memory/,
    );
  });
});
