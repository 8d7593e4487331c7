#pragma once
// The convolution, pooling, batch norm and loss kernels compiled once per instruction set
// and picked at run time, so that a program built for plain x86-64 runs the AVX-512 kernels on an AVX-512
// machine and the AVX2 ones on an AVX2 machine, with no -march and no macro to set.
//
// isa_copy.hpp lists the kernels. It is included once for the build's own instruction set
// (CONVKIT_BUILD_ISA: what the compiler flags give, no target attribute) and, on x86 with
// GCC or Clang, once more for each instruction set above it, under a target pragma that
// gives every function in it that instruction set. Each copy has its own namespace named
// for its instruction set (isa_generic, isa_avx2, isa_avx512), so that two files built
// with different flags can never give one function two bodies. A -march=native build on
// an AVX-512 machine compiles one copy; a build with no -march compiles three.
//
// The entry points below (conv2d_forward, max_pool2d_forward, batch_norm_forward, ...) run the copy for
// active_isa(), the instruction set the GEMM uses too: the best this CPU runs, or the one
// the environment variable CONVKIT_ISA names (generic, avx2, avx512), so that the tests
// run every copy the machine can.
//
// Everything the copies use from outside is included here first: a header first included
// under a target pragma would compile its functions for that instruction set only.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../../ops/geometry.hpp"
#include "../kernels.hpp"
#include "conv/select.hpp"
#include "conv/view_layout.hpp"
#include "cpu_features.hpp"
#include "elementwise.hpp"
#include "gemm.hpp"
#include "gemm_kernels.hpp"
#include "kernel_list.hpp"
#include "memory.hpp"
#include "parallel.hpp"
#if CONVKIT_X86_DISPATCH
#include <immintrin.h>
#endif

// The copy for the build's own instruction set.
#if CONVKIT_BUILD_ISA == 2
#define CONVKIT_ISA_COPY isa_avx512
#elif CONVKIT_BUILD_ISA == 1
#define CONVKIT_ISA_COPY isa_avx2
#else
#define CONVKIT_ISA_COPY isa_generic
#endif
#define CONVKIT_KERNEL_ISA CONVKIT_BUILD_ISA
#include "isa_copy.hpp"
namespace convkit::backend::cpu {
/// The copy for the build's own instruction set (the one every build has).
namespace build_copy = CONVKIT_ISA_COPY;
}  // namespace convkit::backend::cpu
#undef CONVKIT_ISA_COPY
#undef CONVKIT_KERNEL_ISA

// A target pragma around a copy: every function defined between the two gets the target.
#if defined(__clang__)
#define CONVKIT_TARGET_BEGIN(isa) \
  _Pragma(CONVKIT_STRINGIFY(clang attribute push(__attribute__((target(isa))), apply_to = function)))
#define CONVKIT_TARGET_END _Pragma("clang attribute pop")
#else
#define CONVKIT_TARGET_BEGIN(isa) _Pragma("GCC push_options") _Pragma(CONVKIT_STRINGIFY(GCC target(isa)))
#define CONVKIT_TARGET_END _Pragma("GCC pop_options")
#endif
#define CONVKIT_STRINGIFY(x) #x

// GCC warns, in a copy above the build's instruction set, that passing its vectors by value
// "changes the ABI" (every function in the copy has the same target, so no call crosses
// it), and falsely of uninitialized values inside its AVX-512 intrinsics.
#if defined(__GNUC__) && !defined(__clang__)
#define CONVKIT_COPY_DIAGNOSTICS_BEGIN                                         \
  _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wpsabi\"") \
      _Pragma("GCC diagnostic ignored \"-Wuninitialized\"")                    \
          _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"")
#define CONVKIT_COPY_DIAGNOSTICS_END _Pragma("GCC diagnostic pop")
#else
#define CONVKIT_COPY_DIAGNOSTICS_BEGIN
#define CONVKIT_COPY_DIAGNOSTICS_END
#endif

#if CONVKIT_ISA_COPIES && CONVKIT_BUILD_ISA < 1
#define CONVKIT_ISA_COPY isa_avx2
#define CONVKIT_KERNEL_ISA 1
CONVKIT_COPY_DIAGNOSTICS_BEGIN
CONVKIT_TARGET_BEGIN("avx2,fma")
#include "isa_copy.hpp"
CONVKIT_TARGET_END
CONVKIT_COPY_DIAGNOSTICS_END
#undef CONVKIT_ISA_COPY
#undef CONVKIT_KERNEL_ISA
#endif

#if CONVKIT_ISA_COPIES && CONVKIT_BUILD_ISA < 2
#define CONVKIT_ISA_COPY isa_avx512
#define CONVKIT_KERNEL_ISA 2
CONVKIT_COPY_DIAGNOSTICS_BEGIN
CONVKIT_TARGET_BEGIN("avx512f,avx2,fma")
#include "isa_copy.hpp"
CONVKIT_TARGET_END
CONVKIT_COPY_DIAGNOSTICS_END
#undef CONVKIT_ISA_COPY
#undef CONVKIT_KERNEL_ISA
#endif

