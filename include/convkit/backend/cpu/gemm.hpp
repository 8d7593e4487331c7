#pragma once
// Row-major GEMM on the CPU: C = alpha * op(A) * op(B) + beta * C.
//
// float, the type networks train in, runs convkit's own packed GEMM (BLIS-style: B is
// packed into KC x NR panels, A into MC x KC blocks of MR-row panels, and a micro-kernel
// from gemm_kernels.hpp multiplies them), with the micro-kernel chosen at run time for the
// CPU. Its tiles are sized for the skinny products of small convolutions, and it costs
// less compile time than instantiating Eigen's (examples/lenet.cpp: 5.7 s against 6.5 s).
//
// double (gradient checks, golden tests) and float under CONVKIT_EIGEN_GEMM run Eigen's
// packed GEMM kernel, called directly (Eigen::internal::general_matrix_matrix_product,
// stable across Eigen 3.3 and 3.4) instead of through a product expression: the expression
// would also instantiate Eigen's GEMV and small-matrix paths for every call site.
#include <Eigen/Core>
#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "cpu_features.hpp"
#include "elementwise.hpp"
#include "gemm_kernels.hpp"
#include "memory.hpp"
#include "parallel.hpp"

namespace convkit::backend::cpu {

/// Eigen's GEMM; same contract as gemm() below, single-threaded. ldb and ldc are the row
/// strides of B's storage and of C.
template <class T>
void eigen_gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, const T* B,
                int64_t ldb, T beta, T* C, int64_t ldc) {
  if (beta != T(1)) {
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == T(0) ? T(0) : C[i * ldc + j] * beta;
  }
  if (M == 0 || N == 0 || K == 0) return;
  using Eigen::ColMajor;
  using Eigen::RowMajor;
  using Eigen::internal::general_matrix_matrix_product;
  using Index = Eigen::Index;
  // Row-major C = op(A) op(B) is column-major C^T (N, M) = op(B)^T op(A)^T: the left factor
  // is B's storage (column-major (N, K) unless trans_b), the right one is A's storage.
  Eigen::internal::gemm_blocking_space<ColMajor, T, T, Eigen::Dynamic, Eigen::Dynamic, Eigen::Dynamic> blocking(
      N, M, K, 1, true);
  const Index n = N, m = M, k = K, lb = ldb, lc = ldc;
  if (!trans_b && !trans_a)
    general_matrix_matrix_product<Index, T, ColMajor, false, T, ColMajor, false, ColMajor, 1>::run(
        n, m, k, B, lb, A, k, C, 1, lc, alpha, blocking, nullptr);
  else if (!trans_b && trans_a)
    general_matrix_matrix_product<Index, T, ColMajor, false, T, RowMajor, false, ColMajor, 1>::run(
        n, m, k, B, lb, A, m, C, 1, lc, alpha, blocking, nullptr);
  else if (trans_b && !trans_a)
    general_matrix_matrix_product<Index, T, RowMajor, false, T, ColMajor, false, ColMajor, 1>::run(
        n, m, k, B, lb, A, k, C, 1, lc, alpha, blocking, nullptr);
  else {
    // op(A) = A^T and op(B) = B^T: no convkit op asks for it; transpose B into scratch so
    // a fourth kernel variant is not compiled into every program.
    std::vector<T> bt(static_cast<size_t>(N * K));
    for (int64_t r = 0; r < N; ++r)
      for (int64_t c = 0; c < K; ++c) bt[static_cast<size_t>(c * N + r)] = B[r * ldb + c];
    general_matrix_matrix_product<Index, T, ColMajor, false, T, RowMajor, false, ColMajor, 1>::run(
        n, m, k, bt.data(), n, A, m, C, 1, lc, alpha, blocking, nullptr);
  }
}

