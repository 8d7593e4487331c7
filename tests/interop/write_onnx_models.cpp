// Writes every model of ck::models, and a module of the user's own made of the library's
// layers (a residual block, ceil-mode and padded pooling, dropout), as ONNX into DIR, each
// with a safetensors file of a random input and convkit's output for it (evaluation mode,
// batch norm statistics drawn at random). check_onnx.py runs them in onnxruntime.
//   write_onnx_models DIR
#include <convkit/convkit.hpp>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "../model_cases.hpp"

int main(int argc, char** argv) try {
  if (argc != 2) {
    std::fprintf(stderr, "usage: write_onnx_models DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  std::vector<ModelCase> cases = model_cases();
  cases.push_back({"user_residual",
                   [](ck::Generator& g) {
                     namespace nn = ck::nn;
                     return nn::Sequential<float>(
                         nn::Conv2d<float>(1, 8, 3, ck::Conv2dOptions().padding(1), g), nn::BatchNorm2d<float>(8),
                         nn::ReLU<float>(), ck::models::Residual<float>(8, 8, false, 1, g),
                         nn::MaxPool2d<float>(ck::Pool2dOptions(3).stride(2).ceil_mode(true)),
                         nn::AvgPool2d<float>(ck::Pool2dOptions(3).stride(1).padding(1).count_include_pad(false)),
                         nn::Conv2d<float>(8, 12, 3, ck::Conv2dOptions().padding(2).dilation(2).groups(4), g),
                         nn::Tanh<float>(), ck::models::Residual<float>(12, 16, true, 2, g),
                         nn::AdaptiveAvgPool2d<float>({1, 1}), nn::Flatten<float>(), nn::Dropout<float>(0.5),
                         nn::Linear<float>(16, 10, true, g), nn::Sigmoid<float>());
                   },
                   19});
  for (const ModelCase& c : cases) {
    ck::Generator gen(11);
    auto net = c.make(gen);
    {
      ck::NoGradGuard no_grad;
      for (auto& [name, t] : net.named_buffers()) {
        if (name.find("running_mean") != std::string::npos)
          t.copy_(ck::Tensor<float>::uniform(t.shape(), -0.2f, 0.2f, gen));
        if (name.find("running_var") != std::string::npos)
          t.copy_(ck::Tensor<float>::uniform(t.shape(), 0.5f, 1.5f, gen));
      }
    }
    net.eval();
    const auto x = ck::Tensor<float>::uniform({2, 1, c.side, c.side}, 0.f, 1.f, gen);
    ck::NoGradGuard no_grad;
    const auto y = net(x);
    ck::onnx::save(net, ck::Shape{1, 1, c.side, c.side}, dir + "/" + c.name + ".onnx");
    ck::io::save_safetensors<float>(dir + "/" + c.name + ".safetensors", {{"input", x}, {"output", y}});
    std::printf("%s: input %s, output %s\n", c.name, x.shape().str().c_str(), y.shape().str().c_str());
  }
  return 0;
} catch (const ck::Error& e) {
  std::fprintf(stderr, "write_onnx_models: %s\n", e.what());
  return 1;
}
