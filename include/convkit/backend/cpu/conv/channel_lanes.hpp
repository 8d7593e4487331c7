// Compiled once per instruction set, in namespace cpu::CONVKIT_ISA_COPY (kernels_by_isa.hpp).
// float convolutions with output channels in the vector lanes: one 64-byte vector holds 16
// output channels of one output position. The forward pass sums a block of positions in
// registers over every tap (c, u, v) of the patch:
//   acc[p] += w[16 channels, tap] * x_tap[k0 + p]      (one broadcast input value)
// and the weight gradient sums, for a block of taps, over every position:
//   acc[tap] += gy[16 channels, k] * x_tap[k]          (one broadcast input value)
// Each input value is read straight from memory as the broadcast operand of its
// multiply-add, so nothing is packed but the weights (or the output gradient), once. The
// GEMM over shifted views that this replaced multiplied a skinny weight matrix (LeNet
// conv2: 16 rows) by views it packed per sample, 40% of them junk columns. Here the
// positions are read from ColumnCopies, in which every tap is one contiguous run over the
// whole output plane, so no junk columns are computed. A forward block's sums leave
// through a small tile, transposed into the NCHW output.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "../../../core/geometry.hpp"
#include "../elementwise.hpp"
#include "../gemm_kernels.hpp"
#include "../memory.hpp"
#include "../parallel.hpp"

