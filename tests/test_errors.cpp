// Every invalid input throws ck::Error whose message names the op and the problem.
#include <doctest/doctest.h>

#include <convkit/convkit.hpp>
#include <string>

#include "test_util.hpp"

using TF = ck::Tensor<float>;

#define CHECK_ERROR(expr, ...)                                                         \
  do {                                                                                 \
    const std::string msg = error_of([&] { (void)(expr); });                           \
    for (const char* part : {__VA_ARGS__}) {                                           \
      INFO("message: " << msg);                                                        \
      CHECK_MESSAGE(msg.find(part) != std::string::npos, "expected '" << part << "'"); \
    }                                                                                  \
  } while (0)

TEST_CASE("tensor construction and access") {
  CHECK_ERROR(TF::from_vector({1, 2, 3}, {2, 2}), "from_vector", "3 values", "(2, 2)");
  CHECK_ERROR(TF::from({{1, 2}, {3}}), "ragged");
  CHECK_ERROR(TF::zeros({2, -1}), "negative dimension");
  CHECK_ERROR(TF::zeros({2}).item(), "item", "(2,)");
  CHECK_ERROR(TF::zeros({2, 3}).reshape({4, 2}), "reshape", "(2, 3)", "(4, 2)");
  CHECK_ERROR(TF::zeros({2, 3})[2], "select", "out of range");
  CHECK_ERROR(TF::zeros({2, 3}).size(2), "size", "out of range");
  CHECK_ERROR(TF().shape(), "undefined");
  CHECK_ERROR(TF::zeros({2, 3}) + TF::zeros({4}), "add", "(2, 3)", "(4,)", "broadcast");
  CHECK_ERROR(ck::matmul(TF::zeros({2, 3}), TF::zeros({2, 3})), "matmul", "inner dimensions");
  CHECK_ERROR(ck::stack(std::vector<TF>{TF::zeros({2}), TF::zeros({3})}), "stack", "shape");
  CHECK_ERROR(ck::Tensor<int64_t>::zeros({2}).requires_grad_(), "floating-point");
}

TEST_CASE("CUDA tensors where CUDA cannot be used") {
  if (ck::cuda_available()) {
    MESSAGE("skipped: a usable CUDA device is present, so there is nothing to refuse");
    return;
  }
  const char* why = ck::backend::cuda_compiled() ? "no usable CUDA device" : "without CUDA";
  CHECK_ERROR(TF::zeros({2}, ck::Device::cuda()), why);
  CHECK_ERROR(TF::zeros({2}).to(ck::Device::cuda(0)), why);
  CHECK(ck::usable_device(ck::Device::cuda()) == ck::Device::cpu());
}

TEST_CASE("autograd misuse") {
  CHECK_ERROR(TF::zeros({2}).requires_grad_().backward(), "backward", "one-element", "(2,)");
  CHECK_ERROR(TF::zeros({}).backward(), "backward", "does not require grad");
  auto x = TF::ones({2}).requires_grad_();
  auto l = (x * x).sum();
  l.backward();
  CHECK_ERROR(l.backward(), "already freed");
}

