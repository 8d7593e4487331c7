// The CUDA backend's kernels and host plans, run on the CPU through emulated launches (the
// grid-stride mapping of backend/cuda/launch.hpp), checked against the golden files and the
// CPU backend. This is how the CUDA index arithmetic is tested on machines without a GPU.
#include <convkit/backend/cuda/launch.hpp>
#include <convkit/backend/cuda/plans.hpp>

#include "golden.hpp"

namespace cuda = ck::backend::cuda;
namespace cpu = ck::backend::cpu;
using TD = ck::Tensor<double>;

namespace {

/// The Ops of the CUDA plans, with emulated launches and the CPU's GEMM.
struct EmulatedOps {
  int launches = 0;
  template <class Body>
  void launch(const char*, int64_t n, Body body) {
    ++launches;
    cuda::emulate_launch(n, body);
  }
  template <class T>
  void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, const T* B, T beta, T* C) {
    cpu::gemm<T>(ta, tb, M, N, K, alpha, A, B, beta, C);
  }
  template <class T>
  void fill(int64_t n, T* x, T v) {
    cpu::fill<T>(n, x, v);
  }
  template <class T>
  T sum(int64_t n, const T* x) {
    return cpu::sum<T>(n, x);
  }
};

constexpr double kTol = 1e-9;

}  // namespace

TEST_CASE("emulated launch covers every element exactly once") {
  for (int64_t n : {1, 255, 256, 257, 5000, 8192 * 256 + 3}) {
    std::vector<int> hits(static_cast<size_t>(n), 0);
    cuda::emulate_launch(n, [&](int64_t i) { ++hits[static_cast<size_t>(i)]; });
    CHECK(std::all_of(hits.begin(), hits.end(), [](int h) { return h == 1; }));
  }
}

TEST_CASE("emulated CUDA conv2d plans reproduce every golden conv2d case") {
  for (const auto& c : golden::load("conv2d")) {
    const auto x = c.at("x").as<double>(), w = c.at("w").as<double>();
    const bool bias = c.attr("bias", {0}).at(0) == 1;
    const TD b = bias ? c.at("b").as<double>() : TD();
    const auto opts = ck::Conv2dOptions()
                          .stride(c.pair("stride", 1))
                          .padding(c.pair("padding", 0))
                          .dilation(c.pair("dilation", 1))
                          .groups(c.attr("groups", {1}).at(0));
    const auto g = ck::conv2d_geometry("conv2d", x, w, b, opts);
    EmulatedOps ops;
    std::vector<double> col(static_cast<size_t>(g.patch() * g.OH * g.OW));
    TD y = TD::empty(c.at("y").shape());
    cuda::conv2d_forward_plan(ops, g, x.data(), w.data(), bias ? b.data() : nullptr, y.data(), col.data());
    golden::check_close(y, c.at("y"), kTol, c.name + " y (emulated)");
    TD gx = TD::empty(x.shape()), gw = TD::empty(w.shape()), gb = TD::empty({g.O});
    const auto gy = c.at("gy").as<double>();
    cuda::conv2d_backward_plan(ops, g, x.data(), w.data(), gy.data(), gx.data(), gw.data(), bias ? gb.data() : nullptr,
                               col.data());
    golden::check_close(gx, c.at("gx"), kTol, c.name + " gx (emulated)");
    golden::check_close(gw, c.at("gw"), kTol, c.name + " gw (emulated)");
    if (bias) golden::check_close(gb, c.at("gb"), kTol, c.name + " gb (emulated)");
    // Adding the input gradient into one already there doubles it.
    cuda::conv2d_backward_plan(ops, g, x.data(), w.data(), gy.data(), gx.data(), static_cast<double*>(nullptr),
                               static_cast<double*>(nullptr), col.data(), true);
    golden::Array twice = c.at("gx");
    for (double& v : twice.values) v *= 2;
    golden::check_close(gx, twice, kTol, c.name + " gx added twice (emulated)");
  }
}