namespace packed_gemm {

// Block sizes: a KC x NR panel of B stays in L1 while the MR-row panels of an MC x KC
// block of A stream past it from L2; B's KC x NC block sits in L3.
constexpr int64_t KC = 256, MC = 192, NC = 4096;
constexpr int64_t kUnpackedB = 64 * 1024 / 4;  // floats of B read in place (64 KB)

/// Packs rows [i0, i0+mc) x depth [k0, k0+kc) of op(A) into MR-row panels, each kc steps
/// of MR values; rows past the end are zero.
template <int MR>
void pack_a(bool trans_a, const float* A, int64_t M, int64_t K, int64_t i0, int64_t k0, int64_t mc, int64_t kc,
            float* Ap) {
  for (int64_t p = 0; p < mc; p += MR, Ap += MR * kc) {
    const int64_t rows = std::min<int64_t>(MR, mc - p);
    if (rows < MR) std::fill(Ap, Ap + MR * kc, 0.0f);
    if (trans_a) {  // A stored (K, M): a k step of the panel is a contiguous run
      const float* a = A + k0 * M + i0 + p;
      if (rows == MR) {  // a fixed-length copy compiles to vector moves (memcpy of a variable
                         // length became a slow `rep movs` here)
        for (int64_t k = 0; k < kc; ++k)
          for (int r = 0; r < MR; ++r) Ap[k * MR + r] = a[k * M + r];
      } else {
        for (int64_t k = 0; k < kc; ++k) CONVKIT_SIMD for (int64_t r = 0; r < rows; ++r) Ap[k * MR + r] = a[k * M + r];
      }
    } else {  // A stored (M, K): the panel's rows are read side by side, each front to back
      const float* a = A + (i0 + p) * K + k0;
      if (rows == MR) {  // whole k steps written at once (a row at a time, the stores are
                         // single floats MR apart: 2.4x slower, 5% of a 1x1 layer's backward)
        for (int64_t k = 0; k < kc; ++k)
          for (int r = 0; r < MR; ++r) Ap[k * MR + r] = a[r * K + k];
      } else {
        for (int64_t k = 0; k < kc; ++k)
          for (int64_t r = 0; r < rows; ++r) Ap[k * MR + r] = a[r * K + k];
      }
    }
  }
}

/// Where the rows of B's storage are: `ld` apart from `base`. Storage rows are rows of
/// op(B) when B is not transposed, and its columns when it is.
struct BRows {
  const float* base = nullptr;  ///< the first row
  int64_t ld = 0;               ///< the spacing, in floats
  /// Storage row r.
  const float* operator[](int64_t r) const { return base + r * ld; }
};

/// Packs depth [k0, k0+kc) x columns [j0, j0+nc) of op(B) into NR-column panels, each kc
/// steps of NR values; columns past the end are zero.
template <class Kernel, int NR = Kernel::NR>
void pack_b(bool trans_b, const BRows& rows, int64_t k0, int64_t j0, int64_t kc, int64_t nc, float* Bp) {
  if (!trans_b && nc >= NR) {
    // The whole panels a row of B at a time: each row is read front to back, which the
    // hardware prefetcher follows. Panel by panel, the reads would take NR values from each
    // of kc rows in turn and wait on memory (the 1x1 layer's forward pass: 11% of its time
    // packing B this way, 19% panel by panel).
    const int64_t whole = nc / NR * NR;
    for (int64_t k = 0; k < kc; ++k) {
      const float* b = rows[k0 + k] + j0;
      float* dst = Bp + k * NR;
      for (int64_t q = 0; q < whole; q += NR, dst += NR * kc)
        CONVKIT_SIMD for (int c = 0; c < NR; ++c) dst[c] = b[q + c];
    }
    if (whole == nc) return;
    Bp += whole * kc;
    j0 += whole;
    nc -= whole;
  }
  for (int64_t q = 0; q < nc; q += NR, Bp += NR * kc) {
    const int64_t cols = std::min<int64_t>(NR, nc - q);
    if (cols < NR) std::fill(Bp, Bp + NR * kc, 0.0f);
    if (trans_b) {  // B stored (N, K): a column of op(B) is a contiguous run of B
      const float* col[NR];
      for (int64_t c = 0; c < cols; ++c) col[c] = rows[j0 + q + c] + k0;
      int64_t k = 0;
      if constexpr (Kernel::has_transpose16) {  // 16 x 16 blocks transposed in registers
        for (; k + 16 <= kc; k += 16) {
          // The panel reads NR short runs (kc floats) at once, too many and too short for
          // the hardware prefetcher: each row's line two ahead is asked for here (the 1x1
          // layer's weight gradient, 32,256,28,28 -> 128: 9.75 ms against 9.9 without). The
          // offset stays inside the block, so no pointer leaves B.
          const int64_t ahead = std::min<int64_t>(k + 32, kc - 1);
          for (int64_t c = 0; c < cols; ++c) CONVKIT_PREFETCH(col[c] + ahead);
          for (int64_t c = 0; c + 16 <= cols; c += 16) Kernel::transpose16(col + c, k, Bp + k * NR + c, NR);
        }
        for (int64_t c = cols / 16 * 16; c < cols; ++c)  // columns left of the 16-wide blocks
          for (int64_t kk = 0; kk < k; ++kk) Bp[kk * NR + c] = col[c][kk];
      }
      for (; k < kc; ++k)
        for (int64_t c = 0; c < cols; ++c) Bp[k * NR + c] = col[c][k];
    } else {  // the last, partial panel (whole ones went row by row above)
      for (int64_t k = 0; k < kc; ++k) {
        const float* b = rows[k0 + k] + j0 + q;
        CONVKIT_SIMD for (int64_t c = 0; c < cols; ++c) Bp[k * NR + c] = b[c];
      }
    }
  }
}

/// The rows of A rounded up to whole MR-row panels.
template <class Kernel>
int64_t padded_rows(int64_t M) {
  return (M + Kernel::MR - 1) / Kernel::MR * Kernel::MR;
}

/// Packs all of op(A) (M x K): for each KC-deep block, every MR-row panel; the block that
/// starts at depth pc begins at element pc * padded_rows(M). Size: padded_rows(M) * K.
template <class Kernel>
void pack_all_a(bool trans_a, const float* A, int64_t M, int64_t K, float* out) {
  const int64_t rows = padded_rows<Kernel>(M);
  for (int64_t pc = 0; pc < K; pc += KC)
    pack_a<Kernel::MR>(trans_a, A, M, K, 0, pc, M, std::min(KC, K - pc), out + pc * rows);
}

/// C's columns [j_begin, j_end) with micro-kernel `Kernel`. beta has already been applied
/// unless `overwrite` (beta == 0, when C is written without being read). `a_packed`, when
/// not null, is all of op(A) packed by pack_all_a (A itself is then not read).
template <class Kernel>
void run_columns(bool trans_a, bool trans_b, int64_t M, int64_t K, float alpha, const float* A, const float* a_packed,
                 const BRows& B, float* C, int64_t ldc, bool overwrite, int64_t j_begin, int64_t j_end) {
  constexpr int MR = Kernel::MR, NR = Kernel::NR;
  const int64_t kc_max = std::min(KC, K), mc_max = std::min(MC, M), nc_max = std::min(NC, j_end - j_begin);
  Workspace<float> a_pack(a_packed ? 0 : static_cast<size_t>((mc_max + MR - 1) / MR * MR * kc_max));
  Workspace<float> b_pack(static_cast<size_t>((nc_max + NR - 1) / NR * NR * kc_max));
  alignas(64) float edge[MR * NR];
  for (int64_t jc = j_begin; jc < j_end; jc += NC) {
    const int64_t nc = std::min(NC, j_end - jc);
    for (int64_t pc = 0; pc < K; pc += KC) {
      const int64_t kc = std::min(KC, K - pc);
      const bool accumulate = pc > 0 || !overwrite;
      // A small untransposed B is read in place by a kernel that can (it stays in cache, and
      // packing it would cost as much as the multiply when A has few rows).
      const bool b_in_place = Kernel::handles_edges && !trans_b && kc * nc <= kUnpackedB;
      if (!b_in_place) pack_b<Kernel>(trans_b, B, pc, jc, kc, nc, b_pack.data());
      for (int64_t ic = 0; ic < M; ic += MC) {
        const int64_t mc = std::min(MC, M - ic);
        const float* a_block = a_packed ? a_packed + pc * padded_rows<Kernel>(M) + ic * kc : a_pack.data();
        if (!a_packed) pack_a<MR>(trans_a, A, M, K, ic, pc, mc, kc, a_pack.data());
        for (int64_t jr = 0; jr < nc; jr += NR) {
          const int64_t nr = std::min<int64_t>(NR, nc - jr);
          const float* bp = b_in_place ? B.base + pc * B.ld + jc + jr : b_pack.data() + jr * kc;
          const int64_t ldbp = b_in_place ? B.ld : NR;
          for (int64_t ir = 0; ir < mc; ir += MR) {
            const int64_t mr = std::min<int64_t>(MR, mc - ir);
            const float* ap = a_block + ir * kc;
            float* c = C + (ic + ir) * ldc + jc + jr;
            if constexpr (Kernel::handles_edges) {
              Kernel::run(kc, ap, bp, c, ldc, alpha, accumulate, static_cast<int>(mr), static_cast<int>(nr), ldbp);
              continue;
            } else if (mr == MR && nr == NR) {
              Kernel::run(kc, ap, bp, c, ldc, alpha, accumulate);
              continue;
            }
            // A partial tile at the bottom or right edge: compute the whole tile aside
            // and copy in the part that exists.
            Kernel::run(kc, ap, bp, edge, NR, alpha, false);
            for (int64_t r = 0; r < mr; ++r)
              for (int64_t col = 0; col < nr; ++col)
                c[r * ldc + col] = edge[r * NR + col] + (accumulate ? c[r * ldc + col] : 0.0f);
          }
        }
      }
    }
  }
}

/// Splits C's columns over threads (in whole NR panels) when the product is big enough and
/// the caller is not already running in parallel; each thread packs its own panels.
template <class Kernel>
void run(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
         const float* a_packed, const BRows& B, float* C, int64_t ldc, bool overwrite) {
  constexpr int64_t NR = Kernel::NR;
  const int64_t panels = (N + NR - 1) / NR;
  const bool threaded = !in_parallel() && M * N * K >= (int64_t(1) << 21) && panels >= 2;
  if (!threaded) return run_columns<Kernel>(trans_a, trans_b, M, K, alpha, A, a_packed, B, C, ldc, overwrite, 0, N);
  parallel_for(panels, M * K * NR, [&](int64_t p0, int64_t p1) {
    run_columns<Kernel>(trans_a, trans_b, M, K, alpha, A, a_packed, B, C, ldc, overwrite, p0 * NR,
                        std::min(N, p1 * NR));
  });
}

/// Calls f(kernel) with a value of the micro-kernel type for `isa` (one this build has).
template <class F>
void with_kernel(Isa isa, F f) {
#if CONVKIT_X86_DISPATCH
  if constexpr (kernel_compiled(Isa::avx512))
    if (isa == Isa::avx512) return f(gemm_kernels::Avx512{});
  if constexpr (kernel_compiled(Isa::avx2))
    if (isa == Isa::avx2) return f(gemm_kernels::Avx2{});
  // What is left is the generic kernel, or in builds without it the only kernel compiled.
  using Last =
      std::conditional_t<kernel_compiled(Isa::generic), gemm_kernels::Generic,
                         std::conditional_t<kernel_compiled(Isa::avx2), gemm_kernels::Avx2, gemm_kernels::Avx512>>;
  f(Last{});
#else
  (void)isa;
  f(gemm_kernels::Generic{});
#endif
}

#if CONVKIT_VECTOR_OPS
/// The one-row GEMM's sums: registers of the widest width the build's flags give.
struct RowVector {
#if defined(__AVX512F__)
  static constexpr int kBytes = 64;  ///< bytes per register
#elif defined(__AVX__)
  static constexpr int kBytes = 32;
#else
  static constexpr int kBytes = 16;
#endif
  static constexpr int kLanes = kBytes / 4;                 ///< floats per register
  typedef float Part __attribute__((vector_size(kBytes)));  ///< one register
  /// A Part at any address, aliasing float.
  typedef float Unaligned __attribute__((vector_size(kBytes), aligned(4), may_alias));
  /// The Part at p (any alignment).
  static Part load(const float* p) { return *reinterpret_cast<const Unaligned*>(p); }
};

/// v's lanes added in pairs (the low half to the high half) down to 4 lanes.
template <class V>
auto fold_to_4_lanes(V v) {
  constexpr size_t lanes = sizeof(V) / sizeof(float);
  if constexpr (lanes == 16)
    return fold_to_4_lanes(__builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) +
                           __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15));
  else if constexpr (lanes == 8)
    return __builtin_shufflevector(v, v, 0, 1, 2, 3) + __builtin_shufflevector(v, v, 4, 5, 6, 7);
  else
    return v;
}

