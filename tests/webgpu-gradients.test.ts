// The WebGPU backend against the float64 fixtures (tests/fixtures/gradients), on both schedules of
// the recurrence, with the CPU backend's tolerance: max|a - e| <= 1e-4 * max(1, max|e|) per tensor.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../src/backends/webgpu/context.js';
import { createWebGpuBackend, type Schedule } from '../src/backends/webgpu/webgpuBackend.js';
import { FIXTURE_CASES, loadFixture, maxAbsDiff, tensorErrors } from './helpers.js';
import { testGpuContext, withoutGpuErrors } from './webgpu-context.js';

const TOL = 1e-4;
const SCHEDULES: Schedule[] = ['stepwise', 'persistent'];

let context: GpuContext;
beforeAll(async () => {
  context = await testGpuContext();
});
afterAll(() => context?.destroy());

describe('webgpu backend on the gradient fixtures', () => {
  for (const schedule of SCHEDULES) {
    for (const name of FIXTURE_CASES) {
      it(`${schedule} ${name}: loss, outputs and every gradient tensor within 1e-4 * max(1, max|e|)`, async () => {
        const { model, batch, expected } = loadFixture(name);
        const result = await withoutGpuErrors(context, async () => {
          const backend = await createWebGpuBackend(context, model.layout, { schedule });
          try {
            backend.setParams(model.params);
            return await backend.gradients(batch.x, batch.t, batch.count);
          } finally {
            backend.dispose();
          }
        });
        expect(Math.abs(result.loss - expected.loss)).toBeLessThanOrEqual(TOL * Math.max(1, Math.abs(expected.loss)));
        const y = maxAbsDiff(result.y, expected.y);
        expect(y.diff).toBeLessThanOrEqual(TOL * Math.max(1, y.scale));
        for (const tensor of tensorErrors(model.layout, result.grads, expected.grads, TOL)) {
          expect(tensor.diff, tensor.name).toBeLessThanOrEqual(tensor.allowed);
        }
      });
    }
  }
});
