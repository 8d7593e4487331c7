#pragma once
// Transforms: functions of an image (C, H, W) or a batch of images (B, C, H, W) that the
// DataLoader applies per example or per batch, composable, random ones drawing from a
// generator the loader seeds from its seed, the epoch and the example's (or batch's)
// position, so a run is reproducible whatever the number of workers.
//   loader.transform(ck::data::transforms::compose({random_crop(28, 28, 2), random_horizontal_flip(),
//                                                  normalize({0.286}, {0.353})}));
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "../core/generator.hpp"
#include "../core/tensor.hpp"
#include "resize.hpp"

namespace convkit::data {

/// A transform of float or double images. Built from any callable that takes
/// (const Tensor\<U\>&, Generator&) for U = float and double and returns a new tensor (the
/// input may be a view of a dataset's memory: a transform never writes into it).
class Transform {
 public:
  /// The identity.
  Transform() = default;
  /// Wraps `f`, a generic callable (a template or a generic lambda).
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, Transform>>>
  Transform(F f)  // NOLINT(google-explicit-constructor): a lambda converts to a Transform
      : f32_([f](const Tensor<float>& x, Generator& g) { return f(x, g); }),
        f64_([f](const Tensor<double>& x, Generator& g) { return f(x, g); }) {}

  /// Applies the transform (the identity when empty).
  Tensor<float> operator()(const Tensor<float>& x, Generator& gen) const { return f32_ ? f32_(x, gen) : x; }
  /// Applies the transform (the identity when empty).
  Tensor<double> operator()(const Tensor<double>& x, Generator& gen) const { return f64_ ? f64_(x, gen) : x; }
  /// True unless this is the identity.
  explicit operator bool() const { return static_cast<bool>(f32_); }

