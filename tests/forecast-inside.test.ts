// The probe's summaries (src/forecast/inside.ts) on hand-made probes whose answers are known:
// saturation fractions per unit, dead units, connectivity per lag (lag 1 first), the AR baseline's
// coefficients rescaled, and the reliance sentence's rule.

import { describe, expect, it } from 'vitest';
import { prepareData } from '../src/data/prepare.js';
import { Rng } from '../src/data/rng.js';
import { tableFromSeries } from '../src/data/windows.js';
import {
  arConnectivity,
  DEAD_RANGE,
  deadUnits,
  lagConnectivity,
  lagTotals,
  preparedArConnectivity,
  reliance,
  saturation,
  windowInputs,
} from '../src/forecast/inside.js';
import type { LayerProbe, WindowProbe } from '../src/model/probe.js';

/** A one-layer probe of T steps and H units, each array filled by `value(t, j)` of its key. */
function probe(
  T: number,
  H: number,
  fill: Partial<Record<keyof LayerProbe, (t: number, j: number) => number>>,
  connectivity: number[] = [],
): WindowProbe {
  const make = (key: keyof LayerProbe) =>
    Float64Array.from({ length: T * H }, (_, at) => fill[key]?.(Math.floor(at / H), at % H) ?? 0.5);
  const layer: LayerProbe = {
    forget: make('forget'),
    input: make('input'),
    candidate: make('candidate'),
    output: make('output'),
    cell: make('cell'),
    hidden: make('hidden'),
  };
  return { layers: [layer], outputs: new Float64Array(1), connectivity: Float64Array.from(connectivity) };
}

describe('saturation', () => {
  it('counts per unit the steps below 0.1 and above 0.9 of a sigmoid gate, and beyond ±0.8 of the candidate', () => {
    // Unit 0's forget gate: steps 0 and 1 at 0.05 (left), steps 2 at 0.95 (right), step 3 at 0.5.
    const a = probe(4, 2, {
      forget: (t, j) => (j === 0 ? [0.05, 0.05, 0.95, 0.5][t] : 0.99),
      candidate: (t) => [-0.85, -0.5, 0.85, 0.9][t],
    });
    const b = probe(4, 2, { forget: () => 0.5, candidate: () => 0 });
    const result = saturation([a, b], 4);
    expect(result.map((r) => r.gate)).toEqual(['forget', 'input', 'candidate', 'output']);
    const forget = result[0];
    expect(forget.layer).toBe(0);
    expect(forget.left).toEqual([2 / 8, 0]);
    expect(forget.right).toEqual([1 / 8, 4 / 8]);
    const candidate = result[2];
    expect(candidate.left).toEqual([1 / 8, 1 / 8]);
    expect(candidate.right).toEqual([2 / 8, 2 / 8]);
    expect(result[1].left).toEqual([0, 0]);
  });
});

describe('dead units', () => {
  it('names the units whose hidden output never moves over every window and step', () => {
    const a = probe(3, 3, { hidden: (t, j) => (j === 1 ? 0.25 : j === 2 ? 0.1 * t : 0.7 + (DEAD_RANGE / 10) * t) });
    const b = probe(3, 3, { hidden: (_t, j) => (j === 1 ? 0.25 : j === 2 ? 0 : 0.7) });
    expect(deadUnits([a, b], 3)).toEqual([
      { layer: 0, unit: 0, value: expect.closeTo(0.7, 6) },
      { layer: 0, unit: 1, value: 0.25 },
    ]);
    // Unit 1 moves in a third window: no longer dead.
    const c = probe(3, 3, { hidden: (t, j) => (j === 1 ? 0.25 + t : 0.7) });
    expect(deadUnits([a, b, c], 3).map((d) => d.unit)).toEqual([0]);
  });
});

describe('connectivity per lag', () => {
  it('averages |gradient| over the windows with lag 1 (the last step) first, per output and input', () => {
    // T 3, I 2, O 2: connectivity[(o * T + t) * I + i].
    const T = 3;
    const I = 2;
    const grad = (sign: number) => Array.from({ length: 2 * T * I }, (_, p) => sign * (p + 1));
    const result = lagConnectivity([probe(T, 1, {}, grad(1)), probe(T, 1, {}, grad(-3))], T, I);
    expect(result).toHaveLength(2);
    // Output 0, lag 1 is t = 2: positions 4 and 5 hold 5 and 6; mean |.| of 5 and 15 is 10.
    expect(result[0][0]).toEqual([10, 12]);
    expect(result[0][2]).toEqual([2, 4]);
    expect(result[1][0]).toEqual([22, 24]);
    expect(lagTotals(result[0])).toEqual([22, 14, 6]);
  });

  it('rescales the AR coefficients to the network units, lag 1 first, intercept left out', () => {
    // T 2, I 2: coefficients time-major (t, i), then the intercept.
    const fit = { coefficients: [Float64Array.from([1, -2, 3, -4, 100])] };
    expect(arConnectivity(fit, 2, [2, 10], [4])).toEqual([
      [
        [1.5, 10],
        [0.5, 5],
      ],
    ]);
  });
});

describe('reliance', () => {
  it('takes the fewest most recent lags holding 80% of the total', () => {
    expect(reliance([0.9, 0.05, 0.05])).toEqual({
      lags: 1,
      share: 0.9,
      sentence: 'the model relies mostly on the last value (90% of its connectivity)',
    });
    const two = reliance([5, 3.5, 1, 0.5]);
    expect(two.lags).toBe(2);
    expect(two.share).toBeCloseTo(0.85, 12);
    expect(two.sentence).toBe('the model relies mostly on the last 2 values (85% of its connectivity)');
    // Exactly 80% is enough.
    expect(reliance([4, 4, 2]).lags).toBe(2);
    expect(reliance([1, 1, 1, 1], 'AR(4)').sentence).toBe(
      'AR(4) looks across its whole window: only all 4 values together hold 80% of its connectivity',
    );
    expect(reliance([0, 0]).lags).toBe(0);
  });
});

describe('on prepared data', () => {
  // y[r] = 0.8 y[r-1] + noise, offset and scaled so the normalization has work to do.
  const rng = new Rng(5);
  const series = new Float64Array(400);
  for (let r = 1; r < 400; r++) series[r] = 0.8 * series[r - 1] + rng.normal();
  const table = tableFromSeries(series.map((y) => 100 + 7 * y));
  const prepared = prepareData(table, {
    inputs: [0],
    outputs: [0],
    window: 3,
    trainFraction: 0.8,
    normalize: 'z-score',
  });

  it('reads window k as rows k .. k + T - 1, normalized, as the split cut the training windows', () => {
    expect(windowInputs(prepared, 0)).toEqual(prepared.train.x.subarray(0, 3));
    expect(windowInputs(prepared, 5)).toEqual(prepared.train.x.subarray(15, 18));
  });

  it('finds an AR(1) series’ dependence on lag 1 alone in the AR baseline’s coefficients', () => {
    const ar = preparedArConnectivity(prepared);
    if (typeof ar === 'string') throw new Error(ar);
    const [lag1, lag2, lag3] = lagTotals(ar[0]);
    expect(lag1).toBeGreaterThan(0.7);
    expect(lag1).toBeLessThan(0.9);
    expect(Math.max(lag2, lag3)).toBeLessThan(0.15);
    expect(reliance(lagTotals(ar[0]), 'AR(3)').sentence).toMatch(/^AR\(3\) relies mostly on the last value/);
  });
});
