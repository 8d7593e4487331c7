// Modules, initialisers and optimizers.
#include "golden.hpp"

using TD = ck::Tensor<double>;
using TF = ck::Tensor<float>;

TEST_CASE("parameters are registered and named like PyTorch's state_dict") {
  auto net = ck::models::lenet<float>();
  const auto named = net.named_parameters();
  std::vector<std::string> names;
  for (auto& [n, t] : named) names.push_back(n);
  CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias", "9.weight",
                                          "9.bias", "11.weight", "11.bias"});
  CHECK(named[0].second.shape() == ck::Shape{6, 1, 5, 5});
  CHECK(named[6].second.shape() == ck::Shape{84, 120});
  CHECK(net.parameters().size() == 10);
  for (auto& p : net.parameters()) CHECK(p.requires_grad());
  // A copy of a layer shares its parameters with the one inside the Sequential.
  auto& conv = net.at<ck::nn::Conv2d<float>>(0);
  CHECK(conv.weight().data() == named[0].second.data());
  CHECK_THROWS_AS(net.at<ck::nn::Linear<float>>(0), ck::Error);
}

TEST_CASE("printing a Sequential lists each layer's configuration") {
  auto net = ck::models::lenet<float>();
  const std::string s = net.repr();
  CHECK(s.find("(0): Conv2d(1 -> 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))") != std::string::npos);
  CHECK(s.find("(2): AvgPool2d(size=(2, 2), stride=(2, 2), padding=(0, 0), ceil_mode=False, count_include_pad=True)") !=
        std::string::npos);
  CHECK(s.find("(11): Linear(84 -> 10)") != std::string::npos);
  CHECK(ck::nn::Conv2d<float>(1, 1, {1, 2}, ck::Conv2dOptions().bias(false)).repr() ==
        "Conv2d(1 -> 1, kernel_size=(1, 2), stride=(1, 1), bias=False)");
  CHECK(ck::nn::MaxPool2d<float>(ck::Pool2dOptions(3)).repr() ==
        "MaxPool2d(size=(3, 3), stride=(3, 3), padding=(0, 0), ceil_mode=False)");
}

TEST_CASE("zero_grad and train/eval reach every parameter and child") {
  auto net = ck::models::lenet<double>();
  auto x = TD::ones({2, 1, 28, 28});
  ck::cross_entropy(net(x), std::vector<int64_t>{1, 2}).backward();
  for (auto& p : net.parameters()) REQUIRE(p.grad().defined());
  net.zero_grad();
  for (auto& p : net.parameters())
    for (double g : p.grad().to_vector()) CHECK(g == 0.0);
  net.eval();
  CHECK_FALSE(net.is_training());
  for (auto& [name, child] : net.children()) CHECK_FALSE(child->is_training());
  net.train();
  CHECK(net[3].is_training());
}

TEST_CASE("Sequential forward equals the composed functions") {
  ck::Generator gen(3);
  auto net = ck::models::lenet<double>(gen);
  auto x = TD::uniform({3, 1, 28, 28}, 0.0, 1.0, gen);
  auto p = net.parameters();
  const auto pool = ck::Pool2dOptions(2).stride(2);
  auto h = ck::avg_pool2d(ck::sigmoid(ck::conv2d(x, p[0], p[1], ck::Conv2dOptions().padding(2))), pool);
  h = ck::avg_pool2d(ck::sigmoid(ck::conv2d(h, p[2], p[3])), pool).reshape({3, 400});
  h = ck::linear(ck::sigmoid(ck::linear(ck::sigmoid(ck::linear(h, p[4], p[5])), p[6], p[7])), p[8], p[9]);
  CHECK(net(x).to_vector() == h.to_vector());
}

