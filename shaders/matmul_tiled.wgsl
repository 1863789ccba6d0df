// Tiled matrix product C (M, N) = A (M, K) B (K, N) through workgroup memory, shared by the batched
// products (input projection, weight gradients, input gradients; appended to their sources). Each of
// those kernels supplies the hooks
//   matmul_rows() M, matmul_cols() N, matmul_depth() K,
//   load_a(row, k), load_b(k, col), store_c(row, col, value)
// so gathers (minibatch rows through the sample order) and layouts live in the kernel, tiling here.
//
// A workgroup of 8 x 8 threads computes a 32 x 32 tile of C, 4 x 4 values a thread (rows and columns
// 8 apart, so neighbouring threads touch neighbouring memory), stepping K 16 at a time. Sizes need
// not be multiples of the tile: loads past the edge read zero, stores past it are skipped.

const TILE = 32u;
const TILE_K = 16u;
const MATMUL_THREADS = 8u;
const PER_THREAD = 4u;

var<workgroup> tileA: array<f32, 512>; // (TILE, TILE_K)
var<workgroup> tileB: array<f32, 512>; // (TILE_K, TILE)

fn matmul_tiled(tile: vec2u, thread: vec2u) {
  let rows = matmul_rows();
  let cols = matmul_cols();
  let depth = matmul_depth();
  let row0 = tile.y * TILE;
  let col0 = tile.x * TILE;
  let flat = thread.y * MATMUL_THREADS + thread.x;
  var acc: array<array<f32, PER_THREAD>, PER_THREAD>;
  for (var k0 = 0u; k0 < depth; k0 += TILE_K) {
    for (var i = flat; i < TILE * TILE_K; i += MATMUL_THREADS * MATMUL_THREADS) {
      let aRow = i / TILE_K;
      let aK = i % TILE_K;
      var a = 0.0;
      if (row0 + aRow < rows && k0 + aK < depth) {
        a = load_a(row0 + aRow, k0 + aK);
      }
      tileA[i] = a;
      let bK = i / TILE;
      let bCol = i % TILE;
      var b = 0.0;
      if (k0 + bK < depth && col0 + bCol < cols) {
        b = load_b(k0 + bK, col0 + bCol);
      }
      tileB[i] = b;
    }
    workgroupBarrier();
    for (var k = 0u; k < TILE_K; k++) {
      var a: array<f32, PER_THREAD>;
      var b: array<f32, PER_THREAD>;
      for (var r = 0u; r < PER_THREAD; r++) {
        a[r] = tileA[(thread.y + r * MATMUL_THREADS) * TILE_K + k];
        b[r] = tileB[k * TILE + thread.x + r * MATMUL_THREADS];
      }
      for (var r = 0u; r < PER_THREAD; r++) {
        for (var c = 0u; c < PER_THREAD; c++) {
          acc[r][c] = fma(a[r], b[c], acc[r][c]);
        }
      }
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < PER_THREAD; r++) {
    for (var c = 0u; c < PER_THREAD; c++) {
      let row = row0 + thread.y + r * MATMUL_THREADS;
      let col = col0 + thread.x + c * MATMUL_THREADS;
      if (row < rows && col < cols) {
        store_c(row, col, acc[r][c]);
      }
    }
  }
}
