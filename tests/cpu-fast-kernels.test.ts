// The CPU backend's fast path (WebAssembly SIMD, src/backends/cpu/fastLstm.ts) against the reference
// kernels (src/backends/cpu/lstm.ts) on many shapes, and against the float64 fixtures.

import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import { FastLstm, forEachParamRun, paddedLayout } from '../src/backends/cpu/fastLstm.js';
import { Rng } from '../src/data/rng.js';
import { initParams } from '../src/model/init.js';
import { type ModelConfig, paramLayout } from '../src/model/layout.js';
import { FIXTURE_CASES, loadFixture, maxAbsDiff, tensorErrors } from './helpers.js';

/**
 * Fast against reference, both float32: per tensor max|fast - ref| <= 2e-5 * max(1, max|ref|). The
 * two differ only in summation order and in exp (about 1 ulp): over 200 random shapes (H up to 64,
 * T up to 16) the worst was 1.1e-6, so this leaves ~20x room and stays 5x below the fixtures' 1e-4.
 */
const FAST_TOL = 2e-5;
/** The fixtures' contract (float64 expected values). */
const FIXTURE_TOL = 1e-4;

interface Case extends ModelConfig {
  batch: number;
}

const CASES: Case[] = [
  { inputSize: 1, hiddenSizes: [30], outputSize: 1, window: 10, batch: 8 }, // the seed's shape
  { inputSize: 3, hiddenSizes: [5, 7], outputSize: 2, window: 4, batch: 5 },
  { inputSize: 2, hiddenSizes: [1], outputSize: 3, window: 1, batch: 1 }, // T = 1, B = 1, H = 1
  { inputSize: 4, hiddenSizes: [9, 2, 6], outputSize: 1, window: 3, batch: 7 }, // three layers
  { inputSize: 5, hiddenSizes: [13], outputSize: 4, window: 6, batch: 1 }, // B = 1
  { inputSize: 1, hiddenSizes: [3], outputSize: 1, window: 1, batch: 6 }, // T = 1
  { inputSize: 2, hiddenSizes: [16, 8], outputSize: 2, window: 5, batch: 12 }, // multiples of 4
  { inputSize: 6, hiddenSizes: [37, 11], outputSize: 3, window: 7, batch: 9 },
  // Products longer than the kernels' 256-row panels: T·B = 600 for the weight gradients, 4Hp = 288
  // for dy = δ V^T.
  { inputSize: 3, hiddenSizes: [70, 5], outputSize: 1, window: 12, batch: 50 },
];

/** More shapes drawn from a seeded generator: 1-3 layers, sizes 1-40, B 1-13, T 1-9. */
function randomCases(count: number, seed: number): Case[] {
  const rng = new Rng(seed);
  const int = (lo: number, hi: number) => lo + rng.below(hi - lo + 1);
  return Array.from({ length: count }, () => ({
    inputSize: int(1, 6),
    hiddenSizes: Array.from({ length: int(1, 3) }, () => int(1, 40)),
    outputSize: int(1, 4),
    window: int(1, 9),
    batch: int(1, 13),
  }));
}

/** Seed-style weights plus noise on every parameter (biases included), and a random batch. */
function randomProblem(config: ModelConfig, batch: number, seed: number) {
  const layout = paramLayout(config);
  const rng = new Rng(seed);
  const params = initParams(layout, rng);
  for (let p = 0; p < params.length; p++) params[p] += 0.2 * rng.normal();
  const x = Float32Array.from({ length: batch * config.window * config.inputSize }, () => rng.normal());
  const t = Float32Array.from({ length: batch * config.outputSize }, () => rng.normal());
  return { layout, params, x, t };
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string) {
  const { diff, scale } = maxAbsDiff(actual, expected);
  expect(diff, what).toBeLessThanOrEqual(tol * Math.max(1, scale));
}

