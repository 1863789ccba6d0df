// Matrix product C (M, N) = A (M, K) B (K, N), shared by the batched products (input projection,
// weight gradients, input gradients; appended to their sources). Each of those kernels supplies the hooks
//   matmul_rows() M, matmul_cols() N, matmul_depth() K,
//   load_a4(row, k, once)  A[row..row+3, k]  (rows past M may hold anything finite: they are not stored;
//                          `once` is true for exactly one load of each A element in the dispatch, for
//                          kernels that also copy A somewhere)
//   load_b(k, col)    B[k, col]             (col < N)
//   store_c(row, col, value)
// so gathers (minibatch rows through the sample order) and layouts live in the kernel, tiling here.
// Four values a hook call let a kernel decide once for four rows which operand they come from.
//
// A workgroup of 8 x 8 threads computes a 32 x 32 tile of C, 4 x 4 values a thread held in four vec4
// registers. Two entry points, same grid:
//   matmul_workgroup_tiles  A and B pass through workgroup memory TILE_K = 16 deep at a time, each
//                           value loaded from storage once per workgroup (the classic tiling, for GPUs)
//   matmul_registers        each thread reads its rows of A and columns of B straight from storage;
//                           on SwiftShader (a CPU) workgroup memory is slower than storage and its
//                           zero-initialisation and barriers cost more than they save (measured: 2-3x)
// Sizes need not be multiples of the tile: the hooks clamp at the edge, loads past the depth read zero,
// stores past the edge are skipped. A large product may be dispatched in parts, each over a band of
// row tiles starting at TILE_ROW_BASE (workgroup y counts from there), so that no dispatch is long.
// Workgroup z is the member (params.wgsl): the hooks read and write that member's blocks.

/** The first row tile of this dispatch's band (0: the whole product in one dispatch). */
override TILE_ROW_BASE: u32 = 0u;

const TILE = 32u;
const TILE_K = 16u;
const MATMUL_THREADS = 8u;

var<workgroup> tileA: array<vec4f, 128>; // (TILE_K, TILE / 4): A[4q..4q+3, k] at [k * 8 + q]
var<workgroup> tileB: array<vec4f, 128>; // (TILE_K, TILE / 4): B[k, 4q..4q+3] at [k * 8 + q]

fn store_row(row: u32, col: u32, value: vec4f) {
  if (row >= matmul_rows()) {
    return;
  }
  let cols = matmul_cols();
  for (var e = 0u; e < 4u; e++) {
    if (col + e < cols) {
      store_c(row, col + e, value[e]);
    }
  }
}

@compute @workgroup_size(MATMUL_THREADS, MATMUL_THREADS)
fn matmul_workgroup_tiles(@builtin(workgroup_id) tile: vec3u, @builtin(local_invocation_id) thread: vec3u) {
  member = tile.z;
  let rows = matmul_rows();
  let cols = matmul_cols();
  let depth = matmul_depth();
  let row0 = (tile.y + TILE_ROW_BASE) * TILE;
  let col0 = tile.x * TILE;
  let flat = thread.y * MATMUL_THREADS + thread.x;
  var c0 = vec4f();
  var c1 = vec4f();
  var c2 = vec4f();
  var c3 = vec4f();
  for (var k0 = 0u; k0 < depth; k0 += TILE_K) {
    for (var i = flat; i < TILE_K * TILE / 4u; i += MATMUL_THREADS * MATMUL_THREADS) {
      let k = i / (TILE / 4u);
      let q = i % (TILE / 4u);
      var a = vec4f();
      var b = vec4f();
      if (k0 + k < depth) {
        if (row0 + 4u * q < rows) {
          a = load_a4(row0 + 4u * q, k0 + k, tile.x == 0u);
        }
        for (var e = 0u; e < 4u; e++) {
          if (col0 + 4u * q + e < cols) {
            b[e] = load_b(k0 + k, col0 + 4u * q + e);
          }
        }
      }
      tileA[i] = a;
      tileB[i] = b;
    }
    workgroupBarrier();
    for (var k = 0u; k < TILE_K; k++) {
      let a = tileA[k * (TILE / 4u) + thread.y];
      let b = tileB[k * (TILE / 4u) + thread.x];
      c0 = fma(vec4f(a.x), b, c0);
      c1 = fma(vec4f(a.y), b, c1);
      c2 = fma(vec4f(a.z), b, c2);
      c3 = fma(vec4f(a.w), b, c3);
    }
    workgroupBarrier();
  }
  let r = row0 + 4u * thread.y;
  let c = col0 + 4u * thread.x;
  store_row(r, c, c0);
  store_row(r + 1u, c, c1);
  store_row(r + 2u, c, c2);
  store_row(r + 3u, c, c3);
}

@compute @workgroup_size(MATMUL_THREADS, MATMUL_THREADS)
fn matmul_registers(@builtin(workgroup_id) tile: vec3u, @builtin(local_invocation_id) thread: vec3u) {
  member = tile.z;
  let rows = matmul_rows();
  let cols = matmul_cols();
  let depth = matmul_depth();
  // Rows 4ty..4ty+3 as in the tiled entry point, but columns tx, tx+8, tx+16, tx+24: neighbouring
  // invocations read neighbouring B values (SwiftShader turns that into vector loads).
  let r = (tile.y + TILE_ROW_BASE) * TILE + 4u * thread.y;
  let c = tile.x * TILE + thread.x;
  if (r >= rows || c >= cols) {
    return;
  }
  let c1 = min(c + MATMUL_THREADS, cols - 1u);
  let c2 = min(c + 2u * MATMUL_THREADS, cols - 1u);
  let c3 = min(c + 3u * MATMUL_THREADS, cols - 1u);
  var acc0 = vec4f();
  var acc1 = vec4f();
  var acc2 = vec4f();
  var acc3 = vec4f();
  for (var k = 0u; k < depth; k++) {
    let a = load_a4(r, k, tile.x == 0u && thread.x == 0u);
    let b = vec4f(load_b(k, c), load_b(k, c1), load_b(k, c2), load_b(k, c3));
    acc0 = fma(vec4f(a.x), b, acc0);
    acc1 = fma(vec4f(a.y), b, acc1);
    acc2 = fma(vec4f(a.z), b, acc2);
    acc3 = fma(vec4f(a.w), b, acc3);
  }
  store_strided(r, c, acc0);
  store_strided(r + 1u, c, acc1);
  store_strided(r + 2u, c, acc2);
  store_strided(r + 3u, c, acc3);
}

fn store_strided(row: u32, col: u32, value: vec4f) {
  if (row >= matmul_rows()) {
    return;
  }
  let cols = matmul_cols();
  for (var e = 0u; e < 4u; e++) {
    if (col + e * MATMUL_THREADS < cols) {
      store_c(row, col + e * MATMUL_THREADS, value[e]);
    }
  }
}
