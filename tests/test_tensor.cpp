// Tensor construction, views, broadcasting arithmetic, reductions, matmul, printing.
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <convkit/convkit.hpp>
#include <limits>
#include <sstream>
#include <thread>
#include <vector>

using TF = ck::Tensor<float>;
using TD = ck::Tensor<double>;

TEST_CASE("construction helpers") {
  auto z = TF::zeros({2, 3});
  CHECK(z.shape() == ck::Shape{2, 3});
  CHECK(z.dim() == 2);
  CHECK(z.numel() == 6);
  CHECK(z.size(0) == 2);
  CHECK(z.size(-1) == 3);
  CHECK(z.device() == ck::Device::cpu());
  CHECK(z.to_vector() == std::vector<float>(6, 0.f));
  CHECK(TF::ones({2}).to_vector() == std::vector<float>{1, 1});
  CHECK(TD::full({3}, 2.5).to_vector() == std::vector<double>{2.5, 2.5, 2.5});
  CHECK(TF::arange(4).to_vector() == std::vector<float>{0, 1, 2, 3});
  auto t = TF::from({{0, 1, 2}, {3, 4, 5}});
  CHECK(t.shape() == ck::Shape{2, 3});
  CHECK(t.to_vector() == std::vector<float>{0, 1, 2, 3, 4, 5});
  auto t4 = TD::from({{{{1, 2}}, {{3, 4}}}});
  CHECK(t4.shape() == ck::Shape{1, 2, 1, 2});
  CHECK(TF::from_vector({1, 2, 3, 4}, {2, 2}).data()[3] == 4.f);
  CHECK(TF::full({}, 7.f).item() == 7.f);
}

TEST_CASE("storage is 64-byte aligned") {
  for (int n : {1, 3, 17, 1000}) {
    auto t = TF::zeros({n});
    CHECK(reinterpret_cast<uintptr_t>(t.data()) % 64 == 0);
  }
}

TEST_CASE("seeded generator is reproducible") {
  ck::Generator g1(42), g2(42), g3(43);
  auto a = TF::uniform({100}, -1.f, 1.f, g1);
  auto b = TF::uniform({100}, -1.f, 1.f, g2);
  auto c = TF::uniform({100}, -1.f, 1.f, g3);
  CHECK(a.to_vector() == b.to_vector());
  CHECK(a.to_vector() != c.to_vector());
  for (float v : a.to_vector()) CHECK((v >= -1.f && v < 1.f));
  ck::Generator g4(1);
  auto n = TD::normal({20000}, 1.0, 2.0, g4);
  const double mean = n.mean().item();
  const double var = ((n - mean) * (n - mean)).mean().item();
  CHECK(mean == doctest::Approx(1.0).epsilon(0.05));
  CHECK(var == doctest::Approx(4.0).epsilon(0.05));
}

TEST_CASE("reshape and select are views that share storage") {
  auto t = TF::arange(12);
  auto r = t.reshape({3, 4});
  CHECK(r.data() == t.data());
  CHECK(t.reshape({2, -1}).shape() == ck::Shape{2, 6});
  auto row = r[1];
  CHECK(row.shape() == ck::Shape{4});
  CHECK(row.data() == t.data() + 4);
  CHECK(r[-1].to_vector() == std::vector<float>{8, 9, 10, 11});
  row.data()[0] = 100;  // a write through the view is seen by the base
  CHECK(t.data()[4] == 100.f);
  auto c = t.clone();
  CHECK(c.data() != t.data());
  CHECK(c.to_vector() == t.to_vector());
  auto d = t.detach();
  CHECK(d.data() == t.data());
}

TEST_CASE("transpose") {
  auto t = TF::from({{1, 2, 3}, {4, 5, 6}});
  auto tt = t.transpose();
  CHECK(tt.shape() == ck::Shape{3, 2});
  CHECK(tt.to_vector() == std::vector<float>{1, 4, 2, 5, 3, 6});
}

