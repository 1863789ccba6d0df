// Weight gradients of one LSTM layer, summed over the batch and all T steps, as one tiled product
// (not T small ones). The layer's inputs are kept as rows [y_prev | x | 1] (params.wgsl's state_row),
// so one product with no per-element decisions gives all three tensors:
//   [dV; dW; db] = Σ_t [y_{t-1}; x_t; 1]ᵀ delta_t      (H+I+1, T*B) x (T*B, 4H) -> (H+I+1, 4H)
// and store_c puts each row where the flat layout has it (w's I rows, then v's H rows, then b). The
// summed dimension runs over m = t * B + b, whose inputs row is state_row(0, m).
// (On SwiftShader a branch in the inner loop costs more than the loads it guards: measured 2.6x here.)
//
// Legend: K = members, B = batch of this pass, C = workspace capacity, T = window, I = layer input
//         size, H = hidden size, S = H + I + 1, P = parameter count.
// Buffers:
//   inputs  (K, (T+1) C, S)  [y_prev | x | 1] rows; step 0's y_prev is the zero block
//   delta   (K, T, C, 4H)    gate deltas from BPTT (a member's rows t * B + b)
//   grads   (K, P)           written from W_OFFSET: dW (I, 4H), dV (H, 4H), db (4H)
// Entry points (matmul_workgroup_tiles, matmul_registers) and tiling: matmul.wgsl, appended.

override INPUT_SIZE: u32;
override HIDDEN_SIZE: u32;
override W_OFFSET: u32;

@group(0) @binding(0) var<storage, read> inputs: array<f32>;
@group(0) @binding(1) var<storage, read> delta: array<f32>;
@group(0) @binding(2) var<storage, read_write> grads: array<f32>;
@group(0) @binding(3) var<uniform> batchPass: PassParams;

fn matmul_rows() -> u32 {
  return HIDDEN_SIZE + INPUT_SIZE + 1u;
}

fn matmul_cols() -> u32 {
  return 4u * HIDDEN_SIZE;
}

fn matmul_depth() -> u32 {
  return WINDOW * batchPass.batch;
}

fn load_a4(row: u32, m: u32, once: bool) -> vec4f {
  // Rows past H + I + 1 read on into the next inputs row, which exists: they are not stored.
  let at = state_row(batchPass, 0u, m) * (HIDDEN_SIZE + INPUT_SIZE + 1u) + row;
  return vec4f(inputs[at], inputs[at + 1u], inputs[at + 2u], inputs[at + 3u]);
}

fn load_b(m: u32, col: u32) -> f32 {
  return delta[member_steps(batchPass, 4u * HIDDEN_SIZE) + m * 4u * HIDDEN_SIZE + col];
}

fn store_c(row: u32, col: u32, value: f32) {
  // Product row -> parameter row of the layout.
  var parameterRow = INPUT_SIZE + HIDDEN_SIZE;
  if (row < HIDDEN_SIZE) {
    parameterRow = INPUT_SIZE + row;
  } else if (row < HIDDEN_SIZE + INPUT_SIZE) {
    parameterRow = row - HIDDEN_SIZE;
  }
  grads[member_params() + W_OFFSET + parameterRow * 4u * HIDDEN_SIZE + col] = value;
}
