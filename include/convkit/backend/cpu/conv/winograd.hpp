// Compiled once per instruction set, in namespace cpu::CONVKIT_ISA_COPY (kernels_by_isa.hpp).
// Winograd's F(2x2, 3x3) for 3x3, stride-1 float convolutions with many channels, for
// the forward pass and both gradients (Lavin and Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2016). Each 2x2 block of outputs (a tile) comes from a 4x4 block of input d:
//   Y = A^T [ (G g G^T) (.) (B^T d B) ] A
// where (.) multiplies elementwise. Summed over input channels, the 16 elementwise
// products are 16 matrix products U[xi] (O x C) * V[xi] (C x tiles): 16 multiplications
// per tile and channel pair where direct convolution needs 36, so 2.25x fewer flops. The
// transforms are additions. The tiles run in chunks of whole tile rows, small enough
// that a chunk's V and products stay in cache; chunks run in parallel. The input
// gradient is the forward pass of the output gradient with the forward's transformed
// weights, transposed and permuted (winograd_input_gradient), the weight gradient the
// adjoint of each step of the forward (winograd_weight_gradient).
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include "../../../core/geometry.hpp"
#include "../elementwise.hpp"
#include "../gemm.hpp"
#include "../memory.hpp"
#include "../parallel.hpp"

namespace convkit::backend::cpu::CONVKIT_ISA_COPY {

namespace winograd {

constexpr int kTileValues = 16;  // a 4x4 transformed tile
constexpr int64_t kBlock = 8;    // tiles per vector pass of a transform (see for_blocks)

/// (o, c) pairs per block of the weight transforms: the 16 matrices of U lie 4 * O * C
/// bytes apart, a power of two for most layers, so single floats stored to (or loaded
/// from) all 16 at once map to one set of the caches and evict each other (ResNet's
/// 512-channel layers spent about 150 cycles per kernel that way). A block goes through
/// small buffers: it reaches each matrix as whole cache lines, and its kernels, stored
/// one after another, are turned into nine rows of the block so that the transform runs
/// across the block in vectors.
constexpr int64_t kWeightBlock = 64;

/// Calls body(oc0, n) for the blocks of kWeightBlock (o, c) pairs of an O x C layer, pairs
/// [oc0, oc0 + n), the blocks in parallel.
template <class Body>
void for_weight_blocks(int64_t O, int64_t C, Body body) {
  const int64_t OC = O * C, blocks = (OC + kWeightBlock - 1) / kWeightBlock;
  parallel_for(blocks, 64 * kWeightBlock, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) body(b * kWeightBlock, std::min(kWeightBlock, OC - b * kWeightBlock));
  });
}

/// U[xi] = (G g G^T)[xi] for every (o, c): 16 matrices of O x C, xi = 4 * row + column.
/// G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1].
inline void transform_weights(int64_t O, int64_t C, const float* w, float* U) {
  const int64_t OC = O * C;
  for_weight_blocks(O, C, [&](int64_t oc0, int64_t n) {
    alignas(64) float k[9][kWeightBlock];
    alignas(64) float u[kTileValues][kWeightBlock];
    const float* src = w + oc0 * 9;
    for (int64_t j = 0; j < n; ++j)
      for (int m = 0; m < 9; ++m) k[m][j] = src[j * 9 + m];
    CONVKIT_SIMD for (int64_t j = 0; j < n; ++j) {
      float t[4][3];  // G g: the rows
      for (int c = 0; c < 3; ++c) {
        t[0][c] = k[c][j];
        t[1][c] = 0.5f * (k[c][j] + k[3 + c][j] + k[6 + c][j]);
        t[2][c] = 0.5f * (k[c][j] - k[3 + c][j] + k[6 + c][j]);
        t[3][c] = k[6 + c][j];
      }
      for (int i = 0; i < 4; ++i) {  // (G g) G^T: the columns
        u[4 * i + 0][j] = t[i][0];
        u[4 * i + 1][j] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
        u[4 * i + 2][j] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
        u[4 * i + 3][j] = t[i][2];
      }
    }
    for (int xi = 0; xi < kTileValues; ++xi) copy_short(u[xi], n, U + xi * OC + oc0);
  });
}

