// d2l 6.6: the output shape of every LeNet layer for one 28x28 image.
#include <convkit/convkit.hpp>
#include <iostream>

int main() {
  ck::Generator gen(0);
  auto net = ck::models::lenet<float>(gen);
  std::cout << net << "\n\n";
  auto X = ck::Tensor<float>::uniform({1, 1, 28, 28}, 0.f, 1.f, gen);
  for (auto& layer : net) {
    X = layer->forward(X);
    const std::string repr = layer->repr();
    std::cout << repr.substr(0, repr.find('(')) << " output shape:\t " << X.shape() << "\n";
  }
}
