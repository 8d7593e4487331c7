#pragma once
// The d2l chapter's own functions, as the book builds them: corr2d is the naive loop
// (the library's reference), and the multi-channel versions are compositions of it,
// so every one of them is differentiable through autograd.
#include "../backend/dispatch.hpp"
#include "common.hpp"
#include "elementwise.hpp"
#include "linear.hpp"
#include "pool.hpp"
#include "shape_ops.hpp"

namespace convkit {

/// 2-D cross-correlation (no padding, stride 1, no flip): X (h, w), K (kh, kw) -> (h-kh+1, w-kw+1).
template <class T>
Tensor<T> corr2d(const Tensor<T>& X, const Tensor<T>& K) {
  detail::require_rank("corr2d", "X", X, 2, "(h, w)");
  detail::require_rank("corr2d", "K", K, 2, "(kh, kw)");
  detail::require_same_device("corr2d", X, K);
  const int64_t h = X.size(0), w = X.size(1), kh = K.size(0), kw = K.size(1);
  CK_CHECK(kh >= 1 && kw >= 1 && kh <= h && kw <= w, "corr2d: kernel ", K.shape().str(), " does not fit in input ",
           X.shape().str());
  Tensor<T> Y = Tensor<T>::empty(Shape{h - kh + 1, w - kw + 1}, X.device());
  backend::corr2d_forward(X.device(), h, w, kh, kw, X.data_ptr(), K.data_ptr(), Y.data_ptr());
  if (autograd::recording(X, K))
    autograd::record<T>(Y, "corr2d", {X, K}, [X = X.detach(), K = K.detach(), h, w, kh, kw](const Tensor<T>& g) {
      const Device d = g.device();
      Tensor<T> gX = Tensor<T>::empty(X.shape(), d), gK = Tensor<T>::empty(K.shape(), d);
      backend::corr2d_backward(d, h, w, kh, kw, X.data_ptr(), K.data_ptr(), g.data_ptr(), gX.data_ptr(), gK.data_ptr());
      return std::vector<Tensor<T>>{gX, gK};
    });
  return Y;
}

/// Sum over channels of corr2d(X[c], K[c]): X (c, h, w), K (c, kh, kw) -> (oh, ow).
template <class T>
Tensor<T> corr2d_multi_in(const Tensor<T>& X, const Tensor<T>& K) {
  detail::require_rank("corr2d_multi_in", "X", X, 3, "(channels, h, w)");
  detail::require_rank("corr2d_multi_in", "K", K, 3, "(channels, kh, kw)");
  CK_CHECK(X.size(0) == K.size(0), "corr2d_multi_in: X ", X.shape().str(), " has ", X.size(0), " channels but K ",
           K.shape().str(), " has ", K.size(0));
  CK_CHECK(X.size(0) > 0, "corr2d_multi_in: no channels in X ", X.shape().str());
  Tensor<T> Y = corr2d(X[0], K[0]);
  for (int64_t c = 1; c < X.size(0); ++c) Y = Y + corr2d(X[c], K[c]);
  return Y;
}

/// One corr2d_multi_in per output channel, stacked: X (c, h, w), K (o, c, kh, kw) -> (o, oh, ow).
template <class T>
Tensor<T> corr2d_multi_in_out(const Tensor<T>& X, const Tensor<T>& K) {
  detail::require_rank("corr2d_multi_in_out", "K", K, 4, "(out_channels, channels, kh, kw)");
  CK_CHECK(K.size(0) > 0, "corr2d_multi_in_out: no output channels in K ", K.shape().str());
  std::vector<Tensor<T>> outs;
  for (int64_t o = 0; o < K.size(0); ++o) outs.push_back(corr2d_multi_in(X, K[o]));
  return stack(outs, 0);
}

/// The same result for 1x1 kernels as one matrix product: X (c, h, w), K (o, c, 1, 1) -> (o, h, w).
template <class T>
Tensor<T> corr2d_multi_in_out_1x1(const Tensor<T>& X, const Tensor<T>& K) {
  detail::require_rank("corr2d_multi_in_out_1x1", "X", X, 3, "(channels, h, w)");
  detail::require_rank("corr2d_multi_in_out_1x1", "K", K, 4, "(out_channels, channels, 1, 1)");
  const int64_t c = X.size(0), h = X.size(1), w = X.size(2), o = K.size(0);
  CK_CHECK(K.size(2) == 1 && K.size(3) == 1, "corr2d_multi_in_out_1x1: K ", K.shape().str(), " is not a 1x1 kernel");
  CK_CHECK(K.size(1) == c, "corr2d_multi_in_out_1x1: X ", X.shape().str(), " has ", c, " channels but K ",
           K.shape().str(), " expects ", K.size(1));
  return matmul(K.reshape(Shape{o, c}), X.reshape(Shape{c, h * w})).reshape(Shape{o, h, w});
}

enum class PoolMode { Max, Avg };

/// d2l's pool2d: stride 1, no padding. X (h, w), window (ph, pw) -> (h-ph+1, w-pw+1).
template <class T>
Tensor<T> pool2d(const Tensor<T>& X, Pair2 pool_size, PoolMode mode = PoolMode::Max) {
  detail::require_rank("pool2d", "X", X, 2, "(h, w)");
  CK_CHECK(pool_size.h >= 1 && pool_size.w >= 1 && pool_size.h <= X.size(0) && pool_size.w <= X.size(1),
           "pool2d: window ", pool_size.str(), " does not fit in input ", X.shape().str());
  const auto opts = Pool2dOptions(pool_size).stride(1);
  const Tensor<T> x4 = X.reshape(Shape{1, 1, X.size(0), X.size(1)});
  const Tensor<T> y4 = mode == PoolMode::Max ? max_pool2d(x4, opts) : avg_pool2d(x4, opts);
  return y4.reshape(Shape{y4.size(2), y4.size(3)});
}

}  // namespace convkit
