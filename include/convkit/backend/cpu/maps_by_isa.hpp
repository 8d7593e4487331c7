#pragma once
// The elementwise maps (maps.hpp) compiled once per instruction set and picked at run time,
// as the kernels are (kernels_by_isa.hpp). They are templates on each op's functor, so
// every file that uses one compiles it: this header is always read, and its copies are
// small.
#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "../../core/geometry.hpp"
#include "elementwise.hpp"
#include "isa_dispatch.hpp"
#include "parallel.hpp"

#define CONVKIT_PER_ISA_HEADER "maps.hpp"
#include "each_isa.hpp"
#undef CONVKIT_PER_ISA_HEADER

namespace convkit::backend::cpu {

/// y[i] = f(x[i]) for i in [0, n), in parallel.
template <class T, class F>
void unary_map(int64_t n, const T* x, T* y, F f) {
  with_kernel_copy([&](auto copy) { unary_map_in(copy, n, x, y, f); });
}

/// y[i] = f(a[i], b[i]) for equal-sized a and b (used by gradients of activations).
template <class T, class F>
void zip_map(int64_t n, const T* a, const T* b, T* y, F f) {
  with_kernel_copy([&](auto copy) { zip_map_in(copy, n, a, b, y, f); });
}

/// y = f(a, b) with a and b broadcast by the plan p.
template <class T, class F>
void binary_map(const BroadcastPlan& p, const T* a, const T* b, T* y, F f) {
  with_kernel_copy([&](auto copy) { binary_map_in(copy, p, a, b, y, f); });
}

}  // namespace convkit::backend::cpu
