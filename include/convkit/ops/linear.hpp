#pragma once
// matmul and linear, through the backend GEMM.
#include "../backend/dispatch.hpp"
#include "common.hpp"
#include "elementwise.hpp"

namespace convkit {

/// Matrix product of a (M, K) and b (K, N) -> (M, N).
template <class T>
Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b) {
  detail::require_rank("matmul", "a", a, 2, "(M, K)");
  detail::require_rank("matmul", "b", b, 2, "(K, N)");
  detail::require_same_device("matmul", a, b);
  const int64_t M = a.size(0), K = a.size(1), N = b.size(1);
  CK_CHECK(b.size(0) == K, "matmul: inner dimensions differ: a ", a.shape().str(), " and b ", b.shape().str());
  Tensor<T> y = Tensor<T>::empty(Shape{M, N}, a.device());
  backend::gemm(a.device(), false, false, M, N, K, T(1), a.data_ptr(), b.data_ptr(), T(0), y.data_ptr());
  if (autograd::recording(a, b))
    autograd::record<T>(y, "matmul", {a, b}, [a = a.detach(), b = b.detach(), M, N, K](const Tensor<T>& g) {
      Tensor<T> ga, gb;
      const Device d = g.device();
      ga = Tensor<T>::empty(Shape{M, K}, d);  // g b^T
      backend::gemm(d, false, true, M, K, N, T(1), g.data_ptr(), b.data_ptr(), T(0), ga.data_ptr());
      gb = Tensor<T>::empty(Shape{K, N}, d);  // a^T g
      backend::gemm(d, true, false, K, N, M, T(1), a.data_ptr(), g.data_ptr(), T(0), gb.data_ptr());
      return std::vector<Tensor<T>>{ga, gb};
    });
  return y;
}

/// A fully connected layer: x (N, in), w (out, in), b (out) or undefined -> x w^T + b (N, out).
template <class T>
Tensor<T> linear(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& b = Tensor<T>()) {
  detail::require_rank("linear", "input", x, 2, "(N, in_features)");
  detail::require_rank("linear", "weight", w, 2, "(out_features, in_features)");
  detail::require_same_device("linear", x, w);
  const int64_t N = x.size(0), in = x.size(1), out = w.size(0);
  CK_CHECK(w.size(1) == in, "linear: input ", x.shape().str(), " has ", in, " features but weight ", w.shape().str(),
           " expects ", w.size(1));
  if (b.defined()) {
    detail::require_same_device("linear", x, b);
    CK_CHECK(b.dim() == 1 && b.size(0) == out, "linear: bias must have shape (", out, ",), got ", b.shape().str());
  }
  Tensor<T> y = Tensor<T>::empty(Shape{N, out}, x.device());
  const Device d = x.device();
  backend::gemm(d, false, true, N, out, in, T(1), x.data_ptr(), w.data_ptr(), T(0), y.data_ptr());
  if (b.defined()) backend::add_bias(d, N, out, 1, b.data_ptr(), y.data_ptr());
  if (autograd::recording(x, w, b))
    autograd::record<T>(
        y, "linear", {x, w, b}, [x = x.detach(), w = w.detach(), has_b = b.defined(), N, in, out](const Tensor<T>& g) {
          const Device dev = g.device();
          Tensor<T> gx = Tensor<T>::empty(Shape{N, in}, dev), gw = Tensor<T>::empty(Shape{out, in}, dev), gb;
          backend::gemm(dev, false, false, N, in, out, T(1), g.data_ptr(), w.data_ptr(), T(0), gx.data_ptr());
          backend::gemm(dev, true, false, out, in, N, T(1), g.data_ptr(), x.data_ptr(), T(0), gw.data_ptr());
          if (has_b) {
            gb = Tensor<T>::empty(Shape{out}, dev);
            backend::bias_grad(dev, N, out, 1, g.data_ptr(), gb.data_ptr());
          }
          return std::vector<Tensor<T>>{gx, gw, gb};
        });
  return y;
}

}  // namespace convkit
