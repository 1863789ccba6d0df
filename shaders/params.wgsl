// Uniform blocks, the member dimension and the state layout shared by every kernel (this file is
// prepended to each kernel).
//
// PassParams: one entry per minibatch step of a pass, 256 bytes apart, bound with a dynamic offset, so
//   a whole epoch is encoded without writing a buffer between steps. Row b of the pass's batch is sample
//   order[member_order() + orderBase + b]; `capacity` is the rows a member's block of the workspace was
//   made for; `entry` is the step's index in the epoch (the update's per-step values).
// StepParams: one entry per time step t (the stepwise schedule's per-dispatch index), also dynamic.
//
// The member dimension: a population's K members (K = 1 for a single model) share every dispatch.
// Member m's workgroups are those with workgroup_id.z = m; each entry point sets `member` before
// anything else. Every buffer with a member dimension keeps member m's block at m times the block's
// size: parameters and gradients (K, P), a workspace's buffers (K, its per-member shape, sized by the
// pass's capacity C), the order (K, C). The samples and targets are shared by all members.
//
// Legend: K = members, P = PARAM_COUNT, T = WINDOW, C = capacity, B = batch of the pass.

struct PassParams {
  batch: u32,
  orderBase: u32,
  capacity: u32,
  entry: u32,
}

struct StepParams {
  index: u32,
}

override WINDOW: u32;
override PARAM_COUNT: u32;

/** The member this workgroup works for (workgroup_id.z); set first by every entry point. */
var<private> member: u32;

/** Where this member's parameters (and gradients, and optimizer state) start: (K, P). */
fn member_params() -> u32 {
  return member * PARAM_COUNT;
}

/** Where this member's part of a pass's order starts: (K, C). */
fn member_order(p: PassParams) -> u32 {
  return member * p.capacity;
}

// Row of time step t, batch row b in a layer's state buffers (c, and the inputs [y_prev | x | 1]),
// which hold (T+1) C rows a member. Step 0 (the zero initial state) lands in rows C - B .. C - 1 of the
// member's block, which no pass ever writes (every pass writes steps 1..T from row C on), so it reads as
// zero whatever batch sizes shared the workspace before; steps 1..T of a pass are contiguous.
fn state_row(p: PassParams, t: u32, b: u32) -> u32 {
  return member * (WINDOW + 1u) * p.capacity + p.capacity - p.batch + t * p.batch + b;
}

/** Where this member's block of a (K, T, C, width) buffer starts (gates, deltas, input gradients). */
fn member_steps(p: PassParams, width: u32) -> u32 {
  return member * WINDOW * p.capacity * width;
}

/** Where this member's block of a (K, C, width) buffer starts (dc, dyTop). */
fn member_rows(p: PassParams, width: u32) -> u32 {
  return member * p.capacity * width;
}