/// Where the tiles are: tile row r of the batch is image r / tiles_h's tile row
/// r % tiles_h, tiles_w tiles wide; a chunk is a run of tile rows [r0, r1).
struct Layout {
  /// Tiles down and across one image.
  ///@{
  int64_t tiles_h, tiles_w;
  ///@}
  int64_t row_width;       ///< a zero-padded input row: W + 2 * pw, plus slack for the last tile
  int64_t tiles_w_blocks;  ///< tiles_w rounded up to whole kBlock blocks (see for_blocks)
  /// The tiles of g's output.
  explicit Layout(const Conv2dGeometry& g)
      : tiles_h((g.OH + 1) / 2),
        tiles_w((g.OW + 1) / 2),
        row_width(2 * tiles_w + 2 + 16),
        tiles_w_blocks((tiles_w + kBlock - 1) / kBlock * kBlock) {}
  /// Floats of scratch the transforms need for chunks of up to `chunk_rows` tile rows.
  int64_t scratch_size(int64_t chunk_rows) const {
    const int64_t segment = std::min(chunk_rows, tiles_h);  // tile rows of one image in a chunk
    return (2 * segment + 2) * row_width;                   // the padded input rows; row_width >= 2 * tiles_w_blocks
  }
};

/// The 16 transformed matrices of `rows` x T (V, the products M) each begin this many floats
/// after the previous one: T per row, plus a block of slack that the last row's
/// rounding (for_blocks) writes or reads.
inline int64_t matrix_stride(int64_t rows, int64_t T) { return rows * T + kBlock; }

/// Calls body(k) for k in [0, n) in whole blocks of kBlock: a loop of fixed length, which
/// the compiler turns into one vector pass, where a loop over a 14-wide layer's 7 tiles
/// stays scalar (and takes half the time of the weight gradient). body also runs for k in
/// [n, n rounded up to kBlock): what it writes there lands on the next tile row, on the
/// next row of the matrix (both written later), or in the matrix's slack
/// (matrix_stride); what it reads there is slack.
template <class Body>
void for_blocks(int64_t n, Body body) {
  for (int64_t k0 = 0; k0 < n; k0 += kBlock) {
    CONVKIT_SIMD for (int64_t k = 0; k < kBlock; ++k) body(k0 + k);
  }
}

/// Rows [h0, h0 + count) of an H x W plane into rows of `width` floats at dst, shifted
/// right by `left` columns, zero around the plane (and for rows outside it).
inline void copy_padded_rows(const float* plane, int64_t H, int64_t W, int64_t h0, int64_t count, int64_t left,
                             int64_t width, float* dst) {
  for (int64_t j = 0; j < count; ++j, dst += width) {
    const int64_t h = h0 + j;
    std::fill(dst, dst + width, 0.0f);
    if (h >= 0 && h < H) copy_short(plane + h * W, std::min(W, width - left), dst + left);
  }
}

/// Walks tile rows [r0, r1) of the batch image by image: body(n, first, count, tile) for
/// image n's tile rows [first, first + count), whose first tile is the chunk's tile `tile`.
template <class Body>
void for_each_image(const Layout& L, int64_t r0, int64_t r1, Body body) {
  for (int64_t r = r0; r < r1;) {
    const int64_t n = r / L.tiles_h, end = std::min(r1, (n + 1) * L.tiles_h);
    body(n, r % L.tiles_h, end - r, (r - r0) * L.tiles_w);
    r = end;
  }
}

