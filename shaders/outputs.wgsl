// A workspace's dense outputs, as the kernels that compute the model's outputs and its loss see them
// (dense.wgsl, lstm_fused_rows.wgsl, lstm_fused_gradients.wgsl; appended to each, which declare
// `outputs`, OUTPUT_SIZE, WITH_LOSS and WITH_GRADIENTS). Member m's block starts at m * outputs_block:
//   [mean loss, error rows, 2 unused, out (C, O), delta (C, O), partial sums (DENSE_PARTIALS)]
// where the header (written by the backend, src/backends/webgpu/workspace.ts) holds the member's loss
// (1.0: the mean squared error, 0.0: the blog's half sum of squares) and, as u32 bits, the rows of its
// error over this workspace's windows (its range may be shorter than the pass). After the K blocks, each
// member's loss, next to one another so that one copy reads them all:
//   outputs  (K, outputs_block) then losses (K)
//
// Legend: K = members (num_workgroups.z), C = capacity, B = batch of the pass, O = OUTPUT_SIZE.

const OUT_OFFSET = 4u;
/** Floats of the dense kernel's partial sums (its workgroup size). */
const DENSE_PARTIALS = 64u;

fn outputs_block(p: PassParams) -> u32 {
  return OUT_OFFSET + 2u * p.capacity * OUTPUT_SIZE + DENSE_PARTIALS;
}

/** Where this member's block starts. */
fn member_outputs(p: PassParams) -> u32 {
  return member * outputs_block(p);
}

/** Where this member's loss is, after the blocks of all `members`. */
fn loss_at(p: PassParams, members: u32) -> u32 {
  return members * outputs_block(p) + member;
}

/** Whether a pass computes a member's error over its windows (a chunk of it), rather than a minibatch's loss. */
fn error_pass() -> bool {
  return WITH_LOSS && !WITH_GRADIENTS;
}

/** The member's error rows over this workspace's windows. */
fn error_rows(p: PassParams) -> u32 {
  return bitcast<u32>(outputs[member_outputs(p) + 1u]);
}

/** Rows of this pass the loss counts: in an error pass those inside the member's range, else all. */
fn counted_rows(p: PassParams) -> u32 {
  if (error_pass()) {
    let rows = error_rows(p);
    return min(p.batch, rows - min(rows, p.orderBase));
  }
  return p.batch;
}

/**
 * k: 1 for the blog's half sum of squares, 2 / (R O) for the mean squared error over R rows (the
 * member's error rows in an error pass, else the pass's batch); lossScale in src/model/optimizer.ts.
 */
fn loss_scale(p: PassParams) -> f32 {
  let rows = select(p.batch, max(error_rows(p), 1u), error_pass());
  return select(1.0, 2.0 / f32(rows * OUTPUT_SIZE), outputs[member_outputs(p)] != 0.0);
}
