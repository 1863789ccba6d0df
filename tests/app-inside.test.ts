// The Inside view's data (src/app/inside.ts, insideSummary.ts): the windows a report probes (the chosen
// one as the network reads it, then a bounded sample of held-out windows), the summaries of probes
// (saturation fractions, dead units, connectivity per lag, the AR baseline's, the sentence), and a
// session that probes at every report only while the view asks.

import { describe, expect, it } from 'vitest';
import {
  InsideProbes,
  type InsideRequest,
  insideWindows,
  MAX_INSIDE_WINDOWS,
  spreadIndices,
  windowRows,
} from '../src/app/inside.js';
import { autoregressionByLag, perLag, summarizeInside } from '../src/app/insideSummary.js';
import { RunControl, runSession, type Snapshot } from '../src/app/session.js';
import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import { denormalizeOutputs } from '../src/data/normalize.js';
import type { LayerProbe, WindowProbe } from '../src/model/probe.js';
import { type RunSettings, startRun } from '../src/train/run.js';

/** A probe of one layer (T, H) whose arrays all hold `fill(t, j)`, with connectivity (1, T, 1) `lag`. */
function probeOf(
  T: number,
  H: number,
  fill: (t: number, j: number) => number,
  lag: (t: number) => number,
): WindowProbe {
  const make = () => Float64Array.from({ length: T * H }, (_, k) => fill(Math.floor(k / H), k % H));
  const layer: LayerProbe = {
    forget: make(),
    input: make(),
    candidate: make(),
    output: make(),
    cell: make(),
    hidden: make(),
  };
  return {
    layers: [layer],
    outputs: new Float64Array(1),
    connectivity: Float64Array.from({ length: T }, (_, t) => lag(t)),
  };
}

describe('inside summaries', () => {
  it('brings the connectivity to one number per lag: summed over the inputs, averaged over the outputs', () => {
    // Two outputs, lags 1..2, two inputs.
    const byOutput = [
      [
        [1, 2],
        [0, 1],
      ],
      [
        [3, 0],
        [1, 1],
      ],
    ];
    expect(Array.from(perLag(byOutput, 2))).toEqual([3, 1.5]);
  });

  it('names dead units, keeps every gate’s saturation, and says how far back the model and the AR baseline look', () => {
    const { prepared } = startRun(sine);
    const T = prepared.train.window;
    // Unit 2 never changes; the gradient sits on the last step (lag 1).
    const probes = [0, 1, 2].map((w) =>
      probeOf(
        T,
        2,
        (t, j) => (j === 1 ? 0.3 : (t + w) / T),
        (t) => (t === T - 1 ? 5 : 0.1),
      ),
    );
    const summary = summarizeInside(probes, prepared);
    expect(summary.dead).toEqual(['layer 1 unit 2']);
    expect(summary.saturation.map((s) => s.gate)).toEqual(['forget', 'input', 'candidate', 'output']);
    expect(summary.connectivity[0]).toBeCloseTo(5);
    expect(summary.connectivity[1]).toBeCloseTo(0.1);
    expect(summary.autoregression?.length).toBe(T);
    expect(summary.sentence).toMatch(
      /^The model relies mostly on the last value \(\d+% of its connectivity\); the AR baseline /,
    );
    expect(summary.sentence.endsWith('.')).toBe(true);
  });
});

const sine: RunSettings = {
  seed: 3,
  source: { kind: 'generated', spec: { kind: 'sine', points: 120, noise: 0.05 } },
  window: 6,
  hiddenSizes: [4],
  trainFraction: 0.6,
};