TEST_CASE("conv2d") {
  const auto x = TF::zeros({1, 3, 5, 5});
  CHECK_ERROR(ck::conv2d(TF::zeros({3, 5, 5}), TF::zeros({2, 3, 3, 3})), "conv2d", "4-D", "(3, 5, 5)");
  CHECK_ERROR(ck::conv2d(x, TF::zeros({2, 2, 3, 3})), "conv2d", "(2, 2, 3, 3)", "input channels per group");
  CHECK_ERROR(ck::conv2d(x, TF::zeros({2, 3, 7, 3})), "conv2d", "larger than the padded input", "(5, 5)");
  CHECK_ERROR(ck::conv2d(x, TF::zeros({2, 3, 3, 3}), TF(), ck::Conv2dOptions().stride(0)), "stride must be positive");
  CHECK_ERROR(ck::conv2d(x, TF::zeros({2, 3, 3, 3}), TF(), ck::Conv2dOptions().stride({1, -2})),
              "stride must be positive");
  CHECK_ERROR(ck::conv2d(x, TF::zeros({2, 3, 3, 3}), TF(), ck::Conv2dOptions().dilation(0)),
              "dilation must be positive");
  CHECK_ERROR(ck::conv2d(x, TF::zeros({2, 3, 3, 3}), TF(), ck::Conv2dOptions().padding(-1)),
              "padding must be non-negative");
  CHECK_ERROR(ck::conv2d(x, TF::zeros({2, 1, 3, 3}), TF(), ck::Conv2dOptions().groups(0)), "groups must be positive");
  CHECK_ERROR(ck::conv2d(x, TF::zeros({2, 1, 3, 3}), TF(), ck::Conv2dOptions().groups(2)), "not divisible by groups");
  CHECK_ERROR(ck::conv2d(TF::zeros({1, 4, 5, 5}), TF::zeros({3, 2, 3, 3}), TF(), ck::Conv2dOptions().groups(2)),
              "output channels", "not divisible by groups");
  CHECK_ERROR(ck::conv2d(x, TF::zeros({2, 3, 3, 3}), TF::zeros({3})), "bias must have shape (2,)");
  CHECK_ERROR(ck::Conv2dOptions().stride({1, 2, 3}), "one or two integers");
}

TEST_CASE("pooling") {
  const auto x = TF::zeros({1, 1, 4, 4});
  CHECK_ERROR(ck::max_pool2d(TF::zeros({4, 4}), ck::Pool2dOptions(2)), "max_pool2d", "4-D");
  CHECK_ERROR(ck::max_pool2d(x, ck::Pool2dOptions(0)), "kernel size must be positive");
  CHECK_ERROR(ck::max_pool2d(x, ck::Pool2dOptions(2).stride(0)), "stride must be positive");
  CHECK_ERROR(ck::max_pool2d(x, ck::Pool2dOptions(5)), "larger than the padded input");
  CHECK_ERROR(ck::max_pool2d(x, ck::Pool2dOptions(2).padding(2)), "lies entirely in padding");
  CHECK_ERROR(ck::max_pool2d(x, ck::Pool2dOptions(2).padding(-1)), "padding must be non-negative");
  CHECK_ERROR(ck::avg_pool2d(x, ck::Pool2dOptions(2).dilation(2)), "avg_pool2d", "dilation");
  CHECK_ERROR(ck::avg_pool2d(x, ck::Pool2dOptions(2).padding(2)), "avg_pool2d", "lies entirely in padding");
  CHECK_ERROR(ck::pool2d(TF::zeros({2, 2}), {3, 3}), "pool2d", "does not fit");
}

TEST_CASE("linear, activations, loss and the d2l functions") {
  CHECK_ERROR(ck::linear(TF::zeros({2, 3}), TF::zeros({4, 5})), "linear", "3 features", "(4, 5)");
  CHECK_ERROR(ck::linear(TF::zeros({2, 3}), TF::zeros({4, 3}), TF::zeros({3})), "linear", "bias");
  CHECK_ERROR(ck::sigmoid(TF()), "sigmoid", "undefined");
  CHECK_ERROR(ck::cross_entropy(TF::zeros({2, 3}), std::vector<int64_t>{0, 3}), "cross_entropy", "label 3",
              "out of range");
  CHECK_ERROR(ck::cross_entropy(TF::zeros({2, 3}), std::vector<int64_t>{-1, 0}), "label -1");
  CHECK_ERROR(ck::cross_entropy(TF::zeros({2, 3}), std::vector<int64_t>{0}), "cross_entropy", "2 rows");
  CHECK_ERROR(ck::cross_entropy(TF::zeros({3}), std::vector<int64_t>{0}), "cross_entropy", "2-D");
  CHECK_ERROR(ck::corr2d(TF::zeros({2, 2}), TF::zeros({3, 1})), "corr2d", "does not fit");
  CHECK_ERROR(ck::corr2d_multi_in(TF::zeros({2, 3, 3}), TF::zeros({3, 2, 2})), "corr2d_multi_in", "channels");
  CHECK_ERROR(ck::corr2d_multi_in_out_1x1(TF::zeros({2, 3, 3}), TF::zeros({1, 2, 2, 2})), "not a 1x1 kernel");
}

