// Forward recurrence of one LSTM layer, after input_projection has put x_t W + b in `gates`:
//   u = gates[t] + y[t] V
//   f, i, o = sigmoid(u_f, u_i, u_o);  g = tanh(u_g)
//   c[t+1] = f * c[t] + i * g;  y[t+1] = o * tanh(c[t+1]);  gates[t] = f, i, g, o (kept for BPTT)
// Two schedules share the per-item code:
//   step        entry point `step_forward`: one time step a dispatch (T dispatches a layer), items spread over
//               as many workgroups as needed
//   persistent  entry point `persistent_forward`: all T steps in one dispatch of one workgroup, a storage
//               barrier between steps (Diamos et al., "Persistent RNNs", 2016): for small models,
//               where T dispatches cost more than the arithmetic
// An item is one hidden unit j, all four gates, for ROWS = 4 batch rows: each V value loaded serves four
// rows and each y value four gates, so the inner loop does 16 multiply-adds for 8 loads. No workgroup
// memory: the step's inputs are read from storage (on real GPUs through the caches; on SwiftShader,
// workgroup memory is slow and its zero-initialisation costs more than the products here).
//
// Workgroup z is the member (params.wgsl): the grids below are each member's.
//
// Legend: K = members, B = batch of this pass, C = workspace capacity, T = window, I = layer input
//         size, H = hidden size, S = H + I + 1, P = parameter count.
// Buffers:
//   params  (K, P)            V (H, 4H) at V_OFFSET, row k: unit k's weights to every gate
//   gates   (K, T, C, 4H)     pre-activations in, activations out (a member's rows t * B + b)
//   c       (K, (T+1) C, H)   cell states, rows by params.wgsl's state_row (step 0: the zero block)
//   inputs  (K, (T+1) C, S)   this layer's [y_prev | x | 1] rows: y_prev of step t read from row t,
//                             y_t written to the y_prev columns of row t+1
//   above   (K, (T+1) C, S')  the next layer's inputs rows (ABOVE_HIDDEN_SIZE > 0): y_t written to the
//                             x columns of its row t, where its input projection and weight gradients
//                             read it

override INPUT_SIZE: u32;
override HIDDEN_SIZE: u32;
override V_OFFSET: u32;
/** Hidden size of the layer above, 0 for the top layer. */
override ABOVE_HIDDEN_SIZE: u32;
override STEP_WORKGROUP: u32 = 64;
override PERSISTENT_WORKGROUP: u32 = 64;

const ROWS = 4u;

@group(0) @binding(0) var<storage, read> params: array<f32>;
@group(0) @binding(1) var<storage, read_write> gates: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<storage, read_write> inputs: array<f32>;
@group(0) @binding(4) var<storage, read_write> above: array<f32>;
@group(0) @binding(5) var<uniform> batchPass: PassParams;
@group(0) @binding(6) var<uniform> step: StepParams;

fn item_count(batch: u32) -> u32 {
  return ((batch + ROWS - 1u) / ROWS) * HIDDEN_SIZE;
}

/** Where row b's four gates of unit j at step t are in `gates` (g at + g H). */
fn gate_at(t: u32, batch: u32, b: u32, j: u32) -> u32 {
  let G = 4u * HIDDEN_SIZE;
  return member_steps(batchPass, G) + (t * batch + b) * G + j;
}

fn pre_activations(t: u32, batch: u32, b: u32, j: u32) -> vec4f {
  let H = HIDDEN_SIZE;
  let at = gate_at(t, batch, b, j);
  return vec4f(gates[at], gates[at + H], gates[at + 2u * H], gates[at + 3u * H]);
}

fn forward_cell(t: u32, batch: u32, b: u32, j: u32, u: vec4f) {
  let H = HIDDEN_SIZE;
  let now = state_row(batchPass, t, b);
  let next = state_row(batchPass, t + 1u, b);
  let cell = cell_forward(u, c[now * H + j]);
  let at = gate_at(t, batch, b, j);
  gates[at] = cell.gates.x;
  gates[at + H] = cell.gates.y;
  gates[at + 2u * H] = cell.gates.z;
  gates[at + 3u * H] = cell.gates.w;
  c[next * H + j] = cell.c;
  inputs[next * (H + INPUT_SIZE + 1u) + j] = cell.y;
  if (ABOVE_HIDDEN_SIZE > 0u) {
    above[now * (ABOVE_HIDDEN_SIZE + H + 1u) + ABOVE_HIDDEN_SIZE + j] = cell.y;
  }
}

fn forward_item(t: u32, batch: u32, item: u32) {
  let H = HIDDEN_SIZE;
  let G = 4u * H;
  let S = H + INPUT_SIZE + 1u;
  let j = item % H;
  let row0 = (item / H) * ROWS;
  // Rows past the batch repeat the last one and are not stored.
  let last = batch - 1u;
  let b0 = min(row0, last);
  let b1 = min(row0 + 1u, last);
  let b2 = min(row0 + 2u, last);
  let b3 = min(row0 + 3u, last);
  var u0 = pre_activations(t, batch, b0, j);
  var u1 = pre_activations(t, batch, b1, j);
  var u2 = pre_activations(t, batch, b2, j);
  var u3 = pre_activations(t, batch, b3, j);
  // y_prev is zero at the first step, so its product is skipped there.
  if (t > 0u) {
    let y0 = state_row(batchPass, t, b0) * S;
    let y1 = state_row(batchPass, t, b1) * S;
    let y2 = state_row(batchPass, t, b2) * S;
    let y3 = state_row(batchPass, t, b3) * S;
    for (var k = 0u; k < H; k++) {
      let at = member_params() + V_OFFSET + k * G + j;
      let v = vec4f(params[at], params[at + H], params[at + 2u * H], params[at + 3u * H]);
      u0 = fma(vec4f(inputs[y0 + k]), v, u0);
      u1 = fma(vec4f(inputs[y1 + k]), v, u1);
      u2 = fma(vec4f(inputs[y2 + k]), v, u2);
      u3 = fma(vec4f(inputs[y3 + k]), v, u3);
    }
  }
  forward_cell(t, batch, b0, j, u0);
  if (row0 + 1u < batch) {
    forward_cell(t, batch, b1, j, u1);
  }
  if (row0 + 2u < batch) {
    forward_cell(t, batch, b2, j, u2);
  }
  if (row0 + 3u < batch) {
    forward_cell(t, batch, b3, j, u3);
  }
}

@compute @workgroup_size(STEP_WORKGROUP)
fn step_forward(
  @builtin(global_invocation_id) id: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(workgroup_id) group: vec3u,
) {
  member = group.z;
  let batch = batchPass.batch;
  // The grid is 2-D when the items need more than maxComputeWorkgroupsPerDimension workgroups.
  let item = id.y * groups.x * STEP_WORKGROUP + id.x;
  if (item < item_count(batch)) {
    forward_item(step.index, batch, item);
  }
}

@compute @workgroup_size(PERSISTENT_WORKGROUP)
fn persistent_forward(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) group: vec3u) {
  member = group.z;
  let batch = batchPass.batch;
  let items = item_count(batch);
  for (var t = 0u; t < WINDOW; t++) {
    for (var item = lane; item < items; item += PERSISTENT_WORKGROUP) {
      forward_item(t, batch, item);
    }
    // Step t+1 reads the y_t that other invocations wrote.
    storageBarrier();
  }
}
