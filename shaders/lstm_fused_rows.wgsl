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
// after a storage barrier a step. An item (UNITS units j, j + UNIT_STRIDE, …, their four gates, 4
// rows) keeps its invocation for all 2T steps, so c and dc stay in registers. The units of an item
// share each load of y (forward) and of the next step's deltas (backward): SwiftShader's loads cost
// tens of cycles each (docs/PERFORMANCE.md), so there eight units an item load 0.375 values per
// multiply-add of BPTT, where one unit an item loads 1.25. BPTT overwrites each step's activations in `gates`
// with that step's deltas once it has used them: the weight gradients read the deltas there.
// Admission and constants: src/backends/webgpu/fusedStep.ts. Appended: lstm_cell.wgsl, gate_rows.wgsl (an
// item's Rows: its 4 rows' pre-activations or deltas, one unit's four gates), outputs.wgsl. Workgroup z
// is the member (params.wgsl): a grid of row groups for each.
//
// Legend: K = members, N = samples, B = batch of this pass, C = workspace capacity, T = window,
//         I = input size, H = hidden size, S = H + I + 1, O = output size, P = parameter count,
//         Q = GROUP_QUADS.
// Buffers:
//   params   (K, P)            W (I, 4H), V (H, 4H), b (4H), Wd (H, O), bd (O) at their offsets
//   samples  (N, T, I)         batch row b is sample order[orderBase + b] (of the member's order)
//   order    (K, C)
//   targets  (N, O)
//   gates    (K, T, C, 4H)     activations f, i, g, o; then, WITH_GRADIENTS, the gate deltas (a
//                              member's rows t * B + b)
//   c        (K, (T+1) C, H)   cell states by params.wgsl's state_row (step 0: the zero block)
//   inputs   (K, (T+1) C, S)   [y_prev | x | 1] rows: x_t written to row t, y_t to row t+1
//   outputs  (K, outputs_block) then losses (K): outputs.wgsl; out (B, O) and delta_out (B, O)
//            written here, the loss by lstm_fused_gradients.wgsl
// Workgroup memory (ON_CHIP; one vec4 each otherwise):
//   vShared      (H, H)     vec4, forward: V[k, g*H + j] at [k * H + j]; backward: V[j, g*H + k] there
//   yShared      (2, H, Q)  vec4: y of the group's rows 4q .. 4q+3, unit k, at [half + k * Q + q]
//   deltaShared  (2, H, 4Q) vec4: delta[t, b, g*H + k] over the gates g, row b of the group, at
//                           [half + k * 4Q + b]  (STAGE_DELTAS)

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
override WORKGROUP: u32;
/** Items an invocation takes on, at most MAX_ITEMS_PER_LANE. */
override ITEMS_PER_LANE: u32;
/** Units an item takes: 1 to 8 (j + u UNIT_STRIDE for u < UNITS, those below H). */
override UNITS: u32;
/** Items a row quad: ceil(H / UNITS). */
override UNIT_STRIDE: u32;
/** Row quads a workgroup takes: workgroup w has rows 4 Q w .. 4 Q (w + 1) - 1. */
override GROUP_QUADS: u32;
/**
 * Whether an item takes two quads (8 rows, quads 2p and 2p + 1 of its group; Q even): each load of
 * the weights then serves 8 rows, not 4. Off chip only, at most MAX_ITEMS_PER_LANE / 2 items a lane
 * (the second quad's c and dc live in slot + PAIR_SLOTS). For populations on software adapters, where
 * loads cost most and the members give SwiftShader's threads enough workgroups without cutting a
 * member's batch in two (src/backends/webgpu/tuning.ts).
 */
override PAIRED: bool;
override ON_CHIP: bool;
/** Only on chip. */
override STAGE_DELTAS: bool;

const ROWS = 4u;
const MAX_UNITS = 8u;
const MAX_ITEMS_PER_LANE = 4u;
const PAIR_SLOTS = 2u;
/** Quads an item takes. */
override ITEM_QUADS: u32 = select(1u, 2u, PAIRED);

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

/** The member's params[at + g * H] (or the four gates' values of any (., 4H) row) for the four gates g. */
fn gate_values(parameter: u32) -> vec4f {
  let H = HIDDEN_SIZE;
  let at = member_params() + parameter;
  return vec4f(params[at], params[at + H], params[at + 2u * H], params[at + 3u * H]);
}

