// Backpropagation through time of one LSTM layer, as lstm_backward.wgsl, with the recurrent product
// read from Vᵀ (recurrent_transpose.wgsl, refreshed after each update):
//   dy[b, j] = dyAbove + Σ_m delta[t+1, b, m] Vᵀ[m, j]        m over the 4H gate columns
// An item is one hidden unit j for ROWS = 4 batch rows, as in the forward step: consecutive
// invocations take consecutive units, so a warp's loads of a row of Vᵀ are one contiguous run (where
// lstm_backward.wgsl's invocations each walk their own rows of V, 4H floats apart), and its loads of
// delta are the same address for every invocation of a row group (one broadcast).
// Entry points: step_backward_coalesced (one time step a dispatch) and persistent_backward_coalesced
// (all T steps in one workgroup, a storage barrier between steps).
// Appended: lstm_backward.wgsl (bindings 0-7, overrides, backward_cell), lstm_cell.wgsl.
//
// Legend: as lstm_backward.wgsl; G = 4H.
// Buffers, besides lstm_backward.wgsl's:
//   recurrentTransposed  (K, Σ 4H²)   this layer's Vᵀ (4H, H) at TRANSPOSED_OFFSET of the member's block

override TRANSPOSED_OFFSET: u32;
/** Σ 4H² over the layers: a member's block of recurrentTransposed. */
override TRANSPOSED_SIZE: u32;

@group(0) @binding(8) var<storage, read> recurrentTransposed: array<f32>;

fn coalesced_item_count(batch: u32) -> u32 {
  return ((batch + ROWS - 1u) / ROWS) * HIDDEN_SIZE;
}

fn coalesced_backward_item(t: u32, batch: u32, item: u32) {
  let H = HIDDEN_SIZE;
  let G = 4u * H;
  let j = item % H;
  let row0 = (item / H) * ROWS;
  // dyNext's components are rows row0..row0+3.
  var dyNext = vec4f();
  if (t + 1u < WINDOW) {
    // Rows past the batch repeat the last one and are not stored.
    let last = batch - 1u;
    let n0 = delta_at(t + 1u, batch, min(row0, last), 0u);
    let n1 = delta_at(t + 1u, batch, min(row0 + 1u, last), 0u);
    let n2 = delta_at(t + 1u, batch, min(row0 + 2u, last), 0u);
    let n3 = delta_at(t + 1u, batch, min(row0 + 3u, last), 0u);
    let transposed = member * TRANSPOSED_SIZE + TRANSPOSED_OFFSET;
    for (var m = 0u; m < G; m++) {
      let v = recurrentTransposed[transposed + m * H + j];
      dyNext = fma(vec4f(delta[n0 + m], delta[n1 + m], delta[n2 + m], delta[n3 + m]), vec4f(v), dyNext);
    }
  }
  backward_cell(t, batch, row0, j, dyNext.x);
  if (row0 + 1u < batch) {
    backward_cell(t, batch, row0 + 1u, j, dyNext.y);
  }
  if (row0 + 2u < batch) {
    backward_cell(t, batch, row0 + 2u, j, dyNext.z);
  }
  if (row0 + 3u < batch) {
    backward_cell(t, batch, row0 + 3u, j, dyNext.w);
  }
}

@compute @workgroup_size(STEP_WORKGROUP)
fn step_backward_coalesced(
  @builtin(global_invocation_id) id: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(workgroup_id) group: vec3u,
) {
  member = group.z;
  let batch = batchPass.batch;
  // The grid is 2-D when the items need more than maxComputeWorkgroupsPerDimension workgroups.
  let item = id.y * groups.x * STEP_WORKGROUP + id.x;
  if (item < coalesced_item_count(batch)) {
    coalesced_backward_item(step.index, batch, item);
  }
}

@compute @workgroup_size(PERSISTENT_WORKGROUP)
fn persistent_backward_coalesced(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) group: vec3u) {
  member = group.z;
  let batch = batchPass.batch;
  let items = coalesced_item_count(batch);
  for (var s = 0u; s < WINDOW; s++) {
    for (var item = lane; item < items; item += PERSISTENT_WORKGROUP) {
      coalesced_backward_item(WINDOW - 1u - s, batch, item);
    }
    // The next (earlier) step reads the deltas other invocations wrote.
    storageBarrier();
  }
}
