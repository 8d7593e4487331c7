// Every public golden case, in double (rtol 1e-9) and float (rtol 1e-4): outputs and every
// gradient, computed through the public API with autograd, as a user would.
#include "golden.hpp"

namespace {

template <class T>
constexpr double rtol() {
  return std::is_same<T, double>::value ? 1e-9 : 1e-4;
}

/// Backward of sum(y * gy): the golden files' gradient convention.
template <class T>
void backward_with(const ck::Tensor<T>& y, const golden::Case& c) {
  (y * c.at("gy").as<T>()).sum().backward();
}

template <class T>
ck::Tensor<T> param(const golden::Case& c, const std::string& name) {
  return c.at(name).as<T>().requires_grad_();
}

}  // namespace

#define CONVKIT_FLOAT_TYPES float, double

TEST_CASE_TEMPLATE("golden corr2d", T, CONVKIT_FLOAT_TYPES) {
  const auto cases = golden::load("corr2d");
  REQUIRE(!cases.empty());
  for (const auto& c : cases) {
    golden::check_close(ck::corr2d(c.at("X").as<T>(), c.at("K").as<T>()), c.at("Y"), rtol<T>(), c.name + " Y");
  }
}

TEST_CASE_TEMPLATE("golden conv2d", T, CONVKIT_FLOAT_TYPES) {
  const auto cases = golden::load("conv2d");
  REQUIRE(cases.size() >= 50);
  for (const auto& c : cases) {
    auto x = param<T>(c, "x"), w = param<T>(c, "w");
    const bool bias = c.attr("bias", {0}).at(0) == 1;
    ck::Tensor<T> b = bias ? param<T>(c, "b") : ck::Tensor<T>();
    const auto opts = ck::Conv2dOptions()
                          .stride(c.pair("stride", 1))
                          .padding(c.pair("padding", 0))
                          .dilation(c.pair("dilation", 1))
                          .groups(c.attr("groups", {1}).at(0));
    auto y = ck::conv2d(x, w, b, opts);
    golden::check_close(y, c.at("y"), rtol<T>(), c.name + " y");
    backward_with(y, c);
    golden::check_close(x.grad(), c.at("gx"), rtol<T>(), c.name + " gx");
    golden::check_close(w.grad(), c.at("gw"), rtol<T>(), c.name + " gw");
    if (bias) golden::check_close(b.grad(), c.at("gb"), rtol<T>(), c.name + " gb");
  }
}

TEST_CASE_TEMPLATE("golden max_pool2d", T, CONVKIT_FLOAT_TYPES) {
  const auto cases = golden::load("max_pool2d");
  REQUIRE(!cases.empty());
  for (const auto& c : cases) {
    auto x = param<T>(c, "x");
    const auto opts = ck::Pool2dOptions(c.pair("kernel", 1))
                          .stride(c.pair("stride", 1))
                          .padding(c.pair("padding", 0))
                          .dilation(c.pair("dilation", 1))
                          .ceil_mode(c.attr("ceil_mode", {0}).at(0) == 1);
    auto y = ck::max_pool2d(x, opts);
    golden::check_close(y, c.at("y"), rtol<T>(), c.name + " y");
    backward_with(y, c);
    golden::check_close(x.grad(), c.at("gx"), rtol<T>(), c.name + " gx");
  }
}

TEST_CASE_TEMPLATE("golden avg_pool2d", T, CONVKIT_FLOAT_TYPES) {
  const auto cases = golden::load("avg_pool2d");
  REQUIRE(!cases.empty());
  for (const auto& c : cases) {
    auto x = param<T>(c, "x");
    const auto opts = ck::Pool2dOptions(c.pair("kernel", 1))
                          .stride(c.pair("stride", 1))
                          .padding(c.pair("padding", 0))
                          .ceil_mode(c.attr("ceil_mode", {0}).at(0) == 1)
                          .count_include_pad(c.attr("count_include_pad", {1}).at(0) == 1);
    auto y = ck::avg_pool2d(x, opts);
    golden::check_close(y, c.at("y"), rtol<T>(), c.name + " y");
    backward_with(y, c);
    golden::check_close(x.grad(), c.at("gx"), rtol<T>(), c.name + " gx");
  }
}

TEST_CASE_TEMPLATE("golden linear", T, CONVKIT_FLOAT_TYPES) {
  const auto cases = golden::load("linear");
  REQUIRE(!cases.empty());
  for (const auto& c : cases) {
    auto x = param<T>(c, "x"), w = param<T>(c, "w"), b = param<T>(c, "b");
    auto y = ck::linear(x, w, b);
    golden::check_close(y, c.at("y"), rtol<T>(), c.name + " y");
    backward_with(y, c);
    golden::check_close(x.grad(), c.at("gx"), rtol<T>(), c.name + " gx");
    golden::check_close(w.grad(), c.at("gw"), rtol<T>(), c.name + " gw");
    golden::check_close(b.grad(), c.at("gb"), rtol<T>(), c.name + " gb");
  }
}

