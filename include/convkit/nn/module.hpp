#pragma once
// nn::Module: named parameters and buffers, child modules, train/eval mode, printing.
//
// Modules are values whose copies share parameters (a Tensor is a handle), so
// `Sequential<float> net(Conv2d<float>(1, 6, 5), Sigmoid<float>())` keeps one set of
// weights, reachable from `net` and from any copy of the layer.
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/generator.hpp"
#include "../tensor.hpp"

namespace convkit {

namespace onnx {
template <class T>
class GraphWriter;
}  // namespace onnx

/// The generator used by layers constructed without one (seed it with manual_seed).
inline Generator& default_generator() {
  static Generator gen(0);
  return gen;
}
inline void manual_seed(uint64_t seed) { default_generator().seed(seed); }

namespace nn {

/// The base of every layer and model: forward(), named parameters and sub-modules, train/eval mode.
template <class T>
class Module {
 public:
  /// Shared ownership of a module (sub-modules are held this way).
  using Ptr = std::shared_ptr<Module<T>>;
  /// Not inlined: inlined into every layer's destructor, the release of the parameter
  /// and sub-module lists would cost a LeNet program 0.2 G compiler instructions.
  CONVKIT_NOINLINE virtual ~Module() = default;

  /// The computation; x's layout depends on the layer (NCHW for convolutions).
  virtual Tensor<T> forward(const Tensor<T>& x) = 0;
  /// Same as forward(x).
  Tensor<T> operator()(const Tensor<T>& x) { return forward(x); }

  /// One line describing this module's configuration, e.g. "Linear(400 -> 120)".
  virtual std::string repr() const { return "Module()"; }
  /// A copy of this module held by a shared_ptr (its parameters stay shared).
  virtual Ptr clone_shared() const = 0;
  /// Writes this module's evaluation-mode computation on the graph value `input` into an
  /// ONNX graph (onnx/graph.hpp) and returns the name of its output; `prefix` is its path
  /// in the model ("b2.0."), which starts its initializers' names. A module that ONNX
  /// cannot express (the default) throws ck::Error naming it, so an export never writes a
  /// different network; a block of your own overrides this as the library's blocks do.
  virtual std::string to_onnx(onnx::GraphWriter<T>& graph, const std::string& input, const std::string& prefix) const {
    (void)graph;
    (void)input;
    throw Error(convkit::detail::cat("onnx::save: ", repr(), " at '", prefix.empty() ? std::string("(root)") : prefix,
                                     "' has no ONNX form (override Module::to_onnx to give it one)"));
  }

  /// Every parameter of this module and its children, depth first, in registration order.
  std::vector<Tensor<T>> parameters() const {
    std::vector<Tensor<T>> out;
    for (auto& [name, t] : named_parameters()) out.push_back(t);
    return out;
  }
  /// Parameters with dotted names as in PyTorch's state_dict: "0.weight", "3.bias".
  std::vector<std::pair<std::string, Tensor<T>>> named_parameters(const std::string& prefix = "") const {
    std::vector<std::pair<std::string, Tensor<T>>> out;
    for (const auto& [name, t] : params_) out.emplace_back(prefix + name, t);
    for (const auto& [name, child] : children_) {
      auto sub = child->named_parameters(prefix + name + ".");
      out.insert(out.end(), sub.begin(), sub.end());
    }
    return out;
  }
  /// This module's own parameters (not its children's), in registration order.
  const std::vector<std::pair<std::string, Tensor<T>>>& local_parameters() const { return params_; }
  /// The registered sub-modules with their names, in registration order.
  const std::vector<std::pair<std::string, Ptr>>& children() const { return children_; }

  /// Every buffer (state that is not trained, such as batch norm's running statistics),
  /// named as in a PyTorch state_dict ("1.running_mean").
  std::vector<std::pair<std::string, Tensor<T>>> named_buffers(const std::string& prefix = "") const {
    std::vector<std::pair<std::string, Tensor<T>>> out;
    for (const auto& b : buffers_) out.emplace_back(prefix + b.name, b.tensor);
    for (const auto& [name, child] : children_) {
      auto sub = child->named_buffers(prefix + name + ".");
      out.insert(out.end(), sub.begin(), sub.end());
    }
    return out;
  }
  /// Every buffer's tensor.
  std::vector<Tensor<T>> buffers() const {
    std::vector<Tensor<T>> out;
    for (auto& [name, t] : named_buffers()) out.push_back(t);
    return out;
  }

