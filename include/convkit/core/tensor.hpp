#pragma once
// Tensor<T>: a dense, contiguous, row-major array on a device, with autograd.
//
// A Tensor is a handle: copying it shares the same TensorImpl. Views (reshape, [i],
// detach) get a new TensorImpl over the same Storage, so they never copy data.
// Member functions that are ops (reshape, pow, sum, ...) are defined in ops/*.hpp.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "../autograd/grad_mode.hpp"
#include "device.hpp"
#include "error.hpp"
#include "generator.hpp"
#include "shape.hpp"
#include "storage.hpp"

namespace convkit {

template <class T>
class Tensor;
template <class T>
struct Node;

/// One level of a nested initializer list: a scalar or a list of NestedList. (A single
/// recursive type keeps `{{1}, {2}}` unambiguous, which overloads per rank are not.)
template <class T>
class NestedList {
 public:
  /// A scalar leaf.
  NestedList(T value) : value_(value), is_scalar_(true) {}  // NOLINT(google-explicit-constructor)
  /// A bracketed list of scalars or of lists.
  NestedList(std::initializer_list<NestedList> items) : items_(items) {}

  /// Appends the values in row-major order; dims gets one entry per depth. Every
  /// scalar must sit at the same depth and every row at a depth must have one length.
  static void flatten(std::initializer_list<NestedList> list, size_t depth, std::vector<int64_t>& dims,
                      std::vector<T>& out, size_t& leaf_depth) {
    if (dims.size() == depth) dims.push_back(static_cast<int64_t>(list.size()));
    CK_CHECK(dims[depth] == static_cast<int64_t>(list.size()), "Tensor::from: ragged nested list (a row of length ",
             list.size(), " where ", dims[depth], " was expected at depth ", depth, ")");
    for (const NestedList& item : list) {
      const size_t here = item.is_scalar_ ? depth : depth + 1;
      if (item.is_scalar_ && leaf_depth == SIZE_MAX) leaf_depth = depth;
      CK_CHECK(item.is_scalar_ ? leaf_depth == depth : (leaf_depth == SIZE_MAX || here <= leaf_depth),
               "Tensor::from: ragged nested list (values and lists mixed at depth ", depth, ")");
      if (item.is_scalar_)
        out.push_back(item.value_);
      else
        flatten(item.items_, depth + 1, dims, out, leaf_depth);
    }
  }

 private:
  T value_{};
  bool is_scalar_ = false;
  std::initializer_list<NestedList> items_;
};

/// The state behind a Tensor handle.
template <class T>
struct TensorImpl {
  /// The elements (shared by views).
  std::shared_ptr<Storage<T>> storage;
  int64_t offset = 0;  ///< in elements, into storage
  /// The dimensions.
  Shape shape;
  /// True when backward() should compute a gradient for this tensor.
  bool requires_grad = false;
  std::shared_ptr<TensorImpl<T>> grad;  ///< accumulated by backward(), leaves only
  std::shared_ptr<Node<T>> grad_fn;     ///< the op that produced this tensor, if recorded
  /// Called by backward() once this leaf's gradient holds all of that backward's
  /// contributions (Tensor::register_post_accumulate_grad_hook).
  std::vector<std::function<void(const std::shared_ptr<TensorImpl>&)>> grad_hooks;

  /// Address of the first element.
  T* ptr() const { return storage->data() + offset; }
  /// Where the storage lives.
  Device device() const { return storage->device(); }
  /// Number of elements.
  int64_t numel() const { return shape.numel(); }
};

/// A dense row-major tensor of T (float, double; int64_t for labels) on a Device.
template <class T>
class Tensor {
 public:
  /// The element type.
  using value_type = T;

  /// An undefined tensor (no storage). Ops take it as "absent", e.g. conv2d's bias.
  Tensor() = default;
  /// Wraps existing state (as the ops do); `impl` may be null.
  explicit Tensor(std::shared_ptr<TensorImpl<T>> impl) : impl_(std::move(impl)) {}

