#pragma once
// The CUDA backend's host functions, as the dispatch point sees them. Plain C++: every
// translation unit, nvcc's or the host compiler's, sees the same declarations. The
// definitions are compiled by nvcc in backend.cu (the convkit_cuda library, built with
// -DCONVKIT_CUDA=ON) for float and double.
#include <cstddef>
#include <cstdint>

#include "../../core/device.hpp"
#include "../../core/geometry.hpp"

namespace convkit::backend::cuda {

/// A usable device: the build has CUDA, a device is present, CONVKIT_DISABLE_CUDA is unset.
bool device_available();

void* allocate(Device d, size_t bytes);
void deallocate(Device d, void* p) noexcept;
void copy(Device dst_dev, void* dst, Device src_dev, const void* src, size_t bytes);
void zero(Device d, void* p, size_t bytes);
void copy_blocks(int64_t rows, size_t row_bytes, void* dst, size_t dst_pitch, const void* src, size_t src_pitch);

template <class T, class F>
void unary_map(int64_t n, const T* x, T* y, F f);
template <class T, class F>
void zip_map(int64_t n, const T* a, const T* b, T* y, F f);
template <class T, class F>
void binary_map(const BroadcastPlan& p, const T* a, const T* b, T* y, F f);
template <class T>
void sum_to_a(const BroadcastPlan& p, const T* g, T* out);
template <class T>
T sum(int64_t n, const T* x);
template <class T>
void fill(int64_t n, T* x, T value);
template <class T>
void axpy(int64_t n, T alpha, const T* x, T* y);
template <class T>
void add_bias(int64_t rows, int64_t channels, int64_t inner, const T* b, T* y);
template <class T>
void bias_grad(int64_t rows, int64_t channels, int64_t inner, const T* gy, T* gb);
template <class T>
void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, const T* B, T beta, T* C);
template <class T>
void corr2d_forward(int64_t h, int64_t w, int64_t kh, int64_t kw, const T* X, const T* K, T* Y);
template <class T>
void corr2d_backward(int64_t h, int64_t w, int64_t kh, int64_t kw, const T* X, const T* K, const T* gY, T* gX, T* gK);
template <class T>
void conv2d_forward(const Conv2dGeometry& g, const T* x, const T* w, const T* b, T* y);
template <class T>
void conv2d_backward(const Conv2dGeometry& g, const T* x, const T* w, const T* gy, T* gx, T* gw, T* gb,
                     bool accumulate_gx);
template <class T>
void max_pool2d_forward(const Pool2dGeometry& g, const T* x, T* y, PoolIndex* argmax);
template <class T>
void max_pool2d_backward(const Pool2dGeometry& g, const PoolIndex* argmax, const T* gy, T* gx, bool accumulate);
template <class T>
void avg_pool2d_forward(const Pool2dGeometry& g, const T* x, T* y);
template <class T>
void avg_pool2d_backward(const Pool2dGeometry& g, const T* gy, T* gx, bool accumulate);
template <class T>
void adaptive_avg_pool2d_forward(const AdaptivePool2dGeometry& g, const T* x, T* y);
template <class T>
void adaptive_avg_pool2d_backward(const AdaptivePool2dGeometry& g, const T* gy, T* gx, bool accumulate);
template <class T>
void batch_norm_forward(const BatchNormGeometry& g, const T* x, const T* weight, const T* bias, T* running_mean,
                        T* running_var, bool training, double momentum, double eps, T* saved, T* y);
template <class T>
void batch_norm_backward(const BatchNormGeometry& g, const T* x, const T* weight, const T* saved, const T* gy,
                         bool training, T* gx, T* gw, T* gb);
template <class T>
T cross_entropy_forward(int64_t N, int64_t K, const T* logits, const int64_t* labels);
template <class T>
void cross_entropy_backward(int64_t N, int64_t K, const T* logits, const int64_t* labels, T scale, T* glogits);
template <class T, class Rule>
void sgd_step(int64_t n, T* p, const T* g, T* buf, const Rule& rule);
template <class T, class Rule>
void adam_step(int64_t n, T* p, const T* g, T* m, T* v, const Rule& rule);

}  // namespace convkit::backend::cuda
