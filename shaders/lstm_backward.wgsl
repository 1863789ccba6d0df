// Backpropagation through time of one LSTM layer, t = T-1 down to 0:
//   dy = dyAbove[t] + delta[t+1] Vᵀ
//   r = dc + dy * o * (1 - tanh(c)^2)
//   delta_f = r c_prev f (1-f);  delta_i = r g i (1-i);  delta_g = r i (1-g^2);  delta_o = dy tanh(c) o (1-o)
//   dc = r * f   (for step t-1)
// The weight gradients and dx follow as batched products over all steps (weight_gradients,
// input_gradients). Two schedules share the per-item code, as in lstm_forward.wgsl: `step_backward`
// (one time step a dispatch) and `persistent_backward` (all T steps in one workgroup, a storage barrier
// between steps).
// An item is 4 hidden units for ROWS = 4 batch rows: the inner loop over the 4H deltas does 16
// multiply-adds for 8 loads (V's rows are contiguous, so dy_j = delta · V[j, :]).
//
// Workgroup z is the member (params.wgsl): the grids below are each member's.
//
// Legend: K = members, B = batch of this pass, C = workspace capacity, T = window, H = hidden size,
//         P = parameter count.
// Buffers:
//   params   (K, P)            V (H, 4H) at V_OFFSET
//   gates    (K, T, C, 4H)     activations f, i, g, o (a member's rows t * B + b)
//   c        (K, (T+1) C, H)   cell states, rows by params.wgsl's state_row (step 0: the zero block)
//   dyAbove  (K, C, H)         FROM_DENSE: the dense layer's gradient, at the last step only
//            (K, T, C, H)      otherwise: the layer above's input gradient at every step
//   delta    (K, T, C, 4H)     gate deltas, written
//   dc       (K, C, H)         running cell gradient (taken as zero at t = T-1); each cell is one item's

override HIDDEN_SIZE: u32;
override V_OFFSET: u32;
override FROM_DENSE: bool;
override STEP_WORKGROUP: u32 = 64;
override PERSISTENT_WORKGROUP: u32 = 64;

const ROWS = 4u;
const UNITS = 4u;

@group(0) @binding(0) var<storage, read> params: array<f32>;
@group(0) @binding(1) var<storage, read> gates: array<f32>;
@group(0) @binding(2) var<storage, read> c: array<f32>;
@group(0) @binding(3) var<storage, read> dyAbove: array<f32>;
@group(0) @binding(4) var<storage, read_write> delta: array<f32>;
@group(0) @binding(5) var<storage, read_write> dc: array<f32>;
@group(0) @binding(6) var<uniform> batchPass: PassParams;
@group(0) @binding(7) var<uniform> step: StepParams;

fn unit_groups() -> u32 {
  return (HIDDEN_SIZE + UNITS - 1u) / UNITS;
}

/** Where row b's four gates of unit j at step t are in `gates` and `delta` (g at + g H). */
fn delta_at(t: u32, batch: u32, b: u32, j: u32) -> u32 {
  let G = 4u * HIDDEN_SIZE;
  return member_steps(batchPass, G) + (t * batch + b) * G + j;
}

fn item_count(batch: u32) -> u32 {
  return ((batch + ROWS - 1u) / ROWS) * unit_groups();
}

/** dyNext: the gradient at y[t+1] of unit j through the next step's gates (zero at the last step). */
fn backward_cell(t: u32, batch: u32, b: u32, j: u32, dyNext: f32) {
  let H = HIDDEN_SIZE;
  let lastStep = t + 1u == WINDOW;
  var dy = dyNext;
  if (FROM_DENSE) {
    if (lastStep) {
      dy += dyAbove[member_rows(batchPass, H) + b * H + j];
    }
  } else {
    dy += dyAbove[member_steps(batchPass, H) + (t * batch + b) * H + j];
  }
  let dcAt = member_rows(batchPass, H) + b * H + j;
  var dcNext = 0.0;
  if (!lastStep) {
    dcNext = dc[dcAt];
  }
  let at = delta_at(t, batch, b, j);
  let activations = vec4f(gates[at], gates[at + H], gates[at + 2u * H], gates[at + 3u * H]);
  let cPrev = c[state_row(batchPass, t, b) * H + j];
  let cell = cell_backward(activations, cPrev, c[state_row(batchPass, t + 1u, b) * H + j], dy, dcNext);
  delta[at] = cell.delta.x;
  delta[at + H] = cell.delta.y;
  delta[at + 2u * H] = cell.delta.z;
  delta[at + 3u * H] = cell.delta.w;
  dc[dcAt] = cell.dcPrev;
}

