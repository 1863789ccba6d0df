// FLOPs of one training step (forward, backward through time, SGD update), the documented formula
// behind every GFLOP/s this project reports. A multiply-add counts as 2 FLOPs; only the matrix
// products and the update are counted (the gate nonlinearities and elementwise cell updates are
// O(B·T·H), negligible next to the O(B·T·H²) products for all but the smallest models).
//
// Per LSTM layer l (input size I, hidden H), batch B, window T:
//   forward   x W and y_prev V:                  2·B·T·4H·(I + H)
//   backward  dW, dV (weight gradients):         2·B·T·4H·(I + H)
//             dx, dy_prev (through W and V):     2·B·T·4H·(I + H)
// Dense output layer (H_last → O): forward 2·B·H·O, backward dWd and dy 4·B·H·O.
// Update: 2·P for P parameters.

import { type ModelConfig, paramLayout } from './layout.js';

export function trainStepFlops(config: ModelConfig, batchSize: number): number {
  const layout = paramLayout(config);
  const B = batchSize;
  const T = config.window;
  let flops = 0;
  for (const { inputSize: I, hiddenSize: H } of layout.layers) flops += 3 * 2 * B * T * 4 * H * (I + H);
  flops += 3 * 2 * B * layout.dense.inputSize * layout.dense.outputSize;
  flops += 2 * layout.size;
  return flops;
}

/** FLOPs of a forward pass over `count` windows (the per-epoch error, predictions). */
export function forwardFlops(config: ModelConfig, count: number): number {
  const layout = paramLayout(config);
  let flops = 0;
  for (const { inputSize: I, hiddenSize: H } of layout.layers) flops += 2 * count * config.window * 4 * H * (I + H);
  return flops + 2 * count * layout.dense.inputSize * layout.dense.outputSize;
}
