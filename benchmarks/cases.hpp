#pragma once
// The benchmark shapes, shared by bench.cpp; benchmarks/torch_peer.py lists the same ones.
#include <cstdint>
#include <string>
#include <vector>

struct ConvCase {
  std::string name;
  int64_t N, C, H, W, O, k, stride, pad, groups;
};

inline const std::vector<ConvCase>& conv_cases() {
  static const std::vector<ConvCase> cases = {
      {"lenet_conv1", 256, 1, 28, 28, 6, 5, 1, 2, 1},
      {"lenet_conv2", 256, 6, 14, 14, 16, 5, 1, 0, 1},
      {"conv3x3_mid", 32, 64, 56, 56, 64, 3, 1, 1, 1},
      {"conv3x3_deep", 32, 256, 14, 14, 256, 3, 1, 1, 1},
      {"alexnet_conv1", 8, 1, 224, 224, 96, 11, 4, 1, 1},
      {"alexnet_conv2", 32, 96, 26, 26, 256, 5, 1, 2, 1},
      {"conv1x1", 32, 256, 28, 28, 128, 1, 1, 0, 1},
      {"depthwise3x3", 32, 128, 28, 28, 128, 3, 1, 1, 128},
      // ResNet-18's convolution layers at batch 64 and 96x96 (d2l's Fashion-MNIST ResNet):
      // the stem, then each stage's 3x3 layer, its strided first 3x3 and its 1x1 shortcut.
      {"resnet18_stem7x7s2", 64, 1, 96, 96, 64, 7, 2, 3, 1},
      {"resnet18_l1_3x3", 64, 64, 24, 24, 64, 3, 1, 1, 1},
      {"resnet18_l2_3x3s2", 64, 64, 24, 24, 128, 3, 2, 1, 1},
      {"resnet18_l2_1x1s2", 64, 64, 24, 24, 128, 1, 2, 0, 1},
      {"resnet18_l2_3x3", 64, 128, 12, 12, 128, 3, 1, 1, 1},
      {"resnet18_l3_3x3s2", 64, 128, 12, 12, 256, 3, 2, 1, 1},
      {"resnet18_l3_1x1s2", 64, 128, 12, 12, 256, 1, 2, 0, 1},
      {"resnet18_l3_3x3", 64, 256, 6, 6, 256, 3, 1, 1, 1},
      {"resnet18_l4_3x3s2", 64, 256, 6, 6, 512, 3, 2, 1, 1},
      {"resnet18_l4_1x1s2", 64, 256, 6, 6, 512, 1, 2, 0, 1},
      {"resnet18_l4_3x3", 64, 512, 3, 3, 512, 3, 1, 1, 1},
  };
  return cases;
}
