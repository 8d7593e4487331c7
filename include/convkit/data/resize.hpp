#pragma once
// Bilinear resizing of images, for data sets whose images a network wants larger (d2l
// 7.1 feeds AlexNet Fashion-MNIST resized from 28x28 to 224x224).
#include <algorithm>
#include <cstdint>
#include <vector>

#include "../core/error.hpp"

namespace convkit::data {

/// Where output index o of `out` samples an axis of `in` values: the two source indices
/// and the second one's weight, with pixel centres aligned as PyTorch's
/// interpolate(mode="bilinear", align_corners=False) and PIL's resize align them.
struct BilinearAxis {
  std::vector<int64_t> lo;  ///< the first source index
  std::vector<int64_t> hi;  ///< the second source index (the last one at the edge)
  std::vector<float> frac;  ///< the weight of hi (lo gets 1 - frac)
  /// The sampling of an axis of `in` values at `out` points.
  BilinearAxis(int64_t in, int64_t out) : lo(static_cast<size_t>(out)), hi(lo.size()), frac(lo.size()) {
    const double scale = static_cast<double>(in) / static_cast<double>(out);
    for (int64_t o = 0; o < out; ++o) {
      const double src = std::max(0.0, (static_cast<double>(o) + 0.5) * scale - 0.5);
      const auto i = std::min(static_cast<int64_t>(src), in - 1);
      lo[static_cast<size_t>(o)] = i;
      hi[static_cast<size_t>(o)] = std::min(i + 1, in - 1);
      frac[static_cast<size_t>(o)] = static_cast<float>(src - static_cast<double>(i));
    }
  }
};

/// Resizes `planes` planes of H x W values at src into OH x OW planes at dst, bilinearly.
template <class U>
void resize_bilinear(const U* src, int64_t planes, int64_t H, int64_t W, U* dst, int64_t OH, int64_t OW) {
  CK_CHECK(H > 0 && W > 0 && OH > 0 && OW > 0, "resize_bilinear: sizes must be positive, got ", H, "x", W, " -> ", OH,
           "x", OW);
  const BilinearAxis rows(H, OH), cols(W, OW);
  for (int64_t p = 0; p < planes; ++p, src += H * W)
    for (int64_t i = 0; i < OH; ++i, dst += OW) {
      const U* r0 = src + rows.lo[static_cast<size_t>(i)] * W;
      const U* r1 = src + rows.hi[static_cast<size_t>(i)] * W;
      const U a = rows.frac[static_cast<size_t>(i)];
      for (int64_t j = 0; j < OW; ++j) {
        const auto c0 = cols.lo[static_cast<size_t>(j)], c1 = cols.hi[static_cast<size_t>(j)];
        const U b = cols.frac[static_cast<size_t>(j)];
        const U top = r0[c0] + b * (r0[c1] - r0[c0]), bottom = r1[c0] + b * (r1[c1] - r1[c0]);
        dst[j] = top + a * (bottom - top);
      }
    }
}

}  // namespace convkit::data
