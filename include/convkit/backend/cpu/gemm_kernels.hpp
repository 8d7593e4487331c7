#pragma once
// The float GEMM's micro-kernels: each computes one MR x NR tile of C from packed panels,
//   C[0:MR, 0:NR] = alpha * sum_k Ap[k, 0:MR]^T Bp[k, 0:NR]  (+ C when accumulating),
// where Ap holds kc steps of MR values of A's column (k-major) and Bp kc steps of NR values
// of B's row. C is row-major, so the vectors run along a row of C: each k step loads NR/W
// vectors of B, broadcasts each of the MR values of A, and does MR*NR/W fused multiply-adds
// into accumulators that stay in registers for the whole kc loop.
//
// The AVX2 and AVX-512 kernels carry a target attribute instead of relying on the
// compiler's -m flags, so a binary built for plain x86-64 has them and cpu_features.hpp
// picks one at run time. The generic kernel is portable C++ that compilers vectorise for
// whatever the build targets.
#include <cstdint>

#include "../../core/error.hpp"
#include "cpu_features.hpp"

#if CONVKIT_X86_DISPATCH
#include <immintrin.h>
#endif

namespace convkit::backend::cpu::gemm_kernels {

/// Portable kernel: plain loops over a small accumulator array.
struct Generic {
  /// The tile: MR rows by NR columns.
  ///@{
  static constexpr int MR = 4, NR = 16;
  ///@}
  /// No masked edge tiles and no register transpose here (the driver handles both).
  ///@{
  static constexpr bool handles_edges = false, has_transpose16 = false;
  ///@}
  /// Not used (has_transpose16 is false).
  static void transpose16(const float* const*, int64_t, float*, int64_t) {}
  /// One full MR x NR tile (see the file comment).
  static void run(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc, float alpha, bool accumulate) {
    float acc[MR][NR] = {};
    for (int64_t k = 0; k < kc; ++k, Ap += MR, Bp += NR)
      for (int r = 0; r < MR; ++r)
        for (int c = 0; c < NR; ++c) acc[r][c] += Ap[r] * Bp[c];
    for (int r = 0; r < MR; ++r)
      for (int c = 0; c < NR; ++c) C[r * ldc + c] = alpha * acc[r][c] + (accumulate ? C[r * ldc + c] : 0.0f);
  }
};

#if CONVKIT_X86_DISPATCH

CONVKIT_AVX512_INTRINSICS_BEGIN

/// Asks for the `lines` cache lines of a tile's row of C, with intent to write, before the
/// kernel's k loop: the loads and stores of C at its end then find them in cache instead
/// of waiting on lines of a large C that have left it (1x1 layer of 32,256,28,28 -> 128:
/// forward 8.9 ms against 9.2 without, input gradient 8.9 against 9.4).
template <int lines>
inline void prefetch_c_row(const float* row) {
  for (int v = 0; v < lines; ++v) __builtin_prefetch(row + 16 * v, 1);
}

/// AVX2 + FMA: 6 rows x 16 columns, 12 ymm accumulators (the classic BLIS shape).
struct Avx2 {
  static constexpr int MR = 6, NR = 16;
  static constexpr bool handles_edges = false, has_transpose16 = false;
  static void transpose16(const float* const*, int64_t, float*, int64_t) {}
  __attribute__((target("avx2,fma"))) static void run(int64_t kc, const float* Ap, const float* Bp, float* C,
                                                      int64_t ldc, float alpha, bool accumulate) {
    __m256 acc[MR][2];
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) {
      prefetch_c_row<1>(C + r * ldc);
      acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    }
    for (int64_t k = 0; k < kc; ++k, Ap += MR, Bp += NR) {
      const __m256 b0 = _mm256_load_ps(Bp), b1 = _mm256_load_ps(Bp + 8);
#pragma GCC unroll 6
      for (int r = 0; r < MR; ++r) {
        const __m256 a = _mm256_broadcast_ss(Ap + r);
        acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);
        acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);
      }
    }
    const __m256 va = _mm256_set1_ps(alpha);
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) {
      float* c = C + r * ldc;
      if (accumulate) {
        _mm256_storeu_ps(c, _mm256_fmadd_ps(acc[r][0], va, _mm256_loadu_ps(c)));
        _mm256_storeu_ps(c + 8, _mm256_fmadd_ps(acc[r][1], va, _mm256_loadu_ps(c + 8)));
      } else {
        _mm256_storeu_ps(c, _mm256_mul_ps(acc[r][0], va));
        _mm256_storeu_ps(c + 8, _mm256_mul_ps(acc[r][1], va));
      }
    }
  }
};

