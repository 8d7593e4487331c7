#pragma once
// Optimizer base: the parameters it updates, zero_grad, step.
#include <vector>

#include "../tensor.hpp"

namespace convkit::optim {

template <class T>
class Optimizer {
 public:
  explicit Optimizer(std::vector<Tensor<T>> params) : params_(std::move(params)) {
    for (size_t i = 0; i < params_.size(); ++i) {
      CK_CHECK(params_[i].defined(), "optimizer: parameter ", i, " is undefined");
      CK_CHECK(params_[i].requires_grad() && params_[i].is_leaf(), "optimizer: parameter ", i, " of shape ",
               params_[i].shape().str(), " is not a leaf that requires grad");
    }
  }
  virtual ~Optimizer() = default;
  /// Applies one update from the current gradients (parameters without a gradient are skipped).
  virtual void step() = 0;
  void zero_grad() {
    for (auto& p : params_) p.zero_grad();
  }
  const std::vector<Tensor<T>>& parameters() const { return params_; }

 protected:
  std::vector<Tensor<T>> params_;
};

}  // namespace convkit::optim
