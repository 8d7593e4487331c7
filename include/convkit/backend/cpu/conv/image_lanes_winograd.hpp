// Compiled once per instruction set, in namespace cpu::CONVKIT_ISA_COPY (kernels_by_isa.hpp).
// Winograd's F(4x4, 5x5) for the image lanes' forward pass of 5x5 kernels (image_lanes.hpp;
// Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016). Each 4x4 block
// of outputs (a tile) of one output channel comes from the 8x8 block of input d under it:
//   Y = A^T [ sum over c of (G g_c G^T) (.) (B^T d_c B) ] A
// with (.) the elementwise product: 64 multiplications per tile, input and output channel,
// where the direct sum makes 16 * 25 = 400. A side that leaves 2 outputs over ends with
// F(2, 5) (6 points) on that side, so LeNet conv2's 10x10 outputs are 4 tiles of 4x4, 4
// of 4x2 or 2x4 and one 2x2: 484 transformed values per image and channel pair (an
// overlapping third 4x4 tile would make 576).
//
// F(4, 5)'s points are 0, +-1, +-2, +-1/2 and infinity, those of F(6x6, 3x3) in NNPACK
// and oneDNN (its input and output transforms are winograd.hpp's Tile<4, 5>); in float the outputs are within about
// 4e-6 of the exact ones relative to the largest (the direct sums: 1e-7), checked in the tests against the reference in
// double.
//
// Each 64-byte vector holds one value of 16 images (the image lanes), so every transform is
// a few vector additions and multiply-adds with constants, with no shuffles; each tile's
// elementwise products are for each of its transformed positions (xi) an O x C by C x 16
// matrix product, U[xi] times V[xi]. LeNet conv2's forward, one thread: 1.25 M cycles, against
// 1.41 M with 4x4 tiles only and 2.19 M for direct sums in the same lanes.
#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "../../../core/geometry.hpp"
#include "../elementwise.hpp"
#include "../memory.hpp"
#include "../parallel.hpp"