  // ---- construction
  /// Uninitialised memory of the given shape.
  static Tensor empty(const Shape& shape, Device device = Device::cpu()) {
    validate_shape("Tensor::empty", shape);
    auto impl = std::make_shared<TensorImpl<T>>();
    impl->storage = std::make_shared<Storage<T>>(shape.numel(), device);
    impl->shape = shape;
    return Tensor(std::move(impl));
  }
  /// A tensor of the given shape with every element `value`.
  static Tensor full(const Shape& shape, T value, Device device = Device::cpu()) {
    Tensor t = empty(shape, device);
    backend::fill(device, t.numel(), t.data_ptr(), value);
    return t;
  }
  /// A tensor of zeros.
  static Tensor zeros(const Shape& shape, Device device = Device::cpu()) { return full(shape, T(0), device); }
  /// A tensor of ones.
  static Tensor ones(const Shape& shape, Device device = Device::cpu()) { return full(shape, T(1), device); }
  /// Copies `values` into a new CPU tensor; values.size() must equal shape.numel().
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape) {
    validate_shape("Tensor::from_vector", shape);
    CK_CHECK(static_cast<int64_t>(values.size()) == shape.numel(), "Tensor::from_vector: ", values.size(),
             " values cannot fill shape ", shape.str(), " (", shape.numel(), " elements)");
    Tensor t = empty(shape);
    std::copy(values.begin(), values.end(), t.data());
    return t;
  }
  /// Nested initializer lists: Tensor<float>::from({{0, 1}, {2, 3}}) is 2x2; every row
  /// at one depth must have the same length.
  static Tensor from(std::initializer_list<NestedList<T>> rows) {
    std::vector<int64_t> dims;
    std::vector<T> values;
    size_t leaf_depth = SIZE_MAX;
    NestedList<T>::flatten(rows, 0, dims, values, leaf_depth);
    return from_vector(values, Shape(dims));
  }
  /// 0, 1, ..., n-1 as a rank-1 tensor.
  static Tensor arange(int64_t n, Device device = Device::cpu()) {
    CK_CHECK(n >= 0, "Tensor::arange: n must be non-negative, got ", n);
    Tensor t = empty(Shape{n});
    for (int64_t i = 0; i < n; ++i) t.data()[i] = static_cast<T>(i);
    return device.is_cpu() ? t : t.to(device);
  }
  /// Independent draws from U[lo, hi), reproducible from the generator's seed.
  static Tensor uniform(const Shape& shape, T lo, T hi, Generator& gen, Device device = Device::cpu()) {
    CK_CHECK(lo <= hi, "Tensor::uniform: lo (", lo, ") must not exceed hi (", hi, ")");
    Tensor t = empty(shape);
    for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = static_cast<T>(gen.uniform(lo, hi));
    return device.is_cpu() ? t : t.to(device);
  }
  /// Independent draws from N(mean, stddev^2), reproducible from the generator's seed.
  static Tensor normal(const Shape& shape, T mean, T stddev, Generator& gen, Device device = Device::cpu()) {
    CK_CHECK(stddev >= T(0), "Tensor::normal: stddev must be non-negative, got ", stddev);
    Tensor t = empty(shape);
    for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = static_cast<T>(gen.normal(mean, stddev));
    return device.is_cpu() ? t : t.to(device);
  }

