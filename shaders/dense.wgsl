// The dense output layer on the top LSTM layer's last output, the loss, and the layer's backward:
//   out = y_T Wd + bd;  delta = k (out - target)
//   loss = 0.5 k sum((out - target)^2)                                 (WITH_LOSS)
//   dWd = y_Tᵀ delta;  dbd = sum over b of delta;  dyTop = delta Wdᵀ   (WITH_GRADIENTS)
// where k = 1 for the blog's half sum of squares, and k = 2 / (R O) for the member's mean squared error
// over R rows (outputs.wgsl's loss_scale). An error pass (WITH_LOSS alone) counts only the rows inside
// the member's range, and may be one chunk of an error taken in several passes: a chunk after the
// first (orderBase > 0) adds its loss to the member's.
// One workgroup a member: the layer is tiny next to the recurrence, and a single workgroup can reuse
// delta after a storage barrier instead of another dispatch. Training steps need no loss (the epoch's
// error is computed over all samples afterwards); gradients() wants both.
// SEED_OUTPUTS (a probe's backward, src/backends/webgpu/probePass.ts): no loss and no dense gradients;
// row b's output gradient is the one-hot of output b mod O, so the BPTT that follows computes
// d out[b mod O] / d x for row b.
//
// Legend: K = members, N = samples, B = batch of this pass, C = workspace capacity, T = window,
//         H = top hidden size, S = TOP_ROW, O = outputSize, P = parameter count.
// Buffers:
//   params   (K, P)           Wd (H, O) at DENSE_W_OFFSET, bd (O) at DENSE_B_OFFSET
//   yTop     (K, (T+1) C, S)  the top layer's [y_prev | x | 1] rows (params.wgsl's state_row); y_T is
//                             the y_prev columns of row T
//   targets  (N, O)           batch row b is sample order[orderBase + b] (of the member's order)
//   order    (K, C)
//   outputs  (K, outputs_block) then losses (K): outputs.wgsl
//   dyTop    (K, C, H)        gradient at y_T, for the top layer's BPTT
//   grads    (K, P)           dWd and dbd written at the dense offsets

override WITH_LOSS: bool;
override WITH_GRADIENTS: bool;
override SEED_OUTPUTS: bool = false;
override HIDDEN_SIZE: u32;
override OUTPUT_SIZE: u32;
override DENSE_W_OFFSET: u32;
override DENSE_B_OFFSET: u32;
/** Row length of the top layer's inputs rows: H + its input size + 1. */
override TOP_ROW: u32;

const WORKGROUP = DENSE_PARTIALS;

@group(0) @binding(0) var<storage, read> params: array<f32>;
@group(0) @binding(1) var<storage, read> yTop: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<f32>;
@group(0) @binding(3) var<storage, read> order: array<u32>;
@group(0) @binding(4) var<storage, read_write> outputs: array<f32>;
@group(0) @binding(5) var<storage, read_write> dyTop: array<f32>;
@group(0) @binding(6) var<storage, read_write> grads: array<f32>;
@group(0) @binding(7) var<uniform> batchPass: PassParams;

@compute @workgroup_size(WORKGROUP)
fn main(
  @builtin(local_invocation_index) lane: u32,
  @builtin(workgroup_id) group: vec3u,
  @builtin(num_workgroups) groups: vec3u,
) {
  member = group.z;
  let batch = batchPass.batch;
  let H = HIDDEN_SIZE;
  let O = OUTPUT_SIZE;
  let base = member_outputs(batchPass);
  let outAt = base + OUT_OFFSET;
  let deltaAt = outAt + batch * O;
  let partialsAt = deltaAt + batch * O;
  let weights = member_params();
  let order0 = member_order(batchPass) + batchPass.orderBase;
  let lossScale = loss_scale(batchPass);
  let counted = counted_rows(batchPass);

  var sumSquares = 0.0;
  for (var p = lane; p < batch * O; p += WORKGROUP) {
    let b = p / O;
    let o = p % O;
    var out = params[weights + DENSE_B_OFFSET + o];
    for (var k = 0u; k < H; k++) {
      out = fma(yTop[state_row(batchPass, WINDOW, b) * TOP_ROW + k], params[weights + DENSE_W_OFFSET + k * O + o], out);
    }
    outputs[outAt + p] = out;
    if (SEED_OUTPUTS) {
      outputs[deltaAt + p] = select(0.0, 1.0, o == b % O);
    } else if (WITH_LOSS || WITH_GRADIENTS) {
      let residual = out - targets[order[order0 + b] * O + o];
      outputs[deltaAt + p] = lossScale * residual;
      if (b < counted) {
        sumSquares += residual * residual;
      }
    }
  }
  if (!WITH_LOSS && !WITH_GRADIENTS && !SEED_OUTPUTS) {
    return;
  }
  outputs[partialsAt + lane] = sumSquares;
  // Both what follows read what other invocations wrote above.
  storageBarrier();

  if (WITH_LOSS && lane == 0u) {
    var sum = 0.0;
    for (var i = 0u; i < WORKGROUP; i++) {
      sum += outputs[partialsAt + i];
    }
    let lossAt = loss_at(batchPass, groups.z);
    let before = select(0.0, outputs[lossAt], error_pass() && batchPass.orderBase > 0u);
    outputs[lossAt] = before + 0.5 * lossScale * sum;
  }
  if (!WITH_GRADIENTS && !SEED_OUTPUTS) {
    return;
  }
  if (WITH_GRADIENTS) {
    for (var q = lane; q < H * O; q += WORKGROUP) {
      let k = q / O;
      let o = q % O;
      var sum = 0.0;
      for (var b = 0u; b < batch; b++) {
        sum = fma(yTop[state_row(batchPass, WINDOW, b) * TOP_ROW + k], outputs[deltaAt + b * O + o], sum);
      }
      grads[weights + DENSE_W_OFFSET + q] = sum;
    }
    for (var o = lane; o < O; o += WORKGROUP) {
      var sum = 0.0;
      for (var b = 0u; b < batch; b++) {
        sum += outputs[deltaAt + b * O + o];
      }
      grads[weights + DENSE_B_OFFSET + o] = sum;
    }
  }
  let dyAt = member_rows(batchPass, H);
  for (var q = lane; q < batch * H; q += WORKGROUP) {
    let b = q / H;
    let k = q % H;
    var sum = 0.0;
    for (var o = 0u; o < O; o++) {
      sum = fma(outputs[deltaAt + b * O + o], params[weights + DENSE_W_OFFSET + k * O + o], sum);
    }
    dyTop[dyAt + q] = sum;
  }
}