TEST_CASE("elementwise arithmetic and broadcasting") {
  auto a = TF::from({{1, 2, 3}, {4, 5, 6}});
  auto b = TF::from({10, 20, 30});
  CHECK((a + b).to_vector() == std::vector<float>{11, 22, 33, 14, 25, 36});
  CHECK((a - b).to_vector() == std::vector<float>{-9, -18, -27, -6, -15, -24});
  CHECK((b - a).to_vector() == std::vector<float>{9, 18, 27, 6, 15, 24});
  CHECK((a * 2.0).to_vector() == std::vector<float>{2, 4, 6, 8, 10, 12});
  CHECK((1.f - a).to_vector() == std::vector<float>{0, -1, -2, -3, -4, -5});
  CHECK((a / 2.f).to_vector() == std::vector<float>{0.5f, 1, 1.5f, 2, 2.5f, 3});
  CHECK((-a).to_vector() == std::vector<float>{-1, -2, -3, -4, -5, -6});
  auto col = TF::from({{1}, {2}});  // (2, 1) against (3): general broadcast -> (2, 3)
  CHECK((col * b).shape() == ck::Shape{2, 3});
  CHECK((col * b).to_vector() == std::vector<float>{10, 20, 30, 20, 40, 60});
  CHECK(a.pow(2).to_vector() == std::vector<float>{1, 4, 9, 16, 25, 36});
}

TEST_CASE("sum, mean, matmul, stack") {
  auto a = TD::from({{1, 2}, {3, 4}});
  CHECK(a.sum().item() == 10.0);
  CHECK(a.sum().dim() == 0);
  CHECK(a.mean().item() == 2.5);
  auto b = TD::from({{5, 6, 7}, {8, 9, 10}});
  auto m = ck::matmul(a, b);
  CHECK(m.shape() == ck::Shape{2, 3});
  CHECK(m.to_vector() == std::vector<double>{21, 24, 27, 47, 54, 61});
  auto s0 = ck::stack(std::vector<TD>{a, a + 10.0}, 0);
  CHECK(s0.shape() == ck::Shape{2, 2, 2});
  CHECK(s0.to_vector() == std::vector<double>{1, 2, 3, 4, 11, 12, 13, 14});
  auto s1 = ck::stack(std::vector<TD>{a, a + 10.0}, 1);
  CHECK(s1.shape() == ck::Shape{2, 2, 2});
  CHECK(s1.to_vector() == std::vector<double>{1, 2, 11, 12, 3, 4, 13, 14});
  auto s2 = ck::stack(std::vector<TD>{a, a + 10.0}, 2);
  CHECK(s2.to_vector() == std::vector<double>{1, 11, 2, 12, 3, 13, 4, 14});
}

TEST_CASE("printing follows PyTorch's layout") {
  std::ostringstream os;
  os << TF::from({{19, 25}, {37, 43}});
  CHECK(os.str() == "tensor([[19., 25.],\n        [37., 43.]])");
  std::ostringstream os2;
  os2 << TF::from({0.9895f, -0.98737f});
  CHECK(os2.str() == "tensor([ 0.9895, -0.9874])");
  std::ostringstream os3;
  os3 << TF::arange(8).reshape({2, 2, 2});
  CHECK(os3.str() == "tensor([[[0., 1.],\n         [2., 3.]],\n\n        [[4., 5.],\n         [6., 7.]]])");
}

