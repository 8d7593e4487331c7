#pragma once
// Shape: the dimensions of a tensor, outermost first (row-major).
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "error.hpp"

namespace convkit {

/// A sequence of int64_t dimensions. Brace-constructible: `ck::Shape{2, 3}`.
/// A Shape of rank 0 describes a scalar (one element).
class Shape {
 public:
  Shape() = default;
  /// A shape from a brace list, e.g. {256, 1, 28, 28}.
  Shape(std::initializer_list<int64_t> dims) : dims_(dims) {}
  /// A shape from a vector of dimensions.
  explicit Shape(std::vector<int64_t> dims) : dims_(std::move(dims)) {}

  /// The number of dimensions.
  int64_t rank() const { return static_cast<int64_t>(dims_.size()); }
  /// The number of dimensions, as size_t.
  size_t size() const { return dims_.size(); }
  /// True for a 0-d (scalar) shape.
  bool empty() const { return dims_.empty(); }
  /// Dimension i (unchecked).
  int64_t operator[](size_t i) const { return dims_[i]; }
  /// Dimension i, writable (unchecked).
  int64_t& operator[](size_t i) { return dims_[i]; }
  /// Iterator to the first dimension.
  auto begin() const { return dims_.begin(); }
  /// Iterator past the last dimension.
  auto end() const { return dims_.end(); }
  /// The dimensions as a vector.
  const std::vector<int64_t>& dims() const { return dims_; }
  /// Appends a dimension.
  void push_back(int64_t d) { dims_.push_back(d); }
  /// Inserts a dimension before position pos.
  void insert(size_t pos, int64_t d) { dims_.insert(dims_.begin() + static_cast<long>(pos), d); }

  /// Product of the dimensions (1 for rank 0).
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : dims_) n *= d;
    return n;
  }

  /// "(2, 3)", like Python's tuple repr, as d2l prints shapes.
  std::string str() const {
    std::string s = "(";
    for (size_t i = 0; i < dims_.size(); ++i) {
      if (i) s += ", ";
      s += std::to_string(dims_[i]);
    }
    if (dims_.size() == 1) s += ",";
    return s + ")";
  }

  /// Equal when the dimensions are.
  friend bool operator==(const Shape& a, const Shape& b) { return a.dims_ == b.dims_; }
  /// Not equal when any dimension differs.
  friend bool operator!=(const Shape& a, const Shape& b) { return !(a == b); }
  /// Writes str(), e.g. "(2, 3)".
  friend std::ostream& operator<<(std::ostream& os, const Shape& s) { return os << s.str(); }

 private:
  std::vector<int64_t> dims_;
};

/// Checks that every dimension is non-negative; `op` names the caller in the error.
inline void validate_shape(const char* op, const Shape& s) {
  for (int64_t d : s) CK_CHECK(d >= 0, op, ": negative dimension in shape ", s.str());
}

}  // namespace convkit
