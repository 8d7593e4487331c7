#pragma once
// ck::reference: conv2d computed straight from its definition (CPU, no autograd).
// Tests and benchmarks hold the fast conv2d to these.
#include "../backend/cpu/reference.hpp"
#include "conv.hpp"

namespace convkit::reference {

template <class T>
Tensor<T> conv2d(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& b = Tensor<T>(),
                 const Conv2dOptions& options = Conv2dOptions()) {
  const Conv2dGeometry g = conv2d_geometry("reference::conv2d", x, w, b, options);
  Tensor<T> y = Tensor<T>::empty(Shape{g.N, g.O, g.OH, g.OW});
  backend::cpu::conv2d_reference_forward(g, x.data(), w.data(), b.defined() ? b.data() : nullptr, y.data());
  return y;
}

/// The three gradients of a convolution (gb undefined when it has no bias).
template <class T>
struct Conv2dGrads {
  /// Gradients of the input, the weight and the bias.
  ///@{
  Tensor<T> gx, gw, gb;
  ///@}
};

/// Gradients of sum(conv2d(x, w, b) * gy) with respect to x, w and b (gb undefined without bias).
template <class T>
Conv2dGrads<T> conv2d_backward(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& b, const Tensor<T>& gy,
                               const Conv2dOptions& options = Conv2dOptions()) {
  const Conv2dGeometry g = conv2d_geometry("reference::conv2d_backward", x, w, b, options);
  CK_CHECK(gy.shape() == Shape({g.N, g.O, g.OH, g.OW}), "reference::conv2d_backward: gy has shape ", gy.shape().str(),
           ", expected ", Shape({g.N, g.O, g.OH, g.OW}).str());
  Conv2dGrads<T> r{Tensor<T>::empty(x.shape()), Tensor<T>::empty(w.shape()),
                   b.defined() ? Tensor<T>::empty(b.shape()) : Tensor<T>()};
  backend::cpu::conv2d_reference_backward(g, x.data(), w.data(), gy.data(), r.gx.data(), r.gw.data(),
                                          b.defined() ? r.gb.data() : nullptr);
  return r;
}

}  // namespace convkit::reference
