#pragma once
// d2l's AlexNet (chapter 7.1), for 1x224x224 input (Fashion-MNIST resized) and 10 classes.
#include "../nn/layers.hpp"
#include "../nn/sequential.hpp"

namespace convkit::models {

/// Conv2d(1,96,11,stride 4,pad 1), ReLU, MaxPool2d(3,2), Conv2d(96,256,5,pad 2), ReLU,
/// MaxPool2d(3,2), Conv2d(256,384,3,pad 1), ReLU, Conv2d(384,384,3,pad 1), ReLU,
/// Conv2d(384,256,3,pad 1), ReLU, MaxPool2d(3,2), Flatten, Linear(6400,4096), ReLU,
/// Dropout(0.5), Linear(4096,4096), ReLU, Dropout(0.5), Linear(4096,10). Parameter names
/// match PyTorch's nn.Sequential of the same layers (0.*, 3.*, 6.*, 8.*, 10.*, 14.*, 17.*,
/// 20.*).
template <class T>
nn::Sequential<T> alexnet(Generator& gen = default_generator()) {
  const auto pool = Pool2dOptions(3).stride(2);
  return nn::Sequential<T>(nn::Conv2d<T>(1, 96, 11, Conv2dOptions().stride(4).padding(1), gen), nn::ReLU<T>(),
                           nn::MaxPool2d<T>(pool), nn::Conv2d<T>(96, 256, 5, Conv2dOptions().padding(2), gen),
                           nn::ReLU<T>(), nn::MaxPool2d<T>(pool),
                           nn::Conv2d<T>(256, 384, 3, Conv2dOptions().padding(1), gen), nn::ReLU<T>(),
                           nn::Conv2d<T>(384, 384, 3, Conv2dOptions().padding(1), gen), nn::ReLU<T>(),
                           nn::Conv2d<T>(384, 256, 3, Conv2dOptions().padding(1), gen), nn::ReLU<T>(),
                           nn::MaxPool2d<T>(pool), nn::Flatten<T>(), nn::Linear<T>(6400, 4096, true, gen),
                           nn::ReLU<T>(), nn::Dropout<T>(0.5, gen), nn::Linear<T>(4096, 4096, true, gen), nn::ReLU<T>(),
                           nn::Dropout<T>(0.5, gen), nn::Linear<T>(4096, 10, true, gen));
}

}  // namespace convkit::models
