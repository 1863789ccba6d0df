// After lstm_fused_rows.wgsl, what sums over the batch rows, in one dispatch of many workgroups:
//   [dV; dW; db] = Σ_t [y_prev; x_t; 1]ᵀ delta_t      (as weight_gradients.wgsl)        WITH_GRADIENTS
//   dWd = y_Tᵀ delta_out;  dbd = Σ_b delta_out         (as dense.wgsl)                   WITH_GRADIENTS
//   loss = 0.5 Σ delta_out² / k = 0.5 k Σ (out - target)²                                  WITH_LOSS
//     (an error pass counts the member's rows only; k as outputs.wgsl's loss_scale)
// An invocation takes one item: PRODUCT_ROWS (4 or 8) rows of the product [y_prev | x | 1]ᵀ delta x
// four units (j + u ceil(H / 4)) x the 4 gates, so that the units share each load of the inputs and
// the rows each load of the deltas (consecutive invocations, consecutive units: the deltas' loads run
// along a row), or one dense gradient, or the loss; items in that order, the grid as gradientItems()
// in fusedStep.ts counts them.
// The summed dimension is m = t * B + b, whose inputs row is state_row(0, m). Workgroup z is the member
// (params.wgsl). Appended: gate_rows.wgsl, outputs.wgsl.
//
// Legend: K = members, B = batch of this pass, C = workspace capacity, T = window, I = input size,
//         H = hidden size, S = H + I + 1, O = output size, P = parameter count.
// Buffers:
//   inputs   (K, (T+1) C, S)   [y_prev | x | 1] rows by params.wgsl's state_row; y_T: row T's y_prev
//   gates    (K, T, C, 4H)     the gate deltas (lstm_fused_rows.wgsl wrote them over the activations)
//   outputs  (K, outputs_block) then losses (K): outputs.wgsl; delta_out read, the loss written
//   grads    (K, P)            dW, dV, db from W_OFFSET and dWd, dbd at the dense offsets, written

override INPUT_SIZE: u32;
override HIDDEN_SIZE: u32;
override OUTPUT_SIZE: u32;
override W_OFFSET: u32;
override DENSE_W_OFFSET: u32;
override DENSE_B_OFFSET: u32;
override WITH_LOSS: bool;
override WITH_GRADIENTS: bool;
override WORKGROUP: u32;
/** Product rows an item takes: 4, or 8 where loads cost more than arithmetic (software adapters). */
override PRODUCT_ROWS: u32;

@group(0) @binding(0) var<storage, read> inputs: array<f32>;
@group(0) @binding(1) var<storage, read> gates: array<f32>;
@group(0) @binding(2) var<storage, read_write> outputs: array<f32>;
@group(0) @binding(3) var<storage, read_write> grads: array<f32>;
@group(0) @binding(4) var<uniform> batchPass: PassParams;

/** Units an item takes: j + u UNIT_STRIDE for u < 4, those below H. */
const UNITS = 4u;
/** Items a block of product rows: ceil(H / 4). */
override UNIT_STRIDE = (HIDDEN_SIZE + UNITS - 1u) / UNITS;

/** Items of PRODUCT_ROWS product rows x 4 units: ceil(S / PRODUCT_ROWS) ceil(H / 4). */
fn product_items() -> u32 {
  return ((HIDDEN_SIZE + INPUT_SIZE + PRODUCT_ROWS) / PRODUCT_ROWS) * UNIT_STRIDE;
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
  let at = member_params() + W_OFFSET + parameterRow * 4u * H + j;
  for (var g = 0u; g < 4u; g++) {
    grads[at + g * H] = sum[g];
  }
}

/** The deltas of summed row m (a step and batch row), unit j, four gates. */
fn deltas(m: u32, j: u32) -> vec4f {
  let H = HIDDEN_SIZE;
  let at = member_steps(batchPass, 4u * H) + m * 4u * H + j;
  return vec4f(gates[at], gates[at + H], gates[at + 2u * H], gates[at + 3u * H]);
}

