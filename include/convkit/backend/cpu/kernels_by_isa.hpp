#pragma once
// The convolution, pooling, batch norm and loss kernels compiled once per instruction set
// and picked at run time, so that a program built for plain x86-64 runs the AVX-512
// kernels on an AVX-512 machine and the AVX2 ones on an AVX2 machine, with no -march and
// no macro to set.
//
// isa_copy.hpp lists the kernels; each_isa.hpp includes that list once for the build's own
// instruction set (CONVKIT_BUILD_ISA: what the compiler flags give, no target attribute)
// and, on x86 with GCC or Clang, once more for each instruction set above it, under a
// target pragma that gives every function in it that instruction set. Each copy has its
// own namespace named for its instruction set (isa_generic, isa_avx2, isa_avx512), so that
// two files built with different flags can never give one function two bodies. A
// -march=native build on an AVX-512 machine compiles one copy; a build with no -march three.
//
// The entry points below (conv2d_forward, max_pool2d_forward, batch_norm_forward, ...) run
// the copy for active_isa(), the instruction set the GEMM uses too: the best this CPU
// runs, or the one the environment variable CONVKIT_ISA names (generic, avx2, avx512), so
// that the tests run every copy the machine can (isa_dispatch.hpp).
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

#include "../../core/geometry.hpp"
#include "../kernels.hpp"
#include "conv/select.hpp"
#include "conv/view_layout.hpp"
#include "cpu_features.hpp"
#include "elementwise.hpp"
#include "gemm.hpp"
#include "gemm_kernels.hpp"
#include "isa_dispatch.hpp"
#include "kernel_list.hpp"
#include "memory.hpp"
#include "parallel.hpp"
#if CONVKIT_X86_DISPATCH
#include <immintrin.h>
#endif

#define CONVKIT_PER_ISA_HEADER "isa_copy.hpp"
#include "each_isa.hpp"
#undef CONVKIT_PER_ISA_HEADER

namespace convkit::backend::cpu {

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
