#pragma once
// The d2l layers: Conv2d, Linear, MaxPool2d, AvgPool2d, Sigmoid, ReLU, Tanh, Flatten,
// Dropout, BatchNorm1d, BatchNorm2d, AdaptiveAvgPool2d.
#include <cmath>
#include <string>

#include "../onnx/graph.hpp"
#include "../ops.hpp"
#include "module.hpp"

namespace convkit::nn {

namespace detail {
inline const char* yesno(bool b) { return b ? "True" : "False"; }
/// PyTorch's default initialisation: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
template <class T>
Tensor<T> default_init(const Shape& s, int64_t fan_in, Generator& gen) {
  const T bound = fan_in > 0 ? T(1) / std::sqrt(static_cast<T>(fan_in)) : T(0);
  return Tensor<T>::uniform(s, -bound, bound, gen);
}
}  // namespace detail

/// 2-D convolution over NCHW input: weight (out, in/groups, kh, kw), bias (out) unless
/// options.bias(false). The input's height and width are taken from the input.
template <class T>
class Conv2d : public Cloneable<Conv2d<T>, T> {
 public:
  /// Initialises the weight and bias with PyTorch's default (Kaiming-uniform, a = sqrt(5)) from `gen`; throws ck::Error
  /// on non-positive sizes.
  Conv2d(int64_t in_channels, int64_t out_channels, Pair2 kernel_size, const Conv2dOptions& options = Conv2dOptions(),
         Generator& gen = default_generator())
      : in_(in_channels), out_(out_channels), kernel_(kernel_size), options_(options) {
    CK_CHECK(in_channels > 0 && out_channels > 0, "nn::Conv2d: channels must be positive, got ", in_channels, " -> ",
             out_channels);
    CK_CHECK(kernel_size.h > 0 && kernel_size.w > 0, "nn::Conv2d: kernel size must be positive, got ",
             kernel_size.str());
    CK_CHECK(options.groups() > 0 && in_channels % options.groups() == 0 && out_channels % options.groups() == 0,
             "nn::Conv2d: channels ", in_channels, " -> ", out_channels, " are not divisible by groups ",
             options.groups());
    const int64_t fan_in = in_channels / options.groups() * kernel_size.h * kernel_size.w;
    weight_ = this->register_parameter(
        "weight", detail::default_init<T>({out_channels, in_channels / options.groups(), kernel_size.h, kernel_size.w},
                                          fan_in, gen));
    if (options.bias()) bias_ = this->register_parameter("bias", detail::default_init<T>({out_channels}, fan_in, gen));
  }
  Tensor<T> forward(const Tensor<T>& x) override { return conv2d(x, weight_, bias_, options_); }
  /// ONNX Conv.
  std::string to_onnx(onnx::GraphWriter<T>& g, const std::string& input, const std::string& prefix) const override {
    std::vector<std::string> in{input, g.initializer(prefix + "weight", weight_)};
    if (bias_.defined()) in.push_back(g.initializer(prefix + "bias", bias_));
    const Conv2dOptions& o = options_;
    return g.node("Conv", in, onnx::node_name(prefix),
                  {onnx::Attribute::integers("kernel_shape", {kernel_.h, kernel_.w}),
                   onnx::Attribute::integers("strides", {o.stride().h, o.stride().w}),
                   onnx::Attribute::integers("pads", {o.padding().h, o.padding().w, o.padding().h, o.padding().w}),
                   onnx::Attribute::integers("dilations", {o.dilation().h, o.dilation().w}),
                   onnx::Attribute::integer("group", o.groups())});
  }
  /// The (out, in/groups, kh, kw) weight.
  Tensor<T>& weight() { return weight_; }
  /// The (out) bias; undefined when options.bias(false).
  Tensor<T>& bias() { return bias_; }
  /// The options the layer was built with.
  const Conv2dOptions& options() const { return options_; }
  std::string repr() const override {
    std::string s =
        convkit::detail::cat("Conv2d(", in_, " -> ", out_, ", kernel_size=", kernel_, ", stride=", options_.stride());
    if (!(options_.padding() == Pair2(0))) s += convkit::detail::cat(", padding=", options_.padding());
    if (!(options_.dilation() == Pair2(1))) s += convkit::detail::cat(", dilation=", options_.dilation());
    if (options_.groups() != 1) s += convkit::detail::cat(", groups=", options_.groups());
    if (!options_.bias()) s += ", bias=False";
    return s + ")";
  }