/// AVX-512: 8 rows x 32 columns, 16 zmm accumulators. Eight rows rather than the 12-14 that
/// fill the register file: convolution GEMMs often have few rows (LeNet's 16 output
/// channels), and a tall tile would mostly multiply padding there. Partial tiles are
/// written with masked stores, and a tile of at most 16 columns computes only one vector
/// per row, so the right edge of a narrow product (LeNet conv2's 100 columns) costs little.
/// It can also read B in place, unpacked (see packed_gemm::run_columns).
struct Avx512 {
  static constexpr int MR = 8, NR = 32;
  static constexpr bool handles_edges = true, has_transpose16 = true;

  /// dst[k * ldd + c] = src[c][k0 + k] for a 16 x 16 block (16 rows given by pointers),
  /// in registers: unpack pairs of rows, then pairs of pairs, then exchange 128-bit lanes
  /// twice.
  CONVKIT_NOINLINE __attribute__((target("avx512f"))) static void transpose16(const float* const* src, int64_t k0,
                                                                              float* dst, int64_t ldd) {
    __m512 r[16], t[16];
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(src[i] + k0);
#pragma GCC unroll 8
    for (int i = 0; i < 16; i += 2) {
      t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
#pragma GCC unroll 4
    for (int i = 0; i < 16; i += 4) {
      r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
      r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
      r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
      r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
      t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
      t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xDD);
      t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
      t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xDD);
    }
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
      r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
      r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xDD);
      r[i + 4] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0x88);
      r[i + 12] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0xDD);
    }
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) _mm512_storeu_ps(dst + i * ldd, r[i]);
  }

  template <int NV>  // vectors per row: 2, or 1 for a tile of at most 16 columns
  __attribute__((target("avx512f,fma"))) static void tile(int64_t kc, const float* Ap, const float* Bp, int64_t ldb,
                                                          float* C, int64_t ldc, float alpha, bool accumulate, int rows,
                                                          __mmask16 last_mask) {
    __m512 acc[MR][NV];
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      if (r < rows) prefetch_c_row<NV>(C + r * ldc);
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();
    }
    for (int64_t k = 0; k < kc; ++k, Ap += MR, Bp += ldb) {
      // Masked loads: the columns past the tile's edge are never read (B may be unpacked).
      __m512 b[NV];
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) b[v] = _mm512_maskz_loadu_ps(v == NV - 1 ? last_mask : 0xFFFF, Bp + 16 * v);
#pragma GCC unroll 8
      for (int r = 0; r < MR; ++r) {
        const __m512 a = _mm512_set1_ps(Ap[r]);
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(a, b[v], acc[r][v]);
      }
    }
    const __m512 va = _mm512_set1_ps(alpha);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      if (r >= rows) break;
      float* c = C + r * ldc;
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) {
        const __mmask16 m = v == NV - 1 ? last_mask : __mmask16(0xFFFF);
        __m512 out = _mm512_mul_ps(acc[r][v], va);
        if (accumulate) out = _mm512_add_ps(out, _mm512_maskz_loadu_ps(m, c + 16 * v));
        _mm512_mask_storeu_ps(c + 16 * v, m, out);
      }
    }
  }

  /// The tile's top-left `rows` x `cols` part (rows <= MR, cols <= NR) goes to C. B's k
  /// steps are `ldb` apart: NR when packed, or B's row length when B is read in place.
  __attribute__((target("avx512f,fma"))) static void run(int64_t kc, const float* Ap, const float* Bp, float* C,
                                                         int64_t ldc, float alpha, bool accumulate, int rows = MR,
                                                         int cols = NR, int64_t ldb = NR) {
    const int last = cols > 16 ? cols - 16 : cols;  // columns in the last vector, 1..16
    const auto mask = static_cast<__mmask16>((1u << last) - 1u);
    if (cols > 16)
      tile<2>(kc, Ap, Bp, ldb, C, ldc, alpha, accumulate, rows, mask);
    else
      tile<1>(kc, Ap, Bp, ldb, C, ldc, alpha, accumulate, rows, mask);
  }
};

CONVKIT_AVX512_INTRINSICS_END

#endif  // CONVKIT_X86_DISPATCH

}  // namespace convkit::backend::cpu::gemm_kernels
