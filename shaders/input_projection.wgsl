// Input projection of one LSTM layer for all T steps of a batch, as one tiled product before the
// recurrence (it does not depend on y_prev; cuDNN does the same):
//   gates[t, b, :] = x_t[b, :] W + b            (T*B, I) x (I, 4H) -> (T*B, 4H)
// The recurrence (lstm_forward.wgsl) adds y_prev V and activates in place.
//
// Legend: N = samples, B = batch of this pass, T = window, I = layer input size, H = hidden size,
//         P = parameter count; rows of the product are m = t * B + b.
// Buffers:
//   params  (P)           W (I, 4H) at W_OFFSET, b (4H) at BIAS_OFFSET
//   input   (N, T, I)     layer 0 (GATHER_SAMPLES): the samples, batch row b is order[orderBase + b]
//           (T+1, B, I)   layers above: the outputs y of the layer below; steps 1..T are read
//   order   (orderBase + B) sample indices
//   gates   (T, B, 4H)    pre-activations, written
// Entry points (matmul_workgroup_tiles, matmul_registers) and tiling: matmul.wgsl, appended.

override WINDOW: u32;
override INPUT_SIZE: u32;
override HIDDEN_SIZE: u32;
override W_OFFSET: u32;
override BIAS_OFFSET: u32;
override GATHER_SAMPLES: bool;

@group(0) @binding(0) var<storage, read> params: array<f32>;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> order: array<u32>;
@group(0) @binding(3) var<storage, read_write> gates: array<f32>;
@group(0) @binding(4) var<uniform> batchPass: PassParams;

fn matmul_rows() -> u32 {
  return WINDOW * batchPass.batch;
}

fn matmul_cols() -> u32 {
  return 4u * HIDDEN_SIZE;
}

fn matmul_depth() -> u32 {
  return INPUT_SIZE;
}

fn load_row(row: u32, k: u32) -> f32 {
  let batch = batchPass.batch;
  let m = min(row, WINDOW * batch - 1u);
  if (GATHER_SAMPLES) {
    let sample = order[batchPass.orderBase + m % batch];
    return input[(sample * WINDOW + m / batch) * INPUT_SIZE + k];
  }
  return input[(batch + m) * INPUT_SIZE + k];
}

fn load_a4(row: u32, k: u32) -> vec4f {
  return vec4f(load_row(row, k), load_row(row + 1u, k), load_row(row + 2u, k), load_row(row + 3u, k));
}

fn load_b(k: u32, col: u32) -> f32 {
  return params[W_OFFSET + k * 4u * HIDDEN_SIZE + col];
}

fn store_c(row: u32, col: u32, value: f32) {
  gates[row * 4u * HIDDEN_SIZE + col] = value + params[BIAS_OFFSET + col];
}
