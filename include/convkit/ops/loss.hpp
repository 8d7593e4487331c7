#pragma once
// Softmax cross-entropy, averaged over the batch.
#include <vector>

#include "../backend/dispatch.hpp"
#include "common.hpp"

namespace convkit {

/// Mean over the batch of logsumexp(logits[n]) - logits[n, labels[n]]: a rank-0 tensor.
/// logits (N, K); labels (N) with values in [0, K). Stable for any finite logits.
template <class T>
Tensor<T> cross_entropy(const Tensor<T>& logits, const Tensor<int64_t>& labels) {
  detail::require_rank("cross_entropy", "logits", logits, 2, "(N, classes)");
  CK_CHECK(labels.defined() && labels.dim() == 1, "cross_entropy: labels must be 1-D (N,), got ",
           labels.defined() ? labels.shape().str() : std::string("an undefined tensor"));
  const int64_t N = logits.size(0), K = logits.size(1);
  CK_CHECK(labels.size(0) == N, "cross_entropy: logits ", logits.shape().str(), " has ", N, " rows but labels ",
           labels.shape().str(), " has ", labels.size(0));
  CK_CHECK(N > 0 && K > 0, "cross_entropy: logits ", logits.shape().str(), " is empty");
  const std::vector<int64_t> host = labels.to_vector();
  for (int64_t n = 0; n < N; ++n)
    CK_CHECK(host[static_cast<size_t>(n)] >= 0 && host[static_cast<size_t>(n)] < K, "cross_entropy: label ",
             host[static_cast<size_t>(n)], " at position ", n, " is out of range [0, ", K, ") for logits ",
             logits.shape().str());
  const Device d = logits.device();
  Tensor<int64_t> dev_labels = labels.to(d);
  Tensor<T> loss =
      Tensor<T>::full(Shape{}, backend::cross_entropy_forward(d, N, K, logits.data_ptr(), dev_labels.data_ptr()), d);
  if (autograd::recording(logits))
    autograd::record<T>(loss, "cross_entropy", {logits}, [x = logits.detach(), dev_labels, N, K](const Tensor<T>& g) {
      Tensor<T> gx = Tensor<T>::empty(x.shape(), x.device());
      backend::cross_entropy_backward(x.device(), N, K, x.data_ptr(), dev_labels.data_ptr(), g.item(), gx.data_ptr());
      return std::vector<Tensor<T>>{gx};
    });
  return loss;
}

template <class T>
Tensor<T> cross_entropy(const Tensor<T>& logits, const std::vector<int64_t>& labels) {
  return cross_entropy(logits, Tensor<int64_t>::from_vector(labels, Shape{static_cast<int64_t>(labels.size())}));
}

}  // namespace convkit
