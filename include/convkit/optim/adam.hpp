#pragma once
// Adam (Kingma & Ba, 2015) with optional L2 weight decay, as torch.optim.Adam.
#include <cmath>

#include "../backend/dispatch.hpp"
#include "optimizer.hpp"
#include "rules.hpp"

namespace convkit::optim {

/// Adam's settings; defaults as in PyTorch (lr 1e-3, betas 0.9 and 0.999, eps 1e-8, no weight decay).
struct AdamOptions {
  /// Settings with learning rate `lr`.
  explicit AdamOptions(double lr = 1e-3) : lr_(lr) {}
  /// Sets the learning rate.
  AdamOptions& lr(double v) {
    lr_ = v;
    return *this;
  }
  /// Sets the moment decay rates beta1 and beta2.
  AdamOptions& betas(double b1, double b2) {
    beta1_ = b1;
    beta2_ = b2;
    return *this;
  }
  /// Sets the term added to the denominator.
  AdamOptions& eps(double v) {
    eps_ = v;
    return *this;
  }
  /// Sets the L2 penalty added to the gradient.
  AdamOptions& weight_decay(double v) {
    weight_decay_ = v;
    return *this;
  }
  /// The learning rate.
  double lr() const { return lr_; }
  /// The first moment decay.
  double beta1() const { return beta1_; }
  /// The second moment decay.
  double beta2() const { return beta2_; }
  /// The denominator term.
  double eps() const { return eps_; }
  /// The L2 penalty.
  double weight_decay() const { return weight_decay_; }

 private:
  double lr_, beta1_ = 0.9, beta2_ = 0.999, eps_ = 1e-8, weight_decay_ = 0;
};

/// Adam (Kingma & Ba) with PyTorch's update rule; the moments live beside each parameter on its device.
template <class T>
class Adam : public Optimizer<T> {
 public:
  /// Adam over `params` (leaves that require grad; else ck::Error).
  Adam(std::vector<Tensor<T>> params, const AdamOptions& options = AdamOptions())
      : Optimizer<T>(std::move(params)), options_(options) {
    CK_CHECK(options.lr() >= 0, "Adam: learning rate must be non-negative, got ", options.lr());
    CK_CHECK(options.beta1() >= 0 && options.beta1() < 1 && options.beta2() >= 0 && options.beta2() < 1,
             "Adam: betas must be in [0, 1), got (", options.beta1(), ", ", options.beta2(), ")");
    m_.resize(this->params_.size());
    v_.resize(this->params_.size());
  }
  void step() override {
    NoGradGuard no_grad;
    ++steps_;
    const auto t = static_cast<double>(steps_);
    const AdamRule<T> rule{static_cast<T>(options_.lr()),
                           static_cast<T>(options_.beta1()),
                           static_cast<T>(options_.beta2()),
                           static_cast<T>(options_.eps()),
                           static_cast<T>(options_.weight_decay()),
                           static_cast<T>(1 - std::pow(options_.beta1(), t)),
                           static_cast<T>(1 - std::pow(options_.beta2(), t))};
    for (size_t i = 0; i < this->params_.size(); ++i) {
      Tensor<T>& p = this->params_[i];
      const Tensor<T> g = p.grad();
      if (!g.defined()) continue;
      if (!m_[i].defined()) {
        m_[i] = Tensor<T>::zeros(p.shape(), p.device());
        v_[i] = Tensor<T>::zeros(p.shape(), p.device());
      }
      backend::adam_step(p.device(), p.numel(), p.data_ptr(), g.data_ptr(), m_[i].data_ptr(), v_[i].data_ptr(), rule);
    }
  }
  /// The settings; changing lr here takes effect at the next step().
  AdamOptions& options() { return options_; }

 private:
  AdamOptions options_;
  std::vector<Tensor<T>> m_, v_;
  int64_t steps_ = 0;
};

}  // namespace convkit::optim