/// Lanes 0-3: the sums of a's, b's, c's and d's lanes, by shuffles. Left to itself GCC
/// reduces each accumulator on its own, a lane at a time through the stack (LeNet's
/// 400 -> 120 layer on one image: 2.1 us this way, 2.3 that way).
template <class V>
auto sum_lanes_of_4(V a, V b, V c, V d) {
  const auto a4 = fold_to_4_lanes(a), b4 = fold_to_4_lanes(b), c4 = fold_to_4_lanes(c), d4 = fold_to_4_lanes(d);
  const auto ab = __builtin_shufflevector(a4, b4, 0, 1, 4, 5) + __builtin_shufflevector(a4, b4, 2, 3, 6, 7);
  const auto cd = __builtin_shufflevector(c4, d4, 0, 1, 4, 5) + __builtin_shufflevector(c4, d4, 2, 3, 6, 7);
  return __builtin_shufflevector(ab, cd, 0, 2, 4, 6) + __builtin_shufflevector(ab, cd, 1, 3, 5, 7);
}
#endif

/// c[j] = alpha * dot(a, row j of B) (+ c[j] unless overwrite) for B stored (N, K): a
/// linear layer on one sample. Four rows of B at a time share each load of a, each with
/// its own accumulator of the machine's vector width, so the multiply-adds are independent.
inline void row_times_transposed(int64_t N, int64_t K, float alpha, const float* a, const float* B, bool overwrite,
                                 float* c) {
  int64_t j = 0;
  for (; j + 4 <= N; j += 4) {
    const float *b0 = B + j * K, *b1 = b0 + K, *b2 = b1 + K, *b3 = b2 + K;
    float t[4] = {};
    int64_t k = 0;
#if CONVKIT_VECTOR_OPS
    constexpr int64_t L = RowVector::kLanes;
    const auto load = RowVector::load;
    RowVector::Part s0{}, s1{}, s2{}, s3{};
    for (; k + L <= K; k += L) {
      const RowVector::Part x = load(a + k);
      s0 += x * load(b0 + k);
      s1 += x * load(b1 + k);
      s2 += x * load(b2 + k);
      s3 += x * load(b3 + k);
    }
    const auto sums = sum_lanes_of_4(s0, s1, s2, s3);
    for (int r = 0; r < 4; ++r) t[r] = sums[r];
#else
    constexpr int L = 16;
    float s0[L] = {}, s1[L] = {}, s2[L] = {}, s3[L] = {};
    for (; k + L <= K; k += L)
      for (int l = 0; l < L; ++l) {
        const float x = a[k + l];
        s0[l] += x * b0[k + l];
        s1[l] += x * b1[k + l];
        s2[l] += x * b2[k + l];
        s3[l] += x * b3[k + l];
      }
    for (int l = 0; l < L; ++l) {
      t[0] += s0[l];
      t[1] += s1[l];
      t[2] += s2[l];
      t[3] += s3[l];
    }
#endif
    for (; k < K; ++k) {
      t[0] += a[k] * b0[k];
      t[1] += a[k] * b1[k];
      t[2] += a[k] * b2[k];
      t[3] += a[k] * b3[k];
    }
    for (int r = 0; r < 4; ++r) c[j + r] = alpha * t[r] + (overwrite ? 0.0f : c[j + r]);
  }
  for (; j < N; ++j) c[j] = alpha * dot(K, a, B + j * K) + (overwrite ? 0.0f : c[j]);
}