TEST_CASE("the lenet golden case through nn::Sequential with loaded parameters") {
  const auto cases = golden::load("lenet");
  const char* names[] = {"conv1_w", "conv1_b", "conv2_w", "conv2_b", "fc1_w",
                         "fc1_b",   "fc2_w",   "fc2_b",   "fc3_w",   "fc3_b"};
  for (const auto& c : cases) {
    auto net = ck::models::lenet<double>();
    auto params = net.parameters();
    for (size_t i = 0; i < params.size(); ++i) {
      ck::NoGradGuard g;
      params[i].copy_(c.at(names[i]).as<double>());
    }
    auto logits = net(c.at("x").as<double>());
    golden::check_close(logits, c.at("logits"), 1e-9, c.name + " logits");
    auto loss = ck::cross_entropy(logits, c.at("labels").as_labels());
    golden::check_close(loss, c.at("loss"), 1e-9, c.name + " loss");
    loss.backward();
    for (size_t i = 0; i < params.size(); ++i)
      golden::check_close(params[i].grad(), c.at(std::string("grad_") + names[i]), 1e-9, c.name + " grad " + names[i]);
  }
}

namespace {
void check_stats(const TD& t, double mean, double var, const char* what) {
  INFO(what);
  const double m = t.mean().item();
  const double v = ((t - m) * (t - m)).mean().item();
  CHECK(std::fabs(m - mean) < 0.02 * std::sqrt(var) + 1e-12);
  CHECK(v == doctest::Approx(var).epsilon(0.03));
}
}  // namespace

TEST_CASE("initialisers have the documented statistics") {
  ck::Generator gen(11);
  auto w = TD::zeros({200, 100, 3, 3});  // fan_in 900, fan_out 1800
  ck::nn::init::xavier_uniform_(w, gen);
  check_stats(w, 0, 6.0 / 2700 / 3, "xavier_uniform");  // U(-a, a) has variance a^2 / 3
  ck::nn::init::xavier_normal_(w, gen);
  check_stats(w, 0, 2.0 / 2700, "xavier_normal");
  ck::nn::init::kaiming_uniform_(w, gen);
  check_stats(w, 0, 6.0 / 900 / 3, "kaiming_uniform");
  ck::nn::init::kaiming_normal_(w, gen);
  check_stats(w, 0, 2.0 / 900, "kaiming_normal");
  ck::nn::init::uniform_(w, 1.0, 3.0, gen);
  check_stats(w, 2.0, 4.0 / 12, "uniform");
  ck::nn::init::normal_(w, -1.0, 0.5, gen);
  check_stats(w, -1.0, 0.25, "normal");
  ck::nn::init::constant_(w, 0.25);
  CHECK(w.mean().item() == 0.25);
  auto net = ck::models::lenet<double>();
  ck::nn::init::initialize(net, ck::nn::init::Scheme::XavierUniform, gen);
  for (auto& [name, p] : net.named_parameters())
    if (p.dim() == 1)
      for (double b : p.to_vector()) CHECK(b == 0.0);
  const double a = std::sqrt(6.0 / (400 + 120));
  for (double v : net.named_parameters()[4].second.to_vector()) CHECK(std::fabs(v) <= a);
}

TEST_CASE("SGD steps match hand computation") {
  auto w = TD::from({1.0, -2.0}).requires_grad_();
  ck::optim::SGD<double> plain({w}, 0.1);
  (w * w).sum().backward();  // g = 2w = (2, -4)
  plain.step();
  CHECK(w.to_vector() == std::vector<double>{1.0 - 0.2, -2.0 + 0.4});
  plain.zero_grad();
  CHECK(w.grad().to_vector() == std::vector<double>{0, 0});

  auto v = TD::from({1.0}).requires_grad_();
  ck::optim::SGD<double> mom({v}, ck::optim::SGDOptions(0.1).momentum(0.9).weight_decay(0.01));
  // step 1: g = 2v + 0.01 v = 2.01; buf = 2.01; v = 1 - 0.201 = 0.799
  (v * v).sum().backward();
  mom.step();
  CHECK(v.item() == doctest::Approx(0.799));
  // step 2: g = 2.01 * 0.799 = 1.60599; buf = 0.9 * 2.01 + 1.60599 = 3.41499; v = 0.799 - 0.341499
  mom.zero_grad();
  (v * v).sum().backward();
  mom.step();
  CHECK(v.item() == doctest::Approx(0.799 - 0.341499));

  auto n = TD::from({1.0}).requires_grad_();
  ck::optim::SGD<double> nes({n}, ck::optim::SGDOptions(0.1).momentum(0.5).nesterov(true));
  (n * n).sum().backward();  // g = 2, buf = 2, step = g + 0.5 * buf = 3
  nes.step();
  CHECK(n.item() == doctest::Approx(0.7));
}

