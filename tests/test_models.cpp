// The d2l models of ck::models against the same architectures built in PyTorch
// (tests/data/models/models.txt, written by make_reference.py beside it): every
// state_dict entry's name and shape in order, the parameter count, and the output shape
// after each top-level layer on one image.
#include <doctest/doctest.h>

#include <cmath>
#include <convkit/convkit.hpp>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Reference {
  int64_t side = 0, params = 0;
  std::vector<std::pair<std::string, ck::Shape>> state, outputs;
};

std::map<std::string, Reference> load_reference() {
  std::ifstream in(std::string(CONVKIT_TEST_DATA_DIR) + "/models/models.txt");
  REQUIRE(in.good());
  std::map<std::string, Reference> refs;
  std::string line, current;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string kind, name;
    ls >> kind;
    if (kind == "model") {
      ls >> current;
      ls >> refs[current].side >> refs[current].params;
    } else if (kind == "state" || kind == "output") {
      ls >> name;
      std::vector<int64_t> dims;
      for (int64_t d; ls >> d;) dims.push_back(d);
      (kind == "state" ? refs[current].state : refs[current].outputs).emplace_back(name, ck::Shape(dims));
    }
  }
  return refs;
}

void check_model(const std::string& name, ck::nn::Sequential<float> net, const Reference& ref) {
  INFO("model " << name);
  REQUIRE(ref.side > 0);
  const auto state = net.state();
  REQUIRE(state.size() == ref.state.size());
  for (size_t i = 0; i < state.size(); ++i) {
    CHECK(state[i].name == ref.state[i].first);
    CHECK_MESSAGE(state[i].tensor.shape() == ref.state[i].second, state[i].name << " " << state[i].tensor.shape());
  }
  int64_t params = 0;
  for (const auto& p : net.parameters()) params += p.numel();
  CHECK(params == ref.params);
  net.eval();
  ck::NoGradGuard no_grad;
  ck::Tensor<float> x = ck::Tensor<float>::zeros({1, 1, ref.side, ref.side});
  REQUIRE(net.children().size() == ref.outputs.size());
  for (size_t i = 0; i < ref.outputs.size(); ++i) {
    // Not a structured binding: Clang 14 cannot capture one in doctest's message lambda.
    const std::string& child_name = net.children()[i].first;
    CHECK(child_name == ref.outputs[i].first);
    x = net.children()[i].second->forward(x);
    CHECK_MESSAGE(x.shape() == ref.outputs[i].second, child_name << ": " << x.shape());
  }
}

}  // namespace

TEST_CASE("d2l models: state_dict names and shapes, parameter counts and layer outputs equal PyTorch's") {
  const auto refs = load_reference();
  const std::map<std::string, std::function<ck::nn::Sequential<float>()>> models = {
      {"lenet_bn", [] { return ck::models::lenet_bn<float>(); }},
      {"alexnet", [] { return ck::models::alexnet<float>(); }},
      {"vgg11", [] { return ck::models::vgg11<float>(); }},
      {"nin", [] { return ck::models::nin<float>(); }},
      {"googlenet", [] { return ck::models::googlenet<float>(); }},
      {"resnet18", [] { return ck::models::resnet18<float>(); }},
      {"densenet", [] { return ck::models::densenet<float>(); }},
  };
  REQUIRE(refs.size() == models.size());
  for (const auto& [name, make] : models) {
    REQUIRE(refs.count(name) == 1);
    check_model(name, make(), refs.at(name));
  }
}

TEST_CASE("train() and eval() reach batch norm and dropout through the whole tree") {
  auto net = ck::models::resnet18<float>();
  auto& bn = dynamic_cast<ck::nn::BatchNorm2d<float>&>(*net[1].children()[0].second->children()[3].second);
  CHECK(bn.is_training());
  net.eval();
  CHECK_FALSE(bn.is_training());
  net.train();
  CHECK(bn.is_training());
  // A training step updates the running statistics and counts the batch; eval mode does not.
  auto x = ck::Tensor<float>::uniform({2, 1, 32, 32}, -1.f, 1.f, ck::default_generator());
  net.forward(x);
  CHECK(bn.num_batches_tracked().item() == 1.f);
  const auto mean = bn.running_mean().to_vector();
  net.eval();
  net.forward(x);
  CHECK(bn.num_batches_tracked().item() == 1.f);
  CHECK(bn.running_mean().to_vector() == mean);
}

TEST_CASE("initialize() sets convolution and linear weights and keeps batch norm's identity scale") {
  auto net = ck::models::lenet_bn<float>();
  ck::Generator gen(3);
  ck::nn::init::initialize(net, ck::nn::init::Scheme::XavierUniform, gen);
  const auto& bn = net.at<ck::nn::BatchNorm2d<float>>(1);
  for (float v : bn.weight().to_vector()) CHECK(v == 1.f);
  for (float v : bn.bias().to_vector()) CHECK(v == 0.f);
  for (float v : net.at<ck::nn::Conv2d<float>>(0).bias().to_vector()) CHECK(v == 0.f);
  // Xavier's bound for the first convolution: sqrt(6 / (25 + 150)).
  float largest = 0;
  for (float v : net.at<ck::nn::Conv2d<float>>(0).weight().to_vector()) largest = std::max(largest, std::fabs(v));
  CHECK(largest > 0.1f);
  CHECK(largest <= static_cast<float>(std::sqrt(6.0 / 175.0)));
}

TEST_CASE("a Sequential copied from a Sequential is a copy, not a Sequential wrapping it") {
  auto inner = ck::models::vgg_block<float>(1, 1, 4);
  ck::nn::Sequential<float> copy(inner);
  CHECK(copy.size() == inner.size());
  CHECK(copy.state().size() == inner.state().size());
  ck::nn::Sequential<float> nested(inner, ck::nn::Flatten<float>());  // two layers: a nesting
  CHECK(nested.size() == 2);
  CHECK(nested.state()[0].name == "0.0.weight");
}
