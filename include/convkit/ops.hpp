#pragma once
// Every functional op: the tensor layer plus convolution, pooling (adaptive too), batch
// normalisation, activations, dropout, loss and the d2l chapter's functions.
#include "ops/activation.hpp"
#include "ops/batch_norm.hpp"
#include "ops/conv.hpp"
#include "ops/d2l.hpp"
#include "ops/dropout.hpp"
#include "ops/loss.hpp"
#include "ops/pool.hpp"
#include "ops/reference.hpp"
#include "tensor.hpp"
