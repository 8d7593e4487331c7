// Compiled once per instruction set, in namespace cpu::CONVKIT_ISA_COPY (kernels_by_isa.hpp).
// Depthwise convolution (one input and one output channel per group) with stride 1, no
// row dilation and a 3x3 or 5x5 kernel, in register blocks of whole output rows.
//
// The direct kernel (direct.hpp) sums one long run per tap, so every multiply-add
// loads its own input vector. Here a block holds R output rows of one 64-byte column of
// positions; input row i of the block, shifted by tap column v, is loaded once and serves
// the K taps (u, v) of the K output rows i - u it falls in: (R + K - 1) * K loads for
// R * K * K multiply-adds, under half the direct kernel's loads for 3x3, under a third
// for 5x5.
//
// Each plane is copied into a zero-padded buffer whose rows are a whole number of vectors
// wide (so the loads for tap column 0 are aligned), and the sums go straight to the output
// plane: a row's last vector spills past the row's end into the next row, which is
// written later (rows go top to bottom, columns right to left). The last rows, whose
// spill could pass the plane's end, go through a small buffer.
//
// The input gradient of such a layer is the same operation: gy padded by K - 1 - p,
// through the kernel turned by 180 degrees, gives gx. The weight gradient uses the same
// blocks with the roles turned: the output gradient's rows are the block, and each input
// row loaded adds into the K * K taps' sums.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "../../../core/geometry.hpp"
#include "../elementwise.hpp"
#include "../memory.hpp"
#include "../parallel.hpp"

namespace convkit::backend::cpu::CONVKIT_ISA_COPY {

namespace depthwise {

/// Output rows per register block: a block's sums take that many vectors and, on AVX-512,
/// the 3x3 weights another 9, of 32 registers; 4 below AVX-512. 7 rather than 8: 7, 14,
/// 28, 56 and 112 are common heights, and one block size, not a choice of two by height,
/// halves the kernels' compile time (a program that never runs a depthwise layer
/// compiles them too).
constexpr int kBlockRows = kVec64Registers < 32 ? 4 : 7;

/// One plane's shape for the row kernels: the input padded by (ph, pw) in a buffer of row
/// stride Wp, and the output (OH, OW) it gives with a K x K kernel of column dilation dw.
struct Plane {
  int64_t H;         ///< input plane height
  int64_t W;         ///< input plane width
  int64_t ph;        ///< padding above and below
  int64_t pw;        ///< padding left and right
  int64_t OH;        ///< output plane height
  int64_t OW;        ///< output plane width
  int64_t K;         ///< kernel size
  int64_t dw;        ///< column dilation
  int R;             ///< output rows per register block
  int64_t Wp;        ///< padded row stride, a whole number of vectors
  int64_t vectors;   ///< vectors per output row
  int64_t size;      ///< the padded buffer, with room for the last block's reads
  int64_t tail_row;  ///< the first output row forward_plane computes into its tail buffer
  int64_t tail;      ///< that buffer's size

