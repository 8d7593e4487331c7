// Compiled once per instruction set, in namespace cpu::CONVKIT_ISA_COPY (kernels_by_isa.hpp).
// float convolutions with the batch in the vector lanes: one 64-byte vector holds one value
// of 16 images. For small images with few channels (LeNet conv2: 6 -> 16 channels, 14x14
// -> 10x10), the kernels that vectorise over output channels (channel_lanes.hpp) or positions
// (direct.hpp) load about one operand per multiply-add. Here every lane is a real
// image, and a block of kImageChannels output channels by kImageSpan positions (or taps)
// shares each load:
//   forward:         acc[q][r] += w[o0 + q, c, u, v] * X[c][position r + (u, v)]
//   weight gradient: acc[q][t] += GY[o0 + q][position] * X[c][position + tap t]
//                    (the 16 lanes, one per image, are added up at the end)
//   input gradient:  sums[tap][position] = sum over o of w[o, c, tap] * GY[o][position]
//                    (the forward block again, taps as its output channels), each added
//                    straight into input position + tap.
// On AVX-512 a 4 x 4 block makes 8 loads per 16 multiply-adds, where the lane kernel
// makes 9 per 8 (LeNet conv2's forward, one thread: 0.52-0.53 ms against 0.87-0.90).
// Each block of 16 images is transposed in (X[c][h][w][16], zero-padded; images past N are
// zero lanes) and out, 16 x 16 values at a time.
//
// Only the AVX-512 copy has these kernels (select.hpp). Below AVX-512 the 16 vector
// registers hold too small a block: with AVX2 LeNet conv2's input gradient takes 1.48 ms
// against the channel lanes' 1.27 (one thread), so there the other kernels serve. With the
// strided Winograd (strided_winograd.hpp) they are the costliest kernels to compile (8.3 G
// compiler instructions): CMake's convkit::convkit compiles the kernels once per program
// (backend/cpu/kernels.cpp).
#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "../../../core/geometry.hpp"
#include "../elementwise.hpp"
#include "../gemm_kernels.hpp"
#include "../memory.hpp"
#include "../parallel.hpp"