namespace convkit::backend::cpu::CONVKIT_ISA_COPY {

#if CONVKIT_KERNEL_ISA == 2

namespace image_winograd {

constexpr int64_t kLanes = 16;  ///< images per vector

/// The one-dimensional pieces of F(m, 5): G (alpha x 5), and B^T and A^T applied to one
/// row or column of alpha vectors. m = 4 (alpha 8) is the main tile; m = 2 (alpha 6)
/// finishes a side whose length leaves 2 over, where an overlapping 4 would compute 2
/// values twice (LeNet conv2's 10 = 4 + 4 + 2: 484 transformed values per image instead
/// of 576).
template <int M>
struct Transform1D;

/// F(4, 5): the points 0, +-1, +-2, +-1/2 and infinity. Its input and output transforms
/// are winograd.hpp's Tile<4, 5> (the layers with many channels take that F(4x4, 5x5)),
/// applied to vectors of 16 images; G is the same matrix, applied here in double.
template <>
struct Transform1D<4> {
  static constexpr int kAlpha = 8;  ///< transformed values per side
  /// The weight transform.
  static constexpr double kG[kAlpha][5] = {
      {-1, 0, 0, 0, 0},
      {-2. / 9, -2. / 9, -2. / 9, -2. / 9, -2. / 9},
      {-2. / 9, 2. / 9, -2. / 9, 2. / 9, -2. / 9},
      {1. / 90, 1. / 45, 2. / 45, 4. / 45, 8. / 45},
      {1. / 90, -1. / 45, 2. / 45, -4. / 45, 8. / 45},
      {32. / 45, 16. / 45, 8. / 45, 4. / 45, 2. / 45},
      {32. / 45, -16. / 45, 8. / 45, -4. / 45, 2. / 45},
      {0, 0, 0, 0, 1},
  };
  /// v = B^T x.
  CONVKIT_INLINE_BODY static void input(const __m512 (&x)[kAlpha], __m512 (&v)[kAlpha]) {
    winograd::Tile<4, 5>::input(x, v);
  }
  /// y = A^T x.
  CONVKIT_INLINE_BODY static void output(const __m512 (&x)[kAlpha], __m512 (&y)[4]) {
    winograd::Tile<4, 5>::output(x, y);
  }
};

/// F(2, 5): the points 0, +-1, +-2 and infinity (B^T is F(4, 3)'s).
template <>
struct Transform1D<2> {
  static constexpr int kAlpha = 6;  ///< transformed values per side
  /// The weight transform.
  static constexpr double kG[kAlpha][5] = {
      {1. / 4, 0, 0, 0, 0},
      {-1. / 6, -1. / 6, -1. / 6, -1. / 6, -1. / 6},
      {-1. / 6, 1. / 6, -1. / 6, 1. / 6, -1. / 6},
      {1. / 24, 1. / 12, 1. / 6, 1. / 3, 2. / 3},
      {1. / 24, -1. / 12, 1. / 6, -1. / 3, 2. / 3},
      {0, 0, 0, 0, 1},
  };
  /// v = B^T x.
  CONVKIT_INLINE_BODY static void input(const __m512 (&x)[kAlpha], __m512 (&v)[kAlpha]) {
    auto c = [](float k) { return _mm512_set1_ps(k); };
    v[0] = _mm512_add_ps(_mm512_fmsub_ps(x[0], c(4.0f), _mm512_mul_ps(x[2], c(5.0f))), x[4]);
    v[5] = _mm512_add_ps(_mm512_fmsub_ps(x[1], c(4.0f), _mm512_mul_ps(x[3], c(5.0f))), x[5]);
    const __m512 e1 = _mm512_fnmadd_ps(x[2], c(4.0f), x[4]), o1 = _mm512_fnmadd_ps(x[1], c(4.0f), x[3]);
    const __m512 e2 = _mm512_sub_ps(x[4], x[2]), o2 = _mm512_mul_ps(_mm512_sub_ps(x[3], x[1]), c(2.0f));
    v[1] = _mm512_add_ps(e1, o1);
    v[2] = _mm512_sub_ps(e1, o1);
    v[3] = _mm512_add_ps(e2, o2);
    v[4] = _mm512_sub_ps(e2, o2);
  }
  /// y = A^T x.
  CONVKIT_INLINE_BODY static void output(const __m512 (&x)[kAlpha], __m512 (&y)[2]) {
    const __m512 s1 = _mm512_add_ps(x[1], x[2]), d1 = _mm512_sub_ps(x[1], x[2]);
    const __m512 s2 = _mm512_add_ps(x[3], x[4]), d2 = _mm512_sub_ps(x[3], x[4]);
    y[0] = _mm512_add_ps(_mm512_add_ps(x[0], s1), s2);
    y[1] = _mm512_add_ps(_mm512_fmadd_ps(d2, _mm512_set1_ps(2.0f), d1), x[5]);
  }
};

/// The most transformed values of a tile (F(4x4, 5x5)'s 8 x 8).
constexpr int kMaxValues = 64;

/// U[xi][c][o] = (G_r g G_c^T)[xi] for a tile of Mr x Mc outputs, from the weights as
/// wt[c][u][v][o] (Opad output channels, zero past O), in double and then rounded. The
/// loops run over the output channels innermost, so they vectorise: for LeNet conv2's 4x4
/// tiles 1.5 us against 5.1 for scalar loops over (o, c), on the one thread that runs it
/// before the blocks of images are split. t is Ar * 5 * Opad doubles of scratch.
template <int Mr, int Mc>
void transform_weights(int64_t C, int64_t Opad, const double* wt, double* t, float* U) {
  typedef Transform1D<Mr> Tr;
  typedef Transform1D<Mc> Tc;
  constexpr int Ar = Tr::kAlpha, Ac = Tc::kAlpha;
  for (int64_t c = 0; c < C; ++c) {
    const double* g = wt + c * 25 * Opad;
    for (int i = 0; i < Ar; ++i)  // t = G_r g
      for (int v = 0; v < 5; ++v) {
        double* ti = t + (i * 5 + v) * Opad;
        CONVKIT_SIMD for (int64_t o = 0; o < Opad; ++o) ti[o] = 0;
        for (int u = 0; u < 5; ++u) {
          const double k = Tr::kG[i][u];
          const double* gu = g + (u * 5 + v) * Opad;
          CONVKIT_SIMD for (int64_t o = 0; o < Opad; ++o) ti[o] += k * gu[o];
        }
      }
    for (int i = 0; i < Ar; ++i)  // U = t G_c^T
      for (int j = 0; j < Ac; ++j) {
        float* u = U + ((i * Ac + j) * C + c) * Opad;
        const double* t0 = t + i * 5 * Opad;
        CONVKIT_SIMD for (int64_t o = 0; o < Opad; ++o) {
          double s = 0;
          for (int v = 0; v < 5; ++v) s += t0[v * Opad + o] * Tc::kG[j][v];
          u[o] = static_cast<float>(s);
        }
      }
  }
}

/// Output channels per block of the elementwise products: with two xi at a time, 16 sums.
constexpr int64_t kChannels = 8;
/// M's stride per output channel, in floats: one vector more than the most values, so that
/// a block's 16 stores do not all fall into one set of the L1 cache (4 KB apart).
constexpr int64_t kMStride = (kMaxValues + 1) * kLanes;

/// One tile of Mr x Mc outputs of O output channels for a block of 16 images. x is the
/// tile's top-left input value of channel 0 in the padded image-lane layout (rows `row` floats
/// apart, channels `channel` apart); U comes from transform_weights<Mr, Mc> with Opad
/// output channels, a multiple of kChannels. Output channel o's value (i, j), plus bias[o],
/// is stored at y + o * y_channel + i * y_row + 16 j. V (kMaxValues * C vectors), M
/// (kChannels * kMStride floats) and rows (kMaxValues vectors) are scratch.
template <int Mr, int Mc>
CONVKIT_NOINLINE void forward_tile(const float* x, int64_t row, int64_t channel, int64_t C, const float* U, int64_t O,
                                   int64_t Opad, const float* bias, float* y, int64_t y_row, int64_t y_channel,
                                   float* V, float* M, float* rows) {
  typedef Transform1D<Mr> Tr;
  typedef Transform1D<Mc> Tc;
  constexpr int Ar = Tr::kAlpha, Ac = Tc::kAlpha, Xi = Ar * Ac;
  for (int64_t c = 0; c < C; ++c) {  // V[xi][c] = (B_r^T d B_c)[xi]: rows, then columns
    const float* d = x + c * channel;
    for (int r = 0; r < Ar; ++r) {
      __m512 in[Ac], v[Ac];
      for (int k = 0; k < Ac; ++k) in[k] = _mm512_loadu_ps(d + r * row + k * kLanes);
      Tc::input(in, v);
      for (int k = 0; k < Ac; ++k) _mm512_storeu_ps(rows + (r * Ac + k) * kLanes, v[k]);
    }
    for (int k = 0; k < Ac; ++k) {
      __m512 in[Ar], v[Ar];
      for (int r = 0; r < Ar; ++r) in[r] = _mm512_loadu_ps(rows + (r * Ac + k) * kLanes);
      Tr::input(in, v);
      for (int i = 0; i < Ar; ++i) _mm512_storeu_ps(V + ((i * Ac + k) * C + c) * kLanes, v[i]);
    }
  }
  for (int64_t o0 = 0; o0 < O; o0 += kChannels) {
    for (int xi = 0; xi < Xi; xi += 2) {  // M[q][xi] = sum over c of U[xi][c][o0 + q] V[xi][c]
      __m512 acc[2][kChannels];
      for (auto& a : acc)
        for (auto& q : a) q = _mm512_setzero_ps();
      for (int64_t c = 0; c < C; ++c) {
        const __m512 v0 = _mm512_loadu_ps(V + (xi * C + c) * kLanes);
        const __m512 v1 = _mm512_loadu_ps(V + ((xi + 1) * C + c) * kLanes);
        const float* u0 = U + (xi * C + c) * Opad + o0;
        const float* u1 = u0 + C * Opad;
        CONVKIT_UNROLL(8)
        for (int q = 0; q < kChannels; ++q) {
          acc[0][q] = _mm512_fmadd_ps(v0, _mm512_set1_ps(u0[q]), acc[0][q]);
          acc[1][q] = _mm512_fmadd_ps(v1, _mm512_set1_ps(u1[q]), acc[1][q]);
        }
      }
      CONVKIT_UNROLL(8)
      for (int q = 0; q < kChannels; ++q) {
        _mm512_storeu_ps(M + q * kMStride + xi * kLanes, acc[0][q]);
        _mm512_storeu_ps(M + q * kMStride + (xi + 1) * kLanes, acc[1][q]);
      }
    }
    for (int64_t q = 0; q < std::min(kChannels, O - o0); ++q) {  // Y = A_r^T M A_c + bias: rows, then columns
      const float* m = M + q * kMStride;
      for (int a = 0; a < Ar; ++a) {
        __m512 in[Ac], z[Mc];
        for (int b = 0; b < Ac; ++b) in[b] = _mm512_loadu_ps(m + (a * Ac + b) * kLanes);
        Tc::output(in, z);
        for (int j = 0; j < Mc; ++j) _mm512_storeu_ps(rows + (a * Mc + j) * kLanes, z[j]);
      }
      const __m512 b = _mm512_set1_ps(bias[o0 + q]);
      float* out = y + (o0 + q) * y_channel;
      for (int j = 0; j < Mc; ++j) {
        __m512 in[Ar], t[Mr];
        for (int a = 0; a < Ar; ++a) in[a] = _mm512_loadu_ps(rows + (a * Mc + j) * kLanes);
        Tr::output(in, t);
        for (int i = 0; i < Mr; ++i) _mm512_storeu_ps(out + i * y_row + j * kLanes, _mm512_add_ps(t[i], b));
      }
    }
  }
}

/// Where a side of `size` (>= 4) outputs is cut into tiles: (first output, tile size)
/// pairs. Tiles of 4, then one of 2 when 2 are left over; when 1 or 3 are, a last tile of
/// 4 ending at the edge, overlapping the one before (its values are computed twice, the
/// same way).
inline std::vector<std::pair<int64_t, int>> tile_cuts(int64_t size) {
  std::vector<std::pair<int64_t, int>> cuts;
  int64_t i = 0;
  for (; i + 4 <= size; i += 4) cuts.emplace_back(i, 4);
  if (size - i == 2) cuts.emplace_back(i, 2);
  if (size - i == 1 || size - i == 3) cuts.emplace_back(size - 4, 4);
  return cuts;
}

/// One layer's forward pass by tiles: where the tiles are and the weights transformed for
/// each tile shape they take (4 or 2 outputs by 4 or 2), made once per pass; then block()
/// for each block of 16 images.
class Forward {
 public:
  /// Scratch for one thread's blocks.
  struct Scratch {
    Workspace<float> V;     ///< the input's transform, [xi][c][16]
    Workspace<float> M;     ///< a block of output channels' products, [q][xi][16]
    Workspace<float> rows;  ///< a transform's first pass
    /// Room for C input channels.
    explicit Scratch(int64_t C)
        : V(static_cast<size_t>(kMaxValues * C * kLanes)),
          M(static_cast<size_t>(kChannels * kMStride)),
          rows(static_cast<size_t>(kMaxValues * kLanes)) {}
  };

