// The Backend contract (src/backends/backend.ts) on every backend alike: readLosses() hands each
// epoch's errors over once, the validation errors beside them (an epoch asked for validation errors
// alone hands over those); bad arguments are refused naming the
// field; dispose() frees the backend, a second call resolves too, and every later call throws (or
// rejects with) a DisposedError while name, config and layout stay readable.

import { describe, expect, it } from 'vitest';
import { type Backend, DisposedError } from '../src/backends/backend.js';
import type { Dataset } from '../src/data/dataset.js';
import { Rng } from '../src/data/rng.js';
import { InputError } from '../src/model/errors.js';
import { initParams } from '../src/model/init.js';
import { type ModelConfig, paramLayout } from '../src/model/layout.js';
import { DEFAULT_OPTIMIZER } from '../src/model/optimizer.js';
import { everyBackend } from './backends.js';
import { fileGpuContext } from './webgpu-context.js';

const CONFIG: ModelConfig = { inputSize: 2, hiddenSizes: [5], outputSize: 1, window: 3 };
const layout = paramLayout(CONFIG);

/** `count` windows of normal noise for CONFIG. */
function windows(count: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const { window, inputSize, outputSize } = CONFIG;
  const x = new Float32Array(count * window * inputSize).map(() => rng.normal());
  const t = new Float32Array(count * outputSize).map(() => rng.normal());
  return { count, window, inputSize, outputSize, x, t };
}

describe.each(everyBackend(fileGpuContext()))('the contract on the $name backend', ({ open, run }) => {
  /** A backend with parameters, 12 training and 5 validation windows, batch 4. */
  async function ready(): Promise<{ backend: Backend; train: Dataset; order: Uint32Array }> {
    const backend = await open(layout);
    backend.setParams(initParams(layout, new Rng(1)));
    const train = windows(12, 2);
    backend.setTrainingData(train, 4);
    backend.setValidationData(windows(5, 3));
    return { backend, train, order: new Rng(4).permutation(new Uint32Array(train.count)) };
  }

  it('readLosses hands over each epoch once, its validation error beside it', async () => {
    await run(async () => {
      const { backend, order } = await ready();
      try {
        await backend.trainEpoch(order, 0.05);
        await backend.trainEpoch(order, 0.05, { evaluate: false });
        await backend.trainEpoch(order, 0.05);
        const losses = await backend.readLosses();
        expect(losses.train).toHaveLength(2);
        expect(losses.validation).toHaveLength(2);
        expect([...losses.train, ...losses.validation].every((loss) => Number.isFinite(loss) && loss > 0)).toBe(true);
        expect(await backend.readLosses()).toEqual({ train: [], validation: [] });
        backend.setValidationData(null);
        await backend.trainEpoch(order, 0.05);
        const without = await backend.readLosses();
        expect(without.train).toHaveLength(1);
        expect(without.validation).toEqual([]);
        await backend.finish();
      } finally {
        await backend.dispose();
      }
    });
  });

  it('an epoch with trainingError: false hands over its validation error alone, the one a full epoch gives', async () => {
    await run(async () => {
      const full = await ready();
      const alone = await ready();
      try {
        await full.backend.trainEpoch(full.order, 0.05);
        await alone.backend.trainEpoch(alone.order, 0.05, { trainingError: false });
        await full.backend.trainEpoch(full.order, 0.05);
        await alone.backend.trainEpoch(alone.order, 0.05);
        const everything = await full.backend.readLosses();
        const some = await alone.backend.readLosses();
        expect(everything.train).toHaveLength(2);
        // The second epoch computed both errors: the training error of its own epoch only.
        expect(some.train).toEqual(everything.train.slice(1));
        expect(some.validation).toEqual(everything.validation);
        expect(Array.from(await alone.backend.readParams())).toEqual(Array.from(await full.backend.readParams()));
      } finally {
        await Promise.all([full.backend.dispose(), alone.backend.dispose()]);
      }
    });
  });

  it('refuses bad arguments naming the field', async () => {
    await run(async () => {
      const { backend, train } = await ready();
      try {
        const field = async (call: () => unknown) => {
          try {
            await call();
          } catch (error) {
            expect(error).toBeInstanceOf(InputError);
            return (error as InputError).field;
          }
          return 'accepted';
        };
        expect(await field(() => backend.setTrainingData({ ...train, window: 4 }, 4))).toBe('data');
        expect(await field(() => backend.setTrainingData(train, 0))).toBe('batch');
        expect(await field(() => backend.setTrainingData(train, 13))).toBe('batch');
        expect(await field(() => backend.setValidationData({ ...train, count: 0 }))).toBe('validation');
        expect(await field(() => backend.gradients(train.x, train.t, 1.5))).toBe('batch');
        expect(await field(() => backend.gradients(train.x, train.t.subarray(1), train.count))).toBe('t');
        expect(await field(() => backend.predict(train.x.subarray(1), train.count))).toBe('x');
        expect(await field(() => backend.predict(train.x, 0))).toBe('count');
        expect(await field(() => backend.probe(train.x.subarray(1), train.count))).toBe('x');
        expect(await field(() => backend.probe(train.x, 0))).toBe('count');
        expect(await field(() => backend.setParams(new Float32Array(3)))).not.toBe('accepted');
      } finally {
        await backend.dispose();
      }
    });
  });

  it('dispose: a second call resolves too; every other call then throws a DisposedError', async () => {
    await run(async () => {
      const { backend, train, order } = await ready();
      await backend.trainEpoch(order, 0.05);
      const params = await backend.readParams();
      const state = await backend.readOptimizerState();
      const first = backend.dispose();
      const second = backend.dispose();
      await expect(first).resolves.toBeUndefined();
      await expect(second).resolves.toBeUndefined();
      await expect(backend.dispose()).resolves.toBeUndefined();
      expect(backend.config).toEqual(CONFIG);
      expect(backend.layout.size).toBe(layout.size);
      expect(['cpu', 'webgpu']).toContain(backend.name);

      const calls: [string, () => unknown][] = [
        ['setParams', () => backend.setParams(params)],
        ['readParams', () => backend.readParams()],
        ['gradients', () => backend.gradients(train.x, train.t, 2)],
        ['predict', () => backend.predict(train.x, 2)],
        ['probe', () => backend.probe(train.x, 2)],
        ['setTrainingData', () => backend.setTrainingData(train, 4)],
        ['setValidationData', () => backend.setValidationData(null)],
        ['trainEpoch', () => backend.trainEpoch(order, 0.05)],
        ['readLosses', () => backend.readLosses()],
        ['setOptimizer', () => backend.setOptimizer(DEFAULT_OPTIMIZER, 'sse')],
        ['readOptimizerState', () => backend.readOptimizerState()],
        ['setOptimizerState', () => backend.setOptimizerState(state)],
        ['finish', () => backend.finish()],
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
});
