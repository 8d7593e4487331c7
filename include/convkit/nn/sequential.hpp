#pragma once
// nn::Sequential: runs its layers in order. Children are named "0", "1", ... so parameter
// names match a PyTorch nn.Sequential's state_dict ("0.weight", "3.bias").
#include <sstream>
#include <type_traits>

#include "../onnx/graph.hpp"
#include "module.hpp"

namespace convkit::nn {

/// Layers applied one after the other, named "0", "1", ... as in PyTorch.
template <class T>
class Sequential : public Cloneable<Sequential<T>, T> {
 public:
  Sequential() = default;
  /// Sequential<float> net(Conv2d<float>(1, 6, 5), Sigmoid<float>(), ...): each layer is copied
  /// in (copies share parameters with the originals).
  /// (One Sequential argument is the copy constructor's, not a Sequential holding it: a
  /// nested Sequential is written Sequential<T>(inner, other_layer) or pushed with push_back.)
  template <class... Layers,
            class = std::enable_if_t<(std::is_base_of<Module<T>, std::decay_t<Layers>>::value && ...) &&
                                     !(sizeof...(Layers) == 1 &&
                                       (std::is_same<std::decay_t<Layers>, Sequential>::value && ...))>>
  explicit Sequential(Layers&&... layers) {
    (push_back(std::forward<Layers>(layers)), ...);
  }

  /// Appends a copy of `layer` (sharing its parameters).
  template <class Layer, class = std::enable_if_t<std::is_base_of<Module<T>, std::decay_t<Layer>>::value>>
  void push_back(Layer&& layer) {
    push_back_shared(std::make_shared<std::decay_t<Layer>>(std::forward<Layer>(layer)));
  }
  /// Appends a layer held by shared_ptr (the same module object, not a copy).
  void push_back_shared(typename Module<T>::Ptr layer) {
    this->register_module(std::to_string(layers_.size()), layer);
    layers_.push_back(std::move(layer));
  }
  /// Appends a copy of `layer` under `name` instead of its position, as PyTorch's
  /// add_module: d2l's ResNet names its stages "b2", "b3", ..., "last".
  template <class Layer, class = std::enable_if_t<std::is_base_of<Module<T>, std::decay_t<Layer>>::value>>
  void add_module(const std::string& name, Layer&& layer) {
    typename Module<T>::Ptr p = std::make_shared<std::decay_t<Layer>>(std::forward<Layer>(layer));
    for (const auto& [existing, child] : this->children())
      CK_CHECK(existing != name, "Sequential::add_module: a layer named '", name, "' exists already");
    this->register_module(name, p);
    layers_.push_back(std::move(p));
    names_.resize(layers_.size() - 1);
    names_.push_back(name);
  }

  /// Each layer's ONNX form, in order.
  std::string to_onnx(onnx::GraphWriter<T>& g, const std::string& input, const std::string& prefix) const override {
    std::string h = input;
    for (const auto& [name, child] : this->children()) {
      std::string path = prefix;
      path.append(name).push_back('.');
      h = child->to_onnx(g, h, path);
    }
    return h;
  }
  Tensor<T> forward(const Tensor<T>& x) override {
    Tensor<T> h = x;
    for (auto& layer : layers_) h = layer->forward(h);
    return h;
  }

  /// The number of layers.
  size_t size() const { return layers_.size(); }
  /// The layer at i; throws ck::Error when i is out of range.
  Module<T>& operator[](size_t i) {
    CK_CHECK(i < layers_.size(), "Sequential: layer ", i, " out of range (", layers_.size(), " layers)");
    return *layers_[i];
  }
  /// The layer at i as its concrete type (throws ck::Error if it is not one).
  template <class Layer>
  Layer& at(size_t i) {
    auto* p = dynamic_cast<Layer*>(&(*this)[i]);
    CK_CHECK(p != nullptr, "Sequential: layer ", i, " is ", layers_[i]->repr(), ", not the requested type");
    return *p;
  }
  /// Iterator to the first layer (a shared_ptr to Module).
  auto begin() const { return layers_.begin(); }
  /// Iterator past the last layer.
  auto end() const { return layers_.end(); }

  std::string repr() const override {
    std::ostringstream os;
    os << "Sequential(\n";
    for (size_t i = 0; i < layers_.size(); ++i) {
      std::string inner = layers_[i]->repr();
      // indent nested multi-line reprs
      for (size_t p = inner.find('\n'); p != std::string::npos; p = inner.find('\n', p + 1)) inner.insert(p + 1, "  ");
      os << "  (" << (i < names_.size() && !names_[i].empty() ? names_[i] : std::to_string(i)) << "): " << inner
         << "\n";
    }
    os << ")";
    return os.str();
  }

 private:
  std::vector<typename Module<T>::Ptr> layers_;
  std::vector<std::string> names_;  // add_module's names; empty where the position names a layer
};

}  // namespace convkit::nn
