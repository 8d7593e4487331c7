#pragma once
// The host-side orchestration of the CUDA ops (which kernels run, in what order, on which
// pointers), written once against an `Ops` object that provides launch / gemm / fill /
// sum. backend.cu runs these plans with real CUDA launches and cuBLAS; the tests run the
// very same plans with emulated launches on the CPU (tests/test_emulated_launch.cpp).
#include <cstdint>

#include "../../core/geometry.hpp"
#include "../kernels.hpp"

namespace convkit::backend::cuda {

// Kernel bodies as functors (usable from CUDA kernels and from emulated launches).
/// Per output element of im2col: one column-matrix entry.
template <class T>
struct Im2colBody {
  /// The kernel's arguments.
  ///@{
  Conv2dGeometry g;
  const T* x;
  T* col;
  ///@}
  /// Computes element i (one thread's work).
  CK_HOST_DEVICE void operator()(int64_t i) const { kernels::im2col(g, x, col, i); }
};
/// Per input element of col2im: sums the column entries that came from it.
template <class T>
struct Col2imBody {
  /// The kernel's arguments.
  ///@{
  Conv2dGeometry g;
  const T* col;
  T* x;
  bool accumulate;  ///< add into x instead of overwriting it
  ///@}
  /// Computes element i (one thread's work).
  CK_HOST_DEVICE void operator()(int64_t i) const { kernels::col2im(g, col, x, i, accumulate); }
};
/// Per output element: adds its channel's bias.
template <class T>
struct AddBiasBody {
  /// The kernel's arguments.
  ///@{
  int64_t channels, inner;
  const T* b;
  T* y;
  ///@}
  /// Computes element i (one thread's work).
  CK_HOST_DEVICE void operator()(int64_t i) const { kernels::add_bias(channels, inner, b, y, i); }
};
/// Per channel: sums the output gradient into the bias gradient.
template <class T>
struct BiasGradBody {
  /// The kernel's arguments.
  ///@{
  int64_t rows, channels, inner;
  const T* gy;
  T* gb;
  ///@}
  /// Computes element i (one thread's work).
  CK_HOST_DEVICE void operator()(int64_t c) const { kernels::bias_grad(rows, channels, inner, gy, gb, c); }
};
/// Per output element of max pooling: the maximum and where it was.
template <class T>
struct MaxPoolForwardBody {
  /// The kernel's arguments.
  ///@{
  Pool2dGeometry g;
  const T* x;
  T* y;
  PoolIndex* argmax;
  ///@}
  /// Computes element i (one thread's work).
  CK_HOST_DEVICE void operator()(int64_t i) const { kernels::max_pool_forward(g, x, y, argmax, i); }
};
/// Per input element of max pooling's backward: gathers the gradients of the outputs that chose it.
template <class T>
struct MaxPoolBackwardBody {
  /// The kernel's arguments.
  ///@{
  Pool2dGeometry g;
  const PoolIndex* argmax;
  const T* gy;
  T* gx;
  ///@}
  /// Computes element i (one thread's work).
  CK_HOST_DEVICE void operator()(int64_t i) const { kernels::max_pool_backward(g, argmax, gy, gx, i); }
};
/// Per output element of average pooling.
template <class T>
struct AvgPoolForwardBody {
  /// The kernel's arguments.
  ///@{
  Pool2dGeometry g;
  const T* x;
  T* y;
  ///@}
  /// Computes element i (one thread's work).
  CK_HOST_DEVICE void operator()(int64_t i) const { kernels::avg_pool_forward(g, x, y, i); }
};
/// Per input element of average pooling's backward.
template <class T>
struct AvgPoolBackwardBody {
  /// The kernel's arguments.
  ///@{
  Pool2dGeometry g;
  const T* gy;
  T* gx;
  ///@}
  /// Computes element i (one thread's work).
  CK_HOST_DEVICE void operator()(int64_t i) const { kernels::avg_pool_backward(g, gy, gx, i); }
};
/// Per row of cross-entropy: the loss of one example.
template <class T>
struct CrossEntropyRowsBody {
  /// The kernel's arguments.
  ///@{
  int64_t K;
  const T* logits;
  const int64_t* labels;
  T* rows;
  ///@}
  /// Computes element i (one thread's work).
  CK_HOST_DEVICE void operator()(int64_t n) const { rows[n] = kernels::cross_entropy_row(K, logits, labels, n); }
};
/// Per row of cross-entropy's backward: softmax minus one-hot, scaled.
template <class T>
struct CrossEntropyGradBody {
  /// The kernel's arguments.
  ///@{
  int64_t K;
  const T* logits;
  const int64_t* labels;
  T per_row;
  T* glogits;
  ///@}
  /// Computes element i (one thread's work).
  CK_HOST_DEVICE void operator()(int64_t n) const {
    kernels::cross_entropy_row_grad(K, logits, labels, per_row, glogits, n);
  }
};

/// conv2d forward: per sample and group, im2col then one GEMM; then the bias.
/// `col` holds patch() * OH * OW elements (unused for pointwise convolutions).
template <class T, class Ops>
void conv2d_forward_plan(Ops& ops, const Conv2dGeometry& g, const T* x, const T* w, const T* b, T* y, T* col) {
  const int64_t Cg = g.in_per_group(), Og = g.out_per_group(), P = g.patch(), S = g.OH * g.OW;
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      const T* xg = x + (n * g.C + grp * Cg) * g.H * g.W;
      const T* cols = xg;
      if (!g.is_pointwise()) {
        ops.launch("im2col", P * S, Im2colBody<T>{g, xg, col});
        cols = col;
      }
      ops.gemm(false, false, Og, S, P, T(1), w + grp * Og * P, cols, T(0), y + (n * g.O + grp * Og) * S);
    }
  if (b) ops.launch("add_bias", g.N * g.O * S, AddBiasBody<T>{g.O, S, b, y});
}

