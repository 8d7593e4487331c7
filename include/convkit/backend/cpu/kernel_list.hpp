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
// any header-only library does. With it, a file does not even read the convolution and
// pooling kernels (kernels_by_isa.hpp): kernels.cpp defines CONVKIT_KERNEL_DEFINITIONS to
// read them, and so may a test that calls a kernel directly.
#include "../../core/geometry.hpp"
#include "gemm.hpp"
#include "reference.hpp"

namespace convkit::backend::cpu {

// The entry points that run a kernel copy picked at run time (convolution, pooling, batch
// norm, the loss), declared here and defined in kernels_by_isa.hpp, which a file that only
// declares the kernels does not include.

/// y = conv2d(x, w) + b for layer g (b may be null), by the kernel the selection table
/// (conv/select.hpp) gives the forward pass on this CPU.
template <class T>
void conv2d_forward(const Conv2dGeometry& g, const T* x, const T* w, const T* b, T* y);
/// Any of gx, gw, gb may be null (that gradient is not needed). gw and gb are overwritten;
/// gx too, or with `accumulate_gx` the input gradient is added to what it holds.
template <class T>
void conv2d_backward(const Conv2dGeometry& g, const T* x, const T* w, const T* gy, T* gx, T* gw, T* gb,
                     bool accumulate_gx = false);
/// y gets each window's maximum; argmax (may be null: inference) gets its flat index
/// within the (H, W) plane.
template <class T>
void max_pool2d_forward(const Pool2dGeometry& g, const T* x, T* y, PoolIndex* argmax);
/// gx gets the input gradient (each output's gradient added at its window's maximum), or
/// has it added when `accumulate` is set.
template <class T>
void max_pool2d_backward(const Pool2dGeometry& g, const PoolIndex* argmax, const T* gy, T* gx, bool accumulate);
/// y gets each window's mean (the count_include_pad rule of core/geometry.hpp).
template <class T>
void avg_pool2d_forward(const Pool2dGeometry& g, const T* x, T* y);
/// gx gets the input gradient, or has it added when `accumulate` is set.
template <class T>
void avg_pool2d_backward(const Pool2dGeometry& g, const T* gy, T* gx, bool accumulate);
/// y = adaptive_avg_pool2d(x): each output bin the mean of its (PyTorch's) input window.
template <class T>
void adaptive_avg_pool2d_forward(const AdaptivePool2dGeometry& g, const T* x, T* y);
/// gx (overwritten, or added to when `accumulate`) from gy.
template <class T>
void adaptive_avg_pool2d_backward(const AdaptivePool2dGeometry& g, const T* gy, T* gx, bool accumulate);
/// y = batch_norm(x) per kernels::batch_norm_channel; saved (2C) receives the mean and
/// invstd the backward pass needs. weight, bias, running_mean, running_var may be null
/// (the running statistics only in training).
template <class T>
void batch_norm_forward(const BatchNormGeometry& g, const T* x, const T* weight, const T* bias, T* running_mean,
                        T* running_var, bool training, double momentum, double eps, T* saved, T* y);
/// The gradients of batch_norm given gy: gx (overwritten, or skipped when null), and gw, gb
/// (overwritten, where given). saved is the forward pass's.
template <class T>
void batch_norm_backward(const BatchNormGeometry& g, const T* x, const T* weight, const T* saved, const T* gy,
                         bool training, T* gx, T* gw, T* gb);
/// Returns the mean over the N rows of logsumexp(row) - row[label] (summed in double).
template <class T>
T cross_entropy_forward(int64_t N, int64_t K, const T* logits, const int64_t* labels);
/// glogits = scale * (softmax(logits) - onehot(labels)) / N.
template <class T>
void cross_entropy_backward(int64_t N, int64_t K, const T* logits, const int64_t* labels, T scale, T* glogits);

}  // namespace convkit::backend::cpu

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

#if defined(CONVKIT_SEPARATE_KERNELS)
namespace convkit::backend::cpu {
CONVKIT_CPU_KERNELS(extern template, float)
CONVKIT_CPU_KERNELS(extern template, double)
}  // namespace convkit::backend::cpu
#endif
