// Weight gradients of one LSTM layer, summed over the batch and all T steps, as one tiled product
// (not T small ones). W, V and b sit back to back in the flat layout, so one product fills all three:
//   [dW; dV; db] = Σ_t [x_t; y_{t-1}; 1]ᵀ delta_t      (I+H+1, T*B) x (T*B, 4H) -> (I+H+1, 4H)
// Rows of the product are the layer's inputs, then its recurrent units, then a row of ones (the bias);
// the summed dimension runs over m = t * B + b.
//
// Legend: N = samples, B = batch of this pass, T = window, I = layer input size, H = hidden size,
//         P = parameter count.
// Buffers:
//   input   (N, T, I)     layer 0 (GATHER_SAMPLES): the samples, batch row b is order[orderBase + b]
//           (T+1, B, I)   layers above: the outputs y of the layer below; steps 1..T are read
//   order   (orderBase + B)
//   y       (T+1, B, H)   this layer's outputs; y[t] is y_prev of step t
//   delta   (T, B, 4H)    gate deltas from BPTT
//   grads   (P)           written from W_OFFSET: dW (I, 4H), dV (H, 4H), db (4H)

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

fn load_a(row: u32, m: u32) -> f32 {
  let batch = batchPass.batch;
  if (row < INPUT_SIZE) {
    if (GATHER_SAMPLES) {
      let sample = order[batchPass.orderBase + m % batch];
      return input[(sample * WINDOW + m / batch) * INPUT_SIZE + row];
    }
    return input[(batch + m) * INPUT_SIZE + row];
  }
  if (row < INPUT_SIZE + HIDDEN_SIZE) {
    return y[m * HIDDEN_SIZE + row - INPUT_SIZE];
  }
  return 1.0;
}

fn load_b(m: u32, col: u32) -> f32 {
  return delta[m * 4u * HIDDEN_SIZE + col];
}

fn store_c(row: u32, col: u32, value: f32) {
  grads[W_OFFSET + row * 4u * HIDDEN_SIZE + col] = value;
}

@compute @workgroup_size(MATMUL_THREADS, MATMUL_THREADS)
fn main(@builtin(workgroup_id) tile: vec3u, @builtin(local_invocation_id) thread: vec3u) {
  matmul_tiled(tile.xy, thread.xy);
}
