#pragma once
// Optimizer steps on the CPU: apply the rule of optim/rules.hpp to every element.
#include <cstdint>

namespace convkit::backend::cpu {

template <class T, class Rule>
void sgd_step(int64_t n, T* p, const T* g, T* buf, const Rule& rule) {
  T unused = T(0);
  for (int64_t i = 0; i < n; ++i) rule(p[i], g[i], buf ? buf[i] : unused);
}

template <class T, class Rule>
void adam_step(int64_t n, T* p, const T* g, T* m, T* v, const Rule& rule) {
  for (int64_t i = 0; i < n; ++i) rule(p[i], g[i], m[i], v[i]);
}

}  // namespace convkit::backend::cpu
