// Compiled once per instruction set, in namespace cpu::CONVKIT_ISA_COPY (kernels_by_isa.hpp).
// conv2d on the CPU, lowered to im2col + GEMM for the forward pass and both gradients.
//
// For one sample n and group g, with P = (C/g)*kh*kw patch rows and S = OH*OW columns:
//   col (P, S)      = im2col(x[n, group g channels])
//   y[n, g] (O/g,S) = w_g (O/g, P) * col
//   gw_g           += gy[n, g] * col^T
//   gx[n, g]       += col2im(w_g^T * gy[n, g])
// That is the double path. float layers other than pointwise ones compute the forward
// pass and gw with output channels in the vector lanes (channel_lanes.hpp), and gx as
// w_g^T * gy gathered into the phase planes of a ViewLayout (channel_lane_input_gradient_samples)
// instead of col2im; 3x3 stride-1 float layers with many channels go through Winograd
// (winograd.hpp: F(2x2, 3x3), F(3x3, 3x3) or F(4x4, 3x3) by the output plane's size), and
// 5x5 ones through Winograd's F(4x4, 5x5).
// Depthwise 3x3 and 5x5 layers with stride 1 take the row kernels (depthwise.hpp), other
// layers with one input channel per group and stride 1 the direct kernel (direct.hpp),
// small stride-1 layers of a batch of 16 or more images (LeNet conv2) the image lanes
// (image_lanes.hpp), strided layers whose kernel spans three strides (AlexNet conv1) the
// strided Winograd for the forward pass and gx (strided_winograd.hpp; these two in AVX-512
// builds), deep layers on output planes of at most 4x4 one GEMM per output position and
// tap (position_gemm.hpp), and pointwise layers need no col matrix at all.
#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "../../../core/geometry.hpp"
#include "../elementwise.hpp"
#include "../gemm.hpp"
#include "../memory.hpp"
#include "../parallel.hpp"
#include "view_layout.hpp"

namespace convkit::backend::cpu::CONVKIT_ISA_COPY {

/// Unfolds `channels` planes of x (H, W each) into col (channels*kh*kw, OH*OW); zero padding.
/// With i0, i1 only output rows [i0, i1) are unfolded, into col (channels*kh*kw,
/// (i1-i0)*OW). Each output row's valid columns are computed once, so the copy loops carry
/// no bounds checks (and are plain copies for stride 1).
template <class T>
void im2col(const Conv2dGeometry& g, int64_t channels, const T* x, T* col, int64_t i0 = 0, int64_t i1 = -1) {
  if (i1 < 0) i1 = g.OH;
  const int64_t S = (i1 - i0) * g.OW;
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t u = 0; u < g.kh; ++u)
      for (int64_t v = 0; v < g.kw; ++v) {
        T* row = col + ((c * g.kh + u) * g.kw + v) * S;
        const T* plane = x + c * g.H * g.W;
        const int64_t off = v * g.dw - g.pw;  // input column of output column j: j*sw + off
        int64_t j0 = off >= 0 ? 0 : (-off + g.sw - 1) / g.sw;
        int64_t j1 = g.W - 1 - off >= 0 ? (g.W - 1 - off) / g.sw + 1 : 0;
        j1 = std::min(j1, g.OW);
        j0 = std::min(j0, j1);
        for (int64_t i = i0; i < i1; ++i) {
          const int64_t hi = i * g.sh - g.ph + u * g.dh;
          T* out = row + (i - i0) * g.OW;
          if (hi < 0 || hi >= g.H) {
            std::fill(out, out + g.OW, T(0));
            continue;
          }
          const T* in = plane + hi * g.W + off;
          std::fill(out, out + j0, T(0));
          if (g.sw == 1) {
            copy_short(in + j0, j1 - j0, out + j0);
          } else {
            for (int64_t j = j0; j < j1; ++j) out[j] = in[j * g.sw];
          }
          std::fill(out + j1, out + g.OW, T(0));
        }
      }
}

