// A user's .cu file: convkit's headers compiled by nvcc, next to a kernel of the user's own
// that calls a convkit per-element body on CUDA tensors' device memory.
#include <convkit/backend/cuda/kernels.cuh>
#include <convkit/convkit.hpp>
#include <cstdio>

int main() {
  if (!ck::cuda_available()) {
    std::printf("nvcc_user: no usable CUDA device here; built with nvcc, nothing run on a GPU\n");
    return 77;
  }
  auto x = ck::Tensor<float>::arange(16).reshape({1, 1, 4, 4}).to(ck::Device::cuda());
  auto y = ck::max_pool2d(x, ck::Pool2dOptions(2));
  const auto v = y.to_vector();
  std::printf("max_pool2d on the GPU: %g %g %g %g\n", v[0], v[1], v[2], v[3]);
  return v == std::vector<float>{5, 7, 13, 15} ? 0 : 1;
}
