// A one-layer model's whole forward pass and, WITH_GRADIENTS, its whole backward pass through time, in
// one dispatch: batch rows never meet until the weight gradients sum over them
// (lstm_fused_gradients.wgsl), so each workgroup takes 4 GROUP_QUADS rows through everything:
//   forward   u = x_t W + b + y[t] V, the cell as lstm_forward.wgsl, all T steps;  out = y_T Wd + bd
//             delta_out = k (out - target)  (WITH_LOSS or WITH_GRADIENTS; k as dense.wgsl's)
//   backward  dy = delta_out Wdᵀ (last step) + delta[t+1] Vᵀ;  the cell's backward as lstm_backward.wgsl
// for small models, where the stepwise and persistent schedules' dispatches cost more than their
// arithmetic. Where ON_CHIP (GPUs), V lives in workgroup memory (staged for the forward, restaged
// transposed for the backward, so consecutive invocations read consecutive vec4s both times), y too
// (double-buffered: one barrier a step), and the deltas of step t+1 where STAGE_DELTAS; otherwise
// (SwiftShader, where a read of workgroup memory costs several of storage) all are read from storage,
// after a storage barrier a step. An invocation takes UNITS_PER_LANE units (lane, lane + WORKGROUP,
// …: consecutive invocations, consecutive units) of each of the group's row quads, all four gates, for
// all 2T steps: c and dc stay in registers, and each y (or delta) it loads serves all its units (4
// rows x UNITS_PER_LANE units of multiply-adds a load). BPTT overwrites each step's activations in
// `gates` with that step's deltas once it has used them: the weight gradients read the deltas there.
// Admission and constants: src/backends/webgpu/fusedStep.ts. Appended: lstm_cell.wgsl.
//
// Legend: N = samples, B = batch of this pass, C = workspace capacity, T = window, I = input size,
//         H = hidden size, S = H + I + 1, O = output size, P = parameter count, Q = GROUP_QUADS.
// Buffers:
//   params   (P)            W (I, 4H), V (H, 4H), b (4H), Wd (H, O), bd (O) at their offsets
//   samples  (N, T, I)      batch row b is sample order[orderBase + b]
//   order    (orderBase + B)
//   targets  (N, O)
//   gates    (T, B, 4H)     activations f, i, g, o; then, WITH_GRADIENTS, the gate deltas
//   c        ((T+1) C, H)   cell states by params.wgsl's state_row (step 0: the zero block)
//   inputs   ((T+1) C, S)   [y_prev | x | 1] rows: x_t written to row t, y_t to row t+1
//   outputs  [loss, 3 unused, out (B, O), delta_out (B, O)]   as dense.wgsl's; the loss is
//            lstm_fused_gradients.wgsl's
// Workgroup memory (ON_CHIP; one vec4 each otherwise):
//   vShared      (H, H)     vec4, forward: V[k, g*H + j] at [k * H + j]; backward: V[j, g*H + k] there
//   yShared      (2, H, Q)  vec4: y of the group's rows 4q .. 4q+3, unit k, at [half + k * Q + q]
//   deltaShared  (2, H, 4Q) vec4: delta[t, b, g*H + k] over the gates g, row b of the group, at
//                           [half + k * 4Q + b]  (STAGE_DELTAS)

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
/** Units an invocation takes of each row quad: GROUP_QUADS x UNITS_PER_LANE at most MAX_ITEMS_PER_LANE. */
override UNITS_PER_LANE: u32;
/** Row quads a workgroup takes: workgroup w has rows 4 Q w .. 4 Q (w + 1) - 1. */
override GROUP_QUADS: u32;
override ON_CHIP: bool;
/** Only on chip. */
override STAGE_DELTAS: bool;

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

var<workgroup> vShared: array<vec4f, select(1u, HIDDEN_SIZE * HIDDEN_SIZE, ON_CHIP)>;
var<workgroup> yShared: array<vec4f, select(1u, 2u * HIDDEN_SIZE * GROUP_QUADS, ON_CHIP)>;
var<workgroup> deltaShared: array<vec4f, select(1u, 2u * HIDDEN_SIZE * ROWS * GROUP_QUADS, STAGE_DELTAS)>;

