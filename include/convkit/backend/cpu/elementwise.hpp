#pragma once
// CPU loops for elementwise maps, broadcasting, bias and reductions.
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "../../core/geometry.hpp"
#include "parallel.hpp"

namespace convkit::backend::cpu {

/// Runs body(i) for every i in [0, n) of a short row (a few dozen elements). The loop a
/// compiler writes for a run this short spends most of its time in a scalar remainder,
/// so this runs whole chunks of 16 lanes, the last one ending at n: it may overlap the
/// one before, so body must write element i from inputs it does not write (a map).
template <class Body>
inline void for_short(int64_t n, const Body& body) {
  constexpr int64_t kChunk = 16;
  auto chunk = [&](auto width, int64_t at) {
    constexpr int64_t kWidth = decltype(width)::value;  // a constant bound (GCC ignores ivdep on a call's)
    CONVKIT_SIMD for (int64_t i = 0; i < kWidth; ++i) body(at + i);
  };
  using Whole = std::integral_constant<int64_t, kChunk>;
  if (n < kChunk) {  // rows of 4 to 15 elements as two overlapping chunks of 4 or 8 (LeNet
                     // conv2's one-image forward pass, 10-wide rows: 6.73 us, against
                     // 6.98 with a scalar loop)
    using Eight = std::integral_constant<int64_t, 8>;
    using Four = std::integral_constant<int64_t, 4>;
    if (n >= 8) {
      chunk(Eight{}, 0);
      chunk(Eight{}, n - 8);
    } else if (n >= 4) {
      chunk(Four{}, 0);
      chunk(Four{}, n - 4);
    } else {
      for (int64_t i = 0; i < n; ++i) body(i);
    }
    return;
  }
  for (int64_t at = 0; at + kChunk < n; at += kChunk) chunk(Whole{}, at);
  chunk(Whole{}, n - kChunk);
}

/// Copies `rows` short rows of n elements (non-overlapping ranges), from src and to dst,
/// whose rows are src_stride and dst_stride apart; see for_short. A memcpy call would
/// cost as much as a row's copy. Not inlined: it is called from a dozen places, whose
/// inlined copies would cost 0.55 G of the compiler's instructions in a LeNet program.
/// Whole planes go in one call: a call per row of its 28-wide planes makes the depthwise
/// layer's forward pass 10-14% slower (one thread).
template <class T>
CONVKIT_NOINLINE void copy_rows(const T* src, int64_t src_stride, int64_t n, int64_t rows, T* dst, int64_t dst_stride) {
  for (int64_t r = 0; r < rows; ++r, src += src_stride, dst += dst_stride)
    for_short(n, [&](int64_t i) { dst[i] = src[i]; });
}

/// Copies one short row; see copy_rows.
template <class T>
inline void copy_short(const T* src, int64_t n, T* dst) {
  copy_rows(src, 0, n, 1, dst, 0);
}

/// Visits every output index of a broadcast with the matching input offsets.
template <class Visit>
void for_each_broadcast(const BroadcastPlan& p, Visit visit) {
  const int64_t r = p.out.rank();
  if (p.numel == 0) return;
  std::vector<int64_t> idx(static_cast<size_t>(r), 0);
  int64_t ia = 0, ib = 0;
  for (int64_t i = 0; i < p.numel; ++i) {
    visit(i, ia, ib);
    for (int64_t d = r - 1; d >= 0; --d) {  // odometer increment
      const size_t du = static_cast<size_t>(d);
      ++idx[du];
      ia += p.a_stride[du];
      ib += p.b_stride[du];
      if (idx[du] < p.out[du]) break;
      ia -= p.a_stride[du] * idx[du];
      ib -= p.b_stride[du] * idx[du];
      idx[du] = 0;
    }
  }
}

/// Sums g (of the plan's output shape) into out (of the shape `a` had in the plan):
/// the gradient of broadcasting a. `out` must be zeroed by the caller.
template <class T>
void sum_to_a(const BroadcastPlan& p, const T* g, T* out) {
  for_each_broadcast(p, [&](int64_t i, int64_t ia, int64_t) { out[ia] += g[i]; });
}

/// Sum of n values: pairwise (accurate for float over large tensors), threads over
/// chunks whose partial sums are added in a fixed order (the result does not depend on
/// the thread count's scheduling, only on the chunking).
/// Dot product with independent partial sums: a single accumulator would serialise the
/// loop on the add latency (the compiler may not reorder float additions itself).
template <class T>
T dot(int64_t n, const T* a, const T* b) {
  // 64 partial sums are four AVX-512 accumulators, so four multiply-adds are in flight
  // at once; with 16 (one vector) each one waits for the one before.
  constexpr int L = 64, L2 = 16;
  T part[L] = {};
  int64_t i = 0;
  for (; i + L <= n; i += L)
    for (int l = 0; l < L; ++l) part[l] += a[i + l] * b[i + l];
  for (; i + L2 <= n; i += L2)
    for (int l = 0; l < L2; ++l) part[l] += a[i + l] * b[i + l];
  for (int l = 0; l < L2; ++l) part[l] += (part[l + L2] + part[l + 2 * L2]) + part[l + 3 * L2];  // vectorised
  T s = T(0);
  for (; i < n; ++i) s += a[i] * b[i];
  for (int l = 0; l < L2; ++l) s += part[l];
  return s;
}

template <class T>
T sum_serial(int64_t n, const T* x) {
  if (n <= 1024) {
    constexpr int L = 16;
    T part[L] = {};
    int64_t i = 0;
    for (; i + L <= n; i += L)
      for (int l = 0; l < L; ++l) part[l] += x[i + l];
    T s = T(0);
    for (; i < n; ++i) s += x[i];
    for (int l = 0; l < L; ++l) s += part[l];
    return s;
  }
  const int64_t half = n / 2;
  return sum_serial(half, x) + sum_serial(n - half, x + half);
}

template <class T>
T sum(int64_t n, const T* x) {
  constexpr int kMaxChunks = 64;
  T partial[kMaxChunks] = {};
  const int chunks = static_cast<int>(std::min<int64_t>(max_threads(), kMaxChunks));
  if (chunks <= 1 || n < (1 << 16)) return sum_serial(n, x);
  parallel_for(chunks, n / chunks, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t b = n * c / chunks, e = n * (c + 1) / chunks;
      partial[c] = sum_serial(e - b, x + b);
    }
  });
  T s = T(0);
  for (int c = 0; c < chunks; ++c) s += partial[c];
  return s;
}

