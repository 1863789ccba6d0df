// Cases for the export tests: the gradient fixtures' models (one layer, stacked, several inputs and
// outputs), given column names and a normalization, and our own prediction to compare a runtime's
// against: the data's units in, normalized, the CPU reference's forward pass, denormalized, and the
// transform undone, each through the project's own functions.
//
// Legend: B = batch, T = window, I = inputSize, O = outputSize.

import { forward, Workspace } from '../src/backends/cpu/lstm.js';
import { denormalizeOutputs, type Normalization, normalizeValues } from '../src/data/normalize.js';
import { type Transform, toLevel } from '../src/data/transform.js';
import type { Model } from '../src/train/modelFile.js';
import { FIXTURE_CASES, loadFixture } from './helpers.js';

export { FIXTURE_CASES };

/**
 * The fixture's model with named columns (outputs the first O inputs, the way a forecaster's are, and
 * inputs beyond them), a z-score-like normalization with offsets and scales far from 0 and 1, and
 * `transform`; plus its batch (B, T, I) mapped to the data's units, so that normalizing gives back
 * the fixture's values.
 */
export function namedCase(name: string, transform: Transform = 'levels') {
  const { model, batch } = loadFixture(name);
  const { inputSize: I, outputSize: O, window: T } = model.config;
  const columns = Array.from({ length: Math.max(I, O) }, (_, c) => `column ${c}`);
  const normalization: Normalization = {
    method: 'z-score',
    columns,
    offset: columns.map((_, c) => (c % 2 === 0 ? 1 : -1) * (3 + 7 * c)),
    scale: columns.map((_, c) => 0.25 + 1.5 * c),
  };
  const inputs = columns.slice(0, I);
  const outputs = columns.slice(0, O);
  const named: Model = {
    ...model,
    normalization,
    data: {
      source: `fixture ${name}`,
      inputs,
      outputs,
      trainFraction: 0.8,
      transform,
      season: transform === 'seasonal-differences' ? 4 : null,
    },
  };
  const B = batch.count;
  const raw = new Float64Array(B * T * I);
  for (let p = 0; p < raw.length; p++) {
    const c = p % I;
    raw[p] = batch.x[p] * normalization.scale[c] + normalization.offset[c];
  }
  // Levels the transform looks back to: positive (log returns need them so), one per output.
  const reference = Float64Array.from({ length: B * O }, (_, p) => 5 + ((p * 37) % 11));
  return { model: named, raw, reference, B };
}

/**
 * Our prediction for raw windows (B, T, I) in the data's units: the next row (B, O) in levels, and
 * before the transform is undone. Without a normalization the values are read as they are.
 */
export function ourPrediction(model: Model, raw: Float64Array, B: number, reference?: Float64Array) {
  const { inputSize: I, outputSize: O, window: T } = model.config;
  const x = new Float32Array(B * T * I);
  const norm = model.normalization;
  const inputs = model.data?.inputs ?? [];
  for (let k = 0; k < I; k++) {
    const column = Float64Array.from({ length: B * T }, (_, n) => raw[n * I + k]);
    const scaled = norm ? normalizeValues(norm, inputs[k], column) : column;
    for (let n = 0; n < B * T; n++) x[n * I + k] = scaled[n];
  }
  const ws = new Workspace(model.layout, B);
  forward(model.params, ws, x, B);
  const out = ws.out.subarray(0, B * O);
  const transformed = norm ? denormalizeOutputs(norm, model.data?.outputs ?? [], out) : Float64Array.from(out);
  const kind = model.data?.transform ?? 'levels';
  const levels = transformed.map((z, p) => toLevel(kind, z, reference?.[p] ?? 0));
  return { levels, transformed, normalized: Float32Array.from(out) };
}

/** Largest |a - e| / |e| over all values, and whether every one is within `rtol` relative. */
export function relativeDifference(actual: ArrayLike<number>, expected: ArrayLike<number>) {
  let worst = 0;
  for (let p = 0; p < expected.length; p++) {
    const e = expected[p];
    const d = Math.abs(actual[p] - e);
    worst = Math.max(worst, d === 0 ? 0 : d / Math.abs(e));
  }
  return worst;
}
