#pragma once
// Helpers shared by op front doors: argument checks with uniform error messages.
#include <string>

#include "../autograd/engine.hpp"
#include "../core/tensor.hpp"

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

/// A new tensor of the given shape on `like`'s device.
template <class T>
Tensor<T> empty_like_device(const Shape& s, const Tensor<T>& like) {
  return Tensor<T>::empty(s, like.device());
}

}  // namespace convkit::detail