 private:
  int64_t in_, out_;
  Pair2 kernel_;
  Conv2dOptions options_;
  Tensor<T> weight_, bias_;
};

/// Fully connected layer: (N, in) -> (N, out); weight (out, in), bias (out).
template <class T>
class Linear : public Cloneable<Linear<T>, T> {
 public:
  /// Initialises the (out, in) weight and (out) bias as PyTorch does, from `gen`; throws ck::Error on non-positive
  /// sizes.
  Linear(int64_t in_features, int64_t out_features, bool bias = true, Generator& gen = default_generator())
      : in_(in_features), out_(out_features) {
    CK_CHECK(in_features > 0 && out_features > 0, "nn::Linear: features must be positive, got ", in_features, " -> ",
             out_features);
    weight_ =
        this->register_parameter("weight", detail::default_init<T>({out_features, in_features}, in_features, gen));
    if (bias) bias_ = this->register_parameter("bias", detail::default_init<T>({out_features}, in_features, gen));
  }
  Tensor<T> forward(const Tensor<T>& x) override { return linear(x, weight_, bias_); }
  /// ONNX Gemm (x W^T + b) of a 2-D input.
  std::string to_onnx(onnx::GraphWriter<T>& g, const std::string& input, const std::string& prefix) const override {
    std::vector<std::string> in{input, g.initializer(prefix + "weight", weight_)};
    if (bias_.defined()) in.push_back(g.initializer(prefix + "bias", bias_));
    return g.node("Gemm", in, onnx::node_name(prefix), {onnx::Attribute::integer("transB", 1)});
  }
  /// The (out, in) weight.
  Tensor<T>& weight() { return weight_; }
  /// The (out) bias; undefined when built without one.
  Tensor<T>& bias() { return bias_; }
  std::string repr() const override {
    return convkit::detail::cat("Linear(", in_, " -> ", out_, bias_.defined() ? "" : ", bias=False", ")");
  }

 private:
  int64_t in_, out_;
  Tensor<T> weight_, bias_;
};

/// Max pooling over NCHW input (see max_pool2d).
template <class T>
class MaxPool2d : public Cloneable<MaxPool2d<T>, T> {
 public:
  /// A layer with these options; a bare number or pair is the kernel size.
  MaxPool2d(const Pool2dOptions& options) : options_(options) {}  // NOLINT(google-explicit-constructor)
  Tensor<T> forward(const Tensor<T>& x) override { return max_pool2d(x, options_); }
  /// ONNX MaxPool.
  std::string to_onnx(onnx::GraphWriter<T>& g, const std::string& input, const std::string& prefix) const override {
    std::vector<onnx::Attribute> a = onnx::pool_attributes(options_);
    a.push_back(onnx::Attribute::integers("dilations", {options_.dilation().h, options_.dilation().w}));
    return g.node("MaxPool", {input}, onnx::node_name(prefix), a);
  }
  /// The window, stride, padding and modes.
  const Pool2dOptions& options() const { return options_; }
  std::string repr() const override {
    return convkit::detail::cat("MaxPool2d(size=", options_.kernel_size(), ", stride=", options_.stride(),
                                ", padding=", options_.padding(), ", ceil_mode=", detail::yesno(options_.ceil_mode()),
                                ")");
  }

