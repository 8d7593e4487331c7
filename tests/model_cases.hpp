#pragma once
// Every model of ck::models with the image side it is built for (the book's input sizes),
// shared by the tests that run all of them.
#include <convkit/convkit.hpp>
#include <functional>
#include <vector>

/// A model of ck::models and its input side.
struct ModelCase {
  const char* name;
  std::function<ck::nn::Sequential<float>(ck::Generator&)> make;
  int64_t side;
};

inline const std::vector<ModelCase>& model_cases() {
  static const std::vector<ModelCase> cases = {
      {"lenet", [](ck::Generator& g) { return ck::models::lenet<float>(g); }, 28},
      {"lenet_bn", [](ck::Generator& g) { return ck::models::lenet_bn<float>(10, g); }, 28},
      {"alexnet", [](ck::Generator& g) { return ck::models::alexnet<float>(g); }, 224},
      {"vgg11", [](ck::Generator& g) { return ck::models::vgg11<float>(10, g); }, 224},
      {"nin", [](ck::Generator& g) { return ck::models::nin<float>(10, g); }, 224},
      {"googlenet", [](ck::Generator& g) { return ck::models::googlenet<float>(10, g); }, 96},
      {"resnet18", [](ck::Generator& g) { return ck::models::resnet18<float>(10, g); }, 96},
      {"densenet", [](ck::Generator& g) { return ck::models::densenet<float>(10, g); }, 96},
  };
  return cases;
}
