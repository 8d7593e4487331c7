#pragma once
// Elementwise arithmetic with numpy broadcasting: + - * / between tensors and scalars,
// unary minus, pow. Gradients of a broadcast input are summed back to its shape.
#include <algorithm>

#include "../backend/dispatch.hpp"
#include "../core/functors.hpp"
#include "common.hpp"

namespace convkit {

/// Plans how a and b broadcast against each other; throws if they cannot.
inline BroadcastPlan plan_broadcast(const char* op, const Shape& a, const Shape& b) {
  BroadcastPlan p;
  const size_t r = std::max(a.size(), b.size());
  std::vector<int64_t> out(r);
  p.a_stride.assign(r, 0);
  p.b_stride.assign(r, 0);
  int64_t sa = 1, sb = 1;
  for (size_t k = 0; k < r; ++k) {  // from the last dimension backwards
    const size_t d = r - 1 - k;
    const int64_t da = k < a.size() ? a[a.size() - 1 - k] : 1;
    const int64_t db = k < b.size() ? b[b.size() - 1 - k] : 1;
    CK_CHECK(da == db || da == 1 || db == 1, op, ": shapes ", a.str(), " and ", b.str(),
             " cannot be broadcast together (dimension ", d, ": ", da, " vs ", db, ")");
    out[d] = std::max(da, db);
    if (da == 0 || db == 0) out[d] = 0;
    p.a_stride[d] = da == 1 ? 0 : sa;
    p.b_stride[d] = db == 1 ? 0 : sb;
    sa *= da;
    sb *= db;
  }
  p.out = Shape(out);
  p.numel = p.out.numel();
  p.a_numel = a.numel();
  p.b_numel = b.numel();
  using K = BroadcastPlan::Kind;
  // A suffix operand: its shape equals the output's trailing dimensions (after
  // dropping leading 1s), so its flat index is the output's index modulo its size.
  auto is_suffix = [&](const Shape& s) {
    size_t lead = 0;
    while (lead < s.size() && s[lead] == 1) ++lead;
    if (s.size() - lead > r) return false;
    for (size_t k = lead; k < s.size(); ++k)
      if (s[k] != out[r - s.size() + k]) return false;
    return true;
  };
  if (a == b)
    p.kind = K::Same;
  else if (p.a_numel == 1)
    p.kind = K::AScalar;
  else if (p.b_numel == 1)
    p.kind = K::BScalar;
  else if (p.a_numel == p.numel && is_suffix(b))
    p.kind = K::BSuffix;
  else if (p.b_numel == p.numel && is_suffix(a))
    p.kind = K::ASuffix;
  else
    p.kind = K::General;
  return p;
}

/// Sums g (shape `from`) down to shape `to`, undoing a broadcast of `to` to `from`.
template <class T>
Tensor<T> sum_to(const Tensor<T>& g, const Shape& to) {
  if (g.shape() == to) return g;
  // Plan a broadcast of `to` against g's shape: a-strides index into the reduced tensor.
  BroadcastPlan p = plan_broadcast("sum_to", to, g.shape());
  p.kind = BroadcastPlan::Kind::General;
  Tensor<T> out = Tensor<T>::zeros(to, g.device());
  backend::sum_to_a(g.device(), p, g.data_ptr(), out.data_ptr());
  return out;
}

namespace detail {
/// A scalar operand: not deduced, so `t * 0.5` works for Tensor<float> too.
template <class T>
using scalar_t = typename Tensor<T>::value_type;

template <class T, class F>
Tensor<T> broadcast_binary(const char* op, const Tensor<T>& a, const Tensor<T>& b, F f) {
  require_defined(op, "lhs", a);
  require_defined(op, "rhs", b);
  require_same_device(op, a, b);
  const BroadcastPlan p = plan_broadcast(op, a.shape(), b.shape());
  Tensor<T> y = Tensor<T>::empty(p.out, a.device());
  backend::binary_map(a.device(), p, a.data_ptr(), b.data_ptr(), y.data_ptr(), f);
  return y;
}
template <class T>
Tensor<T> scalar_like(T v, const Tensor<T>& like) {
  return Tensor<T>::full(Shape{}, v, like.device());
}
}  // namespace detail

template <class T>
Tensor<T> operator+(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> y = detail::broadcast_binary("add", a, b, fn::Add{});
  if (autograd::recording(a, b))
    autograd::record<T>(y, "add", {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor<T>& g) {
      return std::vector<Tensor<T>>{sum_to(g, sa), sum_to(g, sb)};
    });
  return y;
}

template <class T>
Tensor<T> operator-(const Tensor<T>& a) {
  detail::require_defined("neg", "input", a);
  Tensor<T> y = Tensor<T>::empty(a.shape(), a.device());
  backend::unary_map(a.device(), a.numel(), a.data_ptr(), y.data_ptr(), fn::Neg{});
  autograd::record<T>(y, "neg", {a}, [](const Tensor<T>& g) { return std::vector<Tensor<T>>{-g}; });
  return y;
}

template <class T>
Tensor<T> operator-(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> y = detail::broadcast_binary("sub", a, b, fn::Sub{});
  if (autograd::recording(a, b))
    autograd::record<T>(y, "sub", {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor<T>& g) {
      return std::vector<Tensor<T>>{sum_to(g, sa), sum_to(-g, sb)};
    });
  return y;
}

template <class T>
Tensor<T> operator*(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> y = detail::broadcast_binary("mul", a, b, fn::Mul{});
  if (autograd::recording(a, b))
    autograd::record<T>(y, "mul", {a, b}, [a = a.detach(), b = b.detach()](const Tensor<T>& g) {
      return std::vector<Tensor<T>>{sum_to(g * b, a.shape()), sum_to(g * a, b.shape())};
    });
  return y;
}

template <class T>
Tensor<T> operator/(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> y = detail::broadcast_binary("div", a, b, fn::Div{});
  if (autograd::recording(a, b))
    autograd::record<T>(y, "div", {a, b}, [a = a.detach(), b = b.detach()](const Tensor<T>& g) {
      Tensor<T> ga = g / b;
      return std::vector<Tensor<T>>{sum_to(ga, a.shape()), sum_to(-(ga * a / b), b.shape())};
    });
  return y;
}

// Scalars broadcast as rank-0 tensors, so their gradient rules are the ones above.
template <class T>
Tensor<T> operator+(const Tensor<T>& a, detail::scalar_t<T> s) {
  return a + detail::scalar_like(s, a);
}
template <class T>
Tensor<T> operator+(detail::scalar_t<T> s, const Tensor<T>& a) {
  return detail::scalar_like(s, a) + a;
}
template <class T>
Tensor<T> operator-(const Tensor<T>& a, detail::scalar_t<T> s) {
  return a - detail::scalar_like(s, a);
}
template <class T>
Tensor<T> operator-(detail::scalar_t<T> s, const Tensor<T>& a) {
  return detail::scalar_like(s, a) - a;
}
template <class T>
Tensor<T> operator*(const Tensor<T>& a, detail::scalar_t<T> s) {
  return a * detail::scalar_like(s, a);
}
template <class T>
Tensor<T> operator*(detail::scalar_t<T> s, const Tensor<T>& a) {
  return detail::scalar_like(s, a) * a;
}
template <class T>
Tensor<T> operator/(const Tensor<T>& a, detail::scalar_t<T> s) {
  return a / detail::scalar_like(s, a);
}
template <class T>
Tensor<T> operator/(detail::scalar_t<T> s, const Tensor<T>& a) {
  return detail::scalar_like(s, a) / a;
}

template <class T>
Tensor<T> Tensor<T>::pow(T exponent) const {
  detail::require_defined("pow", "input", *this);
  Tensor<T> y = Tensor<T>::empty(shape(), device());
  backend::unary_map(device(), numel(), data_ptr(), y.data_ptr(), fn::Pow<T>{exponent});
  if (autograd::recording(*this))
    autograd::record<T>(y, "pow", {*this}, [x = detach(), exponent](const Tensor<T>& g) {
      Tensor<T> gx = Tensor<T>::empty(x.shape(), x.device());
      backend::zip_map(x.device(), x.numel(), x.data_ptr(), g.data_ptr(), gx.data_ptr(), fn::PowGrad<T>{exponent});
      return std::vector<Tensor<T>>{gx};
    });
  return y;
}

}  // namespace convkit
