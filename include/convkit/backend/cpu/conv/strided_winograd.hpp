// Compiled once per instruction set, in namespace cpu::CONVKIT_ISA_COPY (kernels_by_isa.hpp).
// Strided float convolutions whose kernel spans three strides (2s < k <= 3s), AlexNet
// conv1's 11x11 at stride 4 among them, as Winograd F(4x4, 3x3) over phase planes.
//
// Phases. With the padded input xp and stride (sh, sw), phase (p, q) of channel c is the
// plane P[r][j] = xp[c][sh r + p][sw j + q], and the kernel's sub-kernel for it is
// K[i][j] = w[o][c][sh i + p][sw j + q] (zero past the kernel's edge). Then
//   y[o][r][j] = b[o] + sum over (c, p, q) and i, j < 3 of K[i][j] * P[r + i][j' + j]
// exactly: a stride-1 3x3 convolution with C * sh * sw input channels (AlexNet conv1: 16
// phases, 121 of their 144 taps real).
//
// Winograd. Each 4x4 block of outputs (a tile) of one output channel comes from the 6x6
// block of phase values d under it:
//   Y = A^T [ sum over phases of (G K G^T) (.) (B^T d B) ] A
// with (.) the elementwise product (Lavin and Gray, "Fast Algorithms for Convolutional
// Neural Networks", 2016; here the points 0, 1, -1, 2, -1/2 and infinity, see kG): 36
// multiplications per tile, phase and output channel where the direct sum makes 16 * 9.
// AlexNet conv1 takes 16 * 36 / 16 = 36 multiplications per output instead of 121.
//
// Layout. One 64-byte vector holds one transformed value of 16 tiles side by side in a
// tile row (64 output columns), so the transforms are vector additions with constants.
// The phase values are gathered straight from the input (no phase planes are stored; at
// column stride 1 whole vectors are loaded and deinterleaved), and each tile row's 4 x 4
// output vectors are interleaved back into 4 output rows by two rounds of two-vector
// permutes. Blocks of kRows tile rows by 12 (or 8) output channels share each load of the
// elementwise products: 2 + 12 loads per 24 multiply-adds.
//
// The input gradient is the same kernel's forward pass of the output gradient into the
// phase planes (input_gradient); the weight gradient stays with the lane kernel
// (channel_lanes.hpp). Only the AVX-512 copy has it, as it has the image lanes (image_lanes.hpp).
#include <algorithm>
#include <cstdint>

#include "../../../core/geometry.hpp"
#include "../memory.hpp"
#include "../parallel.hpp"
#include "view_layout.hpp"