/// Applies beta to C (M x N, rows ldc apart) ahead of the product; returns true when C is
/// to be overwritten (beta == 0: C is then never read).
inline bool apply_beta(int64_t M, int64_t N, float beta, float* C, int64_t ldc) {
  if (beta != 0.0f && beta != 1.0f)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) C[i * ldc + j] *= beta;
  return beta == 0.0f;
}

}  // namespace packed_gemm

/// C = alpha * op(A) * op(B) + beta * C. A is (M, K) after op (stored (K, M) when
/// trans_a), B is (K, N) after op (stored (N, K) when trans_b), C is (M, N); all contiguous
/// row-major. When beta is 0, C is not read (it may hold anything). Called from inside a
/// parallel loop it runs on the calling thread; called alone, a large product uses every
/// thread.
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, const T* B, T beta, T* C) {
#if defined(CONVKIT_EIGEN_GEMM)
  constexpr bool packed = false;
#else
  constexpr bool packed = std::is_same_v<T, float>;
#endif
  if constexpr (packed) {
    if (M == 0 || N == 0) return;
    if (K == 0) {
      for (int64_t i = 0; i < M * N; ++i) C[i] = beta == 0.0f ? 0.0f : C[i] * beta;
      return;
    }
    const bool overwrite = packed_gemm::apply_beta(M, N, beta, C, N);
    if (M == 1 && trans_b) {  // one row times B^T (a linear layer on one sample)
      packed_gemm::row_times_transposed(N, K, alpha, A, B, overwrite, C);
      return;
    }
    packed_gemm::with_kernel(active_isa(), [&](auto kernel) {
      packed_gemm::run<decltype(kernel)>(trans_a, trans_b, M, N, K, alpha, A, nullptr,
                                         packed_gemm::BRows{B, trans_b ? K : N}, C, N, overwrite);
    });
  } else {
    eigen_gemm(trans_a, trans_b, M, N, K, alpha, A, B, trans_b ? K : N, beta, C, N);
  }
}