/// The adjoint of im2col: adds col (channels*kh*kw, OH*OW) back into x's planes (the same
/// per-row valid column ranges, so no bounds checks in the inner loops).
template <class T>
void col2im_add(const Conv2dGeometry& g, int64_t channels, const T* col, T* x) {
  const int64_t S = g.OH * g.OW;
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t u = 0; u < g.kh; ++u)
      for (int64_t v = 0; v < g.kw; ++v) {
        const T* row = col + ((c * g.kh + u) * g.kw + v) * S;
        T* plane = x + c * g.H * g.W;
        const int64_t off = v * g.dw - g.pw;
        int64_t j0 = off >= 0 ? 0 : (-off + g.sw - 1) / g.sw;
        int64_t j1 = g.W - 1 - off >= 0 ? (g.W - 1 - off) / g.sw + 1 : 0;
        j1 = std::min(j1, g.OW);
        j0 = std::min(j0, j1);
        for (int64_t i = 0; i < g.OH; ++i) {
          const int64_t hi = i * g.sh - g.ph + u * g.dh;
          if (hi < 0 || hi >= g.H) continue;
          T* out = plane + hi * g.W + off;
          const T* in = row + i * g.OW;
          if (g.sw == 1) {
            for (int64_t j = j0; j < j1; ++j) out[j] += in[j];
          } else {
            for (int64_t j = j0; j < j1; ++j) out[j * g.sw] += in[j];
          }
        }
      }
}

/// Output rows per im2col band: the whole output when its col matrix is small (up to about
/// 1 MB, half of a core's L2 here), else bands of about 256 KB, and never narrower than
/// 256 columns (a narrower GEMM would run at a fraction of its speed).
inline int64_t im2col_band_rows(const Conv2dGeometry& g, int64_t P) {
  constexpr int64_t kWhole = (1 << 20) / 4, kBand = (1 << 18) / 4, kMinColumns = 256;  // in floats
  if (P * g.OH * g.OW <= kWhole) return g.OH;
  const int64_t rows = std::max(kBand / (P * g.OW), (kMinColumns + g.OW - 1) / g.OW);
  return std::clamp<int64_t>(rows, 1, g.OH);
}

/// Where patch row (c, u, v)'s view starts in a group's Cg input channels laid out by
/// ViewLayout: the shifted view that stands in for that row of the im2col matrix.
inline std::vector<int64_t> view_shifts(const Conv2dGeometry& g, const ViewLayout& vl) {
  std::vector<int64_t> shift(static_cast<size_t>(g.patch()));
  for (int64_t c = 0; c < g.in_per_group(); ++c)
    for (int64_t u = 0; u < g.kh; ++u)
      for (int64_t v = 0; v < g.kw; ++v) shift[static_cast<size_t>((c * g.kh + u) * g.kw + v)] = vl.shift(g, c, u, v);
  return shift;
}

/// y for layer g by the kernel the selection table (select.hpp) gives this copy: T float or
/// double, b may be null. `Copy` picks this instruction set's copy (kernels_by_isa.hpp).
template <class T>
void conv2d_forward_in(Copy, const Conv2dGeometry& g, const T* x, const T* w, const T* b, T* y) {
  const ConvKernel kernel = choose_conv_kernel<T>(g, kForward, Copy::isa);
  if constexpr (std::is_same_v<T, float>) {
    switch (kernel) {
      case ConvKernel::winograd:
        return winograd_conv2d_forward<2>(g, x, w, b, y);
      case ConvKernel::winograd_f3:
        return winograd_conv2d_forward<3>(g, x, w, b, y);
      case ConvKernel::winograd_f4:
        return winograd_conv2d_forward<4>(g, x, w, b, y);
      case ConvKernel::winograd_5x5:
        return winograd_conv2d_forward<4, 5>(g, x, w, b, y);
#if CONVKIT_KERNEL_ISA == 2
      case ConvKernel::image_lanes:
        return image_lane_forward(g, x, w, b, y);
      case ConvKernel::strided_winograd:
        return strided_winograd_forward(g, x, w, b, y);
#endif
      case ConvKernel::channel_lanes:
        return channel_lane_forward(g, x, w, b, y);
      default:
        break;
    }
  }
  if (kernel == ConvKernel::depthwise_rows) return depthwise_conv2d_forward(g, x, w, b, y);
  if (kernel == ConvKernel::direct) return direct_conv2d_forward(g, x, w, b, y);
  if (kernel == ConvKernel::position_gemm) return position_gemm_forward(g, x, w, b, y);
  // pointwise or im2col: the GEMM, of the input itself or of its im2col matrix.
  const bool pointwise = kernel == ConvKernel::pointwise;
  const int64_t Cg = g.in_per_group(), Og = g.out_per_group(), P = g.patch(), S = g.OH * g.OW;
  // Each group's weights are packed once for all samples.
  std::vector<PreparedA<T>> weights;
  weights.reserve(static_cast<size_t>(g.groups));
  for (int64_t grp = 0; grp < g.groups; ++grp) weights.emplace_back(false, Og, P, w + grp * Og * P);
  // A large im2col matrix is unfolded a band of output rows at a time, so that the band
  // is still in cache when the GEMM packs it (the whole matrix of a 56x56 layer is 7 MB).
  const int64_t rows = im2col_band_rows(g, P);
  // Samples run in parallel; each thread unfolds into its own im2col workspace.
  parallel_for(g.N, g.O * P * S, [&](int64_t n0, int64_t n1) {
    Workspace<T> col(pointwise ? 0 : static_cast<size_t>(P * rows * g.OW));
    for (int64_t n = n0; n < n1; ++n)
      for (int64_t grp = 0; grp < g.groups; ++grp) {
        const T* xg = x + (n * g.C + grp * Cg) * g.H * g.W;
        T* yg = y + (n * g.O + grp * Og) * S;
        const PreparedA<T>& wg = weights[static_cast<size_t>(grp)];
        if (pointwise) {  // the input already is its col matrix
          wg.multiply(false, S, T(1), xg, T(0), yg);
        } else {
          for (int64_t i0 = 0; i0 < g.OH; i0 += rows) {
            const int64_t i1 = std::min(g.OH, i0 + rows), cols = (i1 - i0) * g.OW;
            im2col(g, Cg, xg, col.data(), i0, i1);
            wg.multiply(false, cols, T(1), col.data(), T(0), yg + i0 * g.OW, cols, S);
          }
        }
        if (b) add_bias(1, Og, S, b + grp * Og, yg);
      }
  });
}

