#pragma once
// The per-element update rules of the optimizers, written once for every backend.
#include <cmath>

#include "../core/geometry.hpp"  // CK_HOST_DEVICE

namespace convkit::optim {

/// The SGD update of one element, shared by the CPU loop and the CUDA kernel.
template <class T>
struct SgdRule {
  /// The step's hyper-parameters, as in PyTorch's SGD.
  ///@{
  T lr, momentum, dampening, weight_decay;
  ///@}
  /// Nesterov momentum; true on the first step (the buffer starts as the gradient).
  ///@{
  bool nesterov, first_step;
  ///@}
  /// Updates one parameter p with gradient g and momentum buffer buf (PyTorch's SGD).
  CK_HOST_DEVICE void operator()(T& p, T g, T& buf) const {
    if (weight_decay != T(0)) g += weight_decay * p;
    if (momentum != T(0)) {
      buf = first_step ? g : momentum * buf + (T(1) - dampening) * g;
      g = nesterov ? g + momentum * buf : buf;
    }
    p -= lr * g;
  }
};

/// The Adam update of one element, shared by the CPU loop and the CUDA kernel.
template <class T>
struct AdamRule {
  /// The step's hyper-parameters, as in PyTorch's Adam.
  ///@{
  T lr, beta1, beta2, eps, weight_decay;
  ///@}
  /// 1 - beta1^t and 1 - beta2^t for step t.
  ///@{
  T bias_correction1, bias_correction2;  // 1 - beta^t
  ///@}
  /// Updates one parameter p with gradient g and moment estimates m, v (Kingma & Ba).
  CK_HOST_DEVICE void operator()(T& p, T g, T& m, T& v) const {
    if (weight_decay != T(0)) g += weight_decay * p;
    m = beta1 * m + (T(1) - beta1) * g;
    v = beta2 * v + (T(1) - beta2) * g * g;
    const T m_hat = m / bias_correction1, v_hat = v / bias_correction2;
    p -= lr * m_hat / (std::sqrt(v_hat) + eps);
  }
};

}  // namespace convkit::optim
