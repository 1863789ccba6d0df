// Four rows of the four gates' values (a vec4f a row, gates in the blog's order), and the
// multiply-add that the fused kernels' hot loops are made of (appended to lstm_fused_rows.wgsl, where
// the rows are batch rows, and lstm_fused_gradients.wgsl, where they are product rows). Named members,
// not an array: an array indexed in a loop lives in memory on SwiftShader.

struct Rows {
  r0: vec4f,
  r1: vec4f,
  r2: vec4f,
  r3: vec4f,
}

/** acc + x[r] w for each row r: four rows' values through the same four gates' weights w. */
fn accumulate(acc: Rows, x: vec4f, w: vec4f) -> Rows {
  return Rows(fma(vec4f(x.x), w, acc.r0), fma(vec4f(x.y), w, acc.r1), fma(vec4f(x.z), w, acc.r2), fma(vec4f(x.w), w, acc.r3));
}