TEST_CASE("cross_entropy is stable for huge logits") {
  auto logits = TF::from({{1e4f, -1e4f, 0.f}, {-1e4f, 1e4f, 1e4f}}).requires_grad_();
  auto loss = ck::cross_entropy(logits, std::vector<int64_t>{1, 0});
  CHECK(std::isfinite(loss.item()));
  CHECK(loss.item() == doctest::Approx((2e4 + 2e4 + std::log(2.0)) / 2).epsilon(1e-5));
  loss.backward();
  for (float g : logits.grad().to_vector()) CHECK(std::isfinite(g));
}

TEST_CASE("messages print their parts as an ostream would") {
  const std::string text = "text";
  const ck::Shape shape{2, 3};
  CHECK(ck::detail::cat("a", text, ' ', -7, " ", uint64_t(18446744073709551615ull), " ", 0.25, " ", 1e-7f, " ", true,
                        " ", shape) == "atext -7 18446744073709551615 0.25 1e-07 1 (2, 3)");
  CHECK(ck::detail::hex_byte(13) == "0x0d");
  CHECK(ck::detail::cat() == "");
  const auto failing_check = [&] { CK_CHECK(text.empty(), "op: got ", int64_t(-3), " for ", shape); };
  CHECK(error_of(failing_check) == "op: got -3 for (2, 3)");
}

TEST_CASE("batch_norm, adaptive pooling and cat refuse bad input") {
  const auto x = TF::zeros({4, 3, 2, 2});
  CHECK_ERROR(ck::batch_norm(x, TF::zeros({2}), TF::ones({2}), TF(), TF(), true), "batch_norm", "running_mean", "(2,)",
              "3 channels");
  CHECK_ERROR(ck::batch_norm(x, TF::zeros({3}), TF::ones({3}), TF::ones({4}), TF(), false), "batch_norm", "weight",
              "(4,)");
  CHECK_ERROR(ck::batch_norm(TF::zeros({1, 3}), TF::zeros({3}), TF::ones({3}), TF(), TF(), true), "batch_norm",
              "more than one value per channel", "(1, 3)");
  CHECK_ERROR(ck::batch_norm(TF::zeros({1, 3, 1, 1}), TF::zeros({3}), TF::ones({3}), TF(), TF(), true),
              "more than one value per channel");
  CHECK_ERROR(ck::batch_norm(TF::zeros({4}), TF::zeros({4}), TF::ones({4}), TF(), TF(), true), "batch_norm", "(4,)");
  CHECK_ERROR(ck::batch_norm(x, TF(), TF(), TF(), TF(), false), "batch_norm", "eval mode needs running");
  CHECK_ERROR(ck::batch_norm(x, TF::zeros({3}), TF::ones({3}), TF(), TF(), true, 0.1, -1.0), "eps");
  // Eval mode with one value per channel is fine (inference on one image).
  CHECK(ck::batch_norm(TF::ones({1, 3}), TF::zeros({3}), TF::ones({3}), TF(), TF(), false).shape() == ck::Shape{1, 3});

  CHECK_ERROR(ck::adaptive_avg_pool2d(x, {0, 2}), "adaptive_avg_pool2d", "output size must be positive", "(0, 2)");
  CHECK_ERROR(ck::adaptive_avg_pool2d(TF::zeros({3, 2, 2}), {1, 1}), "adaptive_avg_pool2d", "4-D", "(3, 2, 2)");

  CHECK_ERROR(ck::cat(std::vector<TF>{}, 0), "cat", "no tensors");
  CHECK_ERROR(ck::cat(std::vector<TF>{TF::zeros({2, 3}), TF::zeros({3, 3})}, 1), "cat", "(3, 3)", "(2, 3)",
              "only in dimension 1");
  CHECK_ERROR(ck::cat(std::vector<TF>{TF::zeros({2, 3}), TF::zeros({2, 3, 1})}, 0), "cat", "rank");
  CHECK_ERROR(ck::cat(std::vector<TF>{TF::zeros({2, 3})}, 2), "cat", "dim 2 out of range");
  CHECK_ERROR(ck::cat(std::vector<TF>{TF::zeros({2, 3}), TF()}, 0), "cat", "tensor 1 is undefined");
}
