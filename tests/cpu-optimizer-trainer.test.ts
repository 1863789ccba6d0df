// The trainer's optimizer options on the CPU backend: the decayed learning rate reaches each epoch,
// checkpoints carry the optimizer's state so that a resumed run (from a report, or on a fallback
// backend after a failure) is the uninterrupted one, and bad settings are refused naming the field.

import { describe, expect, it } from 'vitest';
import type { Backend } from '../src/backends/backend.js';
import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import { DEFAULT_OPTIMIZER, epochLearningRate, type OptimizerSettings } from '../src/model/optimizer.js';
import { startRun } from '../src/train/run.js';
import { type Checkpoint, type TrainOptions, train, trainToEnd } from '../src/train/trainer.js';
import { sineRunSettings } from './helpers.js';

const SEED_DEFAULTS = { points: 50, noise: 0.1, window: 10, hiddenSizes: [30] };
const ADAM: OptimizerSettings = { ...DEFAULT_OPTIMIZER, name: 'adam', clipNorm: 5 };
const OPTIONS: TrainOptions = {
  epochs: 9,
  batchSize: 8,
  learningRate: 0.01,
  reportEvery: 3,
  optimizer: ADAM,
  loss: 'mse',
  lrDecay: 0.9,
};

function seedBackend(seed = 4) {
  const run = startRun(sineRunSettings({ seed, ...SEED_DEFAULTS }));
  const backend = new CpuBackend(run.layout);
  backend.setParams(run.params);
  return { run, backend };
}

