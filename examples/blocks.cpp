// d2l 7.4, 7.6 and 7.7: blocks whose forward is not a straight line, written by hand as a
// user writes them (typed sub-modules, registered under PyTorch's names), and the shapes
// they give, as the book prints them.
#include <convkit/convkit.hpp>
#include <iostream>
#include <memory>

namespace nn = ck::nn;
using T = ck::Tensor<float>;

// d2l's Residual (7.6): two 3x3 convolutions with batch norm, plus the input.
struct Residual : nn::Cloneable<Residual, float> {
  std::shared_ptr<nn::Conv2d<float>> conv1, conv2, conv3;
  std::shared_ptr<nn::BatchNorm2d<float>> bn1, bn2;
  Residual(int64_t in, int64_t channels, bool use_1x1conv = false, int64_t stride = 1) {
    conv1 = register_module(
        "conv1", std::make_shared<nn::Conv2d<float>>(in, channels, 3, ck::Conv2dOptions().padding(1).stride(stride)));
    conv2 = register_module("conv2",
                            std::make_shared<nn::Conv2d<float>>(channels, channels, 3, ck::Conv2dOptions().padding(1)));
    if (use_1x1conv)
      conv3 = register_module("conv3",
                              std::make_shared<nn::Conv2d<float>>(in, channels, 1, ck::Conv2dOptions().stride(stride)));
    bn1 = register_module("bn1", std::make_shared<nn::BatchNorm2d<float>>(channels));
    bn2 = register_module("bn2", std::make_shared<nn::BatchNorm2d<float>>(channels));
  }
  T forward(const T& x) override {
    T y = ck::relu(bn1->forward(conv1->forward(x)));
    y = bn2->forward(conv2->forward(y));
    return ck::relu(y + (conv3 ? conv3->forward(x) : x));
  }
};

// d2l's Inception block (7.4): four paths, concatenated along the channels.
struct Inception : nn::Cloneable<Inception, float> {
  std::shared_ptr<nn::Conv2d<float>> b1_1, b2_1, b2_2, b3_1, b3_2, b4_2;
  std::shared_ptr<nn::MaxPool2d<float>> b4_1;
  Inception(int64_t in, int64_t c1, ck::Pair2 c2, ck::Pair2 c3, int64_t c4) {
    using Conv = nn::Conv2d<float>;
    b1_1 = register_module("b1_1", std::make_shared<Conv>(in, c1, 1));
    b2_1 = register_module("b2_1", std::make_shared<Conv>(in, c2.h, 1));
    b2_2 = register_module("b2_2", std::make_shared<Conv>(c2.h, c2.w, 3, ck::Conv2dOptions().padding(1)));
    b3_1 = register_module("b3_1", std::make_shared<Conv>(in, c3.h, 1));
    b3_2 = register_module("b3_2", std::make_shared<Conv>(c3.h, c3.w, 5, ck::Conv2dOptions().padding(2)));
    b4_1 = register_module("b4_1", std::make_shared<nn::MaxPool2d<float>>(ck::Pool2dOptions(3).stride(1).padding(1)));
    b4_2 = register_module("b4_2", std::make_shared<Conv>(in, c4, 1));
  }
  T forward(const T& x) override {
    T p1 = ck::relu(b1_1->forward(x));
    T p2 = ck::relu(b2_2->forward(ck::relu(b2_1->forward(x))));
    T p3 = ck::relu(b3_2->forward(ck::relu(b3_1->forward(x))));
    T p4 = ck::relu(b4_2->forward(b4_1->forward(x)));
    return ck::cat(std::vector<T>{p1, p2, p3, p4}, 1);
  }
};

int main() {
  ck::manual_seed(0);
  const T X = T::uniform({4, 3, 6, 6}, -1.f, 1.f, ck::default_generator());
  std::cout << "Residual(3): " << Residual(3, 3).forward(X).shape() << "\n";
  std::cout << "Residual(6, use_1x1conv, stride 2): " << Residual(3, 6, true, 2).forward(X).shape() << "\n";
  Inception inception(192, 64, {96, 128}, {16, 32}, 32);
  std::cout << "Inception(192 -> 256): " << inception.forward(T::zeros({1, 192, 28, 28})).shape() << "\n";
  std::cout << "its parameters:";
  for (const auto& [name, p] : inception.named_parameters()) std::cout << " " << name;
  std::cout << "\n";
  ck::models::DenseBlock<float> dense(2, 3, 10);
  const T Y = dense.forward(T::uniform({4, 3, 8, 8}, -1.f, 1.f, ck::default_generator()));
  std::cout << "DenseBlock(2 convs, growth 10): " << Y.shape() << "\n";
  std::cout << "transition_block(23 -> 10): " << ck::models::transition_block<float>(23, 10).forward(Y).shape() << "\n";
  auto resnet = ck::models::resnet18<float>();
  resnet.eval();
  T h = T::zeros({1, 1, 96, 96});
  for (const auto& [name, layer] : resnet.children()) {
    h = layer->forward(h);
    std::cout << "ResNet-18 " << name << " output shape:\t " << h.shape() << "\n";
  }
}
