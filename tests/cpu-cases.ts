// Shapes, random problems and the fixture check the CPU kernel tests share (fast against reference,
// on one thread or several, with either SIMD variant), and their tolerances.

import { expect } from 'vitest';
import { CpuBackend, type CpuBackendOptions } from '../src/backends/cpu/cpuBackend.js';
import { Rng } from '../src/data/rng.js';
import { initParams } from '../src/model/init.js';
import { type ModelConfig, paramLayout } from '../src/model/layout.js';
import { loadFixture, maxAbsDiff, tensorErrors } from './helpers.js';

/**
 * Fast against reference, both float32: per tensor max|fast - ref| <= 2e-5 * max(1, max|ref|). The
 * two differ only in summation order and in exp (about 1 ulp): over 200 random shapes (H up to 64,
 * T up to 16) the worst was 1.1e-6, so this leaves ~20x room and stays 5x below the fixtures' 1e-4.
 */
export const FAST_TOL = 2e-5;

export interface CpuCase extends ModelConfig {
  batch: number;
}

export const CPU_CASES: CpuCase[] = [
  { inputSize: 1, hiddenSizes: [30], outputSize: 1, window: 10, batch: 8 }, // the blog's shape
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
  // The forward product longer than a panel too (Kp = 264), over theta in column strips whose last
  // strip is 4 columns wide in V^T and in the second layer's W^T (Hp = 260).
  { inputSize: 2, hiddenSizes: [259, 6], outputSize: 1, window: 2, batch: 3 },
];

/** More shapes drawn from a seeded generator: 1-3 layers, sizes 1-40, B 1-13, T 1-9. */
export function randomCases(count: number, seed: number): CpuCase[] {
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

/** Blog-style weights plus noise on every parameter (biases included), and a random batch. */
export function randomProblem(config: ModelConfig, batch: number, seed: number) {
  const layout = paramLayout(config);
  const rng = new Rng(seed);
  const params = initParams(layout, rng);
  for (let p = 0; p < params.length; p++) params[p] += 0.2 * rng.normal();
  const x = Float32Array.from({ length: batch * config.window * config.inputSize }, () => rng.normal());
  const t = Float32Array.from({ length: batch * config.outputSize }, () => rng.normal());
  return { layout, params, x, t };
}

/** A dataset of `count` random windows for `config`. */
export function randomDataset(config: ModelConfig, count: number, seed: number) {
  const rng = new Rng(seed);
  return {
    count,
    window: config.window,
    inputSize: config.inputSize,
    outputSize: config.outputSize,
    x: Float32Array.from({ length: count * config.window * config.inputSize }, () => rng.normal()),
    t: Float32Array.from({ length: count * config.outputSize }, () => rng.normal()),
  };
}

export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string) {
  const { diff, scale } = maxAbsDiff(actual, expected);
  expect(diff, what).toBeLessThanOrEqual(tol * Math.max(1, scale));
}

/** The fixtures' contract (float64 expected values). */
export const FIXTURE_TOL = 1e-4;

/** A CPU backend with these options on a fixture: loss, outputs and every gradient tensor within FIXTURE_TOL. */
export async function expectFixture(name: string, options: CpuBackendOptions): Promise<void> {
  const { model, batch, expected } = loadFixture(name);
  const backend = new CpuBackend(model.layout, options);
  backend.setParams(model.params);
  const result = await backend.gradients(batch.x, batch.t, batch.count);
  expect(Math.abs(result.loss - expected.loss)).toBeLessThanOrEqual(FIXTURE_TOL * Math.max(1, Math.abs(expected.loss)));
  expectClose(result.y, expected.y, FIXTURE_TOL, 'outputs');
  for (const tensor of tensorErrors(model.layout, result.grads, expected.grads, FIXTURE_TOL)) {
    expect(tensor.diff, tensor.name).toBeLessThanOrEqual(tensor.allowed);
  }
}
