#pragma once
// Views and copies: reshape, select ([i]), transpose, to, clone, stack.
#include <vector>

#include "../backend/dispatch.hpp"
#include "common.hpp"

namespace convkit {

template <class T>
Tensor<T> Tensor<T>::reshape(const Shape& requested) const {
  detail::require_defined("reshape", "input", *this);
  // One dimension may be -1: it is inferred from the element count.
  std::vector<int64_t> dims = requested.dims();
  int64_t known = 1, infer_at = -1;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == -1) {
      CK_CHECK(infer_at < 0, "reshape: more than one -1 in ", requested.str());
      infer_at = static_cast<int64_t>(i);
    } else {
      CK_CHECK(dims[i] >= 0, "reshape: invalid dimension ", dims[i], " in ", requested.str());
      known *= dims[i];
    }
  }
  if (infer_at >= 0) {
    CK_CHECK(known > 0 && numel() % known == 0, "reshape: cannot infer -1 in ", requested.str(),
             " for a tensor of shape ", shape().str());
    dims[static_cast<size_t>(infer_at)] = numel() / known;
  }
  const Shape target(dims);
  CK_CHECK(target.numel() == numel(), "reshape: shape ", shape().str(), " (", numel(),
           " elements) cannot be viewed as ", target.str(), " (", target.numel(), " elements)");
  Tensor<T> view = detach();
  view.impl()->shape = target;
  if (autograd::recording(*this))
    autograd::record<T>(view, "reshape", {*this},
                        [s = shape()](const Tensor<T>& g) { return std::vector<Tensor<T>>{g.reshape(s)}; });
  return view;
}

template <class T>
Tensor<T> Tensor<T>::operator[](int64_t i) const {
  detail::require_defined("select", "input", *this);
  CK_CHECK(dim() >= 1, "select: cannot index a rank-0 tensor");
  const int64_t n = shape()[0];
  CK_CHECK(i >= -n && i < n, "select: index ", i, " out of range for dimension 0 of shape ", shape().str());
  if (i < 0) i += n;
  Tensor<T> view = detach();
  std::vector<int64_t> rest(shape().begin() + 1, shape().end());
  view.impl()->shape = Shape(rest);
  view.impl()->offset += i * view.numel();
  if (autograd::recording(*this))
    autograd::record<T>(view, "select", {*this}, [s = shape(), i](const Tensor<T>& g) {
      Tensor<T> gx = Tensor<T>::zeros(s, g.device());
      backend::copy(g.device(), gx.data_ptr() + i * g.numel(), g.device(), g.data_ptr(),
                    static_cast<size_t>(g.numel()) * sizeof(T));
      return std::vector<Tensor<T>>{gx};
    });
  return view;
}

template <class T>
Tensor<T> Tensor<T>::transpose() const {
  detail::require_rank("transpose", "input", *this, 2, "(rows, cols)");
  const int64_t r = shape()[0], c = shape()[1];
  Tensor<T> src = device().is_cpu() ? *this : to(Device::cpu());
  Tensor<T> y = Tensor<T>::empty(Shape{c, r});
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < c; ++j) y.data()[j * r + i] = src.data()[i * c + j];
  if (!device().is_cpu()) y = y.to(device());
  autograd::record<T>(y, "transpose", {*this},
                      [](const Tensor<T>& g) { return std::vector<Tensor<T>>{g.transpose()}; });
  return y;
}

template <class T>
Tensor<T> Tensor<T>::clone() const {
  detail::require_defined("clone", "input", *this);
  Tensor<T> y = Tensor<T>::empty(shape(), device());
  backend::copy(device(), y.data_ptr(), device(), data_ptr(), static_cast<size_t>(numel()) * sizeof(T));
  autograd::record<T>(y, "clone", {*this}, [](const Tensor<T>& g) { return std::vector<Tensor<T>>{g}; });
  return y;
}

template <class T>
Tensor<T> Tensor<T>::to(Device target) const {
  detail::require_defined("to", "input", *this);
  if (target == device()) return *this;
  Tensor<T> y = Tensor<T>::empty(shape(), target);
  backend::copy(target, y.data_ptr(), device(), data_ptr(), static_cast<size_t>(numel()) * sizeof(T));
  autograd::record<T>(y, "to", {*this},
                      [source = device()](const Tensor<T>& g) { return std::vector<Tensor<T>>{g.to(source)}; });
  return y;
}