  // ---- properties
  /// False for a default-constructed (absent) tensor.
  bool defined() const { return impl_ != nullptr; }
  /// The dimensions. Throws ck::Error on an undefined tensor, like every accessor below.
  const Shape& shape() const { return checked("shape").shape; }
  /// The number of dimensions.
  int64_t dim() const { return shape().rank(); }
  /// The number of elements.
  int64_t numel() const { return shape().numel(); }
  /// Size of dimension i; negative i counts from the end.
  int64_t size(int i) const {
    const int64_t r = dim();
    const int64_t k = i < 0 ? i + r : i;
    CK_CHECK(k >= 0 && k < r, "Tensor::size: dimension ", i, " out of range for shape ", shape().str());
    return shape()[static_cast<size_t>(k)];
  }
  /// The device the data lives on.
  Device device() const { return checked("device").device(); }
  /// Host pointer to the first element (CPU tensors only).
  T* data() const {
    const auto& impl = checked("data");
    CK_CHECK(impl.device().is_cpu(), "Tensor::data: tensor is on ", impl.device().str(),
             "; copy it with .to(ck::Device::cpu()) or use to_vector()");
    return impl.ptr();
  }
  /// Pointer to the first element on the tensor's own device (for backends).
  T* data_ptr() const { return checked("data_ptr").ptr(); }
  /// The values, copied to the host.
  std::vector<T> to_vector() const {
    const auto& impl = checked("to_vector");
    std::vector<T> out(static_cast<size_t>(impl.numel()));
    backend::copy(Device::cpu(), out.data(), impl.device(), impl.ptr(), out.size() * sizeof(T));
    return out;
  }
  /// The value of a one-element tensor.
  T item() const {
    CK_CHECK(numel() == 1, "Tensor::item: tensor of shape ", shape().str(), " has ", numel(), " elements, not one");
    return to_vector()[0];
  }

  // ---- views and copies (defined in ops/shape_ops.hpp)
  /// The same elements in another shape with as many elements (a view; -1 infers one dimension).
  Tensor reshape(const Shape& shape) const;
  /// Element i along dimension 0, one dimension less (a view; negative i counts from the end).
  Tensor operator[](int64_t i) const;  // select along dimension 0: a view
  /// The transpose of a 2-D tensor (a copy; tensors are always contiguous).
  Tensor transpose() const;  // 2-D only; a copy
  /// A copy on `device` (this tensor itself when it is already there); differentiable.
  Tensor to(Device device) const;
  /// A copy with its own storage; differentiable.
  Tensor clone() const;
  /// A view of the same data, cut from the graph (requires_grad false).
  Tensor detach() const {
    const auto& impl = checked("detach");
    auto view = std::make_shared<TensorImpl<T>>();
    view->storage = impl.storage;
    view->offset = impl.offset;
    view->shape = impl.shape;
    return Tensor(std::move(view));
  }

  // ---- math (defined in ops/*.hpp)
  /// Every element raised to `exponent`; differentiable.
  Tensor pow(T exponent) const;
  /// The sum of all elements, as a 0-d tensor; differentiable.
  Tensor sum() const;
  /// The mean of all elements, as a 0-d tensor; differentiable.
  Tensor mean() const;

  // ---- in place (not recorded by autograd: use under NoGradGuard for parameters)
  /// Sets every element to `value` in place (not recorded by autograd).
  Tensor& fill_(T value) {
    check_inplace("fill_");
    backend::fill(device(), numel(), data_ptr(), value);
    return *this;
  }
  /// Copies src's values (same number of elements, any device) into this tensor.
  Tensor& copy_(const Tensor& src) {
    check_inplace("copy_");
    CK_CHECK(src.numel() == numel(), "Tensor::copy_: source of shape ", src.shape().str(),
             " does not match destination of shape ", shape().str());
    backend::copy(device(), data_ptr(), src.device(), src.data_ptr(), static_cast<size_t>(numel()) * sizeof(T));
    return *this;
  }
  /// this += alpha * other, in place (optimizers, gradient accumulation).
  Tensor& add_(const Tensor& other, T alpha = T(1)) {
    check_inplace("add_");
    CK_CHECK(other.shape() == shape(), "Tensor::add_: shapes ", other.shape().str(), " and ", shape().str(), " differ");
    CK_CHECK(other.device() == device(), "Tensor::add_: tensors on ", other.device().str(), " and ", device().str());
    backend::axpy(device(), numel(), alpha, other.data_ptr(), data_ptr());
    return *this;
  }

