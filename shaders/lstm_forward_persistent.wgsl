// All T steps of one LSTM layer's forward recurrence in one workgroup (the persistent schedule, as in
// Diamos et al., "Persistent RNNs", 2016): y_prev stays in workgroup memory between steps, a barrier
// separates the steps, and one dispatch replaces T. Same math as lstm_step_forward:
//   u = gates[t] + y[t] V;  f, i, o = sigmoid;  g = tanh;  c[t+1] = f c[t] + i g;  y[t+1] = o tanh(c[t+1])
// For small models only: the batch's state (BATCH x H, twice) must fit workgroup memory, and one
// workgroup does all the arithmetic.
//
// Legend: B = BATCH (this pipeline's batch), T = window, H = hidden size, P = parameter count.
// Buffers:
//   params  (P)           V (H, 4H) at V_OFFSET
//   gates   (T, B, 4H)    pre-activations in (x W + b from input_projection), activations out
//   c       (T+1, B, H)   cell states; step 0 is zero
//   y       (T+1, B, H)   outputs; step 0 is zero
// Bindings 4 and 5 match lstm_step_forward's layout so both schedules share bind groups; unused here.

override WINDOW: u32;
override HIDDEN_SIZE: u32;
override V_OFFSET: u32;
override BATCH: u32;
override WORKGROUP: u32;

@group(0) @binding(0) var<storage, read> params: array<f32>;
@group(0) @binding(1) var<storage, read_write> gates: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

// Two copies of the batch's y (B, H): step t reads one and writes the other.
var<workgroup> yShared: array<f32, 2u * BATCH * HIDDEN_SIZE>;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(local_invocation_index) lane: u32) {
  let H = HIDDEN_SIZE;
  let G = 4u * H;
  let state = BATCH * H;
  for (var t = 0u; t < WINDOW; t++) {
    let previous = (t % 2u) * state;
    let next = state - previous;
    for (var e = lane; e < state; e += WORKGROUP) {
      let b = e / H;
      let j = e % H;
      let at = (t * BATCH + b) * G + j;
      var u = vec4f(gates[at], gates[at + H], gates[at + 2u * H], gates[at + 3u * H]);
      if (t > 0u) {
        for (var k = 0u; k < H; k++) {
          let v = V_OFFSET + k * G + j;
          u += yShared[previous + b * H + k] * vec4f(params[v], params[v + H], params[v + 2u * H], params[v + 3u * H]);
        }
      }
      // Step 0's previous state is zero by definition, whatever another pass left in the workspace.
      let cPrev = select(c[(t * BATCH + b) * H + j], 0.0, t == 0u);
      let cell = cell_forward(u, cPrev);
      gates[at] = cell.gates.x;
      gates[at + H] = cell.gates.y;
      gates[at + 2u * H] = cell.gates.z;
      gates[at + 3u * H] = cell.gates.w;
      c[((t + 1u) * BATCH + b) * H + j] = cell.c;
      y[((t + 1u) * BATCH + b) * H + j] = cell.y;
      yShared[next + e] = cell.y;
    }
    workgroupBarrier();
  }
}
