// The CPU backend against the float64 fixtures (tests/fixtures/gradients).

import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import { FIXTURE_CASES, loadFixture, maxAbsDiff, tensorErrors } from './helpers.js';

const TOL = 1e-4;

describe('cpu backend on the gradient fixtures', () => {
  for (const name of FIXTURE_CASES) {
    it(`${name}: loss, outputs and every gradient tensor within 1e-4 * max(1, max|e|)`, async () => {
      const { model, batch, expected } = loadFixture(name);
      const backend = new CpuBackend(model.layout);
      backend.setParams(model.params);
      const result = await backend.gradients(batch.x, batch.t, batch.count);
      expect(Math.abs(result.loss - expected.loss)).toBeLessThanOrEqual(TOL * Math.max(1, Math.abs(expected.loss)));
      const y = maxAbsDiff(result.y, expected.y);
      expect(y.diff).toBeLessThanOrEqual(TOL * Math.max(1, y.scale));
      for (const tensor of tensorErrors(model.layout, result.grads, expected.grads, TOL)) {
        expect(tensor.diff, tensor.name).toBeLessThanOrEqual(tensor.allowed);
      }
    });
  }
});
