// Compiled once per instruction set, in namespace cpu::CONVKIT_ISA_COPY (kernels_by_isa.hpp).
// Deep layers on small output planes (ResNet-18's last stage: 3x3), one GEMM per output
// position and tap. With the input laid out by position, xq[q] (C x N) the channels of
// every image at input position q, the weights by tap, w_t (O x C), and the output by
// position, yq[p] (O x N):
//   yq[p]  = sum over the taps t of p that land inside the input (q = q(p, t)) of w_t * xq[q]
//   gxq[q] = sum over the (p, t) that land on q of w_t^T * gyq[p]
//   gw_t   = sum over the p of t of gyq[p] * xq[q(p, t)]^T
// Padding taps are never multiplied: a 3x3 plane with padding 1 has 49 of its 81
// (position, tap) pairs inside, where im2col multiplies all 81 and Winograd's 2x2 tiles
// make 64 products. Each product is the whole batch wide (images in the columns), so the
// GEMM's panels are full where one image's product would be 9 columns.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "../../../core/geometry.hpp"
#include "../elementwise.hpp"
#include "../gemm.hpp"
#include "../memory.hpp"
#include "../parallel.hpp"

namespace convkit::backend::cpu::CONVKIT_ISA_COPY {

namespace position_gemm {

/// One product: output position p reads input position q through tap t.
struct Pair {
  int64_t p;  ///< the output position, i * OW + j
  int64_t t;  ///< the tap, u * kw + v
  int64_t q;  ///< the input position it reads, hi * W + wi
};

/// Every (output position, tap) pair whose input lies inside the plane, in order of p, then t.
inline std::vector<Pair> inside_pairs(const Conv2dGeometry& g) {
  std::vector<Pair> pairs;
  for (int64_t i = 0; i < g.OH; ++i)
    for (int64_t j = 0; j < g.OW; ++j)
      for (int64_t u = 0; u < g.kh; ++u)
        for (int64_t v = 0; v < g.kw; ++v) {
          const int64_t hi = i * g.sh - g.ph + u * g.dh, wi = j * g.sw - g.pw + v * g.dw;
          if (hi >= 0 && hi < g.H && wi >= 0 && wi < g.W) pairs.push_back({i * g.OW + j, u * g.kw + v, hi * g.W + wi});
        }
  return pairs;
}

/// Between planes (N images of C planes of Q values) and positions (Q x C x N): value
/// (n, c, q) lies at planes[(n * C + c) * Q + q] and at by_position[(q * C + c) * N + n].
/// Copies src, in planes, into dst by position, or with `to_planes` back.
template <class T>
void relayout(int64_t N, int64_t C, int64_t Q, const T* src, T* dst, bool to_planes) {
  parallel_for(C, N * Q, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c)
      for (int64_t n = 0; n < N; ++n)
        for (int64_t q = 0; q < Q; ++q) {
          const int64_t plane = (n * C + c) * Q + q, position = (q * C + c) * N + n;
          dst[to_planes ? plane : position] = src[to_planes ? position : plane];
        }
  });
}

/// The weights w (O, C, kh, kw) tap by tap, w_t (O x C) each, and each w_t (or its
/// transpose) prepared for the GEMM.
template <class T>
class TapWeights {
 public:
  /// Lays out and prepares the weights w of layer g: w_t, or with `transposed` w_t^T.
  TapWeights(const Conv2dGeometry& g, const T* w, bool transposed)
      : taps_(g.kh * g.kw), by_tap_(static_cast<size_t>(taps_ * g.O * g.C)), prepared_(static_cast<size_t>(taps_)) {
    const int64_t O = g.O, C = g.C, K = taps_;
    T* wt = by_tap_.data();
    parallel_for(O, C * K, [&](int64_t o0, int64_t o1) {
      // Each tap's row written in order: the K rows of one o lie O * C apart, and stores
      // to all of them at once would land in the same cache sets.
      for (int64_t o = o0; o < o1; ++o)
        for (int64_t t = 0; t < K; ++t)
          for (int64_t c = 0; c < C; ++c) wt[(t * O + o) * C + c] = w[(o * C + c) * K + t];
    });
    parallel_for(K, O * C, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t)
        prepared_[static_cast<size_t>(t)] = transposed ? std::make_unique<PreparedA<T>>(true, C, O, wt + t * O * C)
                                                       : std::make_unique<PreparedA<T>>(false, O, C, wt + t * O * C);
    });
  }
  /// w_t, or w_t^T when transposed.
  const PreparedA<T>& operator[](int64_t t) const { return *prepared_[static_cast<size_t>(t)]; }

 private:
  int64_t taps_;
  Workspace<T> by_tap_;
  std::vector<std::unique_ptr<PreparedA<T>>> prepared_;
};

