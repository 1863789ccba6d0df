// The whole backward pass of a one-layer model in one workgroup, one dispatch, after
// lstm_fused_forward.wgsl: the dense layer's backward, backpropagation through time over all T steps,
// then the weight gradients:
//   dyTop = delta_out Wdᵀ;  dWd = y_Tᵀ delta_out;  dbd = Σ_b delta_out           (as dense.wgsl)
//   dy = dyTop (last step) + delta[t+1] Vᵀ;  the cell's backward as lstm_backward.wgsl
//   [dV; dW; db] = Σ_t [y_prev; x_t; 1]ᵀ delta_t                                (as weight_gradients.wgsl)
// V lives in workgroup memory (staged once, read T times), laid out so consecutive invocations
// (consecutive units) read consecutive vec4s; the deltas of step t+1 too where STAGE_DELTAS (double-
// buffered: one barrier a step), else they are read back from `delta`, which every step also writes
// for the weight gradients. Each item's dc stays in registers. Items as lstm_fused_forward.wgsl's
// (one unit, 4 rows, the same invocation); the weight gradients then take 4 rows of [y_prev | x | 1]
// x one unit x 4 gates an invocation. Admission and constants: src/backends/webgpu/fusedStep.ts.
// Appended: lstm_cell.wgsl.
//
// Legend: B = batch of this pass, C = workspace capacity, T = window, I = input size, H = hidden size,
//         S = H + I + 1, O = output size, P = parameter count, Q = BATCH_QUADS, R = 4Q.
// Buffers:
//   params   (P)            V (H, 4H) at V_OFFSET, Wd (H, O) at DENSE_W_OFFSET
//   gates    (T, B, 4H)     activations f, i, g, o (lstm_fused_forward.wgsl)
//   c        ((T+1) C, H)   cell states by params.wgsl's state_row
//   inputs   ((T+1) C, S)   [y_prev | x | 1] rows by state_row; y_T is the y_prev columns of row T
//   outputs  [loss, 3 unused, out (B, O), delta (B, O)]   delta_out from the forward
//   delta    (T, B, 4H)     gate deltas, written
//   grads    (P)            dW, dV, db from W_OFFSET and dWd, dbd at the dense offsets, written
// Workgroup memory:
//   vShared      (H, H)     vec4: V[j, g*H + k] for the four gates g, at [k * H + j]
//   deltaShared  (2, H, R)  vec4: delta[t, b, g*H + k] for the four gates g, at [half + k * R + b]
//                           (STAGE_DELTAS; one vec4 otherwise)

override WINDOW: u32;
override INPUT_SIZE: u32;
override HIDDEN_SIZE: u32;
override OUTPUT_SIZE: u32;
override W_OFFSET: u32;
override V_OFFSET: u32;
override DENSE_W_OFFSET: u32;
override DENSE_B_OFFSET: u32;
override WORKGROUP: u32;
/** Items an invocation takes on, at most MAX_ITEMS_PER_LANE. */
override ITEMS_PER_LANE: u32;
/** Row quads of the pass's batch, ceil(B / 4): sizes deltaShared. */
override BATCH_QUADS: u32;
override STAGE_DELTAS: bool;

const ROWS = 4u;
const MAX_ITEMS_PER_LANE = 4u;
const OUT_OFFSET = 4u;

@group(0) @binding(0) var<storage, read> params: array<f32>;
@group(0) @binding(1) var<storage, read> gates: array<f32>;
@group(0) @binding(2) var<storage, read> c: array<f32>;
@group(0) @binding(3) var<storage, read> inputs: array<f32>;
@group(0) @binding(4) var<storage, read> outputs: array<f32>;
@group(0) @binding(5) var<storage, read_write> delta: array<f32>;
@group(0) @binding(6) var<storage, read_write> grads: array<f32>;
@group(0) @binding(7) var<uniform> batchPass: PassParams;

