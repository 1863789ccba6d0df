// The whole forward pass of a one-layer model in one workgroup, one dispatch: the input projection,
// all T steps of the recurrence, the dense layer and the loss, for small models, where the stepwise
// and persistent schedules' dispatches cost more than their arithmetic:
//   u = x_t W + b + y[t] V;  the cell as lstm_forward.wgsl;  out = y_T Wd + bd
//   delta = k (out - target);  loss = 0.5 k Σ (out - target)^2            (as dense.wgsl)
// y lives in workgroup memory, double-buffered (step t reads one half and writes the other: one barrier
// a step), V too (staged once, read T times), and each item's c in registers: an item stays with its
// invocation for all T steps. Activations, c, x and y go to the workspace as the stepwise kernels
// write them, for lstm_fused_backward.wgsl.
// An item is one hidden unit j, all four gates, for ROWS = 4 batch rows; invocation `lane` takes items
// lane, lane + WORKGROUP, … (ITEMS_PER_LANE of them). One workgroup; admission and constants:
// src/backends/webgpu/fusedStep.ts. Appended: lstm_cell.wgsl.
//
// Legend: N = samples, B = batch of this pass, C = workspace capacity, T = window, I = input size,
//         H = hidden size, S = H + I + 1, O = output size, P = parameter count, Q = BATCH_QUADS.
// Buffers:
//   params   (P)            W (I, 4H), V (H, 4H), b (4H), Wd (H, O), bd (O) at their offsets
//   samples  (N, T, I)      batch row b is sample order[orderBase + b]
//   order    (orderBase + B)
//   targets  (N, O)
//   gates    (T, B, 4H)     activations f, i, g, o, written
//   c        ((T+1) C, H)   cell states by params.wgsl's state_row (step 0: the zero block)
//   inputs   ((T+1) C, S)   [y_prev | x | 1] rows: x_t written to row t, y_t to row t+1
//   outputs  [loss, 3 unused, out (B, O), delta (B, O)]   as dense.wgsl
// Workgroup memory:
//   vShared  (H, H)     vec4: V[k, g*H + j] for the four gates g, at [k * H + j]
//   yShared  (2, H, Q)  vec4: y of rows 4q .. 4q+3, unit k, at [half + k * Q + q]

override WINDOW: u32;
override INPUT_SIZE: u32;
override HIDDEN_SIZE: u32;
override OUTPUT_SIZE: u32;
override W_OFFSET: u32;
override V_OFFSET: u32;
override BIAS_OFFSET: u32;
override DENSE_W_OFFSET: u32;
override DENSE_B_OFFSET: u32;
override WITH_LOSS: bool;
override WITH_GRADIENTS: bool;
override MEAN_LOSS: bool;
override WORKGROUP: u32;
/** Items an invocation takes on, at most MAX_ITEMS_PER_LANE. */
override ITEMS_PER_LANE: u32;
/** Row quads of the pass's batch, ceil(B / 4): sizes yShared. */
override BATCH_QUADS: u32;

const ROWS = 4u;
const MAX_ITEMS_PER_LANE = 4u;
const OUT_OFFSET = 4u;

@group(0) @binding(0) var<storage, read> params: array<f32>;
@group(0) @binding(1) var<storage, read> samples: array<f32>;
@group(0) @binding(2) var<storage, read> order: array<u32>;
@group(0) @binding(3) var<storage, read> targets: array<f32>;
@group(0) @binding(4) var<storage, read_write> gates: array<f32>;
@group(0) @binding(5) var<storage, read_write> c: array<f32>;
@group(0) @binding(6) var<storage, read_write> inputs: array<f32>;
@group(0) @binding(7) var<storage, read_write> outputs: array<f32>;
@group(0) @binding(8) var<uniform> batchPass: PassParams;

var<workgroup> vShared: array<vec4f, HIDDEN_SIZE * HIDDEN_SIZE>;
var<workgroup> yShared: array<vec4f, 2u * HIDDEN_SIZE * BATCH_QUADS>;

/** params[at + g * H] for the four gates g. */
fn gate_values(at: u32) -> vec4f {
  let H = HIDDEN_SIZE;
  return vec4f(params[at], params[at + H], params[at + 2u * H], params[at + 3u * H]);
}

fn sample_x(t: u32, b: u32, i: u32) -> f32 {
  return samples[(order[batchPass.orderBase + b] * WINDOW + t) * INPUT_SIZE + i];
}

fn target_of(b: u32, o: u32) -> f32 {
  return targets[order[batchPass.orderBase + b] * OUTPUT_SIZE + o];
}

/** What the backward needs of row b, unit j at step t: the activations, c and y. */
fn store_cell(t: u32, batch: u32, b: u32, j: u32, cell: CellForward) {
  let H = HIDDEN_SIZE;
  let at = (t * batch + b) * 4u * H + j;
  for (var g = 0u; g < 4u; g++) {
    gates[at + g * H] = cell.gates[g];
  }
  let next = state_row(batchPass, t + 1u, b);
  c[next * H + j] = cell.c;
  inputs[next * (H + INPUT_SIZE + 1u) + j] = cell.y;
}