/** params[at + g * H] (or the four gates' values of any (., 4H) row) for the four gates g. */
fn gate_values(at: u32) -> vec4f {
  let H = HIDDEN_SIZE;
  return vec4f(params[at], params[at + H], params[at + 2u * H], params[at + 3u * H]);
}

/** gates[at + g * H] for the four gates g: activations, or deltas once BPTT has passed. */
fn gate_row(at: u32) -> vec4f {
  let H = HIDDEN_SIZE;
  return vec4f(gates[at], gates[at + H], gates[at + 2u * H], gates[at + 3u * H]);
}

fn sample_x(t: u32, b: u32, i: u32) -> f32 {
  return samples[(order[batchPass.orderBase + b] * WINDOW + t) * INPUT_SIZE + i];
}

/** Batch rows of quad q of the group (rows past the batch repeat the last one, and are not stored). */
fn quad_rows(group: u32, q: u32, batch: u32) -> vec4u {
  let row0 = ROWS * (group * GROUP_QUADS + q);
  let last = batch - 1u;
  return vec4u(row0, min(row0 + 1u, last), min(row0 + 2u, last), min(row0 + 3u, last));
}

/** The s-th unit of an invocation (past H: the last unit, read but not stored). */
fn lane_unit(lane: u32, s: u32) -> u32 {
  return min(lane + s * WORKGROUP, HIDDEN_SIZE - 1u);
}

/** V[k, g*H + j] for the four gates g, in the forward's order. */
fn forward_weights(k: u32, j: u32) -> vec4f {
  if (ON_CHIP) {
    return vShared[k * HIDDEN_SIZE + j];
  }
  return gate_values(V_OFFSET + k * 4u * HIDDEN_SIZE + j);
}

/** V[j, g*H + k] for the four gates g: unit j's weights to unit k, in the backward's order. */
fn backward_weights(k: u32, j: u32) -> vec4f {
  if (ON_CHIP) {
    return vShared[k * HIDDEN_SIZE + j];
  }
  return gate_values(V_OFFSET + j * 4u * HIDDEN_SIZE + k);
}

/** y of unit k after step t-1 (y_prev of step t) for quad q's rows; on chip from half `now`. */
fn previous_y(t: u32, rows: vec4u, q: u32, k: u32, now: u32) -> vec4f {
  if (ON_CHIP) {
    return yShared[now + k * GROUP_QUADS + q];
  }
  let S = HIDDEN_SIZE + INPUT_SIZE + 1u;
  return vec4f(
    inputs[state_row(batchPass, t, rows.x) * S + k],
    inputs[state_row(batchPass, t, rows.y) * S + k],
    inputs[state_row(batchPass, t, rows.z) * S + k],
    inputs[state_row(batchPass, t, rows.w) * S + k],
  );
}

/** The deltas of step t+1, unit k, batch row b (local row `local` of the group); staged in half `staged`. */
fn next_deltas(t: u32, batch: u32, b: u32, local: u32, k: u32, staged: u32) -> vec4f {
  if (STAGE_DELTAS) {
    return deltaShared[staged + k * ROWS * GROUP_QUADS + local];
  }
  return gate_row(((t + 1u) * batch + b) * 4u * HIDDEN_SIZE + k);
}

