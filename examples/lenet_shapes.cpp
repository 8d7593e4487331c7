// d2l 6.6: the output shape of every LeNet layer for one 28x28 image.
#include "layer_shapes.hpp"

int main() {
  ck::Generator gen(0);
  auto net = ck::models::lenet<float>(gen);
  print_layer_shapes(net, ck::Tensor<float>::uniform({1, 1, 28, 28}, 0.f, 1.f, gen));
}
