// The CPU backend's optimisers and loss choice, on both engines, against a plain loop written here
// (the formulas of src/model/optimizer.ts's header, spelled out apart from its optimizerStep, clipping,
// loss factor and decay, on the reference kernels' gradients): SGD,
// momentum and Adam, each with and without global-norm clipping, with the blog's loss and the MSE,
// over several epochs with a decaying learning rate.

import { describe, expect, it } from 'vitest';
import { CpuBackend, type CpuKernels } from '../src/backends/cpu/cpuBackend.js';
import type { Dataset } from '../src/data/dataset.js';
import { Rng } from '../src/data/rng.js';
import { InputError } from '../src/model/errors.js';
import { initParams } from '../src/model/init.js';
import { type ModelConfig, type ParamLayout, paramLayout } from '../src/model/layout.js';
import {
  DEFAULT_OPTIMIZER,
  epochLearningRate,
  type LossName,
  lossScale,
  type OptimizerName,
  type OptimizerSettings,
  type OptimizerState,
} from '../src/model/optimizer.js';
import { startRun } from '../src/train/run.js';
import { trainToEnd } from '../src/train/trainer.js';
import { maxAbsDiff, sineRunSettings } from './helpers.js';

/**
 * Parameters, state and per-epoch errors of the engines against the plain loop, as
 * max|got - want| <= tol * max(1, max|want|) per array. The reference engine runs optimizerStep
 * itself, so with the blog's loss it is bit-identical to the loop; with the MSE it differs only in
 * where the loss's factor is applied (to out - t before the backward pass, not to the gradients
 * after), at most 6.3e-7 over these cases (Adam). The fast path also differs in summation order
 * and exp (gradients within ~1e-6 of the reference, see cpu-fast-kernels.test.ts) and computes the
 * updates in single precision: at most 3.2e-6 (Adam clipped, whose step m / sqrt(v) amplifies the
 * gradients' rounding where a gradient is small), 2.1e-7 for SGD and momentum. The bounds leave
 * about 8-10x room.
 */
const REFERENCE_TOL = 5e-6;
const FAST_TOL = 3e-5;

interface Problem {
  layout: ParamLayout;
  params: Float32Array;
  data: Dataset;
}

/** Seed-style weights plus noise, and random samples. */
function randomProblem(config: ModelConfig, count: number, seed: number): Problem {
  const layout = paramLayout(config);
  const rng = new Rng(seed);
  const params = initParams(layout, rng);
  for (let p = 0; p < params.length; p++) params[p] += 0.1 * rng.normal();
  const x = Float32Array.from({ length: count * config.window * config.inputSize }, () => rng.normal());
  const t = Float32Array.from({ length: count * config.outputSize }, () => rng.normal());
  return {
    layout,
    params,
    data: { x, t, count, window: config.window, inputSize: config.inputSize, outputSize: config.outputSize },
  };
}

interface Run {
  params: Float32Array;
  state: OptimizerState;
  /** The per-epoch error by the chosen loss. */
  losses: number[];
  /** How many updates clipping shortened. */
  clipped: number;
}

const SHAPES: [string, ModelConfig][] = [
  ['the blog’s shape', { inputSize: 1, hiddenSizes: [30], outputSize: 1, window: 10 }],
  // Hidden sizes that are not multiples of 4, so the fast path's padding is in play.
  ['stacked, several outputs', { inputSize: 3, hiddenSizes: [5, 7], outputSize: 2, window: 4 }],
];
const SAMPLES = 23;
const BATCH = 6; // 3 minibatches an epoch, 5 samples left over
const EPOCHS = 3;
const LEARNING_RATE = 0.01;
const DECAY = 0.7;

/** The same minibatch orders for every run: one permutation per epoch from a fixed seed. */
function epochOrders(count: number): Uint32Array[] {
  const rng = new Rng(99);
  return Array.from({ length: EPOCHS }, () => {
    const order = new Uint32Array(count);
    rng.permutation(order);
    return order;
  });
}

/**
 * The update of optimizer.ts's header, written out here so that a fault in optimizerStep (or in the
 * clipping, loss factor or decay that every engine shares) shows as a difference: clip to the global
 * norm, then sgd p -= lr g; momentum v = mu v + g, p -= lr v; adam with bias-corrected m and v.
 * State in float32 as the engines keep it, operations in the same order, so the reference engine
 * with the blog's loss matches it bit for bit.
 */