/** The cells of row b, units j0..j0+3 (those below H), with their recurrent dy in dyNext's components. */
fn backward_row(t: u32, batch: u32, b: u32, j0: u32, dyNext: vec4f) {
  backward_cell(t, batch, b, j0, dyNext.x);
  if (j0 + 1u < HIDDEN_SIZE) {
    backward_cell(t, batch, b, j0 + 1u, dyNext.y);
  }
  if (j0 + 2u < HIDDEN_SIZE) {
    backward_cell(t, batch, b, j0 + 2u, dyNext.z);
  }
  if (j0 + 3u < HIDDEN_SIZE) {
    backward_cell(t, batch, b, j0 + 3u, dyNext.w);
  }
}

fn backward_item(t: u32, batch: u32, item: u32) {
  let H = HIDDEN_SIZE;
  let G = 4u * H;
  let j0 = (item % unit_groups()) * UNITS;
  let row0 = (item / unit_groups()) * ROWS;
  var d0 = vec4f();
  var d1 = vec4f();
  var d2 = vec4f();
  var d3 = vec4f();
  if (t + 1u < WINDOW) {
    // Rows and units past the edge repeat the last one and are not stored.
    let last = batch - 1u;
    let n0 = delta_at(t + 1u, batch, min(row0, last), 0u);
    let n1 = delta_at(t + 1u, batch, min(row0 + 1u, last), 0u);
    let n2 = delta_at(t + 1u, batch, min(row0 + 2u, last), 0u);
    let n3 = delta_at(t + 1u, batch, min(row0 + 3u, last), 0u);
    let vAt = member_params() + V_OFFSET;
    let v0 = vAt + j0 * G;
    let v1 = vAt + min(j0 + 1u, H - 1u) * G;
    let v2 = vAt + min(j0 + 2u, H - 1u) * G;
    let v3 = vAt + min(j0 + 3u, H - 1u) * G;
    for (var k = 0u; k < G; k++) {
      let v = vec4f(params[v0 + k], params[v1 + k], params[v2 + k], params[v3 + k]);
      d0 = fma(vec4f(delta[n0 + k]), v, d0);
      d1 = fma(vec4f(delta[n1 + k]), v, d1);
      d2 = fma(vec4f(delta[n2 + k]), v, d2);
      d3 = fma(vec4f(delta[n3 + k]), v, d3);
    }
  }
  backward_row(t, batch, row0, j0, d0);
  if (row0 + 1u < batch) {
    backward_row(t, batch, row0 + 1u, j0, d1);
  }
  if (row0 + 2u < batch) {
    backward_row(t, batch, row0 + 2u, j0, d2);
  }
  if (row0 + 3u < batch) {
    backward_row(t, batch, row0 + 3u, j0, d3);
  }
}

@compute @workgroup_size(STEP_WORKGROUP)
fn step_backward(
  @builtin(global_invocation_id) id: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(workgroup_id) group: vec3u,
) {
  member = group.z;
  let batch = batchPass.batch;
  // The grid is 2-D when the items need more than maxComputeWorkgroupsPerDimension workgroups.
  let item = id.y * groups.x * STEP_WORKGROUP + id.x;
  if (item < item_count(batch)) {
    backward_item(step.index, batch, item);
  }
}

@compute @workgroup_size(PERSISTENT_WORKGROUP)
fn persistent_backward(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) group: vec3u) {
  member = group.z;
  let batch = batchPass.batch;
  let items = item_count(batch);
  for (var s = 0u; s < WINDOW; s++) {
    for (var item = lane; item < items; item += PERSISTENT_WORKGROUP) {
      backward_item(WINDOW - 1u - s, batch, item);
    }
    // The next (earlier) step reads the deltas other invocations wrote.
    storageBarrier();
  }
}
