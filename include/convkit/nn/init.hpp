#pragma once
// Parameter initialisers (as torch.nn.init), in place and reproducible from a Generator.
// The module-level helpers initialise every weight (dim >= 2) and zero every bias; batch
// norm layers keep their identity scale.
#include <cmath>
#include <string>

#include "layers.hpp"
#include "module.hpp"

namespace convkit::nn::init {

/// fan_in and fan_out of a weight: (out, in) or (out, in, kh, kw).
template <class T>
std::pair<int64_t, int64_t> fans(const Tensor<T>& w) {
  CK_CHECK(w.dim() >= 2, "nn::init: fan in/out need a weight of rank >= 2, got shape ", w.shape().str());
  int64_t receptive = 1;
  for (int64_t d = 2; d < w.dim(); ++d) receptive *= w.size(static_cast<int>(d));
  return {w.size(1) * receptive, w.size(0) * receptive};
}

namespace detail {
template <class T>
void overwrite(Tensor<T>& t, const Tensor<T>& values) {
  NoGradGuard no_grad;
  t.copy_(values);
}
}  // namespace detail

template <class T>
void uniform_(Tensor<T>& t, T lo, T hi, Generator& gen) {
  detail::overwrite(t, Tensor<T>::uniform(t.shape(), lo, hi, gen));
}
template <class T>
void normal_(Tensor<T>& t, T mean, T stddev, Generator& gen) {
  detail::overwrite(t, Tensor<T>::normal(t.shape(), mean, stddev, gen));
}
template <class T>
void constant_(Tensor<T>& t, T value) {
  NoGradGuard g;
  t.fill_(value);
}
template <class T>
void zeros_(Tensor<T>& t) {
  constant_(t, T(0));
}

/// Glorot & Bengio: U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)).
template <class T>
void xavier_uniform_(Tensor<T>& t, Generator& gen, double gain = 1.0) {
  auto [in, out] = fans(t);
  const T a = static_cast<T>(gain * std::sqrt(6.0 / static_cast<double>(in + out)));
  uniform_(t, -a, a, gen);
}
/// Glorot & Bengio: N(0, s^2), s = gain * sqrt(2 / (fan_in + fan_out)).
template <class T>
void xavier_normal_(Tensor<T>& t, Generator& gen, double gain = 1.0) {
  auto [in, out] = fans(t);
  normal_(t, T(0), static_cast<T>(gain * std::sqrt(2.0 / static_cast<double>(in + out))), gen);
}
/// He et al. for ReLU: U(-b, b), b = sqrt(6 / fan_in).
template <class T>
void kaiming_uniform_(Tensor<T>& t, Generator& gen) {
  const T b = static_cast<T>(std::sqrt(6.0 / static_cast<double>(fans(t).first)));
  uniform_(t, -b, b, gen);
}
/// He et al. for ReLU: N(0, 2 / fan_in).
template <class T>
void kaiming_normal_(Tensor<T>& t, Generator& gen) {
  normal_(t, T(0), static_cast<T>(std::sqrt(2.0 / static_cast<double>(fans(t).first))), gen);
}

enum class Scheme { XavierUniform, XavierNormal, KaimingUniform, KaimingNormal };

/// One parameter of initialize(): a weight (rank >= 2) by `scheme`, a bias (rank 1) zeroed.
template <class T>
void initialize_parameter(Tensor<T>& p, Scheme scheme, Generator& gen) {
  if (p.dim() < 2) {
    zeros_(p);
    return;
  }
  switch (scheme) {
    case Scheme::XavierUniform:
      xavier_uniform_(p, gen);
      break;
    case Scheme::XavierNormal:
      xavier_normal_(p, gen);
      break;
    case Scheme::KaimingUniform:
      kaiming_uniform_(p, gen);
      break;
    case Scheme::KaimingNormal:
      kaiming_normal_(p, gen);
      break;
  }
}

/// Initialises every weight (rank >= 2) of `module` and its children with `scheme` and
/// zeroes every bias (rank 1), as d2l's net.initialize(init=init.Xavier()) does. Batch
/// norm layers keep their weight 1 and bias 0 (a zero scale would silence the layer), as
/// d2l's init_cnn leaves them.
template <class T>
void initialize(Module<T>& module, Scheme scheme, Generator& gen) {
  module.apply([&](Module<T>& m) {
    if (dynamic_cast<BatchNorm<T>*>(&m) != nullptr) return;
    for (auto [name, p] : m.local_parameters()) initialize_parameter(p, scheme, gen);
  });
}

}  // namespace convkit::nn::init
