// convkit's side of the benchmark suite. Prints one line per measurement:
//   <case>\t<median ms>\t<min ms>\t<max ms>\t<runs>
// and, for benchmarks/compare.py's GFLOP/s figures, the machine's measured FMA peak and
// each convolution case's flop count:
//   #peak\t<GFLOP/s with the threads in use>
//   #flops\t<case>\t<flops>
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
#if CONVKIT_X86_DISPATCH
#include <immintrin.h>
#endif

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

// The FMA peak: independent chains of fused multiply-adds, enough of them to cover the
// instruction's latency on both FMA ports, with the widest vectors the CPU runs.
constexpr int kChains = 12;
constexpr int64_t kPeakIters = 20'000'000;

#if CONVKIT_X86_DISPATCH
CONVKIT_AVX512_INTRINSICS_BEGIN
__attribute__((target("avx512f"))) double fma_chains_avx512(int64_t iters) {
  __m512 acc[kChains];
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  for (int64_t it = 0; it < iters; ++it)
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  float sum = 0;
  for (int i = 0; i < kChains; ++i) sum += _mm512_reduce_add_ps(acc[i]);
  return sum;  // returned so the loop is not optimised away
}
__attribute__((target("avx2,fma"))) double fma_chains_avx2(int64_t iters) {
  __m256 acc[kChains];
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(static_cast<float>(i));
  for (int64_t it = 0; it < iters; ++it)
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  alignas(32) float lanes[8];
  float sum = 0;
  for (int i = 0; i < kChains; ++i) {
    _mm256_store_ps(lanes, acc[i]);
    for (float v : lanes) sum += v;
  }
  return sum;
}
CONVKIT_AVX512_INTRINSICS_END
#endif

/// GFLOP/s of fused multiply-adds on every thread in use: the best of 3 runs.
double fma_peak_gflops() {
  namespace cpu = convkit::backend::cpu;
  int lanes = 0;
  double (*chains)(int64_t) = nullptr;
#if CONVKIT_X86_DISPATCH
  // The widest vectors the GEMM uses (CONVKIT_ISA=avx2 holds it at AVX2 on an AVX-512 CPU).
  if (cpu::active_isa() == cpu::Isa::avx512) {
    lanes = 16;
    chains = fma_chains_avx512;
  } else if (cpu::cpu_supports(cpu::Isa::avx2)) {
    lanes = 8;
    chains = fma_chains_avx2;
  }
#endif
  if (!chains) return 0;  // no vector FMA kernel for this CPU: compare.py leaves the column out
  const int threads = cpu::max_threads();
  double best = 0, sink = 0;
  for (int run = 0; run < 3; ++run) {
    const auto t0 = std::chrono::steady_clock::now();
#if defined(_OPENMP)
#pragma omp parallel num_threads(threads) reduction(+ : sink)
#endif
    sink += chains(kPeakIters);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, 2.0 * lanes * kChains * static_cast<double>(kPeakIters) * threads / s / 1e9);
  }
  if (sink == 42) std::puts("");  // keeps the sum alive
  return best;
}

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
  if (g_filter.empty() || g_filter == "peak") std::printf("#peak\t%.1f\n", fma_peak_gflops());

  for (const auto& c : conv_cases()) {
    auto x = T::uniform({c.N, c.C, c.H, c.W}, -1.f, 1.f, gen);
    auto w = T::uniform({c.O, c.C / c.groups, c.k, c.k}, -0.1f, 0.1f, gen);
    auto b = T::uniform({c.O}, -0.1f, 0.1f, gen);
    const auto opt = ck::Conv2dOptions().stride(c.stride).padding(c.pad).groups(c.groups);
    const int64_t OH = (c.H + 2 * c.pad - c.k) / c.stride + 1, OW = (c.W + 2 * c.pad - c.k) / c.stride + 1;
    const double flops = 2.0 * c.N * c.O * OH * OW * (c.C / c.groups) * c.k * c.k;
    std::printf("#flops\t%s_fwd\t%.0f\n#flops\t%s_fwdbwd\t%.0f\n", c.name.c_str(), flops, c.name.c_str(), 3 * flops);
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
  // One training step of the chapter's batch-norm networks (SGD), as the book trains them:
  // BN-LeNet on 256 images of 28x28, ResNet-18 on 64 images of 96x96.
  auto train_step = [&](const char* name, ck::nn::Sequential<float> net, ck::Shape input, double lr, int runs) {
    ck::nn::init::initialize(net, ck::nn::init::Scheme::XavierUniform, gen);
    ck::optim::SGD<float> sgd(net.parameters(), lr);
    auto x = T::uniform(input, 0.f, 1.f, gen);
    std::vector<int64_t> labels(static_cast<size_t>(input[0]));
    for (size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<int64_t>(i % 10);
    measure(
        name,
        [&] {
          auto l = ck::cross_entropy(net(x), labels);
          sgd.zero_grad();
          l.backward();
          sgd.step();
        },
        runs);
  };
  train_step("bn_lenet_train_step_b256", ck::models::lenet_bn<float>(10, gen), {256, 1, 28, 28}, 1.0,
             std::max(g_runs, 20));
  train_step("resnet18_train_step_b64", ck::models::resnet18<float>(10, gen), {64, 1, 96, 96}, 0.05, g_runs);
  return 0;
}
