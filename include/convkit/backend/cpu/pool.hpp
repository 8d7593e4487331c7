#pragma once
// Max and average pooling on the CPU (NCHW). Window rules come from ops/geometry.hpp.
#include <cstdint>
#include <limits>

#include "../../ops/geometry.hpp"
#include "elementwise.hpp"
#include "parallel.hpp"

namespace convkit::backend::cpu {

/// y gets each window's maximum; argmax gets its flat index within the (H, W) plane.
template <class T>
void max_pool2d_forward(const Pool2dGeometry& g, const T* x, T* y, int64_t* argmax) {
  const int64_t planes = g.N * g.C;
  parallel_for(planes, g.OH * g.OW * g.kh * g.kw, [&](int64_t p0, int64_t p1) {
  for (int64_t p = p0; p < p1; ++p) {
    const T* in = x + p * g.H * g.W;
    for (int64_t i = 0; i < g.OH; ++i)
      for (int64_t j = 0; j < g.OW; ++j) {
        T best = -std::numeric_limits<T>::infinity();
        int64_t best_at = -1;
        for (int64_t u = 0; u < g.kh; ++u) {
          const int64_t hi = i * g.sh - g.ph + u * g.dh;
          if (hi < 0 || hi >= g.H) continue;
          for (int64_t v = 0; v < g.kw; ++v) {
            const int64_t wi = j * g.sw - g.pw + v * g.dw;
            if (wi < 0 || wi >= g.W) continue;
            const T val = in[hi * g.W + wi];
            // NaN propagates, as in PyTorch: a NaN in the window wins.
            if (best_at < 0 || val > best || val != val) {
              best = val;
              best_at = hi * g.W + wi;
            }
          }
        }
        const int64_t o = (p * g.OH + i) * g.OW + j;
        y[o] = best;
        argmax[o] = best_at;
      }
  }
  });
}

template <class T>
void max_pool2d_backward(const Pool2dGeometry& g, const int64_t* argmax, const T* gy, T* gx) {
  const int64_t planes = g.N * g.C, S = g.OH * g.OW;
  parallel_for(planes, S + g.H * g.W, [&](int64_t p0, int64_t p1) {
    fill((p1 - p0) * g.H * g.W, gx + p0 * g.H * g.W, T(0));
    for (int64_t p = p0; p < p1; ++p)
      for (int64_t o = 0; o < S; ++o) {
        const int64_t at = argmax[p * S + o];
        if (at >= 0) gx[p * g.H * g.W + at] += gy[p * S + o];
      }
  });
}

template <class T>
void avg_pool2d_forward(const Pool2dGeometry& g, const T* x, T* y) {
  const int64_t planes = g.N * g.C;
  parallel_for(planes, g.OH * g.OW * g.kh * g.kw, [&](int64_t p0, int64_t p1) {
  for (int64_t p = p0; p < p1; ++p) {
    const T* in = x + p * g.H * g.W;
    for (int64_t i = 0; i < g.OH; ++i)
      for (int64_t j = 0; j < g.OW; ++j) {
        const AvgWindow win = avg_pool_window(g, i, j);
        T s = T(0);
        for (int64_t h = win.h0; h < win.h1; ++h)
          for (int64_t w = win.w0; w < win.w1; ++w) s += in[h * g.W + w];
        y[(p * g.OH + i) * g.OW + j] = s / static_cast<T>(win.divisor);
      }
  }
  });
}

template <class T>
void avg_pool2d_backward(const Pool2dGeometry& g, const T* gy, T* gx) {
  const int64_t planes = g.N * g.C;
  parallel_for(planes, g.OH * g.OW * g.kh * g.kw, [&](int64_t p0, int64_t p1) {
  fill((p1 - p0) * g.H * g.W, gx + p0 * g.H * g.W, T(0));
  for (int64_t p = p0; p < p1; ++p) {
    T* out = gx + p * g.H * g.W;
    for (int64_t i = 0; i < g.OH; ++i)
      for (int64_t j = 0; j < g.OW; ++j) {
        const AvgWindow win = avg_pool_window(g, i, j);
        const T share = gy[(p * g.OH + i) * g.OW + j] / static_cast<T>(win.divisor);
        for (int64_t h = win.h0; h < win.h1; ++h)
          for (int64_t w = win.w0; w < win.w1; ++w) out[h * g.W + w] += share;
      }
  }
  });
}

}  // namespace convkit::backend::cpu
