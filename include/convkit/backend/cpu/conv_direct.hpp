#pragma once
// Direct convolution for one input channel per group (Cg == 1) and stride 1: depthwise
// convolutions and single-channel inputs such as LeNet's first layer. There im2col + GEMM
// multiplies skinny matrices. Here the input plane is copied once into a zero-padded
// buffer of row width Wp; in that layout the output (kept Wp wide, the extra columns
// discarded) is, for every tap (u, v), one long contiguous multiply-add over the plane,
// shifted by u*dh*Wp + v*dw, which vectorises fully.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "../../ops/geometry.hpp"
#include "elementwise.hpp"
#include "memory.hpp"
#include "parallel.hpp"

namespace convkit::backend::cpu {

inline bool use_direct_conv(const Conv2dGeometry& g) {
  return g.in_per_group() == 1 && g.sh == 1 && g.sw == 1 && !g.is_pointwise();
}

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
  for (int64_t h = 0; h < g.H; ++h) {
    copy_short(x + h * g.W, g.W, xpad + (h + g.ph) * pp.Wp + g.pw);
  }
}

/// Outputs a direct convolution keeps in registers per pass: eight vectors, so that
/// eight independent multiply-add chains cover the instruction's latency.
#if defined(__AVX512F__)
constexpr int64_t kDirectBlock = 128;
#elif defined(__AVX__)
constexpr int64_t kDirectBlock = 64;
#else
constexpr int64_t kDirectBlock = 32;
#endif

template <class T>
void pad_plane(const Conv2dGeometry& g, const PaddedPlane& pp, const T* x, T* xpad) {
  fill(pp.size, xpad, T(0));  // (small: called per plane, so fill runs serially below its threshold)
  for (int64_t h = 0; h < g.H; ++h) std::copy(x + h * g.W, x + (h + 1) * g.W, xpad + (h + g.ph) * pp.Wp + g.pw);
}

template <class T>
void direct_conv2d_forward(const Conv2dGeometry& g, const T* x, const T* w, const T* b, T* y) {
  const int64_t Og = g.out_per_group(), K = g.kh * g.kw, S = g.OH * g.OW;
  const PaddedPlane pp(g);
  // Blocks of B outputs stay in registers across all taps. The output run is rounded up
  // to whole blocks (the surplus reads slack and is dropped), so no scalar remainder.
  constexpr int64_t B = kDirectBlock;
  const int64_t run = pp.out_size(g), padded_run = (run + B - 1) / B * B;
  const int64_t xsize = std::max(pp.size, padded_run + (g.kh - 1) * g.dh * pp.Wp + (g.kw - 1) * g.dw);
  parallel_for(g.N * g.C, Og * run * K, [&](int64_t p0, int64_t p1) {
    Workspace<T> xpad(static_cast<size_t>(xsize)), ypad(static_cast<size_t>(padded_run));
    fill(xsize, xpad.data(), T(0));  // the padding stays zero: each plane overwrites only its interior
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t n = p / g.C, c = p % g.C;
      copy_plane_interior(g, pp, x + p * g.H * g.W, xpad.data());
      for (int64_t o = c * Og; o < (c + 1) * Og; ++o) {
        T* acc = ypad.data();
        const T bias = b ? b[o] : T(0);
        const T* wo = w + o * K;
        for (int64_t k0 = 0; k0 < padded_run; k0 += B) {
          T blk[B];
          CONVKIT_SIMD for (int64_t l = 0; l < B; ++l) blk[l] = bias;
          for (int64_t u = 0; u < g.kh; ++u)
            for (int64_t v = 0; v < g.kw; ++v) {
              const T wv = wo[u * g.kw + v];
              const T* src = xpad.data() + u * g.dh * pp.Wp + v * g.dw + k0;
              CONVKIT_SIMD for (int64_t l = 0; l < B; ++l) blk[l] += wv * src[l];
            }
          CONVKIT_SIMD for (int64_t l = 0; l < B; ++l) acc[k0 + l] = blk[l];
        }
        T* yo = y + (n * g.O + o) * S;
        for (int64_t i = 0; i < g.OH; ++i) copy_short(acc + i * pp.Wp, g.OW, yo + i * g.OW);
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
  parallel_for(g.N * g.C, Og * run * K * 2, [&](int64_t p0, int64_t p1) {
    const int t = thread_index();
    used[static_cast<size_t>(t)] = 1;
    T* gw_local = gw ? (t == 0 ? gw : partial.data() + (t - 1) * g.O * K) : nullptr;
    if (gw_local) fill(g.O * K, gw_local, T(0));
    Workspace<T> xpad(static_cast<size_t>(pp.size)), gxpad(static_cast<size_t>(pp.size)),
        gypad(static_cast<size_t>(run));
    // The padding of xpad and the extra columns of gypad stay zero: each plane overwrites
    // only the interior.
    fill(pp.size, xpad.data(), T(0));
    fill(run, gypad.data(), T(0));
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t n = p / g.C, c = p % g.C;
      if (gw_local) copy_plane_interior(g, pp, x + p * plane, xpad.data());
      if (gx) {
        T* gxp = gxpad.data();
        CONVKIT_SIMD for (int64_t k = 0; k < pp.size; ++k) gxp[k] = T(0);
      }
      for (int64_t o = c * Og; o < (c + 1) * Og; ++o) {
        // gy in the padded-width layout; the extra columns are zero so they add nothing.
        T* gq = gypad.data();
        const T* go = gy + (n * g.O + o) * S;
        for (int64_t i = 0; i < g.OH; ++i) copy_short(go + i * g.OW, g.OW, gq + i * pp.Wp);
        for (int64_t u = 0; u < g.kh; ++u)
          for (int64_t v = 0; v < g.kw; ++v) {
            const int64_t shift = u * g.dh * pp.Wp + v * g.dw;
            if (gw_local) {
              gw_local[o * K + u * g.kw + v] += dot(run, gq, xpad.data() + shift);
            }
            if (gx) {
              const T wv = w[o * K + u * g.kw + v];
              T* dst = gxpad.data() + shift;
              CONVKIT_SIMD for (int64_t k = 0; k < run; ++k) dst[k] += wv * gq[k];
            }
          }
      }
      if (gx) {
        T* out = gx + p * plane;
        for (int64_t h = 0; h < g.H; ++h) copy_short(gxpad.data() + (h + g.ph) * pp.Wp + g.pw, g.W, out + h * g.W);
      }
    }
  });
  if (gw) {
    if (!used[0]) fill(g.O * K, gw, T(0));
    for (int t = 1; t < threads; ++t)
      if (used[static_cast<size_t>(t)]) axpy(g.O * K, T(1), partial.data() + (t - 1) * g.O * K, gw);
  }
}

}  // namespace convkit::backend::cpu