/** Where row b's four gates of unit j at step t are in `gates` (g at + g H). */
fn gate_at(t: u32, batch: u32, b: u32, j: u32) -> u32 {
  let G = 4u * HIDDEN_SIZE;
  return member_steps(batchPass, G) + (t * batch + b) * G + j;
}

/** gates[at + g * H] for the four gates g: activations, or deltas once BPTT has passed. */
fn gate_row(at: u32) -> vec4f {
  let H = HIDDEN_SIZE;
  return vec4f(gates[at], gates[at + H], gates[at + 2u * H], gates[at + 3u * H]);
}

fn sample_x(t: u32, b: u32, i: u32) -> f32 {
  return samples[(order[member_order(batchPass) + batchPass.orderBase + b] * WINDOW + t) * INPUT_SIZE + i];
}

/**
 * Where an item works: its units (the first `unitCount` of them below H; the others repeat the first,
 * loaded but not stored), the group's quad q (PAIRED: the item's first quad, half 0, or second, half
 * 1), and the batch rows of that quad (past the batch: the last).
 */
struct Item {
  units: vec4u,
  more: vec4u,
  unitCount: u32,
  q: u32,
  row0: u32,
  rows: vec4u,
}

fn item_at(group: u32, item: u32, batch: u32, half: u32) -> Item {
  let q = (item / UNIT_STRIDE) * ITEM_QUADS + half;
  let j = item % UNIT_STRIDE;
  let all = vec4u(j) + vec4u(0u, 1u, 2u, 3u) * UNIT_STRIDE;
  let real = (all < vec4u(HIDDEN_SIZE)) & (vec4u(0u, 1u, 2u, 3u) < vec4u(UNITS));
  let allMore = all + vec4u(4u * UNIT_STRIDE);
  let realMore = (allMore < vec4u(HIDDEN_SIZE)) & (vec4u(4u, 5u, 6u, 7u) < vec4u(UNITS));
  let unitCount = dot(select(vec4u(), vec4u(1u), real), vec4u(1u)) + dot(select(vec4u(), vec4u(1u), realMore), vec4u(1u));
  let row0 = ROWS * (group * GROUP_QUADS + q);
  let last = batch - 1u;
  // Clamped, row0 too: a paired item's second quad may lie wholly past the batch (its loads then read
  // the last row; nothing of it is stored).
  let rows = min(vec4u(row0) + vec4u(0u, 1u, 2u, 3u), vec4u(last));
  return Item(select(vec4u(j), all, real), select(vec4u(j), allMore, realMore), unitCount, q, row0, rows);
}

/** The rows' deltas through one unit's weights v (its four gates): that unit's dy for each row. */
fn through(deltas: Rows, v: vec4f) -> vec4f {
  return vec4f(dot(deltas.r0, v), dot(deltas.r1, v), dot(deltas.r2, v), dot(deltas.r3, v));
}

/** acc += x w, and where PAIRED other += xOther w: the item's two quads through the same weights w. */
fn add_rows(acc: ptr<function, Rows>, other: ptr<function, Rows>, x: vec4f, xOther: vec4f, w: vec4f) {
  *acc = accumulate(*acc, x, w);
  if (PAIRED) {
    *other = accumulate(*other, xOther, w);
  }
}

/** dy += the deltas through v, and where PAIRED dyOther += the second quad's. */
fn add_through(dy: ptr<function, vec4f>, dyOther: ptr<function, vec4f>, deltas: Rows, others: Rows, v: vec4f) {
  *dy += through(deltas, v);
  if (PAIRED) {
    *dyOther += through(others, v);
  }
}

/** The item's rows' x_t (input i), to the inputs rows where the weight gradients read it. */
fn store_x(t: u32, batch: u32, item: Item, i: u32, x: vec4f) {
  let S = HIDDEN_SIZE + INPUT_SIZE + 1u;
  for (var r = 0u; r < ROWS && item.row0 + r < batch; r++) {
    inputs[state_row(batchPass, t, item.row0 + r) * S + HIDDEN_SIZE + i] = x[r];
  }
}

