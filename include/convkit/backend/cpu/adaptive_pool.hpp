// Compiled once per instruction set, in namespace cpu::CONVKIT_ISA_COPY (kernels_by_isa.hpp).
// Adaptive average pooling on the CPU: planes in parallel, each plane's bins by the shared
// per-element bodies of backend/kernels.hpp (a thread owns whole planes, so the backward
// pass's overlapping bins add up without races).
#include <algorithm>
#include <cstdint>

#include "../../core/geometry.hpp"
#include "../kernels.hpp"
#include "parallel.hpp"

namespace convkit::backend::cpu::CONVKIT_ISA_COPY {

template <class T>
void adaptive_avg_pool2d_forward_in(Copy, const AdaptivePool2dGeometry& g, const T* x, T* y) {
  // Each output reads about (H / OH + 1) * (W / OW + 1) inputs.
  const int64_t cost = g.H * g.W + g.OH * g.OW;
  parallel_for(g.N * g.C, cost, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p)
      for (int64_t i = 0; i < g.OH; ++i)
        for (int64_t j = 0; j < g.OW; ++j) kernels::adaptive_avg_pool_at(g, x, y, p, i, j);
  });
}

/// gx (overwritten, or added to when `accumulate`) from gy.
template <class T>
void adaptive_avg_pool2d_backward_in(Copy, const AdaptivePool2dGeometry& g, const T* gy, T* gx, bool accumulate) {
  const int64_t plane = g.H * g.W;
  parallel_for(g.N * g.C, plane + g.OH * g.OW, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      if (!accumulate) std::fill(gx + p * plane, gx + (p + 1) * plane, T(0));
      for (int64_t i = 0; i < g.OH; ++i)
        for (int64_t j = 0; j < g.OW; ++j) kernels::adaptive_avg_pool_backward_at(g, gy, gx, p, i, j);
    }
  });
}

}  // namespace convkit::backend::cpu::CONVKIT_ISA_COPY
