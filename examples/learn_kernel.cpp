// d2l 6.2.4: learning the edge-detection kernel from X and Y by gradient descent.
#include <convkit/convkit.hpp>
#include <cstdio>
#include <iostream>

int main() {
  using Tensor = ck::Tensor<float>;
  ck::Generator gen(42);  // the learned kernel is the same on every run
  auto X = Tensor::ones({6, 8});
  for (int64_t i = 0; i < 6; ++i)
    for (int64_t j = 2; j < 6; ++j) X.data()[i * 8 + j] = 0;
  auto Y = ck::corr2d(X, Tensor::from({{1.0, -1.0}}));

  // One output channel, a (1, 2) kernel, no bias.
  ck::nn::Conv2d<float> conv2d(1, 1, {1, 2}, ck::Conv2dOptions().bias(false), gen);
  // Gluon's default initialiser, U(-0.07, 0.07), as in the book's run.
  ck::nn::init::uniform_(conv2d.weight(), -0.07f, 0.07f, gen);
  std::cout << conv2d << "\n";
  X = X.reshape({1, 1, 6, 8});
  Y = Y.reshape({1, 1, 6, 7});
  const float lr = 3e-2f;
  for (int i = 0; i < 10; ++i) {
    auto Y_hat = conv2d(X);
    auto l = (Y_hat - Y).pow(2);
    conv2d.zero_grad();
    l.sum().backward();
    {  // update the kernel in place, as the notebook does
      ck::NoGradGuard no_grad;
      conv2d.weight().add_(conv2d.weight().grad(), -lr);
    }
    if ((i + 1) % 2 == 0) std::printf("batch %d, loss %.3f\n", i + 1, static_cast<double>(l.sum().item()));
  }
  std::cout << conv2d.weight().detach().reshape({1, 2}) << "\n";
}