/// op(A) made ready for many products with different B (a convolution's weights, used for
/// every sample): for float it is packed once, for the micro-kernel active when it was
/// made, instead of once per product. multiply() may run on several threads at once.
template <class T>
class PreparedA {
 public:
  /// Prepares op(A), which is (M, K) (A stored (K, M) when trans_a). A must outlive this.
  PreparedA(bool trans_a, int64_t M, int64_t K, const T* A) : trans_a_(trans_a), M_(M), K_(K), A_(A) {
    if constexpr (kPacked) {
      if (M == 0 || K == 0) return;
      packed_gemm::with_kernel(isa_, [&](auto kernel) {
        using Kernel = decltype(kernel);
        packed_ = Workspace<float>(static_cast<size_t>(packed_gemm::padded_rows<Kernel>(M) * K));
        packed_gemm::pack_all_a<Kernel>(trans_a, A, M, K, packed_.data());
      });
    }
  }

  /// C (M, N) = alpha * op(A) * op(B) + beta * C, as gemm() with this A. ldb and ldc are
  /// the row strides of B's storage and of C (by default, their rows are contiguous): a
  /// product can read a block of columns of a wider B and write into a wider C.
  void multiply(bool trans_b, int64_t N, T alpha, const T* B, T beta, T* C, int64_t ldb = -1, int64_t ldc = -1) const {
    if (ldb < 0) ldb = trans_b ? K_ : N;
    if (ldc < 0) ldc = N;
    if (M_ == 0 || N == 0) return;
    if constexpr (kPacked) {
      run_packed(trans_b, N, alpha, packed_gemm::BRows{B, ldb}, beta, C, ldc);
    } else {
      eigen_gemm(trans_a_, trans_b, M_, N, K_, alpha, A_, B, ldb, beta, C, ldc);
    }
  }

 private:
#if defined(CONVKIT_EIGEN_GEMM)
  static constexpr bool kPacked = false;
#else
  static constexpr bool kPacked = std::is_same_v<T, float>;
#endif
  /// The float product with this packed A, for either form of B.
  void run_packed(bool trans_b, int64_t N, float alpha, const packed_gemm::BRows& B, float beta, float* C,
                  int64_t ldc) const {
    const bool overwrite = packed_gemm::apply_beta(M_, N, beta, C, ldc);
    if (K_ == 0) {  // an empty sum: C is beta * C, already applied
      if (overwrite)
        for (int64_t i = 0; i < M_; ++i) std::fill(C + i * ldc, C + i * ldc + N, 0.0f);
      return;
    }
    packed_gemm::with_kernel(isa_, [&](auto kernel) {
      packed_gemm::run<decltype(kernel)>(trans_a_, trans_b, M_, N, K_, alpha, A_, packed_.data(), B, C, ldc, overwrite);
    });
  }

  bool trans_a_;
  int64_t M_, K_;
  const T* A_;
  Isa isa_ = active_isa();
  Workspace<T> packed_{0};
};

}  // namespace convkit::backend::cpu
