#pragma once
// Adam (Kingma & Ba, 2015) with optional L2 weight decay, as torch.optim.Adam.
#include <cmath>

#include "../backend/dispatch.hpp"
#include "optimizer.hpp"
#include "rules.hpp"

namespace convkit::optim {

struct AdamOptions {
  explicit AdamOptions(double lr = 1e-3) : lr_(lr) {}
  AdamOptions& lr(double v) {
    lr_ = v;
    return *this;
  }
  AdamOptions& betas(double b1, double b2) {
    beta1_ = b1;
    beta2_ = b2;
    return *this;
  }
  AdamOptions& eps(double v) {
    eps_ = v;
    return *this;
  }
  AdamOptions& weight_decay(double v) {
    weight_decay_ = v;
    return *this;
  }
  double lr() const { return lr_; }
  double beta1() const { return beta1_; }
  double beta2() const { return beta2_; }
  double eps() const { return eps_; }
  double weight_decay() const { return weight_decay_; }

 private:
  double lr_, beta1_ = 0.9, beta2_ = 0.999, eps_ = 1e-8, weight_decay_ = 0;
};

template <class T>
class Adam : public Optimizer<T> {
 public:
  Adam(std::vector<Tensor<T>> params, AdamOptions options = AdamOptions())
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
  AdamOptions& options() { return options_; }

 private:
  AdamOptions options_;
  std::vector<Tensor<T>> m_, v_;
  int64_t steps_ = 0;
};

}  // namespace convkit::optim
