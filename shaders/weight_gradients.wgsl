// Weight gradients of one LSTM layer, summed over the batch and all T steps, as one tiled product
// (not T small ones). W, V and b sit back to back in the flat layout, so one product fills all three:
//   [dV; dW; db] = Σ_t [y_{t-1}; x_t; 1]ᵀ delta_t      (H+I+1, T*B) x (T*B, 4H) -> (H+I+1, 4H)
// Rows of the product are the recurrent units first (contiguous loads, no gather), then the layer's
// inputs, then a row of ones (the bias); store_c puts each row where the layout has it. The summed
// dimension runs over m = t * B + b.
//
// Legend: N = samples, B = batch of this pass, T = window, I = layer input size, H = hidden size,
//         P = parameter count.
// Buffers:
//   input   (N, T, I)     layer 0 (GATHER_SAMPLES): the samples, batch row b is order[orderBase + b]
//           (T+1, B, I)   layers above: the outputs y of the layer below; steps 1..T are read
//   order   (orderBase + B)
//   y       (T+1, B, H)   this layer's outputs; y[t] is y_prev of step t (y[0], zero, is not read)
//   delta   (T, B, 4H)    gate deltas from BPTT
//   grads   (P)           written from W_OFFSET: dW (I, 4H), dV (H, 4H), db (4H), the layout's order
// Entry points (matmul_workgroup_tiles, matmul_registers) and tiling: matmul.wgsl, appended.

override WINDOW: u32;
override INPUT_SIZE: u32;
override HIDDEN_SIZE: u32;
override W_OFFSET: u32;
override GATHER_SAMPLES: bool;

@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read> order: array<u32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read> delta: array<f32>;
@group(0) @binding(4) var<storage, read_write> grads: array<f32>;
@group(0) @binding(5) var<uniform> batchPass: PassParams;

fn matmul_rows() -> u32 {
  return INPUT_SIZE + HIDDEN_SIZE + 1u;
}

fn matmul_cols() -> u32 {
  return 4u * HIDDEN_SIZE;
}

fn matmul_depth() -> u32 {
  return WINDOW * batchPass.batch;
}

/** Row `row` of [y_{t-1}; x_t; 1] at m = t * B + b. */
fn load_row(row: u32, m: u32) -> f32 {
  let batch = batchPass.batch;
  if (row < HIDDEN_SIZE) {
    return select(y[m * HIDDEN_SIZE + row], 0.0, m < batch);
  }
  let feature = row - HIDDEN_SIZE;
  if (feature < INPUT_SIZE) {
    if (GATHER_SAMPLES) {
      let sample = order[batchPass.orderBase + m % batch];
      return input[(sample * WINDOW + m / batch) * INPUT_SIZE + feature];
    }
    return input[(batch + m) * INPUT_SIZE + feature];
  }
  return 1.0;
}

fn load_a4(row: u32, m: u32) -> vec4f {
  // Most rows are recurrent units, and they come first: four of them are four contiguous y values.
  if (row + 3u < HIDDEN_SIZE) {
    // y_prev of step 0 is zero by definition; its region is never read (see lstm_forward.wgsl).
    if (m < batchPass.batch) {
      return vec4f();
    }
    let at = m * HIDDEN_SIZE + row;
    return vec4f(y[at], y[at + 1u], y[at + 2u], y[at + 3u]);
  }
  return vec4f(load_row(row, m), load_row(row + 1u, m), load_row(row + 2u, m), load_row(row + 3u, m));
}

fn load_b(m: u32, col: u32) -> f32 {
  return delta[m * 4u * HIDDEN_SIZE + col];
}

fn store_c(row: u32, col: u32, value: f32) {
  // Product row -> parameter row of the layout (w's I rows, then v's H rows, then b).
  var parameterRow = INPUT_SIZE + HIDDEN_SIZE;
  if (row < HIDDEN_SIZE) {
    parameterRow = INPUT_SIZE + row;
  } else if (row < HIDDEN_SIZE + INPUT_SIZE) {
    parameterRow = row - HIDDEN_SIZE;
  }
  grads[W_OFFSET + parameterRow * 4u * HIDDEN_SIZE + col] = value;
}
