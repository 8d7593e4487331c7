// The fast conv2d (shifted views, Winograd, the direct kernel, the image lanes; im2col for double) against
// the reference loops over many random shapes and options, forward and all three
// gradients, in double and float.
// The image lanes (image_lanes.hpp) are tested wherever they are compiled (AVX-512 builds).
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <convkit/backend/cpu/kernels_by_isa.hpp>  // the kernel copies, called directly below
#include <convkit/convkit.hpp>
#include <cstdlib>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace {

template <class T>
double max_rel_diff(const ck::Tensor<T>& a, const ck::Tensor<T>& b) {
  REQUIRE(a.shape() == b.shape());
  const auto va = a.to_vector(), vb = b.to_vector();
  double scale = 1e-30, worst = 0;
  for (auto v : vb) scale = std::max(scale, std::fabs(static_cast<double>(v)));
  for (size_t i = 0; i < va.size(); ++i)
    worst = std::max(worst, std::fabs(static_cast<double>(va[i]) - static_cast<double>(vb[i])) / scale);
  return worst;
}

/// Uniform integers in [lo, hi] drawn from gen: each random test's sizes.
struct Pick {
  ck::Generator& gen;  ///< the test's generator
  /// One draw.
  int64_t operator()(int64_t lo, int64_t hi) const {
    return lo + static_cast<int64_t>(gen.below(static_cast<uint64_t>(hi - lo + 1)));
  }
};

namespace cpu = ck::backend::cpu;

/// True when the AVX-512 kernel copy runs (this CPU has AVX-512 and CONVKIT_ISA does not
/// ask for less): the image lanes and the strided Winograd are in that copy only.
bool avx512_copy_runs() { return cpu::kernel_isa() == cpu::Isa::avx512; }

/// Whether float layers that fit `kernel` take it: on the AVX-512 copy, unless
/// CONVKIT_CONV_ALGO names another kernel.
bool expected_for(const char* kernel) {
  const char* algo = std::getenv("CONVKIT_CONV_ALGO");
  return avx512_copy_runs() && (!algo || std::string(algo) == kernel);
}

/// The kernel the selection table gives pass `pass` of float layer g on the copy that runs.
cpu::ConvKernel chosen(const ck::Conv2dGeometry& g, cpu::ConvPass pass) {
  return cpu::choose_conv_kernel<float>(g, pass, cpu::kernel_isa());
}

/// A float tensor's values in double: the reference then runs in double, so the error
/// measured is the fast float path's own.
ck::Tensor<double> as_double(const ck::Tensor<float>& t) {
  const auto v = t.to_vector();
  return ck::Tensor<double>::from_vector(std::vector<double>(v.begin(), v.end()), t.shape());
}

/// A double tensor as it is (so that templated tests can call as_double on either type).
ck::Tensor<double> as_double(const ck::Tensor<double>& t) { return t; }

/// Draws a random layer (its channel counts from `channels`, which is given the group
/// count and returns {C, O}) and checks the forward pass and all three gradients against
/// the reference. Returns false for a draw whose kernel does not fit (tested in test_errors).
template <class T, class Channels>
bool check_random_conv(ck::Generator& gen, int trial, Channels channels) {
  const double tol = std::is_same<T, double>::value ? 1e-12 : 1e-5;
  const Pick pick{gen};
  const int64_t groups = pick(1, 3);
  const auto [C, O] = channels(groups, pick);
  const int64_t kh = pick(1, 4), kw = pick(1, 4), dh = pick(1, 2), dw = pick(1, 2);
  const int64_t ph = pick(0, 3), pw = pick(0, 3), sh = pick(1, 3), sw = pick(1, 3);
  // Every fifth layer is wide, so rows span several of the kernels' 16-element chunks.
  const int64_t H = pick(1, 9), W = trial % 5 == 0 ? pick(14, 40) : pick(1, 9), N = pick(1, 3);
  if (dh * (kh - 1) + 1 > H + 2 * ph || dw * (kw - 1) + 1 > W + 2 * pw) return false;
  const auto opt = ck::Conv2dOptions().stride({sh, sw}).padding({ph, pw}).dilation({dh, dw}).groups(groups);
  auto x = ck::Tensor<T>::uniform({N, C, H, W}, T(-1), T(1), gen).requires_grad_();
  auto w = ck::Tensor<T>::uniform({O, C / groups, kh, kw}, T(-1), T(1), gen).requires_grad_();
  const bool bias = gen.below(2) == 1;
  ck::Tensor<T> b = bias ? ck::Tensor<T>::uniform({O}, T(-1), T(1), gen).requires_grad_() : ck::Tensor<T>();
  auto y = ck::conv2d(x, w, b, opt);
  auto y_ref = ck::reference::conv2d(x, w, b, opt);
  INFO("trial " << trial << " x " << x.shape() << " w " << w.shape() << " stride " << opt.stride().str() << " padding "
                << opt.padding().str() << " dilation " << opt.dilation().str() << " groups " << groups);
  CHECK(max_rel_diff(y, y_ref) < tol);
  auto gy = ck::Tensor<T>::uniform(y.shape(), T(-1), T(1), gen);
  (y * gy).sum().backward();
  auto ref = ck::reference::conv2d_backward(x.detach(), w.detach(), bias ? b.detach() : ck::Tensor<T>(), gy, opt);
  CHECK(max_rel_diff(x.grad(), ref.gx) < tol);
  CHECK(max_rel_diff(w.grad(), ref.gw) < tol);
  if (bias) CHECK(max_rel_diff(b.grad(), ref.gb) < tol);
  return true;
}

}  // namespace

TEST_CASE_TEMPLATE("random conv2d configurations match the reference", T, float, double) {
  ck::Generator gen(2024);
  int tested = 0;
  for (int trial = 0; trial < 300; ++trial)
    tested += check_random_conv<T>(gen, trial, [](int64_t groups, auto pick) {
      return std::array<int64_t, 2>{groups * pick(1, 3), groups * pick(1, 3)};
    });
  CHECK(tested > 150);
}

// Vectors of 16 output channels per group take the lane kernel (channel_lanes.hpp) in float,
// with its blocks of positions ending past the output plane. 8 to 48 channels: part of a
// vector (8), one (16), and on AVX-512 a pair of vectors (32; at 24 its second partly
// filled), or a pair then a single vector (48; at 40 the single one partly filled).
TEST_CASE_TEMPLATE("random conv2d with 8 to 48 output channels per group match the reference", T, float, double) {
  ck::Generator gen(16);
  int tested = 0;
  for (int trial = 0; trial < 100; ++trial)
    tested += check_random_conv<T>(gen, trial, [](int64_t groups, auto pick) {
      return std::array<int64_t, 2>{groups * pick(1, 3), groups * (16 * pick(1, 3) - 8 * pick(0, 1))};
    });
  CHECK(tested > 50);
}

// Batches of 16 or more images with small planes take the image lanes in float
// (image_lanes.hpp): one vector per 16 images. 16 to 40 images leave a last block partly
// filled (zero lanes); 1 to 11 output channels a last block of channels partly filled;
// up to 5x5 kernels with padding up to the kernel size, positions and taps past whole
// blocks; 1 to 3 threads split the blocks of images. In an AVX-512 build, unless
// CONVKIT_CONV_ALGO turns the image lanes off, every drawn layer must take them (else
// this test tests nothing new); elsewhere the same layers test the other kernels.
TEST_CASE("random conv2d on batches of 16 to 40 images (image lanes) match the reference") {
  if (!avx512_copy_runs()) {
    MESSAGE(
        "skipped: the image lanes and the strided Winograd are in the AVX-512 kernel copy, which does not run here");
    return;
  }
  const int before = ck::num_threads();
  ck::Generator gen(1616);
  const Pick pick{gen};
  const bool expected = expected_for("image_lanes");
  int tested = 0;
  for (int trial = 0; trial < 40; ++trial) {
    const int64_t N = pick(16, 40), C = pick(2, 7), O = pick(1, 11), kh = pick(1, 5), kw = pick(1, 5);
    const int64_t ph = pick(0, kh), pw = pick(0, kw), H = pick(kh, 12), W = pick(kw, 12);
    if (kh == 1 && kw == 1 && ph == 0 && pw == 0) continue;  // pointwise: a plain matrix product
    const int threads = static_cast<int>(pick(1, 3));
    ck::set_num_threads(threads);
    const auto opt = ck::Conv2dOptions().padding({ph, pw});
    auto x = ck::Tensor<float>::uniform({N, C, H, W}, -1.f, 1.f, gen).requires_grad_();
    auto w = ck::Tensor<float>::uniform({O, C, kh, kw}, -1.f, 1.f, gen).requires_grad_();
    const bool bias = trial % 2 == 0;
    auto b = bias ? ck::Tensor<float>::uniform({O}, -1.f, 1.f, gen).requires_grad_() : ck::Tensor<float>();
    INFO("trial " << trial << " x " << x.shape() << " w " << w.shape() << " padding " << opt.padding().str()
                  << " threads " << threads);
    CHECK((chosen(ck::conv2d_geometry("conv2d", x, w, b, opt), cpu::kForward) == cpu::ConvKernel::image_lanes) ==
          expected);
    auto y = ck::conv2d(x, w, b, opt);
    auto yd = ck::reference::conv2d(as_double(x.detach()), as_double(w.detach()),
                                    bias ? as_double(b.detach()) : ck::Tensor<double>(), opt);
    // 5x5 kernels' forward goes through Winograd's F(4x4, 5x5) (image_lanes_winograd.hpp),
    // whose transforms round more than the direct sums (about 3e-6 of the largest output).
    const bool winograd = expected && ck::backend::cpu::use_image_winograd(ck::conv2d_geometry("conv2d", x, w, b, opt));
    CHECK(max_rel_diff(as_double(y.detach()), yd) < (winograd ? 1e-5 : 2e-6));
    auto gy = ck::Tensor<float>::uniform(y.shape(), -1.f, 1.f, gen);
    (y * gy).sum().backward();
    auto ref = ck::reference::conv2d_backward(as_double(x.detach()), as_double(w.detach()),
                                              bias ? as_double(b.detach()) : ck::Tensor<double>(), as_double(gy), opt);
    CHECK(max_rel_diff(as_double(x.grad()), ref.gx) < 2e-6);
    CHECK(max_rel_diff(as_double(w.grad()), ref.gw) < 2e-6);
    if (bias) CHECK(max_rel_diff(as_double(b.grad()), ref.gb) < 2e-6);
    ++tested;
  }
  ck::set_num_threads(before);
  CHECK(tested > 30);
}

