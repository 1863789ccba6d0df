// The WebGPU population engine against single models: random populations (mixed optimizers, losses,
// learning rates, clipping, seeds, uneven training ranges and validation parts, a member with none,
// a member inactive for an epoch, stacked layers) trained together with trainMembers, each member
// compared with a K = 1 backend trained alone on its windows with the same initial weights, orders,
// learning rates and optimizer: per-epoch errors, validation errors, optimizer state and final weights,
// under every schedule and both kernel tunings (and once with the error cut into chunks). Then what the
// member dimension must not cost (dispatches a step, submits an epoch), and the refusals of bad input.
//
// Legend: K = members, N = windows, B = batch, P = parameter count.

import { describe, expect, it } from 'vitest';
import type { EpochOptions, GpuCounters } from '../src/backends/backend.js';
import type { WindowRange } from '../src/backends/population.js';
import { SCHEDULES, TUNING_NAMES, type Variant, variantName } from '../src/backends/webgpu/tuning.js';
import {
  createWebGpuBackend,
  createWebGpuPopulation,
  type WebGpuBackendOptions,
} from '../src/backends/webgpu/webgpuBackend.js';
import type { Dataset } from '../src/data/dataset.js';
import { Rng } from '../src/data/rng.js';
import { InputError } from '../src/model/errors.js';
import { initParams } from '../src/model/init.js';
import { type ModelConfig, type ParamLayout, paramLayout } from '../src/model/layout.js';
import { DEFAULT_OPTIMIZER, type LossName, type OptimizerSettings } from '../src/model/optimizer.js';
import { type MemberSpec, trainPopulation } from '../src/train/population.js';
import { type TrainResult, trainToEnd } from '../src/train/trainer.js';
import { maxAbsDiff } from './helpers.js';
import { fileGpuContext, withoutGpuErrors } from './webgpu-context.js';

/** webgpu-shapes' tolerance: float32 on both sides, and only where a sum is cut differently do they differ. */
const TOL = 1e-4;
const EPOCHS = 3;

const gpu = fileGpuContext();

interface Member {
  optimizer: OptimizerSettings;
  loss: LossName;
  params: Float32Array;
  /** Its windows of the training and the validation set. */
  train: WindowRange;
  validation: WindowRange;
  /** Per epoch: its learning rate, its order (positions in its range), whether it trains. */
  rates: number[];
  orders: Uint32Array[];
  active: boolean[];
}

interface Population {
  layout: ParamLayout;
  batch: number;
  train: Dataset;
  validation: Dataset;
  members: Member[];
}

function randomData(rng: Rng, count: number, config: ModelConfig): Dataset {
  const { window: T, inputSize: I, outputSize: O } = config;
  const values = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  return { count, window: T, inputSize: I, outputSize: O, x: values(count * T * I), t: values(count * O) };
}

function slice(data: Dataset, { start, count }: WindowRange): Dataset {
  const { window: T, inputSize: I, outputSize: O } = data;
  return {
    ...data,
    count,
    x: data.x.slice(start * T * I, (start + count) * T * I),
    t: data.t.slice(start * O, (start + count) * O),
  };
}

/** A range of at least `least` of `count` windows. */
function randomRange(rng: Rng, count: number, least: number): WindowRange {
  const size = least + rng.below(count - least + 1);
  return { start: rng.below(count - size + 1), count: size };
}

/**
 * The two shapes every population here has, one layer or two (several inputs and outputs, sizes off
 * the kernels' tiles): few shapes, for SwiftShader spends seconds building each shape's pipelines.
 */
const SHAPES: Record<'single' | 'stacked', ModelConfig> = {
  single: { inputSize: 2, hiddenSizes: [5], outputSize: 2, window: 3 },
  stacked: { inputSize: 1, hiddenSizes: [6, 3], outputSize: 1, window: 3 },
};
const BATCH = 3;

/**
 * K random members of one shape: member 0 on every window, member 1 with no validation windows,
 * member 2 inactive in the second epoch, the rest random; data, optimizers, losses, clipping, rates,
 * weights and orders drawn.
 */
