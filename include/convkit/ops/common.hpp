#pragma once
// Helpers shared by op front doors: argument checks with uniform error messages.
#include <string>

#include "../autograd/engine.hpp"
#include "../core/tensor.hpp"
#include "options.hpp"

namespace convkit::detail {

template <class T>
void require_defined(const char* op, const char* arg, const Tensor<T>& t) {
  CK_CHECK(t.defined(), op, ": argument '", arg, "' is an undefined tensor");
}

template <class T>
void require_rank(const char* op, const char* arg, const Tensor<T>& t, int64_t rank, const char* layout) {
  require_defined(op, arg, t);
  CK_CHECK(t.dim() == rank, op, ": ", arg, " must be ", rank, "-D ", layout, ", got shape ", t.shape().str());
}

template <class T>
void require_same_device(const char* op, const Tensor<T>& a, const Tensor<T>& b) {
  CK_CHECK(a.device() == b.device(), op, ": tensors are on different devices (", a.device().str(), " and ",
           b.device().str(), "); move them with .to()");
}

/// The checks every sliding-window op makes of its stride, padding and dilation.
inline void require_window_options(const char* op, const Pair2& stride, const Pair2& padding, const Pair2& dilation) {
  CK_CHECK(stride.h > 0 && stride.w > 0, op, ": stride must be positive, got ", stride.str());
  CK_CHECK(dilation.h > 0 && dilation.w > 0, op, ": dilation must be positive, got ", dilation.str());
  CK_CHECK(padding.h >= 0 && padding.w >= 0, op, ": padding must be non-negative, got ", padding.str());
}

/// A new tensor of the given shape on `like`'s device.
template <class T>
Tensor<T> empty_like_device(const Shape& s, const Tensor<T>& like) {
  return Tensor<T>::empty(s, like.device());
}

}  // namespace convkit::detail
