#pragma once
// Max and average pooling on the CPU (NCHW): the shared per-element bodies of
// backend/kernels.hpp, run over the planes in parallel (planes never share memory).
#include <cstdint>

#include "../../ops/geometry.hpp"
#include "../kernels.hpp"
#include "elementwise.hpp"
#include "parallel.hpp"

namespace convkit::backend::cpu {

/// y gets each window's maximum; argmax gets its flat index within the (H, W) plane.
template <class T>
void max_pool2d_forward(const Pool2dGeometry& g, const T* x, T* y, int64_t* argmax) {
  const int64_t S = g.OH * g.OW;
  parallel_for(g.N * g.C, S * g.kh * g.kw, [&](int64_t p0, int64_t p1) {
    for (int64_t i = p0 * S; i < p1 * S; ++i) kernels::max_pool_forward(g, x, y, argmax, i);
  });
}

template <class T>
void max_pool2d_backward(const Pool2dGeometry& g, const int64_t* argmax, const T* gy, T* gx) {
  const int64_t S = g.OH * g.OW, plane = g.H * g.W;
  parallel_for(g.N * g.C, S + plane, [&](int64_t p0, int64_t p1) {
    fill((p1 - p0) * plane, gx + p0 * plane, T(0));
    for (int64_t i = p0 * S; i < p1 * S; ++i) kernels::max_pool_backward(g, argmax, gy, gx, i);
  });
}

template <class T>
void avg_pool2d_forward(const Pool2dGeometry& g, const T* x, T* y) {
  const int64_t S = g.OH * g.OW;
  parallel_for(g.N * g.C, S * g.kh * g.kw, [&](int64_t p0, int64_t p1) {
    for (int64_t i = p0 * S; i < p1 * S; ++i) kernels::avg_pool_forward(g, x, y, i);
  });
}

template <class T>
void avg_pool2d_backward(const Pool2dGeometry& g, const T* gy, T* gx) {
  const int64_t S = g.OH * g.OW, plane = g.H * g.W;
  parallel_for(g.N * g.C, S * g.kh * g.kw + plane, [&](int64_t p0, int64_t p1) {
    fill((p1 - p0) * plane, gx + p0 * plane, T(0));
    for (int64_t i = p0 * S; i < p1 * S; ++i) kernels::avg_pool_backward(g, gy, gx, i);
  });
}

}  // namespace convkit::backend::cpu