// Deep layers on small output planes (at most 4x4) of 16 or more images take the position
// GEMMs (position_gemm.hpp), in float and double: one product per output position and tap
// inside the input. Kernels 1x2 to 4x4 with padding, stride and dilation up to 2 (so that
// positions read 0 to all of their taps, and some input positions none), 32 to 48
// channels, 1 to 3 threads, bias or none; unless CONVKIT_CONV_ALGO names another kernel,
// every drawn layer must take the position GEMMs for all three passes.
TEST_CASE_TEMPLATE("random conv2d on small planes (position GEMMs) match the reference", T, float, double) {
  const int before = ck::num_threads();
  ck::Generator gen(1717);
  const Pick pick{gen};
  const char* algo = std::getenv("CONVKIT_CONV_ALGO");
  const bool expected = !algo || std::string(algo) == "position_gemm";
  const double tol = std::is_same<T, double>::value ? 1e-12 : 2e-6;
  int tested = 0;
  for (int trial = 0; trial < 50; ++trial) {
    const int64_t N = pick(16, 24), C = pick(32, 48), O = pick(32, 48), kh = pick(1, 4), kw = pick(1, 4);
    const int64_t sh = pick(1, 2), sw = pick(1, 2), dh = pick(1, 2), dw = pick(1, 2);
    const int64_t ph = pick(0, 2), pw = pick(0, 2), H = pick(1, 7), W = pick(1, 7);
    const int64_t OH = (H + 2 * ph - dh * (kh - 1) - 1) / sh + 1, OW = (W + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
    if (H + 2 * ph < dh * (kh - 1) + 1 || W + 2 * pw < dw * (kw - 1) + 1 || OH * OW > cpu::kPositionMaxPlane) continue;
    if (kh * kw == 1) continue;  // a 1x1 layer goes to the channel lanes or the pointwise GEMM
    const int threads = static_cast<int>(pick(1, 3));
    ck::set_num_threads(threads);
    const auto opt = ck::Conv2dOptions().stride({sh, sw}).padding({ph, pw}).dilation({dh, dw});
    auto x = ck::Tensor<T>::uniform({N, C, H, W}, T(-1), T(1), gen).requires_grad_();
    auto w = ck::Tensor<T>::uniform({O, C, kh, kw}, T(-1), T(1), gen).requires_grad_();
    const bool bias = trial % 2 == 0;
    auto b = bias ? ck::Tensor<T>::uniform({O}, T(-1), T(1), gen).requires_grad_() : ck::Tensor<T>();
    INFO("trial " << trial << " x " << x.shape() << " w " << w.shape() << " stride " << opt.stride().str()
                  << " padding " << opt.padding().str() << " dilation " << opt.dilation().str() << " threads "
                  << threads);
    const auto g = ck::conv2d_geometry("conv2d", x, w, b, opt);
    for (const cpu::ConvPass pass : {cpu::kForward, cpu::kInputGradient, cpu::kWeightGradient})
      CHECK((cpu::choose_conv_kernel<T>(g, pass, cpu::kernel_isa()) == cpu::ConvKernel::position_gemm) == expected);
    auto y = ck::conv2d(x, w, b, opt);
    auto yd = ck::reference::conv2d(as_double(x.detach()), as_double(w.detach()),
                                    bias ? as_double(b.detach()) : ck::Tensor<double>(), opt);
    CHECK(max_rel_diff(as_double(y.detach()), yd) < tol);
    auto gy = ck::Tensor<T>::uniform(y.shape(), T(-1), T(1), gen);
    (y * gy).sum().backward();
    auto ref = ck::reference::conv2d_backward(as_double(x.detach()), as_double(w.detach()),
                                              bias ? as_double(b.detach()) : ck::Tensor<double>(), as_double(gy), opt);
    CHECK(max_rel_diff(as_double(x.grad()), ref.gx) < tol);
    CHECK(max_rel_diff(as_double(w.grad()), ref.gw) < tol);
    if (bias) CHECK(max_rel_diff(as_double(b.grad()), ref.gb) < tol);
    ++tested;
  }
  ck::set_num_threads(before);
  CHECK(tested > 20);
}

// 5x5 float layers in the image lanes take Winograd's F(4x4, 5x5) forward: 4x4 tiles, then
// tiles 2 wide or high (F(2, 5)) where a side leaves 2 over (10: tiles at 0, 4 and 8), or a
// last 4 overlapping the one before where it leaves 1 or 3; so all four tile shapes and the
// overlaps run (asserted below). Output channels in blocks of 8 (1 to 19: partial blocks),
// 16 to 40 images (a partial block of lanes), padding, bias or none, 1 to 3 threads. The
// transforms round more than the direct sums: within 1e-5 of the largest output (3-4e-6
// seen), where a wrong transform value or a misplaced tile is off by far more.
TEST_CASE("Winograd 5x5 forward in the image lanes matches the reference") {
  if (!avx512_copy_runs()) {
    MESSAGE(
        "skipped: the image lanes and the strided Winograd are in the AVX-512 kernel copy, which does not run here");
    return;
  }
  const int before = ck::num_threads();
  ck::Generator gen(4545);
  const Pick pick{gen};
  const bool expected = expected_for("image_lanes");
  double worst = 0;
  int sides_of_two = 0, odd_sides = 0, whole_sides = 0, both_of_two = 0;  // the tile shapes drawn
  for (int trial = 0; trial < 24; ++trial) {
    // The first trial is LeNet's conv2 (6 -> 16 channels, 14x14 -> 10x10, 256 images).
    const bool lenet = trial == 0;
    const int64_t N = lenet ? 256 : pick(16, 40), C = lenet ? 6 : pick(2, 7), O = lenet ? 16 : pick(1, 19);
    const int64_t ph = lenet ? 0 : pick(0, 2), pw = lenet ? 0 : pick(0, 2);
    const int64_t H = lenet ? 14 : pick(8 - 2 * ph, 17), W = lenet ? 14 : pick(8 - 2 * pw, 17);
    const int threads = static_cast<int>(pick(1, 3));
    ck::set_num_threads(threads);
    const auto opt = ck::Conv2dOptions().padding({ph, pw});
    auto x = ck::Tensor<float>::uniform({N, C, H, W}, -1.f, 1.f, gen);
    auto w = ck::Tensor<float>::uniform({O, C, 5, 5}, -1.f, 1.f, gen);
    const bool bias = trial % 2 == 0;
    auto b = bias ? ck::Tensor<float>::uniform({O}, -1.f, 1.f, gen) : ck::Tensor<float>();
    INFO("trial " << trial << " x " << x.shape() << " w " << w.shape() << " padding " << opt.padding().str()
                  << " threads " << threads);
    const auto g = ck::conv2d_geometry("conv2d", x, w, b, opt);
    REQUIRE(ck::backend::cpu::use_image_winograd(g));  // the layers drawn are ones the kernel takes
    CHECK((chosen(g, cpu::kForward) == cpu::ConvKernel::image_lanes) == expected);
    const double diff = max_rel_diff(
        as_double(ck::conv2d(x, w, b, opt)),
        ck::reference::conv2d(as_double(x), as_double(w), bias ? as_double(b) : ck::Tensor<double>(), opt));
    CHECK(diff < 1e-5);
    worst = std::max(worst, diff);
    for (int64_t side : {g.OH, g.OW}) (side % 4 == 2 ? sides_of_two : side % 2 == 1 ? odd_sides : whole_sides) += 1;
    both_of_two += g.OH % 4 == 2 && g.OW % 4 == 2;
  }
  CHECK(sides_of_two > 0);
  CHECK(odd_sides > 0);
  CHECK(whole_sides > 0);
  CHECK(both_of_two > 0);
  MESSAGE("Winograd 5x5 forward: worst error " << worst << " of the largest output");
  ck::set_num_threads(before);
}

TEST_CASE("the image lanes' Winograd takes 5x5 kernels with outputs of at least 4x4, and nothing else") {
  auto geometry = [](ck::Shape x, ck::Shape w, const ck::Conv2dOptions& opt) {
    return ck::conv2d_geometry("conv2d", ck::Tensor<float>::zeros(x), ck::Tensor<float>::zeros(w), ck::Tensor<float>(),
                               opt);
  };
  using ck::backend::cpu::use_image_winograd;
  CHECK(use_image_winograd(geometry({16, 6, 14, 14}, {16, 6, 5, 5}, ck::Conv2dOptions())));
  CHECK(use_image_winograd(geometry({16, 6, 8, 8}, {16, 6, 5, 5}, ck::Conv2dOptions())));        // 4x4 out
  CHECK_FALSE(use_image_winograd(geometry({16, 6, 7, 8}, {16, 6, 5, 5}, ck::Conv2dOptions())));  // 3 rows out
  CHECK_FALSE(use_image_winograd(geometry({16, 6, 14, 14}, {16, 6, 3, 3}, ck::Conv2dOptions())));
  CHECK_FALSE(use_image_winograd(geometry({16, 6, 14, 14}, {16, 6, 5, 3}, ck::Conv2dOptions())));
}

#if CONVKIT_ISA_COPIES || CONVKIT_BUILD_ISA == 2  // the AVX-512 copy is compiled
TEST_CASE("Winograd 5x5 tiles cover the output: 4 wide, then 2 or a last 4 ending at the edge") {
  if (!cpu::cpu_supports(cpu::Isa::avx512)) return;  // the copy's code needs AVX-512
  using ck::backend::cpu::isa_avx512::image_winograd::tile_cuts;
  typedef std::vector<std::pair<int64_t, int>> Cuts;
  CHECK(tile_cuts(4) == Cuts{{0, 4}});
  CHECK(tile_cuts(6) == Cuts{{0, 4}, {4, 2}});
  CHECK(tile_cuts(7) == Cuts{{0, 4}, {3, 4}});
  CHECK(tile_cuts(10) == Cuts{{0, 4}, {4, 4}, {8, 2}});
  CHECK(tile_cuts(12) == Cuts{{0, 4}, {4, 4}, {8, 4}});
  CHECK(tile_cuts(13) == Cuts{{0, 4}, {4, 4}, {8, 4}, {9, 4}});
}
#endif

// Strided layers whose kernel spans three strides (AlexNet conv1: 11x11 at stride 4) take
// Winograd F(4x4, 3x3) over phase planes in AVX-512 builds
// (strided_winograd.hpp). The draws cover strides 2 to 4, different on each side; 16 to
// 64 phase channels; output channels that leave a last block of 12 partly filled; output
// sides that are not whole tiles, an odd number of tile rows (a block of two tile rows
// half past the end) and rows wider than one vector of 16 tiles (64 columns); padding.
TEST_CASE("Winograd 3x3 over phase planes (strided kernels) matches the reference, forward and input gradient") {
  if (!avx512_copy_runs()) {
    MESSAGE(
        "skipped: the image lanes and the strided Winograd are in the AVX-512 kernel copy, which does not run here");
    return;
  }
  const int before = ck::num_threads();
  ck::Generator gen(1111);
  const Pick pick{gen};
  const bool expected = expected_for("strided_winograd");
  double worst = 0;
  int uneven_strides = 0, part_tiles = 0, odd_tile_rows = 0, two_spans = 0, part_blocks = 0;
  for (int trial = 0; trial < 20; ++trial) {
    // The first trial is AlexNet's conv1 (1 -> 96 channels, 11x11 at stride 4, padding 1).
    const bool alexnet = trial == 0;
    const int64_t sh = alexnet ? 4 : pick(2, 4), sw = alexnet ? 4 : pick(2, 4);
    const int64_t kh = alexnet ? 11 : pick(2 * sh + 1, 3 * sh), kw = alexnet ? 11 : pick(2 * sw + 1, 3 * sw);
    const int64_t C = alexnet ? 1 : pick((16 + sh * sw - 1) / (sh * sw), 64 / (sh * sw));
    const int64_t O = alexnet ? 96 : pick(16, 40), N = alexnet ? 2 : pick(1, 3);
    const int64_t ph = alexnet ? 1 : pick(0, (kh - 1) / 2), pw = alexnet ? 1 : pick(0, (kw - 1) / 2);
    const int64_t H = alexnet ? 224 : pick(kh, kh + 8 * sh), W = alexnet ? 224 : pick(kw, kw + 80 * sw);
    const int threads = static_cast<int>(pick(1, 3));
    ck::set_num_threads(threads);
    const auto opt = ck::Conv2dOptions().stride({sh, sw}).padding({ph, pw});
    auto x = ck::Tensor<float>::uniform({N, C, H, W}, -1.f, 1.f, gen).requires_grad_();
    auto w = ck::Tensor<float>::uniform({O, C, kh, kw}, -1.f, 1.f, gen).requires_grad_();
    const bool bias = trial % 2 == 0;
    auto b = bias ? ck::Tensor<float>::uniform({O}, -1.f, 1.f, gen).requires_grad_() : ck::Tensor<float>();
    INFO("trial " << trial << " x " << x.shape() << " w " << w.shape() << " stride " << opt.stride().str()
                  << " padding " << opt.padding().str() << " threads " << threads);
    const auto g = ck::conv2d_geometry("conv2d", x, w, b, opt);
    CHECK(ck::backend::cpu::strided_winograd_fits(g));
    CHECK((chosen(g, cpu::kForward) == cpu::ConvKernel::strided_winograd) == expected);
    CHECK((chosen(g, cpu::kInputGradient) == cpu::ConvKernel::strided_winograd) == expected);
    const auto bd = bias ? as_double(b.detach()) : ck::Tensor<double>();
    auto y = ck::conv2d(x, w, b, opt);
    const double diff = max_rel_diff(as_double(y), ck::reference::conv2d(as_double(x), as_double(w), bd, opt));
    CHECK(diff < 1e-5);
    // The input gradient is the same kernel's forward pass of the output gradient.
    auto gy = ck::Tensor<float>::uniform(y.shape(), -1.f, 1.f, gen);
    (y * gy).sum().backward();
    const auto ref =
        ck::reference::conv2d_backward(as_double(x.detach()), as_double(w.detach()), bd, as_double(gy), opt);
    const double gx_diff = max_rel_diff(as_double(x.grad()), ref.gx);
    CHECK(gx_diff < 1e-5);
    CHECK(max_rel_diff(as_double(w.grad()), ref.gw) < 1e-5);
    worst = std::max({worst, diff, gx_diff});
    uneven_strides += sh != sw;
    part_tiles += g.OH % 4 != 0 || g.OW % 4 != 0;
    odd_tile_rows += (g.OH + 3) / 4 % 2 == 1;
    two_spans += g.OW > 64;
    part_blocks += O % 12 != 0;
  }
  CHECK(uneven_strides > 0);
  CHECK(part_tiles > 0);
  CHECK(odd_tile_rows > 0);
  CHECK(two_spans > 0);
  CHECK(part_blocks > 0);
  MESSAGE("the strided Winograd: worst error " << worst << " of the largest value (output or input gradient)");
  ck::set_num_threads(before);
}

#if CONVKIT_ISA_COPIES || CONVKIT_BUILD_ISA == 2  // the AVX-512 copy is compiled
TEST_CASE("the strided Winograd takes blocks of 12 output channels, or 8 where fewer are left empty") {
  if (!cpu::cpu_supports(cpu::Isa::avx512)) return;  // the copy's code needs AVX-512
  using ck::backend::cpu::isa_avx512::strided_winograd::channel_block;
  CHECK(channel_block(96) == 12);  // AlexNet conv1: 8 blocks either way
  CHECK(channel_block(16) == 8);   // its input gradient (16 phases): 2 full blocks, not 12 + 4
  CHECK(channel_block(36) == 12);
  CHECK(channel_block(40) == 8);
  CHECK(channel_block(22) == 12);  // 2 empty either way: a tie takes 12 (fewer loads per multiply-add)
  CHECK(channel_block(19) == 12);  // 5 empty against 5
  CHECK(channel_block(28) == 8);   // 4 empty of 32, against 8 of 36
}

// Stride 1 is the plain F(4x4, 3x3) (one phase per channel). winograd.hpp's F(2x2, 3x3)
// and F(4x4, 3x3) take those layers in the library, so this calls the phase kernel
// directly.
TEST_CASE("Winograd 3x3 over phase planes at stride 1 matches the reference") {
  if (!cpu::cpu_supports(cpu::Isa::avx512)) return;  // the copy's code needs AVX-512
  ck::Generator gen(1212);
  const Pick pick{gen};
  for (int trial = 0; trial < 6; ++trial) {
    const int64_t C = pick(16, 64), O = pick(16, 30), N = pick(1, 2), pad = pick(0, 1);
    auto x = ck::Tensor<float>::uniform({N, C, pick(3, 20), pick(3, 90)}, -1.f, 1.f, gen);
    auto w = ck::Tensor<float>::uniform({O, C, 3, 3}, -1.f, 1.f, gen);
    auto b = ck::Tensor<float>::uniform({O}, -1.f, 1.f, gen);
    const auto opt = ck::Conv2dOptions().padding(pad);
    INFO("trial " << trial << " x " << x.shape() << " w " << w.shape() << " padding " << pad);
    const auto g = ck::conv2d_geometry("conv2d", x, w, b, opt);
    REQUIRE(ck::backend::cpu::strided_winograd_fits(g));
    auto y = ck::Tensor<float>::zeros({g.N, g.O, g.OH, g.OW});
    ck::backend::cpu::isa_avx512::strided_winograd::Forward(g, w.data()).run(x.data(), b.data(), y.data());
    CHECK(max_rel_diff(as_double(y), ck::reference::conv2d(as_double(x), as_double(w), as_double(b), opt)) < 1e-5);
  }
}
#endif

// Depthwise layers with 3x3 and 5x5 kernels go through the row kernels (depthwise.hpp):
// blocks of 7 output rows (4 below AVX-512; a plane's last block part empty), rows of one vector, of
// several, of an exact number of vectors, and narrower than a vector (a row's last vector
// then spills over several rows), column dilation, any padding up to K - 1, and 1-3 threads.
TEST_CASE_TEMPLATE("depthwise 3x3 and 5x5 layers (row kernels) match the reference, forward and all gradients", T,
                   float, double) {
  const double tol = std::is_same<T, double>::value ? 1e-12 : 1e-5;
  const int before = ck::num_threads();
  ck::Generator gen(57);
  const Pick pick{gen};
  // CONVKIT_CONV_ALGO naming another kernel turns this one off
  const char* algo = std::getenv("CONVKIT_CONV_ALGO");
  const bool forced = algo && std::string(algo) != "depthwise_rows";
  // narrow rows, several vectors, whole vectors, dilation, partial last block, 5x5, far spills
  std::array<int, 7> seen{};
  for (int trial = 0; trial < 60; ++trial) {
    const int64_t K = pick(0, 2) == 0 ? 5 : 3, dw = pick(1, 3) == 1 ? 2 : 1;
    // Every sixth layer's rows are whole vectors wide; every sixth other one's output is
    // 1-3 columns wide and 8-30 rows high, so a row's last vector spills over several rows.
    const bool whole = trial % 6 == 0, narrow = trial % 6 == 3;
    const int64_t ph = pick(0, K - 1), pw = narrow ? 0 : pick(0, (K - 1) * dw), N = pick(1, 3), C = pick(1, 6);
    const int64_t H = std::max(narrow ? pick(8, 30) + K - 1 - 2 * ph : pick(1, 40), K - 2 * ph);
    const int64_t Wmin = std::max<int64_t>((K - 1) * dw + 1 - 2 * pw, 1);
    const int64_t W = whole    ? std::max(16 * pick(1, 3) + (K - 1) * dw - 2 * pw, Wmin)
                      : narrow ? Wmin + pick(0, 2)
                               : std::max(pick(1, 70), Wmin);
    ck::set_num_threads(static_cast<int>(pick(1, 3)));
    const auto opt = ck::Conv2dOptions().padding({ph, pw}).dilation({1, dw}).groups(C);
    auto x = ck::Tensor<T>::uniform({N, C, H, W}, T(-1), T(1), gen).requires_grad_();
    auto w = ck::Tensor<T>::uniform({C, 1, K, K}, T(-1), T(1), gen).requires_grad_();
    auto b = ck::Tensor<T>::uniform({C}, T(-1), T(1), gen).requires_grad_();
    INFO("trial " << trial << " x " << x.shape() << " K " << K << " padding " << opt.padding().str() << " dilation "
                  << opt.dilation().str() << " threads " << ck::num_threads());
    const auto g = ck::conv2d_geometry("conv2d", x, w, b, opt);
    if (!forced)
      REQUIRE(cpu::choose_conv_kernel<T>(g, cpu::kForward, cpu::kernel_isa()) == cpu::ConvKernel::depthwise_rows);
    const int64_t lanes = 64 / static_cast<int64_t>(sizeof(T));
    seen[0] += g.OW < lanes;
    seen[1] += g.OW > lanes && g.OW % lanes != 0;
    seen[2] += g.OW % lanes == 0;
    seen[3] += dw == 2;
    seen[4] += g.OH % cpu::build_copy::depthwise::kBlockRows != 0;
    seen[5] += K == 5;
    auto y = ck::conv2d(x, w, b, opt);
    CHECK(max_rel_diff(y, ck::reference::conv2d(x, w, b, opt)) < tol);
    auto gy = ck::Tensor<T>::uniform(y.shape(), T(-1), T(1), gen);
    (y * gy).sum().backward();
    auto ref = ck::reference::conv2d_backward(x.detach(), w.detach(), b.detach(), gy, opt);
    CHECK(max_rel_diff(x.grad(), ref.gx) < tol);
    CHECK(max_rel_diff(w.grad(), ref.gw) < tol);
    CHECK(max_rel_diff(b.grad(), ref.gb) < tol);
    const auto plan = cpu::build_copy::depthwise::Plane::make<T>(H, W, ph, pw, K, dw);
    seen[6] += plan.tail_row < (plan.OH - 1) / plan.R * plan.R;  // spills reach past the last block
    if (forced) continue;
    // Called directly into buffers followed by a guard band: nothing may be written past
    // the output, however far a narrow plane's last rows spill (they go through a buffer).
    const T guard = T(12345);
    std::vector<T> yd(static_cast<size_t>(y.numel()) + 64, guard), gxd(static_cast<size_t>(x.numel()) + 64, guard);
    cpu::build_copy::depthwise_conv2d_forward(g, x.data(), w.data(), b.data(), yd.data());
    cpu::build_copy::depthwise_input_gradient(g, w.data(), gy.data(), gxd.data());
    const auto untouched = [&](const std::vector<T>& v) {
      return std::all_of(v.end() - 64, v.end(), [&](T e) { return e == guard; });
    };
    CHECK(untouched(yd));
    CHECK(untouched(gxd));
  }
  ck::set_num_threads(before);
  for (size_t i = 0; i < seen.size(); ++i) {
    CAPTURE(i);
    CHECK(seen[i] >= 3);
  }
}

// One image is split over the threads inside a layer: the direct kernel by (plane, output
// channel), so a thread's share can end inside a plane's channels (5 channels over 2 or 3
// threads); the lane kernel by blocks of positions. The layers are big enough to be split
// (kMinSplitWork: small ones run on the calling thread).
TEST_CASE("one image's conv2d forward split over threads matches the reference") {
  const int before = ck::num_threads();
  ck::Generator gen(31);
  struct Case {
    int64_t C, H, W, O, k, pad, groups;
  };
  for (int threads : {2, 3})
    for (const Case& c : {Case{1, 160, 160, 5, 5, 2, 1}, Case{3, 128, 128, 15, 3, 1, 3}, Case{6, 40, 40, 16, 5, 0, 1},
                          Case{4, 48, 48, 40, 3, 1, 2}}) {
      ck::set_num_threads(threads);
      CAPTURE(threads);
      CAPTURE(c.C);
      CAPTURE(c.O);
      const auto opt = ck::Conv2dOptions().padding(c.pad).groups(c.groups);
      auto x = ck::Tensor<float>::uniform({1, c.C, c.H, c.W}, -1.f, 1.f, gen);
      auto w = ck::Tensor<float>::uniform({c.O, c.C / c.groups, c.k, c.k}, -1.f, 1.f, gen);
      auto b = ck::Tensor<float>::uniform({c.O}, -1.f, 1.f, gen);
      ck::NoGradGuard no_grad;
      CHECK(max_rel_diff(as_double(ck::conv2d(x, w, b, opt)),
                         ck::reference::conv2d(as_double(x), as_double(w), as_double(b), opt)) < 1e-5);
    }
  ck::set_num_threads(before);
}

// Layers whose im2col matrix is too big for one piece (above 1 MB) are unfolded in bands of
// output rows (backend/cpu/conv/conv.hpp); the bands' edges must line up with strides, padding
// and dilation, including a last band shorter than the others.
TEST_CASE_TEMPLATE("large conv2d, unfolded in bands, matches the reference", T, float, double) {
  const double tol = std::is_same<T, double>::value ? 1e-12 : 1e-5;
  ck::Generator gen(77);
  struct Case {
    int64_t C, H, W, O, k, stride, pad, dilation, groups;
  };
  for (const Case& c :
       {Case{16, 47, 45, 8, 3, 1, 1, 1, 1}, Case{24, 61, 58, 6, 5, 2, 2, 1, 2}, Case{32, 37, 41, 4, 3, 1, 2, 2, 1}}) {
    const auto opt = ck::Conv2dOptions().stride(c.stride).padding(c.pad).dilation(c.dilation).groups(c.groups);
    auto x = ck::Tensor<T>::uniform({2, c.C, c.H, c.W}, T(-1), T(1), gen);
    auto w = ck::Tensor<T>::uniform({c.O, c.C / c.groups, c.k, c.k}, T(-1), T(1), gen);
    auto b = ck::Tensor<T>::uniform({c.O}, T(-1), T(1), gen);
    const auto y = ck::conv2d(x, w, b, opt);
    const int64_t P = c.C / c.groups * c.k * c.k;
    CAPTURE(P * y.size(2) * y.size(3));
    CHECK(P * y.size(2) * y.size(3) > (1 << 18));  // big enough to be unfolded in bands
    CHECK(max_rel_diff(y, ck::reference::conv2d(x, w, b, opt)) < tol);
  }
}

// Average pooling whose windows tile the input (kernel == stride, no padding) takes a plane-
// at-a-time path (backend/cpu/pool.hpp); sizes that are not a multiple of the window leave
// rows and columns that no window covers, whose gradient must be 0.
TEST_CASE_TEMPLATE("tiled average pooling matches a plain loop, forward and backward", T, float, double) {
  ck::Generator gen(5);
  for (const auto& size :
       {std::array<int64_t, 4>{8, 8, 2, 2}, {5, 7, 2, 2}, {6, 34, 2, 2}, {28, 28, 2, 2}, {9, 10, 3, 3}, {6, 7, 2, 3}}) {
    // Plain variables, not a structured binding: CAPTURE's lambda cannot name one before C++20.
    const int64_t H = size[0], W = size[1], kh = size[2], kw = size[3];
    CAPTURE(H);
    CAPTURE(W);
    CAPTURE(kh);
    CAPTURE(kw);
    auto x = ck::Tensor<T>::uniform({2, 3, H, W}, T(-1), T(1), gen).requires_grad_();
    auto y = ck::avg_pool2d(x, ck::Pool2dOptions({kh, kw}));
    const int64_t OH = H / kh, OW = W / kw;
    REQUIRE(y.shape() == ck::Shape{2, 3, OH, OW});
    auto gy = ck::Tensor<T>::uniform(y.shape(), T(-1), T(1), gen);
    (y * gy).sum().backward();
    const auto xv = x.to_vector(), yv = y.to_vector(), gyv = gy.to_vector(), gxv = x.grad().to_vector();
    double worst = 0;
    for (int64_t p = 0; p < 6; ++p)
      for (int64_t i = 0; i < H; ++i)
        for (int64_t j = 0; j < W; ++j) {
          const bool covered = i < OH * kh && j < OW * kw;
          const double expect_gx =
              covered ? double(gyv[static_cast<size_t>((p * OH + i / kh) * OW + j / kw)]) / double(kh * kw) : 0.0;
          worst = std::max(worst, std::fabs(double(gxv[static_cast<size_t>((p * H + i) * W + j)]) - expect_gx));
          if (i < OH && j < OW) {
            double s = 0;
            for (int64_t u = 0; u < kh; ++u)
              for (int64_t v = 0; v < kw; ++v)
                s += double(xv[static_cast<size_t>((p * H + i * kh + u) * W + j * kw + v)]);
            worst = std::max(worst,
                             std::fabs(double(yv[static_cast<size_t>((p * OH + i) * OW + j)]) - s / double(kh * kw)));
          }
        }
    CHECK(worst < 1e-6);
  }
}

// Max pooling (backend/cpu/pool.hpp runs it separably, a plane at a time) against a plain
// loop with PyTorch's rule over random shapes and options: values drawn from a few levels,
// so windows hold ties, and some NaNs, which must propagate. A second backward adds into
// the existing .grad (the op's backward_into path), so the gradient must double.
TEST_CASE_TEMPLATE("random max pooling configurations match a plain loop", T, float, double) {
  ck::Generator gen(77);
  const Pick pick{gen};
  int tested = 0;
  for (int trial = 0; trial < 400; ++trial) {
    const int64_t N = pick(1, 2), C = pick(1, 3), H = pick(1, 13), W = trial % 4 == 0 ? pick(14, 45) : pick(1, 13);
    const int64_t kh = pick(1, 4), kw = pick(1, 4), sh = pick(1, 3), sw = pick(1, 3), dh = pick(1, 2), dw = pick(1, 2);
    const int64_t ph = pick(0, kh / 2), pw = pick(0, kw / 2);
    const bool ceil = gen.below(2) == 1;
    auto opts = ck::Pool2dOptions({kh, kw}).stride({sh, sw}).padding({ph, pw}).dilation({dh, dw}).ceil_mode(ceil);
    std::vector<T> xv(static_cast<size_t>(N * C * H * W));
    for (auto& v : xv)
      v = gen.below(40) == 0 ? std::numeric_limits<T>::quiet_NaN() : static_cast<T>(gen.below(5)) - T(2);
    auto x = ck::Tensor<T>::from_vector(xv, {N, C, H, W}).requires_grad_();
    ck::Tensor<T> y;
    try {
      y = ck::max_pool2d(x, opts);
    } catch (const ck::Error&) {
      continue;  // a window entirely in padding, or a kernel larger than the input
    }
    ++tested;
    CAPTURE(trial);
    const int64_t OH = y.size(2), OW = y.size(3);
    auto gy = ck::Tensor<T>::uniform(y.shape(), T(-1), T(1), gen);
    (y * gy).sum().backward();
    const auto gx1 = x.grad().to_vector();
    auto y2 = ck::max_pool2d(x, opts);
    (y2 * gy).sum().backward();
    const auto yv = y.to_vector(), gyv = gy.to_vector(), gx2 = x.grad().to_vector();
    std::vector<double> expect_gx(xv.size(), 0.0);
    bool same = true;
    for (int64_t p = 0; p < N * C; ++p)
      for (int64_t i = 0; i < OH; ++i)
        for (int64_t j = 0; j < OW; ++j) {
          double best = 0;
          int64_t at = -1;
          for (int64_t u = 0; u < kh; ++u)
            for (int64_t v = 0; v < kw; ++v) {
              const int64_t r = i * sh - ph + u * dh, c = j * sw - pw + v * dw;
              if (r < 0 || r >= H || c < 0 || c >= W) continue;
              const double val = xv[static_cast<size_t>((p * H + r) * W + c)];
              if (at < 0 || val > best || std::isnan(val)) {
                best = val;
                at = r * W + c;
              }
            }
          REQUIRE(at >= 0);
          const size_t o = static_cast<size_t>((p * OH + i) * OW + j);
          const double got = yv[o];
          same = same && (std::isnan(best) ? std::isnan(got) : got == best);
          expect_gx[static_cast<size_t>(p * H * W + at)] += double(gyv[o]);
        }
    CHECK(same);
    double worst = 0;
    for (size_t k = 0; k < xv.size(); ++k) {
      worst = std::max(worst, std::fabs(double(gx1[k]) - expect_gx[k]));
      worst = std::max(worst, std::fabs(double(gx2[k]) - 2 * expect_gx[k]));
    }
    CHECK(worst < 1e-5);
  }
  CHECK(tested > 150);
}

// 3x3 stride-1 float layers with 16 or more channels take Winograd's forward pass
// (backend/cpu/conv/winograd.hpp), with output tiles of 2x2, 3x3 or 4x4 by the plane's size
// (winograd_tile_size). Against the reference over sizes that leave partial tiles at the
// right and bottom edges, paddings 0-2, with and without bias, several chunks of tiles;
// every tile size must be drawn. Larger tiles' transforms have larger constants: 1e-5 for
// F(4x4, 3x3), 5e-6 for F(3x3, 3x3), 2e-6 for F(2x2, 3x3).
namespace {
double winograd_tolerance(cpu::ConvKernel kernel) {
  return kernel == cpu::ConvKernel::winograd_f4 ? 1e-5 : kernel == cpu::ConvKernel::winograd_f3 ? 5e-6 : 2e-6;
}
bool is_winograd(cpu::ConvKernel kernel) {
  return kernel == cpu::ConvKernel::winograd || kernel == cpu::ConvKernel::winograd_f3 ||
         kernel == cpu::ConvKernel::winograd_f4;
}
}  // namespace

TEST_CASE("Winograd 3x3 forward matches the reference, with 2x2, 3x3 and 4x4 tiles") {
  if (std::getenv("CONVKIT_CONV_ALGO")) return;  // the test counts the kernels the table picks
  ck::Generator gen(31);
  const Pick pick{gen};
  std::map<cpu::ConvKernel, int> drawn;
  for (int trial = 0; trial < 32; ++trial) {
    const int64_t N = pick(1, 3), C = pick(16, 40), O = pick(16, 40), H = pick(3, 27), W = pick(3, 27);
    const int64_t pad = pick(0, 2);
    if (H + 2 * pad < 4 || W + 2 * pad < 4) continue;  // Winograd needs two output rows and columns
    const auto opt = ck::Conv2dOptions().padding(pad);
    auto x = ck::Tensor<float>::uniform({N, C, H, W}, -1.f, 1.f, gen);
    auto w = ck::Tensor<float>::uniform({O, C, 3, 3}, -1.f, 1.f, gen);
    const bool bias = trial % 2 == 0;
    auto b = bias ? ck::Tensor<float>::uniform({O}, -1.f, 1.f, gen) : ck::Tensor<float>();
    const auto kernel =
        cpu::choose_conv_kernel<float>(ck::conv2d_geometry("conv2d", x, w, b, opt), cpu::kForward, cpu::active_isa());
    REQUIRE(is_winograd(kernel));
    ++drawn[kernel];
    INFO("trial " << trial << " x " << x.shape() << " w " << w.shape() << " padding " << pad << " kernel "
                  << cpu::conv_kernel_name(kernel));
    auto y = ck::conv2d(x, w, b, opt);
    auto yd = ck::reference::conv2d(as_double(x), as_double(w), bias ? as_double(b) : ck::Tensor<double>(), opt);
    CHECK(max_rel_diff(as_double(y), yd) < winograd_tolerance(kernel));
  }
  CHECK(drawn[cpu::ConvKernel::winograd] >= 5);
  CHECK(drawn[cpu::ConvKernel::winograd_f3] >= 5);
  CHECK(drawn[cpu::ConvKernel::winograd_f4] >= 5);
}

// The same layers' gradients: conv2d_backward computes the input gradient by Winograd (as
// the forward pass of gy with flipped, transposed weights) and the weight gradient in
// Winograd's transformed space; the bias gradient takes the usual path.
TEST_CASE("Winograd 3x3 gradients match the reference, with 2x2, 3x3 and 4x4 tiles") {
  if (std::getenv("CONVKIT_CONV_ALGO")) return;  // the test counts the kernels the table picks
  ck::Generator gen(32);
  const Pick pick{gen};
  std::map<cpu::ConvKernel, int> drawn;
  for (int trial = 0; trial < 24; ++trial) {
    const int64_t N = pick(1, 3), C = pick(16, 40), O = pick(16, 40), H = pick(4, 25), W = pick(4, 25);
    const int64_t pad = pick(0, 2);
    const auto opt = ck::Conv2dOptions().padding(pad);
    auto x = ck::Tensor<float>::uniform({N, C, H, W}, -1.f, 1.f, gen).requires_grad_();
    auto w = ck::Tensor<float>::uniform({O, C, 3, 3}, -1.f, 1.f, gen).requires_grad_();
    auto b = ck::Tensor<float>::uniform({O}, -1.f, 1.f, gen).requires_grad_();
    const auto g = ck::conv2d_geometry("conv2d", x, w, b, opt);
    const auto kx = cpu::choose_conv_kernel<float>(g, cpu::kInputGradient, cpu::active_isa());
    const auto kw = cpu::choose_conv_kernel<float>(g, cpu::kWeightGradient, cpu::active_isa());
    ++drawn[kx];
    ++drawn[kw];
    INFO("trial " << trial << " x " << x.shape() << " w " << w.shape() << " padding " << pad << " kernels "
                  << cpu::conv_kernel_name(kx) << ", " << cpu::conv_kernel_name(kw));
    auto y = ck::conv2d(x, w, b, opt);
    auto gy = ck::Tensor<float>::uniform(y.shape(), -1.f, 1.f, gen);
    (y * gy).sum().backward();
    auto ref = ck::reference::conv2d_backward(as_double(x.detach()), as_double(w.detach()), as_double(b.detach()),
                                              as_double(gy), opt);
    CHECK(max_rel_diff(as_double(x.grad()), ref.gx) < winograd_tolerance(kx));
    CHECK(max_rel_diff(as_double(w.grad()), ref.gw) < winograd_tolerance(kw));
    CHECK(max_rel_diff(as_double(b.grad()), ref.gb) < 2e-6);
  }
  CHECK(drawn[cpu::ConvKernel::winograd] >= 5);
  CHECK(drawn[cpu::ConvKernel::winograd_f3] >= 5);
  CHECK(drawn[cpu::ConvKernel::winograd_f4] >= 5);
}

// 5x5 stride-1 float layers with 32 or more channels take Winograd's F(4x4, 5x5)
// (winograd.hpp, Tile<4, 5>; AlexNet's conv2): the forward pass and both gradients against
// the reference over sizes with partial tiles at the edges and paddings 0-4. Its
// transforms' constants reach 21/4 and 32/45: tolerance 2e-5.
TEST_CASE("Winograd 5x5 forward and gradients match the reference") {
  if (std::getenv("CONVKIT_CONV_ALGO")) return;  // the test checks the kernels the table picks
  ck::Generator gen(34);
  const Pick pick{gen};
  int partial_tiles = 0, input_gradients = 0;
  double worst = 0;
  for (int trial = 0; trial < 16; ++trial) {
    const int64_t N = pick(1, 3), C = pick(32, 48), O = pick(32, 48), pad = pick(0, 4);
    const int64_t H = pick(std::max<int64_t>(1, 8 - 2 * pad), 22), W = pick(std::max<int64_t>(1, 8 - 2 * pad), 22);
    const auto opt = ck::Conv2dOptions().padding(pad);
    auto x = ck::Tensor<float>::uniform({N, C, H, W}, -1.f, 1.f, gen).requires_grad_();
    auto w = ck::Tensor<float>::uniform({O, C, 5, 5}, -1.f, 1.f, gen).requires_grad_();
    auto b = ck::Tensor<float>::uniform({O}, -1.f, 1.f, gen).requires_grad_();
    const auto g = ck::conv2d_geometry("conv2d", x, w, b, opt);
    const auto kf = cpu::choose_conv_kernel<float>(g, cpu::kForward, cpu::active_isa());
    const auto kx = cpu::choose_conv_kernel<float>(g, cpu::kInputGradient, cpu::active_isa());
    const auto kw = cpu::choose_conv_kernel<float>(g, cpu::kWeightGradient, cpu::active_isa());
    INFO("trial " << trial << " x " << x.shape() << " w " << w.shape() << " padding " << pad << " kernels "
                  << cpu::conv_kernel_name(kf) << ", " << cpu::conv_kernel_name(kx) << ", "
                  << cpu::conv_kernel_name(kw));
    CHECK(kf == cpu::ConvKernel::winograd_5x5);
    CHECK(kw == cpu::ConvKernel::winograd_5x5);
    input_gradients += kx == cpu::ConvKernel::winograd_5x5;
    partial_tiles += g.OH % 4 != 0 || g.OW % 4 != 0;
    auto y = ck::conv2d(x, w, b, opt);
    auto gy = ck::Tensor<float>::uniform(y.shape(), -1.f, 1.f, gen);
    (y * gy).sum().backward();
    auto ref = ck::reference::conv2d_backward(as_double(x.detach()), as_double(w.detach()), as_double(b.detach()),
                                              as_double(gy), opt);
    auto yd = ck::reference::conv2d(as_double(x.detach()), as_double(w.detach()), as_double(b.detach()), opt);
    const double errors[3] = {max_rel_diff(as_double(y), yd), max_rel_diff(as_double(x.grad()), ref.gx),
                              max_rel_diff(as_double(w.grad()), ref.gw)};
    for (double e : errors) {
      CHECK(e < 2e-5);
      worst = std::max(worst, e);
    }
  }
  CHECK(partial_tiles >= 8);  // tiles that overhang the output's edge
  CHECK(input_gradients >= 8);
  MESSAGE("Winograd F(4x4, 5x5): worst error " << worst << " of the largest value");
}

// A batch large enough for several chunks of tiles per thread: each thread's weight
// gradient sums its chunks before the threads' sums are added, for each tile size.
TEST_CASE("Winograd 3x3 weight gradient sums over many chunks of tiles") {
  ck::Generator gen(33);
  const auto opt = ck::Conv2dOptions().padding(1);
  using K = cpu::ConvKernel;
  const struct {
    int64_t rows, columns;
    K kernel;
  } planes[] = {{40, 40, K::winograd_f4}, {29, 29, K::winograd_f3}, {4, 200, K::winograd}};
  for (const auto& plane : planes) {
    const int64_t rows = plane.rows;
    auto x = ck::Tensor<float>::uniform({5, 16, rows, plane.columns}, -1.f, 1.f, gen);
    auto w = ck::Tensor<float>::uniform({20, 16, 3, 3}, -1.f, 1.f, gen).requires_grad_();
    auto y = ck::conv2d(x, w, ck::Tensor<float>(), opt);
    auto gy = ck::Tensor<float>::uniform(y.shape(), -1.f, 1.f, gen);
    (y * gy).sum().backward();
    auto ref =
        ck::reference::conv2d_backward(as_double(x), as_double(w.detach()), ck::Tensor<double>(), as_double(gy), opt);
    const auto kernel = cpu::choose_conv_kernel<float>(ck::conv2d_geometry("conv2d", x, w, ck::Tensor<float>(), opt),
                                                       cpu::kWeightGradient, cpu::active_isa());
    CAPTURE(rows);
    if (!std::getenv("CONVKIT_CONV_ALGO")) CHECK(kernel == plane.kernel);
    CHECK(max_rel_diff(as_double(w.grad()), ref.gw) < winograd_tolerance(kernel));
  }
}

// A second backward through a pooling layer into a leaf adds straight into the existing
// .grad (Node::backward_into): the gradient must come out doubled, for the tiled and the
// general average pooling, and for max pooling.
TEST_CASE_TEMPLATE("pooling backward adds into an existing gradient", T, float, double) {
  ck::Generator gen(9);
  const std::vector<std::pair<bool, ck::Pool2dOptions>> cases = {
      {false, ck::Pool2dOptions(2)},                       // tiled
      {false, ck::Pool2dOptions({2, 3})},                  // tiled, uneven, with uncovered columns
      {false, ck::Pool2dOptions(3).stride(2).padding(1)},  // general
      {true, ck::Pool2dOptions(3).stride(2).padding(1)}};  // max
  for (const auto& c : cases) {
    const bool is_max = c.first;  // not a structured binding: the lambda below captures it
    const ck::Pool2dOptions& opt = c.second;
    auto x = ck::Tensor<T>::uniform({2, 3, 9, 11}, T(-1), T(1), gen).requires_grad_();
    auto pool = [&] { return is_max ? ck::max_pool2d(x, opt) : ck::avg_pool2d(x, opt); };
    auto y = pool();
    auto gy = ck::Tensor<T>::uniform(y.shape(), T(-1), T(1), gen);
    (y * gy).sum().backward();
    const auto once = x.grad().to_vector();
    auto held = x.grad();  // a handle to .grad sees the second pass too
    (pool() * gy).sum().backward();
    const auto twice = held.to_vector();
    REQUIRE(twice.size() == once.size());
    // Overlapping windows sum several terms per input, in a different order the second
    // time ((g + a) + b rather than g + (a + b)), so equal only to rounding.
    const double tol = std::is_same<T, double>::value ? 1e-12 : 1e-5;
    double worst = 0;
    for (size_t i = 0; i < once.size(); ++i) worst = std::max(worst, std::fabs(double(twice[i]) - 2 * double(once[i])));
    CHECK(worst < tol);
  }
}

// A second backward through conv2d into a leaf adds the input gradient straight into the
// existing .grad (Node::backward_into): pointwise layers in their GEMM (one and two
// blocks deep, with groups), the others through a temporary. Every gradient must come out
// doubled, also when the leaf is both the input and the weight.
TEST_CASE_TEMPLATE("conv2d backward adds into an existing gradient", T, float, double) {
  ck::Generator gen(12);
  struct Case {
    std::vector<int64_t> x, w;
    ck::Conv2dOptions opt;
  };
  const std::vector<Case> cases = {
      {{2, 16, 5, 7}, {8, 16, 1, 1}, ck::Conv2dOptions()},                     // pointwise
      {{2, 8, 6, 5}, {300, 8, 1, 1}, ck::Conv2dOptions()},                     // pointwise, gx two blocks deep
      {{2, 12, 4, 4}, {6, 4, 1, 1}, ck::Conv2dOptions().groups(3)},            // pointwise, grouped
      {{2, 3, 9, 8}, {5, 3, 3, 3}, ck::Conv2dOptions().padding(1)},            // general
      {{2, 4, 9, 8}, {4, 1, 3, 3}, ck::Conv2dOptions().padding(1).groups(4)},  // depthwise
      {{3, 6, 7, 7}, {4, 6, 3, 3}, ck::Conv2dOptions().stride(2)}};            // strided
  for (const auto& c : cases) {
    CAPTURE(ck::Shape(c.w).str());
    auto x = ck::Tensor<T>::uniform(ck::Shape(c.x), T(-1), T(1), gen).requires_grad_();
    auto w = ck::Tensor<T>::uniform(ck::Shape(c.w), T(-1), T(1), gen).requires_grad_();
    auto b = ck::Tensor<T>::uniform({c.w[0]}, T(-1), T(1), gen).requires_grad_();
    auto y = ck::conv2d(x, w, b, c.opt);
    auto gy = ck::Tensor<T>::uniform(y.shape(), T(-1), T(1), gen);
    (y * gy).sum().backward();
    const auto gx1 = x.grad().to_vector(), gw1 = w.grad().to_vector(), gb1 = b.grad().to_vector();
    auto held = x.grad();  // a handle to .grad sees the second pass too
    (ck::conv2d(x, w, b, c.opt) * gy).sum().backward();
    const double tol = std::is_same<T, double>::value ? 1e-12 : 1e-5;
    auto doubled = [&](const std::vector<T>& once, const std::vector<T>& twice) {
      REQUIRE(twice.size() == once.size());
      double worst = 0, scale = 1;
      for (size_t i = 0; i < once.size(); ++i) {
        worst = std::max(worst, std::fabs(double(twice[i]) - 2 * double(once[i])));
        scale = std::max(scale, std::fabs(double(once[i])));
      }
      return worst / scale;
    };
    CHECK(doubled(gx1, held.to_vector()) < tol);
    CHECK(doubled(gw1, w.grad().to_vector()) < tol);
    CHECK(doubled(gb1, b.grad().to_vector()) < tol);
  }
  // One leaf as the input (4 images of 4 channels, 1x1) and as the weight (4 filters).
  auto v = ck::Tensor<T>::uniform({4, 4, 1, 1}, T(-1), T(1), gen).requires_grad_();
  ck::conv2d(v, v).sum().backward();
  const auto once = v.grad().to_vector();
  std::vector<double> expect(once.size(), 0.0);  // d/dv sum_{n,o} sum_c v[n,c] v[o,c]
  const auto vv = v.to_vector();
  for (int64_t n = 0; n < 4; ++n)
    for (int64_t c = 0; c < 4; ++c)
      for (int64_t o = 0; o < 4; ++o)
        expect[static_cast<size_t>(n * 4 + c)] += 2 * double(vv[static_cast<size_t>(o * 4 + c)]);
  ck::conv2d(v, v).sum().backward();
  const auto twice = v.grad().to_vector();
  for (size_t i = 0; i < once.size(); ++i) {
    CHECK(double(once[i]) == doctest::Approx(expect[i]).epsilon(1e-5));
    CHECK(double(twice[i]) == doctest::Approx(2 * expect[i]).epsilon(1e-5));
  }
}

// Every kernel copy compiled into this program (kernels_by_isa.hpp) that this CPU can run
// gives the reference's answers, picked at run time through set_active_isa: LeNet's two
// convolutions (the direct kernel; the image lanes or the channel lanes), a Winograd layer
// and a depthwise one, forward and both gradients; max pooling equal in every copy (a
// maximum is exact), the other pooling, batch norm, the loss and the maps to rounding.
TEST_CASE("each kernel copy this CPU runs matches the reference, picked at run time") {
  const cpu::Isa before = cpu::active_isa();
  int copies = 0;
  std::vector<std::vector<float>> first;  // the first copy's pooling results
  for (cpu::Isa isa : {cpu::Isa::generic, cpu::Isa::avx2, cpu::Isa::avx512}) {
    if (!cpu::kernel_copy_compiled(isa) || !cpu::set_active_isa(isa)) continue;
    CAPTURE(cpu::isa_name(isa));
    REQUIRE(cpu::kernel_isa() == isa);
    ++copies;
    ck::Generator gen(7);
    struct Layer {
      ck::Shape x, w;
      int64_t groups;
    };
    for (const Layer& l : {Layer{{16, 1, 28, 28}, {6, 1, 5, 5}, 1}, Layer{{16, 6, 14, 14}, {16, 6, 5, 5}, 1},
                           Layer{{2, 16, 9, 9}, {16, 16, 3, 3}, 1}, Layer{{2, 8, 12, 12}, {8, 1, 3, 3}, 8}}) {
      CAPTURE(l.w.str());
      auto x = ck::Tensor<float>::uniform(l.x, -1.f, 1.f, gen).requires_grad_();
      auto w = ck::Tensor<float>::uniform(l.w, -1.f, 1.f, gen).requires_grad_();
      const auto opt = ck::Conv2dOptions().padding(1).groups(l.groups);
      auto y = ck::conv2d(x, w, ck::Tensor<float>(), opt);
      const auto xd = as_double(x.detach()), wd = as_double(w.detach());
      CHECK(max_rel_diff(as_double(y.detach()), ck::reference::conv2d(xd, wd, ck::Tensor<double>(), opt)) < 1e-5);
      auto gy = ck::Tensor<float>::uniform(y.shape(), -1.f, 1.f, gen);
      (y * gy).sum().backward();
      const auto ref = ck::reference::conv2d_backward(xd, wd, ck::Tensor<double>(), as_double(gy), opt);
      CHECK(max_rel_diff(as_double(x.grad()), ref.gx) < 1e-5);
      CHECK(max_rel_diff(as_double(w.grad()), ref.gw) < 1e-5);
    }
    // Max and average pooling, adaptive pooling, batch norm in training, the loss, and the
    // elementwise maps (the logistic, a broadcast product): outputs and input gradients.
    std::vector<std::vector<float>> pooled;
    const auto scale = ck::Tensor<float>::uniform({5, 1, 1}, -1.f, 1.f, gen);
    for (int op = 0; op < 7; ++op) {
      auto x = ck::Tensor<float>::uniform({3, 5, 13, 17}, -1.f, 1.f, gen).requires_grad_();
      const auto opt = ck::Pool2dOptions(3).stride(2).padding(1);
      const auto labels = std::vector<int64_t>{4, 0, 2};
      auto y = op == 0   ? ck::max_pool2d(x, opt)
               : op == 1 ? ck::avg_pool2d(x, opt)
               : op == 2 ? ck::adaptive_avg_pool2d(x, {4, 5})
               : op == 3 ? ck::batch_norm(x, ck::Tensor<float>(), ck::Tensor<float>(), ck::Tensor<float>(),
                                          ck::Tensor<float>(), true)
               : op == 4 ? ck::cross_entropy(x.reshape({3, 5 * 13 * 17}), labels)
               : op == 5 ? ck::sigmoid(x)
                         : x * scale;
      (y * ck::Tensor<float>::uniform(y.shape(), -1.f, 1.f, gen)).sum().backward();
      pooled.push_back(y.to_vector());
      pooled.push_back(x.grad().to_vector());
    }
    if (first.empty()) first = pooled;
    for (size_t k = 0; k < pooled.size(); ++k) {
      REQUIRE(pooled[k].size() == first[k].size());
      double worst = 0;
      for (size_t i = 0; i < pooled[k].size(); ++i)
        worst = std::max(worst, std::fabs(double(pooled[k][i]) - double(first[k][i])));
      CHECK(worst <= (k < 2 ? 0.0 : 1e-6));  // max pooling's output and gradient exactly
    }
  }
  cpu::set_active_isa(before);
  CHECK(copies >= 1);
  MESSAGE(copies << " kernel copies run on this CPU");
}

// The selection table (conv/select.hpp) on the benchmark's layers: which kernel each pass
// takes, by instruction set. The forward pass and both gradients ask the same table.
TEST_CASE("the selection table picks the documented kernel for each pass of the benchmark layers") {
  if (std::getenv("CONVKIT_CONV_ALGO")) return;  // a forced kernel changes every answer
  using K = cpu::ConvKernel;
  const auto geometry = [](ck::Shape x, ck::Shape w, const ck::Conv2dOptions& opt) {
    return ck::conv2d_geometry("conv2d", ck::Tensor<float>::zeros(x), ck::Tensor<float>::zeros(w), ck::Tensor<float>(),
                               opt);
  };
  struct Row {
    const char* layer;
    ck::Conv2dGeometry g;
    K avx512[3], avx2[3];  // forward, input gradient, weight gradient
  };
  const std::vector<Row> rows = {
      {"LeNet conv1",
       geometry({256, 1, 28, 28}, {6, 1, 5, 5}, ck::Conv2dOptions().padding(2)),
       {K::direct, K::direct, K::direct},
       {K::direct, K::direct, K::direct}},
      {"LeNet conv2",
       geometry({256, 6, 14, 14}, {16, 6, 5, 5}, ck::Conv2dOptions()),
       {K::image_lanes, K::image_lanes, K::image_lanes},
       {K::channel_lanes, K::channel_lanes, K::channel_lanes}},
      {"3x3, 256 channels on 14x14 planes: 3x3 tiles make 625 products, 4x4 tiles 576",
       geometry({32, 256, 14, 14}, {256, 256, 3, 3}, ck::Conv2dOptions().padding(1)),
       {K::winograd_f3, K::winograd_f3, K::winograd_f3},
       {K::winograd_f3, K::winograd_f3, K::winograd_f3}},
      {"3x3 on 56x56 planes: 3x3 tiles make 9025 products, 4x4 tiles 7056",
       geometry({32, 64, 56, 56}, {64, 64, 3, 3}, ck::Conv2dOptions().padding(1)),
       {K::winograd_f4, K::winograd_f4, K::winograd_f4},
       {K::winograd_f4, K::winograd_f4, K::winograd_f4}},
      {"ResNet-18 stage 2, 3x3 on 12x12 planes",
       geometry({64, 128, 12, 12}, {128, 128, 3, 3}, ck::Conv2dOptions().padding(1)),
       {K::winograd_f4, K::winograd_f4, K::winograd_f4},
       {K::winograd_f4, K::winograd_f4, K::winograd_f4}},
      {"9x9 planes: 3x3 tiles make 225 products, 4x4 tiles 324, 2x2 tiles 400",
       geometry({4, 16, 9, 9}, {16, 16, 3, 3}, ck::Conv2dOptions().padding(1)),
       {K::winograd_f3, K::winograd_f3, K::winograd_f3},
       {K::winograd_f3, K::winograd_f3, K::winograd_f3}},
      {"ResNet-18 stage 1, 3x3 on 24x24 planes",
       geometry({64, 64, 24, 24}, {64, 64, 3, 3}, ck::Conv2dOptions().padding(1)),
       {K::winograd_f4, K::winograd_f4, K::winograd_f4},
       {K::winograd_f4, K::winograd_f4, K::winograd_f4}},
      {"8x8 output from a 10x10 input without padding (F(4x4, 3x3)'s smallest); its input gradient is 10x10",
       geometry({4, 16, 10, 10}, {16, 16, 3, 3}, ck::Conv2dOptions()),
       {K::winograd_f4, K::winograd_f4, K::winograd_f4},
       {K::winograd_f4, K::winograd_f4, K::winograd_f4}},
      {"7x7 output: F(2x2, 3x3)'s 256 products are within 6/5 of F(3x3, 3x3)'s 225",
       geometry({4, 16, 7, 7}, {16, 16, 3, 3}, ck::Conv2dOptions().padding(1)),
       {K::winograd, K::winograd, K::winograd},
       {K::winograd, K::winograd, K::winograd}},
      {"8x8 output from 6x6 with padding 2: the input gradient (6x6) takes F(3x3, 3x3)",
       geometry({4, 16, 6, 6}, {16, 16, 3, 3}, ck::Conv2dOptions().padding(2)),
       {K::winograd_f4, K::winograd_f3, K::winograd_f4},
       {K::winograd_f4, K::winograd_f3, K::winograd_f4}},
      {"4x4 planes: F(2x2, 3x3)'s 64 products against F(3x3, 3x3)'s 100",
       geometry({4, 16, 4, 4}, {16, 16, 3, 3}, ck::Conv2dOptions().padding(1)),
       {K::winograd, K::winograd, K::winograd},
       {K::winograd, K::winograd, K::winograd}},
      {"AlexNet conv1",
       geometry({8, 1, 224, 224}, {96, 1, 11, 11}, ck::Conv2dOptions().stride(4).padding(1)),
       {K::strided_winograd, K::strided_winograd, K::channel_lanes},
       {K::channel_lanes, K::channel_lanes, K::channel_lanes}},
      {"AlexNet conv2, 5x5",
       geometry({128, 96, 26, 26}, {256, 96, 5, 5}, ck::Conv2dOptions().padding(2)),
       {K::winograd_5x5, K::winograd_5x5, K::winograd_5x5},
       {K::winograd_5x5, K::winograd_5x5, K::winograd_5x5}},
      {"1x1",
       geometry({32, 256, 28, 28}, {128, 256, 1, 1}, ck::Conv2dOptions()),
       {K::pointwise, K::pointwise, K::pointwise},
       {K::pointwise, K::pointwise, K::pointwise}},
      {"depthwise 3x3",
       geometry({32, 128, 28, 28}, {128, 1, 3, 3}, ck::Conv2dOptions().padding(1).groups(128)),
       {K::depthwise_rows, K::depthwise_rows, K::depthwise_rows},
       {K::depthwise_rows, K::depthwise_rows, K::depthwise_rows}},
      {"ResNet-18 stage 4, 3x3 on 3x3 planes",
       geometry({64, 512, 3, 3}, {512, 512, 3, 3}, ck::Conv2dOptions().padding(1)),
       {K::position_gemm, K::position_gemm, K::position_gemm},
       {K::position_gemm, K::position_gemm, K::position_gemm}},
      {"ResNet-18 stage 4, 3x3 stride 2 from 6x6",
       geometry({64, 256, 6, 6}, {512, 256, 3, 3}, ck::Conv2dOptions().stride(2).padding(1)),
       {K::position_gemm, K::position_gemm, K::position_gemm},
       {K::position_gemm, K::position_gemm, K::position_gemm}},
      {"128 channels on 6x6 planes, batch 64: Winograd's gradients before the image lanes",
       geometry({64, 128, 6, 6}, {128, 128, 3, 3}, ck::Conv2dOptions().padding(1)),
       {K::winograd_f3, K::winograd_f3, K::winograd_f3},
       {K::winograd_f3, K::winograd_f3, K::winograd_f3}},
      {"32 channels on 8x8 planes, batch 64: the image lanes take the gradients",
       geometry({64, 32, 8, 8}, {32, 32, 3, 3}, ck::Conv2dOptions().padding(1)),
       {K::winograd_f4, K::image_lanes, K::image_lanes},
       {K::winograd_f4, K::winograd_f4, K::winograd_f4}},
      {"ResNet-18 stage 3, 3x3 on 6x6 planes",
       geometry({64, 256, 6, 6}, {256, 256, 3, 3}, ck::Conv2dOptions().padding(1)),
       {K::winograd_f3, K::winograd_f3, K::winograd_f3},
       {K::winograd_f3, K::winograd_f3, K::winograd_f3}},
  };
  const cpu::ConvPass passes[3] = {cpu::kForward, cpu::kInputGradient, cpu::kWeightGradient};
  for (const Row& r : rows)
    for (int p = 0; p < 3; ++p) {
      CAPTURE(r.layer);
      CAPTURE(p);
      CHECK(cpu::choose_conv_kernel<float>(r.g, passes[p], cpu::Isa::avx512) == r.avx512[p]);
      CHECK(cpu::choose_conv_kernel<float>(r.g, passes[p], cpu::Isa::avx2) == r.avx2[p]);
      CHECK(cpu::choose_conv_kernel<float>(r.g, passes[p], cpu::Isa::generic) == r.avx2[p]);
      // double has no float-only kernel: the direct, depthwise, pointwise and position
      // kernels or im2col
      const K d = cpu::choose_conv_kernel<double>(r.g, passes[p], cpu::Isa::avx512);
      CHECK((d == K::direct || d == K::depthwise_rows || d == K::pointwise || d == K::position_gemm || d == K::im2col));
    }
  // Every kernel has a name CONVKIT_CONV_ALGO accepts, and the table ends with a row that fits anything.
  for (K k : {K::pointwise, K::im2col, K::channel_lanes, K::direct, K::depthwise_rows, K::winograd, K::winograd_f3,
              K::winograd_f4, K::winograd_5x5, K::image_lanes, K::strided_winograd, K::position_gemm})
    CHECK(std::string(cpu::conv_kernel_name(k)) != "?");
  CHECK(cpu::kConvKernelTable[std::size(cpu::kConvKernelTable) - 1].kernel == K::im2col);
}
