// Every backend's probe (Backend.probe) against the float64 reference probe: activations, outputs
// and connectivity within |a - e| <= tol * max(1, |e|) per value, tol 1e-5 on the CPU (float32
// kernels) and 1e-4 on WebGPU, on the gradient fixtures' models and windows and on random shapes
// (stacked layers, several inputs and outputs). The probe leaves the parameters as they were.
// The WebGPU backend's probe runs its kernels (src/backends/webgpu/probePass.ts; tests/webgpu-probe.test.ts).

import { describe, expect, it } from 'vitest';
import { probeReference } from '../src/model/probeReference.js';
import { everyBackend } from './backends.js';
import { randomCases, randomProblem } from './cpu-cases.js';
import { FIXTURE_CASES } from './helpers.js';
import { fixtureProbeCase, probeDeviation } from './probe-cases.js';
import { fileGpuContext } from './webgpu-context.js';

const RANDOM = randomCases(6, 291).map((c, k) => ({ ...c, k }));

// The CPU's two engines and two WebGPU variants that between them run the probe's kernels:
// persistent/software (SwiftShader's pick) and fused/hardware (the fused rows on chip for one layer;
// for stacked layers the tiled steps forward and the coalesced backward with Vᵀ). Every variant on a
// software adapter takes many minutes; tests/webgpu-probe.test.ts runs the other software schedules.
const GPU_VARIANTS = ['webgpu (persistent/software)', 'webgpu (fused/hardware)'];
const BACKENDS = everyBackend(fileGpuContext()).filter(
  (backend) => !backend.name.startsWith('webgpu') || GPU_VARIANTS.includes(backend.name),
);

/**
 * The random shapes a backend is checked on: fused/hardware's on-chip kernels take 14–19 s a random
 * shape on SwiftShader, so it is checked on the four fixtures alone: the `stacked` one runs its tiled
 * forward and coalesced backward, the others its fused rows on chip.
 */
const randomFor = (name: string) => (name === 'webgpu (fused/hardware)' ? [] : RANDOM);

describe.each(BACKENDS)('$name backend probe', ({ name, open, run }) => {
  const tol = name.startsWith('cpu') ? 1e-5 : 1e-4;

  it.each(FIXTURE_CASES)('%s fixture: equals the float64 reference', async (fixture) => {
    const { layout, params, x, n } = fixtureProbeCase(fixture);
    const probes = await run(async () => {
      const backend = await open(layout);
      try {
        backend.setParams(params);
        const result = await backend.probe(x, n);
        expect(await backend.readParams()).toEqual(params);
        return result;
      } finally {
        await backend.dispose();
      }
    });
    expect(probeDeviation(probes, probeReference(layout, params, x, n))).toBeLessThanOrEqual(tol);
  });

  const random = randomFor(name);
  if (random.length > 0)
    it.each(random)(
      'random shape $k (I $inputSize, H $hiddenSizes, O $outputSize, T $window, $batch windows)',
      async ({ batch, k, ...config }) => {
        const { layout, params, x } = randomProblem(config, batch, 2910 + k);
        const [probes, bare] = await run(async () => {
          const backend = await open(layout);
          try {
            backend.setParams(params);
            return [await backend.probe(x, batch), await backend.probe(x, batch, { connectivity: false })];
          } finally {
            await backend.dispose();
          }
        });
        expect(probeDeviation(probes, probeReference(layout, params, x, batch))).toBeLessThanOrEqual(tol);
        expect(
          probeDeviation(bare, probeReference(layout, params, x, batch, { connectivity: false })),
        ).toBeLessThanOrEqual(tol);
        expect(bare[0].connectivity).toHaveLength(0);
      },
    );
});