namespace convkit::backend::cpu::CONVKIT_ISA_COPY {

#if CONVKIT_KERNEL_ISA == 2

namespace strided_winograd {

constexpr int kAlpha = 6;                 ///< transformed values per side of a tile
constexpr int kValues = kAlpha * kAlpha;  ///< transformed values per tile
constexpr int64_t kLanes = 16;            ///< tiles per vector, side by side in a tile row
constexpr int64_t kSpan = 4 * kLanes;     ///< output columns per vector of tiles
constexpr int kRows = 2;                  ///< tile rows per block
/// Output channels per block: 12 (2 + 12 loads per 24 multiply-adds), or 8 where 12 would
/// leave more of a last block empty (16 channels: 2 blocks of 8 rather than 12 and 4).
constexpr int kWideChannels = 12;
constexpr int kNarrowChannels = 8;  ///< (see kWideChannels)

/// The channel block for O output channels (see kWideChannels).
inline int channel_block(int64_t O) {
  const auto empty = [O](int64_t block) { return (block - O % block) % block; };
  return empty(kNarrowChannels) < empty(kWideChannels) ? kNarrowChannels : kWideChannels;
}

/// F(4, 3)'s weight transform G (6 x 3), for the points 0, 1, -1, 2, -1/2 and infinity.
/// Lavin and Gray's 0, +-1, +-2 lost 2.5-3 times more in float: AlexNet conv1's input
/// gradient (96 channels summed) came within 8.3e-6 of its largest value, against 3.4e-6
/// with these in the tests (2.7e-6 against 8.6e-6 in a simulation), as Barabasz et al.
/// ("Error analysis and improving the accuracy of Winograd convolution for deep neural
/// networks", 2020) found for points of mixed size. B^T's rows are scaled by powers of
/// two to integers (exact in float), G's by the inverse.
constexpr double kG[kAlpha][3] = {
    {1. / 2, 0, 0},
    {-1. / 6, -1. / 6, -1. / 6},
    {1. / 6, -1. / 6, 1. / 6},
    {1. / 30, 1. / 15, 2. / 15},
    {-16. / 15, 8. / 15, -4. / 15},
    {0, 0, 1. / 2},
};

/// v = B^T x for one row or column of 6 vectors, B^T =
///   [2 3 -4 -3 2 0; 0 -2 -5 -1 2 0; 0 2 1 -5 2 0; 0 -1 -2 1 2 0; 0 2 -1 -2 1 0; 0 2 3 -4 -3 2].
CONVKIT_INLINE_BODY inline void input_1d(const __m512 (&x)[kAlpha], __m512 (&v)[kAlpha]) {
  const __m512 two = _mm512_set1_ps(2.0f), three = _mm512_set1_ps(3.0f), four = _mm512_set1_ps(4.0f),
               five = _mm512_set1_ps(5.0f);
  const __m512 a = _mm512_sub_ps(x[1], x[3]), b = _mm512_sub_ps(x[4], x[2]);
  v[0] = _mm512_fnmadd_ps(x[2], four, _mm512_fmadd_ps(a, three, _mm512_mul_ps(_mm512_add_ps(x[0], x[4]), two)));
  v[1] = _mm512_sub_ps(_mm512_fnmadd_ps(x[2], five, _mm512_mul_ps(_mm512_sub_ps(x[4], x[1]), two)), x[3]);
  v[2] = _mm512_fnmadd_ps(x[3], five, _mm512_fmadd_ps(_mm512_add_ps(x[1], x[4]), two, x[2]));
  v[3] = _mm512_fmsub_ps(b, two, a);
  v[4] = _mm512_fmadd_ps(a, two, b);
  v[5] = _mm512_fnmadd_ps(x[3], four, _mm512_fnmadd_ps(b, three, _mm512_mul_ps(_mm512_add_ps(x[1], x[5]), two)));
}

/// y = A^T m for one row or column of 6 vectors, A^T =
///   [1 1 1 1 1 0; 0 1 -1 2 -1/2 0; 0 1 1 4 1/4 0; 0 1 -1 8 -1/8 1].
CONVKIT_INLINE_BODY inline void output_1d(const __m512 (&m)[kAlpha], __m512 (&y)[4]) {
  const __m512 s12 = _mm512_add_ps(m[1], m[2]), d12 = _mm512_sub_ps(m[1], m[2]);
  y[0] = _mm512_add_ps(_mm512_add_ps(m[0], s12), _mm512_add_ps(m[3], m[4]));
  y[1] = _mm512_fnmadd_ps(m[4], _mm512_set1_ps(0.5f), _mm512_fmadd_ps(m[3], _mm512_set1_ps(2.0f), d12));
  y[2] = _mm512_fmadd_ps(m[4], _mm512_set1_ps(0.25f), _mm512_fmadd_ps(m[3], _mm512_set1_ps(4.0f), s12));
  y[3] = _mm512_add_ps(_mm512_fnmadd_ps(m[4], _mm512_set1_ps(0.125f), _mm512_fmadd_ps(m[3], _mm512_set1_ps(8.0f), d12)),
                       m[5]);
}

/// Where load_unit_stride reads a row of one span: the same for every row and channel.
struct UnitStrideRow {
  int64_t col0;         ///< the row's first column (negative in the left padding)
  __mmask16 inside[6];  ///< which lanes of the loads at col0 + 16 k (k < 4), + 64, + 65 are in [0, W)
  /// The loads of a row from column col0 of a plane W wide.
  UnitStrideRow(int64_t first, int64_t W) : col0(first) {
    const int64_t offsets[6] = {0, 16, 32, 48, 64, 65};
    for (int k = 0; k < 6; ++k) {
      uint32_t bits = 0;
      for (int l = 0; l < 16; ++l)
        bits |= static_cast<uint32_t>(col0 + offsets[k] + l >= 0 && col0 + offsets[k] + l < W) << l;
      inside[k] = static_cast<__mmask16>(bits);
    }
  }
};

/// d[j] lane t = in[col0 + 4 t + j] for j < 6, zero outside [0, W): one row of a phase
/// plane at column stride 1 (the input gradient's), read as 6 whole vectors and
/// deinterleaved by permutes, where a gather per vector would load each value singly.
CONVKIT_INLINE_BODY inline void load_unit_stride(const float* in, const UnitStrideRow& row, __m512 (&d)[kAlpha]) {
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const auto load = [&](int k, int64_t offset) {  // in[col0 + offset + lane], zero outside [0, W)
    const int64_t at = row.col0 + offset;
    if (!row.inside[k]) return _mm512_setzero_ps();  // wholly past the edge
    if (at >= 0) return _mm512_maskz_loadu_ps(row.inside[k], in + at);
    // In the left padding the lanes inside start at lane -at: expanding the row's first
    // values into them reads the same, without a pointer before the row's array.
    return _mm512_maskz_expandloadu_ps(row.inside[k], in);
  };
  const __m512 v0 = load(0, 0), v1 = load(1, 16), v2 = load(2, 32), v3 = load(3, 48);
  // Index 4 t + s picks element 4 t + s of (v0, v1) for lanes t < 8, and modulo 32 element
  // 4 t + s - 32 of (v2, v3) for the others.
  const __m512i four_t = _mm512_slli_epi32(lane, 2);
  for (int s = 0; s < 4; ++s) {
    const __m512i at = _mm512_add_epi32(four_t, _mm512_set1_epi32(s));
    d[s] = _mm512_mask_blend_ps(0xFF00, _mm512_permutex2var_ps(v0, at, v1), _mm512_permutex2var_ps(v2, at, v3));
  }
  // Columns 4 and 5 are columns 0 and 1 one tile on: a lane along, the last from beyond.
  const __m512i beyond4 = _mm512_castps_si512(load(4, 64)), beyond5 = _mm512_castps_si512(load(5, 65));
  d[4] = _mm512_castsi512_ps(_mm512_alignr_epi32(beyond4, _mm512_castps_si512(d[0]), 1));
  d[5] = _mm512_castsi512_ps(_mm512_alignr_epi32(beyond5, _mm512_castps_si512(d[1]), 1));
}

/// Writes the 4 vectors col[j] (lane t: output column 4 t + j) as 64 consecutive outputs
/// at out, the first `count` of them (0 to 64).
CONVKIT_INLINE_BODY inline void store_interleaved(const __m512 (&col)[4], float* out, int64_t count) {
  // Round one pairs columns 0 and 1 (and 2 and 3) lane by lane, round two pairs the pairs.
  const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const __m512i first = _mm512_setr_epi32(0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
  const __m512i second = _mm512_setr_epi32(8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31);
  const __m512 ab_lo = _mm512_permutex2var_ps(col[0], lo, col[1]), ab_hi = _mm512_permutex2var_ps(col[0], hi, col[1]);
  const __m512 cd_lo = _mm512_permutex2var_ps(col[2], lo, col[3]), cd_hi = _mm512_permutex2var_ps(col[2], hi, col[3]);
  const __m512 out4[4] = {_mm512_permutex2var_ps(ab_lo, first, cd_lo), _mm512_permutex2var_ps(ab_lo, second, cd_lo),
                          _mm512_permutex2var_ps(ab_hi, first, cd_hi), _mm512_permutex2var_ps(ab_hi, second, cd_hi)};
  for (int k = 0; k < 4; ++k) {
    const int64_t n = std::min<int64_t>(16, count - 16 * k);
    if (n <= 0) break;
    if (n == 16) {
      _mm512_storeu_ps(out + 16 * k, out4[k]);
    } else {
      _mm512_mask_storeu_ps(out + 16 * k, static_cast<__mmask16>((1u << n) - 1), out4[k]);
    }
  }
}

/// One layer's forward pass (strided_winograd_fits(g)): the weights are transformed once
/// when it is made, then run() computes the outputs of a batch.
class Forward {
 public:
  /// g's weights w[o][c][kh][kw], transformed.
  Forward(const Conv2dGeometry& g, const float* w)
      : g_(g),
        phases_(phase_channels(g)),
        tile_rows_((g.OH + 3) / 4),
        spans_((g.OW + kSpan - 1) / kSpan),
        channels_(channel_block(g.O)),
        blocks_((g.O + channels_ - 1) / channels_),
        U_(static_cast<size_t>(blocks_ * kValues * phases_ * channels_)) {
    transform_weights(w);
  }

  /// y = the convolution of x plus bias b (or none), for all g.N images.
  void run(const float* x, const float* b, float* y) const {
    const int64_t row_blocks = (tile_rows_ + kRows - 1) / kRows, units = g_.N * row_blocks * spans_;
    const int64_t cost = g_.O * phases_ * kValues * kRows * kLanes;
    parallel_for(units, cost, [&](int64_t u0, int64_t u1) {
      Workspace<float> V(static_cast<size_t>(kRows * kValues * phases_ * kLanes));
      Workspace<float> M(static_cast<size_t>(channels_ * kRows * kValues * kLanes));
      for (int64_t u = u0; u < u1; ++u) {
        const int64_t n = u / (row_blocks * spans_), rest = u % (row_blocks * spans_);
        const int64_t tile_row = rest / spans_ * kRows, span = rest % spans_;
        transform_input(x + n * g_.C * g_.H * g_.W, tile_row, span, V.data());
        float* yn = y + n * g_.O * g_.OH * g_.OW;
        for (int64_t blk = 0; blk < blocks_; ++blk) {
          if (channels_ == kWideChannels) {
            multiply_and_store<kWideChannels>(V.data(), blk, b, yn, tile_row, span, M.data());
          } else {
            multiply_and_store<kNarrowChannels>(V.data(), blk, b, yn, tile_row, span, M.data());
          }
        }
      }
    });
  }

 private:
  /// U[block][xi][phase][q] = (G K G^T)[xi] for output channel block * channels_ + q
  /// (zero past O) and phase = (c * sh + p) * sw + q', in double and then rounded; the
  /// loops run over the output channels innermost.
  void transform_weights(const float* w) {
    const int64_t Opad = blocks_ * channels_;
    Workspace<double> k(static_cast<size_t>(9 * Opad)), t(static_cast<size_t>(kAlpha * 3 * Opad));
    for (int64_t c = 0; c < g_.C; ++c)
      for (int64_t p = 0; p < g_.sh; ++p)
        for (int64_t q = 0; q < g_.sw; ++q) {
          const int64_t phase = (c * g_.sh + p) * g_.sw + q;
          for (int64_t i = 0; i < 3; ++i)  // the sub-kernel, [i][j][o]
            for (int64_t j = 0; j < 3; ++j) {
              const int64_t u = g_.sh * i + p, v = g_.sw * j + q;
              double* kij = k.data() + (i * 3 + j) * Opad;
              for (int64_t o = 0; o < Opad; ++o)
                kij[o] = u < g_.kh && v < g_.kw && o < g_.O ? w[((o * g_.C + c) * g_.kh + u) * g_.kw + v] : 0.0;
            }
          for (int a = 0; a < kAlpha; ++a)  // t = G K
            for (int j = 0; j < 3; ++j) {
              double* taj = t.data() + (a * 3 + j) * Opad;
              CONVKIT_SIMD for (int64_t o = 0; o < Opad; ++o) taj[o] = 0;
              for (int i = 0; i < 3; ++i) {
                const double gi = kG[a][i];
                const double* kij = k.data() + (i * 3 + j) * Opad;
                CONVKIT_SIMD for (int64_t o = 0; o < Opad; ++o) taj[o] += gi * kij[o];
              }
            }
          for (int a = 0; a < kAlpha; ++a)  // U = t G^T
            for (int bb = 0; bb < kAlpha; ++bb) {
              const double* ta = t.data() + a * 3 * Opad;
              for (int64_t blk = 0; blk < blocks_; ++blk) {
                float* u = U_.data() + ((blk * kValues + a * kAlpha + bb) * phases_ + phase) * channels_;
                const int64_t o0 = blk * channels_;
                CONVKIT_SIMD for (int64_t q = 0; q < channels_; ++q) {
                  double s = 0;
                  for (int j = 0; j < 3; ++j) s += ta[j * Opad + o0 + q] * kG[bb][j];
                  u[q] = static_cast<float>(s);
                }
              }
            }
        }
  }

  /// V[r][xi][phase] = (B^T d B)[xi] for tile rows tile_row + r (r < kRows) of span `span`
  /// of one image x: d is gathered from x (at column stride 1, loaded and deinterleaved),
  /// zero outside it (the padding, and past the last tile row or column).
  void transform_input(const float* x, int64_t tile_row, int64_t span, float* V) const {
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i width = _mm512_set1_epi32(static_cast<int>(g_.W)), zero = _mm512_setzero_si512();
    const UnitStrideRow unit_row(kSpan * span - g_.pw, g_.W);  // (for sw == 1)
    for (int r = 0; r < kRows; ++r)
      for (int64_t c = 0; c < g_.C; ++c)
        for (int64_t p = 0; p < g_.sh; ++p)
          for (int64_t q = 0; q < g_.sw; ++q) {
            const int64_t phase = (c * g_.sh + p) * g_.sw + q;
            // Lane t's phase column for j = 0 is kSpan * span + 4 t: input column
            // sw * (that) + q - pw.
            const __m512i first =
                _mm512_add_epi32(_mm512_mullo_epi32(lane, _mm512_set1_epi32(static_cast<int>(4 * g_.sw))),
                                 _mm512_set1_epi32(static_cast<int>(g_.sw * kSpan * span + q - g_.pw)));
            __m512i col[kAlpha];  // (for sw > 1) column j's input columns, the same in every row
            __mmask16 inside[kAlpha];
            for (int j = 0; j < kAlpha; ++j) {
              col[j] = _mm512_add_epi32(first, _mm512_set1_epi32(static_cast<int>(g_.sw * j)));
              inside[j] = _mm512_cmpge_epi32_mask(col[j], zero) & _mm512_cmplt_epi32_mask(col[j], width);
            }
            __m512 rows[kAlpha][kAlpha];  // B^T applied along each row of d
            for (int i = 0; i < kAlpha; ++i) {
              const int64_t h = g_.sh * (4 * (tile_row + r) + i) + p - g_.ph;
              __m512 d[kAlpha];
              if (h < 0 || h >= g_.H) {
                for (auto& v : d) v = _mm512_setzero_ps();
              } else {
                const float* in = x + (c * g_.H + h) * g_.W;
                if (g_.sw == 1) {
                  load_unit_stride(in, unit_row, d);
                } else {
                  for (int j = 0; j < kAlpha; ++j)
                    d[j] = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), inside[j], col[j], in, 4);
                }
              }
              input_1d(d, rows[i]);
            }
            for (int j = 0; j < kAlpha; ++j) {  // then down each column
              __m512 in[kAlpha], v[kAlpha];
              for (int i = 0; i < kAlpha; ++i) in[i] = rows[i][j];
              input_1d(in, v);
              for (int a = 0; a < kAlpha; ++a)
                _mm512_storeu_ps(V + ((r * kValues + a * kAlpha + j) * phases_ + phase) * kLanes, v[a]);
            }
          }
  }

