// Gradient at a stacked layer's input for all T steps, as one tiled product (the layer below adds it
// to the gradient at its outputs in its BPTT):
//   dInput[t, b, :] = delta[t, b, :] Wᵀ          (T*B, 4H) x (4H, I) -> (T*B, I)
//
// Legend: K = members, B = batch of this pass, C = workspace capacity, T = window, I = layer input
//         size (the layer below's H), H = hidden size, P = parameter count.
// Buffers:
//   params  (K, P)        W (I, 4H) at W_OFFSET; Wᵀ is read in place
//   delta   (K, T, C, 4H) gate deltas from BPTT (a member's rows m = t * B + b)
//   dInput  (K, T, C, I)  written (a member's rows m)
// Entry points (matmul_workgroup_tiles, matmul_registers) and tiling: matmul.wgsl, appended.

override INPUT_SIZE: u32;
override HIDDEN_SIZE: u32;
override W_OFFSET: u32;

@group(0) @binding(0) var<storage, read> params: array<f32>;
@group(0) @binding(1) var<storage, read> delta: array<f32>;
@group(0) @binding(2) var<storage, read_write> dInput: array<f32>;
@group(0) @binding(3) var<uniform> batchPass: PassParams;

fn matmul_rows() -> u32 {
  return WINDOW * batchPass.batch;
}

fn matmul_cols() -> u32 {
  return INPUT_SIZE;
}

fn matmul_depth() -> u32 {
  return 4u * HIDDEN_SIZE;
}

fn load_a4(m: u32, k: u32, once: bool) -> vec4f {
  let G = 4u * HIDDEN_SIZE;
  let last = WINDOW * batchPass.batch - 1u;
  let at = member_steps(batchPass, G) + k;
  return vec4f(delta[at + m * G], delta[at + min(m + 1u, last) * G], delta[at + min(m + 2u, last) * G], delta[at + min(m + 3u, last) * G]);
}

fn load_b(k: u32, i: u32) -> f32 {
  return params[member_params() + W_OFFSET + i * 4u * HIDDEN_SIZE + k];
}

fn store_c(m: u32, i: u32, value: f32) {
  dInput[member_steps(batchPass, INPUT_SIZE) + m * INPUT_SIZE + i] = value;
}
