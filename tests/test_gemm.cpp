// The CPU GEMM (backend/cpu/gemm.hpp) against a plain triple loop in double, for every
// micro-kernel this CPU can run: edge tiles, all transpose combinations, alpha and beta,
// depths that cross the packing block, and products big enough to be split over threads.
// A build without -march has all three micro-kernels; a -march=native one only those a CPU
// able to run it could pick (see cpu_features.hpp). CI runs this in both.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <convkit/convkit.hpp>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace cpu = convkit::backend::cpu;

// C = alpha op(A) op(B) + beta C, accumulated in double.
std::vector<float> naive_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
                              const std::vector<float>& A, const std::vector<float>& B, float beta,
                              std::vector<float> C) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double s = 0;
      for (int64_t k = 0; k < K; ++k) {
        const double a = ta ? A[static_cast<size_t>(k * M + i)] : A[static_cast<size_t>(i * K + k)];
        const double b = tb ? B[static_cast<size_t>(j * K + k)] : B[static_cast<size_t>(k * N + j)];
        s += a * b;
      }
      float& c = C[static_cast<size_t>(i * N + j)];
      c = static_cast<float>(alpha * s + (beta == 0.0f ? 0.0 : static_cast<double>(beta) * c));
    }
  return C;
}

std::vector<float> random_vector(int64_t n, ck::Generator& gen) {
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = static_cast<float>(gen.uniform(-1.0, 1.0));
  return v;
}

// Runs the body once per micro-kernel the CPU supports, and restores the active one.
template <class Body>
void for_each_isa(Body body) {
  const cpu::Isa saved = cpu::active_isa();
  int tested = 0;
  for (cpu::Isa isa : {cpu::Isa::generic, cpu::Isa::avx2, cpu::Isa::avx512}) {
    if (!cpu::set_active_isa(isa)) continue;
    CAPTURE(cpu::isa_name(isa));
    CHECK(cpu::active_isa() == isa);
    body();
    ++tested;
  }
  CHECK(tested >= 1);
  cpu::set_active_isa(saved);
}

void check_case(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, float beta, ck::Generator& gen) {
  CAPTURE(ta);
  CAPTURE(tb);
  CAPTURE(M);
  CAPTURE(N);
  CAPTURE(K);
  CAPTURE(alpha);
  CAPTURE(beta);
  const auto A = random_vector(M * K, gen), B = random_vector(K * N, gen);
  auto C = random_vector(M * N, gen);
  if (beta == 0.0f) std::fill(C.begin(), C.end(), std::nanf(""));  // beta 0 must not read C
  const auto expect = naive_gemm(ta, tb, M, N, K, alpha, A, B, beta, C);
  cpu::gemm<float>(ta, tb, M, N, K, alpha, A.data(), B.data(), beta, C.data());
  double worst = 0;
  for (size_t i = 0; i < C.size(); ++i) worst = std::max(worst, std::fabs(double(C[i]) - double(expect[i])));
  CHECK(worst <= 1e-5 * std::sqrt(double(K) + 1) * 4);
}

}  // namespace

TEST_CASE("float GEMM matches the triple loop on every micro-kernel") {
  ck::Generator gen(7);
  for_each_isa([&] {
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        // Sizes around every tile edge (MR in 4..8, NR in 16..32) and the KC = 256 block.
        for (int64_t M : {1, 5, 6, 8, 13, 17})
          for (int64_t N : {1, 15, 16, 33, 100})
            for (int64_t K : {1, 7, 150}) check_case(ta, tb, M, N, K, 1.0f, 0.0f, gen);
        check_case(ta, tb, 37, 71, 300, 0.5f, 1.0f, gen);
        check_case(ta, tb, 1, 50, 400, 0.5f, 1.0f, gen);  // one row: the GEMV path when transposed
        check_case(ta, tb, 9, 40, 513, -2.0f, 0.25f, gen);
      }
  });
}

TEST_CASE("a large float GEMM, split over threads, matches the triple loop") {
  ck::Generator gen(8);
  for_each_isa([&] {
    check_case(false, false, 200, 300, 270, 1.0f, 0.0f, gen);
    check_case(true, false, 70, 5000, 40, 1.0f, 1.0f, gen);  // more than one NC block of columns
    check_case(false, true, 129, 257, 129, 1.0f, 0.0f, gen);
  });
}

TEST_CASE("GEMM with an empty dimension") {
  std::vector<float> C = {1, 2, 3, 4};
  cpu::gemm<float>(false, false, 2, 2, 0, 1.0f, nullptr, nullptr, 0.5f, C.data());
  CHECK(C == std::vector<float>{0.5f, 1, 1.5f, 2});
  cpu::gemm<float>(false, false, 0, 2, 3, 1.0f, nullptr, nullptr, 0.0f, C.data());  // nothing to write
  CHECK(C[0] == 0.5f);
  // A prepared A of depth 0: the product is an empty sum, so C becomes 0 (beta 0).
  const cpu::PreparedA<float> empty(false, 2, 0, nullptr);
  empty.multiply(false, 2, 1.0f, nullptr, 0.0f, C.data());
  CHECK(C == std::vector<float>{0, 0, 0, 0});
}

