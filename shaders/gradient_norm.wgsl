// First stage of global-norm clipping: each workgroup's sum of squares of a strided share of the
// gradients. The update (optimizer_update.wgsl) adds up these partial sums itself, so clipping costs
// one dispatch a step and no readback:
//   gradSquares[w] = sum over p = w * 64 + lane + k * (W * 64) of grads[p]^2
//
// Legend: P = PARAM_COUNT, W = workgroups of the dispatch (at most MAX_NORM_PARTIALS in src/backends/webgpu/optimizerUpdate.ts).
// Buffers:
//   grads        (P)  summed over the batch, flat layout
//   gradSquares  (W)  one partial sum a workgroup

override PARAM_COUNT: u32;

@group(0) @binding(0) var<storage, read> grads: array<f32>;
@group(0) @binding(1) var<storage, read_write> gradSquares: array<f32>;

@compute @workgroup_size(SUM_WORKGROUP)
fn main(
  @builtin(local_invocation_index) lane: u32,
  @builtin(workgroup_id) group: vec3u,
  @builtin(num_workgroups) groups: vec3u,
) {
  let stride = groups.x * SUM_WORKGROUP;
  var sum = 0.0;
  for (var p = group.x * SUM_WORKGROUP + lane; p < PARAM_COUNT; p += stride) {
    sum = fma(grads[p], grads[p], sum);
  }
  let total = workgroup_sum(lane, sum);
  if (lane == 0u) {
    gradSquares[group.x] = total;
  }
}