@compute @workgroup_size(WORKGROUP)
fn fused_forward(@builtin(local_invocation_index) lane: u32) {
  let batch = batchPass.batch;
  let H = HIDDEN_SIZE;
  let G = 4u * H;
  let S = H + INPUT_SIZE + 1u;
  let items = ((batch + ROWS - 1u) / ROWS) * H;
  let last = batch - 1u;
  let half = H * BATCH_QUADS;
  for (var i = lane; i < H * H; i += WORKGROUP) {
    vShared[i] = gate_values(V_OFFSET + (i / H) * G + i % H);
  }
  // c of each item's four rows (zero before the first step).
  var cells: array<vec4f, MAX_ITEMS_PER_LANE>;
  workgroupBarrier();

  for (var t = 0u; t < WINDOW; t++) {
    let now = (t % 2u) * half;
    let next = half - now;
    for (var s = 0u; s < ITEMS_PER_LANE; s++) {
      let item = lane + s * WORKGROUP;
      if (item < items) {
        let j = item % H;
        let q = item / H;
        // Rows past the batch repeat the last one and are not stored.
        let rows = vec4u(ROWS * q, min(ROWS * q + 1u, last), min(ROWS * q + 2u, last), min(ROWS * q + 3u, last));
        let bias = gate_values(BIAS_OFFSET + j);
        var u0 = bias;
        var u1 = bias;
        var u2 = bias;
        var u3 = bias;
        for (var i = 0u; i < INPUT_SIZE; i++) {
          let w = gate_values(W_OFFSET + i * G + j);
          let x = vec4f(sample_x(t, rows.x, i), sample_x(t, rows.y, i), sample_x(t, rows.z, i), sample_x(t, rows.w, i));
          u0 = fma(vec4f(x.x), w, u0);
          u1 = fma(vec4f(x.y), w, u1);
          u2 = fma(vec4f(x.z), w, u2);
          u3 = fma(vec4f(x.w), w, u3);
          // The weight gradients read x from the inputs rows; one item a row quad puts it there.
          if (j == 0u) {
            for (var r = 0u; r < ROWS && ROWS * q + r < batch; r++) {
              inputs[state_row(batchPass, t, ROWS * q + r) * S + H + i] = x[r];
            }
          }
        }
        // y_prev is zero at the first step, so its product is skipped there.
        if (t > 0u) {
          for (var k = 0u; k < H; k++) {
            let y = yShared[now + k * BATCH_QUADS + q];
            let v = vShared[k * H + j];
            u0 = fma(vec4f(y.x), v, u0);
            u1 = fma(vec4f(y.y), v, u1);
            u2 = fma(vec4f(y.z), v, u2);
            u3 = fma(vec4f(y.w), v, u3);
          }
        }
        let cPrev = cells[s];
        let cell0 = cell_forward(u0, cPrev.x);
        let cell1 = cell_forward(u1, cPrev.y);
        let cell2 = cell_forward(u2, cPrev.z);
        let cell3 = cell_forward(u3, cPrev.w);
        cells[s] = vec4f(cell0.c, cell1.c, cell2.c, cell3.c);
        yShared[next + j * BATCH_QUADS + q] = vec4f(cell0.y, cell1.y, cell2.y, cell3.y);
        store_cell(t, batch, rows.x, j, cell0);
        if (ROWS * q + 1u < batch) {
          store_cell(t, batch, rows.y, j, cell1);
        }
        if (ROWS * q + 2u < batch) {
          store_cell(t, batch, rows.z, j, cell2);
        }
        if (ROWS * q + 3u < batch) {
          store_cell(t, batch, rows.w, j, cell3);
        }
      }
    }
    // Step t+1 reads the y that every item wrote.
    workgroupBarrier();
  }

  // The dense layer on y_T, which step T-1 wrote to half (T % 2).
  let yLast = (WINDOW % 2u) * half;
  let O = OUTPUT_SIZE;
  let deltaAt = OUT_OFFSET + batch * O;
  let lossScale = select(1.0, 2.0 / f32(batch * O), MEAN_LOSS);
  for (var p = lane; p < batch * O; p += WORKGROUP) {
    let b = p / O;
    let o = p % O;
    var out = params[DENSE_B_OFFSET + o];
    for (var k = 0u; k < H; k++) {
      out = fma(yShared[yLast + k * BATCH_QUADS + b / ROWS][b % ROWS], params[DENSE_W_OFFSET + k * O + o], out);
    }
    outputs[OUT_OFFSET + p] = out;
    if (WITH_LOSS || WITH_GRADIENTS) {
      outputs[deltaAt + p] = lossScale * (out - target_of(b, o));
    }
  }
  if (WITH_LOSS) {
    // Lane 0 adds up the outputs the other invocations wrote.
    storageBarrier();
    if (lane == 0u) {
      var sum = 0.0;
      for (var p = 0u; p < batch * O; p++) {
        let residual = outputs[OUT_OFFSET + p] - target_of(p / O, p % O);
        sum = fma(residual, residual, sum);
      }
      outputs[0] = 0.5 * lossScale * sum;
    }
  }
}
