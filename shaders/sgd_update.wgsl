// The optimiser over every parameter in one dispatch (parameters and gradients are one flat buffer
// each, in the layout of src/model/layout.ts):
//   params -= learningRate * grads
//
// Legend: P = PARAM_COUNT.
// Buffers:
//   params  (P)   updated in place
//   grads   (P)   summed over the batch (the seed's; no division by B)
// The grid is 2-D when P needs more than maxComputeWorkgroupsPerDimension workgroups in x.

override PARAM_COUNT: u32;

const WORKGROUP = 256u;

@group(0) @binding(0) var<storage, read_write> params: array<f32>;
@group(0) @binding(1) var<storage, read> grads: array<f32>;
@group(0) @binding(2) var<uniform> epoch: EpochParams;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let p = id.y * groups.x * WORKGROUP + id.x;
  if (p < PARAM_COUNT) {
    params[p] -= epoch.learningRate * grads[p];
  }
}