/// V[xi][c][t] = (B^T d B)[xi] for tile t of the chunk and channel c (T tiles in all; the
/// matrices V[xi] are matrix_stride(C, T) apart),
/// B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]. The input rows a chunk's tile rows read
/// in one image are first copied, zero-padded, into a block of rows; then each tile's
/// transform reads its 4x4 block straight from them. (Copying each tile row's four rows
/// just before reading them, and storing the row transform before the column transform
/// read it, stalled those loads on store forwarding: the loads straddled the stores.)
inline void transform_input(const Conv2dGeometry& g, const Layout& L, const float* x, int64_t r0, int64_t r1, int64_t T,
                            float* V, float* scratch) {
  const int64_t width = L.row_width, stride = matrix_stride(g.C, T);
  float* padded = scratch;  // one image's rows for the chunk's tile rows
  for (int64_t c = 0; c < g.C; ++c) {
    for_each_image(L, r0, r1, [&](int64_t n, int64_t first, int64_t count, int64_t tile) {
      const float* plane = x + (n * g.C + c) * g.H * g.W;
      copy_padded_rows(plane, g.H, g.W, 2 * first - g.ph, 2 * count + 2, g.pw, width, padded);
      for (int64_t ti = 0; ti < count; ++ti, tile += L.tiles_w) {
        const float* rows[4];
        for (int i = 0; i < 4; ++i) rows[i] = padded + (2 * ti + i) * width;
        float* v[16];
        for (int xi = 0; xi < 16; ++xi) v[xi] = V + xi * stride + c * T + tile;
        for_blocks(L.tiles_w, [&](int64_t k) CONVKIT_INLINE_BODY {
          // Tile k reads columns 2k .. 2k+3 of the four rows. First B^T d, row by row ...
          float t[4][4];
          CONVKIT_UNROLL(4)
          for (int j = 0; j < 4; ++j) {
            const float d0 = rows[0][2 * k + j], d1 = rows[1][2 * k + j], d2 = rows[2][2 * k + j],
                        d3 = rows[3][2 * k + j];
            t[0][j] = d0 - d2;
            t[1][j] = d1 + d2;
            t[2][j] = d2 - d1;
            t[3][j] = d1 - d3;
          }
          CONVKIT_UNROLL(4)
          for (int i = 0; i < 4; ++i) {  // ... then (B^T d) B, column by column
            v[4 * i][k] = t[i][0] - t[i][2];
            v[4 * i + 1][k] = t[i][1] + t[i][2];
            v[4 * i + 2][k] = t[i][2] - t[i][1];
            v[4 * i + 3][k] = t[i][1] - t[i][3];
          }
        });
      }
    });
  }
}

/// y for tile rows [r0, r1) from the products M[xi][o][t] (T tiles; matrix_stride(O, T)
/// apart), plus the bias:
/// Y = A^T m A with A^T = [1 1 1 0; 0 1 -1 -1]. A last tile row or column past an odd
/// output size is dropped.
inline void transform_output(const Conv2dGeometry& g, const Layout& L, const float* M, const float* b, int64_t r0,
                             int64_t r1, int64_t T, float* y, float* scratch) {
  const int64_t tw = L.tiles_w, stride = matrix_stride(g.O, T);
  float* out[2] = {scratch, scratch + 2 * L.tiles_w_blocks};  // the two output rows of a tile row
  for (int64_t o = 0; o < g.O; ++o) {
    const float bias = b ? b[o] : 0.0f;
    int64_t tile = 0;
    for (int64_t r = r0; r < r1; ++r, tile += tw) {
      const int64_t n = r / L.tiles_h, ti = r % L.tiles_h;
      const float* mm[16];
      for (int xi = 0; xi < 16; ++xi) mm[xi] = M + xi * stride + o * T + tile;
      float *row0 = out[0], *row1 = out[1];
      // Past tiles_w, this reads slack in M and writes the rows' slack.
      for_blocks(tw, [&](int64_t k) CONVKIT_INLINE_BODY {
        float s0[4], s1[4];  // A^T m: its two rows
        CONVKIT_UNROLL(4)
        for (int j = 0; j < 4; ++j) {
          s0[j] = mm[j][k] + mm[4 + j][k] + mm[8 + j][k];
          s1[j] = mm[4 + j][k] - mm[8 + j][k] - mm[12 + j][k];
        }
        row0[2 * k] = s0[0] + s0[1] + s0[2] + bias;
        row0[2 * k + 1] = s0[1] - s0[2] - s0[3] + bias;
        row1[2 * k] = s1[0] + s1[1] + s1[2] + bias;
        row1[2 * k + 1] = s1[1] - s1[2] - s1[3] + bias;
      });
      float* yo = y + (n * g.O + o) * g.OH * g.OW;
      for (int i = 0; i < 2; ++i) {
        const int64_t h = 2 * ti + i;
        if (h < g.OH) copy_short(out[i], g.OW, yo + h * g.OW);
      }
    }
  }
}

