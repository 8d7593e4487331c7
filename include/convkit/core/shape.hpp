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
  Shape(std::initializer_list<int64_t> dims) : dims_(dims) {}
  explicit Shape(std::vector<int64_t> dims) : dims_(std::move(dims)) {}

  int64_t rank() const { return static_cast<int64_t>(dims_.size()); }
  size_t size() const { return dims_.size(); }
  bool empty() const { return dims_.empty(); }
  int64_t operator[](size_t i) const { return dims_[i]; }
  int64_t& operator[](size_t i) { return dims_[i]; }
  auto begin() const { return dims_.begin(); }
  auto end() const { return dims_.end(); }
  const std::vector<int64_t>& dims() const { return dims_; }
  void push_back(int64_t d) { dims_.push_back(d); }
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

  friend bool operator==(const Shape& a, const Shape& b) { return a.dims_ == b.dims_; }
  friend bool operator!=(const Shape& a, const Shape& b) { return !(a == b); }
  friend std::ostream& operator<<(std::ostream& os, const Shape& s) { return os << s.str(); }

 private:
  std::vector<int64_t> dims_;
};

/// Checks that every dimension is non-negative; `op` names the caller in the error.
inline void validate_shape(const char* op, const Shape& s) {
  for (int64_t d : s) CK_CHECK(d >= 0, op, ": negative dimension in shape ", s.str());
}

}  // namespace convkit
