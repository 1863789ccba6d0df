// The optimisers and the losses on WebGPU against the CPU backend, through the trainer, with the same
// seed, data, initial weights and minibatches: SGD, momentum and Adam, each with and without
// global-norm clipping, on the blog's half sum of squares and on the mean squared error, with
// learning-rate decay. Float32 on both; only the order of sums differs, so after six epochs (30
// updates) the per-epoch errors agree within 1e-4 relative and the weights and each array of the
// optimiser's state within 1e-4 of that array's largest magnitude. The clipped runs are repeated at
// hidden 64 with the GPU kernel shapes (one parameter an invocation), where the gradient norm takes
// its full 256 partial sums and the update many workgroups. Also: the state round-trips and is
// checked, calibrate() keeps it, gradients() follows the loss, clipping costs one dispatch a step, and
// training allocates nothing and reads nothing back between reports.

import { beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import type { GpuContext } from '../src/backends/webgpu/context.js';
import {
  createWebGpuBackend,
  type WebGpuBackend,
  type WebGpuBackendOptions,
} from '../src/backends/webgpu/webgpuBackend.js';
import { InputError } from '../src/model/errors.js';
import {
  clipScale,
  DEFAULT_OPTIMIZER,
  type LossName,
  OPTIMIZERS,
  type OptimizerName,
  type OptimizerSettings,
} from '../src/model/optimizer.js';
import { type Run, startRun } from '../src/train/run.js';
import { type TrainOptions, type TrainResult, trainToEnd } from '../src/train/trainer.js';
import { sineRunSettings } from './helpers.js';
import { withoutGpuErrors, workerGpuContext } from './webgpu-context.js';

const SEED = { seed: 11, points: 50, noise: 0.1, window: 10, hiddenSizes: [30] };
/** A model whose P (16,961) needs the gradient norm's 256 partial sums at one parameter an invocation. */
const WIDE = { ...SEED, hiddenSizes: [64] };
const BATCH = 8;
/** Relative agreement of errors, weights and state after six epochs. */
const TOL = 1e-4;
/**
 * Clipping threshold: below the gradient norm of most minibatches of the blog's task under either
 * loss (checked below), so clipping changes most updates.
 */
const CLIP_NORM: Record<LossName, number> = { sse: 0.5, mse: 0.05 };

let context: GpuContext;
beforeAll(async () => {
  context = await workerGpuContext();
});

function settings(name: OptimizerName, clipNorm: number | null): OptimizerSettings {
  return { ...DEFAULT_OPTIMIZER, name, clipNorm };
}

function options(optimizer: OptimizerSettings, loss: LossName): TrainOptions {
  return { epochs: 6, batchSize: BATCH, learningRate: 0.01, reportEvery: 3, optimizer, loss, lrDecay: 0.8 };
}

/** Runs `body` on a fresh WebGPU backend for the task, disposing of it, failing on any GPU error. */
function withGpu<T>(
  gpuOptions: WebGpuBackendOptions,
  body: (backend: WebGpuBackend, run: Run) => Promise<T>,
  task = SEED,
): Promise<T> {
  return withoutGpuErrors(context, async () => {
    const run = startRun(sineRunSettings(task));
    const backend = await createWebGpuBackend(context, run.layout, gpuOptions);
    try {
      backend.setParams(run.params);
      return await body(backend, run);
    } finally {
      backend.dispose();
    }
  });
}

async function trainCpu(train: TrainOptions, task = SEED): Promise<TrainResult> {
  const run = startRun(sineRunSettings(task));
  const cpu = new CpuBackend(run.layout);
  cpu.setParams(run.params);
  return trainToEnd(cpu, run.prepared.train, run.rng, train);
}

/** max|a - e| / max|e| over an array (0 for two empty arrays). */
function scaledDiff(actual: Float32Array, expected: Float32Array): number {
  expect(actual.length).toBe(expected.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

/** The test that `name` (clipped at `clipNorm`) on `loss` trains alike on the GPU and the CPU. */
function agreement(
  name: OptimizerName,
  clipNorm: number | null,
  loss: LossName,
  task: typeof SEED,
  gpuOptions: WebGpuBackendOptions,
): void {
  const variant = gpuOptions.tuning === undefined ? '' : `, hidden ${task.hiddenSizes}, gpu tuning`;
  const label = `${name}${clipNorm === null ? '' : ` clipped at ${clipNorm}`}, ${loss}, decay 0.8${variant}`;
  it(`${label}: errors, weights and state within ${TOL} after 6 epochs`, async () => {
    const train = options(settings(name, clipNorm), loss);
    const cpu = await trainCpu(train, task);
    const gpu = await withGpu(
      gpuOptions,
      async (backend, run) => {
        const result = await trainToEnd(backend, run.prepared.train, run.rng, train);
        // What the state's arrays hold is the GPU's, read once at the last report.
        expect(result.optimizerState).toEqual(await backend.readOptimizerState());
        return result;
      },
      task,
    );
    expect(gpu.losses).toHaveLength(train.epochs);
    const errors = gpu.losses.map((value, e) => Math.abs(value - cpu.losses[e]) / cpu.losses[e]);
    const params = scaledDiff(gpu.params, cpu.params);
    const cpuState = cpu.optimizerState;
    const gpuState = gpu.optimizerState;
    if (cpuState === undefined || gpuState === undefined) throw new Error('no optimiser state reported');
    expect(gpuState.name).toBe(name);
    expect(gpuState.step).toBe(cpuState.step);
    const P = gpu.params.length;
    const state = [0, 1]
      .filter((s) => gpuState.slots.length >= (s + 1) * P)
      .map((s) => scaledDiff(gpuState.slots.subarray(s * P, (s + 1) * P), cpuState.slots.subarray(s * P, (s + 1) * P)));
    for (const [e, relative] of errors.entries()) {
      expect(relative, `epoch ${e + 1}: gpu ${gpu.losses[e]}, cpu ${cpu.losses[e]}`).toBeLessThanOrEqual(TOL);
    }
    expect(params, 'weights').toBeLessThanOrEqual(TOL);
    for (const [s, diff] of state.entries()) expect(diff, `state array ${s}`).toBeLessThanOrEqual(TOL);
    expect(gpu.finalLoss).toBeLessThan(gpu.losses[0]);
    if (clipNorm !== null) {
      // Clipping changed the run, by far more than the tolerance.
      const unclipped = await trainCpu(options(settings(name, null), loss), task);
      expect(scaledDiff(gpu.params, unclipped.params)).toBeGreaterThan(10 * TOL);
    }
  });
}

describe('webgpu optimisers against the cpu', () => {
  for (const name of OPTIMIZERS)
    agreement(name, CLIP_NORM.mse, 'mse', WIDE, { schedule: 'stepwise', tuning: 'hardware' });

  for (const loss of ['sse', 'mse'] as const) {
    it(`${loss}: the clipping threshold clips most minibatches of the first epoch`, async () => {
      const run = startRun(sineRunSettings(SEED));
      const cpu = new CpuBackend(run.layout);
      cpu.setParams(run.params);
      cpu.setOptimizer(settings('sgd', null), loss);
      const order = run.rng.clone().permutation(new Uint32Array(run.prepared.train.count));
      const { window: T } = run.config;
      let clipped = 0;
      const steps = Math.floor(run.prepared.train.count / BATCH);
      for (let s = 0; s < steps; s++) {
        const x = new Float32Array(BATCH * T);
        const t = new Float32Array(BATCH);
        for (let b = 0; b < BATCH; b++) {
          const n = order[s * BATCH + b];
          x.set(run.prepared.train.x.subarray(n * T, (n + 1) * T), b * T);
          t[b] = run.prepared.train.t[n];
        }
        const { grads } = await cpu.gradients(x, t, BATCH);
        if (clipScale(grads, CLIP_NORM[loss]) < 1) clipped++;
      }
      expect(clipped).toBeGreaterThan(steps / 2);
    });

    for (const name of OPTIMIZERS) {
      for (const clipNorm of [null, CLIP_NORM[loss]]) agreement(name, clipNorm, loss, SEED, {});
    }
  }
});

/** The blog's task's first minibatch (in sample order), as gradients() takes it. */
function firstBatch(run: Run) {
  const { window: T } = run.config;
  return { x: run.prepared.train.x.slice(0, BATCH * T), t: run.prepared.train.t.slice(0, BATCH) };
}

describe('webgpu optimiser state and loss', () => {
  for (const schedule of ['stepwise', 'persistent'] as const) {
    it(`${schedule}: clipping adds one dispatch a step; training allocates and reads back nothing`, async () => {
      await withGpu({ schedule }, async (backend, run) => {
        const data = run.prepared.train;
        const steps = Math.floor(data.count / BATCH);
        const order = new Uint32Array(data.count);
        const perStep: Record<string, number | null> = {};
        for (const name of OPTIMIZERS) {
          for (const clipNorm of [null, 1]) {
            backend.setOptimizer(settings(name, clipNorm), 'mse');
            backend.setTrainingData(data, BATCH);
            await backend.trainEpoch(run.rng.permutation(order), 0.01); // warm-up
            await backend.readLosses();
            await backend.readOptimizerState();
            const before = backend.counters();
            for (let e = 0; e < 3; e++) await backend.trainEpoch(run.rng.permutation(order), 0.01, { evaluate: false });
            const after = backend.counters();
            const key = `${name}${clipNorm === null ? '' : ' clipped'}`;
            perStep[key] = backend.dispatchesPerStep();
            expect(after.dispatches - before.dispatches, key).toBe(3 * steps * (perStep[key] ?? 0));
            expect(after.submits - before.submits, key).toBe(3);
            expect(after.readbacks - before.readbacks, key).toBe(0);
            expect(after.buffersCreated - before.buffersCreated, key).toBe(0);
            const state = await backend.readOptimizerState();
            expect(state.step, key).toBe(4 * steps);
            expect(backend.counters().readbacks - after.readbacks, key).toBe(name === 'sgd' ? 0 : 1);
          }
        }
        const base = perStep.sgd ?? 0;
        expect(perStep).toEqual({
          sgd: base,
          'sgd clipped': base + 1,
          momentum: base,
          'momentum clipped': base + 1,
          adam: base,
          'adam clipped': base + 1,
        });
      });
    });
  }

  it('the state round-trips exactly; a state of another optimiser or size is refused, naming the field', async () => {
    await withGpu({}, async (backend, run) => {
      const adam = settings('adam', 1);
      backend.setOptimizer(adam, 'sse');
      backend.setTrainingData(run.prepared.train, BATCH);
      const order = new Uint32Array(run.prepared.train.count);
      for (let e = 0; e < 2; e++) await backend.trainEpoch(run.rng.permutation(order), 0.01);
      await backend.readLosses();
      const state = await backend.readOptimizerState();
      const params = await backend.readParams();
      expect(state.step).toBe(2 * Math.floor(run.prepared.train.count / BATCH));
      expect(state.slots.some((value) => value !== 0)).toBe(true);

      // setOptimizer starts the state afresh and keeps the weights.
      backend.setOptimizer(adam, 'sse');
      const fresh = await backend.readOptimizerState();
      expect(fresh.step).toBe(0);
      expect(fresh.slots.every((value) => value === 0)).toBe(true);
      expect(Array.from(await backend.readParams())).toEqual(Array.from(params));

      backend.setOptimizerState(state);
      const back = await backend.readOptimizerState();
      expect(back.step).toBe(state.step);
      expect(Array.from(back.slots)).toEqual(Array.from(state.slots));

      const refusal = (bad: typeof state) => {
        try {
          backend.setOptimizerState(bad);
        } catch (error) {
          expect(error).toBeInstanceOf(InputError);
          return (error as InputError).field;
        }
        return null;
      };
      expect(refusal({ ...state, name: 'momentum' })).toBe('optimizer.name');
      expect(refusal({ ...state, step: -1 })).toBe('optimizer.step');
      expect(refusal({ ...state, slots: state.slots.subarray(1) })).toBe('optimizer.slots');
      // A refused state changes nothing.
      expect(Array.from((await backend.readOptimizerState()).slots)).toEqual(Array.from(state.slots));
    });
  });

  it("calibrate() keeps the weights and Adam's state", async () => {
    await withGpu({}, async (backend, run) => {
      backend.setOptimizer(settings('adam', null), 'mse');
      backend.setTrainingData(run.prepared.train, BATCH);
      await backend.trainEpoch(run.rng.permutation(new Uint32Array(run.prepared.train.count)), 0.01);
      await backend.readLosses();
      const params = await backend.readParams();
      const state = await backend.readOptimizerState();
      await backend.calibrate();
      expect(Array.from(await backend.readParams())).toEqual(Array.from(params));
      const after = await backend.readOptimizerState();
      expect(after.step).toBe(state.step);
      expect(Array.from(after.slots)).toEqual(Array.from(state.slots));
    });
  });

  it('gradients() follow the loss: mse is 2 / (B O) times sse, as on the cpu', async () => {
    const run = startRun(sineRunSettings(SEED));
    const { x, t } = firstBatch(run);
    const cpu = new CpuBackend(run.layout);
    cpu.setParams(run.params);
    cpu.setOptimizer(DEFAULT_OPTIMIZER, 'mse');
    const expected = await cpu.gradients(x, t, BATCH);
    await withGpu({}, async (backend) => {
      const sse = await backend.gradients(x, t, BATCH);
      backend.setOptimizer(DEFAULT_OPTIMIZER, 'mse');
      const mse = await backend.gradients(x, t, BATCH);
      const factor = 2 / BATCH;
      expect(Math.abs(mse.loss - factor * sse.loss)).toBeLessThanOrEqual(1e-6 * mse.loss);
      expect(
        scaledDiff(
          mse.grads,
          sse.grads.map((g) => factor * g),
        ),
      ).toBeLessThanOrEqual(1e-6);
      expect(Math.abs(mse.loss - expected.loss)).toBeLessThanOrEqual(TOL * expected.loss);
      expect(scaledDiff(mse.grads, expected.grads)).toBeLessThanOrEqual(TOL);
      expect(Array.from(mse.y)).toEqual(Array.from(sse.y));
    });
  });
});
