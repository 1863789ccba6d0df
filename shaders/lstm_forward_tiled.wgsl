// One time step of one LSTM layer's forward recurrence as a tiled product, for GPUs:
//   u[b, g*H + j] = gates[t, b, g*H + j] + Σ_k y[t][b, k] V[k, g*H + j],  then the cell (forward_cell)
// A workgroup computes TILE_ROWS batch rows x TILE_UNITS hidden units, all four gates of each, so the
// cell math runs on the tile in registers as the product's epilogue. y (rows x TILE_DEPTH) and V
// (TILE_DEPTH x units x 4 gates) pass through workgroup memory a depth slice at a time: each value is
// read from memory once per workgroup, where lstm_forward.wgsl reads all of V once per 4-row item.
// An invocation holds 4 rows x 1 unit x 4 gates; its inner loop reads one vec4 of y (4 rows) and one
// of V (4 gates) from workgroup memory for 16 multiply-adds.
// Entry point tiled_forward: one time step a dispatch (the step uniform says which), a grid of
// ceil(H / TILE_UNITS) x ceil(B / TILE_ROWS) workgroups of (TILE_UNITS, TILE_ROWS / 4) invocations;
// tile sizes from src/backends/webgpu/recurrenceTiling.ts; workgroup z is the member.
// Appended: lstm_forward.wgsl (bindings, overrides, pre_activations, forward_cell), lstm_cell.wgsl.
//
// Legend: as lstm_forward.wgsl; BT = TILE_ROWS (a multiple of 4), JT = TILE_UNITS, KT = TILE_DEPTH.
// Workgroup memory:
//   yTile  (KT, BT/4)  vec4: y of rows b0+4q .. b0+4q+3 at depth k0+k, at [k * BT/4 + q]
//   vTile  (KT, JT)    vec4: V[k0+k, g*H + j0+j] for the four gates g, at [k * JT + j]

override TILE_ROWS: u32;
override TILE_UNITS: u32;
override TILE_DEPTH: u32;

var<workgroup> yTile: array<vec4f, TILE_DEPTH * TILE_ROWS / 4u>;
var<workgroup> vTile: array<vec4f, TILE_DEPTH * TILE_UNITS>;

@compute @workgroup_size(TILE_UNITS, TILE_ROWS / 4u)
fn tiled_forward(
  @builtin(workgroup_id) tile: vec3u,
  @builtin(local_invocation_id) thread: vec3u,
  @builtin(local_invocation_index) flat: u32,
) {
  member = tile.z;
  let t = step.index;
  let batch = batchPass.batch;
  let H = HIDDEN_SIZE;
  let G = 4u * H;
  let S = H + INPUT_SIZE + 1u;
  let quads = TILE_ROWS / 4u;
  let threads = TILE_UNITS * quads;
  let j0 = tile.x * TILE_UNITS;
  let b0 = tile.y * TILE_ROWS;
  let j = j0 + thread.x;
  let row0 = b0 + 4u * thread.y;
  let last = batch - 1u;
  var u0 = vec4f();
  var u1 = vec4f();
  var u2 = vec4f();
  var u3 = vec4f();
  // Invocations wholly past the batch or past H only help stage the tiles (their pre-activations
  // would be another invocation's, which it overwrites). Rows of a quad past the batch repeat the
  // last one and are not stored.
  if (row0 < batch && j < H) {
    u0 = pre_activations(t, batch, row0, j);
    u1 = pre_activations(t, batch, min(row0 + 1u, last), j);
    u2 = pre_activations(t, batch, min(row0 + 2u, last), j);
    u3 = pre_activations(t, batch, min(row0 + 3u, last), j);
  }
  // y_prev is zero at the first step, so its product is skipped there.
  if (t > 0u) {
    for (var k0 = 0u; k0 < H; k0 += TILE_DEPTH) {
      // Consecutive invocations load consecutive k of a y row, and consecutive units of a V row.
      for (var i = flat; i < TILE_DEPTH * quads; i += threads) {
        let k = k0 + i % TILE_DEPTH;
        let r = b0 + 4u * (i / TILE_DEPTH);
        var y = vec4f();
        if (k < H) {
          y = vec4f(
            inputs[state_row(batchPass, t, min(r, last)) * S + k],
            inputs[state_row(batchPass, t, min(r + 1u, last)) * S + k],
            inputs[state_row(batchPass, t, min(r + 2u, last)) * S + k],
            inputs[state_row(batchPass, t, min(r + 3u, last)) * S + k],
          );
        }
        yTile[(i % TILE_DEPTH) * quads + i / TILE_DEPTH] = y;
      }
      for (var i = flat; i < TILE_DEPTH * TILE_UNITS; i += threads) {
        let k = k0 + i / TILE_UNITS;
        let column = j0 + i % TILE_UNITS;
        var v = vec4f();
        if (k < H && column < H) {
          let at = member_params() + V_OFFSET + k * G + column;
          v = vec4f(params[at], params[at + H], params[at + 2u * H], params[at + 3u * H]);
        }
        vTile[i] = v;
      }
      workgroupBarrier();
      for (var k = 0u; k < TILE_DEPTH; k++) {
        let y = yTile[k * quads + thread.y];
        let v = vTile[k * TILE_UNITS + thread.x];
        u0 = fma(vec4f(y.x), v, u0);
        u1 = fma(vec4f(y.y), v, u1);
        u2 = fma(vec4f(y.z), v, u2);
        u3 = fma(vec4f(y.w), v, u3);
      }
      // The next slice overwrites the tiles.
      workgroupBarrier();
    }
  }
  if (row0 < batch && j < H) {
    forward_cell(t, batch, row0, j, u0);
    if (row0 + 1u < batch) {
      forward_cell(t, batch, row0 + 1u, j, u1);
    }
    if (row0 + 2u < batch) {
      forward_cell(t, batch, row0 + 2u, j, u2);
    }
    if (row0 + 3u < batch) {
      forward_cell(t, batch, row0 + 3u, j, u3);
    }
  }
}
