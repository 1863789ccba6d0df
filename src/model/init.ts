// Initial parameters as the blog's program draws them: W, V and the dense weights from
// N(0,1) / sqrt(fan-in), biases zero. Values are drawn in the model file's order ([4][I][H] for w,
// [4][H][H] for v, layer by layer, then dense [H][O]) so the draw sequence does not depend on the
// internal layout.

import { GATES, type ParamLayout } from './layout.js';

/**
 * What initParams draws from: standard normal deviates. The seeded generator (src/data/rng.ts) is
 * one; naming only what is used keeps the model's math below the data layer that owns the generator.
 */
export interface NormalSource {
  normal(): number;
}

export function initParams(layout: ParamLayout, rng: NormalSource): Float32Array {
  const params = new Float32Array(layout.size);
  for (const layer of layout.layers) {
    const { inputSize, hiddenSize } = layer;
    const rowWidth = GATES * hiddenSize;
    const wScale = 1 / Math.sqrt(inputSize);
    for (let g = 0; g < GATES; g++)
      for (let k = 0; k < inputSize; k++)
        for (let j = 0; j < hiddenSize; j++)
          params[layer.w + k * rowWidth + g * hiddenSize + j] = rng.normal() * wScale;
    const vScale = 1 / Math.sqrt(hiddenSize);
    for (let g = 0; g < GATES; g++)
      for (let k = 0; k < hiddenSize; k++)
        for (let j = 0; j < hiddenSize; j++)
          params[layer.v + k * rowWidth + g * hiddenSize + j] = rng.normal() * vScale;
  }
  const { dense } = layout;
  const dScale = 1 / Math.sqrt(dense.inputSize);
  for (let k = 0; k < dense.inputSize; k++)
    for (let o = 0; o < dense.outputSize; o++) params[dense.w + k * dense.outputSize + o] = rng.normal() * dScale;
  return params;
}
