// The dense output layer on the top LSTM layer's last output, the loss, and the layer's backward:
//   out = y_T Wd + bd;  delta = k (out - target)
//   loss = 0.5 k sum((out - target)^2)                                 (WITH_LOSS)
//   dWd = y_Tᵀ delta;  dbd = sum over b of delta;  dyTop = delta Wdᵀ   (WITH_GRADIENTS)
// where k = 1 for the blog's half sum of squares, and k = 2 / (B O) with MEAN_LOSS (the mean squared
// error over the pass's samples and outputs; lossScale in src/model/optimizer.ts). With LOSS_ROWS, the
// pass is one chunk of an error over LOSS_ROWS rows taken in several passes: the mean is over those,
// and each chunk (entry) after the first adds its loss to outputs[0].
// One workgroup: the layer is tiny next to the recurrence, and a single workgroup can reuse delta after
// a storage barrier instead of another dispatch. Training steps need no loss (the epoch's error is
// computed over all samples afterwards); gradients() wants both.
//
// Legend: N = samples, B = batch of this pass, C = workspace capacity, T = window, H = top hidden size,
//         S = TOP_ROW, O = outputSize, P = parameter count.
// Buffers:
//   params   (P)           Wd (H, O) at DENSE_W_OFFSET, bd (O) at DENSE_B_OFFSET
//   yTop     ((T+1) C, S)  the top layer's [y_prev | x | 1] rows (params.wgsl's state_row); y_T is
//                          the y_prev columns of row T
//   targets  (N, O)        batch row b is sample order[orderBase + b]
//   order    (orderBase + B)
//   outputs  [loss, 3 unused, out (B, O), delta (B, O), partial sums (WORKGROUP)]; delta is k (out - t)
//   dyTop    (B, H)        gradient at y_T, for the top layer's BPTT
//   grads    (P)           dWd and dbd written at the dense offsets

override WITH_LOSS: bool;
override WITH_GRADIENTS: bool;
override MEAN_LOSS: bool;
override WINDOW: u32;
override HIDDEN_SIZE: u32;
override OUTPUT_SIZE: u32;
override DENSE_W_OFFSET: u32;
override DENSE_B_OFFSET: u32;
/** Row length of the top layer's inputs rows: H + its input size + 1. */
override TOP_ROW: u32;
/** Rows of the whole error when this pass is a chunk of it (0: not chunked, the pass's own batch). */
override LOSS_ROWS: u32 = 0u;

const WORKGROUP = 64u;
const OUT_OFFSET = 4u;

@group(0) @binding(0) var<storage, read> params: array<f32>;
@group(0) @binding(1) var<storage, read> yTop: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<f32>;
@group(0) @binding(3) var<storage, read> order: array<u32>;
@group(0) @binding(4) var<storage, read_write> outputs: array<f32>;
@group(0) @binding(5) var<storage, read_write> dyTop: array<f32>;
@group(0) @binding(6) var<storage, read_write> grads: array<f32>;
@group(0) @binding(7) var<uniform> batchPass: PassParams;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(local_invocation_index) lane: u32) {
  let batch = batchPass.batch;
  let H = HIDDEN_SIZE;
  let O = OUTPUT_SIZE;
  let deltaAt = OUT_OFFSET + batch * O;
  let partialsAt = deltaAt + batch * O;
  let lossScale = select(1.0, 2.0 / f32(batch * O), MEAN_LOSS);

  var sumSquares = 0.0;
  for (var p = lane; p < batch * O; p += WORKGROUP) {
    let b = p / O;
    let o = p % O;
    var out = params[DENSE_B_OFFSET + o];
    for (var k = 0u; k < H; k++) {
      out = fma(yTop[state_row(batchPass, WINDOW, b) * TOP_ROW + k], params[DENSE_W_OFFSET + k * O + o], out);
    }
    outputs[OUT_OFFSET + p] = out;
    if (WITH_LOSS || WITH_GRADIENTS) {
      let residual = out - targets[order[batchPass.orderBase + b] * O + o];
      outputs[deltaAt + p] = lossScale * residual;
      sumSquares += residual * residual;
    }
  }
  if (!WITH_LOSS && !WITH_GRADIENTS) {
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
    let chunked = LOSS_ROWS > 0u;
    let scale = select(lossScale, 2.0 / f32(LOSS_ROWS * O), chunked && MEAN_LOSS);
    let before = select(0.0, outputs[0], chunked && batchPass.entry > 0u);
    outputs[0] = before + 0.5 * scale * sum;
  }
  if (!WITH_GRADIENTS) {
    return;
  }
  for (var q = lane; q < H * O; q += WORKGROUP) {
    let k = q / O;
    let o = q % O;
    var sum = 0.0;
    for (var b = 0u; b < batch; b++) {
      sum = fma(yTop[state_row(batchPass, WINDOW, b) * TOP_ROW + k], outputs[deltaAt + b * O + o], sum);
    }
    grads[DENSE_W_OFFSET + q] = sum;
  }
  for (var o = lane; o < O; o += WORKGROUP) {
    var sum = 0.0;
    for (var b = 0u; b < batch; b++) {
      sum += outputs[deltaAt + b * O + o];
    }
    grads[DENSE_B_OFFSET + o] = sum;
  }
  for (var q = lane; q < batch * H; q += WORKGROUP) {
    let b = q / H;
    let k = q % H;
    var sum = 0.0;
    for (var o = 0u; o < O; o++) {
      sum = fma(outputs[deltaAt + b * O + o], params[DENSE_W_OFFSET + k * O + o], sum);
    }
    dyTop[q] = sum;
  }
}