function randomPopulation(seed: number, K: number, stacked: boolean): Population {
  const rng = new Rng(seed);
  const config = stacked ? SHAPES.stacked : SHAPES.single;
  const layout = paramLayout(config);
  const batch = BATCH;
  const train = randomData(rng, 12 + rng.below(6), config);
  const validation = randomData(rng, 5 + rng.below(4), config);
  const names = ['sgd', 'momentum', 'adam'] as const;
  const members = Array.from({ length: K }, (_, m): Member => {
    const optimizer: OptimizerSettings = {
      ...DEFAULT_OPTIMIZER,
      name: names[m % 3],
      momentum: 0.5 + 0.4 * rng.uniform(),
      beta1: 0.8 + 0.15 * rng.uniform(),
      clipNorm: rng.below(2) === 0 ? null : 0.5 + rng.uniform(),
    };
    const range = m === 0 ? { start: 0, count: train.count } : randomRange(rng, train.count, batch);
    const validationRange =
      m === 0
        ? { start: 0, count: validation.count }
        : m === 1
          ? { start: validation.count, count: 0 }
          : randomRange(rng, validation.count, 1);
    const rate = (optimizer.name === 'adam' ? 0.01 : 0.05) * (0.5 + rng.uniform());
    return {
      optimizer,
      loss: rng.below(2) === 0 ? 'sse' : 'mse',
      params: initParams(layout, new Rng(seed * 100 + m)),
      train: range,
      validation: validationRange,
      rates: Array.from({ length: EPOCHS }, (_, e) => rate * 0.9 ** e),
      orders: Array.from({ length: EPOCHS }, () => rng.permutation(new Uint32Array(range.count))),
      active: Array.from({ length: EPOCHS }, (_, e) => !(m === 2 && e === 1)),
    };
  });
  return { layout, batch, train, validation, members };
}

interface Trained {
  losses: number[];
  validation: number[];
  params: Float32Array;
  state: Float32Array;
  step: number;
}

/**
 * The population trained for EPOCHS with trainMembers (each epoch with `epoch`'s options), read
 * member by member; `counted` is told the engine's work counters before it is disposed.
 */
async function trainTogether(
  population: Population,
  options: WebGpuBackendOptions,
  epoch: EpochOptions = {},
  counted?: (counters: GpuCounters) => void,
): Promise<Trained[]> {
  const { layout, batch, train, validation, members } = population;
  const engine = await createWebGpuPopulation(gpu(), layout, members.length, options);
  try {
    engine.setMemberOptimizers(members.map(({ optimizer, loss }) => ({ optimizer, loss })));
    for (const [m, member] of members.entries()) engine.setMemberParams(m, member.params);
    engine.setMemberTraining(
      train,
      batch,
      members.map((member) => member.train),
    );
    engine.setMemberValidation(
      validation,
      members.map((member) => member.validation),
    );
    for (let e = 0; e < EPOCHS; e++) {
      await engine.trainMembers(
        {
          orders: members.map((member) => member.orders[e]),
          learningRates: members.map((member) => member.rates[e]),
          active: members.map((member) => member.active[e]),
        },
        epoch,
      );
    }
    const losses = await engine.readMemberLosses();
    const params = await engine.readMemberParams();
    const states = await engine.readMemberOptimizerStates();
    counted?.(engine.counters());
    return members.map((_, m) => ({
      losses: losses[m].train,
      validation: losses[m].validation,
      params: params[m],
      state: states[m].slots,
      step: states[m].step,
    }));
  } finally {
    await engine.dispose();
  }
}

/**
 * Member m alone: a K = 1 backend on its windows, the same steps. An epoch it sits out has no
 * trainEpoch; the population's error after it is the one before (its weights did not change).
 */
