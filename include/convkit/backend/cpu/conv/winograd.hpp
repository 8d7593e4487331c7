// Compiled once per instruction set, in namespace cpu::CONVKIT_ISA_COPY (kernels_by_isa.hpp).
// Winograd's F(m x m, r x r) for stride-1 float convolutions with many channels, for the
// forward pass and both gradients (Lavin and Gray, "Fast Algorithms for Convolutional
// Neural Networks", 2016): 3x3 kernels with output tiles of m = 2, 3 or 4 (the selection
// table picks m by the plane's size: winograd_tile_size), and 5x5 kernels with m = 4. Each
// m x m block of outputs (a tile) comes from an a x a block of input d, a = m + r - 1:
//   Y = A^T [ (G g G^T) (.) (B^T d B) ] A
// where (.) multiplies elementwise. Summed over input channels, the a^2 elementwise
// products are a^2 matrix products U[xi] (O x C) * V[xi] (C x tiles): per output and
// channel pair, F(2x2, 3x3) makes 16 / 4 = 4 multiplications, F(3x3, 3x3) 25 / 9 = 2.8
// and F(4x4, 3x3) 36 / 16 = 2.25, where direct convolution makes 9 (tiles that overhang
// the plane's edge cost as much as whole ones); F(4x4, 5x5) makes 64 / 16 = 4 where
// direct convolution makes 25. The transforms are additions and multiplications
// by constants (Tile). The tiles run in chunks of whole tile rows, small enough that a
// chunk's V and products stay in cache; chunks run in parallel. The input gradient is the
// forward pass of the output gradient with the weights flipped and transposed
// (winograd_input_gradient), the weight gradient the adjoint of each step of the forward
// (winograd_weight_gradient).
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include "../../../core/geometry.hpp"
#include "../elementwise.hpp"
#include "../gemm.hpp"
#include "../memory.hpp"
#include "../parallel.hpp"