/// The input gradient of samples [n0, n1) by the channel lanes' method, with the output
/// gradient laid out Wq wide (zero in the junk columns): colT = w_g^T * gy_g; position k
/// of each phase plane of the input gradient is the sum, over the taps reading that phase,
/// of colT[tap][k - shift(tap)]; then cropped. It is gathered in register blocks
/// (DirectBlock), not scattered: adding each row of colT at its shift makes every add wait
/// on the previous row's overlapping stores (LeNet conv2's input gradient: 5% fewer cycles
/// gathered).
inline void channel_lane_input_gradient_samples(const Conv2dGeometry& g, const float* gy, float* gx,
                                                const std::vector<PreparedA<float>>& weights_t, int64_t n0,
                                                int64_t n1) {
  const int64_t Cg = g.in_per_group(), Og = g.out_per_group(), P = g.patch(), S = g.OH * g.OW;
  const ViewLayout vl(g);
  const int64_t run = vl.out_size(g);
  constexpr int64_t B = DirectBlock<float>::kSize;
  const int64_t K = g.kh * g.kw, span = (vl.phase_size + B - 1) / B * B;  // a phase plane in whole blocks
  // colT's rows sit `front` (the largest shift) into rows of `width` zeroed floats, so that
  // k - shift never leaves them.
  const int64_t front = (g.kh - 1) * g.dh / g.sh * vl.Wq + (g.kw - 1) * g.dw / g.sw;
  const int64_t width = front + std::max(run, span);
  // pad: the laid-out input gradient (with a block of slack for the last phase plane's
  // rounding).
  Workspace<float> pad(static_cast<size_t>(Cg * vl.channel_size + B)), gypad(static_cast<size_t>(Og * run));
  Workspace<float> cols(static_cast<size_t>(P * width));
  fill(P * width, cols.data(), 0.0f);  // the products overwrite only [front, front + run)
  const std::vector<int64_t> shift = view_shifts(g, vl);
  for (int64_t n = n0; n < n1; ++n)
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      fill(Og * run, gypad.data(), 0.0f);
      for (int64_t o = 0; o < Og; ++o)
        copy_rows(gy + (n * g.O + grp * Og + o) * S, g.OW, g.OW, g.OH, gypad.data() + o * run, vl.Wq);
      const int64_t plane0 = n * g.C + grp * Cg;  // first input plane of this sample and group
      weights_t[static_cast<size_t>(grp)].multiply(false, run, 1.0f, gypad.data(), 0.0f, cols.data() + front, -1,
                                                   width);
      // Tap t of a channel reads phase plane shift[t] / phase_size at shift[t] % phase_size.
      // Phase planes are written in order, so a block past one plane's end is
      // overwritten by the next plane's first.
      for (int64_t c = 0; c < Cg; ++c)
        for (int64_t phase = 0; phase < g.sh * g.sw; ++phase)
          for (int64_t k0 = 0; k0 < span; k0 += B) {
            DirectBlock<float> blk(0.0f);
            for (int64_t t = 0; t < K; ++t) {
              const int64_t at = shift[static_cast<size_t>(t)] - phase * vl.phase_size;
              if (at >= 0 && at < vl.phase_size) blk.add(1.0f, cols.data() + (c * K + t) * width + front + k0 - at);
            }
            blk.store(pad.data() + c * vl.channel_size + phase * vl.phase_size + k0);
          }
      for (int64_t c = 0; c < Cg; ++c) vl.take(g, pad.data() + c * vl.channel_size, gx + (plane0 + c) * g.H * g.W);
    }
}