namespace convkit::backend::cpu::CONVKIT_ISA_COPY {

/// The input laid out so that every tap is one contiguous run over the output positions.
///
/// For input channel c, row phase p (0 <= p < sh) and kernel column v, a plane of Hr rows
/// by OW columns holds padded input (i*sh + p, j*sw + v*dw) at (i, j). Output position
/// k = i*OW + j of tap (c, u, v) reads padded (i*sh + u*dh, j*sw + v*dw): plane
/// (c, (u*dh) % sh, v) at row i + (u*dh) / sh, i.e. element k of that plane shifted by
/// (u*dh) / sh rows. Each input value is copied kw times (LeNet conv2: 5 copies of a
/// 14x10 plane per channel), far fewer than im2col's kh*kw.
struct ColumnCopies {
  int64_t Hr;            ///< rows per plane: the output's, plus the deepest tap's row shift
  int64_t plane_size;    ///< Hr * OW
  int64_t channel_size;  ///< sh * kw planes
  /// The layout for g's input planes.
  explicit ColumnCopies(const Conv2dGeometry& g)
      : Hr(g.OH + (g.kh - 1) * g.dh / g.sh), plane_size(Hr * g.OW), channel_size(g.sh * g.kw * plane_size) {}
  /// Where tap (c, u, v)'s run starts.
  int64_t shift(const Conv2dGeometry& g, int64_t c, int64_t u, int64_t v) const {
    const int64_t du = u * g.dh;
    return c * channel_size + ((du % g.sh) * g.kw + v) * plane_size + (du / g.sh) * g.OW;
  }
  /// Where each tap (c, u, v) of a group's patch starts, in patch order.
  std::vector<int64_t> shifts(const Conv2dGeometry& g) const {
    std::vector<int64_t> shift(static_cast<size_t>(g.patch()));
    for (int64_t c = 0; c < g.in_per_group(); ++c)
      for (int64_t u = 0; u < g.kh; ++u)
        for (int64_t v = 0; v < g.kw; ++v)
          shift[static_cast<size_t>((c * g.kh + u) * g.kw + v)] = this->shift(g, c, u, v);
    return shift;
  }
  /// Copies one input plane x into its sh * kw planes at dst (channel_size floats). Row
  /// phases no tap reads (a kernel shorter than the stride) are skipped.
  void fill(const Conv2dGeometry& g, const float* x, float* dst) const {
    for (int64_t p = 0; p < g.sh; ++p) {
      bool read = false;
      for (int64_t u = 0; u < g.kh; ++u) read = read || u * g.dh % g.sh == p;
      if (!read) continue;
      for (int64_t v = 0; v < g.kw; ++v) {
        float* plane = dst + (p * g.kw + v) * plane_size;
        const int64_t off = v * g.dw - g.pw;  // input column of output column j: j*sw + off
        const int64_t j0 = std::min(g.OW, off >= 0 ? 0 : (-off + g.sw - 1) / g.sw);
        const int64_t j1 = std::max(j0, std::min(g.OW, g.W - 1 - off >= 0 ? (g.W - 1 - off) / g.sw + 1 : 0));
        // Rows [i0, i1) read input rows h = i * sh - top; the rows above and below are zero.
        const int64_t top = g.ph - p, i0 = std::clamp<int64_t>((top + g.sh - 1) / g.sh, 0, Hr);
        const int64_t last = g.H - 1 + top;  // i * sh <= last for h < H
        const int64_t i1 = last < 0 ? i0 : std::clamp<int64_t>(last / g.sh + 1, i0, Hr);
        std::fill(plane, plane + i0 * g.OW, 0.0f);
        std::fill(plane + i1 * g.OW, plane + Hr * g.OW, 0.0f);
        if (j0 == 0 && j1 == g.OW && g.sw == 1) {
          // Whole rows (no column padding reached): one copy_rows call. Row by row, the
          // loops' overhead costs a fifth of LeNet conv2's one-image forward pass.
          if (i1 > i0) copy_rows(x + (i0 * g.sh - top) * g.W + off, g.sh * g.W, g.OW, i1 - i0, plane + i0 * g.OW, g.OW);
          continue;
        }
        for (int64_t i = i0; i < i1; ++i) {
          float* out = plane + i * g.OW;
          const float* in = x + (i * g.sh - top) * g.W + off;
          for (int64_t j = 0; j < j0; ++j) out[j] = 0.0f;
          if (g.sw == 1) {  // (inline: copy_short's call costs 10% of LeNet conv2's forward)
            for_short(j1 - j0, [&](int64_t j) { out[j0 + j] = in[j0 + j]; });
          } else {
            for (int64_t j = j0; j < j1; ++j) out[j] = in[j * g.sw];
          }
          for (int64_t j = j1; j < g.OW; ++j) out[j] = 0.0f;
        }
      }
    }
  }
};

/// Output positions per block, each one 64-byte vector accumulator: as many as the
/// register file holds but two (the weights and a broadcast value), at most 16 (one 16x16
/// transpose out): 16 on AVX-512, 6 on AVX.
constexpr int64_t kLanePositions = kVec64Registers - 2 < 16 ? kVec64Registers - 2 : 16;
constexpr int64_t kLaneChannels = 16;  ///< output channels per vector (64 bytes of float)

/// Vectors of 16 channels a forward block takes at once where a group has two or more: 2
/// on AVX-512, else 1. With one vector, each multiply-add loads its own broadcast input
/// value (17 loads per 16 multiply-adds, which bounds the loop on the loads); two vectors
/// share each broadcast (10 loads per 16): AlexNet conv1's forward tap loop is 12-15%
/// faster. AVX's 16 registers leave no room for a second vector's sums. (Pairs would speed
/// the weight gradient's blocks by 12% too, but cost 0.24 G compiler instructions in every
/// program.)
constexpr int kLanePairs = kVec64Registers == 32 ? 2 : 1;

/// LaneBlock::compute is out of line where a block is long (16 positions on AVX-512, 6 on
/// AVX): the call then costs nothing measurable and the forward pass compiles faster. SSE's
/// blocks hold 2 positions, and out of line LeNet conv2's forward takes 22% longer there.
#undef CONVKIT_LANE_BLOCK  // each copy defines its own
#if CONVKIT_KERNEL_ISA >= 1
#define CONVKIT_LANE_BLOCK CONVKIT_NOINLINE
#else
#define CONVKIT_LANE_BLOCK
#endif

/// Vectors of 16 output channels per group. A group whose output channels are not a whole
/// number of vectors leaves the last one's extra lanes computing sums that are dropped (8
/// channels use 8 of 16).
inline int64_t lane_vectors(const Conv2dGeometry& g) { return (g.out_per_group() + kLaneChannels - 1) / kLaneChannels; }

/// One block of kLanePositions / V outputs for V vectors of 16 channels, summed over
/// `taps` taps: vector v's weights for tap t are at w + v * w_stride + 16 t, tap t's input
/// run starts at src + shift[t].
template <int V>
struct LaneBlock {
  static constexpr int kPositions = static_cast<int>(kLanePositions) / V;  ///< positions per block
#if defined(__GNUC__) || defined(__clang__)
  typedef Vec64<float> Vec;  ///< 16 floats
  Vec acc[V][kPositions];    ///< vector v's 16 channels at position p
  /// Every position starts at the channels' biases (vector v's at bias + 16 v).
  explicit LaneBlock(const float* bias) {
    CONVKIT_UNROLL(2)
    for (int v = 0; v < V; ++v) {
      const Vec b = Vec::load(bias + v * kLaneChannels);
      CONVKIT_UNROLL(16)
      for (auto& a : acc[v]) a = b;
    }
  }
  /// Sums the taps (see the struct comment).
  void run(int64_t taps, const float* w, int64_t w_stride, const int64_t* shift, const float* src) {
    for (int64_t t = 0; t < taps; ++t) {
      Vec wt[V];
      CONVKIT_UNROLL(2)
      for (int v = 0; v < V; ++v) wt[v] = Vec::load(w + v * w_stride + t * kLaneChannels);
      const float* in = src + shift[t];
      CONVKIT_UNROLL(16)
      for (int p = 0; p < kPositions; ++p) {
        const float x = in[p];
        CONVKIT_UNROLL(2)
        for (int v = 0; v < V; ++v) acc[v][p].fma(wt[v], x);
      }
    }
  }
  /// Writes vector v's sums as tile[v * tile_stride + p * 16 + channel].
  void store(float* tile, int64_t tile_stride) const {
    CONVKIT_UNROLL(2)
    for (int v = 0; v < V; ++v) Vec::store_block(acc[v], tile + v * tile_stride);
  }
#else
  float acc[V][kPositions][kLaneChannels];  ///< vector v's 16 channels at position p
  /// Every position starts at the channels' biases (vector v's at bias + 16 v).
  explicit LaneBlock(const float* bias) {
    for (int v = 0; v < V; ++v)
      for (auto& a : acc[v]) std::copy(bias + v * kLaneChannels, bias + (v + 1) * kLaneChannels, a);
  }
  /// Sums the taps (see the struct comment).
  void run(int64_t taps, const float* w, int64_t w_stride, const int64_t* shift, const float* src) {
    for (int64_t t = 0; t < taps; ++t)
      for (int v = 0; v < V; ++v)
        for (int p = 0; p < kPositions; ++p)
          for (int l = 0; l < kLaneChannels; ++l)
            acc[v][p][l] += w[v * w_stride + t * kLaneChannels + l] * src[shift[t] + p];
  }
  /// Writes vector v's sums as tile[v * tile_stride + p * 16 + channel].
  void store(float* tile, int64_t tile_stride) const {
    for (int v = 0; v < V; ++v) std::memcpy(tile + v * tile_stride, acc[v], sizeof acc[v]);
  }
#endif
  /// One whole block: starts at the biases, sums the taps and writes the tile (see
  /// store). Not inlined on AVX, where the block is the whole hot loop and its caller
  /// compiles faster without it (CONVKIT_LANE_BLOCK).
  CONVKIT_LANE_BLOCK static void compute(const float* bias, int64_t taps, const float* w, int64_t w_stride,
                                         const int64_t* shift, const float* src, float* tile, int64_t tile_stride) {
    LaneBlock blk(bias);
    blk.run(taps, w, w_stride, shift, src);
    blk.store(tile, tile_stride);
  }
};

/// dst[k * 16 + l] = rows[l][k] for k in [0, n): 16 rows of n values to n vectors of 16.
inline void rows_to_lanes(const float* const* rows, int64_t n, float* dst) {
  int64_t k0 = 0;
#if CONVKIT_KERNEL_ISA == 2
  for (; k0 + 16 <= n; k0 += 16) gemm_kernels::Avx512::transpose16(rows, k0, dst + k0 * kLaneChannels, kLaneChannels);
#endif
  for (int64_t k = k0; k < n; ++k)
    for (int64_t l = 0; l < kLaneChannels; ++l) dst[k * kLaneChannels + l] = rows[l][k];
}

/// The 16 rows of one lane vector for rows_to_lanes: rows[l] = first + l * stride for the
/// group's `count` real rows (1 to 16). The padding lanes repeat the last real row: their
/// sums are computed and never read, so any finite values do.
inline void lane_rows(const float* first, int64_t stride, int64_t count, const float* (&rows)[kLaneChannels]) {
  for (int64_t l = 0; l < kLaneChannels; ++l) rows[l] = first + std::min(l, count - 1) * stride;
}

/// The forward pass of a float layer that is not pointwise (conv2d_forward has checked
/// Winograd and the direct kernel first).
inline void channel_lane_forward(const Conv2dGeometry& g, const float* x, const float* w, const float* b, float* y) {
  const int64_t Cg = g.in_per_group(), Og = g.out_per_group(), P = g.patch(), S = g.OH * g.OW;
  const int64_t vectors = lane_vectors(g), lanes = vectors * kLaneChannels;  // per group
  const ColumnCopies cc(g);
  const std::vector<int64_t> shift = cc.shifts(g);
  // Weights as [group][vector][tap][16 channels] and biases as [group][vector][16] (the
  // lanes past Og repeat the last channel's weights, see lane_rows). Each vector's 16 weight rows are transposed at
  // once (one element at a time, this costs 5% of a one-image LeNet inference).
  Workspace<float> wp(static_cast<size_t>(g.groups * lanes * P)), bias(static_cast<size_t>(g.groups * lanes));
  for (int64_t grp = 0; grp < g.groups; ++grp)
    for (int64_t vec = 0; vec < vectors; ++vec) {
      const int64_t o0 = grp * Og + vec * kLaneChannels, count = std::min(kLaneChannels, Og - vec * kLaneChannels);
      const float* rows[kLaneChannels];
      lane_rows(w + o0 * P, P, count, rows);
      rows_to_lanes(rows, P, wp.data() + (grp * vectors + vec) * P * kLaneChannels);
      float* bv = bias.data() + (grp * vectors + vec) * kLaneChannels;
      for (int64_t l = 0; l < kLaneChannels; ++l) bv[l] = l < count && b ? b[o0 + l] : 0.0f;
    }
  // The last block reads up to kLanePositions - 1 positions past the plane: slack.
  const int64_t xsize = Cg * cc.channel_size + kLanePositions;
  // Fewer images than threads (one-image inference) and enough work in each
  // (kMinSplitWork): each image's blocks of positions are split into `parts`, each part
  // laying out the input again for itself.
  const int64_t blocks = (S + kLanePositions - 1) / kLanePositions;
  const bool split = g.N < max_threads() && g.groups * lanes * P * S >= kMinSplitWork;
  const int64_t parts = split ? std::min(blocks, (max_threads() + g.N - 1) / g.N) : 1;
  parallel_for(g.N * parts, g.groups * lanes * P * S / parts, [&](int64_t i0, int64_t i1) {
    // One tile of kLanePositions x 16 sums per vector of the block.
    constexpr int64_t kTile = kLanePositions * kLaneChannels;
    Workspace<float> xc(static_cast<size_t>(xsize)), tile(static_cast<size_t>(kLanePairs * kTile));
    fill(kLanePositions, xc.data() + xsize - kLanePositions, 0.0f);
#if CONVKIT_KERNEL_ISA == 2
    const float* tile_rows[kLanePairs][kLanePositions];  // vector v's position p, for transpose16
    for (int v = 0; v < kLanePairs; ++v)
      for (int64_t p = 0; p < kLanePositions; ++p) tile_rows[v][p] = tile.data() + v * kTile + p * kLaneChannels;
#endif
    for (int64_t item = i0; item < i1; ++item) {
      const int64_t n = item / parts, part = item % parts;
      const int64_t k_begin = blocks * part / parts * kLanePositions;
      const int64_t k_end = std::min(S, blocks * (part + 1) / parts * kLanePositions);
      for (int64_t grp = 0; grp < g.groups; ++grp) {
        for (int64_t c = 0; c < Cg; ++c)
          cc.fill(g, x + ((n * g.C + grp * Cg + c) * g.H * g.W), xc.data() + c * cc.channel_size);
        for (int64_t vec = 0; vec < vectors;) {
          const int64_t v0 = grp * vectors + vec;  // vector index
          const int pair = vec + kLanePairs <= vectors ? kLanePairs : 1;
          const float* wv = wp.data() + v0 * P * kLaneChannels;
          for (int64_t k0 = k_begin; k0 < k_end; k0 += kLanePositions) {
            if (pair > 1) {  // two vectors, in blocks of half the positions
              for (int64_t sub = 0; sub < kLanePositions && k0 + sub < k_end;
                   sub += LaneBlock<kLanePairs>::kPositions) {
                LaneBlock<kLanePairs>::compute(bias.data() + v0 * kLaneChannels, P, wv, P * kLaneChannels, shift.data(),
                                               xc.data() + k0 + sub, tile.data() + sub * kLaneChannels, kTile);
              }
            } else {
              LaneBlock<1>::compute(bias.data() + v0 * kLaneChannels, P, wv, 0, shift.data(), xc.data() + k0,
                                    tile.data(), kTile);
            }
            const int64_t np = std::min(kLanePositions, S - k0);
            for (int v = 0; v < pair; ++v) {
              const int64_t channels = std::min(kLaneChannels, Og - (vec + v) * kLaneChannels);  // real lanes
              float* yv = y + (n * g.O + grp * Og + (vec + v) * kLaneChannels) * S;
#if CONVKIT_KERNEL_ISA == 2
              if (np == kLanePositions && channels == kLaneChannels) {  // 16 x 16: transposed in registers
                gemm_kernels::Avx512::transpose16(tile_rows[v], 0, yv + k0, S);
                continue;
              }
#endif
              const float* tv = tile.data() + v * kTile;
              for (int64_t l = 0; l < channels; ++l)
                for (int64_t p = 0; p < np; ++p) yv[l * S + k0 + p] = tv[p * kLaneChannels + l];
            }
          }
          vec += pair;
        }
      }
    }
  });
}

/// Taps per block of the weight gradient: each has its own accumulator (a 64-byte vector)
/// and its own input pointer (a general-purpose register). 8, but 6 on AVX, where 8 taps'
/// 16 ymm accumulators and the output gradient's 2 spill (AlexNet conv1's weight gradient,
/// one thread: 6.0 ms with 6 taps, 9.3 with 8). SSE builds spill either way, and time 8
/// taps faster than 2 or 4.
constexpr int kLaneTaps = kVec64Registers == 8 ? 6 : 8;

/// kLaneTaps taps' weight gradients for 16 output channels, summed over output positions:
///   acc[j] += gy[16 channels, k] * x_tap j[k]     (one broadcast input value)
struct LaneTapBlock {
#if defined(__GNUC__) || defined(__clang__)
  typedef Vec64<float> Vec;  ///< 16 floats
  Vec acc[kLaneTaps];        ///< tap j's 16 channels
  /// Starts from sums[j * 16, j * 16 + 16) for each tap j.
  explicit LaneTapBlock(const float* sums) { Vec::load_block(acc, sums); }
  /// Writes the sums back as sums[j * 16 + channel].
  void store(float* sums) const { Vec::store_block(acc, sums); }
  /// Adds positions [0, positions) to the sums at `sums`. Not inlined: the block is the
  /// whole hot loop, and its caller compiles faster without it.
  CONVKIT_NOINLINE static void accumulate(float* sums, int64_t positions, const float* gy_t, const float* const* src) {
    LaneTapBlock acc(sums);
    acc.run(positions, gy_t, src);
    acc.store(sums);
  }
  /// Sums positions [0, positions): gy_t holds 16 channels per position, src[j] tap j's run.
  void run(int64_t positions, const float* gy_t, const float* const* src) {
    const float* in[kLaneTaps];
    CONVKIT_UNROLL(8)
    for (int j = 0; j < kLaneTaps; ++j) in[j] = src[j];
    for (int64_t k = 0; k < positions; ++k) {
      const Vec gk = Vec::load(gy_t + k * kLaneChannels);
      CONVKIT_UNROLL(8)
      for (int j = 0; j < kLaneTaps; ++j) acc[j].fma(gk, in[j][k]);
    }
  }
#else
  float acc[kLaneTaps][kLaneChannels];  ///< tap j's 16 channels
  /// Starts from sums[j * 16, j * 16 + 16) for each tap j.
  explicit LaneTapBlock(const float* sums) { std::memcpy(acc, sums, sizeof acc); }
  /// Sums positions [0, positions): gy_t holds 16 channels per position, src[j] tap j's run.
  void run(int64_t positions, const float* gy_t, const float* const* src) {
    for (int64_t k = 0; k < positions; ++k)
      for (int j = 0; j < kLaneTaps; ++j)
        for (int l = 0; l < kLaneChannels; ++l) acc[j][l] += gy_t[k * kLaneChannels + l] * src[j][k];
  }
  /// Writes the sums back as sums[j * 16 + channel].
  void store(float* sums) const { std::memcpy(sums, acc, sizeof acc); }
#endif
};

/// The weight gradient of samples [n0, n1), added to gw_local (O x patch), for a float
/// layer that is not pointwise. Per sample and group the input is laid out as ColumnCopies and the output
/// gradient turned into vectors of 16 channels per position (lanes past Og repeat the
/// last channel's, see lane_rows); each block of kLaneTaps taps then sums over all positions in registers. The sums
/// are kept as [group][vector][tap][16] and turned back at the end.
inline void channel_lane_weight_gradient_samples(const Conv2dGeometry& g, const float* x, const float* gy,
                                                 float* gw_local, int64_t n0, int64_t n1) {
  const int64_t Cg = g.in_per_group(), Og = g.out_per_group(), P = g.patch(), S = g.OH * g.OW;
  const int64_t vectors = lane_vectors(g);
  const ColumnCopies cc(g);
  const std::vector<int64_t> shift = cc.shifts(g);
  Workspace<float> xc(static_cast<size_t>(Cg * cc.channel_size)), gy_t(static_cast<size_t>(S * kLaneChannels));
  // Whole blocks of taps: the sums of the taps past P are computed (from tap P-1's run) and
  // never used.
  const int64_t blocks = (P + kLaneTaps - 1) / kLaneTaps, per_vector = blocks * kLaneTaps * kLaneChannels;
  Workspace<float> sums(static_cast<size_t>(g.groups * vectors * per_vector));
  fill(g.groups * vectors * per_vector, sums.data(), 0.0f);
  for (int64_t n = n0; n < n1; ++n)
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      for (int64_t c = 0; c < Cg; ++c)
        cc.fill(g, x + ((n * g.C + grp * Cg + c) * g.H * g.W), xc.data() + c * cc.channel_size);
      for (int64_t vec = 0; vec < vectors; ++vec) {
        const float* rows[kLaneChannels];
        lane_rows(gy + (n * g.O + grp * Og + vec * kLaneChannels) * S, S,
                  std::min(kLaneChannels, Og - vec * kLaneChannels), rows);
        rows_to_lanes(rows, S, gy_t.data());
        float* sv = sums.data() + (grp * vectors + vec) * per_vector;
        for (int64_t blk = 0; blk < blocks; ++blk) {
          const float* src[kLaneTaps];
          for (int j = 0; j < kLaneTaps; ++j)
            src[j] = xc.data() + shift[static_cast<size_t>(std::min(P - 1, blk * kLaneTaps + j))];
          LaneTapBlock::accumulate(sv + blk * kLaneTaps * kLaneChannels, S, gy_t.data(), src);
        }
      }
    }
  for (int64_t o = 0; o < g.O; ++o) {
    const int64_t grp = o / Og, vec = o % Og / kLaneChannels, lane = o % Og % kLaneChannels;
    const float* so = sums.data() + (grp * vectors + vec) * per_vector + lane;
    for (int64_t t = 0; t < P; ++t) gw_local[o * P + t] += so[t * kLaneChannels];
  }
}

}  // namespace convkit::backend::cpu::CONVKIT_ISA_COPY
