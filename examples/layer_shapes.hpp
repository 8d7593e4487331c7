#pragma once
// What d2l's shape cells do: print a network, then run one input through it layer by
// layer, printing each layer's output shape.
#include <convkit/convkit.hpp>
#include <iostream>
#include <string>

inline void print_layer_shapes(ck::nn::Sequential<float>& net, ck::Tensor<float> X) {
  std::cout << net << "\n\n";
  for (auto& layer : net) {
    X = layer->forward(X);
    const std::string repr = layer->repr();
    std::cout << repr.substr(0, repr.find('(')) << " output shape:\t " << X.shape() << "\n";
  }
}
