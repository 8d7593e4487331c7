#pragma once
// CONVKIT_CONV_ALGO, an environment variable that forces a convolution method so that the
// tests and benchmarks can hold each kernel to the reference and to the others:
//   im2col    float and double layers through im2col and the GEMM
//   indirect  float layers through the lane kernels (conv_lanes.hpp), the direct kernel's too
// Unset (or anything else), each layer takes its own fastest method (conv.hpp).
#include <cstdlib>
#include <string>

namespace convkit::backend::cpu {

/// CONVKIT_CONV_ALGO's value, read once ("" when it is not set).
inline const std::string& forced_conv_algo() {
  static const std::string algo = [] {
    const char* env = std::getenv("CONVKIT_CONV_ALGO");
    return std::string(env ? env : "");
  }();
  return algo;
}

/// True when CONVKIT_CONV_ALGO (=im2col or =indirect) turns off the kernels that serve
/// particular shapes: Winograd, the batch lanes and Winograd over phase planes.
inline bool shape_kernels_off() {
  const std::string& algo = forced_conv_algo();
  return algo == "im2col" || algo == "indirect";
}

}  // namespace convkit::backend::cpu
