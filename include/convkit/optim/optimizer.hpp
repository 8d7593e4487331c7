#pragma once
// Optimizer base: the parameters it updates, zero_grad, step.
#include <vector>

#include "../tensor.hpp"

namespace convkit::optim {

/// The base of the optimizers: holds the parameters and updates them in step().
template <class T>
class Optimizer {
 public:
  /// Checks that every parameter is a defined leaf that requires grad (else ck::Error).
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
  /// Zeroes the gradient of every parameter.
  void zero_grad() {
    for (auto& p : params_) p.zero_grad();
  }
  /// The parameters being optimised.
  const std::vector<Tensor<T>>& parameters() const { return params_; }

 protected:
  /// The parameters being optimised.
  std::vector<Tensor<T>> params_;
};

}  // namespace convkit::optim
