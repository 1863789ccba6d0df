// The LSTM cell's pointwise math, shared by the stepwise and the persistent kernels (prepended to
// their sources). Gates in the blog's order, packed in a vec4f: x forget, y input, z candidate,
// w output. The formulas are the blog's (src/backends/cpu/lstm.ts is the readable reference).

fn sigmoid(x: f32) -> f32 {
  return 1.0 / (1.0 + exp(-x));
}

// tanh of |x| > 15 is ±1 in f32; clamping keeps exp-based tanh implementations away from inf / inf.
fn tanh_safe(x: f32) -> f32 {
  return tanh(clamp(x, -15.0, 15.0));
}

struct CellForward {
  gates: vec4f,
  c: f32,
  y: f32,
}

// u: the four pre-activations; cPrev: the cell state before this step.
fn cell_forward(u: vec4f, cPrev: f32) -> CellForward {
  let gates = vec4f(sigmoid(u.x), sigmoid(u.y), tanh_safe(u.z), sigmoid(u.w));
  let c = gates.x * cPrev + gates.y * gates.z;
  return CellForward(gates, c, gates.w * tanh_safe(c));
}

struct CellBackward {
  // Gradients at the four pre-activations (the gate deltas).
  delta: vec4f,
  // Gradient at the previous step's cell state.
  dcPrev: f32,
}

// dy: gradient at this step's output y (from above plus from the next step); dc: at its cell state c.
fn cell_backward(gates: vec4f, cPrev: f32, c: f32, dy: f32, dc: f32) -> CellBackward {
  let f = gates.x;
  let i = gates.y;
  let g = gates.z;
  let o = gates.w;
  let tanhC = tanh_safe(c);
  let r = dc + dy * o * (1.0 - tanhC * tanhC);
  let delta = vec4f(r * cPrev * f * (1.0 - f), r * g * i * (1.0 - i), r * i * (1.0 - g * g), dy * tanhC * o * (1.0 - o));
  return CellBackward(delta, r * f);
}
