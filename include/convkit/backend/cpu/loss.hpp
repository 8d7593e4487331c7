// Compiled once per instruction set, in namespace cpu::CONVKIT_ISA_COPY (kernels_by_isa.hpp).
// Softmax cross-entropy on the CPU: the shared per-row bodies of backend/kernels.hpp
// (log-sum-exp with the row maximum subtracted, so exp never overflows).
#include <cstdint>

#include "../kernels.hpp"

namespace convkit::backend::cpu::CONVKIT_ISA_COPY {

/// Returns the mean over the N rows of logsumexp(row) - row[label] (summed in double).
template <class T>
T cross_entropy_forward_in(Copy, int64_t N, int64_t K, const T* logits, const int64_t* labels) {
  double total = 0;
  for (int64_t n = 0; n < N; ++n) total += static_cast<double>(kernels::cross_entropy_row(K, logits, labels, n));
  return static_cast<T>(total / static_cast<double>(N));
}

/// glogits = scale * (softmax(logits) - onehot(labels)) / N.
template <class T>
void cross_entropy_backward_in(Copy, int64_t N, int64_t K, const T* logits, const int64_t* labels, T scale,
                               T* glogits) {
  const T per_row = scale / static_cast<T>(N);
  for (int64_t n = 0; n < N; ++n) kernels::cross_entropy_row_grad(K, logits, labels, per_row, glogits, n);
}

}  // namespace convkit::backend::cpu::CONVKIT_ISA_COPY