/// gx and gw by the general kernels, each by its own (`gx_kernel`, `gw_kernel`: pointwise,
/// channel_lanes or im2col); either may be null. gw is overwritten, gx too or with
/// `accumulate_gx` (pointwise only) added to.
template <class T>
void general_conv2d_backward(const Conv2dGeometry& g, const T* x, const T* w, const T* gy, T* gx, T* gw,
                             ConvKernel gx_kernel, ConvKernel gw_kernel, bool accumulate_gx) {
  const int64_t Cg = g.in_per_group(), Og = g.out_per_group(), P = g.patch(), S = g.OH * g.OW;
  const int64_t wsize = g.O * P;
  // Each thread sums the weight gradient of its samples into its own buffer (the first
  // thread straight into gw); the buffers are added up at the end.
  const int threads = max_threads();
  Workspace<T> partial(gw && threads > 1 ? static_cast<size_t>(wsize * (threads - 1)) : 0);
  // For the input gradient, each group's transposed weights are packed once for all samples.
  std::vector<PreparedA<T>> weights_t;
  if (gx) {
    weights_t.reserve(static_cast<size_t>(g.groups));
    for (int64_t grp = 0; grp < g.groups; ++grp) weights_t.emplace_back(true, P, Og, w + grp * Og * P);
  }
  const bool gx_lanes = gx && gx_kernel == ConvKernel::channel_lanes;
  const bool gw_lanes = gw && gw_kernel == ConvKernel::channel_lanes;
  const bool needs_col = (gx && gx_kernel == ConvKernel::im2col) || (gw && gw_kernel == ConvKernel::im2col);
  std::vector<char> used(static_cast<size_t>(threads), 0);
  parallel_for(g.N, 2 * g.O * P * S, [&](int64_t n0, int64_t n1) {
    const int t = thread_index();
    used[static_cast<size_t>(t)] = 1;
    T* gw_local = gw ? (t == 0 ? gw : partial.data() + (t - 1) * wsize) : nullptr;
    if (gw_local) fill(wsize, gw_local, T(0));
    if constexpr (std::is_same_v<T, float>) {
      if (gw_lanes) channel_lane_weight_gradient_samples(g, x, gy, gw_local, n0, n1);
      if (gx_lanes) channel_lane_input_gradient_samples(g, gy, gx, weights_t, n0, n1);
    }
    if ((gx_lanes || !gx) && (gw_lanes || !gw)) return;
    // The pointwise kernel's col matrix is the input itself; im2col's is unfolded.
    Workspace<T> col(needs_col ? static_cast<size_t>(P * S) : 0);
    for (int64_t n = n0; n < n1; ++n)
      for (int64_t grp = 0; grp < g.groups; ++grp) {
        const T* gyg = gy + (n * g.O + grp * Og) * S;
        const size_t xoff = static_cast<size_t>((n * g.C + grp * Cg) * g.H * g.W);
        if (gw_local && !gw_lanes) {
          const T* cols = x + xoff;
          if (gw_kernel == ConvKernel::im2col) {
            im2col(g, Cg, x + xoff, col.data());
            cols = col.data();
          }
          gemm<T>(false, true, Og, P, S, T(1), gyg, cols, T(1), gw_local + grp * Og * P);
        }
        if (gx && !gx_lanes) {
          const PreparedA<T>& wt = weights_t[static_cast<size_t>(grp)];
          if (gx_kernel == ConvKernel::pointwise) {
            wt.multiply(false, S, T(1), gyg, accumulate_gx ? T(1) : T(0), gx + xoff);
          } else {
            wt.multiply(false, S, T(1), gyg, T(0), col.data());
            fill(Cg * g.H * g.W, gx + xoff, T(0));
            col2im_add(g, Cg, col.data(), gx + xoff);
          }
        }
      }
  });
  if (gw) {
    if (!used[0]) fill(wsize, gw, T(0));
    for (int t = 1; t < threads; ++t)
      if (used[static_cast<size_t>(t)]) axpy(wsize, T(1), partial.data() + (t - 1) * wsize, gw);
  }
}

