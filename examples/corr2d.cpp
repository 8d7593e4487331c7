// d2l 6.2.1: the cross-correlation operation.
#include <convkit/convkit.hpp>
#include <iostream>

int main() {
  using Tensor = ck::Tensor<float>;
  auto X = Tensor::from({{0.0, 1.0, 2.0}, {3.0, 4.0, 5.0}, {6.0, 7.0, 8.0}});
  auto K = Tensor::from({{0.0, 1.0}, {2.0, 3.0}});
  std::cout << ck::corr2d(X, K) << "\n";
}
