// FLOPs of one training step (forward, backward through time, update): the one formula behind every
// GFLOP/s this project reports. A multiply-add counts as 2 FLOPs. The pointwise gate math and the
// loss are left out (O(B·T·H) against the products' O(B·T·H²)).
//
// Per LSTM layer l (I inputs, H units), batch B, window T, G = 4H:
//   forward    2·T·B·(I + H)·G        x W and y_prev V for all four gates
//   backward   2·T·B·H·G              dy_prev = δ Vᵀ
//              2·T·B·I·G              dx = δ Wᵀ (layers above the first only: the data needs none)
//              2·T·B·(I + H + 1)·G    dW, dV, db = Σ_t [x; y_prev; 1]ᵀ δ
// Dense output layer (H_last → O): 2·B·H·O forward, 4·B·H·O backward (dWd and dy).
// Update: 2·P for P parameters (one multiply-add each; SGD's).
// The first step's y_prev V is counted though y_prev is zero there, as the usual formula does.

import { GATES, type ModelConfig, paramLayout } from './layout.js';

export function trainStepFlops(config: ModelConfig, batchSize: number): number {
  const layout = paramLayout(config);
  const T = config.window;
  const B = batchSize;
  let flops = 0;
  layout.layers.forEach(({ inputSize: I, hiddenSize: H }, l) => {
    const G = GATES * H;
    flops += 2 * T * B * (I + H) * G;
    flops += 2 * T * B * H * G;
    if (l > 0) flops += 2 * T * B * I * G;
    flops += 2 * T * B * (I + H + 1) * G;
  });
  flops += 6 * B * layout.dense.inputSize * layout.dense.outputSize;
  return flops + 2 * layout.size;
}
