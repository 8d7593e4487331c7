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

TEST_CASE_TEMPLATE("golden batch_norm", T, CONVKIT_FLOAT_TYPES) {
  const auto cases = golden::load("batch_norm");
  REQUIRE(cases.size() >= 10);
  for (const auto& c : cases) {
    const bool training = c.attr("training").at(0) == 1, affine = c.attr("affine").at(0) == 1;
    auto x = param<T>(c, "x");
    auto running_mean = c.at("running_mean").as<T>(), running_var = c.at("running_var").as<T>();
    ck::Tensor<T> w, b;
    if (affine) {
      w = param<T>(c, "weight");
      b = param<T>(c, "bias");
    }
    const double momentum = c.at("momentum").values.at(0), eps = c.at("eps").values.at(0);
    auto y = ck::batch_norm(x, running_mean, running_var, w, b, training, momentum, eps);
    golden::check_close(y, c.at("y"), rtol<T>(), c.name + " y");
    golden::check_close(running_mean, c.at("running_mean_out"), rtol<T>(), c.name + " running_mean_out");
    golden::check_close(running_var, c.at("running_var_out"), rtol<T>(), c.name + " running_var_out");
    backward_with(y, c);
    golden::check_close(x.grad(), c.at("gx"), rtol<T>(), c.name + " gx");
    if (affine) {
      golden::check_close(w.grad(), c.at("gw"), rtol<T>(), c.name + " gw");
      golden::check_close(b.grad(), c.at("gb"), rtol<T>(), c.name + " gb");
    }
  }
}

TEST_CASE_TEMPLATE("golden adaptive_avg_pool2d", T, CONVKIT_FLOAT_TYPES) {
  const auto cases = golden::load("adaptive_avg_pool2d");
  REQUIRE(cases.size() >= 10);
  for (const auto& c : cases) {
    auto x = param<T>(c, "x");
    auto y = ck::adaptive_avg_pool2d(x, c.pair("output", 1));
    golden::check_close(y, c.at("y"), rtol<T>(), c.name + " y");
    backward_with(y, c);
    golden::check_close(x.grad(), c.at("gx"), rtol<T>(), c.name + " gx");
  }
}

TEST_CASE_TEMPLATE("golden cat: values copied bit for bit", T, CONVKIT_FLOAT_TYPES) {
  const auto cases = golden::load("cat");
  REQUIRE(cases.size() >= 10);
  for (const auto& c : cases) {
    const int64_t count = c.attr("count").at(0);
    std::vector<ck::Tensor<T>> xs;
    for (int64_t i = 0; i < count; ++i) xs.push_back(param<T>(c, "x" + std::to_string(i)));
    auto y = ck::cat(xs, static_cast<int>(c.attr("dim").at(0)));
    // A copy: exact in double, and exact after the one rounding to float.
    const auto expected = c.at("y").as<T>().to_vector();
    CHECK(y.to_vector() == expected);
    backward_with(y, c);
    for (int64_t i = 0; i < count; ++i)
      golden::check_close(xs[static_cast<size_t>(i)].grad(), c.at("gx" + std::to_string(i)), rtol<T>(),
                          c.name + " gx" + std::to_string(i));
  }
}

TEST_CASE_TEMPLATE("golden residual block (conv, batch norm, relu, shortcut)", T, CONVKIT_FLOAT_TYPES) {
  const auto cases = golden::load("residual");
  REQUIRE(cases.size() >= 4);
  for (const auto& c : cases) {
    const int64_t s = c.attr("stride").at(0);
    const bool shortcut_conv = c.attr("use_1x1conv").at(0) == 1, training = c.attr("training").at(0) == 1;
    auto x = param<T>(c, "x");
    std::map<std::string, ck::Tensor<T>> p;
    for (const char* n : {"conv1_w", "conv1_b", "bn1_w", "bn1_b", "conv2_w", "conv2_b", "bn2_w", "bn2_b"})
      p[n] = param<T>(c, n);
    if (shortcut_conv)
      for (const char* n : {"conv3_w", "conv3_b"}) p[n] = param<T>(c, n);
    auto bn1_mean = c.at("bn1_mean").as<T>(), bn1_var = c.at("bn1_var").as<T>();
    auto bn2_mean = c.at("bn2_mean").as<T>(), bn2_var = c.at("bn2_var").as<T>();
    auto Y =
        ck::relu(ck::batch_norm(ck::conv2d(x, p["conv1_w"], p["conv1_b"], ck::Conv2dOptions().stride(s).padding(1)),
                                bn1_mean, bn1_var, p["bn1_w"], p["bn1_b"], training));
    Y = ck::batch_norm(ck::conv2d(Y, p["conv2_w"], p["conv2_b"], ck::Conv2dOptions().padding(1)), bn2_mean, bn2_var,
                       p["bn2_w"], p["bn2_b"], training);
    const auto X = shortcut_conv ? ck::conv2d(x, p["conv3_w"], p["conv3_b"], ck::Conv2dOptions().stride(s)) : x;
    auto y = ck::relu(Y + X);
    golden::check_close(y, c.at("y"), rtol<T>(), c.name + " y");
    golden::check_close(bn1_mean, c.at("bn1_mean_out"), rtol<T>(), c.name + " bn1_mean_out");
    golden::check_close(bn1_var, c.at("bn1_var_out"), rtol<T>(), c.name + " bn1_var_out");
    golden::check_close(bn2_mean, c.at("bn2_mean_out"), rtol<T>(), c.name + " bn2_mean_out");
    golden::check_close(bn2_var, c.at("bn2_var_out"), rtol<T>(), c.name + " bn2_var_out");
    backward_with(y, c);
    golden::check_close(x.grad(), c.at("gx"), rtol<T>(), c.name + " gx");
    // In training the convolutions' biases get no gradient but rounding residue: judged
    // against the scale of the other gradients.
    double scale = 0;
    for (double v : c.at("g_conv1_w").values) scale = std::max(scale, std::fabs(v));
    for (const auto& [name, t] : p) {
      const bool residue = training && (name == "conv1_b" || name == "conv2_b");
      golden::check_close(t.grad(), c.at("g_" + name), rtol<T>(), c.name + " g_" + name,
                          residue ? rtol<T>() * scale : 0.0);
    }
  }
}