async function trainAlone(population: Population, m: number, options: WebGpuBackendOptions): Promise<Trained> {
  const { layout, batch, train, validation } = population;
  const member = population.members[m];
  const backend = await createWebGpuBackend(gpu(), layout, options);
  try {
    backend.setOptimizer(member.optimizer, member.loss);
    backend.setParams(member.params);
    backend.setTrainingData(slice(train, member.train), batch);
    backend.setValidationData(member.validation.count === 0 ? null : slice(validation, member.validation));
    const losses: number[] = [];
    const validationLosses: number[] = [];
    for (let e = 0; e < EPOCHS; e++) {
      if (member.active[e]) {
        await backend.trainEpoch(member.orders[e], member.rates[e]);
        const read = await backend.readLosses();
        losses.push(...read.train);
        validationLosses.push(...read.validation);
      } else {
        losses.push(losses[losses.length - 1]);
        if (validationLosses.length > 0) validationLosses.push(validationLosses[validationLosses.length - 1]);
      }
    }
    const state = await backend.readOptimizerState();
    return {
      losses,
      validation: validationLosses,
      params: await backend.readParams(),
      state: state.slots,
      step: state.step,
    };
  } finally {
    await backend.dispose();
  }
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  const { diff, scale } = maxAbsDiff(actual, expected);
  expect(diff, what).toBeLessThanOrEqual(TOL * Math.max(1, scale));
}

/** Every schedule under every tuning; a stacked population where the schedule takes one (not fused). */
const CASES: { variant: Variant; stacked: boolean; maxDispatchFlops?: number }[] = SCHEDULES.flatMap((schedule) =>
  TUNING_NAMES.map((tuning, i) => ({
    variant: { schedule, tuning },
    // Stacked: the stepwise schedule under one tuning, the persistent one under the other (the coalesced backward).
    stacked: schedule === 'stepwise' ? i === 0 : schedule === 'persistent' && i === 1,
  })),
);
// The error over the windows cut into chunks of a few rows: a member's range ends inside a chunk.
CASES.push({ variant: { schedule: 'stepwise', tuning: 'software' }, stacked: false, maxDispatchFlops: 2000 });

describe('a population trains each member as it would train alone', () => {
  CASES.forEach(({ variant, stacked, maxDispatchFlops }, c) => {
    const name = `${variantName(variant)}${stacked ? ', stacked' : ''}${maxDispatchFlops === undefined ? '' : ', error in chunks'}`;
    it(`${name}: errors, validation errors, optimizer state and weights of each of 5 members`, async () => {
      const population = randomPopulation(1000 + c, 5, stacked);
      const options = { ...variant, maxDispatchFlops };
      const together = await withoutGpuErrors(gpu(), () => trainTogether(population, options));
      for (const [m, member] of population.members.entries()) {
        const alone = await withoutGpuErrors(gpu(), () => trainAlone(population, m, options));
        const what = `member ${m} (${member.optimizer.name}, ${member.loss}, windows ${member.train.start}+${member.train.count})`;
        expect(together[m].losses, `${what}: errors`).toHaveLength(EPOCHS);
        expectClose(together[m].losses, alone.losses, `${what}: errors`);
        expectClose(together[m].validation, alone.validation, `${what}: validation errors`);
        expectClose(together[m].params, alone.params, `${what}: weights`);
        expectClose(together[m].state, alone.state, `${what}: optimizer state`);
        expect(together[m].step, `${what}: updates`).toBe(alone.step);
      }
      // The member with no validation windows has no validation errors; the one that sat out an epoch
      // has the error of the epoch before it.
      expect(together[1].validation).toEqual([]);
      expect(together[2].losses[1]).toBe(together[2].losses[0]);
      // fused/software compiles both the paired rows kernel (together) and the single model's (alone):
      // 128-158 s at load 15-19 on SwiftShader.
    }, 300_000);
  });
});

