// d2l 6.2.3: detecting the vertical edges of an image with the kernel [[1, -1]].
#include <convkit/convkit.hpp>
#include <iostream>

int main() {
  using Tensor = ck::Tensor<float>;
  auto X = Tensor::ones({6, 8});
  for (int64_t i = 0; i < 6; ++i)
    for (int64_t j = 2; j < 6; ++j) X.data()[i * 8 + j] = 0;  // X[:, 2:6] = 0
  std::cout << X << "\n\n";
  auto K = Tensor::from({{1.0, -1.0}});
  auto Y = ck::corr2d(X, K);
  std::cout << Y << "\n\n";
  // The kernel only detects vertical edges: on the transposed image it sees nothing.
  std::cout << ck::corr2d(X.transpose(), K) << "\n";
}