  /// For output channels [Channels * blk, ...): the elementwise products summed over the
  /// phases, M = sum U (.) V, then Y = A^T M A + bias written into the tile rows' output
  /// rows of one image's y. M is scratch.
  template <int Channels>
  void multiply_and_store(const float* V, int64_t blk, const float* bias, float* y, int64_t tile_row, int64_t span,
                          float* M) const {
    const int64_t Mstride = kValues * kLanes;  // per (channel, row) pair
    for (int xi = 0; xi < kValues; ++xi) {
      __m512 acc[Channels][kRows];
      for (auto& a : acc)
        for (auto& v : a) v = _mm512_setzero_ps();
      const float* u = U_.data() + (blk * kValues + xi) * phases_ * Channels;
      const float* v0 = V + xi * phases_ * kLanes;
      for (int64_t ph = 0; ph < phases_; ++ph) {
        __m512 v[kRows];
        for (int r = 0; r < kRows; ++r) v[r] = _mm512_loadu_ps(v0 + (r * kValues * phases_ + ph) * kLanes);
        CONVKIT_UNROLL(12)
        for (int q = 0; q < Channels; ++q) {
          const __m512 uq = _mm512_set1_ps(u[ph * Channels + q]);
          for (int r = 0; r < kRows; ++r) acc[q][r] = _mm512_fmadd_ps(v[r], uq, acc[q][r]);
        }
      }
      for (int q = 0; q < Channels; ++q)
        for (int r = 0; r < kRows; ++r) _mm512_storeu_ps(M + (q * kRows + r) * Mstride + xi * kLanes, acc[q][r]);
    }
    const int64_t o0 = blk * Channels, col0 = kSpan * span, count = std::min(kSpan, g_.OW - col0);
    for (int64_t q = 0; q < std::min<int64_t>(Channels, g_.O - o0); ++q) {
      const __m512 b = _mm512_set1_ps(bias ? bias[o0 + q] : 0.0f);
      for (int r = 0; r < kRows; ++r) {
        const int64_t out_row = 4 * (tile_row + r);
        if (out_row >= g_.OH) break;
        const float* m = M + (q * kRows + r) * Mstride;
        __m512 z[kAlpha][4];  // A^T applied along each row of M
        for (int a = 0; a < kAlpha; ++a) {
          __m512 in[kAlpha];
          for (int j = 0; j < kAlpha; ++j) in[j] = _mm512_loadu_ps(m + (a * kAlpha + j) * kLanes);
          output_1d(in, z[a]);
        }
        __m512 out[4][4];  // [output row i][column j]: then down each column
        for (int j = 0; j < 4; ++j) {
          __m512 in[kAlpha], t[4];
          for (int a = 0; a < kAlpha; ++a) in[a] = z[a][j];
          output_1d(in, t);
          for (int i = 0; i < 4; ++i) out[i][j] = _mm512_add_ps(t[i], b);
        }
        float* plane = y + (o0 + q) * g_.OH * g_.OW;
        for (int i = 0; i < 4 && out_row + i < g_.OH; ++i)
          store_interleaved(out[i], plane + (out_row + i) * g_.OW + col0, count);
      }
    }
  }

