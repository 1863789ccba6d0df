// Uniform blocks and the state layout shared by every kernel (this file is prepended to each kernel).
//
// PassParams: one entry per minibatch step of a pass, 256 bytes apart, bound with a dynamic offset, so
//   a whole epoch is encoded without writing a buffer between steps. Row b of the pass's batch is sample
//   order[orderBase + b]; `capacity` is the rows the workspace was made for; `entry` is the step's index
//   in the epoch (the update's per-step values).
// StepParams: one entry per time step t (the stepwise schedule's per-dispatch index), also dynamic.
// EpochParams: written once per epoch.

struct PassParams {
  batch: u32,
  orderBase: u32,
  capacity: u32,
  entry: u32,
}

struct StepParams {
  index: u32,
}

struct EpochParams {
  learningRate: f32,
}

// Row of time step t, batch row b in a layer's state buffers (c, and the inputs [y_prev | x | 1]),
// which hold (T+1) * capacity rows. Step 0 (the zero initial state) lands in rows capacity - B ..
// capacity - 1, which no pass ever writes (every pass writes steps 1..T from row capacity on), so it
// reads as zero whatever batch sizes shared the workspace before; steps 1..T of a pass are contiguous.
fn state_row(p: PassParams, t: u32, b: u32) -> u32 {
  return p.capacity - p.batch + t * p.batch + b;
}
