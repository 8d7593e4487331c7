#pragma once
// Option builders, spelled as in the PyTorch C++ frontend:
//   ck::Conv2dOptions().stride(2).padding({1, 2})
//   ck::Pool2dOptions({2, 3}).stride({2, 3}).padding({1, 2})
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>

#include "../core/error.hpp"

namespace convkit {

/// A (height, width) pair; one integer means the same value for both.
struct Pair2 {
  int64_t h = 0, w = 0;
  Pair2() = default;
  Pair2(int64_t v) : h(v), w(v) {}  // NOLINT(google-explicit-constructor): `stride(2)` reads naturally
  Pair2(int64_t h_, int64_t w_) : h(h_), w(w_) {}
  Pair2(std::initializer_list<int64_t> v) {
    CK_CHECK(v.size() == 1 || v.size() == 2, "expected one or two integers (height, width), got ", v.size());
    h = *v.begin();
    w = *(v.end() - 1);
  }
  std::string str() const { return "(" + std::to_string(h) + ", " + std::to_string(w) + ")"; }
  friend bool operator==(const Pair2& a, const Pair2& b) { return a.h == b.h && a.w == b.w; }
};

// Type is a type, which cannot be parenthesised.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define CK_OPTION(Owner, Type, name, initial)  \
 public:                                       \
  Owner& name(Type value) {                    \
    name##_ = value;                           \
    return *this;                              \
  }                                            \
  const Type& name() const { return name##_; } \
                                               \
 private:                                      \
  Type name##_ = initial;
// NOLINTEND(bugprone-macro-parentheses)

/// conv2d's options. `bias` is read by nn::Conv2d; the functional conv2d takes the bias tensor.
class Conv2dOptions {
  CK_OPTION(Conv2dOptions, Pair2, stride, Pair2(1))
  CK_OPTION(Conv2dOptions, Pair2, padding, Pair2(0))
  CK_OPTION(Conv2dOptions, Pair2, dilation, Pair2(1))
  CK_OPTION(Conv2dOptions, int64_t, groups, 1)
  CK_OPTION(Conv2dOptions, bool, bias, true)
};

/// max_pool2d / avg_pool2d options. The stride defaults to the kernel size.
class Pool2dOptions {
 public:
  Pool2dOptions(Pair2 kernel_size) : kernel_size_(kernel_size) {}  // NOLINT(google-explicit-constructor)
  const Pair2& kernel_size() const { return kernel_size_; }
  Pool2dOptions& stride(Pair2 s) {
    stride_ = s;
    return *this;
  }
  Pair2 stride() const { return stride_ ? *stride_ : kernel_size_; }
  CK_OPTION(Pool2dOptions, Pair2, padding, Pair2(0))
  CK_OPTION(Pool2dOptions, Pair2, dilation, Pair2(1))
  CK_OPTION(Pool2dOptions, bool, ceil_mode, false)
  CK_OPTION(Pool2dOptions, bool, count_include_pad, true)
 private:
  Pair2 kernel_size_;
  std::optional<Pair2> stride_;
};

#undef CK_OPTION

}  // namespace convkit
