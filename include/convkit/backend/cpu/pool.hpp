#pragma once
// Max and average pooling on the CPU (NCHW), planes in parallel (they never share memory).
// Border outputs use the shared per-element bodies of backend/kernels.hpp; interior outputs
// (window entirely inside the input, the common case) take a loop without bounds checks
// that computes the same result.
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "../../ops/geometry.hpp"
#include "../kernels.hpp"
#include "elementwise.hpp"
#include "parallel.hpp"

namespace convkit::backend::cpu {

/// Output rows/columns whose whole window lies inside the input: [lo, hi).
struct InteriorRange {
  /// The range: [lo, hi).
  ///@{
  int64_t lo, hi;
  ///@}
};
inline InteriorRange interior(int64_t L, int64_t out, int64_t k, int64_t s, int64_t p, int64_t d) {
  int64_t lo = (p + s - 1) / s;                    // first i with i*s - p >= 0
  int64_t hi = (L + p - d * (k - 1) - 1) / s + 1;  // i*s - p + d*(k-1) <= L - 1
  if (L + p - d * (k - 1) - 1 < 0) hi = 0;
  if (hi > out) hi = out;
  if (lo > hi) lo = hi;
  return {lo, hi};
}

/// Calls border(p, i, j) for outputs whose window crosses the input's edge and
/// inside(p, i, j0, j1) for each row's run of interior outputs.
template <class Border, class Inside>
void for_each_pool_output(const Pool2dGeometry& g, int64_t p0, int64_t p1, Border border, Inside inside) {
  const InteriorRange rows = interior(g.H, g.OH, g.kh, g.sh, g.ph, g.dh);
  const InteriorRange cols = interior(g.W, g.OW, g.kw, g.sw, g.pw, g.dw);
  for (int64_t p = p0; p < p1; ++p)
    for (int64_t i = 0; i < g.OH; ++i) {
      if (i < rows.lo || i >= rows.hi) {
        for (int64_t j = 0; j < g.OW; ++j) border(p, i, j);
        continue;
      }
      for (int64_t j = 0; j < cols.lo; ++j) border(p, i, j);
      if (cols.lo < cols.hi) inside(p, i, cols.lo, cols.hi);
      for (int64_t j = cols.hi; j < g.OW; ++j) border(p, i, j);
    }
}

/// Calls f(std::integral_constant<int, S>) with S = the stride when it is 1 or 2 (so the
/// row loops below vectorise with a compile-time stride), else S = 0 (run-time stride).
template <class F>
void with_stride(int64_t stride, F f) {
  if (stride == 1)
    f(std::integral_constant<int, 1>{});
  else if (stride == 2)
    f(std::integral_constant<int, 2>{});
  else
    f(std::integral_constant<int, 0>{});
}

constexpr int64_t kRowChunk = 256;  // outputs of one row handled per pass (stack buffers)

// The interior rows: for each window offset (u, v), one pass over a run of outputs,
// which vectorises across the outputs. Same results as the per-element bodies.
template <class T, int S>
void max_row(const Pool2dGeometry& g, const T* x, T* y, int64_t* argmax, int64_t p, int64_t i, int64_t j0, int64_t j1) {
  const int64_t sw = S ? S : g.sw, h0 = i * g.sh - g.ph;
  const T* plane = x + p * g.H * g.W;
  for (int64_t c0 = j0; c0 < j1; c0 += kRowChunk) {
    const int64_t n = std::min(kRowChunk, j1 - c0);
    T best[kRowChunk];
    // Positions within the plane as int32 (planes are far below 2^31 elements; checked by
    // the caller), so the value and index selects have the same lane width and vectorise.
    int32_t at[kRowChunk];
    for (int64_t u = 0; u < g.kh; ++u)
      for (int64_t v = 0; v < g.kw; ++v) {
        const int32_t base = static_cast<int32_t>((h0 + u * g.dh) * g.W + c0 * sw - g.pw + v * g.dw);
        const T* src = plane + base;
        const int32_t step = static_cast<int32_t>(sw);
        if (u == 0 && v == 0) {
          CONVKIT_SIMD for (int32_t k = 0; k < n; ++k) {
            best[k] = src[k * sw];
            at[k] = base + k * step;
          }
          continue;
        }
        if (!argmax) {  // inference: the maximum only
          CONVKIT_SIMD for (int32_t k = 0; k < n; ++k) {
            const T val = src[k * sw];
            best[k] = !(val <= best[k]) ? val : best[k];
          }
          continue;
        }
        CONVKIT_SIMD for (int32_t k = 0; k < n; ++k) {
          // Branch-free select: window maxima are data dependent, so a branch would
          // mispredict often. !(val <= best) also takes a NaN, which then propagates.
          const T val = src[k * sw];
          const bool take = !(val <= best[k]);
          best[k] = take ? val : best[k];
          at[k] = take ? base + k * step : at[k];
        }
      }
    T* yo = y + (p * g.OH + i) * g.OW + c0;
    for (int64_t k = 0; k < n; ++k) yo[k] = best[k];
    if (argmax) {
      int64_t* ao = argmax + (p * g.OH + i) * g.OW + c0;
      for (int64_t k = 0; k < n; ++k) ao[k] = at[k];
    }
  }
}

template <class T, int S>
void avg_row(const Pool2dGeometry& g, const T* x, T* y, int64_t p, int64_t i, int64_t j0, int64_t j1) {
  const int64_t sw = S ? S : g.sw;
  const T scale = T(1) / static_cast<T>(g.kh * g.kw);  // inside the input both divisors are the area
  const T* in = x + p * g.H * g.W + (i * g.sh - g.ph) * g.W - g.pw;
  for (int64_t c0 = j0; c0 < j1; c0 += kRowChunk) {
    const int64_t n = std::min(kRowChunk, j1 - c0);
    T acc[kRowChunk] = {};
    for (int64_t u = 0; u < g.kh; ++u)
      for (int64_t v = 0; v < g.kw; ++v) {
        const T* src = in + u * g.W + c0 * sw + v;
        for (int64_t k = 0; k < n; ++k) acc[k] += src[k * sw];
      }
    T* yo = y + (p * g.OH + i) * g.OW + c0;
    for (int64_t k = 0; k < n; ++k) yo[k] = acc[k] * scale;
  }
}

template <class T, int S>
void avg_row_backward(const Pool2dGeometry& g, const T* gy, T* gx, int64_t p, int64_t i, int64_t j0, int64_t j1) {
  const int64_t sw = S ? S : g.sw;
  const T scale = T(1) / static_cast<T>(g.kh * g.kw);
  T* out = gx + p * g.H * g.W + (i * g.sh - g.ph) * g.W - g.pw;
  const T* go = gy + (p * g.OH + i) * g.OW;
  for (int64_t u = 0; u < g.kh; ++u)
    for (int64_t v = 0; v < g.kw; ++v) {
      T* dst = out + u * g.W + v;  // within one (u, v) pass every k writes its own element
      for (int64_t k = j0; k < j1; ++k) dst[k * sw] += go[k] * scale;
    }
}

/// y gets each window's maximum; argmax (may be null: inference) gets its flat index
/// within the (H, W) plane.
template <class T>
void max_pool2d_forward(const Pool2dGeometry& g, const T* x, T* y, int64_t* argmax) {
  parallel_for(g.N * g.C, g.OH * g.OW * g.kh * g.kw, [&](int64_t p0, int64_t p1) {
    for_each_pool_output(
        g, p0, p1, [&](int64_t p, int64_t i, int64_t j) { kernels::max_pool_at(g, x, y, argmax, p, i, j); },
        [&](int64_t p, int64_t i, int64_t j0, int64_t j1) {
          if (g.H * g.W >= (int64_t(1) << 31)) {  // positions would not fit max_row's int32
            for (int64_t j = j0; j < j1; ++j) kernels::max_pool_at(g, x, y, argmax, p, i, j);
            return;
          }
          with_stride(g.sw, [&](auto stride) { max_row<T, decltype(stride)::value>(g, x, y, argmax, p, i, j0, j1); });
        });
  });
}

template <class T>
void max_pool2d_backward(const Pool2dGeometry& g, const int64_t* argmax, const T* gy, T* gx) {
  const int64_t S = g.OH * g.OW, plane = g.H * g.W;
  parallel_for(g.N * g.C, S + plane, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      // Zeroed plane by plane, right before its scatter, so the plane is still in cache
      // when the gradients land (zeroing all planes first sent gx through memory twice).
      T* out = gx + p * plane;
      std::fill(out, out + plane, T(0));
      const T* g_in = gy + p * S;
      const int64_t* a = argmax + p * S;
      for (int64_t o = 0; o < S; ++o) out[a[o]] += g_in[o];
    }
  });
}