/// Mg[xi][o][t] = (A dY A^T)[xi] for tile t of the chunk (laid out as M in
/// transform_output): the output gradient carried back through Y = A^T m A (the adjoint
/// of transform_output), A = [1 0; 1 1; 1 -1; 0 -1].
/// Outputs past an odd output size count as zero. As in transform_input, the rows a chunk
/// reads in one image are copied, zero-padded, before any is read.
inline void transform_output_gradient(const Conv2dGeometry& g, const Layout& L, const float* gy, int64_t r0, int64_t r1,
                                      int64_t T, float* Mg, float* scratch) {
  const int64_t tw = L.tiles_w, width = 2 * L.tiles_w_blocks, stride = matrix_stride(g.O, T);
  float* padded = scratch;  // one image's rows for the chunk's tile rows
  for (int64_t o = 0; o < g.O; ++o) {
    for_each_image(L, r0, r1, [&](int64_t n, int64_t first, int64_t count, int64_t tile) {
      const float* plane = gy + (n * g.O + o) * g.OH * g.OW;
      copy_padded_rows(plane, g.OH, g.OW, 2 * first, 2 * count, 0, width, padded);
      for (int64_t ti = 0; ti < count; ++ti, tile += tw) {
        const float* y0 = padded + 2 * ti * width;
        const float* y1 = y0 + width;
        float* mg[16];
        for (int xi = 0; xi < 16; ++xi) mg[xi] = Mg + xi * stride + o * T + tile;
        for_blocks(tw, [&](int64_t k) CONVKIT_INLINE_BODY {
          // A dY: four rows [p0, q0], [p0 + p1, q0 + q1], [p0 - p1, q0 - q1], [-p1, -q1];
          // then A^T on the right turns each row [p, q] into [p, p + q, p - q, -q].
          const float p0 = y0[2 * k], q0 = y0[2 * k + 1], p1 = y1[2 * k], q1 = y1[2 * k + 1];
          const float sp = p0 + p1, sq = q0 + q1, dp = p0 - p1, dq = q0 - q1;
          mg[0][k] = p0;
          mg[1][k] = p0 + q0;
          mg[2][k] = p0 - q0;
          mg[3][k] = -q0;
          mg[4][k] = sp;
          mg[5][k] = sp + sq;
          mg[6][k] = sp - sq;
          mg[7][k] = -sq;
          mg[8][k] = dp;
          mg[9][k] = dp + dq;
          mg[10][k] = dp - dq;
          mg[11][k] = -dq;
          mg[12][k] = -p1;
          mg[13][k] = -p1 - q1;
          mg[14][k] = q1 - p1;
          mg[15][k] = q1;
        });
      }
    });
  }
}

/// gw[o][c] = G^T dU[.][o][c] G, the adjoint of transform_weights: dU holds 16 matrices
/// of O x C (the gradient with respect to U); gw, (O, C, 3, 3), is overwritten. Blocks of
/// kWeightBlock pairs, as transform_weights.
inline void transform_weight_gradient(int64_t O, int64_t C, const float* dU, float* gw) {
  const int64_t OC = O * C;
  for_weight_blocks(O, C, [&](int64_t oc0, int64_t n) {
    alignas(64) float du[kTileValues][kWeightBlock];
    alignas(64) float k[9][kWeightBlock];
    for (int xi = 0; xi < kTileValues; ++xi) copy_short(dU + xi * OC + oc0, n, du[xi]);
    CONVKIT_SIMD for (int64_t j = 0; j < n; ++j) {
      float t[3][4];  // G^T u, G^T = [1 1/2 1/2 0; 0 1/2 -1/2 0; 0 1/2 1/2 1]
      for (int c = 0; c < 4; ++c) {
        t[0][c] = du[c][j] + 0.5f * (du[4 + c][j] + du[8 + c][j]);
        t[1][c] = 0.5f * (du[4 + c][j] - du[8 + c][j]);
        t[2][c] = 0.5f * (du[4 + c][j] + du[8 + c][j]) + du[12 + c][j];
      }
      for (int i = 0; i < 3; ++i) {  // (G^T u) G
        k[3 * i][j] = t[i][0] + 0.5f * (t[i][1] + t[i][2]);
        k[3 * i + 1][j] = 0.5f * (t[i][1] - t[i][2]);
        k[3 * i + 2][j] = 0.5f * (t[i][1] + t[i][2]) + t[i][3];
      }
    }
    float* dst = gw + oc0 * 9;
    for (int64_t j = 0; j < n; ++j)
      for (int m = 0; m < 9; ++m) dst[j * 9 + m] = k[m][j];
  });
}