TEST_CASE("emulated CUDA pooling plans reproduce the golden pooling cases") {
  for (const char* op : {"max_pool2d", "avg_pool2d"}) {
    const bool is_max = std::string(op) == "max_pool2d";
    for (const auto& c : golden::load(op)) {
      const auto x = c.at("x").as<double>();
      auto opts = ck::Pool2dOptions(c.pair("kernel", 1))
                      .stride(c.pair("stride", 1))
                      .padding(c.pair("padding", 0))
                      .ceil_mode(c.attr("ceil_mode", {0}).at(0) == 1);
      if (is_max)
        opts.dilation(c.pair("dilation", 1));
      else
        opts.count_include_pad(c.attr("count_include_pad", {1}).at(0) == 1);
      const auto g = ck::pool2d_geometry(op, x, opts);
      EmulatedOps ops;
      TD y = TD::empty(c.at("y").shape()), gx = TD::empty(x.shape());
      const auto gy = c.at("gy").as<double>();
      if (is_max) {
        std::vector<ck::PoolIndex> argmax(static_cast<size_t>(y.numel()));
        cuda::max_pool2d_forward_plan(ops, g, x.data(), y.data(), argmax.data());
        cuda::max_pool2d_backward_plan(ops, g, argmax.data(), gy.data(), gx.data(), false);
      } else {
        cuda::avg_pool2d_forward_plan(ops, g, x.data(), y.data());
        cuda::avg_pool2d_backward_plan(ops, g, gy.data(), gx.data(), false);
      }
      golden::check_close(y, c.at("y"), kTol, c.name + " y (emulated)");
      golden::check_close(gx, c.at("gx"), kTol, c.name + " gx (emulated)");
    }
  }
}

TEST_CASE("emulated CUDA cross-entropy plans reproduce the golden cases") {
  for (const auto& c : golden::load("cross_entropy")) {
    const auto logits = c.at("logits").as<double>();
    const auto labels = c.at("labels").as_labels();
    const int64_t N = logits.size(0), K = logits.size(1);
    EmulatedOps ops;
    std::vector<double> rows(static_cast<size_t>(N));
    const double loss = cuda::cross_entropy_forward_plan(ops, N, K, logits.data(), labels.data(), rows.data());
    golden::check_close(TD::full({}, loss), c.at("loss"), kTol, c.name + " loss (emulated)");
    TD g = TD::empty(logits.shape());
    cuda::cross_entropy_backward_plan(ops, N, K, logits.data(), labels.data(), 1.0, g.data());
    golden::check_close(g, c.at("glogits"), kTol, c.name + " glogits (emulated)");
  }
}

TEST_CASE("emulated corr2d kernels reproduce the golden corr2d cases and the reference gradients") {
  for (const auto& c : golden::load("corr2d")) {
    const auto X = c.at("X").as<double>(), K = c.at("K").as<double>();
    const int64_t h = X.size(0), w = X.size(1), kh = K.size(0), kw = K.size(1), oh = h - kh + 1, ow = w - kw + 1;
    TD Y = TD::empty({oh, ow});
    cuda::emulate_launch(
        oh * ow, [&](int64_t i) { ck::kernels::corr2d_forward(w, kh, kw, ow, X.data(), K.data(), Y.data(), i); });
    golden::check_close(Y, c.at("Y"), kTol, c.name + " Y (emulated)");
    ck::Generator gen(1);
    const TD gY = TD::uniform({oh, ow}, -1.0, 1.0, gen);
    TD gX = TD::empty(X.shape()), gK = TD::empty(K.shape()), rX = TD::empty(X.shape()), rK = TD::empty(K.shape());
    cuda::emulate_launch(
        h * w, [&](int64_t i) { ck::kernels::corr2d_grad_input(h, w, kh, kw, K.data(), gY.data(), gX.data(), i); });
    cuda::emulate_launch(
        kh * kw, [&](int64_t i) { ck::kernels::corr2d_grad_kernel(h, w, kh, kw, X.data(), gY.data(), gK.data(), i); });
    cpu::corr2d_backward(h, w, kh, kw, X.data(), K.data(), gY.data(), rX.data(), rK.data());
    for (int64_t i = 0; i < X.numel(); ++i) CHECK(gX.data()[i] == doctest::Approx(rX.data()[i]).epsilon(1e-12));
    for (int64_t i = 0; i < K.numel(); ++i) CHECK(gK.data()[i] == doctest::Approx(rK.data()[i]).epsilon(1e-12));
  }
}

