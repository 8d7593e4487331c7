#pragma once
// Stochastic gradient descent with optional momentum, dampening, Nesterov and weight decay
// (the same update as torch.optim.SGD).
#include "../backend/dispatch.hpp"
#include "optimizer.hpp"
#include "rules.hpp"

namespace convkit::optim {

/// SGD's settings; defaults as in PyTorch (no momentum, dampening or weight decay; no Nesterov).
struct SGDOptions {
  /// Settings with learning rate `lr`.
  explicit SGDOptions(double lr) : lr_(lr) {}
  /// Sets the learning rate.
  SGDOptions& lr(double v) {
    lr_ = v;
    return *this;
  }
  /// Sets the momentum factor.
  SGDOptions& momentum(double v) {
    momentum_ = v;
    return *this;
  }
  /// Sets the dampening of the momentum.
  SGDOptions& dampening(double v) {
    dampening_ = v;
    return *this;
  }
  /// Sets the L2 penalty added to the gradient.
  SGDOptions& weight_decay(double v) {
    weight_decay_ = v;
    return *this;
  }
  /// Turns Nesterov momentum on or off.
  SGDOptions& nesterov(bool v) {
    nesterov_ = v;
    return *this;
  }
  /// The learning rate.
  double lr() const { return lr_; }
  /// The momentum factor.
  double momentum() const { return momentum_; }
  /// The dampening.
  double dampening() const { return dampening_; }
  /// The L2 penalty.
  double weight_decay() const { return weight_decay_; }
  /// True for Nesterov momentum.
  bool nesterov() const { return nesterov_; }

 private:
  double lr_, momentum_ = 0, dampening_ = 0, weight_decay_ = 0;
  bool nesterov_ = false;
};

/// Stochastic gradient descent with momentum, as PyTorch's torch.optim.SGD.
template <class T>
class SGD : public Optimizer<T> {
 public:
  /// Plain SGD with learning rate `lr` over `params` (leaves that require grad; else ck::Error).
  SGD(std::vector<Tensor<T>> params, double lr) : SGD(std::move(params), SGDOptions(lr)) {}
  /// SGD with the given settings over `params`.
  SGD(std::vector<Tensor<T>> params, const SGDOptions& options) : Optimizer<T>(std::move(params)), options_(options) {
    CK_CHECK(options.lr() >= 0, "SGD: learning rate must be non-negative, got ", options.lr());
    CK_CHECK(options.momentum() >= 0, "SGD: momentum must be non-negative, got ", options.momentum());
    CK_CHECK(!options.nesterov() || (options.momentum() > 0 && options.dampening() == 0),
             "SGD: Nesterov momentum needs momentum > 0 and zero dampening");
    buffers_.resize(this->params_.size());
  }
  void step() override {
    NoGradGuard no_grad;
    const bool first = steps_ == 0;
    const SgdRule<T> rule{static_cast<T>(options_.lr()),
                          static_cast<T>(options_.momentum()),
                          static_cast<T>(options_.dampening()),
                          static_cast<T>(options_.weight_decay()),
                          options_.nesterov(),
                          first};
    for (size_t i = 0; i < this->params_.size(); ++i) {
      Tensor<T>& p = this->params_[i];
      const Tensor<T> g = p.grad();
      if (!g.defined()) continue;
      T* buf = nullptr;
      if (options_.momentum() != 0) {
        if (!buffers_[i].defined()) buffers_[i] = Tensor<T>::zeros(p.shape(), p.device());
        buf = buffers_[i].data_ptr();
      }
      backend::sgd_step(p.device(), p.numel(), p.data_ptr(), g.data_ptr(), buf, rule);
    }
    ++steps_;
  }
  /// The settings; changing lr here takes effect at the next step().
  SGDOptions& options() { return options_; }

 private:
  SGDOptions options_;
  std::vector<Tensor<T>> buffers_;
  int64_t steps_ = 0;
};

}  // namespace convkit::optim
