#pragma once
// d2l's ResNet (chapter 7.6): residual blocks of two 3x3 convolutions with batch
// normalisation and a shortcut; ResNet-18 for 1x96x96 input.
#include <memory>
#include <sstream>

#include "../nn/layers.hpp"
#include "../nn/sequential.hpp"

namespace convkit::models {

/// d2l's Residual block:
///   Y = relu(bn1(conv1(X))); Y = bn2(conv2(Y)); relu(Y + (use_1x1conv ? conv3(X) : X))
/// conv1 3x3 (padding 1, stride `stride`), conv2 3x3 (padding 1), conv3 1x1 (stride
/// `stride`) to `channels`. Without conv3 the input must already have `channels` channels
/// and the stride must be 1. Parameter names as d2l's: conv1, conv2, conv3, bn1, bn2.
template <class T>
class Residual : public nn::Cloneable<Residual<T>, T> {
 public:
  /// A block from `in_channels` to `channels`.
  Residual(int64_t in_channels, int64_t channels, bool use_1x1conv = false, int64_t stride = 1,
           Generator& gen = default_generator()) {
    CK_CHECK(use_1x1conv || (in_channels == channels && stride == 1), "models::Residual: without the 1x1 convolution ",
             "the shortcut is the identity, so in_channels (", in_channels, ") must equal channels (", channels,
             ") and the stride (", stride, ") must be 1");
    using C = nn::Conv2d<T>;
    conv1_ = this->register_module(
        "conv1", std::make_shared<C>(in_channels, channels, 3, Conv2dOptions().padding(1).stride(stride), gen));
    conv2_ =
        this->register_module("conv2", std::make_shared<C>(channels, channels, 3, Conv2dOptions().padding(1), gen));
    if (use_1x1conv)
      conv3_ = this->register_module(
          "conv3", std::make_shared<C>(in_channels, channels, 1, Conv2dOptions().stride(stride), gen));
    bn1_ = this->register_module("bn1", std::make_shared<nn::BatchNorm2d<T>>(channels));
    bn2_ = this->register_module("bn2", std::make_shared<nn::BatchNorm2d<T>>(channels));
  }
  Tensor<T> forward(const Tensor<T>& x) override {
    Tensor<T> y = relu(bn1_->forward(conv1_->forward(x)));
    y = bn2_->forward(conv2_->forward(y));
    return relu(y + (conv3_ ? conv3_->forward(x) : x));
  }
  /// The same computation as ONNX nodes: two Conv + BatchNormalization, Add, Relu.
  std::string to_onnx(onnx::GraphWriter<T>& g, const std::string& input, const std::string& prefix) const override {
    std::string y = g.node("Relu", {bn1_->to_onnx(g, conv1_->to_onnx(g, input, prefix + "conv1."), prefix + "bn1.")},
                           onnx::node_name(prefix));
    y = bn2_->to_onnx(g, conv2_->to_onnx(g, y, prefix + "conv2."), prefix + "bn2.");
    const std::string shortcut = conv3_ ? conv3_->to_onnx(g, input, prefix + "conv3.") : input;
    return g.node("Relu", {g.node("Add", {y, shortcut}, onnx::node_name(prefix))}, onnx::node_name(prefix));
  }
  std::string repr() const override {
    std::ostringstream os;
    os << "Residual(" << conv1_->weight().size(1) << " -> " << conv1_->weight().size(0)
       << ", stride=" << conv1_->options().stride().h << (conv3_ ? ", use_1x1conv=True" : "") << ")";
    return os.str();
  }

 private:
  std::shared_ptr<nn::Conv2d<T>> conv1_, conv2_, conv3_;
  std::shared_ptr<nn::BatchNorm2d<T>> bn1_, bn2_;
};

/// ResNet-18 for 1x96x96 input: b1 (7x7 conv to 64, batch norm, ReLU, 3x3 max pooling),
/// four stages of two Residual blocks (64, 128, 256, 512 channels; each stage after the
/// first halves the size in its first block), then global average pooling, Flatten and
/// Linear(512, num_classes). Names match d2l's: 0.*, b2.*, b3.*, b4.*, b5.*, last.*.
template <class T>
nn::Sequential<T> resnet18(int64_t num_classes = 10, Generator& gen = default_generator()) {
  nn::Sequential<T> net;
  net.push_back(nn::Sequential<T>(nn::Conv2d<T>(1, 64, 7, Conv2dOptions().stride(2).padding(3), gen),
                                  nn::BatchNorm2d<T>(64), nn::ReLU<T>(),
                                  nn::MaxPool2d<T>(Pool2dOptions(3).stride(2).padding(1))));
  int64_t channels = 64;
  const int64_t widths[] = {64, 128, 256, 512};
  for (int i = 0; i < 4; ++i) {
    const int64_t out = widths[i];
    const bool first = i == 0;
    nn::Sequential<T> stage(Residual<T>(channels, out, !first, first ? 1 : 2, gen),
                            Residual<T>(out, out, false, 1, gen));
    net.add_module("b" + std::to_string(i + 2), stage);
    channels = out;
  }
  net.add_module("last", nn::Sequential<T>(nn::AdaptiveAvgPool2d<T>({1, 1}), nn::Flatten<T>(),
                                           nn::Linear<T>(512, num_classes, true, gen)));
  return net;
}

}  // namespace convkit::models