 private:
  Pool2dOptions options_;
};

/// Average pooling over NCHW input (see avg_pool2d).
template <class T>
class AvgPool2d : public Cloneable<AvgPool2d<T>, T> {
 public:
  /// A layer with these options; a bare number or pair is the kernel size.
  AvgPool2d(const Pool2dOptions& options) : options_(options) {}  // NOLINT(google-explicit-constructor)
  Tensor<T> forward(const Tensor<T>& x) override { return avg_pool2d(x, options_); }
  /// ONNX AveragePool (opset 17 has no dilations for it: a dilated window throws).
  std::string to_onnx(onnx::GraphWriter<T>& g, const std::string& input, const std::string& prefix) const override {
    CK_CHECK(options_.dilation() == Pair2(1), "onnx::save: ", repr(), " at '", prefix,
             "' is dilated, which ONNX's AveragePool (opset 17) cannot express");
    std::vector<onnx::Attribute> a = onnx::pool_attributes(options_);
    a.push_back(onnx::Attribute::integer("count_include_pad", options_.count_include_pad() ? 1 : 0));
    return g.node("AveragePool", {input}, onnx::node_name(prefix), a);
  }
  /// The window, stride, padding and modes.
  const Pool2dOptions& options() const { return options_; }
  std::string repr() const override {
    return convkit::detail::cat("AvgPool2d(size=", options_.kernel_size(), ", stride=", options_.stride(),
                                ", padding=", options_.padding(), ", ceil_mode=", detail::yesno(options_.ceil_mode()),
                                ", count_include_pad=", detail::yesno(options_.count_include_pad()), ")");
  }

 private:
  Pool2dOptions options_;
};

/// Elementwise logistic sigmoid.
template <class T>
class Sigmoid : public Cloneable<Sigmoid<T>, T> {
 public:
  Tensor<T> forward(const Tensor<T>& x) override { return sigmoid(x); }
  /// ONNX Sigmoid.
  std::string to_onnx(onnx::GraphWriter<T>& g, const std::string& input, const std::string& prefix) const override {
    return g.node("Sigmoid", {input}, onnx::node_name(prefix));
  }
  std::string repr() const override { return "Sigmoid()"; }
};

/// Elementwise max(x, 0).
template <class T>
class ReLU : public Cloneable<ReLU<T>, T> {
 public:
  Tensor<T> forward(const Tensor<T>& x) override { return relu(x); }
  /// ONNX Relu.
  std::string to_onnx(onnx::GraphWriter<T>& g, const std::string& input, const std::string& prefix) const override {
    return g.node("Relu", {input}, onnx::node_name(prefix));
  }
  std::string repr() const override { return "ReLU()"; }
};

/// Elementwise hyperbolic tangent.
template <class T>
class Tanh : public Cloneable<Tanh<T>, T> {
 public:
  Tensor<T> forward(const Tensor<T>& x) override { return tanh(x); }
  /// ONNX Tanh.
  std::string to_onnx(onnx::GraphWriter<T>& g, const std::string& input, const std::string& prefix) const override {
    return g.node("Tanh", {input}, onnx::node_name(prefix));
  }
  std::string repr() const override { return "Tanh()"; }
};

/// (N, d1, d2, ...) -> (N, d1*d2*...): a view, no copy.
template <class T>
class Flatten : public Cloneable<Flatten<T>, T> {
 public:
  Tensor<T> forward(const Tensor<T>& x) override {
    CK_CHECK(x.defined() && x.dim() >= 1, "nn::Flatten: input must have a batch dimension");
    return x.reshape({x.size(0), -1});
  }
  std::string repr() const override { return "Flatten()"; }
  /// ONNX Flatten (axis 1).
  std::string to_onnx(onnx::GraphWriter<T>& g, const std::string& input, const std::string& prefix) const override {
    return g.node("Flatten", {input}, onnx::node_name(prefix), {onnx::Attribute::integer("axis", 1)});
  }
};

/// Dropout (d2l 5.6): in training mode zeroes each element with probability p and scales
/// the others by 1 / (1 - p); in evaluation mode (eval()) passes the input through. It
/// draws its masks from a generator of its own, seeded from `gen` when it is made.
template <class T>
class Dropout : public Cloneable<Dropout<T>, T> {
 public:
  /// Drops with probability p, in [0, 1].
  explicit Dropout(double p = 0.5, Generator& gen = default_generator()) : p_(p), gen_(gen.engine()()) {
    CK_CHECK(p >= 0.0 && p <= 1.0, "nn::Dropout: p must be in [0, 1], got ", p);
  }
  Tensor<T> forward(const Tensor<T>& x) override { return dropout(x, p_, gen_, this->is_training()); }
  std::string repr() const override { return convkit::detail::cat("Dropout(p=", p_, ")"); }
  /// ONNX Identity: dropout passes its input through in evaluation.
  std::string to_onnx(onnx::GraphWriter<T>& g, const std::string& input, const std::string& prefix) const override {
    return g.node("Identity", {input}, onnx::node_name(prefix));
  }
  /// The probability of zeroing an element in training.
  double p() const { return p_; }

