#pragma once
// The one dispatch point between op definitions (ops/*.hpp) and backends.
//
// Every op front door validates its inputs, computes its geometry and then calls one
// function here. Each function picks the implementation for the tensors' device:
// backend::cpu::* always, backend::cuda::* only in a build with CONVKIT_WITH_CUDA
// (defined for every translation unit that links convkit::convkit when CMake's CONVKIT_CUDA
// option is on; the CUDA functions themselves are compiled once by nvcc into convkit_cuda).
// A CPU-only build never includes a CUDA header; asking it for CUDA throws ck::Error.
#include <cstdint>
#include <cstdio>

#include "../core/device.hpp"
#include "../core/error.hpp"
#include "../core/geometry.hpp"
#include "cpu/elementwise.hpp"
#include "cpu/gemm.hpp"
#include "cpu/maps_by_isa.hpp"
#include "cpu/memory.hpp"
#include "cpu/optim.hpp"
#include "cpu/reference.hpp"

// after every kernel header: declares the kernels' entry points (extern where CMake
// compiles them once, backend/cpu/kernels.cpp), then defines the run-time-selected ones
// unless they are compiled elsewhere
#include "cpu/kernel_list.hpp"
#if !defined(CONVKIT_SEPARATE_KERNELS) || defined(CONVKIT_KERNEL_DEFINITIONS)
#include "cpu/kernels_by_isa.hpp"
#endif

#if defined(CONVKIT_WITH_CUDA)
#include "cuda/api.hpp"
#define CK_CUDA_OR_THROW(op, call) return call
#else
#define CK_CUDA_OR_THROW(op, call)                                                                       \
  throw ::convkit::Error(                                                                                \
      ::convkit::detail::cat(op,                                                                         \
                             ": tensor is on a CUDA device, but convkit was built without CUDA support " \
                             "(configure with -DCONVKIT_CUDA=ON and compile with nvcc)"))
#endif

namespace convkit::backend {

/// True when this build can place tensors on CUDA devices.
constexpr bool cuda_compiled() {
#if defined(CONVKIT_WITH_CUDA)
  return true;
#else
  return false;
#endif
}

}  // namespace convkit::backend

namespace convkit {
/// True when CUDA tensors can be used: a CUDA build, a device present, and the
/// environment variable CONVKIT_DISABLE_CUDA unset.
inline bool cuda_available() {
#if defined(CONVKIT_WITH_CUDA)
  return backend::cuda::device_available();
#else
  return false;
#endif
}

/// `requested` if it can be used, else the CPU, saying so once on stderr: a CUDA build on a
/// machine without a GPU (or with CONVKIT_DISABLE_CUDA set) runs everything on the CPU.
inline Device usable_device(Device requested) {
  if (requested.is_cpu() || cuda_available()) return requested;
  static bool said = false;
  if (!said) {
    std::fprintf(stderr, "convkit: %s requested but %s; running on the CPU\n", requested.str().c_str(),
                 backend::cuda_compiled() ? "no usable CUDA device was found (or CONVKIT_DISABLE_CUDA is set)"
                                          : "this build has no CUDA support (configure with -DCONVKIT_CUDA=ON)");
    said = true;
  }
  return Device::cpu();
}
}  // namespace convkit

