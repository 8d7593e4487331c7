#pragma once
// The dataset concept: anything with size() and get(i) returning one example. The
// DataLoader accepts any such type, a user's own struct included; TensorDataset (data
// already in memory), ImageFolder and MnistDataset are the ready-made ones.
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/tensor.hpp"

namespace convkit::data {

/// One example: an input tensor (for images (C, H, W)) and its class label.
template <class T>
struct Example {
  Tensor<T> x;    ///< the input, without the batch dimension
  int64_t y = 0;  ///< the class label, 0..K-1
};

namespace detail {

/// Row i of `t` along dimension 0, as a view sharing t's storage (no autograd record:
/// datasets hold data, not parameters).
template <class T>
Tensor<T> row_view(const Tensor<T>& t, int64_t i) {
  Tensor<T> view = t.detach();
  view.impl()->shape = Shape(std::vector<int64_t>(t.shape().begin() + 1, t.shape().end()));
  view.impl()->offset += i * view.numel();
  return view;
}

/// The input tensor and label of whatever a dataset's get(i) returns: an Example<U>, a
/// std::pair<Tensor<U>, label>, or any struct with members x and y.
template <class E>
auto example_input(const E& e) -> decltype((e.x)) {
  return e.x;
}
template <class U, class L>
const Tensor<U>& example_input(const std::pair<Tensor<U>, L>& e) {
  return e.first;
}
template <class E>
int64_t example_label(const E& e, decltype(e.y)* = nullptr) {
  return static_cast<int64_t>(e.y);
}
template <class U, class L>
int64_t example_label(const std::pair<Tensor<U>, L>& e) {
  return static_cast<int64_t>(e.second);
}

/// The element type of the input tensors a dataset type D returns from get().
template <class D>
using example_scalar_t = typename std::decay_t<decltype(example_input(std::declval<D&>().get(int64_t(0))))>::value_type;

/// True for types with size() and get(int64_t) returning an example.
template <class D, class = void>
struct is_dataset : std::false_type {};
template <class D>
struct is_dataset<D, std::void_t<decltype(std::declval<D&>().size()), example_scalar_t<D>>> : std::true_type {};

/// The loader's element type for DataLoader<P>: P itself when it is a number type (float,
/// double), otherwise the element type of dataset P's examples.
template <class P, class = void>
struct loader_scalar {
  using type = P;  ///< a number type itself
};
/// A dataset type: its examples' element type.
template <class P>
struct loader_scalar<P, std::enable_if_t<!std::is_arithmetic_v<P>>> {
  using type = example_scalar_t<P>;  ///< the element type of P's examples
};

}  // namespace detail

/// Examples already in memory: x (N, ...) and labels y (N) on the CPU. get(i) returns a view
/// of row i of x, so nothing is copied until the loader assembles a batch.
template <class T>
class TensorDataset {
 public:
  /// Throws ck::Error unless x has a first dimension, y is (N) with N = x.size(0), both
  /// are CPU tensors and every label is non-negative.
  TensorDataset(Tensor<T> x, Tensor<int64_t> y) : x_(std::move(x)), y_(std::move(y)) {
    CK_CHECK(x_.defined() && y_.defined(), "TensorDataset: x and y must both be defined tensors");
    CK_CHECK(x_.dim() >= 1, "TensorDataset: x must have a first (example) dimension, got shape ", x_.shape().str());
    CK_CHECK(y_.dim() == 1 && y_.size(0) == x_.size(0), "TensorDataset: y must have shape (", x_.size(0),
             ") to match x ", x_.shape().str(), ", got ", y_.shape().str());
    CK_CHECK(x_.device().is_cpu() && y_.device().is_cpu(), "TensorDataset: x and y must be CPU tensors, got ",
             x_.device().str(), " and ", y_.device().str(), " (batches are moved to the device after loading)");
    for (int64_t i = 0; i < y_.size(0); ++i)
      CK_CHECK(y_.data()[i] >= 0, "TensorDataset: label ", y_.data()[i], " at position ", i, " is negative");
  }
  /// The number of examples.
  int64_t size() const { return x_.size(0); }
  /// Example i: row i of x (a view) and label i.
  Example<T> get(int64_t i) const {
    CK_CHECK(i >= 0 && i < size(), "TensorDataset: index ", i, " out of range for ", size(), " examples");
    return {detail::row_view(x_, i), y_.data()[i]};
  }
  /// All inputs, (N, ...).
  const Tensor<T>& x() const { return x_; }
  /// All labels, (N).
  const Tensor<int64_t>& y() const { return y_; }

 private:
  Tensor<T> x_;
  Tensor<int64_t> y_;
};

}  // namespace convkit::data
