#pragma once
// The CPU kernels' entry points, for float and double, listed once: the ones that cost
// the compiler the most (every convolution method behind conv2d_forward/backward, the
// packed GEMM, pooling, batch norm, the loss).
//
// Defined CONVKIT_SEPARATE_KERNELS (CMake's convkit::convkit does it), every translation
// unit sees them as explicit instantiation declarations (`extern template`): declared,
// not compiled. One file, kernels.cpp, compiles them, once per program; CMake's
// convkit::convkit target builds it into the static library convkit_kernels and links it.
// Without the macro (pkg-config, a plain include) every file compiles what it uses, as
// any header-only library does.
#include "../../ops/geometry.hpp"

/// Applies PREFIX (`extern template` or `template`) to each entry point for type T.
// NOLINTBEGIN(bugprone-macro-parentheses): PREFIX and T are keywords and a type, not values
#define CONVKIT_CPU_KERNELS(PREFIX, T)                                                                               \
  PREFIX void conv2d_forward<T>(const Conv2dGeometry&, const T*, const T*, const T*, T*);                            \
  PREFIX void conv2d_backward<T>(const Conv2dGeometry&, const T*, const T*, const T*, T*, T*, T*, bool);             \
  PREFIX void gemm<T>(bool, bool, int64_t, int64_t, int64_t, T, const T*, const T*, T, T*);                          \
  PREFIX void max_pool2d_forward<T>(const Pool2dGeometry&, const T*, T*, PoolIndex*);                                \
  PREFIX void max_pool2d_backward<T>(const Pool2dGeometry&, const PoolIndex*, const T*, T*, bool);                   \
  PREFIX void avg_pool2d_forward<T>(const Pool2dGeometry&, const T*, T*);                                            \
  PREFIX void avg_pool2d_backward<T>(const Pool2dGeometry&, const T*, T*, bool);                                     \
  PREFIX void adaptive_avg_pool2d_forward<T>(const AdaptivePool2dGeometry&, const T*, T*);                           \
  PREFIX void adaptive_avg_pool2d_backward<T>(const AdaptivePool2dGeometry&, const T*, T*, bool);                    \
  PREFIX void batch_norm_forward<T>(const BatchNormGeometry&, const T*, const T*, const T*, T*, T*, bool, double,    \
                                    double, T*, T*);                                                                 \
  PREFIX void batch_norm_backward<T>(const BatchNormGeometry&, const T*, const T*, const T*, const T*, bool, T*, T*, \
                                     T*);                                                                            \
  PREFIX T cross_entropy_forward<T>(int64_t, int64_t, const T*, const int64_t*);                                     \
  PREFIX void cross_entropy_backward<T>(int64_t, int64_t, const T*, const int64_t*, T, T*);                          \
  PREFIX void corr2d_forward<T>(int64_t, int64_t, int64_t, int64_t, const T*, const T*, T*);                         \
  PREFIX void corr2d_backward<T>(int64_t, int64_t, int64_t, int64_t, const T*, const T*, const T*, T*, T*);
// NOLINTEND(bugprone-macro-parentheses)

// CONVKIT_ALL_GEMM_KERNELS (test_gemm) compiles the GEMM with every micro-kernel, which
// the shared copy does not have: such a file compiles all it uses itself.
#if defined(CONVKIT_SEPARATE_KERNELS) && !defined(CONVKIT_ALL_GEMM_KERNELS)
namespace convkit::backend::cpu {
CONVKIT_CPU_KERNELS(extern template, float)
CONVKIT_CPU_KERNELS(extern template, double)
}  // namespace convkit::backend::cpu
#endif
