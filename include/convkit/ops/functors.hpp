#pragma once
// The per-element math of every elementwise op and its derivative, written once.
// Backends apply these functors (the CPU with loops, CUDA with a grid-stride kernel).
#include <cmath>

#include "geometry.hpp"  // CK_HOST_DEVICE

namespace convkit {
namespace fn {

struct Add {
  template <class T>
  CK_HOST_DEVICE T operator()(T a, T b) const {
    return a + b;
  }
};
struct Sub {
  template <class T>
  CK_HOST_DEVICE T operator()(T a, T b) const {
    return a - b;
  }
};
struct Mul {
  template <class T>
  CK_HOST_DEVICE T operator()(T a, T b) const {
    return a * b;
  }
};
struct Div {
  template <class T>
  CK_HOST_DEVICE T operator()(T a, T b) const {
    return a / b;
  }
};

struct Neg {
  template <class T>
  CK_HOST_DEVICE T operator()(T x) const {
    return -x;
  }
};

/// Numerically safe logistic: never evaluates exp of a large positive number.
struct Sigmoid {
  template <class T>
  CK_HOST_DEVICE T operator()(T x) const {
    if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
    const T e = std::exp(x);
    return e / (T(1) + e);
  }
};
/// d sigmoid, from the forward output y: gy * y * (1 - y).
struct SigmoidGrad {
  template <class T>
  CK_HOST_DEVICE T operator()(T y, T gy) const {
    return gy * y * (T(1) - y);
  }
};

struct Relu {
  template <class T>
  CK_HOST_DEVICE T operator()(T x) const {
    return x > T(0) ? x : T(0);
  }
};
/// d relu, from the forward input x (the derivative at 0 is taken as 0, as PyTorch does).
struct ReluGrad {
  template <class T>
  CK_HOST_DEVICE T operator()(T x, T gy) const {
    return x > T(0) ? gy : T(0);
  }
};

struct Tanh {
  template <class T>
  CK_HOST_DEVICE T operator()(T x) const {
    return std::tanh(x);
  }
};
/// d tanh, from the forward output y: gy * (1 - y^2).
struct TanhGrad {
  template <class T>
  CK_HOST_DEVICE T operator()(T y, T gy) const {
    return gy * (T(1) - y * y);
  }
};

template <class T>
struct Pow {
  T p;
  CK_HOST_DEVICE T operator()(T x) const { return std::pow(x, p); }
};
/// d x^p = p * x^(p-1), times the upstream gradient.
template <class T>
struct PowGrad {
  T p;
  CK_HOST_DEVICE T operator()(T x, T gy) const { return gy * p * std::pow(x, p - T(1)); }
};

template <class T>
struct Scale {
  T s;
  CK_HOST_DEVICE T operator()(T x) const { return s * x; }
};

}  // namespace fn
}  // namespace convkit
