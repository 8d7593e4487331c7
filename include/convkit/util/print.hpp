#pragma once
// Printing tensors the way PyTorch does, so examples read like the d2l notebooks:
//   tensor([[19., 25.],
//           [37., 43.]])
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>
#include <type_traits>
#include <vector>

#include "../core/tensor.hpp"

namespace convkit {
namespace detail {

template <class T>
std::vector<std::string> format_elements(const std::vector<T>& v) {
  std::vector<std::string> out;
  out.reserve(v.size());
  if constexpr (std::is_integral<T>::value) {
    for (T x : v) out.push_back(std::to_string(x));
    return out;
  } else {
    bool integral = true;
    double max_abs = 0;
    for (T x : v) {
      integral = integral && std::isfinite(x) && std::floor(x) == x;
      if (std::isfinite(x)) max_abs = std::max(max_abs, std::fabs(static_cast<double>(x)));
    }
    const bool sci = !integral && (max_abs >= 1e8 || (max_abs > 0 && max_abs < 1e-4));
    char buf[64];
    for (T x : v) {
      const double d = x == T(0) ? 0.0 : static_cast<double>(x);  // no "-0."
      if (integral)
        std::snprintf(buf, sizeof buf, "%.0f.", d);
      else if (sci)
        std::snprintf(buf, sizeof buf, "%.4e", d);
      else
        std::snprintf(buf, sizeof buf, "%.4f", d);
      out.push_back(buf);
    }
    return out;
  }
}

inline void print_block(std::ostream& os, const Shape& shape, size_t dim, const std::vector<std::string>& items,
                        size_t& at, size_t width, size_t indent) {
  os << '[';
  const int64_t n = shape[dim];
  for (int64_t i = 0; i < n; ++i) {
    if (dim + 1 == shape.size()) {
      const std::string& s = items[at++];
      os << std::string(width - s.size(), ' ') << s;
      if (i + 1 < n) os << ", ";
    } else {
      print_block(os, shape, dim + 1, items, at, width, indent + 1);
      if (i + 1 < n) {
        os << ',' << std::string(shape.size() - dim - 1, '\n') << std::string(indent + 1, ' ');
      }
    }
  }
  os << ']';
}

}  // namespace detail

/// Writes `tensor([...])` in PyTorch's layout (values copied to the host first).
template <class T>
std::ostream& operator<<(std::ostream& os, const Tensor<T>& t) {
  if (!t.defined()) return os << "tensor(undefined)";
  const auto items = detail::format_elements(t.to_vector());
  os << "tensor(";
  if (t.dim() == 0) {
    os << items[0];
  } else {
    size_t width = 0, at = 0;
    for (const auto& s : items) width = std::max(width, s.size());
    detail::print_block(os, t.shape(), 0, items, at, width, 7);
  }
  if (!t.device().is_cpu()) os << ", device='" << t.device().str() << "'";
  if (t.requires_grad()) os << (t.is_leaf() ? ", requires_grad=True" : ", grad_fn");
  return os << ')';
}

}  // namespace convkit
