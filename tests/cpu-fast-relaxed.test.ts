// The relaxed-SIMD variant of the fast kernels (f32x4.relaxed_madd: fused where the processor has a
// multiply-add) held to what the plain variant is held to in cpu-fast-kernels.test.ts: the reference
// kernels on many shapes, and the float64 fixtures; on threads, exactly its one-thread result.
// Node 20 has relaxed SIMD behind a V8 flag, which allowRelaxedSimd sets; later versions have it on.

import { afterAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import { relaxedSimdValidates } from '../src/backends/cpu/fastLstm.js';
import { allowRelaxedSimd, nodeThreadHost } from '../src/backends/cpu/nodeThreads.js';
import { CpuThreadPool } from '../src/backends/cpu/threads.js';
import { Rng } from '../src/data/rng.js';
import { DEFAULT_OPTIMIZER } from '../src/model/optimizer.js';
import {
  CPU_CASES,
  expectClose,
  expectFixture,
  FAST_TOL,
  randomCases,
  randomDataset,
  randomProblem,
} from './cpu-cases.js';
import { FIXTURE_CASES, tensorErrors } from './helpers.js';

allowRelaxedSimd();

const relaxed = { kernels: 'fast', simd: 'relaxedSimd' } as const;

describe('relaxed-SIMD fast kernels', () => {
  it('are accepted by this engine once allowed', () => {
    expect(relaxedSimdValidates()).toBe(true);
    expect(new CpuBackend(randomProblem(CPU_CASES[0], 1, 1).layout, relaxed).simd).toBe('relaxedSimd');
  });

  let pool: CpuThreadPool | null = null;
  afterAll(() => pool?.dispose());

  const cases = [...CPU_CASES, ...randomCases(12, 31)];
  it(`match the reference on ${cases.length} shapes, and on 2 threads their own one-thread result exactly`, async () => {
    pool = await CpuThreadPool.start(2, nodeThreadHost, 'relaxedSimd');
    for (const [index, c] of cases.entries()) {
      const { batch, ...config } = c;
      const { layout, params, x, t } = randomProblem(config, batch, 300 + index);
      const fast = new CpuBackend(layout, relaxed);
      const threaded = new CpuBackend(layout, { pool, threads: 2 });
      const reference = new CpuBackend(layout, { kernels: 'reference' });
      for (const backend of [fast, threaded, reference]) backend.setParams(params);
      expect(threaded.simd).toBe('relaxedSimd');
      const shape = `H=[${config.hiddenSizes}] T=${config.window} B=${batch}`;
      const want = await reference.gradients(x, t, batch);
      const got = await fast.gradients(x, t, batch);
      expect(Math.abs(got.loss - want.loss), shape).toBeLessThanOrEqual(FAST_TOL * Math.max(1, Math.abs(want.loss)));
      expectClose(got.y, want.y, FAST_TOL, `${shape} outputs`);
      for (const tensor of tensorErrors(layout, got.grads, want.grads, FAST_TOL)) {
        expect(tensor.diff, `${shape} ${tensor.name}`).toBeLessThanOrEqual(tensor.allowed);
      }
      const onThreads = await threaded.gradients(x, t, batch);
      expect(Array.from(onThreads.grads), shape).toEqual(Array.from(got.grads));
    }
  });

  it('train epochs with Adam as the reference does', async () => {
    const config = { inputSize: 2, hiddenSizes: [10, 6], outputSize: 2, window: 5 };
    const { layout, params } = randomProblem(config, 1, 7);
    const data = randomDataset(config, 23, 8);
    const backends = [new CpuBackend(layout, { kernels: 'reference' }), new CpuBackend(layout, relaxed)];
    const rng = new Rng(8);
    const order = new Uint32Array(data.count);
    for (const backend of backends) {
      backend.setParams(params);
      backend.setOptimizer({ ...DEFAULT_OPTIMIZER, name: 'adam' }, 'mse');
      backend.setTrainingData(data, 4);
    }
    for (let epoch = 0; epoch < 3; epoch++) {
      rng.permutation(order);
      for (const backend of backends) await backend.trainEpoch(order, 0.01);
    }
    const [wantLosses, gotLosses] = await Promise.all(backends.map((b) => b.readLosses()));
    expectClose(gotLosses.train, wantLosses.train, FAST_TOL, 'per-epoch errors');
    const [wantParams, gotParams] = await Promise.all(backends.map((b) => b.readParams()));
    for (const tensor of tensorErrors(layout, gotParams, wantParams, FAST_TOL)) {
      expect(tensor.diff, tensor.name).toBeLessThanOrEqual(tensor.allowed);
    }
  });

  for (const name of FIXTURE_CASES) {
    it(`${name} fixture: loss, outputs and every gradient tensor within 1e-4 * max(1, max|e|)`, () =>
      expectFixture(name, relaxed));
  }
});
