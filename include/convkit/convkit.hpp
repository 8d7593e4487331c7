#pragma once
// convkit: a header-only C++17 tensor, convolution and autograd library.
//   #include <convkit/convkit.hpp>
//   namespace ck = convkit;
#include "data.hpp"
#include "nn.hpp"
#include "ops.hpp"
#include "version.hpp"

/// Short alias used throughout the documentation: ck::Tensor, ck::conv2d, ...
namespace ck = convkit;