/// Any of gx, gw, gb may be null (that gradient is not needed). gw and gb are overwritten;
/// gx too, or with `accumulate_gx` the input gradient is added to what it holds. Each
/// gradient takes the kernel the selection table gives its pass.
template <class T>
void conv2d_backward_in(Copy copy, const Conv2dGeometry& g, const T* x, const T* w, const T* gy, T* gx, T* gw, T* gb,
                        bool accumulate_gx) {
  const ConvKernel kx = gx ? choose_conv_kernel<T>(g, kInputGradient, Copy::isa) : ConvKernel::im2col;
  const ConvKernel kw = gw ? choose_conv_kernel<T>(g, kWeightGradient, Copy::isa) : ConvKernel::im2col;
  // The pointwise kernel adds in place: its GEMM reads the tiles of gx it adds to, which
  // costs less than writing a fresh gradient and adding it in a second pass over memory
  // (the 1x1 layer 32,256,28,28 -> 128, input gradient plus addition: 9.6-9.9 ms against
  // 11.1-11.8). The others write theirs into a temporary, then add.
  if (gx && accumulate_gx && kx != ConvKernel::pointwise) {
    const int64_t n = g.N * g.C * g.H * g.W;
    Workspace<T> fresh(static_cast<size_t>(n));
    conv2d_backward_in(copy, g, x, w, gy, fresh.data(), gw, gb, false);
    axpy(n, T(1), fresh.data(), gx);
    return;
  }
  // The direct and depthwise kernels compute all their gradients in one pass.
  if (gx && gw && kx == kw && (kx == ConvKernel::direct || kx == ConvKernel::depthwise_rows)) {
    if (kx == ConvKernel::direct) return direct_conv2d_backward(g, x, w, gy, gx, gw, gb);
    return depthwise_conv2d_backward(g, x, w, gy, gx, gw, gb);
  }
  if (gb) bias_grad(g.N, g.O, g.OH * g.OW, gy, gb);
  // The position GEMMs' two gradients share one layout of gy by position.
  if (gx && gw && kx == kw && kx == ConvKernel::position_gemm) return position_gemm_backward(g, x, w, gy, gx, gw);
  T* const none = nullptr;
  const auto run = [&](ConvKernel kernel, T* gx_out, T* gw_out) {  // true when done
    if (kernel == ConvKernel::direct) {
      direct_conv2d_backward(g, x, w, gy, gx_out, gw_out, none);
      return true;
    }
    if (kernel == ConvKernel::depthwise_rows) {
      depthwise_conv2d_backward(g, x, w, gy, gx_out, gw_out, none);
      return true;
    }
    if (kernel == ConvKernel::position_gemm) {
      position_gemm_backward(g, x, w, gy, gx_out, gw_out);
      return true;
    }
    if constexpr (std::is_same_v<T, float>) {
      switch (kernel) {
#if CONVKIT_KERNEL_ISA == 2
        case ConvKernel::image_lanes:
          if (gx_out) image_lane_input_gradient(g, w, gy, gx_out);
          if (gw_out) image_lane_weight_gradient(g, x, gy, gw_out);
          return true;
        case ConvKernel::strided_winograd:  // the input gradient only (select.hpp)
          strided_winograd::input_gradient(g, w, gy, gx_out);
          return true;
#endif
        case ConvKernel::winograd:
          if (gx_out) winograd_input_gradient<2>(g, w, gy, gx_out);
          if (gw_out) winograd_weight_gradient<2>(g, x, gy, gw_out);
          return true;
        case ConvKernel::winograd_f3:
          if (gx_out) winograd_input_gradient<3>(g, w, gy, gx_out);
          if (gw_out) winograd_weight_gradient<3>(g, x, gy, gw_out);
          return true;
        case ConvKernel::winograd_f4:
          if (gx_out) winograd_input_gradient<4>(g, w, gy, gx_out);
          if (gw_out) winograd_weight_gradient<4>(g, x, gy, gw_out);
          return true;
        case ConvKernel::winograd_5x5:
          if (gx_out) winograd_input_gradient<4, 5>(g, w, gy, gx_out);
          if (gw_out) winograd_weight_gradient<4, 5>(g, x, gy, gw_out);
          return true;
        default:
          break;
      }
    }
    return false;
  };
  if (gx && run(kx, gx, none)) gx = nullptr;
  if (gw && run(kw, none, gw)) gw = nullptr;
  if (gx || gw) general_conv2d_backward(g, x, w, gy, gx, gw, kx, kw, accumulate_gx);
}

}  // namespace convkit::backend::cpu::CONVKIT_ISA_COPY
