// The WebGPU backend's probe (src/backends/webgpu/probePass.ts) against the float64 reference
// (src/model/probeReference.ts): every layer's gates, cell and hidden states, the outputs and the
// connectivity within |a - e| <= 1e-4 max(1, |e|), on the gradient fixtures' shapes under three
// variants that between them run every schedule and both tunings' kernels (the tiled steps, the
// coalesced backward with its Vᵀ, the fused rows), and on random shapes (stacked layers, several inputs
// and outputs, probes of several sizes in turn on one backend), each under one of the six variants.
// What it costs: one submit and one readback a probe, no buffer made by a probe that fits the last.

import { describe, expect, it } from 'vitest';
import { SCHEDULES, TUNING_NAMES, type Variant, variantName } from '../src/backends/webgpu/tuning.js';
import { createWebGpuBackend } from '../src/backends/webgpu/webgpuBackend.js';
import { Rng } from '../src/data/rng.js';
import { initParams } from '../src/model/init.js';
import { type ModelConfig, paramLayout } from '../src/model/layout.js';
import { probeReference } from '../src/model/probeReference.js';
import { FIXTURE_CASES } from './helpers.js';
import { fixtureProbeCase, probeDeviation } from './probe-cases.js';
import { fileGpuContext, withoutGpuErrors } from './webgpu-context.js';

const TOL = 1e-4;
const VARIANTS: Variant[] = SCHEDULES.flatMap((schedule) => TUNING_NAMES.map((tuning) => ({ schedule, tuning })));
/** Every schedule and both tunings' kernels, in fewer backends (each compiles its own pipelines). */
const FIXTURE_VARIANTS: Variant[] = [
  { schedule: 'stepwise', tuning: 'hardware' },
  { schedule: 'persistent', tuning: 'hardware' },
  { schedule: 'fused', tuning: 'software' },
];

const context = fileGpuContext();

function uniform(rng: Rng, length: number): Float32Array {
  return Float32Array.from({ length }, () => 2 * rng.uniform() - 1);
}

describe.each(FIXTURE_VARIANTS.map((variant) => ({ variant, name: variantName(variant) })))(
  'webgpu probe ($name) on the gradient fixtures',
  ({ variant }) => {
    it.each(FIXTURE_CASES)('%s: activations, outputs and connectivity within 1e-4 of float64', async (name) => {
      const { layout, params, x, n, y } = fixtureProbeCase(name);
      const probes = await withoutGpuErrors(context(), async () => {
        const backend = await createWebGpuBackend(context(), layout, variant);
        try {
          backend.setParams(params);
          return await backend.probe(x, n);
        } finally {
          await backend.dispose();
        }
      });
      expect(probeDeviation(probes, probeReference(layout, params, x, n))).toBeLessThanOrEqual(TOL);
      // The outputs are the fixture's too.
      probes.forEach((probe, s) => {
        for (let o = 0; o < layout.config.outputSize; o++) {
          expect(Math.abs(probe.outputs[o] - y[s * layout.config.outputSize + o])).toBeLessThanOrEqual(TOL);
        }
      });
    });
  },
);

describe('webgpu probe on random shapes', () => {
  const shapes: ModelConfig[] = [
    { inputSize: 3, hiddenSizes: [7, 5], outputSize: 2, window: 4 },
    { inputSize: 2, hiddenSizes: [9, 6, 4], outputSize: 3, window: 5 },
    { inputSize: 1, hiddenSizes: [1], outputSize: 1, window: 1 },
  ];
  const rng = new Rng(29);
  for (let i = 0; i < 3; i++) {
    shapes.push({
      inputSize: 1 + rng.below(4),
      hiddenSizes: Array.from({ length: 1 + rng.below(2) }, () => 1 + rng.below(33)),
      outputSize: 1 + rng.below(3),
      window: 1 + rng.below(7),
    });
  }
  const cases = shapes.map((config, s) => {
    const variant = VARIANTS[s % VARIANTS.length];
    return { config, variant, name: `${JSON.stringify(config)} on ${variantName(variant)}` };
  });
  it.each(cases)(
    '$name: probes of 3, 1 and 5 windows in turn on one backend, with and without connectivity',
    async ({ config, variant }) => {
      const layout = paramLayout(config);
      const caseRng = new Rng(config.window * 31 + config.hiddenSizes[0]);
      const params = initParams(layout, caseRng);
      const { window: T, inputSize: I } = config;
      await withoutGpuErrors(context(), async () => {
        const backend = await createWebGpuBackend(context(), layout, variant);
        try {
          backend.setParams(params);
          for (const [n, connectivity] of [
            [3, true],
            [1, false],
            [5, true],
          ] as const) {
            const x = uniform(caseRng, n * T * I);
            const probes = await backend.probe(x, n, { connectivity });
            const expected = probeReference(layout, params, x, n, { connectivity });
            expect(probeDeviation(probes, expected), `${n} windows`).toBeLessThanOrEqual(TOL);
            if (!connectivity) expect(probes.every((probe) => probe.connectivity.length === 0)).toBe(true);
          }
        } finally {
          await backend.dispose();
        }
      });
    },
  );
});

describe('webgpu probe cost', () => {
  it('one submit and one readback a probe; the same probe again creates no buffer', async () => {
    const { layout, params, x, n } = fixtureProbeCase('stacked');
    await withoutGpuErrors(context(), async () => {
      const backend = await createWebGpuBackend(context(), layout, FIXTURE_VARIANTS[0]);
      try {
        backend.setParams(params);
        const before = backend.counters();
        await backend.probe(x, n);
        const first = backend.counters();
        expect(first.submits - before.submits).toBe(1);
        expect(first.readbacks - before.readbacks).toBe(1);
        expect(first.buffersCreated).toBeGreaterThan(before.buffersCreated);
        await backend.probe(x, n);
        const second = backend.counters();
        expect(second.submits - first.submits).toBe(1);
        expect(second.readbacks - first.readbacks).toBe(1);
        expect(second.buffersCreated).toBe(first.buffersCreated);
      } finally {
        await backend.dispose();
      }
    });
  });

  it('names the field of a count that is not a whole number of windows', async () => {
    const { layout, params, x } = fixtureProbeCase('tiny');
    const backend = await createWebGpuBackend(context(), layout, FIXTURE_VARIANTS[0]);
    try {
      backend.setParams(params);
      await expect(backend.probe(x, 0)).rejects.toThrow(/count: expected a whole number/);
      await expect(backend.probe(x, 1000)).rejects.toThrow(/x: expected/);
    } finally {
      await backend.dispose();
    }
  });
});
