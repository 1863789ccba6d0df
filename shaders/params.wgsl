// Uniform blocks shared by every kernel (this file is prepended to each kernel's source).
//
// PassParams: one entry per minibatch step of a pass, 256 bytes apart, bound with a dynamic offset, so
//   a whole epoch is encoded without writing a buffer between steps. Row b of the pass's batch is sample
//   order[orderBase + b].
// StepParams: one entry per time step t (the stepwise schedule's per-dispatch index), also dynamic.
// EpochParams: written once per epoch.

struct PassParams {
  batch: u32,
  orderBase: u32,
}

struct StepParams {
  index: u32,
}

struct EpochParams {
  learningRate: f32,
}
