// One time step t of one LSTM layer's forward recurrence for the whole batch (the stepwise schedule:
// T dispatches a layer, each reading the previous one's y):
//   u = gates[t] + y[t] V           (gates[t] holds x_t W + b from input_projection)
//   f, i, o = sigmoid(u_f, u_i, u_o);  g = tanh(u_g)
//   c[t+1] = f * c[t] + i * g;  y[t+1] = o * tanh(c[t+1]);  gates[t] = f, i, g, o (kept for BPTT)
//
// Legend: B = batch of this pass, T = window, H = hidden size, P = parameter count.
// Buffers:
//   params  (P)           V (H, 4H) at V_OFFSET, row k: unit k's weights to every gate
//   gates   (T, B, 4H)    pre-activations in, activations out
//   c       (T+1, B, H)   cell states; step 0 is the zero initial state
//   y       (T+1, B, H)   outputs; step 0 is zero
// A workgroup computes UNITS hidden units (all four gates each) for ROWS batch rows; the rows' y[t] is
// staged through workgroup memory UNITS values at a time and each V value read serves ROWS rows.

override WINDOW: u32;
override HIDDEN_SIZE: u32;
override V_OFFSET: u32;

const UNITS = 64u;
const ROWS = 4u;

@group(0) @binding(0) var<storage, read> params: array<f32>;
@group(0) @binding(1) var<storage, read_write> gates: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> batchPass: PassParams;
@group(0) @binding(5) var<uniform> step: StepParams;

var<workgroup> yPrevTile: array<f32, 256>; // (ROWS, UNITS)

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

  var u: array<vec4f, ROWS>;
  for (var r = 0u; r < ROWS; r++) {
    let at = (t * batch + min(row0 + r, batch - 1u)) * G + unit;
    u[r] = vec4f(gates[at], gates[at + H], gates[at + 2u * H], gates[at + 3u * H]);
  }
  // y_prev is zero at the first step, so its product is skipped there.
  if (t > 0u) {
    for (var k0 = 0u; k0 < H; k0 += UNITS) {
      for (var r = 0u; r < ROWS; r++) {
        var value = 0.0;
        if (row0 + r < batch && k0 + lane < H) {
          value = y[(t * batch + row0 + r) * H + k0 + lane];
        }
        yPrevTile[r * UNITS + lane] = value;
      }
      workgroupBarrier();
      let chunk = min(UNITS, H - k0);
      for (var k = 0u; k < chunk; k++) {
        let at = V_OFFSET + (k0 + k) * G + unit;
        let v = vec4f(params[at], params[at + H], params[at + 2u * H], params[at + 3u * H]);
        for (var r = 0u; r < ROWS; r++) {
          u[r] += yPrevTile[r * UNITS + k] * v;
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
      // The state before step 0 is zero by definition: another pass sharing this workspace may have
      // left values in the step-0 region, so it is never read.
      let cPrev = select(c[(t * batch + b) * H + j], 0.0, t == 0u);
      let cell = cell_forward(u[r], cPrev);
      let at = (t * batch + b) * G + j;
      gates[at] = cell.gates.x;
      gates[at + H] = cell.gates.y;
      gates[at + 2u * H] = cell.gates.z;
      gates[at + 3u * H] = cell.gates.w;
      c[((t + 1u) * batch + b) * H + j] = cell.c;
      y[((t + 1u) * batch + b) * H + j] = cell.y;
    }
  }
}