/// True when the windows tile the input without overlap or padding (kernel == stride, no
/// padding or dilation, every window inside the input): LeNet's 2x2 average pooling. Then
/// each output is the mean of its own block, and each input belongs to at most one window.
inline bool pool_windows_tile(const Pool2dGeometry& g) {
  return g.kh == g.sh && g.kw == g.sw && g.ph == 0 && g.pw == 0 && g.dh == 1 && g.dw == 1 && g.OH * g.kh <= g.H &&
         g.OW * g.kw <= g.W;
}

/// Average pooling over tiling windows, a whole plane per pass: no border logic, and for
/// the 2x2 case a loop the compiler vectorises with fixed offsets.
template <class T>
void avg_pool2d_tiled_forward(const Pool2dGeometry& g, const T* x, T* y) {
  const T scale = T(1) / static_cast<T>(g.kh * g.kw);
  parallel_for(g.N * g.C, g.H * g.W, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p)
      for (int64_t i = 0; i < g.OH; ++i) {
        const T* in = x + (p * g.H + i * g.kh) * g.W;
        T* out = y + (p * g.OH + i) * g.OW;
        if (g.kh == 2 && g.kw == 2) {
          const T* in1 = in + g.W;
          CONVKIT_SIMD for (int64_t j = 0; j < g.OW; ++j) out[j] =
              ((in[2 * j] + in[2 * j + 1]) + (in1[2 * j] + in1[2 * j + 1])) * scale;
          continue;
        }
        for (int64_t j = 0; j < g.OW; ++j) {
          T acc = T(0);
          for (int64_t u = 0; u < g.kh; ++u)
            for (int64_t v = 0; v < g.kw; ++v) acc += in[u * g.W + j * g.kw + v];
          out[j] = acc * scale;
        }
      }
  });
}