/// conv2d backward; gx, gw, gb may be null. gx is overwritten, or added to when
/// `accumulate_gx`; gw and gb are overwritten.
template <class T, class Ops>
void conv2d_backward_plan(Ops& ops, const Conv2dGeometry& g, const T* x, const T* w, const T* gy, T* gx, T* gw, T* gb,
                          T* col, bool accumulate_gx = false) {
  const T gx_beta = accumulate_gx ? T(1) : T(0);
  const int64_t Cg = g.in_per_group(), Og = g.out_per_group(), P = g.patch(), S = g.OH * g.OW;
  if (gb) ops.launch("bias_grad", g.O, BiasGradBody<T>{g.N, g.O, S, gy, gb});
  if (gw) ops.fill(g.O * P, gw, T(0));
  for (int64_t n = 0; n < g.N && (gx || gw); ++n)
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      const T* gyg = gy + (n * g.O + grp * Og) * S;
      const int64_t xoff = (n * g.C + grp * Cg) * g.H * g.W;
      if (gw) {
        const T* cols = x + xoff;
        if (!g.is_pointwise()) {
          ops.launch("im2col", P * S, Im2colBody<T>{g, x + xoff, col});
          cols = col;
        }
        ops.gemm(false, true, Og, P, S, T(1), gyg, cols, T(1), gw + grp * Og * P);
      }
      if (gx) {
        if (g.is_pointwise()) {
          ops.gemm(true, false, P, S, Og, T(1), w + grp * Og * P, gyg, gx_beta, gx + xoff);
        } else {
          ops.gemm(true, false, P, S, Og, T(1), w + grp * Og * P, gyg, T(0), col);
          ops.launch("col2im", Cg * g.H * g.W, Col2imBody<T>{g, col, gx + xoff, accumulate_gx});
        }
      }
    }
}

template <class T, class Ops>
void max_pool2d_forward_plan(Ops& ops, const Pool2dGeometry& g, const T* x, T* y, PoolIndex* argmax) {
  ops.launch("max_pool2d", g.N * g.C * g.OH * g.OW, MaxPoolForwardBody<T>{g, x, y, argmax});
}
template <class T, class Ops>
void max_pool2d_backward_plan(Ops& ops, const Pool2dGeometry& g, const PoolIndex* argmax, const T* gy, T* gx,
                              bool accumulate) {
  if (!accumulate) ops.fill(g.N * g.C * g.H * g.W, gx, T(0));
  ops.launch("max_pool2d backward", g.N * g.C * g.OH * g.OW, MaxPoolBackwardBody<T>{g, argmax, gy, gx});
}
template <class T, class Ops>
void avg_pool2d_forward_plan(Ops& ops, const Pool2dGeometry& g, const T* x, T* y) {
  ops.launch("avg_pool2d", g.N * g.C * g.OH * g.OW, AvgPoolForwardBody<T>{g, x, y});
}
template <class T, class Ops>
void avg_pool2d_backward_plan(Ops& ops, const Pool2dGeometry& g, const T* gy, T* gx, bool accumulate) {
  if (!accumulate) ops.fill(g.N * g.C * g.H * g.W, gx, T(0));
  ops.launch("avg_pool2d backward", g.N * g.C * g.OH * g.OW, AvgPoolBackwardBody<T>{g, gy, gx});
}