  // ---- autograd
  /// Marks a leaf as needing a gradient (or not); returns *this for chaining.
  Tensor& requires_grad_(bool on = true) {
    auto& impl = checked("requires_grad_");
    CK_CHECK(std::is_floating_point<T>::value || !on,
             "requires_grad_: only floating-point tensors can require gradients");
    CK_CHECK(!impl.grad_fn || on, "requires_grad_: cannot turn off gradients of a non-leaf tensor; use detach()");
    impl.requires_grad = on;
    return *this;
  }
  /// True when backward() computes a gradient for this tensor.
  bool requires_grad() const { return defined() && impl_->requires_grad; }
  /// True for tensors created by the user (not produced by a recorded op).
  bool is_leaf() const { return !checked("is_leaf").grad_fn; }
  /// The gradient accumulated by backward() (same shape); undefined before any backward.
  Tensor grad() const { return Tensor(checked("grad").grad); }
  /// Sets the accumulated gradient to zero (keeps its memory).
  void zero_grad() {
    auto& impl = checked("zero_grad");
    if (impl.grad) backend::fill(impl.device(), impl.numel(), impl.grad->ptr(), T(0));
  }
  /// Back-propagates from this one-element tensor into every leaf's grad(); the graph is
  /// freed afterwards (defined in autograd/engine.hpp).
  void backward() const;
  /// Calls `hook` with this leaf each time a backward() has finished adding into its
  /// grad() (every consumer in the graph has run; the rest of backward goes on after the
  /// hook returns), as PyTorch's register_post_accumulate_grad_hook. Data-parallel
  /// training starts a bucket's allreduce from it. The hook must not hold this tensor
  /// (that would be a reference cycle); it gets it as its argument.
  void register_post_accumulate_grad_hook(std::function<void(Tensor&)> hook) {
    auto& impl = checked("register_post_accumulate_grad_hook");
    CK_CHECK(!impl.grad_fn && impl.requires_grad,
             "register_post_accumulate_grad_hook: only on a leaf that requires grad (a parameter)");
    CK_CHECK(hook != nullptr, "register_post_accumulate_grad_hook: the hook is empty");
    impl.grad_hooks.emplace_back([hook = std::move(hook)](const std::shared_ptr<TensorImpl<T>>& leaf) {
      Tensor t(leaf);
      hook(t);
    });
  }

  /// The shared state (for ops and the autograd engine).
  const std::shared_ptr<TensorImpl<T>>& impl() const { return impl_; }

 private:
  TensorImpl<T>& checked(const char* what) const {
    CK_CHECK(impl_ != nullptr, "Tensor::", what, ": tensor is undefined (default-constructed)");
    return *impl_;
  }
  void check_inplace(const char* what) const {
    checked(what);
    CK_CHECK(!(autograd::grad_enabled() && impl_->requires_grad && !impl_->grad_fn), "Tensor::", what,
             ": in-place change of a leaf that requires grad; do it under ck::NoGradGuard");
  }
  std::shared_ptr<TensorImpl<T>> impl_;
};

/// A node of the recorded graph: the backward of one op.
template <class T>
struct Node {
  /// Maps the gradient of the op's output to one gradient per input (undefined where an
  /// input needs none).
  using BackwardFn = std::function<std::vector<Tensor<T>>(const Tensor<T>&)>;

  /// The op's name, for error messages and graph dumps.
  const char* name = "";
  std::vector<std::shared_ptr<TensorImpl<T>>> inputs;  ///< nullptr where no gradient flows
  /// The gradient function; empty once released.
  BackwardFn backward;
  /// Optional, for ops that can add their first input's gradient to memory that holds
  /// something (the poolings scatter into it; a pointwise conv2d's GEMM reads it): adds
  /// that gradient straight into `dest`, the first input's existing .grad (a leaf's), and
  /// returns the other inputs' gradients as BackwardFn does (entry 0 unused; may be
  /// shorter). That saves the engine's pass to add, a full pass over the input, and for
  /// the poolings the zero fill too.
  using AccumulateFn = std::function<std::vector<Tensor<T>>(const Tensor<T>& gy, Tensor<T>& dest)>;
  /// See AccumulateFn; empty for most ops.
  AccumulateFn backward_into;

  /// True once backward has run through this node (its saved tensors are gone).
  bool released() const { return !backward; }
  /// Drops saved tensors and edges, so the graph's memory is returned.
  void release() {
    backward = nullptr;
    backward_into = nullptr;
    inputs.clear();
  }
};

}  // namespace convkit
