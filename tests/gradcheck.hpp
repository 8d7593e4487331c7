#pragma once
// Finite-difference gradient check in double precision.
#include <doctest/doctest.h>

#include <cmath>
#include <convkit/convkit.hpp>
#include <functional>
#include <string>
#include <vector>

using TD = ck::Tensor<double>;

/// Checks d/d inputs of sum(f(inputs) * R) (R a fixed random weight) against central
/// differences, for every element of every input.
inline void gradcheck(const std::string& what, const std::function<TD(const std::vector<TD>&)>& f,
                      std::vector<TD> inputs, double eps = 1e-6, double tol = 1e-6) {
  INFO(what);
  for (auto& t : inputs) t.requires_grad_();
  TD out = f(inputs);
  ck::Generator gen(7);
  const TD R = TD::uniform(out.shape(), -1.0, 1.0, gen);
  (out * R).sum().backward();
  for (size_t k = 0; k < inputs.size(); ++k) {
    const TD analytic = inputs[k].grad();
    REQUIRE(analytic.defined());
    REQUIRE(analytic.shape() == inputs[k].shape());
    double worst = 0;
    for (int64_t i = 0; i < inputs[k].numel(); ++i) {
      ck::NoGradGuard no_grad;
      double* p = inputs[k].data() + i;
      const double saved = *p;
      *p = saved + eps;
      const double up = (f(inputs) * R).sum().item();
      *p = saved - eps;
      const double down = (f(inputs) * R).sum().item();
      *p = saved;
      const double numeric = (up - down) / (2 * eps);
      const double err = std::fabs(numeric - analytic.data()[i]) / (1.0 + std::fabs(numeric));
      worst = std::max(worst, err);
    }
    INFO("input " << k << " worst relative error " << worst);
    CHECK(worst < tol);
  }
}

/// Values with distinct, well-separated magnitudes (keeps max pooling away from ties and
/// relu away from its kink).
inline TD distinct_values(const ck::Shape& s, uint64_t seed) {
  ck::Generator gen(seed);
  std::vector<double> v(static_cast<size_t>(s.numel()));
  const double n = static_cast<double>(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = 2.0 * (static_cast<double>(i) + 0.5) / n - 1.0;  // in (-1, 1), spaced 2/n
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[gen.below(i)]);
  return TD::from_vector(v, s);
}
