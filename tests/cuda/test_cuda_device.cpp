// The device suite: every op on a CUDA device against the golden files and the CPU backend.
// Built only with -DCONVKIT_CUDA=ON. Where there is no usable device (as on convkit's CI
// machines) it prints why and exits with 77, which ctest reports as "Skipped".
#define DOCTEST_CONFIG_IMPLEMENT
#include <cstdio>

#include "../golden.hpp"

namespace {
const ck::Device gpu = ck::Device::cuda(0);
template <class T>
ck::Tensor<T> on_gpu(const golden::Array& a) {
  return a.as<T>().to(gpu).detach().requires_grad_();
}
}  // namespace

TEST_CASE_TEMPLATE("conv2d on the GPU matches the golden cases", T, float, double) {
  const double tol = std::is_same<T, double>::value ? 1e-9 : 1e-4;
  for (const auto& c : golden::load("conv2d")) {
    auto x = on_gpu<T>(c.at("x")), w = on_gpu<T>(c.at("w"));
    const bool bias = c.attr("bias", {0}).at(0) == 1;
    ck::Tensor<T> b = bias ? on_gpu<T>(c.at("b")) : ck::Tensor<T>();
    const auto opts = ck::Conv2dOptions()
                          .stride(c.pair("stride", 1))
                          .padding(c.pair("padding", 0))
                          .dilation(c.pair("dilation", 1))
                          .groups(c.attr("groups", {1}).at(0));
    auto y = ck::conv2d(x, w, b, opts);
    CHECK(y.device() == gpu);
    golden::check_close(y, c.at("y"), tol, c.name + " y");
    (y * c.at("gy").as<T>().to(gpu)).sum().backward();
    golden::check_close(x.grad(), c.at("gx"), tol, c.name + " gx");
    golden::check_close(w.grad(), c.at("gw"), tol, c.name + " gw");
    if (bias) golden::check_close(b.grad(), c.at("gb"), tol, c.name + " gb");
  }
}

TEST_CASE_TEMPLATE("pooling, linear, activations and loss on the GPU match the golden cases", T, float, double) {
  const double tol = std::is_same<T, double>::value ? 1e-9 : 1e-4;
  for (const auto& c : golden::load("max_pool2d")) {
    auto x = on_gpu<T>(c.at("x"));
    auto y = ck::max_pool2d(x, ck::Pool2dOptions(c.pair("kernel", 1))
                                   .stride(c.pair("stride", 1))
                                   .padding(c.pair("padding", 0))
                                   .dilation(c.pair("dilation", 1))
                                   .ceil_mode(c.attr("ceil_mode", {0}).at(0) == 1));
    golden::check_close(y, c.at("y"), tol, c.name + " y");
    (y * c.at("gy").as<T>().to(gpu)).sum().backward();
    golden::check_close(x.grad(), c.at("gx"), tol, c.name + " gx");
  }
  for (const auto& c : golden::load("avg_pool2d")) {
    auto x = on_gpu<T>(c.at("x"));
    auto y = ck::avg_pool2d(x, ck::Pool2dOptions(c.pair("kernel", 1))
                                   .stride(c.pair("stride", 1))
                                   .padding(c.pair("padding", 0))
                                   .ceil_mode(c.attr("ceil_mode", {0}).at(0) == 1)
                                   .count_include_pad(c.attr("count_include_pad", {1}).at(0) == 1));
    golden::check_close(y, c.at("y"), tol, c.name + " y");
    (y * c.at("gy").as<T>().to(gpu)).sum().backward();
    golden::check_close(x.grad(), c.at("gx"), tol, c.name + " gx");
  }
  for (const auto& c : golden::load("linear")) {
    auto x = on_gpu<T>(c.at("x")), w = on_gpu<T>(c.at("w")), b = on_gpu<T>(c.at("b"));
    auto y = ck::linear(x, w, b);
    golden::check_close(y, c.at("y"), tol, c.name + " y");
    (y * c.at("gy").as<T>().to(gpu)).sum().backward();
    golden::check_close(w.grad(), c.at("gw"), tol, c.name + " gw");
  }
  for (const auto& c : golden::load("activations")) {
    auto x = on_gpu<T>(c.at("x"));
    const int64_t kind = c.attr("kind").at(0);
    auto y = kind == 0 ? ck::sigmoid(x) : kind == 1 ? ck::relu(x) : ck::tanh(x);
    golden::check_close(y, c.at("y"), tol, c.name + " y");
  }
  for (const auto& c : golden::load("cross_entropy")) {
    auto logits = on_gpu<T>(c.at("logits"));
    auto loss = ck::cross_entropy(logits, c.at("labels").as_labels());
    golden::check_close(loss, c.at("loss"), tol, c.name + " loss");
    loss.backward();
    golden::check_close(logits.grad(), c.at("glogits"), tol, c.name + " glogits");
  }
}

TEST_CASE("a LeNet training step on the GPU equals the same step on the CPU") {
  ck::Generator g1(9), g2(9);
  auto cpu_net = ck::models::lenet<double>(g1);
  auto gpu_net = ck::models::lenet<double>(g2);
  gpu_net.to(gpu);
  ck::Generator gen(1);
  auto x = ck::Tensor<double>::uniform({8, 1, 28, 28}, 0.0, 1.0, gen);
  const std::vector<int64_t> labels = {0, 1, 2, 3, 4, 5, 6, 7};
  ck::optim::SGD<double> s1(cpu_net.parameters(), ck::optim::SGDOptions(0.5).momentum(0.9));
  ck::optim::SGD<double> s2(gpu_net.parameters(), ck::optim::SGDOptions(0.5).momentum(0.9));
  for (int step = 0; step < 3; ++step) {
    auto l1 = ck::cross_entropy(cpu_net(x), labels);
    s1.zero_grad();
    l1.backward();
    s1.step();
    auto l2 = ck::cross_entropy(gpu_net(x.to(gpu)), labels);
    s2.zero_grad();
    l2.backward();
    s2.step();
    CHECK(l2.item() == doctest::Approx(l1.item()).epsilon(1e-9));
  }
  const auto p1 = cpu_net.parameters(), p2 = gpu_net.parameters();
  for (size_t i = 0; i < p1.size(); ++i) {
    const auto a = p1[i].to_vector(), b = p2[i].to_vector();
    for (size_t k = 0; k < a.size(); ++k) CHECK(b[k] == doctest::Approx(a[k]).epsilon(1e-9));
  }
}

int main(int argc, char** argv) {
  if (!ck::cuda_available()) {
    std::printf(
        "SKIPPED: no usable CUDA device on this machine (or CONVKIT_DISABLE_CUDA is set); "
        "the device suite was built with nvcc but not run\n");
    return 77;
  }
  doctest::Context context(argc, argv);
  return context.run();
}
