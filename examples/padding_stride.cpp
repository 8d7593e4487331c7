// d2l 6.3: output shapes with padding and stride on an 8x8 input.
#include <convkit/convkit.hpp>
#include <iostream>

using Tensor = ck::Tensor<float>;

// As the notebook's comp_conv2d: add batch and channel dimensions, run, drop them again.
ck::Shape comp_conv2d(ck::nn::Conv2d<float>& conv2d, const Tensor& X) {
  auto Y = conv2d(X.reshape({1, 1, X.size(0), X.size(1)}));
  return ck::Shape{Y.size(2), Y.size(3)};
}

int main() {
  ck::Generator gen(0);
  auto X = Tensor::uniform({8, 8}, 0.f, 1.f, gen);
  std::cout << "X.shape: " << X.shape() << "\n";
  ck::nn::Conv2d<float> a(1, 1, 3, ck::Conv2dOptions().padding(1));
  std::cout << "kernel 3, padding 1:                      " << comp_conv2d(a, X) << "\n";
  ck::nn::Conv2d<float> b(1, 1, {5, 3}, ck::Conv2dOptions().padding({2, 1}));
  std::cout << "kernel (5, 3), padding (2, 1):            " << comp_conv2d(b, X) << "\n";
  ck::nn::Conv2d<float> c(1, 1, {7, 3}, ck::Conv2dOptions().padding({3, 1}));
  std::cout << "kernel (7, 3), padding (3, 1):            " << comp_conv2d(c, X) << "\n";
  ck::nn::Conv2d<float> d(1, 1, 3, ck::Conv2dOptions().padding(1).stride(2));
  std::cout << "kernel 3, padding 1, stride 2:            " << comp_conv2d(d, X) << "\n";
  ck::nn::Conv2d<float> e(1, 1, {3, 5}, ck::Conv2dOptions().padding({0, 1}).stride({3, 4}));
  std::cout << "kernel (3, 5), padding (0, 1), stride (3, 4): " << comp_conv2d(e, X) << "\n";
}
