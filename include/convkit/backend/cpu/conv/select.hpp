#pragma once
// Which convolution kernel computes which pass of which layer, in one table
// (kConvKernelTable) read by the forward pass and both gradients (conv.hpp) on every
// instruction set. Each row names a kernel, the passes it serves, the least instruction
// set it is compiled for, the shapes it fits and why it wins there; the first row that
// fits a pass takes it. The geometry predicates live here too, so that the table, the
// kernels and the tests ask the same question.
//
// CONVKIT_CONV_ALGO (an environment variable, for the tests and benchmarks) names one
// kernel: every layer and pass it fits goes through it, and the rest through the general
// kernels (pointwise, channel_lanes, im2col). CONVKIT_CONV_ALGO=im2col sends everything
// through im2col and the GEMM.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <type_traits>

#include "../../../core/error.hpp"
#include "../../../core/geometry.hpp"
#include "../cpu_features.hpp"

namespace convkit::backend::cpu {

/// The CPU convolution kernels (conv.hpp runs them).
enum class ConvKernel {
  pointwise,         ///< 1x1 layers: the input is its own im2col matrix, one GEMM
  im2col,            ///< any layer: im2col then the GEMM (col2im for the input gradient)
  channel_lanes,     ///< float: 16 output channels per vector (channel_lanes.hpp)
  direct,            ///< one input channel per group, stride 1 (direct.hpp)
  depthwise_rows,    ///< depthwise 3x3 and 5x5, stride 1, in blocks of rows (depthwise.hpp)
  winograd,          ///< float 3x3 stride 1, many channels: F(2x2, 3x3) (winograd.hpp)
  winograd_f3,       ///< the same where 3x3 tiles make the fewest products: F(3x3, 3x3) (winograd.hpp)
  winograd_f4,       ///< the same where 4x4 tiles make the fewest products: F(4x4, 3x3) (winograd.hpp)
  winograd_5x5,      ///< float 5x5 stride 1, many channels: F(4x4, 5x5) (winograd.hpp)
  image_lanes,       ///< float, 16 or more small images: 16 images per vector (image_lanes.hpp)
  strided_winograd,  ///< float, a kernel of three strides: F(4x4, 3x3) per phase (strided_winograd.hpp)
  position_gemm,     ///< deep layers on small planes: a GEMM per output position and tap (position_gemm.hpp)
};

/// The three passes of a convolution, as bits of ConvKernelRule::passes.
enum ConvPass : unsigned {
  kForward = 1,         ///< y from x and w
  kInputGradient = 2,   ///< gx from gy and w
  kWeightGradient = 4,  ///< gw from gy and x
  kAllPasses = 7,       ///< all three
};

/// True when g has one input channel per group and stride 1 (not pointwise): the direct
/// kernel's shapes, depthwise layers and single-channel inputs such as LeNet's conv1.
inline bool fits_direct(const Conv2dGeometry& g) {
  return g.in_per_group() == 1 && g.sh == 1 && g.sw == 1 && !g.is_pointwise();
}

/// True when g is depthwise (one input and one output channel per group) with stride 1,
/// no row dilation, a square 3x3 or 5x5 kernel and padding of at most K - 1 (so that its
/// input gradient is a padded convolution too), built by a compiler with vector
/// extensions (GCC, Clang).
inline bool fits_depthwise_rows(const Conv2dGeometry& g) {
#if defined(__GNUC__) || defined(__clang__)
  if (g.in_per_group() != 1 || g.out_per_group() != 1 || g.sh != 1 || g.sw != 1 || g.dh != 1) return false;
  if (g.kh != g.kw || (g.kh != 3 && g.kh != 5)) return false;
  return g.ph <= g.kh - 1 && g.pw <= (g.kw - 1) * g.dw;
#else
  (void)g;
  return false;
#endif
}

/// True when g fits Winograd's F(2x2, 3x3) forward pass and weight gradient: a 3x3 kernel,
/// stride and dilation 1, one group, and at least 16 input and output channels (below
/// that the elementwise products are too thin to gain).
inline bool fits_winograd(const Conv2dGeometry& g) {
  return g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 && g.groups == 1 && g.C >= 16 &&
         g.O >= 16 && g.OH >= 2 && g.OW >= 2;
}

/// The elementwise products per channel pair of F(m x m, 3x3) on g's output plane: the
/// tiles that cover it, (m + 2)^2 each. Tiles that overhang the plane's edge count whole.
inline int64_t winograd_products(const Conv2dGeometry& g, int64_t m) {
  return ((g.OH + m - 1) / m) * ((g.OW + m - 1) / m) * (m + 2) * (m + 2);
}

/// The fewest output rows and columns F(4x4, 3x3) takes: on 6x6 planes its two 4x4 tiles
/// a side make as many products as F(2x2, 3x3)'s three (144 per channel pair), with
/// costlier transforms.
constexpr int64_t kWinogradF4MinPlane = 8;

/// The output tile size of g's Winograd kernel, 2, 3 or 4 (0 when g does not fit
/// Winograd): the smallest whose tiles make at most 6/5 of the products of the size that
/// makes the fewest, since larger tiles cost more to transform. All three passes, the
/// fastest of 3-8 rounds (benchmarks/RESULTS.md): F(4x4, 3x3) wins on 56x56 planes (105
/// against 120 ms), F(3x3, 3x3) on 14x14 (114 against 127) and 9x9 (14.0 against 19.9 and
/// F(2x2, 3x3)'s 18.0), F(2x2, 3x3) on 7x7 (12.5 against 13.7); the two larger tie on
/// 24x24 and 12x12.
inline int winograd_tile_size(const Conv2dGeometry& g) {
  if (!fits_winograd(g)) return 0;
  const bool f4 = g.OH >= kWinogradF4MinPlane && g.OW >= kWinogradF4MinPlane;
  int64_t fewest = std::min(winograd_products(g, 2), winograd_products(g, 3));
  if (f4) fewest = std::min(fewest, winograd_products(g, 4));
  for (int m = 2; m < 4; ++m)
    if (5 * winograd_products(g, m) <= 6 * fewest) return m;
  return 4;
}

/// True when g takes Winograd's F(4x4, 3x3) (winograd_tile_size).
inline bool fits_winograd_f4(const Conv2dGeometry& g) { return winograd_tile_size(g) == 4; }

/// True when g takes Winograd's F(3x3, 3x3) (winograd_tile_size): 100 products per
/// channel pair on 6x6 planes, where F(2x2, 3x3) makes 144.
inline bool fits_winograd_f3(const Conv2dGeometry& g) { return winograd_tile_size(g) == 3; }

/// The input-gradient pass of a K x K stride-1 convolution as a forward one: gx is gy,
/// padded by K - 1 - p, correlated with the weights flipped in space and with input and
/// output channels swapped. Returns the geometry of that convolution.
inline Conv2dGeometry input_gradient_geometry(const Conv2dGeometry& g) {
  Conv2dGeometry t = g;
  t.C = g.O;
  t.O = g.C;
  t.H = g.OH;
  t.W = g.OW;
  t.ph = g.kh - 1 - g.ph;
  t.pw = g.kw - 1 - g.pw;
  t.OH = g.H;
  t.OW = g.W;
  return t;
}

/// True when g's input gradient fits Winograd: as a forward pass of the output gradient
/// (input_gradient_geometry), which needs padding of at most 2.
inline bool fits_winograd_input_gradient(const Conv2dGeometry& g) {
  return fits_winograd(g) && g.ph <= 2 && g.pw <= 2 && fits_winograd(input_gradient_geometry(g));
}

/// True when g fits Winograd's F(4x4, 5x5) forward pass and weight gradient: a 5x5
/// kernel, stride and dilation 1, one group, at least 32 input and output channels and
/// 4x4 outputs (AlexNet's conv2; narrower small layers go to the image lanes, whose own
/// F(4x4, 5x5) serves LeNet's conv2).
inline bool fits_winograd_5x5(const Conv2dGeometry& g) {
  return g.kh == 5 && g.kw == 5 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 && g.groups == 1 && g.C >= 32 &&
         g.O >= 32 && g.OH >= 4 && g.OW >= 4;
}

/// True when g's input gradient fits F(4x4, 5x5): as a forward pass of the output
/// gradient (input_gradient_geometry), which needs padding of at most 4.
inline bool fits_winograd_5x5_input_gradient(const Conv2dGeometry& g) {
  return fits_winograd_5x5(g) && g.ph <= 4 && g.pw <= 4 && fits_winograd_5x5(input_gradient_geometry(g));
}

/// True when g's input gradient fits F(4x4, 3x3): as a forward pass of the output
/// gradient, it fits the input gradient's F(2x2, 3x3) and fits_winograd_f4.
inline bool fits_winograd_f4_input_gradient(const Conv2dGeometry& g) {
  return fits_winograd_input_gradient(g) && fits_winograd_f4(input_gradient_geometry(g));
}

/// True when g's input gradient fits F(3x3, 3x3): as a forward pass of the output
/// gradient, it fits the input gradient's F(2x2, 3x3) and fits_winograd_f3.
inline bool fits_winograd_f3_input_gradient(const Conv2dGeometry& g) {
  return fits_winograd_input_gradient(g) && fits_winograd_f3(input_gradient_geometry(g));
}

constexpr int64_t kImageLanes = 16;  ///< images per vector of the image lanes (64 bytes of float)
constexpr int kImageChannels = 4;    ///< output channels per block of the image lanes' forward pass
/// The image lanes' largest plane set for a block of 16 images (input, output, or the
/// input gradient's products), in values per image: at most 8192, so that the block
/// (512 KB) stays in the L2 cache.
constexpr int64_t kImageMaxValues = 8192;

/// True when g fits the image lanes: one group, stride and dilation 1, not pointwise, at
/// least 2 input channels (one goes to the direct kernel), at least 16 images, and small
/// planes (kImageMaxValues; the input gradient's per-channel products are kh * kw planes
/// of the output's size).
inline bool fits_image_lanes(const Conv2dGeometry& g) {
  if (!(g.groups == 1 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 && !g.is_pointwise() && g.C >= 2 &&
        g.N >= kImageLanes))
    return false;
  const int64_t in = g.C * (g.H + 2 * g.ph) * (g.W + 2 * g.pw), out = g.O * g.OH * g.OW;
  const int64_t taps = (g.kh * g.kw + kImageChannels) * g.OH * g.OW;
  return std::max({in, out, taps}) <= kImageMaxValues;
}

/// The fewest input and output channels at which Winograd's gradients run before the
/// image lanes' on the layers that fit both (Winograd's forward rows come first anyway):
/// its GEMMs are then wide enough. Two threads, batch 64, all three passes, the fastest of
/// four rounds: 64 channels on 8x8 planes 9.3 -> 4.4 ms and on 6x6 4.2 -> 2.6 ms, 128 on
/// 6x6 15.2 -> 7.5 ms and on 5x5 13.1 -> 7.0 ms. Narrower layers keep the image lanes.
constexpr int64_t kWinogradBeforeImageLanesChannels = 64;

/// True when the image lanes take g's passes: it fits them and, with at least
/// kWinogradBeforeImageLanesChannels channels in and out, does not fit Winograd.
inline bool takes_image_lanes(const Conv2dGeometry& g) {
  return fits_image_lanes(g) && !(fits_winograd(g) && std::min(g.C, g.O) >= kWinogradBeforeImageLanesChannels);
}

/// True when the image lanes' forward pass of g goes through Winograd F(4x4, 5x5)
/// (image_lanes_winograd.hpp): a 5x5 kernel with at least 4 output rows and columns.
inline bool use_image_winograd(const Conv2dGeometry& g) { return g.kh == 5 && g.kw == 5 && g.OH >= 4 && g.OW >= 4; }

/// Input channels of the strided Winograd's phase convolution: C * sh * sw.
inline int64_t phase_channels(const Conv2dGeometry& g) { return g.C * g.sh * g.sw; }

/// True when g's shape fits strided_winograd::Forward: one group, dilation 1, a kernel of
/// three strides on each side (2 sh < kh <= 3 sh, and so for the columns), and 16 to 128
/// phase channels with at least 16 output channels, where the elementwise products have
/// enough to multiply and a block's transformed input (at most 590 KB) stays in the L2
/// cache.
inline bool strided_winograd_fits(const Conv2dGeometry& g) {
  const int64_t phases = phase_channels(g);
  return g.groups == 1 && g.dh == 1 && g.dw == 1 && 2 * g.sh < g.kh && g.kh <= 3 * g.sh && 2 * g.sw < g.kw &&
         g.kw <= 3 * g.sw && phases >= 16 && phases <= 128 && g.O >= 16;
}

/// The input gradient of a layer that fits as a forward pass (strided_winograd::input_gradient):
/// the output gradient, padded by 2, correlated with the flipped 3x3 sub-kernels into the
/// C * sh * sw phase planes of (OH + 2) x (OW + 2) (every input value some output reads).
inline Conv2dGeometry phase_gradient_geometry(const Conv2dGeometry& g) {
  const int64_t phases = phase_channels(g);
  return Conv2dGeometry{g.N, g.O, g.OH, g.OW, phases, 3, 3, 1, 1, 2, 2, 1, 1, 1, g.OH + 2, g.OW + 2};
}

/// True when g's forward pass fits the strided Winograd: the shape fits and the stride is
/// more than 1 (stride-1 3x3 layers have winograd.hpp).
inline bool fits_strided_winograd(const Conv2dGeometry& g) {
  return strided_winograd_fits(g) && !(g.sh == 1 && g.sw == 1);
}

/// True when g's input gradient fits the strided Winograd too: its forward pass does, and
/// the gradient's own shape fits (at most 128 output channels).
inline bool fits_strided_winograd_input_gradient(const Conv2dGeometry& g) {
  return fits_strided_winograd(g) && strided_winograd_fits(phase_gradient_geometry(g));
}

/// The position GEMMs' largest output plane, in positions (4x4).
constexpr int64_t kPositionMaxPlane = 16;

/// True when g fits the position GEMMs: one group, a kernel of more than one tap (a 1x1
/// layer's positions are single products; ResNet-18's strided 1x1 shortcut runs faster in
/// the channel lanes), a small output plane (kPositionMaxPlane; on 6x6 planes Winograd and
/// the channel lanes win), at least 32 input and output channels and 16 images, so that
/// each product (O x C times C x images) fills the GEMM's panels.
inline bool fits_position_gemm(const Conv2dGeometry& g) {
  return g.groups == 1 && g.kh * g.kw > 1 && g.OH * g.OW <= kPositionMaxPlane && g.C >= 32 && g.O >= 32 && g.N >= 16;
}

namespace select_detail {
inline bool any_shape(const Conv2dGeometry&) { return true; }
inline bool pointwise(const Conv2dGeometry& g) { return g.is_pointwise(); }
inline bool not_pointwise(const Conv2dGeometry& g) { return !g.is_pointwise(); }
}  // namespace select_detail

/// One row of kConvKernelTable.
struct ConvKernelRule {
  ConvKernel kernel;                    ///< the kernel
  const char* name;                     ///< its name for CONVKIT_CONV_ALGO
  unsigned passes;                      ///< the ConvPass bits it serves in this row
  Isa isa;                              ///< the least instruction set it is compiled for
  bool float_only;                      ///< true when it has no double version
  bool general;                         ///< true when CONVKIT_CONV_ALGO leaves it on
  bool (*fits)(const Conv2dGeometry&);  ///< the shapes it serves
  const char* why;                      ///< why it wins there
};

/// The selection table: for each pass, the first row that serves it, fits the layer's
/// type, the instruction set in use and the shape, runs. A kernel may have more than one
/// row when its place in the order differs between passes.
inline constexpr ConvKernelRule kConvKernelTable[] = {
    {ConvKernel::position_gemm, "position_gemm", kAllPasses, Isa::generic, false, false, fits_position_gemm,
     "no padding taps multiplied (49 of 81 products on a 3x3 plane), every product the batch wide"},
    {ConvKernel::winograd_f4, "winograd_f4", kForward, Isa::generic, true, false, fits_winograd_f4,
     "4x fewer multiplications than direct sums, 1.8x fewer than F(2x2, 3x3); 36 GEMMs"},
    {ConvKernel::winograd_f3, "winograd_f3", kForward, Isa::generic, true, false, fits_winograd_f3,
     "3.2x fewer multiplications than direct sums, transforms cheaper than F(4x4, 3x3)'s; 25 GEMMs"},
    {ConvKernel::winograd, "winograd", kForward, Isa::generic, true, false, fits_winograd,
     "2.25x fewer multiplications than direct sums; the products are 16 GEMMs"},
    {ConvKernel::image_lanes, "image_lanes", kAllPasses, Isa::avx512, true, false, takes_image_lanes,
     "few channels on small planes: every lane a real image, 4x4 register blocks share each load"},
    {ConvKernel::strided_winograd, "strided_winograd", kForward, Isa::avx512, true, false, fits_strided_winograd,
     "AlexNet conv1: 36 multiplications per output where direct sums make 121"},
    {ConvKernel::strided_winograd, "strided_winograd", kInputGradient, Isa::avx512, true, false,
     fits_strided_winograd_input_gradient, "the input gradient is the same kernel's forward pass"},
    {ConvKernel::depthwise_rows, "depthwise_rows", kAllPasses, Isa::generic, false, false, fits_depthwise_rows,
     "each input row loaded once serves the K taps of K output rows"},
    {ConvKernel::direct, "direct", kAllPasses, Isa::generic, false, false, fits_direct,
     "one long multiply-add per tap over a padded plane, where im2col's GEMM is skinny"},
    {ConvKernel::winograd_f4, "winograd_f4", kWeightGradient, Isa::generic, true, false, fits_winograd_f4,
     "the adjoint of the forward pass's transforms, the same 36 GEMMs"},
    {ConvKernel::winograd_f4, "winograd_f4", kInputGradient, Isa::generic, true, false, fits_winograd_f4_input_gradient,
     "the forward pass of the output gradient with the kernel flipped"},
    {ConvKernel::winograd_f3, "winograd_f3", kWeightGradient, Isa::generic, true, false, fits_winograd_f3,
     "the adjoint of the forward pass's transforms, the same 25 GEMMs"},
    {ConvKernel::winograd_f3, "winograd_f3", kInputGradient, Isa::generic, true, false, fits_winograd_f3_input_gradient,
     "the forward pass of the output gradient with the kernel flipped"},
    {ConvKernel::winograd, "winograd", kWeightGradient, Isa::generic, true, false, fits_winograd,
     "the adjoint of the forward pass's transforms, the same 16 GEMMs"},
    {ConvKernel::winograd, "winograd", kInputGradient, Isa::generic, true, false, fits_winograd_input_gradient,
     "the forward pass of the output gradient with the kernel flipped"},
    {ConvKernel::winograd_5x5, "winograd_5x5", kForward | kWeightGradient, Isa::generic, true, false, fits_winograd_5x5,
     "6.25x fewer multiplications than direct sums; 64 GEMMs"},
    {ConvKernel::winograd_5x5, "winograd_5x5", kInputGradient, Isa::generic, true, false,
     fits_winograd_5x5_input_gradient, "the forward pass of the output gradient with the kernel flipped"},
    {ConvKernel::pointwise, "pointwise", kAllPasses, Isa::generic, false, true, select_detail::pointwise,
     "the input already is its im2col matrix: one GEMM per sample"},
    {ConvKernel::channel_lanes, "channel_lanes", kAllPasses, Isa::generic, true, true, select_detail::not_pointwise,
     "nothing packed but the weights; each input value a broadcast operand, no junk columns"},
    {ConvKernel::im2col, "im2col", kAllPasses, Isa::generic, false, true, select_detail::any_shape,
     "serves every layer: im2col then the packed GEMM"},
};

/// CONVKIT_CONV_ALGO's value, read once ("" when it is not set). A value that names no
/// kernel is an error.
inline const std::string& forced_conv_algo() {
  static const std::string algo = [] {
    const char* env = std::getenv("CONVKIT_CONV_ALGO");
    std::string value = env ? env : "";
    if (value.empty()) return value;
    std::string known;
    for (const ConvKernelRule& r : kConvKernelTable) {
      if (value == r.name) return value;
      if (known.find(r.name) == std::string::npos) known += std::string(known.empty() ? "" : ", ") + r.name;
    }
    throw Error("conv2d: CONVKIT_CONV_ALGO=" + value + " names no convolution kernel (known: " + known + ")");
  }();
  return algo;
}

/// The kernel that computes `pass` (one ConvPass bit) of layer g for element type T when
/// the kernel copies for `isa` run: the first row of kConvKernelTable that fits, or under
/// CONVKIT_CONV_ALGO the named kernel where it fits and the general kernels elsewhere.
template <class T>
ConvKernel choose_conv_kernel(const Conv2dGeometry& g, ConvPass pass, Isa isa) {
  const std::string& forced = forced_conv_algo();
  const auto serves = [&](const ConvKernelRule& r) {
    return (r.passes & pass) != 0 &&
           (!r.float_only || std::is_same_v<T, float>)&&static_cast<int>(r.isa) <= static_cast<int>(isa) && r.fits(g);
  };
  if (!forced.empty())
    for (const ConvKernelRule& r : kConvKernelTable)
      if (forced == r.name && serves(r)) return r.kernel;
  for (const ConvKernelRule& r : kConvKernelTable)
    if ((forced.empty() || r.general) && serves(r)) return r.kernel;
  return ConvKernel::im2col;
}

/// The rule's name for `kernel` ("im2col", "winograd", ...).
inline const char* conv_kernel_name(ConvKernel kernel) {
  for (const ConvKernelRule& r : kConvKernelTable)
    if (r.kernel == kernel) return r.name;
  return "?";
}

}  // namespace convkit::backend::cpu