describe('fast CPU kernels against the reference kernels', () => {
  const cases = [...CASES, ...randomCases(16, 2024)];
  cases.forEach((c, index) => {
    const { batch, ...config } = c;
    it(`I=${config.inputSize} H=[${config.hiddenSizes}] O=${config.outputSize} T=${config.window} B=${batch}: loss, outputs, every gradient`, async () => {
      const { layout, params, x, t } = randomProblem(config, batch, 100 + index);
      const reference = new CpuBackend(layout, { kernels: 'reference' });
      const fast = new CpuBackend(layout, { kernels: 'fast' });
      reference.setParams(params);
      fast.setParams(params);
      const want = await reference.gradients(x, t, batch);
      const got = await fast.gradients(x, t, batch);
      expect(Math.abs(got.loss - want.loss)).toBeLessThanOrEqual(FAST_TOL * Math.max(1, Math.abs(want.loss)));
      expectClose(got.y, want.y, FAST_TOL, 'outputs');
      for (const tensor of tensorErrors(layout, got.grads, want.grads, FAST_TOL)) {
        expect(tensor.diff, tensor.name).toBeLessThanOrEqual(tensor.allowed);
      }
      // Forward only, on a different number of rows than the gradients used.
      const rows = Math.max(1, batch - 1);
      expectClose(await fast.predict(x, rows), await reference.predict(x, rows), FAST_TOL, 'predict');
    });
  });

  it('an epoch of training gives the same errors and parameters on both paths', async () => {
    const config = { inputSize: 2, hiddenSizes: [10, 6], outputSize: 2, window: 5 };
    const { layout, params } = randomProblem(config, 1, 7);
    const rng = new Rng(8);
    const count = 23;
    const data = {
      count,
      window: config.window,
      inputSize: config.inputSize,
      outputSize: config.outputSize,
      x: Float32Array.from({ length: count * config.window * config.inputSize }, () => rng.normal()),
      t: Float32Array.from({ length: count * config.outputSize }, () => rng.normal()),
    };
    const order = new Uint32Array(count);
    const backends = [new CpuBackend(layout, { kernels: 'reference' }), new CpuBackend(layout)];
    for (const backend of backends) {
      backend.setParams(params);
      backend.setTrainingData(data, 4);
    }
    for (let epoch = 0; epoch < 3; epoch++) {
      rng.permutation(order);
      for (const backend of backends) await backend.trainEpoch(order, 0.01);
    }
    const [wantLosses, gotLosses] = (await Promise.all(backends.map((b) => b.readLosses()))).map((l) => l.train);
    expect(gotLosses.length).toBe(3);
    expectClose(gotLosses, wantLosses, FAST_TOL, 'per-epoch errors');
    const [wantParams, gotParams] = await Promise.all(backends.map((b) => b.readParams()));
    for (const tensor of tensorErrors(layout, gotParams, wantParams, FAST_TOL)) {
      expect(tensor.diff, tensor.name).toBeLessThanOrEqual(tensor.allowed);
    }
  });

  it('evaluates more samples than fit one chunk: error, predictions, and evaluate: false', async () => {
    const config = { inputSize: 2, hiddenSizes: [9], outputSize: 2, window: 4 };
    const { layout, params } = randomProblem(config, 1, 12);
    const rng = new Rng(13);
    const count = 150;
    const data = {
      count,
      window: config.window,
      inputSize: config.inputSize,
      outputSize: config.outputSize,
      x: Float32Array.from({ length: count * config.window * config.inputSize }, () => rng.normal()),
      t: Float32Array.from({ length: count * config.outputSize }, () => rng.normal()),
    };
    const order = rng.permutation(new Uint32Array(count));
    for (const kernels of ['fast', 'reference'] as const) {
      const backend = new CpuBackend(layout, { kernels });
      backend.setParams(params);
      backend.setTrainingData(data, 16);
      await backend.trainEpoch(order, 0.01);
      const [error] = (await backend.readLosses()).train;
      // The same parameters through one unchunked pass over all samples.
      const whole = await backend.gradients(data.x, data.t, count);
      expect(Math.abs(error - whole.loss), kernels).toBeLessThanOrEqual(1e-6 * whole.loss);
      expectClose(await backend.predict(data.x, count), whole.y, 1e-6, `${kernels} predict`);
      // Without evaluation: the same update, no error queued.
      const quiet = new CpuBackend(layout, { kernels });
      quiet.setParams(params);
      quiet.setTrainingData(data, 16);
      await quiet.trainEpoch(order, 0.01, { evaluate: false });
      expect(await quiet.readLosses()).toEqual({ train: [], validation: [] });
      expect(Array.from(await quiet.readParams())).toEqual(Array.from(await backend.readParams()));
    }
  });

  it('keeps the parameters when a larger batch replaces its buffers', async () => {
    const config = { inputSize: 3, hiddenSizes: [7], outputSize: 2, window: 4 };
    const { layout, params, x, t } = randomProblem(config, 9, 11);
    const fast = new CpuBackend(layout);
    fast.setParams(params);
    await fast.gradients(x, t, 2);
    await fast.gradients(x, t, 9);
    expect(Array.from(await fast.readParams())).toEqual(Array.from(params));
  });
});

describe('fast CPU engine internals', () => {
  it('packing into the padded layout and back is the identity, and the padding is zero', () => {
    const layout = paramLayout({ inputSize: 3, hiddenSizes: [5, 6, 1], outputSize: 2, window: 2 });
    const params = Float32Array.from({ length: layout.size }, (_, p) => p + 1);
    const engine = new FastLstm(layout, 2);
    engine.setParams(params);
    const back = new Float32Array(layout.size);
    engine.readParams(back);
    expect(Array.from(back)).toEqual(Array.from(params));
    // Every flat parameter lands once, so the nonzero count of the padded copy is the flat count.
    const padded = paddedLayout(layout);
    let covered = 0;
    forEachParamRun(layout, padded, (_flat, _padded, length) => {
      covered += length;
    });
    expect(covered).toBe(layout.size);
    expect(engine.params.filter((value) => value !== 0).length).toBe(layout.size);
  });
});

describe('fast CPU kernels on the gradient fixtures', () => {
  for (const name of FIXTURE_CASES) {
    it(`${name}: loss, outputs and every gradient tensor within 1e-4 * max(1, max|e|)`, async () => {
      const { model, batch, expected } = loadFixture(name);
      const backend = new CpuBackend(model.layout, { kernels: 'fast' });
      backend.setParams(model.params);
      const result = await backend.gradients(batch.x, batch.t, batch.count);
      expect(Math.abs(result.loss - expected.loss)).toBeLessThanOrEqual(
        FIXTURE_TOL * Math.max(1, Math.abs(expected.loss)),
      );
      expectClose(result.y, expected.y, FIXTURE_TOL, 'outputs');
      for (const tensor of tensorErrors(model.layout, result.grads, expected.grads, FIXTURE_TOL)) {
        expect(tensor.diff, tensor.name).toBeLessThanOrEqual(tensor.allowed);
      }
    });
  }
});
