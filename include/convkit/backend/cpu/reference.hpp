#pragma once
// Reference loops: the d2l corr2d, and conv2d written straight from its definition.
// They are slow on purpose and obviously right; tests hold every fast path to them.
#include <cstdint>

#include "../../core/geometry.hpp"

namespace convkit::backend::cpu {

/// d2l's corr2d: Y[i, j] = sum_{u,v} X[i+u, j+v] * K[u, v]. X (h, w), K (kh, kw).
template <class T>
void corr2d_forward(int64_t h, int64_t w, int64_t kh, int64_t kw, const T* X, const T* K, T* Y) {
  const int64_t oh = h - kh + 1, ow = w - kw + 1;
  for (int64_t i = 0; i < oh; ++i)
    for (int64_t j = 0; j < ow; ++j) {
      T s = T(0);
      for (int64_t u = 0; u < kh; ++u)
        for (int64_t v = 0; v < kw; ++v) s += X[(i + u) * w + j + v] * K[u * kw + v];
      Y[i * ow + j] = s;
    }
}

/// Gradients of sum(Y * gY) with respect to X and K (either may be null).
template <class T>
void corr2d_backward(int64_t h, int64_t w, int64_t kh, int64_t kw, const T* X, const T* K, const T* gY, T* gX, T* gK) {
  const int64_t oh = h - kh + 1, ow = w - kw + 1;
  if (gX)
    for (int64_t i = 0; i < h * w; ++i) gX[i] = T(0);
  if (gK)
    for (int64_t i = 0; i < kh * kw; ++i) gK[i] = T(0);
  for (int64_t i = 0; i < oh; ++i)
    for (int64_t j = 0; j < ow; ++j) {
      const T g = gY[i * ow + j];
      for (int64_t u = 0; u < kh; ++u)
        for (int64_t v = 0; v < kw; ++v) {
          if (gX) gX[(i + u) * w + j + v] += g * K[u * kw + v];
          if (gK) gK[u * kw + v] += g * X[(i + u) * w + j + v];
        }
    }
}

/// conv2d by its definition (FORMAT.md's formula), one output element at a time.
template <class T>
void conv2d_reference_forward(const Conv2dGeometry& g, const T* x, const T* w, const T* b, T* y) {
  const int64_t Cg = g.in_per_group(), Og = g.out_per_group();
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t o = 0; o < g.O; ++o)
      for (int64_t i = 0; i < g.OH; ++i)
        for (int64_t j = 0; j < g.OW; ++j) {
          T s = b ? b[o] : T(0);
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t u = 0; u < g.kh; ++u)
              for (int64_t v = 0; v < g.kw; ++v) {
                const int64_t hi = i * g.sh - g.ph + u * g.dh, wi = j * g.sw - g.pw + v * g.dw;
                if (hi < 0 || hi >= g.H || wi < 0 || wi >= g.W) continue;
                const int64_t ci = (o / Og) * Cg + c;
                s += w[((o * Cg + c) * g.kh + u) * g.kw + v] * x[((n * g.C + ci) * g.H + hi) * g.W + wi];
              }
          y[((n * g.O + o) * g.OH + i) * g.OW + j] = s;
        }
}

/// Gradients of sum(y * gy) by the same loops; gx, gw, gb are overwritten (gb may be null).
template <class T>
void conv2d_reference_backward(const Conv2dGeometry& g, const T* x, const T* w, const T* gy, T* gx, T* gw, T* gb) {
  const int64_t Cg = g.in_per_group(), Og = g.out_per_group();
  for (int64_t i = 0; i < g.N * g.C * g.H * g.W; ++i) gx[i] = T(0);
  for (int64_t i = 0; i < g.O * Cg * g.kh * g.kw; ++i) gw[i] = T(0);
  if (gb)
    for (int64_t o = 0; o < g.O; ++o) gb[o] = T(0);
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t o = 0; o < g.O; ++o)
      for (int64_t i = 0; i < g.OH; ++i)
        for (int64_t j = 0; j < g.OW; ++j) {
          const T gv = gy[((n * g.O + o) * g.OH + i) * g.OW + j];
          if (gb) gb[o] += gv;
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t u = 0; u < g.kh; ++u)
              for (int64_t v = 0; v < g.kw; ++v) {
                const int64_t hi = i * g.sh - g.ph + u * g.dh, wi = j * g.sw - g.pw + v * g.dw;
                if (hi < 0 || hi >= g.H || wi < 0 || wi >= g.W) continue;
                const int64_t xi = ((n * g.C + (o / Og) * Cg + c) * g.H + hi) * g.W + wi;
                const int64_t wi_ = ((o * Cg + c) * g.kh + u) * g.kw + v;
                gx[xi] += gv * w[wi_];
                gw[wi_] += gv * x[xi];
              }
        }
}

}  // namespace convkit::backend::cpu