describe('inside windows', () => {
  it('cuts the chosen window as the network reads it, then at most MAX_INSIDE_WINDOWS held-out windows', () => {
    const { prepared } = startRun(sine);
    const { first, last } = windowRows(prepared);
    expect([first, last]).toEqual([6, 119]);
    const test = prepared.test!;
    expect(test.count).toBeGreaterThan(MAX_INSIDE_WINDOWS);
    const { x, count, row } = insideWindows(prepared, 40);
    expect(row).toBe(40);
    expect(count).toBe(MAX_INSIDE_WINDOWS + 1);
    // Training window n predicts row first + n: the chosen window is the one the training set holds.
    const n = 40 - first;
    expect(Array.from(x.subarray(0, 6))).toEqual(Array.from(prepared.train.x.subarray(n * 6, (n + 1) * 6)));
    // The held-out sample starts with the test part's first window and ends with its last.
    expect(Array.from(x.subarray(6, 12))).toEqual(Array.from(test.x.subarray(0, 6)));
    expect(Array.from(x.subarray(count * 6 - 6))).toEqual(Array.from(test.x.subarray(test.count * 6 - 6)));
    // Rows outside the windows clamp; null is the last.
    expect(insideWindows(prepared, 2).row).toBe(first);
    expect(insideWindows(prepared, 500).row).toBe(last);
    expect(insideWindows(prepared, null).row).toBe(last);
    expect(insideWindows(prepared, null, 0).count).toBe(1);
  });

  it('spreads a bounded sample over all the windows', () => {
    expect(spreadIndices(3, 5)).toEqual([0, 1, 2]);
    expect(spreadIndices(100, 4)).toEqual([0, 33, 66, 99]);
  });

  it("gives the AR baseline's coefficients per lag in the network's units: a sine leans on its last values", () => {
    const { prepared } = startRun({
      ...sine,
      source: { kind: 'generated', spec: { kind: 'sine', points: 120, noise: 0 } },
    });
    const ar = autoregressionByLag(prepared)!;
    expect(ar.length).toBe(6);
    expect(ar.every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
    expect(ar[0]).toBeGreaterThan(0.1);
    const tooShort = startRun({ ...sine, source: { kind: 'generated', spec: { kind: 'sine', points: 12, noise: 0 } } });
    expect(autoregressionByLag(tooShort.prepared)).toBeNull();
  });
});

describe('a session with the Inside view', () => {
  it('probes at a report only while the view asks, the window it asks for', async () => {
    const run = startRun({ ...sine, hiddenSizes: [4, 3] });
    let asked: InsideRequest | null = null;
    const snapshots: Snapshot[] = [];
    const options = { epochs: 6, batchSize: 8, learningRate: 0.01, reportEvery: 2, inside: () => asked };
    await runSession(new CpuBackend(run.layout), run, options, new RunControl(), (s) => {
      snapshots.push(s);
      asked = { row: 30 };
    });
    expect(snapshots.map((s) => s.inside === null)).toEqual([true, false, false]);
    const inside = snapshots[2].inside!;
    expect(inside.row).toBe(30);
    expect(inside.steps).toBe(6);
    expect(inside.windows).toBe(MAX_INSIDE_WINDOWS);
    expect(inside.part).toBe('test');
    expect(inside.window.layers.map((l) => l.forget.length)).toEqual([6 * 4, 6 * 3]);
    expect(inside.saturation.map((s) => [s.layer, s.gate, s.left.length])).toEqual([
      [0, 'forget', 4],
      [0, 'input', 4],
      [0, 'candidate', 4],
      [0, 'output', 4],
      [1, 'forget', 3],
      [1, 'input', 3],
      [1, 'candidate', 3],
      [1, 'output', 3],
    ]);
    expect(inside.connectivity.length).toBe(6);
    expect(inside.sentence).toMatch(/^The model relies mostly on /);
    // The probe's prediction is the snapshot's: the same weights, the same window.
    const prediction = snapshots[2].predictions[30 - 6];
    const level = denormalizeOutputs(
      run.prepared.normalization,
      run.prepared.outputs,
      Float32Array.from(inside.window.outputs),
    );
    expect(level[0]).toBeCloseTo(prediction, 4);
  });
});

describe('the probes of a run', () => {
  it('probe the chosen window at every report and the held-out sample only within their share of the time', async () => {
    const run = startRun(sine);
    const backend = new CpuBackend(run.layout);
    backend.setParams(run.params);
    let row = 30;
    // A stopped clock: no time passes but the probes' own.
    const probes = new InsideProbes(
      () => ({ row }),
      () => 0,
    );
    const first = (await probes.take(backend, run.prepared, false))!;
    expect(first.windows).toBe(MAX_INSIDE_WINDOWS);
    // At once again: the probes have had no training time to take a share of, so only the window.
    row = 50;
    const second = (await probes.take(backend, run.prepared, false))!;
    expect(second.row).toBe(50);
    expect(second.saturation).toBe(first.saturation);
    expect(second.window).not.toBe(first.window);
    // The last report always summarises afresh.
    const last = (await probes.take(backend, run.prepared, true))!;
    expect(last.saturation).not.toBe(first.saturation);
    expect(await new InsideProbes(() => null).take(backend, run.prepared, true)).toBeNull();
  });
});
