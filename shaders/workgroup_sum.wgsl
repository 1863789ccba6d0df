// A sum over the invocations of one workgroup of SUM_WORKGROUP (the library of the gradient norm and
// the update's clipping). A fixed tree, so the same inputs always give the same float result.
// Call once per dispatch, from uniform control flow, in a kernel of @workgroup_size(SUM_WORKGROUP).

const SUM_WORKGROUP = 64u;

var<workgroup> laneSums: array<f32, SUM_WORKGROUP>;

/** The sum of `value` over the workgroup's invocations, returned to every one of them. */
fn workgroup_sum(lane: u32, value: f32) -> f32 {
  laneSums[lane] = value;
  for (var half = SUM_WORKGROUP / 2u; half > 0u; half /= 2u) {
    workgroupBarrier();
    if (lane < half) {
      laneSums[lane] += laneSums[lane + half];
    }
  }
  return workgroupUniformLoad(&laneSums[0]);
}
