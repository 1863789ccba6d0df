// All T steps of one LSTM layer's backpropagation through time in one workgroup (the persistent
// schedule): the deltas of step t+1 stay in workgroup memory for step t, a barrier separates the
// steps, one dispatch replaces T. Same math as lstm_step_backward:
//   dy = dyAbove[t] + delta[t+1] Vᵀ;  r = dc + dy o (1 - tanh(c)^2);  the four gate deltas;  dc = r f
// For small models only: two copies of the batch's deltas (BATCH x 4H) must fit workgroup memory.
//
// Legend: B = BATCH (this pipeline's batch), T = window, H = hidden size, P = parameter count.
// Buffers:
//   params   (P)           V (H, 4H) at V_OFFSET
//   gates    (T, B, 4H)    activations f, i, g, o
//   c        (T+1, B, H)   cell states; step 0 is zero
//   dyAbove  (B, H)        FROM_DENSE: the dense layer's gradient, at the last step only
//            (T, B, H)     otherwise: the layer above's input gradient at every step
//   delta    (T, B, 4H)    gate deltas, written
//   dc       (B, H)        running cell gradient, one element per invocation slot
// Bindings 6 and 7 match lstm_step_backward's layout so both schedules share bind groups; unused here.

override WINDOW: u32;
override HIDDEN_SIZE: u32;
override V_OFFSET: u32;
override FROM_DENSE: bool;
override BATCH: u32;
override WORKGROUP: u32;

@group(0) @binding(0) var<storage, read> params: array<f32>;
@group(0) @binding(1) var<storage, read> gates: array<f32>;
@group(0) @binding(2) var<storage, read> c: array<f32>;
@group(0) @binding(3) var<storage, read> dyAbove: array<f32>;
@group(0) @binding(4) var<storage, read_write> delta: array<f32>;
@group(0) @binding(5) var<storage, read_write> dc: array<f32>;

// Two copies of the batch's deltas (B, 4H): step t reads step t+1's and writes its own.
var<workgroup> deltaShared: array<f32, 8u * BATCH * HIDDEN_SIZE>;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(local_invocation_index) lane: u32) {
  let H = HIDDEN_SIZE;
  let G = 4u * H;
  let state = BATCH * H;
  let deltas = BATCH * G;
  for (var s = 0u; s < WINDOW; s++) {
    let t = WINDOW - 1u - s;
    let newer = (s % 2u) * deltas;
    let current = deltas - newer;
    for (var e = lane; e < state; e += WORKGROUP) {
      let b = e / H;
      let j = e % H;
      var dy = 0.0;
      var dcNext = 0.0;
      if (s > 0u) {
        for (var k = 0u; k < G; k++) {
          dy = fma(deltaShared[newer + b * G + k], params[V_OFFSET + j * G + k], dy);
        }
        dcNext = dc[e];
      }
      if (FROM_DENSE) {
        if (s == 0u) {
          dy += dyAbove[e];
        }
      } else {
        dy += dyAbove[t * state + e];
      }
      let at = (t * BATCH + b) * G + j;
      let activations = vec4f(gates[at], gates[at + H], gates[at + 2u * H], gates[at + 3u * H]);
      let cPrev = select(c[t * state + e], 0.0, t == 0u); // zero before step 0, as in the forward pass
      let cell = cell_backward(activations, cPrev, c[(t + 1u) * state + e], dy, dcNext);
      delta[at] = cell.delta.x;
      delta[at + H] = cell.delta.y;
      delta[at + 2u * H] = cell.delta.z;
      delta[at + 3u * H] = cell.delta.w;
      let slot = current + b * G + j;
      deltaShared[slot] = cell.delta.x;
      deltaShared[slot + H] = cell.delta.y;
      deltaShared[slot + 2u * H] = cell.delta.z;
      deltaShared[slot + 3u * H] = cell.delta.w;
      dc[e] = cell.dcPrev;
    }
    workgroupBarrier();
  }
}
