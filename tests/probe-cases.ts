// The cases the probe tests share: the gradient fixtures' models and batches (drawn by
// tests/fixtures/reference64.ts, with its float64 outputs) and a comparison of two probes with a
// stated tolerance, |a - e| <= tol * max(1, |e|) per value.

import { expect } from 'vitest';
import { type ParamLayout, paramLayout } from '../src/model/layout.js';
import { PROBED, type WindowProbe } from '../src/model/probe.js';
import { fromNested } from '../src/train/modelFile.js';
import { drawCase, FIXTURE_SPECS, lossAndGradients } from './fixtures/reference64.js';

export interface ProbeCase {
  layout: ParamLayout;
  params: Float32Array;
  /** (n, T, I) */
  x: Float32Array;
  n: number;
  /** The fixture's float64 outputs (n, O). */
  y: Float64Array;
}

/** A gradient fixture's model, batch and float64 outputs, drawn as the fixture program draws them. */
export function fixtureProbeCase(name: string): ProbeCase {
  const spec = FIXTURE_SPECS.find((s) => s.name === name);
  if (spec === undefined) throw new Error(`no fixture ${name}`);
  const { params, batch } = drawCase(spec);
  const layout = paramLayout({
    inputSize: spec.inputSize,
    hiddenSizes: spec.hiddenSizes,
    outputSize: spec.outputSize,
    window: spec.window,
  });
  return {
    layout,
    params: fromNested(layout, params as unknown as Record<string, unknown>),
    x: Float32Array.from(batch.x.flat(2)),
    n: spec.batchSize,
    y: Float64Array.from(lossAndGradients(params, batch).y.flat()),
  };
}

/** Largest |a - e| / max(1, |e|) over every array of two probes of the same windows. */
export function probeDeviation(actual: WindowProbe[], expected: WindowProbe[]): number {
  expect(actual).toHaveLength(expected.length);
  let worst = 0;
  const compare = (a: ArrayLike<number>, e: ArrayLike<number>, what: string) => {
    expect(a.length, what).toBe(e.length);
    for (let p = 0; p < e.length; p++) worst = Math.max(worst, Math.abs(a[p] - e[p]) / Math.max(1, Math.abs(e[p])));
  };
  expected.forEach((window, s) => {
    compare(actual[s].outputs, window.outputs, `window ${s} outputs`);
    compare(actual[s].connectivity, window.connectivity, `window ${s} connectivity`);
    expect(actual[s].layers).toHaveLength(window.layers.length);
    window.layers.forEach((layer, l) => {
      for (const key of PROBED) compare(actual[s].layers[l][key], layer[key], `window ${s} layer ${l} ${key}`);
    });
  });
  return worst;
}
