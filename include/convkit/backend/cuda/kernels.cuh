#pragma once
// The CUDA side of a flat launch: a grid-stride loop (the mapping of launch.hpp) calling a
// per-element body, usually one of backend/kernels.hpp. Include from .cu files only.
#include <cuda_runtime.h>

#include <string>

#include "../../core/error.hpp"
#include "launch.hpp"

namespace convkit::backend::cuda {

inline void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw Error(convkit::detail::cat("CUDA error in ", what, ": ", cudaGetErrorString(status)));
}

template <class Body>
__global__ void flat_kernel(int64_t n, Body body) {
  for (int64_t i = first_element(blockIdx.x, blockDim.x, threadIdx.x); i < n; i += grid_stride(gridDim.x, blockDim.x))
    body(i);
}

/// Runs body(i) for i in [0, n) on the current device (a __device__ lambda or functor).
template <class Body>
void launch(const char* what, int64_t n, Body body) {
  if (n <= 0) return;
  const LaunchConfig cfg = launch_config(n);
  flat_kernel<<<static_cast<unsigned>(cfg.grid), static_cast<unsigned>(cfg.block)>>>(n, body);
  check(cudaGetLastError(), what);
}

}  // namespace convkit::backend::cuda