describe('epochs of validation errors alone (EpochOptions.trainingError false)', () => {
  it('give the validation errors and weights of epochs with every error, no training errors, and skip their pass', async () => {
    const population = randomPopulation(31, 4, false);
    const variant = { schedule: 'fused', tuning: 'software' } as const;
    const dispatches: number[] = [];
    const count = (counters: GpuCounters) => dispatches.push(counters.dispatches);
    const alone = await withoutGpuErrors(gpu(), () =>
      trainTogether(population, variant, { trainingError: false }, count),
    );
    const full = await withoutGpuErrors(gpu(), () => trainTogether(population, variant, {}, count));
    for (const [m, got] of alone.entries()) {
      expect(got.losses, `member ${m}`).toEqual([]);
      expect(full[m].losses, `member ${m}`).toHaveLength(EPOCHS);
      expect(got.validation, `member ${m}`).toEqual(full[m].validation);
      expect(got.params, `member ${m}`).toEqual(full[m].params);
      expect(got.state, `member ${m}`).toEqual(full[m].state);
    }
    expect(full[0].validation).toHaveLength(EPOCHS);
    expect(alone[1].validation).toEqual([]);
    // The training windows' error pass is not dispatched: fewer dispatches over the same epochs.
    expect(dispatches[0]).toBeLessThan(dispatches[1]);
  });
});

describe('the population trainer on the engine', () => {
  it('each member of trainPopulation (one diverging, the best epoch kept, patience) is trainToEnd of it alone', async () => {
    const population = randomPopulation(23, 4, false);
    const { layout, batch, train, validation, members } = population;
    const specs = members.map(
      (member, m): MemberSpec => ({
        rng: new Rng(500 + m),
        // Member 3 diverges: it stops alone, its earlier weights restored.
        learningRate: m === 3 ? 50 : member.rates[0],
        lrDecay: 0.9,
        optimizer: m === 3 ? DEFAULT_OPTIMIZER : member.optimizer,
        loss: member.loss,
        training: member.train,
        validation: member.validation,
      }),
    );
    const options = { epochs: 6, batchSize: batch, reportEvery: 2, validation, keepBest: true, patience: 2 };
    const variant = { schedule: 'fused', tuning: 'software' } as const;
    const together = await withoutGpuErrors(gpu(), async () => {
      const engine = await createWebGpuPopulation(gpu(), layout, members.length, variant);
      try {
        for (const [m, member] of members.entries()) engine.setMemberParams(m, member.params);
        const run = trainPopulation(
          engine,
          train,
          specs.map((spec) => ({ ...spec, rng: spec.rng.clone() })),
          options,
        );
        let next = await run.next();
        while (!next.done) next = await run.next();
        return next.value.members;
      } finally {
        await engine.dispose();
      }
    });
    for (const [m, spec] of specs.entries()) {
      const single: TrainResult = await withoutGpuErrors(gpu(), async () => {
        const backend = await createWebGpuBackend(gpu(), layout, variant);
        try {
          backend.setParams(members[m].params);
          const own = members[m].validation;
          return await trainToEnd(backend, slice(train, members[m].train), spec.rng.clone(), {
            ...options,
            learningRate: spec.learningRate,
            lrDecay: spec.lrDecay,
            optimizer: spec.optimizer,
            loss: spec.loss,
            validation: own.count > 0 ? slice(validation, own) : null,
          });
        } finally {
          await backend.dispose();
        }
      });
      const where = `member ${m}`;
      expect(together[m].losses, where).toEqual(single.losses);
      expect(together[m].validationLosses, where).toEqual(single.validationLosses);
      expectClose(together[m].params, single.params, `${where}: weights`);
      expect(together[m].kept.epoch, where).toBe(single.kept.epoch);
      expect(together[m].diverged === null, where).toBe(single.diverged === null);
      expect(together[m].stoppedEarly, where).toBe(single.stoppedEarly);
      expect(together[m].epoch, where).toBe(single.epoch);
    }
    expect(together[3].diverged).not.toBeNull();
  });
});