TEST_CASE("emulated broadcast, bias and reduction kernels match the CPU backend") {
  ck::Generator gen(3);
  const std::vector<std::pair<ck::Shape, ck::Shape>> pairs = {
      {{2, 3}, {3}}, {{4, 1, 5}, {1, 3, 1}}, {{2, 3, 4}, {}}, {{5}, {5}}, {{1}, {3, 2}}};
  for (const auto& [sa, sb] : pairs) {
    const auto a = TD::uniform(sa, -1.0, 1.0, gen), b = TD::uniform(sb, -1.0, 1.0, gen);
    auto p = ck::plan_broadcast("test", sa, sb);
    ck::kernels::BroadcastIndexer ix;
    ix.rank = static_cast<int>(p.out.rank());
    for (int d = 0; d < ix.rank; ++d) {
      ix.out[d] = p.out[static_cast<size_t>(d)];
      ix.a_stride[d] = p.a_stride[static_cast<size_t>(d)];
      ix.b_stride[d] = p.b_stride[static_cast<size_t>(d)];
    }
    TD y = TD::empty(p.out), ref = TD::empty(p.out);
    cuda::emulate_launch(
        p.numel, [&](int64_t i) { ck::kernels::binary_map(ix, a.data(), b.data(), y.data(), ck::fn::Mul{}, i); });
    cpu::binary_map(p, a.data(), b.data(), ref.data(), ck::fn::Mul{});
    CHECK(y.to_vector() == ref.to_vector());
    TD back = TD::zeros(sa), back_ref = TD::zeros(sa);
    cuda::emulate_launch(p.numel, [&](int64_t i) { ck::kernels::sum_to_a(ix, y.data(), back.data(), i); });
    auto pg = p;
    pg.kind = ck::BroadcastPlan::Kind::General;
    cpu::sum_to_a(pg, y.data(), back_ref.data());
    for (int64_t i = 0; i < back.numel(); ++i)
      CHECK(back.data()[i] == doctest::Approx(back_ref.data()[i]).epsilon(1e-12));
  }
  const auto gy = TD::uniform({3, 4, 5}, -1.0, 1.0, gen), bias = TD::uniform({4}, -1.0, 1.0, gen);
  TD gb = TD::empty({4}), gb_ref = TD::empty({4});
  cuda::emulate_launch(4, cuda::BiasGradBody<double>{3, 4, 5, gy.data(), gb.data()});
  cpu::bias_grad(3, 4, 5, gy.data(), gb_ref.data());
  for (int i = 0; i < 4; ++i) CHECK(gb.data()[i] == doctest::Approx(gb_ref.data()[i]).epsilon(1e-12));
  TD y = gy.clone(), y_ref = gy.clone();
  cuda::emulate_launch(60, cuda::AddBiasBody<double>{4, 5, bias.data(), y.data()});
  cpu::add_bias(3, 4, 5, bias.data(), y_ref.data());
  CHECK(y.to_vector() == y_ref.to_vector());
}

