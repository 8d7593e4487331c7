#pragma once
// The d2l LeNet (chapter 6.6), a modern variant (ReLU + max pooling) and LeNet with batch
// normalisation (chapter 7.5).
#include "../nn/layers.hpp"
#include "../nn/sequential.hpp"

namespace convkit::models {

/// d2l's LeNet for 1x28x28 input: Conv2d(1,6,5,pad 2), Sigmoid, AvgPool2d(2,2),
/// Conv2d(6,16,5), Sigmoid, AvgPool2d(2,2), Flatten, Linear(400,120), Sigmoid,
/// Linear(120,84), Sigmoid, Linear(84,10). Parameter names match PyTorch's
/// nn.Sequential: 0.*, 3.*, 7.*, 9.*, 11.*.
template <class T>
nn::Sequential<T> lenet(Generator& gen = default_generator()) {
  const auto pool = Pool2dOptions(2).stride(2);
  return nn::Sequential<T>(nn::Conv2d<T>(1, 6, 5, Conv2dOptions().padding(2), gen), nn::Sigmoid<T>(),
                           nn::AvgPool2d<T>(pool), nn::Conv2d<T>(6, 16, 5, Conv2dOptions(), gen), nn::Sigmoid<T>(),
                           nn::AvgPool2d<T>(pool), nn::Flatten<T>(), nn::Linear<T>(16 * 5 * 5, 120, true, gen),
                           nn::Sigmoid<T>(), nn::Linear<T>(120, 84, true, gen), nn::Sigmoid<T>(),
                           nn::Linear<T>(84, 10, true, gen));
}

/// The same shapes with ReLU and max pooling, which trains to a higher accuracy.
template <class T>
nn::Sequential<T> lenet_modern(Generator& gen = default_generator()) {
  const auto pool = Pool2dOptions(2).stride(2);
  return nn::Sequential<T>(nn::Conv2d<T>(1, 6, 5, Conv2dOptions().padding(2), gen), nn::ReLU<T>(),
                           nn::MaxPool2d<T>(pool), nn::Conv2d<T>(6, 16, 5, Conv2dOptions(), gen), nn::ReLU<T>(),
                           nn::MaxPool2d<T>(pool), nn::Flatten<T>(), nn::Linear<T>(16 * 5 * 5, 120, true, gen),
                           nn::ReLU<T>(), nn::Linear<T>(120, 84, true, gen), nn::ReLU<T>(),
                           nn::Linear<T>(84, 10, true, gen));
}

/// d2l's LeNet with batch normalisation (chapter 7.5) for 1x28x28 input: Conv2d(1,6,5),
/// BatchNorm2d(6), Sigmoid, AvgPool2d(2,2), Conv2d(6,16,5), BatchNorm2d(16), Sigmoid,
/// AvgPool2d(2,2), Flatten, Linear(256,120), BatchNorm1d(120), Sigmoid, Linear(120,84),
/// BatchNorm1d(84), Sigmoid, Linear(84,10). Names match PyTorch's nn.Sequential of the same
/// layers (0.*, 1.*, 4.*, 5.*, 9.*, 10.*, 12.*, 13.*, 15.*).
template <class T>
nn::Sequential<T> lenet_bn(int64_t num_classes = 10, Generator& gen = default_generator()) {
  const auto pool = Pool2dOptions(2).stride(2);
  return nn::Sequential<T>(nn::Conv2d<T>(1, 6, 5, Conv2dOptions(), gen), nn::BatchNorm2d<T>(6), nn::Sigmoid<T>(),
                           nn::AvgPool2d<T>(pool), nn::Conv2d<T>(6, 16, 5, Conv2dOptions(), gen),
                           nn::BatchNorm2d<T>(16), nn::Sigmoid<T>(), nn::AvgPool2d<T>(pool), nn::Flatten<T>(),
                           nn::Linear<T>(16 * 4 * 4, 120, true, gen), nn::BatchNorm1d<T>(120), nn::Sigmoid<T>(),
                           nn::Linear<T>(120, 84, true, gen), nn::BatchNorm1d<T>(84), nn::Sigmoid<T>(),
                           nn::Linear<T>(84, num_classes, true, gen));
}

}  // namespace convkit::models