namespace convkit::backend::cpu::CONVKIT_ISA_COPY {

#if CONVKIT_KERNEL_ISA == 2  // AVX-512 only (see above)

static_assert(image_winograd::kLanes == kImageLanes, "Winograd's tiles read and write the image lanes' layout");

/// A forward block's positions (by kImageChannels output channels): 4 x 4 sums, half the
/// register file.
constexpr int kImageSpan = 4;
/// A weight-gradient block's taps (by kImageChannels output channels): 20 sums, which
/// with 4 output-gradient vectors and one input vector take 25 of the 32 registers. 5
/// taps fit 5x5 kernels exactly (LeNet conv2's weight gradient, one thread: 0.60 ms, against
/// 0.63 with blocks of 4 taps padded to 28).
constexpr int kImageTaps = 5;

/// Images [n0, n0 + count) of the N x C x H x W tensor x as X[c][h + ph][w + pw][16],
/// lanes past count zero. X's padding must already be zero; `plane` is H * W * 16 floats
/// of scratch (used only with padding), `zeros` H * W zeros.
CONVKIT_NOINLINE inline void to_image_lanes(int64_t C, int64_t H, int64_t W, int64_t ph, int64_t pw, const float* x,
                                            int64_t n0, int64_t count, const float* zeros, float* X, float* plane) {
  const int64_t Wp = W + 2 * pw, channel_size = (H + 2 * ph) * Wp * kImageLanes;
  const bool padded = ph > 0 || pw > 0;
  for (int64_t c = 0; c < C; ++c) {
    const float* rows[kImageLanes];
    for (int64_t l = 0; l < kImageLanes; ++l) rows[l] = l < count ? x + ((n0 + l) * C + c) * H * W : zeros;
    float* dst = padded ? plane : X + c * channel_size;
    rows_to_lanes(rows, H * W, dst);
    if (padded)
      copy_rows(plane, W * kImageLanes, W * kImageLanes, H, X + c * channel_size + (ph * Wp + pw) * kImageLanes,
                Wp * kImageLanes);
  }
}

/// The way back for an output: Y[o][p][16] (O planes of S positions) into images
/// [n0, n0 + count) of y (N x O x S).
CONVKIT_NOINLINE inline void from_image_lanes(int64_t O, int64_t S, const float* Y, int64_t n0, int64_t count,
                                              float* y) {
  const int64_t image = O * S;
  for (int64_t o = 0; o < O; ++o)
    for (int64_t p0 = 0; p0 < S; p0 += kImageLanes) {
      const float* src = Y + (o * S + p0) * kImageLanes;
      float* dst = y + n0 * image + o * S + p0;
#if CONVKIT_X86_DISPATCH
      if (count == kImageLanes && p0 + kImageLanes <= S) {
        const float* rows[kImageLanes];  // position p0 + r's 16 images
        for (int64_t r = 0; r < kImageLanes; ++r) rows[r] = src + r * kImageLanes;
        gemm_kernels::Avx512::transpose16(rows, 0, dst, image);
        continue;
      }
#endif
      for (int64_t p = 0; p < std::min(kImageLanes, S - p0); ++p)
        for (int64_t l = 0; l < count; ++l) dst[l * image + p] = src[p * kImageLanes + l];
    }
}

/// The forward pass of kImageChannels output channels at kImageSpan positions of a block of
/// 16 images, summed over the taps of every input channel: position r reads x[r] +
/// c * channel_size + taps[t]; w holds [c][t][kImageChannels] weights. Sum (q, r), bias[q]
/// first, is stored at out[r] + out_offset[q], or with Accumulate (and no bias) added to
/// what is there, for the first `valid` positions only (the input gradient's scatter; bias
/// is not read then).
template <bool Accumulate>
CONVKIT_NOINLINE inline void image_forward_block(const float* const* x, const float* w, const int64_t* taps, int64_t C,
                                                 int64_t K, int64_t channel_size, const float* bias, float* const* out,
                                                 const int64_t* out_offset, int valid) {
  constexpr int Q = kImageChannels, R = kImageSpan;
  typedef Vec64<float> Vec;
  Vec acc[Q][R];
  CONVKIT_UNROLL(4)
  for (int q = 0; q < Q; ++q) {
    CONVKIT_UNROLL(4)
    for (int r = 0; r < R; ++r) acc[q][r] = Vec::splat(Accumulate ? 0.0f : bias[q]);
  }
  for (int64_t c = 0; c < C; ++c, w += K * Q)
    for (int64_t t = 0; t < K; ++t) {
      const int64_t at = c * channel_size + taps[t];
      CONVKIT_UNROLL(4)
      for (int r = 0; r < R; ++r) {
        Vec v = Vec::load(x[r] + at);
        v.pin();  // one load for the Q multiply-adds
        CONVKIT_UNROLL(4)
        for (int q = 0; q < Q; ++q) acc[q][r].fma(v, w[t * Q + q]);
      }
    }
  CONVKIT_UNROLL(4)
  for (int q = 0; q < Q; ++q) {
    CONVKIT_UNROLL(4)
    for (int r = 0; r < R; ++r) {
      float* dst = out[r] + out_offset[q];
      if constexpr (Accumulate) {
        if (r >= valid) continue;
        Vec sum = Vec::load(dst);
        sum.fma(acc[q][r], 1.0f);
        sum.store(dst);
      } else {
        acc[q][r].store(dst);
      }
    }
  }
}

/// The weight gradient of kImageChannels output channels by kImageTaps taps of one input
/// channel, over the S positions of a block of 16 images: position p reads x + pos[p] +
/// taps[t] and gy + q * gy_stride + 16 p. The sums are added to sums + q * sums_stride +
/// 16 t, still one lane per image.
CONVKIT_NOINLINE inline void image_weight_block(const float* x, const int64_t* taps, const int64_t* pos, int64_t S,
                                                const float* gy, int64_t gy_stride, float* sums, int64_t sums_stride) {
  constexpr int Q = kImageChannels, T = kImageTaps;
  typedef Vec64<float> Vec;
  Vec acc[Q][T] = {};
  for (int64_t p = 0; p < S; ++p) {
    Vec d[Q];
    CONVKIT_UNROLL(4)
    for (int q = 0; q < Q; ++q) {
      d[q] = Vec::load(gy + q * gy_stride + p * kImageLanes);
      d[q].pin();
    }
    const float* xp = x + pos[p];
    CONVKIT_UNROLL(5)
    for (int t = 0; t < T; ++t) {
      Vec v = Vec::load(xp + taps[t]);
      v.pin();
      CONVKIT_UNROLL(4)
      for (int q = 0; q < Q; ++q) acc[q][t].fma(d[q], v);
    }
  }
  CONVKIT_UNROLL(4)
  for (int q = 0; q < Q; ++q) {
    CONVKIT_UNROLL(5)
    for (int t = 0; t < T; ++t) {
      Vec sum = Vec::load(sums + q * sums_stride + t * kImageLanes);
      sum.fma(acc[q][t], 1.0f);
      sum.store(sums + q * sums_stride + t * kImageLanes);
    }
  }
}

/// Where the blocks read a layer's batch layout: taps[t] for tap t = (u, v) and pos[p] for
/// output position p = (i, j), as offsets into one input channel of X, whose rows are
/// W + 2 pw wide. `taps` is rounded up to whole blocks of `tap_block`, repeating the last
/// tap (their sums are dropped).
struct BatchOffsets {
  std::vector<int64_t> taps;  ///< (u * Wp + v) * 16
  std::vector<int64_t> pos;   ///< (i * Wp + j) * 16
  /// The offsets of g's layout.
  CONVKIT_NOINLINE BatchOffsets(const Conv2dGeometry& g, int64_t tap_block) {
    const int64_t Wp = g.W + 2 * g.pw, K = g.kh * g.kw;
    taps.resize(static_cast<size_t>((K + tap_block - 1) / tap_block * tap_block));
    for (size_t t = 0; t < taps.size(); ++t) {
      const int64_t k = std::min(static_cast<int64_t>(t), K - 1);
      taps[t] = (k / g.kw * Wp + k % g.kw) * kImageLanes;
    }
    pos.resize(static_cast<size_t>(g.OH * g.OW));
    for (int64_t p = 0; p < g.OH * g.OW; ++p) pos[static_cast<size_t>(p)] = (p / g.OW * Wp + p % g.OW) * kImageLanes;
  }
};

/// image_forward_block over all of an output of O channels (in blocks of kImageChannels) by
/// S positions (in blocks of kImageSpan): position p reads X + pos[p]; w holds
/// [O block][C][K][kImageChannels] weights and bias [O block][kImageChannels] values; Y,
/// [O block * kImageChannels][S][16], receives the sums (of channels past O too).
CONVKIT_NOINLINE inline void image_forward_blocks(int64_t O, int64_t S, const float* X, const int64_t* pos,
                                                  const float* w, const int64_t* taps, int64_t C, int64_t K,
                                                  int64_t channel_size, const float* bias, float* Y) {
  constexpr int Q = kImageChannels, R = kImageSpan;
  int64_t channel_offset[Q];  // Y's planes
  for (int q = 0; q < Q; ++q) channel_offset[q] = q * S * kImageLanes;
  for (int64_t ob = 0; ob < (O + Q - 1) / Q; ++ob)
    for (int64_t p0 = 0; p0 < S; p0 += R) {
      const float* x[R];
      float* out[R];
      for (int r = 0; r < R; ++r) {  // a last block past S repeats position S - 1
        const int64_t p = std::min(p0 + r, S - 1);
        x[r] = X + pos[p];
        out[r] = Y + (ob * Q * S + p) * kImageLanes;
      }
      image_forward_block<false>(x, w + ob * C * K * Q, taps, C, K, channel_size, bias + ob * Q, out, channel_offset,
                                 R);
    }
}

/// The forward pass for fits_image_lanes(g).
inline void image_lane_forward(const Conv2dGeometry& g, const float* x, const float* w, const float* b, float* y) {
  constexpr int Q = kImageChannels;
  const int64_t K = g.kh * g.kw, S = g.OH * g.OW, HW = g.H * g.W;
  const int64_t channel_size = (g.H + 2 * g.ph) * (g.W + 2 * g.pw) * kImageLanes;
  const int64_t oblocks = (g.O + Q - 1) / Q;
  const bool winograd = use_image_winograd(g);  // 5x5 kernels: Winograd's tiles, below
  // Weights as [o block][c][tap][Q] (for the direct blocks) and biases as [o block][Q], zero
  // past O.
  Workspace<float> wq(winograd ? 0 : static_cast<size_t>(oblocks * g.C * K * Q)), bq(static_cast<size_t>(oblocks * Q));
  fill(oblocks * Q, bq.data(), 0.0f);
  for (int64_t o = 0; o < g.O; ++o)
    if (b) bq.data()[o] = b[o];
  if (!winograd) {
    fill(oblocks * g.C * K * Q, wq.data(), 0.0f);
    for (int64_t o = 0; o < g.O; ++o)
      for (int64_t c = 0; c < g.C; ++c)
        for (int64_t t = 0; t < K; ++t) wq.data()[((o / Q * g.C + c) * K + t) * Q + o % Q] = w[(o * g.C + c) * K + t];
  }
  const BatchOffsets at(g, 1);
  Workspace<float> zeros(static_cast<size_t>(HW));
  fill(HW, zeros.data(), 0.0f);
  const bool padded = g.ph > 0 || g.pw > 0;
  std::optional<image_winograd::Forward> tiles;  // 5x5 kernels
  if (winograd) tiles.emplace(g, w);
  parallel_for((g.N + kImageLanes - 1) / kImageLanes, kImageLanes * g.O * g.C * K * S, [&](int64_t b0, int64_t b1) {
    Workspace<float> X(static_cast<size_t>(g.C * channel_size)),
        plane(padded ? static_cast<size_t>(HW * kImageLanes) : 0),
        Y(static_cast<size_t>(oblocks * Q * S * kImageLanes));  // channels past O: written, never read
    if (padded) fill(g.C * channel_size, X.data(), 0.0f);
    std::optional<image_winograd::Forward::Scratch> scratch;
    if (winograd) scratch.emplace(g.C);
    for (int64_t nb = b0; nb < b1; ++nb) {
      const int64_t n0 = nb * kImageLanes, count = std::min(kImageLanes, g.N - n0);
      to_image_lanes(g.C, g.H, g.W, g.ph, g.pw, x, n0, count, zeros.data(), X.data(), plane.data());
      if (winograd) {
        tiles->block(X.data(), bq.data(), Y.data(), *scratch);
      } else {
        image_forward_blocks(g.O, S, X.data(), at.pos.data(), wq.data(), at.taps.data(), g.C, K, channel_size,
                             bq.data(), Y.data());
      }
      from_image_lanes(g.O, S, Y.data(), n0, count, y);
    }
  });
}

/// gx (overwritten) for fits_image_lanes(g): for each block of kImageSpan output positions,
/// input channel c and block of kImageChannels taps,
///   sums[tap][p] = sum over o of w[o, c, tap] * GY[o][p]     (image_forward_block, with
///                                                           taps as its output channels)
/// each added straight into input position p + tap of the zero-padded GX. A position
/// block's output gradients (16 channels x 4 positions, 4 KB) stay in the L1 cache for all
/// its 6 x 7 blocks. (As a forward pass of the zero-padded output gradient, LeNet conv2's
/// input gradient would multiply twice as much: 196 positions by 25 taps, where only 100 x 25
/// products are not zero. Storing the sums for a separate pass of additions takes 0.88-0.91
/// ms on one thread, against 0.67-0.68 this way.)
inline void image_lane_input_gradient(const Conv2dGeometry& g, const float* w, const float* gy, float* gx) {
  constexpr int Q = kImageChannels, R = kImageSpan;
  const int64_t K = g.kh * g.kw, S = g.OH * g.OW, HW = g.H * g.W;
  const int64_t kblocks = (K + Q - 1) / Q, Kq = kblocks * Q;
  const int64_t Wp = g.W + 2 * g.pw, channel_size = (g.H + 2 * g.ph) * Wp * kImageLanes;
  // Weights as [c][tap block][o][Q], zero past the last tap: channel c's taps are the
  // blocks' output channels.
  Workspace<float> wq(static_cast<size_t>(g.C * Kq * g.O));
  fill(g.C * Kq * g.O, wq.data(), 0.0f);
  for (int64_t o = 0; o < g.O; ++o)
    for (int64_t c = 0; c < g.C; ++c)
      for (int64_t k = 0; k < K; ++k)
        wq.data()[((c * kblocks + k / Q) * g.O + o) * Q + k % Q] = w[(o * g.C + c) * K + k];
  const BatchOffsets at(g, Q);  // taps past K repeat the last one, with zero weights
  Workspace<float> zeros(static_cast<size_t>(S));
  fill(S, zeros.data(), 0.0f);
  const bool padded = g.ph > 0 || g.pw > 0;
  const int64_t no_shift = 0;  // GY is read at the positions themselves: one tap, no shift
  parallel_for((g.N + kImageLanes - 1) / kImageLanes, kImageLanes * g.O * g.C * K * S, [&](int64_t b0, int64_t b1) {
    Workspace<float> GY(static_cast<size_t>(g.O * S * kImageLanes)), GXp(static_cast<size_t>(g.C * channel_size)),
        GX(padded ? static_cast<size_t>(g.C * HW * kImageLanes) : 0);
    for (int64_t nb = b0; nb < b1; ++nb) {
      const int64_t n0 = nb * kImageLanes, count = std::min(kImageLanes, g.N - n0);
      to_image_lanes(g.O, g.OH, g.OW, 0, 0, gy, n0, count, zeros.data(), GY.data(), nullptr);
      fill(g.C * channel_size, GXp.data(), 0.0f);
      for (int64_t p0 = 0; p0 < S; p0 += R) {
        const float* x[R];
        float* out[R];
        for (int r = 0; r < R; ++r) {  // a last block past S repeats position S - 1, not added
          const int64_t p = std::min(p0 + r, S - 1);
          x[r] = GY.data() + p * kImageLanes;
          out[r] = GXp.data() + at.pos[static_cast<size_t>(p)];
        }
        for (int64_t c = 0; c < g.C; ++c) {
          float* out_c[R];  // channel c's planes
          for (int r = 0; r < R; ++r) out_c[r] = out[r] + c * channel_size;
          for (int64_t tb = 0; tb < kblocks; ++tb)
            image_forward_block<true>(x, wq.data() + (c * kblocks + tb) * g.O * Q, &no_shift, g.O, 1, S * kImageLanes,
                                      nullptr, out_c, at.taps.data() + tb * Q,
                                      static_cast<int>(std::min<int64_t>(R, S - p0)));
        }
      }
      if (padded)  // the inside of the padded planes
        for (int64_t c = 0; c < g.C; ++c)
          copy_rows(GXp.data() + c * channel_size + (g.ph * Wp + g.pw) * kImageLanes, Wp * kImageLanes,
                    g.W * kImageLanes, g.H, GX.data() + c * HW * kImageLanes, g.W * kImageLanes);
      from_image_lanes(g.C, HW, padded ? GX.data() : GXp.data(), n0, count, gx);
    }
  });
}

/// gw (overwritten) for fits_image_lanes(g). Each thread sums its blocks of images into its
/// own [o][c][tap][16] sums; the lanes and the threads are added up at the end.
inline void image_lane_weight_gradient(const Conv2dGeometry& g, const float* x, const float* gy, float* gw) {
  constexpr int Q = kImageChannels, T = kImageTaps;
  const int64_t K = g.kh * g.kw, S = g.OH * g.OW, HW = g.H * g.W;
  const int64_t channel_size = (g.H + 2 * g.ph) * (g.W + 2 * g.pw) * kImageLanes;
  const int64_t oblocks = (g.O + Q - 1) / Q, Oq = oblocks * Q;
  const BatchOffsets at(g, T);
  const int64_t Kt = static_cast<int64_t>(at.taps.size()), per_thread = Oq * g.C * Kt * kImageLanes;
  const int threads = max_threads();
  Workspace<float> sums(static_cast<size_t>(per_thread * threads));
  std::vector<char> used(static_cast<size_t>(threads), 0);
  Workspace<float> zeros(static_cast<size_t>(std::max(HW, S)));
  fill(std::max(HW, S), zeros.data(), 0.0f);
  const bool padded = g.ph > 0 || g.pw > 0;
  parallel_for((g.N + kImageLanes - 1) / kImageLanes, 2 * kImageLanes * g.O * g.C * K * S, [&](int64_t b0, int64_t b1) {
    const int thread = thread_index();
    used[static_cast<size_t>(thread)] = 1;
    float* s = sums.data() + thread * per_thread;
    fill(per_thread, s, 0.0f);
    Workspace<float> X(static_cast<size_t>(g.C * channel_size)),
        plane(padded ? static_cast<size_t>(HW * kImageLanes) : 0), GY(static_cast<size_t>(Oq * S * kImageLanes));
    if (padded) fill(g.C * channel_size, X.data(), 0.0f);
    fill(Oq * S * kImageLanes, GY.data(), 0.0f);  // channels past O stay zero
    for (int64_t nb = b0; nb < b1; ++nb) {
      const int64_t n0 = nb * kImageLanes, count = std::min(kImageLanes, g.N - n0);
      to_image_lanes(g.C, g.H, g.W, g.ph, g.pw, x, n0, count, zeros.data(), X.data(), plane.data());
      to_image_lanes(g.O, g.OH, g.OW, 0, 0, gy, n0, count, zeros.data(), GY.data(), nullptr);
      for (int64_t ob = 0; ob < oblocks; ++ob)
        for (int64_t c = 0; c < g.C; ++c)
          for (int64_t t0 = 0; t0 < Kt; t0 += T)
            image_weight_block(X.data() + c * channel_size, at.taps.data() + t0, at.pos.data(), S,
                               GY.data() + ob * Q * S * kImageLanes, S * kImageLanes,
                               s + ((ob * Q * g.C + c) * Kt + t0) * kImageLanes, g.C * Kt * kImageLanes);
    }
  });
  for (int64_t o = 0; o < g.O; ++o)
    for (int64_t c = 0; c < g.C; ++c)
      for (int64_t k = 0; k < K; ++k) {
        float total = 0.0f;
        for (int t = 0; t < threads; ++t) {
          if (!used[static_cast<size_t>(t)]) continue;
          const float* lanes = sums.data() + t * per_thread + ((o * g.C + c) * Kt + k) * kImageLanes;
          for (int64_t l = 0; l < kImageLanes; ++l) total += lanes[l];
        }
        gw[(o * g.C + c) * K + k] = total;
      }
}

#endif  // CONVKIT_KERNEL_ISA == 2

}  // namespace convkit::backend::cpu::CONVKIT_ISA_COPY
