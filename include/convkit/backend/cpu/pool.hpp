// Compiled once per instruction set, in namespace cpu::CONVKIT_ISA_COPY (kernels_by_isa.hpp).
// Max and average pooling on the CPU (NCHW), planes in parallel (they never share memory).
// Border outputs use the shared per-element bodies of backend/kernels.hpp; interior outputs
// (window entirely inside the input, the common case) take a loop without bounds checks
// that computes the same result.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "../../core/geometry.hpp"
#include "../kernels.hpp"
#include "elementwise.hpp"
#include "parallel.hpp"

namespace convkit::backend::cpu::CONVKIT_ISA_COPY {

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

// Max pooling runs separably, a plane at a time: first the maximum over each window's
// columns for every input row (each input row serves about kh / sh output rows), then
// over the window's rows. Taking the first maximum along each axis (max_pool_takes) gives
// the first in scan order, which is max_pool_at's answer, so the result is the same.
//
// Both passes are computed densely, at every column from the first window's start to the
// last one's, and the output keeps every sw-th: that costs sw times the compares but
// every load is contiguous, where strided loads made GCC emit scalar code. Rows are short
// (the benchmark's are 55 columns), and a loop that short spends more time in its scalar
// remainder than in its vector body, so the passes run over whole blocks of kPoolBlock
// columns: surplus lanes compute filler and are dropped, and the few windows that cross
// the row's ends are redone with bounds checks. So the column pass reads a row in place,
// with its neighbours' elements as filler, wherever those reads stay inside the tensor:
// only the tensor's first and last rows go through a zero-padded scratch row (a
// forward+backward of the benchmark's layer: 5.1-5.4 ms in place, 5.3-5.4 with copies).

constexpr int64_t kPoolBlock = 16;  // one AVX-512 vector of float

/// One thread's scratch rows for max_pool_plane.
template <class T>
struct MaxPoolScratch {
  /// Columns per scratch row: the dense span (OW - 1) * sw + 1 rounded up to kPoolBlock.
  int64_t width;
  /// A padded input row, for rows whose reads would leave the tensor: element w of the
  /// row sits at pw + w; the rest is filler.
  std::vector<T> padded;
  /// The column pass: for each input row, the maximum of the window starting at each
  /// column, and the column it came from.
  ///@{
  std::vector<T> best;
  std::vector<PoolIndex> col;
  ///@}
  /// The row pass for one output row, before every sw-th lane is copied out.
  ///@{
  std::vector<T> out;
  std::vector<PoolIndex> out_at;
  ///@}
  /// Scratch for g's planes; the index rows only when `index` (a backward will need them).
  MaxPoolScratch(const Pool2dGeometry& g, bool index)
      : width(((g.OW - 1) * g.sw + kPoolBlock) / kPoolBlock * kPoolBlock),
        padded(static_cast<size_t>(std::max(g.pw + g.W, reach(g, width))), T(0)),
        best(static_cast<size_t>(g.H * width)),
        col(index ? best.size() : 0),
        out(static_cast<size_t>(width)),
        out_at(index ? out.size() : 0) {}

  /// The elements the column pass reads from a row's start (its column -pw) on.
  static int64_t reach(const Pool2dGeometry& g, int64_t width) { return width + (g.kw - 1) * g.dw; }
};

#if CONVKIT_VECTOR_OPS  // else the plain loops below
/// Bytes bytes of PoolIndex as one vector-extension value.
template <int Bytes>
struct PoolIndexVector {
  typedef PoolIndex type __attribute__((vector_size(Bytes)));  ///< the vector type
};

/// A block of kPoolBlock running maxima and their indices as vector-extension values,
/// which stay in registers across a window's taps. As arrays, GCC stores them after each
/// tap and loads them back for the next; a CPU that stores a 64-byte vector as two halves
/// (AMD Zen 4) makes such a load wait until both reach the cache, half of a max pooling's
/// forward pass with indices. The vectors are of the machine's width, as in
/// Vec64: GCC 12 miscompiles a single 16-lane vector, which it splits itself below
/// AVX-512, in an AVX2 build at -O2 with the sanitizers (a wrong lane: an index of 0 where
/// the block's first column belongs).
template <class T>
struct MaxLanes {
  static constexpr int kLanes = Vec64<T>::kPartLanes;                   ///< values per part
  static constexpr int kParts = static_cast<int>(kPoolBlock) / kLanes;  ///< parts per block
  static_assert(kParts * kLanes == kPoolBlock, "a block is a whole number of parts");
  typedef typename Vec64<T>::Part Values;                                      ///< one part's values
  typedef typename PoolIndexVector<kLanes * sizeof(PoolIndex)>::type Indices;  ///< their indices
  Values m[kParts];                                                            ///< the maxima so far
  Indices at[kParts];                                                          ///< where they came from