fn item_x(t: u32, item: Item, i: u32) -> vec4f {
  let rows = item.rows;
  return vec4f(sample_x(t, rows.x, i), sample_x(t, rows.y, i), sample_x(t, rows.z, i), sample_x(t, rows.w, i));
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

/** Unit j's biases (its four gates) as every row's pre-activations before the products. */
fn bias_rows(j: u32) -> Rows {
  let bias = gate_values(BIAS_OFFSET + j);
  return Rows(bias, bias, bias, bias);
}

/** y of unit k after step t-1 (y_prev of step t) for an item's rows; on chip from half `now`. */
fn previous_y(t: u32, item: Item, k: u32, now: u32) -> vec4f {
  if (ON_CHIP) {
    return yShared[now + k * GROUP_QUADS + item.q];
  }
  let S = HIDDEN_SIZE + INPUT_SIZE + 1u;
  return vec4f(
    inputs[state_row(batchPass, t, item.rows.x) * S + k],
    inputs[state_row(batchPass, t, item.rows.y) * S + k],
    inputs[state_row(batchPass, t, item.rows.z) * S + k],
    inputs[state_row(batchPass, t, item.rows.w) * S + k],
  );
}

/** The deltas of step t+1, unit k, batch row b (local row `local` of the group); staged in half `staged`. */
fn next_deltas(t: u32, batch: u32, b: u32, local: u32, k: u32, staged: u32) -> vec4f {
  if (STAGE_DELTAS) {
    return deltaShared[staged + k * ROWS * GROUP_QUADS + local];
  }
  return gate_row(gate_at(t + 1u, batch, b, k));
}

/** What the backward and the weight gradients need of row b, unit j at step t. */
fn store_cell(t: u32, batch: u32, b: u32, j: u32, cell: CellForward) {
  let H = HIDDEN_SIZE;
  let at = gate_at(t, batch, b, j);
  for (var g = 0u; g < 4u; g++) {
    gates[at + g * H] = cell.gates[g];
  }
  let next = state_row(batchPass, t + 1u, b);
  c[next * H + j] = cell.c;
  inputs[next * (H + INPUT_SIZE + 1u) + j] = cell.y;
}

/** Step t of unit j for the item's rows from their pre-activations u: stores it, returns the new c. */
fn finish_forward(t: u32, batch: u32, item: Item, j: u32, u: Rows, cPrev: vec4f) -> vec4f {
  let cell0 = cell_forward(u.r0, cPrev.x);
  let cell1 = cell_forward(u.r1, cPrev.y);
  let cell2 = cell_forward(u.r2, cPrev.z);
  let cell3 = cell_forward(u.r3, cPrev.w);
  if (ON_CHIP) {
    let next = (1u - t % 2u) * HIDDEN_SIZE * GROUP_QUADS;
    yShared[next + j * GROUP_QUADS + item.q] = vec4f(cell0.y, cell1.y, cell2.y, cell3.y);
  }
  store_cell(t, batch, item.rows.x, j, cell0);
  if (item.row0 + 1u < batch) {
    store_cell(t, batch, item.rows.y, j, cell1);
  }
  if (item.row0 + 2u < batch) {
    store_cell(t, batch, item.rows.z, j, cell2);
  }
  if (item.row0 + 3u < batch) {
    store_cell(t, batch, item.rows.w, j, cell3);
  }
  return vec4f(cell0.c, cell1.c, cell2.c, cell3.c);
}

/**
 * BPTT at step t for unit j of the item's rows, from the gradient dy reaching y and dc reaching c: the
 * deltas over the activations (and staged where STAGE_DELTAS); returns the dc passed to step t-1.
 */
fn finish_backward(t: u32, batch: u32, item: Item, j: u32, groupRow0: u32, dy: vec4f, dc: vec4f) -> vec4f {
  let H = HIDDEN_SIZE;
  let now = (t % 2u) * H * ROWS * GROUP_QUADS;
  var dcPrev = vec4f();
  for (var r = 0u; r < ROWS && item.row0 + r < batch; r++) {
    let b = item.row0 + r;
    let at = gate_at(t, batch, b, j);
    let cPrev = c[state_row(batchPass, t, b) * H + j];
    let cNow = c[state_row(batchPass, t + 1u, b) * H + j];
    let cell = cell_backward(gate_row(at), cPrev, cNow, dy[r], dc[r]);
    dcPrev[r] = cell.dcPrev;
    for (var g = 0u; g < 4u; g++) {
      gates[at + g * H] = cell.delta[g];
    }
    if (STAGE_DELTAS) {
      deltaShared[now + j * ROWS * GROUP_QUADS + b - groupRow0] = cell.delta;
    }
  }
  return dcPrev;
}

@compute @workgroup_size(WORKGROUP)
fn fused_rows(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) groupId: vec3u) {
  member = groupId.z;
  let group = groupId.x;
  let batch = batchPass.batch;
  let H = HIDDEN_SIZE;
  let G = 4u * H;
  let S = H + INPUT_SIZE + 1u;
  let O = OUTPUT_SIZE;
  let items = GROUP_QUADS / ITEM_QUADS * UNIT_STRIDE;
  let groupRow0 = ROWS * GROUP_QUADS * group;
  let half = H * GROUP_QUADS;
  if (ON_CHIP) {
    for (var i = lane; i < H * H; i += WORKGROUP) {
      vShared[i] = gate_values(V_OFFSET + (i / H) * G + i % H);
    }
  }
  // c of each item's four rows, unit by unit (zero before the first step); later dc. Every variable
  // here has an explicit initializer: Dawn on SwiftShader does not re-zero one without, declared in a
  // loop body.
  var cells = array<array<vec4f, MAX_UNITS>, MAX_ITEMS_PER_LANE>();
  workgroupBarrier();

  for (var t = 0u; t < WINDOW; t++) {
    let now = (t % 2u) * half;
    for (var slot = 0u; slot < ITEMS_PER_LANE; slot++) {
      let index = lane + slot * WORKGROUP;
      let item = item_at(group, index, batch, 0u);
      // Where PAIRED, the item's second quad: the same units, rows 4 on (past the batch: not stored).
      let other = item_at(group, index, batch, 1u);
      // Quads wholly past the batch have nothing to do (their rows would be another quad's).
      if (index < items && item.row0 < batch) {
        let units = item.units;
        // The pre-activations of each unit: named, not an array, for the loops below are the kernel's
        // hot ones and an array indexed in a loop lives in memory on SwiftShader. UNITS is constant in
        // a pipeline, so a tuning with fewer units an item compiles the others away (and PAIRED false
        // the second quad's p0 .. p7).
        var u0 = bias_rows(units.x);
        var u1 = bias_rows(units.y);
        var u2 = bias_rows(units.z);
        var u3 = bias_rows(units.w);
        var u4 = bias_rows(item.more.x);
        var u5 = bias_rows(item.more.y);
        var u6 = bias_rows(item.more.z);
        var u7 = bias_rows(item.more.w);
        var p0 = u0;
        var p1 = u1;
        var p2 = u2;
        var p3 = u3;
        var p4 = u4;
        var p5 = u5;
        var p6 = u6;
        var p7 = u7;
        for (var i = 0u; i < INPUT_SIZE; i++) {
          let x = item_x(t, item, i);
          var xo = vec4f();
          if (PAIRED) {
            xo = item_x(t, other, i);
          }
          add_rows(&u0, &p0, x, xo, gate_values(W_OFFSET + i * G + units.x));
          if (UNITS > 1u) {
            add_rows(&u1, &p1, x, xo, gate_values(W_OFFSET + i * G + units.y));
          }
          if (UNITS > 2u) {
            add_rows(&u2, &p2, x, xo, gate_values(W_OFFSET + i * G + units.z));
            add_rows(&u3, &p3, x, xo, gate_values(W_OFFSET + i * G + units.w));
          }
          if (UNITS > 4u) {
            add_rows(&u4, &p4, x, xo, gate_values(W_OFFSET + i * G + item.more.x));
            add_rows(&u5, &p5, x, xo, gate_values(W_OFFSET + i * G + item.more.y));
            add_rows(&u6, &p6, x, xo, gate_values(W_OFFSET + i * G + item.more.z));
            add_rows(&u7, &p7, x, xo, gate_values(W_OFFSET + i * G + item.more.w));
          }
          // The weight gradients read x from the inputs rows; one item a quad puts it there.
          if (units.x == 0u) {
            store_x(t, batch, item, i, x);
            if (PAIRED) {
              store_x(t, batch, other, i, xo);
            }
          }
        }
        // y_prev is zero at the first step, so its product is skipped there.
        if (t > 0u) {
          for (var k = 0u; k < H; k++) {
            let y = previous_y(t, item, k, now);
            var yo = vec4f();
            if (PAIRED) {
              yo = previous_y(t, other, k, now);
            }
            add_rows(&u0, &p0, y, yo, forward_weights(k, units.x));
            if (UNITS > 1u) {
              add_rows(&u1, &p1, y, yo, forward_weights(k, units.y));
            }
            if (UNITS > 2u) {
              add_rows(&u2, &p2, y, yo, forward_weights(k, units.z));
              add_rows(&u3, &p3, y, yo, forward_weights(k, units.w));
            }
            if (UNITS > 4u) {
              add_rows(&u4, &p4, y, yo, forward_weights(k, item.more.x));
              add_rows(&u5, &p5, y, yo, forward_weights(k, item.more.y));
              add_rows(&u6, &p6, y, yo, forward_weights(k, item.more.z));
              add_rows(&u7, &p7, y, yo, forward_weights(k, item.more.w));
            }
          }
        }
        cells[slot][0] = finish_forward(t, batch, item, units.x, u0, cells[slot][0]);
        if (item.unitCount > 1u) {
          cells[slot][1] = finish_forward(t, batch, item, units.y, u1, cells[slot][1]);
        }
        if (item.unitCount > 2u) {
          cells[slot][2] = finish_forward(t, batch, item, units.z, u2, cells[slot][2]);
        }
        if (item.unitCount > 3u) {
          cells[slot][3] = finish_forward(t, batch, item, units.w, u3, cells[slot][3]);
        }
        if (item.unitCount > 4u) {
          cells[slot][4] = finish_forward(t, batch, item, item.more.x, u4, cells[slot][4]);
        }
        if (item.unitCount > 5u) {
          cells[slot][5] = finish_forward(t, batch, item, item.more.y, u5, cells[slot][5]);
        }
        if (item.unitCount > 6u) {
          cells[slot][6] = finish_forward(t, batch, item, item.more.z, u6, cells[slot][6]);
        }
        if (item.unitCount > 7u) {
          cells[slot][7] = finish_forward(t, batch, item, item.more.w, u7, cells[slot][7]);
        }
        if (PAIRED && other.row0 < batch) {
          let o = slot + PAIR_SLOTS;
          cells[o][0] = finish_forward(t, batch, other, units.x, p0, cells[o][0]);
          if (other.unitCount > 1u) {
            cells[o][1] = finish_forward(t, batch, other, units.y, p1, cells[o][1]);
          }
          if (other.unitCount > 2u) {
            cells[o][2] = finish_forward(t, batch, other, units.z, p2, cells[o][2]);
          }
          if (other.unitCount > 3u) {
            cells[o][3] = finish_forward(t, batch, other, units.w, p3, cells[o][3]);
          }
          if (other.unitCount > 4u) {
            cells[o][4] = finish_forward(t, batch, other, item.more.x, p4, cells[o][4]);
          }
          if (other.unitCount > 5u) {
            cells[o][5] = finish_forward(t, batch, other, item.more.y, p5, cells[o][5]);
          }
          if (other.unitCount > 6u) {
            cells[o][6] = finish_forward(t, batch, other, item.more.z, p6, cells[o][6]);
          }
          if (other.unitCount > 7u) {
            cells[o][7] = finish_forward(t, batch, other, item.more.w, p7, cells[o][7]);
          }
        }
      }
    }
    // Step t+1 reads the y that every item wrote (in the inputs rows unless on chip).
    if (!ON_CHIP) {
      storageBarrier();
    }
    workgroupBarrier();
  }

  // The dense layer on the group's rows of y_T, which step T-1 wrote to half (T % 2) on chip.
  let yLast = (WINDOW % 2u) * half;
  let outAt = member_outputs(batchPass) + OUT_OFFSET;
  let deltaOut = outAt + batch * O;
  let weights = member_params();
  let order0 = member_order(batchPass) + batchPass.orderBase;
  let lossScale = loss_scale(batchPass);
  for (var p = lane; p < ROWS * GROUP_QUADS * O; p += WORKGROUP) {
    let local = p / O;
    let b = groupRow0 + local;
    let o = p % O;
    if (b < batch) {
      var out = params[weights + DENSE_B_OFFSET + o];
      for (var k = 0u; k < H; k++) {
        var y: f32;
        if (ON_CHIP) {
          y = yShared[yLast + k * GROUP_QUADS + local / ROWS][local % ROWS];
        } else {
          y = inputs[state_row(batchPass, WINDOW, b) * S + k];
        }
        out = fma(y, params[weights + DENSE_W_OFFSET + k * O + o], out);
      }
      outputs[outAt + b * O + o] = out;
      if (WITH_LOSS || WITH_GRADIENTS) {
        outputs[deltaOut + b * O + o] = lossScale * (out - targets[order[order0 + b] * O + o]);
      }
    }
  }
  if (!WITH_GRADIENTS) {
    return;
  }

  // Backward: the items read delta_out of their rows, which other invocations wrote.
  storageBarrier();
  if (ON_CHIP) {
    for (var i = lane; i < H * H; i += WORKGROUP) {
      // [k * H + j] now holds row j of V at the gate columns of unit k.
      vShared[i] = gate_values(V_OFFSET + (i % H) * G + i / H);
    }
  }
  cells = array<array<vec4f, MAX_UNITS>, MAX_ITEMS_PER_LANE>();
  workgroupBarrier();
  let stagedHalf = H * ROWS * GROUP_QUADS;
  for (var s = 0u; s < WINDOW; s++) {
    let t = WINDOW - 1u - s;
    let now = (t % 2u) * stagedHalf;
    for (var slot = 0u; slot < ITEMS_PER_LANE; slot++) {
      let index = lane + slot * WORKGROUP;
      let item = item_at(group, index, batch, 0u);
      let other = item_at(group, index, batch, 1u);
      if (index < items && item.row0 < batch) {
        let units = item.units;
        let rows = item.rows;
        let local = rows - vec4u(groupRow0);
        let otherLocal = other.rows - vec4u(groupRow0);
        // dy of each unit for the item's rows, e0 .. e7 for the second quad's (PAIRED).
        var dy0 = vec4f();
        var dy1 = vec4f();
        var dy2 = vec4f();
        var dy3 = vec4f();
        var dy4 = vec4f();
        var dy5 = vec4f();
        var dy6 = vec4f();
        var dy7 = vec4f();
        var e0 = vec4f();
        var e1 = vec4f();
        var e2 = vec4f();
        var e3 = vec4f();
        var e4 = vec4f();
        var e5 = vec4f();
        var e6 = vec4f();
        var e7 = vec4f();
        if (t + 1u == WINDOW) {
          for (var o = 0u; o < O; o++) {
            let d = vec4f(
              outputs[deltaOut + rows.x * O + o],
              outputs[deltaOut + rows.y * O + o],
              outputs[deltaOut + rows.z * O + o],
              outputs[deltaOut + rows.w * O + o],
            );
            var dOther = vec4f();
            if (PAIRED) {
              dOther = vec4f(
                outputs[deltaOut + other.rows.x * O + o],
                outputs[deltaOut + other.rows.y * O + o],
                outputs[deltaOut + other.rows.z * O + o],
                outputs[deltaOut + other.rows.w * O + o],
              );
            }
            let w = vec4f(
              params[weights + DENSE_W_OFFSET + units.x * O + o],
              params[weights + DENSE_W_OFFSET + units.y * O + o],
              params[weights + DENSE_W_OFFSET + units.z * O + o],
              params[weights + DENSE_W_OFFSET + units.w * O + o],
            );
            dy0 = fma(d, vec4f(w.x), dy0);
            dy1 = fma(d, vec4f(w.y), dy1);
            dy2 = fma(d, vec4f(w.z), dy2);
            dy3 = fma(d, vec4f(w.w), dy3);
            let w2 = vec4f(
              params[weights + DENSE_W_OFFSET + item.more.x * O + o],
              params[weights + DENSE_W_OFFSET + item.more.y * O + o],
              params[weights + DENSE_W_OFFSET + item.more.z * O + o],
              params[weights + DENSE_W_OFFSET + item.more.w * O + o],
            );
            dy4 = fma(d, vec4f(w2.x), dy4);
            dy5 = fma(d, vec4f(w2.y), dy5);
            dy6 = fma(d, vec4f(w2.z), dy6);
            dy7 = fma(d, vec4f(w2.w), dy7);
            if (PAIRED) {
              e0 = fma(dOther, vec4f(w.x), e0);
              e1 = fma(dOther, vec4f(w.y), e1);
              e2 = fma(dOther, vec4f(w.z), e2);
              e3 = fma(dOther, vec4f(w.w), e3);
              e4 = fma(dOther, vec4f(w2.x), e4);
              e5 = fma(dOther, vec4f(w2.y), e5);
              e6 = fma(dOther, vec4f(w2.z), e6);
              e7 = fma(dOther, vec4f(w2.w), e7);
            }
          }
        } else {
          for (var k = 0u; k < H; k++) {
            let deltas = Rows(
              next_deltas(t, batch, rows.x, local.x, k, stagedHalf - now),
              next_deltas(t, batch, rows.y, local.y, k, stagedHalf - now),
              next_deltas(t, batch, rows.z, local.z, k, stagedHalf - now),
              next_deltas(t, batch, rows.w, local.w, k, stagedHalf - now),
            );
            var others = Rows();
            if (PAIRED) {
              others = Rows(
                next_deltas(t, batch, other.rows.x, otherLocal.x, k, stagedHalf - now),
                next_deltas(t, batch, other.rows.y, otherLocal.y, k, stagedHalf - now),
                next_deltas(t, batch, other.rows.z, otherLocal.z, k, stagedHalf - now),
                next_deltas(t, batch, other.rows.w, otherLocal.w, k, stagedHalf - now),
              );
            }
            add_through(&dy0, &e0, deltas, others, backward_weights(k, units.x));
            if (UNITS > 1u) {
              add_through(&dy1, &e1, deltas, others, backward_weights(k, units.y));
            }
            if (UNITS > 2u) {
              add_through(&dy2, &e2, deltas, others, backward_weights(k, units.z));
              add_through(&dy3, &e3, deltas, others, backward_weights(k, units.w));
            }
            if (UNITS > 4u) {
              add_through(&dy4, &e4, deltas, others, backward_weights(k, item.more.x));
              add_through(&dy5, &e5, deltas, others, backward_weights(k, item.more.y));
              add_through(&dy6, &e6, deltas, others, backward_weights(k, item.more.z));
              add_through(&dy7, &e7, deltas, others, backward_weights(k, item.more.w));
            }
          }
        }
        cells[slot][0] = finish_backward(t, batch, item, units.x, groupRow0, dy0, cells[slot][0]);
        if (item.unitCount > 1u) {
          cells[slot][1] = finish_backward(t, batch, item, units.y, groupRow0, dy1, cells[slot][1]);
        }
        if (item.unitCount > 2u) {
          cells[slot][2] = finish_backward(t, batch, item, units.z, groupRow0, dy2, cells[slot][2]);
        }
        if (item.unitCount > 3u) {
          cells[slot][3] = finish_backward(t, batch, item, units.w, groupRow0, dy3, cells[slot][3]);
        }
        if (item.unitCount > 4u) {
          cells[slot][4] = finish_backward(t, batch, item, item.more.x, groupRow0, dy4, cells[slot][4]);
        }
        if (item.unitCount > 5u) {
          cells[slot][5] = finish_backward(t, batch, item, item.more.y, groupRow0, dy5, cells[slot][5]);
        }
        if (item.unitCount > 6u) {
          cells[slot][6] = finish_backward(t, batch, item, item.more.z, groupRow0, dy6, cells[slot][6]);
        }
        if (item.unitCount > 7u) {
          cells[slot][7] = finish_backward(t, batch, item, item.more.w, groupRow0, dy7, cells[slot][7]);
        }
        if (PAIRED && other.row0 < batch) {
          let o = slot + PAIR_SLOTS;
          cells[o][0] = finish_backward(t, batch, other, units.x, groupRow0, e0, cells[o][0]);
          if (other.unitCount > 1u) {
            cells[o][1] = finish_backward(t, batch, other, units.y, groupRow0, e1, cells[o][1]);
          }
          if (other.unitCount > 2u) {
            cells[o][2] = finish_backward(t, batch, other, units.z, groupRow0, e2, cells[o][2]);
          }
          if (other.unitCount > 3u) {
            cells[o][3] = finish_backward(t, batch, other, units.w, groupRow0, e3, cells[o][3]);
          }
          if (other.unitCount > 4u) {
            cells[o][4] = finish_backward(t, batch, other, item.more.x, groupRow0, e4, cells[o][4]);
          }
          if (other.unitCount > 5u) {
            cells[o][5] = finish_backward(t, batch, other, item.more.y, groupRow0, e5, cells[o][5]);
          }
          if (other.unitCount > 6u) {
            cells[o][6] = finish_backward(t, batch, other, item.more.z, groupRow0, e6, cells[o][6]);
          }
          if (other.unitCount > 7u) {
            cells[o][7] = finish_backward(t, batch, other, item.more.w, groupRow0, e7, cells[o][7]);
          }
        }
      }
    }
    // Step t-1 reads the deltas every item wrote (in `gates` unless staged).
    if (!STAGE_DELTAS) {
      storageBarrier();
    }
    workgroupBarrier();
  }
}