fn weight_gradients(item: u32) {
  let H = HIDDEN_SIZE;
  let S = H + INPUT_SIZE + 1u;
  let batch = batchPass.batch;
  let j = item % UNIT_STRIDE;
  // Units past H repeat j: loaded, not stored.
  let all = vec4u(j) + vec4u(0u, 1u, 2u, 3u) * UNIT_STRIDE;
  let real = all < vec4u(H);
  let units = select(vec4u(j), all, real);
  let k0 = (item / UNIT_STRIDE) * PRODUCT_ROWS;
  // Rows past the product read the last one and are not stored.
  let ks = min(vec4u(k0) + vec4u(0u, 1u, 2u, 3u), vec4u(S - 1u));
  let more = min(vec4u(k0 + 4u) + vec4u(0u, 1u, 2u, 3u), vec4u(S - 1u));
  // One Rows a unit and block of 4 product rows: named, not an array, for an array indexed in a loop
  // lives in memory on SwiftShader. PRODUCT_ROWS is constant in a pipeline: with 4, the second
  // block's compile away.
  var sums0 = Rows();
  var sums1 = Rows();
  var sums2 = Rows();
  var sums3 = Rows();
  var next0 = Rows();
  var next1 = Rows();
  var next2 = Rows();
  var next3 = Rows();
  let rowStart = state_row(batchPass, 0u, 0u);
  for (var m = 0u; m < WINDOW * batch; m++) {
    let row = (rowStart + m) * S;
    let d0 = deltas(m, units.x);
    let d1 = deltas(m, units.y);
    let d2 = deltas(m, units.z);
    let d3 = deltas(m, units.w);
    let x = vec4f(inputs[row + ks.x], inputs[row + ks.y], inputs[row + ks.z], inputs[row + ks.w]);
    sums0 = accumulate(sums0, x, d0);
    sums1 = accumulate(sums1, x, d1);
    sums2 = accumulate(sums2, x, d2);
    sums3 = accumulate(sums3, x, d3);
    if (PRODUCT_ROWS > 4u) {
      let x2 = vec4f(inputs[row + more.x], inputs[row + more.y], inputs[row + more.z], inputs[row + more.w]);
      next0 = accumulate(next0, x2, d0);
      next1 = accumulate(next1, x2, d1);
      next2 = accumulate(next2, x2, d2);
      next3 = accumulate(next3, x2, d3);
    }
  }
  store_product_rows(k0, units.x, sums0);
  if (real.y) {
    store_product_rows(k0, units.y, sums1);
  }
  if (real.z) {
    store_product_rows(k0, units.z, sums2);
  }
  if (real.w) {
    store_product_rows(k0, units.w, sums3);
  }
  if (PRODUCT_ROWS > 4u && k0 + 4u < S) {
    store_product_rows(k0 + 4u, units.x, next0);
    if (real.y) {
      store_product_rows(k0 + 4u, units.y, next1);
    }
    if (real.z) {
      store_product_rows(k0 + 4u, units.z, next2);
    }
    if (real.w) {
      store_product_rows(k0 + 4u, units.w, next3);
    }
  }
}

/** Product rows k0..k0+3 (those below S) of unit j. */
fn store_product_rows(k0: u32, j: u32, sums: Rows) {
  let S = HIDDEN_SIZE + INPUT_SIZE + 1u;
  store_weight_gradients(k0, j, sums.r0);
  if (k0 + 1u < S) {
    store_weight_gradients(k0 + 1u, j, sums.r1);
  }
  if (k0 + 2u < S) {
    store_weight_gradients(k0 + 2u, j, sums.r2);
  }
  if (k0 + 3u < S) {
    store_weight_gradients(k0 + 3u, j, sums.r3);
  }
}

/** Dense gradient q: dWd[k, o] for q = k O + o < H O, then dbd[o]. */
fn dense_gradient(q: u32) {
  let H = HIDDEN_SIZE;
  let O = OUTPUT_SIZE;
  let batch = batchPass.batch;
  let deltaOut = member_outputs(batchPass) + OUT_OFFSET + batch * O;
  let weights = member_params();
  if (q < H * O) {
    let k = q / O;
    let o = q % O;
    let yLast = state_row(batchPass, WINDOW, 0u);
    var sum = 0.0;
    for (var b = 0u; b < batch; b++) {
      sum = fma(inputs[(yLast + b) * (H + INPUT_SIZE + 1u) + k], outputs[deltaOut + b * O + o], sum);
    }
    grads[weights + DENSE_W_OFFSET + q] = sum;
  } else {
    let o = q - H * O;
    var sum = 0.0;
    for (var b = 0u; b < batch; b++) {
      sum += outputs[deltaOut + b * O + o];
    }
    grads[weights + DENSE_B_OFFSET + o] = sum;
  }
}

fn loss(members: u32) {
  let O = OUTPUT_SIZE;
  let batch = batchPass.batch;
  let deltaOut = member_outputs(batchPass) + OUT_OFFSET + batch * O;
  let lossScale = loss_scale(batchPass);
  var sum = 0.0;
  for (var p = 0u; p < counted_rows(batchPass) * O; p++) {
    let residual = outputs[deltaOut + p] / lossScale;
    sum = fma(residual, residual, sum);
  }
  outputs[loss_at(batchPass, members)] = 0.5 * lossScale * sum;
}

@compute @workgroup_size(WORKGROUP)
fn fused_gradients(
  @builtin(global_invocation_id) id: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(workgroup_id) group: vec3u,
) {
  member = group.z;
  // The grid is 2-D when the items need more than maxComputeWorkgroupsPerDimension workgroups.
  var item = id.y * groups.x * WORKGROUP + id.x;
  if (WITH_GRADIENTS) {
    if (item < product_items()) {
      weight_gradients(item);
      return;
    }
    item -= product_items();
    let denseItems = (HIDDEN_SIZE + 1u) * OUTPUT_SIZE;
    if (item < denseItems) {
      dense_gradient(item);
      return;
    }
    item -= denseItems;
  }
  if (WITH_LOSS && item == 0u) {
    loss(groups.z);
  }
}
