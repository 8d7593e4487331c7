#pragma once
/// \mainpage convkit API reference
/// convkit is a header-only C++17 tensor, convolution and autograd library built from the
/// convolutional chapters of Dive into Deep Learning. Start with convkit::Tensor,
/// convkit::conv2d, convkit::nn::Sequential and convkit::optim::SGD; the README in the
/// repository has the quick start, the examples and the design.
// convkit: a header-only C++17 tensor, convolution and autograd library.
//   #include <convkit/convkit.hpp>
//   namespace ck = convkit;
#include "data.hpp"
#include "nn.hpp"
#include "onnx/onnx.hpp"
#include "ops.hpp"
#include "version.hpp"

/// Short alias used throughout the documentation: ck::Tensor, ck::conv2d, ...
namespace ck = convkit;