/// A batch's tile rows in chunks of about 256 tiles, the chunk count a multiple of the
/// threads so that they get equal shares. With 256 tiles, each product reuses its packed
/// U[xi] (L2-sized for 256 channels) over eight column panels; with a few dozen tiles,
/// streaming U dominated.
class Chunks {
 public:
  /// The chunks of g's tiles.
  Chunks(const Conv2dGeometry& g, const Layout& L) : total_rows_(g.N * L.tiles_h) {
    const int64_t threads = max_threads();
    count_ = std::max<int64_t>(1, (total_rows_ * L.tiles_w + 255) / 256);
    count_ = std::min(total_rows_, (count_ + threads - 1) / threads * threads);
    rows_per_chunk_ = (total_rows_ + count_ - 1) / count_;
    count_ = (total_rows_ + rows_per_chunk_ - 1) / rows_per_chunk_;
    max_tiles_ = rows_per_chunk_ * L.tiles_w;
  }
  /// Number of chunks.
  int64_t count() const { return count_; }
  /// Tiles in the largest chunk.
  int64_t max_tiles() const { return max_tiles_; }
  /// Tile rows in the largest chunk.
  int64_t rows_per_chunk() const { return rows_per_chunk_; }
  /// Tile rows [first, second) of chunk i.
  std::pair<int64_t, int64_t> rows(int64_t i) const {
    const int64_t r0 = i * rows_per_chunk_;
    return {r0, std::min(total_rows_, r0 + rows_per_chunk_)};
  }

 private:
  int64_t total_rows_, count_ = 0, rows_per_chunk_ = 0, max_tiles_ = 0;
};

/// Runs body(first, r0, r1, T, V, M, scratch) for every chunk of g's tiles, the chunks in
/// parallel: tile rows [r0, r1), T tiles, with the thread's own workspaces for V (C rows),
/// M (O rows; the products, or the transformed output gradient) and the transforms'
/// scratch. `first` is true for a thread's first chunk.
template <class Body>
void for_each_chunk(const Conv2dGeometry& g, const Layout& L, Body body) {
  const Chunks chunks(g, L);
  const int64_t T_max = chunks.max_tiles();
  parallel_for(chunks.count(), kTileValues * g.O * g.C * T_max * 2, [&](int64_t c0, int64_t c1) {
    Workspace<float> V(static_cast<size_t>(kTileValues * matrix_stride(g.C, T_max))),
        M(static_cast<size_t>(kTileValues * matrix_stride(g.O, T_max))),
        scratch(static_cast<size_t>(L.scratch_size(chunks.rows_per_chunk())));
    for (int64_t chunk = c0; chunk < c1; ++chunk) {
      const auto [r0, r1] = chunks.rows(chunk);
      body(chunk == c0, r0, r1, (r1 - r0) * L.tiles_w, V.data(), M.data(), scratch.data());
    }
  });
}

}  // namespace winograd

namespace winograd {

/// The 16 transformed weight matrices, each packed for its product with V: op(U[xi]) is
/// O x C of the convolution they serve.
using PackedWeights = std::array<std::optional<PreparedA<float>>, kTileValues>;

/// Packs op(U[source(xi)]) for each xi, the 16 in parallel: (rows, cols) stored as such,
/// or stored transposed (cols, rows) when `transposed`.
template <class Source>
void pack_weights(bool transposed, int64_t rows, int64_t cols, const float* U, Source source, PackedWeights& packed) {
  parallel_for(kTileValues, rows * cols, [&](int64_t x0, int64_t x1) {
    for (int64_t xi = x0; xi < x1; ++xi)
      packed[static_cast<size_t>(xi)].emplace(transposed, rows, cols, U + source(static_cast<int>(xi)) * rows * cols);
  });
}

/// y of g from x with the weights transformed and packed; b may be null.
inline void forward_packed(const Conv2dGeometry& g, const PackedWeights& weights, const float* x, const float* b,
                           float* y) {
  const Layout L(g);
  for_each_chunk(g, L, [&](bool, int64_t r0, int64_t r1, int64_t T, float* V, float* M, float* scratch) {
    transform_input(g, L, x, r0, r1, T, V, scratch);
    for (int xi = 0; xi < kTileValues; ++xi)
      weights[static_cast<size_t>(xi)]->multiply(false, T, 1.0f, V + xi * matrix_stride(g.C, T), 0.0f,
                                                 M + xi * matrix_stride(g.O, T));
    transform_output(g, L, M, b, r0, r1, T, y, scratch);
  });
}

}  // namespace winograd