 private:
  double p_;
  Generator gen_;
};

/// Batch normalisation over channel dimension 1 (d2l 8.5), as PyTorch's BatchNorm1d and
/// BatchNorm2d: a learnable weight (1) and bias (0) per channel when affine, and the
/// buffers running_mean (0), running_var (1) and num_batches_tracked when tracking running
/// statistics. Training mode normalises with the batch's statistics and updates the running
/// ones; eval mode (eval()) uses the running ones.
template <class T>
class BatchNorm : public Module<T> {
 public:
  /// Batch norm over `num_features` channels; `name` ("BatchNorm2d") names the layer in messages.
  BatchNorm(const char* name, int64_t num_features, const BatchNormOptions& options)
      : name_(name), features_(num_features), options_(options) {
    CK_CHECK(num_features > 0, "nn::", name, ": num_features must be positive, got ", num_features);
    if (options.affine()) {
      weight_ = this->register_parameter("weight", Tensor<T>::ones(Shape{num_features}));
      bias_ = this->register_parameter("bias", Tensor<T>::zeros(Shape{num_features}));
    }
    if (options.track_running_stats()) {
      running_mean_ = this->register_buffer("running_mean", Tensor<T>::zeros(Shape{num_features}));
      running_var_ = this->register_buffer("running_var", Tensor<T>::ones(Shape{num_features}));
      num_batches_tracked_ = this->register_buffer("num_batches_tracked", Tensor<T>::zeros(Shape{}), true);
    }
  }
  Tensor<T> forward(const Tensor<T>& x) override {
    check_input(x);
    const bool batch_stats = this->is_training() || !options_.track_running_stats();
    if (this->is_training() && options_.track_running_stats()) {
      NoGradGuard no_grad;
      num_batches_tracked_.fill_(num_batches_tracked_.item() + T(1));
    }
    return batch_norm(x, running_mean_, running_var_, weight_, bias_, batch_stats, options_.momentum(), options_.eps());
  }
  /// ONNX BatchNormalization with the running statistics (evaluation mode).
  std::string to_onnx(onnx::GraphWriter<T>& g, const std::string& input, const std::string& prefix) const override {
    CK_CHECK(options_.track_running_stats(), "onnx::save: ", repr(), " at '", prefix,
             "' keeps no running statistics, so its evaluation uses each batch's: ONNX's inference graph cannot");
    const std::string scale =
        g.initializer(prefix + "weight", options_.affine() ? weight_ : Tensor<T>::ones(Shape{features_}));
    const std::string shift =
        g.initializer(prefix + "bias", options_.affine() ? bias_ : Tensor<T>::zeros(Shape{features_}));
    return g.node("BatchNormalization",
                  {input, scale, shift, g.initializer(prefix + "running_mean", running_mean_),
                   g.initializer(prefix + "running_var", running_var_)},
                  onnx::node_name(prefix), {onnx::Attribute::real("epsilon", static_cast<float>(options_.eps()))});
  }
  std::string repr() const override {
    return convkit::detail::cat(name_, "(", features_, ", eps=", options_.eps(), ", momentum=", options_.momentum(),
                                ", affine=", detail::yesno(options_.affine()),
                                ", track_running_stats=", detail::yesno(options_.track_running_stats()), ")");
  }
  /// The parameters and buffers (undefined where the options leave them out).
  ///@{
  const Tensor<T>& weight() const { return weight_; }
  const Tensor<T>& bias() const { return bias_; }
  const Tensor<T>& running_mean() const { return running_mean_; }
  const Tensor<T>& running_var() const { return running_var_; }
  const Tensor<T>& num_batches_tracked() const { return num_batches_tracked_; }
  ///@}
  /// The options the layer was built with.
  const BatchNormOptions& options() const { return options_; }

