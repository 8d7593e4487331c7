#pragma once
// d2l's GoogLeNet (chapter 7.4): Inception blocks, whose four paths are concatenated along
// the channels; for 1x96x96 input.
#include <memory>
#include <sstream>

#include "../nn/layers.hpp"
#include "../nn/sequential.hpp"

namespace convkit::models {

/// The Inception block: four parallel paths whose outputs are concatenated along the
/// channels: a 1x1 convolution (c1); 1x1 (c2.h) then 3x3 (c2.w); 1x1 (c3.h) then 5x5
/// (c3.w); 3x3 max pooling then 1x1 (c4). Every convolution is followed by ReLU; the
/// height and width are kept. Parameter names as d2l's: b1_1, b2_1, b2_2, b3_1, b3_2, b4_2.
template <class T>
class Inception : public nn::Cloneable<Inception<T>, T> {
 public:
  /// An Inception block on `in_channels` channels, giving c1 + c2.w + c3.w + c4.
  Inception(int64_t in_channels, int64_t c1, Pair2 c2, Pair2 c3, int64_t c4, Generator& gen = default_generator())
      : out_(c1 + c2.w + c3.w + c4) {
    using C = nn::Conv2d<T>;
    b1_1_ = this->register_module("b1_1", std::make_shared<C>(in_channels, c1, 1, Conv2dOptions(), gen));
    b2_1_ = this->register_module("b2_1", std::make_shared<C>(in_channels, c2.h, 1, Conv2dOptions(), gen));
    b2_2_ = this->register_module("b2_2", std::make_shared<C>(c2.h, c2.w, 3, Conv2dOptions().padding(1), gen));
    b3_1_ = this->register_module("b3_1", std::make_shared<C>(in_channels, c3.h, 1, Conv2dOptions(), gen));
    b3_2_ = this->register_module("b3_2", std::make_shared<C>(c3.h, c3.w, 5, Conv2dOptions().padding(2), gen));
    b4_1_ = this->register_module("b4_1", std::make_shared<nn::MaxPool2d<T>>(Pool2dOptions(3).stride(1).padding(1)));
    b4_2_ = this->register_module("b4_2", std::make_shared<C>(in_channels, c4, 1, Conv2dOptions(), gen));
  }
  Tensor<T> forward(const Tensor<T>& x) override {
    const Tensor<T> p1 = relu(b1_1_->forward(x));
    const Tensor<T> p2 = relu(b2_2_->forward(relu(b2_1_->forward(x))));
    const Tensor<T> p3 = relu(b3_2_->forward(relu(b3_1_->forward(x))));
    const Tensor<T> p4 = relu(b4_2_->forward(b4_1_->forward(x)));
    return cat(std::vector<Tensor<T>>{p1, p2, p3, p4}, 1);
  }
  /// The four paths as ONNX nodes, joined by Concat along the channels.
  std::string to_onnx(onnx::GraphWriter<T>& g, const std::string& input, const std::string& prefix) const override {
    const std::string at = onnx::node_name(prefix);
    auto conv_relu = [&](const nn::Conv2d<T>& c, const std::string& x, const char* name) {
      return g.node("Relu", {c.to_onnx(g, x, prefix + name + ".")}, at);
    };
    const std::string p1 = conv_relu(*b1_1_, input, "b1_1");
    const std::string p2 = conv_relu(*b2_2_, conv_relu(*b2_1_, input, "b2_1"), "b2_2");
    const std::string p3 = conv_relu(*b3_2_, conv_relu(*b3_1_, input, "b3_1"), "b3_2");
    const std::string p4 = conv_relu(*b4_2_, b4_1_->to_onnx(g, input, prefix + "b4_1."), "b4_2");
    return g.node("Concat", {p1, p2, p3, p4}, at, {onnx::Attribute::integer("axis", 1)});
  }
  std::string repr() const override {
    std::ostringstream os;
    os << "Inception(" << b1_1_->weight().size(1) << " -> " << out_ << ")";
    return os.str();
  }

 private:
  int64_t out_;
  std::shared_ptr<nn::Conv2d<T>> b1_1_, b2_1_, b2_2_, b3_1_, b3_2_, b4_2_;
  std::shared_ptr<nn::MaxPool2d<T>> b4_1_;
};

/// GoogLeNet for 1x96x96 input: five stages (b1: 7x7 conv, b2: 1x1 and 3x3 convs, b3: two
/// Inception blocks, b4: five, b5: two and global average pooling), then Linear(1024,
/// num_classes). Names match d2l's nn.Sequential(b1, ..., b5, LazyLinear).
template <class T>
nn::Sequential<T> googlenet(int64_t num_classes = 10, Generator& gen = default_generator()) {
  using I = Inception<T>;
  const auto pool = Pool2dOptions(3).stride(2).padding(1);
  nn::Sequential<T> b1(nn::Conv2d<T>(1, 64, 7, Conv2dOptions().stride(2).padding(3), gen), nn::ReLU<T>(),
                       nn::MaxPool2d<T>(pool));
  nn::Sequential<T> b2(nn::Conv2d<T>(64, 64, 1, Conv2dOptions(), gen), nn::ReLU<T>(),
                       nn::Conv2d<T>(64, 192, 3, Conv2dOptions().padding(1), gen), nn::ReLU<T>(),
                       nn::MaxPool2d<T>(pool));
  nn::Sequential<T> b3(I(192, 64, {96, 128}, {16, 32}, 32, gen), I(256, 128, {128, 192}, {32, 96}, 64, gen),
                       nn::MaxPool2d<T>(pool));
  nn::Sequential<T> b4(I(480, 192, {96, 208}, {16, 48}, 64, gen), I(512, 160, {112, 224}, {24, 64}, 64, gen),
                       I(512, 128, {128, 256}, {24, 64}, 64, gen), I(512, 112, {144, 288}, {32, 64}, 64, gen),
                       I(528, 256, {160, 320}, {32, 128}, 128, gen), nn::MaxPool2d<T>(pool));
  nn::Sequential<T> b5(I(832, 256, {160, 320}, {32, 128}, 128, gen), I(832, 384, {192, 384}, {48, 128}, 128, gen),
                       nn::AdaptiveAvgPool2d<T>({1, 1}), nn::Flatten<T>());
  return nn::Sequential<T>(b1, b2, b3, b4, b5, nn::Linear<T>(1024, num_classes, true, gen));
}

}  // namespace convkit::models
