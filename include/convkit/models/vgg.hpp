#pragma once
// d2l's VGG (chapter 7.2): blocks of 3x3 convolutions and a max pooling, then three
// fully connected layers with dropout; for 1x224x224 input.
#include <utility>
#include <vector>

#include "../nn/layers.hpp"
#include "../nn/sequential.hpp"

namespace convkit::models {

/// One VGG block: `convs` 3x3 convolutions (padding 1) to `out_channels`, each followed by
/// ReLU, then MaxPool2d(2, 2), which halves the height and width.
template <class T>
nn::Sequential<T> vgg_block(int64_t convs, int64_t in_channels, int64_t out_channels,
                            Generator& gen = default_generator()) {
  nn::Sequential<T> block;
  for (int64_t i = 0; i < convs; ++i) {
    block.push_back(
        nn::Conv2d<T>(i == 0 ? in_channels : out_channels, out_channels, 3, Conv2dOptions().padding(1), gen));
    block.push_back(nn::ReLU<T>());
  }
  block.push_back(nn::MaxPool2d<T>(Pool2dOptions(2).stride(2)));
  return block;
}

/// VGG for 1x224x224 input: one vgg_block per (convs, channels) of `arch`, Flatten,
/// Linear(C*7*7, 4096), ReLU, Dropout(0.5), Linear(4096, 4096), ReLU, Dropout(0.5),
/// Linear(4096, num_classes). Names match PyTorch's nn.Sequential of the same blocks
/// ("0.0.weight", ..., "7.weight").
template <class T>
nn::Sequential<T> vgg(const std::vector<std::pair<int64_t, int64_t>>& arch, int64_t num_classes = 10,
                      Generator& gen = default_generator()) {
  CK_CHECK(!arch.empty(), "models::vgg: arch must list at least one block");
  nn::Sequential<T> net;
  int64_t channels = 1, side = 224;
  for (const auto& [convs, out] : arch) {
    net.push_back(vgg_block<T>(convs, channels, out, gen));
    channels = out;
    side /= 2;
  }
  net.push_back(nn::Flatten<T>());
  net.push_back(nn::Linear<T>(channels * side * side, 4096, true, gen));
  net.push_back(nn::ReLU<T>());
  net.push_back(nn::Dropout<T>(0.5, gen));
  net.push_back(nn::Linear<T>(4096, 4096, true, gen));
  net.push_back(nn::ReLU<T>());
  net.push_back(nn::Dropout<T>(0.5, gen));
  net.push_back(nn::Linear<T>(4096, num_classes, true, gen));
  return net;
}

/// VGG-11 with the book's training channels (a quarter of the paper's):
/// ((1, 16), (1, 32), (2, 64), (2, 128), (2, 128)).
template <class T>
nn::Sequential<T> vgg11(int64_t num_classes = 10, Generator& gen = default_generator()) {
  return vgg<T>({{1, 16}, {1, 32}, {2, 64}, {2, 128}, {2, 128}}, num_classes, gen);
}

}  // namespace convkit::models