var<workgroup> vShared: array<vec4f, HIDDEN_SIZE * HIDDEN_SIZE>;
var<workgroup> deltaShared: array<vec4f, select(1u, 2u * HIDDEN_SIZE * ROWS * BATCH_QUADS, STAGE_DELTAS)>;

/** delta[m, g*H + k] for the four gates g (m = t * B + b). */
fn gate_deltas(m: u32, k: u32) -> vec4f {
  let H = HIDDEN_SIZE;
  let at = m * 4u * H + k;
  return vec4f(delta[at], delta[at + H], delta[at + 2u * H], delta[at + 3u * H]);
}

/** The deltas of step t+1, row b, unit k: from workgroup memory where staged (half `staged`). */
fn next_deltas(t: u32, batch: u32, b: u32, k: u32, staged: u32) -> vec4f {
  if (STAGE_DELTAS) {
    return deltaShared[staged + k * ROWS * BATCH_QUADS + b];
  }
  return gate_deltas((t + 1u) * batch + b, k);
}

/** The gradient at y_T of row b, unit j, from the dense layer: Σ_o delta_out[b, o] Wd[j, o]. */
fn dy_top(batch: u32, b: u32, j: u32) -> f32 {
  let O = OUTPUT_SIZE;
  var sum = 0.0;
  for (var o = 0u; o < O; o++) {
    sum = fma(outputs[OUT_OFFSET + batch * O + b * O + o], params[DENSE_W_OFFSET + j * O + o], sum);
  }
  return sum;
}

