#pragma once
// sigmoid, relu, tanh: the per-element math is in core/functors.hpp.
#include "../backend/dispatch.hpp"
#include "../core/functors.hpp"
#include "common.hpp"

namespace convkit {
namespace detail {
/// y = F(x); the backward applies Grad(saved, gy), where saved is x or y as `grad_from_output` says.
template <class T, class F, class Grad>
Tensor<T> activation(const char* op, const Tensor<T>& x, F f, Grad grad, bool grad_from_output) {
  require_defined(op, "input", x);
  Tensor<T> y = Tensor<T>::empty(x.shape(), x.device());
  backend::unary_map(x.device(), x.numel(), x.data_ptr(), y.data_ptr(), f);
  if (autograd::recording(x))
    autograd::record<T>(y, op, {x}, [saved = grad_from_output ? y.detach() : x.detach(), grad](const Tensor<T>& g) {
      Tensor<T> gx = Tensor<T>::empty(saved.shape(), saved.device());
      backend::zip_map(saved.device(), saved.numel(), saved.data_ptr(), g.data_ptr(), gx.data_ptr(), grad);
      return std::vector<Tensor<T>>{gx};
    });
  return y;
}
}  // namespace detail

/// 1 / (1 + exp(-x)), elementwise; any shape.
template <class T>
Tensor<T> sigmoid(const Tensor<T>& x) {
  return detail::activation("sigmoid", x, fn::Sigmoid{}, fn::SigmoidGrad{}, true);
}
/// max(x, 0), elementwise; any shape.
template <class T>
Tensor<T> relu(const Tensor<T>& x) {
  return detail::activation("relu", x, fn::Relu{}, fn::ReluGrad{}, false);
}
/// tanh(x), elementwise; any shape.
template <class T>
Tensor<T> tanh(const Tensor<T>& x) {
  return detail::activation("tanh", x, fn::Tanh{}, fn::TanhGrad{}, true);
}

}  // namespace convkit