namespace {
/// The widest GEMM kernel this CPU runs, read from /proc/cpuinfo's flags: a source
/// independent of the library's __builtin_cpu_supports checks.
std::optional<cpu::Isa> isa_from_cpuinfo() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    std::set<std::string> flags{std::istream_iterator<std::string>(words), std::istream_iterator<std::string>()};
    if (flags.count("avx512f") && flags.count("fma")) return cpu::Isa::avx512;
    if (flags.count("avx2") && flags.count("fma")) return cpu::Isa::avx2;
    return cpu::Isa::generic;
  }
  return std::nullopt;
}

/// Sets CONVKIT_ISA for one scope and puts back what was there.
struct IsaEnv {
  explicit IsaEnv(const char* value) : had_(std::getenv("CONVKIT_ISA") != nullptr) {
    if (had_) old_ = std::getenv("CONVKIT_ISA");
    ::setenv("CONVKIT_ISA", value, 1);
  }
  ~IsaEnv() { had_ ? ::setenv("CONVKIT_ISA", old_.c_str(), 1) : ::unsetenv("CONVKIT_ISA"); }
  bool had_;
  std::string old_;
};
}  // namespace

TEST_CASE("the run-time choice is the widest kernel the CPU runs, and CONVKIT_ISA picks a narrower one") {
  const auto expected = isa_from_cpuinfo();
  if (!expected) {
    MESSAGE("skipped: /proc/cpuinfo has no flags line to compare with");
    return;
  }
#if CONVKIT_X86_DISPATCH
  // A kernel is usable where the build has it and the CPU runs it.
  for (cpu::Isa isa : {cpu::Isa::generic, cpu::Isa::avx2, cpu::Isa::avx512})
    CHECK(cpu::isa_usable(isa) == (cpu::kernel_compiled(isa) && static_cast<int>(isa) <= static_cast<int>(*expected)));
  {
    IsaEnv env("no-such-isa");  // an unknown name is ignored
    CHECK(cpu::detail::detect_isa() == *expected);
  }
  for (cpu::Isa isa : {cpu::Isa::generic, cpu::Isa::avx2, cpu::Isa::avx512}) {
    IsaEnv env(cpu::isa_name(isa));
    // A kernel the CPU cannot run is never chosen, whatever the variable says.
    CHECK(cpu::detail::detect_isa() == (cpu::isa_usable(isa) ? isa : *expected));
  }
#else
  CHECK(cpu::detail::detect_isa() == cpu::Isa::generic);
#endif
}

TEST_CASE("PreparedA (A packed once, used for many products) matches the triple loop") {
  ck::Generator gen(9);
  for_each_isa([&] {
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        // Past MC = 192 rows and KC = 256 depth, so several packed blocks are used.
        for (const auto& size : {std::array<int64_t, 3>{16, 100, 150}, {200, 70, 600}, {3, 33, 1}}) {
          const int64_t M = size[0], N = size[1], K = size[2];  // CAPTURE cannot name a structured binding
          CAPTURE(ta);
          CAPTURE(tb);
          CAPTURE(M);
          CAPTURE(K);
          const auto A = random_vector(M * K, gen);
          const cpu::PreparedA<float> prepared(ta, M, K, A.data());
          for (float beta : {0.0f, 1.0f}) {  // the same prepared A for two different products
            const auto B = random_vector(K * N, gen);
            auto C = random_vector(M * N, gen);
            const auto expect = naive_gemm(ta, tb, M, N, K, 1.5f, A, B, beta, C);
            prepared.multiply(tb, N, 1.5f, B.data(), beta, C.data());
            double worst = 0;
            for (size_t i = 0; i < C.size(); ++i) worst = std::max(worst, std::fabs(double(C[i]) - double(expect[i])));
            CHECK(worst <= 1e-5 * std::sqrt(double(K) + 1) * 6);
          }
        }
  });
}

TEST_CASE("PreparedA reads a block of a wider B and writes into a wider C") {
  ck::Generator gen(10);
  for_each_isa([&] {
    const int64_t M = 13, K = 70, N = 40, ldb = 100, ldc = 90;
    const auto A = random_vector(M * K, gen), Bwide = random_vector(K * ldb, gen);
    const cpu::PreparedA<float> prepared(false, M, K, A.data());
    std::vector<float> C(static_cast<size_t>(M * ldc), -7.0f);
    prepared.multiply(false, N, 1.0f, Bwide.data() + 5, 0.0f, C.data() + 3, ldb, ldc);
    // The same product on contiguous copies.
    std::vector<float> B(static_cast<size_t>(K * N));
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < N; ++j) B[static_cast<size_t>(k * N + j)] = Bwide[static_cast<size_t>(k * ldb + 5 + j)];
    const auto expect = naive_gemm(false, false, M, N, K, 1.0f, A, B, 0.0f, std::vector<float>(M * N));
    double worst = 0;
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < ldc; ++j) {
        const float got = C[static_cast<size_t>(i * ldc + j)];
        if (j >= 3 && j < 3 + N)
          worst = std::max(worst, std::fabs(double(got) - double(expect[static_cast<size_t>(i * N + j - 3)])));
        else
          CHECK(got == -7.0f);  // outside the block: untouched
      }
    CHECK(worst < 1e-4);
  });
}
