#pragma once
// conv2d: the op's shape law, validation and backward wiring. The kernels live in the
// backends (backend/cpu/conv/conv.hpp: im2col + GEMM).
#include <array>

#include "../backend/dispatch.hpp"
#include "common.hpp"
#include "options.hpp"

namespace convkit {

/// Validates a conv2d call and returns its geometry. x (N, C, H, W), w (O, C/groups, kh, kw),
/// b (O) or undefined. OH = floor((H + 2*ph - dh*(kh-1) - 1) / sh) + 1, likewise OW.
template <class T>
Conv2dGeometry conv2d_geometry(const char* op, const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& b,
                               const Conv2dOptions& o) {
  detail::require_rank(op, "input", x, 4, "(N, C, H, W)");
  detail::require_rank(op, "weight", w, 4, "(out_channels, in_channels/groups, kh, kw)");
  detail::require_same_device(op, x, w);
  const auto s = o.stride(), p = o.padding(), d = o.dilation();
  detail::require_window_options(op, s, p, d);
  CK_CHECK(o.groups() > 0, op, ": groups must be positive, got ", o.groups());
  Conv2dGeometry g{};
  g.N = x.size(0);
  g.C = x.size(1);
  g.H = x.size(2);
  g.W = x.size(3);
  g.O = w.size(0);
  g.kh = w.size(2);
  g.kw = w.size(3);
  g.sh = s.h;
  g.sw = s.w;
  g.ph = p.h;
  g.pw = p.w;
  g.dh = d.h;
  g.dw = d.w;
  g.groups = o.groups();
  CK_CHECK(g.C % g.groups == 0, op, ": input channels (", g.C, ", input ", x.shape().str(),
           ") are not divisible by groups (", g.groups, ")");
  CK_CHECK(g.O % g.groups == 0, op, ": output channels (", g.O, ", weight ", w.shape().str(),
           ") are not divisible by groups (", g.groups, ")");
  CK_CHECK(w.size(1) == g.C / g.groups, op, ": weight ", w.shape().str(), " expects ", w.size(1),
           " input channels per group, but input ", x.shape().str(), " with groups=", g.groups, " has ",
           g.C / g.groups);
  CK_CHECK(g.kh > 0 && g.kw > 0, op, ": empty kernel in weight ", w.shape().str());
  const int64_t ekh = g.dh * (g.kh - 1) + 1, ekw = g.dw * (g.kw - 1) + 1;
  CK_CHECK(ekh <= g.H + 2 * g.ph && ekw <= g.W + 2 * g.pw, op, ": kernel (", g.kh, ", ", g.kw, ") with dilation ",
           d.str(), " spans (", ekh, ", ", ekw, "), larger than the padded input (", g.H + 2 * g.ph, ", ",
           g.W + 2 * g.pw, ") of input ", x.shape().str(), " with padding ", p.str());
  g.OH = pooled_length(g.H, g.kh, g.sh, g.ph, g.dh, false);
  g.OW = pooled_length(g.W, g.kw, g.sw, g.pw, g.dw, false);
  if (b.defined()) {
    detail::require_same_device(op, x, b);
    CK_CHECK(b.dim() == 1 && b.size(0) == g.O, op, ": bias must have shape (", g.O, ",), got ", b.shape().str());
  }
  return g;
}

namespace detail {
/// conv2d's gradients for output gradient gy: {gx, gw, gb}, each only where `need` says.
/// With `gx_into`, the input gradient is added into that tensor instead (entry 0 is then
/// undefined).
template <class T>
std::vector<Tensor<T>> conv2d_gradients(const Conv2dGeometry& g, const Tensor<T>& x, const Tensor<T>& w,
                                        std::array<bool, 3> need, const Tensor<T>& gy, Tensor<T>* gx_into) {
  const Device d = gy.device();
  Tensor<T> gx, gw, gb;
  if (need[0] && !gx_into) gx = Tensor<T>::empty(x.shape(), d);
  if (need[1]) gw = Tensor<T>::empty(w.shape(), d);
  if (need[2]) gb = Tensor<T>::empty(Shape{g.O}, d);
  T* gx_ptr = gx_into ? gx_into->data_ptr() : need[0] ? gx.data_ptr() : nullptr;
  backend::conv2d_backward(d, g, x.data_ptr(), w.data_ptr(), gy.data_ptr(), gx_ptr, need[1] ? gw.data_ptr() : nullptr,
                           need[2] ? gb.data_ptr() : nullptr, gx_into != nullptr);
  return std::vector<Tensor<T>>{gx, gw, gb};
}
}  // namespace detail

/// 2-D cross-correlation of a batch: x (N, C, H, W), w (O, C/groups, kh, kw), b (O) or an
/// undefined Tensor<T>() for no bias -> (N, O, OH, OW). Differentiable in x, w and b.
template <class T>
Tensor<T> conv2d(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& b = Tensor<T>(),
                 const Conv2dOptions& options = Conv2dOptions()) {
  const Conv2dGeometry g = conv2d_geometry("conv2d", x, w, b, options);
  Tensor<T> y = Tensor<T>::empty(Shape{g.N, g.O, g.OH, g.OW}, x.device());
  backend::conv2d_forward(x.device(), g, x.data_ptr(), w.data_ptr(), b.defined() ? b.data_ptr() : nullptr,
                          y.data_ptr());
  if (!autograd::recording(x, w, b)) return y;
  const std::array<bool, 3> need{x.requires_grad(), w.requires_grad(), b.requires_grad()};
  Node<T>* node =
      autograd::record<T>(y, "conv2d", {x, w, b}, [g, x = x.detach(), w = w.detach(), need](const Tensor<T>& gy) {
        return detail::conv2d_gradients<T>(g, x, w, need, gy, nullptr);
      });
  // When x is a leaf whose .grad exists, the input gradient goes straight into it.
  if (need[0])
    node->backward_into = [g, x = x.detach(), w = w.detach(), need](const Tensor<T>& gy, Tensor<T>& dest) {
      return detail::conv2d_gradients<T>(g, x, w, need, gy, &dest);
    };
  return y;
}

}  // namespace convkit