namespace convkit::backend {

// ---- memory (a device is allocate / deallocate / copy / zero, as in Eigen's Tensor devices)
inline void* allocate(Device d, size_t bytes) {
  if (d.is_cpu()) return cpu::allocate(bytes);
  CK_CUDA_OR_THROW("allocate", cuda::allocate(d, bytes));
}
inline void deallocate(Device d, void* p) noexcept {
  if (d.is_cpu()) return cpu::deallocate(p);
#if defined(CONVKIT_WITH_CUDA)
  cuda::deallocate(d, p);
#endif
}
/// Copies between any two devices (host<->device included).
inline void copy(Device dst_dev, void* dst, Device src_dev, const void* src, size_t bytes) {
  if (dst_dev.is_cpu() && src_dev.is_cpu()) return cpu::copy(dst, src, bytes);
  CK_CUDA_OR_THROW("copy", cuda::copy(dst_dev, dst, src_dev, src, bytes));
}

/// Copies `rows` blocks of `row_bytes` bytes between two tensors on device d, whose
/// blocks start src_pitch and dst_pitch bytes apart.
inline void copy_blocks(Device d, int64_t rows, size_t row_bytes, void* dst, size_t dst_pitch, const void* src,
                        size_t src_pitch) {
  if (d.is_cpu()) return cpu::copy_blocks(rows, row_bytes, dst, dst_pitch, src, src_pitch);
  CK_CUDA_OR_THROW("copy", cuda::copy_blocks(rows, row_bytes, dst, dst_pitch, src, src_pitch));
}

// ---- elementwise and reductions
template <class T, class F>
void unary_map(Device d, int64_t n, const T* x, T* y, F f) {
  if (d.is_cpu()) return cpu::unary_map(n, x, y, f);
  CK_CUDA_OR_THROW("unary_map", cuda::unary_map(n, x, y, f));
}
template <class T, class F>
void zip_map(Device d, int64_t n, const T* a, const T* b, T* y, F f) {
  if (d.is_cpu()) return cpu::zip_map(n, a, b, y, f);
  CK_CUDA_OR_THROW("zip_map", cuda::zip_map(n, a, b, y, f));
}
template <class T, class F>
void binary_map(Device d, const BroadcastPlan& p, const T* a, const T* b, T* y, F f) {
  if (d.is_cpu()) return cpu::binary_map(p, a, b, y, f);
  CK_CUDA_OR_THROW("binary_map", cuda::binary_map(p, a, b, y, f));
}
template <class T>
void sum_to_a(Device d, const BroadcastPlan& p, const T* g, T* out) {
  if (d.is_cpu()) return cpu::sum_to_a(p, g, out);
  CK_CUDA_OR_THROW("sum_to", cuda::sum_to_a(p, g, out));
}
template <class T>
T sum(Device d, int64_t n, const T* x) {
  if (d.is_cpu()) return cpu::sum(n, x);
  CK_CUDA_OR_THROW("sum", cuda::sum(n, x));
}
template <class T>
void fill(Device d, int64_t n, T* x, T value) {
  if (d.is_cpu()) return cpu::fill(n, x, value);
  CK_CUDA_OR_THROW("fill", cuda::fill(n, x, value));
}
template <class T>
void axpy(Device d, int64_t n, T alpha, const T* x, T* y) {
  if (d.is_cpu()) return cpu::axpy(n, alpha, x, y);
  CK_CUDA_OR_THROW("axpy", cuda::axpy(n, alpha, x, y));
}
template <class T>
void add_bias(Device d, int64_t rows, int64_t channels, int64_t inner, const T* b, T* y) {
  if (d.is_cpu()) return cpu::add_bias(rows, channels, inner, b, y);
  CK_CUDA_OR_THROW("add_bias", cuda::add_bias(rows, channels, inner, b, y));
}
template <class T>
void bias_grad(Device d, int64_t rows, int64_t channels, int64_t inner, const T* gy, T* gb) {
  if (d.is_cpu()) return cpu::bias_grad(rows, channels, inner, gy, gb);
  CK_CUDA_OR_THROW("bias_grad", cuda::bias_grad(rows, channels, inner, gy, gb));
}

// ---- linear algebra
template <class T>
void gemm(Device d, bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, const T* B, T beta, T* C) {
  if (d.is_cpu()) return cpu::gemm(ta, tb, M, N, K, alpha, A, B, beta, C);
  CK_CUDA_OR_THROW("gemm", cuda::gemm(ta, tb, M, N, K, alpha, A, B, beta, C));
}

// ---- convolution
template <class T>
void corr2d_forward(Device d, int64_t h, int64_t w, int64_t kh, int64_t kw, const T* X, const T* K, T* Y) {
  if (d.is_cpu()) return cpu::corr2d_forward(h, w, kh, kw, X, K, Y);
  CK_CUDA_OR_THROW("corr2d", cuda::corr2d_forward(h, w, kh, kw, X, K, Y));
}
template <class T>
void corr2d_backward(Device d, int64_t h, int64_t w, int64_t kh, int64_t kw, const T* X, const T* K, const T* gY, T* gX,
                     T* gK) {
  if (d.is_cpu()) return cpu::corr2d_backward(h, w, kh, kw, X, K, gY, gX, gK);
  CK_CUDA_OR_THROW("corr2d", cuda::corr2d_backward(h, w, kh, kw, X, K, gY, gX, gK));
}
template <class T>
void conv2d_forward(Device d, const Conv2dGeometry& g, const T* x, const T* w, const T* b, T* y) {
  if (d.is_cpu()) return cpu::conv2d_forward(g, x, w, b, y);
  CK_CUDA_OR_THROW("conv2d", cuda::conv2d_forward(g, x, w, b, y));
}
/// gx gets the input gradient, or has it added when `accumulate_gx` is set; gw and gb are
/// overwritten. Any of the three may be null.
template <class T>
void conv2d_backward(Device d, const Conv2dGeometry& g, const T* x, const T* w, const T* gy, T* gx, T* gw, T* gb,
                     bool accumulate_gx) {
  if (d.is_cpu()) return cpu::conv2d_backward(g, x, w, gy, gx, gw, gb, accumulate_gx);
  CK_CUDA_OR_THROW("conv2d", cuda::conv2d_backward(g, x, w, gy, gx, gw, gb, accumulate_gx));
}

// ---- pooling
template <class T>
void max_pool2d_forward(Device d, const Pool2dGeometry& g, const T* x, T* y, PoolIndex* argmax) {
  if (d.is_cpu()) return cpu::max_pool2d_forward(g, x, y, argmax);
  CK_CUDA_OR_THROW("max_pool2d", cuda::max_pool2d_forward(g, x, y, argmax));
}
/// gx gets the input gradient, or has it added when `accumulate` is set.
template <class T>
void max_pool2d_backward(Device d, const Pool2dGeometry& g, const PoolIndex* argmax, const T* gy, T* gx,
                         bool accumulate) {
  if (d.is_cpu()) return cpu::max_pool2d_backward(g, argmax, gy, gx, accumulate);
  CK_CUDA_OR_THROW("max_pool2d", cuda::max_pool2d_backward(g, argmax, gy, gx, accumulate));
}
template <class T>
void avg_pool2d_forward(Device d, const Pool2dGeometry& g, const T* x, T* y) {
  if (d.is_cpu()) return cpu::avg_pool2d_forward(g, x, y);
  CK_CUDA_OR_THROW("avg_pool2d", cuda::avg_pool2d_forward(g, x, y));
}
template <class T>
void avg_pool2d_backward(Device d, const Pool2dGeometry& g, const T* gy, T* gx, bool accumulate) {
  if (d.is_cpu()) return cpu::avg_pool2d_backward(g, gy, gx, accumulate);
  CK_CUDA_OR_THROW("avg_pool2d", cuda::avg_pool2d_backward(g, gy, gx, accumulate));
}
template <class T>
void adaptive_avg_pool2d_forward(Device d, const AdaptivePool2dGeometry& g, const T* x, T* y) {
  if (d.is_cpu()) return cpu::adaptive_avg_pool2d_forward(g, x, y);
  CK_CUDA_OR_THROW("adaptive_avg_pool2d", cuda::adaptive_avg_pool2d_forward(g, x, y));
}
template <class T>
void adaptive_avg_pool2d_backward(Device d, const AdaptivePool2dGeometry& g, const T* gy, T* gx, bool accumulate) {
  if (d.is_cpu()) return cpu::adaptive_avg_pool2d_backward(g, gy, gx, accumulate);
  CK_CUDA_OR_THROW("adaptive_avg_pool2d", cuda::adaptive_avg_pool2d_backward(g, gy, gx, accumulate));
}

// ---- batch normalisation
template <class T>
void batch_norm_forward(Device d, const BatchNormGeometry& g, const T* x, const T* weight, const T* bias,
                        T* running_mean, T* running_var, bool training, double momentum, double eps, T* saved, T* y) {
  if (d.is_cpu())
    return cpu::batch_norm_forward(g, x, weight, bias, running_mean, running_var, training, momentum, eps, saved, y);
  CK_CUDA_OR_THROW("batch_norm", cuda::batch_norm_forward(g, x, weight, bias, running_mean, running_var, training,
                                                          momentum, eps, saved, y));
}
template <class T>
void batch_norm_backward(Device d, const BatchNormGeometry& g, const T* x, const T* weight, const T* saved, const T* gy,
                         bool training, T* gx, T* gw, T* gb) {
  if (d.is_cpu()) return cpu::batch_norm_backward(g, x, weight, saved, gy, training, gx, gw, gb);
  CK_CUDA_OR_THROW("batch_norm", cuda::batch_norm_backward(g, x, weight, saved, gy, training, gx, gw, gb));
}

// ---- loss
template <class T>
T cross_entropy_forward(Device d, int64_t N, int64_t K, const T* logits, const int64_t* labels) {
  if (d.is_cpu()) return cpu::cross_entropy_forward(N, K, logits, labels);
  CK_CUDA_OR_THROW("cross_entropy", cuda::cross_entropy_forward(N, K, logits, labels));
}
template <class T>
void cross_entropy_backward(Device d, int64_t N, int64_t K, const T* logits, const int64_t* labels, T scale,
                            T* glogits) {
  if (d.is_cpu()) return cpu::cross_entropy_backward(N, K, logits, labels, scale, glogits);
  CK_CUDA_OR_THROW("cross_entropy", cuda::cross_entropy_backward(N, K, logits, labels, scale, glogits));
}

// ---- optimizers
template <class T, class Rule>
void sgd_step(Device d, int64_t n, T* p, const T* g, T* buf, const Rule& rule) {
  if (d.is_cpu()) return cpu::sgd_step(n, p, g, buf, rule);
  CK_CUDA_OR_THROW("SGD", cuda::sgd_step(n, p, g, buf, rule));
}
template <class T, class Rule>
void adam_step(Device d, int64_t n, T* p, const T* g, T* m, T* v, const Rule& rule) {
  if (d.is_cpu()) return cpu::adam_step(n, p, g, m, v, rule);
  CK_CUDA_OR_THROW("Adam", cuda::adam_step(n, p, g, m, v, rule));
}

}  // namespace convkit::backend
