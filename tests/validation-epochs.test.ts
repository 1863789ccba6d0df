// The validation error measured every epoch inside the backends (setValidationData, and readLosses'
// `validation`): the trainer's validationLosses get one entry per epoch, each the error of predict()
// on the validation windows after that epoch in a separate reference run, on the CPU and on WebGPU
// alike (which agree with each other); on WebGPU it costs no submit or readback (one submit an epoch,
// one readback a report) and no buffer while training.

import { beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/backends/backend.js';
import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import type { GpuContext } from '../src/backends/webgpu/context.js';
import { createWebGpuBackend, type Schedule } from '../src/backends/webgpu/webgpuBackend.js';
import type { Dataset } from '../src/data/dataset.js';
import { InputError } from '../src/model/errors.js';
import { DEFAULT_OPTIMIZER, type LossName, lossScale } from '../src/model/optimizer.js';
import { type Run, type RunSettings, startRun } from '../src/train/run.js';
import { type TrainOptions, trainToEnd } from '../src/train/trainer.js';
import { withoutGpuErrors, workerGpuContext } from './webgpu-context.js';

const SETTINGS: RunSettings = {
  seed: 11,
  source: { kind: 'generated', spec: { kind: 'random-walk', points: 60, noise: 0.05, amplitude: 10 } },
  window: 5,
  hiddenSizes: [6],
  trainFraction: 0.8,
  validationFraction: 0.1,
  normalize: 'z-score',
};
const EPOCHS = 6;
const OPTIONS: TrainOptions = { epochs: EPOCHS, batchSize: 4, learningRate: 0.05, reportEvery: 3 };

function split(run: Run): { train: Dataset; validation: Dataset } {
  const { train, validation } = run.prepared;
  if (validation === null) throw new Error('the run holds nothing out');
  return { train, validation };
}

/** The per-epoch validation error of the trainer's run on `backend`. */
async function trainerValidation(backend: Backend, run: Run, loss: LossName) {
  const { train, validation } = split(run);
  backend.setParams(run.params);
  const result = await trainToEnd(backend, train, run.rng.clone(), { ...OPTIONS, loss, validation });
  return result;
}

/** The error of `backend` on `data` by `loss`, from predict(): the reference for the per-epoch one. */
async function datasetLoss(backend: Backend, data: Dataset, loss: LossName): Promise<number> {
  const y = await backend.predict(data.x, data.count);
  let sum = 0;
  for (let i = 0; i < y.length; i++) {
    const d = y[i] - data.t[i];
    sum += d * d;
  }
  return lossScale(loss, data.count, backend.config.outputSize) * 0.5 * sum;
}

/**
 * The reference: the same epochs driven by hand without a validation set, the validation error
 * measured after each by datasetLoss (a predict).
 */
async function referenceValidation(backend: Backend, run: Run, loss: LossName): Promise<number[]> {
  const { train, validation } = split(run);
  backend.setOptimizer(DEFAULT_OPTIMIZER, loss);
  backend.setParams(run.params);
  backend.setTrainingData(train, OPTIONS.batchSize);
  const rng = run.rng.clone();
  const order = new Uint32Array(train.count);
  const losses: number[] = [];
  for (let epoch = 1; epoch <= EPOCHS; epoch++) {
    rng.permutation(order);
    await backend.trainEpoch(order, OPTIONS.learningRate);
    await backend.readLosses();
    losses.push(await datasetLoss(backend, validation, loss));
  }
  return losses;
}

function expectClose(actual: number[], expected: number[], relative: number): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((value, i) => {
    expect(Math.abs(value - expected[i]), `epoch ${i + 1}: ${value} vs ${expected[i]}`).toBeLessThanOrEqual(
      relative * Math.abs(expected[i]),
    );
  });
}