@compute @workgroup_size(WORKGROUP)
fn fused_backward(@builtin(local_invocation_index) lane: u32) {
  let batch = batchPass.batch;
  let H = HIDDEN_SIZE;
  let G = 4u * H;
  let S = H + INPUT_SIZE + 1u;
  let O = OUTPUT_SIZE;
  let items = ((batch + ROWS - 1u) / ROWS) * H;
  let last = batch - 1u;
  let half = H * ROWS * BATCH_QUADS;
  for (var i = lane; i < H * H; i += WORKGROUP) {
    // [k * H + j] holds row j of V at the gate columns of unit k.
    let k = i / H;
    let j = i % H;
    let at = V_OFFSET + j * G + k;
    vShared[i] = vec4f(params[at], params[at + H], params[at + 2u * H], params[at + 3u * H]);
  }
  // dc of each item's four rows (zero after the last step).
  var cellGradients: array<vec4f, MAX_ITEMS_PER_LANE>;
  workgroupBarrier();

  for (var s = 0u; s < WINDOW; s++) {
    let t = WINDOW - 1u - s;
    let now = (t % 2u) * half;
    let staged = half - now;
    for (var slot = 0u; slot < ITEMS_PER_LANE; slot++) {
      let item = lane + slot * WORKGROUP;
      if (item < items) {
        let j = item % H;
        let q = item / H;
        // Rows past the batch repeat the last one and are not stored.
        let rows = vec4u(ROWS * q, min(ROWS * q + 1u, last), min(ROWS * q + 2u, last), min(ROWS * q + 3u, last));
        var dy = vec4f();
        if (t + 1u == WINDOW) {
          dy = vec4f(dy_top(batch, rows.x, j), dy_top(batch, rows.y, j), dy_top(batch, rows.z, j), dy_top(batch, rows.w, j));
        } else {
          for (var k = 0u; k < H; k++) {
            let v = vShared[k * H + j];
            dy += vec4f(
              dot(next_deltas(t, batch, rows.x, k, staged), v),
              dot(next_deltas(t, batch, rows.y, k, staged), v),
              dot(next_deltas(t, batch, rows.z, k, staged), v),
              dot(next_deltas(t, batch, rows.w, k, staged), v),
            );
          }
        }
        var dcPrev = vec4f();
        for (var r = 0u; r < ROWS && ROWS * q + r < batch; r++) {
          let b = ROWS * q + r;
          let at = (t * batch + b) * G + j;
          let activations = vec4f(gates[at], gates[at + H], gates[at + 2u * H], gates[at + 3u * H]);
          let cPrev = c[state_row(batchPass, t, b) * H + j];
          let cNow = c[state_row(batchPass, t + 1u, b) * H + j];
          let cell = cell_backward(activations, cPrev, cNow, dy[r], cellGradients[slot][r]);
          dcPrev[r] = cell.dcPrev;
          for (var g = 0u; g < 4u; g++) {
            delta[at + g * H] = cell.delta[g];
          }
          if (STAGE_DELTAS) {
            deltaShared[now + j * ROWS * BATCH_QUADS + b] = cell.delta;
          }
        }
        cellGradients[slot] = dcPrev;
      }
    }
    // Step t-1 reads the deltas every item wrote (from `delta` itself unless staged).
    if (!STAGE_DELTAS) {
      storageBarrier();
    }
    workgroupBarrier();
  }
  // The weight gradients read the deltas of every step.
  storageBarrier();

  // [dV; dW; db] rows k0..k0+3 of the product, unit j, four gates; the summed dimension is
  // m = t * B + b, whose inputs row is C - B + m.
  let productRows = S;
  let steps = WINDOW * batch;
  let rowStart = batchPass.capacity - batch;
  for (var item = lane; item < ((productRows + 3u) / 4u) * H; item += WORKGROUP) {
    let j = item % H;
    let k0 = (item / H) * 4u;
    // Rows past the product read the last one and are not stored.
    let k1 = min(k0 + 1u, productRows - 1u);
    let k2 = min(k0 + 2u, productRows - 1u);
    let k3 = min(k0 + 3u, productRows - 1u);
    var sum0 = vec4f();
    var sum1 = vec4f();
    var sum2 = vec4f();
    var sum3 = vec4f();
    for (var m = 0u; m < steps; m++) {
      let row = (rowStart + m) * S;
      let d = gate_deltas(m, j);
      sum0 = fma(vec4f(inputs[row + k0]), d, sum0);
      sum1 = fma(vec4f(inputs[row + k1]), d, sum1);
      sum2 = fma(vec4f(inputs[row + k2]), d, sum2);
      sum3 = fma(vec4f(inputs[row + k3]), d, sum3);
    }
    store_weight_gradients(k0, j, sum0);
    if (k0 + 1u < productRows) {
      store_weight_gradients(k0 + 1u, j, sum1);
    }
    if (k0 + 2u < productRows) {
      store_weight_gradients(k0 + 2u, j, sum2);
    }
    if (k0 + 3u < productRows) {
      store_weight_gradients(k0 + 3u, j, sum3);
    }
  }

  // The dense layer's own gradients.
  let yLast = state_row(batchPass, WINDOW, 0u);
  let deltaOut = OUT_OFFSET + batch * O;
  for (var q = lane; q < H * O; q += WORKGROUP) {
    let k = q / O;
    let o = q % O;
    var sum = 0.0;
    for (var b = 0u; b < batch; b++) {
      sum = fma(inputs[(yLast + b) * S + k], outputs[deltaOut + b * O + o], sum);
    }
    grads[DENSE_W_OFFSET + q] = sum;
  }
  for (var o = lane; o < O; o += WORKGROUP) {
    var sum = 0.0;
    for (var b = 0u; b < batch; b++) {
      sum += outputs[deltaOut + b * O + o];
    }
    grads[DENSE_B_OFFSET + o] = sum;
  }
}

/** Row k of the product [y_prev | x | 1]ᵀ delta, unit j, four gates, where the flat layout keeps it. */
fn store_weight_gradients(k: u32, j: u32, sum: vec4f) {
  let H = HIDDEN_SIZE;
  // Product rows are y_prev (H), x (I), 1; the layout's rows are w (I), v (H), b.
  var parameterRow = INPUT_SIZE + H;
  if (k < H) {
    parameterRow = INPUT_SIZE + k;
  } else if (k < H + INPUT_SIZE) {
    parameterRow = k - H;
  }
  let at = W_OFFSET + parameterRow * 4u * H + j;
  for (var g = 0u; g < 4u; g++) {
    grads[at + g * H] = sum[g];
  }
}
