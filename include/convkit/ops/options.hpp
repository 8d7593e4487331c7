#pragma once
// Option builders, spelled as in the PyTorch C++ frontend:
//   ck::Conv2dOptions().stride(2).padding({1, 2})
//   ck::Pool2dOptions({2, 3}).stride({2, 3}).padding({1, 2})
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>

#include "../core/error.hpp"
#include "../core/option.hpp"

namespace convkit {

/// A (height, width) pair; one integer means the same value for both.
struct Pair2 {
  /// Height and width.
  ///@{
  int64_t h = 0, w = 0;
  ///@}
  Pair2() = default;
  /// The same value for height and width, e.g. stride(2).
  Pair2(int64_t v) : h(v), w(v) {}  // NOLINT(google-explicit-constructor): `stride(2)` reads naturally
  /// Height h_ and width w_.
  Pair2(int64_t h_, int64_t w_) : h(h_), w(w_) {}
  /// h} or {h, w}; throws ck::Error on other lengths.
  ///@{
  Pair2(std::initializer_list<int64_t> v) {
    ///@}
    CK_CHECK(v.size() == 1 || v.size() == 2, "expected one or two integers (height, width), got ", v.size());
    h = *v.begin();
    w = *(v.end() - 1);
  }
  /// "(h, w)", for messages and printing.
  std::string str() const { return detail::cat("(", h, ", ", w, ")"); }
  /// Equal when both components are.
  friend bool operator==(const Pair2& a, const Pair2& b) { return a.h == b.h && a.w == b.w; }
};

/// conv2d's options. `bias` is read by nn::Conv2d; the functional conv2d takes the bias tensor.
class Conv2dOptions {
  /// Stride (1): set, or get.
  ///@{
  CK_OPTION(Conv2dOptions, Pair2, stride, Pair2(1))
  ///@}
  /// Zero padding on each side (0): set, or get.
  ///@{
  CK_OPTION(Conv2dOptions, Pair2, padding, Pair2(0))
  ///@}
  /// Spacing between kernel taps (1): set, or get.
  ///@{
  CK_OPTION(Conv2dOptions, Pair2, dilation, Pair2(1))
  ///@}
  /// Channel groups (1); in and out channels must divide by it: set, or get.
  ///@{
  CK_OPTION(Conv2dOptions, int64_t, groups, 1)
  ///@}
  /// Whether the layer has a bias (true; nn::Conv2d only): set, or get.
  ///@{
  CK_OPTION(Conv2dOptions, bool, bias, true)
  ///@}
};

/// max_pool2d / avg_pool2d options. The stride defaults to the kernel size.
class Pool2dOptions {
 public:
  /// Options for a window of `kernel_size` (stride defaults to the kernel size).
  Pool2dOptions(Pair2 kernel_size) : kernel_size_(kernel_size) {}  // NOLINT(google-explicit-constructor)
  /// The window size.
  const Pair2& kernel_size() const { return kernel_size_; }
  /// Sets the stride.
  Pool2dOptions& stride(Pair2 s) {
    stride_ = s;
    return *this;
  }
  /// The stride (the kernel size unless set).
  Pair2 stride() const { return stride_ ? *stride_ : kernel_size_; }
  /// Zero padding on each side (0); at most half the window: set, or get.
  ///@{
  CK_OPTION(Pool2dOptions, Pair2, padding, Pair2(0))
  ///@}
  /// Spacing between window taps (1): set, or get.
  ///@{
  CK_OPTION(Pool2dOptions, Pair2, dilation, Pair2(1))
  ///@}
  /// Round the output length up instead of down (false): set, or get.
  ///@{
  CK_OPTION(Pool2dOptions, bool, ceil_mode, false)
  ///@}
  /// Whether average pooling counts padded zeros in the divisor (true): set, or get.
  ///@{
  CK_OPTION(Pool2dOptions, bool, count_include_pad, true)
  ///@}
 private:
  Pair2 kernel_size_;
  std::optional<Pair2> stride_;
};

/// nn::BatchNorm1d / BatchNorm2d options, as PyTorch's: eps 1e-5, momentum 0.1, affine
/// (learnable weight and bias), and track_running_stats (running statistics kept as
/// buffers and used in eval mode; without them every call uses the batch's statistics).
class BatchNormOptions {
  /// Added to the variance before its square root (1e-5): set, or get.
  ///@{
  CK_OPTION(BatchNormOptions, double, eps, 1e-5)
  ///@}
  /// Weight of the batch in the running statistics' update (0.1): set, or get.
  ///@{
  CK_OPTION(BatchNormOptions, double, momentum, 0.1)
  ///@}
  /// A learnable weight and bias per channel (true): set, or get.
  ///@{
  CK_OPTION(BatchNormOptions, bool, affine, true)
  ///@}
  /// Keep running statistics for eval mode (true): set, or get.
  ///@{
  CK_OPTION(BatchNormOptions, bool, track_running_stats, true)
  ///@}
};

}  // namespace convkit
