#pragma once
// convkit's tensor layer only: Tensor, autograd, elementwise math, reductions, matmul,
// printing. Include <convkit/convkit.hpp> for everything.
#include "autograd/engine.hpp"
#include "core/tensor.hpp"
#include "core/threads.hpp"
#include "ops/elementwise.hpp"
#include "ops/linear.hpp"
#include "ops/reduce.hpp"
#include "ops/shape_ops.hpp"
#include "util/print.hpp"
