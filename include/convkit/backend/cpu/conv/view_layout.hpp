#pragma once
// The phase planes of a strided convolution's padded input, in which every tap is a
// shifted view (the indirect input gradient, conv.hpp) and which Winograd over phase
// planes convolves (strided_winograd.hpp).
#include <algorithm>
#include <cstdint>

#include "../../../core/geometry.hpp"
#include "../elementwise.hpp"

namespace convkit::backend::cpu {

/// The zero-padded input planes as shifted views: the layout in which the indirect
/// method's input gradient is gathered.
///
/// With stride 1, patch row (c, u, v) of the im2col matrix, taken Wp columns per output
/// row, is the padded plane shifted by u*dh*Wp + v*dw. With a stride, each padded plane is
/// first split into sh x sw phase planes: phase (p, q) holds padded rows p, p + sh, ...
/// and columns q, q + sw, .... Output (i, j) of tap (u, v) reads padded (i*sh + u*dh,
/// j*sw + v*dw), which is phase ((u*dh) % sh, (v*dw) % sw) at row i + (u*dh) / sh and
/// column j + (v*dw) / sw: again a shifted view, now Wq columns per output row. The input
/// gradient sums, at each position of a phase plane, the rows of w^T * gy whose views
/// cover it, and is then cropped out of the phase planes (take).
struct ViewLayout {
  /// A phase plane's rows and row width: the padded plane's, divided by the stride (rounded up).
  ///@{
  int64_t Hq, Wq;
  ///@}
  int64_t phase_size;    ///< floats per phase plane, with slack for the last view's junk columns
  int64_t channel_size;  ///< floats per input channel: sh * sw phase planes
  /// The layout for g's input planes.
  explicit ViewLayout(const Conv2dGeometry& g)
      : Hq((g.H + 2 * g.ph + g.sh - 1) / g.sh),
        Wq((g.W + 2 * g.pw + g.sw - 1) / g.sw),
        phase_size(Hq * Wq + (g.kw - 1) * g.dw / g.sw),
        channel_size(g.sh * g.sw * phase_size) {}
  /// Phase planes of `rows` x `cols` values each, one after another with no slack: the
  /// first rows and columns of g's (the strided Winograd writes its input gradient so,
  /// strided_winograd.hpp). Padded values past them are read by no output.
  ViewLayout(const Conv2dGeometry& g, int64_t rows, int64_t cols)
      : Hq(rows), Wq(cols), phase_size(rows * cols), channel_size(g.sh * g.sw * phase_size) {}
  /// Elements of one output plane kept Wq wide.
  int64_t out_size(const Conv2dGeometry& g) const { return g.OH * Wq; }
  /// Where patch row (c, u, v)'s view starts, from the first channel's first phase plane.
  int64_t shift(const Conv2dGeometry& g, int64_t c, int64_t u, int64_t v) const {
    const int64_t du = u * g.dh, dv = v * g.dw;
    return c * channel_size + ((du % g.sh) * g.sw + dv % g.sw) * phase_size + (du / g.sh) * Wq + dv / g.sw;
  }
  /// Visits the input columns of phase column q: visit(first, last, w0) for phase columns
  /// [first, last), which read input columns w0, w0 + sw, ...; the others are padding.
  template <class Visit>
  void columns(const Conv2dGeometry& g, int64_t q, Visit visit) const {
    const int64_t off = q - g.pw;  // the input column of phase column 0
    const int64_t first = off >= 0 ? 0 : (-off + g.sw - 1) / g.sw;
    const int64_t last = std::max(first, std::min(Wq, g.W - 1 - off >= 0 ? (g.W - 1 - off) / g.sw + 1 : 0));
    visit(first, last, first * g.sw + off);
  }
  /// The other way, for the input gradient: x (one plane) = the padded plane's interior,
  /// gathered from its phase planes at src. Values of x that no phase plane holds are
  /// left as they are.
  void take(const Conv2dGeometry& g, const float* src, float* x) const {
    for (int64_t p = 0; p < g.sh; ++p)
      for (int64_t q = 0; q < g.sw; ++q)
        columns(g, q, [&](int64_t first, int64_t last, int64_t w0) {
          const float* phase = src + (p * g.sw + q) * phase_size;
          for (int64_t i = 0; i < Hq; ++i) {
            const int64_t h = i * g.sh + p - g.ph;
            if (h < 0 || h >= g.H) continue;
            const float* in = phase + i * Wq + first;
            float* out = x + h * g.W + w0;
            if (g.sw == 1) {
              copy_short(in, last - first, out);
            } else {
              for (int64_t j = 0; j < last - first; ++j) out[j * g.sw] = in[j];
            }
          }
        });
  }
};

}  // namespace convkit::backend::cpu
