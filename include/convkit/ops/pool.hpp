#pragma once
// max_pool2d and avg_pool2d: shape law, validation and backward wiring.
#include <limits>

#include "../backend/dispatch.hpp"
#include "common.hpp"
#include "options.hpp"

namespace convkit {

/// Validates a pooling call and returns its geometry (output size per geometry.hpp's
/// pooled_length). Padding may exceed half the kernel as long as every window overlaps
/// the input.
template <class T>
Pool2dGeometry pool2d_geometry(const char* op, const Tensor<T>& x, const Pool2dOptions& o) {
  detail::require_rank(op, "input", x, 4, "(N, C, H, W)");
  const auto k = o.kernel_size(), s = o.stride(), p = o.padding(), d = o.dilation();
  CK_CHECK(k.h > 0 && k.w > 0, op, ": kernel size must be positive, got ", k.str());
  detail::require_window_options(op, s, p, d);
  Pool2dGeometry g{};
  g.N = x.size(0);
  g.C = x.size(1);
  g.H = x.size(2);
  g.W = x.size(3);
  g.kh = k.h;
  g.kw = k.w;
  g.sh = s.h;
  g.sw = s.w;
  g.ph = p.h;
  g.pw = p.w;
  g.dh = d.h;
  g.dw = d.w;
  g.ceil_mode = o.ceil_mode();
  g.count_include_pad = o.count_include_pad();
  g.OH = pooled_length(g.H, g.kh, g.sh, g.ph, g.dh, g.ceil_mode);
  g.OW = pooled_length(g.W, g.kw, g.sw, g.pw, g.dw, g.ceil_mode);
  CK_CHECK(g.OH > 0 && g.OW > 0, op, ": kernel ", k.str(), " with dilation ", d.str(),
           " is larger than the padded input (", g.H + 2 * g.ph, ", ", g.W + 2 * g.pw, ") of input ", x.shape().str(),
           " with padding ", p.str());
  // Every window must touch at least one real element along each axis.
  auto axis_ok = [](int64_t L, int64_t out, int64_t kk, int64_t ss, int64_t pp, int64_t dd, int64_t& bad) {
    for (int64_t i = 0; i < out; ++i) {
      bool hit = false;
      for (int64_t u = 0; u < kk && !hit; ++u) {
        const int64_t at = i * ss - pp + u * dd;
        hit = at >= 0 && at < L;
      }
      if (!hit) {
        bad = i;
        return false;
      }
    }
    return true;
  };
  int64_t bad = -1;
  CK_CHECK(axis_ok(g.H, g.OH, g.kh, g.sh, g.ph, g.dh, bad), op, ": the window at output row ", bad,
           " lies entirely in padding (input ", x.shape().str(), ", kernel ", k.str(), ", stride ", s.str(),
           ", padding ", p.str(), ", dilation ", d.str(), ")");
  CK_CHECK(axis_ok(g.W, g.OW, g.kw, g.sw, g.pw, g.dw, bad), op, ": the window at output column ", bad,
           " lies entirely in padding (input ", x.shape().str(), ", kernel ", k.str(), ", stride ", s.str(),
           ", padding ", p.str(), ", dilation ", d.str(), ")");
  return g;
}

namespace detail {
/// Records a pooling op's backward from one `scatter(gy, dest, accumulate)`, which writes
/// the input gradient into dest, or adds it there when accumulate is set: into a fresh
/// tensor as the node's backward, and into a leaf's existing .grad as its backward_into.
template <class T, class Scatter>
void record_pool(Tensor<T>& y, const char* op, const Tensor<T>& x, const Pool2dGeometry& g, Scatter scatter) {
  Node<T>* node = autograd::record<T>(y, op, {x}, [g, scatter](const Tensor<T>& gy) {
    Tensor<T> gx = Tensor<T>::empty(Shape{g.N, g.C, g.H, g.W}, gy.device());
    scatter(gy, gx, false);
    return std::vector<Tensor<T>>{gx};
  });
  if (node)
    node->backward_into = [scatter](const Tensor<T>& gy, Tensor<T>& dest) {
      scatter(gy, dest, true);
      return std::vector<Tensor<T>>{};
    };
}
}  // namespace detail

/// Max over each window; padding counts as -infinity. x (N, C, H, W) -> (N, C, OH, OW).
template <class T>
Tensor<T> max_pool2d(const Tensor<T>& x, const Pool2dOptions& options) {
  const Pool2dGeometry g = pool2d_geometry("max_pool2d", x, options);
  CK_CHECK(g.H * g.W <= std::numeric_limits<PoolIndex>::max(), "max_pool2d: input ", x.shape().str(), " has planes of ",
           g.H * g.W, " elements; at most ", std::numeric_limits<PoolIndex>::max(),
           " are supported (window positions are saved as 32-bit indices)");
  const Device d = x.device();
  Tensor<T> y = Tensor<T>::empty(Shape{g.N, g.C, g.OH, g.OW}, d);
  // The window maxima's positions are kept only when a backward pass will need them.
  const bool recording = autograd::recording(x);
  const Tensor<PoolIndex> argmax = recording ? Tensor<PoolIndex>::empty(y.shape(), d) : Tensor<PoolIndex>();
  backend::max_pool2d_forward(d, g, x.data_ptr(), y.data_ptr(), recording ? argmax.data_ptr() : nullptr);
  if (!recording) return y;
  detail::record_pool(y, "max_pool2d", x, g, [g, argmax](const Tensor<T>& gy, Tensor<T>& dest, bool accumulate) {
    backend::max_pool2d_backward(gy.device(), g, argmax.data_ptr(), gy.data_ptr(), dest.data_ptr(), accumulate);
  });
  return y;
}

/// Mean over each window (divisor per count_include_pad). x (N, C, H, W) -> (N, C, OH, OW).
template <class T>
Tensor<T> avg_pool2d(const Tensor<T>& x, const Pool2dOptions& options) {
  CK_CHECK(options.dilation() == Pair2(1), "avg_pool2d: dilation is not supported (got ", options.dilation().str(),
           ")");
  const Pool2dGeometry g = pool2d_geometry("avg_pool2d", x, options);
  const Device d = x.device();
  Tensor<T> y = Tensor<T>::empty(Shape{g.N, g.C, g.OH, g.OW}, d);
  backend::avg_pool2d_forward(d, g, x.data_ptr(), y.data_ptr());
  if (!autograd::recording(x)) return y;
  detail::record_pool(y, "avg_pool2d", x, g, [g](const Tensor<T>& gy, Tensor<T>& dest, bool accumulate) {
    backend::avg_pool2d_backward(gy.device(), g, gy.data_ptr(), dest.data_ptr(), accumulate);
  });
  return y;
}

/// Average pooling to a fixed output size, with PyTorch's bins: output row i averages input
/// rows [floor(i * H / oh), ceil((i + 1) * H / oh)), so bins overlap when H is not a
/// multiple of oh, and repeat rows when oh > H. x (N, C, H, W) -> (N, C, oh, ow);
/// output {1, 1} is global average pooling.
template <class T>
Tensor<T> adaptive_avg_pool2d(const Tensor<T>& x, Pair2 output_size) {
  detail::require_rank("adaptive_avg_pool2d", "input", x, 4, "(N, C, H, W)");
  CK_CHECK(output_size.h > 0 && output_size.w > 0, "adaptive_avg_pool2d: output size must be positive, got ",
           output_size.str(), " for input ", x.shape().str());
  const AdaptivePool2dGeometry g{x.size(0), x.size(1), x.size(2), x.size(3), output_size.h, output_size.w};
  CK_CHECK(g.H > 0 && g.W > 0, "adaptive_avg_pool2d: input ", x.shape().str(), " has an empty plane");
  const Device d = x.device();
  Tensor<T> y = Tensor<T>::empty(Shape{g.N, g.C, g.OH, g.OW}, d);
  backend::adaptive_avg_pool2d_forward(d, g, x.data_ptr(), y.data_ptr());
  if (!autograd::recording(x)) return y;
  Node<T>* node = autograd::record<T>(y, "adaptive_avg_pool2d", {x}, [g](const Tensor<T>& gy) {
    Tensor<T> gx = Tensor<T>::empty(Shape{g.N, g.C, g.H, g.W}, gy.device());
    backend::adaptive_avg_pool2d_backward(gy.device(), g, gy.data_ptr(), gx.data_ptr(), false);
    return std::vector<Tensor<T>>{gx};
  });
  if (node)
    node->backward_into = [g](const Tensor<T>& gy, Tensor<T>& dest) {
      backend::adaptive_avg_pool2d_backward(gy.device(), g, gy.data_ptr(), dest.data_ptr(), true);
      return std::vector<Tensor<T>>{};
    };
  return y;
}

}  // namespace convkit