/// The adjoint: every input of a window gets its output's gradient / area; inputs that
/// no window covers (the last rows or columns when the size is not a multiple) get 0.
template <class T>
void avg_pool2d_tiled_backward(const Pool2dGeometry& g, const T* gy, T* gx) {
  const T scale = T(1) / static_cast<T>(g.kh * g.kw);
  parallel_for(g.N * g.C, g.H * g.W, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      for (int64_t i = 0; i < g.OH; ++i) {
        const T* go = gy + (p * g.OH + i) * g.OW;
        for (int64_t u = 0; u < g.kh; ++u) {
          T* out = gx + (p * g.H + i * g.kh + u) * g.W;
          if (g.kw == 2) {
            CONVKIT_SIMD for (int64_t j = 0; j < g.OW; ++j) out[2 * j] = out[2 * j + 1] = go[j] * scale;
          } else {
            for (int64_t j = 0; j < g.OW; ++j)
              for (int64_t v = 0; v < g.kw; ++v) out[j * g.kw + v] = go[j] * scale;
          }
          std::fill(out + g.OW * g.kw, out + g.W, T(0));
        }
      }
      std::fill(gx + (p * g.H + g.OH * g.kh) * g.W, gx + (p + 1) * g.H * g.W, T(0));
    }
  });
}

template <class T>
void avg_pool2d_forward(const Pool2dGeometry& g, const T* x, T* y) {
  if (pool_windows_tile(g)) return avg_pool2d_tiled_forward(g, x, y);
  parallel_for(g.N * g.C, g.OH * g.OW * g.kh * g.kw, [&](int64_t p0, int64_t p1) {
    for_each_pool_output(
        g, p0, p1, [&](int64_t p, int64_t i, int64_t j) { kernels::avg_pool_at(g, x, y, p, i, j); },
        [&](int64_t p, int64_t i, int64_t j0, int64_t j1) {
          with_stride(g.sw, [&](auto stride) { avg_row<T, decltype(stride)::value>(g, x, y, p, i, j0, j1); });
        });
  });
}

template <class T>
void avg_pool2d_backward(const Pool2dGeometry& g, const T* gy, T* gx) {
  if (pool_windows_tile(g)) return avg_pool2d_tiled_backward(g, gy, gx);
  const int64_t plane = g.H * g.W;
  parallel_for(g.N * g.C, g.OH * g.OW * g.kh * g.kw + plane, [&](int64_t p0, int64_t p1) {
    for (int64_t q = p0; q < p1; ++q) {  // plane by plane, as in max_pool2d_backward
      std::fill(gx + q * plane, gx + (q + 1) * plane, T(0));
      for_each_pool_output(
          g, q, q + 1, [&](int64_t p, int64_t i, int64_t j) { kernels::avg_pool_backward_at(g, gy, gx, p, i, j); },
          [&](int64_t p, int64_t i, int64_t j0, int64_t j1) {
            with_stride(g.sw,
                        [&](auto stride) { avg_row_backward<T, decltype(stride)::value>(g, gy, gx, p, i, j0, j1); });
          });
    }
  });
}

}  // namespace convkit::backend::cpu