/** What the backward and the weight gradients need of row b, unit j at step t. */
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
fn fused_rows(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) groupId: vec3u) {
  let group = groupId.x;
  let batch = batchPass.batch;
  let H = HIDDEN_SIZE;
  let G = 4u * H;
  let S = H + INPUT_SIZE + 1u;
  let O = OUTPUT_SIZE;
  let groupRow0 = ROWS * GROUP_QUADS * group;
  let half = H * GROUP_QUADS;
  if (ON_CHIP) {
    for (var i = lane; i < H * H; i += WORKGROUP) {
      vShared[i] = gate_values(V_OFFSET + (i / H) * G + i % H);
    }
  }
  // [q * UNITS_PER_LANE + s]: c (forward), then dc (backward), of unit s of quad q's four rows.
  var cells = array<vec4f, MAX_ITEMS_PER_LANE>();
  workgroupBarrier();

  for (var t = 0u; t < WINDOW; t++) {
    let now = (t % 2u) * half;
    for (var q = 0u; q < GROUP_QUADS; q++) {
      let rows = quad_rows(group, q, batch);
      // Quads wholly past the batch have nothing to do (their rows would be another quad's).
      if (rows.x < batch) {
        // u[4 s + r]: the four pre-activations of unit s, row r.
        var u = array<vec4f, 4u * MAX_ITEMS_PER_LANE>();
        for (var s = 0u; s < UNITS_PER_LANE; s++) {
          let bias = gate_values(BIAS_OFFSET + lane_unit(lane, s));
          for (var r = 0u; r < ROWS; r++) {
            u[4u * s + r] = bias;
          }
        }
        for (var i = 0u; i < INPUT_SIZE; i++) {
          let x = vec4f(sample_x(t, rows.x, i), sample_x(t, rows.y, i), sample_x(t, rows.z, i), sample_x(t, rows.w, i));
          for (var s = 0u; s < UNITS_PER_LANE; s++) {
            let w = gate_values(W_OFFSET + i * G + lane_unit(lane, s));
            for (var r = 0u; r < ROWS; r++) {
              u[4u * s + r] = fma(vec4f(x[r]), w, u[4u * s + r]);
            }
          }
          // The weight gradients read x from the inputs rows; lane 0 puts it there.
          if (lane == 0u) {
            for (var r = 0u; r < ROWS && rows.x + r < batch; r++) {
              inputs[state_row(batchPass, t, rows.x + r) * S + H + i] = x[r];
            }
          }
        }
        // y_prev is zero at the first step, so its product is skipped there.
        if (t > 0u) {
          for (var k = 0u; k < H; k++) {
            let y = previous_y(t, rows, q, k, now);
            for (var s = 0u; s < UNITS_PER_LANE; s++) {
              let v = forward_weights(k, lane_unit(lane, s));
              for (var r = 0u; r < ROWS; r++) {
                u[4u * s + r] = fma(vec4f(y[r]), v, u[4u * s + r]);
              }
            }
          }
        }
        for (var s = 0u; s < UNITS_PER_LANE; s++) {
          let j = lane + s * WORKGROUP;
          if (j < H) {
            let slot = q * UNITS_PER_LANE + s;
            var y = vec4f();
            var cNext = vec4f();
            for (var r = 0u; r < ROWS; r++) {
              let cell = cell_forward(u[4u * s + r], cells[slot][r]);
              cNext[r] = cell.c;
              y[r] = cell.y;
              if (rows.x + r < batch) {
                store_cell(t, batch, rows.x + r, j, cell);
              }
            }
            cells[slot] = cNext;
            if (ON_CHIP) {
              yShared[half - now + j * GROUP_QUADS + q] = y;
            }
          }
        }
      }
    }
    // Step t+1 reads the y that every invocation wrote (in the inputs rows unless on chip).
    if (!ON_CHIP) {
      storageBarrier();
    }
    workgroupBarrier();
  }

  // The dense layer on the group's rows of y_T, which step T-1 wrote to half (T % 2) on chip.
  let yLast = (WINDOW % 2u) * half;
  let deltaOut = OUT_OFFSET + batch * O;
  let lossScale = select(1.0, 2.0 / f32(batch * O), MEAN_LOSS);
  for (var p = lane; p < ROWS * GROUP_QUADS * O; p += WORKGROUP) {
    let local = p / O;
    let b = groupRow0 + local;
    let o = p % O;
    if (b < batch) {
      var out = params[DENSE_B_OFFSET + o];
      for (var k = 0u; k < H; k++) {
        var y: f32;
        if (ON_CHIP) {
          y = yShared[yLast + k * GROUP_QUADS + local / ROWS][local % ROWS];
        } else {
          y = inputs[state_row(batchPass, WINDOW, b) * S + k];
        }
        out = fma(y, params[DENSE_W_OFFSET + k * O + o], out);
      }
      outputs[OUT_OFFSET + b * O + o] = out;
      if (WITH_LOSS || WITH_GRADIENTS) {
        outputs[deltaOut + b * O + o] = lossScale * (out - targets[order[batchPass.orderBase + b] * O + o]);
      }
    }
  }
  if (!WITH_GRADIENTS) {
    return;
  }

  // Backward: the invocations read delta_out of their rows, which others wrote.
  storageBarrier();
  if (ON_CHIP) {
    for (var i = lane; i < H * H; i += WORKGROUP) {
      // [k * H + j] now holds row j of V at the gate columns of unit k.
      vShared[i] = gate_values(V_OFFSET + (i % H) * G + i / H);
    }
  }
  for (var slot = 0u; slot < MAX_ITEMS_PER_LANE; slot++) {
    cells[slot] = vec4f();
  }
  workgroupBarrier();
  let stagedHalf = H * ROWS * GROUP_QUADS;
  for (var back = 0u; back < WINDOW; back++) {
    let t = WINDOW - 1u - back;
    let now = (t % 2u) * stagedHalf;
    let staged = stagedHalf - now;
    for (var q = 0u; q < GROUP_QUADS; q++) {
      let rows = quad_rows(group, q, batch);
      if (rows.x < batch) {
        let local = rows - vec4u(groupRow0);
        // dy[s]: the four rows' gradient at y of unit s. (Initialized explicitly: Dawn on SwiftShader
        // does not re-zero an uninitialized array declared in a loop body at each iteration.)
        var dy = array<vec4f, MAX_ITEMS_PER_LANE>();
        if (t + 1u == WINDOW) {
          for (var o = 0u; o < O; o++) {
            let d = vec4f(
              outputs[deltaOut + rows.x * O + o],
              outputs[deltaOut + rows.y * O + o],
              outputs[deltaOut + rows.z * O + o],
              outputs[deltaOut + rows.w * O + o],
            );
            for (var s = 0u; s < UNITS_PER_LANE; s++) {
              dy[s] = fma(d, vec4f(params[DENSE_W_OFFSET + lane_unit(lane, s) * O + o]), dy[s]);
            }
          }
        } else {
          for (var k = 0u; k < H; k++) {
            let d0 = next_deltas(t, batch, rows.x, local.x, k, staged);
            let d1 = next_deltas(t, batch, rows.y, local.y, k, staged);
            let d2 = next_deltas(t, batch, rows.z, local.z, k, staged);
            let d3 = next_deltas(t, batch, rows.w, local.w, k, staged);
            for (var s = 0u; s < UNITS_PER_LANE; s++) {
              let v = backward_weights(k, lane_unit(lane, s));
              dy[s] += vec4f(dot(d0, v), dot(d1, v), dot(d2, v), dot(d3, v));
            }
          }
        }
        for (var s = 0u; s < UNITS_PER_LANE; s++) {
          let j = lane + s * WORKGROUP;
          if (j < H) {
            let slot = q * UNITS_PER_LANE + s;
            var dcPrev = vec4f();
            for (var r = 0u; r < ROWS && rows.x + r < batch; r++) {
              let b = rows.x + r;
              let at = (t * batch + b) * G + j;
              let cPrev = c[state_row(batchPass, t, b) * H + j];
              let cNow = c[state_row(batchPass, t + 1u, b) * H + j];
              let cell = cell_backward(gate_row(at), cPrev, cNow, dy[s][r], cells[slot][r]);
              dcPrev[r] = cell.dcPrev;
              for (var g = 0u; g < 4u; g++) {
                gates[at + g * H] = cell.delta[g];
              }
              if (STAGE_DELTAS) {
                deltaShared[now + j * ROWS * GROUP_QUADS + b - groupRow0] = cell.delta;
              }
            }
            cells[slot] = dcPrev;
          }
        }
      }
    }
    // Step t-1 reads the deltas every invocation wrote (in `gates` unless staged).
    if (!STAGE_DELTAS) {
      storageBarrier();
    }
    workgroupBarrier();
  }
}