TEST_CASE("Adam steps match hand computation") {
  auto w = TD::from({1.0, -1.0}).requires_grad_();
  ck::optim::Adam<double> adam({w}, ck::optim::AdamOptions(0.1));
  // First step: m_hat = g, v_hat = g^2, so each parameter moves by lr * sign(g) (up to eps).
  (w * w * 3.0).sum().backward();
  adam.step();
  CHECK(w.to_vector()[0] == doctest::Approx(0.9));
  CHECK(w.to_vector()[1] == doctest::Approx(-0.9));
  // Second step, by hand for w0: g1 = 6, g2 = 5.4.
  adam.zero_grad();
  (w * w * 3.0).sum().backward();
  adam.step();
  const double m = 0.9 * 0.1 * 6 + 0.1 * 5.4, v = 0.999 * 0.001 * 36 + 0.001 * 5.4 * 5.4;
  const double expected = 0.9 - 0.1 * (m / (1 - 0.81)) / (std::sqrt(v / (1 - 0.999 * 0.999)) + 1e-8);
  CHECK(w.to_vector()[0] == doctest::Approx(expected).epsilon(1e-9));
}

TEST_CASE("a user-defined module built from corr2d, as the notebook's Conv2D") {
  struct Conv2D : ck::nn::Cloneable<Conv2D, float> {
    ck::Tensor<float> weight, bias;
    Conv2D(ck::Pair2 k, ck::Generator& gen) {
      weight = register_parameter("weight", TF::uniform({k.h, k.w}, 0.f, 1.f, gen));
      bias = register_parameter("bias", TF::zeros({1}));
    }
    TF forward(const TF& x) override { return ck::corr2d(x, weight) + bias; }
  };
  ck::Generator gen(0);
  Conv2D conv({1, 2}, gen);
  CHECK(conv.parameters().size() == 2);
  auto X = TF::ones({6, 8});
  auto Y = conv(X);
  CHECK(Y.shape() == ck::Shape{6, 7});
}

TEST_CASE("optimizer and layer argument errors") {
  CHECK_THROWS_AS(ck::optim::SGD<float>({TF::zeros({2})}, 0.1), ck::Error);  // not requiring grad
  CHECK_THROWS_AS(ck::nn::Conv2d<float>(3, 4, 3, ck::Conv2dOptions().groups(2)), ck::Error);
  CHECK_THROWS_AS(ck::nn::Linear<float>(0, 3), ck::Error);
  auto net = ck::models::lenet<float>();
  CHECK_THROWS_AS(net(TF::zeros({1, 3, 28, 28})), ck::Error);  // wrong channels: conv2d names it
}

// Dropout (d2l 5.6): a share p of the elements zeroed, the rest scaled by 1 / (1 - p) so
// the mean stays, the gradient the same mask; a pass-through outside training.
TEST_CASE("dropout zeroes a share p, scales the rest by 1 / (1 - p), and its gradient is the mask") {
  ck::Generator gen(7);
  auto x = TF::uniform({200, 500}, 0.5f, 1.5f, gen).requires_grad_();
  auto y = ck::dropout(x, 0.3, gen);
  const auto xv = x.to_vector(), yv = y.to_vector();
  int64_t zeros = 0, misscaled = 0;
  for (size_t i = 0; i < xv.size(); ++i) {
    if (yv[i] == 0.0f)
      ++zeros;
    else
      misscaled += std::fabs(yv[i] - xv[i] / 0.7f) > 1e-6f * yv[i];
  }
  CHECK(misscaled == 0);
  CHECK(std::fabs(static_cast<double>(zeros) / xv.size() - 0.3) < 0.005);  // 100000 draws: 0.3 +- 0.0015 (1 sd)
  y.sum().backward();
  const auto g = x.grad().to_vector();
  int64_t wrong_grad = 0;  // the gradient of sum(x * mask) is the mask: y / x
  for (size_t i = 0; i < xv.size(); ++i) wrong_grad += std::fabs(g[i] - yv[i] / xv[i]) > 1e-6f;
  CHECK(wrong_grad == 0);
  // Outside training, or with p = 0, the input itself; p = 1 zeroes everything.
  CHECK(ck::dropout(x, 0.3, gen, false).to_vector() == xv);
  CHECK(ck::dropout(x, 0.0, gen).to_vector() == xv);
  const auto all_dropped = ck::dropout(x, 1.0, gen).to_vector();
  CHECK(std::count(all_dropped.begin(), all_dropped.end(), 0.0f) == static_cast<std::ptrdiff_t>(xv.size()));
  CHECK_THROWS_WITH_AS(ck::dropout(x, 1.5, gen), doctest::Contains("dropout: p must be in [0, 1], got 1.5"), ck::Error);
  CHECK_THROWS_AS(ck::dropout(x, -0.1, gen), ck::Error);
  CHECK_THROWS_AS(ck::dropout(TF(), 0.5, gen), ck::Error);
}

