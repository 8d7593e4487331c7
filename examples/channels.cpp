// d2l 6.4: multiple input and output channels, and the 1x1 convolution.
#include <cmath>
#include <convkit/convkit.hpp>
#include <iostream>

int main() {
  using Tensor = ck::Tensor<float>;
  auto X = Tensor::from(
      {{{0.0, 1.0, 2.0}, {3.0, 4.0, 5.0}, {6.0, 7.0, 8.0}}, {{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}, {7.0, 8.0, 9.0}}});
  auto K = Tensor::from({{{0.0, 1.0}, {2.0, 3.0}}, {{1.0, 2.0}, {3.0, 4.0}}});
  std::cout << X.shape() << "\n" << K.shape() << "\n";
  std::cout << ck::corr2d_multi_in(X, K) << "\n\n";

  K = ck::stack(std::vector<Tensor>{K, K + 1.f, K + 2.f}, 0);
  std::cout << K.shape() << "\n";
  std::cout << ck::corr2d_multi_in_out(X, K) << "\n\n";

  // A 1x1 convolution is a matrix product over the channels.
  ck::Generator gen(0);
  auto X3 = Tensor::uniform({3, 3, 3}, 0.f, 1.f, gen);
  auto K3 = Tensor::uniform({2, 3, 1, 1}, 0.f, 1.f, gen);
  auto Y1 = ck::corr2d_multi_in_out_1x1(X3, K3);
  auto Y2 = ck::corr2d_multi_in_out(X3, K3);
  std::cout << Y1.shape() << "\n";
  const float norm = std::sqrt((Y1 - Y2).pow(2).sum().item());
  std::cout << "(Y1 - Y2).norm() < 1e-6: " << (norm < 1e-6f ? "True" : "False") << "\n";
}
