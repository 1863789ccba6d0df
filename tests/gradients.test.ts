// Every backend against the float64 gradient fixtures (loadFixture): loss, outputs and every gradient
// tensor within max|a - e| <= 1e-4 * max(1, max|e|) per tensor, on both CPU engines and on every
// variant of the WebGPU backend (each schedule under both kernel tunings).

import { describe, expect, it } from 'vitest';
import { everyBackend } from './backends.js';
import { FIXTURE_CASES, loadFixture, maxAbsDiff, tensorErrors } from './helpers.js';
import { fileGpuContext } from './webgpu-context.js';

const TOL = 1e-4;

describe.each(everyBackend(fileGpuContext()))('$name backend on the gradient fixtures', ({ open, run }) => {
  it.each(FIXTURE_CASES)('%s: loss, outputs and every gradient tensor within 1e-4 * max(1, max|e|)', async (name) => {
    const { model, batch, expected } = loadFixture(name);
    const result = await run(async () => {
      const backend = await open(model.layout);
      try {
        backend.setParams(model.params);
        return await backend.gradients(batch.x, batch.t, batch.count);
      } finally {
        await backend.dispose();
      }
    });
    expect(Math.abs(result.loss - expected.loss)).toBeLessThanOrEqual(TOL * Math.max(1, Math.abs(expected.loss)));
    const y = maxAbsDiff(result.y, expected.y);
    expect(y.diff).toBeLessThanOrEqual(TOL * Math.max(1, y.scale));
    for (const tensor of tensorErrors(model.layout, result.grads, expected.grads, TOL)) {
      expect(tensor.diff, tensor.name).toBeLessThanOrEqual(tensor.allowed);
    }
  });
});
