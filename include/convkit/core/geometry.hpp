#pragma once
// Shape laws shared by the op front doors (ops/*.hpp) and every backend.
// Each struct fully describes one call of an op; backends read it and never
// recompute a size. Functions marked CK_HOST_DEVICE are compiled for CUDA too,
// so a per-element rule (a pooling window, a divisor) is written exactly once.
#include <cstdint>
#include <vector>

#include "shape.hpp"

#if defined(__CUDACC__)
#define CK_HOST_DEVICE __host__ __device__
#else
#define CK_HOST_DEVICE
#endif

namespace convkit {

/// How two shapes broadcast (numpy rules; trailing dimensions aligned).
/// `a_stride[d]`/`b_stride[d]` are the element strides of a and b along output
/// dimension d, 0 where that input is broadcast.
struct BroadcastPlan {
  /// The fast paths: same shapes, one side a scalar, one side a suffix of the other, or general.
  enum class Kind { Same, AScalar, BScalar, BSuffix, ASuffix, General };
  /// The broadcast output shape.
  Shape out;
  /// Per output dimension, the element strides of a and b (0 where broadcast).
  ///@{
  std::vector<int64_t> a_stride, b_stride;
  ///@}
  /// Elements of the output, of a and of b.
  ///@{
  int64_t numel = 0, a_numel = 0, b_numel = 0;
  ///@}
  /// Which fast path applies.
  Kind kind = Kind::General;
};

/// One conv2d call: NCHW input, (O, C/groups, kh, kw) weight, NCHW output.
struct Conv2dGeometry {
  /// Input batch, channels, height, width.
  ///@{
  int64_t N, C, H, W;  // input
  ///@}
  /// Output channels and kernel height, width.
  ///@{
  int64_t O, kh, kw;  // output channels, kernel
  ///@}
  /// Stride, padding, dilation (height, width) and groups.
  ///@{
  int64_t sh, sw, ph, pw, dh, dw, groups;
  ///@}
  /// Output height and width.
  ///@{
  int64_t OH, OW;  // output spatial size
  ///@}
  /// Input channels per group.
  int64_t in_per_group() const { return C / groups; }
  /// Output channels per group.
  int64_t out_per_group() const { return O / groups; }
  /// Rows of the im2col matrix of one group: (C/g) * kh * kw.
  int64_t patch() const { return in_per_group() * kh * kw; }
  /// True when the convolution is a plain matrix product per sample (1x1, stride 1, no padding).
  bool is_pointwise() const { return kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0; }
};

/// Where a max-pooling window's maximum sits: its flat index within the (H, W) plane.
/// 32 bits halve the traffic of the saved indices against int64; pool2d_geometry rejects
/// planes too large for it.
using PoolIndex = int32_t;

/// One pooling call on NCHW input.
struct Pool2dGeometry {
  /// Input batch, channels, height, width.
  ///@{
  int64_t N, C, H, W;
  ///@}
  /// Window height, width; stride, padding, dilation (height, width).
  ///@{
  int64_t kh, kw, sh, sw, ph, pw, dh, dw;
  ///@}
  /// Output height and width.
  ///@{
  int64_t OH, OW;
  ///@}
  /// True when the output length rounds up (PyTorch's ceil_mode).
  bool ceil_mode = false;
  bool count_include_pad = true;  ///< average pooling only
};

/// Output length of a convolution or pooling along one axis (PyTorch's rule).
/// In ceil mode the last window must start inside the input or the leading padding.
CK_HOST_DEVICE inline int64_t pooled_length(int64_t L, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil_mode) {
  const int64_t span = L + 2 * p - d * (k - 1) - 1;
  if (span < 0) return 0;
  int64_t out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  if (ceil_mode && (out - 1) * s >= L + p) --out;
  return out;
}

/// The input rectangle an average-pooling output (i, j) sums over, and its divisor.
struct AvgWindow {
  /// The window clipped to the input: rows [h0, h1), columns [w0, w1).
  ///@{
  int64_t h0, h1, w0, w1;  // clipped to the input: rows [h0, h1), columns [w0, w1)
  ///@}
  /// The number the window's sum is divided by.
  int64_t divisor;
};

CK_HOST_DEVICE inline AvgWindow avg_pool_window(const Pool2dGeometry& g, int64_t i, int64_t j) {
  int64_t h0 = i * g.sh - g.ph, w0 = j * g.sw - g.pw;
  int64_t h1 = h0 + g.kh < g.H + g.ph ? h0 + g.kh : g.H + g.ph;
  int64_t w1 = w0 + g.kw < g.W + g.pw ? w0 + g.kw : g.W + g.pw;
  const int64_t padded_area = (h1 - h0) * (w1 - w0);
  h0 = h0 > 0 ? h0 : 0;
  w0 = w0 > 0 ? w0 : 0;
  h1 = h1 < g.H ? h1 : g.H;
  w1 = w1 < g.W ? w1 : g.W;
  const int64_t real_area = (h1 > h0 && w1 > w0) ? (h1 - h0) * (w1 - w0) : 0;
  return AvgWindow{h0, h1, w0, w1, g.count_include_pad ? padded_area : real_area};
}

/// One adaptive_avg_pool2d call on NCHW input: output bin (i, j) averages input rows
/// [adaptive_bin_start(i, H, OH), adaptive_bin_end(i, H, OH)) and the columns alike.
struct AdaptivePool2dGeometry {
  /// Input batch, channels, height, width.
  ///@{
  int64_t N, C, H, W;
  ///@}
  /// Output height and width.
  ///@{
  int64_t OH, OW;
  ///@}
};

/// First input index of output bin i when L inputs are pooled into `out` bins (PyTorch's
/// floor(i * L / out)).
CK_HOST_DEVICE inline int64_t adaptive_bin_start(int64_t i, int64_t L, int64_t out) { return (i * L) / out; }
/// One past the last input index of output bin i (PyTorch's ceil((i + 1) * L / out)).
CK_HOST_DEVICE inline int64_t adaptive_bin_end(int64_t i, int64_t L, int64_t out) {
  return ((i + 1) * L + out - 1) / out;
}

/// One batch_norm call: x seen as (N, C, inner), with inner = H * W for (N, C, H, W) and 1
/// for (N, C). Channel c's statistics run over its N * inner values.
struct BatchNormGeometry {
  /// Batch, channels, and values per channel and sample.
  ///@{
  int64_t N, C, inner;
  ///@}
  /// Values per channel.
  CK_HOST_DEVICE int64_t count() const { return N * inner; }
};

}  // namespace convkit