TEST_CASE("the d2l functions give the book's numbers") {
  auto X = TF::from({{0, 1, 2}, {3, 4, 5}, {6, 7, 8}});
  auto K = TF::from({{0, 1}, {2, 3}});
  CHECK(ck::corr2d(X, K).to_vector() == std::vector<float>{19, 25, 37, 43});
  auto X2 = TF::from({{{0, 1, 2}, {3, 4, 5}, {6, 7, 8}}, {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}});
  auto K2 = TF::from({{{0, 1}, {2, 3}}, {{1, 2}, {3, 4}}});
  CHECK(ck::corr2d_multi_in(X2, K2).to_vector() == std::vector<float>{56, 72, 104, 120});
  auto K3 = ck::stack(std::vector<TF>{K2, K2 + 1.f, K2 + 2.f}, 0);
  CHECK(K3.shape() == ck::Shape{3, 2, 2, 2});
  auto Y = ck::corr2d_multi_in_out(X2, K3);
  CHECK(Y.shape() == ck::Shape{3, 2, 2});
  CHECK(Y.to_vector() == std::vector<float>{56, 72, 104, 120, 76, 100, 148, 172, 96, 128, 192, 224});
  ck::Generator gen(0);
  auto X3 = TF::uniform({3, 3, 3}, 0.f, 1.f, gen);
  auto K1 = TF::uniform({2, 3, 1, 1}, 0.f, 1.f, gen);
  auto d = (ck::corr2d_multi_in_out_1x1(X3, K1) - ck::corr2d_multi_in_out(X3, K1)).pow(2).sum().item();
  CHECK(std::sqrt(d) < 1e-6);
  CHECK(ck::pool2d(X, {2, 2}).to_vector() == std::vector<float>{4, 5, 7, 8});
  CHECK(ck::pool2d(X, {2, 2}, ck::PoolMode::Avg).to_vector() == std::vector<float>{2, 3, 5, 6});
  auto P = TF::arange(16).reshape({1, 1, 4, 4});
  CHECK(ck::max_pool2d(P, ck::Pool2dOptions(3)).to_vector() == std::vector<float>{10});
  CHECK(ck::max_pool2d(P, ck::Pool2dOptions(3).padding(1).stride(2)).to_vector() == std::vector<float>{5, 7, 13, 15});
  auto q = ck::max_pool2d(P, ck::Pool2dOptions({2, 3}).padding({1, 2}).stride({2, 3}));
  CHECK(q.shape() == ck::Shape{1, 1, 3, 2});
  CHECK(q.to_vector() == std::vector<float>{0, 3, 8, 11, 12, 15});
}

TEST_CASE("conv2d output shapes from the padding-and-stride notebook") {
  auto X = TF::zeros({1, 1, 8, 8});
  auto shape_of = [&](int64_t kh, int64_t kw, ck::Conv2dOptions o) {
    auto y = ck::conv2d(X, TF::zeros({1, 1, kh, kw}), TF::zeros({1}), o);
    return ck::Shape{y.size(2), y.size(3)};
  };
  CHECK(shape_of(3, 3, ck::Conv2dOptions().padding(1)) == ck::Shape{8, 8});
  CHECK(shape_of(5, 3, ck::Conv2dOptions().padding({2, 1})) == ck::Shape{8, 8});
  CHECK(shape_of(7, 3, ck::Conv2dOptions().padding({3, 1})) == ck::Shape{8, 8});
  CHECK(shape_of(3, 3, ck::Conv2dOptions().padding(1).stride(2)) == ck::Shape{4, 4});
  CHECK(shape_of(3, 5, ck::Conv2dOptions().padding({0, 1}).stride({3, 4})) == ck::Shape{2, 2});
}

TEST_CASE("version(): the header's version, as CMake's package reads it") {
  // CMakeLists.txt parses version.hpp's macros with a regex into PROJECT_VERSION, which the
  // package config and convkit.pc carry: version() must spell the same string.
  CHECK(ck::version() == CONVKIT_TEST_PROJECT_VERSION);
}

TEST_CASE("the CPU GEMM handles every transpose combination") {
  ck::Generator gen(8);
  const int64_t M = 5, N = 7, K = 3;
  auto A = TD::uniform({M, K}, -1.0, 1.0, gen), B = TD::uniform({K, N}, -1.0, 1.0, gen);
  auto At = A.transpose(), Bt = B.transpose();
  const auto ref = ck::matmul(A, B).to_vector();
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      std::vector<double> c(static_cast<size_t>(M * N), 1.0);
      ck::backend::cpu::gemm<double>(ta, tb, M, N, K, 2.0, ta ? At.data() : A.data(), tb ? Bt.data() : B.data(), 0.5,
                                     c.data());
      for (size_t i = 0; i < c.size(); ++i) CHECK(c[i] == doctest::Approx(2.0 * ref[i] + 0.5));
    }
}