  /// The plan for T's vectors.
  template <class T>
  static Plane make(int64_t H, int64_t W, int64_t ph, int64_t pw, int64_t K, int64_t dw) {
    constexpr int64_t L = 64 / static_cast<int64_t>(sizeof(T));
    Plane p{H, W, ph, pw, H + 2 * ph - K + 1, W + 2 * pw - (K - 1) * dw, K, dw, 0, 0, 0, 0, 0, 0};
    p.R = kBlockRows;
    p.Wp = (W + 2 * pw + L - 1) / L * L;
    p.vectors = (p.OW + L - 1) / L;
    const int64_t rows = (p.OH + p.R - 1) / p.R * p.R + K - 1;  // every block's input rows
    p.size = rows * p.Wp + p.vectors * L + (K - 1) * dw;        // the last rows' vectors run past Wp
    // Rows r < safe can store whole vectors into the plane (their spill stays inside it).
    // The blocks from the last one that holds a row past that go to a tail buffer.
    const int64_t plane = p.OH * p.OW, reach = p.vectors * L;
    const int64_t safe = plane >= reach ? (plane - reach) / p.OW + 1 : 0;
    p.tail_row = std::min((p.OH - 1) / p.R * p.R, safe / p.R * p.R);
    p.tail = (p.OH - p.tail_row) * p.OW + reach;
    return p;
  }
};

#if defined(__GNUC__) || defined(__clang__)
/// The taps of a register block of R output rows by one vector of columns, whose input
/// starts at src: each input vector (row i of the block's R + K - 1, shifted by tap column
/// v) is loaded once, and f(x, u, v, r) is called for every kernel row u that reads it
/// into the block's output row r = i - u. The loops are unrolled and f inlined, so the
/// block's sums are indexed by constants and stay in registers.
template <int K, int R, class T, class F>
CONVKIT_INLINE_BODY inline void for_each_block_tap(const Plane& p, const T* src, F f) {
  CONVKIT_UNROLL(12)
  for (int i = 0; i < R + K - 1; ++i) {
    CONVKIT_UNROLL(5)
    for (int v = 0; v < K; ++v) {
      Vec64<T> x = Vec64<T>::load(src + i * p.Wp + v * p.dw);
      x.pin();  // one load for the K rows it serves
      CONVKIT_UNROLL(5)
      for (int u = 0; u < K; ++u)
        if (i - u >= 0 && i - u < R) f(x, u, v, i - u);
    }
  }
}

/// One register block of forward_plane: output rows [r0, r0 + R) by one vector of columns
/// (vector j), the first `rows` of them stored to `out` (row r0's start).
template <int K, int R, class T>
CONVKIT_INLINE_BODY inline void forward_block(const Plane& p, const T* xpad, const T* wt, T bias, T* out, int64_t r0,
                                              int64_t j, int rows) {
  using Vec = Vec64<T>;
  constexpr int64_t L = Vec::kLanes;
  Vec acc[R];
  CONVKIT_UNROLL(8)
  for (auto& a : acc) a = Vec::splat(bias);
  for_each_block_tap<K, R>(p, xpad + r0 * p.Wp + j * L, [&](const Vec& x, int u, int v, int r) CONVKIT_INLINE_BODY {
    acc[r].fma(x, wt[u * K + v]);
  });
  // Unrolled with a test rather than a loop to `rows`, so that acc is indexed by constants
  // only and stays in registers: a sum kept in memory and stored from there costs a
  // 64-byte load right after its store, which waits for the cache on CPUs that store a
  // 64-byte vector as two halves (AMD Zen 4: 655 cycles a 28x28 plane against 860).
  CONVKIT_UNROLL(8)
  for (int r = 0; r < R; ++r)
    if (r < rows) acc[r].store(out + r * p.OW + j * L);
}

/// One output plane y (p.OH x p.OW) = bias + the K x K kernel w over the padded plane xpad,
/// in blocks of R rows by one vector of columns, right to left (see the header comment).
/// The rows from p.tail_row go to `tail` (p.tail values) first, then to y, since their
/// spills could pass the plane's end. Out of line: it is the whole hot loop.
template <int K, int R, class T>
CONVKIT_NOINLINE void forward_plane(const Plane& p, const T* xpad, const T* w, T bias, T* y, T* tail) {
  T wt[K * K];  // local copies: the compiler need not reload them after each store to y
  std::copy(w, w + K * K, wt);
  for (int64_t r0 = 0; r0 < p.OH; r0 += R) {
    T* out = r0 < p.tail_row ? y + r0 * p.OW : tail + (r0 - p.tail_row) * p.OW;
    const int rows = static_cast<int>(std::min<int64_t>(R, p.OH - r0));
    for (int64_t j = p.vectors - 1; j >= 0; --j) forward_block<K, R>(p, xpad, wt, bias, out, r0, j, rows);
  }
  copy_short(tail, (p.OH - p.tail_row) * p.OW, y + p.tail_row * p.OW);
}

/// Adds one plane's weight gradient to sums (K * K vectors of kLanes, one per tap, whose
/// lanes the caller adds up): gq is the output gradient laid out p.vectors * kLanes wide,
/// zero in the extra columns and in the rows past p.OH up to whole blocks; xpad the padded
/// input.
template <int K, int R, class T>
CONVKIT_NOINLINE void weight_plane(const Plane& p, const T* xpad, const T* gq, T* sums) {
  using Vec = Vec64<T>;
  constexpr int64_t L = Vec::kLanes;
  const int64_t Wq = p.vectors * L;
  Vec acc[K * K];
  CONVKIT_UNROLL(25)
  for (int t = 0; t < K * K; ++t) acc[t] = Vec::load(sums + t * L);
  for (int64_t r0 = 0; r0 < p.OH; r0 += R)
    for (int64_t j = 0; j < p.vectors; ++j) {
      Vec gr[R];
      CONVKIT_UNROLL(8)
      for (int r = 0; r < R; ++r) gr[r] = Vec::load(gq + (r0 + r) * Wq + j * L);
      for_each_block_tap<K, R>(p, xpad + r0 * p.Wp + j * L, [&](const Vec& x, int u, int v, int r) CONVKIT_INLINE_BODY {
        acc[u * K + v].fma(gr[r], x);
      });
    }
  CONVKIT_UNROLL(25)
  for (int t = 0; t < K * K; ++t) acc[t].store(sums + t * L);
}

/// forward_plane for the plane's K.
template <class T>
void forward_plane(const Plane& p, const T* xpad, const T* w, T bias, T* y, T* tail) {
  if (p.K == 3) return forward_plane<3, kBlockRows>(p, xpad, w, bias, y, tail);
  return forward_plane<5, kBlockRows>(p, xpad, w, bias, y, tail);
}
#endif

/// planes input planes in (p.H x p.W each), each through its own K x K kernel w + c * K * K
/// (plus bias[c] when bias is given), into planes output planes out; plane q uses
/// channel q % channels.
template <class T>
void run_planes(const Plane& p, int64_t planes, int64_t channels, const T* in, const T* w, const T* bias, T* out) {
#if defined(__GNUC__) || defined(__clang__)
  const int64_t K2 = p.K * p.K;
  parallel_for(planes, p.OH * p.OW * K2 * 2, [&](int64_t q0, int64_t q1) {
    Workspace<T> xpad(static_cast<size_t>(p.size)), tail(static_cast<size_t>(p.tail));
    fill(p.size, xpad.data(), T(0));  // the padding stays zero: each plane overwrites only its interior
    for (int64_t q = q0; q < q1; ++q) {
      const int64_t c = q % channels;
      copy_rows(in + q * p.H * p.W, p.W, p.W, p.H, xpad.data() + p.ph * p.Wp + p.pw, p.Wp);
      forward_plane(p, xpad.data(), w + c * K2, bias ? bias[c] : T(0), out + q * p.OH * p.OW, tail.data());
    }
  });
#else
  (void)p, (void)planes, (void)channels, (void)in, (void)w, (void)bias, (void)out;
#endif
}

}  // namespace depthwise

template <class T>
void depthwise_conv2d_forward(const Conv2dGeometry& g, const T* x, const T* w, const T* b, T* y) {
  const auto p = depthwise::Plane::make<T>(g.H, g.W, g.ph, g.pw, g.kh, g.dw);
  depthwise::run_planes(p, g.N * g.C, g.C, x, w, b, y);
}

/// The weight gradient, on AVX-512 (elsewhere the direct kernel's, whose sums fit fewer
/// registers): per thread, one vector of partial sums per tap of each channel, over that
/// thread's planes; then their lanes and the threads' sums are added up.
template <class T>
void depthwise_weight_gradient(const Conv2dGeometry& g, const T* x, const T* gy, T* gw) {
#if defined(__GNUC__) || defined(__clang__)
  constexpr int64_t L = Vec64<T>::kLanes;
  const int64_t K = g.kh, K2 = K * K;
  const auto p = depthwise::Plane::make<T>(g.H, g.W, g.ph, g.pw, K, g.dw);
  // Blocks of 8 output-gradient rows for 3x3 (9 sums + 8 rows + 1 input vector of 32
  // registers), 4 for 5x5 (25 + 4 + 1).
  const int64_t R = K == 3 ? 8 : 4, blocks = (p.OH + R - 1) / R, Wq = p.vectors * L;
  const int64_t xsize = std::max(p.size, (blocks * R + K - 1) * p.Wp + p.vectors * L + (K - 1) * g.dw);
  const int threads = max_threads();
  const int64_t per_thread = g.C * K2 * L;
  Workspace<T> partial(static_cast<size_t>(threads * per_thread));
  std::vector<char> used(static_cast<size_t>(threads), 0);
  parallel_for(g.N * g.C, p.OH * p.OW * K2 * 2, [&](int64_t q0, int64_t q1) {
    const int t = thread_index();
    used[static_cast<size_t>(t)] = 1;
    T* sums = partial.data() + t * per_thread;
    fill(per_thread, sums, T(0));
    Workspace<T> xpad(static_cast<size_t>(xsize)), gq(static_cast<size_t>(blocks * R * Wq));
    // Both stay zero outside what each plane overwrites: the padding, gq's extra columns
    // and its rows past OH (so the blocks' extra lanes and rows add nothing).
    fill(xsize, xpad.data(), T(0));
    fill(blocks * R * Wq, gq.data(), T(0));
    for (int64_t q = q0; q < q1; ++q) {
      const int64_t c = q % g.C;
      copy_rows(x + q * g.H * g.W, g.W, g.W, g.H, xpad.data() + g.ph * p.Wp + g.pw, p.Wp);
      copy_rows(gy + q * p.OH * p.OW, p.OW, p.OW, p.OH, gq.data(), Wq);
      if (K == 3)
        depthwise::weight_plane<3, 8>(p, xpad.data(), gq.data(), sums + c * K2 * L);
      else
        depthwise::weight_plane<5, 4>(p, xpad.data(), gq.data(), sums + c * K2 * L);
    }
  });
  std::fill(gw, gw + g.C * K2, T(0));
  for (int t = 0; t < threads; ++t)
    if (used[static_cast<size_t>(t)])
      for (int64_t tap = 0; tap < g.C * K2; ++tap)
        for (int64_t l = 0; l < L; ++l) gw[tap] += partial.data()[t * per_thread + tap * L + l];
#else
  (void)g, (void)x, (void)gy, (void)gw;
#endif
}

/// The input gradient: gy padded by (K - 1 - ph, (K - 1) * dw - pw) through each channel's
/// kernel turned by 180 degrees.
template <class T>
void depthwise_input_gradient(const Conv2dGeometry& g, const T* w, const T* gy, T* gx) {
  const int64_t K = g.kh, K2 = K * K;
  Workspace<T> turned(static_cast<size_t>(g.C * K2));
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t t = 0; t < K2; ++t) turned.data()[c * K2 + t] = w[c * K2 + K2 - 1 - t];
  const auto p = depthwise::Plane::make<T>(g.OH, g.OW, K - 1 - g.ph, (K - 1) * g.dw - g.pw, K, g.dw);
  depthwise::run_planes(p, g.N * g.C, g.C, gy, turned.data(), static_cast<const T*>(nullptr), gx);
}

/// gx, gw and gb (any of them may be null), overwritten.
template <class T>
void depthwise_conv2d_backward(const Conv2dGeometry& g, const T* x, const T* w, const T* gy, T* gx, T* gw, T* gb) {
  if (gb) bias_grad(g.N, g.O, g.OH * g.OW, gy, gb);
  if (gx) depthwise_input_gradient(g, w, gy, gx);
  if (!gw) return;
  if constexpr (kVec64Registers == 32)
    depthwise_weight_gradient(g, x, gy, gw);
  else
    direct_conv2d_backward(g, x, w, gy, static_cast<T*>(nullptr), gw, static_cast<T*>(nullptr));
}

}  // namespace convkit::backend::cpu::CONVKIT_ISA_COPY
