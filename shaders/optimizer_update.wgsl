// The optimizer over every parameter of every member in one dispatch (parameters, gradients and the
// optimizer's state are flat buffers in the layout of src/model/layout.ts, a block a member;
// src/model/optimizer.ts is the reference):
//   sgd       p -= lr * s g
//   momentum  v = momentum v + s g;  p -= lr * v
//   adam      m = beta1 m + (1 - beta1) s g;  v = beta2 v + (1 - beta2) (s g)^2
//             p -= (lr * (m / c1)) / (sqrt(v / c2) + epsilon)
// where s = min(1, clipNorm / ||g||) for a member that clips (the global norm from gradient_norm.wgsl's
// partial sums, added up by every workgroup), else 1; lr is the member's learning rate this epoch;
// c1 = 1 - beta1^t and c2 = 1 - beta2^t for the member's update t, computed on the CPU in double
// precision once per epoch (a pow in f32 would be off by 1e-4 relative at small t) and picked by the
// minibatch step's entry.
// Each member's optimizer, its settings and learning rate are data (`members`, written once per epoch),
// not pipeline constants, so members with different optimizers share this one pipeline: workgroup z is
// the member (params.wgsl), and its branch on the optimizer is the same for the whole workgroup. A
// member updates only in the first `steps` steps of the epoch (its own S_m; 0 when it is not active):
// in the others its workgroups return at once.
//
// Legend: K = members (num_workgroups.z), P = PARAM_COUNT, S = minibatch steps an epoch,
//         W = NORM_PARTIALS.
// Buffers:
//   params       (K, P)   updated in place
//   grads        (K, P)   summed over the batch (scaled by the loss's factor in dense.wgsl)
//   firstState   (K, P)   momentum's velocity v, or Adam's first moment m (unused by sgd)
//   secondState  (K, P)   Adam's second moment v (unused otherwise)
//   gradSquares  (K, W)   partial sums of squares of the gradients (read for members that clip)
//   corrections  (S, K)   Adam's (c1, c2) of each member at each step of the epoch
//   members      (K)      MemberSettings
// Each invocation walks its member's parameters with a stride of the whole grid, so the grid can be
// sized for the device: many invocations on a GPU, a few long ones on SwiftShader, where an
// invocation's start costs more than a few updates. The grid is 2-D (in x, y) when x would pass
// maxComputeWorkgroupsPerDimension.

/** Workgroups of the gradient norm a member (W). */
override NORM_PARTIALS: u32 = 1u;

const WORKGROUP = SUM_WORKGROUP;
const SGD = 0u;
const MOMENTUM = 1u;

/** A member's optimizer this epoch (MemberSettings in src/backends/webgpu/optimizerUpdate.ts writes it). */
struct MemberSettings {
  learningRate: f32,
  /** SGD, MOMENTUM, or 2: Adam. */
  optimizer: u32,
  /** Steps of the epoch the member updates in. */
  steps: u32,
  /** 1 when the member clips its gradients' norm to clipNorm. */
  clip: u32,
  clipNorm: f32,
  momentum: f32,
  beta1: f32,
  oneMinusBeta1: f32,
  beta2: f32,
  oneMinusBeta2: f32,
  epsilon: f32,
  unused: f32,
}

@group(0) @binding(0) var<storage, read_write> params: array<f32>;
@group(0) @binding(1) var<storage, read> grads: array<f32>;
@group(0) @binding(2) var<storage, read_write> firstState: array<f32>;
@group(0) @binding(3) var<storage, read_write> secondState: array<f32>;
@group(0) @binding(4) var<storage, read> gradSquares: array<f32>;
@group(0) @binding(5) var<storage, read> corrections: array<vec2f>;
@group(0) @binding(6) var<storage, read> members: array<MemberSettings>;
@group(0) @binding(7) var<uniform> batchPass: PassParams;

/** The clipping factor s (1 for a member that does not clip); from uniform control flow. */
fn clip_scale(lane: u32, settings: MemberSettings) -> f32 {
  if (settings.clip == 0u) {
    return 1.0;
  }
  var sum = 0.0;
  for (var w = lane; w < NORM_PARTIALS; w += WORKGROUP) {
    sum += gradSquares[member * NORM_PARTIALS + w];
  }
  let norm = sqrt(workgroup_sum(lane, sum));
  return select(1.0, settings.clipNorm / norm, norm > settings.clipNorm);
}

/** First parameter of this invocation and the stride of the grid, within a member's block. */
fn first_and_stride(id: vec3u, groups: vec3u) -> vec2u {
  let width = groups.x * WORKGROUP;
  return vec2u(id.y * width + id.x, width * groups.y);
}

@compute @workgroup_size(WORKGROUP)
fn update(
  @builtin(global_invocation_id) id: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) lane: u32,
  @builtin(workgroup_id) group: vec3u,
) {
  member = group.z;
  // Read through the workgroup's own id, not `member`, so that the branches below are uniform.
  let settings = members[group.z];
  if (batchPass.entry >= settings.steps) {
    return;
  }
  let scale = clip_scale(lane, settings);
  let walk = first_and_stride(id, groups);
  let block = member_params();
  let rate = settings.learningRate;
  if (settings.optimizer == SGD) {
    let scaled = rate * scale;
    for (var p = walk.x; p < PARAM_COUNT; p += walk.y) {
      params[block + p] -= scaled * grads[block + p];
    }
  } else if (settings.optimizer == MOMENTUM) {
    for (var p = walk.x; p < PARAM_COUNT; p += walk.y) {
      let velocity = settings.momentum * firstState[block + p] + scale * grads[block + p];
      firstState[block + p] = velocity;
      params[block + p] -= rate * velocity;
    }
  } else {
    let correction = corrections[batchPass.entry * groups.z + group.z];
    for (var p = walk.x; p < PARAM_COUNT; p += walk.y) {
      let g = scale * grads[block + p];
      let m = settings.beta1 * firstState[block + p] + settings.oneMinusBeta1 * g;
      let v = settings.beta2 * secondState[block + p] + settings.oneMinusBeta2 * (g * g);
      firstState[block + p] = m;
      secondState[block + p] = v;
      params[block + p] -= (rate * (m / correction.x)) / (sqrt(v / correction.y) + settings.epsilon);
    }
  }
}
