// d2l 6.5: maximum and average pooling, padding and stride, multiple channels.
#include <convkit/convkit.hpp>
#include <iostream>

int main() {
  using Tensor = ck::Tensor<float>;
  auto X = Tensor::from({{0.0, 1.0, 2.0}, {3.0, 4.0, 5.0}, {6.0, 7.0, 8.0}});
  std::cout << ck::pool2d(X, {2, 2}) << "\n";
  std::cout << ck::pool2d(X, {2, 2}, ck::PoolMode::Avg) << "\n\n";

  X = Tensor::arange(16).reshape({1, 1, 4, 4});
  std::cout << X << "\n";
  ck::nn::MaxPool2d<float> pool(ck::Pool2dOptions(3));
  std::cout << pool << "\n" << pool(X) << "\n";
  ck::nn::MaxPool2d<float> pool2(ck::Pool2dOptions(3).padding(1).stride(2));
  std::cout << pool2(X) << "\n";
  ck::nn::MaxPool2d<float> pool3(ck::Pool2dOptions({2, 3}).padding({1, 2}).stride({2, 3}));
  std::cout << pool3(X) << "\n\n";

  // Two channels: pooling works on each channel separately.
  X = ck::stack(std::vector<Tensor>{X[0][0], X[0][0] + 1.f}, 0).reshape({1, 2, 4, 4});
  std::cout << X << "\n";
  std::cout << pool2(X) << "\n";
}
