// One time step t of one LSTM layer's backpropagation through time (the stepwise schedule: T
// dispatches a layer, t = T-1 down to 0, each reading the deltas of step t+1):
//   dy = dyAbove[t] + delta[t+1] Vᵀ
//   r = dc + dy * o * (1 - tanh(c)^2)
//   delta_f = r c_prev f (1-f);  delta_i = r g i (1-i);  delta_g = r i (1-g^2);  delta_o = dy tanh(c) o (1-o)
//   dc = r * f   (for step t-1)
// The weight gradients and dx are batched products over all steps afterwards (weight_gradients,
// input_gradients).
//
// Legend: B = batch of this pass, T = window, H = hidden size, P = parameter count.
// Buffers:
//   params   (P)           V (H, 4H) at V_OFFSET; row j is contiguous, so dy_j = delta · V[j, :]
//   gates    (T, B, 4H)    activations f, i, g, o
//   c        (T+1, B, H)   cell states; step 0 is zero
//   dyAbove  (B, H)        FROM_DENSE: the dense layer's gradient, at the last step only
//            (T, B, H)     otherwise: the layer above's input gradient at every step
//   delta    (T, B, 4H)    gate deltas, written
//   dc       (B, H)        running cell gradient (taken as zero at t = T-1)
// A workgroup computes UNITS hidden units for ROWS batch rows; the rows' delta[t+1] is staged through
// workgroup memory CHUNK values at a time.

override WINDOW: u32;
override HIDDEN_SIZE: u32;
override V_OFFSET: u32;
override FROM_DENSE: bool;

const UNITS = 64u;
const ROWS = 4u;
const CHUNK = 64u;

@group(0) @binding(0) var<storage, read> params: array<f32>;
@group(0) @binding(1) var<storage, read> gates: array<f32>;
@group(0) @binding(2) var<storage, read> c: array<f32>;
@group(0) @binding(3) var<storage, read> dyAbove: array<f32>;
@group(0) @binding(4) var<storage, read_write> delta: array<f32>;
@group(0) @binding(5) var<storage, read_write> dc: array<f32>;
@group(0) @binding(6) var<uniform> batchPass: PassParams;
@group(0) @binding(7) var<uniform> step: StepParams;

var<workgroup> deltaTile: array<f32, 256>; // (ROWS, CHUNK) of delta[t+1]

@compute @workgroup_size(UNITS)
fn main(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) lane: u32) {
  let batch = batchPass.batch;
  let t = step.index;
  let H = HIDDEN_SIZE;
  let G = 4u * H;
  let j = group.x * UNITS + lane;
  // Lanes past the last unit compute a copy of it (so every lane reaches the barriers) and store nothing.
  let unit = min(j, H - 1u);
  let row0 = group.y * ROWS;
  let lastStep = t + 1u == WINDOW;

  var dyNext: array<f32, ROWS>;
  if (!lastStep) {
    for (var k0 = 0u; k0 < G; k0 += CHUNK) {
      for (var r = 0u; r < ROWS; r++) {
        var value = 0.0;
        if (row0 + r < batch && k0 + lane < G) {
          value = delta[((t + 1u) * batch + row0 + r) * G + k0 + lane];
        }
        deltaTile[r * CHUNK + lane] = value;
      }
      workgroupBarrier();
      let chunk = min(CHUNK, G - k0);
      for (var k = 0u; k < chunk; k++) {
        let v = params[V_OFFSET + unit * G + k0 + k];
        for (var r = 0u; r < ROWS; r++) {
          dyNext[r] = fma(deltaTile[r * CHUNK + k], v, dyNext[r]);
        }
      }
      workgroupBarrier();
    }
  }

  if (j >= H) {
    return;
  }
  for (var r = 0u; r < ROWS; r++) {
    let b = row0 + r;
    if (b < batch) {
      var dy = dyNext[r];
      if (FROM_DENSE) {
        if (lastStep) {
          dy += dyAbove[b * H + j];
        }
      } else {
        dy += dyAbove[(t * batch + b) * H + j];
      }
      var dcNext = 0.0;
      if (!lastStep) {
        dcNext = dc[b * H + j];
      }
      let at = (t * batch + b) * G + j;
      let activations = vec4f(gates[at], gates[at + H], gates[at + 2u * H], gates[at + 3u * H]);
      let cPrev = select(c[(t * batch + b) * H + j], 0.0, t == 0u); // zero before step 0, as in the forward pass
      let cell = cell_backward(activations, cPrev, c[((t + 1u) * batch + b) * H + j], dy, dcNext);
      delta[at] = cell.delta.x;
      delta[at + H] = cell.delta.y;
      delta[at + 2u * H] = cell.delta.z;
      delta[at + 3u * H] = cell.delta.w;
      dc[b * H + j] = cell.dcPrev;
    }
  }
}
