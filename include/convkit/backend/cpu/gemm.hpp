#pragma once
// Row-major GEMM on the CPU: C = alpha * op(A) * op(B) + beta * C, through Eigen's packed
// GEMM kernel. It calls the kernel directly (Eigen::internal::general_matrix_matrix_product,
// stable across Eigen 3.3 and 3.4) instead of an Eigen product expression: the expression
// would also instantiate Eigen's GEMV and small-matrix paths for every call site, which
// more than doubles the compile time of a program that trains a network.
#include <Eigen/Core>
#include <cstdint>
#include <vector>

namespace convkit::backend::cpu {

/// A is (M, K) after op (stored (K, M) when trans_a), B is (K, N) after op, C is (M, N);
/// all contiguous row-major. Single-threaded: callers parallelise around it.
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, const T* B, T beta, T* C) {
  if (beta != T(1)) {
    for (int64_t i = 0; i < M * N; ++i) C[i] = beta == T(0) ? T(0) : C[i] * beta;
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
  const Index n = N, m = M, k = K;
  if (!trans_b && !trans_a)
    general_matrix_matrix_product<Index, T, ColMajor, false, T, ColMajor, false, ColMajor, 1>::run(
        n, m, k, B, n, A, k, C, 1, n, alpha, blocking, nullptr);
  else if (!trans_b && trans_a)
    general_matrix_matrix_product<Index, T, ColMajor, false, T, RowMajor, false, ColMajor, 1>::run(
        n, m, k, B, n, A, m, C, 1, n, alpha, blocking, nullptr);
  else if (trans_b && !trans_a)
    general_matrix_matrix_product<Index, T, RowMajor, false, T, ColMajor, false, ColMajor, 1>::run(
        n, m, k, B, k, A, k, C, 1, n, alpha, blocking, nullptr);
  else {
    // op(A) = A^T and op(B) = B^T: no convkit op asks for it; transpose B into scratch so
    // a fourth kernel variant is not compiled into every program.
    std::vector<T> bt(static_cast<size_t>(N * K));
    for (int64_t r = 0; r < N; ++r)
      for (int64_t c = 0; c < K; ++c) bt[static_cast<size_t>(c * N + r)] = B[r * K + c];
    general_matrix_matrix_product<Index, T, ColMajor, false, T, RowMajor, false, ColMajor, 1>::run(
        n, m, k, bt.data(), n, A, m, C, 1, n, alpha, blocking, nullptr);
  }
}

}  // namespace convkit::backend::cpu