  Conv2dGeometry g_;    ///< the layer
  int64_t phases_;      ///< C * sh * sw
  int64_t tile_rows_;   ///< tile rows per image: ceil(OH / 4)
  int64_t spans_;       ///< vectors of tiles per tile row: ceil(OW / 64)
  int channels_;        ///< output channels per block: channel_block(O)
  int64_t blocks_;      ///< blocks of channels_ output channels
  Workspace<float> U_;  ///< the transformed weights
};

/// gx (overwritten) for a layer that fits phase_gradient_geometry(g): the forward pass of
/// the output gradient into the phase planes (phase_gradient_geometry), with weights
/// wt[phase][o][i][j] = K[o][phase][2 - i][2 - j], the sub-kernels flipped; then each
/// input value is read from its phase plane (ViewLayout::take), zero where it is padding
/// no output reads.
inline void input_gradient(const Conv2dGeometry& g, const float* w, const float* gy, float* gx) {
  const Conv2dGeometry gg = phase_gradient_geometry(g);
  const int64_t phases = gg.O;
  Workspace<float> flipped(static_cast<size_t>(phases * g.O * 9));
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t p = 0; p < g.sh; ++p)
      for (int64_t q = 0; q < g.sw; ++q)
        for (int64_t o = 0; o < g.O; ++o)
          for (int64_t i = 0; i < 3; ++i)
            for (int64_t j = 0; j < 3; ++j) {
              const int64_t u = g.sh * (2 - i) + p, v = g.sw * (2 - j) + q;
              flipped.data()[((((c * g.sh + p) * g.sw + q) * g.O + o) * 3 + i) * 3 + j] =
                  u < g.kh && v < g.kw ? w[((o * g.C + c) * g.kh + u) * g.kw + v] : 0.0f;
            }
  Workspace<float> planes(static_cast<size_t>(g.N * phases * gg.OH * gg.OW));
  Forward(gg, flipped.data()).run(gy, nullptr, planes.data());
  // Input (h, x) is phase (p, q)'s value (r, j), with h + ph = sh r + p and x + pw = sw j + q;
  // the values past the planes, which no output reads, get zero.
  const ViewLayout layout(g, gg.OH, gg.OW);
  parallel_for(g.N * g.C, g.H * g.W, [&](int64_t nc0, int64_t nc1) {
    for (int64_t nc = nc0; nc < nc1; ++nc) {
      float* out = gx + nc * g.H * g.W;
      std::fill(out, out + g.H * g.W, 0.0f);
      layout.take(g, planes.data() + nc * layout.channel_size, out);
    }
  });
}

}  // namespace strided_winograd

/// The forward pass of a layer for which fits_strided_winograd(g) holds.
inline void strided_winograd_forward(const Conv2dGeometry& g, const float* x, const float* w, const float* b,
                                     float* y) {
  strided_winograd::Forward(g, w).run(x, b, y);
}

#endif  // CONVKIT_KERNEL_ISA == 2

}  // namespace convkit::backend::cpu::CONVKIT_ISA_COPY
