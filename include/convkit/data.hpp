#pragma once
// Data loading (datasets: tensors, image folders, MNIST / Fashion-MNIST; transforms; the
// DataLoader) and checkpoints (safetensors). Needs zlib, libpng, libjpeg and stb_image (the
// convkit::convkit CMake target links them).
#include "data/dataloader.hpp"
#include "data/dataset.hpp"
#include "data/idx.hpp"
#include "data/image.hpp"
#include "data/image_folder.hpp"
#include "data/mnist.hpp"
#include "data/transforms.hpp"
#include "io/safetensors.hpp"
#include "util/metrics.hpp"
#include "util/plot.hpp"
#include "util/progress.hpp"
