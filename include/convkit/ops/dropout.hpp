#pragma once
// Dropout (d2l 5.6): a mask drawn on the CPU, multiplied in by the elementwise product, so
// every backend runs it and its gradient is the mask itself.
#include <vector>

#include "../core/generator.hpp"
#include "common.hpp"
#include "elementwise.hpp"

namespace convkit {

/// In training, zeroes each element of x with probability p and scales the others by
/// 1 / (1 - p), so that each keeps its expectation (p = 1 zeroes everything); otherwise,
/// or with p = 0, returns x itself. The mask comes from `gen`, on x's device.
template <class T>
Tensor<T> dropout(const Tensor<T>& x, double p, Generator& gen, bool training = true) {
  detail::require_defined("dropout", "input", x);
  CK_CHECK(p >= 0.0 && p <= 1.0, "dropout: p must be in [0, 1], got ", p);
  if (!training || p == 0.0) return x;
  const T keep = p < 1.0 ? static_cast<T>(1.0 / (1.0 - p)) : T(0);
  std::vector<T> mask(static_cast<size_t>(x.numel()));
  for (auto& m : mask) m = gen.next_double() >= p ? keep : T(0);
  return x * Tensor<T>::from_vector(mask, x.shape()).to(x.device());
}

}  // namespace convkit
