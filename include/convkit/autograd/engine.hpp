#pragma once
// Define-by-run autograd: ops call record() to attach a Node to their output;
// Tensor::backward() walks the recorded graph in reverse topological order.
#include <algorithm>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "../core/tensor.hpp"

namespace convkit::autograd {

/// Attaches `backward` to `out` when grad mode is on and any input requires grad.
/// `inputs` lists the op's tensor arguments in the order `backward` returns gradients.
template <class T>
void record(Tensor<T>& out, const char* name, const std::vector<Tensor<T>>& inputs,
            typename Node<T>::BackwardFn backward) {
  if (!grad_enabled()) return;
  bool any = false;
  for (const auto& t : inputs) any = any || t.requires_grad();
  if (!any) return;
  auto node = std::make_shared<Node<T>>();
  node->name = name;
  for (const auto& t : inputs) node->inputs.push_back(t.requires_grad() ? t.impl() : nullptr);
  node->backward = std::move(backward);
  out.impl()->requires_grad = true;
  out.impl()->grad_fn = std::move(node);
}

template <class T>
void accumulate(std::shared_ptr<TensorImpl<T>>& slot, Tensor<T> g) {
  if (!slot) {
    // Take g's memory when nothing else can see it (a fresh gradient); otherwise copy, as
    // g may be a view of another tensor's data.
    const bool exclusive =
        g.impl().use_count() == 1 && g.impl()->storage.use_count() == 1 && g.impl()->offset == 0 && !g.requires_grad();
    slot = exclusive ? g.impl() : g.detach().clone().impl();
  } else {
    Tensor<T>(slot).add_(g);
  }
}

/// Runs backward from `root` (one element): d root / d leaf is added to each leaf's grad.
template <class T>
void run_backward(const Tensor<T>& root) {
  CK_CHECK(root.defined(), "backward: tensor is undefined");
  CK_CHECK(root.numel() == 1, "backward: can only start from a one-element tensor (a loss), got shape ",
           root.shape().str(), "; reduce it first, e.g. with .sum()");
  CK_CHECK(root.requires_grad(),
           "backward: tensor does not require grad (no input had requires_grad_() "
           "set, or it was computed under NoGradGuard)");
  using ImplPtr = TensorImpl<T>*;

  // Reverse post-order of a depth-first walk = every tensor before the inputs it came from.
  std::vector<std::shared_ptr<TensorImpl<T>>> order;
  std::unordered_set<ImplPtr> seen;
  std::vector<std::pair<std::shared_ptr<TensorImpl<T>>, size_t>> stack{{root.impl(), 0}};
  seen.insert(root.impl().get());
  while (!stack.empty()) {
    auto& [impl, next] = stack.back();
    const auto& fn = impl->grad_fn;
    if (fn && fn->released())
      throw Error(detail::cat("backward: the graph through '", fn->name,
                              "' was already freed by an earlier backward(); recompute the forward pass"));
    if (fn && next < fn->inputs.size()) {
      auto child = fn->inputs[next++];
      if (child && seen.insert(child.get()).second) stack.push_back({child, 0});
      continue;
    }
    order.push_back(impl);
    stack.pop_back();
  }
  std::reverse(order.begin(), order.end());

  NoGradGuard no_grad;  // the backward computation itself is not recorded
  std::unordered_map<ImplPtr, Tensor<T>> grads;
  grads[root.impl().get()] = Tensor<T>::ones(root.shape(), root.device());
  for (auto& impl : order) {
    auto it = grads.find(impl.get());
    if (it == grads.end()) continue;
    Tensor<T> g = std::move(it->second);
    grads.erase(it);
    if (!impl->grad_fn) {  // a leaf
      accumulate(impl->grad, std::move(g));
      continue;
    }
    Node<T>& node = *impl->grad_fn;
    std::vector<Tensor<T>> input_grads = node.backward(g);
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      if (!node.inputs[i] || i >= input_grads.size() || !input_grads[i].defined()) continue;
      auto& slot = grads[node.inputs[i].get()];
      if (!slot.defined())
        slot = input_grads[i];
      else
        slot = slot + input_grads[i];
    }
  }
  for (auto& impl : order)
    if (impl->grad_fn) impl->grad_fn->release();
}

}  // namespace convkit::autograd

namespace convkit {
template <class T>
void Tensor<T>::backward() const {
  autograd::run_backward(*this);
}
}  // namespace convkit