namespace convkit::backend::cpu::CONVKIT_ISA_COPY {

namespace winograd {

constexpr int64_t kBlock = 8;  // tiles per vector pass of a transform (see for_blocks)

/// F(M x M, R x R)'s one-dimensional transforms, each applied to the columns of a tile and
/// then to its rows: input (B^T), output (A^T), the weights' (G), and the adjoints of the
/// output's and the weights' for the gradients.
template <int M, int R = 3>
struct Tile;

/// What Tile<M, R>'s sizes follow from: an M x M output tile reads an
/// (M + R - 1) x (M + R - 1) input block for an R x R kernel.
template <int M, int R = 3>
struct TileSize {
  static constexpr int alpha = M + R - 1;       ///< inputs (and transformed values) per side
  static constexpr int values = alpha * alpha;  ///< transformed values per tile
};

/// F(2x2, 3x3) at the points 0, 1, -1 and infinity: B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0;
/// 0 1 0 -1], A^T = [1 1 1 0; 0 1 -1 -1], G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1].
template <>
struct Tile<2> : TileSize<2> {
  /// v = B^T x: one column or row of an input tile.
  static CONVKIT_INLINE_BODY inline void input(const float (&d)[4], float (&v)[4]) {
    v[0] = d[0] - d[2];
    v[1] = d[1] + d[2];
    v[2] = d[2] - d[1];
    v[3] = d[1] - d[3];
  }
  /// y = A^T s: one column or row of a tile of products.
  static CONVKIT_INLINE_BODY inline void output(const float (&s)[4], float (&y)[2]) {
    y[0] = s[0] + s[1] + s[2];
    y[1] = s[1] - s[2] - s[3];
  }
  /// s = A y: one column or row of an output-gradient tile (the adjoint of output).
  static CONVKIT_INLINE_BODY inline void output_adjoint(const float (&y)[2], float (&s)[4]) {
    s[0] = y[0];
    s[1] = y[0] + y[1];
    s[2] = y[0] - y[1];
    s[3] = -y[1];
  }
  /// u = G g: one column or row of a 3x3 kernel.
  static CONVKIT_INLINE_BODY inline void weights(const float (&g)[3], float (&u)[4]) {
    u[0] = g[0];
    u[1] = 0.5f * (g[0] + g[1] + g[2]);
    u[2] = 0.5f * (g[0] - g[1] + g[2]);
    u[3] = g[2];
  }
  /// g = G^T u: one column or row of a weight-gradient tile (the adjoint of weights).
  static CONVKIT_INLINE_BODY inline void weights_adjoint(const float (&u)[4], float (&g)[3]) {
    g[0] = u[0] + 0.5f * (u[1] + u[2]);
    g[1] = 0.5f * (u[1] - u[2]);
    g[2] = 0.5f * (u[1] + u[2]) + u[3];
  }
};

/// F(3x3, 3x3) at the points 0, 1, -1, 2 and infinity (-2, 1/2 and -1/2 for the fourth
/// point rounded as well or worse in float): B^T = [2 -1 -2 1 0; 0 -2 -1 1 0;
/// 0 2 -3 1 0; 0 -1 0 1 0; 0 2 -1 -2 1], A^T = [1 1 1 1 0; 0 1 -1 2 0; 0 1 1 4 1],
/// G = [1/2 0 0; -1/2 -1/2 -1/2; -1/6 1/6 -1/6; 1/6 1/3 2/3; 0 0 1]. One tile covers a
/// 3x3 plane, and four a 6x6 one: 25 and 100 products per channel pair, where F(2x2, 3x3)
/// makes 64 and 144.
template <>
struct Tile<3> : TileSize<3> {
  /// v = B^T x: one column or row of an input tile.
  static CONVKIT_INLINE_BODY inline void input(const float (&x)[5], float (&v)[5]) {
    const float a = x[3] - x[1];
    v[0] = 2.0f * (x[0] - x[2]) + a;
    v[1] = a - (x[1] + x[2]);
    v[2] = a + 3.0f * (x[1] - x[2]);
    v[3] = a;
    v[4] = x[4] - x[2] - 2.0f * a;
  }
  /// y = A^T s: one column or row of a tile of products.
  static CONVKIT_INLINE_BODY inline void output(const float (&s)[5], float (&y)[3]) {
    const float s12 = s[1] + s[2];
    y[0] = s[0] + s12 + s[3];
    y[1] = s[1] - s[2] + 2.0f * s[3];
    y[2] = s12 + 4.0f * s[3] + s[4];
  }
  /// s = A y: one column or row of an output-gradient tile (the adjoint of output).
  static CONVKIT_INLINE_BODY inline void output_adjoint(const float (&y)[3], float (&s)[5]) {
    const float even = y[0] + y[2];
    s[0] = y[0];
    s[1] = even + y[1];
    s[2] = even - y[1];
    s[3] = y[0] + 2.0f * y[1] + 4.0f * y[2];
    s[4] = y[2];
  }
  /// u = G g: one column or row of a 3x3 kernel.
  static CONVKIT_INLINE_BODY inline void weights(const float (&g)[3], float (&u)[5]) {
    u[0] = 0.5f * g[0];
    u[1] = -0.5f * (g[0] + g[1] + g[2]);
    u[2] = (g[0] - g[1] + g[2]) * (-1.0f / 6);
    u[3] = (g[0] + 2.0f * g[1] + 4.0f * g[2]) * (1.0f / 6);
    u[4] = g[2];
  }
  /// g = G^T u: one column or row of a weight-gradient tile (the adjoint of weights).
  static CONVKIT_INLINE_BODY inline void weights_adjoint(const float (&u)[5], float (&g)[3]) {
    const float p = -0.5f * u[1], q = u[2] * (-1.0f / 6), r = u[3] * (1.0f / 6);
    g[0] = 0.5f * u[0] + p + q + r;
    g[1] = p - q + 2.0f * r;
    g[2] = p + q + 4.0f * r + u[4];
  }
};

/// F(4x4, 3x3) at the points 0, 1, -1, 2, -1/2 and infinity, as strided_winograd.hpp's
/// (its kG says why these points: 2.5-3 times less rounding error in float than Lavin and
/// Gray's 0, +-1, +-2). B^T's rows are scaled to integers (exact in float), G's by the
/// inverse: B^T = [2 3 -4 -3 2 0; 0 -2 -5 -1 2 0; 0 2 1 -5 2 0; 0 -1 -2 1 2 0;
/// 0 2 -1 -2 1 0; 0 2 3 -4 -3 2], A^T = [1 1 1 1 1 0; 0 1 -1 2 -1/2 0; 0 1 1 4 1/4 0;
/// 0 1 -1 8 -1/8 1], G = [1/2 0 0; -1/6 -1/6 -1/6; 1/6 -1/6 1/6; 1/30 1/15 2/15;
/// -16/15 8/15 -4/15; 0 0 1/2].
template <>
struct Tile<4> : TileSize<4> {
  /// v = B^T x: one column or row of an input tile.
  static CONVKIT_INLINE_BODY inline void input(const float (&x)[6], float (&v)[6]) {
    const float a = x[1] - x[3], b = x[4] - x[2];
    v[0] = 2.0f * (x[0] + x[4]) + 3.0f * a - 4.0f * x[2];
    v[1] = 2.0f * (x[4] - x[1]) - 5.0f * x[2] - x[3];
    v[2] = 2.0f * (x[1] + x[4]) + x[2] - 5.0f * x[3];
    v[3] = 2.0f * b - a;
    v[4] = 2.0f * a + b;
    v[5] = 2.0f * (x[1] + x[5]) - 3.0f * b - 4.0f * x[3];
  }
  /// y = A^T s: one column or row of a tile of products.
  static CONVKIT_INLINE_BODY inline void output(const float (&s)[6], float (&y)[4]) {
    const float s12 = s[1] + s[2], d12 = s[1] - s[2];
    y[0] = s[0] + s12 + s[3] + s[4];
    y[1] = d12 + 2.0f * s[3] - 0.5f * s[4];
    y[2] = s12 + 4.0f * s[3] + 0.25f * s[4];
    y[3] = d12 + 8.0f * s[3] - 0.125f * s[4] + s[5];
  }
  /// s = A y: one column or row of an output-gradient tile (the adjoint of output).
  static CONVKIT_INLINE_BODY inline void output_adjoint(const float (&y)[4], float (&s)[6]) {
    const float even = y[0] + y[2], odd = y[1] + y[3];
    s[0] = y[0];
    s[1] = even + odd;
    s[2] = even - odd;
    s[3] = y[0] + 2.0f * y[1] + 4.0f * y[2] + 8.0f * y[3];
    s[4] = y[0] - 0.5f * y[1] + 0.25f * y[2] - 0.125f * y[3];
    s[5] = y[3];
  }
  /// u = G g: one column or row of a 3x3 kernel.
  static CONVKIT_INLINE_BODY inline void weights(const float (&g)[3], float (&u)[6]) {
    u[0] = 0.5f * g[0];
    u[1] = (g[0] + g[1] + g[2]) * (-1.0f / 6);
    u[2] = (g[0] - g[1] + g[2]) * (1.0f / 6);
    u[3] = (g[0] + 2.0f * g[1] + 4.0f * g[2]) * (1.0f / 30);
    u[4] = (4.0f * g[0] - 2.0f * g[1] + g[2]) * (-4.0f / 15);
    u[5] = 0.5f * g[2];
  }
  /// g = G^T u: one column or row of a weight-gradient tile (the adjoint of weights).
  static CONVKIT_INLINE_BODY inline void weights_adjoint(const float (&u)[6], float (&g)[3]) {
    const float p = u[1] * (-1.0f / 6), q = u[2] * (1.0f / 6), r = u[3] * (1.0f / 30), t = u[4] * (-4.0f / 15);
    g[0] = 0.5f * u[0] + p + q + r + 4.0f * t;
    g[1] = p - q + 2.0f * r - 2.0f * t;
    g[2] = p + q + 4.0f * r + t + 0.5f * u[5];
  }
};

/// F(4x4, 5x5) at the points 0, +-1, +-2, +-1/2 and infinity (the image lanes use it too,
/// image_lanes_winograd.hpp), for 5x5 kernels: 64 products per 16 outputs where direct
/// sums make 400. B^T = [-1 0 21/4 0 -21/4 0 1 0; 0 1 1 -17/4 -17/4 1 1 0;
/// 0 -1 1 17/4 -17/4 -1 1 0; 0 1/2 1/4 -5/2 -5/4 2 1 0; 0 -1/2 1/4 5/2 -5/4 -2 1 0;
/// 0 2 4 -5/2 -5 1/2 1 0; 0 -2 4 5/2 -5 -1/2 1 0; 0 -1 0 21/4 0 -21/4 0 1],
/// A^T = [1 1 1 1 1 1 1 0; 0 1 -1 2 -2 1/2 -1/2 0; 0 1 1 4 4 1/4 1/4 0;
/// 0 1 -1 8 -8 1/8 -1/8 1], G = [-1 0 0 0 0; -2/9 (1 1 1 1 1); -2/9 (1 -1 1 -1 1);
/// 1/90 (1 2 4 8 16); 1/90 (1 -2 4 -8 16); 1/45 (32 16 8 4 2); 1/45 (32 -16 8 -4 2);
/// 0 0 0 0 1]. The rows come in pairs at +-t, computed as the sum and difference of their
/// even and odd parts. input and output also take vectors of floats (the image lanes'
/// 16-image registers, image_lanes_winograd.hpp).
template <>
struct Tile<4, 5> : TileSize<4, 5> {
  /// v = B^T x: one column or row of an input tile; T is float or a vector of floats.
  template <class T>
  static CONVKIT_INLINE_BODY inline void input(const T (&x)[8], T (&v)[8]) {
    const T a = x[2] + x[6] - 4.25f * x[4], b = x[1] + x[5] - 4.25f * x[3];
    const T c = 0.25f * x[2] - 1.25f * x[4] + x[6], d = 0.5f * x[1] - 2.5f * x[3] + 2.0f * x[5];
    const T e = 4.0f * x[2] - 5.0f * x[4] + x[6], f = 2.0f * x[1] - 2.5f * x[3] + 0.5f * x[5];
    v[0] = x[6] - x[0] + 5.25f * (x[2] - x[4]);
    v[1] = a + b;
    v[2] = a - b;
    v[3] = c + d;
    v[4] = c - d;
    v[5] = e + f;
    v[6] = e - f;
    v[7] = x[7] - x[1] + 5.25f * (x[3] - x[5]);
  }
  /// y = A^T s: one column or row of a tile of products; T is float or a vector of floats.
  template <class T>
  static CONVKIT_INLINE_BODY inline void output(const T (&s)[8], T (&y)[4]) {
    const T p1 = s[1] + s[2], m1 = s[1] - s[2], p2 = s[3] + s[4], m2 = s[3] - s[4], p3 = s[5] + s[6], m3 = s[5] - s[6];
    y[0] = s[0] + p1 + p2 + p3;
    y[1] = m1 + 2.0f * m2 + 0.5f * m3;
    y[2] = p1 + 4.0f * p2 + 0.25f * p3;
    y[3] = m1 + 8.0f * m2 + 0.125f * m3 + s[7];
  }
  /// s = A y: one column or row of an output-gradient tile (the adjoint of output).
  static CONVKIT_INLINE_BODY inline void output_adjoint(const float (&y)[4], float (&s)[8]) {
    const float e1 = y[0] + y[2], o1 = y[1] + y[3];
    const float e2 = y[0] + 4.0f * y[2], o2 = 2.0f * y[1] + 8.0f * y[3];
    const float e3 = y[0] + 0.25f * y[2], o3 = 0.5f * y[1] + 0.125f * y[3];
    s[0] = y[0];
    s[1] = e1 + o1;
    s[2] = e1 - o1;
    s[3] = e2 + o2;
    s[4] = e2 - o2;
    s[5] = e3 + o3;
    s[6] = e3 - o3;
    s[7] = y[3];
  }
  /// u = G g: one column or row of a 5x5 kernel.
  static CONVKIT_INLINE_BODY inline void weights(const float (&g)[5], float (&u)[8]) {
    const float e1 = g[0] + g[2] + g[4], o1 = g[1] + g[3];
    const float e2 = g[0] + 4.0f * g[2] + 16.0f * g[4], o2 = 2.0f * g[1] + 8.0f * g[3];
    const float e3 = 32.0f * g[0] + 8.0f * g[2] + 2.0f * g[4], o3 = 16.0f * g[1] + 4.0f * g[3];
    u[0] = -g[0];
    u[1] = (e1 + o1) * (-2.0f / 9);
    u[2] = (e1 - o1) * (-2.0f / 9);
    u[3] = (e2 + o2) * (1.0f / 90);
    u[4] = (e2 - o2) * (1.0f / 90);
    u[5] = (e3 + o3) * (1.0f / 45);
    u[6] = (e3 - o3) * (1.0f / 45);
    u[7] = g[4];
  }
  /// g = G^T u: one column or row of a weight-gradient tile (the adjoint of weights).
  static CONVKIT_INLINE_BODY inline void weights_adjoint(const float (&u)[8], float (&g)[5]) {
    const float p = u[1] * (-2.0f / 9), q = u[2] * (-2.0f / 9), r = u[3] * (1.0f / 90), t = u[4] * (1.0f / 90),
                v = u[5] * (1.0f / 45), w = u[6] * (1.0f / 45);
    g[0] = p + q + r + t + 32.0f * (v + w) - u[0];
    g[1] = p - q + 2.0f * (r - t) + 16.0f * (v - w);
    g[2] = p + q + 4.0f * (r + t) + 8.0f * (v + w);
    g[3] = p - q + 8.0f * (r - t) + 4.0f * (v - w);
    g[4] = p + q + 16.0f * (r + t) + 2.0f * (v + w) + u[7];
  }
};

/// Applies the one-dimensional transform `f` (in[I] -> out[O]) to each column of the I x I
/// block `in` (rows of I), then to each row of the result: out[O][O] = f(f(in)^T)^T. Both
/// loops unroll whole (sides of up to 8), so the blocks stay in registers: with a remainder
/// left over, Clang's vectorizer gives up on the loop over tiles that calls this.
template <int I, int O, class F>
CONVKIT_INLINE_BODY inline void transform_2d(const float (&in)[I][I], float (&out)[O][O], F f) {
  static_assert(I <= 8 && O <= 8, "CONVKIT_UNROLL(8) unrolls sides of up to 8");
  float t[O][I];
  CONVKIT_UNROLL(8)
  for (int j = 0; j < I; ++j) {
    float column[I], result[O];
    for (int i = 0; i < I; ++i) column[i] = in[i][j];
    f(column, result);
    for (int i = 0; i < O; ++i) t[i][j] = result[i];
  }
  CONVKIT_UNROLL(8)
  for (int i = 0; i < O; ++i) f(t[i], out[i]);
}

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

/// U[xi] = (G g G^T)[xi] for every (o, c): Tile<M, R>::values matrices of O x C,
/// xi = alpha * row + column.
template <int M, int R = 3>
void transform_weights(int64_t O, int64_t C, const float* w, float* U) {
  using Tl = Tile<M, R>;
  constexpr int A = Tl::alpha;
  const int64_t OC = O * C;
  for_weight_blocks(O, C, [&](int64_t oc0, int64_t n) {
    alignas(64) float k[R * R][kWeightBlock];
    alignas(64) float u[Tl::values][kWeightBlock];
    const float* src = w + oc0 * R * R;
    for (int64_t j = 0; j < n; ++j)
      for (int m = 0; m < R * R; ++m) k[m][j] = src[j * R * R + m];
    CONVKIT_SIMD for (int64_t j = 0; j < n; ++j) {
      float g[R][R], t[A][A];
      for (int i = 0; i < R; ++i)
        for (int c = 0; c < R; ++c) g[i][c] = k[R * i + c][j];
      transform_2d(g, t, [](const float(&a)[R], float(&b)[A]) { Tl::weights(a, b); });
      for (int i = 0; i < A; ++i)
        for (int c = 0; c < A; ++c) u[A * i + c][j] = t[i][c];
    }
    for (int xi = 0; xi < Tl::values; ++xi) copy_short(u[xi], n, U + xi * OC + oc0);
  });
}

/// Where the tiles are: tile row r of the batch is image r / tiles_h's tile row
/// r % tiles_h, tiles_w tiles wide; a chunk is a run of tile rows [r0, r1).
template <int M, int R = 3>
struct Layout {
  static_assert(Tile<M, R>::alpha <= 2 * M, "a tile's columns reach at most one value past its phase's run");
  /// Tiles down and across one image.
  ///@{
  int64_t tiles_h, tiles_w;
  ///@}
  int64_t tiles_w_blocks;  ///< tiles_w rounded up to whole kBlock blocks (see for_blocks)
  /// A zero-padded input row split by column phase (copy_phase_rows) holds M runs of
  /// phase_len values (what the tiles of whole blocks read), row_width in all.
  ///@{
  int64_t phase_len, row_width;
  ///@}
  /// The tiles of g's output.
  explicit Layout(const Conv2dGeometry& g)
      : tiles_h((g.OH + M - 1) / M),
        tiles_w((g.OW + M - 1) / M),
        tiles_w_blocks((tiles_w + kBlock - 1) / kBlock * kBlock),
        phase_len(tiles_w_blocks + 1),
        row_width(M * phase_len) {}
  /// Floats of scratch the transforms need for chunks of up to `chunk_rows` tile rows.
  int64_t scratch_size(int64_t chunk_rows) const {
    const int64_t segment = std::min(chunk_rows, tiles_h);     // tile rows of one image in a chunk
    return (M * segment + Tile<M, R>::alpha - M) * row_width;  // the input rows; row_width >= M * tiles_w_blocks
  }
};

/// The transformed matrices of `rows` x T (V, the products M) each begin this many floats
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

/// Transforms a tile row's tiles [0, tiles) (rounded up to whole blocks, see for_blocks)
/// into the alpha x alpha values out[alpha * i + j][k] of tile k: load(i, j, k) gives tile
/// k's I x I block, `transform` the one-dimensional transform (I values to alpha).
template <int M, int R, int I, class Load, class Transform>
CONVKIT_INLINE_BODY inline void transform_tile_row(int64_t tiles, float* const* out, Load load, Transform transform) {
  constexpr int A = Tile<M, R>::alpha;
  for_blocks(tiles, [&](int64_t k) CONVKIT_INLINE_BODY {
    float d[I][I], t[A][A];
    for (int i = 0; i < I; ++i)
      for (int j = 0; j < I; ++j) d[i][j] = load(i, j, k);
    transform_2d(d, t, transform);
    for (int i = 0; i < A; ++i)
      for (int j = 0; j < A; ++j) out[A * i + j][k] = t[i][j];
  });
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

/// Rows [h0, h0 + count) of an H x W plane, shifted right by `left` columns and zero
/// around the plane, into rows of M * phase_len floats split by column phase: padded
/// column c goes to dst[(c % M) * phase_len + c / M]. Tile k's column M k + j is then
/// phase j % M's value k + j / M: each of a tile's columns is a contiguous run over the
/// tiles, which the transforms load as whole vectors (read straight from the padded row,
/// the columns of F(4x4, 3x3)'s overlapping 6-wide tiles were gathered one by one).
template <int M>
void copy_phase_rows(const float* plane, int64_t H, int64_t W, int64_t h0, int64_t count, int64_t left,
                     int64_t phase_len, float* dst) {
  const int64_t width = M * phase_len;
  for (int64_t j = 0; j < count; ++j, dst += width) {
    const int64_t h = h0 + j;
    std::fill(dst, dst + width, 0.0f);
    if (h < 0 || h >= H) continue;
    const float* src = plane + h * W;
    // Groups k whose M columns M k .. M k + M - 1 all lie inside [left, left + W) are
    // deinterleaved four at a time (a 4x4 transpose, or even and odd halves); the rest,
    // at the edges, value by value.
    const int64_t in0 = std::min(phase_len, (left + M - 1) / M),
                  in1 = std::max(in0, std::min(phase_len, (left + W) / M));
    int64_t k = in0;
#if defined(__SSE2__)
    for (; M != 3 && k + 4 <= in1; k += 4) {  // F(3x3, 3x3)'s groups take the loop below
      const float* from = src + M * k - left;
      if constexpr (M == 4) {
        __m128 r0 = _mm_loadu_ps(from), r1 = _mm_loadu_ps(from + 4), r2 = _mm_loadu_ps(from + 8),
               r3 = _mm_loadu_ps(from + 12);
        _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
        _mm_storeu_ps(dst + k, r0);
        _mm_storeu_ps(dst + phase_len + k, r1);
        _mm_storeu_ps(dst + 2 * phase_len + k, r2);
        _mm_storeu_ps(dst + 3 * phase_len + k, r3);
      } else if constexpr (M == 2) {
        const __m128 a = _mm_loadu_ps(from), b = _mm_loadu_ps(from + 4);
        _mm_storeu_ps(dst + k, _mm_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)));
        _mm_storeu_ps(dst + phase_len + k, _mm_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
      }
    }
#endif
    for (; k < in1; ++k)
      for (int q = 0; q < M; ++q) dst[q * phase_len + k] = src[M * k + q - left];
    for (int64_t q = 0; q < M; ++q) {  // the groups at the edges
      const int64_t k0 = std::max<int64_t>(0, (left - q + M - 1) / M);
      const int64_t k1 = std::min(phase_len, (left + W - q + M - 1) / M);
      for (int64_t e = k0; e < std::min(k1, in0); ++e) dst[q * phase_len + e] = src[M * e + q - left];
      for (int64_t e = std::max(k0, in1); e < k1; ++e) dst[q * phase_len + e] = src[M * e + q - left];
    }
  }
}

/// Walks tile rows [r0, r1) of the batch image by image: body(n, first, count, tile) for
/// image n's tile rows [first, first + count), whose first tile is the chunk's tile `tile`.
template <int M, int R, class Body>
void for_each_image(const Layout<M, R>& L, int64_t r0, int64_t r1, Body body) {
  for (int64_t r = r0; r < r1;) {
    const int64_t n = r / L.tiles_h, end = std::min(r1, (n + 1) * L.tiles_h);
    body(n, r % L.tiles_h, end - r, (r - r0) * L.tiles_w);
    r = end;
  }
}

/// V[xi][c][t] = (B^T d B)[xi] for tile t of the chunk and channel c (T tiles in all; the
/// matrices V[xi] are matrix_stride(C, T) apart). The input rows a chunk's tile rows read
/// in one image are first copied, zero-padded and split by column phase
/// (copy_phase_rows), into a block of rows; then each tile's transform reads its
/// alpha x alpha block from them. (Copying each tile row's rows just before reading them,
/// and storing the row transform before the column transform read it, stalled those
/// loads on store forwarding: the loads straddled the stores.)
template <int M, int R = 3>
void transform_input(const Conv2dGeometry& g, const Layout<M, R>& L, const float* x, int64_t r0, int64_t r1, int64_t T,
                     float* V, float* scratch) {
  using Tl = Tile<M, R>;
  constexpr int A = Tl::alpha;
  const int64_t width = L.row_width, stride = matrix_stride(g.C, T), phase_len = L.phase_len;
  float* padded = scratch;  // one image's rows for the chunk's tile rows
  for (int64_t c = 0; c < g.C; ++c) {
    for_each_image(L, r0, r1, [&](int64_t n, int64_t first, int64_t count, int64_t tile) {
      const float* plane = x + (n * g.C + c) * g.H * g.W;
      copy_phase_rows<M>(plane, g.H, g.W, M * first - g.ph, M * count + A - M, g.pw, phase_len, padded);
      for (int64_t ti = 0; ti < count; ++ti, tile += L.tiles_w) {
        const float* columns[A];  // tile k's column j of row i: columns[j][i * width + k]
        for (int j = 0; j < A; ++j) columns[j] = padded + M * ti * width + (j % M) * phase_len + j / M;
        float* v[Tl::values];
        for (int xi = 0; xi < Tl::values; ++xi) v[xi] = V + xi * stride + c * T + tile;
        transform_tile_row<M, R, A>(
            L.tiles_w, v, [&](int i, int j, int64_t k) CONVKIT_INLINE_BODY { return columns[j][i * width + k]; },
            [](const float(&a)[A], float(&b)[A]) { Tl::input(a, b); });
      }
    });
  }
}

/// y for tile rows [r0, r1) from the products M[xi][o][t] (T tiles; matrix_stride(O, T)
/// apart), plus the bias: Y = A^T m A. The tiles' rows and columns past the output's
/// edge are dropped.
template <int M, int R = 3>
void transform_output(const Conv2dGeometry& g, const Layout<M, R>& L, const float* Mp, const float* b, int64_t r0,
                      int64_t r1, int64_t T, float* y, float* scratch) {
  using Tl = Tile<M, R>;
  constexpr int A = Tl::alpha;
  const int64_t tw = L.tiles_w, stride = matrix_stride(g.O, T);
  float* out[M];  // the M output rows of a tile row
  for (int i = 0; i < M; ++i) out[i] = scratch + i * M * L.tiles_w_blocks;
  for (int64_t o = 0; o < g.O; ++o) {
    const float bias = b ? b[o] : 0.0f;
    int64_t tile = 0;
    for (int64_t r = r0; r < r1; ++r, tile += tw) {
      const int64_t n = r / L.tiles_h, ti = r % L.tiles_h;
      const float* mm[Tl::values];
      for (int xi = 0; xi < Tl::values; ++xi) mm[xi] = Mp + xi * stride + o * T + tile;
      // Past tiles_w, this reads slack in M and writes the rows' slack.
      for_blocks(tw, [&](int64_t k) CONVKIT_INLINE_BODY {
        float m[A][A], t[M][M];
        for (int i = 0; i < A; ++i)
          for (int j = 0; j < A; ++j) m[i][j] = mm[A * i + j][k];
        transform_2d(m, t, [](const float(&a)[A], float(&c)[M]) { Tl::output(a, c); });
        for (int i = 0; i < M; ++i)
          for (int j = 0; j < M; ++j) out[i][M * k + j] = t[i][j] + bias;
      });
      float* yo = y + (n * g.O + o) * g.OH * g.OW;
      for (int i = 0; i < M; ++i) {
        const int64_t h = M * ti + i;
        if (h < g.OH) copy_short(out[i], g.OW, yo + h * g.OW);
      }
    }
  }
}

/// Mg[xi][o][t] = (A dY A^T)[xi] for tile t of the chunk (laid out as M in
/// transform_output): the output gradient carried back through Y = A^T m A (the adjoint
/// of transform_output). Outputs past the output's edge count as zero. As in
/// transform_input, the rows a chunk reads in one image are copied, zero-padded, before
/// any is read.
template <int M, int R = 3>
void transform_output_gradient(const Conv2dGeometry& g, const Layout<M, R>& L, const float* gy, int64_t r0, int64_t r1,
                               int64_t T, float* Mg, float* scratch) {
  using Tl = Tile<M, R>;
  constexpr int A = Tl::alpha;
  const int64_t tw = L.tiles_w, width = M * L.tiles_w_blocks, stride = matrix_stride(g.O, T);
  float* padded = scratch;  // one image's rows for the chunk's tile rows
  for (int64_t o = 0; o < g.O; ++o) {
    for_each_image(L, r0, r1, [&](int64_t n, int64_t first, int64_t count, int64_t tile) {
      const float* plane = gy + (n * g.O + o) * g.OH * g.OW;
      copy_padded_rows(plane, g.OH, g.OW, M * first, M * count, 0, width, padded);
      for (int64_t ti = 0; ti < count; ++ti, tile += tw) {
        const float* rows[M];
        for (int i = 0; i < M; ++i) rows[i] = padded + (M * ti + i) * width;
        float* mg[Tl::values];
        for (int xi = 0; xi < Tl::values; ++xi) mg[xi] = Mg + xi * stride + o * T + tile;
        transform_tile_row<M, R, M>(
            tw, mg, [&](int i, int j, int64_t k) CONVKIT_INLINE_BODY { return rows[i][M * k + j]; },
            [](const float(&a)[M], float(&c)[A]) { Tl::output_adjoint(a, c); });
      }
    });
  }
}

/// gw[o][c] = G^T dU[.][o][c] G, the adjoint of transform_weights: dU holds
/// Tile<M, R>::values matrices of O x C (the gradient with respect to U); gw, (O, C, R, R),
/// is overwritten. Blocks of kWeightBlock pairs, as transform_weights.
template <int M, int R = 3>
void transform_weight_gradient(int64_t O, int64_t C, const float* dU, float* gw) {
  using Tl = Tile<M, R>;
  constexpr int A = Tl::alpha;
  const int64_t OC = O * C;
  for_weight_blocks(O, C, [&](int64_t oc0, int64_t n) {
    alignas(64) float du[Tl::values][kWeightBlock];
    alignas(64) float k[R * R][kWeightBlock];
    for (int xi = 0; xi < Tl::values; ++xi) copy_short(dU + xi * OC + oc0, n, du[xi]);
    CONVKIT_SIMD for (int64_t j = 0; j < n; ++j) {
      float u[A][A], g[R][R];
      for (int i = 0; i < A; ++i)
        for (int c = 0; c < A; ++c) u[i][c] = du[A * i + c][j];
      transform_2d(u, g, [](const float(&a)[A], float(&b)[R]) { Tl::weights_adjoint(a, b); });
      for (int i = 0; i < R; ++i)
        for (int c = 0; c < R; ++c) k[R * i + c][j] = g[i][c];
    }
    float* dst = gw + oc0 * R * R;
    for (int64_t j = 0; j < n; ++j)
      for (int m = 0; m < R * R; ++m) dst[j * R * R + m] = k[m][j];
  });
}

/// Transformed values per channel in a chunk: 256 tiles of F(2x2, 3x3), 163 of F(3x3, 3x3),
/// 113 of F(4x4, 3x3)
/// (which ran 3-10% faster than 256 on ResNet-18's 64-channel layers; 64 lost on 24x24
/// planes).
constexpr int64_t kChunkValues = 4096;

/// A batch's tile rows in chunks of about `target` tiles, the chunk count a multiple of the
/// threads so that they get equal shares. With 256 tiles of F(2x2, 3x3), each product
/// reuses its packed U[xi] (L2-sized for 256 channels) over eight column panels; with a
/// few dozen tiles, streaming U dominated.
class Chunks {
 public:
  /// The chunks of a batch of `total_rows` tile rows, `tiles_w` tiles each, about
  /// `target` tiles a chunk.
  Chunks(int64_t total_rows, int64_t tiles_w, int64_t target) : total_rows_(total_rows) {
    const int64_t threads = max_threads();
    count_ = std::max<int64_t>(1, (total_rows_ * tiles_w + target - 1) / target);
    count_ = std::min(total_rows_, (count_ + threads - 1) / threads * threads);
    rows_per_chunk_ = (total_rows_ + count_ - 1) / count_;
    count_ = (total_rows_ + rows_per_chunk_ - 1) / rows_per_chunk_;
    max_tiles_ = rows_per_chunk_ * tiles_w;
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
template <int M, int R, class Body>
void for_each_chunk(const Conv2dGeometry& g, const Layout<M, R>& L, Body body) {
  constexpr int values = Tile<M, R>::values;
  const Chunks chunks(g.N * L.tiles_h, L.tiles_w, kChunkValues / values);
  const int64_t T_max = chunks.max_tiles();
  parallel_for(chunks.count(), values * g.O * g.C * T_max * 2, [&](int64_t c0, int64_t c1) {
    Workspace<float> V(static_cast<size_t>(values * matrix_stride(g.C, T_max))),
        Mp(static_cast<size_t>(values * matrix_stride(g.O, T_max))),
        scratch(static_cast<size_t>(L.scratch_size(chunks.rows_per_chunk())));
    for (int64_t chunk = c0; chunk < c1; ++chunk) {
      const auto [r0, r1] = chunks.rows(chunk);
      body(chunk == c0, r0, r1, (r1 - r0) * L.tiles_w, V.data(), Mp.data(), scratch.data());
    }
  });
}

/// The transformed weight matrices, each packed for its product with V: op(U[xi]) is
/// O x C of the convolution they serve.
template <int M, int R = 3>
using PackedWeights = std::array<std::optional<PreparedA<float>>, Tile<M, R>::values>;

/// Transforms the O x C kernels w (O, C, R, R) and packs each U[xi], the matrices in
/// parallel.
template <int M, int R = 3>
void pack_weights(int64_t O, int64_t C, const float* w, PackedWeights<M, R>& packed) {
  constexpr int values = Tile<M, R>::values;
  Workspace<float> U(static_cast<size_t>(values * O * C));
  transform_weights<M, R>(O, C, w, U.data());
  parallel_for(values, O * C, [&](int64_t x0, int64_t x1) {
    for (int64_t xi = x0; xi < x1; ++xi) packed[static_cast<size_t>(xi)].emplace(false, O, C, U.data() + xi * O * C);
  });
}

/// y of g from x with the weights transformed and packed; b may be null.
template <int M, int R = 3>
void forward_packed(const Conv2dGeometry& g, const PackedWeights<M, R>& weights, const float* x, const float* b,
                    float* y) {
  const Layout<M, R> L(g);
  for_each_chunk(g, L, [&](bool, int64_t r0, int64_t r1, int64_t T, float* V, float* Mp, float* scratch) {
    transform_input(g, L, x, r0, r1, T, V, scratch);
    for (int xi = 0; xi < Tile<M, R>::values; ++xi)
      weights[static_cast<size_t>(xi)]->multiply(false, T, 1.0f, V + xi * matrix_stride(g.C, T), 0.0f,
                                                 Mp + xi * matrix_stride(g.O, T));
    transform_output(g, L, Mp, b, r0, r1, T, y, scratch);
  });
}

}  // namespace winograd

/// The forward pass by F(M x M, R x R); see the file comment. The layer must take it in
/// the selection table: fits_winograd(g) (M = 2), fits_winograd_f3(g) (M = 3),
/// fits_winograd_f4(g) (M = 4), or fits_winograd_5x5(g) (M = 4, R = 5).
template <int M, int R = 3>
void winograd_conv2d_forward(const Conv2dGeometry& g, const float* x, const float* w, const float* b, float* y) {
  winograd::PackedWeights<M, R> weights;  // each U[xi] packed once for all chunks
  winograd::pack_weights<M, R>(g.O, g.C, w, weights);
  winograd::forward_packed<M, R>(g, weights, x, b, y);
}

/// gx (overwritten) for the layers whose input gradient takes F(M x M, R x R)
/// (fits_winograd_input_gradient and its kin in select.hpp): the forward pass of gy
/// (input_gradient_geometry) with each kernel flipped in both directions and the channels
/// swapped (a copy of C x O x R x R floats, transformed as the forward's).
template <int M, int R = 3>
void winograd_input_gradient(const Conv2dGeometry& g, const float* w, const float* gy, float* gx) {
  constexpr int taps = R * R;
  Workspace<float> flipped(static_cast<size_t>(g.C * g.O * taps));
  parallel_for(g.C, g.O * taps, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c)
      for (int64_t o = 0; o < g.O; ++o)
        for (int m = 0; m < taps; ++m)
          flipped.data()[(c * g.O + o) * taps + m] = w[(o * g.C + c) * taps + (taps - 1 - m)];
  });
  winograd::PackedWeights<M, R> weights;
  winograd::pack_weights<M, R>(g.C, g.O, flipped.data(), weights);
  winograd::forward_packed<M, R>(input_gradient_geometry(g), weights, gy, nullptr, gx);
}

/// gw (overwritten) for the layers winograd_conv2d_forward<M, R> serves, in the
/// forward pass's transformed space: with V = B^T d B per input tile and Mg = A dY A^T per
/// output-gradient tile,
///   dU[xi] (O x C) = sum over tiles of Mg[xi] V[xi]^T,   gw = G^T dU G
/// (the adjoint of each step of the forward): alpha^2 products of O x C over the tiles.
/// Each thread sums its chunks into its own dU; the sums are added before the final
/// transform.
template <int M, int R = 3>
void winograd_weight_gradient(const Conv2dGeometry& g, const float* x, const float* gy, float* gw) {
  using namespace winograd;
  constexpr int values = Tile<M, R>::values;
  const Layout<M, R> L(g);
  const int64_t dU_size = values * g.O * g.C;
  const int threads = max_threads();
  Workspace<float> dU(static_cast<size_t>(dU_size * threads));
  std::vector<char> used(static_cast<size_t>(threads), 0);
  for_each_chunk(g, L, [&](bool first, int64_t r0, int64_t r1, int64_t T, float* V, float* Mg, float* scratch) {
    const int t = thread_index();
    used[static_cast<size_t>(t)] = 1;
    float* sum = dU.data() + t * dU_size;
    transform_input(g, L, x, r0, r1, T, V, scratch);
    transform_output_gradient(g, L, gy, r0, r1, T, Mg, scratch);
    for (int xi = 0; xi < values; ++xi)
      gemm<float>(false, true, g.O, g.C, T, 1.0f, Mg + xi * matrix_stride(g.O, T), V + xi * matrix_stride(g.C, T),
                  first ? 0.0f : 1.0f, sum + xi * g.O * g.C);
  });
  float* total = dU.data();
  if (!used[0]) fill(dU_size, total, 0.0f);
  for (int t = 1; t < threads; ++t)
    if (used[static_cast<size_t>(t)]) axpy(dU_size, 1.0f, dU.data() + t * dU_size, total);
  transform_weight_gradient<M, R>(g.O, g.C, total, gw);
}

}  // namespace convkit::backend::cpu::CONVKIT_ISA_COPY
