// d2l 7.1: the output shape of every AlexNet layer for one 224x224 image.
#include "layer_shapes.hpp"

int main() {
  ck::Generator gen(0);
  auto net = ck::models::alexnet<float>(gen);
  print_layer_shapes(net, ck::Tensor<float>::uniform({1, 1, 224, 224}, 0.f, 1.f, gen));
}
