// Compiled once per instruction set, in namespace cpu::CONVKIT_ISA_COPY (kernels_by_isa.hpp).
// Direct convolution for one input channel per group (Cg == 1) and stride 1: depthwise
// convolutions and single-channel inputs such as LeNet's first layer. There im2col + GEMM
// multiplies skinny matrices. Here the input plane is copied once into a zero-padded
// buffer of row width Wp; in that layout the output (kept Wp wide, the extra columns
// discarded) is, for every tap (u, v), one long contiguous multiply-add over the plane,
// shifted by u*dh*Wp + v*dw, which vectorises fully.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "../../../core/geometry.hpp"
#include "../elementwise.hpp"
#include "../memory.hpp"
#include "../parallel.hpp"

namespace convkit::backend::cpu::CONVKIT_ISA_COPY {

/// The padded layout of one plane.
struct PaddedPlane {
  /// Padded height and row width, and the buffer size (with slack so the last tap's shifted run stays inside).
  ///@{
  int64_t Hp, Wp, size;  // size includes slack so the last tap's shifted run stays inside
  ///@}
  /// The layout for this convolution's planes.
  explicit PaddedPlane(const Conv2dGeometry& g)
      : Hp(g.H + 2 * g.ph), Wp(g.W + 2 * g.pw), size((g.H + 2 * g.ph) * (g.W + 2 * g.pw) + (g.kw - 1) * g.dw) {}
  /// Elements of one output plane kept Wp wide.
  int64_t out_size(const Conv2dGeometry& g) const { return g.OH * Wp; }
};

/// Copies plane x into the interior of its padded layout, leaving the padding as it is.
template <class T>
void copy_plane_interior(const Conv2dGeometry& g, const PaddedPlane& pp, const T* x, T* xpad) {
  copy_rows(x, g.W, g.W, g.H, xpad + g.ph * pp.Wp + g.pw, pp.Wp);
}

/// The 64-byte vectors a direct convolution keeps its outputs in: half the register file,
/// at most eight (eight independent multiply-add chains cover the instruction's latency).
constexpr int kDirectVectors = kVec64Registers / 2 < 8 ? kVec64Registers / 2 : 8;

/// Accumulates a block of kDirectVectors 64-byte vectors of outputs over taps. With GCC
/// and Clang the block is made of vector-extension values, which stay in registers; GCC
/// keeps a plain array of the same size on the stack, each multiply-add going through
/// memory. Other compilers get the plain array.
template <class T>
struct DirectBlock {
  /// Outputs per block.
  static constexpr int64_t kSize = kDirectVectors * (64 / static_cast<int64_t>(sizeof(T)));
#if defined(__GNUC__) || defined(__clang__)
  typedef Vec64<T> Vec;     ///< one 64-byte vector of T
  Vec acc[kDirectVectors];  ///< the block's outputs
  /// Every output starts at `value`.
  explicit DirectBlock(T value) {
    CONVKIT_UNROLL(8)
    for (auto& a : acc) a = Vec::splat(value);
  }
  /// acc += weight * src[0, kSize).
  void add(T weight, const T* src) {
    CONVKIT_UNROLL(8)
    for (int v = 0; v < kDirectVectors; ++v) acc[v].fma(Vec::load(src + v * Vec::kLanes), weight);
  }
  /// Writes the block to dst[0, kSize).
  void store(T* dst) const { Vec::store_block(acc, dst); }
#else
  T acc[kSize];  ///< the block's outputs
  /// Every output starts at `value`.
  explicit DirectBlock(T value) { std::fill(acc, acc + kSize, value); }
  /// acc += weight * src[0, kSize).
  void add(T weight, const T* src) {
    for (int64_t l = 0; l < kSize; ++l) acc[l] += weight * src[l];
  }
  /// Writes the block to dst[0, kSize).
  void store(T* dst) const { std::copy(acc, acc + kSize, dst); }
#endif
  /// DirectChannelBlock's interface for one channel (direct_forward_run takes either).
  ///@{
  explicit DirectBlock(const T* bias) : DirectBlock(*bias) {}
  void add(const T* w, int64_t, const T* src) { add(*w, src); }
  void store(T* dst, int64_t) const { store(dst); }
  ///@}
};

/// Output channels a channel block of the direct forward pass sums at once, and the 64-byte
/// vectors of positions it keeps per channel: 3 x 8 zmm on AVX-512, 2 x 2 x 2 ymm on AVX,
/// 2 x 4 xmm otherwise, so that the sums, the channels' weights and an input vector fit
/// the register file (on AVX, 3 x 2 x 2 ymm spilled one sum to the stack every tap).
constexpr int kDirectChannels = kVec64Registers == 32 ? 3 : 2;
constexpr int kDirectChannelVectors = kVec64Registers == 32 ? 8 : kVec64Registers == 8 ? 2 : 1;

/// A DirectBlock for kDirectChannels output channels of one input plane: each input vector
/// loaded serves all of them. With one channel per block every multiply-add loaded its own
/// input vector, mostly split across two cache lines (a tap's run starts anywhere), and the
/// loads bounded the loop: LeNet conv1's taps ran at a third of the multiply-add rate.
template <class T>
struct DirectChannelBlock {
  /// Outputs per channel per block.
  static constexpr int64_t kSize = kDirectChannelVectors * (64 / static_cast<int64_t>(sizeof(T)));
#if defined(__GNUC__) || defined(__clang__)
  typedef Vec64<T> Vec;                             ///< one 64-byte vector of T
  Vec acc[kDirectChannels][kDirectChannelVectors];  ///< channel c's outputs
  /// Channel c's outputs start at bias[c].
  explicit DirectChannelBlock(const T* bias) {
    CONVKIT_UNROLL(3)
    for (int c = 0; c < kDirectChannels; ++c) {
      const Vec b = Vec::splat(bias[c]);
      CONVKIT_UNROLL(8)
      for (auto& a : acc[c]) a = b;
    }
  }
  /// acc[c] += w[c * w_stride] * src[0, kSize) for each channel c.
  void add(const T* w, int64_t w_stride, const T* src) {
    T wc[kDirectChannels];
    CONVKIT_UNROLL(3)
    for (int c = 0; c < kDirectChannels; ++c) wc[c] = w[c * w_stride];
    CONVKIT_UNROLL(8)
    for (int v = 0; v < kDirectChannelVectors; ++v) {
      Vec x = Vec::load(src + v * Vec::kLanes);
      x.pin();
      CONVKIT_UNROLL(3)
      for (int c = 0; c < kDirectChannels; ++c) acc[c][v].fma(x, wc[c]);
    }
  }
  /// Writes channel c's outputs to dst + c * stride, [0, kSize).
  void store(T* dst, int64_t stride) const {
    CONVKIT_UNROLL(3)
    for (int c = 0; c < kDirectChannels; ++c) Vec::store_block(acc[c], dst + c * stride);
  }
#else
  T acc[kDirectChannels][kSize];  ///< channel c's outputs
  /// Channel c's outputs start at bias[c].
  explicit DirectChannelBlock(const T* bias) {
    for (int c = 0; c < kDirectChannels; ++c) std::fill(acc[c], acc[c] + kSize, bias[c]);
  }
  /// acc[c] += w[c * w_stride] * src[0, kSize) for each channel c.
  void add(const T* w, int64_t w_stride, const T* src) {
    for (int c = 0; c < kDirectChannels; ++c)
      for (int64_t l = 0; l < kSize; ++l) acc[c][l] += w[c * w_stride] * src[l];
  }
  /// Writes channel c's outputs to dst + c * stride, [0, kSize).
  void store(T* dst, int64_t stride) const {
    for (int c = 0; c < kDirectChannels; ++c) std::copy(acc[c], acc[c] + kSize, dst + c * stride);
  }
#endif
};

/// Output channels whose weight gradients a TapDots block sums at once on AVX-512 (the
/// register file holds 3 x 5 sums); 1 elsewhere, where 2 x 5 did not fit.
constexpr int kDotChannels = kVec64Registers == 32 ? 3 : 1;

/// The weight gradient's sums for kTaps taps of C output channels at once:
///   acc[c][j] += gq_c[k] * x_j[k]
/// over a run, a vector of positions at a time, so that one load of gq_c serves every tap
/// and one load of x_j every channel (a dot product per tap loaded both operands for every
/// multiply-add, and reduced each one separately). The vectors stay unreduced across
/// planes; the caller adds up their lanes at the end.
template <class T, int C>
struct TapDots {
  static constexpr int kTaps = 5;                                          ///< taps per block
  static constexpr int64_t kLanes = 64 / static_cast<int64_t>(sizeof(T));  ///< positions per vector
#if defined(__GNUC__) || defined(__clang__)
  typedef Vec64<T> Vec;  ///< kLanes values
  Vec acc[C][kTaps];     ///< channel c's partial sums for tap j, one per lane
  /// Starts from channel c's sums[c * stride + j * kLanes + lane].
  TapDots(const T* sums, int64_t stride) {
    for (int c = 0; c < C; ++c) Vec::load_block(acc[c], sums + c * stride);
  }
  /// Writes the sums back where the constructor read them.
  void store(T* sums, int64_t stride) const {
    for (int c = 0; c < C; ++c) Vec::store_block(acc[c], sums + c * stride);
  }
#else
  T acc[C][kTaps][kLanes];  ///< channel c's partial sums for tap j, one per lane
  /// Starts from channel c's sums[c * stride + j * kLanes + lane].
  TapDots(const T* sums, int64_t stride) {
    for (int c = 0; c < C; ++c) std::memcpy(acc[c], sums + c * stride, sizeof acc[c]);
  }
  /// Writes the sums back where the constructor read them.
  void store(T* sums, int64_t stride) const {
    for (int c = 0; c < C; ++c) std::memcpy(sums + c * stride, acc[c], sizeof acc[c]);
  }
#endif
  /// Adds positions [0, n) to the sums at `sums` (see the constructor). Not inlined: the
  /// block is the whole hot loop, and its callers compile faster without it.
  CONVKIT_NOINLINE static void accumulate(T* sums, int64_t stride, int64_t n, const T* gq, int64_t gq_stride,
                                          const T* const* x) {
    TapDots dots(sums, stride);
    dots.run(n, gq, gq_stride, x);
    dots.store(sums, stride);
  }
  /// Sums positions [0, n), n a multiple of kLanes: gq + c * gq_stride channel c's output
  /// gradient, x[j] tap j's run.
  void run(int64_t n, const T* gq, int64_t gq_stride, const T* const* x) {
    const T* in[kTaps];
    CONVKIT_UNROLL(5)
    for (int j = 0; j < kTaps; ++j) in[j] = x[j];
#if defined(__GNUC__) || defined(__clang__)
    for (int64_t k = 0; k < n; k += kLanes) {
      Vec gk[C];
      CONVKIT_UNROLL(3)
      for (int c = 0; c < C; ++c) {
        gk[c] = Vec::load(gq + c * gq_stride + k);
        if (C > 1) gk[c].pin();  // one load for all kTaps taps
      }
      CONVKIT_UNROLL(5)
      for (int j = 0; j < kTaps; ++j) {
        Vec xj = Vec::load(in[j] + k);
        if (C > 1) xj.pin();  // one load for all C channels
        CONVKIT_UNROLL(3)
        for (int c = 0; c < C; ++c) acc[c][j].fma(gk[c], xj);
      }
    }
#else
    for (int64_t k = 0; k < n; k += kLanes)
      for (int c = 0; c < C; ++c)
        for (int j = 0; j < kTaps; ++j)
          for (int64_t l = 0; l < kLanes; ++l) acc[c][j][l] += gq[c * gq_stride + k + l] * in[j][k + l];
#endif
  }
};

/// The direct forward pass of one plane for Block's channels (DirectChannelBlock's or
/// DirectBlock's one): block by block over the padded run, each summed over every tap
/// (u, v) of the kernel from the padded plane xpad, into ypad (channels padded_run apart).
/// Out of line: the blocks are the whole hot loop, and the caller compiles faster
/// without them.
template <class Block, class T>
CONVKIT_NOINLINE void direct_forward_run(const Conv2dGeometry& g, int64_t Wp, const T* bias, const T* w, int64_t K,
                                         const T* xpad, int64_t padded_run, T* ypad) {
  for (int64_t k0 = 0; k0 < padded_run; k0 += Block::kSize) {
    Block blk(bias);
    for (int64_t u = 0; u < g.kh; ++u)
      for (int64_t v = 0; v < g.kw; ++v) blk.add(w + u * g.kw + v, K, xpad + u * g.dh * Wp + v * g.dw + k0);
    blk.store(ypad + k0, padded_run);
  }
}

template <class T>
void direct_conv2d_forward(const Conv2dGeometry& g, const T* x, const T* w, const T* b, T* y) {
  const int64_t Og = g.out_per_group(), K = g.kh * g.kw, S = g.OH * g.OW;
  const PaddedPlane pp(g);
  // Blocks of B outputs stay in registers across all taps. The output run is rounded up
  // to whole blocks (the surplus reads slack and is dropped), so no scalar remainder.
  constexpr int64_t B = DirectBlock<T>::kSize;
  const int64_t run = pp.out_size(g), padded_run = (run + B - 1) / B * B;
  const int64_t xsize = std::max(pp.size, padded_run + (g.kh - 1) * g.dh * pp.Wp + (g.kw - 1) * g.dw);
  // The work items are (input plane, output channel) pairs rather than planes, so that
  // one large image's few planes still spread over the threads (kMinSplitWork: a small
  // one's stay on the calling thread).
  const bool split = g.N * g.C >= max_threads() || g.C * Og * run * K >= kMinSplitWork;
  static_assert(B % DirectChannelBlock<T>::kSize == 0, "a channel block's run must fit the rounded run");
  parallel_for(g.N * g.C * Og, split ? run * K : 0, [&](int64_t q0, int64_t q1) {
    Workspace<T> xpad(static_cast<size_t>(xsize)), ypad(static_cast<size_t>(kDirectChannels * padded_run));
    fill(xsize, xpad.data(), T(0));  // the padding stays zero: each plane overwrites only its interior
    for (int64_t q = q0; q < q1;) {
      const int64_t p = q / Og, n = p / g.C, c = p % g.C;
      const int64_t o_end = c * Og + std::min(Og, q1 - p * Og);  // this thread's channels of plane p
      copy_plane_interior(g, pp, x + p * g.H * g.W, xpad.data());
      for (int64_t o = c * Og + q % Og; o < o_end;) {
        // kDirectChannels channels at a time while they last, then one at a time.
        const int64_t count = o + kDirectChannels <= o_end ? kDirectChannels : 1;
        T bias[kDirectChannels];
        for (int64_t j = 0; j < count; ++j) bias[j] = b ? b[o + j] : T(0);
        if (count == kDirectChannels)
          direct_forward_run<DirectChannelBlock<T>>(g, pp.Wp, bias, w + o * K, K, xpad.data(), padded_run, ypad.data());
        else
          direct_forward_run<DirectBlock<T>>(g, pp.Wp, bias, w + o * K, K, xpad.data(), padded_run, ypad.data());
        for (int64_t j = 0; j < count; ++j) {
          const T* acc = ypad.data() + j * padded_run;
          T* yo = y + (n * g.O + o + j) * S;
          copy_rows(acc, pp.Wp, g.OW, g.OH, yo, g.OW);
        }
        o += count;
        q += count;
      }
    }
  });
}

template <class T>
void direct_conv2d_backward(const Conv2dGeometry& g, const T* x, const T* w, const T* gy, T* gx, T* gw, T* gb) {
  const int64_t Og = g.out_per_group(), K = g.kh * g.kw, S = g.OH * g.OW, plane = g.H * g.W;
  if (gb) bias_grad(g.N, g.O, S, gy, gb);
  if (!gx && !gw) return;
  const PaddedPlane pp(g);
  const int64_t run = pp.out_size(g);
  // One thread owns every output channel of an input plane, so no two threads write one gx
  // plane; weight gradients are summed per thread and added up at the end.
  const int threads = max_threads();
  Workspace<T> partial(gw && threads > 1 ? static_cast<size_t>(g.O * K * (threads - 1)) : 0);
  std::vector<char> used(static_cast<size_t>(threads), 0);
  // The weight gradient: TapDots blocks over each output channel's taps (the last block
  // repeats the last tap) and over the run rounded up to whole vectors of positions: the
  // output gradient past the run is zero, so the extra positions add nothing.
  using Dots = TapDots<T, 1>;
  const int64_t blocks = (K + Dots::kTaps - 1) / Dots::kTaps, per_channel = blocks * Dots::kTaps * Dots::kLanes;
  const int64_t whole = (run + Dots::kLanes - 1) / Dots::kLanes * Dots::kLanes;
  std::vector<int64_t> tap_shift(static_cast<size_t>(blocks * Dots::kTaps));
  for (size_t j = 0; j < tap_shift.size(); ++j) {
    const int64_t tap = std::min<int64_t>(static_cast<int64_t>(j), K - 1);
    tap_shift[j] = tap / g.kw * g.dh * pp.Wp + tap % g.kw * g.dw;
  }
  parallel_for(g.N * g.C, Og * run * K * 2, [&](int64_t p0, int64_t p1) {
    const int t = thread_index();
    used[static_cast<size_t>(t)] = 1;
    T* gw_local = gw ? (t == 0 ? gw : partial.data() + (t - 1) * g.O * K) : nullptr;
    if (gw_local) fill(g.O * K, gw_local, T(0));
    Workspace<T> sums(gw ? static_cast<size_t>(g.O * per_channel) : 0);
    if (gw) fill(g.O * per_channel, sums.data(), T(0));
    // The input gradient is gathered rather than scattered: in the padded layout, input
    // position k gets w[o, tap] * gy_o[k - shift(tap)] summed over taps and the group's
    // output channels, contiguous in k for each tap, so blocks of it are summed in
    // registers (DirectBlock) as in the forward pass. Each gy plane sits at offset
    // `front` of a zeroed buffer so that k - shift never leaves it. Only the H rows that
    // hold real inputs are computed, rounded up to whole blocks.
    constexpr int64_t B = DirectBlock<T>::kSize;
    const int64_t front = (g.kh - 1) * g.dh * pp.Wp + (g.kw - 1) * g.dw;
    const int64_t first = g.ph * pp.Wp, span = (g.H * pp.Wp + B - 1) / B * B;
    // gq's furthest reads: k = whole - 1 (weight gradient) and shift 0, k = first + span - 1
    // (input gradient); xpad's: the last tap's shift plus whole - 1.
    const int64_t gq_size = front + std::max(whole, first + span), xsize = std::max(pp.size, front + whole);
    Workspace<T> xpad(static_cast<size_t>(xsize)), gxrows(static_cast<size_t>(span)),
        gypad(static_cast<size_t>(Og * gq_size));
    // The padding of xpad and everything but the planes' OW columns of gypad stay zero:
    // each plane overwrites only those.
    fill(xsize, xpad.data(), T(0));
    fill(Og * gq_size, gypad.data(), T(0));
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t n = p / g.C, c = p % g.C;
      if (gw_local) copy_plane_interior(g, pp, x + p * plane, xpad.data());
      for (int64_t oo = 0; oo < Og; ++oo) {
        // gy in the padded-width layout; the extra columns are zero so they add nothing.
        T* gq = gypad.data() + oo * gq_size + front;
        const T* go = gy + (n * g.O + c * Og + oo) * S;
        copy_rows(go, g.OW, g.OW, g.OH, gq, pp.Wp);
      }
      // kDotChannels channels at a time while they last, then one at a time.
      for (int64_t oo = 0; gw_local && oo < Og;) {
        const int64_t o = c * Og + oo, count = oo + kDotChannels <= Og ? kDotChannels : 1;
        const T* gq = gypad.data() + oo * gq_size + front;
        for (int64_t blk = 0; blk < blocks; ++blk) {
          const T* x_tap[Dots::kTaps];
          for (int j = 0; j < Dots::kTaps; ++j)
            x_tap[j] = xpad.data() + tap_shift[static_cast<size_t>(blk * Dots::kTaps + j)];
          T* sb = sums.data() + o * per_channel + blk * Dots::kTaps * Dots::kLanes;
          if (count == kDotChannels)
            TapDots<T, kDotChannels>::accumulate(sb, per_channel, whole, gq, gq_size, x_tap);
          else
            Dots::accumulate(sb, per_channel, whole, gq, gq_size, x_tap);
        }
        oo += count;
      }
      if (!gx) continue;
      for (int64_t k0 = 0; k0 < span; k0 += B) {
        DirectBlock<T> blk(T(0));
        for (int64_t oo = 0; oo < Og; ++oo) {
          const T* wo = w + (c * Og + oo) * K;
          const T* src = gypad.data() + oo * gq_size + front + first + k0;
          for (int64_t u = 0; u < g.kh; ++u)
            for (int64_t v = 0; v < g.kw; ++v) blk.add(wo[u * g.kw + v], src - (u * g.dh * pp.Wp + v * g.dw));
        }
        blk.store(gxrows.data() + k0);
      }
      T* out = gx + p * plane;
      copy_rows(gxrows.data() + g.pw, pp.Wp, g.W, g.H, out, g.W);
    }
    if (gw_local)  // add up the lanes
      for (int64_t o = 0; o < g.O; ++o)
        for (int64_t tap = 0; tap < K; ++tap) {
          const T* lanes = sums.data() + o * per_channel + tap * Dots::kLanes;
          T total = T(0);
          for (int64_t l = 0; l < Dots::kLanes; ++l) total += lanes[l];
          gw_local[o * K + tap] += total;
        }
  });
  if (gw) {
    if (!used[0]) fill(g.O * K, gw, T(0));
    for (int t = 1; t < threads; ++t)
      if (used[static_cast<size_t>(t)]) axpy(g.O * K, T(1), partial.data() + (t - 1) * g.O * K, gw);
  }
}

}  // namespace convkit::backend::cpu::CONVKIT_ISA_COPY