TEST_CASE("nn::Dropout drops in training mode and passes through after eval()") {
  ck::Generator gen(3);
  ck::nn::Dropout<float> drop(0.5, gen);
  CHECK(drop.repr() == "Dropout(p=0.5)");
  const auto x = TF::ones({4000});
  int64_t zeros = 0, other = 0;
  for (float v : drop(x).to_vector()) {
    zeros += v == 0.0f;
    other += v != 0.0f && v != 2.0f;
  }
  CHECK(other == 0);
  CHECK(std::fabs(zeros / 4000.0 - 0.5) < 0.03);  // 1 sd: 0.008
  drop.eval();
  CHECK(drop(x).to_vector() == x.to_vector());
  CHECK_THROWS_AS(ck::nn::Dropout<float>(1.01), ck::Error);
}

TEST_CASE("AlexNet's parameters are named like PyTorch's nn.Sequential of d2l 7.1") {
  ck::Generator gen(0);
  auto net = ck::models::alexnet<float>(gen);
  std::vector<std::string> names;
  for (auto& [n, t] : net.named_parameters()) names.push_back(n);
  CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "3.weight", "3.bias", "6.weight", "6.bias", "8.weight",
                                          "8.bias", "10.weight", "10.bias", "14.weight", "14.bias", "17.weight",
                                          "17.bias", "20.weight", "20.bias"});
  CHECK(net.named_parameters()[10].second.shape() == ck::Shape{4096, 6400});
}

// The caching allocator's promise: after the first step of a training loop, the next steps
// reuse its blocks and take nothing new from the system. On one thread the sequence of
// allocations repeats exactly, so the count must not move. (With several threads, the
// order in which threads free and take blocks varies, and a later step can still need one
// more block than any step before it; AddressSanitizer builds bypass the cache on purpose.)
#if !defined(__SANITIZE_ADDRESS__)
TEST_CASE("a steady LeNet training step allocates nothing from the system") {
  const int threads = ck::num_threads();
  ck::set_num_threads(1);
  ck::Generator gen(3);
  auto net = ck::models::lenet<float>(gen);
  ck::optim::SGD<float> opt(net.parameters(), ck::optim::SGDOptions(0.1).momentum(0.9));
  const auto x = TF::uniform({32, 1, 28, 28}, 0.0f, 1.0f, gen);
  auto y = ck::Tensor<int64_t>::zeros({32});
  for (int64_t i = 0; i < 32; ++i) y.data()[i] = i % 10;
  auto step = [&] {
    auto l = ck::cross_entropy(net(x), y);
    opt.zero_grad();
    l.backward();
    opt.step();
    return l.item();
  };
  const float first = step();
  step();
  const size_t before = convkit::backend::cpu::CachingAllocator::instance().system_allocations();
  float last = 0;
  for (int i = 0; i < 5; ++i) last = step();
  CHECK(convkit::backend::cpu::CachingAllocator::instance().system_allocations() == before);
  CHECK(std::isfinite(last));
  CHECK(last != first);  // the steps did train
  ck::set_num_threads(threads);
}
#endif
