// First stage of global-norm clipping: each workgroup's sum of squares of a strided share of its
// member's gradients. The update (optimizer_update.wgsl) adds up these partial sums itself, so clipping
// costs one dispatch a step and no readback:
//   gradSquares[m, w] = sum over p = w * 64 + lane + k * (W * 64) of grads[m, p]^2
// Workgroup z is the member m (params.wgsl); every member's norm is computed, whether it clips or not
// (the update reads only those that do).
//
// Legend: K = members, P = PARAM_COUNT, W = workgroups of the dispatch in x (NORM_PARTIALS in the
//         update, at most MAX_NORM_PARTIALS in src/backends/webgpu/optimizerUpdate.ts).
// Buffers:
//   grads        (K, P)  summed over the batch, flat layout
//   gradSquares  (K, W)  one partial sum a workgroup

@group(0) @binding(0) var<storage, read> grads: array<f32>;
@group(0) @binding(1) var<storage, read_write> gradSquares: array<f32>;

@compute @workgroup_size(SUM_WORKGROUP)
fn main(
  @builtin(local_invocation_index) lane: u32,
  @builtin(workgroup_id) group: vec3u,
  @builtin(num_workgroups) groups: vec3u,
) {
  member = group.z;
  let first = member_params();
  let stride = groups.x * SUM_WORKGROUP;
  var sum = 0.0;
  for (var p = group.x * SUM_WORKGROUP + lane; p < PARAM_COUNT; p += stride) {
    sum = fma(grads[first + p], grads[first + p], sum);
  }
  let total = workgroup_sum(lane, sum);
  if (lane == 0u) {
    gradSquares[member * groups.x + group.x] = total;
  }
}
