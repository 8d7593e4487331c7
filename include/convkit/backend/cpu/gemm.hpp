#pragma once
// Row-major GEMM through Eigen: C = alpha * op(A) * op(B) + beta * C.
#include <Eigen/Core>
#include <cstdint>

namespace convkit::backend::cpu {

/// A is (M, K) after op (stored (K, M) when trans_a), B is (K, N) after op, C is (M, N);
/// all contiguous row-major.
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, const T* B, T beta, T* C) {
  using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using CMap = Eigen::Map<const Mat, Eigen::Unaligned>;
  Eigen::Map<Mat, Eigen::Unaligned> c(C, M, N);
  if (beta == T(0))
    c.setZero();
  else if (beta != T(1))
    c *= beta;
  if (M == 0 || N == 0 || K == 0) return;
  CMap a(A, trans_a ? K : M, trans_a ? M : K);
  CMap b(B, trans_b ? N : K, trans_b ? K : N);
  if (!trans_a && !trans_b)
    c.noalias() += alpha * a * b;
  else if (trans_a && !trans_b)
    c.noalias() += alpha * a.transpose() * b;
  else if (!trans_a && trans_b)
    c.noalias() += alpha * a * b.transpose();
  else
    c.noalias() += alpha * a.transpose() * b.transpose();
}

}  // namespace convkit::backend::cpu
