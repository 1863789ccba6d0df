// What is the WebGPU backend's own in its probe (src/backends/webgpu/probePass.ts); its agreement with
// the float64 reference on the fixtures and random shapes under every variant is
// tests/probe-backends.test.ts's. Here: probes of several sizes in turn on one backend (the buffers
// grow, a smaller probe reads no leftovers of a larger one), with and without the connectivity, under
// each schedule; what a probe costs (one submit and one readback; no buffer when it fits the last);
// and an epoch's probe (EpochOptions.probe): no submit of its own, one readback more at readLosses,
// no buffer once warm, the training unchanged, on the CPU backend alike.

import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import { SCHEDULES, type Variant, variantName } from '../src/backends/webgpu/tuning.js';
import { createWebGpuBackend } from '../src/backends/webgpu/webgpuBackend.js';
import { Rng } from '../src/data/rng.js';
import { initParams } from '../src/model/init.js';
import { type ModelConfig, paramLayout } from '../src/model/layout.js';
import { probeReference } from '../src/model/probeReference.js';
import { windowSeries } from './helpers.js';
import { fixtureProbeCase, probeDeviation } from './probe-cases.js';
import { fileGpuContext, withoutGpuErrors } from './webgpu-context.js';

const TOL = 1e-4;
const SOFTWARE: Variant[] = SCHEDULES.map((schedule) => ({ schedule, tuning: 'software' }));
const PERSISTENT: Variant = { schedule: 'persistent', tuning: 'software' };

const context = fileGpuContext();

function uniform(rng: Rng, length: number): Float32Array {
  return Float32Array.from({ length }, () => 2 * rng.uniform() - 1);
}

describe('webgpu probe on random shapes', () => {
  // On persistent, fused (a single layer: the fused rows kernel's forward) and stepwise, SwiftShader's tuning.
  const shapes: ModelConfig[] = [
    { inputSize: 3, hiddenSizes: [7, 5], outputSize: 2, window: 4 },
    { inputSize: 2, hiddenSizes: [13], outputSize: 2, window: 5 },
    { inputSize: 2, hiddenSizes: [9, 6, 4], outputSize: 3, window: 5 },
  ];
  const cases = shapes.map((config, s) => {
    const variant = SOFTWARE[(s + 1) % SOFTWARE.length];
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
  it('one submit and one readback a probe; probes of sizes seen before create no buffer', async () => {
    const { layout, params, x, n } = fixtureProbeCase('stacked');
    await withoutGpuErrors(context(), async () => {
      const backend = await createWebGpuBackend(context(), layout, PERSISTENT);
      try {
        backend.setParams(params);
        const before = backend.counters();
        await backend.probe(x, n);
        const first = backend.counters();
        expect(first.submits - before.submits).toBe(1);
        expect(first.readbacks - before.readbacks).toBe(1);
        expect(first.buffersCreated).toBeGreaterThan(before.buffersCreated);
        await backend.probe(x, 1);
        const second = backend.counters();
        expect(second.submits - first.submits).toBe(1);
        expect(second.readbacks - first.readbacks).toBe(1);
        // A view that alternates the hovered window and a set of windows, report after report.
        for (let report = 0; report < 3; report++) {
          await backend.probe(x, n);
          await backend.probe(x, 1, { connectivity: false });
          await backend.probe(x, 1);
        }
        const later = backend.counters();
        expect(later.submits - second.submits).toBe(9);
        expect(later.buffersCreated).toBe(second.buffersCreated);
      } finally {
        await backend.dispose();
      }
    });
  });

  it('names the field of a count that is not a whole number of windows', async () => {
    const { layout, params, x } = fixtureProbeCase('tiny');
    const backend = await createWebGpuBackend(context(), layout, PERSISTENT);
    try {
      backend.setParams(params);
      await expect(backend.probe(x, 0)).rejects.toThrow(/count: expected a whole number/);
      await expect(backend.probe(x, 1000)).rejects.toThrow(/x: expected/);
    } finally {
      await backend.dispose();
    }
  });

  it("an epoch's probe: no submit, one readback more at readLosses, no buffer once warm, training unchanged", async () => {
    const { layout, params } = fixtureProbeCase('tiny');
    const { window: T } = layout.config;
    const series = Float32Array.from({ length: 40 }, (_, i) => Math.sin(i / 3));
    const data = windowSeries(series, T);
    const order = Uint32Array.from({ length: data.count }, (_, i) => (i * 7) % data.count);
    const probe = { x: data.x.slice(0, 2 * T), count: 2 };
    /** Two reports of two epochs each, the second epoch of each probing when `probing`. */
    const reports = async (probing: boolean) =>
      withoutGpuErrors(context(), async () => {
        const backend = await createWebGpuBackend(context(), layout, PERSISTENT);
        try {
          backend.setParams(params);
          backend.setTrainingData(data, 4);
          const seen = [];
          for (let report = 0; report < 2; report++) {
            await backend.trainEpoch(order, 0.05);
            const before = backend.counters();
            await backend.trainEpoch(order, 0.05, probing ? { probe } : {});
            const queued = backend.counters();
            const losses = await backend.readLosses();
            const weights = await backend.readParams();
            seen.push({ before, queued, read: backend.counters(), losses, weights });
          }
          return seen;
        } finally {
          await backend.dispose();
        }
      });
    const plain = await reports(false);
    const probed = await reports(true);
    for (let r = 0; r < 2; r++) {
      const [a, b] = [plain[r], probed[r]];
      expect(b.losses.train).toEqual(a.losses.train);
      expect(b.weights).toEqual(a.weights);
      expect(a.losses.probe).toBeUndefined();
      expect(b.queued.submits - b.before.submits).toBe(a.queued.submits - a.before.submits);
      expect(b.read.readbacks - b.queued.readbacks).toBe(a.read.readbacks - a.queued.readbacks + 1);
      const windows = b.losses.probe;
      if (windows === undefined) throw new Error('the probing epoch gave no probe');
      // With the weights the epoch left (they came back with its errors).
      expect(probeDeviation(windows, probeReference(layout, b.weights, probe.x, 2))).toBeLessThanOrEqual(TOL);
    }
    expect(plain[1].read.buffersCreated).toBe(plain[0].read.buffersCreated);
    expect(probed[1].read.buffersCreated).toBe(probed[0].read.buffersCreated);
  });

  it("the CPU backend hands back an epoch's probe alike", async () => {
    const { layout, params } = fixtureProbeCase('tiny');
    const { window: T } = layout.config;
    const data = windowSeries(
      Float32Array.from({ length: 30 }, (_, i) => Math.cos(i / 4)),
      T,
    );
    const backend = new CpuBackend(layout);
    try {
      backend.setParams(params);
      backend.setTrainingData(data, 4);
      const probe = { x: data.x.slice(0, 3 * T), count: 3, options: { connectivity: false } };
      await backend.trainEpoch(
        Uint32Array.from({ length: data.count }, (_, i) => i),
        0.05,
        { probe },
      );
      const losses = await backend.readLosses();
      const weights = await backend.readParams();
      const expected = probeReference(layout, weights, probe.x, 3, { connectivity: false });
      expect(probeDeviation(losses.probe ?? [], expected)).toBeLessThanOrEqual(1e-5);
      expect((await backend.readLosses()).probe).toBeUndefined();
      await expect(backend.trainEpoch(new Uint32Array(data.count), 0.05, { probe, evaluate: false })).rejects.toThrow(
        /probe: .*needs evaluate/,
      );
    } finally {
      await backend.dispose();
    }
  });
});