  /// The tiles of g (use_image_winograd(g)) and its weights w[o][c][5][5] transformed.
  Forward(const Conv2dGeometry& g, const float* w)
      : g_(g),
        Opad_((g.O + kChannels - 1) / kChannels * kChannels),
        u_size_(kMaxValues * g.C * Opad_),
        U_(static_cast<size_t>(4 * u_size_)) {
    bool shapes[4] = {false, false, false, false};
    for (auto [i, mr] : tile_cuts(g.OH))
      for (auto [j, mc] : tile_cuts(g.OW)) {
        tiles_.push_back({i * g.OW + j, 2 * (mr == 4) + (mc == 4)});
        shapes[tiles_.back().shape] = true;
      }
    // The weights as [c][u][v][o], in double, zero past O: the transforms' loops run over o.
    Workspace<double> wt(static_cast<size_t>(g.C * 25 * Opad_)), t(static_cast<size_t>(8 * 5 * Opad_));
    fill(g.C * 25 * Opad_, wt.data(), 0.0);
    for (int64_t o = 0; o < g.O; ++o)
      for (int64_t c = 0; c < g.C; ++c)
        for (int64_t k = 0; k < 25; ++k) wt.data()[(c * 25 + k) * Opad_ + o] = w[(o * g.C + c) * 25 + k];
    if (shapes[0]) transform_weights<2, 2>(g.C, Opad_, wt.data(), t.data(), U(0));
    if (shapes[1]) transform_weights<2, 4>(g.C, Opad_, wt.data(), t.data(), U(1));
    if (shapes[2]) transform_weights<4, 2>(g.C, Opad_, wt.data(), t.data(), U(2));
    if (shapes[3]) transform_weights<4, 4>(g.C, Opad_, wt.data(), t.data(), U(3));
  }