describe('what the member dimension does not cost', () => {
  it('dispatches a step and submits an epoch are the same at K = 1 and K = 8, on every schedule and tuning', async () => {
    const population = randomPopulation(7, 8, false);
    const { layout, batch, train, validation } = population;
    for (const schedule of SCHEDULES) {
      for (const tuning of TUNING_NAMES) {
        const counts = await withoutGpuErrors(gpu(), async () => {
          const measured: { dispatches: number | null; submits: number; members: number }[] = [];
          for (const K of [1, 8]) {
            const members = population.members.slice(0, K);
            const engine = await createWebGpuPopulation(gpu(), layout, K, { schedule, tuning });
            try {
              // Clipping in one member: the gradient norm's dispatch is every member's.
              engine.setMemberOptimizers(
                members.map((member, m) => ({
                  optimizer: { ...member.optimizer, clipNorm: m === 0 ? 1 : null },
                  loss: member.loss,
                })),
              );
              engine.setMemberTraining(
                train,
                batch,
                members.map(() => ({ start: 0, count: train.count })),
              );
              engine.setMemberValidation(validation);
              const orders = members.map(() => new Rng(K).permutation(new Uint32Array(train.count)));
              const rates = members.map((member) => member.rates[0]);
              const before = engine.counters().submits;
              for (let e = 0; e < 2; e++) await engine.trainMembers({ orders, learningRates: rates });
              await engine.readMemberLosses();
              measured.push({
                dispatches: engine.dispatchesPerStep(),
                submits: engine.counters().submits - before,
                members: K,
              });
            } finally {
              await engine.dispose();
            }
          }
          return measured;
        });
        const what = variantName({ schedule, tuning });
        expect(counts[1].dispatches, what).toBe(counts[0].dispatches);
        expect(counts[1].submits, what).toBe(counts[0].submits);
        // The fused step: its rows kernel, its sums, the gradient norm and the update.
        if (schedule === 'fused') expect(counts[1].dispatches, what).toBe(4);
      }
    }
  });
});

describe('calibration at the population shape', () => {
  it('times the variants of K = 4 members and leaves every member as it was', async () => {
    const population = randomPopulation(17, 4, false);
    const { layout, batch, train, members } = population;
    await withoutGpuErrors(gpu(), async () => {
      const engine = await createWebGpuPopulation(gpu(), layout, 4, { tuning: 'software' });
      try {
        engine.setMemberOptimizers(members.map(({ optimizer, loss }) => ({ optimizer, loss })));
        for (const [m, member] of members.entries()) engine.setMemberParams(m, member.params);
        engine.setMemberTraining(
          train,
          batch,
          members.map((member) => member.train),
        );
        const calibration = await engine.calibrate();
        expect(Object.keys(calibration?.msPerEpoch ?? {}).length).toBeGreaterThan(1);
        const params = await engine.readMemberParams();
        const states = await engine.readMemberOptimizerStates();
        for (const [m, member] of members.entries()) {
          expect(params[m], `member ${m}: weights`).toEqual(member.params);
          expect(states[m].step, `member ${m}: updates`).toBe(0);
          expect(states[m].slots.every((value) => value === 0)).toBe(true);
        }
      } finally {
        await engine.dispose();
      }
    });
  });
});

describe('each member on the same windows, and its own', () => {
  it('memberGradients and predictMembers give each member what a single model with its weights gives', async () => {
    const population = randomPopulation(11, 3, true);
    const { layout, train } = population;
    const rows = 5;
    const x = train.x.slice(0, 3 * rows * layout.config.window * layout.config.inputSize);
    const t = train.t.slice(0, rows * layout.config.outputSize);
    await withoutGpuErrors(gpu(), async () => {
      const engine = await createWebGpuPopulation(gpu(), layout, 3);
      const single = await createWebGpuBackend(gpu(), layout);
      try {
        engine.setMemberOptimizers(population.members.map(({ optimizer, loss }) => ({ optimizer, loss })));
        for (const [m, member] of population.members.entries()) engine.setMemberParams(m, member.params);
        const gradients = await engine.memberGradients(x, t, rows);
        const shared = await engine.predictMembers(x, rows);
        const own = await engine.predictMembers(x, rows, true);
        const windowValues = rows * layout.config.window * layout.config.inputSize;
        for (const [m, member] of population.members.entries()) {
          single.setOptimizer(member.optimizer, member.loss);
          single.setParams(member.params);
          const expected = await single.gradients(x, t, rows);
          expect(gradients[m].loss, `member ${m}: loss`).toBe(expected.loss);
          expectClose(gradients[m].y, expected.y, `member ${m}: outputs`);
          expectClose(gradients[m].grads, expected.grads, `member ${m}: gradients`);
          expectClose(shared[m], await single.predict(x, rows), `member ${m}: predictions`);
          const mine = x.slice(m * windowValues, (m + 1) * windowValues);
          expectClose(own[m], await single.predict(mine, rows), `member ${m}: predictions on its own windows`);
        }
      } finally {
        await engine.dispose();
        await single.dispose();
      }
    });
  });
});