  /// Starts from the values at p, whose indices are first, first + 1, ...
  template <bool kIndex>
  void start(const T* p, PoolIndex first) {
    CONVKIT_UNROLL(16)
    for (int i = 0; i < kParts; ++i) {
      m[i] = Vec64<T>::load_part(p + i * kLanes);
      if (kIndex) at[i] = iota() + static_cast<PoolIndex>(first + i * kLanes);
    }
  }
  /// Starts from the values at p with the indices at idx plus offset.
  template <bool kIndex>
  void start(const T* p, const PoolIndex* idx, PoolIndex offset) {
    CONVKIT_UNROLL(16)
    for (int i = 0; i < kParts; ++i) {
      m[i] = Vec64<T>::load_part(p + i * kLanes);
      if (kIndex) at[i] = load_indices(idx + i * kLanes) + offset;
    }
  }
  /// Takes the values at p (indices first, first + 1, ...) where max_pool_takes says so.
  template <bool kIndex>
  void take(const T* p, PoolIndex first) {
    CONVKIT_UNROLL(16)
    for (int i = 0; i < kParts; ++i) {
      take_part<kIndex>(i, Vec64<T>::load_part(p + i * kLanes),
                        kIndex ? iota() + static_cast<PoolIndex>(first + i * kLanes) : Indices{});
    }
  }
  /// Takes the values at p (indices at idx plus offset) where max_pool_takes says so.
  template <bool kIndex>
  void take(const T* p, const PoolIndex* idx, PoolIndex offset) {
    CONVKIT_UNROLL(16)
    for (int i = 0; i < kParts; ++i) {
      take_part<kIndex>(i, Vec64<T>::load_part(p + i * kLanes),
                        kIndex ? load_indices(idx + i * kLanes) + offset : Indices{});
    }
  }
  /// Writes the maxima to pm and, when kIndex, the indices to pat.
  template <bool kIndex>
  void store(T* pm, PoolIndex* pat) const {
    CONVKIT_UNROLL(16)
    for (int i = 0; i < kParts; ++i) {
      Vec64<T>::store_part(m[i], pm + i * kLanes);
      if (kIndex) std::memcpy(pat + i * kLanes, &at[i], sizeof(Indices));
    }
  }