/// out[key] = the sum over pairs (in `order`, grouped by key) of a[tap] * in[from], for
/// images [n0, n1): rows of out and in are N wide; a key with no pair gets zeros.
template <class T, class Key, class From>
void sum_products(const TapWeights<T>& a, const std::vector<Pair>& order, int64_t keys, Key key, From from, const T* in,
                  int64_t in_rows, T* out, int64_t out_rows, int64_t N, int64_t n0, int64_t n1) {
  size_t k = 0;
  for (int64_t at = 0; at < keys; ++at) {
    T* o = out + at * out_rows * N + n0;
    bool first = true;
    for (; k < order.size() && key(order[k]) == at; ++k) {
      a[order[k].t].multiply(false, n1 - n0, T(1), in + from(order[k]) * in_rows * N + n0, first ? T(0) : T(1), o, N,
                             N);
      first = false;
    }
    if (first)
      for (int64_t r = 0; r < out_rows; ++r) fill(n1 - n0, o + r * N, T(0));
  }
}

}  // namespace position_gemm

/// y for layer g (one group; b may be null).
template <class T>
void position_gemm_forward(const Conv2dGeometry& g, const T* x, const T* w, const T* b, T* y) {
  namespace pg = position_gemm;
  const int64_t Q = g.H * g.W, S = g.OH * g.OW;
  const std::vector<pg::Pair> pairs = pg::inside_pairs(g);
  Workspace<T> xq(static_cast<size_t>(Q * g.C * g.N)), yq(static_cast<size_t>(S * g.O * g.N));
  pg::relayout(g.N, g.C, Q, x, xq.data(), false);
  const pg::TapWeights<T> taps(g, w, false);
  const int64_t work = 2 * g.O * g.C * static_cast<int64_t>(pairs.size());
  parallel_for(g.N, work, [&](int64_t n0, int64_t n1) {
    pg::sum_products(
        taps, pairs, S, [](const pg::Pair& r) { return r.p; }, [](const pg::Pair& r) { return r.q; }, xq.data(), g.C,
        yq.data(), g.O, g.N, n0, n1);
  });
  pg::relayout(g.N, g.O, S, yq.data(), y, true);
  if (b) add_bias(g.N, g.O, S, b, y);
}

/// gx and gw for layer g (one group); either may be null. Both are overwritten.
template <class T>
void position_gemm_backward(const Conv2dGeometry& g, const T* x, const T* w, const T* gy, T* gx, T* gw) {
  namespace pg = position_gemm;
  const int64_t Q = g.H * g.W, S = g.OH * g.OW, K = g.kh * g.kw, N = g.N, C = g.C, O = g.O;
  std::vector<pg::Pair> pairs = pg::inside_pairs(g);
  Workspace<T> gyq(static_cast<size_t>(S * O * N));
  pg::relayout(N, O, S, gy, gyq.data(), false);
  if (gw) {
    Workspace<T> xq(static_cast<size_t>(Q * C * N)), gwt(static_cast<size_t>(K * O * C));
    pg::relayout(N, C, Q, x, xq.data(), false);
    // Tap t's sum over its positions is one product: its positions' gy and x side by side.
    std::stable_sort(pairs.begin(), pairs.end(), [](const pg::Pair& a, const pg::Pair& b) { return a.t < b.t; });
    Workspace<T> a(static_cast<size_t>(O * S * N)), bt(static_cast<size_t>(C * S * N));
    size_t end = 0;
    for (int64_t t = 0; t < K; ++t) {
      const size_t begin = end;  // tap t's pairs: [begin, end)
      while (end < pairs.size() && pairs[end].t == t) ++end;
      const pg::Pair* mine = pairs.data() + begin;
      const int64_t m = static_cast<int64_t>(end - begin), L = m * N;
      parallel_for(O + C, m * N, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r)
          for (int64_t k = 0; k < m; ++k) {
            const pg::Pair& pr = mine[k];
            const T* src = r < O ? gyq.data() + (pr.p * O + r) * N : xq.data() + (pr.q * C + r - O) * N;
            T* dst = r < O ? a.data() + r * L + k * N : bt.data() + (r - O) * L + k * N;
            std::copy(src, src + N, dst);
          }
      });
      gemm<T>(false, true, O, C, L, T(1), a.data(), bt.data(), T(0), gwt.data() + t * O * C);
    }
    parallel_for(O, C * K, [&](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; ++o)
        for (int64_t t = 0; t < K; ++t)
          for (int64_t c = 0; c < C; ++c) gw[(o * C + c) * K + t] = gwt.data()[(t * O + o) * C + c];
    });
  }
  if (gx) {
    std::stable_sort(pairs.begin(), pairs.end(), [](const pg::Pair& a, const pg::Pair& b) { return a.q < b.q; });
    const pg::TapWeights<T> taps(g, w, true);
    Workspace<T> gxq(static_cast<size_t>(Q * C * N));
    const int64_t work = 2 * O * C * static_cast<int64_t>(pairs.size());
    parallel_for(N, work, [&](int64_t n0, int64_t n1) {
      pg::sum_products(
          taps, pairs, Q, [](const pg::Pair& r) { return r.q; }, [](const pg::Pair& r) { return r.p; }, gyq.data(), O,
          gxq.data(), C, N, n0, n1);
    });
    pg::relayout(N, C, Q, gxq.data(), gx, true);
  }
}

}  // namespace convkit::backend::cpu::CONVKIT_ISA_COPY
