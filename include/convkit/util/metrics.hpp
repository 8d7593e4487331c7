#pragma once
// Classification metrics: predicted classes, accuracy, a confusion matrix.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "../core/tensor.hpp"

namespace convkit::util {

/// The index of each row's largest value: logits (N, K) -> N class ids.
template <class T>
std::vector<int64_t> argmax_rows(const Tensor<T>& logits) {
  CK_CHECK(logits.defined() && logits.dim() == 2, "argmax_rows: logits must be 2-D (N, classes)");
  const std::vector<T> v = logits.to_vector();
  const int64_t n = logits.size(0), k = logits.size(1);
  std::vector<int64_t> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const auto row = v.begin() + i * k;
    out[static_cast<size_t>(i)] = std::max_element(row, row + k) - row;
  }
  return out;
}

/// counts[true][predicted] over a classification run.
class ConfusionMatrix {
 public:
  /// An empty matrix over these classes.
  explicit ConfusionMatrix(std::vector<std::string> class_names)
      : names_(std::move(class_names)), counts_(names_.size() * names_.size(), 0) {}

  /// Counts each (truth, predicted) pair; throws ck::Error on mismatched sizes or ids out of range.
  void add(const std::vector<int64_t>& predicted, const std::vector<int64_t>& truth) {
    CK_CHECK(predicted.size() == truth.size(), "ConfusionMatrix::add: ", predicted.size(), " predictions for ",
             truth.size(), " labels");
    const int64_t k = static_cast<int64_t>(names_.size());
    for (size_t i = 0; i < truth.size(); ++i) {
      CK_CHECK(truth[i] >= 0 && truth[i] < k && predicted[i] >= 0 && predicted[i] < k,
               "ConfusionMatrix::add: class id out of range [0, ", k, ")");
      ++counts_[static_cast<size_t>(truth[i] * k + predicted[i])];
    }
  }
  /// How many examples of class `truth` were predicted as `predicted`.
  int64_t count(int64_t truth, int64_t predicted) const {
    return counts_[static_cast<size_t>(truth * static_cast<int64_t>(names_.size()) + predicted)];
  }
  /// The number of examples counted.
  int64_t total() const {
    int64_t t = 0;
    for (auto c : counts_) t += c;
    return t;
  }
  /// The fraction predicted correctly (0 when empty).
  double accuracy() const {
    int64_t right = 0;
    for (size_t i = 0; i < names_.size(); ++i) right += count(static_cast<int64_t>(i), static_cast<int64_t>(i));
    return total() ? static_cast<double>(right) / static_cast<double>(total()) : 0.0;
  }

  /// A table: one row per true class, one column per predicted class, recall at the end.
  std::string str() const {
    const size_t k = names_.size();
    size_t w = 6;
    for (const auto& n : names_) w = std::max(w, n.size());
    std::string out = std::string(w + 2, ' ');
    char buf[64];
    for (size_t j = 0; j < k; ++j) {
      std::snprintf(buf, sizeof buf, "%6zu", j);
      out += buf;
    }
    out += "  recall\n";
    for (size_t i = 0; i < k; ++i) {
      std::snprintf(buf, sizeof buf, "%zu %-*s", i, static_cast<int>(w), names_[i].c_str());
      out += buf;
      int64_t row = 0;
      for (size_t j = 0; j < k; ++j) {
        const int64_t c = count(static_cast<int64_t>(i), static_cast<int64_t>(j));
        row += c;
        std::snprintf(buf, sizeof buf, "%6lld", static_cast<long long>(c));
        out += buf;
      }
      std::snprintf(
          buf, sizeof buf, "  %.3f\n",
          row ? static_cast<double>(count(static_cast<int64_t>(i), static_cast<int64_t>(i))) / static_cast<double>(row)
              : 0.0);
      out += buf;
    }
    return out;
  }

 private:
  std::vector<std::string> names_;
  std::vector<int64_t> counts_;
};

}  // namespace convkit::util
