// Vᵀ of every LSTM layer in one dispatch, refreshed after each update, for the coalesced backward step
// (lstm_backward_coalesced.wgsl), whose consecutive invocations then read consecutive addresses:
//   recurrentTransposed[transposedOffset + m * H + k] = params[vOffset + k * 4H + m]   (H, 4H) -> (4H, H)
// Two entry points, for the two tunings:
//   transpose_tiles     a workgroup moves one 32 x 32 tile through workgroup memory, so loads and
//                       stores both run along rows (128 contiguous bytes a warp); workgroups are
//                       numbered across all layers' tiles, a layer's first tile in its table entry
//   transpose_elements  an invocation moves one value, stores along rows, no workgroup memory or
//                       barrier (SwiftShader, where those cost more than the scattered loads)
//
// Workgroup z is the member (params.wgsl): each member's V into its own block of Vᵀ.
//
// Legend: K = members, L = LAYER_COUNT, H = a layer's hidden size, P = parameter count.
// Buffers:
//   params               (K, P)         V (H, 4H) of layer l at transposeLayers[l].vOffset
//   recurrentTransposed  (K, Σ 4H²)     Vᵀ (4H, H) of layer l at transposeLayers[l].transposedOffset
//   transposeLayers      (L)            per layer: where V and Vᵀ sit, H, the layer's first tile

struct TransposeLayer {
  vOffset: u32,
  transposedOffset: u32,
  hiddenSize: u32,
  firstTile: u32,
}

override LAYER_COUNT: u32;
/** Σ 4H² over the layers: a member's block of recurrentTransposed. */
override TRANSPOSED_SIZE: u32;

const TRANSPOSE_TILE = 32u;
/** Rows of invocations: each moves TRANSPOSE_TILE / TRANSPOSE_ROWS values. */
const TRANSPOSE_ROWS = 8u;
/** A row of the tile padded by one, so reading a column touches 32 different banks. */
const TILE_STRIDE = TRANSPOSE_TILE + 1u;
/** Invocations a workgroup of transpose_elements. */
const ELEMENT_WORKGROUP = 64u;

@group(0) @binding(0) var<storage, read> params: array<f32>;
@group(0) @binding(1) var<storage, read_write> recurrentTransposed: array<f32>;
@group(0) @binding(2) var<storage, read> transposeLayers: array<TransposeLayer>;

var<workgroup> tile: array<f32, TRANSPOSE_TILE * TILE_STRIDE>;

@compute @workgroup_size(TRANSPOSE_TILE, TRANSPOSE_ROWS)
fn transpose_tiles(
  @builtin(workgroup_id) group: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_id) thread: vec3u,
) {
  member = group.z;
  // The grid is 2-D when the tiles need more than maxComputeWorkgroupsPerDimension workgroups.
  let tileIndex = group.y * groups.x + group.x;
  var l = 0u;
  for (var next = 1u; next < LAYER_COUNT; next++) {
    if (tileIndex >= transposeLayers[next].firstTile) {
      l = next;
    }
  }
  let layer = transposeLayers[l];
  let H = layer.hiddenSize;
  let G = 4u * H;
  let columnTiles = (G + TRANSPOSE_TILE - 1u) / TRANSPOSE_TILE;
  let rowTiles = (H + TRANSPOSE_TILE - 1u) / TRANSPOSE_TILE;
  let local = tileIndex - layer.firstTile;
  // Workgroups past the last tile (the 2-D grid's remainder) still reach the barrier.
  let inTile = local < rowTiles * columnTiles;
  let k0 = (local / columnTiles) * TRANSPOSE_TILE;
  let m0 = (local % columnTiles) * TRANSPOSE_TILE;
  for (var r = thread.y; r < TRANSPOSE_TILE; r += TRANSPOSE_ROWS) {
    let k = k0 + r;
    let m = m0 + thread.x;
    if (inTile && k < H && m < G) {
      tile[r * TILE_STRIDE + thread.x] = params[member_params() + layer.vOffset + k * G + m];
    }
  }
  workgroupBarrier();
  for (var r = thread.y; r < TRANSPOSE_TILE; r += TRANSPOSE_ROWS) {
    let m = m0 + r;
    let k = k0 + thread.x;
    if (inTile && k < H && m < G) {
      recurrentTransposed[member * TRANSPOSED_SIZE + layer.transposedOffset + m * H + k] = tile[thread.x * TILE_STRIDE + r];
    }
  }
}

@compute @workgroup_size(ELEMENT_WORKGROUP)
fn transpose_elements(
  @builtin(global_invocation_id) id: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(workgroup_id) group: vec3u,
) {
  member = group.z;
  // Element e of the member's Vᵀ; the grid is 2-D past maxComputeWorkgroupsPerDimension.
  let e = id.y * groups.x * ELEMENT_WORKGROUP + id.x;
  var l = 0u;
  for (var next = 1u; next < LAYER_COUNT; next++) {
    if (e >= transposeLayers[next].transposedOffset) {
      l = next;
    }
  }
  let layer = transposeLayers[l];
  let H = layer.hiddenSize;
  let local = e - layer.transposedOffset;
  if (local < 4u * H * H) {
    // Vᵀ[m, k] = V[k, m]
    recurrentTransposed[member * TRANSPOSED_SIZE + e] = params[member_params() + layer.vOffset + (local % H) * 4u * H + local / H];
  }
}