function plainStep(
  settings: OptimizerSettings,
  state: { step: number; slots: Float32Array },
  params: Float32Array,
  grads: Float32Array,
  learningRate: number,
): boolean {
  let squares = 0;
  for (const g of grads) squares += g * g;
  const norm = Math.sqrt(squares);
  const clip = settings.clipNorm !== null && norm > settings.clipNorm ? settings.clipNorm / norm : 1;
  const P = params.length;
  state.step += 1;
  if (settings.name === 'sgd') {
    for (let i = 0; i < P; i++) params[i] -= learningRate * clip * grads[i];
  } else if (settings.name === 'momentum') {
    for (let i = 0; i < P; i++) {
      state.slots[i] = settings.momentum * state.slots[i] + clip * grads[i];
      params[i] -= learningRate * state.slots[i];
    }
  } else {
    const { beta1, beta2, epsilon } = settings;
    const mCorrection = 1 - beta1 ** state.step;
    const vCorrection = 1 - beta2 ** state.step;
    for (let i = 0; i < P; i++) {
      const g = clip * grads[i];
      state.slots[i] = beta1 * state.slots[i] + (1 - beta1) * g; // m
      state.slots[P + i] = beta2 * state.slots[P + i] + (1 - beta2) * g * g; // v
      const mHat = state.slots[i] / mCorrection;
      params[i] -= (learningRate * mHat) / (Math.sqrt(state.slots[P + i] / vCorrection) + epsilon);
    }
  }
  return clip < 1;
}

/** The loss's factor over the blog's 0.5 * sum of squares: 1, or 2 / (samples x outputs) for the MSE. */
const plainLossScale = (loss: LossName, count: number, outputs: number) => (loss === 'sse' ? 1 : 2 / (count * outputs));

/** The plain loop: reference gradients of the blog's loss, scaled to the chosen loss, then plainStep. */
async function referenceLoop(problem: Problem, settings: OptimizerSettings, loss: LossName): Promise<Run> {
  const { layout, data } = problem;
  const { window: T, inputSize: I, outputSize: O } = layout.config;
  const gradients = new CpuBackend(layout, { kernels: 'reference' });
  const params = problem.params.slice();
  const slotArrays = { sgd: 0, momentum: 1, adam: 2 }[settings.name];
  const state: OptimizerState = { name: settings.name, step: 0, slots: new Float32Array(slotArrays * layout.size) };
  const losses: number[] = [];
  const x = new Float32Array(BATCH * T * I);
  const t = new Float32Array(BATCH * O);
  let clipped = 0;
  for (const [e, order] of epochOrders(data.count).entries()) {
    const learningRate = LEARNING_RATE * DECAY ** e;
    for (let s = 0; s + BATCH <= data.count; s += BATCH) {
      for (let b = 0; b < BATCH; b++) {
        const n = order[s + b];
        x.set(data.x.subarray(n * T * I, (n + 1) * T * I), b * T * I);
        t.set(data.t.subarray(n * O, (n + 1) * O), b * O);
      }
      gradients.setParams(params);
      const { grads } = await gradients.gradients(x, t, BATCH);
      const scale = plainLossScale(loss, BATCH, O);
      for (let p = 0; p < grads.length; p++) grads[p] *= scale;
      if (plainStep(settings, state, params, grads, learningRate)) clipped++;
    }
    gradients.setParams(params);
    const y = await gradients.predict(data.x, data.count);
    let sum = 0;
    for (let i = 0; i < y.length; i++) sum += (y[i] - data.t[i]) ** 2;
    losses.push(plainLossScale(loss, data.count, O) * 0.5 * sum);
  }
  return { params, state, losses, clipped };
}

async function backendRun(
  kernels: CpuKernels,
  problem: Problem,
  settings: OptimizerSettings,
  loss: LossName,
): Promise<Run> {
  const backend = new CpuBackend(problem.layout, { kernels });
  backend.setOptimizer(settings, loss);
  backend.setParams(problem.params);
  backend.setTrainingData(problem.data, BATCH);
  for (const [e, order] of epochOrders(problem.data.count).entries()) {
    await backend.trainEpoch(order, epochLearningRate(LEARNING_RATE, DECAY, e + 1));
  }
  const losses = (await backend.readLosses()).train;
  return { params: await backend.readParams(), state: await backend.readOptimizerState(), losses, clipped: 0 };
}

function relativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  const { diff, scale } = maxAbsDiff(got, want);
  return diff / Math.max(1, scale);
}

const CASES: { name: OptimizerName; clipNorm: number | null }[] = [
  { name: 'sgd', clipNorm: null },
  { name: 'sgd', clipNorm: 0.5 },
  { name: 'momentum', clipNorm: null },
  { name: 'momentum', clipNorm: 0.5 },
  { name: 'adam', clipNorm: null },
  { name: 'adam', clipNorm: 0.5 },
];