/// Per output element of adaptive average pooling.
template <class T>
struct AdaptivePoolForwardBody {
  /// The kernel's arguments.
  ///@{
  AdaptivePool2dGeometry g;
  const T* x;
  T* y;
  ///@}
  /// Computes element i (one thread's work).
  CK_HOST_DEVICE void operator()(int64_t i) const { kernels::adaptive_avg_pool_forward(g, x, y, i); }
};
/// Per output element: spreads its gradient over its bin.
template <class T>
struct AdaptivePoolBackwardBody {
  /// The kernel's arguments.
  ///@{
  AdaptivePool2dGeometry g;
  const T* gy;
  T* gx;
  ///@}
  /// Computes element i (one thread's work).
  CK_HOST_DEVICE void operator()(int64_t i) const { kernels::adaptive_avg_pool_backward(g, gy, gx, i); }
};
/// Per channel: batch statistics (or the running ones), the running update, saved.
template <class T>
struct BatchNormChannelBody {
  /// The kernel's arguments.
  ///@{
  BatchNormGeometry g;
  const T* x;
  T* running_mean;
  T* running_var;
  bool training;
  double momentum, eps;
  T* saved;
  ///@}
  /// Computes channel c (one thread's work).
  CK_HOST_DEVICE void operator()(int64_t c) const {
    kernels::batch_norm_channel(g, x, running_mean, running_var, training, momentum, eps, saved, c);
  }
};
/// Per element: the normalised output.
template <class T>
struct BatchNormApplyBody {
  /// The kernel's arguments.
  ///@{
  BatchNormGeometry g;
  const T *x, *weight, *bias, *saved;
  T* y;
  ///@}
  /// Computes element i (one thread's work).
  CK_HOST_DEVICE void operator()(int64_t i) const { kernels::batch_norm_apply(g, x, weight, bias, saved, y, i); }
};
/// Per channel: the backward sums and the input gradient's coefficients.
template <class T>
struct BatchNormGradChannelBody {
  /// The kernel's arguments.
  ///@{
  BatchNormGeometry g;
  const T *x, *weight, *saved, *gy;
  bool training;
  T *gw, *gb, *coef;
  ///@}
  /// Computes channel c (one thread's work).
  CK_HOST_DEVICE void operator()(int64_t c) const {
    kernels::batch_norm_grad_channel(g, x, weight, saved, gy, training, gw, gb, coef, c);
  }
};
/// Per element: the input gradient.
template <class T>
struct BatchNormInputGradBody {
  /// The kernel's arguments.
  ///@{
  BatchNormGeometry g;
  const T *x, *saved, *coef, *gy;
  T* gx;
  ///@}
  /// Computes element i (one thread's work).
  CK_HOST_DEVICE void operator()(int64_t i) const { kernels::batch_norm_input_grad_at(g, x, saved, coef, gy, gx, i); }
};

template <class T, class Ops>
void adaptive_avg_pool2d_forward_plan(Ops& ops, const AdaptivePool2dGeometry& g, const T* x, T* y) {
  ops.launch("adaptive_avg_pool2d", g.N * g.C * g.OH * g.OW, AdaptivePoolForwardBody<T>{g, x, y});
}
template <class T, class Ops>
void adaptive_avg_pool2d_backward_plan(Ops& ops, const AdaptivePool2dGeometry& g, const T* gy, T* gx, bool accumulate) {
  if (!accumulate) ops.fill(g.N * g.C * g.H * g.W, gx, T(0));
  ops.launch("adaptive_avg_pool2d backward", g.N * g.C * g.OH * g.OW, AdaptivePoolBackwardBody<T>{g, gy, gx});
}
/// One thread per channel for the statistics (a block reduction per channel would be faster
/// on large batches), then one per element.
template <class T, class Ops>
void batch_norm_forward_plan(Ops& ops, const BatchNormGeometry& g, const T* x, const T* weight, const T* bias,
                             T* running_mean, T* running_var, bool training, double momentum, double eps, T* saved,
                             T* y) {
  ops.launch("batch_norm statistics", g.C,
             BatchNormChannelBody<T>{g, x, running_mean, running_var, training, momentum, eps, saved});
  ops.launch("batch_norm", g.N * g.C * g.inner, BatchNormApplyBody<T>{g, x, weight, bias, saved, y});
}
/// `coef` is scratch for 3C values.
template <class T, class Ops>
void batch_norm_backward_plan(Ops& ops, const BatchNormGeometry& g, const T* x, const T* weight, const T* saved,
                              const T* gy, bool training, T* gx, T* gw, T* gb, T* coef) {
  ops.launch("batch_norm backward sums", g.C,
             BatchNormGradChannelBody<T>{g, x, weight, saved, gy, training, gw, gb, coef});
  if (gx) ops.launch("batch_norm backward", g.N * g.C * g.inner, BatchNormInputGradBody<T>{g, x, saved, coef, gy, gx});
}

/// Mean cross-entropy; `rows` is scratch for N per-row losses.
template <class T, class Ops>
T cross_entropy_forward_plan(Ops& ops, int64_t N, int64_t K, const T* logits, const int64_t* labels, T* rows) {
  ops.launch("cross_entropy", N, CrossEntropyRowsBody<T>{K, logits, labels, rows});
  return static_cast<T>(static_cast<double>(ops.sum(N, rows)) / static_cast<double>(N));
}
template <class T, class Ops>
void cross_entropy_backward_plan(Ops& ops, int64_t N, int64_t K, const T* logits, const int64_t* labels, T scale,
                                 T* glogits) {
  ops.launch("cross_entropy backward", N,
             CrossEntropyGradBody<T>{K, logits, labels, scale / static_cast<T>(N), glogits});
}

}  // namespace convkit::backend::cuda
