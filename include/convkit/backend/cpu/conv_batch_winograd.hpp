#pragma once
// Winograd's F(4x4, 5x5) for the batch lanes' forward pass of 5x5 kernels (conv_batch.hpp;
// Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016). Each 4x4 block
// of outputs (a tile) of one output channel comes from the 8x8 block of input d under it:
//   Y = A^T [ sum over c of (G g_c G^T) (.) (B^T d_c B) ] A
// with (.) the elementwise product: 64 multiplications per tile, input and output channel,
// where the direct sum makes 16 * 25 = 400. With the transforms LeNet conv2 (6 -> 16
// channels, 10x10 outputs, so 9 tiles of which the last row and column overlap the ones
// before) makes about half the vector operations of the direct blocks.
//
// The points are 0, +-1, +-2, +-1/2 and infinity, those of F(6x6, 3x3) in NNPACK and oneDNN;
// in float the outputs are within about 3e-6 of the exact ones relative to the largest
// (the direct sums: 1e-7), checked in the tests against the reference in double.
//
// Each 64-byte vector holds one value of 16 images (the batch lanes), so every transform is
// a few vector additions and multiply-adds with constants, with no shuffles; each tile's
// elementwise products are for each of its 64 transformed positions (xi) an O x C by C x 16
// matrix product, U[xi] times V[xi].
#include <algorithm>
#include <cstdint>
#include <vector>

#include "../../ops/geometry.hpp"
#include "parallel.hpp"

#if CONVKIT_HAS_BATCH_LANES  // AVX-512 builds only: the intrinsics are x86's
#include <immintrin.h>
#endif