template <class T>
void fill(int64_t n, T* x, T value) {
  parallel_for(n, 1, [&](int64_t b, int64_t e) { CONVKIT_SIMD for (int64_t i = b; i < e; ++i) x[i] = value; });
}

/// y[r, c, k] += b[c] for y of shape (rows, channels, inner).
template <class T>
void add_bias(int64_t rows, int64_t channels, int64_t inner, const T* b, T* y) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < channels; ++c) {
      T* p = y + (r * channels + c) * inner;
      const T v = b[c];
      CONVKIT_SIMD for (int64_t k = 0; k < inner; ++k) p[k] += v;
    }
}

/// gb[c] = sum over r, k of gy[r, c, k].
template <class T>
void bias_grad(int64_t rows, int64_t channels, int64_t inner, const T* gy, T* gb) {
  parallel_for(channels, rows * inner, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      T s = T(0);
      for (int64_t r = 0; r < rows; ++r) s += sum_serial(inner, gy + (r * channels + c) * inner);
      gb[c] = s;
    }
  });
}

/// y += alpha * x (gradient accumulation, SGD).
template <class T>
void axpy(int64_t n, T alpha, const T* x, T* y) {
  parallel_for(n, 2, [&](int64_t b, int64_t e) { CONVKIT_SIMD for (int64_t i = b; i < e; ++i) y[i] += alpha * x[i]; });
}

}  // namespace convkit::backend::cpu
