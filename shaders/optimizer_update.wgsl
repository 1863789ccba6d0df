// The optimiser over every parameter in one dispatch (parameters and gradients are one flat buffer
// each, in the layout of src/model/layout.ts):
//   params -= learningRate * grads
//
// Legend: P = PARAM_COUNT.
// Buffers:
//   params  (P)   updated in place
//   grads   (P)   summed over the batch (the seed's; no division by B)
// Each invocation walks the parameters with a stride of the whole grid, so the grid can be sized for
// the device: many invocations on a GPU, a few long ones on SwiftShader, where an invocation's start
// costs more than a few updates. The grid is 2-D when x would pass maxComputeWorkgroupsPerDimension.

override PARAM_COUNT: u32;

const WORKGROUP = 64u;

@group(0) @binding(0) var<storage, read_write> params: array<f32>;
@group(0) @binding(1) var<storage, read> grads: array<f32>;
@group(0) @binding(2) var<uniform> epoch: EpochParams;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let width = groups.x * WORKGROUP;
  let stride = width * groups.y;
  for (var p = id.y * width + id.x; p < PARAM_COUNT; p += stride) {
    params[p] -= epoch.learningRate * grads[p];
  }
}
