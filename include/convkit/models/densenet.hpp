#pragma once
// d2l's DenseNet (chapter 7.7): dense blocks, in which every convolution's output is
// concatenated to its input along the channels, and transition blocks that halve the
// channels and the size; for 1x96x96 input.
#include <memory>
#include <sstream>

#include "../nn/layers.hpp"
#include "../nn/sequential.hpp"

namespace convkit::models {

/// d2l's conv_block: BatchNorm2d, ReLU, 3x3 convolution (padding 1) to `channels`.
template <class T>
nn::Sequential<T> dense_conv_block(int64_t in_channels, int64_t channels, Generator& gen = default_generator()) {
  return nn::Sequential<T>(nn::BatchNorm2d<T>(in_channels), nn::ReLU<T>(),
                           nn::Conv2d<T>(in_channels, channels, 3, Conv2dOptions().padding(1), gen));
}

/// d2l's DenseBlock: `convs` conv blocks of `growth` channels each; each block's output is
/// concatenated to its input, so the block adds convs * growth channels. Its blocks are
/// named net.0, net.1, ... as in d2l.
template <class T>
class DenseBlock : public nn::Cloneable<DenseBlock<T>, T> {
 public:
  /// A block on `in_channels` channels.
  DenseBlock(int64_t convs, int64_t in_channels, int64_t growth, Generator& gen = default_generator())
      : in_(in_channels), out_(in_channels + convs * growth) {
    nn::Sequential<T> blocks;
    for (int64_t i = 0; i < convs; ++i) blocks.push_back(dense_conv_block<T>(in_channels + i * growth, growth, gen));
    net_ = this->register_module("net", std::make_shared<nn::Sequential<T>>(blocks));
  }
  Tensor<T> forward(const Tensor<T>& x) override {
    Tensor<T> h = x;
    for (const auto& block : *net_) h = cat(std::vector<Tensor<T>>{h, block->forward(h)}, 1);
    return h;
  }
  /// Each convolution block's output joined to its input by Concat, as ONNX nodes.
  std::string to_onnx(onnx::GraphWriter<T>& g, const std::string& input, const std::string& prefix) const override {
    std::string h = input;
    for (const auto& [name, block] : net_->children())
      h = g.node("Concat", {h, block->to_onnx(g, h, prefix + "net." + name + ".")}, onnx::node_name(prefix),
                 {onnx::Attribute::integer("axis", 1)});
    return h;
  }
  std::string repr() const override {
    std::ostringstream os;
    os << "DenseBlock(" << in_ << " -> " << out_ << ", convs=" << net_->size() << ")";
    return os.str();
  }
  /// Channels out.
  int64_t out_channels() const { return out_; }

 private:
  int64_t in_, out_;
  std::shared_ptr<nn::Sequential<T>> net_;
};

/// d2l's transition_block: BatchNorm2d, ReLU, 1x1 convolution to `channels`, AvgPool2d(2, 2).
template <class T>
nn::Sequential<T> transition_block(int64_t in_channels, int64_t channels, Generator& gen = default_generator()) {
  return nn::Sequential<T>(nn::BatchNorm2d<T>(in_channels), nn::ReLU<T>(),
                           nn::Conv2d<T>(in_channels, channels, 1, Conv2dOptions(), gen),
                           nn::AvgPool2d<T>(Pool2dOptions(2).stride(2)));
}

/// DenseNet for 1x96x96 input as in d2l: b1 (7x7 conv to 64, batch norm, ReLU, max
/// pooling), four dense blocks of 4 convolutions with growth rate 32, a transition block
/// halving the channels between them, then BatchNorm2d, ReLU, global average pooling,
/// Flatten, Linear(248, num_classes). Names: 0.*, dense_blk1.*, tran_blk1.*, ..., last.*.
template <class T>
nn::Sequential<T> densenet(int64_t num_classes = 10, Generator& gen = default_generator()) {
  constexpr int64_t kGrowth = 32, kConvs = 4, kBlocks = 4;
  nn::Sequential<T> net;
  net.push_back(nn::Sequential<T>(nn::Conv2d<T>(1, 64, 7, Conv2dOptions().stride(2).padding(3), gen),
                                  nn::BatchNorm2d<T>(64), nn::ReLU<T>(),
                                  nn::MaxPool2d<T>(Pool2dOptions(3).stride(2).padding(1))));
  int64_t channels = 64;
  for (int64_t i = 0; i < kBlocks; ++i) {
    net.add_module("dense_blk" + std::to_string(i + 1), DenseBlock<T>(kConvs, channels, kGrowth, gen));
    channels += kConvs * kGrowth;
    if (i != kBlocks - 1) {
      net.add_module("tran_blk" + std::to_string(i + 1), transition_block<T>(channels, channels / 2, gen));
      channels /= 2;
    }
  }
  net.add_module("last",
                 nn::Sequential<T>(nn::BatchNorm2d<T>(channels), nn::ReLU<T>(), nn::AdaptiveAvgPool2d<T>({1, 1}),
                                   nn::Flatten<T>(), nn::Linear<T>(channels, num_classes, true, gen)));
  return net;
}

}  // namespace convkit::models