namespace convkit::backend::cpu {

/// True when use_batch_lanes(g)'s forward pass goes through Winograd: a 5x5 kernel with at
/// least 4 output rows and columns (one whole tile).
inline bool use_batch_winograd(const Conv2dGeometry& g) { return g.kh == 5 && g.kw == 5 && g.OH >= 4 && g.OW >= 4; }

#if CONVKIT_HAS_BATCH_LANES

namespace batch_winograd {

constexpr int kOut = 4;                     ///< a tile's outputs per side
constexpr int kPoints = kOut + 5 - 1;       ///< a transformed tile's values per side
constexpr int kValues = kPoints * kPoints;  ///< a transformed tile's values (xi = 8 row + column)
constexpr int64_t kLanes = 16;              ///< images per vector

/// G, the 8 x 5 weight transform (its first row and B^T's have both been negated, to
/// start with 1).
constexpr double kG[kPoints][5] = {
    {1, 0, 0, 0, 0},
    {-2. / 9, -2. / 9, -2. / 9, -2. / 9, -2. / 9},
    {-2. / 9, 2. / 9, -2. / 9, 2. / 9, -2. / 9},
    {1. / 90, 1. / 45, 2. / 45, 4. / 45, 8. / 45},
    {1. / 90, -1. / 45, 2. / 45, -4. / 45, 8. / 45},
    {32. / 45, 16. / 45, 8. / 45, 4. / 45, 2. / 45},
    {32. / 45, -16. / 45, 8. / 45, -4. / 45, 2. / 45},
    {0, 0, 0, 0, 1},
};

/// U[xi][c][o] = (G g G^T)[xi] for the weights w[o][c][5][5], in double and then rounded;
/// output channels past O (up to Opad) are zero.
inline void transform_weights(int64_t O, int64_t C, const float* w, int64_t Opad, float* U) {
  std::fill(U, U + kValues * C * Opad, 0.0f);
  for (int64_t o = 0; o < O; ++o)
    for (int64_t c = 0; c < C; ++c) {
      const float* g = w + (o * C + c) * 25;
      double t[kPoints][5];  // G g
      for (int i = 0; i < kPoints; ++i)
        for (int v = 0; v < 5; ++v) {
          t[i][v] = 0;
          for (int u = 0; u < 5; ++u) t[i][v] += kG[i][u] * g[u * 5 + v];
        }
      for (int i = 0; i < kPoints; ++i)
        for (int j = 0; j < kPoints; ++j) {
          double s = 0;  // (G g G^T)[i][j]
          for (int v = 0; v < 5; ++v) s += t[i][v] * kG[j][v];
          U[((i * kPoints + j) * C + c) * Opad + o] = static_cast<float>(s);
        }
    }
}

/// Two of the 8 values of B^T x, for one row or column x of 8 vectors: pair 0 is values 0
/// and 7, pairs 1, 2, 3 values (1, 2), (3, 4), (5, 6). Rows for +p and -p share their
/// even and odd halves, so the pairs share nothing: the 4 make 26 operations where the
/// matrix has 40 non-zeros, and a pass can compute any one of them alone.
template <int Pair>
CONVKIT_INLINE_BODY inline void input_pair(const __m512 (&x)[kPoints], __m512& lo, __m512& hi) {
  auto c = [](float v) { return _mm512_set1_ps(v); };
  if constexpr (Pair == 0) {
    lo = _mm512_fmadd_ps(_mm512_sub_ps(x[4], x[2]), c(5.25f), _mm512_sub_ps(x[0], x[6]));
    hi = _mm512_fmadd_ps(_mm512_sub_ps(x[3], x[5]), c(5.25f), _mm512_sub_ps(x[7], x[1]));
    return;
  }
  __m512 even, odd;  // the values' shares of x[2], x[4], x[6] and of x[1], x[3], x[5]
  if constexpr (Pair == 1) {
    even = _mm512_fnmadd_ps(x[4], c(4.25f), _mm512_add_ps(x[2], x[6]));
    odd = _mm512_fnmadd_ps(x[3], c(4.25f), _mm512_add_ps(x[1], x[5]));
  } else if constexpr (Pair == 2) {
    even = _mm512_fnmadd_ps(x[4], c(1.25f), _mm512_fmadd_ps(x[2], c(0.25f), x[6]));
    odd = _mm512_fmadd_ps(x[5], c(2.0f), _mm512_fmsub_ps(x[1], c(0.5f), _mm512_mul_ps(x[3], c(2.5f))));
  } else {
    even = _mm512_fnmadd_ps(x[4], c(5.0f), _mm512_fmadd_ps(x[2], c(4.0f), x[6]));
    odd = _mm512_fmadd_ps(x[5], c(0.5f), _mm512_fmsub_ps(x[1], c(2.0f), _mm512_mul_ps(x[3], c(2.5f))));
  }
  lo = _mm512_add_ps(even, odd);
  hi = _mm512_sub_ps(even, odd);
}

/// The pairs' values: pair p's first value is number kPairLo[p], its second kPairHi[p].
///@{
constexpr int kPairLo[4] = {0, 1, 3, 5};
constexpr int kPairHi[4] = {7, 2, 4, 6};
///@}

/// B^T x for one row or column of 8 vectors.
CONVKIT_INLINE_BODY inline void input_transform(const __m512 (&x)[kPoints], __m512 (&v)[kPoints]) {
  input_pair<0>(x, v[0], v[7]);
  input_pair<1>(x, v[1], v[2]);
  input_pair<2>(x, v[3], v[4]);
  input_pair<3>(x, v[5], v[6]);
}

/// One input channel's tile: V[xi][c] = (B^T d B)[xi] for the 8 x 8 vectors d (rows `row`
/// floats apart) stored at V + xi * xi_stride. The first pass (over rows) makes one pair of
/// columns at a time for all 8 rows, and the second pass transforms those two columns
/// straight from registers: the first pass's 64 values are never stored.
template <int Pair>
CONVKIT_INLINE_BODY inline void input_columns(const float* d, int64_t row, float* V, int64_t xi_stride) {
  __m512 lo[kPoints], hi[kPoints];
  for (int r = 0; r < kPoints; ++r) {
    __m512 x[kPoints];  // the pair reads only some of them; the others are not loaded
    for (int k = 0; k < kPoints; ++k) x[k] = _mm512_loadu_ps(d + r * row + k * kLanes);
    input_pair<Pair>(x, lo[r], hi[r]);
  }
  __m512 v[kPoints];
  input_transform(lo, v);
  for (int k = 0; k < kPoints; ++k) _mm512_storeu_ps(V + (k * kPoints + kPairLo[Pair]) * xi_stride, v[k]);
  input_transform(hi, v);
  for (int k = 0; k < kPoints; ++k) _mm512_storeu_ps(V + (k * kPoints + kPairHi[Pair]) * xi_stride, v[k]);
}

/// Two of the 4 values of A^T x, for one row or column x of 8 vectors: pair 0 is values 0
/// and 2, pair 1 values 1 and 3 (the sums and the differences of the +-p pairs).
template <int Pair>
CONVKIT_INLINE_BODY inline void output_pair(const __m512 (&x)[kPoints], __m512& lo, __m512& hi) {
  auto c = [](float v) { return _mm512_set1_ps(v); };
  if constexpr (Pair == 0) {
    const __m512 s1 = _mm512_add_ps(x[1], x[2]), s2 = _mm512_add_ps(x[3], x[4]), s3 = _mm512_add_ps(x[5], x[6]);
    lo = _mm512_add_ps(_mm512_add_ps(x[0], s1), _mm512_add_ps(s2, s3));
    hi = _mm512_fmadd_ps(s3, c(0.25f), _mm512_fmadd_ps(s2, c(4.0f), s1));
  } else {
    const __m512 d1 = _mm512_sub_ps(x[1], x[2]), d2 = _mm512_sub_ps(x[3], x[4]), d3 = _mm512_sub_ps(x[5], x[6]);
    lo = _mm512_fmadd_ps(d3, c(0.5f), _mm512_fmadd_ps(d2, c(2.0f), d1));
    hi = _mm512_add_ps(_mm512_fmadd_ps(d3, c(0.125f), _mm512_fmadd_ps(d2, c(8.0f), d1)), x[7]);
  }
}

/// A^T x for one row or column of 8 vectors: the 4 outputs.
CONVKIT_INLINE_BODY inline void output_transform(const __m512 (&x)[kPoints], __m512 (&y)[kOut]) {
  output_pair<0>(x, y[0], y[2]);
  output_pair<1>(x, y[1], y[3]);
}

/// One output channel's tile: Y = A^T M A + bias for the 64 vectors M (xi = 8 row + column,
/// `xi_stride` floats apart); Y[i][j] is stored at y + i * y_row + 16 j. The first pass
/// makes one pair of output columns for all 8 rows, the second transforms them from
/// registers.
template <int Pair>
CONVKIT_INLINE_BODY inline void output_columns(const float* M, int64_t xi_stride, __m512 bias, float* y,
                                               int64_t y_row) {
  __m512 lo[kPoints], hi[kPoints];
  for (int a = 0; a < kPoints; ++a) {
    __m512 x[kPoints];
    for (int b = 0; b < kPoints; ++b) x[b] = _mm512_loadu_ps(M + (a * kPoints + b) * xi_stride);
    output_pair<Pair>(x, lo[a], hi[a]);
  }
  __m512 t[kOut];
  output_transform(lo, t);
  for (int i = 0; i < kOut; ++i) _mm512_storeu_ps(y + i * y_row + Pair * kLanes, _mm512_add_ps(t[i], bias));
  output_transform(hi, t);
  for (int i = 0; i < kOut; ++i) _mm512_storeu_ps(y + i * y_row + (Pair + 2) * kLanes, _mm512_add_ps(t[i], bias));
}

/// Output channels per block of the elementwise products: with two xi at a time, 16 sums.
constexpr int64_t kChannels = 8;
/// M's stride per output channel, in floats: one vector more than the 64 values, so that
/// a block's 16 stores do not all fall into one set of the L1 cache (4 KB apart).
constexpr int64_t kMStride = (kValues + 1) * kLanes;

/// One tile of O output channels for a block of 16 images. x is the tile's top-left input
/// value of channel 0 in the padded batch layout (rows `row` floats apart, channels
/// `channel` apart); U comes from transform_weights with Opad output channels, a multiple
/// of kChannels. Output channel o's value (i, j), plus bias[o], is stored at
/// y + o * y_channel + i * y_row + 16 j. V (kValues * C vectors) and M (kChannels *
/// kMStride floats) are scratch.
CONVKIT_NOINLINE inline void forward_tile(const float* x, int64_t row, int64_t channel, int64_t C, const float* U,
                                          int64_t O, int64_t Opad, const float* bias, float* y, int64_t y_row,
                                          int64_t y_channel, float* V, float* M) {
  for (int64_t c = 0; c < C; ++c) {  // V[xi][c] = (B^T d B)[xi], two columns at a time
    const float* d = x + c * channel;
    input_columns<0>(d, row, V + c * kLanes, C * kLanes);
    input_columns<1>(d, row, V + c * kLanes, C * kLanes);
    input_columns<2>(d, row, V + c * kLanes, C * kLanes);
    input_columns<3>(d, row, V + c * kLanes, C * kLanes);
  }
  for (int64_t o0 = 0; o0 < O; o0 += kChannels) {
    for (int xi = 0; xi < kValues; xi += 2) {  // M[q][xi] = sum over c of U[xi][c][o0 + q] V[xi][c]
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
    for (int64_t q = 0; q < std::min(kChannels, O - o0); ++q) {  // Y = A^T M A + bias
      const __m512 b = _mm512_set1_ps(bias[o0 + q]);
      output_columns<0>(M + q * kMStride, kLanes, b, y + (o0 + q) * y_channel, y_row);
      output_columns<1>(M + q * kMStride, kLanes, b, y + (o0 + q) * y_channel, y_row);
    }
  }
}

/// The tiles' first rows (or columns) for an output `size` long (>= 4): every 4th, and a
/// last one ending at the edge, which overlaps the one before when 4 does not divide size
/// (its values are computed twice, the same way).
inline std::vector<int64_t> tile_starts(int64_t size) {
  std::vector<int64_t> starts;
  for (int64_t i = 0; i + kOut <= size; i += kOut) starts.push_back(i);
  if (size % kOut != 0) starts.push_back(size - kOut);
  return starts;
}

}  // namespace batch_winograd

#endif  // CONVKIT_HAS_BATCH_LANES

}  // namespace convkit::backend::cpu
