#pragma once
// Softmax cross-entropy on the CPU, stable for any finite logits (log-sum-exp with the
// row maximum subtracted, so exp never overflows).
#include <cmath>
#include <cstdint>

namespace convkit::backend::cpu {

/// Returns the mean over the N rows of logsumexp(row) - row[label].
template <class T>
T cross_entropy_forward(int64_t N, int64_t K, const T* logits, const int64_t* labels) {
  double total = 0;
  for (int64_t n = 0; n < N; ++n) {
    const T* row = logits + n * K;
    T m = row[0];
    for (int64_t k = 1; k < K; ++k) m = row[k] > m ? row[k] : m;
    double s = 0;
    for (int64_t k = 0; k < K; ++k) s += std::exp(static_cast<double>(row[k] - m));
    total += static_cast<double>(m) + std::log(s) - static_cast<double>(row[labels[n]]);
  }
  return static_cast<T>(total / static_cast<double>(N));
}

/// glogits = scale * (softmax(logits) - onehot(labels)) / N.
template <class T>
void cross_entropy_backward(int64_t N, int64_t K, const T* logits, const int64_t* labels, T scale,
                            T* glogits) {
  const T per_row = scale / static_cast<T>(N);
  for (int64_t n = 0; n < N; ++n) {
    const T* row = logits + n * K;
    T* g = glogits + n * K;
    T m = row[0];
    for (int64_t k = 1; k < K; ++k) m = row[k] > m ? row[k] : m;
    T s = T(0);
    for (int64_t k = 0; k < K; ++k) s += (g[k] = std::exp(row[k] - m));
    for (int64_t k = 0; k < K; ++k) g[k] = g[k] / s * per_row;
    g[labels[n]] -= per_row;
  }
}

}  // namespace convkit::backend::cpu