describe('validation error every epoch on the CPU', () => {
  for (const loss of ['sse', 'mse'] as const) {
    it(`${loss}: one entry per epoch, each the datasetLoss after that epoch`, async () => {
      const run = startRun(SETTINGS);
      const result = await trainerValidation(new CpuBackend(run.layout), run, loss);
      expect(result.validationLosses.map((v) => v.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
      const reference = await referenceValidation(new CpuBackend(run.layout), run, loss);
      expectClose(
        result.validationLosses.map((v) => v.loss),
        reference,
        1e-6,
      );
      // The training errors are those of a run without validation data.
      const plain = new CpuBackend(run.layout);
      plain.setParams(run.params);
      const without = await trainToEnd(plain, split(run).train, run.rng.clone(), { ...OPTIONS, loss });
      expect(result.losses).toEqual(without.losses);
      expect(without.validationLosses).toEqual([]);
    });
  }

  it('refuses validation windows that do not fit the model, or none', () => {
    const run = startRun(SETTINGS);
    const backend = new CpuBackend(run.layout);
    const { validation } = split(run);
    expect(() => backend.setValidationData({ ...validation, window: 4 })).toThrow(InputError);
    expect(() => backend.setValidationData({ ...validation, count: 0 })).toThrow(InputError);
  });

  it('a run resumed from a checkpoint goes on with per-epoch validation errors', async () => {
    const run = startRun(SETTINGS);
    const whole = await trainerValidation(new CpuBackend(run.layout), run, 'sse');
    const { train, validation } = split(run);
    const first = new CpuBackend(run.layout);
    first.setParams(run.params);
    const half = await trainToEnd(first, train, run.rng.clone(), { ...OPTIONS, epochs: 3, validation });
    expect(half.validationLosses.map((v) => v.epoch)).toEqual([1, 2, 3]);
    // A fallback backend picks the run up at the checkpoint: trainToEnd's path after a lost GPU.
    let calls = 0;
    const failing = new CpuBackend(run.layout);
    failing.setParams(run.params);
    const original = failing.trainEpoch.bind(failing);
    failing.trainEpoch = async (order, lr, options) => {
      if (++calls > 4) throw new Error('device lost');
      await original(order, lr, options);
    };
    const resumed = await trainToEnd(failing, train, run.rng.clone(), { ...OPTIONS, validation }, undefined, {
      recoverable: () => true,
      create: () => new CpuBackend(run.layout),
    });
    expect(resumed.switched).not.toBeNull();
    expect(resumed.validationLosses.map((v) => v.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
    expectClose(
      resumed.validationLosses.map((v) => v.loss),
      whole.validationLosses.map((v) => v.loss),
      1e-6,
    );
  });
});

describe('validation error every epoch on WebGPU', () => {
  // The worker's shared device: pipelines the other device files built are not built again.
  let context: GpuContext;
  beforeAll(async () => {
    context = await workerGpuContext();
  });

  for (const schedule of ['stepwise', 'persistent'] as Schedule[]) {
    it(`${schedule}: one entry per epoch, each the datasetLoss after that epoch, as on the CPU`, async () => {
      await withoutGpuErrors(context, async () => {
        const run = startRun(SETTINGS);
        const gpu = await createWebGpuBackend(context, run.layout, { schedule });
        const reference = await createWebGpuBackend(context, run.layout, { schedule });
        try {
          const result = await trainerValidation(gpu, run, 'sse');
          expect(result.validationLosses.map((v) => v.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
          const gpuLosses = result.validationLosses.map((v) => v.loss);
          expectClose(gpuLosses, await referenceValidation(reference, run, 'sse'), 1e-4);
          const cpu = await trainerValidation(new CpuBackend(run.layout), run, 'sse');
          expectClose(
            gpuLosses,
            cpu.validationLosses.map((v) => v.loss),
            1e-3,
          );
        } finally {
          gpu.dispose();
          reference.dispose();
        }
      });
    });
  }

  it('costs no submit, readback or buffer while training: one submit an epoch, one readback a report', async () => {
    await withoutGpuErrors(context, async () => {
      const run = startRun(SETTINGS);
      const { train, validation } = split(run);
      const counted = async (withValidation: boolean) => {
        const backend = await createWebGpuBackend(context, run.layout, { schedule: 'stepwise' });
        try {
          backend.setParams(run.params);
          const before = backend.counters();
          const result = await trainToEnd(backend, train, run.rng.clone(), {
            ...OPTIONS,
            validation: withValidation ? validation : null,
          });
          const after = backend.counters();
          return {
            result,
            submits: after.submits - before.submits,
            readbacks: after.readbacks - before.readbacks,
            dispatches: after.dispatches - before.dispatches,
          };
        } finally {
          backend.dispose();
        }
      };
      const withIt = await counted(true);
      const withoutIt = await counted(false);
      // The first weights read back (trainToEnd's checkpoint), then an epoch a submit, a report a readback.
      expect(withIt.submits).toBe(1 + EPOCHS);
      expect(withIt.readbacks).toBe(1 + EPOCHS / OPTIONS.reportEvery);
      expect(withoutIt.submits).toBe(withIt.submits);
      expect(withoutIt.readbacks).toBe(withIt.readbacks);
      expect(withIt.dispatches).toBeGreaterThan(withoutIt.dispatches);
      expect(withIt.result.validationLosses).toHaveLength(EPOCHS);
      expect(withoutIt.result.validationLosses).toEqual([]);
      expect(withIt.result.losses).toEqual(withoutIt.result.losses);

      // Set once; then epochs allocate nothing.
      const backend = await createWebGpuBackend(context, run.layout, { schedule: 'stepwise' });
      try {
        backend.setParams(run.params);
        backend.setTrainingData(train, OPTIONS.batchSize);
        backend.setValidationData(validation);
        const order = new Uint32Array(train.count);
        run.rng.clone().permutation(order);
        await backend.trainEpoch(order, 0.01);
        expect((await backend.readLosses()).validation).toHaveLength(1);
        const before = backend.counters();
        for (let e = 0; e < 4; e++) await backend.trainEpoch(order, 0.01);
        const four = await backend.readLosses();
        const after = backend.counters();
        expect(four.train).toHaveLength(4);
        expect(four.validation).toHaveLength(4);
        expect((await backend.readLosses()).validation).toEqual([]);
        expect(after.submits - before.submits).toBe(4);
        expect(after.readbacks - before.readbacks).toBe(1);
        expect(after.buffersCreated).toBe(before.buffersCreated);
        // An epoch without an error queues no validation error either.
        await backend.trainEpoch(order, 0.01, { evaluate: false });
        await backend.trainEpoch(order, 0.01);
        const one = await backend.readLosses();
        expect(one.train).toHaveLength(1);
        expect(one.validation).toHaveLength(1);
        // Removed: epochs go on without it.
        backend.setValidationData(null);
        await backend.trainEpoch(order, 0.01);
        expect(await backend.readLosses()).toMatchObject({ train: [expect.any(Number)], validation: [] });
      } finally {
        backend.dispose();
      }
    });
  });

  it('refuses a validation set that does not fit the device before allocating', async () => {
    const run = startRun(SETTINGS);
    const backend = await createWebGpuBackend(context, run.layout, { schedule: 'stepwise' });
    try {
      const { validation } = split(run);
      const created = backend.counters().buffersCreated;
      const huge = context.limits.maxStorageBufferBindingSize;
      expect(() => backend.setValidationData({ ...validation, count: huge })).toThrow(InputError);
      expect(() => backend.setValidationData({ ...validation, outputSize: 2 })).toThrow(InputError);
      expect(backend.counters().buffersCreated).toBe(created);
    } finally {
      backend.dispose();
    }
  });
});
