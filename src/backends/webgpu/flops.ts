// Floating-point operations of a training step, for GFLOP/s figures. The matrix products only (a
// multiply-add is 2 FLOPs); the pointwise gate math, the loss and the update are left out (they are
// O(B·H) against the products' O(B·H²)). Per LSTM layer (I inputs, H units) and step of B windows of T:
//   forward    2·T·B·(I + H)·4H        x W and y_prev V for all four gates
//   backward   2·T·B·H·4H              dy_prev = δ Vᵀ
//              2·T·B·I·4H              dx = δ Wᵀ (layers above the first only)
//              2·T·B·(I + H + 1)·4H    dW, dV, db = Σ_t [x; y_prev; 1]ᵀ δ
// plus the dense layer: 2·B·H·O forward, 4·B·H·O backward (dWd and dy).
// The first step's y_prev V is counted though y_prev is zero there, as the usual formula does.

import { GATES, type ParamLayout } from '../../model/layout.js';

export function flopsPerStep(layout: ParamLayout, batch: number, part: 'train' | 'forward' = 'train'): number {
  const { window: T } = layout.config;
  const B = batch;
  let flops = 0;
  layout.layers.forEach(({ inputSize: I, hiddenSize: H }, l) => {
    const G = GATES * H;
    flops += 2 * T * B * (I + H) * G;
    if (part === 'train') {
      flops += 2 * T * B * H * G;
      if (l > 0) flops += 2 * T * B * I * G;
      flops += 2 * T * B * (I + H + 1) * G;
    }
  });
  const { inputSize: H, outputSize: O } = layout.dense;
  flops += (part === 'train' ? 6 : 2) * B * H * O;
  return flops;
}
