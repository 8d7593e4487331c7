#pragma once
// The per-element math of every elementwise op and its derivative, written once.
// Backends apply these functors (the CPU with loops, CUDA with a grid-stride kernel).
#include <cmath>
#include <cstdint>
#include <cstring>

#include "geometry.hpp"  // CK_HOST_DEVICE

namespace convkit {
namespace fn {

/// a + b.
struct Add {
  /// Returns a + b.
  template <class T>
  CK_HOST_DEVICE T operator()(T a, T b) const {
    return a + b;
  }
};
/// a - b.
struct Sub {
  /// Returns a - b.
  template <class T>
  CK_HOST_DEVICE T operator()(T a, T b) const {
    return a - b;
  }
};
/// a * b.
struct Mul {
  /// Returns a * b.
  template <class T>
  CK_HOST_DEVICE T operator()(T a, T b) const {
    return a * b;
  }
};
/// a / b.
struct Div {
  /// Returns a / b.
  template <class T>
  CK_HOST_DEVICE T operator()(T a, T b) const {
    return a / b;
  }
};

/// -x.
struct Neg {
  /// Returns -x.
  template <class T>
  CK_HOST_DEVICE T operator()(T x) const {
    return -x;
  }
};

/// The bits of `from` read as a To of the same size. __builtin_bit_cast where the
/// compiler has it: a memcpy there stopped GCC from vectorising the loops around it.
template <class To, class From>
CK_HOST_DEVICE inline To bit_cast(From from) {
  static_assert(sizeof(To) == sizeof(From), "bit_cast: sizes differ");
#if (defined(__GNUC__) || defined(__clang__)) && !defined(__CUDA_ARCH__)
  return __builtin_bit_cast(To, from);
#else
  To to;
  std::memcpy(&to, &from, sizeof to);
  return to;
#endif
}

/// exp for float without a libm call, so loops over it vectorise (libm's expf is scalar
/// unless -ffast-math is on). Cephes-style: x = n ln2 + r with |r| <= ln2/2, a degree-6
/// polynomial for e^r, then 2^n by building the exponent bits. Relative error below 1e-7
/// over [-87, 88] (measured against double exp); beyond it the result saturates at
/// e^-87 or e^88, which is what the logistic needs. A NaN stays NaN.
CK_HOST_DEVICE inline float exp_float(float x) {
  // n = round(x / ln2): adding 1.5 * 2^23 leaves the rounded integer in the low mantissa
  // bits, read back as an int. Faster than a floor (no compare and correction), and
  // read through the bits rather than by subtracting 1.5 * 2^23 again, which -ffast-math
  // would fold away. Unsigned arithmetic: out of range, the bits are junk, not overflow.
  const float shifted = x * 1.44269504088896341f + 12582912.0f;
  const auto ni = static_cast<int32_t>(bit_cast<uint32_t>(shifted) - 0x4B400000u);
  const auto n = static_cast<float>(ni);
  const float r = x - n * 0.693359375f + n * 2.12194440e-4f;  // ln2 split in two for accuracy
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float er = p * r * r + r + 1.0f;
  const float e = er * bit_cast<float>((static_cast<uint32_t>(ni) + 127u) << 23);
  // The range is enforced last, with both compares made unconditionally: clamping x first
  // (a branch to a constant) kept GCC from vectorising the loop unless -fno-trapping-math.
  // The selects are bit masks: GCC turned a ?: into a branch around the polynomial.
  const uint32_t below = 0u - static_cast<uint32_t>(x < -87.0f), above = 0u - static_cast<uint32_t>(x > 88.0f);
  const uint32_t keep = ~(below | above);
  const uint32_t out = (bit_cast<uint32_t>(e) & keep) | (bit_cast<uint32_t>(1.6458114e-38f) & below) |  // e^-87
                       (bit_cast<uint32_t>(1.6516363e+38f) & above);                                    // e^88
  return bit_cast<float>(out);
}

/// The logistic 1 / (1 + e^-x). In this form a huge e^-x gives 0, never NaN, so it needs
/// no branch; float uses exp_float so the loop vectorises.
struct Sigmoid {
  /// The logistic of a float.
  CK_HOST_DEVICE float operator()(float x) const { return 1.0f / (1.0f + exp_float(-x)); }
  /// The logistic of a double.
  CK_HOST_DEVICE double operator()(double x) const { return 1.0 / (1.0 + std::exp(-x)); }
};
/// d sigmoid, from the forward output y: gy * y * (1 - y).
struct SigmoidGrad {
  /// Returns gy * y * (1 - y).
  template <class T>
  CK_HOST_DEVICE T operator()(T y, T gy) const {
    return gy * y * (T(1) - y);
  }
};

/// max(x, 0).
struct Relu {
  /// Returns max(x, 0).
  template <class T>
  CK_HOST_DEVICE T operator()(T x) const {
    return x > T(0) ? x : T(0);
  }
};
/// d relu, from the forward input x (the derivative at 0 is taken as 0, as PyTorch does).
struct ReluGrad {
  /// Returns gy where x > 0, else 0.
  template <class T>
  CK_HOST_DEVICE T operator()(T x, T gy) const {
    return x > T(0) ? gy : T(0);
  }
};

/// tanh(x).
struct Tanh {
  /// Returns tanh(x).
  template <class T>
  CK_HOST_DEVICE T operator()(T x) const {
    return std::tanh(x);
  }
};
/// d tanh, from the forward output y: gy * (1 - y^2).
struct TanhGrad {
  /// Returns gy * (1 - y^2).
  template <class T>
  CK_HOST_DEVICE T operator()(T y, T gy) const {
    return gy * (T(1) - y * y);
  }
};

/// x^p for a fixed exponent p.
template <class T>
struct Pow {
  /// The exponent.
  T p;
  /// Returns x^p.
  CK_HOST_DEVICE T operator()(T x) const { return std::pow(x, p); }
};
/// d x^p = p * x^(p-1), times the upstream gradient.
template <class T>
struct PowGrad {
  /// The exponent.
  T p;
  /// Returns gy * p * x^(p-1).
  CK_HOST_DEVICE T operator()(T x, T gy) const { return gy * p * std::pow(x, p - T(1)); }
};

}  // namespace fn
}  // namespace convkit
