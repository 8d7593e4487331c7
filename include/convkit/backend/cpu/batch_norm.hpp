// Compiled once per instruction set, in namespace cpu::CONVKIT_ISA_COPY (kernels_by_isa.hpp).
// Batch normalisation on the CPU: the per-channel work (statistics, running update, the
// backward sums) is backend/kernels.hpp's, run with channels in parallel; the per-element
// passes run a plane at a time, so their inner loops are contiguous and vectorise.
#include <cstdint>
#include <vector>

#include "../../core/geometry.hpp"
#include "../kernels.hpp"
#include "parallel.hpp"

namespace convkit::backend::cpu::CONVKIT_ISA_COPY {

/// y = batch_norm(x) per kernels::batch_norm_channel; saved (2C) receives the mean and
/// invstd the backward pass needs. weight, bias, running_mean, running_var may be null
/// (the running statistics only in training).
template <class T>
void batch_norm_forward_in(Copy, const BatchNormGeometry& g, const T* x, const T* weight, const T* bias,
                           T* running_mean, T* running_var, bool training, double momentum, double eps, T* saved,
                           T* y) {
  parallel_for(g.C, training ? 4 * g.count() : 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c)
      kernels::batch_norm_channel(g, x, running_mean, running_var, training, momentum, eps, saved, c);
  });
  parallel_for(g.N * g.C, 2 * g.inner, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t c = p % g.C;
      const T mean = saved[c], scale = (weight ? weight[c] : T(1)) * saved[g.C + c], b = bias ? bias[c] : T(0);
      const T* in = x + p * g.inner;
      T* out = y + p * g.inner;
      CONVKIT_SIMD for (int64_t k = 0; k < g.inner; ++k) out[k] = kernels::batch_norm_value(in[k], mean, scale, b);
    }
  });
}

/// The gradients of batch_norm given gy: gx (overwritten, or skipped when null), and gw, gb
/// (overwritten, where given). saved is the forward pass's.
template <class T>
void batch_norm_backward_in(Copy, const BatchNormGeometry& g, const T* x, const T* weight, const T* saved, const T* gy,
                            bool training, T* gx, T* gw, T* gb) {
  std::vector<T> coef(static_cast<size_t>(3 * g.C));
  parallel_for(g.C, 4 * g.count(), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c)
      kernels::batch_norm_grad_channel(g, x, weight, saved, gy, training, gw, gb, coef.data(), c);
  });
  if (!gx) return;
  parallel_for(g.N * g.C, 4 * g.inner, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t c = p % g.C;
      const T mean = saved[c], invstd = saved[g.C + c];
      const T k = coef[static_cast<size_t>(c)], avg_gy = coef[static_cast<size_t>(g.C + c)],
              avg_gyx = coef[static_cast<size_t>(2 * g.C + c)];
      const T* xin = x + p * g.inner;
      const T* gin = gy + p * g.inner;
      T* out = gx + p * g.inner;
      CONVKIT_SIMD for (int64_t i = 0; i < g.inner; ++i) out[i] =
          kernels::batch_norm_input_grad(gin[i], xin[i], mean, invstd, k, avg_gy, avg_gyx);
    }
  });
}

}  // namespace convkit::backend::cpu::CONVKIT_ISA_COPY
