#pragma once
// d2l's Network in Network (chapter 7.3), for 1x224x224 input.
#include "../nn/layers.hpp"
#include "../nn/sequential.hpp"

namespace convkit::models {

/// A NiN block: a convolution and two 1x1 convolutions (per-pixel fully connected layers),
/// each followed by ReLU.
template <class T>
nn::Sequential<T> nin_block(int64_t in_channels, int64_t out_channels, Pair2 kernel, const Conv2dOptions& options,
                            Generator& gen = default_generator()) {
  return nn::Sequential<T>(nn::Conv2d<T>(in_channels, out_channels, kernel, options, gen), nn::ReLU<T>(),
                           nn::Conv2d<T>(out_channels, out_channels, 1, Conv2dOptions(), gen), nn::ReLU<T>(),
                           nn::Conv2d<T>(out_channels, out_channels, 1, Conv2dOptions(), gen), nn::ReLU<T>());
}

/// NiN: nin_block(96, 11, stride 4), MaxPool2d(3, 2), nin_block(256, 5, pad 2), MaxPool2d(3, 2),
/// nin_block(384, 3, pad 1), MaxPool2d(3, 2), Dropout(0.5), nin_block(num_classes, 3, pad 1),
/// AdaptiveAvgPool2d(1), Flatten: no fully connected layer at all.
template <class T>
nn::Sequential<T> nin(int64_t num_classes = 10, Generator& gen = default_generator()) {
  const auto pool = Pool2dOptions(3).stride(2);
  return nn::Sequential<T>(nin_block<T>(1, 96, 11, Conv2dOptions().stride(4), gen), nn::MaxPool2d<T>(pool),
                           nin_block<T>(96, 256, 5, Conv2dOptions().padding(2), gen), nn::MaxPool2d<T>(pool),
                           nin_block<T>(256, 384, 3, Conv2dOptions().padding(1), gen), nn::MaxPool2d<T>(pool),
                           nn::Dropout<T>(0.5, gen), nin_block<T>(384, num_classes, 3, Conv2dOptions().padding(1), gen),
                           nn::AdaptiveAvgPool2d<T>({1, 1}), nn::Flatten<T>());
}

}  // namespace convkit::models
