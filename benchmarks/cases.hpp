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
      {"lenet_conv1", 256, 1, 28, 28, 6, 5, 1, 2, 1},       {"lenet_conv2", 256, 6, 14, 14, 16, 5, 1, 0, 1},
      {"conv3x3_mid", 32, 64, 56, 56, 64, 3, 1, 1, 1},      {"conv3x3_deep", 32, 256, 14, 14, 256, 3, 1, 1, 1},
      {"alexnet_conv1", 8, 1, 224, 224, 96, 11, 4, 1, 1},   {"conv1x1", 32, 256, 28, 28, 128, 1, 1, 0, 1},
      {"depthwise3x3", 32, 128, 28, 28, 128, 3, 1, 1, 128},
  };
  return cases;
}