describe('CPU optimisers against the plain reference loop (3 epochs, lr decay 0.7)', () => {
  for (const [shapeName, config] of SHAPES) {
    for (const { name, clipNorm } of CASES) {
      for (const loss of ['sse', 'mse'] as const) {
        const label = `${shapeName}: ${name}${clipNorm === null ? '' : ` clipped to ${clipNorm}`}, ${loss}`;
        it(label, async () => {
          const problem = randomProblem(config, SAMPLES, 7);
          const settings: OptimizerSettings = { ...DEFAULT_OPTIMIZER, name, momentum: 0.8, clipNorm };
          const want = await referenceLoop(problem, settings, loss);
          // Clipping must really shorten steps (between 6 and all 9 of them here).
          if (clipNorm !== null) expect(want.clipped).toBeGreaterThan(0);
          for (const kernels of ['reference', 'fast'] as const) {
            const got = await backendRun(kernels, problem, settings, loss);
            const tol = kernels === 'reference' ? REFERENCE_TOL : FAST_TOL;
            const errors = {
              params: relativeError(got.params, want.params),
              slots: relativeError(got.state.slots, want.state.slots),
              losses: relativeError(got.losses, want.losses),
            };
            if (kernels === 'reference' && loss === 'sse') expect(errors).toEqual({ params: 0, slots: 0, losses: 0 });
            expect(errors.params, `${kernels} params`).toBeLessThanOrEqual(tol);
            expect(errors.slots, `${kernels} state`).toBeLessThanOrEqual(tol);
            expect(errors.losses, `${kernels} per-epoch error`).toBeLessThanOrEqual(tol);
            expect(got.state.name).toBe(name);
            expect(got.state.step).toBe(want.state.step);
            expect(got.state.slots).toHaveLength(want.state.slots.length);
          }
        });
      }
    }
  }
});

describe('the loss choice on the CPU', () => {
  for (const kernels of ['reference', 'fast'] as const) {
    it(`${kernels}: gradients() of the MSE are lossScale x those of the blog’s loss, its loss the mean`, async () => {
      const config = { inputSize: 2, hiddenSizes: [6], outputSize: 3, window: 5 };
      const { layout, params, data } = randomProblem(config, 4, 3);
      const backend = new CpuBackend(layout, { kernels });
      backend.setParams(params);
      const sse = await backend.gradients(data.x, data.t, 4);
      backend.setOptimizer(DEFAULT_OPTIMIZER, 'mse');
      const mse = await backend.gradients(data.x, data.t, 4);
      const scale = lossScale('mse', 4, 3);
      expect(scale).toBe(2 / 12);
      let mean = 0;
      for (let i = 0; i < mse.y.length; i++) mean += (mse.y[i] - data.t[i]) ** 2 / mse.y.length;
      expect(mse.loss).toBeCloseTo(mean, 6);
      expect(mse.loss).toBeCloseTo(scale * sse.loss, 6);
      expect(
        relativeError(
          mse.grads,
          sse.grads.map((g) => scale * g),
        ),
      ).toBeLessThanOrEqual(1e-6);
    });
  }
});

const SEED_DEFAULTS = { points: 50, noise: 0.1, window: 10, hiddenSizes: [30] };
const SEED_TRAINING = { epochs: 101, batchSize: 8, learningRate: 0.01, reportEvery: 101 };

describe('momentum and Adam train the blog’s task', () => {
  // At the blog's settings the final error is 0.19-0.30 for momentum 0.9 and 0.05-0.11 for Adam
  // (SGD: 0.25-0.35), 0.02-0.09 of the first epoch's.
  const runs: [CpuKernels, OptimizerName, number][] = [
    ['fast', 'momentum', 0],
    ['fast', 'momentum', 1],
    ['fast', 'adam', 0],
    ['fast', 'adam', 2],
    ['reference', 'momentum', 2],
    ['reference', 'adam', 1],
  ];
  for (const [kernels, name, seed] of runs) {
    it(`${kernels}, ${name}, seed ${seed}: final error < 0.4 and < 0.15 x the first epoch's`, async () => {
      const run = startRun(sineRunSettings({ seed, ...SEED_DEFAULTS }));
      const backend = new CpuBackend(run.layout, { kernels });
      backend.setParams(run.params);
      const optimizer = { ...DEFAULT_OPTIMIZER, name };
      const result = await trainToEnd(backend, run.prepared.train, run.rng, { ...SEED_TRAINING, optimizer });
      expect(result.diverged).toBeNull();
      expect(result.finalLoss).toBeLessThan(0.4);
      expect(result.finalLoss).toBeLessThan(0.15 * result.losses[0]);
      expect(result.optimizerState?.name).toBe(name);
      expect(result.optimizerState?.step).toBe(101 * 5);
    });
  }

  it('reports the MSE per epoch when asked, on training and validation data alike', async () => {
    const run = startRun(sineRunSettings({ seed: 0, ...SEED_DEFAULTS }));
    const backend = new CpuBackend(run.layout);
    backend.setParams(run.params);
    const options = { ...SEED_TRAINING, epochs: 20, reportEvery: 5, loss: 'mse' as const };
    const result = await trainToEnd(backend, run.prepared.train, run.rng, {
      ...options,
      validation: run.prepared.train,
    });
    const { x, t, count } = run.prepared.train;
    const y = await backend.predict(x, count);
    let mean = 0;
    for (let i = 0; i < y.length; i++) mean += (y[i] - t[i]) ** 2 / y.length;
    expect(result.finalLoss).toBeCloseTo(mean, 6);
    expect(result.validationLosses.at(-1)?.loss).toBeCloseTo(mean, 6);
    expect(result.finalLoss).toBeLessThan(result.losses[0]);
  });
});