 protected:
  /// Throws ck::Error unless x has this layer's channel count (and, in subclasses, rank).
  virtual void check_input(const Tensor<T>& x) const {
    CK_CHECK(x.defined() && x.dim() >= 2 && x.size(1) == features_, "nn::", name_, "(", features_, "): input of shape ",
             x.defined() ? x.shape().str() : std::string("undefined"), " does not have ", features_,
             " channels in dimension 1");
  }

 private:
  const char* name_;
  int64_t features_;
  BatchNormOptions options_;
  Tensor<T> weight_, bias_, running_mean_, running_var_, num_batches_tracked_;
};

/// Batch normalisation of (N, C) or (N, C, L) input (after a Linear layer).
template <class T>
class BatchNorm1d : public BatchNorm<T> {
 public:
  /// Over `num_features` features.
  explicit BatchNorm1d(int64_t num_features, const BatchNormOptions& options = BatchNormOptions())
      : BatchNorm<T>("BatchNorm1d", num_features, options) {}
  typename Module<T>::Ptr clone_shared() const override { return std::make_shared<BatchNorm1d<T>>(*this); }

 protected:
  void check_input(const Tensor<T>& x) const override {
    CK_CHECK(x.defined() && (x.dim() == 2 || x.dim() == 3), "nn::BatchNorm1d: input must be (N, C) or (N, C, L), got ",
             x.defined() ? x.shape().str() : std::string("undefined"));
    BatchNorm<T>::check_input(x);
  }
};

/// Batch normalisation of (N, C, H, W) input (after a Conv2d layer).
template <class T>
class BatchNorm2d : public BatchNorm<T> {
 public:
  /// Over `num_features` channels.
  explicit BatchNorm2d(int64_t num_features, const BatchNormOptions& options = BatchNormOptions())
      : BatchNorm<T>("BatchNorm2d", num_features, options) {}
  typename Module<T>::Ptr clone_shared() const override { return std::make_shared<BatchNorm2d<T>>(*this); }

 protected:
  void check_input(const Tensor<T>& x) const override {
    CK_CHECK(x.defined() && x.dim() == 4, "nn::BatchNorm2d: input must be (N, C, H, W), got ",
             x.defined() ? x.shape().str() : std::string("undefined"));
    BatchNorm<T>::check_input(x);
  }
};

/// Average pooling to a fixed output size (PyTorch's bins); {1, 1} is global average pooling.
template <class T>
class AdaptiveAvgPool2d : public Cloneable<AdaptiveAvgPool2d<T>, T> {
 public:
  /// Pools to `output_size` (height, width).
  AdaptiveAvgPool2d(Pair2 output_size) : output_(output_size) {  // NOLINT(google-explicit-constructor)
    CK_CHECK(output_size.h > 0 && output_size.w > 0, "nn::AdaptiveAvgPool2d: output size must be positive, got ",
             output_size.str());
  }
  Tensor<T> forward(const Tensor<T>& x) override { return adaptive_avg_pool2d(x, output_); }
  std::string repr() const override { return "AdaptiveAvgPool2d(output_size=" + output_.str() + ")"; }
  /// ONNX GlobalAveragePool for a 1x1 output; other sizes depend on the input's, which an
  /// export does not fix, and throw.
  std::string to_onnx(onnx::GraphWriter<T>& g, const std::string& input, const std::string& prefix) const override {
    CK_CHECK(output_ == Pair2(1), "onnx::save: ", repr(), " at '", prefix,
             "': only a 1x1 output (GlobalAveragePool) has an ONNX form independent of the input size");
    return g.node("GlobalAveragePool", {input}, onnx::node_name(prefix));
  }
  /// The output size.
  const Pair2& output_size() const { return output_; }

 private:
  Pair2 output_;
};

}  // namespace convkit::nn