describe('bad input', () => {
  /** The field of the InputError `call` throws or rejects with. */
  async function field(call: () => unknown): Promise<string> {
    try {
      await call();
    } catch (error) {
      if (error instanceof InputError) return error.field;
      throw error;
    }
    return 'accepted';
  }

  it('names the field: ranges, members, orders, rates, optimizers', async () => {
    const population = randomPopulation(13, 3, false);
    const { layout, batch, train, validation, members } = population;
    await withoutGpuErrors(gpu(), async () => {
      expect(await field(() => createWebGpuPopulation(gpu(), layout, 0))).toBe('members');
      // More members than a grid holds in z.
      const tooMany = gpu().limits.maxComputeWorkgroupsPerDimension + 1;
      const error = await createWebGpuPopulation(gpu(), layout, tooMany).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).field).toBe('members');
      expect((error as InputError).message).toMatch(/at most \d+ fit/);

      const engine = await createWebGpuPopulation(gpu(), layout, 3);
      try {
        const everything = { start: 0, count: train.count };
        const ranges = [everything, everything, everything];
        expect(await field(() => engine.setMemberTraining(train, batch, [everything]))).toBe('ranges');
        expect(
          await field(() =>
            engine.setMemberTraining(train, batch, [everything, { start: 1, count: batch - 1 }, everything]),
          ),
        ).toBe('ranges[1]');
        expect(
          await field(() =>
            engine.setMemberTraining(train, batch, [everything, everything, { start: 1, count: train.count }]),
          ),
        ).toBe('ranges[2]');
        expect(await field(() => engine.setMemberTraining(train, 0, ranges))).toBe('batch');
        expect(await field(() => engine.setMemberValidation(validation, [everything, everything, everything]))).toBe(
          'validationRanges[0]',
        );
        expect(await field(() => engine.setMemberParams(3, members[0].params))).toBe('member');
        expect(await field(() => engine.setMemberParams(0, new Float32Array(2)))).toBe('params');
        expect(await field(() => engine.setMemberOptimizers([]))).toBe('optimizers');
        expect(await field(() => engine.predictMembers(train.x, train.count, true))).toBe('x');

        engine.setMemberTraining(train, batch, ranges);
        const order = () => new Uint32Array(train.count).map((_, i) => i);
        const orders = [order(), order(), order()];
        const rates = [0.01, 0.01, 0.01];
        expect(await field(() => engine.trainMembers({ orders: orders.slice(1), learningRates: rates }))).toBe(
          'orders',
        );
        expect(await field(() => engine.trainMembers({ orders, learningRates: [0.01] }))).toBe('learningRates');
        expect(await field(() => engine.trainMembers({ orders, learningRates: rates, active: [true] }))).toBe('active');
        expect(await field(() => engine.trainMembers({ orders, learningRates: [0.01, Number.NaN, 0.01] }))).toBe(
          'learningRates[1]',
        );
        const short = [order(), order().subarray(0, batch - 1), order()];
        expect(await field(() => engine.trainMembers({ orders: short, learningRates: rates }))).toBe('orders[1]');
        const outside = [order(), order(), order().fill(train.count)];
        expect(await field(() => engine.trainMembers({ orders: outside, learningRates: rates }))).toBe('orders[2]');
        // A single model's calls mean one model: refused on a population of several.
        expect(() => engine.setParams(members[0].params)).toThrow(/3 members/);
        await expect(engine.readLosses()).rejects.toThrow(/3 members/);
        // Nothing refused above changed a member: training goes on.
        await engine.trainMembers({ orders, learningRates: rates });
        const losses = await engine.readMemberLosses();
        expect(losses.map((member) => member.train.length)).toEqual([1, 1, 1]);
      } finally {
        await engine.dispose();
      }
    });
  });
});