  /// One entry of the module's state: a parameter or a buffer, under its state_dict name.
  struct StateEntry {
    std::string name;  ///< the state_dict name ("0.weight", "1.running_var")
    Tensor<T> tensor;  ///< the parameter or buffer
    bool integer;      ///< holds a count (stored as int64 in checkpoints, as PyTorch does)
  };
  /// Parameters and buffers in PyTorch's state_dict order: each module's parameters, then
  /// its buffers, then its children's, recursively. What a checkpoint holds.
  std::vector<StateEntry> state(const std::string& prefix = "") const {
    std::vector<StateEntry> out;
    for (const auto& [name, t] : params_) out.push_back({prefix + name, t, false});
    for (const auto& b : buffers_) out.push_back({prefix + b.name, b.tensor, b.integer});
    for (const auto& [name, child] : children_) {
      auto sub = child->state(prefix + name + ".");
      out.insert(out.end(), sub.begin(), sub.end());
    }
    return out;
  }

  /// Zeroes the gradient of every parameter.
  void zero_grad() {
    for (auto& t : parameters()) t.zero_grad();
  }
  /// Training mode (the default) or evaluation mode, for this module and its children.
  void train(bool on = true) {
    training_ = on;
    for (auto& [name, child] : children_) child->train(on);
  }
  /// Evaluation mode: same as train(false).
  void eval() { train(false); }
  /// True in training mode.
  bool is_training() const { return training_; }

  /// Calls f on this module and every descendant (e.g. to initialise weights).
  void apply(const std::function<void(Module<T>&)>& f) {
    f(*this);
    for (auto& [name, child] : children_) child->apply(f);
  }

  /// Moves every parameter and buffer to `device` (in place: handles held elsewhere see the move).
  void to(Device device) {
    for (auto& entry : state()) {
      Tensor<T>& t = entry.tensor;
      if (t.device() == device) continue;
      Tensor<T> moved = t.detach().to(device);
      auto& impl = *t.impl();
      impl.storage = moved.impl()->storage;
      impl.offset = 0;
      impl.grad = nullptr;
    }
  }

 protected:
  /// Registers a parameter (it gets requires_grad) and returns its handle.
  Tensor<T> register_parameter(const std::string& name, Tensor<T> t) {
    CK_CHECK(t.defined(), "register_parameter: parameter '", name, "' is undefined");
    CK_CHECK(t.is_leaf(), "register_parameter: parameter '", name, "' must be a leaf tensor (use detach())");
    t.requires_grad_(true);
    params_.emplace_back(name, t);
    return t;
  }
  /// Registers a child module under `name`.
  void register_module(const std::string& name, Ptr child) {
    CK_CHECK(child != nullptr, "register_module: module '", name, "' is null");
    children_.emplace_back(name, std::move(child));
  }  /// Registers a sub-module held by the caller and returns it with its own type, so a block
  /// keeps typed members: `conv1 = register_module("conv1", std::make_shared<Conv2d<T>>(...))`.
  template <class M, class = std::enable_if_t<std::is_base_of<Module<T>, M>::value>>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> child) {
    register_module(name, Ptr(child));
    return child;
  }
  /// Registers a buffer: state saved in checkpoints and moved by to(), but not trained.
  /// `integer` marks a count (PyTorch's num_batches_tracked), stored as int64 in checkpoints.
  Tensor<T> register_buffer(const std::string& name, Tensor<T> t, bool integer = false) {
    CK_CHECK(t.defined(), "register_buffer: buffer '", name, "' is undefined");
    buffers_.push_back({name, t, integer});
    return t;
  }

 private:
  struct Buffer {
    std::string name;
    Tensor<T> tensor;
    bool integer;
  };
  std::vector<std::pair<std::string, Tensor<T>>> params_;
  std::vector<Buffer> buffers_;
  std::vector<std::pair<std::string, Ptr>> children_;
  bool training_ = true;
};

/// CRTP helper: gives a module type its clone_shared() (copies share parameters).
template <class Derived, class T>
class Cloneable : public Module<T> {
 public:
  /// A copy of the Derived module (sharing its parameters).
  typename Module<T>::Ptr clone_shared() const override {
    return std::make_shared<Derived>(static_cast<const Derived&>(*this));
  }
};

template <class T>
std::ostream& operator<<(std::ostream& os, const Module<T>& m) {
  return os << m.repr();
}

}  // namespace nn
}  // namespace convkit
