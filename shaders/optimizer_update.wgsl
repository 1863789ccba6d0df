// The optimiser over every parameter in one dispatch (parameters, gradients and the optimiser's state
// are flat buffers in the layout of src/model/layout.ts; src/model/optimizer.ts is the reference):
//   sgd       p -= lr * s g
//   momentum  v = MOMENTUM v + s g;  p -= lr * v
//   adam      m = BETA1 m + (1 - BETA1) s g;  v = BETA2 v + (1 - BETA2) (s g)^2
//             p -= (lr * (m / c1)) / (sqrt(v / c2) + EPSILON)
// where s = min(1, CLIP_NORM / ||g||) with CLIP (the global norm from gradient_norm.wgsl's partial
// sums, added up by every workgroup), else 1; lr is the epoch's learning rate; c1 = 1 - BETA1^t and
// c2 = 1 - BETA2^t for update t, computed on the CPU in double precision once per epoch (a pow in f32
// would be off by 1e-4 relative at small t) and picked by the minibatch step's entry.
// One entry point per rule, so the seed's SGD does no more work per parameter than before.
//
// Legend: P = PARAM_COUNT, S = minibatch steps an epoch, W = NORM_PARTIALS.
// Buffers:
//   params       (P)     updated in place
//   grads        (P)     summed over the batch (scaled by the loss's factor in dense.wgsl)
//   firstState   (P)     momentum's velocity v, or Adam's first moment m (unused by sgd)
//   secondState  (P)     Adam's second moment v (unused otherwise)
//   gradSquares  (W)     partial sums of squares of the gradients (read with CLIP only)
//   corrections  (S)     Adam's (c1, c2) of each step of the epoch
// Each invocation walks the parameters with a stride of the whole grid, so the grid can be sized for
// the device: many invocations on a GPU, a few long ones on SwiftShader, where an invocation's start
// costs more than a few updates. The grid is 2-D when x would pass maxComputeWorkgroupsPerDimension.

override PARAM_COUNT: u32;
override CLIP: bool;
override CLIP_NORM: f32 = 1.0;
override NORM_PARTIALS: u32 = 1u;
override MOMENTUM: f32 = 0.9;
override BETA1: f32 = 0.9;
override ONE_MINUS_BETA1: f32 = 0.1;
override BETA2: f32 = 0.999;
override ONE_MINUS_BETA2: f32 = 0.001;
override EPSILON: f32 = 1e-8;

const WORKGROUP = SUM_WORKGROUP;

@group(0) @binding(0) var<storage, read_write> params: array<f32>;
@group(0) @binding(1) var<storage, read> grads: array<f32>;
@group(0) @binding(2) var<storage, read_write> firstState: array<f32>;
@group(0) @binding(3) var<storage, read_write> secondState: array<f32>;
@group(0) @binding(4) var<storage, read> gradSquares: array<f32>;
@group(0) @binding(5) var<storage, read> corrections: array<vec2f>;
@group(0) @binding(6) var<uniform> epoch: EpochParams;
@group(0) @binding(7) var<uniform> batchPass: PassParams;

/** The clipping factor s (1 without CLIP); from uniform control flow. */
fn clip_scale(lane: u32) -> f32 {
  if (!CLIP) {
    return 1.0;
  }
  var sum = 0.0;
  for (var w = lane; w < NORM_PARTIALS; w += WORKGROUP) {
    sum += gradSquares[w];
  }
  let norm = sqrt(workgroup_sum(lane, sum));
  return select(1.0, CLIP_NORM / norm, norm > CLIP_NORM);
}

/** First parameter of this invocation and the stride of the grid. */
fn first_and_stride(id: vec3u, groups: vec3u) -> vec2u {
  let width = groups.x * WORKGROUP;
  return vec2u(id.y * width + id.x, width * groups.y);
}

@compute @workgroup_size(WORKGROUP)
fn sgd(
  @builtin(global_invocation_id) id: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) lane: u32,
) {
  let rate = epoch.learningRate * clip_scale(lane);
  let walk = first_and_stride(id, groups);
  for (var p = walk.x; p < PARAM_COUNT; p += walk.y) {
    params[p] -= rate * grads[p];
  }
}

@compute @workgroup_size(WORKGROUP)
fn momentum(
  @builtin(global_invocation_id) id: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) lane: u32,
) {
  let scale = clip_scale(lane);
  let walk = first_and_stride(id, groups);
  for (var p = walk.x; p < PARAM_COUNT; p += walk.y) {
    let velocity = MOMENTUM * firstState[p] + scale * grads[p];
    firstState[p] = velocity;
    params[p] -= epoch.learningRate * velocity;
  }
}

@compute @workgroup_size(WORKGROUP)
fn adam(
  @builtin(global_invocation_id) id: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) lane: u32,
) {
  let scale = clip_scale(lane);
  let correction = corrections[batchPass.entry];
  let walk = first_and_stride(id, groups);
  for (var p = walk.x; p < PARAM_COUNT; p += walk.y) {
    let g = scale * grads[p];
    let m = BETA1 * firstState[p] + ONE_MINUS_BETA1 * g;
    let v = BETA2 * secondState[p] + ONE_MINUS_BETA2 * (g * g);
    firstState[p] = m;
    secondState[p] = v;
    params[p] -= (epoch.learningRate * (m / correction.x)) / (sqrt(v / correction.y) + EPSILON);
  }
}