TEST_CASE_TEMPLATE("golden activations", T, CONVKIT_FLOAT_TYPES) {
  const auto cases = golden::load("activations");
  REQUIRE(!cases.empty());
  for (const auto& c : cases) {
    auto x = param<T>(c, "x");
    const int64_t kind = c.attr("kind").at(0);
    auto y = kind == 0 ? ck::sigmoid(x) : kind == 1 ? ck::relu(x) : ck::tanh(x);
    golden::check_close(y, c.at("y"), rtol<T>(), c.name + " y");
    backward_with(y, c);
    golden::check_close(x.grad(), c.at("gx"), rtol<T>(), c.name + " gx");
  }
}

TEST_CASE_TEMPLATE("golden cross_entropy", T, CONVKIT_FLOAT_TYPES) {
  const auto cases = golden::load("cross_entropy");
  REQUIRE(!cases.empty());
  for (const auto& c : cases) {
    auto logits = param<T>(c, "logits");
    auto loss = ck::cross_entropy(logits, c.at("labels").as_labels());
    CHECK(loss.dim() == 0);
    golden::check_close(loss, c.at("loss"), rtol<T>(), c.name + " loss");
    loss.backward();
    golden::check_close(logits.grad(), c.at("glogits"), rtol<T>(), c.name + " glogits");
  }
}

TEST_CASE_TEMPLATE("golden lenet (functional)", T, CONVKIT_FLOAT_TYPES) {
  const auto cases = golden::load("lenet");
  REQUIRE(!cases.empty());
  const char* names[] = {"conv1_w", "conv1_b", "conv2_w", "conv2_b", "fc1_w",
                         "fc1_b",   "fc2_w",   "fc2_b",   "fc3_w",   "fc3_b"};
  for (const auto& c : cases) {
    std::map<std::string, ck::Tensor<T>> p;
    for (const char* n : names) p[n] = param<T>(c, n);
    const auto pool = ck::Pool2dOptions(2).stride(2);
    auto h = ck::sigmoid(ck::conv2d(c.at("x").as<T>(), p["conv1_w"], p["conv1_b"], ck::Conv2dOptions().padding(2)));
    h = ck::avg_pool2d(h, pool);
    h = ck::avg_pool2d(ck::sigmoid(ck::conv2d(h, p["conv2_w"], p["conv2_b"])), pool);
    h = h.reshape({h.size(0), -1});
    h = ck::sigmoid(ck::linear(h, p["fc1_w"], p["fc1_b"]));
    h = ck::sigmoid(ck::linear(h, p["fc2_w"], p["fc2_b"]));
    auto logits = ck::linear(h, p["fc3_w"], p["fc3_b"]);
    golden::check_close(logits, c.at("logits"), rtol<T>(), c.name + " logits");
    auto loss = ck::cross_entropy(logits, c.at("labels").as_labels());
    golden::check_close(loss, c.at("loss"), rtol<T>(), c.name + " loss");
    loss.backward();
    for (const char* n : names)
      golden::check_close(p[n].grad(), c.at(std::string("grad_") + n), rtol<T>(), c.name + " grad_" + n);
  }
}

TEST_CASE_TEMPLATE("golden kernel_learning", T, CONVKIT_FLOAT_TYPES) {
  const auto cases = golden::load("kernel_learning");
  REQUIRE(!cases.empty());
  for (const auto& c : cases) {
    const int64_t steps = c.attr("steps").at(0);
    const T lr = static_cast<T>(static_cast<double>(c.attr("lr_micro").at(0)) * 1e-6);
    const auto& Xa = c.at("X");
    auto X = Xa.as<T>().reshape({1, 1, Xa.dims[0], Xa.dims[1]});
    auto Y = c.at("Y").as<T>().reshape({1, 1, Xa.dims[0], Xa.dims[1] - 1});
    auto w = param<T>(c, "w0");
    std::vector<T> losses;
    for (int64_t t = 0; t < steps; ++t) {
      auto l = (ck::conv2d(X, w) - Y).pow(2).sum();
      losses.push_back(l.item());
      w.zero_grad();
      l.backward();
      ck::NoGradGuard no_grad;
      w.add_(w.grad(), -lr);
    }
    golden::check_close(ck::Tensor<T>::from_vector(losses, {steps}), c.at("losses"), rtol<T>() * 10,
                        c.name + " losses");
    golden::check_close(w, c.at("w_final"), rtol<T>() * 10, c.name + " w_final");
  }
}
