#pragma once
// How a flat index space of n elements maps onto a CUDA grid (a grid-stride loop), and an
// emulated launch that runs the same mapping on the CPU, so the tests exercise every
// kernel's index arithmetic without a GPU.
#include <cstdint>

#include "../../core/geometry.hpp"  // CK_HOST_DEVICE

namespace convkit::backend::cuda {

/// A 1-D launch: `grid` blocks of `block` threads.
struct LaunchConfig {
  /// Blocks and threads per block.
  ///@{
  int64_t grid, block;
  ///@}
};

/// 256 threads a block; enough blocks to cover n, capped so huge tensors loop instead.
inline LaunchConfig launch_config(int64_t n) {
  const int64_t block = 256;
  int64_t grid = (n + block - 1) / block;
  if (grid > 8192) grid = 8192;
  if (grid < 1) grid = 1;
  return {grid, block};
}

/// The elements thread (block_idx, thread_idx) handles: first, first + stride, ... < n.
CK_HOST_DEVICE inline int64_t first_element(int64_t block_idx, int64_t block_dim, int64_t thread_idx) {
  return block_idx * block_dim + thread_idx;
}
CK_HOST_DEVICE inline int64_t grid_stride(int64_t grid_dim, int64_t block_dim) { return grid_dim * block_dim; }

/// Runs body(i) for every element, visiting blocks and threads as a CUDA launch would.
template <class Body>
void emulate_launch(int64_t n, Body body) {
  const LaunchConfig cfg = launch_config(n);
  for (int64_t b = 0; b < cfg.grid; ++b)
    for (int64_t t = 0; t < cfg.block; ++t)
      for (int64_t i = first_element(b, cfg.block, t); i < n; i += grid_stride(cfg.grid, cfg.block)) body(i);
}

}  // namespace convkit::backend::cuda