describe('optimiser state', () => {
  const config = { inputSize: 3, hiddenSizes: [5, 7], outputSize: 2, window: 4 };
  const adam: OptimizerSettings = { ...DEFAULT_OPTIMIZER, name: 'adam', clipNorm: 1 };

  async function trained(kernels: CpuKernels, settings: OptimizerSettings) {
    const problem = randomProblem(config, SAMPLES, 5);
    const backend = new CpuBackend(problem.layout, { kernels });
    backend.setOptimizer(settings, 'mse');
    backend.setParams(problem.params);
    backend.setTrainingData(problem.data, BATCH);
    const [first, second] = epochOrders(SAMPLES);
    await backend.trainEpoch(first, 0.01);
    return { problem, backend, next: second };
  }

  for (const kernels of ['reference', 'fast'] as const) {
    it(`${kernels}: starts at zero, round-trips through read and set, and goes on identically`, async () => {
      const fresh = new CpuBackend(paramLayout(config), { kernels });
      fresh.setOptimizer(adam, 'sse');
      const zero = await fresh.readOptimizerState();
      expect(zero.step).toBe(0);
      expect(zero.slots).toEqual(new Float32Array(2 * fresh.layout.size));

      const { problem, backend, next } = await trained(kernels, adam);
      const state = await backend.readOptimizerState();
      expect(state.step).toBe(3);
      expect(state.slots.some((value) => value !== 0)).toBe(true);
      const copy = new CpuBackend(problem.layout, { kernels });
      copy.setOptimizer(adam, 'mse');
      copy.setParams(await backend.readParams());
      copy.setOptimizerState(state);
      expect(await copy.readOptimizerState()).toEqual(state);
      copy.setTrainingData(problem.data, BATCH);
      await backend.trainEpoch(next, 0.01);
      await copy.trainEpoch(next, 0.01);
      expect(await copy.readParams()).toEqual(await backend.readParams());
      expect(await copy.readOptimizerState()).toEqual(await backend.readOptimizerState());
      expect((await copy.readLosses()).train).toEqual((await backend.readLosses()).train.slice(1));

      // setOptimizer starts the state afresh.
      backend.setOptimizer(adam, 'mse');
      expect(await backend.readOptimizerState()).toEqual({ name: 'adam', step: 0, slots: zero.slots });
    });
  }

  it('moves between the engines in the flat layout, and survives a larger batch', async () => {
    const momentum: OptimizerSettings = { ...DEFAULT_OPTIMIZER, name: 'momentum' };
    const { problem, backend } = await trained('fast', momentum);
    const state = await backend.readOptimizerState();
    const reference = new CpuBackend(problem.layout, { kernels: 'reference' });
    reference.setOptimizer(momentum, 'mse');
    reference.setOptimizerState(state);
    expect(await reference.readOptimizerState()).toEqual(state);
    // A batch larger than any before replaces the fast engine's buffers; the state goes along.
    await backend.gradients(problem.data.x, problem.data.t, SAMPLES);
    expect(await backend.readOptimizerState()).toEqual(state);
  });

  it('refuses state of another optimiser or size, naming the field', async () => {
    const { backend } = await trained('fast', adam);
    const state = await backend.readOptimizerState();
    expect(() => backend.setOptimizerState({ ...state, name: 'momentum' })).toThrowError(InputError);
    expect(() => backend.setOptimizerState({ ...state, name: 'momentum' })).toThrowError(/optimizer\.name/);
    expect(() => backend.setOptimizerState({ ...state, slots: state.slots.subarray(1) })).toThrowError(
      /optimizer\.slots: expected \d+ numbers/,
    );
    expect(() => backend.setOptimizerState({ ...state, step: -1 })).toThrowError(/optimizer\.step/);
  });
});