 private:
  std::function<Tensor<float>(const Tensor<float>&, Generator&)> f32_;
  std::function<Tensor<double>(const Tensor<double>&, Generator&)> f64_;
};

namespace transforms {

namespace detail {

/// The image geometry of x, (C, H, W) or (B, C, H, W): images, channels, height, width.
struct ImageDims {
  /// Images (1 for a single image), channels, height, width.
  ///@{
  int64_t images, channels, height, width;
  ///@}
};
template <class U>
ImageDims image_dims(const char* op, const Tensor<U>& x) {
  CK_CHECK(x.defined() && (x.dim() == 3 || x.dim() == 4), "transforms::", op,
           ": expects an image (C, H, W) or a batch (B, C, H, W), got ",
           x.defined() ? x.shape().str() : std::string("an undefined tensor"));
  CK_CHECK(x.device().is_cpu(), "transforms::", op, ": expects a CPU tensor, got one on ", x.device().str());
  const int64_t r = x.dim();
  return {r == 4 ? x.size(0) : 1, x.size(r - 3), x.size(r - 2), x.size(r - 1)};
}
/// x's shape with height and width replaced.
template <class U>
Shape with_size(const Tensor<U>& x, int64_t h, int64_t w) {
  std::vector<int64_t> dims(x.shape().begin(), x.shape().end());
  dims[dims.size() - 2] = h;
  dims[dims.size() - 1] = w;
  return Shape(dims);
}

}  // namespace detail

/// (x - mean[c]) / std[c] per channel c; one value applies to every channel.
inline Transform normalize(std::vector<double> mean, std::vector<double> std) {
  CK_CHECK(!mean.empty() && mean.size() == std.size(),
           "transforms::normalize: mean and std need the same, non-zero "
           "number of values, got ",
           mean.size(), " and ", std.size());
  for (double s : std) CK_CHECK(s > 0, "transforms::normalize: every std must be positive, got ", s);
  return [mean = std::move(mean), std = std::move(std)](const auto& x, Generator&) {
    using U = typename std::decay_t<decltype(x)>::value_type;
    const auto d = detail::image_dims("normalize", x);
    CK_CHECK(mean.size() == 1 || static_cast<int64_t>(mean.size()) == d.channels,
             "transforms::normalize: ", mean.size(), " means for an image of ", d.channels, " channels ",
             x.shape().str());
    auto out = Tensor<U>::empty(x.shape());
    const int64_t plane = d.height * d.width;
    const U* in = x.data();
    U* o = out.data();
    for (int64_t b = 0; b < d.images; ++b)
      for (int64_t c = 0; c < d.channels; ++c) {
        const size_t k = mean.size() == 1 ? 0 : static_cast<size_t>(c);
        const U m = static_cast<U>(mean[k]), inv = static_cast<U>(1.0 / std[k]);
        const int64_t base = (b * d.channels + c) * plane;
        for (int64_t i = 0; i < plane; ++i) o[base + i] = (in[base + i] - m) * inv;
      }
    return out;
  };
}

/// Mirrors each image left to right with probability p.
inline Transform random_horizontal_flip(double p = 0.5) {
  CK_CHECK(p >= 0 && p <= 1, "transforms::random_horizontal_flip: p must be in [0, 1], got ", p);
  return [p](const auto& x, Generator& gen) {
    using U = typename std::decay_t<decltype(x)>::value_type;
    const auto d = detail::image_dims("random_horizontal_flip", x);
    auto out = Tensor<U>::empty(x.shape());
    const int64_t per = d.channels * d.height * d.width;
    for (int64_t b = 0; b < d.images; ++b) {
      const U* in = x.data() + b * per;
      U* o = out.data() + b * per;
      if (gen.next_double() < p) {
        for (int64_t r = 0; r < d.channels * d.height; ++r)
          for (int64_t j = 0; j < d.width; ++j) o[r * d.width + j] = in[r * d.width + d.width - 1 - j];
      } else {
        std::copy(in, in + per, o);
      }
    }
    return out;
  };
}

/// Pads each image with `padding` zeros on every side, then cuts an h x w window at a
/// random position (as torchvision's RandomCrop(size, padding)).
inline Transform random_crop(int64_t h, int64_t w, int64_t padding = 0) {
  CK_CHECK(h > 0 && w > 0 && padding >= 0, "transforms::random_crop: needs a positive size and padding >= 0, got ", h,
           "x", w, " padding ", padding);
  return [h, w, padding](const auto& x, Generator& gen) {
    using U = typename std::decay_t<decltype(x)>::value_type;
    const auto d = detail::image_dims("random_crop", x);
    const int64_t ph = d.height + 2 * padding, pw = d.width + 2 * padding;
    CK_CHECK(h <= ph && w <= pw, "transforms::random_crop: a ", h, "x", w, " window does not fit an image ",
             x.shape().str(), " padded by ", padding);
    auto out = Tensor<U>::empty(detail::with_size(x, h, w));
    for (int64_t b = 0; b < d.images; ++b) {
      const auto top = static_cast<int64_t>(gen.below(static_cast<uint64_t>(ph - h + 1))) - padding;
      const auto left = static_cast<int64_t>(gen.below(static_cast<uint64_t>(pw - w + 1))) - padding;
      for (int64_t c = 0; c < d.channels; ++c) {
        const U* in = x.data() + (b * d.channels + c) * d.height * d.width;
        U* o = out.data() + (b * d.channels + c) * h * w;
        for (int64_t i = 0; i < h; ++i)
          for (int64_t j = 0; j < w; ++j) {
            const int64_t si = top + i, sj = left + j;
            o[i * w + j] = si >= 0 && si < d.height && sj >= 0 && sj < d.width ? in[si * d.width + sj] : U(0);
          }
      }
    }
    return out;
  };
}

/// Resizes each image to h x w bilinearly (PyTorch's interpolate, align_corners=False).
inline Transform resize(int64_t h, int64_t w) {
  CK_CHECK(h > 0 && w > 0, "transforms::resize: needs a positive size, got ", h, "x", w);
  return [h, w](const auto& x, Generator&) {
    using U = typename std::decay_t<decltype(x)>::value_type;
    const auto d = detail::image_dims("resize", x);
    auto out = Tensor<U>::empty(detail::with_size(x, h, w));
    resize_bilinear(x.data(), d.images * d.channels, d.height, d.width, out.data(), h, w);
    return out;
  };
}

/// The transforms applied in order.
inline Transform compose(std::vector<Transform> steps) {
  return [steps = std::move(steps)](const auto& x, Generator& gen) {
    auto y = x;
    for (const Transform& t : steps) y = t(y, gen);
    return y;
  };
}

}  // namespace transforms
}  // namespace convkit::data