/// The forward pass by F(2x2, 3x3); see the file comment. fits_winograd(g) must hold.
inline void winograd_conv2d_forward(const Conv2dGeometry& g, const float* x, const float* w, const float* b, float* y) {
  using namespace winograd;
  Workspace<float> U(static_cast<size_t>(kTileValues * g.O * g.C));
  transform_weights(g.O, g.C, w, U.data());
  PackedWeights weights;  // each U[xi] packed once for all chunks
  pack_weights(
      false, g.O, g.C, U.data(), [](int xi) { return xi; }, weights);
  forward_packed(g, weights, x, b, y);
}

/// gx (overwritten) for fits_winograd_input_gradient(g): the forward pass of gy
/// (input_gradient_geometry) with each kernel flipped in both directions and the channels
/// swapped. The flipped kernel needs no transform of its own: with J the 3x3 exchange
/// matrix, G J = P G where P swaps the first and last of four rows, so
/// G (J w J) G^T = P U P^T, U with rows and columns 0 and 3 exchanged; swapping channels
/// transposes each matrix. The forward's U, packed transposed, serves.
inline void winograd_input_gradient(const Conv2dGeometry& g, const float* w, const float* gy, float* gx) {
  using namespace winograd;
  Workspace<float> U(static_cast<size_t>(kTileValues * g.O * g.C));
  transform_weights(g.O, g.C, w, U.data());
  const auto swap03 = [](int i) { return i == 0 ? 3 : i == 3 ? 0 : i; };
  PackedWeights weights;
  pack_weights(
      true, g.C, g.O, U.data(), [&](int xi) { return 4 * swap03(xi / 4) + swap03(xi % 4); }, weights);
  forward_packed(input_gradient_geometry(g), weights, gy, nullptr, gx);
}

/// gw (overwritten) for fits_winograd(g), in the forward pass's transformed
/// space: with V = B^T d B per input tile and Mg = A dY A^T per output-gradient tile,
///   dU[xi] (O x C) = sum over tiles of Mg[xi] V[xi]^T,   gw = G^T dU G
/// (the adjoint of each step of the forward). 16 products of O x C over the tiles, where
/// a direct (or shifted-view) product has 9 x 4 = 36 multiplications per tile and channel
/// pair. Each thread
/// sums its chunks into its own dU; the sums are added before the final transform.
inline void winograd_weight_gradient(const Conv2dGeometry& g, const float* x, const float* gy, float* gw) {
  using namespace winograd;
  const Layout L(g);
  const int64_t dU_size = kTileValues * g.O * g.C;
  const int threads = max_threads();
  Workspace<float> dU(static_cast<size_t>(dU_size * threads));
  std::vector<char> used(static_cast<size_t>(threads), 0);
  for_each_chunk(g, L, [&](bool first, int64_t r0, int64_t r1, int64_t T, float* V, float* Mg, float* scratch) {
    const int t = thread_index();
    used[static_cast<size_t>(t)] = 1;
    float* sum = dU.data() + t * dU_size;
    transform_input(g, L, x, r0, r1, T, V, scratch);
    transform_output_gradient(g, L, gy, r0, r1, T, Mg, scratch);
    for (int xi = 0; xi < kTileValues; ++xi)
      gemm<float>(false, true, g.O, g.C, T, 1.0f, Mg + xi * matrix_stride(g.O, T), V + xi * matrix_stride(g.C, T),
                  first ? 0.0f : 1.0f, sum + xi * g.O * g.C);
  });
  float* total = dU.data();
  if (!used[0]) fill(dU_size, total, 0.0f);
  for (int t = 1; t < threads; ++t)
    if (used[static_cast<size_t>(t)]) axpy(dU_size, 1.0f, dU.data() + t * dU_size, total);
  transform_weight_gradient(g.O, g.C, total, gw);
}

}  // namespace convkit::backend::cpu::CONVKIT_ISA_COPY
