// Input projection of one LSTM layer for all T steps of a batch, as one tiled product before the
// recurrence (it does not depend on y_prev; cuDNN does the same):
//   gates[t, b, :] = x_t[b, :] W + b            (T*B, I) x (I, 4H) -> (T*B, 4H)
// The recurrence (lstm_forward.wgsl) adds y_prev V and activates in place.
//
// Legend: K = members, N = samples, B = batch of this pass, C = workspace capacity, T = window,
//         I = layer input size, H = hidden size, S = H + I + 1, P = parameter count; rows of the product
//         are m = t * B + b.
// Buffers:
//   params   (K, P)           W (I, 4H) at W_OFFSET, b (4H) at BIAS_OFFSET
//   samples  (N, T, I)        layer 0 (GATHER_SAMPLES): batch row b is sample order[orderBase + b] (of
//                             the member's order)
//   order    (K, C)           sample indices
//   inputs   (K, (T+1) C, S)  this layer's [y_prev | x | 1] rows (params.wgsl's state_row): layer 0
//                             writes the gathered x_t here for the weight gradients; layers above read
//                             x_t here (the layer below's forward pass wrote it)
//   gates    (K, T, C, 4H)    pre-activations, written (a member's rows t * B + b)
// Entry points (matmul_workgroup_tiles, matmul_registers) and tiling: matmul.wgsl, appended.

override INPUT_SIZE: u32;
override HIDDEN_SIZE: u32;
override W_OFFSET: u32;
override BIAS_OFFSET: u32;
override GATHER_SAMPLES: bool;

@group(0) @binding(0) var<storage, read> params: array<f32>;
@group(0) @binding(1) var<storage, read> samples: array<f32>;
@group(0) @binding(2) var<storage, read> order: array<u32>;
@group(0) @binding(3) var<storage, read_write> inputs: array<f32>;
@group(0) @binding(4) var<storage, read_write> gates: array<f32>;
@group(0) @binding(5) var<uniform> batchPass: PassParams;

fn matmul_rows() -> u32 {
  return WINDOW * batchPass.batch;
}

fn matmul_cols() -> u32 {
  return 4u * HIDDEN_SIZE;
}

fn matmul_depth() -> u32 {
  return INPUT_SIZE;
}

/** Where x_t of product row m = t B + b sits in `inputs`: row t of batch row b, state_row(t, b) = state_row(0, m). */
fn input_at(m: u32, k: u32) -> u32 {
  return state_row(batchPass, 0u, m) * (HIDDEN_SIZE + INPUT_SIZE + 1u) + HIDDEN_SIZE + k;
}

fn load_x(row: u32, k: u32, once: bool) -> f32 {
  let batch = batchPass.batch;
  let m = min(row, WINDOW * batch - 1u);
  if (GATHER_SAMPLES) {
    let sample = order[member_order(batchPass) + batchPass.orderBase + m % batch];
    let x = samples[(sample * WINDOW + m / batch) * INPUT_SIZE + k];
    if (once && row == m) {
      inputs[input_at(m, k)] = x;
    }
    return x;
  }
  return inputs[input_at(m, k)];
}

fn load_a4(row: u32, k: u32, once: bool) -> vec4f {
  return vec4f(load_x(row, k, once), load_x(row + 1u, k, once), load_x(row + 2u, k, once), load_x(row + 3u, k, once));
}

fn load_b(k: u32, col: u32) -> f32 {
  return params[member_params() + W_OFFSET + k * 4u * HIDDEN_SIZE + col];
}

fn store_c(row: u32, col: u32, value: f32) {
  gates[member_steps(batchPass, 4u * HIDDEN_SIZE) + row * 4u * HIDDEN_SIZE + col] = value + params[member_params() + BIAS_OFFSET + col];
}