  /// The outputs of one block of 16 images: X is its input in the padded image-lane layout
  /// (X[c][h + ph][w + pw][16]), Y receives [o][position][16] for o < O, bias[o] added.
  void block(const float* X, const float* bias, float* Y, Scratch& s) const {
    const int64_t Wp = g_.W + 2 * g_.pw, row = Wp * kLanes, channel = (g_.H + 2 * g_.ph) * row;
    const int64_t y_row = g_.OW * kLanes, y_channel = g_.OH * y_row;
    for (const Tile& t : tiles_) {
      const float* in = X + (t.p / g_.OW * Wp + t.p % g_.OW) * kLanes;
      float* out = Y + t.p * kLanes;
      const float* u = U(t.shape);
      float *V = s.V.data(), *M = s.M.data(), *rows = s.rows.data();
      switch (t.shape) {  // each tile shape has its own kernel
        case 0:
          forward_tile<2, 2>(in, row, channel, g_.C, u, g_.O, Opad_, bias, out, y_row, y_channel, V, M, rows);
          break;
        case 1:
          forward_tile<2, 4>(in, row, channel, g_.C, u, g_.O, Opad_, bias, out, y_row, y_channel, V, M, rows);
          break;
        case 2:
          forward_tile<4, 2>(in, row, channel, g_.C, u, g_.O, Opad_, bias, out, y_row, y_channel, V, M, rows);
          break;
        default:
          forward_tile<4, 4>(in, row, channel, g_.C, u, g_.O, Opad_, bias, out, y_row, y_channel, V, M, rows);
      }
    }
  }

 private:
  /// A tile: its first output position, and its shape, 2 * (4 rows) + (4 columns).
  struct Tile {
    int64_t p;  ///< first output position
    int shape;  ///< 2 * (rows == 4) + (columns == 4)
  };
  /// Tile shape `shape`'s transformed weights.
  float* U(int shape) const { return U_.data() + shape * u_size_; }

  Conv2dGeometry g_;         ///< the layer
  int64_t Opad_;             ///< output channels rounded up to kChannels
  int64_t u_size_;           ///< floats per tile shape's weights
  Workspace<float> U_;       ///< the four shapes' transformed weights
  std::vector<Tile> tiles_;  ///< every tile of one image
};

}  // namespace image_winograd

#endif  // CONVKIT_KERNEL_ISA == 2

}  // namespace convkit::backend::cpu::CONVKIT_ISA_COPY
