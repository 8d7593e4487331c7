#pragma once
// batch_norm: validation, the running statistics, and backward wiring.
#include <cmath>

#include "../backend/dispatch.hpp"
#include "common.hpp"

namespace convkit {

/// Batch normalisation over x (N, C) or (N, C, *): statistics per channel over the batch
/// (and the spatial positions). Training: normalise with the batch mean and biased
/// variance, and update running_mean / running_var in place with PyTorch's rule
/// (running = (1 - momentum) * running + momentum * batch, the variance unbiased). Eval:
/// normalise with the running statistics. weight and bias (C) may be undefined (1 and 0);
/// in training the running statistics may be undefined too (not tracked).
/// Differentiable in x, weight and bias.
template <class T>
Tensor<T> batch_norm(const Tensor<T>& x, const Tensor<T>& running_mean, const Tensor<T>& running_var,
                     const Tensor<T>& weight, const Tensor<T>& bias, bool training, double momentum = 0.1,
                     double eps = 1e-5) {
  detail::require_defined("batch_norm", "input", x);
  CK_CHECK(x.dim() >= 2, "batch_norm: input must be (N, C) or (N, C, H, W), got shape ", x.shape().str());
  const int64_t N = x.size(0), C = x.size(1);
  const BatchNormGeometry g{N, C, C == 0 || N == 0 ? 0 : x.numel() / (N * C)};
  CK_CHECK(C > 0, "batch_norm: input ", x.shape().str(), " has no channels");
  CK_CHECK(eps >= 0 && std::isfinite(eps), "batch_norm: eps must be a finite value >= 0, got ", eps);
  CK_CHECK(std::isfinite(momentum), "batch_norm: momentum must be finite, got ", momentum);
  auto check_channels = [&](const Tensor<T>& t, const char* name) {
    if (!t.defined()) return;
    CK_CHECK(t.dim() == 1 && t.size(0) == C, "batch_norm: ", name, " has shape ", t.shape().str(), " but input ",
             x.shape().str(), " has ", C, " channels (expected (", C, ",))");
    detail::require_same_device("batch_norm", x, t);
  };
  check_channels(running_mean, "running_mean");
  check_channels(running_var, "running_var");
  check_channels(weight, "weight");
  check_channels(bias, "bias");
  CK_CHECK(running_mean.defined() == running_var.defined(),
           "batch_norm: running_mean and running_var must be given together");
  if (training) {
    CK_CHECK(g.count() > 1, "batch_norm: training needs more than one value per channel, got input ", x.shape().str(),
             " (", g.count(), " per channel); use eval mode or a larger batch");
  } else {
    CK_CHECK(running_mean.defined(), "batch_norm: eval mode needs running_mean and running_var");
  }
  CK_CHECK(!running_mean.defined() || (!running_mean.requires_grad() && !running_var.requires_grad()),
           "batch_norm: the running statistics are updated in place and must not require grad");
  const Device d = x.device();
  Tensor<T> y = Tensor<T>::empty(x.shape(), d);
  Tensor<T> saved = Tensor<T>::empty(Shape{2 * C}, d);  // per channel: mean, then invstd
  // Read in eval mode, updated in training (where they may be absent: not tracked).
  T* rm = running_mean.defined() ? running_mean.data_ptr() : nullptr;
  T* rv = running_var.defined() ? running_var.data_ptr() : nullptr;
  backend::batch_norm_forward(d, g, x.data_ptr(), weight.defined() ? weight.data_ptr() : nullptr,
                              bias.defined() ? bias.data_ptr() : nullptr, rm, rv, training, momentum, eps,
                              saved.data_ptr(), y.data_ptr());
  if (autograd::recording(x, weight, bias))
    autograd::record<T>(y, "batch_norm", {x, weight, bias},
                        [g, training, x = x.detach(), w = weight.defined() ? weight.detach() : Tensor<T>(),
                         has_b = bias.defined(), saved](const Tensor<T>& gy) {
                          const Device dev = gy.device();
                          Tensor<T> gx = Tensor<T>::empty(x.shape(), dev), gw, gb;
                          if (w.defined()) gw = Tensor<T>::empty(Shape{g.C}, dev);
                          if (has_b) gb = Tensor<T>::empty(Shape{g.C}, dev);
                          backend::batch_norm_backward(dev, g, x.data_ptr(), w.defined() ? w.data_ptr() : nullptr,
                                                       saved.data_ptr(), gy.data_ptr(), training, gx.data_ptr(),
                                                       gw.defined() ? gw.data_ptr() : nullptr,
                                                       gb.defined() ? gb.data_ptr() : nullptr);
                          return std::vector<Tensor<T>>{gx, gw, gb};
                        });
  return y;
}

}  // namespace convkit