// The vectorisable float exp behind sigmoid (core/functors.hpp): accurate to ~1e-7 over its
// range, saturating beyond it, NaN in NaN out.
TEST_CASE("exp_float matches double exp within 2e-7 and saturates outside [-87, 88]") {
  double worst = 0;
  for (double v = -87.0; v <= 88.0; v += 1e-3) {
    const auto x = static_cast<float>(v);
    const double e = std::exp(static_cast<double>(x));
    worst = std::max(worst, std::fabs(static_cast<double>(ck::fn::exp_float(x)) - e) / e);
  }
  CHECK(worst < 2e-7);
  CHECK(ck::fn::exp_float(-1000.0f) == doctest::Approx(std::exp(-87.0)).epsilon(1e-6));
  CHECK(ck::fn::exp_float(1000.0f) == doctest::Approx(std::exp(88.0)).epsilon(1e-6));
  CHECK(ck::fn::exp_float(std::numeric_limits<float>::infinity()) == ck::fn::exp_float(1000.0f));
  CHECK(ck::fn::exp_float(-std::numeric_limits<float>::infinity()) == ck::fn::exp_float(-1000.0f));
  CHECK(std::isnan(ck::fn::exp_float(std::numeric_limits<float>::quiet_NaN())));
  const float tiny = ck::fn::Sigmoid{}(-200.0f);  // saturated: about 6e-39, never NaN
  CHECK((tiny >= 0.0f && tiny < 1e-37f));
  CHECK(ck::fn::Sigmoid{}(200.0f) == 1.0f);
}

TEST_CASE("the CPU thread pool: every index once, one thread per chunk, nesting, exceptions, concurrent callers") {
  namespace cpu = ck::backend::cpu;
  for (int threads : {2, 3, 5}) {
    std::vector<std::atomic<int>> hits(1000);
    std::vector<std::atomic<int>> chunk_users(static_cast<size_t>(threads));
    struct Body {
      std::vector<std::atomic<int>>* hits;
      std::vector<std::atomic<int>>* users;
    } body{&hits, &chunk_users};
    cpu::detail::run_chunks(
        threads, 1000,
        [](const void* b, int64_t begin, int64_t end) {
          const auto& body = *static_cast<const Body*>(b);
          CHECK(cpu::in_parallel());
          const int t = cpu::thread_index();
          CHECK(begin == 1000 * t / static_cast<int64_t>(body.users->size()));  // chunk t is [n*t/T, n*(t+1)/T)
          (*body.users)[static_cast<size_t>(t)]++;
          for (int64_t i = begin; i < end; ++i) (*body.hits)[static_cast<size_t>(i)]++;
          // a loop inside a loop body runs serially on this thread
          int inner = 0;
          cpu::detail::run_chunks(
              4, 8, [](const void* p, int64_t s, int64_t e) { *static_cast<int*>(const_cast<void*>(p)) += int(e - s); },
              &inner);
          CHECK(inner == 8);
        },
        &body);
    for (auto& h : hits) CHECK(h.load() == 1);
    for (auto& u : chunk_users) CHECK(u.load() == 1);
    CHECK_FALSE(cpu::in_parallel());
  }
  // An exception in a chunk reaches the caller, and the pool keeps working afterwards.
  CHECK_THROWS_AS(cpu::detail::run_chunks(
                      2, 10,
                      [](const void*, int64_t begin, int64_t) {
                        if (begin > 0) throw ck::Error("chunk failed");
                      },
                      nullptr),
                  ck::Error);
  // Two threads calling at once: both loops complete (one of them runs serially).
  std::atomic<int64_t> total{0};
  auto loop = [&] {
    for (int r = 0; r < 200; ++r)
      cpu::detail::run_chunks(
          2, 100,
          [](const void* p, int64_t b, int64_t e) {
            *static_cast<std::atomic<int64_t>*>(const_cast<void*>(p)) += e - b;
          },
          &total);
  };
  std::thread other(loop);
  loop();
  other.join();
  CHECK(total.load() == 2 * 200 * 100);
}