/// Stacks tensors of equal shape along a new dimension `dim` (0 <= dim <= rank).
template <class T>
Tensor<T> stack(const std::vector<Tensor<T>>& tensors, int dim = 0) {
  CK_CHECK(!tensors.empty(), "stack: no tensors given");
  const Tensor<T>& first = tensors.front();
  detail::require_defined("stack", "tensors[0]", first);
  const int64_t r = first.dim();
  CK_CHECK(dim >= 0 && dim <= r, "stack: dim ", dim, " out of range for tensors of rank ", r);
  for (size_t i = 1; i < tensors.size(); ++i) {
    detail::require_defined("stack", "tensors[i]", tensors[i]);
    CK_CHECK(tensors[i].shape() == first.shape(), "stack: tensor ", i, " has shape ", tensors[i].shape().str(),
             " but tensor 0 has shape ", first.shape().str());
    detail::require_same_device("stack", first, tensors[i]);
  }
  const int64_t count = static_cast<int64_t>(tensors.size());
  int64_t outer = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= first.shape()[static_cast<size_t>(d)];
  const int64_t inner = outer == 0 ? 0 : first.numel() / outer;
  Shape out_shape = first.shape();
  out_shape.insert(static_cast<size_t>(dim), count);
  Tensor<T> y = Tensor<T>::empty(out_shape, first.device());
  const Device dev = first.device();
  const size_t bytes = static_cast<size_t>(inner) * sizeof(T);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < count; ++k)
      backend::copy(dev, y.data_ptr() + (o * count + k) * inner, dev,
                    tensors[static_cast<size_t>(k)].data_ptr() + o * inner, bytes);
  autograd::record<T>(y, "stack", tensors, [outer, inner, count, s = first.shape()](const Tensor<T>& g) {
    std::vector<Tensor<T>> grads;
    for (int64_t k = 0; k < count; ++k) {
      Tensor<T> gk = Tensor<T>::empty(s, g.device());
      for (int64_t o = 0; o < outer; ++o)
        backend::copy(g.device(), gk.data_ptr() + o * inner, g.device(), g.data_ptr() + (o * count + k) * inner,
                      static_cast<size_t>(inner) * sizeof(T));
      grads.push_back(gk);
    }
    return grads;
  });
  return y;
}

/// Concatenates tensors of one rank along `dim` (negative counts from the end); their
/// shapes must agree except along dim. Differentiable in every input.
template <class T>
Tensor<T> cat(const std::vector<Tensor<T>>& tensors, int dim = 0) {
  CK_CHECK(!tensors.empty(), "cat: no tensors given");
  const Tensor<T>& first = tensors.front();
  detail::require_defined("cat", "tensors[0]", first);
  const int64_t r = first.dim();
  CK_CHECK(r >= 1, "cat: tensors must have at least one dimension, got a scalar");
  CK_CHECK(dim >= -r && dim < r, "cat: dim ", dim, " out of range for tensors of rank ", r);
  const size_t d = static_cast<size_t>(dim < 0 ? dim + r : dim);
  int64_t total = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor<T>& t = tensors[i];
    CK_CHECK(t.defined(), "cat: tensor ", i, " is undefined");
    CK_CHECK(t.dim() == r, "cat: tensor ", i, " has shape ", t.shape().str(), " (rank ", t.dim(),
             ") but tensor 0 has shape ", first.shape().str(), " (rank ", r, ")");
    for (size_t k = 0; k < static_cast<size_t>(r); ++k)
      CK_CHECK(k == d || t.shape()[k] == first.shape()[k], "cat: tensor ", i, " has shape ", t.shape().str(),
               " but tensor 0 has shape ", first.shape().str(), "; they may differ only in dimension ", d);
    detail::require_same_device("cat", first, t);
    total += t.shape()[d];
  }
  int64_t outer = 1, inner = 1;
  for (size_t k = 0; k < d; ++k) outer *= first.shape()[k];
  for (size_t k = d + 1; k < static_cast<size_t>(r); ++k) inner *= first.shape()[k];
  Shape out_shape = first.shape();
  out_shape[d] = total;
  const Device dev = first.device();
  Tensor<T> y = Tensor<T>::empty(out_shape, dev);
  std::vector<int64_t> sizes;
  std::vector<Shape> shapes;
  int64_t offset = 0;
  for (const Tensor<T>& t : tensors) {
    const int64_t n = t.shape()[d];
    sizes.push_back(n);
    shapes.push_back(t.shape());
    backend::copy_blocks(dev, outer, static_cast<size_t>(n * inner) * sizeof(T), y.data_ptr() + offset * inner,
                         static_cast<size_t>(total * inner) * sizeof(T), t.data_ptr(),
                         static_cast<size_t>(n * inner) * sizeof(T));
    offset += n;
  }
  autograd::record<T>(y, "cat", tensors, [outer, inner, total, sizes, shapes](const Tensor<T>& gy) {
    std::vector<Tensor<T>> grads;
    int64_t at = 0;
    for (size_t i = 0; i < sizes.size(); ++i) {
      Tensor<T> gi = Tensor<T>::empty(shapes[i], gy.device());
      backend::copy_blocks(gy.device(), outer, static_cast<size_t>(sizes[i] * inner) * sizeof(T), gi.data_ptr(),
                           static_cast<size_t>(sizes[i] * inner) * sizeof(T), gy.data_ptr() + at * inner,
                           static_cast<size_t>(total * inner) * sizeof(T));
      at += sizes[i];
      grads.push_back(gi);
    }
    return grads;
  });
  return y;
}

}  // namespace convkit
