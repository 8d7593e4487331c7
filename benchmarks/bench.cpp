// convkit's side of the benchmark suite. Prints one line per measurement:
//   <case>\t<median ms>\t<min ms>\t<max ms>\t<runs>
// benchmarks/run.sh runs this and benchmarks/torch_peer.py on the same shapes and prints
// one table with both and the ratio. Usage: bench [--threads N] [--runs R] [--filter S]
#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <convkit/convkit.hpp>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>
#if defined(_OPENMP)
#include <omp.h>
#endif

#include "cases.hpp"

namespace {

int g_runs = 7;
std::string g_filter;

void measure(const std::string& name, const std::function<void()>& fn, int runs = -1) {
  if (!g_filter.empty() && name.find(g_filter) == std::string::npos) return;
  if (runs < 0) runs = g_runs;
  fn();  // warm-up: first-touch allocations, caches
  std::vector<double> ms;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  std::printf("%s\t%.4f\t%.4f\t%.4f\t%d\n", name.c_str(), ms[ms.size() / 2], ms.front(), ms.back(), runs);
  std::fflush(stdout);
}

using T = ck::Tensor<float>;

}  // namespace

int main(int argc, char** argv) {
  int threads = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads"))
      threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--runs"))
      g_runs = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--filter"))
      g_filter = argv[i + 1];
  }
  if (threads > 0) {
    ck::set_num_threads(threads);
  }
  ck::Generator gen(0);

  for (const auto& c : conv_cases()) {
    auto x = T::uniform({c.N, c.C, c.H, c.W}, -1.f, 1.f, gen);
    auto w = T::uniform({c.O, c.C / c.groups, c.k, c.k}, -0.1f, 0.1f, gen);
    auto b = T::uniform({c.O}, -0.1f, 0.1f, gen);
    const auto opt = ck::Conv2dOptions().stride(c.stride).padding(c.pad).groups(c.groups);
    measure(c.name + "_fwd", [&] {
      ck::NoGradGuard no_grad;
      auto y = ck::conv2d(x, w, b, opt);
    });
    auto xg = x.clone().requires_grad_(), wg = w.clone().requires_grad_(), bg = b.clone().requires_grad_();
    measure(c.name + "_fwdbwd", [&] {
      auto y = ck::conv2d(xg, wg, bg, opt);
      y.sum().backward();
    });
  }

  {
    auto x = T::uniform({32, 64, 56, 56}, -1.f, 1.f, gen);
    measure("maxpool3s2p1_fwd", [&] {
      ck::NoGradGuard g;
      ck::max_pool2d(x, ck::Pool2dOptions(3).stride(2).padding(1));
    });
    auto xg = x.clone().requires_grad_();
    measure("maxpool3s2p1_fwdbwd",
            [&] { ck::max_pool2d(xg, ck::Pool2dOptions(3).stride(2).padding(1)).sum().backward(); });
    measure("avgpool2s2_fwd", [&] {
      ck::NoGradGuard g;
      ck::avg_pool2d(x, ck::Pool2dOptions(2).stride(2));
    });
    measure("avgpool2s2_fwdbwd", [&] { ck::avg_pool2d(xg, ck::Pool2dOptions(2).stride(2)).sum().backward(); });
  }

  {  // one d2l LeNet training step on a batch of 256 (SGD lr 0.9): examples/s = 256 / time
    auto net = ck::models::lenet<float>(gen);
    ck::nn::init::initialize(net, ck::nn::init::Scheme::XavierUniform, gen);
    ck::optim::SGD<float> sgd(net.parameters(), 0.9);
    auto x = T::uniform({256, 1, 28, 28}, 0.f, 1.f, gen);
    std::vector<int64_t> labels(256);
    for (size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<int64_t>(i % 10);
    measure(
        "lenet_train_step_b256",
        [&] {
          auto l = ck::cross_entropy(net(x), labels);
          sgd.zero_grad();
          l.backward();
          sgd.step();
        },
        std::max(g_runs, 20));
    auto one = T::uniform({1, 1, 28, 28}, 0.f, 1.f, gen);
    measure(
        "lenet_infer_b1",
        [&] {
          ck::NoGradGuard g;
          net(one);
        },
        std::max(g_runs, 200));
  }
  return 0;
}
