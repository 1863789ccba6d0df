// One time step of one LSTM layer's backpropagation through time as a tiled product, for GPUs:
//   dy[b, k] = dyAbove + Σ_m delta[t+1, b, m] V[k, m],  then the cell's backward (backward_cell)
// A workgroup computes TILE_ROWS batch rows x TILE_UNITS hidden units k; delta (rows x TILE_DEPTH gate
// columns) and V (units x TILE_DEPTH) pass through workgroup memory a depth slice at a time. Staging
// reads V along its rows (consecutive invocations, consecutive m) and the inner loop reads it down
// the columns from workgroup memory, so no transposed copy of V is needed here.
// An invocation holds 4 rows x 4 units; its inner loop reads one vec4 of delta (4 rows) and one of V
// (4 units) from workgroup memory for 16 multiply-adds; the epilogue is backward_row for each row.
// Entry point tiled_backward: one time step a dispatch, a grid of ceil(H / TILE_UNITS) x
// ceil(B / TILE_ROWS) workgroups of (TILE_UNITS / 4, TILE_ROWS / 4) invocations; tile sizes from
// src/backends/webgpu/recurrenceTiling.ts; workgroup z is the member.
// Appended: lstm_backward.wgsl (bindings, overrides, backward_row), lstm_cell.wgsl.
//
// Legend: as lstm_backward.wgsl; G = 4H, BT = TILE_ROWS, JT = TILE_UNITS (both multiples of 4),
//         KT = TILE_DEPTH.
// Workgroup memory:
//   deltaTile  (KT, BT/4)  vec4: delta[t+1] of rows b0+4q .. b0+4q+3 at column m0+m, at [m * BT/4 + q]
//   vTile      (KT, JT/4)  vec4: V[k0+4p .. k0+4p+3, m0+m], at [m * JT/4 + p]

override TILE_ROWS: u32;
override TILE_UNITS: u32;
override TILE_DEPTH: u32;

var<workgroup> deltaTile: array<vec4f, TILE_DEPTH * TILE_ROWS / 4u>;
var<workgroup> vTile: array<vec4f, TILE_DEPTH * TILE_UNITS / 4u>;

@compute @workgroup_size(TILE_UNITS / 4u, TILE_ROWS / 4u)
fn tiled_backward(
  @builtin(workgroup_id) tile: vec3u,
  @builtin(local_invocation_id) thread: vec3u,
  @builtin(local_invocation_index) flat: u32,
) {
  member = tile.z;
  let t = step.index;
  let batch = batchPass.batch;
  let H = HIDDEN_SIZE;
  let G = 4u * H;
  let rowQuads = TILE_ROWS / 4u;
  let unitQuads = TILE_UNITS / 4u;
  let threads = rowQuads * unitQuads;
  let k0 = tile.x * TILE_UNITS;
  let b0 = tile.y * TILE_ROWS;
  let unit0 = k0 + 4u * thread.x;
  let row0 = b0 + 4u * thread.y;
  // d_r: rows row0 + r, units unit0..unit0+3 in the components.
  var d0 = vec4f();
  var d1 = vec4f();
  var d2 = vec4f();
  var d3 = vec4f();
  if (t + 1u < WINDOW) {
    // Rows past the batch repeat the last one; units past H and columns past G read zero.
    let last = batch - 1u;
    for (var m0 = 0u; m0 < G; m0 += TILE_DEPTH) {
      for (var i = flat; i < TILE_DEPTH * rowQuads; i += threads) {
        let m = m0 + i % TILE_DEPTH;
        let r = b0 + 4u * (i / TILE_DEPTH);
        var d = vec4f();
        if (m < G) {
          d = vec4f(
            delta[delta_at(t + 1u, batch, min(r, last), m)],
            delta[delta_at(t + 1u, batch, min(r + 1u, last), m)],
            delta[delta_at(t + 1u, batch, min(r + 2u, last), m)],
            delta[delta_at(t + 1u, batch, min(r + 3u, last), m)],
          );
        }
        deltaTile[(i % TILE_DEPTH) * rowQuads + i / TILE_DEPTH] = d;
      }
      for (var i = flat; i < TILE_DEPTH * unitQuads; i += threads) {
        let m = m0 + i % TILE_DEPTH;
        let k = k0 + 4u * (i / TILE_DEPTH);
        var v = vec4f();
        if (m < G) {
          for (var e = 0u; e < 4u; e++) {
            if (k + e < H) {
              v[e] = params[member_params() + V_OFFSET + (k + e) * G + m];
            }
          }
        }
        vTile[(i % TILE_DEPTH) * unitQuads + i / TILE_DEPTH] = v;
      }
      workgroupBarrier();
      for (var m = 0u; m < TILE_DEPTH; m++) {
        let d = deltaTile[m * rowQuads + thread.y];
        let v = vTile[m * unitQuads + thread.x];
        d0 = fma(vec4f(d.x), v, d0);
        d1 = fma(vec4f(d.y), v, d1);
        d2 = fma(vec4f(d.z), v, d2);
        d3 = fma(vec4f(d.w), v, d3);
      }
      // The next slice overwrites the tiles.
      workgroupBarrier();
    }
  }
  if (row0 < batch && unit0 < H) {
    backward_row(t, batch, row0, unit0, d0);
    if (row0 + 1u < batch) {
      backward_row(t, batch, row0 + 1u, unit0, d1);
    }
    if (row0 + 2u < batch) {
      backward_row(t, batch, row0 + 2u, unit0, d2);
    }
    if (row0 + 3u < batch) {
      backward_row(t, batch, row0 + 3u, unit0, d3);
    }
  }
}
