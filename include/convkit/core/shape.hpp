#pragma once
// Shape: the dimensions of a tensor, outermost first (row-major).
#include <climits>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "error.hpp"

namespace convkit {

namespace detail {
/// Stores a * b in *out; returns true when the product does not fit in int64_t.
inline bool mul_overflows(int64_t a, int64_t b, int64_t* out) {
#if defined(__GNUC__) || defined(__clang__)
  return __builtin_mul_overflow(a, b, out);
#else
  const uint64_t ua = a < 0 ? 0 - static_cast<uint64_t>(a) : static_cast<uint64_t>(a);
  const uint64_t ub = b < 0 ? 0 - static_cast<uint64_t>(b) : static_cast<uint64_t>(b);
  const bool negative = (a < 0) != (b < 0);
  const uint64_t limit = static_cast<uint64_t>(INT64_MAX) + (negative ? 1 : 0);
  if (ua != 0 && ub > limit / ua) return true;
  const uint64_t p = ua * ub;
  *out = negative ? static_cast<int64_t>(0 - p) : static_cast<int64_t>(p);
  return false;
#endif
}
}  // namespace detail

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

  /// Product of the dimensions (1 for rank 0). Throws ck::Error naming the shape when the
  /// product does not fit in int64_t, so no size computed from a shape silently wraps.
  int64_t numel() const {
    int64_t n = 1;
    if (!numel_fits(&n)) throw Error(detail::cat("Shape ", str(), ": element count overflows int64"));
    return n;
  }

  /// Stores the product of the dimensions in *out and returns true, or returns false when
  /// it does not fit in int64_t (a zero dimension makes it 0 whatever the others are).
  bool numel_fits(int64_t* out) const {
    int64_t n = 1;
    for (int64_t d : dims_)
      if (d == 0) {
        *out = 0;
        return true;
      }
    for (int64_t d : dims_)
      if (detail::mul_overflows(n, d, &n)) return false;
    *out = n;
    return true;
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
