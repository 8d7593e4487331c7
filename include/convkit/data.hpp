#pragma once
// Data loading (IDX / MNIST / Fashion-MNIST, DataLoader) and checkpoints (safetensors).
// Needs zlib (the convkit::convkit CMake target links it).
#include "data/dataloader.hpp"
#include "data/idx.hpp"
#include "data/mnist.hpp"
#include "io/safetensors.hpp"
#include "util/metrics.hpp"
#include "util/plot.hpp"
#include "util/progress.hpp"