namespace convkit::backend::cpu {

/// The instruction set whose kernel copy runs now: active_isa() where that copy is
/// compiled, else the build's own.
inline Isa kernel_isa() {
  const Isa isa = active_isa();
  return kernel_copy_compiled(isa) ? isa : static_cast<Isa>(CONVKIT_BUILD_ISA);
}

/// Calls f with the tag (Copy) of kernel_isa()'s copy.
template <class F>
void with_kernel_copy(F&& f) {
  switch (kernel_isa()) {
#if CONVKIT_BUILD_ISA <= 2 && (CONVKIT_ISA_COPIES || CONVKIT_BUILD_ISA == 2)
    case Isa::avx512:
      return f(isa_avx512::Copy{});
#endif
#if CONVKIT_BUILD_ISA <= 1 && (CONVKIT_ISA_COPIES || CONVKIT_BUILD_ISA == 1)
    case Isa::avx2:
      return f(isa_avx2::Copy{});
#endif
#if CONVKIT_BUILD_ISA == 0
    case Isa::generic:
      return f(isa_generic::Copy{});
#endif
    default:  // not reached: kernel_isa() names a compiled copy
      return f(build_copy::Copy{});
  }
}

// The entry points declared in kernel_list.hpp (where conv2d_backward's default argument is).

template <class T>
void conv2d_forward(const Conv2dGeometry& g, const T* x, const T* w, const T* b, T* y) {
  with_kernel_copy([&](auto copy) { conv2d_forward_in(copy, g, x, w, b, y); });
}

template <class T>
void conv2d_backward(const Conv2dGeometry& g, const T* x, const T* w, const T* gy, T* gx, T* gw, T* gb,
                     bool accumulate_gx) {
  with_kernel_copy([&](auto copy) { conv2d_backward_in(copy, g, x, w, gy, gx, gw, gb, accumulate_gx); });
}

template <class T>
void max_pool2d_forward(const Pool2dGeometry& g, const T* x, T* y, PoolIndex* argmax) {
  with_kernel_copy([&](auto copy) { max_pool2d_forward_in(copy, g, x, y, argmax); });
}

template <class T>
void max_pool2d_backward(const Pool2dGeometry& g, const PoolIndex* argmax, const T* gy, T* gx, bool accumulate) {
  with_kernel_copy([&](auto copy) { max_pool2d_backward_in(copy, g, argmax, gy, gx, accumulate); });
}

template <class T>
void avg_pool2d_forward(const Pool2dGeometry& g, const T* x, T* y) {
  with_kernel_copy([&](auto copy) { avg_pool2d_forward_in(copy, g, x, y); });
}

template <class T>
void avg_pool2d_backward(const Pool2dGeometry& g, const T* gy, T* gx, bool accumulate) {
  with_kernel_copy([&](auto copy) { avg_pool2d_backward_in(copy, g, gy, gx, accumulate); });
}

template <class T>
void adaptive_avg_pool2d_forward(const AdaptivePool2dGeometry& g, const T* x, T* y) {
  with_kernel_copy([&](auto copy) { adaptive_avg_pool2d_forward_in(copy, g, x, y); });
}

template <class T>
void adaptive_avg_pool2d_backward(const AdaptivePool2dGeometry& g, const T* gy, T* gx, bool accumulate) {
  with_kernel_copy([&](auto copy) { adaptive_avg_pool2d_backward_in(copy, g, gy, gx, accumulate); });
}

template <class T>
void batch_norm_forward(const BatchNormGeometry& g, const T* x, const T* weight, const T* bias, T* running_mean,
                        T* running_var, bool training, double momentum, double eps, T* saved, T* y) {
  with_kernel_copy([&](auto copy) {
    batch_norm_forward_in(copy, g, x, weight, bias, running_mean, running_var, training, momentum, eps, saved, y);
  });
}

template <class T>
void batch_norm_backward(const BatchNormGeometry& g, const T* x, const T* weight, const T* saved, const T* gy,
                         bool training, T* gx, T* gw, T* gb) {
  with_kernel_copy([&](auto copy) { batch_norm_backward_in(copy, g, x, weight, saved, gy, training, gx, gw, gb); });
}

template <class T>
T cross_entropy_forward(int64_t N, int64_t K, const T* logits, const int64_t* labels) {
  T loss{};
  with_kernel_copy([&](auto copy) { loss = cross_entropy_forward_in(copy, N, K, logits, labels); });
  return loss;
}

template <class T>
void cross_entropy_backward(int64_t N, int64_t K, const T* logits, const int64_t* labels, T scale, T* glogits) {
  with_kernel_copy([&](auto copy) { cross_entropy_backward_in(copy, N, K, logits, labels, scale, glogits); });
}

}  // namespace convkit::backend::cpu
