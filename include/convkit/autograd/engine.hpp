#pragma once
// Define-by-run autograd: ops call record() to attach a Node to their output;
// Tensor::backward() walks the recorded graph in reverse topological order.
#include <algorithm>
#include <initializer_list>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../core/tensor.hpp"

namespace convkit::autograd {

/// True when an op on these inputs is recorded: grad mode is on and one of them requires
/// grad. Ops whose backward captures cost something (a detached handle is an allocation)
/// test it before building the closure, so inference pays nothing for autograd.
template <class... Tensors>
bool recording(const Tensors&... inputs) {
  return grad_enabled() && (inputs.requires_grad() || ...);
}

/// Attaches `backward` to `out` when grad mode is on and any input requires grad.
/// `inputs` lists the op's tensor arguments in the order `backward` returns gradients.
/// Returns the new node, or null when nothing was recorded. (Not a template on the
/// closure's type: one instantiation per op would cost every program compile time.)
template <class T>
Node<T>* record(Tensor<T>& out, const char* name, const Tensor<T>* first, const Tensor<T>* last,
                typename Node<T>::BackwardFn backward) {
  if (!grad_enabled()) return nullptr;
  bool any = false;
  for (const Tensor<T>* t = first; t != last; ++t) any = any || t->requires_grad();
  if (!any) return nullptr;
  auto node = std::make_shared<Node<T>>();
  node->name = name;
  for (const Tensor<T>* t = first; t != last; ++t) node->inputs.push_back(t->requires_grad() ? t->impl() : nullptr);
  node->backward = std::move(backward);
  out.impl()->requires_grad = true;
  out.impl()->grad_fn = std::move(node);
  return out.impl()->grad_fn.get();
}
/// record() for a fixed list of inputs (no allocation for the list).
template <class T>
Node<T>* record(Tensor<T>& out, const char* name, std::initializer_list<Tensor<T>> inputs,
                typename Node<T>::BackwardFn backward) {
  return record<T>(out, name, inputs.begin(), inputs.end(), std::move(backward));
}
/// record() for a run-time number of inputs.
template <class T>
Node<T>* record(Tensor<T>& out, const char* name, const std::vector<Tensor<T>>& inputs,
                typename Node<T>::BackwardFn backward) {
  return record<T>(out, name, inputs.data(), inputs.data() + inputs.size(), std::move(backward));
}

/// True when nothing but `t` can see its memory, so it may be updated in place.
template <class T>
bool owns_memory(const Tensor<T>& t) {
  return t.impl().use_count() == 1 && t.impl()->storage.use_count() == 1 && t.impl()->offset == 0 && !t.requires_grad();
}

/// Adds gradient `g` into a leaf's .grad, in place once it exists (so a handle to the
/// gradient, like zero_grad's, keeps seeing it); the first time takes g itself when
/// nothing else can see it.
template <class T>
void accumulate(std::shared_ptr<TensorImpl<T>>& grad, Tensor<T> g) {
  if (!grad)
    grad = owns_memory(g) ? g.impl() : g.detach().clone().impl();
  else
    Tensor<T>(grad).add_(g);
}

/// Adds `g` into a gradient still flowing through the graph: the sum goes in place only
/// when the pending gradient owns its memory (an op may have returned a view of, or the
/// very tensor of, another gradient).
template <class T>
void add_pending(std::shared_ptr<TensorImpl<T>>& pending, Tensor<T> g) {
  if (!pending) {
    pending = g.impl();
    return;
  }
  Tensor<T> sum(pending);
  if (!owns_memory(sum)) pending = (sum = sum.detach().clone()).impl();
  sum.add_(g);
}

/// True when `node` can add its first input's gradient straight into that input's .grad:
/// the op offers backward_into, its first input is a leaf whose .grad already exists with
/// the input's shape, and that .grad shares memory with neither the incoming gradient nor
/// any of the op's inputs (which the backward reads).
template <class T>
bool adds_into_leaf_grad(const Node<T>& node, const Tensor<T>& g) {
  if (!node.backward_into || node.inputs.empty() || !node.inputs[0]) return false;
  const TensorImpl<T>& leaf = *node.inputs[0];
  if (leaf.grad_fn || !leaf.grad) return false;
  const TensorImpl<T>& grad = *leaf.grad;
  if (grad.shape != leaf.shape || grad.device() != leaf.device() || grad.storage == g.impl()->storage) return false;
  for (const auto& input : node.inputs)
    if (input && input->storage == grad.storage) return false;
  return true;
}

/// Runs backward from `root` (one element): d root / d leaf is added to each leaf's grad.
template <class T>
void run_backward(const Tensor<T>& root) {
  CK_CHECK(root.defined(), "backward: tensor is undefined");
  CK_CHECK(root.numel() == 1, "backward: can only start from a one-element tensor (a loss), got shape ", root.shape(),
           "; reduce it first, e.g. with .sum()");
  CK_CHECK(root.requires_grad(),
           "backward: tensor does not require grad (no input had requires_grad_() "
           "set, or it was computed under NoGradGuard)");
  using ImplPtr = std::shared_ptr<TensorImpl<T>>;

  // Post-order of a depth-first walk: every tensor after the inputs it came from. `index`
  // numbers the tensors as they are first seen; pending[i] is tensor i's gradient so far.
  std::unordered_map<const TensorImpl<T>*, size_t> index{{root.impl().get(), 0}};
  std::vector<ImplPtr> seen{root.impl()};
  std::vector<size_t> order;
  std::vector<std::pair<size_t, size_t>> stack{{0, 0}};  // (tensor, next input to visit)
  while (!stack.empty()) {
    auto& [i, next] = stack.back();
    const auto& fn = seen[i]->grad_fn;
    if (fn && fn->released()) {
      const char* op = fn->name;  // a plain local: nvcc's front end mangles fn->name in a braced list
      convkit::detail::fail({"backward: the graph through '", op,
                             "' was already freed by an earlier backward(); recompute the forward pass"});
    }
    if (fn && next < fn->inputs.size()) {
      const ImplPtr& child = fn->inputs[next++];
      if (child && index.emplace(child.get(), seen.size()).second) {
        stack.emplace_back(seen.size(), 0);
        seen.push_back(child);
      }
      continue;
    }
    order.push_back(i);
    stack.pop_back();
  }

  NoGradGuard no_grad;  // the backward computation itself is not recorded
  std::vector<ImplPtr> pending(seen.size());
  pending[0] = Tensor<T>::ones(root.shape(), root.device()).impl();
  for (auto it = order.rbegin(); it != order.rend(); ++it) {  // outputs before inputs
    ImplPtr& impl = seen[*it];
    if (!impl->grad_fn) {  // a leaf: every op it feeds has run, so its gradient is complete
      if (pending[*it]) accumulate(impl->grad, Tensor<T>(std::move(pending[*it])));
      if (impl->grad)
        for (const auto& hook : impl->grad_hooks) hook(impl);
      continue;
    }
    if (!pending[*it]) continue;
    Tensor<T> g(std::move(pending[*it]));
    Node<T>& node = *impl->grad_fn;
    std::vector<Tensor<T>> input_grads;
    size_t first = 0;  // the first input whose gradient is in input_grads
    if (adds_into_leaf_grad(node, g)) {
      Tensor<T> dest(node.inputs[0]->grad);
      input_grads = node.backward_into(g, dest);
      first = 1;
    } else {
      input_grads = node.backward(g);
    }
    for (size_t k = first; k < node.inputs.size() && k < input_grads.size(); ++k)
      if (node.inputs[k] && input_grads[k].defined())
        add_pending(pending[index.at(node.inputs[k].get())], std::move(input_grads[k]));
  }
  for (const ImplPtr& impl : seen)
    if (impl->grad_fn) impl->grad_fn->release();
}

}  // namespace convkit::autograd

namespace convkit {
template <class T>
void Tensor<T>::backward() const {
  autograd::run_backward(*this);
}
}  // namespace convkit
