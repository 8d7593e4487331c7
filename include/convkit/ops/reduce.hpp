#pragma once
// Reductions over all elements: sum and mean, each a rank-0 tensor.
#include "../backend/dispatch.hpp"
#include "common.hpp"

namespace convkit {

template <class T>
Tensor<T> Tensor<T>::sum() const {
  detail::require_defined("sum", "input", *this);
  Tensor<T> y = Tensor<T>::full(Shape{}, backend::sum(device(), numel(), data_ptr()), device());
  if (autograd::recording(*this))
    autograd::record<T>(y, "sum", {*this}, [s = shape()](const Tensor<T>& g) {
      return std::vector<Tensor<T>>{Tensor<T>::full(s, g.item(), g.device())};
    });
  return y;
}

template <class T>
Tensor<T> Tensor<T>::mean() const {
  detail::require_defined("mean", "input", *this);
  CK_CHECK(numel() > 0, "mean: tensor of shape ", shape().str(), " has no elements");
  return sum() / static_cast<T>(numel());
}

}  // namespace convkit