describe('trainer with an optimiser on the cpu', () => {
  it('trains each epoch at the decayed rate with the chosen optimiser and loss', async () => {
    const { run, backend } = seedBackend();
    const result = await trainToEnd(backend, run.prepared.train, run.rng.clone(), OPTIONS);

    // The same by hand: the backend's own calls, one permutation per epoch from the same generator.
    const { backend: manual } = seedBackend();
    manual.setOptimizer(ADAM, 'mse');
    manual.setTrainingData(run.prepared.train, OPTIONS.batchSize);
    const rng = run.rng.clone();
    const order = new Uint32Array(run.prepared.train.count);
    for (let epoch = 1; epoch <= OPTIONS.epochs; epoch++) {
      rng.permutation(order);
      await manual.trainEpoch(order, epochLearningRate(OPTIONS.learningRate, 0.9, epoch));
    }
    expect(result.losses).toEqual((await manual.readLosses()).train);
    expect(result.params).toEqual(await manual.readParams());
    expect(result.optimizerState).toEqual(await manual.readOptimizerState());
    expect(result.finalLoss).toBeLessThan(result.losses[0]);
  });

  it('goes on from a report with the same Adam state: the result is the uninterrupted run', async () => {
    const { run, backend } = seedBackend();
    const whole = await trainToEnd(backend, run.prepared.train, run.rng.clone(), OPTIONS);

    // Stop at the second report (epoch 6), then go on in a fresh backend from that checkpoint.
    const first = seedBackend();
    const reports = train(first.backend, run.prepared.train, run.rng.clone(), OPTIONS);
    let checkpoint: Checkpoint | null = null;
    for await (const report of reports) {
      if (report.epoch === 6) {
        checkpoint = report;
        break;
      }
    }
    expect(checkpoint?.optimizerState?.name).toBe('adam');
    expect(checkpoint?.optimizerState?.step).toBe(6 * 5);
    const second = new CpuBackend(run.layout);
    const rest = train(second, run.prepared.train, run.rng.clone(), OPTIONS, undefined, checkpoint ?? undefined);
    let next = await rest.next();
    while (!next.done) next = await rest.next();
    expect(next.value.losses).toEqual(whole.losses);
    expect(next.value.params).toEqual(whole.params);
    expect(next.value.optimizerState).toEqual(whole.optimizerState);

    // Without the state, Adam would start again at step 0 and end elsewhere.
    const { optimizerState: _dropped, ...stateless } = checkpoint as Checkpoint;
    const restart = train(
      new CpuBackend(run.layout),
      run.prepared.train,
      run.rng.clone(),
      OPTIONS,
      undefined,
      stateless,
    );
    let other = await restart.next();
    while (!other.done) other = await restart.next();
    expect(other.value.params).not.toEqual(whole.params);
  });

  it('a fallback after a failure goes on from the last report with the optimiser state', async () => {
    const { run, backend } = seedBackend();
    const whole = await trainToEnd(backend, run.prepared.train, run.rng.clone(), OPTIONS);

    // A backend that fails in its eighth epoch (after the report at epoch 6).
    const { backend: failing } = seedBackend();
    let epochs = 0;
    const trainEpoch = failing.trainEpoch.bind(failing);
    failing.trainEpoch = async (order, learningRate, options) => {
      if (++epochs === 8) throw new Error('device lost');
      await trainEpoch(order, learningRate, options);
    };
    let fromEpoch = -1;
    const result = await trainToEnd(failing, run.prepared.train, run.rng.clone(), OPTIONS, undefined, {
      recoverable: () => true,
      create: () => new CpuBackend(run.layout),
      onSwitch: (_message, epoch) => {
        fromEpoch = epoch;
      },
    });
    expect(fromEpoch).toBe(6);
    expect(result.switched).toMatch(/device lost/);
    expect(result.losses).toEqual(whole.losses);
    expect(result.params).toEqual(whole.params);
    expect(result.optimizerState).toEqual(whole.optimizerState);
  });

  it('a checkpoint of another optimiser starts the chosen one afresh', async () => {
    const { run, backend } = seedBackend();
    const momentum = await trainToEnd(backend, run.prepared.train, run.rng.clone(), {
      ...OPTIONS,
      epochs: 3,
      optimizer: { ...DEFAULT_OPTIMIZER, name: 'momentum' },
    });
    const adam = train(new CpuBackend(run.layout), run.prepared.train, run.rng.clone(), OPTIONS, undefined, momentum);
    let next = await adam.next();
    while (!next.done) next = await adam.next();
    expect(next.value.optimizerState?.name).toBe('adam');
    expect(next.value.optimizerState?.step).toBe(6 * 5);
  });

  it('keeps the blog’s behaviour when no optimiser is given', async () => {
    const { run, backend } = seedBackend();
    const plain = { epochs: 4, batchSize: 8, learningRate: 0.01, reportEvery: 2 };
    const result = await trainToEnd(backend, run.prepared.train, run.rng.clone(), plain);
    const { backend: explicit } = seedBackend();
    const withDefaults = await trainToEnd(explicit, run.prepared.train, run.rng.clone(), {
      ...plain,
      optimizer: DEFAULT_OPTIMIZER,
      loss: 'sse',
      lrDecay: 1,
    });
    expect(withDefaults.losses).toEqual(result.losses);
    expect(withDefaults.params).toEqual(result.params);
    expect(result.optimizerState).toEqual({ name: 'sgd', step: 4 * 5, slots: new Float32Array(0) });
  });

  it('refuses bad settings, naming the field', async () => {
    const { run, backend } = seedBackend();
    const data = run.prepared.train;
    const go = (backendUsed: Backend, options: TrainOptions) =>
      trainToEnd(backendUsed, data, run.rng.clone(), { ...options, epochs: 2, reportEvery: 1 });
    await expect(go(backend, { ...OPTIONS, lrDecay: 0 })).rejects.toThrowError(/lr-decay: expected a number greater/);
    await expect(go(backend, { ...OPTIONS, optimizer: { ...ADAM, beta2: 1 } })).rejects.toThrowError(/beta2/);
    await expect(
      go(backend, { ...OPTIONS, optimizer: { ...DEFAULT_OPTIMIZER, name: 'momentum', momentum: -0.1 } }),
    ).rejects.toThrowError(/momentum: expected a number at least 0/);
    await expect(go(backend, { ...OPTIONS, optimizer: { ...ADAM, clipNorm: 0 } })).rejects.toThrowError(/clip-norm/);
  });
});
