// The float64 probe (src/model/probeReference.ts): its outputs are the gradient fixtures' (written by
// an independent float64 program) and the CPU reference's predict; its activations obey the LSTM's
// identities; its connectivity matches central finite differences of its own outputs in float64.

import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import { type ParamLayout, paramLayout } from '../src/model/layout.js';
import { PROBED } from '../src/model/probe.js';
import { probeReference, probeWindow64 } from '../src/model/probeReference.js';
import { expectClose, randomCases, randomProblem } from './cpu-cases.js';
import { FIXTURE_CASES } from './helpers.js';
import { fixtureProbeCase } from './probe-cases.js';

/** max |a - e| / max(1, |e|) over the connectivity of every window, against central differences. */
function finiteDifferenceError(layout: ParamLayout, params: Float32Array, x: Float32Array, n: number): number {
  const { window: T, inputSize: I, outputSize: O } = layout.config;
  const h = 1e-5;
  let worst = 0;
  for (const [s, probe] of probeReference(layout, params, x, n).entries()) {
    const xs = Array.from(x.subarray(s * T * I, (s + 1) * T * I));
    for (let p = 0; p < T * I; p++) {
      const plus = xs.slice();
      const minus = xs.slice();
      plus[p] += h;
      minus[p] -= h;
      const up = probeWindow64(layout, params, plus, { connectivity: false }).outputs;
      const down = probeWindow64(layout, params, minus, { connectivity: false }).outputs;
      for (let o = 0; o < O; o++) {
        const numeric = (up[o] - down[o]) / (2 * h);
        const analytic = probe.connectivity[o * T * I + p];
        worst = Math.max(worst, Math.abs(analytic - numeric) / Math.max(1, Math.abs(numeric)));
      }
    }
  }
  return worst;
}

describe('the float64 reference probe', () => {
  it.each(FIXTURE_CASES)(
    '%s: outputs equal the fixture and the CPU predict; connectivity equals finite differences',
    async (name) => {
      const { layout, params, x, n, y } = fixtureProbeCase(name);
      const probes = probeReference(layout, params, x, n);
      expect(probes).toHaveLength(n);
      const outputs = Float64Array.from(probes.flatMap((p) => Array.from(p.outputs)));
      expectClose(outputs, y, 1e-12, 'outputs against the fixture');
      const backend = new CpuBackend(layout, { kernels: 'reference' });
      backend.setParams(params);
      expectClose(outputs, await backend.predict(x, n), 1e-5, 'outputs against predict');
      expect(finiteDifferenceError(layout, params, x, Math.min(n, 3))).toBeLessThan(1e-7);
    },
  );

  it.each(randomCases(12, 29).map((c, k) => ({ ...c, k })))(
    'random shape $k (I $inputSize, H $hiddenSizes, O $outputSize, T $window): activations, outputs, connectivity',
    async ({ batch, k, ...config }) => {
      const { layout, params, x } = randomProblem(config, batch, 2900 + k);
      const T = config.window;
      const probes = probeReference(layout, params, x, batch);
      for (const probe of probes) {
        expect(probe.layers).toHaveLength(config.hiddenSizes.length);
        expect(probe.connectivity).toHaveLength(config.outputSize * T * config.inputSize);
        probe.layers.forEach((layer, l) => {
          const H = config.hiddenSizes[l];
          for (const key of PROBED) expect(layer[key]).toHaveLength(T * H);
          for (let at = 0; at < T * H; at++) {
            for (const gate of ['forget', 'input', 'output'] as const) {
              expect(layer[gate][at]).toBeGreaterThan(0);
              expect(layer[gate][at]).toBeLessThan(1);
            }
            expect(Math.abs(layer.candidate[at])).toBeLessThan(1);
            const cPrev = at >= H ? layer.cell[at - H] : 0;
            expect(layer.cell[at]).toBeCloseTo(layer.forget[at] * cPrev + layer.input[at] * layer.candidate[at], 12);
            expect(layer.hidden[at]).toBeCloseTo(layer.output[at] * Math.tanh(layer.cell[at]), 12);
          }
        });
      }
      const backend = new CpuBackend(layout, { kernels: 'reference' });
      backend.setParams(params);
      const outputs = Float64Array.from(probes.flatMap((p) => Array.from(p.outputs)));
      expectClose(outputs, await backend.predict(x, batch), 1e-5, 'outputs against predict');
      expect(finiteDifferenceError(layout, params, x, Math.min(batch, 2))).toBeLessThan(1e-7);
    },
  );

  it('leaves the connectivity empty when not asked for, and names a short x', () => {
    const layout = paramLayout({ inputSize: 2, hiddenSizes: [3], outputSize: 1, window: 4 });
    const { params, x } = randomProblem(layout.config, 2, 7);
    expect(probeReference(layout, params, x, 2, { connectivity: false })[1].connectivity).toHaveLength(0);
    expect(() => probeReference(layout, params, x, 3)).toThrow(/x/);
    expect(() => probeReference(layout, params.subarray(1), x, 2)).toThrow(/params/);
  });
});