TEST_CASE("emulated optimizer updates match the CPU backend") {
  ck::Generator gen(4);
  const auto g = TD::uniform({300}, -1.0, 1.0, gen);
  const ck::optim::SgdRule<double> sgd{0.1, 0.9, 0.0, 1e-4, true, false};
  TD p = TD::uniform({300}, -1.0, 1.0, gen), buf = TD::uniform({300}, -1.0, 1.0, gen);
  TD p2 = p.clone(), buf2 = buf.clone();
  cuda::emulate_launch(300, [&](int64_t i) { sgd(p.data()[i], g.data()[i], buf.data()[i]); });
  cpu::sgd_step(300, p2.data(), g.data(), buf2.data(), sgd);
  CHECK(p.to_vector() == p2.to_vector());
  CHECK(buf.to_vector() == buf2.to_vector());
  const ck::optim::AdamRule<double> adam{1e-3, 0.9, 0.999, 1e-8, 0.0, 0.1, 0.001};
  TD m = TD::zeros({300}), v = TD::zeros({300}), m2 = m.clone(), v2 = v.clone();
  cuda::emulate_launch(300, [&](int64_t i) { adam(p.data()[i], g.data()[i], m.data()[i], v.data()[i]); });
  cpu::adam_step(300, p2.data(), g.data(), m2.data(), v2.data(), adam);
  CHECK(p.to_vector() == p2.to_vector());
}

TEST_CASE("emulated CUDA adaptive_avg_pool2d plans reproduce every golden case") {
  for (const auto& c : golden::load("adaptive_avg_pool2d")) {
    const auto x = c.at("x").as<double>(), gy = c.at("gy").as<double>();
    const ck::Pair2 out = c.pair("output", 1);
    const ck::AdaptivePool2dGeometry g{x.size(0), x.size(1), x.size(2), x.size(3), out.h, out.w};
    EmulatedOps ops;
    TD y = TD::empty(c.at("y").shape()), gx = TD::empty(x.shape());
    cuda::adaptive_avg_pool2d_forward_plan(ops, g, x.data(), y.data());
    golden::check_close(y, c.at("y"), kTol, c.name + " y (emulated)");
    cuda::adaptive_avg_pool2d_backward_plan(ops, g, gy.data(), gx.data(), false);
    golden::check_close(gx, c.at("gx"), kTol, c.name + " gx (emulated)");
  }
}

TEST_CASE("emulated CUDA batch_norm plans reproduce every golden case") {
  for (const auto& c : golden::load("batch_norm")) {
    const bool training = c.attr("training").at(0) == 1, affine = c.attr("affine").at(0) == 1;
    const auto x = c.at("x").as<double>(), gy = c.at("gy").as<double>();
    auto rm = c.at("running_mean").as<double>(), rv = c.at("running_var").as<double>();
    const TD w = affine ? c.at("weight").as<double>() : TD(), b = affine ? c.at("bias").as<double>() : TD();
    const int64_t N = x.size(0), C = x.size(1);
    const ck::BatchNormGeometry g{N, C, x.numel() / (N * C)};
    EmulatedOps ops;
    TD y = TD::empty(x.shape()), saved = TD::empty({2 * C}), gx = TD::empty(x.shape());
    TD gw = TD::empty({C}), gb = TD::empty({C}), coef = TD::empty({3 * C});
    cuda::batch_norm_forward_plan(ops, g, x.data(), affine ? w.data() : nullptr, affine ? b.data() : nullptr, rm.data(),
                                  rv.data(), training, c.at("momentum").values.at(0), c.at("eps").values.at(0),
                                  saved.data(), y.data());
    golden::check_close(y, c.at("y"), kTol, c.name + " y (emulated)");
    golden::check_close(rm, c.at("running_mean_out"), kTol, c.name + " running_mean_out (emulated)");
    golden::check_close(rv, c.at("running_var_out"), kTol, c.name + " running_var_out (emulated)");
    cuda::batch_norm_backward_plan(ops, g, x.data(), affine ? w.data() : nullptr, saved.data(), gy.data(), training,
                                   gx.data(), affine ? gw.data() : nullptr, affine ? gb.data() : nullptr, coef.data());
    golden::check_close(gx, c.at("gx"), kTol, c.name + " gx (emulated)");
    if (affine) {
      golden::check_close(gw, c.at("gw"), kTol, c.name + " gw (emulated)");
      golden::check_close(gb, c.at("gb"), kTol, c.name + " gb (emulated)");
    }
  }
}