 private:
  static Indices iota() {
    Indices v{};
    for (int k = 0; k < kLanes; ++k) v[k] = k;
    return v;
  }
  static Indices load_indices(const PoolIndex* p) {
    Indices v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  /// max_pool_takes lane by lane: a larger value or a NaN (val != val) replaces the maximum.
  template <bool kIndex>
  void take_part(int i, const Values& val, const Indices& idx) {
    const auto takes = (val > m[i]) | (val != val);  // NOLINT(misc-redundant-expression): val != val is isnan
    m[i] = takes ? val : m[i];
    if (kIndex) at[i] = __builtin_convertvector(takes, Indices) ? idx : at[i];
  }
};
#endif

/// The column pass for input row `in` into best/col (one scratch row each). `row` holds
/// the row's element w at pw + w, and filler around it.
template <class T, bool kIndex>
void max_pool_columns(const Pool2dGeometry& g, const InteriorRange& cols, const T* in, const T* row, int64_t width,
                      T* best, PoolIndex* col) {
  for (int64_t t0 = 0; t0 < width; t0 += kPoolBlock) {
    const auto first_col = static_cast<PoolIndex>(t0 - g.pw);
#if CONVKIT_VECTOR_OPS
    MaxLanes<T> lanes;
    lanes.template start<kIndex>(row + t0, first_col);
    for (int64_t v = 1; v < g.kw; ++v)
      lanes.template take<kIndex>(row + t0 + v * g.dw, static_cast<PoolIndex>(first_col + v * g.dw));
    lanes.template store<kIndex>(best + t0, kIndex ? col + t0 : nullptr);
#else
    T* b = best + t0;
    PoolIndex* c = kIndex ? col + t0 : nullptr;
    CONVKIT_SIMD for (int k = 0; k < kPoolBlock; ++k) {
      b[k] = row[t0 + k];
      if (kIndex) c[k] = first_col + k;
    }
    for (int64_t v = 1; v < g.kw; ++v) {
      const T* src = row + t0 + v * g.dw;
      const auto at = static_cast<PoolIndex>(first_col + v * g.dw);
      // Branch-free selects: which element wins is data dependent.
      CONVKIT_SIMD for (int k = 0; k < kPoolBlock; ++k) {
        const bool take = kernels::max_pool_takes(src[k], b[k]);
        b[k] = take ? src[k] : b[k];
        if (kIndex) c[k] = take ? at + k : c[k];
      }
    }
#endif
  }
  auto clipped = [&](int64_t j) {  // windows that cross the row's ends, redone exactly
    const int64_t t = j * g.sw;
    bool any = false;
    for (int64_t v = 0; v < g.kw; ++v) {
      const int64_t w = t - g.pw + v * g.dw;
      if (w < 0 || w >= g.W) continue;
      if (!any || kernels::max_pool_takes(in[w], best[t])) {
        best[t] = in[w];
        if (kIndex) col[t] = static_cast<PoolIndex>(w);
      }
      any = true;  // validation guarantees every window holds a real column
    }
  };
  for (int64_t j = 0; j < cols.lo; ++j) clipped(j);
  for (int64_t j = cols.hi; j < g.OW; ++j) clipped(j);
}

constexpr int64_t kPrefetchRows = 4;  // how far ahead max pooling's column pass prefetches

/// One (H, W) plane x of the tensor [begin, end): y gets its OH x OW maxima and argmax
/// (when kIndex) their positions.
template <class T, int S, bool kIndex>
void max_pool_plane(const Pool2dGeometry& g, const T* x, const T* begin, const T* end, T* y, PoolIndex* argmax,
                    MaxPoolScratch<T>& scratch) {
  const int64_t sw = S ? S : g.sw, width = scratch.width;
  const InteriorRange cols = interior(g.W, g.OW, g.kw, g.sw, g.pw, g.dw);
  const int64_t reach = MaxPoolScratch<T>::reach(g, width), size = end - begin;
  for (int64_t r = 0; r < g.H; ++r) {
    const T* in = x + r * g.W;
    const int64_t start = (in - begin) - g.pw;  // the row's column -pw, as an offset into the tensor
    // The hardware's prefetcher alone left the pass waiting on memory: 10% faster with this.
    if (start + g.pw + (kPrefetchRows + 1) * g.W <= size)
      for (int64_t q = 0; q < g.W; q += 64 / static_cast<int64_t>(sizeof(T)))
        CONVKIT_PREFETCH(in + kPrefetchRows * g.W + q);
    const T* row = scratch.padded.data();
    if (start >= 0 && size - start >= reach)
      row = begin + start;
    else
      copy_short(in, g.W, scratch.padded.data() + g.pw);
    max_pool_columns<T, kIndex>(g, cols, in, row, width, scratch.best.data() + r * width,
                                kIndex ? scratch.col.data() + r * width : nullptr);
  }
  T* best = scratch.out.data();
  PoolIndex* at = kIndex ? scratch.out_at.data() : nullptr;
  for (int64_t i = 0; i < g.OH; ++i) {
#if CONVKIT_VECTOR_OPS
    for (int64_t t0 = 0; t0 < width; t0 += kPoolBlock) {
      MaxLanes<T> lanes{};  // zeros, never stored: validation puts a row of every window inside
      bool first = true;
      for (int64_t u = 0; u < g.kh; ++u) {  // the window's rows inside the input
        const int64_t r = i * g.sh - g.ph + u * g.dh;
        if (r < 0 || r >= g.H) continue;
        const T* rb = scratch.best.data() + r * width + t0;
        const PoolIndex* rc = kIndex ? scratch.col.data() + r * width + t0 : nullptr;
        const auto row_start = static_cast<PoolIndex>(r * g.W);
        if (first)
          lanes.template start<kIndex>(rb, rc, row_start);
        else
          lanes.template take<kIndex>(rb, rc, row_start);
        first = false;
      }
      lanes.template store<kIndex>(best + t0, kIndex ? at + t0 : nullptr);
    }
#else
    bool first = true;
    for (int64_t u = 0; u < g.kh; ++u) {
      const int64_t r = i * g.sh - g.ph + u * g.dh;
      if (r < 0 || r >= g.H) continue;
      const T* rb = scratch.best.data() + r * width;
      const PoolIndex* rc = kIndex ? scratch.col.data() + r * width : nullptr;
      const auto row_start = static_cast<PoolIndex>(r * g.W);
      for (int64_t t0 = 0; t0 < width; t0 += kPoolBlock) {
        if (first) {
          CONVKIT_SIMD for (int k = 0; k < kPoolBlock; ++k) {
            best[t0 + k] = rb[t0 + k];
            if (kIndex) at[t0 + k] = row_start + rc[t0 + k];
          }
          continue;
        }
        CONVKIT_SIMD for (int k = 0; k < kPoolBlock; ++k) {
          const bool take = kernels::max_pool_takes(rb[t0 + k], best[t0 + k]);
          best[t0 + k] = take ? rb[t0 + k] : best[t0 + k];
          if (kIndex) at[t0 + k] = take ? row_start + rc[t0 + k] : at[t0 + k];
        }
      }
      first = false;
    }
#endif
    T* yo = y + i * g.OW;
    for (int64_t j = 0; j < g.OW; ++j) yo[j] = best[j * sw];
    if (kIndex) {
      PoolIndex* ao = argmax + i * g.OW;
      for (int64_t j = 0; j < g.OW; ++j) ao[j] = at[j * sw];
    }
  }
}

constexpr int64_t kRowChunk = 256;  // outputs of one row handled per pass (stack buffers)

// The interior rows of average pooling: for each window offset (u, v), one pass over a
// run of outputs, which vectorises across the outputs.
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
void max_pool2d_forward_in(Copy, const Pool2dGeometry& g, const T* x, T* y, PoolIndex* argmax) {
  const int64_t plane = g.H * g.W, out_plane = g.OH * g.OW;
  parallel_for(g.N * g.C, out_plane * g.kh * g.kw, [&](int64_t p0, int64_t p1) {
    MaxPoolScratch<T> scratch(g, argmax != nullptr);
    with_stride(g.sw, [&](auto stride) {
      constexpr int S = decltype(stride)::value;
      for (int64_t p = p0; p < p1; ++p) {
        if (argmax)
          max_pool_plane<T, S, true>(g, x + p * plane, x, x + g.N * g.C * plane, y + p * out_plane,
                                     argmax + p * out_plane, scratch);
        else
          max_pool_plane<T, S, false>(g, x + p * plane, x, x + g.N * g.C * plane, y + p * out_plane, nullptr, scratch);
      }
    });
  });
}

/// gx gets the input gradient (each output's gradient added at its window's maximum), or
/// has it added when `accumulate` is set.
template <class T>
void max_pool2d_backward_in(Copy, const Pool2dGeometry& g, const PoolIndex* argmax, const T* gy, T* gx,
                            bool accumulate) {
  const int64_t S = g.OH * g.OW, plane = g.H * g.W;
  parallel_for(g.N * g.C, S + plane, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      // Zeroed plane by plane, right before its scatter, so the plane is still in cache
      // when the gradients land (zeroing all planes first sent gx through memory twice).
      T* out = gx + p * plane;
      if (!accumulate) std::fill(out, out + plane, T(0));
      const T* g_in = gy + p * S;
      const PoolIndex* a = argmax + p * S;
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
  if (g.kh == 2 && g.kw == 2 && g.W == 2 * g.OW && g.OW < 16) {
    // LeNet's case. Output rows are shorter than a vector (14 and 5), so a loop per
    // output row spends its time in the scalar remainder. Instead: the row pairs are
    // summed into a scratch plane in 16-wide chunks, and then the column pairs of the
    // whole plane in one long loop (the width is even, so no pair straddles two rows).
    // Longer rows (28 in the benchmark) are 8% faster the plain way.
    parallel_for(g.N * g.C, g.H * g.W, [&](int64_t p0, int64_t p1) {
      std::vector<T> pairs(static_cast<size_t>(g.OH * g.W));
      T* v = pairs.data();
      for (int64_t p = p0; p < p1; ++p) {
        for (int64_t i = 0; i < g.OH; ++i) {
          const T *in0 = x + (p * g.H + 2 * i) * g.W, *in1 = in0 + g.W;
          T* sum = v + i * g.W;
          for_short(g.W, [&](int64_t j) { sum[j] = in0[j] + in1[j]; });
        }
        T* out = y + p * g.OH * g.OW;
        const int64_t n = g.OH * g.OW;
        CONVKIT_SIMD for (int64_t q = 0; q < n; ++q) out[q] = (v[2 * q] + v[2 * q + 1]) * scale;
      }
    });
    return;
  }
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
void avg_pool2d_tiled_backward(const Pool2dGeometry& g, const T* gy, T* gx, bool accumulate) {
  const T scale = T(1) / static_cast<T>(g.kh * g.kw);
  parallel_for(g.N * g.C, g.H * g.W, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      for (int64_t i = 0; i < g.OH; ++i) {
        const T* go = gy + (p * g.OH + i) * g.OW;
        for (int64_t u = 0; u < g.kh; ++u) {
          T* out = gx + (p * g.H + i * g.kh + u) * g.W;
          if (g.kw == 2) {
            CONVKIT_SIMD for (int64_t j = 0; j < g.OW; ++j) {
              const T share = go[j] * scale;
              out[2 * j] = share + (accumulate ? out[2 * j] : T(0));
              out[2 * j + 1] = share + (accumulate ? out[2 * j + 1] : T(0));
            }
          } else {
            for (int64_t j = 0; j < g.OW; ++j)
              for (int64_t v = 0; v < g.kw; ++v)
                out[j * g.kw + v] = go[j] * scale + (accumulate ? out[j * g.kw + v] : T(0));
          }
          if (!accumulate) std::fill(out + g.OW * g.kw, out + g.W, T(0));
        }
      }
      if (!accumulate) std::fill(gx + (p * g.H + g.OH * g.kh) * g.W, gx + (p + 1) * g.H * g.W, T(0));
    }
  });
}

template <class T>
void avg_pool2d_forward_in(Copy, const Pool2dGeometry& g, const T* x, T* y) {
  if (pool_windows_tile(g)) return avg_pool2d_tiled_forward(g, x, y);
  parallel_for(g.N * g.C, g.OH * g.OW * g.kh * g.kw, [&](int64_t p0, int64_t p1) {
    for_each_pool_output(
        g, p0, p1, [&](int64_t p, int64_t i, int64_t j) { kernels::avg_pool_at(g, x, y, p, i, j); },
        [&](int64_t p, int64_t i, int64_t j0, int64_t j1) {
          with_stride(g.sw, [&](auto stride) { avg_row<T, decltype(stride)::value>(g, x, y, p, i, j0, j1); });
        });
  });
}

/// gx gets the input gradient, or has it added when `accumulate` is set.
template <class T>
void avg_pool2d_backward_in(Copy, const Pool2dGeometry& g, const T* gy, T* gx, bool accumulate) {
  if (pool_windows_tile(g)) return avg_pool2d_tiled_backward(g, gy, gx, accumulate);
  const int64_t plane = g.H * g.W;
  parallel_for(g.N * g.C, g.OH * g.OW * g.kh * g.kw + plane, [&](int64_t p0, int64_t p1) {
    for (int64_t q = p0; q < p1; ++q) {  // plane by plane, as in max_pool2d_backward
      if (!accumulate) std::fill(gx + q * plane, gx + (q + 1) * plane, T(0));
      for_each_pool_output(
          g, q, q + 1, [&](int64_t p, int64_t i, int64_t j) { kernels::avg_pool_backward_at(g, gy, gx, p, i, j); },
          [&](int64_t p, int64_t i, int64_t j0, int64_t j1) {
            with_stride(g.sw,
                        [&](auto stride) { avg_row_backward<T, decltype(stride)::value>(g, gy, gx, p, i, j0, j1); });
          });
    }
  });
}

}  // namespace convkit::backend::cpu::CONVKIT_ISA_COPY
